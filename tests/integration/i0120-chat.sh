# i0120-chat.sh - chat notifications from `greenlight run` (listen mode,
# real SMTP rig) to local stand-ins for the webhooks of Slack, Microsoft
# Teams, Mattermost and Google Chat (chat_server.py).  The stand-in checks
# every body against the format each service documents (Slack Block Kit,
# an Adaptive Card 1.4+ in a Teams Workflows message, Mattermost message
# attachments, Google Chat cards v2) and the checks below insist that every
# POST passed.  Also: retries on 500 and on 429 with Retry-After, none on
# 400; no review token in any channel message; hostile metric names arrive
# escaped; a webhook that never answers or refuses connections does not
# delay the decision; a required webhook that is down ends the run with 4
# after the decision is recorded.
. "$(dirname "$0")/lib.sh"
start_smtp

CHATLOG=$TMP/chat.log
$PY "$SRCDIR/tests/integration/chat_server.py" --port-file "$TMP/chat.port" --log "$CHATLOG" \
	>"$TMP/chat.err" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -s "$TMP/chat.port" ] && break; sleep 0.1; done
HOOK=http://127.0.0.1:$(cat "$TMP/chat.port")
DOWN=http://127.0.0.1:$(free_port)

# chat_posts SERVICE [MODE] [CARD-KIND]: how many POSTs the stand-in logged
chat_posts() {
	$PY - "$CHATLOG" "$@" <<'PYEOF'
import json, sys
log, service = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else None
print(sum(1 for l in open(log) if json.loads(l)["service"] == service
          and (mode is None or json.loads(l)["mode"] == mode)))
PYEOF
}

wait_posts() { # wait_posts N SERVICE [MODE]
	local n=$1
	shift
	for _ in $(seq 150); do
		[ "$(chat_posts "$@")" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

# a gate: the seed's rules plus a rule on a hostile metric name, both
# routed to engineering (match all); CHAT is the team's "chat" array
make_gate() { # make_gate DIR CHAT-JSON
	cat >"$1/greenlight.json" <<EOF
{
  "version": 1,
  "name": "model-release",
  "results": "results.json",
  "match": "all",
  "choices": [
    { "Variable": "\$.latencyMs", "NumericGreaterThan": 80, "Next": "engineering" },
    { "Variable": "\$['<!channel> @here *bold* [x](javascript:alert(1)) <b>']", "NumericGreaterThan": 1, "Next": "engineering" }
  ],
  "default": "pass",
  "teams": {
    "engineering": { "email": ["engineering@example.com"], "approvals": 1, "chat": $2 }
  }
}
EOF
	printf '%s\n' '{"accuracypct":100,"latencyMs":225,"<!channel> @here *bold* [x](javascript:alert(1)) <b>":7}' >"$1/results.json"
	git -C "$1" add -A && git -C "$1" commit -q -m "Chat gate"
}

# ---- 1. all four services, with a 500 and a 429 on the way ----------------
WORK=$TMP/all
make_repo "$WORK"
make_gate "$WORK" '[
  {"service": "slack", "url_env": "GREENLIGHT_SLACK_URL"},
  {"service": "teams", "url_env": "GREENLIGHT_TEAMS_URL"},
  {"service": "mattermost", "url_env": "GREENLIGHT_MATTERMOST_URL"},
  {"service": "google-chat", "url_env": "GREENLIGHT_GOOGLE_CHAT_URL"}]'
check "the gate with chat webhooks validates" sh -c "cd '$WORK' && '$GREENLIGHT' validate >/dev/null 2>&1"
export GREENLIGHT_SLACK_URL=$HOOK/slack/ok/T000/B000/HOOKSECRET-slack
export GREENLIGHT_TEAMS_URL=$HOOK/teams/flaky/workflows/HOOKSECRET-teams
export GREENLIGHT_MATTERMOST_URL=$HOOK/mattermost/ratelimit/hooks/HOOKSECRET-mm
export GREENLIGHT_GOOGLE_CHAT_URL=$HOOK/google-chat/ok/v1/spaces/AAA/messages/HOOKSECRET-gc
gl_run_bg --timeout 60s --run-url https://ci.example.com/acme/model/runs/42
wait_mail 1 || { finish; exit 1; }
check "Slack got the review message" wait_posts 1 slack
check "Teams got it after a 500 (retried)" wait_posts 2 teams
check "Mattermost got it after a 429 with Retry-After (retried)" wait_posts 2 mattermost
check "Google Chat got the review message" wait_posts 1 google-chat
url=$(mail_link 1)
code=$(decide "$url" approve "fine for this release")
check "approve recorded (200)" test "$code" = 200
wait_gl
check "gate exits 0 on approval" test "$RC" -eq 0
check "decision.json says approved" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = approved
token=${url##*/}
$PY - "$CHATLOG" "$token" <<'PYEOF' && ok || ko "chat messages (see above)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
token = sys.argv[2]
bad = [r for r in recs if not r["valid"]]
assert not bad, "the stand-in found format errors: %s" % [(r["service"], r["errors"]) for r in bad]
ok = {}
for r in recs:
    if r["mode"] == "flaky" and r["attempt"] == 1 or r["mode"] == "ratelimit" and r["attempt"] == 1:
        continue    # the refused first attempts
    ok.setdefault(r["service"], []).append(r)
for s in ("slack", "teams", "mattermost", "google-chat"):
    assert len(ok.get(s, [])) == 2, "%s: %d delivered messages, want review + follow-up" % (s, len(ok.get(s, [])))
for r in recs:
    raw = json.dumps(r["body"], ensure_ascii=False)
    assert token not in raw, r["service"] + " message carries the review token"
    assert "/r/" not in raw, r["service"] + " message links to a review page"
    assert "https://ci.example.com/acme/model/runs/42" in raw, r["service"] + " has no link to the CI run"
    assert "HOOKSECRET" not in raw, r["service"] + " message quotes a webhook URL"
def texts(o):
    if isinstance(o, dict):
        for v in o.values(): yield from texts(v)
    elif isinstance(o, list):
        for v in o: yield from texts(v)
    elif isinstance(o, str):
        yield o
review = {s: ok[s][0]["body"] for s in ok}
follow = {s: ok[s][1]["body"] for s in ok}
for s, b in review.items():
    all_text = "\n".join(texts(b))
    assert "latencyMs" in all_text and "225" in all_text and "80" in all_text, s + ": no headline"
    assert "+181%" in all_text, s + ": no 'how far over'"
    assert "Review needed: model-release" in all_text, s + ": no title"
    assert "engineering" in all_text, s + ": no team"
    assert "Deadline" in all_text, s + ": no deadline"
for s, b in follow.items():
    all_text = "\n".join(texts(b)).replace("\u200b", "")    # Mattermost's "@" guard
    assert "Approved: model-release" in all_text, s + ": follow-up has no outcome"
    assert "engineering@example.com approved for engineering" in all_text, s + ": follow-up says not who"
    assert "fine for this release" in all_text, s + ": follow-up has no reason"
    assert "CI continues (exit 0)" in all_text, s + ": follow-up says not what CI did"
# the hostile metric name: as text, never as markup
sl = review["slack"]
mrk = [b["text"]["text"] for b in sl["blocks"] if b.get("text", {}).get("type") == "mrkdwn"]
mrk += [f["text"] for b in sl["blocks"] for f in b.get("fields", []) if f["type"] == "mrkdwn"] + [sl["text"]]
assert not any("<!channel>" in t for t in mrk), "slack mrkdwn carries <!channel>"
assert any("<!channel> @here *bold*" in t for t in texts(sl["blocks"])), "slack plain_text lost the metric name"
mm = review["mattermost"]
assert "\\[x\\](javascript" in mm["attachments"][0]["text"], "mattermost: markdown link not escaped"
assert "@\u200bhere" in mm["attachments"][0]["text"], "mattermost: @here not neutralised"
gc = "\n".join(texts(review["google-chat"]["cardsV2"]))
assert "&lt;b&gt;" in gc and "<b>" not in gc.replace("<b>" , "", 0), "google chat: HTML not escaped"
tm = review["teams"]["attachments"][0]["content"]
assert tm["version"] == "1.4" and tm["actions"][0]["type"] == "Action.OpenUrl"
runs = [r["text"] for e in tm["body"] if e["type"] == "RichTextBlock" for r in e["inlines"]]
assert any("[x](javascript:alert(1))" in t for t in runs), "teams: the metric name is not a TextRun as is"
rl = [r["at"] for r in recs if r["mode"] == "ratelimit"]
assert rl[1] - rl[0] >= 0.9, "Retry-After: 1 was not honoured (%.2f s)" % (rl[1] - rl[0])
print("chat messages: %d POSTs, every one valid" % len(recs))
PYEOF
hasnt "no webhook URL in the gate's output" "$WORK/gl.err" "HOOKSECRET"
has "the 500 was retried" "$WORK/gl.err" "HTTP 500"

# ---- 2. a webhook that never answers and one that is down -----------------
: >"$CHATLOG"
WORK=$TMP/slow
make_repo "$WORK"
make_gate "$WORK" '[
  {"service": "slack", "url_env": "GREENLIGHT_SLACK_URL"},
  {"service": "mattermost", "url_env": "GREENLIGHT_MATTERMOST_URL"}]'
export GREENLIGHT_SLACK_URL=$HOOK/slack/hang/T000/B000/HOOKSECRET-slack
export GREENLIGHT_MATTERMOST_URL=$DOWN/hooks/HOOKSECRET-mm
gl_run_bg --timeout 60s
wait_mail 2 || { finish; exit 1; }
check "the hanging webhook was posted to" wait_posts 1 slack hang
url=$(mail_link 2)
code=$(decide "$url" approve)
t0=$(date +%s.%N)
wait_gl
t1=$(date +%s.%N)
check "approve recorded (200)" test "$code" = 200
check "gate exits 0: chat failures do not fail the gate" test "$RC" -eq 0
elapsed=$($PY -c "print(round($t1 - $t0, 2))")
echo "gate exited ${elapsed}s after the decision with a webhook that never answers"
check "a webhook that never answers does not delay the decision (<1.5 s)" $PY -c "import sys; sys.exit($t1 - $t0 >= 1.5)"
check "decision.json says approved" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = approved
has "the refused webhook is reported by its variable" "$WORK/gl.err" "team engineering: Mattermost webhook (GREENLIGHT_MATTERMOST_URL): review message"
has "the hanging webhook is reported as abandoned" "$WORK/gl.err" "Slack webhook (GREENLIGHT_SLACK_URL): review message: still not delivered when the request was settled"
hasnt "no webhook URL in the gate's output" "$WORK/gl.err" "HOOKSECRET"

# ---- 3. a required webhook that is down: 4 after the decision --------------
WORK=$TMP/required
make_repo "$WORK"
make_gate "$WORK" '[
  {"service": "teams", "url_env": "GREENLIGHT_TEAMS_URL", "required": true},
  {"service": "slack", "url_env": "GREENLIGHT_SLACK_URL"},
  {"service": "google-chat", "url_env": "GREENLIGHT_GOOGLE_CHAT_URL"}]'
: >"$CHATLOG"
export GREENLIGHT_TEAMS_URL=$DOWN/workflows/HOOKSECRET-teams
export GREENLIGHT_SLACK_URL=$HOOK/slack/invalid/T000/B000/HOOKSECRET-slack
export GREENLIGHT_GOOGLE_CHAT_URL=http://chat.example.com/v1/spaces/HOOKSECRET-gc
gl_run_bg --timeout 60s
wait_mail 3 || { finish; exit 1; }
url=$(mail_link 3)
code=$(decide "$url" approve)
wait_gl
check "approve recorded (200)" test "$code" = 200
check "a required webhook that is down ends the run with 4" test "$RC" -eq 4
check "the decision was recorded first" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = approved
has "the required webhook is named by its variable" "$WORK/gl.err" "Microsoft Teams webhook (GREENLIGHT_TEAMS_URL) is required and did not take the review message"
has "a 400 is reported and not retried" "$WORK/gl.err" "Slack webhook (GREENLIGHT_SLACK_URL): review message: HTTP 400: invalid_payload; not retried"
eq "a 400 is posted once" "$(chat_posts slack invalid)" 1
has "plain http to another host is refused" "$WORK/gl.err" "Google Chat webhook (GREENLIGHT_GOOGLE_CHAT_URL): review message: plain http:// is allowed only to this machine"
hasnt "no webhook URL in the gate's output" "$WORK/gl.err" "HOOKSECRET"
finish
