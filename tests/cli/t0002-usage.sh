# t0002-usage.sh - commands, help, version and usage errors.
. "$(dirname "$0")/lib.sh"

expect 0 "--version" -- "$GREENLIGHT" --version
grep_out "^greenlight [0-9][0-9.]*$"

expect 0 "help" -- "$GREENLIGHT" help
grep_out "check"
grep_out "validate"
expect 0 "help check" -- "$GREENLIGHT" help check
grep_out "usage: greenlight check"
expect 0 "check --help" -- "$GREENLIGHT" check --help
grep_out "max-results-bytes"
expect 0 "validate -h" -- "$GREENLIGHT" validate -h
grep_out "usage: greenlight validate"

expect 2 "no command" -- "$GREENLIGHT"
grep_err "usage: greenlight"
expect 2 "unknown command" -- "$GREENLIGHT" frobnicate
grep_err "'frobnicate' is not a greenlight command"
one_line_err
expect 2 "help for unknown command" -- "$GREENLIGHT" help frobnicate
expect 2 "unknown option" -- "$GREENLIGHT" check --frob
expect 2 "stray argument" -- "$GREENLIGHT" check -g "$SEED/greenlight.json" extra
grep_err "unexpected argument 'extra'"
expect 2 "bad --max-results-bytes" -- "$GREENLIGHT" check --max-results-bytes lots
grep_err "is not a size"
expect 2 "bad GREENLIGHT_MAX_RESULTS_BYTES" -- env GREENLIGHT_MAX_RESULTS_BYTES=x "$GREENLIGHT" check -g "$SEED/greenlight.json"
grep_err "GREENLIGHT_MAX_RESULTS_BYTES"

expect 2 "gate file missing" -- "$GREENLIGHT" check -g "$TMP/nope.json"
grep_err "cannot read gate file '$TMP/nope.json': No such file"
one_line_err
expect 2 "default gate file missing" -- sh -c "cd '$TMP' && '$GREENLIGHT' validate"
grep_err "greenlight.json"
expect 2 "results missing" -- "$GREENLIGHT" check -g "$SEED/greenlight.json" -r "$TMP/none.json"
grep_err "cannot read results '$TMP/none.json'"

expect 0 "validate seed" -- "$GREENLIGHT" validate -g "$SEED/greenlight.json"
grep_out "ok: gate \"model-release\", 2 rules, 2 teams, match first"

if [ -w /dev/full ]; then
	expect 4 "stdout write failure" -- sh -c "'$GREENLIGHT' check -g '$SEED/greenlight.json' -r '$SEED/good.json' > /dev/full"
	grep_err "cannot write to standard output"
fi
expect 4 "--output into a missing directory" -- "$GREENLIGHT" check -g "$SEED/greenlight.json" -r "$SEED/good.json" -o "$TMP/no/such/dir/d.json"
grep_err "cannot create"

finish
