# lib.sh - tiny harness for black-box CLI tests (sourced by tNNNN-*.sh,
# which run under sh).  tests/lib.sh gives $TMP, ok/ko/check/eq/has/hasnt
# and finish; this adds:
#
# Each case is `expect CODE DESCRIPTION -- COMMAND...`: it runs the command,
# captures stdout/stderr into $out/$err, and checks the exit code.  Follow
# with `grep_out`/`grep_err` assertions.  A failure names the case and shows
# the captured output.  The script exits non-zero if any assertion failed
# and prints "N passed, N failed".
#   expect CODE DESCRIPTION -- CMD...        run CMD with no input
#   expect_stdin CODE DESCRIPTION INPUT -- CMD...   with INPUT on stdin
#   grep_out / grep_err PATTERN   stdout / stderr matches PATTERN (grep)
#   no_out PATTERN                stdout does not match PATTERN
#   empty_err                     nothing on stderr
#   one_line_err                  exactly one line on stderr
#   gate NAME JSON                write a gate file into $TMP, print its path
#   $SEED                         examples/seed in the source tree
. "${SRCDIR:?set SRCDIR to the source tree}/tests/lib.sh"
SEED="$SRCDIR/examples/seed"
out="$TMP/stdout"
err="$TMP/stderr"

ko_hook() {
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
