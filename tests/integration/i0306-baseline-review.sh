# i0306-baseline-review.sh - a review that a baseline triggered: the mail,
# the review page and the decision record show the baseline and the change
# next to the value; an approved release is recorded as a baseline with
# outcome "approved" (docs/baselines.md).
. "$(dirname "$0")/lib.sh"
start_smtp
WORK=$TMP/repo
make_repo "$WORK"
cat >"$WORK/greenlight.json" <<'JSON'
{ "version": 1, "name": "model-release", "results": "results.json",
  "choices": [
    { "And": [ { "Variable": "$$.DeltaPct.latencyMs", "IsPresent": true },
               { "Variable": "$$.DeltaPct.latencyMs", "NumericGreaterThan": 10 } ],
      "Next": "engineering" },
    { "Variable": "$.accuracypct", "NumericLessThan": 96, "Next": "research" } ],
  "default": "pass",
  "teams": { "research": { "email": ["research@example.com"] },
             "engineering": { "email": ["engineering@example.com"] } },
  "baseline": { "record": "on_pass" } }
JSON
# the parent commit passed at 180 ms: that is the baseline
printf '{"accuracypct": 100, "latencyMs": 180}\n' >"$WORK/results.json"
(cd "$WORK" && "$GREENLIGHT" check >"$TMP/first.out" 2>&1)
check "the first release passes and is recorded" grep -q "baseline: recorded 2 value(s) of gate model-release" "$TMP/first.out"
git -C "$WORK" commit -q --allow-empty -m "Bigger model"
printf '{"accuracypct": 100, "latencyMs": 225}\n' >"$WORK/results.json"

gl_run_bg --timeout 60s
wait_mail 1 || { finish; exit 1; }
url=$(mail_link 1)
$PY - "$MAILDIR/0001.eml" <<'PYEOF' && ok || ko "the mail shows the baseline and the change"
import email, sys
from email import policy
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=policy.default)
text = m.get_body(("plain",)).get_content()
html = m.get_body(("html",)).get_content()
want = "(baseline 180, +45 (+25%))"
assert want in text, text
assert want in html, html
PYEOF
check "the page shows the baseline and the change" sh -c "curl -s '$url' | grep -qF 'baseline 180 (+45 (+25%))'"
code=$(decide "$url" approve "the bigger model is worth it")
check "approve recorded (200)" test "$code" = 200
wait_gl
check "gate exits 0 on approval" test "$RC" -eq 0
check "the table has the baseline columns" grep -q " 180  *+45 (+25%)  *yes" "$WORK/gl.out"
check "the decision record carries the baseline" test "$(json_get "$WORK/decision.json" 'd["rules"][0]["tests"][1]["baseline"]')" = "{'value': 180, 'delta': 45, 'delta_pct': 25}"
check "the approved release is recorded" grep -q "baseline: recorded 2 value(s) of gate model-release" "$WORK/gl.out"
note=$(git -C "$WORK" notes --ref greenlight show HEAD)
check "its record says approved" grep -q '"outcome":"approved"' <<<"$note"
check "its record holds the new latency" grep -q '"\$.latencyMs":225' <<<"$note"
finish
