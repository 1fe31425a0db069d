# i0107-run-long-wait.sh - a wait of a month: `greenlight run --timeout 30d
# --progress 30d` in listen mode mails the reviewer, waits (the poll
# timeout must stay within an int of milliseconds) and, on SIGTERM, leaves
# the request pending and exits 5.  Under the asan preset UBSan halts on
# any overflow, so this also proves the wait's arithmetic.
. "$(dirname "$0")/lib.sh"
start_smtp
WORK=$TMP/long
make_repo "$WORK"
gl_run_bg --timeout 30d --progress 30d
wait_mail 1
sleep 1
check "the gate is still waiting" kill -0 "$GL_PID"
kill -TERM "$GL_PID"
wait_gl
check "SIGTERM while waiting a month: exit 5" test "$RC" -eq 5
check "says the request stays pending" grep -q "stays pending" "$WORK/gl.err"
check "no runtime error" sh -c "! grep -q 'runtime error' '$WORK/gl.err'"
check "the record is pending" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = pending
finish
