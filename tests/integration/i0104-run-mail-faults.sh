# i0104-run-mail-faults.sh - what `greenlight run` does when mail fails:
# server down (retries, then 4), 451 then success, 550 (4 at once, reply
# shown), wrong password (clear auth error), no STARTTLS (credentials are
# never sent), one bad address among good ones (reported alone).
. "$(dirname "$0")/lib.sh"

fresh() { WORK=$TMP/$1; make_repo "$WORK"; }
run_fg() { (cd "$WORK" && "$GREENLIGHT" run -o decision.json "$@" >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?; }

# server down: nothing listens on the port
fresh down
port=$(free_port)
start=$(date +%s)
GREENLIGHT_SMTP=smtp://127.0.0.1:$port run_fg --timeout 60s --send-timeout 6s
check "server down: exit 4" test "$RC" -eq 4
check "server down: retried within the budget" test $(( $(date +%s) - start )) -ge 2
check "server down: says which address failed" grep -q "mail to engineering@example.com (team engineering) failed" "$WORK/gl.err"
check "server down: says a re-run mails again" grep -q "re-run: it mails again" "$WORK/gl.err"
# the mail server comes back: a plain re-run (no --resend) mails this time
start_smtp
gl_run_bg --timeout 60s
wait_mail 1
check "re-run after failed mail sends it" test "$(mail_count)" -eq 1
decide "$(mail_link 1)" approve >/dev/null
wait_gl
check "re-run after failed mail completes" test "$RC" -eq 0
stop_smtp

# 451 on the first transaction, then success
start_smtp --code 451 --fail-first 1
fresh tempfail
gl_run_bg --timeout 60s --send-timeout 30s
wait_mail 1
check "451 then success: mail arrives" test "$(mail_count)" -eq 1
decide "$(mail_link 1)" approve >/dev/null
wait_gl
check "451 then success: gate completes" test "$RC" -eq 0
stop_smtp

# 550 for everything: fail at once with the reply
start_smtp --code 550
fresh permfail
start=$(date +%s)
run_fg --timeout 60s --send-timeout 30s
check "550: exit 4" test "$RC" -eq 4
check "550: no retries (fast)" test $(( $(date +%s) - start )) -lt 10
check "550: server reply shown" grep -q "550" "$WORK/gl.err"
stop_smtp

# wrong password
start_smtp --password right-password
fresh auth
run_fg --timeout 60s --send-timeout 20s
check "wrong password: exit 4" test "$RC" -eq 4
check "wrong password: says authentication failed" grep -qi "auth" "$WORK/gl.err"
check "wrong password: never prints the password" sh -c "! grep -q secret '$WORK/gl.err' '$WORK/gl.out'"
stop_smtp

# no STARTTLS: credentials must never be sent in clear
start_smtp --no-starttls
fresh nostarttls
run_fg --timeout 60s --send-timeout 20s
check "no STARTTLS: exit 4" test "$RC" -eq 4
check "no STARTTLS: explains" grep -qi "STARTTLS" "$WORK/gl.err"
check "no STARTTLS: no AUTH attempted" test ! -s "$MAILDIR.auth"
check "no STARTTLS: no mail" test "$(mail_count)" -eq 0
stop_smtp

# one bad address among good ones
start_smtp --reject-rcpt bad@example.com
fresh onebad
cat >"$WORK/greenlight.json" <<'JSON'
{ "version": 1, "name": "onebad",
  "choices": [{ "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "eng" }],
  "default": "pass",
  "teams": { "eng": { "email": ["bad@example.com", "good@example.com"] } } }
JSON
gl_run_bg --timeout 60s --send-timeout 20s
wait_mail 1
sleep 0.5
check "one bad address: the other is mailed" grep -q good@example.com "$MAILDIR"/0001.json
check "one bad address: reported" grep -q "mail to bad@example.com (team eng) failed" "$WORK/gl.err"
decide "$(mail_link 1)" approve >/dev/null
wait_gl
check "one bad address: quorum of one still reachable, exit 0" test "$RC" -eq 0
[ -n "${SHOW_ERRORS:-}" ] && cat "$TMP"/*/gl.err
finish
