# lib.sh - shared by the CI adapter tests (tests/adapters/a*.sh), sourced by bash.
#
# tests/lib.sh gives each test a scratch directory ($TMP), an environment
# with no CI variables leaking in from whatever runs the suite, and the
# assertions (ok/ko/check/eq/has/hasnt) that count and print
# "N passed, N failed" at the end (finish).  This adds the tool paths (npm
# binaries from the repository's node_modules, Debian's python3 and groovy)
# and helpers:
#   $PY, $NODE_BIN, $GLDIR     python3, node_modules/.bin, greenlight's directory
#   need PATH WHAT             stop the test unless PATH exists
#   gha REPORT [options]       run action.yml under gha_harness.py
#   jqr FILE FILTER            raw jq output
#   write_fail_gate FILE       a gate whose first rule fails the release
#   find_java                  export JAVA_HOME for groovy
# A missing tool is a failure with a message naming the setup step (the
# README's test command installs all of them), never a silent skip.
. "${SRCDIR:?set SRCDIR to the source tree}/tests/lib.sh"
PY=/usr/bin/python3
NODE_BIN=$SRCDIR/node_modules/.bin
GLDIR=$(cd "$(dirname "$GREENLIGHT")" && pwd)

need() { # need PATH WHAT
	if [ ! -e "$1" ]; then
		echo "FAIL: $2 is missing ($1); run scripts/setup-deps.sh"
		exit 1
	fi
}

# gha REPORT [harness options]: run action.yml under tests/adapters/gha_harness.py
gha() {
	local report=$1
	shift
	$PY "$SRCDIR/tests/adapters/gha_harness.py" "$SRCDIR" "$@" >"$report" 2>"$report.err"
	local rc=$?
	[ "$rc" -eq 0 ] || { echo "harness exit $rc:"; cat "$report.err"; }
	return "$rc"
}
# jqr FILE FILTER: raw jq output
jqr() { jq -r "$2" "$1"; }

# gate files used by several tests
write_fail_gate() { # a gate whose first rule fails the release
	cat >"$1" <<'JSON'
{
  "version": 1,
  "name": "model-release",
  "results": "results.json",
  "choices": [
    { "Variable": "$.accuracypct", "NumericLessThan": 50, "Next": "fail" },
    { "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "engineering" }
  ],
  "default": "pass",
  "teams": { "engineering": { "email": ["engineering@example.com"] } }
}
JSON
}

# find_java: JAVA_HOME for groovy (Debian's OpenJDK 17, the default JVM, or
# the java on PATH), exported
find_java() {
	if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ]; then
		for j in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/default-java; do
			[ -x "$j/bin/java" ] && { JAVA_HOME=$j; break; }
		done
		[ -n "${JAVA_HOME:-}" ] || JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
	fi
	export JAVA_HOME
}
