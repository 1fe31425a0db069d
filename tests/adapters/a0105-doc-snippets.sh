# a0105-doc-snippets.sh - the copy-paste snippets that set up mail, run as
# the docs show them (taken from their <!-- snippet: NAME --> markers by
# tests/adapters/snippet.py), through a real review: SMTP rig with STARTTLS
# and AUTH required (tests/integration/lib.sh), a `greenlight relay` on
# loopback, approval on the review page the mail links to.
#   readme-github     README.md, GitHub action, listen mode (gha_harness.py)
#   github-listen     docs/ci/github.md, the self-hosted job's gate step,
#                     listen mode (harness; the job's other steps, checkout
#                     and download-artifact, are not run: the test makes the
#                     repository and its results itself)
#   github-relay      docs/ci/github.md, GitHub action, relay mode (harness)
#   gitlab-relay      docs/ci/gitlab.md, the template's command line
#   jenkins-pipeline  docs/ci/jenkins.md, the Gate stage's environment and args
# Only the example hosts are pointed at the stand-ins (mail.example.com,
# relay.example.com, gate.example.com, the listen address, the state path),
# secrets get the rig's values, and the test adds three variables no
# snippet sets: the rig's CA file, the listen address and a short send
# timeout.  A snippet that forgets the server, the sender or the user fails
# here: the mail never arrives (exit 4) or the settings are refused (exit 2).
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/lib.sh"
$PY -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing; run scripts/setup-deps.sh"; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq is missing; run scripts/setup-deps.sh"; exit 1; }
command -v openssl >/dev/null || { echo "FAIL: openssl is missing; run scripts/setup-deps.sh"; exit 1; }

start_smtp
RELAY_TOKEN=relay-secret-token-0001
GATE_SECRET=$(openssl rand -base64 48 | tr -d '\n')
RPORT=$(free_port)
GREENLIGHT_RELAY_TOKENS=$RELAY_TOKEN "$GREENLIGHT" relay --listen "127.0.0.1:$RPORT" \
	--db "$TMP/relay.db" >"$TMP/relay.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && break; sleep 0.05; done
# values of the secrets the snippets name
export SNIP_SMTP_USER=$GREENLIGHT_SMTP_USER SNIP_SMTP_PASSWORD=$GREENLIGHT_SMTP_PASSWORD
export SNIP_RELAY_TOKEN=$RELAY_TOKEN SNIP_GATE_SECRET=$GATE_SECRET
# what greenlight would find in the CI, not set by any snippet
TEST_ONLY="GREENLIGHT_SMTP_CA_FILE GREENLIGHT_LISTEN GREENLIGHT_SEND_TIMEOUT"
NMAIL=0

# snippet FILE NAME: the snippet with the example hosts pointed at the
# stand-ins ($LPORT: the gate's own review page in listen mode)
snippet() {
	$PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/$1" "$2" | sed \
		-e "s#smtp://mail\.example\.com:587#$GREENLIGHT_SMTP#g" \
		-e "s#https://relay\.example\.com#http://127.0.0.1:$RPORT#g" \
		-e "s#https://gate\.example\.com#http://127.0.0.1:$LPORT#g" \
		-e "s#0\.0\.0\.0:8080#127.0.0.1:$LPORT#g" \
		-e "s#/var/lib/greenlight/state\.db#$WORK/state.db#g"
}

# approve NAME: the gate started in the background mails one reviewer;
# approve through the link and wait for it (sets RC)
approve() {
	NMAIL=$((NMAIL + 1))
	if wait_mail "$((BASE + 1))"; then
		eq "$1: approve on the linked page" "$(decide "$(mail_link "$((BASE + 1))")" approve "from the docs")" 200
	else
		kill "$GL_PID" 2>/dev/null
	fi
	wait_gl
}

new_work() { # new_work NAME: a repository whose results need a review
	WORK=$TMP/$1
	make_repo "$WORK"
	git -C "$WORK" commit -q --allow-empty -m "$1"	# its own request
	LPORT=$(free_port)
	BASE=$(mail_count)	# messages before this gate's
}

# ---- GitHub: the action's step, run by the harness ---------------------------
# harness_args FILE: the step that uses the action, as gha_harness.py
# options (NUL-separated); ${{ secrets.X }} from $SNIP_X
harness_args() {
	$PY - "$1" "$TEST_ONLY" <<'PYEOF'
import os, re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
if isinstance(doc, dict) and all(isinstance(j, dict) and "steps" in j for j in doc.values()):
    steps = [s for j in doc.values() for s in j["steps"]]	# jobs
else:
    steps = doc if isinstance(doc, list) else [doc]
step = [s for s in steps if str(s.get("uses", "")).startswith("your-org/greenlight@")]
if len(step) != 1:
    sys.exit("expected one step using your-org/greenlight, found %d" % len(step))
step = step[0]
def value(v):
    def secret(m):
        name = "SNIP_" + re.sub(r"^GREENLIGHT_", "", m.group(1))
        if name not in os.environ:
            sys.exit("no test value for secrets.%s" % m.group(1))
        return os.environ[name]
    v = re.sub(r"\$\{\{\s*secrets\.([A-Z_]+)\s*\}\}", secret, str(v))
    if "${{" in v:
        sys.exit("unexpected expression in %r" % v)
    return v
out = []
for k, v in (step.get("with") or {}).items():
    out += ["--with", "%s=%s" % (k, value(v))]
for k, v in (step.get("env") or {}).items():
    if k in sys.argv[2].split():
        sys.exit("the snippet sets %s, which the test sets itself" % k)
    out += ["--env", "%s=%s" % (k, value(v))]
sys.stdout.write("\0".join(out) + "\0")
PYEOF
}

github_snippet() { # github_snippet FILE NAME
	local args=() R
	new_work "$2"
	snippet "$1" "$2" >"$TMP/$2.yml"
	if ! harness_args "$TMP/$2.yml" >"$TMP/$2.args"; then
		ko "$2: cannot read the snippet's step"
		return
	fi
	mapfile -d '' args <"$TMP/$2.args"
	R=$TMP/$2.json
	$PY "$SRCDIR/tests/adapters/gha_harness.py" "$SRCDIR" --workspace "$WORK" \
		--path "$GLDIR:/usr/bin:/bin" "${args[@]}" \
		--env "GREENLIGHT_SMTP_CA_FILE=$GREENLIGHT_SMTP_CA_FILE" \
		--env "GREENLIGHT_LISTEN=127.0.0.1:$LPORT" --env GREENLIGHT_SEND_TIMEOUT=5s \
		>"$R" 2>"$R.err" &
	GL_PID=$!
	PIDS="$PIDS $GL_PID"
	approve "$2"
	eq "$2: harness" "$RC" 0
	eq "$2: outcome" "$(jqr "$R" .outputs.outcome)" approved
	eq "$2: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 0
	[ "$(jqr "$R" .outputs.outcome)" = approved ] ||
		{ jqr "$R" '.annotations[]?.message'; cat "$R.err"; }
}

github_snippet README.md readme-github
github_snippet docs/ci/github.md github-relay
github_snippet docs/ci/github.md github-listen

# ---- GitLab: the template's command line with the job's variables -----------
# The template runs `"$GREENLIGHT_BIN" "$GREENLIGHT_COMMAND" $GREENLIGHT_ARGS`
# with globbing off; the masked project variables the snippet's comment
# names get their secrets.
new_work gitlab-relay
snippet docs/ci/gitlab.md gitlab-relay >"$TMP/gitlab.yml"
$PY - "$TMP/gitlab.yml" "$TEST_ONLY" >"$TMP/gitlab.env" <<'PYEOF'
import os, re, sys, yaml
text = open(sys.argv[1]).read()
job = yaml.safe_load(text)["gate"]
env = {k: str(v) for k, v in job.get("variables", {}).items()}
masked = re.findall(r"\bGREENLIGHT_[A-Z_]+\b", "\n".join(l for l in text.split("\n") if l.strip().startswith("#")))
for name in masked:
    env[name] = os.environ["SNIP_" + name[len("GREENLIGHT_"):]]
for k in env:
    if k in sys.argv[2].split():
        sys.exit("the snippet sets %s, which the test sets itself" % k)
sys.stdout.write("".join("%s=%s\0" % kv for kv in env.items()))
PYEOF
[ -s "$TMP/gitlab.env" ] || ko "gitlab-relay: cannot read the snippet"
mapfile -d '' genv <"$TMP/gitlab.env"
(cd "$WORK" && exec env -i PATH=/usr/bin:/bin HOME="$TMP" GITLAB_CI=true CI_PROJECT_DIR="$WORK" \
	"${genv[@]}" GREENLIGHT_BIN="$GREENLIGHT" GREENLIGHT_COMMAND=run \
	GREENLIGHT_SMTP_CA_FILE="$GREENLIGHT_SMTP_CA_FILE" GREENLIGHT_SEND_TIMEOUT=5s \
	sh -c 'set -f; "$GREENLIGHT_BIN" "$GREENLIGHT_COMMAND" $GREENLIGHT_ARGS' \
	>"$WORK/gl.out" 2>"$WORK/gl.err") &
GL_PID=$!
PIDS="$PIDS $GL_PID"
approve gitlab-relay
eq "gitlab-relay: exit" "$RC" 0

# ---- Jenkins: the Gate stage's environment {} and the step's args -----------
new_work jenkins-pipeline
snippet docs/ci/jenkins.md jenkins-pipeline >"$TMP/Jenkinsfile"
$PY - "$TMP/Jenkinsfile" "$TEST_ONLY" >"$TMP/jenkins.env" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
stage = text[text.index("stage('Gate')"):text.index("stage('Deploy')")]
block = re.search(r"environment \{(.*?)\n\s*\}", stage, re.S).group(1)
secrets = {"greenlight-smtp-password": "SNIP_SMTP_PASSWORD", "greenlight-smtp-user": "SNIP_SMTP_USER"}
import os
out = []
for line in block.split("\n"):
    line = re.sub(r"^\s*//.*|(?<=[')])\s+//.*", "", line).strip()
    if not line:
        continue
    m = re.fullmatch(r"(\w+) = (?:'([^']*)'|credentials\('([^']*)'\))", line)
    if not m:
        sys.exit("cannot read %r" % line)
    if m.group(1) in sys.argv[2].split():
        sys.exit("the snippet sets %s, which the test sets itself" % m.group(1))
    out.append("%s=%s" % (m.group(1), m.group(2) if m.group(3) is None else os.environ[secrets[m.group(3)]]))
call = re.search(r"greenlight results: '([^']*)',\s*args: '([^']*)'", stage)
out += ["GL_RESULTS=" + call.group(1), "GL_ARGS=" + call.group(2)]
sys.stdout.write("\0".join(out) + "\0")
PYEOF
[ -s "$TMP/jenkins.env" ] || ko "jenkins-pipeline: cannot read the snippet"
mapfile -d '' jenv <"$TMP/jenkins.env"
(cd "$WORK" && exec env -i PATH=/usr/bin:/bin HOME="$TMP" JENKINS_URL=https://ci.example.com/ \
	"${jenv[@]}" GREENLIGHT_SMTP_CA_FILE="$GREENLIGHT_SMTP_CA_FILE" GREENLIGHT_SEND_TIMEOUT=5s \
	sh -c 'set -f; exec "$0" run -r "$GL_RESULTS" $GL_ARGS' "$GREENLIGHT" \
	>"$WORK/gl.out" 2>"$WORK/gl.err") &
GL_PID=$!
PIDS="$PIDS $GL_PID"
approve jenkins-pipeline
eq "jenkins-pipeline: exit" "$RC" 0

# every message: logged in as the snippet's user, sent from its sender
eq "mails: each logged in, from the docs' sender" \
	"$(cat "$MAILDIR"/*.json | jq -r '.auth_login + " " + .mail_from' | sort | uniq -c | sed 's/^ *//')" \
	"$NMAIL greenlight greenlight@example.com"
finish
