# a0109-notes-gitlab.sh - GREENLIGHT_BASELINE_NOTES in the GitLab template
# (the `.greenlight` job) under npm gitlab-ci-local in shell mode, against
# a bare repository as origin: the scenario of notes_scenario (lib.sh); the
# component's baseline-notes input; docs/ci/gitlab.md's
# gitlab-baseline-notes job as written; and the shell function both templates
# carry is adapters/notes.sh's, byte for byte.
. "$(dirname "$0")/lib.sh"
need "$NODE_BIN/gitlab-ci-local" "npm gitlab-ci-local"
command -v rsync >/dev/null || { echo "FAIL: rsync is missing; run scripts/setup-deps.sh"; exit 1; }
$PY -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing; run scripts/setup-deps.sh"; exit 1; }

# ---- the copies ---------------------------------------------------------------
sed -n '/^# --- greenlight_notes: begin$/,/^# --- greenlight_notes: end$/p' "$SRCDIR/adapters/notes.sh" >"$TMP/fn.sh"
check "notes.sh has the function between its markers" test "$(wc -l <"$TMP/fn.sh")" -gt 50
for f in adapters/gitlab/greenlight.gitlab-ci.yml adapters/gitlab/templates/greenlight.yml; do
	$PY - "$SRCDIR/$f" >"$TMP/embedded.sh" <<'PYEOF'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
job = [j for j in docs[-1].values() if isinstance(j, dict) and "script" in j][0]
sys.stdout.write([s for s in job["script"] if "# --- greenlight_notes: begin" in s][0])
PYEOF
	if cmp -s "$TMP/fn.sh" "$TMP/embedded.sh"; then ok; else
		ko "$f: the embedded greenlight_notes is not adapters/notes.sh's"
		diff "$TMP/fn.sh" "$TMP/embedded.sh"
	fi
done

# ---- the scenario -------------------------------------------------------------
notes_files() {
	cp "$SRCDIR/adapters/gitlab/greenlight.gitlab-ci.yml" "$1/"
	mkdir -p "$1/templates"
	cp "$SRCDIR/adapters/gitlab/templates/greenlight.yml" "$1/templates/"
	cat >"$1/.gitlab-ci.yml" <<'YAML'
include:
  - local: greenlight.gitlab-ci.yml
  - local: templates/greenlight.yml
    inputs:
      job-name: component
      command: check
      gate: gate.json
      results: fast.json
      baseline-notes: "true"

gate:
  extends: .greenlight
  variables: { GREENLIGHT_COMMAND: check, GREENLIGHT_GATE: gate.json }

YAML
	# docs/ci/gitlab.md's job as the doc shows it (gate and results at
	# their defaults: greenlight.json, results.json)
	$PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/docs/ci/gitlab.md" gitlab-baseline-notes >>"$1/.gitlab-ci.yml" ||
		ko "docs/ci/gitlab.md: snippet gitlab-baseline-notes"
	cp "$1/gate.json" "$1/greenlight.json"
	cp "$1/fast.json" "$1/results.json"
}
# gl_job CLONE JOB LOG [--variable K=V ...]: run one job; prints its exit code
gl_job() {
	local clone=$1 job=$2 log=$3
	shift 3
	(cd "$clone" && "$NODE_BIN/gitlab-ci-local" --shell-isolation --no-artifacts-to-source --no-color \
		--variable "GREENLIGHT_BIN=$GLWRAP" "$@" "$job") >"$log" 2>&1
	# "JOB finished in 271 ms  FAIL 5", or " PASS  JOB"
	if grep -q "^ PASS  $job\$" "$log"; then echo 0; return; fi
	sed -n "s/^$job finished in .* FAIL \([0-9]*\).*/\1/p" "$log" | head -n 1
}
gl_notes() { # CLONE RESULTS OPT-IN LOG
	gl_job "$1" gate "$4" --variable "GREENLIGHT_RESULTS=$2" --variable "GREENLIGHT_BASELINE_NOTES=$3"
}
# the job works in a copy of the clone (.git included), like a runner's own
notes_repo() { echo "$1/.gitlab-ci-local/builds/gate"; }
notes_scenario gl_notes

# ---- the component's input ----------------------------------------------------
git clone -q "file://$NOTES/origin.git" "$NOTES/comp"
gl_job "$NOTES/comp" component "$NOTES/comp.log" >/dev/null
has "component: fetched" "$NOTES/comp.log" "fetched refs/notes/greenlight from origin"
has "component: pushed" "$NOTES/comp.log" "baseline notes: pushed refs/notes/greenlight"
[ "$failed" -eq 0 ] || cat "$NOTES/comp.log"

# ---- docs/ci/gitlab.md's job, on the default branch ---------------------------
before=$(git --git-dir="$NOTES/origin.git" rev-parse refs/notes/greenlight)
git clone -q --depth 1 "file://$NOTES/origin.git" "$NOTES/doc"
eq "gitlab-baseline-notes: the job passes" "$(gl_job "$NOTES/doc" release-gate "$NOTES/doc.log")" 0
has "gitlab-baseline-notes: fetched" "$NOTES/doc.log" "fetched refs/notes/greenlight from origin"
has "gitlab-baseline-notes: judged against the baseline" "$NOTES/doc.log" '$$.DeltaPct.latencyMs=0'
has "gitlab-baseline-notes: pushed" "$NOTES/doc.log" "baseline notes: pushed refs/notes/greenlight"
check "gitlab-baseline-notes: origin moved" test "$(git --git-dir="$NOTES/origin.git" rev-parse refs/notes/greenlight)" != "$before"
[ "$failed" -eq 0 ] || cat "$NOTES/doc.log"

finish
