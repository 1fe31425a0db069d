# a0101-github-action.sh - action.yml and the example workflows, offline.
#   1. @action-validator/cli accepts action.yml, adapters/github/*.yml and
#      .github/workflows/*.yml,
#      and rejects a broken copy (the validator is really checking);
#   2. no `${{ }}` in any run: script, inputs reach scripts only via env:;
#   3. the composite action run by tests/adapters/gha_harness.py with
#      greenlight on PATH: pass, fail, review (check), bad input, and
#      hostile inputs that a shell would have executed or globbed;
#   4. without greenlight on PATH and no release to install from (the
#      action used as uses: ./): built from source, saved to the cache,
#      restored from it on the next run.
# The release .deb path, OS support and version checks: a0106-github-package.sh.
. "$(dirname "$0")/lib.sh"
need "$NODE_BIN/action-validator" "npm @action-validator/cli"
$PY -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing; run scripts/setup-deps.sh"; exit 1; }

# ---- 1. schema validation ------------------------------------------------
for f in "$SRCDIR/action.yml" "$SRCDIR"/adapters/github/*.yml "$SRCDIR"/.github/workflows/*.yml; do
	check "action-validator accepts ${f#"$SRCDIR"/}" "$NODE_BIN/action-validator" "$f"
done
mkdir -p "$TMP/broken"
sed 's/using: composite/using: compositee/' "$SRCDIR/action.yml" >"$TMP/broken/action.yml"
if "$NODE_BIN/action-validator" "$TMP/broken/action.yml" >/dev/null 2>&1; then
	ko "action-validator accepted runs.using: compositee"
else
	ok
fi

# ---- 2. expressions never reach a shell -----------------------------------
lint() {
	$PY - "$@" <<'PYEOF'
import sys, yaml
bad = []
def steps_of(doc):
    if "runs" in doc:
        yield "action", doc["runs"].get("steps", [])
    for name, job in (doc.get("jobs") or {}).items():
        yield name, job.get("steps", [])
for path in sys.argv[1:]:
    doc = yaml.safe_load(open(path))
    for job, steps in steps_of(doc):
        for i, st in enumerate(steps):
            run = st.get("run", "")
            if "${{" in run:
                bad.append("%s: %s step %d: expression in run:" % (path, job, i))
            if "INPUT_" in run:
                bad.append("%s: %s step %d: INPUT_* does not exist in composite actions" % (path, job, i))
            if "run" in st and st.get("shell") is None and job == "action":
                bad.append("%s: step %d: composite run steps need shell:" % (path, i))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PYEOF
}
check "no expressions in run: scripts" lint "$SRCDIR/action.yml" "$SRCDIR"/adapters/github/*.yml "$SRCDIR"/.github/workflows/*.yml
printf 'name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo "${{ inputs.gate }}"\n' >"$TMP/broken/action.yml"
if lint "$TMP/broken/action.yml" >/dev/null; then ko "lint missed \${{ }} in run:"; else ok; fi

# ---- 3. the action with greenlight on PATH ---------------------------------
W=$TMP/ws
mkdir -p "$W"
cp "$SRCDIR/examples/seed/greenlight.json" "$W/"
cp "$SRCDIR/examples/seed/good.json" "$W/good.json"
cp "$SRCDIR/examples/seed/slow.json" "$W/slow.json"
write_fail_gate "$W/fail-gate.json"
echo '{"accuracypct": 12, "latencyMs": 10}' >"$W/bad.json"
P="$GLDIR:/usr/bin:/bin"
R=$TMP/report.json

# pass
gha "$R" --workspace "$W" --path "$P" --with command=check --with results=good.json
eq "pass: conclusion" "$(jqr "$R" .conclusion)" success
eq "pass: outcome" "$(jqr "$R" .outputs.outcome)" pass
eq "pass: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 0
eq "pass: build skipped" "$(jqr "$R" '.steps[3].outcome')" skipped
eq "pass: Linux check skipped" "$(jqr "$R" '.steps[0].outcome')" skipped
eq "pass: annotation" "$(jqr "$R" '.annotations[0].command + " " + .annotations[0].message')" \
	"notice gate model-release passed"
eq "pass: annotation file" "$(jqr "$R" '.annotations[0].properties.file')" greenlight.json
jqr "$R" .summary >"$TMP/summary.md"
has "pass: summary heading" "$TMP/summary.md" "passed: greenlight gate model-release"
has "pass: summary table" "$TMP/summary.md" "| choices&#91;1&#93; | &#36;.latencyMs &#62; 80 | &#36;.latencyMs = 10 | 80 | no | engineering |"
dec=$(jqr "$R" '.outputs["decision-file"]')
case $dec in "$TMP"/* | /tmp/*) ok ;; *) ko "decision-file '$dec' is not under runner.temp" ;; esac
eq "pass: gate output" "$(jqr "$R" .outputs.gate)" model-release

# every key greenlight writes to $GITHUB_OUTPUT is an output of the action:
# the keys of its source table (src/ci_report.c), the keys this run wrote,
# action.yml's outputs and the table in docs/ci/README.md are one list,
# besides `waiting`, which the action's run.sh writes (resume-environment)
sorted_lines() { tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort; }
src_keys=$(sed -n 's/^[[:space:]]*\[CI_[A-Z_]*\] = { "\([a-z-]*\)", "GREENLIGHT_[A-Z_]*" },$/\1/p' \
	"$SRCDIR/src/ci_report.c" | sorted_lines)
run_keys=$(jqr "$R" '.steps[-1].outputs | keys[]' | grep -vx waiting | sorted_lines)
eq "outputs: run.sh says it is not waiting" "$(jqr "$R" .outputs.waiting)" false
action_keys=$($PY -c 'import sys, yaml; print("\n".join(yaml.safe_load(open(sys.argv[1]))["outputs"]))' \
	"$SRCDIR/action.yml" | grep -vx waiting | sorted_lines)
doc_keys=$(sed -n 's/^| `\([a-z-]*\)` | `GREENLIGHT_[A-Z_]*` |.*/\1/p' "$SRCDIR/docs/ci/README.md" | sorted_lines)
check "outputs: the source names 7 keys" test "$(printf '%s\n' "$src_keys" | wc -l)" -eq 7
eq "outputs: written by greenlight = its source table" "$run_keys" "$src_keys"
eq "outputs: action.yml declares every key greenlight writes" "$action_keys" "$src_keys"
eq "outputs: docs/ci/README.md lists every key" "$doc_keys" "$src_keys"

# fail (command run: a fail rule ends at once, no mail)
gha "$R" --workspace "$W" --path "$P" --with gate=fail-gate.json --with results=bad.json
eq "fail: conclusion" "$(jqr "$R" .conclusion)" failure
eq "fail: step" "$(jqr "$R" '.steps[-1].outcome + " " + (.steps[-1].exit_code|tostring)')" "failure 1"
eq "fail: outcome" "$(jqr "$R" .outputs.outcome)" fail
eq "fail: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 1
eq "fail: annotation" "$(jqr "$R" '.annotations[0].command + " " + .annotations[0].message')" \
	'error gate model-release failed: choices[0] ($.accuracypct < 50) fired'
jqr "$R" .summary >"$TMP/summary.md"
has "fail: summary" "$TMP/summary.md" "failed: greenlight gate model-release"

# review needed (check): exit 5, a warning, the team named
gha "$R" --workspace "$W" --path "$P" --with command=check --with results=slow.json
eq "review: conclusion" "$(jqr "$R" .conclusion)" failure
eq "review: outcome" "$(jqr "$R" .outputs.outcome)" review
eq "review: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 5
eq "review: teams" "$(jqr "$R" .outputs.teams)" engineering
eq "review: annotation" "$(jqr "$R" '.annotations[0].command')" warning

# bad input: greenlight writes no record, the action still says so
gha "$R" --workspace "$W" --path "$P" --with gate=missing.json
eq "bad input: conclusion" "$(jqr "$R" .conclusion)" failure
eq "bad input: outcome" "$(jqr "$R" .outputs.outcome)" error
eq "bad input: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 2
eq "bad input: one annotation" "$(jqr "$R" '.annotations | length')" 1
eq "bad input: annotation is greenlight's message" \
	"$(jqr "$R" '.annotations[0].command + " " + .annotations[0].message')" \
	"error cannot read gate file 'missing.json': No such file or directory (use -g FILE or create greenlight.json; see examples/seed/)"
eq "bad input: annotation title" "$(jqr "$R" '.annotations[0].properties.title')" "greenlight (exit 2)"

# a gate with an error at a position: the message keeps file:line:col
printf '{"version": 1, "name": "x",\n  "choices": 3}\n' >"$W/broken-gate.json"
gha "$R" --workspace "$W" --path "$P" --with gate=broken-gate.json --with results=good.json
eq "broken gate: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 2
eq "broken gate: annotation" "$(jqr "$R" '.annotations[0].message')" \
	"broken-gate.json:2:14: choices must be a non-empty array of Choice rules"

# usage errors (getopt's own line) and text that looks like workflow-command
# escapes: the message arrives as greenlight wrote it
gha "$R" --workspace "$W" --path "$P" --with command=check --with 'args=--no-such-option'
eq "usage: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 2
eq "usage: annotation" "$(jqr "$R" '.annotations[0].message')" "check: unrecognized option '--no-such-option'"
gha "$R" --workspace "$W" --path "$P" --with 'gate=100%25%0A::warning::x.json'
eq "escapes: one annotation" "$(jqr "$R" '.annotations | map(.command) | join(" ")')" error
eq "escapes: message kept" "$(jqr "$R" '.annotations[0].message')" \
	"cannot read gate file '100%25%0A::warning::x.json': No such file or directory (use -g FILE or create greenlight.json; see examples/seed/)"

# mail that cannot be sent: exit 4 before a record; outcome infrastructure
gha "$R" --workspace "$W" --path "$P" --with results=slow.json \
	--with "args=--smtp smtp://127.0.0.1:1 --smtp-tls none --send-timeout 2s --state $TMP/state.db"
eq "infrastructure: conclusion" "$(jqr "$R" .conclusion)" failure
eq "infrastructure: outcome" "$(jqr "$R" .outputs.outcome)" infrastructure
eq "infrastructure: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 4
eq "infrastructure: annotation is greenlight's message" "$(jqr "$R" '.annotations[0].message')" \
	"mail to engineering@example.com (team engineering) failed: temporary failure: cannot connect to 127.0.0.1:1: Connection refused"
jqr "$R" .log >"$TMP/log"
has "infrastructure: stderr still in the log" "$TMP/log" "team engineering: 0 of 1 members reached"

# hostile inputs: no shell runs them, no glob expands them
gha "$R" --workspace "$W" --path "$P" --with command=check \
	--with 'results=good.json"; touch pwned1; echo "$(touch pwned2)' \
	--with 'args=--junit *.xml'
eq "hostile: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 2
check "hostile: nothing executed" test ! -e "$W/pwned1" -a ! -e "$W/pwned2"
touch "$W/decoy.xml"
gha "$R" --workspace "$W" --path "$P" --with command=check --with results=good.json \
	--with 'args=--junit *.xml'
eq "glob: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 0
check "glob: --junit got the literal '*.xml'" test -s "$W/*.xml"
check "glob: decoy.xml untouched" test ! -s "$W/decoy.xml"
gha "$R" --workspace "$W" --path "$P" --with command=deploy
eq "bad command: conclusion" "$(jqr "$R" .conclusion)" failure

# the examples in the args input's description, each with the command it
# is given for (an example given for no command must suit both): every
# documented combination is accepted and passes
$PY - "$SRCDIR/action.yml" >"$TMP/arg-examples" <<'PYEOF'
import re, sys, yaml
desc = yaml.safe_load(open(sys.argv[1]))["inputs"]["args"]["description"]
found = 0
for cmd, example in re.findall(r'(?:for (run|check): )?"(--[^"]*)"', desc):
    for c in [cmd] if cmd else ["run", "check"]:
        print("%s\t%s" % (c, example))
        found += 1
sys.exit(0 if found else 1)
PYEOF
check "args description has examples" test -s "$TMP/arg-examples"
while IFS=$'\t' read -r cmd example; do
	gha "$R" --workspace "$W" --path "$P" --with "command=$cmd" --with results=good.json --with "args=$example"
	eq "documented args ($cmd $example): exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 0
done <"$TMP/arg-examples"

# ---- 4. build from source, cache, restore ----------------------------------
STORE=$TMP/cache-store
mkdir -p "$STORE" "$TMP/home1" "$TMP/home2"
NOGL=/usr/bin:/bin
gha "$R" --workspace "$W" --path "$NOGL" --cache-store "$STORE" --env "HOME=$TMP/home1" \
	--with command=check --with results=good.json
eq "build: conclusion" "$(jqr "$R" .conclusion)" success
eq "build: found" "$(jqr "$R" '.steps[1].outputs.found')" false
eq "build: cache miss" "$(jqr "$R" '.steps[2].outputs["cache-hit"]')" false
eq "build: saved" "$(jqr "$R" '.steps[4].outcome')" success
eq "build: outcome" "$(jqr "$R" .outputs.outcome)" pass
jqr "$R" .log >"$TMP/log"
has "build: built" "$TMP/log" "greenlight: built from source"
has "build: says why" "$TMP/log" "greenlight: no release package: the version input is empty and the action's ref (none) is not a version tag; building from source"
check "build: one cache entry" test "$(ls "$STORE" | wc -l)" -eq 1
key=$(ls "$STORE")
case $key in greenlight-0.*-ubuntu24-X64-*) ok ;; *) ko "cache key '$key'" ;; esac

gha "$R" --workspace "$W" --path "$NOGL" --cache-store "$STORE" --env "HOME=$TMP/home2" \
	--with command=check --with results=good.json
eq "restore: conclusion" "$(jqr "$R" .conclusion)" success
eq "restore: cache hit" "$(jqr "$R" '.steps[2].outputs["cache-hit"]')" true
eq "restore: save skipped" "$(jqr "$R" '.steps[4].outcome')" skipped
jqr "$R" .log >"$TMP/log"
has "restore: restored" "$TMP/log" "greenlight: restored from the cache"
hasnt "restore: not rebuilt" "$TMP/log" "built from source"

# (release packages, and a version the source is not: a0106-github-package.sh)

finish
