# i0132-escalation.sh - a team without quorum "escalate.after" the request
# was made has its escalation addresses asked, each with a personal link
# that works and counts toward the team's quorum; a team that reached its
# quorum in time is not escalated; escalation happens once, and in relay
# mode the waiting gate registers the new link with the relay.
. "$(dirname "$0")/lib.sh"
start_smtp

esc_gate() { # esc_gate DIR AFTER
	$PY - "$1/greenlight.json" "$2" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["teams"]["engineering"] = {"email": ["eng1@example.com"],
                             "escalate": {"after": sys.argv[2], "to": ["lead@example.com", "vp@example.com"]}}
json.dump(g, open(sys.argv[1], "w"), indent=2)
PYEOF
}

# 1. listen mode: nobody decides, the leads are asked after 2s
WORK=$TMP/esc
make_repo "$WORK"
esc_gate "$WORK" 2s
start=$(date +%s.%N)
gl_run_bg --timeout 60s
wait_mail 1 || { finish; exit 1; }
sleep 1
check "no escalation before the interval" test "$(mail_count_to lead@example.com)" -eq 0
wait_mail 3
took=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['received'] - float(sys.argv[2]))" \
	"$(grep -l '"lead@example.com"' "$MAILDIR"/*.json | head -n 1)" "$start")
# the request's creation time is in whole seconds, so "after 2s" comes
# between 1 and 2 s after the moment the run started (plus mailing)
check "escalation after about 2s (took ${took}s)" $PY -c "import sys; sys.exit(not 0.95 <= float(sys.argv[1]) <= 5)" "$took"
check "each escalation address got one request" test "$(mail_count_to lead@example.com)$(mail_count_to vp@example.com)" = 11
check "the gate says it escalated" grep -q "team engineering has no quorum after 2s: escalating to 2 addresses" "$WORK/gl.err"
lead=$(mail_link_to lead@example.com)
vp=$(mail_link_to vp@example.com)
check "personal links (lead and vp differ)" test "$lead" != "$vp"
check "the escalation mail names the team" $PY - "$(grep -l '"lead@example.com"' "$MAILDIR"/*.json | head -n 1)" <<'PYEOF'
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1][:-5] + ".eml", "rb"), policy=policy.default)
t = m.get_body(("plain",)).get_content()
assert "engineering" in t and "latencyMs" in t, t
PYEOF
check "the lead's page opens (200)" test "$(curl -s -o /dev/null -w '%{http_code}' "$lead")" = 200
check "the lead approves (200)" test "$(decide "$lead" approve "escalated: fine")" = 200
wait_gl
check "the lead's approval meets engineering's quorum: exit 0" test "$RC" -eq 0
check "decision.json names the lead for engineering" test "$(json_get "$WORK/decision.json" '(d["request"]["decisions"][0]["email"], d["request"]["decisions"][0]["team"])')" = "('lead@example.com', 'engineering')"
wait_thread 3
check "follow-ups to the member and both leads" test "$(thread_count_to eng1@example.com)$(thread_count_to lead@example.com)$(thread_count_to vp@example.com)" = 111
check "the leads' follow-ups reply to their escalation mail" threads threaded

# 2. quorum met before the interval: no escalation
WORK=$TMP/noesc
make_repo "$WORK"
git -C "$WORK" commit -q --allow-empty -m "second commit"
esc_gate "$WORK" 3s
gl_run_bg --timeout 60s
wait_mail 4
check "eng1 approves in time" test "$(decide "$(mail_link 4)" approve)" = 200
wait_gl
check "gate exits 0" test "$RC" -eq 0
sleep 3.5
check "no escalation after the quorum was met" test "$(mail_count_to lead@example.com)" -eq 1

# 3. relay mode: the waiting gate escalates and registers the new links
export GREENLIGHT_RELAY_TOKEN=relay-secret-token-0001
RPORT=$(free_port)
GREENLIGHT_RELAY_TOKENS=relay-secret-token-0001 "$GREENLIGHT" relay --listen 127.0.0.1:$RPORT \
	--db "$TMP/relay.db" >>"$TMP/relay.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && break; sleep 0.05; done
WORK=$TMP/relay
make_repo "$WORK"
git -C "$WORK" commit -q --allow-empty -m "third commit"
esc_gate "$WORK" 2s
gl_run_bg --via relay --relay http://127.0.0.1:$RPORT --timeout 60s
wait_mail 5
wait_mail 7
lead=$(mail_link_to lead@example.com)
check "relay mode: the lead's link points at the relay" grep -q "^http://127.0.0.1:$RPORT/r/" <<<"$lead"
check "relay mode: the member's link still works (200)" test "$(curl -s -o /dev/null -w '%{http_code}' "$(mail_link 5)")" = 200
check "relay mode: the lead approves (200)" test "$(decide "$lead" approve)" = 200
wait_gl
check "relay mode: the gate verifies the lead's approval: exit 0" test "$RC" -eq 0
check "relay mode: decision.json names the lead" test "$(json_get "$WORK/decision.json" 'd["request"]["approvers"][0]')" = lead@example.com
finish
