# a0108-notes-github.sh - the action's baseline-notes opt-in
# (adapters/notes.sh wired by adapters/github/run.sh) under
# tests/adapters/gha_harness.py, against a bare repository as origin:
# the scenario of notes_scenario (lib.sh), then what notes.sh does on its
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

finish
