# t0008-terminal-escapes.sh - text from results (values and keys) and from
# the gate never reaches a terminal, a CI log, an annotation, the step
# summary, JUnit or dotenv with raw control or bidi characters: C0, DEL,
# C1 (U+0085 here) and bidi controls (U+202E, U+2066 here) are shown as
# \uXXXX escapes.  decision.json stays JSON.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
RLO=$(printf '\342\200\256')	# U+202E RIGHT-TO-LEFT OVERRIDE
NEL=$(printf '\302\205')	# U+0085 NEXT LINE
LRI=$(printf '\342\201\246')	# U+2066 LEFT-TO-RIGHT ISOLATE
no_file() { # no_file FILE BYTES DESCRIPTION
	if grep -q -- "$2" "$1"; then current=$3; ko "$1 has raw bytes"; else ok; fi
}
has_file() { # has_file FILE TEXT DESCRIPTION
	if grep -qF -- "$2" "$1"; then ok; else current=$3; ko "$1 lacks: $2"; fi
}
raw_free() { # raw_free FILE WHAT
	no_file "$1" "$RLO" "$2: no raw U+202E"
	no_file "$1" "$NEL" "$2: no raw U+0085"
	no_file "$1" "$LRI" "$2: no raw U+2066"
}
cat >"$TMP/r.json" <<'JSON'
{ "name": "\u202eexe.txt", "nel": "a\u0085b", "\u2066key": "v\u0007", "n": 1 }
JSON
g=$(gate g.json '{"version":1,"name":"esc\u202egate","default":"pass","match":"all","choices":[
  {"Variable":"$.name","StringEquals":"x","Next":"fail"},
  {"Variable":"$.nel","StringEquals":"a\u0085b","Next":"fail"},
  {"Variable":"$[\u0027\u2066key\u0027]","IsString":true,"Next":"fail"}]}')

expect 1 "check shows escaped values" -- env GREENLIGHT_CI=github GITHUB_ACTIONS=true \
	GITHUB_STEP_SUMMARY="$TMP/summary.md" GITHUB_OUTPUT="$TMP/gh_output" \
	"$GREENLIGHT" check -g "$g" -r "$TMP/r.json" --junit "$TMP/junit.xml" -o "$TMP/decision.json"
grep_out '"\\u202eexe.txt"'
grep_out '"a\\u0085b"'
grep_out "\\\\u2066key"
grep_out '"v\\u0007"'
grep_out "esc\\\\u202egate"
raw_free "$out" "stdout (the table)"
grep_err '::error .*title=greenlight esc\\u202egate::.*"a\\u0085b"'
raw_free "$err" "stderr (the annotation)"
has_file "$TMP/junit.xml" '\u202eexe.txt' "JUnit shows the escaped value"
has_file "$TMP/junit.xml" 'a\u0085b' "JUnit shows the escaped C1 value"
raw_free "$TMP/junit.xml" "JUnit"
has_file "$TMP/summary.md" 'u202eexe.txt' "summary shows the escaped value"
has_file "$TMP/summary.md" 'a&#92;u0085b' "summary shows the escaped C1 value"
raw_free "$TMP/summary.md" "step summary"
expect 0 "decision.json is still JSON" -- python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["rules"][1]["tests"][0]["value"] == "a\x85b"' "$TMP/decision.json"

expect 1 "dotenv escapes the gate name" -- env GREENLIGHT_CI=gitlab GITLAB_CI=true \
	GREENLIGHT_DOTENV="$TMP/gl.env" "$GREENLIGHT" check -g "$g" -r "$TMP/r.json"
has_file "$TMP/gl.env" 'GREENLIGHT_GATE_NAME=esc\u202egate' "dotenv shows the escaped gate name"
raw_free "$TMP/gl.env" "dotenv"

expect 0 "validate escapes the gate name" -- "$GREENLIGHT" validate -g "$g"
grep_out 'gate "esc\\u202egate"'
raw_free "$out" "validate"

g=$(gate p.json '{"version":1,"name":"p","default":"pass","choices":[
  {"Variable":"$.n","NumericGreaterThanPath":"$.nel","Next":"fail"}]}')
expect 2 "a diagnostic quoting a value escapes it" -- "$GREENLIGHT" check -g "$g" -r "$TMP/r.json"
grep_err '"a\\u0085b"'
raw_free "$err" "stderr"
one_line_err
finish
