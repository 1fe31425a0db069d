# i0302-trust-tenants.sh - relay tokens belong to tenants.  A real gate
# (tenant alpha) waits on a real relay; with beta's token nothing about
# alpha's request can be read, long-polled, re-linked or marked, and the
# answers are the same as for a request that does not exist; a token may
# register only for its repositories; one tenant's key does not reach
# another's request.  Inside alpha, an intruder who replaces the links and
# approves with a link of their own is refused by the gate itself: the
# gate secret shows the token was not issued for the request (exit 4,
# never 0).
. "$(dirname "$0")/lib.sh"
start_smtp
TOKA=alpha-token-0123456789abcdef
TOKA2=alpha-intruder-0123456789abc
TOKB=beta-token-0123456789abcdefgh
cat >"$TMP/tokens" <<TOK
# tenant NAME TOKEN REPOSITORY-PATTERN...
tenant alpha $TOKA https://git.example.com/acme/*
tenant alpha $TOKA2 https://git.example.com/acme/*
tenant beta $TOKB https://git.example.com/evil/*
TOK
chmod 600 "$TMP/tokens"
RPORT=$(free_port)
R=http://127.0.0.1:$RPORT
"$GREENLIGHT" relay --listen 127.0.0.1:$RPORT --db "${GREENLIGHT_TEST_RELAY_DB:-$TMP/relay.db}" --tokens-file "$TMP/tokens" \
	>"$TMP/relay.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -s -o /dev/null "$R/healthz" && break; sleep 0.05; done

api() { # api TOKEN METHOD PATH [JSON]: prints the status; body in $TMP/body
	curl -s -o "$TMP/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
		${4:+-H 'Content-Type: application/json' --data "$4"} "$R$3"
}
body() { cat "$TMP/body"; }
deadline=$(($(date +%s) + 600))
reg() { # reg KEY [REPO]: a registration body
	printf '{"key":"%s","gate":"g",%s"deadline":%s,"teams":[{"name":"eng"}],"recipients":[{"email":"e@example.com","team":"eng","token_hash":"%s"}]}' \
		"$1" "${2:+"\"repository\":\"$2\","}" "$deadline" "$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)"
}

# the victim: alpha's gate on acme/model, with the gate secret
export GREENLIGHT_GATE_SECRET=tenant-test-secret-0123456789abcdefghij
WORK=$TMP/victim
make_repo "$WORK"
git -C "$WORK" remote add origin https://git.example.com/acme/model.git
GREENLIGHT_RELAY_TOKEN=$TOKA gl_run_bg --via relay --relay "$R" --timeout 60s
wait_mail 1 || { finish; exit 1; }
for _ in $(seq 50); do grep -q "waiting for a decision on request" "$WORK/gl.err" && break; sleep 0.1; done
rid=$(sed -n 's/.*waiting for a decision on request \([0-9a-f]*\):.*/\1/p' "$WORK/gl.err" | head -n 1)
check "the victim's request is registered" test ${#rid} -eq 32
check "alpha reads it (200)" test "$(api $TOKA GET /v1/requests/$rid)" = 200

# beta sees nothing, exactly as for an absent request
absent=$(printf '%032d' 7)
check "beta: an absent request is 404" test "$(api $TOKB GET /v1/requests/$absent)" = 404
nobody=$(body)
check "beta: read alpha's request: 404" test "$(api $TOKB GET /v1/requests/$rid)" = 404
check "... with the same answer as an absent one" test "$(body)" = "$nobody"
check "beta: long-poll alpha's request: 404" test "$(api $TOKB GET "/v1/requests/$rid?wait=2")" = 404
rekey='{"recipients":[{"email":"engineering@example.com","team":"engineering","token_hash":"'$(printf 'x%.0s' 1 | sha256sum | cut -d' ' -f1)'"}]}'
check "beta: re-link alpha's request: 404" test "$(api $TOKB POST /v1/requests/$rid/rekey "$rekey")" = 404
check "beta: mark alpha's request notified: 404" test "$(api $TOKB POST /v1/requests/$rid/notified)" = 404
check "alpha's link still works after beta's attempts" test "$(curl -s -o /dev/null -w '%{http_code}' "$(mail_link 1)")" = 200

# scopes: a token registers only for its repositories
check "beta may not register for acme (403)" \
	test "$(api $TOKB POST /v1/requests "$(reg "$(printf 'a%.0s' $(seq 64))" https://git.example.com/acme/model.git)")" = 403
check "beta registers for evil (201)" \
	test "$(api $TOKB POST /v1/requests "$(reg "$(printf 'b%.0s' $(seq 64))" https://git.example.com/evil/x)")" = 201
check "a scoped token may not register without naming the repository (403)" \
	test "$(api $TOKB POST /v1/requests "$(reg "$(printf 'c%.0s' $(seq 64))")")" = 403
K=$(printf 'd%.0s' $(seq 64))
check "alpha registers key K (201)" test "$(api $TOKA POST /v1/requests "$(reg "$K" https://git.example.com/acme/m)")" = 201
ida=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/body")
check "beta with the same key K gets its own request (201)" \
	test "$(api $TOKB POST /v1/requests "$(reg "$K" https://git.example.com/evil/m)")" = 201
idb=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/body")
check "... not alpha's" test "$idb" != "$ida"
check "metrics count the refused registration" sh -c "curl -s '$R/metrics' | grep -q '^greenlight_relay_scope_refusals_total 2'"

sleep 1
check "the victim's gate is still waiting" kill -0 "$GL_PID"

# an intruder inside alpha replaces the links and approves with their own
fake=$($PY -c 'import secrets; print(secrets.token_urlsafe(32))')
fhash=$(printf '%s' "$fake" | sha256sum | cut -d' ' -f1)
check "intruder (alpha) re-links the request (200)" test "$(api $TOKA2 POST /v1/requests/$rid/rekey \
	'{"recipients":[{"email":"engineering@example.com","team":"engineering","token_hash":"'$fhash'"}]}')" = 200
check "the relay records the intruder's approval (200)" test "$(decide "$R/r/$fake" approve)" = 200
wait_gl
check "the victim's gate does not pass: exit 4" test "$RC" -eq 4
check "... and says why in one line" test "$(grep -c "not issued for this request" "$WORK/gl.err")" -eq 1
check "decision.json is not approved" sh -c "! grep -q '\"outcome\": *\"approved\"' '$WORK/decision.json' 2>/dev/null"
finish
