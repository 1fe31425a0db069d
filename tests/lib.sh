# tests/lib.sh - the shell test library under every test directory.
#
# A test script sources its own directory's lib.sh (tests/cli/lib.sh,
# tests/integration/lib.sh or relay_lib.sh, tests/adapters/lib.sh); each of
# those sources this file first, then adds only what its tests need.  Plain
# POSIX sh: the CLI tests run under sh (dash), the others under bash.
# Sourcing it twice (a test that uses two directories' libraries) is harmless:
# the second time does nothing.
#
# Sourcing it:
#   - turns on `set -u`, and stops unless GREENLIGHT (the binary under test)
#     and SRCDIR (the source tree) are set;
#   - unsets every variable through which an outer CI (GitHub Actions,
#     GitLab, Jenkins) or a greenlight setting could change what greenlight
#     does, so the suite behaves the same inside a CI as on a workstation;
#   - makes a scratch directory $TMP and sets the counters to 0.
#
# Variables
#   TMP                 scratch directory, removed with its contents on exit
#   PIDS                background processes to stop on exit: after starting
#                       one, add it with PIDS="$PIDS $!"
#   passed, failed      how many assertions passed and failed so far
#   current             optional name of the case being checked; when it is
#                       not empty, FAIL lines start with it (the CLI's
#                       `expect` sets it)
#
# Functions
#   ok                          count a passed assertion
#   ko MESSAGE...               count a failed one: print
#                               "FAIL: [$current: ]MESSAGE", then run
#                               ko_hook MESSAGE...
#   ko_hook MESSAGE...          does nothing here; a directory's lib.sh
#                               redefines it to print more on every failure
#                               (the CLI's captured output, the gate's
#                               gl.out/gl.err in integration tests)
#   check DESCRIPTION CMD...    run CMD; ok if it exits 0, else ko DESCRIPTION
#   eq DESCRIPTION GOT WANT     ok if the two strings are equal, else ko
#                               naming both
#   has DESCRIPTION FILE TEXT   ok if FILE contains TEXT (a fixed string, not
#                               a pattern), else ko
#   hasnt DESCRIPTION FILE TEXT ok if FILE does not contain TEXT, else ko
#   finish                      print "N passed, N failed"; its status is 0
#                               only if nothing failed, so a test script ends
#                               with it
#   cleanup                     the EXIT trap: kill each process in $PIDS,
#                               wait for the shell's children, remove $TMP

[ -z "${GL_TESTLIB_SOURCED:-}" ] || return 0
GL_TESTLIB_SOURCED=1

set -u
: "${GREENLIGHT:?set GREENLIGHT to the binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"

# the suite must behave the same inside a CI: nothing from an outer CI or an
# outer greenlight configuration may change what greenlight detects or does
unset GITHUB_ACTIONS GITHUB_OUTPUT GITHUB_STEP_SUMMARY GITHUB_ENV GITHUB_PATH \
	GITLAB_CI CI_PROJECT_DIR JENKINS_URL BUILD_TAG BUILD_URL \
	GREENLIGHT_CI GREENLIGHT_JUNIT GREENLIGHT_DOTENV GREENLIGHT_TRIGGERED_BY \
	GREENLIGHT_RUN_URL GREENLIGHT_GATE GREENLIGHT_RESULTS GREENLIGHT_OUTPUT \
	GREENLIGHT_PUBLIC_URL GREENLIGHT_RELAY_TOKENS GREENLIGHT_RELAY_TOKENS_FILE \
	GREENLIGHT_RELAY_DB GREENLIGHT_RELAY_LISTEN GREENLIGHT_RELAY_PUBLIC_URL

TMP=$(mktemp -d)
PIDS=""
cleanup() {
	for _gl_pid in $PIDS; do kill "$_gl_pid" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

passed=0
failed=0
current=""

ok() { passed=$((passed + 1)); }
ko() {
	failed=$((failed + 1))
	echo "FAIL: ${current:+$current: }$*"
	ko_hook "$@"
}
ko_hook() { :; }

# check DESCRIPTION COMMAND...
check() {
	_gl_what=$1
	shift
	if "$@"; then ok; else ko "$_gl_what"; fi
}
# eq DESCRIPTION GOT WANT
eq() {
	if [ "$2" = "$3" ]; then ok; else ko "$1: got '$2', want '$3'"; fi
}
# has DESCRIPTION FILE TEXT
has() {
	if grep -qF -- "$3" "$2"; then ok; else ko "$1: $2 lacks '$3'"; fi
}
# hasnt DESCRIPTION FILE TEXT
hasnt() {
	if grep -qF -- "$3" "$2"; then ko "$1: $2 has '$3'"; else ok; fi
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
