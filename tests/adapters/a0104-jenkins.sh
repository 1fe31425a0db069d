# a0104-jenkins.sh - the Jenkins shared-library step under Debian groovy.
# tests/adapters/jenkins_step_test.groovy loads adapters/jenkins/vars/
# greenlight.groovy with stubs for sh, withEnv, junit, archiveArtifacts,
# readFile, error and unstable, and runs it against the real binary (pass,
# fail, review, bad input, infrastructure (4) then timed out (3) on the same
# request, propagate: false, hostile arguments, who triggered the build) and
# against a stand-in binary for the mapping of every exit code.
. "$(dirname "$0")/lib.sh"
command -v groovy >/dev/null || { echo "FAIL: groovy is missing; run scripts/setup-deps.sh"; exit 1; }
find_java

FIX=$TMP/fixtures
mkdir -p "$FIX" "$TMP/work"
cp "$SRCDIR/examples/seed/greenlight.json" "$SRCDIR/examples/seed/good.json" \
	"$SRCDIR/examples/seed/slow.json" "$FIX/"
write_fail_gate "$FIX/fail-gate.json"
echo '{"accuracypct": 12, "latencyMs": 10}' >"$FIX/bad.json"
cat >"$FIX/fake-greenlight" <<'SH'
#!/bin/sh
# stand-in: exits with $FAKE_CODE after writing the dotenv file like greenlight
printf 'GREENLIGHT_OUTCOME=fake\nGREENLIGHT_EXIT_CODE=%s\n' "$FAKE_CODE" >"$GREENLIGHT_DOTENV"
exit "$FAKE_CODE"
SH
chmod +x "$FIX/fake-greenlight"

groovy "$SRCDIR/tests/adapters/jenkins_step_test.groovy" \
	"$SRCDIR/adapters/jenkins/vars/greenlight.groovy" "$FIX" "$TMP/work" "$GREENLIGHT"
