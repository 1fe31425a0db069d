# lib.sh - harness for end-to-end tests of `greenlight run` with real parts:
# the aiosmtpd rig (STARTTLS + AUTH, throw-away CA), the review page over
# loopback HTTP (curl), and git repositories made here.  Sourced by bash.
# tests/lib.sh gives $TMP, $PIDS (stopped on exit), ok/ko/check/eq/has/hasnt
# and finish; this adds:
#
#   start_smtp [rig flags]     start the SMTP rig; sets SMTP_PORT, MAILDIR
#   stop_smtp                  stop it
#   make_repo DIR              a git repository with one commit by Ada Dev
#   gl_run_bg [run flags]      start `greenlight run` in $WORK in background
#   wait_mail N                until N messages arrived (or fail)
#   mail_count                 how many messages arrived
#   mail_link I                the review link in message I (1-based)
#   page_nonce URL             the nonce in the review page's form
#   decide URL approve|reject [REASON]   GET the page, POST the form; prints
#                              the HTTP status
#   wait_gl                    wait for the gate; sets RC
#   json_get FILE EXPR         a Python expression on the JSON in FILE (as d)
#   free_port                  a loopback TCP port nothing listens on
#   mail_link_to ADDR          the review link in the newest message to ADDR
#   mail_count_to ADDR         how many messages went to ADDR
#   stop_gl                    SIGTERM the gate; sets RC
# A failed assertion also shows the end of $WORK/gl.out and $WORK/gl.err.
. "${SRCDIR:?set SRCDIR to the source tree}/tests/lib.sh"
PY=/usr/bin/python3
if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	echo "SKIP: python3-aiosmtpd is not installed (scripts/setup-deps.sh installs it)"
	exit 77
fi

ko_hook() {
	[ -n "${WORK:-}" ] || return 0
	local f
	for f in "$WORK"/gl.out "$WORK"/gl.err; do
		[ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }
	done
}

CERTS=$TMP/certs
sh "$SRCDIR/tests/integration/make_ca.sh" "$CERTS"
export GREENLIGHT_SMTP_USER=greenlight GREENLIGHT_SMTP_PASSWORD=secret
export GREENLIGHT_SMTP_CA_FILE=$CERTS/ca.pem
export GREENLIGHT_LISTEN=127.0.0.1:0

start_smtp() {
	MAILDIR=$TMP/mail.$$.$RANDOM
	local portfile=$MAILDIR.port
	$PY "$SRCDIR/tests/integration/smtp_server.py" --dir "$MAILDIR" \
		--port-file "$portfile" --certdir "$CERTS" --log-auth "$MAILDIR.auth" "$@" \
		>"$MAILDIR.log" 2>&1 &
	SMTP_PID=$!
	PIDS="$PIDS $SMTP_PID"
	for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.1; done
	SMTP_PORT=$(cat "$portfile")
	export GREENLIGHT_SMTP=smtp://127.0.0.1:$SMTP_PORT
}

stop_smtp() { kill "$SMTP_PID" 2>/dev/null; wait "$SMTP_PID" 2>/dev/null; }

make_repo() {
	mkdir -p "$1"
	git -C "$1" init -q -b main
	git -C "$1" config user.name "Ada Dev"
	git -C "$1" config user.email ada@example.com
	cp "$SRCDIR/examples/seed/greenlight.json" "$1/"
	cp "$SRCDIR/examples/seed/slow.json" "$1/results.json"
	git -C "$1" add -A
	git -C "$1" commit -q -m "Speed up the model"
}

gl_run_bg() {
	(cd "$WORK" && exec "$GREENLIGHT" run -o decision.json --progress 1s "$@" \
		>"$WORK/gl.out" 2>"$WORK/gl.err") &
	GL_PID=$!
	PIDS="$PIDS $GL_PID"
}

wait_gl() {
	wait "$GL_PID"
	RC=$?
}

mail_count() { ls "$MAILDIR"/*.eml 2>/dev/null | wc -l; }

wait_mail() {
	for _ in $(seq 300); do
		[ "$(mail_count)" -ge "$1" ] && return 0
		sleep 0.1
	done
	ko "expected $1 message(s), got $(mail_count)"
	return 1
}

# the review link in message number I
mail_link() {
	$PY - "$(ls "$MAILDIR"/*.eml | sed -n "${1}p")" <<'PYEOF'
import email, re, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
print(re.search(r"https?://\S+/r/[A-Za-z0-9_-]+", m.get_body(("plain",)).get_content()).group(0))
PYEOF
}

page_nonce() {
	curl -s "$1" | sed -n 's/.*name="nonce" value="\([^"]*\)".*/\1/p' | head -n 1
}

decide() { # decide URL approve|reject [REASON]; NONCE=... to reuse a nonce
	local nonce=${NONCE:-}
	[ -n "$nonce" ] || nonce=$(page_nonce "$1")
	curl -s -o "$TMP/decide.html" -w '%{http_code}' \
		--data-urlencode "decision=$2" --data-urlencode "nonce=$nonce" \
		--data-urlencode "reason=${3:-}" "$1"
}

json_get() { # json_get FILE PYTHON-EXPR-ON-d
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# the review link in the newest message to ADDR (its envelope recipient)
mail_link_to() {
	local f
	f=$(grep -l "\"$1\"" "$MAILDIR"/*.json 2>/dev/null | tail -n 1)
	[ -n "$f" ] || return 1
	mail_link "$(ls "$MAILDIR"/*.eml | grep -n "${f%.json}.eml" | cut -d: -f1)"
}

# how many messages went to ADDR
mail_count_to() { grep -l "\"$1\"" "$MAILDIR"/*.json 2>/dev/null | wc -l; }

# stop the gate started by gl_run_bg with SIGTERM; sets RC
stop_gl() { kill -TERM "$GL_PID" 2>/dev/null; wait_gl; }

# Threaded messages (reminders, follow-ups: an In-Reply-To header), which
# the rig keeps in $MAILDIR/thread/ apart from review requests.
thread_count() { ls "$MAILDIR"/thread/*.eml 2>/dev/null | wc -l; }
thread_count_to() { grep -l "\"$1\"" "$MAILDIR"/thread/*.json 2>/dev/null | wc -l; }
wait_thread() { # wait_thread N [SECONDS]: until N threaded messages arrived
	for _ in $(seq $((${2:-30} * 10))); do
		[ "$(thread_count)" -ge "$1" ] && return 0
		sleep 0.1
	done
	ko "expected $1 threaded message(s), got $(thread_count)"
	return 1
}
# threads.py MAILDIR ...: checks on the threads (tests/integration/threads.py)
threads() { $PY "$SRCDIR/tests/integration/threads.py" "$MAILDIR" "$@"; }
