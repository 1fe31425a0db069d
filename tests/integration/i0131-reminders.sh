# i0131-reminders.sh - "remind_every" mails a team's pending reviewers
# again, in the thread of their request email, at the configured interval,
# and stops for a reviewer who decided and for everyone once the request
# is decided.  Short intervals need GREENLIGHT_TEST_SHORT_REMINDERS=1
# (users get at least 1m: checked here too).
. "$(dirname "$0")/lib.sh"
start_smtp

WORK=$TMP/remind
make_repo "$WORK"
$PY - "$WORK/greenlight.json" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["teams"]["engineering"] = {"email": ["eng1@example.com", "eng2@example.com"],
                             "approvals": 2, "remind_every": "2s"}
json.dump(g, open(sys.argv[1], "w"), indent=2)
PYEOF

(cd "$WORK" && "$GREENLIGHT" validate >"$TMP/v.out" 2>"$TMP/v.err")
check "without the test override, 2s is refused" test $? -eq 2
check "the refusal says at least 1m" grep -q "remind_every is shorter than 1m" "$TMP/v.err"

export GREENLIGHT_TEST_SHORT_REMINDERS=1
gl_run_bg --timeout 60s
wait_mail 2 || { finish; exit 1; }
wait_thread 4 12
check "two reminders each by now" test "$(threads count eng1@example.com reminder 2 && echo y)" = y
check "reminders every 2s from the request" threads schedule eng2@example.com 2 1.5
check "the same for the other reviewer" threads schedule eng1@example.com 2 1.5
check "reminders threaded on the request email" threads threaded
check "reminder says where the team stands" threads body eng1@example.com 1 \
	"Reminder: model-release still needs engineering's review" "0 of 2 approvals" \
	"personal link in the message this replies to"

check "eng1 approves" test "$(decide "$(mail_link_to eng1@example.com)" approve)" = 200
n1=$(thread_count_to eng1@example.com)
n2=$(thread_count_to eng2@example.com)
sleep 4.5
check "no more reminders to the reviewer who decided" test "$(thread_count_to eng1@example.com)" -eq "$n1"
check "the pending reviewer is still reminded" test "$(thread_count_to eng2@example.com)" -ge $((n2 + 1))
m2=$(thread_count_to eng2@example.com)
threads body eng2@example.com "$m2" "1 of 2 approvals" && ok || ko "the newest reminder counts the approval"

check "eng2 approves" test "$(decide "$(mail_link_to eng2@example.com)" approve)" = 200
wait_gl
check "gate exits 0" test "$RC" -eq 0
rem=$(threads howmany eng2@example.com reminder)
sleep 4.5
check "one follow-up each after the decision" test "$(threads count eng1@example.com followup 1 && threads count eng2@example.com followup 1 && echo y)" = y
check "reminders stopped at the decision" test "$(threads howmany eng2@example.com reminder)" -eq "$rem"
check "the follow-up is threaded too" threads threaded
finish
