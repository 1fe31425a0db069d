# a0110-notes-jenkins.sh - the Jenkins step's baselineNotes under Debian
# groovy with the stubs of jenkins_step_test.groovy (pipeline code calling
# the step, as a Jenkinsfile does), against a bare repository as origin:
# the scenario of notes_scenario (lib.sh), a bad baselineNotes value, and
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

jk_call "$NOTES/a" "$TMP/bad.log" "greenlight(bin: '$GLWRAP', command: 'check', gate: 'gate.json', results: 'fast.json', baselineNotes: 'yes')"
has "bad baselineNotes: refused" "$TMP/bad.log" "error: greenlight: baselineNotes must be true, false or 'fetch', not 'yes'"
has "bad baselineNotes: build fails" "$TMP/bad.log" "build FAILURE"

finish
