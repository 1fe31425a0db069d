# i0103-run-quorum-reattach.sh - quorum of two distinct approvers, an
# idempotent repeat, a conflicting second decision (409), SIGTERM leaving
# the request pending (exit 5), a re-run re-attaching without mail, and
# --resend mailing new links that replace the old ones.
. "$(dirname "$0")/lib.sh"
start_smtp
WORK=$TMP/quorum
make_repo "$WORK"
cat >"$WORK/greenlight.json" <<'JSON'
{
  "version": 1, "name": "quorum",
  "choices": [{ "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "eng" }],
  "default": "pass",
  "teams": { "eng": { "email": ["a@example.com", "b@example.com", "c@example.com"], "approvals": 2 } }
}
JSON

gl_run_bg --timeout 60s
wait_mail 3
check "one message per member" test "$(mail_count)" -eq 3
kill -TERM "$GL_PID"
wait_gl
check "SIGTERM ends the wait with 5" test "$RC" -eq 5
check "SIGTERM message says pending" grep -q "stays pending, re-run to re-attach" "$WORK/gl.err"
check "interrupted record is pending" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = pending

gl_run_bg --timeout 60s
for _ in $(seq 50); do grep -q "re-attached" "$WORK/gl.err" 2>/dev/null && break; sleep 0.1; done
check "re-run re-attaches" grep -q "re-attached to pending request" "$WORK/gl.err"
check "re-run sent no mail" test "$(mail_count)" -eq 3
# links from the first run work against the re-attached gate: find a's
for i in 1 2 3; do
	to=$(json_get "$(ls "$MAILDIR"/*.json | sed -n "${i}p")" 'd["rcpt_tos"][0]' 2>/dev/null || true)
	eval "link_$(echo "$to" | cut -c1)=\$(mail_link $i)"
done
port=$(sed -n 's|.*review page at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/gl.err" | tail -n 1)
fix() { echo "$1" | sed "s|127.0.0.1:[0-9]*|127.0.0.1:$port|"; }
a=$(fix "$link_a"); b=$(fix "$link_b")
nonce_a=$(page_nonce "$a")
check "first approval (200)" test "$(decide "$a" approve)" = 200
check "same approval again is idempotent (200)" test "$(NONCE=$nonce_a decide "$a" approve)" = 200
check "opposite decision by the same reviewer conflicts (409)" test "$(NONCE=$nonce_a decide "$a" reject)" = 409
sleep 1.2
check "one approver of two: still waiting" kill -0 "$GL_PID"
check "progress shows 1/2" grep -q "eng 1/2 approvals" "$WORK/gl.err"
check "second approver (200)" test "$(decide "$b" approve)" = 200
wait_gl
check "quorum met: exit 0" test "$RC" -eq 0
check "two approvers recorded" test "$(json_get "$WORK/decision.json" 'len(d["request"]["approvers"])')" -eq 2

# --resend on a pending request mails new links
WORK=$TMP/resend
make_repo "$WORK"
gl_run_bg --timeout 60s
wait_mail 4
kill -TERM "$GL_PID"; wait_gl
old=$(mail_link 4)
gl_run_bg --timeout 60s --resend
wait_mail 5
new=$(mail_link 5)
check "resend mails a different link" test "$old" != "$new"
port=$(echo "$new" | sed 's|http://127.0.0.1:\([0-9]*\)/.*|\1|')
old=$(echo "$old" | sed "s|127.0.0.1:[0-9]*|127.0.0.1:$port|")
check "old link no longer works (404)" test "$(curl -s -o /dev/null -w '%{http_code}' "$old")" = 404
check "new link decides" test "$(decide "$new" approve)" = 200
wait_gl
check "resent request approved" test "$RC" -eq 0
finish
