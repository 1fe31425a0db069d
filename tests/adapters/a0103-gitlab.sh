# a0103-gitlab.sh - the GitLab template and component on a sample pipeline
# run by npm gitlab-ci-local in shell mode (no Docker): pass (check), fail
# (run), review (exit 5) with and without allow_failure: {exit_codes: [5]},
# a fail that exit_codes [5] must not excuse, the component with inputs,
# the "review needed as a warning" job taken from docs/ci/gitlab.md,
# dotenv variables in later jobs, JUnit parsed as XML, and greenlight
# detecting GitLab by itself.  gitlab-ci-local treats any allow_failure
# object as non-blocking in its exit code: every job's status line is checked.
. "$(dirname "$0")/lib.sh"
need "$NODE_BIN/gitlab-ci-local" "npm gitlab-ci-local"
command -v rsync >/dev/null || { echo "FAIL: rsync is missing; run scripts/setup-deps.sh"; exit 1; }

REPO=$TMP/repo
mkdir -p "$REPO/templates" "$TMP/home"
cp "$SRCDIR/adapters/gitlab/greenlight.gitlab-ci.yml" "$REPO/"
cp "$SRCDIR/adapters/gitlab/templates/greenlight.yml" "$REPO/templates/"
cp "$SRCDIR/examples/seed/greenlight.json" "$SRCDIR/examples/seed/good.json" \
	"$SRCDIR/examples/seed/slow.json" "$REPO/"
write_fail_gate "$REPO/fail-gate.json"
echo '{"accuracypct": 12, "latencyMs": 10}' >"$REPO/bad.json"
cp "$SRCDIR/examples/seed/slow.json" "$REPO/results.json"	# the gate's default results
cat >"$REPO/.gitlab-ci.yml" <<'YAML'
include:
  - local: greenlight.gitlab-ci.yml
  - local: templates/greenlight.yml
    inputs:
      job-name: component-check
      stage: gate
      command: check
      results: good.json
      args: --max-results-bytes 1M

stages: [gate, after]

gate-pass:
  extends: .greenlight
  stage: gate
  variables: { GREENLIGHT_COMMAND: check, GREENLIGHT_RESULTS: good.json }

gate-fail:
  extends: .greenlight
  stage: gate
  variables: { GREENLIGHT_GATE: fail-gate.json, GREENLIGHT_RESULTS: bad.json }

gate-fail-not-excused:
  extends: .greenlight
  stage: gate
  variables: { GREENLIGHT_GATE: fail-gate.json, GREENLIGHT_RESULTS: bad.json }
  allow_failure: { exit_codes: [5] }

gate-review-warns:
  extends: .greenlight
  stage: gate
  variables: { GREENLIGHT_COMMAND: check, GREENLIGHT_RESULTS: slow.json }
  allow_failure: { exit_codes: [5] }

gate-review-fails:
  extends: .greenlight
  stage: gate
  variables: { GREENLIGHT_COMMAND: check, GREENLIGHT_RESULTS: slow.json }

after-pass:
  stage: after
  needs: [gate-pass]
  script:
    - echo "seen outcome=$GREENLIGHT_OUTCOME code=$GREENLIGHT_EXIT_CODE gate=$GREENLIGHT_GATE_NAME"

after-review:
  stage: after
  needs: [gate-review-warns]
  script:
    - echo "seen outcome=$GREENLIGHT_OUTCOME code=$GREENLIGHT_EXIT_CODE teams=$GREENLIGHT_TEAMS"

after-fail:
  stage: after
  needs: [gate-fail]
  when: always
  script:
    - echo "seen outcome=$GREENLIGHT_OUTCOME code=$GREENLIGHT_EXIT_CODE"

detect:
  stage: after
  needs: []
  script:
    - '"$GREENLIGHT_BIN" check -r good.json > /dev/null'
    - 'test -s greenlight.env && echo "dotenv by itself: $(head -n 1 greenlight.env)"'
YAML
# docs/ci/gitlab.md's "review needed as a warning" job, as the doc shows it
# (its stages are the doc's pipeline's: build, gate, deploy; this one has gate)
if $PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/docs/ci/gitlab.md" gitlab-review-warning >"$TMP/warning.yml"; then
	ok
	{ echo; cat "$TMP/warning.yml"; } >>"$REPO/.gitlab-ci.yml"
else
	ko "docs/ci/gitlab.md: snippet gitlab-review-warning"
fi
git -C "$REPO" init -q -b main
git -C "$REPO" -c user.name=Ada -c user.email=ada@example.com add -A
git -C "$REPO" -c user.name=Ada -c user.email=ada@example.com commit -q -m pipeline

(cd "$REPO" && HOME=$TMP/home "$NODE_BIN/gitlab-ci-local" --shell-isolation \
	--no-artifacts-to-source --no-color --concurrency 2 \
	--variable "GREENLIGHT_BIN=$GREENLIGHT" >"$TMP/gcl.log" 2>&1)
rc=$?
check "gitlab-ci-local exits non-zero (gate-fail and gate-review-fails fail)" test "$rc" -ne 0

# status lines: " PASS  job", " WARN  job   pre_script", " FAIL  job"
status() { sed -n "s/^ \(PASS\|WARN\|FAIL\)  $1\( .*\)\{0,1\}\$/\1/p" "$TMP/gcl.log"; }
eq "status gate-pass" "$(status gate-pass)" PASS
eq "status component-check" "$(status component-check)" PASS
eq "status gate-fail" "$(status gate-fail)" FAIL
eq "status gate-fail-not-excused" "$(status gate-fail-not-excused)" FAIL
eq "status gate-review-warns" "$(status gate-review-warns)" WARN
eq "status gate-review-fails" "$(status gate-review-fails)" FAIL
eq "status gate-check (docs/ci/gitlab.md snippet)" "$(status gate-check)" WARN
eq "status after-pass" "$(status after-pass)" PASS
eq "status after-review" "$(status after-review)" PASS
eq "status after-fail" "$(status after-fail)" PASS
eq "status detect" "$(status detect)" PASS
has "exit code of the failing gate" "$TMP/gcl.log" "gate-fail-not-excused finished in"

# dotenv reached the later jobs
has "after-pass saw the dotenv" "$TMP/gcl.log" "seen outcome=pass code=0 gate=model-release"
has "after-review saw the dotenv" "$TMP/gcl.log" "seen outcome=review code=5 teams=engineering"
has "after-fail saw the dotenv" "$TMP/gcl.log" "seen outcome=fail code=1"
has "detect: GitLab found by greenlight" "$TMP/gcl.log" "dotenv by itself: GREENLIGHT_OUTCOME=pass"

# JUnit and decision files, as the jobs left them
B=$REPO/.gitlab-ci-local/builds
junit_counts() { # junit_counts FILE: "tests failures skipped", after parsing the XML
	$PY - "$1" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
print(s.get("tests"), s.get("failures"), s.get("skipped"), len(s.findall("testcase")))
PYEOF
}
eq "junit gate-pass" "$(junit_counts "$B/gate-pass/greenlight-junit.xml")" "3 0 0 3"
eq "junit gate-fail" "$(junit_counts "$B/gate-fail/greenlight-junit.xml")" "3 1 2 3"
eq "junit gate-review-warns" "$(junit_counts "$B/gate-review-warns/greenlight-junit.xml")" "3 1 1 3"
eq "junit gate-check (docs snippet)" "$(junit_counts "$B/gate-check/greenlight-junit.xml")" "3 1 1 3"
eq "junit component-check" "$(junit_counts "$B/component-check/greenlight-junit.xml")" "3 0 0 3"
has "junit failure names the rule" "$B/gate-fail/greenlight-junit.xml" 'name="choices[0] $.accuracypct &lt; 50"'
A=$REPO/.gitlab-ci-local/artifacts
eq "decision record is an artifact" "$(jq -r .outcome "$A/gate-fail/greenlight-decision.json")" fail
eq "component record" "$(jq -r .results_file "$A/component-check/greenlight-decision.json")" good.json

[ "$failed" -eq 0 ] || { echo "--- gitlab-ci-local log"; cat "$TMP/gcl.log"; }
finish
