# i0401-mail-approve.sh - decide by replying (decision.via "mail"): the
# request email says how and carries the reviewer's reply code; a reply
# "approve" sent through the SMTP rig into dovecot's Maildir is read over
# IMAPS (verified TLS, throw-away CA) and ends the gate with 0; the reply
# is flagged processed and the reviewer gets a confirmation in the thread;
# a re-run returns the recorded decision without mailing or counting again.
# Real: aiosmtpd (submission with STARTTLS + AUTH), dovecot (IMAPS), the
# gate's IMAP client; simulated: the MX's Authentication-Results header.
. "$(dirname "$0")/imap_lib.sh"
start_dovecot || { finish; exit 1; }
start_mail_rig
WORK=$TMP/repo
make_repo "$WORK"
mail_gate

gl_run_bg --timeout 60s
wait_mail 2 || { finish; exit 1; }
check "mail went to alice and bob" test "$(mail_count_to alice@example.com)-$(mail_count_to bob@example.com)" = 1-1

$PY - "$(request_to alice@example.com)" <<'PYEOF' && ok || ko "request email structure"
import email, re, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
rt = str(m["Reply-To"])
code = re.fullmatch(r"gate\+([A-Za-z0-9_-]{43})@example\.com", rt).group(1)
text = m.get_body(("plain",)).get_content()
html = m.get_body(("html",)).get_content()
assert "Reply code: " + code in text, "code in the text"
assert code in html, "code in the HTML"
assert "approve or reject on the first line" in text
assert "/r/" not in text, "no review link in mail mode"
assert m["Message-ID"].endswith("@greenlight>")
PYEOF
check "the login is checked before mailing" grep -q "polling imaps://127.0.0.1:$IMAPS_PORT/INBOX every 1s" "$WORK/gl.err"

alice=$(request_to alice@example.com)
rid=$(reply "$alice" --body "Approve: latency is fine for now")
wait_gl
check "gate exits 0 on an approving reply" test "$RC" -eq 0
check "decision.json says approved" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = approved
check "approver recorded" test "$(json_get "$WORK/decision.json" 'd["request"]["approvers"][0]')" = alice@example.com
check "reason recorded" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["reason"]')" = "latency is fine for now"
check "the reply is named in the record" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["user_agent"]')" = "email reply $rid"
check "one line says it counted" grep -q "reply $rid from alice@example.com (UID [0-9]*) counted: Recorded: approved for engineering" "$WORK/gl.err"
check "the reply is flagged processed" test "$(imap_count KEYWORD '$GreenlightDone')" -eq 1
# the confirmation: to alice, in the thread of her reply
conf=$(confirmation_to alice@example.com)
$PY - "$conf" "$rid" <<'PYEOF' && ok || ko "confirmation in the thread"
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
assert str(m["To"]) == "alice@example.com", m["To"]
assert str(m["In-Reply-To"]) == sys.argv[2], m["In-Reply-To"]
assert m["Subject"].startswith("Re: "), m["Subject"]
assert m["Auto-Submitted"] == "auto-replied"
body = m.get_body(("plain",)).get_content()
assert "Recorded: approved for engineering \u2014 1 of 1; the release is approved" in body, body
PYEOF

n=$(mail_count)
(cd "$WORK" && "$GREENLIGHT" run -o again.json >"$WORK/gl2.out" 2>"$WORK/gl2.err")
check "re-run returns the decision (0)" test $? -eq 0
check "re-run mails nobody" test "$(mail_count)" -eq "$n"

finish
