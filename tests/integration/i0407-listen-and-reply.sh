# i0407-listen-and-reply.sh - listen mode with a mailbox configured: each
# email carries both the personal link and the reply code; engineering
# needs 2 approvals, alice approves on the review page and bob by reply,
# and the gate exits 0.  In listen mode no confirmation is mailed (the
# mailer forks, and the review server thread runs); the reply is flagged.
# Real: aiosmtpd, dovecot (IMAPS), the gate's review server and IMAP client.
. "$(dirname "$0")/imap_lib.sh"
start_dovecot || { finish; exit 1; }
start_mail_rig
WORK=$TMP/repo
make_repo "$WORK"
APPROVALS=2 mail_gate
sed -i 's/"via": "mail"/"via": "listen", "imap": "'"${GREENLIGHT_IMAP//\//\\/}"'"/' "$WORK/greenlight.json"
unset GREENLIGHT_IMAP

gl_run_bg --timeout 60s
wait_mail 2 || { finish; exit 1; }
alice=$(request_to alice@example.com)
bob=$(request_to bob@example.com)
check "the email has the link" grep -q "/r/" <($PY -c 'import email,sys;from email import policy;print(email.message_from_binary_file(open(sys.argv[1],"rb"),policy=policy.default).get_body(("plain",)).get_content())' "$alice")
check "... and the reply code" grep -q "Or decide by replying to this email" <($PY -c 'import email,sys;from email import policy;print(email.message_from_binary_file(open(sys.argv[1],"rb"),policy=policy.default).get_body(("plain",)).get_content())' "$alice")
check "the gate says it reads replies too" grep -q "replies are read from imaps://127.0.0.1:$IMAPS_PORT/INBOX too" "$WORK/gl.err"
url=$(mail_link_to alice@example.com)
check "alice approves on the page (200)" test "$(decide "$url" approve "via the page")" = 200
n=$(mail_count)
id=$(reply "$bob" --from bob@example.com --body "approve: by mail")
wait_gl
check "gate exits 0 with one approval from each channel" test "$RC" -eq 0
check "both recorded" test "$(json_get "$WORK/decision.json" 'sorted((x["email"], x["remote_addr"]) for x in d["request"]["decisions"])')" = "[('alice@example.com', '127.0.0.1'), ('bob@example.com', 'imap')]"
check "no confirmation mailed in listen mode" test "$(mail_count)" -eq "$n"
check "the reply is flagged" test "$(imap_count KEYWORD '$GreenlightDone')" -eq 1
finish
