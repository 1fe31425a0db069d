#!/bin/bash
# i0222-relay-failover.sh - `greenlight run` naming two relays of one
# PostgreSQL database (pg_lib.sh: a real server, initdb as an unprivileged
# user, a random port), with real relays A and B, the SMTP rig and the
# review pages:
#  (a) relay A SIGKILLed while the gate long-polls it: the gate says so in
#      one line, moves on to B and exits 0 after the reviewer approves on B;
#  (b) PostgreSQL restarted (pg_ctl stop -m fast; start) while two gates
#      wait: an approval recorded before the restart and one after it make
#      a quorum of 2 (exit 0), and a reject after the restart is exit 1;
#  (c) both relays down past the gate's timeout: exit 4 with one error
#      line, never a decision;
#  (d) a list naming a relay on another database: refused before anyone is
#      mailed (exit 4, one line), from the gate file's array; and a failover
#      to such a relay mid-wait is refused the same way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
pg_start
start_smtp
export GREENLIGHT_RELAY_TOKEN=relay-secret-token-0001
PA=$(free_port); PB=$(free_port); PC=$(free_port)
A=http://127.0.0.1:$PA; B=http://127.0.0.1:$PB; C=http://127.0.0.1:$PC
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U gl -d postgres -qc "CREATE DATABASE other" >/dev/null

start_relay() { # start_relay NAME PORT [DB]: sets RELAY_<NAME>
	GREENLIGHT_RELAY_TOKENS=relay-secret-token-0001 "$GREENLIGHT" relay \
		--listen "127.0.0.1:$2" --db "${3:-$PGURL}" >>"$TMP/relay-$1.log" 2>&1 &
	eval "RELAY_$1=$!"
	PIDS="$PIDS $!"
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$2/healthz" && return 0; sleep 0.05; done
	ko "relay $1 did not start"; cat "$TMP/relay-$1.log"
}
kill_relay() { # kill_relay NAME
	local pid
	eval "pid=\$RELAY_$1"
	kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
}
pg_restart() {
	$PGRUN "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null || ko "pg_ctl stop"
	sleep 1
	(cd "$PGDIR" && $PGRUN "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
		-o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
		start >/dev/null) || ko "pg_ctl start"
}
new_commit() { # new_commit DIR [QUORUM2]: a repository with a commit of its own
	make_repo "$1"
	if [ -n "${2:-}" ]; then
		$PY - "$1/greenlight.json" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["teams"]["engineering"] = {"email": ["eng1@example.com", "eng2@example.com"], "approvals": 2}
json.dump(g, open(sys.argv[1], "w"), indent=1)
PYEOF
		git -C "$1" commit -qam "quorum of two"
	fi
	git -C "$1" commit -q --allow-empty -m "$(basename "$1")"
}
wait_gl_for() { # wait_gl_for SECONDS: the gate must end by then; sets RC
	for _ in $(seq $(($1 * 10))); do
		kill -0 "$GL_PID" 2>/dev/null || { wait_gl; return 0; }
		sleep 0.1
	done
	ko "the gate did not finish within $1 s"
	kill -TERM "$GL_PID"; wait_gl
}
wait_log() { # wait_log FILE TEXT SECONDS
	for _ in $(seq $(($3 * 10))); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
on() { sed "s|127.0.0.1:[0-9]*/r/|127.0.0.1:$1/r/|" <<<"$2"; }	# a link on another relay
both="$A,$B"
start_relay A "$PA"
start_relay B "$PB"

# (a) relay A SIGKILLed while the gate waits on it: B takes over
WORK=$TMP/a; new_commit "$WORK"
gl_run_bg --via relay --relay "$both" --timeout 60s
wait_mail 1
url=$(mail_link 1)
check "(a) the link names the first relay" grep -q "^$A/r/" <<<"$url"
sleep 0.5				# the long-poll on A is held by now
kill_relay A
check "(a) one line says A is unreachable and B is used" \
	wait_log "$WORK/gl.err" "relay $A unreachable (" 10
check "(a) ... naming B" grep -q "relay $A unreachable (.*); using $B\$" "$WORK/gl.err"
check "(a) the gate keeps waiting" kill -0 "$GL_PID"
check "(a) approve on relay B (200)" test "$(decide "$(on "$PB" "$url")" approve "on B")" = 200
wait_gl_for 15
check "(a) gate exits 0" test "$RC" -eq 0
check "(a) the approval came through B" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["reason"]')" = "on B"
start_relay A "$PA"

# (b) PostgreSQL restarted while two gates wait
WORK=$TMP/b1; new_commit "$WORK" quorum2
gl_run_bg --via relay --relay "$both" --timeout 60s; G1=$GL_PID; W1=$WORK
wait_mail 3
WORK=$TMP/b2; new_commit "$WORK"
gl_run_bg --via relay --relay "$both" --timeout 60s; G2=$GL_PID; W2=$WORK
wait_mail 4
l1=$(mail_link_to eng1@example.com); l2=$(mail_link_to eng2@example.com); l3=$(mail_link 4)
check "(b) eng1 approves before the restart (200)" test "$(decide "$l1" approve before)" = 200
sleep 0.5
pg_restart
check "(b) the gates saw the database down (503) and kept waiting" \
	wait_log "$W1/gl.err" "(HTTP 503)" 5
check "(b) gate 1 still waits after the restart" kill -0 "$G1"
check "(b) gate 2 still waits after the restart" kill -0 "$G2"
check "(b) eng2 approves on B after the restart (200)" test "$(decide "$(on "$PB" "$l2")" approve after)" = 200
check "(b) a reject after the restart (200)" test "$(decide "$l3" reject "after restart")" = 200
GL_PID=$G1; WORK=$W1; wait_gl_for 15
check "(b) quorum 2 across the restart: exit 0" test "$RC" -eq 0
check "(b) both approvals counted" test "$(json_get "$W1/decision.json" 'len(d["request"]["approvers"])')" = 2
GL_PID=$G2; WORK=$W2; wait_gl_for 15
check "(b) the reject after the restart: exit 1" test "$RC" -eq 1

# (c) both relays down longer than the gate's timeout: exit 4, no decision
WORK=$TMP/c; new_commit "$WORK"
gl_run_bg --via relay --relay "$both" --timeout 4s
wait_mail 5
kill_relay A; kill_relay B
wait_gl_for 20
check "(c) both relays down past the timeout: exit 4" test "$RC" -eq 4
info='warning:\|waiting for a decision\|review page at\|mailed engineering'
check "(c) one error line says no relay answered" test "$(grep -v "$info" "$WORK/gl.err" | grep -c 'none of the 2 relays answered (last: .*); giving up')" -eq 1
check "(c) ... and it is the only error line" test "$(grep -vc "$info" "$WORK/gl.err")" -eq 1
check "(c) never a decision" sh -c "! grep -q '^decision:' '$WORK/gl.out'"
start_relay A "$PA"
start_relay B "$PB"

# (d) a relay on another database in the gate file's list: refused up front
start_relay C "$PC" "${PGURL%/postgres}/other"
WORK=$TMP/d; new_commit "$WORK"
$PY - "$WORK/greenlight.json" "$A" "$C" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["decision"] = {"via": "relay", "relay": [sys.argv[2], sys.argv[3]], "timeout": "60s"}
json.dump(g, open(sys.argv[1], "w"), indent=1)
PYEOF
(cd "$WORK" && timeout 30 "$GREENLIGHT" run >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
check "(d) a relay on another database: exit 4" test "$RC" -eq 4
check "(d) one line names both relays and the rule" \
	grep -q "relay $C does not know request [0-9a-f]* that relay $A registered: the relays listed for a gate must share one database" "$WORK/gl.err"
check "(d) ... only that line" test "$(wc -l <"$WORK/gl.err")" -eq 1
check "(d) nobody was mailed" test "$(mail_count)" -eq 5
# the same when the gate fails over to it mid-wait (C was down when the
# gate registered, so nothing could tell at first)
kill_relay C
WORK=$TMP/d2; new_commit "$WORK"
gl_run_bg --via relay --relay "$A,$C" --timeout 60s
wait_mail 6
start_relay C "$PC" "${PGURL%/postgres}/other"
sleep 0.5
kill_relay A
wait_gl_for 15
check "(d) failover to a relay on another database: exit 4" test "$RC" -eq 4
check "(d) ... says so in one line" grep -q "relay $C does not know request [0-9a-f]* that relay $A registered" "$WORK/gl.err"
check "(d) ... never a decision" sh -c "! grep -q '^decision:' '$WORK/gl.out'"
finish
