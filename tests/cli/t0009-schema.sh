# t0009-schema.sh - the JSON Schema (schema/greenlight.schema.json) and
# greenlight agree on what a gate file is (tests/cli/schema_parity.py, with
# Debian's python3-jsonschema), and a gate's "$schema" key is accepted and
# ignored.
. "$(dirname "$0")/lib.sh"
: >"$out"; : >"$err"
PY=/usr/bin/python3

current="python3-jsonschema"
if $PY -c 'from jsonschema import Draft202012Validator' 2>/dev/null; then ok; else
	ko "Debian's python3-jsonschema (with Draft202012Validator) is missing; run scripts/setup-deps.sh"
fi

current="schema parity"
if TMP="$TMP" $PY "$SRCDIR/tests/cli/schema_parity.py"; then ok; else ko "see the FAIL lines above"; fi

# "$schema" in a gate: ignored by validate and check, but it must be a string
RULE='{"Variable":"$.latencyMs","NumericGreaterThan":80,"Next":"fail"}'
f=$(gate s.json '{"$schema":"../schema/greenlight.schema.json","version":1,"name":"x","choices":['"$RULE"'],"default":"pass"}')
expect 0 "validate accepts \$schema" -- "$GREENLIGHT" validate -g "$f"
empty_err
expect 1 "check evaluates a gate with \$schema" -- "$GREENLIGHT" check -g "$f" -r "$SEED/slow.json"
grep_out "outcome: fail"
f=$(gate n.json '{"$schema":{"url":"x"},"version":1,"name":"x","choices":['"$RULE"']}')
expect 2 "\$schema must be a string" -- "$GREENLIGHT" validate -g "$f"
grep_err 'n.json:1:12: the gate.\$schema must be a string, not an object'
one_line_err

finish
