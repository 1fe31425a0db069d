# i0301-trust-evidence.sh - an approval counts only for the evidence it was
# given for.  After engineering approves latency 225 on a commit, other
# results on the same commit (the values that fired changed, or other
# rules fire) are a new request with a new mail and one line saying what
# changed; a different gate file with the same name is a new request too;
# the same evidence re-attaches without mailing (a CI retry).  Listen
# mode, with the SMTP rig and a git repository made here.
. "$(dirname "$0")/lib.sh"
start_smtp
WORK=$TMP/repo
make_repo "$WORK"
results() { printf '%s\n' "$1" >"$WORK/results.json"; }

# 1. engineering approves latency 225
gl_run_bg --timeout 60s
wait_mail 1 || { finish; exit 1; }
check "approve latency 225 (200)" test "$(decide "$(mail_link 1)" approve)" = 200
wait_gl
check "approved: exit 0" test "$RC" -eq 0
first=$(json_get "$WORK/decision.json" 'd["request"]["id"]')

# 2. the same evidence again: the recorded decision, no mail
gl_run_bg --timeout 60s
wait_gl
check "same evidence: the recorded approval (exit 0)" test "$RC" -eq 0
check "... of the same request" test "$(json_get "$WORK/decision.json" 'd["request"]["id"]')" = "$first"
check "... and no new mail" test "$(mail_count)" -eq 1

# 2b. a different gate file with the same name on the approved results
sed 's/"NumericGreaterThan": 80/"NumericGreaterThan": 70/' "$WORK/greenlight.json" >"$WORK/other.json"
gl_run_bg --timeout 60s -g other.json
wait_mail 2
check "another gate with the same name: still waiting" kill -0 "$GL_PID"
check "the line says the gate changed" grep -q "the gate's rules or teams changed" "$WORK/gl.err"
stop_gl
check "not passed: exit 5" test "$RC" -eq 5

# 3. the value that fired changed: a new request for engineering
results '{"accuracypct": 100, "latencyMs": 5000}'
gl_run_bg --timeout 60s
wait_mail 3
check "latency 5000 is not covered by the approval of 225" kill -0 "$GL_PID"
check "engineering is mailed again" test "$(mail_count_to engineering@example.com)" -eq 3
check "one line says what changed" grep -q "results changed since request [0-9a-f]\{32\} of [0-9T:Z-]*: \$.latencyMs 225 → 5000; this is a new request" "$WORK/gl.err"
check "the new mail shows 5000" grep -q 5000 "$(ls "$MAILDIR"/*.eml | tail -n 1)"
stop_gl
check "interrupted while waiting: exit 5" test "$RC" -eq 5
second=$(json_get "$WORK/decision.json" 'd["request"]["id"]')
check "a different request" test "$second" != "$first"

# 4. a CI retry of the same evidence re-attaches and does not mail
gl_run_bg --timeout 60s
sleep 1.5
check "retry: still waiting" kill -0 "$GL_PID"
check "retry: re-attached" grep -q "re-attached to pending request $second; no mail sent" "$WORK/gl.err"
check "retry: no new mail" test "$(mail_count)" -eq 3
stop_gl

# 5. the hole as found: other rules fire and route to research, who was
# never asked; the gate must not pass and must mail research
results '{"accuracypct": 40, "latencyMs": 5000}'
gl_run_bg --timeout 60s
wait_mail 4
check "accuracy 40 is not covered: still waiting" kill -0 "$GL_PID"
check "research is mailed" test "$(mail_count_to research@example.com)" -eq 1
check "the line names both metrics" grep -q '\$.accuracypct (not fired) → 40' "$WORK/gl.err"
stop_gl
check "not passed: exit 5" test "$RC" -eq 5
check "decision.json is pending, not approved" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = pending

# 6. the original gate and results still hold their approval
results '{"accuracypct": 100, "latencyMs": 225}'
gl_run_bg --timeout 60s
wait_gl
check "the original evidence keeps its approval (exit 0)" test "$RC" -eq 0
check "... of the first request" test "$(json_get "$WORK/decision.json" 'd["request"]["id"]')" = "$first"
finish
