# i0230-relay-reminders.sh - a detached request (run --detach) has no
# waiting gate, so a relay given SMTP settings (--smtp ...) mails its
# reminders and its follow-ups, threaded on each reviewer's request email.
# Each is sent exactly once even when the relay is killed (SIGKILL) and
# restarted in between; the run that collects the decision sends none of
# them again.  A relay without --smtp sends nothing.
. "$(dirname "$0")/lib.sh"
start_smtp
export GREENLIGHT_RELAY_TOKEN=relay-secret-token-0001
export GREENLIGHT_GATE_SECRET=detach-test-secret-0123456789abcdefghijkl
export GREENLIGHT_TEST_SHORT_REMINDERS=1
RPORT=$(free_port)
RDB=${GREENLIGHT_TEST_RELAY_DB:-$TMP/relay.db}	# i0221: PostgreSQL
start_relay() { # start_relay [relay flags...]
	GREENLIGHT_RELAY_TOKENS=relay-secret-token-0001 "$GREENLIGHT" relay --listen 127.0.0.1:$RPORT \
		--db "$RDB" "$@" >>"$TMP/relay.log" 2>&1 &
	RELAY_PID=$!
	PIDS="$PIDS $RELAY_PID"
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && return 0; sleep 0.05; done
	ko "relay did not start"; cat "$TMP/relay.log"
}
relay_mail="--smtp $GREENLIGHT_SMTP --from Release-Gate<gate@example.com> --smtp-ca-file $GREENLIGHT_SMTP_CA_FILE"
relay_args="--via relay --relay http://127.0.0.1:$RPORT --timeout 60s"

WORK=$TMP/detach
make_repo "$WORK"
$PY - "$WORK/greenlight.json" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["teams"]["engineering"] = {"email": ["eng1@example.com", "eng2@example.com"],
                             "approvals": 2, "remind_every": "3s"}
json.dump(g, open(sys.argv[1], "w"), indent=2)
PYEOF

# a relay without mail settings sends nothing
start_relay
(cd "$WORK" && "$GREENLIGHT" run $relay_args --detach -o d1.json >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
check "--detach exits 5" test "$RC" -eq 5
wait_mail 2 || { finish; exit 1; }
sleep 3
check "no reminders from a relay without --smtp" test "$(thread_count)" -eq 0
kill -KILL "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null

# the same relay database, now with mail: reminders every 3s
start_relay $relay_mail
wait_thread 2 10
check "the relay reminds both reviewers" test "$(thread_count_to eng1@example.com)$(thread_count_to eng2@example.com)" = 11
check "relay reminders threaded on the request email" threads threaded
check "relay reminder text" threads body eng1@example.com 1 "Reminder: model-release still needs engineering's review" "0 of 2 approvals"
# killed and restarted at once, within the same 3s round: nothing again
kill -KILL "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
start_relay $relay_mail
sleep 0.8
check "a restart within the round sends its reminders not again" test "$(thread_count)" -eq 2
wait_thread 4 10
kill -KILL "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
before=$(thread_count)
sleep 2.5
check "nothing while the relay is down" test "$(thread_count)" -eq "$before"
start_relay $relay_mail
wait_thread $((before + 2)) 10
sleep 2.2
check "reminders again after the SIGKILL restart" test "$(thread_count)" -ge $((before + 2))
$PY - "$MAILDIR" <<'PYEOF' && ok || ko "every reminder exactly once (no Message-ID twice, no reviewer twice per round)"
import email, glob, os, sys
from email import policy
ids, per = [], {}
for p in sorted(glob.glob(os.path.join(sys.argv[1], "thread", "*.eml"))):
    m = email.message_from_binary_file(open(p, "rb"), policy=policy.default)
    ids.append(m["Message-ID"])
    per.setdefault(m["To"], []).append(m["Message-ID"])
assert len(ids) == len(set(ids)), "a reminder was sent twice: %r" % ids
assert len(ids) >= 4, ids
PYEOF

# decide through the relay: the relay sends the follow-ups, once
check "eng1 approves (200)" test "$(decide "$(mail_link_to eng1@example.com)" approve "ok 1")" = 200
check "eng2 approves (200)" test "$(decide "$(mail_link_to eng2@example.com)" approve "ok 2")" = 200
for _ in $(seq 100); do
	[ "$(threads howmany eng1@example.com followup)$(threads howmany eng2@example.com)" != "0" ] && \
	[ "$(threads howmany eng2@example.com followup)" = 1 ] && [ "$(threads howmany eng1@example.com followup)" = 1 ] && break
	sleep 0.1
done
check "one follow-up to each reviewer from the relay" test "$(threads howmany eng1@example.com followup)$(threads howmany eng2@example.com followup)" = 11
check "the follow-up says what CI does" threads body eng1@example.com "$(thread_count_to eng1@example.com)" \
	"Approved: model-release" "eng2@example.com approved for engineering" "CI continues (exit 0)"
check "relay follow-ups threaded" threads threaded
rem=$(threads howmany eng1@example.com reminder)
kill -KILL "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
start_relay $relay_mail
sleep 2.5
check "no follow-up again after a restart" test "$(threads howmany eng1@example.com followup)$(threads howmany eng2@example.com followup)" = 11
check "no reminder after the decision" test "$(threads howmany eng1@example.com reminder)" -eq "$rem"

# the collecting run: exit 0, and no follow-up of its own
n=$(thread_count)
(cd "$WORK" && "$GREENLIGHT" run $relay_args -o d2.json >"$WORK/gl2.out" 2>"$WORK/gl2.err"); RC=$?
check "the collecting run exits 0" test "$RC" -eq 0
sleep 1
check "the collecting run sends no follow-up" test "$(thread_count)" -eq "$n"

# a detached request's escalation: the relay mints no links; the run that
# collects it escalates (links derived from the gate secret, registered
# with the relay) and the gate verifies the escalated approval
WORK=$TMP/escalate
make_repo "$WORK"
git -C "$WORK" commit -q --allow-empty -m "escalate"
$PY - "$WORK/greenlight.json" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["teams"]["engineering"] = {"email": ["eng9@example.com"],
                             "escalate": {"after": "2s", "to": ["lead@example.com"]}}
json.dump(g, open(sys.argv[1], "w"), indent=2)
PYEOF
(cd "$WORK" && "$GREENLIGHT" run $relay_args --detach -o d1.json >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
check "escalation: --detach exits 5" test "$RC" -eq 5
sleep 3
check "the relay does not escalate" test "$(mail_count_to lead@example.com)" -eq 0
gl_run_bg $relay_args
for _ in $(seq 100); do [ "$(mail_count_to lead@example.com)" -ge 1 ] && break; sleep 0.1; done
check "the collecting run escalates at once (after has passed)" test "$(mail_count_to lead@example.com)" -eq 1
check "the lead's link points at the relay and decides (200)" test "$(decide "$(mail_link_to lead@example.com)" approve "lead ok")" = 200
wait_gl
check "the collecting run verifies the lead's approval: exit 0" test "$RC" -eq 0
check "decision.json names the lead" test "$(json_get "$WORK/decision.json" 'd["request"]["approvers"][0]')" = lead@example.com
for _ in $(seq 50); do [ "$(thread_count_to lead@example.com)" -ge 1 ] && break; sleep 0.1; done
check "the relay sends the lead the follow-up, threaded on the escalation" test "$(thread_count_to lead@example.com)" -eq 1 -a "$(thread_count_to eng9@example.com)" -eq 1
check "all threaded" threads threaded
finish
