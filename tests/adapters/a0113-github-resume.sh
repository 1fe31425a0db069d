#!/bin/bash
# a0113-github-resume.sh - GitHub without holding a runner, as
# docs/ci/github.md shows it: the workflow of snippet github-resume passes
# action-validator; the relay is configured by snippet
# github-resume-relay with a fresh App key; the action runs through the
# runner harness (gha_harness.py) with resume-environment in relay mode:
# the step succeeds with waiting=true (exit 5 never fails it) and the
# relay holds the run's resume target; a signed deployment_protection_rule
# event (as GitHub sends for the review job) and the reviewer's approval
# make the relay review the rule "approved" once, against the GitHub API
# stand-in (tests/integration/ci_api_server.py: JWT checked with the App's
# public key, installation token, documented endpoints); the review job's
# collect step then verifies the approval itself (exit 0).
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/lib.sh"
need "$NODE_BIN/action-validator" "npm @action-validator/cli"
start_smtp
snippet() { $PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/docs/ci/github.md" "$1"; }

# ---- the workflow as the docs show it ----------------------------------------
snippet github-resume | $PY -c '
import sys, yaml
doc = yaml.safe_load(sys.stdin)
yaml.safe_dump({"name": "release", "on": {"push": None}, **doc}, sys.stdout, sort_keys=False)' >"$TMP/wf.yml"
check "github-resume: action-validator accepts it" "$NODE_BIN/action-validator" "$TMP/wf.yml"
has "github-resume: the review job targets the protected environment" "$TMP/wf.yml" "environment: release-review"

# ---- the relay, its App credential and the GitHub API stand-in --------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/app.pem" 2>/dev/null
openssl pkey -in "$TMP/app.pem" -pubout -out "$TMP/app.pub" 2>/dev/null
$PY "$SRCDIR/tests/integration/ci_api_server.py" --log "$TMP/api.jsonl" --port-file "$TMP/api.port" \
	--github-app-id 4242 --github-app-public-key "$TMP/app.pub" >"$TMP/api.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -s "$TMP/api.port" ] && break; sleep 0.1; done
APORT=$(cat "$TMP/api.port")
RTOKEN=a0113-relay-token-0123456789
HOOK_SECRET=a0113-webhook-secret-0123456789
umask 077
echo "tenant ml-platform $RTOKEN https://github.com/acme/ml-*" >"$TMP/tokens"
snippet github-resume-relay | sed -e "s#/etc/greenlight/relay-ci#$TMP/relay-ci#g" \
	-e "s#https://api.github.com#http://127.0.0.1:$APORT/github#" >"$TMP/relay-ci.sh"
sh "$TMP/relay-ci.sh"
umask 022
has "the CI file names the App's variable" "$TMP/relay-ci" "GREENLIGHT_GITHUB_APP acme/ml-*"
RPORT=$(free_port)
GREENLIGHT_GITHUB_APP="4242:$(cat "$TMP/app.pem")" GREENLIGHT_RELAY_GITHUB_WEBHOOK_SECRET=$HOOK_SECRET \
	"$GREENLIGHT" relay --listen 127.0.0.1:$RPORT --db "$TMP/relay.db" --tokens-file "$TMP/tokens" \
	--ci-file "$TMP/relay-ci" >"$TMP/relay.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && break; sleep 0.05; done

# ---- the gate job: register and end -------------------------------------------
W=$TMP/ws
make_repo "$W"
git -C "$W" remote add origin https://github.com/acme/ml-model.git
SHA=$(git -C "$W" rev-parse HEAD)
R=$TMP/report.json
ghenv=(--env GITHUB_ACTIONS=true --env GITHUB_REPOSITORY=acme/ml-model --env GITHUB_RUN_ID=777
	--env GITHUB_SHA="$SHA" --env GITHUB_SERVER_URL=https://github.com
	--env GREENLIGHT_RELAY_TOKEN=$RTOKEN --env GREENLIGHT_GATE_SECRET=a0113-gate-secret-0123456789abcdef0123
	--env "GREENLIGHT_SMTP=$GREENLIGHT_SMTP" --env "GREENLIGHT_SMTP_CA_FILE=$GREENLIGHT_SMTP_CA_FILE"
	--env GREENLIGHT_SMTP_USER=greenlight --env GREENLIGHT_SMTP_PASSWORD=secret)
gha "$R" --workspace "$W" --path "$GLDIR:/usr/bin:/bin" "${ghenv[@]}" --with results=results.json \
	--with resume-environment=release-review \
	--with "args=--via relay --relay http://127.0.0.1:$RPORT --timeout 1h"
eq "gate: the step succeeds" "$(jqr "$R" .conclusion)" success
eq "gate: waiting" "$(jqr "$R" .outputs.waiting)" true
eq "gate: exit-code 5" "$(jqr "$R" '.outputs["exit-code"]')" 5
check "gate: a notice, no error" sh -c "jq -r '.annotations[].command' '$R' | grep -qx notice && ! jq -r '.annotations[].command' '$R' | grep -qx error"
eq "the relay holds the run's target" "$(sqlite3 "$TMP/relay.db" "SELECT ci || ' ' || ready FROM resumes")" "github 0"
wait_mail 1

# ---- GitHub starts the review job: the App's event; then the decision ---------
$PY - "$RPORT" "$HOOK_SECRET" "$SHA" >"$TMP/hook.out" <<'PYEOF'
import hashlib, hmac, json, sys, urllib.request
port, secret, sha = sys.argv[1:]
body = json.dumps({"action": "requested", "environment": "release-review", "event": "push",
    "sha": sha, "deployment_callback_url":
    "https://api.github.com/repos/acme/ml-model/actions/runs/777/deployment_protection_rule",
    "deployment": {"id": 3, "sha": sha}, "repository": {"full_name": "acme/ml-model"},
    "installation": {"id": 31337}}).encode()
sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/github/webhook", data=body, headers={
    "Content-Type": "application/json", "X-GitHub-Event": "deployment_protection_rule",
    "X-Hub-Signature-256": sig})
print(urllib.request.urlopen(req).status)
PYEOF
eq "the signed event matches (200)" "$(cat "$TMP/hook.out")" 200
check "approve (200)" test "$(decide "$(mail_link 1)" approve "ship it")" = 200
reviews() { cat "$TMP/api.jsonl" 2>/dev/null | grep -c '"review"'; }
for _ in $(seq 100); do [ "$(reviews)" -ge 1 ] && break; sleep 0.1; done
sleep 1.5
eq "exactly one review" "$(reviews)" 1
check "approved, release-review, run 777" grep -q '"review": {"repo": "acme/ml-model", "run": "777", "environment_name": "release-review", "state": "approved"' "$TMP/api.jsonl"

# ---- the review job's collect step verifies the approval --------------------
gha "$R" --workspace "$W" --path "$GLDIR:/usr/bin:/bin" "${ghenv[@]}" --with results=results.json \
	--with "args=--detach --via relay --relay http://127.0.0.1:$RPORT"
eq "collect: success" "$(jqr "$R" .conclusion)" success
eq "collect: approved" "$(jqr "$R" .outputs.outcome)" approved
eq "collect: exit-code 0" "$(jqr "$R" '.outputs["exit-code"]')" 0
hasnt "no webhook secret in the relay's log" "$TMP/relay.log" "$HOOK_SECRET"
hasnt "no key in the relay's log" "$TMP/relay.log" "PRIVATE KEY"
finish
