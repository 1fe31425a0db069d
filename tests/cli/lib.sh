# lib.sh - tiny harness for black-box CLI tests (sourced by tNNNN-*.sh).
#
# Each case is `expect CODE DESCRIPTION -- COMMAND...`: it runs the command,
# captures stdout/stderr into $out/$err, and checks the exit code.  Follow
# with `grep_out`/`grep_err` assertions.  The script exits non-zero if any
# assertion failed and prints "N passed, N failed".
set -u
: "${GREENLIGHT:?set GREENLIGHT to the binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"
# the suite must behave the same inside a CI: no provider outputs from it
unset GITHUB_ACTIONS GITHUB_OUTPUT GITHUB_STEP_SUMMARY GITLAB_CI CI_PROJECT_DIR \
	JENKINS_URL BUILD_URL GREENLIGHT_CI GREENLIGHT_JUNIT GREENLIGHT_DOTENV \
	GREENLIGHT_TRIGGERED_BY GREENLIGHT_RUN_URL
SEED="$SRCDIR/examples/seed"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
out="$TMP/stdout"
err="$TMP/stderr"
passed=0
failed=0
current=""

ok() { passed=$((passed + 1)); }
ko() {
	failed=$((failed + 1))
	echo "FAIL: $current: $*" >&2
	echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; echo "---"
}

# expect CODE DESCRIPTION -- CMD ARGS...
expect() {
	code=$1; current=$2; shift 3
	"$@" >"$out" 2>"$err" </dev/null
	rc=$?
	if [ "$rc" -eq "$code" ]; then ok; else ko "exit $rc, expected $code"; fi
}

# expect_stdin CODE DESCRIPTION INPUT -- CMD ARGS...
expect_stdin() {
	code=$1; current=$2; input=$3; shift 4
	printf '%s' "$input" | "$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" -eq "$code" ]; then ok; else ko "exit $rc, expected $code"; fi
}

grep_out() { if grep -q -- "$1" "$out"; then ok; else ko "stdout lacks: $1"; fi; }
grep_err() { if grep -q -- "$1" "$err"; then ok; else ko "stderr lacks: $1"; fi; }
no_out() { if grep -q -- "$1" "$out"; then ko "stdout has: $1"; else ok; fi; }
empty_err() { if [ -s "$err" ]; then ko "stderr not empty"; else ok; fi; }
one_line_err() {
	n=$(wc -l <"$err")
	if [ "$n" -eq 1 ]; then ok; else ko "stderr has $n lines, expected 1"; fi
}

# gate NAME JSON: write a gate file into $TMP and print its path
gate() { printf '%s\n' "$2" >"$TMP/$1"; echo "$TMP/$1"; }

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
