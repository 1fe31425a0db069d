#!/bin/bash
# demo.sh - set up, build, and run greenlight on the seed scenario.
#
# Part 1: `greenlight check` on the four seed inputs (verdicts only).
# Part 2: `greenlight run` end to end on {"accuracypct":100,"latencyMs":225}:
# a local SMTP server (STARTTLS + AUTH, throw-away CA) receives the email
# engineering would get; the review link in it is opened and Approved, and
# the gate exits 0.
#
# Usage: scripts/demo.sh            unattended: the demo approves by itself
#        scripts/demo.sh --manual   you open the link in a browser and click
#                                   Approve or Reject; the page is served on
#                                   http://127.0.0.1:8080 (GREENLIGHT_LISTEN)
set -eu
cd "$(dirname "$0")/.."
manual=0
[ "${1:-}" = "--manual" ] && manual=1
scripts/setup-deps.sh --demo
scripts/build.sh default
GL=$PWD/build/default/greenlight
SEED=$PWD/examples/seed

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() {
	printf '$ greenlight %s\n' "$*"
	set +e
	"$GL" "$@"
	code=$?
	set -e
	printf '(exit %d)\n' "$code"
}

say "Part 1: greenlight check on the seed inputs"
show check -g "$SEED/greenlight.json" -r "$SEED/slow.json"
show check -g "$SEED/greenlight.json" -r "$SEED/inaccurate-and-slow.json"
show check -g "$SEED/greenlight-all.json" -r "$SEED/inaccurate-and-slow.json"
show check -g "$SEED/greenlight.json" -r "$SEED/good.json"
show check -g "$SEED/greenlight.json" -r "$SEED/missing-accuracy.json"

say "Part 2: greenlight run - email engineering and wait for its decision"
TMP=$(mktemp -d)
pids=""
cleanup() { # keep the demo's own exit status; a process already gone is fine
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
sh tests/integration/make_ca.sh "$TMP/certs"
/usr/bin/python3 tests/integration/smtp_server.py --dir "$TMP/mail" \
	--port-file "$TMP/smtp.port" --certdir "$TMP/certs" >"$TMP/smtp.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 100); do [ -s "$TMP/smtp.port" ] && break; sleep 0.1; done
echo "local SMTP server on 127.0.0.1:$(cat "$TMP/smtp.port") (STARTTLS + AUTH, throw-away CA)"

listen=127.0.0.1:0
[ "$manual" = 1 ] && listen=${GREENLIGHT_LISTEN:-127.0.0.1:8080}
export GREENLIGHT_SMTP=smtp://127.0.0.1:$(cat "$TMP/smtp.port")
export GREENLIGHT_SMTP_CA_FILE=$TMP/certs/ca.pem
export GREENLIGHT_SMTP_USER=greenlight GREENLIGHT_SMTP_PASSWORD=secret
printf '$ greenlight run -g examples/seed/greenlight.json -r examples/seed/slow.json --listen %s\n' "$listen"
"$GL" run -g "$SEED/greenlight.json" -r "$SEED/slow.json" --listen "$listen" \
	--state "$TMP/state.db" --timeout 15m --progress 30s -o "$TMP/decision.json" &
gl=$!
pids="$pids $gl"
for _ in $(seq 300); do ls "$TMP"/mail/*.eml >/dev/null 2>&1 && break; sleep 0.1; done

say "The email engineering@example.com received"
link=$(/usr/bin/python3 - "$(ls "$TMP"/mail/*.eml | head -n 1)" <<'PYEOF'
import email, re, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
for h in ("From", "To", "Subject", "Date", "Message-ID"):
    print(f"{h}: {m[h]}", file=sys.stderr)
text = m.get_body(("plain",)).get_content()
print("", file=sys.stderr)
print(text, file=sys.stderr)
print(re.search(r"http://\S+/r/[A-Za-z0-9_-]+", text).group(0))
PYEOF
)

if [ "$manual" = 1 ]; then
	say "Open this link in a browser and click Approve or Reject:"
	echo "  $link"
else
	say "Approving through the review page (scripts/demo.sh --manual to click it yourself)"
	nonce=$(curl -s "$link" | sed -n 's/.*name="nonce" value="\([^"]*\)".*/\1/p' | head -n 1)
	echo "GET  $link  -> review page (opening it decides nothing)"
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode decision=approve \
		--data-urlencode "nonce=$nonce" --data-urlencode "reason=demo: latency accepted" "$link")
	echo "POST $link  decision=approve -> HTTP $code"
fi
set +e
wait "$gl"
code=$?
set -e
printf '(greenlight run exited %d)\n' "$code"
say "decision.json (excerpt)"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({k: d[k] for k in ("gate","outcome","exit_code")} | {"decisions": d.get("request",{}).get("decisions")}, indent=2))' "$TMP/decision.json"
