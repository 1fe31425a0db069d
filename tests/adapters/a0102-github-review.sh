# a0102-github-review.sh - the composite action through a real review:
# `greenlight run` in listen mode under gha_harness.py, mail through the
# aiosmtpd rig (tests/integration/lib.sh), decided on the review page.
#   approve -> step succeeds; outputs approved, approver, request id; the
#              email links the run detected from GITHUB_*; summary lists it
#   reject with a hostile reason -> step fails (1); the reason is one
#              escaped annotation and inert Markdown, never markup
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/lib.sh"
$PY -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing; run scripts/setup-deps.sh"; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq is missing; run scripts/setup-deps.sh"; exit 1; }

# action_bg REPORT: the action in $WORK in the background (command run)
action_bg() {
	$PY "$SRCDIR/tests/adapters/gha_harness.py" "$SRCDIR" --workspace "$WORK" \
		--path "$GLDIR:/usr/bin:/bin" --with results=results.json \
		--with "args=--timeout 60s --progress 1s" \
		--env "GREENLIGHT_SMTP=$GREENLIGHT_SMTP" --env "GREENLIGHT_SMTP_USER=$GREENLIGHT_SMTP_USER" \
		--env "GREENLIGHT_SMTP_PASSWORD=$GREENLIGHT_SMTP_PASSWORD" \
		--env "GREENLIGHT_SMTP_CA_FILE=$GREENLIGHT_SMTP_CA_FILE" --env "GREENLIGHT_LISTEN=127.0.0.1:0" \
		>"$1" 2>"$1.err" &
	GL_PID=$!
	PIDS="$PIDS $GL_PID"
}

start_smtp

# ---- case 1: approve ----------------------------------------------------------
WORK=$TMP/approve
make_repo "$WORK"
R=$TMP/approve.json
action_bg "$R"
if wait_mail 1; then
	url=$(mail_link 1)
	eq "approve: POST" "$(decide "$url" approve "ship it")" 200
	eml=$(ls "$MAILDIR"/*.eml | head -n 1)
	has "approve: the mail links the run" "$eml" "https://github.example/acme/model/actions/runs/4242"
fi
wait_gl
eq "approve: harness" "$RC" 0
eq "approve: conclusion" "$(jqr "$R" .conclusion)" success
eq "approve: outcome" "$(jqr "$R" .outputs.outcome)" approved
eq "approve: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 0
eq "approve: approvers" "$(jqr "$R" .outputs.approvers)" engineering@example.com
eq "approve: teams" "$(jqr "$R" .outputs.teams)" engineering
rid=$(jqr "$R" '.outputs["request-id"]')
check "approve: request id" test -n "$rid"
eq "approve: annotation" "$(jqr "$R" '.annotations | map(.command + " " + .message) | join("|")')" \
	"notice gate model-release approved by engineering@example.com"
jqr "$R" .summary >"$TMP/summary.md"
has "approve: summary heading" "$TMP/summary.md" "approved: greenlight gate model-release"
has "approve: summary decision" "$TMP/summary.md" "| engineering&#64;example.com | engineering | approve | ship it |"
has "approve: summary request" "$TMP/summary.md" "**request:** $rid"
dec=$(jqr "$R" '.outputs["decision-file"]')
# the harness removes runner.temp when the job ends, like the runner; the
# record is checked through the step's outputs and the summary instead
eq "approve: decision file named" "$(basename "$dec")" decision.json

# ---- case 2: reject with a hostile reason ---------------------------------------
WORK=$TMP/reject
make_repo "$WORK"
R=$TMP/reject.json
action_bg "$R"
reason='too slow | <b>x</b> ::warning::injected 100%'
if wait_mail 2; then
	url=$(mail_link 2)
	eq "reject: POST" "$(decide "$url" reject "$reason")" 200
fi
wait_gl
eq "reject: harness" "$RC" 0
eq "reject: conclusion" "$(jqr "$R" .conclusion)" failure
eq "reject: step" "$(jqr "$R" '.steps[-1].exit_code')" 1
eq "reject: outcome" "$(jqr "$R" .outputs.outcome)" rejected
eq "reject: approvers" "$(jqr "$R" .outputs.approvers)" ""
eq "reject: one annotation" "$(jqr "$R" '.annotations | length')" 1
eq "reject: annotation" "$(jqr "$R" '.annotations[0].command + " " + .annotations[0].message')" \
	"error gate model-release rejected by engineering@example.com: $reason"
jqr "$R" .summary >"$TMP/summary.md"
has "reject: summary heading" "$TMP/summary.md" "rejected: greenlight gate model-release"
has "reject: reason escaped" "$TMP/summary.md" "too slow &#124; &#60;b&#62;x&#60;/b&#62; ::warning::injected 100%"
hasnt "reject: no raw markup" "$TMP/summary.md" "<b>"

finish
