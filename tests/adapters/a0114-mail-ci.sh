# a0114-mail-ci.sh - the three CI adapters in mail mode (decision.via
# "mail": a hosted runner with only an SMTP account and an IMAP mailbox),
# each run from its recipe in docs/ci/*.md as written (taken from its
# <!-- snippet: NAME --> marker by tests/adapters/snippet.py):
#   github-mail   the action's step under gha_harness.py
#   gitlab-mail   the job extending the .greenlight template, under
#                 gitlab-ci-local
#   jenkins-mail  the Gate stage: its environment, then its `greenlight`
#                 call as pipeline code with the step and the groovy stubs
# against the real SMTP rig and a real dovecot started here.  The reviewer
# answers the request email with tests/integration/reply.py, and the job's
# result follows the reply: approve -> success (approved), reject ->
# failure (rejected, exit 1).  Only the example hosts are pointed at the
# stand-ins (mail.example.com, imap.example.com), the timeout shortened,
# secrets get the rigs' values, and the test adds three variables no
# recipe sets: the two CA files and a 1 s poll.  Nothing else reaches
# greenlight: a recipe that forgets the mailbox, its login or the sender
# fails here (exit 2, or no mail).
# Real: aiosmtpd, dovecot (IMAPS), gitlab-ci-local, groovy, the gate.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/imap_lib.sh"
need "$NODE_BIN/gitlab-ci-local" "npm gitlab-ci-local"
command -v groovy >/dev/null || { echo "FAIL: groovy is missing; run scripts/setup-deps.sh"; exit 1; }
$PY -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing; run scripts/setup-deps.sh"; exit 1; }
find_java
start_dovecot || { finish; exit 1; }
start_mail_rig

# the rigs' values, then nothing from them left in the environment: only
# what a recipe passes reaches greenlight
export SNIP_SMTP_USER=$GREENLIGHT_SMTP_USER SNIP_SMTP_PASSWORD=$GREENLIGHT_SMTP_PASSWORD
export SNIP_IMAP_USER=$GREENLIGHT_IMAP_USER SNIP_IMAP_PASSWORD=$GREENLIGHT_IMAP_PASSWORD
RIG_SMTP=$GREENLIGHT_SMTP RIG_IMAP=$GREENLIGHT_IMAP
TEST_ONLY=("GREENLIGHT_SMTP_CA_FILE=$GREENLIGHT_SMTP_CA_FILE" "GREENLIGHT_IMAP_CA_FILE=$GREENLIGHT_IMAP_CA_FILE" "GREENLIGHT_POLL=1s")
unset GREENLIGHT_SMTP GREENLIGHT_SMTP_USER GREENLIGHT_SMTP_PASSWORD GREENLIGHT_SMTP_CA_FILE \
	GREENLIGHT_IMAP GREENLIGHT_IMAP_USER GREENLIGHT_IMAP_PASSWORD GREENLIGHT_IMAP_CA_FILE GREENLIGHT_LISTEN

# snip FILE NAME: the recipe with the example hosts pointed at the rigs
snip() {
	$PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/$1" "$2" | sed \
		-e "s#smtp://mail\.example\.com:587#$RIG_SMTP#g" \
		-e "s#imaps://imap\.example\.com/INBOX#$RIG_IMAP#g" \
		-e "s#--timeout [0-9]h#--timeout 60s#g"
}

# fixtures DIR LATENCY REVIEWER: a gate with no mail settings of its own
# (the recipe brings them) and results that need REVIEWER's review
fixtures() {
	mkdir -p "$1"
	cat >"$1/greenlight.json" <<'JSON'
{
  "version": 1,
  "name": "model-release",
  "choices": [
    { "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "engineering" }
  ],
  "default": "pass",
  "teams": { "engineering": { "email": ["REVIEWER"] } }
}
JSON
	sed -i "s/REVIEWER/$3/" "$1/greenlight.json"
	echo "{\"accuracypct\": 99, \"latencyMs\": $2}" >"$1/results.json"
}

# reply_case REVIEWER VERDICT CMD...: run CMD in the background, answer
# the request it mails to REVIEWER with VERDICT, and return CMD's status.
# Each adapter has its own reviewer, so the three run at once.
reply_case() {
	local who=$1 verdict=$2 n pid
	shift 2
	n=$(mail_count_to "$who")
	"$@" &
	pid=$!
	for _ in $(seq 300); do
		[ "$(mail_count_to "$who")" -gt "$n" ] && break
		sleep 0.1
	done
	if [ "$(mail_count_to "$who")" -le "$n" ]; then
		ko "no request mail to $who"
		kill "$pid"
		wait "$pid"
		return 99
	fi
	reply "$(request_to "$who")" --from "$who" --body "$verdict" >/dev/null
	wait "$pid"
}

# ---- GitHub: the action's step ----------------------------------------------
snip docs/ci/github.md github-mail >"$TMP/github-mail.yml"
# the step as gha_harness.py options, one a line; ${{ secrets.X }} from $SNIP_X
$PY - "$TMP/github-mail.yml" >"$TMP/github-mail.args" <<'PYEOF'
import os, re, sys, yaml
step = yaml.safe_load(open(sys.argv[1]))[0]
sub = lambda v: re.sub(r"\$\{\{ secrets\.(\w+) \}\}", lambda m: os.environ["SNIP_" + m.group(1)], str(v))
for k, v in step["with"].items():
    print("--with\n%s=%s" % (k, sub(v)))
for k, v in step["env"].items():
    print("--env\n%s=%s" % (k, sub(v)))
PYEOF
mapfile -t ghargs <"$TMP/github-mail.args"
for v in "${TEST_ONLY[@]}"; do ghargs+=(--env "$v"); done
github() { # github WORKSPACE REPORT
	gha "$2" --workspace "$1" --path "$GLDIR:/usr/bin:/bin" "${ghargs[@]}"
}

# ---- GitLab: the job extending the template ----------------------------------
gvars=(--variable "GREENLIGHT_BIN=$GREENLIGHT")
for v in SMTP_USER SMTP_PASSWORD IMAP_USER IMAP_PASSWORD; do
	val=SNIP_$v
	gvars+=(--variable "GREENLIGHT_$v=${!val}")	# masked project variables
done
for v in "${TEST_ONLY[@]}"; do gvars+=(--variable "$v"); done
mkdir -p "$TMP/home"
gitlab() { # gitlab REPO LOG: the pipeline of the template and the recipe's job
	cp "$SRCDIR/adapters/gitlab/greenlight.gitlab-ci.yml" "$1/"
	{ printf 'include:\n  - local: greenlight.gitlab-ci.yml\n\n'; snip docs/ci/gitlab.md gitlab-mail; } >"$1/.gitlab-ci.yml"
	git -C "$1" init -q -b main
	git -C "$1" -c user.name=Ada -c user.email=ada@example.com add -A
	git -C "$1" -c user.name=Ada -c user.email=ada@example.com commit -q -m pipeline
	(cd "$1" && HOME=$TMP/home "$NODE_BIN/gitlab-ci-local" --shell-isolation \
		--no-artifacts-to-source --no-color "${gvars[@]}" gate >"$2" 2>&1)
}
status() { sed -n "s/^ \(PASS\|WARN\|FAIL\)  $1\( .*\)\{0,1\}\$/\1/p" "$2"; }

# ---- Jenkins: the Gate stage ---------------------------------------------------
snip docs/ci/jenkins.md jenkins-mail >"$TMP/jenkins-mail.groovy"
# its environment block as NAME=VALUE lines (credentials('id') from $SNIP_*),
# and its greenlight call as pipeline code
$PY - "$TMP/jenkins-mail.groovy" "$TMP/jenkins.env" "$TMP/jenkins-call.groovy" <<'PYEOF'
import os, re, sys
text = open(sys.argv[1]).read()
block = re.search(r"environment \{(.*?)\n\s*\}", text, re.S).group(1)
creds = {"greenlight-smtp-password": "SNIP_SMTP_PASSWORD", "greenlight-imap-password": "SNIP_IMAP_PASSWORD"}
out = []
for line in block.split("\n"):
    line = re.sub(r"^\s*//.*|(?<=[')])\s+//.*", "", line).strip()
    if not line:
        continue
    m = re.fullmatch(r"(\w+) = (?:'([^']*)'|credentials\('([^']*)'\))", line)
    if not m:
        sys.exit("cannot read %r" % line)
    out.append("%s=%s" % (m.group(1), m.group(2) if m.group(2) is not None else os.environ[creds[m.group(3)]]))
open(sys.argv[2], "w").write("\n".join(out) + "\n")
call = re.search(r"^\s*(greenlight results:.*?'\s*)$", text, re.S | re.M).group(1)
open(sys.argv[3], "w").write(call.strip() + "\n")
PYEOF
check "jenkins-mail: the stage's environment and call were read" test -s "$TMP/jenkins-call.groovy"
mapfile -t jenv <"$TMP/jenkins.env"
jenkins() { # jenkins FIXTURES OUT
	env "${jenv[@]}" "${TEST_ONLY[@]}" PATH="$GLDIR:$PATH" groovy "$SRCDIR/tests/adapters/jenkins_step_test.groovy" \
		"$SRCDIR/adapters/jenkins/vars/greenlight.groovy" "$1" "$1-work" "$GREENLIGHT" \
		"$TMP/jenkins-call.groovy" >"$2" 2>&1
}

# ---- the three at once: approve, then reject ----------------------------------
gh=gh@example.com gl=gl@example.com jk=jk@example.com
fixtures "$TMP/gh1" 301 $gh; fixtures "$TMP/gl1" 303 $gl; fixtures "$TMP/jk1" 305 $jk
reply_case $gh "approve: looks fine" github "$TMP/gh1" "$TMP/gh1.json" & p1=$!
reply_case $gl "approve" gitlab "$TMP/gl1" "$TMP/gcl-approve.log" & p2=$!
reply_case $jk "approve" jenkins "$TMP/jk1" "$TMP/j-approve.log" & p3=$!
wait $p1 $p2 $p3
eq "github approve: conclusion" "$(jqr "$TMP/gh1.json" .conclusion)" success
eq "github approve: outcome" "$(jqr "$TMP/gh1.json" .outputs.outcome)" approved
eq "github approve: approvers" "$(jqr "$TMP/gh1.json" .outputs.approvers)" $gh
eq "gitlab approve: job passes" "$(status gate "$TMP/gcl-approve.log")" PASS
eq "gitlab approve: decision record" "$(jq -r .outcome "$TMP/gl1/.gitlab-ci-local/artifacts/gate/greenlight-decision.json")" approved
has "jenkins approve: build SUCCESS" "$TMP/j-approve.log" "build SUCCESS"

fixtures "$TMP/gh2" 302 $gh; fixtures "$TMP/gl2" 304 $gl; fixtures "$TMP/jk2" 306 $jk
reply_case $gh "reject: too slow" github "$TMP/gh2" "$TMP/gh2.json" & p1=$!
reply_case $gl "reject" gitlab "$TMP/gl2" "$TMP/gcl-reject.log" & p2=$!
reply_case $jk "reject: no" jenkins "$TMP/jk2" "$TMP/j-reject.log" & p3=$!
wait $p1 $p2 $p3
eq "github reject: conclusion" "$(jqr "$TMP/gh2.json" .conclusion)" failure
eq "github reject: outcome and exit code" "$(jqr "$TMP/gh2.json" '.outputs.outcome + " " + .outputs["exit-code"]')" "rejected 1"
eq "gitlab reject: job fails" "$(status gate "$TMP/gcl-reject.log")" FAIL
eq "gitlab reject: decision record" "$(jq -r .outcome "$TMP/gl2/.gitlab-ci-local/artifacts/gate/greenlight-decision.json")" rejected
has "jenkins reject: the step fails the build (exit 1)" "$TMP/j-reject.log" "exit 1"
has "jenkins reject: build FAILURE" "$TMP/j-reject.log" "build FAILURE"

[ "$failed" -eq 0 ] || for f in "$TMP"/gcl-*.log "$TMP"/j-*.log "$TMP"/gh?.json.err "$TMP/jenkins-call.groovy"; do echo "--- $f"; tail -n 30 "$f"; done
finish
