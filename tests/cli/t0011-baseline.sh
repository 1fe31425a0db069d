# t0011-baseline.sh - baselines on real git repositories made here: values
# recorded per commit in git notes (and in a directory), read back by later
# runs along the first-parent history, and compared by rules through
# $$.Baseline, $$.Delta and $$.DeltaPct.  Covers a linear history, a
# feature branch (merge-base with the base branch), merge commits (first
# parent only), a shallow clone, a repository without the notes ref,
# concurrent writers, replacing a commit's record and malformed notes.
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME="Ada Dev" GIT_AUTHOR_EMAIL=ada@example.com
export GIT_COMMITTER_NAME="Ada Dev" GIT_COMMITTER_EMAIL=ada@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP"

# the gate: review when latency grew by more than 10% over the baseline
TEAM='"teams":{"engineering":{"email":["eng@example.com"]}}'
SLOWER='{"And":[{"Variable":"$$.DeltaPct.latencyMs","IsPresent":true},
  {"Variable":"$$.DeltaPct.latencyMs","NumericGreaterThan":10}],"Next":"engineering"}'
mkgate() {	# mkgate FILE BASELINE-SECTION
	printf '{"version":1,"name":"model-release","default":"pass",%s,"choices":[%s],"baseline":%s}\n' \
		"$TEAM" "$SLOWER" "$2" >"$1"
}
new_repo() { rm -rf "$1"; mkdir -p "$1"; git -C "$1" init -q -b main; }
# commit_at REPO LATENCY [MESSAGE]: an empty commit; results.json (not
# committed) gets the latency
commit_at() {
	git -C "$1" commit -q --allow-empty -m "${3:-latency $2}"
	printf '{"latencyMs": %s, "accuracypct": 100}\n' "$2" >"$1/results.json"
}
gl() { (cd "$R" && "$GREENLIGHT" "$@"); }
# rec: record HEAD with a gate of the same name that reads the same
# values but does not compare (record only stores passing runs)
rec() {
	[ -f "$R/rec.json" ] || printf '{"version":1,"name":"model-release","default":"pass","choices":[%s,%s]}\n' \
		'{"Variable":"$.latencyMs","NumericGreaterThan":100000,"Next":"fail"}' \
		'{"Variable":"$.accuracypct","NumericLessThan":0,"Next":"fail"}' >"$R/rec.json"
	gl record -g rec.json
}
note() { git -C "$R" notes --ref greenlight show "${1:-HEAD}" 2>/dev/null; }

# --- first run: nothing recorded yet --------------------------------------
R=$TMP/linear
new_repo "$R"
mkgate "$R/gate.json" '{"record":"never"}'
commit_at "$R" 200
expect 0 "first run: no baseline, the guarded rule does not fire" -- gl check -g gate.json
grep_out "outcome: pass"
grep_err "no refs/notes/greenlight here, so no baseline; if CI records baselines, fetch them first: git fetch origin refs/notes/greenlight:refs/notes/greenlight"
one_line_err
printf '{"version":1,"name":"model-release","default":"pass","choices":[{"Variable":"$$.DeltaPct.latencyMs","NumericGreaterThan":10,"Next":"fail"}]}\n' >"$R/unguarded.json"
expect 2 "first run: an unguarded rule reading the baseline is an error, not a pass" -- gl check -g unguarded.json
grep_err 'choices\[0\]: path \$\$.DeltaPct.latencyMs is not in the context (States.Runtime); guard the rule with "IsPresent": true'
mkgate "$R/strict.json" '{"record":"never","if_missing":"error"}'
expect 2 "if_missing error: no baseline stops the gate" -- gl check -g strict.json
grep_err 'no recorded commit for gate "model-release" in the first-parent history (if_missing is "error")'

# --- linear history: record, then compare --------------------------------
expect 0 "record the first commit" -- rec
grep_out "baseline: recorded 2 value(s) of gate model-release for"
expect 0 "a gate that does not read baselines records without looking for one" -- rec
empty_err
note >"$TMP/note"
has "the note holds the gate's values by path" "$TMP/note" '"values":{"$.latencyMs":200,"$.accuracypct":100}'
has "the note names the commit" "$TMP/note" "\"commit\":\"$(git -C "$R" rev-parse HEAD)\""
has "the note has the outcome" "$TMP/note" '"outcome":"pass"'
for lat in 100 300 200; do
	commit_at "$R" "$lat"
	expect 0 "record latency $lat" -- rec
done
commit_at "$R" 250
expect 5 "+25% over the median (200) of the last 5 records: review" -- gl check -g gate.json
grep_out '\$\$.DeltaPct.latencyMs=25'
grep_out 'VALUE  *BASELINE  *CHANGE  *FIRED'
grep_out ' 200  *+50 (+25%)  *yes  '
grep_out '^baseline: 4 recorded commits$'
expect 5 "the decision record carries each test's baseline" -- gl check -g gate.json --json
python3 - "$out" <<'PY' && ok || ko "the record's baseline fields"
import json, sys
rec = json.load(open(sys.argv[1]))
assert rec["baseline"] == {"commits": 4, "aggregate": "median"}, rec["baseline"]
tests = [t for r in rec["rules"] for t in r["tests"] if t["variable"].startswith("$$.DeltaPct")]
assert tests and all(t["baseline"] == {"value": 200, "delta": 50, "delta_pct": 25} for t in tests), tests
PY
commit_at "$R" 210
expect 0 "+5% over the median: pass" -- gl check -g gate.json
grep_out "outcome: pass"
empty_err
# the record of HEAD~1 (the 250 run) does not exist: check with record never wrote nothing
if note HEAD~1 >/dev/null; then ko "check with \"record\": \"never\" recorded"; else ok; fi
commit_at "$R" 250
mkgate "$R/min.json" '{"record":"never","aggregate":"min","window":3}'
expect 5 "aggregate min over the last 3 records (100): +150%" -- gl check -g min.json
grep_out '\$\$.DeltaPct.latencyMs=150'
mkgate "$R/max.json" '{"record":"never","aggregate":"max","window":3}'
expect 0 "aggregate max over the last 3 records (300): faster" -- gl check -g max.json
mkgate "$R/last.json" '{"record":"never","aggregate":"last"}'
expect 5 "aggregate last (200): +25%" -- gl check -g last.json
mkgate "$R/mean.json" '{"record":"never","aggregate":"mean","window":2}'
expect 0 "aggregate mean of the last 2 records (250): +0%" -- gl check -g mean.json

# record on pass (the default): check records by itself, the next run reads it
mkgate "$R/auto.json" '{}'
commit_at "$R" 205
expect 0 "check with record on_pass records a passing run" -- gl check -g auto.json
grep_out "baseline: recorded 1 value(s) of gate model-release"
note >"$TMP/note"
has "the passing run's values are in the note" "$TMP/note" '"$.latencyMs":205'
commit_at "$R" 204
expect 0 "run with record on_pass records a passing run too" -- gl run -g auto.json
grep_out "baseline: recorded 1 value(s) of gate model-release"
note >"$TMP/note"
has "run's record" "$TMP/note" '"outcome":"pass","run_url":null,"values":{"$.latencyMs":204}'
commit_at "$R" 300
expect 5 "a failing run is compared with the baseline and not recorded" -- gl check -g auto.json
if note >/dev/null; then ko "a run needing review was recorded"; else ok; fi
expect 5 "record refuses a run that needs review" -- gl record -g auto.json
grep_err "record: gate model-release does not pass (outcome review); only passing or approved releases are recorded"
one_line_err

# recording the same commit again replaces its entry
commit_at "$R" 100
expect 0 "record 100" -- gl record -g gate.json
printf '{"latencyMs": 90, "accuracypct": 100}\n' >"$R/results.json"
expect 0 "record the same commit again with 90" -- gl record -g gate.json
note >"$TMP/note"
has "the second record replaces the first" "$TMP/note" '"$.latencyMs":90'
hasnt "the first record is gone" "$TMP/note" '"$.latencyMs":100'

# a malformed note (anyone can push one) is ignored with one line
commit_at "$R" 95
git -C "$R" notes --ref greenlight add -f -m '{"model-release": "nonsense"}' HEAD~1
printf '{"latencyMs": 120, "accuracypct": 100}\n' >"$R/results.json"
expect 0 "a malformed note is ignored: the baseline comes from older records" -- gl check -g last.json
grep_err "baseline: the record of commit $(git -C "$R" rev-parse --short=12 HEAD~1) is ignored: the entry for gate \"model-release\" is not an object"
one_line_err

# --- two gates, concurrent writers on the same commit and ref ------------
current="concurrent writers"
commit_at "$R" 200
i=0
while [ $i -lt 8 ]; do
	sed "s/\"model-release\"/\"gate-$i\"/" "$R/gate.json" >"$R/gate-$i.json"
	i=$((i + 1))
done
i=0
while [ $i -lt 8 ]; do
	(cd "$R" && "$GREENLIGHT" record -g "gate-$i.json" >"$TMP/rec-$i.out" 2>&1; echo $? >"$TMP/rec-$i.rc") &
	i=$((i + 1))
done
wait
i=0
while [ $i -lt 8 ]; do
	eq "concurrent record $i exits 0 ($(cat "$TMP/rec-$i.out"))" "$(cat "$TMP/rec-$i.rc")" 0
	i=$((i + 1))
done
note >"$TMP/note"
eq "eight concurrent records on one ref: none lost" \
	"$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' "$TMP/note")" \
	"gate-0 gate-1 gate-2 gate-3 gate-4 gate-5 gate-6 gate-7"

# --- dir store ----------------------------------------------------------
R=$TMP/dirstore
new_repo "$R"
mkgate "$R/gate.json" '{"store":"dir:baselines","record":"never"}'
commit_at "$R" 200
expect 0 "dir store: record" -- gl record -g gate.json
empty_err
grep_out "(dir store)"
sha=$(git -C "$R" rev-parse HEAD)
if [ -f "$R/baselines/$sha.json" ]; then ok; else ko "no baselines/$sha.json"; fi
has "dir store: one file per commit, keyed by gate" "$R/baselines/$sha.json" '{"model-release":{"version":1'
if git -C "$R" notes --ref greenlight list | grep -q .; then ko "dir store wrote notes"; else ok; fi
commit_at "$R" 250
expect 5 "dir store: +25% reviews" -- gl check -g gate.json
commit_at "$R" 210
expect 0 "dir store: +5% passes" -- gl check -g gate.json
printf 'garbage' >"$R/baselines/$sha.json"
expect 0 "dir store: a malformed file is ignored" -- gl check -g gate.json
grep_err "baseline: the record of commit $(git -C "$R" rev-parse --short=12 "$sha") is ignored: not valid JSON"

# --- feature branch: the baseline comes from the merge-base --------------
R=$TMP/feature
new_repo "$R"
mkgate "$R/gate.json" '{"record":"never","window":1,"aggregate":"last"}'
mkgate "$R/based.json" '{"record":"never","window":1,"aggregate":"last","branch":"main"}'
commit_at "$R" 100 m1; rec >/dev/null
commit_at "$R" 100 m2; rec >/dev/null
git -C "$R" checkout -q -b feature
commit_at "$R" 1000 f1; rec >/dev/null
git -C "$R" checkout -q main
commit_at "$R" 1000 m3; rec >/dev/null
git -C "$R" checkout -q feature
commit_at "$R" 125 f2
expect 5 "feature branch with branch main: compared with the merge-base (100)" -- gl check -g based.json
grep_out '\$\$.DeltaPct.latencyMs=25'
expect 0 "feature branch without branch: compared with its parent (1000)" -- gl check -g gate.json
mkgate "$R/nobase.json" '{"record":"never","branch":"release"}'
expect 2 "a base branch not in the clone is an error saying what to fetch" -- gl check -g nobase.json
grep_err 'base branch "release" is not in this clone; fetch it: git fetch origin release:refs/remotes/origin/release'
one_line_err
# in a pull request the CI names the target branch: it is the base
GITHUB_ACTIONS=true GITHUB_BASE_REF=main expect 5 "a pull request: the CI's target branch (main) is the base (100)" -- gl check -g gate.json
grep_out '\$\$.DeltaPct.latencyMs=25'
GITHUB_ACTIONS=true GITHUB_BASE_REF=release expect 2 "a CI target branch not in the clone: one line saying what to fetch" -- gl check -g gate.json
grep_err 'base branch "release" is not in this clone; fetch it: git fetch origin release:refs/remotes/origin/release (actions/checkout: fetch-depth: 0); it is the target branch the CI named'
one_line_err
CI_PROJECT_DIR=$R GITLAB_CI=true CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main expect 5 "a GitLab merge request: its target branch is the base" -- gl check -g gate.json
JENKINS_URL=http://ci.invalid/ CHANGE_TARGET=main expect 5 "a Jenkins change request: its target branch is the base" -- gl check -g gate.json
# a clone knows its default branch (origin/HEAD): that is the base
C=$TMP/feature-clone
git clone -q "file://$R" "$C"
git -C "$C" fetch -q origin refs/notes/greenlight:refs/notes/greenlight
git -C "$C" remote set-head origin main
git -C "$C" checkout -q feature
cp "$R/gate.json" "$R/results.json" "$C/"
R0=$R; R=$C
expect 5 "a clone: the default branch (origin/HEAD -> main) is the base (100)" -- gl check -g gate.json
grep_out '\$\$.DeltaPct.latencyMs=25'
git -C "$C" remote set-head origin -d
expect 0 "a clone that does not know its default branch: HEAD's parent (1000)" -- gl check -g gate.json
R=$R0
git -C "$R" checkout -q main
commit_at "$R" 1050 m4
expect 0 "on the base branch itself: compared with HEAD's parent (1000), +5%" -- gl check -g based.json

# --- merge commits: first parent only -----------------------------------
R=$TMP/merges
new_repo "$R"
mkgate "$R/gate.json" '{"record":"never","window":1,"aggregate":"last"}'
commit_at "$R" 100 m1; rec >/dev/null
git -C "$R" checkout -q -b side
commit_at "$R" 1000 s1; rec >/dev/null
git -C "$R" checkout -q main
commit_at "$R" 100 m2
git -C "$R" merge -q --no-ff -m "Merge side" side
commit_at "$R" 125 after-merge
expect 5 "after a merge: the first-parent history (100), not the merged branch (1000)" -- gl check -g gate.json
grep_out '\$\$.DeltaPct.latencyMs=25'

# --- shallow clone --------------------------------------------------------
S=$TMP/shallow
git clone -q --depth 1 "file://$TMP/linear" "$S"
git -C "$S" fetch -q origin refs/notes/greenlight:refs/notes/greenlight
cp "$TMP/linear/gate.json" "$TMP/linear/results.json" "$S/"
R=$S
expect 2 "shallow clone: one line saying what to fetch" -- gl check -g gate.json
grep_err "this is a shallow clone and no recorded commit is in the fetched history; fetch the history and the notes: git fetch --unshallow && git fetch origin refs/notes/greenlight:refs/notes/greenlight (actions/checkout: fetch-depth: 0"
one_line_err
git -C "$S" fetch -q --unshallow
expect 0 "after git fetch --unshallow the baseline is found" -- gl check -g gate.json
hasnt "after git fetch --unshallow nothing is said about a shallow clone" "$err" shallow

# --- the worked example of docs/baselines.md, with the seed's metrics ---
R=$TMP/worked
new_repo "$R"
cp "$SRCDIR/docs/baselines.md" "$TMP/baselines.md"
python3 -c 'import re,sys; print(re.findall(r"```json\n(\{\n  \"version\".*?)```", open(sys.argv[1]).read(), re.S)[0])' \
	"$TMP/baselines.md" >"$R/greenlight.json"
has "the worked example's gate is the one in docs/baselines.md" "$R/greenlight.json" '"window": 5'
for lat in 200 205 190 210 215; do commit_at "$R" "$lat"; rec >/dev/null; done
commit_at "$R" 225
expect 0 "worked example: 225 is +9.76% over the median 205" -- gl check -r results.json
grep_out '\$\$.DeltaPct.latencyMs=9.756'
grep_out "baseline: recorded 2 value(s)"
git -C "$R" notes --ref greenlight remove -q HEAD
printf '{"latencyMs": 256, "accuracypct": 100}\n' >"$R/results.json"
expect 5 "worked example: 256 is +24.9%" -- gl check -r results.json
grep_out 'outcome: review - notify engineering'

# --- not a repository -----------------------------------------------------
mkdir -p "$TMP/norepo"
cp "$TMP/linear/gate.json" "$TMP/linear/results.json" "$TMP/norepo/"
R=$TMP/norepo
GIT_CEILING_DIRECTORIES=$TMP expect 2 "outside a git repository: one line" -- gl check -g gate.json
grep_err "baseline: not inside a git repository"
one_line_err

# --- CI outputs show the baseline -----------------------------------------
# step summary, JUnit, GitHub outputs and the dotenv file of a run that
# needs review because latency grew 25% over the median of 2 records
R=$TMP/ciout
new_repo "$R"
mkgate "$R/gate.json" '{"record":"never"}'
for lat in 190 210; do commit_at "$R" "$lat"; rec >/dev/null; done
commit_at "$R" 250
# has_line DESCRIPTION FILE LINE: FILE has LINE, whole
has_line() { if grep -qxF -- "$3" "$2"; then ok; else ko "$1: $2 lacks the line '$3'"; fi; }
ci_check() {
	(cd "$R" && env GITHUB_ACTIONS=true GITHUB_OUTPUT="$TMP/ci.out" GITHUB_STEP_SUMMARY="$TMP/ci.md" \
		GREENLIGHT_DOTENV="$TMP/ci.env" GREENLIGHT_JUNIT="$TMP/ci.xml" "$GREENLIGHT" "$@")
}
rm -f "$TMP/ci.out" "$TMP/ci.md" "$TMP/ci.env" "$TMP/ci.xml"
expect 5 "CI outputs of a run compared with a baseline" -- ci_check check -g gate.json
grep_out ' 200  *+50 (+25%)  *yes  '
has "the step summary has baseline and change columns" "$TMP/ci.md" '| rule | condition | value | baseline | change | threshold | fired | next |'
has "the step summary shows the baseline and the change" "$TMP/ci.md" '| 200<br>200 | +50 (+25%)<br>+50 (+25%) | '
has_line "the step summary says what was aggregated" "$TMP/ci.md" '**baseline:** median of 2 recorded commits'
has_line "the dotenv file has the baseline" "$TMP/ci.env" 'GREENLIGHT_BASELINE_LATENCYMS=200'
has_line "the dotenv file has the delta" "$TMP/ci.env" 'GREENLIGHT_DELTA_LATENCYMS=50'
has_line "the dotenv file has the delta in percent" "$TMP/ci.env" 'GREENLIGHT_DELTA_PCT_LATENCYMS=25'
has_line "the dotenv file keeps its fixed values" "$TMP/ci.env" 'GREENLIGHT_OUTCOME=review'
has "GitHub outputs have the baseline" "$TMP/ci.out" 'delta-pct-latencyms<<'
has "JUnit test lines show the baseline" "$TMP/ci.xml" 'NumericGreaterThan 10): true, baseline 200 (+50, +25%)'
has "the JUnit failure names the change" "$TMP/ci.xml" 'message="review needed: engineering must approve; $.latencyMs: baseline 200, change +50 (+25%)"'
# the same gate without baselines: no columns, no variables
printf '{"version":1,"name":"model-release","default":"pass","choices":[{"Variable":"$.latencyMs","NumericGreaterThan":240,"Next":"fail"}]}\n' >"$R/plain.json"
rm -f "$TMP/ci.out" "$TMP/ci.md" "$TMP/ci.env" "$TMP/ci.xml"
expect 1 "CI outputs of a gate that does not read baselines" -- ci_check check -g plain.json
has_line "without baselines the summary has the usual columns" "$TMP/ci.md" '| rule | condition | value | threshold | fired | next |'
hasnt "without baselines the summary has no baseline line" "$TMP/ci.md" 'recorded commit'
hasnt "without baselines the dotenv file has no baseline variables" "$TMP/ci.env" 'GREENLIGHT_BASELINE_'
hasnt "without baselines JUnit shows no baseline" "$TMP/ci.xml" 'baseline'

finish
