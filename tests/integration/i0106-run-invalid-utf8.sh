# i0106-run-invalid-utf8.sh - commit text that is not valid UTF-8 (a subject
# with the bytes FF FE, an author name in Latin-1) is repaired where it is
# read: each bad byte becomes U+FFFD, and the email, the review page (listen
# mode and the relay's) and the decision record all show the evidence.
. "$(dirname "$0")/lib.sh"
start_smtp
FFFD=$(printf '\357\277\275')
mail_text() {
	$PY - "$(ls "$MAILDIR"/*.eml | sed -n "${1}p")" <<'PYEOF'
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
print(m.get_body(("plain",)).get_content())
PYEOF
}
make_bad_repo() { # make_bad_repo DIR
	make_repo "$1"
	printf 'Speed up \377\376 the model\n' >"$TMP/msg"
	git -C "$1" -c user.name="$(printf 'Jos\351')" -c i18n.commitEncoding=ISO-8859-1 \
		commit -q --allow-empty -F "$TMP/msg"
}
page_ok() { # page_ok URL WHAT: the page shows rules, values and the repaired subject
	curl -s "$1" >"$TMP/page.html"
	check "$2: rules shown" grep -q "Why a review is needed" "$TMP/page.html"
	check "$2: value shown" grep -q "225" "$TMP/page.html"
	check "$2: metric shown" grep -q "latencyMs" "$TMP/page.html"
	check "$2: subject with U+FFFD" grep -q "Speed up $FFFD$FFFD the model" "$TMP/page.html"
	check "$2: author with U+FFFD" grep -q "Jos$FFFD" "$TMP/page.html"
	check "$2: no 'cannot be shown'" sh -c "! grep -q 'cannot be shown' '$TMP/page.html'"
}

# listen mode
WORK=$TMP/listen
make_bad_repo "$WORK"
gl_run_bg --timeout 60s
wait_mail 1
mail_text 1 >"$TMP/m1"
check "mail: subject with U+FFFD" grep -q "Speed up $FFFD$FFFD the model" "$TMP/m1"
page_ok "$(mail_link 1)" "listen page"
check "listen: approve (200)" test "$(decide "$(mail_link 1)" approve)" = 200
wait_gl
check "listen: exit 0" test "$RC" -eq 0
check "decision record is JSON: approved" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = approved

# relay mode: registration succeeds, the relay's page shows the evidence
export GREENLIGHT_RELAY_TOKEN=relay-secret-token-0001
RPORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GREENLIGHT_RELAY_TOKENS=$GREENLIGHT_RELAY_TOKEN "$GREENLIGHT" relay --listen 127.0.0.1:$RPORT \
	--db "$TMP/relay.db" >"$TMP/relay.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/healthz" && break; sleep 0.05; done
WORK=$TMP/relay
make_bad_repo "$WORK"
gl_run_bg --via relay --relay "http://127.0.0.1:$RPORT" --timeout 30s
wait_mail 2
check "relay: registered without retries" sh -c "! grep -q 'retrying in' '$WORK/gl.err'"
page_ok "$(mail_link 2)" "relay page"
check "relay: approve (200)" test "$(decide "$(mail_link 2)" approve)" = 200
wait_gl
check "relay: exit 0" test "$RC" -eq 0
finish
