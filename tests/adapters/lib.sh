# lib.sh - shared by the CI adapter tests (tests/adapters/a*.sh), sourced by bash.
#
# tests/lib.sh gives each test a scratch directory ($TMP), an environment
# with no CI variables leaking in from whatever runs the suite, and the
# assertions (ok/ko/check/eq/has/hasnt) that count and print
# "N passed, N failed" at the end (finish).  This adds the tool paths (npm
# binaries from the repository's node_modules, Debian's python3 and groovy)
# and helpers:
#   $PY, $NODE_BIN, $GLDIR     python3, node_modules/.bin, greenlight's directory
#   need PATH WHAT             stop the test unless PATH exists
#   gha REPORT [options]       run action.yml under gha_harness.py
#   jqr FILE FILTER            raw jq output
#   write_fail_gate FILE       a gate whose first rule fails the release
#   find_java                  export JAVA_HOME for groovy
# A missing tool is a failure with a message naming the setup step (the
# README's test command installs all of them), never a silent skip.
. "${SRCDIR:?set SRCDIR to the source tree}/tests/lib.sh"
PY=/usr/bin/python3
NODE_BIN=$SRCDIR/node_modules/.bin
GLDIR=$(cd "$(dirname "$GREENLIGHT")" && pwd)

need() { # need PATH WHAT
	if [ ! -e "$1" ]; then
		echo "FAIL: $2 is missing ($1); run scripts/setup-deps.sh"
		exit 1
	fi
}

# gha REPORT [harness options]: run action.yml under tests/adapters/gha_harness.py
gha() {
	local report=$1
	shift
	$PY "$SRCDIR/tests/adapters/gha_harness.py" "$SRCDIR" "$@" >"$report" 2>"$report.err"
	local rc=$?
	[ "$rc" -eq 0 ] || { echo "harness exit $rc:"; cat "$report.err"; }
	return "$rc"
}
# jqr FILE FILTER: raw jq output
jqr() { jq -r "$2" "$1"; }

# gate files used by several tests
write_fail_gate() { # a gate whose first rule fails the release
	cat >"$1" <<'JSON'
{
  "version": 1,
  "name": "model-release",
  "results": "results.json",
  "choices": [
    { "Variable": "$.accuracypct", "NumericLessThan": 50, "Next": "fail" },
    { "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "engineering" }
  ],
  "default": "pass",
  "teams": { "engineering": { "email": ["engineering@example.com"] } }
}
JSON
}

# find_java: JAVA_HOME for groovy (Debian's OpenJDK 17, the default JVM, or
# the java on PATH), exported
find_java() {
	if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ]; then
		for j in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/default-java; do
			[ -x "$j/bin/java" ] && { JAVA_HOME=$j; break; }
		done
		[ -n "${JAVA_HOME:-}" ] || JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
	fi
	export JAVA_HOME
}

# ---- baseline notes: one scenario for every adapter's opt-in ---------------
# notes_scenario RUNNER: real git, a bare repository as origin (file://),
# no network.  RUNNER CLONE RESULTS OPT-IN LOG runs the adapter once in the
# clone CLONE (gate gate.json, `check`, results RESULTS, baseline notes
# OPT-IN true/fetch/false), writes the adapter's log to LOG and prints
# greenlight's exit code.  Before the first commit, notes_files DIR (when
# the test defines it) adds the adapter's own files (pipeline definitions)
# to the repository, and notes_repo CLONE names the repository the job
# worked in when that is a copy of CLONE (gitlab-ci-local's build
# directory).  $GLWRAP is a greenlight that, when $NOTES/armed
# exists, first records another commit and pushes the notes to origin (a
# concurrent job between our fetch and our push).
#   1. first run (full clone, latency 200): pass, origin had no notes, ours
#      are pushed;
#   2. shallow clone of the next commit, latency 250 (+25%): the clone is
#      deepened, the notes fetched, review (exit 5), nothing pushed; a
#      failing outcome there pushes nothing either, nor does a pass with
#      the opt-in "fetch";
#   3. opt-in off: a shallow clone is not deepened and gets no notes
#      (greenlight stops, exit 2); a full clone's pass records there only;
#   4. shallow clone of a third commit, latency 200, while another job
#      records the second commit and pushes: the push is merged, both
#      records (and the first) are on origin.
notes_scenario() {
	local run=$1 c1 c2 c3 before rc
	NOTES=$TMP/notes
	local origin=$NOTES/origin.git seed=$NOTES/seed
	mkdir -p "$NOTES/bin" "$NOTES/home"
	# no identity in $HOME: the notes merge must work without one, as in CI
	export HOME=$NOTES/home
	git init -q --bare -b main "$origin"
	git init -q -b main "$seed"
	cat >"$seed/gate.json" <<'JSON'
{
  "version": 1,
  "name": "model-release",
  "choices": [
    { "Variable": "$.accuracypct", "NumericLessThan": 50, "Next": "fail" },
    { "And": [
        { "Variable": "$$.DeltaPct.latencyMs", "IsPresent": true },
        { "Variable": "$$.DeltaPct.latencyMs", "NumericGreaterThan": 10 } ],
      "Next": "engineering" }
  ],
  "default": "pass",
  "teams": { "engineering": { "email": ["engineering@example.com"] } },
  "baseline": { "record": "on_pass" }
}
JSON
	echo '{"accuracypct": 100, "latencyMs": 200}' >"$seed/fast.json"
	echo '{"accuracypct": 100, "latencyMs": 250}' >"$seed/slow.json"
	echo '{"accuracypct": 12, "latencyMs": 200}' >"$seed/bad.json"
	if command -v notes_files >/dev/null; then notes_files "$seed"; fi
	command -v notes_repo >/dev/null || notes_repo() { echo "$1"; }
	cat >"$GLWRAP" <<SH
#!/bin/sh
if [ -e "$NOTES/armed" ] && { [ "\$1" = check ] || [ "\$1" = run ]; }; then
	rm -f "$NOTES/armed"
	"$NOTES/other.sh" >"$NOTES/other.log" 2>&1 || echo "the other writer failed" >&2
fi
exec "$GREENLIGHT" "\$@"
SH
	cat >"$NOTES/other.sh" <<SH
#!/bin/sh
# another job: records the second commit and pushes the notes
set -e
rm -rf "$NOTES/other"
git clone -q "file://$origin" "$NOTES/other"
cd "$NOTES/other"
git checkout -q --detach HEAD~1
git fetch -q origin +refs/notes/greenlight:refs/notes/greenlight
"$GREENLIGHT" record -g gate.json -r fast.json
git push -q origin refs/notes/greenlight
SH
	chmod +x "$GLWRAP" "$NOTES/other.sh"
	notes_commit() {
		git -C "$seed" add -A
		git -C "$seed" -c user.name=Ada -c user.email=ada@example.com commit -q --allow-empty -m "$1"
		git -C "$seed" push -q "file://$origin" main
		git -C "$seed" rev-parse HEAD
	}
	notes_on() { # notes_on COMMIT: the gate's record on origin, or "none"
		local n
		n=$(git --git-dir="$origin" notes --ref=greenlight show "$1" 2>/dev/null) || { echo none; return; }
		printf '%s\n' "$n" | jq -r '."model-release" | "\(.outcome) \(.values["$.latencyMs"])"' 2>&1
	}
	origin_notes() { git --git-dir="$origin" rev-parse -q --verify refs/notes/greenlight || echo none; }

	# 1. first run
	c1=$(notes_commit one)
	git clone -q "file://$origin" "$NOTES/a"
	rc=$($run "$NOTES/a" fast.json true "$NOTES/a.log")
	eq "notes 1: first run passes" "$rc" 0
	has "notes 1: says origin has no notes yet" "$NOTES/a.log" "origin has no refs/notes/greenlight yet"
	has "notes 1: pushed" "$NOTES/a.log" "baseline notes: pushed refs/notes/greenlight"
	eq "notes 1: origin has the first record" "$(notes_on "$c1")" "pass 200"

	# 2. shallow clone, +25%: review; then a failing outcome
	c2=$(notes_commit two)
	git clone -q --depth 1 "file://$origin" "$NOTES/b"
	eq "notes 2: the clone is shallow" "$(git -C "$NOTES/b" rev-parse --is-shallow-repository)" true
	before=$(origin_notes)
	rc=$($run "$NOTES/b" slow.json true "$NOTES/b.log")
	eq "notes 2: +25% latency against the fetched baseline: review" "$rc" 5
	has "notes 2: deepened" "$NOTES/b.log" "deepening the shallow clone"
	has "notes 2: fetched" "$NOTES/b.log" "fetched refs/notes/greenlight from origin"
	eq "notes 2: no longer shallow" "$(git -C "$(notes_repo "$NOTES/b")" rev-parse --is-shallow-repository)" false
	has "notes 2: review is not pushed" "$NOTES/b.log" "not pushed: the outcome is review"
	eq "notes 2: origin unchanged" "$(origin_notes)" "$before"
	git -C "$NOTES/b" -c user.name=Ada -c user.email=ada@example.com \
		notes --ref=greenlight add -m '{"stray": 1}' HEAD	# would show if pushed
	rc=$($run "$NOTES/b" bad.json true "$NOTES/b2.log")
	eq "notes 2: failing results fail" "$rc" 1
	has "notes 2: fail is not pushed" "$NOTES/b2.log" "not pushed: the outcome is fail"
	eq "notes 2: origin still unchanged" "$(origin_notes)" "$before"
	eq "notes 2: nothing recorded for the second commit" "$(notes_on "$c2")" none
	rc=$($run "$NOTES/b" fast.json fetch "$NOTES/b3.log")
	eq "notes 2 (fetch only): passes against the fetched baseline" "$rc" 0
	has "notes 2 (fetch only): fetched" "$NOTES/b3.log" "fetched refs/notes/greenlight from origin"
	hasnt "notes 2 (fetch only): no push" "$NOTES/b3.log" "baseline notes: pushed"
	eq "notes 2 (fetch only): origin unchanged" "$(origin_notes)" "$before"

	# 3. opt-in off: a shallow clone stays shallow and without notes (so
	# greenlight itself stops: exit 2); a full clone's passing record stays
	# in the clone
	c3=$(notes_commit three)
	git clone -q --depth 1 "file://$origin" "$NOTES/e"
	rc=$($run "$NOTES/e" slow.json false "$NOTES/e.log")
	eq "notes 3 (off): greenlight finds a shallow clone without notes" "$rc" 2
	has "notes 3 (off): and says so" "$NOTES/e.log" "this is a shallow clone and no recorded commit is in the fetched history"
	hasnt "notes 3 (off): nothing fetched" "$NOTES/e.log" "baseline notes:"
	eq "notes 3 (off): still shallow" "$(git -C "$(notes_repo "$NOTES/e")" rev-parse --is-shallow-repository)" true
	git clone -q "file://$origin" "$NOTES/f"
	rc=$($run "$NOTES/f" fast.json false "$NOTES/f.log")
	eq "notes 3 (off): full clone, no baseline: pass" "$rc" 0
	check "notes 3 (off): recorded in the clone" git -C "$(notes_repo "$NOTES/f")" notes --ref=greenlight show "$c3"
	hasnt "notes 3 (off): nothing pushed" "$NOTES/f.log" "baseline notes:"
	eq "notes 3 (off): origin unchanged" "$(origin_notes)" "$before"
	eq "notes 3 (off): the local record is not on origin" "$(notes_on "$c3")" none

	# 4. another job pushes between our fetch and our push
	touch "$NOTES/armed"
	git clone -q --depth 1 "file://$origin" "$NOTES/d"
	rc=$($run "$NOTES/d" fast.json true "$NOTES/d.log")
	eq "notes 4: passes" "$rc" 0
	check "notes 4: the other job ran" test ! -e "$NOTES/armed"
	has "notes 4: pushed" "$NOTES/d.log" "baseline notes: pushed refs/notes/greenlight"
	eq "notes 4: the first record kept" "$(notes_on "$c1")" "pass 200"
	eq "notes 4: the other job's record kept" "$(notes_on "$c2")" "pass 200"
	eq "notes 4: ours pushed" "$(notes_on "$c3")" "pass 200"
	[ "$failed" -eq 0 ] || for f in "$NOTES"/*.log; do echo "--- $f"; cat "$f"; done
}
GLWRAP=$TMP/greenlight-wrap/greenlight
mkdir -p "$TMP/greenlight-wrap"
