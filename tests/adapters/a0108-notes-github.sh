# a0108-notes-github.sh - the action's baseline-notes opt-in
# (adapters/notes.sh wired by adapters/github/run.sh) under
# tests/adapters/gha_harness.py, against a bare repository as origin:
# the scenario of notes_scenario (lib.sh), docs/ci/github.md's
# github-baseline-notes step and docs/baselines.md's baselines-push-merge
# (the same merge by hand) as written, then what notes.sh does on its
# own edges: a bad opt-in or ref stops the gate before it runs (exit 2,
# outcome error, one annotation), an origin that cannot be read too, and a
# push that keeps failing is one warning that leaves the gate's result.
. "$(dirname "$0")/lib.sh"
$PY -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing; run scripts/setup-deps.sh"; exit 1; }

gh_notes() { # CLONE RESULTS OPT-IN LOG: prints greenlight's exit code
	local r=$TMP/notes-report.json
	gha "$r" --workspace "$1" --path "$(dirname "$GLWRAP"):/usr/bin:/bin" --env "HOME=$HOME" \
		--with command=check --with gate=gate.json --with "results=$2" --with "baseline-notes=$3" >&2
	jqr "$r" .log >"$4"
	jqr "$r" '.outputs["exit-code"]'
}
notes_scenario gh_notes

# ---- the edges --------------------------------------------------------------
R=$TMP/report.json
P="$(dirname "$GLWRAP"):/usr/bin:/bin"
W=$NOTES/a
gha "$R" --workspace "$W" --path "$P" --with command=check --with gate=gate.json \
	--with results=fast.json --with baseline-notes=yes
eq "bad opt-in: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 2
eq "bad opt-in: outcome" "$(jqr "$R" .outputs.outcome)" error
eq "bad opt-in: annotation" "$(jqr "$R" '.annotations | map(.message) | join("|")')" \
	"baseline notes: the opt-in must be true, fetch or false, not 'yes'"
gha "$R" --workspace "$W" --path "$P" --with command=check --with gate=gate.json \
	--with results=fast.json --with baseline-notes=true --with baseline-ref=refs/heads/main
eq "ref outside refs/notes: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 2
eq "ref outside refs/notes: annotation" "$(jqr "$R" '.annotations[0].message')" \
	"baseline notes: the ref must be under refs/notes/ (the gate's baseline \"ref\"), not 'refs/heads/main'"

# an origin that cannot be read: the gate does not run without its baselines
git -C "$W" remote set-url origin "file://$NOTES/gone.git"
gha "$R" --workspace "$W" --path "$P" --with command=check --with gate=gate.json \
	--with results=fast.json --with baseline-notes=true
eq "unreadable origin: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 2
eq "unreadable origin: outcome" "$(jqr "$R" .outputs.outcome)" error
case $(jqr "$R" '.annotations[0].message') in
"baseline notes: cannot read origin's refs (git ls-remote exit 128); the gate does not run without its baselines") ok ;;
*) ko "unreadable origin: annotation '$(jqr "$R" '.annotations[0].message')'" ;;
esac

# a push that keeps failing (GREENLIGHT_NOTES_PUSH_URL names no repository):
# one warning, the gate's result stands
git -C "$W" remote set-url origin "file://$NOTES/origin.git"
gha "$R" --workspace "$W" --path "$P" --env "GREENLIGHT_NOTES_PUSH_URL=file://$NOTES/gone.git" \
	--with command=check --with gate=gate.json --with results=fast.json --with baseline-notes=true
eq "push refused: conclusion" "$(jqr "$R" .conclusion)" success
eq "push refused: exit-code" "$(jqr "$R" '.outputs["exit-code"]')" 0
eq "push refused: one warning" "$(jqr "$R" '.annotations | map(select(.command == "warning")) | map(.message) | join("|")')" \
	"baseline notes: refs/notes/greenlight could not be pushed after 5 attempts; the gate's result stands, but this commit's baseline is lost (check the push rights: docs/baselines.md)"

# ---- docs/ci/github.md's job: the action step's inputs as written ------------
$PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/docs/ci/github.md" github-baseline-notes >"$TMP/job.yml" ||
	ko "docs/ci/github.md: snippet github-baseline-notes"
$PY - "$TMP/job.yml" >"$TMP/with.txt" <<'PYEOF'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))["gate"]
assert job["permissions"] == {"contents": "write"}, job["permissions"]
step = [s for s in job["steps"] if "greenlight" in s.get("uses", "")][0]
for k, v in step["with"].items():
    print("%s=%s" % (k, v))
PYEOF
check "github-baseline-notes: the step's inputs" test -s "$TMP/with.txt"
before=$(git --git-dir="$NOTES/origin.git" rev-parse refs/notes/greenlight)
git clone -q --depth 1 "file://$NOTES/origin.git" "$NOTES/doc"
cp "$NOTES/seed/gate.json" "$NOTES/doc/greenlight.json"
cp "$NOTES/seed/fast.json" "$NOTES/doc/results.json"	# what the job's build step writes
mapfile -t with <"$TMP/with.txt"
gha "$R" --workspace "$NOTES/doc" --path "$P" "${with[@]/#/--with=}"
eq "github-baseline-notes: outcome" "$(jqr "$R" .outputs.outcome)" pass
jqr "$R" .log >"$TMP/doc.log"
has "github-baseline-notes: fetched" "$TMP/doc.log" "fetched refs/notes/greenlight from origin"
has "github-baseline-notes: judged against the baseline" "$TMP/doc.log" '$$.DeltaPct.latencyMs=0'
has "github-baseline-notes: pushed" "$TMP/doc.log" "baseline notes: pushed refs/notes/greenlight"
check "github-baseline-notes: origin moved" test "$(git --git-dir="$NOTES/origin.git" rev-parse refs/notes/greenlight)" != "$before"

# ---- docs/baselines.md's push by hand, with a concurrent push ----------------
X=$NOTES/byhand
git clone -q "file://$NOTES/origin.git" "$X"
git -C "$X" fetch -q origin +refs/notes/greenlight:refs/notes/greenlight
(cd "$X" && "$GREENLIGHT" record -g gate.json -r fast.json >/dev/null)
"$NOTES/other.sh" >"$NOTES/other.log" 2>&1	# another job records and pushes first
theirs=$(git --git-dir="$NOTES/origin.git" rev-parse refs/notes/greenlight)
$PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/docs/baselines.md" baselines-push-merge >"$TMP/merge.sh" ||
	ko "docs/baselines.md: snippet baselines-push-merge"
(cd "$X" && sh -e "$TMP/merge.sh") >"$TMP/merge.log" 2>&1
eq "baselines-push-merge: exit" "$?" 0
ours=$(git -C "$X" rev-parse refs/notes/greenlight)
eq "baselines-push-merge: origin has ours" "$(git --git-dir="$NOTES/origin.git" rev-parse refs/notes/greenlight)" "$ours"
check "baselines-push-merge: theirs is merged in" git -C "$X" merge-base --is-ancestor "$theirs" "$ours"
check "baselines-push-merge: the first push was refused" grep -q rejected "$TMP/merge.log"
[ "$failed" -eq 0 ] || cat "$TMP/merge.log"

finish
