# t0010-import-sfn.sh - `greenlight import-sfn`: the seed's state machine
# becomes a gate that decides as examples/seed/greenlight.json does; what a
# gate cannot express is refused with one line and exit 2.
. "$(dirname "$0")/lib.sh"
SFN="$SRCDIR/tests/cli/sfn/seed-state-machine.json"
G="$SEED/greenlight.json"

# --- the seed definition
expect 0 "seed imports" -- "$GREENLIGHT" import-sfn "$SFN" \
	--team research=research@example.com --team engineering=engineering@example.com -o "$TMP/seed.json"
empty_err
has "rules copied, Next mapped to a team" "$TMP/seed.json" '"Next": "engineering"'
has "Default mapped to pass" "$TMP/seed.json" '"default": "pass"'
has "named after the Comment" "$TMP/seed.json" '"name": "Model release gate: route a slow'
expect 0 "the imported gate validates" -- "$GREENLIGHT" validate -g "$TMP/seed.json"
grep_out "2 rules, 2 teams, match first"

for r in slow inaccurate-and-slow good missing-accuracy; do
	"$GREENLIGHT" check -g "$G" -r "$SEED/$r.json" >"$TMP/want.out" 2>/dev/null
	want=$?
	"$GREENLIGHT" check -g "$TMP/seed.json" -r "$SEED/$r.json" >"$TMP/got.out" 2>/dev/null
	got=$?
	eq "$r: exit code as with the seed gate" "$got" "$want"
	eq "$r: outcome as with the seed gate" "$(grep '^outcome:' "$TMP/got.out")" "$(grep '^outcome:' "$TMP/want.out")"
done
expect 5 "slow -> review engineering" -- "$GREENLIGHT" check -g "$TMP/seed.json" -r "$SEED/slow.json"
grep_out "outcome: review - notify engineering (engineering@example.com"
expect 5 "inaccurate -> review research" -- "$GREENLIGHT" check -g "$TMP/seed.json" -r "$SEED/inaccurate-and-slow.json"
grep_out "outcome: review - notify research (research@example.com"
expect 0 "good -> pass" -- "$GREENLIGHT" check -g "$TMP/seed.json" -r "$SEED/good.json"

# deterministic, 2-space indent, stdout and -o agree
expect 0 "seed to stdout" -- "$GREENLIGHT" import-sfn "$SFN" \
	--team research=research@example.com --team engineering=engineering@example.com
check "stdout is the same as -o" cmp -s "$out" "$TMP/seed.json"
has "2-space indent" "$TMP/seed.json" '
  "version": 1,'
"$GREENLIGHT" import-sfn "$SFN" --team engineering=engineering@example.com \
	--team research=research@example.com >"$TMP/again.json" 2>/dev/null
check "the same gate whatever the order of --team" cmp -s "$TMP/again.json" "$TMP/seed.json"

# the example in docs/import-sfn.md is what the command prints
expect 0 "the documented example" -- "$GREENLIGHT" import-sfn "$SFN" --team research=research@example.com \
	--team engineering=engineering@example.com --name model-release
sed -n '/--name model-release$/,/^```$/p' "$SRCDIR/docs/import-sfn.md" | sed '1d;$d' >"$TMP/doc.json"
check "docs/import-sfn.md shows the command's output" cmp -s "$out" "$TMP/doc.json"

# team_alias is an address: it names the team and is its address
expect 0 "seed without --team uses team_alias addresses" -- "$GREENLIGHT" import-sfn "$SFN"
grep_out '"research@example.com"'
empty_err
expect 0 "--name overrides the Comment" -- "$GREENLIGHT" import-sfn "$SFN" --name model-release
grep_out '"name": "model-release"'
expect 0 "several addresses" -- "$GREENLIGHT" import-sfn "$SFN" --team research=a@example.com,b@example.com
grep_out '"b@example.com"'
no_out '"research@example.com"'

# --- hand-made definitions
def() { printf '%s\n' "$2" >"$TMP/$1"; echo "$TMP/$1"; }
WAIT='"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken"'
OK='"Ok":{"Type":"Succeed"},"No":{"Type":"Fail"}'
RULE='{"Variable":"$.a","NumericLessThan":1,"Next":'

f=$(def notify.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"Review"}],"Default":"No"},"Review":{'"$WAIT"',"Next":"Ok","Catch":[{"ErrorEquals":["States.ALL"],"Next":"No"}]},'"$OK"'}}')
expect 0 "team named after the state, placeholder address" -- "$GREENLIGHT" import-sfn "$f"
grep_out '"Next": "Review"'
grep_out '"default": "fail"'
grep_out '"Review@example.invalid"'
grep_err 'warning: team "Review" has no address; wrote the placeholder Review@example.invalid: give it with --team Review=ADDR'
one_line_err
grep_out '"name": "notify"'
expect 0 "--team fills the placeholder" -- "$GREENLIGHT" import-sfn "$f" --team Review=rev@example.com
grep_out '"rev@example.com"'
empty_err
expect 2 "--team for a team no state maps to" -- "$GREENLIGHT" import-sfn "$f" --team Reveiw=rev@example.com
grep_err 'no state of .* maps to team "Reveiw"; did you mean "Review"'
one_line_err
expect 2 "--team with a bad address" -- "$GREENLIGHT" import-sfn "$f" --team Review=not-an-address
grep_err '"not-an-address" is not a valid address'
one_line_err
expect 2 "--team without =" -- "$GREENLIGHT" import-sfn "$f" --team Review
grep_err 'write NAME=ADDR'
one_line_err

f=$(def default.json '{"Comment":"d","StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"No"}],"Default":"Wait1"},"Wait1":{"Type":"Wait","Seconds":5,"Next":"Ok"},'"$OK"'}}')
expect 0 "Default through a Wait to Succeed" -- "$GREENLIGHT" import-sfn "$f"
grep_out '"default": "pass"'
grep_out '"Next": "fail"'
grep_err 'state "Wait1" (Wait) is skipped'
one_line_err

f=$(def nodefault.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"No"}]},'"$OK"'}}')
expect 0 "no Default: the gate has none" -- "$GREENLIGHT" import-sfn "$f"
no_out '"default"'
grep_err 'state "Ok" (Succeed) is not imported'

f=$(def parallel.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"P"}],"Default":"Ok"},"P":{"Type":"Parallel","Branches":[],"Next":"Ok"},'"$OK"'}}')
expect 2 "Parallel target" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'parallel.json:1:[0-9]*: state "P" is a Parallel state; a gate has no branches'
one_line_err
no_out .

f=$(def map.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"Ok"}],"Default":"M"},"M":{"Type":"Map","ItemProcessor":{},"End":true},'"$OK"'}}')
expect 2 "Map target (as the Default)" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'state "M" is a Map state'
one_line_err

f=$(def nested.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"C2"}],"Default":"Ok"},"C2":{"Type":"Choice","Choices":[{"Variable":"$.b","IsPresent":true,"Next":"No"}],"Default":"Ok"},'"$OK"'}}')
expect 2 "nested Choice" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'state "C2" is a nested Choice, which a gate cannot express directly; merge its rules into "C"'
one_line_err

f=$(def plaintask.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"Deploy"}],"Default":"Ok"},"Deploy":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"Ok"},'"$OK"'}}')
expect 2 "target is a Task that does not notify and wait" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'state "Deploy" is a Task that does not wait for a decision (Resource arn:aws:states:::lambda:invoke)'
one_line_err

f=$(def badapprove.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"R"}],"Default":"Ok"},"R":{'"$WAIT"',"Next":"No"},'"$OK"'}}')
expect 2 "approval that leads to Fail" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'approving in state "R" does not lead to a Succeed state'
one_line_err

f=$(def badcatch.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"R"}],"Default":"Ok"},"R":{'"$WAIT"',"Next":"Ok","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Ok"}]},'"$OK"'}}')
expect 2 "rejection that leads to Succeed" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'a Catch of state "R" does not lead to a Fail state'
one_line_err

f=$(def pass.json '{"StartAt":"Prep","States":{"Prep":{"Type":"Pass","Next":"C"},"C":{"Type":"Choice","Choices":['"$RULE"'"No"}],"Default":"Ok"},"Extra":{"Type":"Pass","End":true},'"$OK"'}}')
expect 0 "Pass before the Choice is skipped, an unused state named" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'state "Prep" (Pass) is skipped'
grep_err 'state "Extra" (Pass) is not imported'

f=$(def passparams.json '{"StartAt":"Prep","States":{"Prep":{"Type":"Pass","Result":{"a":0},"Next":"C"},"C":{"Type":"Choice","Choices":['"$RULE"'"No"}],"Default":"Ok"},'"$OK"'}}')
expect 2 "Pass that changes the Choice's input" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'state "Prep" (Pass) before the Choice changes its input with Result'
one_line_err

f=$(def taskfirst.json '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:x","Next":"C"},"C":{"Type":"Choice","Choices":['"$RULE"'"No"}],"Default":"Ok"},'"$OK"'}}')
expect 2 "Task before the Choice" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'state "T" (Task) comes before the first Choice'
one_line_err

f=$(def nochoice.json '{"StartAt":"Ok",'"$(printf '"States":{%s}' "$OK")"'}')
expect 2 "no Choice reachable" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'nochoice.json:1:12: no Choice state is reachable from StartAt ("Ok" is a Succeed state)'
one_line_err

f=$(def nostart.json '{"States":{"C":{"Type":"Choice","Choices":['"$RULE"'"Ok"}]},"Ok":{"Type":"Succeed"}}}')
expect 2 "missing StartAt" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'nostart.json:1:1: the definition has no "StartAt" string'
one_line_err

f=$(def badstart.json '{"StartAt":"Cx","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"Ok"}]},"Ok":{"Type":"Succeed"}}}')
expect 2 "StartAt names no state" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'badstart.json:1:12: "Cx" names no state in States'
one_line_err

f=$(def badnext.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":['"$RULE"'"Gone"}]},"Ok":{"Type":"Succeed"}}}')
expect 2 "Next names no state" -- "$GREENLIGHT" import-sfn "$f"
grep_err '"Gone" names no state in States'
one_line_err

f=$(def badrule.json '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericLessThen":1,"Next":"Ok"}]},"Ok":{"Type":"Succeed"}}}')
expect 2 "a rule the gate cannot load" -- "$GREENLIGHT" import-sfn "$f"
grep_err 'badrule.json:1:[0-9]*: Choice "C": Choices\[0\].*unknown operator "NumericLessThen"; did you mean "NumericLessThan"'
one_line_err

f=$(def bad.json '{"StartAt": "C",
  "States": {,}}')
expect 2 "bad JSON: file:line:col" -- "$GREENLIGHT" import-sfn "$f"
grep_err "bad.json:2:14: "
one_line_err
no_out .

head -c 1100000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
echo '{}' >>"$TMP/big.json"
expect 2 "definition over the size cap" -- "$GREENLIGHT" import-sfn "$TMP/big.json"
grep_err "larger than 1048576 bytes"
one_line_err

expect_stdin 0 "definition on stdin" "$(cat "$SFN")" -- "$GREENLIGHT" import-sfn -
grep_out '"name": "Model release gate'
expect 2 "no file" -- "$GREENLIGHT" import-sfn
grep_err "name the state machine definition"
one_line_err
expect 2 "unreadable file" -- "$GREENLIGHT" import-sfn "$TMP/nope.json"
grep_err "cannot read"
one_line_err
expect 0 "help" -- "$GREENLIGHT" help import-sfn
grep_out "usage: greenlight import-sfn FILE"

finish
