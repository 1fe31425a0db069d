# a0111-mail-ci.sh - the three CI adapters with decision.via "mail" (a
# hosted runner with only an SMTP account and an IMAP mailbox): the
# GitHub action under gha_harness.py, the GitLab template under
# gitlab-ci-local and the Jenkins step under groovy each run `greenlight
# run` against the real SMTP rig and a real dovecot started here; the
# reviewer answers the request email with tests/integration/reply.py, and
# the job's result follows the reply: approve -> success, reject ->
# failure (exit 1).  The mailbox login reaches greenlight as the job's
# GREENLIGHT_IMAP_USER / GREENLIGHT_IMAP_PASSWORD variables (secrets), as
# docs/ci/*.md show; the adapters need no input of their own for it.
# Real: aiosmtpd, dovecot (IMAPS), gitlab-ci-local, groovy, the gate.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/imap_lib.sh"
need "$NODE_BIN/gitlab-ci-local" "npm gitlab-ci-local"
command -v groovy >/dev/null || { echo "FAIL: groovy is missing; run scripts/setup-deps.sh"; exit 1; }
$PY -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing; run scripts/setup-deps.sh"; exit 1; }
find_java
start_dovecot || { finish; exit 1; }
start_mail_rig

# what a hosted job is given: the gate file and its secrets as variables
fixtures() { # fixtures DIR: the gate (via mail) and results with latencies 301..306
	mkdir -p "$1"
	cat >"$1/greenlight.json" <<'JSON'
{
  "version": 1,
  "name": "model-release",
  "choices": [
    { "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "engineering" }
  ],
  "default": "pass",
  "teams": { "engineering": { "email": ["rev@example.com"] } },
  "notify": { "from": "greenlight@example.com" },
  "decision": {
    "via": "mail",
    "reply_to": "gate@example.com",
    "poll": "1s",
    "trusted_authserv_id": "mx.example.com"
  }
}
JSON
	for i in 1 2 3 4 5 6; do echo "{\"accuracypct\": 99, \"latencyMs\": 30$i}" >"$1/r$i.json"; done
}
VARS="GREENLIGHT_SMTP GREENLIGHT_SMTP_USER GREENLIGHT_SMTP_PASSWORD GREENLIGHT_SMTP_CA_FILE
GREENLIGHT_IMAP GREENLIGHT_IMAP_USER GREENLIGHT_IMAP_PASSWORD GREENLIGHT_IMAP_CA_FILE"

# reply_case VERDICT CMD...: run CMD in the background, answer the request
# it mails with VERDICT from the reviewer, and return CMD's status
reply_case() {
	local verdict=$1 n pid req
	shift
	n=$(mail_count)
	"$@" &
	pid=$!
	PIDS="$PIDS $pid"
	wait_mail $((n + 1)) || { kill "$pid"; wait "$pid"; return 99; }
	req=$(ls "$MAILDIR"/*.eml | tail -n 1)
	reply "$req" --from rev@example.com --body "$verdict" >/dev/null
	wait "$pid"
}

# ---- GitHub: the composite action --------------------------------------------
W=$TMP/gh
fixtures "$W"
envs=()
for v in $VARS; do envs+=(--env "$v=${!v}"); done
R=$TMP/gh-report.json
reply_case "approve: looks fine" gha "$R" --workspace "$W" --path "$GLDIR:/usr/bin:/bin" "${envs[@]}" \
	--with results=r1.json --with "args=--timeout 60s"
eq "github approve: conclusion" "$(jqr "$R" .conclusion)" success
eq "github approve: outcome" "$(jqr "$R" .outputs.outcome)" approved
eq "github approve: approvers" "$(jqr "$R" .outputs.approvers)" rev@example.com
reply_case "reject: too slow" gha "$R" --workspace "$W" --path "$GLDIR:/usr/bin:/bin" "${envs[@]}" \
	--with results=r2.json --with "args=--timeout 60s"
eq "github reject: conclusion" "$(jqr "$R" .conclusion)" failure
eq "github reject: outcome and exit code" "$(jqr "$R" '.outputs.outcome + " " + .outputs["exit-code"]')" "rejected 1"

# ---- GitLab: the .greenlight template under gitlab-ci-local ------------------
REPO=$TMP/gl
fixtures "$REPO"
cp "$SRCDIR/adapters/gitlab/greenlight.gitlab-ci.yml" "$REPO/"
cat >"$REPO/.gitlab-ci.yml" <<'YAML'
include:
  - local: greenlight.gitlab-ci.yml
stages: [gate]
gate-approve:
  extends: .greenlight
  stage: gate
  variables: { GREENLIGHT_RESULTS: r3.json, GREENLIGHT_ARGS: "--timeout 60s" }
gate-reject:
  extends: .greenlight
  stage: gate
  variables: { GREENLIGHT_RESULTS: r4.json, GREENLIGHT_ARGS: "--timeout 60s" }
YAML
git -C "$REPO" init -q -b main
git -C "$REPO" -c user.name=Ada -c user.email=ada@example.com add -A
git -C "$REPO" -c user.name=Ada -c user.email=ada@example.com commit -q -m pipeline
mkdir -p "$TMP/home"
gvars=(--variable "GREENLIGHT_BIN=$GREENLIGHT")
for v in $VARS; do gvars+=(--variable "$v=${!v}"); done
gcl() { # gcl JOB LOG
	(cd "$REPO" && HOME=$TMP/home "$NODE_BIN/gitlab-ci-local" --shell-isolation \
		--no-artifacts-to-source --no-color "${gvars[@]}" "$1" >"$2" 2>&1)
}
status() { sed -n "s/^ \(PASS\|WARN\|FAIL\)  $1\( .*\)\{0,1\}\$/\1/p" "$2"; }
reply_case "approve" gcl gate-approve "$TMP/gcl-approve.log"
eq "gitlab approve: job passes" "$(status gate-approve "$TMP/gcl-approve.log")" PASS
reply_case "reject" gcl gate-reject "$TMP/gcl-reject.log"
eq "gitlab reject: job fails" "$(status gate-reject "$TMP/gcl-reject.log")" FAIL
A=$REPO/.gitlab-ci-local/artifacts
eq "gitlab approve: decision record" "$(jq -r .outcome "$A/gate-approve/greenlight-decision.json")" approved
eq "gitlab reject: decision record" "$(jq -r .outcome "$A/gate-reject/greenlight-decision.json")" rejected

# ---- Jenkins: the shared-library step under groovy ---------------------------
FIX=$TMP/jfix
fixtures "$FIX"
jenkins() { # jenkins RESULTS OUT: a pipeline calling the step, as docs/ci/jenkins.md shows
	printf "def gate = greenlight(results: '%s', args: '--timeout 60s')\necho \"outcome \${gate.outcome}\"\n" "$1" >"$TMP/$1.groovy"
	PATH=$GLDIR:$PATH groovy "$SRCDIR/tests/adapters/jenkins_step_test.groovy" "$SRCDIR/adapters/jenkins/vars/greenlight.groovy" \
		"$FIX" "$TMP/jwork-$1" "$GREENLIGHT" "$TMP/$1.groovy" >"$2" 2>&1
}
reply_case "approve" jenkins r5.json "$TMP/j-approve.log"
has "jenkins approve: outcome" "$TMP/j-approve.log" "echo: outcome approved"
has "jenkins approve: build SUCCESS" "$TMP/j-approve.log" "build SUCCESS"
reply_case "reject: no" jenkins r6.json "$TMP/j-reject.log"
has "jenkins reject: the step fails the build" "$TMP/j-reject.log" "exit 1"
has "jenkins reject: build FAILURE" "$TMP/j-reject.log" "build FAILURE"
hasnt "jenkins reject: nothing after the step" "$TMP/j-reject.log" "echo: outcome"

[ "$failed" -eq 0 ] || for f in "$TMP"/gcl-*.log "$TMP"/j-*.log "$R.err"; do echo "--- $f"; tail -n 30 "$f"; done
finish
