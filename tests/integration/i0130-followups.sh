# i0130-followups.sh - when a request is settled, everyone asked gets one
# short follow-up in the thread of their request email (In-Reply-To and
# References = that email's Message-ID, parsed with Python's email
# package): outcome, by whom, reason, what CI did.  Once: a re-run that
# finds the decided request sends nothing.  An expired request gets its
# follow-up too; a follow-up that cannot be delivered is one line on
# stderr and leaves the exit code alone.
. "$(dirname "$0")/lib.sh"
start_smtp

# gate: engineering has two members, one approval needed
team_gate() { # team_gate DIR JSON-FOR-ENGINEERING
	$PY - "$1/greenlight.json" "$2" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["teams"]["engineering"] = json.loads(sys.argv[2])
json.dump(g, open(sys.argv[1], "w"), indent=2)
PYEOF
}

WORK=$TMP/approve
make_repo "$WORK"
team_gate "$WORK" '{"email": ["eng1@example.com", "eng2@example.com"]}'
gl_run_bg --timeout 60s
wait_mail 2 || { finish; exit 1; }
check "no follow-up while pending" test "$(thread_count)" -eq 0
code=$(decide "$(mail_link_to eng1@example.com)" approve "p99 is within budget")
check "approve recorded" test "$code" = 200
wait_gl
check "gate exits 0" test "$RC" -eq 0
wait_thread 2
check "one follow-up to each reviewer" test "$(thread_count_to eng1@example.com)$(thread_count_to eng2@example.com)" = 11
check "follow-ups threaded on each reviewer's request email" threads threaded
check "follow-up says outcome, who, reason, what CI did" threads body eng2@example.com 1 \
	"Approved: model-release" "eng1@example.com approved for engineering" \
	"p99 is within budget" "CI continues (exit 0)" "links of this request are closed"
check "follow-up mailed after decision.json" grep -q "mailed follow-up to eng2@example.com" "$WORK/gl.err"
check "decision.json written first" test -s "$WORK/decision.json"
(cd "$WORK" && "$GREENLIGHT" run -o decision2.json >"$WORK/gl2.out" 2>"$WORK/gl2.err")
check "re-run exits 0 at once" test $? -eq 0
sleep 1
check "re-run sends no follow-up again" test "$(thread_count)" -eq 2
check "re-run sends no review mail" test "$(mail_count)" -eq 2

# reject: the follow-up says so and that CI stops
WORK=$TMP/reject
make_repo "$WORK"
team_gate "$WORK" '{"email": ["eng3@example.com"]}'
gl_run_bg --timeout 60s
wait_mail 3
check "reject recorded" test "$(decide "$(mail_link_to eng3@example.com)" reject "p99 regressed")" = 200
wait_gl
check "gate exits 1" test "$RC" -eq 1
wait_thread 3
check "reject follow-up" threads body eng3@example.com 1 "Rejected: model-release" \
	"eng3@example.com rejected for engineering" "p99 regressed" "CI stops: the gate failed (exit 1)"

# expiry: nobody decided
WORK=$TMP/expire
make_repo "$WORK"
team_gate "$WORK" '{"email": ["eng4@example.com"]}'
gl_run_bg --timeout 2s
wait_gl
check "gate exits 3 on timeout" test "$RC" -eq 3
wait_thread 4
check "timeout follow-up" threads body eng4@example.com 1 "Timed out: model-release" \
	"Nobody decided before the deadline" "CI stops: nobody decided in time (exit 3)"
check "all follow-ups threaded" threads threaded

# the follow-up cannot be delivered: one line, the exit code stands
WORK=$TMP/down
make_repo "$WORK"
team_gate "$WORK" '{"email": ["eng5@example.com"]}'
gl_run_bg --timeout 60s --send-timeout 3s
wait_mail 5
url=$(mail_link_to eng5@example.com)
stop_smtp
check "approve with the mail server down" test "$(decide "$url" approve)" = 200
wait_gl
check "gate still exits 0" test "$RC" -eq 0
check "the failed follow-up is one line" test "$(grep -c 'follow-up to eng5@example.com failed' "$WORK/gl.err")" -eq 1
check "decision.json says approved" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = approved
finish
