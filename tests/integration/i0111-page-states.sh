# i0111-page-states.sh - every state of the review page in a real browser
# (headless Debian Chromium driven by tests/integration/browser.mjs), each
# shown at the top of the page, above the headline, at 1280x800 and 390x844.
# The pages are served by a `greenlight relay` (it keeps serving decided and
# expired requests; a gate in listen mode stops when the request is settled).
#
# One request: four fired rules (two read the baseline), engineering (eng1,
# eng2 and ada, the commit's author; quorum 1) and research (quorum 1).
#   pending     eng1: headline, both buttons on the first screen, unscrolled
#   author      ada: cannot approve, may reject
#   (eng1 clicks Approve: "CI keeps waiting for 1 more approval from research")
#   decided     eng1 again: "You approved at ...", no buttons
#   quorum-met  eng2: "engineering's quorum is met — your vote is not
#               needed", Approve disabled, Reject offered
#   (research clicks Reject, JavaScript disabled: "CI fails"; gate exits 1)
#   rejected    eng2: 410, "Rejected by research@example.com: ... — CI fails"
# A second request with a 2 s deadline:
#   expired     410, "Expired at ... without a decision", how to ask again
# Screenshots of each state and viewport are kept under the build tree
# (test-artifacts/i0111-page-states); docs/img/review-*-390.png are the
# 390 px first screens.  Needs what i0110-browser.sh needs (else 77).
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-}
for c in /usr/lib/chromium/chromium /usr/bin/chromium; do
	[ -z "$CHROMIUM" ] && [ -x "$c" ] && CHROMIUM=$c
done
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null 2>&1 ||
   [ ! -f "$SRCDIR/node_modules/playwright-core/package.json" ]; then
	echo "SKIP: needs Chromium, node and $SRCDIR/node_modules/playwright-core (scripts/setup-deps.sh)"
	exit 77
fi
export CHROMIUM

ART=$(cd "$(dirname "$GREENLIGHT")" && pwd)/test-artifacts/i0111-page-states
rm -rf "$ART"
mkdir -p "$ART"

start_smtp
export GREENLIGHT_RELAY_TOKEN=relay-secret-token-0111
RPORT=$(free_port)
GREENLIGHT_RELAY_TOKENS=$GREENLIGHT_RELAY_TOKEN "$GREENLIGHT" relay \
	--listen 127.0.0.1:$RPORT --db "$TMP/relay.db" >>"$TMP/relay.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && break; sleep 0.05; done
relay_args="--via relay --relay http://127.0.0.1:$RPORT"
# The facts a CI gives: where the run is, and the forge for commit links.
export GREENLIGHT_RUN_URL=https://ci.example.com/acme/model/runs/42

# browse NAME URL [browser.mjs options]: one state at both sizes.
browse() {
	local name=$1 u=$2; shift 2
	node "$SRCDIR/tests/integration/browser.mjs" "$u" "$ART" --name "$name" \
		--viewports 1280x800,390x844 "$@" >"$TMP/browser-$name.log" 2>&1
	BROWSER_RC=$?
	cat "$TMP/browser-$name.log"
}

WORK=$TMP/repo
make_repo "$WORK"
cat >"$WORK/greenlight.json" <<'JSON'
{ "version": 1, "name": "model-release", "results": "results.json", "match": "all",
  "choices": [
    { "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "engineering" },
    { "Variable": "$.p99Ms", "NumericGreaterThan": 300, "Next": "engineering" },
    { "And": [ { "Variable": "$$.DeltaPct.latencyMs", "IsPresent": true },
               { "Variable": "$$.DeltaPct.latencyMs", "NumericGreaterThan": 10 } ],
      "Next": "engineering" },
    { "Variable": "$.accuracypct", "NumericLessThan": 96, "Next": "research" } ],
  "default": "pass",
  "teams": {
    "engineering": { "email": ["eng1@example.com", "eng2@example.com", "ada@example.com"],
                     "approvals": 1 },
    "research": { "email": ["research@example.com"], "approvals": 1 } },
  "baseline": { "record": "on_pass" } }
JSON
# the parent commit passed at 70 ms: that is the baseline
printf '{"accuracypct": 99, "latencyMs": 70, "p99Ms": 250}\n' >"$WORK/results.json"
(cd "$WORK" && "$GREENLIGHT" check >"$TMP/first.out" 2>&1)
check "the first release passes and is recorded" grep -q "baseline: recorded" "$TMP/first.out"
git -C "$WORK" commit -q --allow-empty -m "Bigger model"
printf '{"accuracypct": 90, "latencyMs": 225, "p99Ms": 900}\n' >"$WORK/results.json"

sha=$(git -C "$WORK" rev-parse HEAD)
# as a GitLab job would see it: the project's URL gives the commit link
export GITLAB_CI=true CI_PROJECT_DIR=$WORK CI_PROJECT_URL=https://gitlab.example.com/acme/model
gl_run_bg $relay_args --timeout 120s
unset GITLAB_CI CI_PROJECT_DIR CI_PROJECT_URL
wait_mail 4 || { finish; exit 1; }
eng1=$(mail_link_to eng1@example.com)
eng2=$(mail_link_to eng2@example.com)
ada=$(mail_link_to ada@example.com)
research=$(mail_link_to research@example.com)
check "links point at the relay" grep -q "^http://127.0.0.1:$RPORT/r/" <<<"$eng1"
page=$(curl -s "$eng1")
check "the page names the repository" grep -qF "<dt>Repository</dt><dd>acme/model</dd>" <<<"$page"
check "the page links the commit on the forge" grep -qF "<a href=\"https://gitlab.example.com/acme/model/-/commit/$sha\"" <<<"$page"
check "the page links the CI run" grep -qF "<a href=\"$GREENLIGHT_RUN_URL\"" <<<"$page"

browse pending "$eng1" --fold --headline "latencyMs 225 > 80 (+181%), baseline 70: +155 (+221%)" \
	--rule latencyMs:225:80 --rule p99Ms:900:300 --rule accuracypct:90:96
check "pending: both buttons on the first screen, four rules and a baseline" test "$BROWSER_RC" -eq 0

browse author "$ada" --state author --state-text "so you cannot approve it" --buttons reject --fold
check "author: told first, Approve disabled, Reject on the first screen" test "$BROWSER_RC" -eq 0

browse approve "$eng1" --fold --viewports 390x844 --action approve \
	--after "CI keeps waiting for 1 more approval from research"
check "eng1 approves; the answer says what CI waits for" test "$BROWSER_RC" -eq 0

browse decided "$eng1" --state decided --state-text "You approved at " --buttons none
check "decided: 'You approved at' on top, no buttons" test "$BROWSER_RC" -eq 0

browse quorum-met "$eng2" --state quorum-met --buttons reject --fold \
	--state-text "engineering’s quorum is met — your vote is not needed"
check "quorum met: said on top, Approve disabled, Reject on the first screen" test "$BROWSER_RC" -eq 0

reason='accuracy 90% is below what we promised'
browse reject "$research" --fold --viewports 390x844 --action reject --no-js \
	--reason "$reason" --after "CI fails (greenlight exits 1)" --after "Back to the CI run"
check "research rejects with JavaScript disabled; the answer says CI fails" test "$BROWSER_RC" -eq 0
wait_gl
check "the gate exits 1 after the reject" test "$RC" -eq 1

browse rejected "$eng2" --status 410 --state rejected --buttons none \
	--state-text "Rejected by research@example.com: “$reason” — CI fails" \
	--headline "latencyMs 225 > 80" --rule latencyMs:225:80
check "rejected: who, why and 'CI fails' on top; the evidence kept" test "$BROWSER_RC" -eq 0

# ---- expired ----------------------------------------------------------------
git -C "$WORK" commit -q --allow-empty -m "Another try"
gl_run_bg $relay_args --timeout 2s
wait_mail 8 || { finish; exit 1; }
late=$(mail_link_to eng1@example.com)
wait_gl
check "the gate exits 3 at its deadline" test "$RC" -eq 3
browse expired "$late" --status 410 --state expired --buttons none \
	--state-text "without a decision" --rule latencyMs:225:80
check "expired: said on top with how to ask again; the evidence kept" test "$BROWSER_RC" -eq 0
check "expired page says how to ask again" grep -q "greenlight run --resend" <<<"$(curl -s "$late")"

echo "screenshots:"
for f in "$ART"/*.png; do [ -f "$f" ] && echo "  $f"; done
finish
