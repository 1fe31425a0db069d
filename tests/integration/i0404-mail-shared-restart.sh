# i0404-mail-shared-restart.sh - mailbox hygiene: two gates share one
# mailbox and neither reads, flags or logs the other's replies; a gate
# SIGKILLed while waiting and re-run re-attaches without a second request
# mail and counts the reply once; a reply to an old request of the same
# commit (the results changed, so there is a new request) never counts:
# replying in the old thread is not even read by the new request's search,
# and the old code in the new thread is refused by name.
# Real: aiosmtpd, dovecot (IMAPS), two gate processes.
. "$(dirname "$0")/imap_lib.sh"
start_dovecot || { finish; exit 1; }
start_mail_rig

# gate A and gate B: two repositories (two requests), one mailbox
A=$TMP/a; B=$TMP/b
make_repo "$A"; make_repo "$B"
WORK=$A mail_gate
WORK=$B mail_gate
sed -i 's/"model-release"/"other-gate"/' "$B/greenlight.json"

WORK=$A; gl_run_bg --timeout 60s; A_PID=$GL_PID
wait_mail 2 || { finish; exit 1; }
wait_log "polling imaps://" 10	# mailed and marked so: a kill before that mails again
kill -KILL "$A_PID"; wait "$A_PID" 2>/dev/null
a_alice=$(request_to alice@example.com)

WORK=$B; gl_run_bg --timeout 60s; B_PID=$GL_PID
wait_mail 4 || { finish; exit 1; }
b_bob=$(request_to bob@example.com)

# a reply to A arrives while only B runs: B must leave it alone
a_id=$(reply "$a_alice" --from alice@example.com --body "approve")
sleep 3
hasnt "B did not log A's reply" "$B/gl.err" "$a_id"
check "A's reply is still unprocessed" test "$(imap_count UNKEYWORD '$GreenlightDone')" -eq 1
b_id=$(reply "$b_bob" --from bob@example.com --body "approve")
GL_PID=$B_PID; wait_gl
check "B exits 0 on its own reply" test "$RC" -eq 0
check "B counted bob only" test "$(json_get "$B/decision.json" 'd["request"]["approvers"]')" = "['bob@example.com']"
check "A's reply is still unprocessed after B" test "$(imap_count UNKEYWORD '$GreenlightDone')" -eq 1

# A was SIGKILLed: the re-run re-attaches, mails nobody, counts once
n=$(mail_count); c=$(confirm_count)
WORK=$A; gl_run_bg --timeout 60s
wait_gl
check "re-run of the killed gate exits 0" test "$RC" -eq 0
check "it re-attached without a second request mail" grep -q "re-attached to pending request" "$A/gl.err"
check "only alice's confirmation was mailed" test "$(mail_count)-$(confirm_count)" = "$n-$((c + 1))"
check "alice counted once" test "$(json_get "$A/decision.json" 'len(d["request"]["decisions"])')" -eq 1
check "everything processed now" test "$(imap_count UNKEYWORD '$GreenlightDone')" -eq 0

# an old request of the same commit: the results changed after mailing
C=$TMP/c
make_repo "$C"
WORK=$C mail_gate
WORK=$C; gl_run_bg --timeout 60s
wait_mail $((n + 2)) || { finish; exit 1; }
old_alice=$(request_to alice@example.com)
kill -TERM "$GL_PID"; wait_gl
echo '{"accuracypct": 99, "latencyMs": 400}' >"$C/results.json"
gl_run_bg --timeout 60s
wait_mail $((n + 4)) || { finish; exit 1; }
check "the changed results made a new request" grep -q "this is a new request" "$C/gl.err"
new_alice=$(request_to alice@example.com)
old_id=$(reply "$old_alice" --from alice@example.com --body "approve")
sleep 3
hasnt "a reply in the old thread is not read for the new request" "$C/gl.err" "$old_id"
check "... and left unprocessed in the mailbox" test "$(imap_count UNKEYWORD '$GreenlightDone')" -eq 1
# the code from the old request's Reply-To (parsed as mail: headers may fold)
old_code=$($PY -c 'import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(re.search(r"\+([A-Za-z0-9_-]+)@", str(m["Reply-To"])).group(1))' "$old_alice")
check "the old request carries its reply code" test -n "$old_code"
mixed_id=$(reply "$new_alice" --from alice@example.com --code="$old_code" --body "approve")
wait_log "reply $mixed_id from" 15
check "the old code in the new thread is refused by name" grep -qF "reply $mixed_id from alice@example.com" <(grep "not counted: its reply code belongs to request" "$C/gl.err")
check "still waiting" kill -0 "$GL_PID"
reply "$new_alice" --from alice@example.com --body "approve" >/dev/null
wait_gl
check "the new request's own reply counts (exit 0)" test "$RC" -eq 0
check "one decision recorded" test "$(json_get "$C/decision.json" 'len(d["request"]["decisions"])')" -eq 1
finish
