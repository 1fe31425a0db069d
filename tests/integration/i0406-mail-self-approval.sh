# i0406-mail-self-approval.sh - decide by reply applies the page's rules:
# the commit author cannot approve by reply (refused, one line, and told
# why in the thread), another reviewer's approval counts, and the first
# reject rejects the whole request even with one approval already in.
# Real: aiosmtpd, dovecot (IMAPS), the gate.
. "$(dirname "$0")/imap_lib.sh"
start_dovecot || { finish; exit 1; }
start_mail_rig
WORK=$TMP/repo
make_repo "$WORK"
git -C "$WORK" -c user.name=Alice -c user.email=alice@example.com commit -q --allow-empty --author "Alice <alice@example.com>" -m "Alice's change"
APPROVALS=2 mail_gate
echo '{"accuracypct": 99, "latencyMs": 500}' >"$WORK/results.json"

gl_run_bg --timeout 60s
wait_mail 2 || { finish; exit 1; }
alice=$(request_to alice@example.com)
bob=$(request_to bob@example.com)
id=$(reply "$alice" --from alice@example.com --body "approve")
wait_log "reply $id from" 15
check "the commit author's approval is refused" grep -qF "reply $id from alice@example.com (UID 1) not counted: alice@example.com may not approve this release (self-approval)" "$WORK/gl.err"
told() { cat "$MAILDIR"/*.eml "$MAILDIR"/thread/*.eml 2>/dev/null | $PY -c 'import sys,quopri; sys.stdout.write(quopri.decodestring(sys.stdin.buffer.read()).decode("utf-8","replace"))' | grep -qF "may not approve this release (self-approval)"; }
for _ in $(seq 100); do told && break; sleep 0.1; done	# mailed after the log line
check "... and she is told why in the thread" told
check "still waiting" kill -0 "$GL_PID"
id=$(reply "$bob" --from bob@example.com --body "approve")
wait_log "reply $id from" 15
check "bob's approval counts (1 of 2)" grep -qF "counted: Recorded: approved for engineering — 1 of 2" "$WORK/gl.err"
# alice may still reject her own change: the first reject ends it
id=$(reply "$alice" --from alice@example.com --body "reject: found a bug after all")
wait_gl
check "the first reject rejects the request (exit 1)" test "$RC" -eq 1
check "decision.json says rejected" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = rejected
check "the reject and its reason are recorded" test "$(json_get "$WORK/decision.json" '[x["reason"] for x in d["request"]["decisions"] if not x["decision"]=="approve"][0]')" = "found a bug after all"
finish
