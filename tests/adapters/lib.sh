# lib.sh - shared by the CI adapter tests (tests/adapters/a*.sh), sourced by bash.
#
# Gives each test a scratch directory, an environment with no CI variables
# leaking in from whatever runs the suite, the tool paths (npm binaries from
# the repository's node_modules, Debian's python3 and groovy), and
# assertions that count and print "N passed, N failed" at the end.
# A missing tool is a failure with a message naming the setup step (the
# README's test command installs all of them), never a silent skip.
set -u
: "${GREENLIGHT:?set GREENLIGHT to the binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"
PY=/usr/bin/python3
NODE_BIN=$SRCDIR/node_modules/.bin
GLDIR=$(cd "$(dirname "$GREENLIGHT")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

# nothing from an outer CI may change what greenlight detects
unset GITHUB_ACTIONS GITHUB_OUTPUT GITHUB_STEP_SUMMARY GITHUB_ENV GITHUB_PATH \
	GITLAB_CI CI_PROJECT_DIR JENKINS_URL BUILD_TAG BUILD_URL GREENLIGHT_CI \
	GREENLIGHT_GATE GREENLIGHT_RESULTS GREENLIGHT_OUTPUT GREENLIGHT_JUNIT \
	GREENLIGHT_DOTENV GREENLIGHT_TRIGGERED_BY GREENLIGHT_RUN_URL

ok() { passed=$((passed + 1)); }
ko() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok; else ko "$what"; fi
}
# eq DESCRIPTION GOT WANT
eq() {
	if [ "$2" = "$3" ]; then ok; else ko "$1: got '$2', want '$3'"; fi
}
# has DESCRIPTION FILE TEXT (fixed string)
has() {
	if grep -qF -- "$3" "$2"; then ok; else ko "$1: $2 lacks '$3'"; fi
}
hasnt() {
	if grep -qF -- "$3" "$2"; then ko "$1: $2 has '$3'"; else ok; fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

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
