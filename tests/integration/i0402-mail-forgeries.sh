# i0402-mail-forgeries.sh - what does not count as a decision by reply, one
# refusal line each, and what does: engineering needs 2 approvals (alice,
# bob).  Every reply goes SMTP rig -> dovecot Maildir -> the gate's IMAPS
# client.  Refused: an out-of-office auto-reply (Auto-Submitted, and by
# subject alone), a reply without the code, alice using bob's code, a forged
# From (the MX says dmarc=fail), no Authentication-Results, results from
# another authserv-id, alice's code in bob's thread, a forged "pass" field below the MX's own "fail",
# "approve" only in the quoted part, a first line that is not a decision.
# Counted: alice's HTML-only reply in base64, then (after her second reply
# is refused as a used code) bob's quoted-printable windows-1252 reply:
# quorum 2 of 2, exit 0.  Every reply read is flagged; the confirmations go
# only to verified reviewers.
. "$(dirname "$0")/imap_lib.sh"
start_dovecot || { finish; exit 1; }
start_mail_rig
WORK=$TMP/repo
make_repo "$WORK"
APPROVALS=2 mail_gate

gl_run_bg --timeout 90s
wait_mail 2 || { finish; exit 1; }
alice=$(request_to alice@example.com)
bob=$(request_to bob@example.com)

refused() { # refused DESCRIPTION REASON [reply args]
	local what=$1 why=$2 id
	shift 2
	id=$(reply "$@") || { ko "$what: could not send"; return; }
	if wait_log "reply $id from" 15; then
		check "$what: refused ($why)" grep -qF "reply $id from $(sed -n 's/.*--from \([^ ]*\).*/\1/p' <<<" $* ")" "$WORK/gl.err"
		check "$what: the line says why" grep -qF -- "$why" <(grep -F "reply $id " "$WORK/gl.err")
		check "$what: not counted" grep -qF "reply $id " <(grep -F "not counted" "$WORK/gl.err")
	fi
}

refused "out-of-office (Auto-Submitted)" "an automatic message (Auto-Submitted" \
	"$alice" --from alice@example.com --header "Auto-Submitted: auto-replied" \
	--subject "Automatic reply: away" --body "approve\nI am out of the office until Monday."
refused "out-of-office (subject only)" "an automatic message (an out-of-office" \
	"$alice" --from alice@example.com --subject "Out of Office: review needed" --body "approve"
refused "bounce (null Return-Path)" "an automatic message" \
	"$alice" --from mailer-daemon@example.com --body "approve"
refused "reply without the code" "it carries no reply code" \
	"$alice" --from alice@example.com --no-code --body "approve"
refused "alice with bob's code" "From is not bob@example.com" \
	"$bob" --from alice@example.com --body "approve"
alice_code=$(sed -n 's/^Reply-To: gate+\([A-Za-z0-9_-]*\)@.*/\1/p' "$alice" | tr -d '\r')
refused "alice's code in bob's thread" "it does not answer alice@example.com's request email" \
	"$bob" --from alice@example.com --code="$alice_code" --body "approve"
refused "forged From (dmarc=fail)" "mx.example.com did not vouch for example.com (dkim=fail, dmarc=fail)" \
	"$alice" --from alice@example.com --auth "mx.example.com; dkim=fail header.d=example.com; dmarc=fail header.from=example.com" --body "approve"
refused "no Authentication-Results" "no Authentication-Results from mx.example.com" \
	"$alice" --from alice@example.com --auth none --body "approve"
refused "results from another server" "no Authentication-Results from mx.example.com" \
	"$alice" --from alice@example.com --auth "evil.example; dmarc=pass header.from=example.com" --body "approve"
refused "forged pass below the MX's fail" "did not vouch" \
	"$alice" --from alice@example.com --auth "mx.example.com; dmarc=fail header.from=example.com" \
	--header "Authentication-Results: mx.example.com; dmarc=pass header.from=example.com" --body "approve"
refused "dkim from an unaligned domain" "did not vouch" \
	"$alice" --from alice@example.com --auth "mx.example.com; dkim=pass header.d=mallory.example" --body "approve"
refused "approve only in the quote" "there is no new text above the quoted request" \
	"$alice" --from alice@example.com --body ""
refused "quoted approve below the reply line" "its first line is not approve or reject (\"Let me look at this tomorrow.\")" \
	"$alice" --from alice@example.com --body "Let me look at this tomorrow.\n\n> approve"
refused "first line is not a decision" "its first line is not approve or reject (\"Looks odd to me\")" \
	"$alice" --from alice@example.com --body "Looks odd to me\napprove"
refused "approved is not approve" "its first line is not approve or reject (\"Approved\")" \
	"$alice" --from alice@example.com --body "Approved"
check "still waiting after the refusals" kill -0 "$GL_PID"
check "no confirmation went to unverified senders" test "$(grep -l '"mailer-daemon@example.com"' "$MAILDIR"/*.json "$MAILDIR"/thread/*.json 2>/dev/null | wc -l)" -eq 0

# counted: alice, HTML only, base64
id=$(reply "$alice" --from alice@example.com --html-only --cte base64 --body "APPROVE \u2014 numbers look fine")
wait_log "reply $id from alice@example.com (UID" 15
check "HTML-only base64 reply counted (1 of 2)" grep -qF "reply $id from alice@example.com (UID" <(grep -F "counted: Recorded: approved for engineering — 1 of 2" "$WORK/gl.err")
# the same code again: used
refused "alice's code used twice" "its reply code was used already (approved)" \
	"$alice" --from alice@example.com --body "reject"
# bob: quoted-printable windows-1252, multipart/alternative
id=$(reply "$bob" --from bob@example.com --both --cte quoted-printable --charset windows-1252 --body "Approve \u2013 ça va")
wait_gl
check "gate exits 0 on the second approval" test "$RC" -eq 0
check "bob's reply counted (2 of 2)" grep -qF "reply $id from bob@example.com (UID" <(grep -F "counted: Recorded: approved for engineering — 2 of 2; the release is approved" "$WORK/gl.err")
check "two approvers recorded" test "$(json_get "$WORK/decision.json" 'sorted(d["request"]["approvers"])')" = "['alice@example.com', 'bob@example.com']"
check "bob's reason decoded from windows-1252" test "$(json_get "$WORK/decision.json" '[x["reason"] for x in d["request"]["decisions"] if x["email"]=="bob@example.com"][0]')" = "ça va"
check "alice's reason from the HTML part" test "$(json_get "$WORK/decision.json" '[x["reason"] for x in d["request"]["decisions"] if x["email"]=="alice@example.com"][0]')" = "numbers look fine"
check "every reply read is flagged processed" test "$(imap_count UNKEYWORD '$GreenlightDone')" -eq 0
check "one line per reply read" test "$(grep -c '^greenlight: reply <' "$WORK/gl.err")" -eq 18
finish
