# i0408-relay-and-reply.sh - relay mode with a mailbox (decision.via
# "relay" + decision.imap): each email carries the relay's link and the
# reply code; the gate long-polls the relay and polls the mailbox, and a
# verified reply counts as in mail mode.  The reply's vote stays in the
# gate and is settled together with the relay's verified decisions
# (docs/decisions.md): engineering needs 2 approvals; alice by link + bob
# by reply = 0; alice on both channels counts once (still waiting) until
# bob approves by link = 0; a reject by reply = 1 even after an approval
# by link.  Confirmations are mailed in the reply's thread.
# Real: aiosmtpd, dovecot (IMAPS), greenlight relay, the gate.
. "$(dirname "$0")/imap_lib.sh"
start_dovecot || { finish; exit 1; }
start_mail_rig
export GREENLIGHT_RELAY_TOKEN=relay-secret-token-0408
export GREENLIGHT_GATE_SECRET=gate-secret-0408-0123456789abcdef0123456789
RPORT=$(free_port)
GREENLIGHT_RELAY_TOKENS=$GREENLIGHT_RELAY_TOKEN "$GREENLIGHT" relay --listen 127.0.0.1:$RPORT \
	--db "$TMP/relay.db" >>"$TMP/relay.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && break; sleep 0.05; done
relay_gate() { # relay_gate DIR: a repository with a relay-and-mailbox gate
	WORK=$1
	make_repo "$WORK"
	git -C "$WORK" commit -q --allow-empty -m "$(basename "$WORK")"
	APPROVALS=2 mail_gate
	sed -i 's/"via": "mail"/"via": "relay", "relay": "http:\/\/127.0.0.1:'"$RPORT"'", "imap": "'"${IMAP_URL//\//\\/}"'"/' "$WORK/greenlight.json"
}
body() { $PY -c 'import email,sys;from email import policy;print(email.message_from_binary_file(open(sys.argv[1],"rb"),policy=policy.default).get_body(("plain",)).get_content())' "$1"; }
IMAP_URL=$GREENLIGHT_IMAP
unset GREENLIGHT_IMAP

# 1. alice approves by link, bob by reply: quorum 2 across both channels
relay_gate "$TMP/one"
gl_run_bg --timeout 60s
wait_mail 2 || { finish; exit 1; }
alice=$(request_to alice@example.com)
bob=$(request_to bob@example.com)
check "the email has the relay's link" grep -q "http://127.0.0.1:$RPORT/r/" <(body "$alice")
check "... and the reply code" grep -q "Or decide by replying to this email" <(body "$alice")
check "the gate says it reads replies too" grep -q "replies are read from imaps://127.0.0.1:$IMAPS_PORT/INBOX too" "$WORK/gl.err"
check "alice approves on the relay's page (200)" test "$(decide "$(mail_link_to alice@example.com)" approve "by link")" = 200
sleep 1.5
check "one approval is not the quorum: still waiting" kill -0 "$GL_PID"
c=$(confirm_count)
reply "$bob" --from bob@example.com --body "approve: by mail" >/dev/null
wait_gl
check "link + reply = quorum 2: exit 0" test "$RC" -eq 0
check "both recorded, each with its channel" test "$(json_get "$WORK/decision.json" 'sorted((x["email"], x["remote_addr"]) for x in d["request"]["decisions"])')" = "[('alice@example.com', '127.0.0.1'), ('bob@example.com', 'imap')]"
check "bob's reply was confirmed in its thread" test "$(confirm_count)" -eq $((c + 1))
check "the reply is flagged" test "$(imap_count KEYWORD '$GreenlightDone')" -eq 1
# a re-run (another runner: no state) re-attaches and reaches the same
# answer: the relay has only alice's approval, the mailbox has bob's reply
c=$(confirm_count); n=$(mail_count)
rm -rf "$WORK/.greenlight"
gl_run_bg --timeout 60s
wait_gl
check "a re-run reaches the same answer: exit 0" test "$RC" -eq 0
check "... reading bob's processed reply again" grep -q "processed earlier) counted" "$WORK/gl.err"
check "... mailing nothing" test "$(mail_count)-$(confirm_count)" = "$n-$c"

# 2. the same reviewer on both channels counts once
relay_gate "$TMP/two"
n=$(mail_count)
gl_run_bg --timeout 60s
wait_mail $((n + 2)) || { finish; exit 1; }
alice=$(request_to alice@example.com)
check "alice approves by link (200)" test "$(decide "$(mail_link_to alice@example.com)" approve)" = 200
reply "$alice" --from alice@example.com --body "approve" >/dev/null
wait_log "(UID" 20
sleep 2
check "alice twice is one approval: still waiting" kill -0 "$GL_PID"
check "the progress line counts 1 of 2" grep -q "engineering 1/2 approvals" <(tail -n 3 "$WORK/gl.err")
check "bob approves by link (200)" test "$(decide "$(mail_link_to bob@example.com)" approve)" = 200
wait_gl
check "then bob: exit 0" test "$RC" -eq 0
check "alice is one approver" test "$(json_get "$WORK/decision.json" 'sorted(d["request"]["approvers"])')" = "['alice@example.com', 'bob@example.com']"

# 3. a reject by reply settles, whatever the link said
relay_gate "$TMP/three"
n=$(mail_count)
gl_run_bg --timeout 60s
wait_mail $((n + 2)) || { finish; exit 1; }
bob=$(request_to bob@example.com)
check "alice approves by link (200)" test "$(decide "$(mail_link_to alice@example.com)" approve)" = 200
reply "$bob" --from bob@example.com --body "reject: latency regressed" >/dev/null
wait_gl
check "reject by reply: exit 1" test "$RC" -eq 1
check "decision.json says rejected" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = rejected
check "with bob's reason" test "$(json_get "$WORK/decision.json" '[x["reason"] for x in d["request"]["decisions"] if not x["decision"] == "approve"][0]')" = "latency regressed"
id=$(json_get "$WORK/decision.json" 'd["request"]["id"]')
check "the reply's vote stayed in the gate: the relay has only alice's" test "$(curl -s -H "Authorization: Bearer $GREENLIGHT_RELAY_TOKEN" "http://127.0.0.1:$RPORT/v1/requests/$id" | $PY -c 'import json,sys; print([x["email"] for x in json.load(sys.stdin)["decisions"]])')" = "['alice@example.com']"

# 4. --collect in relay mode when the relay has no such request: nothing was
# mailed, so there is nothing to collect; it says so and mails nobody (4)
relay_gate "$TMP/four"
n=$(mail_count)
(cd "$WORK" && timeout 30 "$GREENLIGHT" run --collect --timeout 20s >"$WORK/gl.out" 2>"$WORK/gl.err")
check "--collect with no request on the relay: exit 4" test $? -eq 4
check "... saying none was mailed" grep -q "the relay had no request for this evidence, so none was mailed" "$WORK/gl.err"
check "... and mailing nobody" test "$(mail_count)" -eq "$n"
finish
