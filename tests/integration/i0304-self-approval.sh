# i0304-self-approval.sh - nobody approves their own change in another
# spelling of their address.  Team engineering lists eng0+x@example.com and
# eng1@example.com (one approval).  For commits by eng0@example.com,
# ENG0@Example.com and eng0+ci@example.com, and for a run started (GitLab
# CI) by " <eng0@example.com>", eng0+x's approval is refused on the page
# (403, "You cannot approve your own commit") and the gate keeps waiting;
# eng1's approval passes it, and decision.json names eng1 alone.  With
# --plus-tags keep, eng0+x is another mailbox than eng0 and may approve.
# Listen mode, with the SMTP rig and a git repository made here.
. "$(dirname "$0")/lib.sh"
start_smtp
WORK=$TMP/repo
make_repo "$WORK"
cat >"$WORK/greenlight.json" <<'GATE'
{
  "version": 1,
  "name": "self-approval",
  "results": "results.json",
  "choices": [
    { "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "engineering" }
  ],
  "default": "pass",
  "teams": {
    "engineering": { "email": ["eng0+x@example.com", "eng1@example.com"], "approvals": 1 }
  }
}
GATE
git -C "$WORK" add -A
git -C "$WORK" commit -q -m "Gate: engineering reviews latency"
mails=0

# commit AUTHOR-EMAIL TITLE: a new commit by that address (a new request)
commit() {
	git -C "$WORK" commit -q --allow-empty --author "Eng Zero <$1>" -m "$2"
}

# refused CASE [run flags]: eng0+x is refused, eng1 approves
refused() {
	local label=$1 x
	shift
	gl_run_bg --timeout 60s "$@"
	mails=$((mails + 2))
	wait_mail $mails || return 1
	x=$(mail_link_to eng0+x@example.com)
	check "$label: eng0+x may not approve (403)" test "$(decide "$x" approve)" = 403
	check "$label: the page says why" grep -q "You cannot approve your own commit" "$TMP/decide.html"
	check "$label: the review page warns eng0+x" sh -c "curl -s '$x' | grep -q 'so you cannot approve it'"
	sleep 1.2
	check "$label: the gate keeps waiting" kill -0 "$GL_PID"
	check "$label: eng1 approves (200)" test "$(decide "$(mail_link_to eng1@example.com)" approve)" = 200
	wait_gl
	check "$label: approved by eng1: exit 0" test "$RC" -eq 0
	check "$label: eng1 is the only approver" \
		test "$(json_get "$WORK/decision.json" 'd["request"]["approvers"]')" = "['eng1@example.com']"
	check "$label: the author's refused approval is not recorded" \
		test "$(json_get "$WORK/decision.json" 'len(d["request"]["decisions"])')" -eq 1
}

commit eng0@example.com "Speed up: plain address"
refused "author eng0@"
commit ENG0@Example.com "Speed up: another case"
refused "author ENG0@Example.com"
commit eng0+ci@example.com "Speed up: a tagged address"
refused "author eng0+ci@"

# the person who started the run (GitLab), while Ada wrote the commit
git -C "$WORK" commit -q --allow-empty -m "Speed up: started by eng0"
GITLAB_CI=true CI_PROJECT_DIR=$WORK GITLAB_USER_LOGIN=eng0 \
	GITLAB_USER_EMAIL=" <eng0@example.com>" refused "started by eng0"
check "... whose commit Ada wrote" test "$(git -C "$WORK" log -1 --format=%ae)" = ada@example.com

# with +tags kept, eng0+x is someone else than the author eng0
commit eng0@example.com "Speed up: tags kept"
gl_run_bg --timeout 60s --plus-tags keep
mails=$((mails + 2))
wait_mail $mails
check "keep: eng0+x approves (200)" test "$(decide "$(mail_link_to eng0+x@example.com)" approve)" = 200
wait_gl
check "keep: approved: exit 0" test "$RC" -eq 0
check "keep: eng0+x is the approver" \
	test "$(json_get "$WORK/decision.json" 'd["request"]["approvers"]')" = "['eng0+x@example.com']"
finish
