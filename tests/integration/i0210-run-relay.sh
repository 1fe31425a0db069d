# i0210-run-relay.sh - greenlight run in relay mode with real processes:
# gate + greenlight relay + SMTP rig over loopback.  Approve through the
# relay's page; relay killed with SIGKILL and restarted on the same
# database while the gate waits; relay not up yet when the gate starts;
# two gates on two requests; a wrong bearer token; relay state loss.
. "$(dirname "$0")/lib.sh"
start_smtp
export GREENLIGHT_RELAY_TOKEN=relay-secret-token-0001
RPORT=$(free_port)
RDB=${GREENLIGHT_TEST_RELAY_DB:-$TMP/relay.db}	# i0221: PostgreSQL
start_relay() { # start_relay [DB]
	GREENLIGHT_RELAY_TOKENS=relay-secret-token-0001 "$GREENLIGHT" relay --listen 127.0.0.1:$RPORT \
		--db "${1:-$RDB}" >>"$TMP/relay.log" 2>&1 &
	RELAY_PID=$!
	PIDS="$PIDS $RELAY_PID"
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && return 0; sleep 0.05; done
	ko "relay did not start"; cat "$TMP/relay.log"
}
relay_args="--via relay --relay http://127.0.0.1:$RPORT --timeout 60s"

# 1. approve through the relay's page
start_relay
WORK=$TMP/one
make_repo "$WORK"
gl_run_bg $relay_args
wait_mail 1
url=$(mail_link 1)
check "link points at the relay" grep -q "^http://127.0.0.1:$RPORT/r/" <<<"$url"
check "approve via the relay (200)" test "$(decide "$url" approve "via relay")" = 200
wait_gl
check "gate exits 0" test "$RC" -eq 0
check "decision.json has the approver" test "$(json_get "$WORK/decision.json" 'd["request"]["approvers"][0]')" = engineering@example.com
check "reason travelled through the relay" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["reason"]')" = "via relay"
check "the gate served nothing itself" sh -c "! grep -q 'review page at http://127.0.0.1:[0-9]*/r' '$WORK/gl.err' || grep -q 'review page at http://127.0.0.1:$RPORT/r' '$WORK/gl.err'"

# 2. relay SIGKILLed while the gate waits, restarted on the same database
WORK=$TMP/two
make_repo "$WORK"
git -C "$WORK" commit -q --allow-empty -m "another commit"
gl_run_bg $relay_args
wait_mail 2
kill -KILL "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
sleep 1
check "gate keeps waiting while the relay is down" kill -0 "$GL_PID"
start_relay
check "decision after the restart (200)" test "$(decide "$(mail_link 2)" approve)" = 200
wait_gl
check "gate exits 0 after relay restart" test "$RC" -eq 0
check "gate retried while the relay was down" grep -q "retrying in" "$WORK/gl.err"

# 3. relay not up yet when the gate starts
kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
WORK=$TMP/three
make_repo "$WORK"
git -C "$WORK" commit -q --allow-empty -m "third commit"
gl_run_bg $relay_args
sleep 2
check "no mail before the request is registered" test "$(mail_count)" -eq 2
start_relay
wait_mail 3
check "approve after late start (200)" test "$(decide "$(mail_link 3)" approve)" = 200
wait_gl
check "gate exits 0 after the relay came up" test "$RC" -eq 0

# 4. two gates on two requests
WORK=$TMP/four-a; make_repo "$WORK"; git -C "$WORK" commit -q --allow-empty -m a
gl_run_bg $relay_args; A_PID=$GL_PID; A=$WORK
wait_mail 4
WORK=$TMP/four-b; make_repo "$WORK"; git -C "$WORK" commit -q --allow-empty -m b
gl_run_bg $relay_args; B_PID=$GL_PID; B=$WORK
wait_mail 5
check "approve A" test "$(decide "$(mail_link 4)" approve)" = 200
check "reject B" test "$(decide "$(mail_link 5)" reject "no")" = 200
wait "$A_PID"; RA=$?
wait "$B_PID"; RB=$?
check "gate A exits 0" test "$RA" -eq 0
check "gate B exits 1" test "$RB" -eq 1

# 5. wrong bearer token: exit 4, clear message, nothing registered
WORK=$TMP/five; make_repo "$WORK"; git -C "$WORK" commit -q --allow-empty -m five
(cd "$WORK" && GREENLIGHT_RELAY_TOKEN=wrong "$GREENLIGHT" run $relay_args >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
check "wrong token: exit 4" test "$RC" -eq 4
check "wrong token: says so" grep -q "rejected the bearer token" "$WORK/gl.err"
check "wrong token: no mail" test "$(mail_count)" -eq 5
check "token never printed" sh -c "! grep -q relay-secret-token-0001 '$WORK/gl.err' '$TMP/relay.log'"

# 7. --detach: register and mail, exit 5 at once; a later run in a fresh
# workspace (no state of the first) collects it, verifying the reviewer's
# token with the gate secret alone
WORK=$TMP/detach; make_repo "$WORK"; git -C "$WORK" commit -q --allow-empty -m detach
git -C "$WORK" remote add origin https://git.example.com/acme/model.git
(cd "$WORK" && "$GREENLIGHT" run $relay_args --detach >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
check "--detach without a gate secret is bad usage" test "$RC" -eq 2
check "... and names the variable" grep -q "GREENLIGHT_GATE_SECRET" "$WORK/gl.err"
export GREENLIGHT_GATE_SECRET=detach-test-secret-0123456789abcdefghijkl
(cd "$WORK" && GREENLIGHT_DETACH=maybe "$GREENLIGHT" run $relay_args >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
check "GREENLIGHT_DETACH=maybe is bad usage, not off (a held runner)" test "$RC" -eq 2
check "... in one line naming the variable and the values it takes" \
	test "$(grep -c "GREENLIGHT_DETACH='maybe' (acts as --detach) is not true or false; set it to 1, true or yes" "$WORK/gl.err")/$(wc -l <"$WORK/gl.err")" = 1/1
(cd "$WORK" && GREENLIGHT_DETACH=true "$GREENLIGHT" run $relay_args -o d1.json >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
check "--detach (GREENLIGHT_DETACH=true) exits 5 at once" test "$RC" -eq 5
check "--detach says how to collect" grep -q "run again (without --detach)" "$WORK/gl.err"
check "--detach record is pending" test "$(json_get "$WORK/d1.json" 'd["outcome"]')" = pending
wait_mail 6
check "--detach mailed the reviewer" test "$(mail_count)" -eq 6
check "approve after detach (200)" test "$(decide "$(mail_link 6)" approve)" = 200
FRESH=$TMP/fresh
git clone -q "$WORK" "$FRESH"
git -C "$FRESH" remote set-url origin https://git.example.com/acme/model.git
(cd "$FRESH" && GREENLIGHT_GATE_SECRET=another-secret-0123456789abcdefghijklmn \
	"$GREENLIGHT" run $relay_args >"$FRESH/gl0.out" 2>"$FRESH/gl0.err"); RC=$?
check "a run with another secret cannot verify the approval: exit 4" test "$RC" -eq 4
check "... and says the token was not issued for the request" grep -q "not issued for this request" "$FRESH/gl0.err"
(cd "$FRESH" && "$GREENLIGHT" run $relay_args -o d2.json >"$FRESH/gl2.out" 2>"$FRESH/gl2.err"); RC=$?
check "a fresh workspace collects the approval: exit 0" test "$RC" -eq 0
check "... verified, without state" test "$(json_get "$FRESH/d2.json" 'd["outcome"]')" = approved
check "no second mail" test "$(mail_count)" -eq 6
unset GREENLIGHT_GATE_SECRET
(cd "$WORK" && "$GREENLIGHT" run --detach --timeout 60s >/dev/null 2>"$WORK/gl3.err"); RC=$?
check "--detach in listen mode is bad usage" test "$RC" -eq 2

# 6. relay state loss: restarted on an empty database while the gate waits
WORK=$TMP/six; make_repo "$WORK"; git -C "$WORK" commit -q --allow-empty -m six
gl_run_bg $relay_args
wait_mail 7
kill -KILL "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
start_relay "$TMP/empty.db"
wait_gl
check "state loss: exit 4, never a decision" test "$RC" -eq 4
check "state loss: says so" grep -q "does not know request" "$WORK/gl.err"
finish
