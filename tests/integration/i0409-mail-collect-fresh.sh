# i0409-mail-collect-fresh.sh - detached collection on a fresh runner in
# mail mode: `run --detach` on one machine mails and exits 5; `run
# --collect` on another (a fresh clone, another HOME, no state file) finds
# the same request from the gate secret and the mailbox alone (request id
# and Message-IDs derived from the secret and the request key, reply codes
# checked as derived tokens), never mails a request, counts bob's reply
# and exits 0 with one confirmation; a second fresh collect finds the
# reply already marked processed, counts it again (the mailbox is the
# durable store) and mails nothing; a reject collected fresh is 1;
# --collect without the secret is one line and exit 2; with processed
# "move:Done" a later fresh collect reads the moved reply in Done.
# Real: aiosmtpd, dovecot (IMAPS), the gate (three processes, three dirs).
. "$(dirname "$0")/imap_lib.sh"
start_dovecot || { finish; exit 1; }
start_mail_rig
export GREENLIGHT_GATE_SECRET=gate-secret-0409-0123456789abcdef0123456789
WORK=$TMP/runner1
make_repo "$WORK"
git -C "$WORK" remote add origin https://git.example.com/acme/model.git
mail_gate
git -C "$WORK" add -A && git -C "$WORK" commit -q -m "mail gate"
fresh() { # fresh DIR: the same checkout on another runner, no state
	git clone -q "$TMP/runner1" "$1"
	git -C "$1" remote set-url origin https://git.example.com/acme/model.git
	cp "$TMP/runner1/results.json" "$1/"
	mkdir -p "$1/home"
	WORK=$1
}
collect() { # collect [flags]: run --collect in $WORK with its own HOME
	(cd "$WORK" && HOME=$WORK/home timeout 60 "$GREENLIGHT" run --collect -o decision.json --timeout 30s "$@" \
		>"$WORK/gl.out" 2>"$WORK/gl.err")
}

# 1. detach on runner 1
(cd "$WORK" && HOME=$WORK "$GREENLIGHT" run --detach -o decision.json >"$WORK/gl.out" 2>"$WORK/gl.err")
check "--detach exits 5" test $? -eq 5
check "--detach mailed both reviewers" test "$(mail_count)" -eq 2
check "--detach says to collect anywhere with the secret" grep -q "run again with --collect (on any runner, with the same gate secret)" "$WORK/gl.err"
id=$(json_get "$WORK/decision.json" 'd["request"]["id"]')
bob=$(request_to bob@example.com)
reply "$bob" --from bob@example.com --body "approve: ship it" >/dev/null

# 2. collect on runner 2: no state file, other HOME
fresh "$TMP/runner2"
check "runner 2 has no state" test ! -e "$WORK/.greenlight"
n=$(mail_count); c=$(confirm_count)
collect
check "the fresh collect exits 0" test $? -eq 0
check "... on the same request" test "$(json_get "$WORK/decision.json" 'd["request"]["id"]')" = "$id"
check "... approved by bob's reply" test "$(json_get "$WORK/decision.json" '[(x["email"], x["remote_addr"]) for x in d["request"]["decisions"]]')" = "[('bob@example.com', 'imap')]"
check "no request was mailed again" test "$(mail_count)" -eq "$n"
check "bob got one confirmation" test "$(confirm_count)" -eq $((c + 1))
check "the reply is flagged processed" test "$(imap_count KEYWORD '$GreenlightDone')" -eq 1

# 3. a second fresh collect: same answer, nothing mailed
fresh "$TMP/runner3"
c=$(confirm_count)
collect
check "a second fresh collect exits 0 too" test $? -eq 0
check "... counting the processed reply once" test "$(json_get "$WORK/decision.json" 'len(d["request"]["decisions"])')" = 1
check "... and says it was processed earlier" grep -q "processed earlier) counted" "$WORK/gl.err"
check "no second confirmation" test "$(confirm_count)" -eq "$c"
check "no request mail" test "$(mail_count)" -eq "$n"

# 4. without the secret: one line, exit 2
fresh "$TMP/runner4"
(unset GREENLIGHT_GATE_SECRET; collect)
check "--collect without the secret: exit 2" test $? -eq 2
check "... with one clear line" test "$(wc -l <"$WORK/gl.err")" -eq 1
check "... naming the variable" grep -q "collect needs the gate secret in GREENLIGHT_GATE_SECRET" "$WORK/gl.err"
collect --detach
check "--collect with --detach: exit 2" test $? -eq 2
check "... with one clear line" test "$(wc -l <"$WORK/gl.err")" -eq 1
collect --via listen
check "--collect in listen mode: exit 2" test $? -eq 2
check "... saying why" grep -q "collect needs relay or mail mode" "$WORK/gl.err"

# 5. other evidence: detach, then a reject by reply collected fresh is 1
WORK=$TMP/runner1
echo '{"accuracypct": 99, "latencyMs": 250}' >"$WORK/results.json"
n=$(mail_count)
(cd "$WORK" && HOME=$WORK "$GREENLIGHT" run --detach >"$WORK/gl.out" 2>"$WORK/gl.err")
check "a second --detach (new evidence) exits 5" test $? -eq 5
wait_mail $((n + 2)) || { finish; exit 1; }
alice=$(request_to alice@example.com)
fresh "$TMP/runner5"
cp "$TMP/runner1/results.json" "$WORK/"
collect &
CPID=$!
sleep 2
reply "$alice" --from alice@example.com --body "reject: too slow" >/dev/null
wait "$CPID"
check "a reject by reply while collecting fresh: exit 1" test $? -eq 1
check "... with alice's reason" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["reason"]')" = "too slow"

# 6. processed "move:Done": a later fresh collect reads the moved reply there
WORK=$TMP/runner1
sed -i 's/"poll": "1s",/"poll": "1s", "processed": "move:Done",/' "$WORK/greenlight.json"
git -C "$WORK" commit -q -am "move processed replies"
echo '{"accuracypct": 99, "latencyMs": 260}' >"$WORK/results.json"
n=$(mail_count)
(cd "$WORK" && HOME=$WORK "$GREENLIGHT" run --detach >"$WORK/gl.out" 2>"$WORK/gl.err")
check "--detach with move:Done exits 5" test $? -eq 5
wait_mail $((n + 2)) || { finish; exit 1; }
reply "$(request_to bob@example.com)" --from bob@example.com --body "approve" >/dev/null
fresh "$TMP/runner6"
cp "$TMP/runner1/results.json" "$WORK/"
collect
check "the first fresh collect (moves the reply) exits 0" test $? -eq 0
fresh "$TMP/runner7"
cp "$TMP/runner1/results.json" "$WORK/"
c=$(confirm_count)
collect
check "a second fresh collect finds it in Done: exit 0" test $? -eq 0
check "... processed earlier, not confirmed again" test "$(grep -c "processed earlier) counted" "$WORK/gl.err")-$(confirm_count)" = "1-$c"
finish
