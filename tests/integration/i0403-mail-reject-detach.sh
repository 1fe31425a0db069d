# i0403-mail-reject-detach.sh - a reject by reply ends the gate with 1 and
# its reason is in the record (ISO-8859-1, quoted-printable, Outlook-style
# "-----Original Message-----" quote); --detach in mail mode mails and
# exits 5, a later run collects the decision without mailing again; the
# mailbox over imap:// with STARTTLS (verified) and, to this machine only,
# in plain text (decision.imap_tls "none"); processed replies moved to a
# folder (decision.processed "move:Done").
# Real: aiosmtpd, dovecot (IMAP with STARTTLS, plain IMAP), the gate.
. "$(dirname "$0")/imap_lib.sh"
start_dovecot || { finish; exit 1; }
start_mail_rig
WORK=$TMP/repo
make_repo "$WORK"
mail_gate
export GREENLIGHT_IMAP=imap://127.0.0.1:$IMAP_PORT/INBOX	# STARTTLS

gl_run_bg --timeout 60s
wait_mail 2 || { finish; exit 1; }
bob=$(request_to bob@example.com)
$PY - "$bob" "$TMP/outlook.txt" <<'PYEOF'
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
text = m.get_body(("plain",)).get_content()
open(sys.argv[2], "w").write("Reject: la latence a régressé de 40 %\n\n-----Original Message-----\nFrom: greenlight\nSent: today\n\n" + text)
PYEOF
id=$(reply "$bob" --from bob@example.com --charset iso-8859-1 --cte quoted-printable --body "$(sed 's/$/\\n/' "$TMP/outlook.txt" | tr -d '\n')")
wait_gl
check "gate exits 1 on a rejecting reply" test "$RC" -eq 1
check "decision.json says rejected" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = rejected
check "the reason is in the record (from ISO-8859-1)" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["reason"]')" = "la latence a régressé de 40 %"
check "STARTTLS was used on the plain port" grep -q "TLS" <(grep "Login: user=<gate>" "$IMAPROOT/dovecot.log")
check "bob is told the release is rejected" grep -rqF "Recorded: rejected for engineering; the release is rejected." <(cat "$MAILDIR"/*.eml "$MAILDIR"/thread/*.eml | $PY -c 'import sys,quopri; sys.stdout.write(quopri.decodestring(sys.stdin.buffer.read()).decode("utf-8","replace"))')

# detach: register and mail, exit 5; the decision is collected later
WORK=$TMP/repo2
make_repo "$WORK"
mail_gate '"processed": "move:Done"'
echo '{"accuracypct": 99, "latencyMs": 300}' >"$WORK/results.json"
export GREENLIGHT_IMAP=imap://127.0.0.1:$IMAP_PORT/INBOX GREENLIGHT_IMAP_TLS=none
n=$(mail_count)
(cd "$WORK" && "$GREENLIGHT" run --detach -o decision.json >"$WORK/gl.out" 2>"$WORK/gl.err")
check "--detach in mail mode exits 5" test $? -eq 5
check "--detach mailed both reviewers" test "$(mail_count)" -eq $((n + 2))
check "--detach says how to collect" grep -q "run again (without --detach, with the same state file .greenlight/state.db) to collect the decision" "$WORK/gl.err"
alice=$(request_to alice@example.com)
id=$(reply "$alice" --from alice@example.com --body "approve")
n=$(mail_count); c=$(confirm_count)
(cd "$WORK" && timeout 60 "$GREENLIGHT" run -o decision.json --timeout 60s >"$WORK/gl.out" 2>"$WORK/gl.err")
check "the collecting run exits 0" test $? -eq 0
check "the collecting run re-attached without mail" grep -q "re-attached to pending request" "$WORK/gl.err"
check "only the confirmation was mailed" test "$(mail_count)-$(confirm_count)" = "$n-$((c + 1))"
check "plain IMAP was used (imap_tls none)" test "$(grep -c 'Login: user=<gate>.*TLS' "$IMAPROOT/dovecot.log")" -lt "$(grep -c 'Login: user=<gate>' "$IMAPROOT/dovecot.log")"
check "the processed reply was moved to Done" test "$($PY - "$IMAPS_PORT" "$CERTS/ca.pem" "$IMAP_PASSWORD" <<'PYEOF'
import imaplib, ssl, sys
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
m.login("gate", sys.argv[3])
typ, d = m.select("Done")
print(d[0].decode() if typ == "OK" else "no folder")
PYEOF
)" = 1

# plain text to another host is refused before anything happens
WORK=$TMP/repo3
make_repo "$WORK"
mail_gate
(cd "$WORK" && GREENLIGHT_IMAP=imap://mail.example.com/INBOX "$GREENLIGHT" run >"$WORK/gl.out" 2>"$WORK/gl.err")
check "imap_tls none to another host: exit 2" test $? -eq 2
check "... with a clear line" grep -q "only allowed to this machine" "$WORK/gl.err"
finish
