#!/bin/bash
# a0112-jenkins-resume.sh - Jenkins without holding an executor, end to end,
# as docs/ci/jenkins.md shows it: the pipeline of snippet jenkins-resume
# runs as pipeline code under the groovy stubs of jenkins_step_test.groovy
# (its @Library line dropped: the stubs load adapters/jenkins/vars/
# greenlight.groovy themselves; `input` waits until the Jenkins API
# stand-in has been called for it, and an abort throws as Jenkins does)
# against a real relay configured by snippet jenkins-resume-relay, the SMTP
# rig and the Jenkins API stand-in (tests/integration/ci_api_server.py,
# which cites the Jenkins docs it follows: crumb issuer, Basic auth with
# an API token, the input step's proceedEmpty and abort).  Approved: the
# relay gets a crumb and proceeds the input once, the input waited outside
# any node, the collect call verifies the approval, build SUCCESS.
# Rejected: the relay aborts the input, the build fails there.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/lib.sh"
command -v groovy >/dev/null || { echo "FAIL: groovy is missing; run scripts/setup-deps.sh"; exit 1; }
find_java
start_smtp
snippet() { $PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/docs/ci/jenkins.md" "$1"; }

JK_SECRET=relay:11aa22bb33cc44dd55ee66ff77889900	# what the stand-in accepts
RTOKEN=a0112-relay-token-0123456789
$PY "$SRCDIR/tests/integration/ci_api_server.py" --log "$TMP/api.jsonl" \
	--port-file "$TMP/api.port" >"$TMP/api.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -s "$TMP/api.port" ] && break; sleep 0.1; done
APORT=$(cat "$TMP/api.port")
umask 077
echo "tenant ml-platform $RTOKEN https://git.example.com/ml/*" >"$TMP/tokens"
snippet jenkins-resume-relay | sed -e "s#/etc/greenlight/relay-ci#$TMP/relay-ci#g" \
	-e "s#https://jenkins.example.com#http://127.0.0.1:$APORT/jenkins#" >"$TMP/relay-ci.sh"
sh "$TMP/relay-ci.sh"
has "the CI file names the token's variable, not the token" "$TMP/relay-ci" "JENKINS_ML_RELAY ml/*"
umask 022
RPORT=$(free_port)
JENKINS_ML_RELAY=$JK_SECRET "$GREENLIGHT" relay --listen 127.0.0.1:$RPORT --db "$TMP/relay.db" \
	--tokens-file "$TMP/tokens" --ci-file "$TMP/relay-ci" >"$TMP/relay.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && break; sleep 0.05; done

snippet jenkins-resume | grep -v '^@Library' |
	sed -e "s#https://relay.example.com#http://127.0.0.1:$RPORT#g" >"$TMP/Jenkinsfile"
FIX=$TMP/fix
mkdir -p "$FIX"

# pipeline N COMMIT-MESSAGE: run the Jenkinsfile in a fresh clone-like
# workspace (build N of job ml/model) in the background
pipeline() {
	local ws=$TMP/ws$1
	make_repo "$ws"
	git -C "$ws" remote add origin https://git.example.com/ml/model.git
	git -C "$ws" commit -q --allow-empty -m "$2"
	(cd "$TMP" && PATH="$GLDIR:$PATH" GL_SNIPPET_WS=$ws GL_SNIPPET_LOG=1 GL_INPUT_LOG=$TMP/api.jsonl \
		JENKINS_URL=https://jenkins.example.com/ JOB_NAME=ml/model BUILD_NUMBER=$1 \
		BUILD_URL=https://jenkins.example.com/job/ml/job/model/$1/ \
		GREENLIGHT_RELAY_TOKEN=$RTOKEN GREENLIGHT_GATE_SECRET=a0112-gate-secret-0123456789abcdef012345 \
		groovy "$SRCDIR/tests/adapters/jenkins_step_test.groovy" \
		"$SRCDIR/adapters/jenkins/vars/greenlight.groovy" "$FIX" "$TMP/jw$1" "$GREENLIGHT" \
		"$TMP/Jenkinsfile" >"$TMP/build$1.out" 2>&1) &
	GPID=$!
	PIDS="$PIDS $GPID"
}
posts() { cat "$TMP/api.jsonl" 2>/dev/null | grep -c "\"POST\", \"path\": \"/jenkins/job/ml/job/model/$1/input/Greenlight/$2\", \"status\": 200, \"auth_ok\": true"; }

# 1. approved
pipeline 17 "model 17"
wait_mail 1
check "the build waits in the input, outside any node" sh -c "sleep 2; grep -q 'echo: input greenlight outside any node: true' '$TMP/build17.out'"
has "the registering call says waiting, not unstable" "$TMP/build17.out" "registered: the relay resumes the build"
check "approve (200)" test "$(decide "$(mail_link 1)" approve "ship it")" = 200
wait "$GPID"
eq "build 17: groovy exit" "$?" 0
has "build 17: SUCCESS" "$TMP/build17.out" "build SUCCESS"
has "build 17: the collect call verified the approval" "$TMP/build17.out" "echo: outcome approved, approved by [engineering@example.com]"
eq "exactly one proceedEmpty" "$(posts 17 proceedEmpty)" 1
eq "no abort" "$(posts 17 abort)" 0
check "a crumb was fetched with Basic auth" grep -q '"GET", "path": "/jenkins/crumbIssuer/api/json", "status": 200, "auth_ok": true' "$TMP/api.jsonl"
hasnt "the stand-in refused nothing" "$TMP/api.jsonl" '"status": 40'

# 2. rejected: the relay aborts the input, the build fails there
pipeline 18 "model 18"
wait_mail 2
check "reject (200)" test "$(decide "$(mail_link 2)" reject "too slow")" = 200
wait "$GPID"
eq "build 18: groovy exit" "$?" 0
has "build 18: FAILURE" "$TMP/build18.out" "build FAILURE"
has "build 18: the input was aborted by the relay" "$TMP/build18.out" "the relay aborted the input"
eq "exactly one abort" "$(posts 18 abort)" 1
eq "no proceedEmpty" "$(posts 18 proceedEmpty)" 0
hasnt "no relay token in the relay's log" "$TMP/relay.log" "$RTOKEN"
hasnt "no Jenkins token in the relay's log" "$TMP/relay.log" "11aa22bb33cc44dd55ee66ff77889900"
[ "$failed" -eq 0 ] || { cat "$TMP/build17.out" "$TMP/build18.out" "$TMP/relay.log"; }
finish
