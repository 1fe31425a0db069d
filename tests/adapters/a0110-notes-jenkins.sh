# a0110-notes-jenkins.sh - the Jenkins step's baselineNotes under Debian
# groovy with the stubs of jenkins_step_test.groovy (pipeline code calling
# the step, as a Jenkinsfile does), against a bare repository as origin:
# the scenario of notes_scenario (lib.sh), docs/ci/jenkins.md's
# jenkins-baseline-notes call as written, a bad baselineNotes value, and
# the library resource the step runs is adapters/notes.sh, byte for byte.
. "$(dirname "$0")/lib.sh"
command -v groovy >/dev/null || { echo "FAIL: groovy is missing; run scripts/setup-deps.sh"; exit 1; }
find_java

check "resources/greenlight/notes.sh is adapters/notes.sh" \
	cmp "$SRCDIR/adapters/notes.sh" "$SRCDIR/adapters/jenkins/resources/greenlight/notes.sh"

mkdir -p "$TMP/nofixtures" "$TMP/jw"
# jk_call CLONE LOG CODE: run pipeline CODE in CLONE with the step; the
# step's and its sh steps' output to LOG
jk_call() {
	printf '%s\n' "$3" >"$TMP/call.groovy"
	GL_SNIPPET_WS=$1 GL_SNIPPET_LOG=1 groovy "$SRCDIR/tests/adapters/jenkins_step_test.groovy" \
		"$SRCDIR/adapters/jenkins/vars/greenlight.groovy" "$TMP/nofixtures" "$TMP/jw" "$GREENLIGHT" \
		"$TMP/call.groovy" >"$2" 2>&1
}
jk_notes() { # CLONE RESULTS OPT-IN LOG
	jk_call "$1" "$4" "def gate = greenlight(bin: '$GLWRAP', command: 'check', gate: 'gate.json',
    results: '$2', baselineNotes: '$3', propagate: false)
echo \"exit \${gate.exitCode}\""
	sed -n 's/^echo: exit //p' "$4"
}
notes_scenario jk_notes

# docs/ci/jenkins.md's call as written: greenlight on PATH, greenlight.json
# and results.json (passing) in the workspace
mkdir -p "$TMP/docfix"
cp "$NOTES/seed/gate.json" "$TMP/docfix/greenlight.json"
cp "$NOTES/seed/fast.json" "$TMP/docfix/results.json"
before=$(git --git-dir="$NOTES/origin.git" rev-parse refs/notes/greenlight)
git clone -q --depth 1 "file://$NOTES/origin.git" "$NOTES/doc"
$PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/docs/ci/jenkins.md" jenkins-baseline-notes >"$TMP/doc.groovy" ||
	ko "docs/ci/jenkins.md: snippet jenkins-baseline-notes"
GL_SNIPPET_WS=$NOTES/doc GL_SNIPPET_LOG=1 PATH="$GLDIR:$PATH" groovy "$SRCDIR/tests/adapters/jenkins_step_test.groovy" \
	"$SRCDIR/adapters/jenkins/vars/greenlight.groovy" "$TMP/docfix" "$TMP/jw" "$GREENLIGHT" \
	"$TMP/doc.groovy" >"$TMP/doc.log" 2>&1
has "jenkins-baseline-notes: inside withCredentials" "$TMP/doc.log" "withCredentials: [[binding:gitUsernamePassword, credentialsId:git-push"
has "jenkins-baseline-notes: fetched" "$TMP/doc.log" "fetched refs/notes/greenlight from origin"
has "jenkins-baseline-notes: passed" "$TMP/doc.log" "echo: greenlight: pass"
has "jenkins-baseline-notes: pushed" "$TMP/doc.log" "baseline notes: pushed refs/notes/greenlight"
has "jenkins-baseline-notes: build SUCCESS" "$TMP/doc.log" "build SUCCESS"
check "jenkins-baseline-notes: origin moved" test "$(git --git-dir="$NOTES/origin.git" rev-parse refs/notes/greenlight)" != "$before"
[ "$failed" -eq 0 ] || cat "$TMP/doc.log"

jk_call "$NOTES/a" "$TMP/bad.log" "greenlight(bin: '$GLWRAP', command: 'check', gate: 'gate.json', results: 'fast.json', baselineNotes: 'yes')"
has "bad baselineNotes: refused" "$TMP/bad.log" "error: greenlight: baselineNotes must be true, false or 'fetch', not 'yes'"
has "bad baselineNotes: build fails" "$TMP/bad.log" "build FAILURE"

finish
