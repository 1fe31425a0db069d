# t0005-run-usage.sh - greenlight run without a review: pass and fail finish
# at once (no mail, no server); bad settings are exit 2 before anything is
# sent or stored.
. "$(dirname "$0")/lib.sh"
G="$SEED/greenlight.json"
cd "$TMP"

expect 0 "run: pass needs no mail server" -- "$GREENLIGHT" run -g "$G" -r "$SEED/good.json" -o "$TMP/d.json"
grep_out "outcome: pass"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["outcome"]=="pass"' "$TMP/d.json" && ok || ko "decision.json"
[ ! -e "$TMP/.greenlight" ] && ok || ko "a pass must not create state"

f=$(gate fail.json '{"version":1,"name":"f","choices":[{"Variable":"$.latencyMs","NumericGreaterThan":80,"Next":"fail"}],"default":"pass"}')
expect 1 "run: fail exits 1 at once" -- "$GREENLIGHT" run -g "$f" -r "$SEED/slow.json"
grep_out "outcome: fail"

expect 2 "run: missing metric is bad input" -- "$GREENLIGHT" run -g "$G" -r "$SEED/missing-accuracy.json"
grep_err "\$.accuracypct"

bad_setting() {
	expect 2 "$1" -- "$GREENLIGHT" run -g "$G" -r "$SEED/slow.json" --state "$TMP/s.db" "$3" "$4"
	grep_err "$2"
	one_line_err
	[ ! -e "$TMP/s.db" ] && ok || ko "bad setting created state"
}
bad_setting "bad timeout" 'timeout "1day": write a duration' --timeout 1day
bad_setting "bad tls" 'smtp-tls "ssl": valid values: starttls, none' --smtp-tls ssl
bad_setting "bad progress" 'progress "0s"' --progress 0s
bad_setting "on_timeout pass refused" 'fails closed' --on-timeout pass
bad_setting "relay mode without a relay URL" 'relay mode needs the relay' --via relay
expect 2 "relay mode without the token variable" -- env -u GREENLIGHT_RELAY_TOKEN "$GREENLIGHT" run -g "$G" -r "$SEED/slow.json" --via relay --relay https://relay.example.com
grep_err 'relay-token-env "GREENLIGHT_RELAY_TOKEN" (from default): this variable holds'
one_line_err
# SMTP credentials: a password without a username would skip AUTH and the
# server would refuse the mail (530) once a review is due; both or neither
expect 2 "smtp password without a username" -- env -u GREENLIGHT_SMTP_USER GREENLIGHT_SMTP_PASSWORD=hunter2 "$GREENLIGHT" run -g "$G" -r "$SEED/slow.json" --state "$TMP/s.db" --smtp smtp://127.0.0.1:1 --send-timeout 1s
grep_err 'smtp-user-env "GREENLIGHT_SMTP_USER" (from default): this variable holds the SMTP username and is not set, but GREENLIGHT_SMTP_PASSWORD (the password) is'
one_line_err
grep -q hunter2 "$err" && ko "the password was printed" || ok
[ ! -e "$TMP/s.db" ] && ok || ko "credentials error created state"
expect 2 "smtp password without the username the gate file names" -- env GREENLIGHT_SMTP_USER=greenlight MY_SMTP_PASSWORD=hunter2 "$GREENLIGHT" run -g "$G" -r "$SEED/slow.json" --state "$TMP/s.db" --smtp-user-env MY_SMTP_USER --smtp-password-env MY_SMTP_PASSWORD --smtp smtp://127.0.0.1:1 --send-timeout 1s
grep_err '--smtp-user-env "MY_SMTP_USER": this variable holds the SMTP username and is not set, but MY_SMTP_PASSWORD (the password) is'
expect 2 "smtp username without a password" -- env -u GREENLIGHT_SMTP_PASSWORD GREENLIGHT_SMTP_USER=greenlight "$GREENLIGHT" run -g "$G" -r "$SEED/slow.json" --state "$TMP/s.db" --smtp smtp://127.0.0.1:1 --send-timeout 1s
grep_err 'smtp-password-env "GREENLIGHT_SMTP_PASSWORD" (from default): this variable holds the SMTP password and is not set'
expect 0 "a pass needs no credentials" -- env -u GREENLIGHT_SMTP_USER GREENLIGHT_SMTP_PASSWORD=hunter2 "$GREENLIGHT" run -g "$G" -r "$SEED/good.json"
expect 2 "bad setting from the environment names the variable" -- env GREENLIGHT_TIMEOUT=forever "$GREENLIGHT" run -g "$G" -r "$SEED/slow.json" --state "$TMP/s.db"
grep_err "from GREENLIGHT_TIMEOUT"
expect 2 "run: stray argument" -- "$GREENLIGHT" run extra
expect 0 "run --help" -- "$GREENLIGHT" run --help
grep_out "usage: greenlight run"
grep_out "decision.timeout"
finish
