# t0003-gate-errors.sh - every class of gate file error: one line, a
# position, what is wrong and what would be valid; exit 2.
. "$(dirname "$0")/lib.sh"

RULE='{"Variable":"$.a","NumericLessThan":1,"Next":"fail"}'
bad() {
	# bad DESCRIPTION PATTERN GATE-JSON
	f=$(gate g.json "$3")
	expect 2 "$1" -- "$GREENLIGHT" validate -g "$f"
	grep_err "$2"
	one_line_err
}

bad "syntax error has line:col" "g.json:3:1: unexpected end of input" '{"version": 1,
"name": "x",'
bad "trailing comma" "g.json:1:38: trailing comma" '{"version":1,"name":"x","choices":[],}'
bad "not an object" "g.json:1:1: a gate file is a JSON object" '[1]'
bad "unknown top-level key" 'g.json:1:25: unknown key "chioces" in the gate; did you mean "choices"' '{"version":1,"name":"x","chioces":[]}'
bad "keys are case-sensitive" 'unknown key "Choices"' '{"version":1,"name":"x","Choices":['"$RULE"']}'
bad "missing version" 'no "version"; add "version": 1' '{"name":"x","choices":['"$RULE"']}'
bad "wrong version" 'unsupported version' '{"version":2,"name":"x","choices":['"$RULE"']}'
bad "name wrong type" "name must be a string, not a number" '{"version":1,"name":5,"choices":['"$RULE"']}'
bad "missing choices" 'no "choices"' '{"version":1,"name":"x"}'
bad "empty choices" "choices must be a non-empty array" '{"version":1,"name":"x","choices":[]}'
bad "bad match" 'match is "any"; valid values: first, all' '{"version":1,"name":"x","match":"any","choices":['"$RULE"']}'
bad "unknown operator" 'g.json:1:[0-9]*: choices\[0\]' '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThen":1,"Next":"fail"}]}'
bad "two operators" 'choices\[0\]' '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":1,"NumericGreaterThan":0,"Next":"fail"}]}'
bad "operand of the wrong type" 'choices\[0\]' '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":"96","Next":"fail"}]}'
bad "bad path" 'choices\[0\]' '{"version":1,"name":"x","choices":[{"Variable":"$.a[*]","NumericLessThan":1,"Next":"fail"}]}'
bad "nested Next" 'choices\[0\].Not' '{"version":1,"name":"x","choices":[{"Not":{"Variable":"$.a","NumericLessThan":1,"Next":"fail"},"Next":"fail"}]}'
bad "Next names nothing" 'g.json:1:[0-9]*: choices\[0\].Next names unknown outcome "reserch"; did you mean "research"' '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":1,"Next":"reserch"}],"teams":{"research":{"email":["r@example.com"]}}}'
bad "default names nothing" 'default names unknown outcome "ok"' '{"version":1,"name":"x","choices":['"$RULE"'],"default":"ok"}'
bad "team without addresses" "teams.r.email must be a non-empty array" '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":1,"Next":"r"}],"teams":{"r":{"email":[]}}}'
bad "team with an invalid address" 'teams.r.email\[1\] is not a valid address' '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":1,"Next":"r"}],"teams":{"r":{"email":["a@example.com","not an address"]}}}'
bad "address with CR/LF" 'is not a valid address' '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":1,"Next":"r"}],"teams":{"r":{"email":["a@example.com\r\nBcc: x@evil"]}}}'
bad "impossible quorum" "approvals is 2 but the team lists only 1 address" '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":1,"Next":"r"}],"teams":{"r":{"email":["a@example.com"],"approvals":2}}}'
bad "approvals not a whole number" "approvals must be a whole number" '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":1,"Next":"r"}],"teams":{"r":{"email":["a@example.com"],"approvals":1.5}}}'
bad "team called pass" 'invalid team name "pass"' '{"version":1,"name":"x","choices":['"$RULE"'],"teams":{"pass":{"email":["a@example.com"]}}}'
bad "unknown team key" 'unknown key "emails" in teams.r; did you mean "email"' '{"version":1,"name":"x","choices":[{"Variable":"$.a","NumericLessThan":1,"Next":"r"}],"teams":{"r":{"emails":["a@example.com"]}}}'
bad "duplicate key" 'g.json:1:25: duplicate key "name"' '{"version":1,"name":"x","name":"y","choices":['"$RULE"']}'
bad "secret in the file" "password_env must name an environment variable" '{"version":1,"name":"x","choices":['"$RULE"'],"notify":{"password_env":"hunter2!"}}'
bad "bad tls" 'notify.tls is "ssl"; valid values: starttls, none' '{"version":1,"name":"x","choices":['"$RULE"'],"notify":{"tls":"ssl"}}'
bad "bad timeout" 'decision.timeout is "1 day"; write a duration' '{"version":1,"name":"x","choices":['"$RULE"'],"decision":{"timeout":"1 day"}}'
bad "leading zero in the gate" "leading zero" '{"version":01,"name":"x","choices":['"$RULE"']}'
bad "backslash in a .name step" "g.json:1:[0-9]*: choices\\[0\\].Variable: .* is not allowed in a .name step (after \"\$.a\").*write \$\['a.b'\]" '{"version":1,"name":"x","choices":[{"Variable":"$.a\\.b","NumericLessThan":1,"Next":"fail"}]}'

# positions count lines and columns
f=$(gate multi.json '{
  "version": 1,
  "name": "x",
  "choices": [
    { "Variable": "$.a", "NumericLessThan": 1, "Next": "nowhere" }
  ]
}')
expect 2 "position of a bad Next" -- "$GREENLIGHT" validate -g "$f"
grep_err "multi.json:5:56: choices\[0\].Next names unknown outcome \"nowhere\""

# a warning is not an error
f=$(gate warn.json '{"version":1,"name":"x","choices":['"$RULE"'],"teams":{"idle":{"email":["i@example.com"]}}}')
expect 0 "unused team is a warning" -- "$GREENLIGHT" validate -g "$f"
grep_err 'warning: team "idle" is never named'

# size cap
head -c 1100000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
echo '{}' >>"$TMP/big.json"
expect 2 "gate file over the cap" -- "$GREENLIGHT" validate -g "$TMP/big.json"
grep_err "larger than 1048576 bytes"

finish
