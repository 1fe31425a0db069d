# i0102-run-reject-timeout.sh - reject with a reason ends the gate with 1;
# no decision before the deadline ends it with 3 (fail closed).
. "$(dirname "$0")/lib.sh"
start_smtp
WORK=$TMP/reject
make_repo "$WORK"
gl_run_bg --timeout 60s
wait_mail 1
code=$(decide "$(mail_link 1)" reject "p99 regressed; see dashboard")
check "reject recorded" test "$code" = 200
wait_gl
check "gate exits 1 on rejection" test "$RC" -eq 1
check "outcome rejected" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = rejected
check "reason in decision.json" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["reason"]')" = "p99 regressed; see dashboard"

WORK=$TMP/timeout
make_repo "$WORK"
gl_run_bg --timeout 2s
wait_gl
check "gate exits 3 on timeout" test "$RC" -eq 3
check "outcome timed_out" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = timed_out
(cd "$WORK" && "$GREENLIGHT" run >/dev/null 2>&1)
check "re-run of an expired request exits 3 at once" test $? -eq 3
check "no mail on re-run" test "$(mail_count)" -eq 2
gl_run_bg --timeout 60s --resend
wait_mail 3
check "--resend reopens an expired request" test "$(mail_count)" -eq 3
check "reopened: approve (200)" test "$(decide "$(mail_link 3)" approve)" = 200
wait_gl
check "reopened request approved" test "$RC" -eq 0
finish
