# i0303-fake-relay.sh - the gate does not take a relay's word for a decision.
#
# A real `greenlight relay` settles requests from the decisions it records
# and cannot be made to lie, so this test stands up a fake one
# (fake_relay.py: a small Python http.server on loopback speaking just
# enough of docs/relay-protocol.md) that answers whatever the test writes
# into its answer file.  The gate under test is real, with the real SMTP
# rig and a git repository made here.  Each case is its own gate run:
#   (a) the relay claims "approved" with no decisions: exit 4, one line;
#   (b) a decision carrying a well-formed random token for the real
#       reviewer: exit 4, "not issued for this request";
#   (c) with the gate secret, a decision replayed from another request
#       (its token derived for another request key): exit 4;
#   (d) the honest path through the fake: the token from the review mail,
#       whose hash the gate registered, passes (exit 0) - so (a) to (c)
#       fail for the right reason, not because the fake is unfaithful;
#       the decision's text, which the token does not cover, reaches the
#       gate's output cleaned (no escape character, no line of its own);
#   (e) settings: plain http:// to another host is refused before any
#       connection (exit 2, names --allow-insecure-relay), also when a
#       loopback address is only the user name ("127.0.0.1:1@host");
#       http:// to 127.0.0.2 and to localhost is accepted without the flag.
# No traffic leaves loopback: the refused URL is never resolved (and a
# proxy variable pointing at a closed loopback port catches a gate that
# would try).
. "$(dirname "$0")/lib.sh"
start_smtp
export GREENLIGHT_RELAY_TOKEN=fake-relay-token-0123456789
REVIEWER=engineering@example.com
TEAM=engineering

start_fake() { # start_fake HOST DIR: sets FAKE_PORT
	local host=$1 dir=$2
	$PY "$SRCDIR/tests/integration/fake_relay.py" --host "$host" --dir "$dir" \
		--port-file "$dir.port" --token "$GREENLIGHT_RELAY_TOKEN" >"$dir.log" 2>&1 &
	PIDS="$PIDS $!"
	for _ in $(seq 100); do [ -s "$dir.port" ] && break; sleep 0.05; done
	FAKE_PORT=$(cat "$dir.port")
}
FAKE=$TMP/fake
start_fake 127.0.0.1 "$FAKE"
PORT=$FAKE_PORT
R=http://127.0.0.1:$PORT
relay_args="--via relay --relay $R --timeout 60s"

answer() { printf '%s' "$1" >"$FAKE/answer.json"; }
decision() { # decision EMAIL TEAM TOKEN: a decision object as the relay shows it
	printf '{"email":"%s","team":"%s","decision":"approve","reason":"","at":%s,"remote_addr":"127.0.0.1","user_agent":"curl","token":"%s"}' \
		"$1" "$2" "$(date +%s)" "$3"
}
new_work() { # new_work NAME: a fresh repository (a new commit: a new request key)
	WORK=$TMP/$1
	make_repo "$WORK"
	git -C "$WORK" commit -q --allow-empty -m "$1"
}
run_gate() { # run_gate [flags]: the gate in the foreground; sets RC
	(cd "$WORK" && exec "$GREENLIGHT" run -o decision.json $relay_args "$@" \
		>"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
}
not_approved() { # decision.json, if written, is not approved
	! grep -q '"outcome": *"approved"' "$WORK/decision.json" 2>/dev/null
}

# (a) the relay claims approval without any decision
new_work a
answer '{"state":"approved","decisions":[]}'
run_gate
check "(a) claimed approval without decisions: exit 4" test "$RC" -eq 4
eq "(a) ... one line says the decisions do not support it" \
	"$(grep -c "decisions it shows do not make it so" "$WORK/gl.err")" 1
eq "(a) ... and nothing else but progress is said" "$(grep -v -e '^greenlight: mailed ' \
	-e '^greenlight: review page at ' -e '^greenlight: waiting for a decision on request ' \
	"$WORK/gl.err" | wc -l)" 1
check "(a) decision.json is not approved" not_approved
check "(a) the reviewer was still mailed" test "$(mail_count)" -eq 1

# (b) a well-formed token the gate never issued, for the real reviewer
new_work b
answer "{\"state\":\"approved\",\"decisions\":[$(decision $REVIEWER $TEAM \
	"$($PY -c 'import secrets; print(secrets.token_urlsafe(32))')")]}"
run_gate
check "(b) random token: exit 4" test "$RC" -eq 4
eq "(b) ... one line: not issued for this request" \
	"$(grep -c "review token was not issued for this request" "$WORK/gl.err")" 1
check "(b) decision.json is not approved" not_approved

# (d) the honest path through the fake, with the gate secret: the token in
# the mail is the one whose hash the gate registered
export GREENLIGHT_GATE_SECRET=fake-relay-test-secret-0123456789abcdef
rm -f "$FAKE/answer.json"
new_work d
gl_run_bg $relay_args
wait_mail 3 || { finish; exit 1; }
url=$(mail_link 3)
check "(d) the link points at the fake relay" grep -q "^$R/r/" <<<"$url"
tok=${url##*/r/}
eq "(d) the gate registered the hash of the mailed token" \
	"$(json_get "$FAKE/register-3.json" 'd["recipients"][0]["token_hash"]')" \
	"$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)"
# the token does not cover a decision's text: the relay's reason tries to
# recolour the terminal and forge a CI log line
answer "{\"state\":\"approved\",\"decisions\":[$(decision $REVIEWER $TEAM "$tok" |
	sed 's/"reason":""/"reason":"ok\\u001b[31m\\n::error::forged line"/')]}"
wait_gl
check "(d) a decision with the issued token passes: exit 0" test "$RC" -eq 0
eq "(d) decision.json is approved" "$(json_get "$WORK/decision.json" 'd["outcome"]')" approved
check "(d) the relay's reason puts no escape character on stdout" sh -c "! grep -q \"\$(printf '\\033')\" '$WORK/gl.out'"
check "(d) ... and starts no line of its own" sh -c "! grep -q '^::error::' '$WORK/gl.out'"
eq "(d) decision.json keeps the reason cleaned" \
	"$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["reason"]')" "ok[31m ::error::forged line"

# (c) the same secret, another request: (d)'s decision replayed
new_work c
run_gate
check "(c) replayed decision from another request: exit 4" test "$RC" -eq 4
eq "(c) ... one line: not issued for this request" \
	"$(grep -c "review token was not issued for this request" "$WORK/gl.err")" 1
check "(c) decision.json is not approved" not_approved
check "(c) the two runs registered different request keys" test \
	"$(json_get "$FAKE/register-3.json" 'd["key"]')" != "$(json_get "$FAKE/register-4.json" 'd["key"]')"
unset GREENLIGHT_GATE_SECRET

# (f) the relay keeps saying "pending" and moves the deadline a year
# ahead: the gate's own deadline holds, and it fails closed (exit 3)
new_work f
answer "{\"state\":\"pending\",\"deadline\":$(($(date +%s) + 31536000)),\"decided_at\":null}"
start=$(date +%s)
(cd "$WORK" && exec timeout 30 "$GREENLIGHT" run -o decision.json --via relay --relay "$R" \
	--timeout 3s >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
check "(f) a relay that never lets the request expire: the gate times out (exit 3)" test "$RC" -eq 3
check "(f) ... at its own deadline, not the relay's" test $(($(date +%s) - start)) -le 10
check "(f) decision.json says timed_out" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = timed_out
rm -f "$FAKE/answer.json"

# (e) settings.  A proxy on a closed loopback port: if the gate tried to
# reach the refused host, it would reach nothing but that port.
DEAD=$(free_port)
rm -f "$FAKE/answer.json"
new_work e
refused() { # refused URL: the gate refuses the URL before connecting
	(cd "$WORK" && http_proxy=http://127.0.0.1:$DEAD HTTPS_PROXY=http://127.0.0.1:$DEAD \
		ALL_PROXY=http://127.0.0.1:$DEAD NO_PROXY= no_proxy= \
		timeout 10 "$GREENLIGHT" run --via relay --relay "$1" --timeout 60s \
		>"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
}
mails=$(mail_count)
refused http://relay.example.com:8080
check "(e) http:// to another host: exit 2" test "$RC" -eq 2
check "(e) ... the line names --allow-insecure-relay" grep -q -- "--allow-insecure-relay" "$WORK/gl.err"
check "(e) ... nothing mailed" test "$(mail_count)" -eq "$mails"
refused http://127.0.0.1:1@relay.example.com:8080
check "(e) a loopback-looking user name before another host: exit 2" test "$RC" -eq 2
check "(e) ... the line names --allow-insecure-relay" grep -q -- "--allow-insecure-relay" "$WORK/gl.err"

accepted() { # accepted URL REGISTRATION-FILE: the gate registers there
	rm -f "$WORK/gl.err"
	(cd "$WORK" && exec "$GREENLIGHT" run --via relay --relay "$1" --timeout 60s \
		>"$WORK/gl.out" 2>"$WORK/gl.err") &
	GL_PID=$!
	PIDS="$PIDS $GL_PID"
	for _ in $(seq 100); do [ -s "$2" ] && break; sleep 0.05; done
	stop_gl
}
FAKE2=$TMP/fake2
start_fake 127.0.0.2 "$FAKE2"
accepted "http://127.0.0.2:$FAKE_PORT" "$FAKE2/register-1.json"
check "(e) http://127.0.0.2 is accepted without the flag (registered there)" test -s "$FAKE2/register-1.json"
hasnt "(e) ... no complaint about the URL" "$WORK/gl.err" "allow-insecure-relay"
accepted "http://localhost:$PORT" "$FAKE/register-5.json"
check "(e) http://localhost is accepted without the flag (registered there)" test -s "$FAKE/register-5.json"
hasnt "(e) ... no complaint about the URL" "$WORK/gl.err" "allow-insecure-relay"
finish
