# a0111-gitlab-resume.sh - GitLab without holding a runner, end to end, as
# docs/ci/gitlab.md shows it: gitlab-ci-local (shell mode) runs the
# pipeline of snippet gitlab-resume (the template's .greenlight-detach and
# .greenlight-collect jobs, its include rewritten to this repository's
# template) against a real relay configured by snippet gitlab-resume-relay,
# the SMTP rig and a GitLab API stand-in (tests/integration/ci_api_server.py,
# which cites the GitLab API docs it follows).  gitlab-ci-local cannot
# receive API calls, so the stand-in records the relay's "play" call
# (checking PRIVATE-TOKEN, project and job id) and the test then plays the
# manual job in gitlab-ci-local.  The detach job ends WARN (exit 5
# allowed), nothing waits but the relay, the relay plays the collect job
# exactly once per decision, and the collect job's status follows the
# decision: approved PASS (and the deploy job after it runs), rejected FAIL.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/lib.sh"
need "$NODE_BIN/gitlab-ci-local" "npm gitlab-ci-local"
command -v rsync >/dev/null || { echo "FAIL: rsync is missing; run scripts/setup-deps.sh"; exit 1; }
start_smtp
snippet() { $PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/docs/ci/gitlab.md" "$1"; }

GL_TOKEN=glpat-a0111-0123456789abcdef
RTOKEN=a0111-relay-token-0123456789
CI_API_GITLAB_TOKEN=$GL_TOKEN $PY "$SRCDIR/tests/integration/ci_api_server.py" --log "$TMP/api.jsonl" \
	--port-file "$TMP/api.port" --project 1217 >"$TMP/api.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -s "$TMP/api.port" ] && break; sleep 0.1; done
APORT=$(cat "$TMP/api.port")
umask 077
echo "tenant payments $RTOKEN https://gitlab.example.com/acme/*" >"$TMP/tokens"
# the relay's CI file as the docs make it (gitlab-ci-local's project id is 1217)
snippet gitlab-resume-relay | sed -e "s#/etc/greenlight/relay-ci#$TMP/relay-ci#g" \
	-e "s#https://gitlab.example.com/api/v4#http://127.0.0.1:$APORT/gitlab/api/v4#" \
	-e "s# 4217'# 1217'#" >"$TMP/relay-ci.sh"
sh "$TMP/relay-ci.sh"
has "the CI file names the token's variable, not the token" "$TMP/relay-ci" "GL_PAYMENTS_TOKEN 1217"
umask 022
RPORT=$(free_port)
GL_PAYMENTS_TOKEN=$GL_TOKEN "$GREENLIGHT" relay --listen 127.0.0.1:$RPORT --db "$TMP/relay.db" \
	--tokens-file "$TMP/tokens" --ci-file "$TMP/relay-ci" >"$TMP/relay.log" 2>&1 &
RELAY_PID=$!
PIDS="$PIDS $RELAY_PID"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && break; sleep 0.05; done

REPO=$TMP/repo
make_repo "$REPO"
git -C "$REPO" remote add origin https://gitlab.example.com/acme/model.git
mkdir -p "$REPO/adapters/gitlab"
cp "$SRCDIR/adapters/gitlab/greenlight.gitlab-ci.yml" "$REPO/adapters/gitlab/"
printf '#!/bin/sh\necho "deploying after outcome=$GREENLIGHT_OUTCOME"\n' >"$REPO/deploy"
chmod +x "$REPO/deploy"
# the docs' pipeline: the include points at this repository's template,
# the relay and the SMTP server are the local ones
snippet gitlab-resume | $PY -c '
import sys, re
t = sys.stdin.read()
t = re.sub(r"include:\n  - project: [^\n]*\n    ref: [^\n]*\n    file: ([^\n]*)\n",
           r"include:\n  - local: \1\n", t)
sys.stdout.write(t)' | sed -e "s#https://relay.example.com#http://127.0.0.1:$RPORT#g" \
	-e "s#smtp://mail.example.com:587#$GREENLIGHT_SMTP#g" >"$REPO/.gitlab-ci.yml"
has "the include was rewritten" "$REPO/.gitlab-ci.yml" "local: adapters/gitlab/greenlight.gitlab-ci.yml"
git -C "$REPO" add -A
git -C "$REPO" commit -q -m pipeline
mkdir -p "$TMP/home"

# gcl LOG JOB...: run jobs in gitlab-ci-local; the gate's settings are
# variables, the relay token and gate secret as a CI would mask them
gcl() {
	local log=$1
	shift
	(cd "$REPO" && HOME=$TMP/home "$NODE_BIN/gitlab-ci-local" --shell-isolation \
		--no-artifacts-to-source --no-color \
		--variable "GREENLIGHT_BIN=$GREENLIGHT" \
		--variable "GREENLIGHT_RELAY_TOKEN=$RTOKEN" \
		--variable "GREENLIGHT_GATE_SECRET=a0111-gate-secret-0123456789abcdef0123456789" \
		--variable "GREENLIGHT_SMTP_CA_FILE=$GREENLIGHT_SMTP_CA_FILE" \
		--variable GREENLIGHT_SMTP_USER=greenlight --variable GREENLIGHT_SMTP_PASSWORD=secret \
		"$@" >"$log" 2>&1)
}
status() { sed -n "s/^ \(PASS\|WARN\|FAIL\)  $2\( .*\)\{0,1\}\$/\1/p" "$1"; }
plays() { cat "$TMP/api.jsonl" 2>/dev/null | grep -c '"method": "POST".*"status": 200'; }
wait_plays() { # wait_plays N
	for _ in $(seq 150); do [ "$(plays)" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}

# 1. approved: detach (WARN), the relay plays the collect job, it passes
gcl "$TMP/gate1.log" greenlight-gate
eq "detach job: passed with warnings" "$(status "$TMP/gate1.log" greenlight-gate)" WARN
has "detach job says the request is pending" "$TMP/gate1.log" "is pending at"
wait_mail 1
check "nothing is played before the decision" test "$(plays)" -eq 0
check "approve (200)" test "$(decide "$(mail_link 1)" approve "ship it")" = 200
check "the relay plays the collect job" wait_plays 1
sleep 1.5
eq "exactly one play call" "$(plays)" 1
check "it played the collect job of project 1217 with the project token" \
	grep -q '"POST", "path": "/gitlab/api/v4/projects/1217/jobs/[0-9]*02/play", "status": 200, "auth_ok": true' "$TMP/api.jsonl"
check "the jobs listed were the detach job's pipeline's" \
	grep -q '"GET", "path": "/gitlab/api/v4/projects/1217/pipelines/[0-9]*/jobs?per_page=100", "status": 200, "auth_ok": true' "$TMP/api.jsonl"
gcl "$TMP/collect1.log" --manual greenlight-collect greenlight-collect deploy
eq "collect job after approval" "$(status "$TMP/collect1.log" greenlight-collect)" PASS
eq "deploy runs after it" "$(status "$TMP/collect1.log" deploy)" PASS
has "the collect job verified the approval" "$TMP/collect1.log" "approved"

# 2. rejected (another commit: another request): the collect job fails
git -C "$REPO" commit -q --allow-empty -m "another model"
: >"$TMP/api.jsonl"
curl -s -o /dev/null -X POST "http://127.0.0.1:$APORT/_test/new-pipelines"
gcl "$TMP/gate2.log" greenlight-gate
eq "detach job 2: passed with warnings" "$(status "$TMP/gate2.log" greenlight-gate)" WARN
wait_mail 2
check "reject (200)" test "$(decide "$(mail_link 2)" reject "too slow")" = 200
check "the relay plays the collect job again" wait_plays 1
gcl "$TMP/collect2.log" --manual greenlight-collect greenlight-collect
eq "collect job after rejection" "$(status "$TMP/collect2.log" greenlight-collect)" FAIL
has "the collect job says rejected" "$TMP/collect2.log" "rejected"
hasnt "no relay token in the relay's log" "$TMP/relay.log" "$RTOKEN"
hasnt "no project token in the relay's log" "$TMP/relay.log" "$GL_TOKEN"
finish
