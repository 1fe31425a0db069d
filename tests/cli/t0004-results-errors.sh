# t0004-results-errors.sh - what greenlight accepts as results, and the
# one-line error (file:line:col) for everything it does not.
. "$(dirname "$0")/lib.sh"
G="$SEED/greenlight.json"

res() { printf '%b' "$2" >"$TMP/$1"; echo "$TMP/$1"; }
bad() {
	# bad DESCRIPTION PATTERN CONTENT (printf %b escapes)
	f=$(res r.json "$3")
	expect 2 "$1" -- "$GREENLIGHT" check -g "$G" -r "$f"
	grep_err "$2"
	one_line_err
}

bad "syntax error" "r.json:2:14: unexpected '}'" '{"accuracypct":100,\n"latencyMs": }'
bad "trailing data" "r.json:1:36: trailing data after the JSON value" '{"accuracypct":100,"latencyMs":10} {}'
bad "empty file" "r.json:1:1: empty document" ''
bad "leading zero" "r.json:1:16: number with a leading zero" '{"accuracypct":0100,"latencyMs":10}'
bad "non-finite number" "r.json:1:16: number 1e999 is out of range" '{"accuracypct":1e999,"latencyMs":10}'
bad "NaN is not JSON" "r.json:1:16: unexpected 'N'" '{"accuracypct":NaN,"latencyMs":10}'
bad "raw control character" "raw control character U+0009" '{"accuracypct":100,"latencyMs":10,"note":"a\tb"}'
bad "invalid UTF-8" "invalid UTF-8 (byte 0xFF)" '{"accuracypct":100,"latencyMs":10,"note":"\0377"}'
bad "overlong UTF-8" "invalid UTF-8 (byte 0xC0)" '{"accuracypct":100,"latencyMs":10,"note":"\0300\0257"}'
bad "lone surrogate" "lone high surrogate" '{"accuracypct":100,"latencyMs":10,"note":"\\ud800"}'
bad "NUL escape" "u0000 is not supported" '{"accuracypct":100,"latencyMs":10,"note":"\\u0000"}'
bad "duplicate key a rule reads" "r.json:1:20: duplicate key \"accuracypct\"" '{"accuracypct":100,"accuracypct":50,"latencyMs":10}'
bad "over-long number" "number longer than 63 characters" '{"accuracypct":1000000000000000000000000000000000000000000000000000000000000000000,"latencyMs":10}'
bad "single quotes" "unexpected byte 0x27\|unexpected" "{'accuracypct':100}"
deep=$(python3 -c 'print("["*600 + "]"*600)')
bad "too deep" "nesting deeper than 512 levels" "$deep"

# accepted
f=$(res ok.json '\0357\0273\0277{"accuracypct":99,"latencyMs":10,"dup":1,"dup":2,"note":"caf\0303\0251 \\u00e9"}')
expect 0 "BOM, UTF-8, escapes; duplicates the rules do not read" -- "$GREENLIGHT" check -g "$G" -r "$f"
f=$(res exp.json '{"accuracypct":9.9e1,"latencyMs":1E1}')
expect 0 "exponents" -- "$GREENLIGHT" check -g "$G" -r "$f"
grep_out "99"

# type mismatch is "not fired", never coercion
f=$(res str.json '{"accuracypct":"50","latencyMs":10}')
expect 0 "numeric string does not fire NumericLessThan" -- "$GREENLIGHT" check -g "$G" -r "$f"
grep_out '"50" *no'

# size cap
f=$(res cap.json '{"accuracypct":99,"latencyMs":10}')
expect 2 "results over --max-results-bytes" -- "$GREENLIGHT" check -g "$G" -r "$f" --max-results-bytes 10
grep_err "larger than 10 bytes; raise the limit with --max-results-bytes"
one_line_err
expect_stdin 2 "stdin over the cap" '{"accuracypct":99,"latencyMs":10}' -- "$GREENLIGHT" check -g "$G" -r - --max-results-bytes 10
grep_err "stdin: results are larger than 10 bytes"
expect 2 "env cap" -- env GREENLIGHT_MAX_RESULTS_BYTES=10 "$GREENLIGHT" check -g "$G" -r "$f"

# no rule matched and no default: States.NoChoiceMatched
g=$(gate nodefault.json '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":1,"Next":"fail"}]}')
f=$(res a.json '{"a":5}')
expect 2 "no match without default" -- "$GREENLIGHT" check -g "$g" -r "$f"
grep_err "no rule matched and the gate has no \"default\" (States.NoChoiceMatched)"
one_line_err

finish
