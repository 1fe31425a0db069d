# t0001-seed.sh - the seed scenario: each input and its verdict.
. "$(dirname "$0")/lib.sh"
G="$SEED/greenlight.json"
A="$SEED/greenlight-all.json"

expect 5 "slow model -> engineering" -- "$GREENLIGHT" check -g "$G" -r "$SEED/slow.json"
grep_out "outcome: review - notify engineering (engineering@example.com"
grep_out "choices\[1\] .*\$.latencyMs > 80 .*225 .*yes .*engineering"
grep_out "choices\[0\] .*\$.accuracypct < 96 .*100 .*no .*research"
empty_err

expect 5 "inaccurate and slow, first match -> research" -- "$GREENLIGHT" check -g "$G" -r "$SEED/inaccurate-and-slow.json"
grep_out "outcome: review - notify research (research@example.com"
no_out "notify.*engineering"
grep_out "choices\[1\] .*skipped"

expect 5 "inaccurate and slow, match all -> research + engineering" -- "$GREENLIGHT" check -g "$A" -r "$SEED/inaccurate-and-slow.json"
grep_out "notify research (research@example.com; 1 approval), engineering (engineering@example.com"

expect 0 "good model -> pass" -- "$GREENLIGHT" check -g "$G" -r "$SEED/good.json"
grep_out "outcome: pass (no rule fired; default)"

expect 0 "good model, match all -> pass" -- "$GREENLIGHT" check -g "$A" -r "$SEED/good.json"

expect 2 "missing accuracy -> bad input naming the path" -- "$GREENLIGHT" check -g "$G" -r "$SEED/missing-accuracy.json"
grep_err "missing-accuracy.json: choices\[0\]: .*\$.accuracypct"
one_line_err

expect 2 "missing accuracy under match all" -- "$GREENLIGHT" check -g "$A" -r "$SEED/missing-accuracy.json"
grep_err "\$.accuracypct"

expect 5 "default results file from the gate" -- "$GREENLIGHT" check -g "$G"
grep_out "results $SEED/results.json"

expect 5 "results from stdin" -- sh -c "'$GREENLIGHT' check -g '$G' -r - < '$SEED/slow.json'"
grep_out "results stdin"

expect 5 "json output" -- "$GREENLIGHT" check --json -g "$G" -r "$SEED/slow.json"
grep_out '"outcome":[[:space:]]*"review"'
grep_out '"exit_code":[[:space:]]*5'
grep_out '"threshold":[[:space:]]*80'
grep_out '"value":[[:space:]]*225'
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["teams"][0]["name"]=="engineering"; assert [r["fired"] for r in d["rules"]]==[False,True]' "$out" && ok || ko "json record shape"

expect 5 "decision record written with --output" -- "$GREENLIGHT" check -g "$G" -r "$SEED/slow.json" -o "$TMP/decision.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["outcome"]=="review"' "$TMP/decision.json" && ok || ko "decision.json"
[ -z "$(ls "$TMP" | grep '\.tmp\.')" ] && ok || ko "temporary file left behind"

expect 5 "GREENLIGHT_GATE and GREENLIGHT_RESULTS" -- env GREENLIGHT_GATE="$G" GREENLIGHT_RESULTS="$SEED/slow.json" "$GREENLIGHT" check
expect 0 "flag wins over env" -- env GREENLIGHT_RESULTS="$SEED/slow.json" "$GREENLIGHT" check -g "$G" -r "$SEED/good.json"

finish
