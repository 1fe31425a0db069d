# imap_lib.sh - a real IMAP server (Debian's dovecot-imapd) for the tests of
# decide-by-reply (decision.via "mail").  Sourced by bash after lib.sh.
#
# What is real: dovecot, started here as the current user with its own
# configuration in a temp dir (IMAPS on one loopback port, IMAP with
# STARTTLS or plain on another, the throw-away CA of lib.sh), and the SMTP
# rig (smtp_server.py, STARTTLS + AUTH) which delivers mail for the gate's
# address into dovecot's Maildir, as an MTA's local delivery would.  What
# is simulated: the receiving MX's Authentication-Results header, which
# reply.py writes into each reply as the MX would after checking DKIM and
# DMARC (tests choose pass, fail, or another server's id).
#
#   start_dovecot             start it; sets IMAPS_PORT, IMAP_PORT, GATE_MAILDIR
#                             and exports GREENLIGHT_IMAP (imaps://), the
#                             mailbox login and CA variables
#   stop_dovecot              stop it (also on exit)
#   start_mail_rig            start_smtp delivering gate@example.com into
#                             GATE_MAILDIR
#   mail_gate FILE            a gate file for via mail (seed rules) in $WORK
#   reply_to_request N [reply.py flags]   send a reply to request message N
#                             (1-based in $MAILDIR) through the SMTP rig
#   imap_count CRITERIA       how many messages in the mailbox match (python
#                             imaplib over TLS)
#   wait_log TEXT             until $WORK/gl.err contains TEXT (or fail)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOVECOT=${DOVECOT:-/usr/sbin/dovecot}
if [ ! -x "$DOVECOT" ]; then
	echo "SKIP: dovecot is not installed (scripts/setup-deps.sh installs dovecot-imapd)"
	exit 77
fi

IMAP_USER=gate
IMAP_PASSWORD=imap-secret-$$

start_dovecot() {
	IMAPROOT=$TMP/dovecot
	mkdir -p "$IMAPROOT/run" "$IMAPROOT/state" "$IMAPROOT/home"
	IMAPS_PORT=$(free_port)
	IMAP_PORT=$(free_port)
	local me uid gid users
	me=$(id -un); uid=$(id -u); gid=$(id -g)
	if [ "$uid" -eq 0 ]; then
		# as root: dovecot's own unprivileged users (from the package),
		# chrooted login processes, and root's mail allowed
		# and the mailbox owned by the dovecot user (IMAP refuses uid 0)
		chmod a+x "$TMP" "$IMAPROOT"
		uid=$(id -u dovecot); gid=$(id -g dovecot)
		users="first_valid_uid = $uid
service auth {
  user = root
}"
	else
		users="default_internal_user = $me
default_internal_group = $(id -gn)
default_login_user = $me
service imap-login {
  chroot =
  user = $me
}
service anvil {
  chroot =
}
service stats {
  chroot =
}"
	fi
	printf '%s:{PLAIN}%s::::::\n' "$IMAP_USER" "$IMAP_PASSWORD" >"$IMAPROOT/passwd"
	cat >"$IMAPROOT/dovecot.conf" <<EOF
base_dir = $IMAPROOT/run
state_dir = $IMAPROOT/state
log_path = $IMAPROOT/dovecot.log
info_log_path = $IMAPROOT/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$CERTS/server.pem
ssl_key = <$CERTS/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:$IMAPROOT/home/%u/Maildir
$users
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $IMAPROOT/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$IMAPROOT/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
protocol imap {
  mail_max_userip_connections = 100
}
EOF
	GATE_MAILDIR=$IMAPROOT/home/$IMAP_USER/Maildir
	mkdir -p "$GATE_MAILDIR/new" "$GATE_MAILDIR/cur" "$GATE_MAILDIR/tmp"
	chown -R "$uid:$gid" "$IMAPROOT/home"
	"$DOVECOT" -c "$IMAPROOT/dovecot.conf" || { ko "dovecot did not start"; cat "$IMAPROOT/dovecot.log"; return 1; }
	for _ in $(seq 100); do
		$PY -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$IMAPS_PORT" 2>/dev/null && break
		sleep 0.1
	done
	export GREENLIGHT_IMAP=imaps://127.0.0.1:$IMAPS_PORT/INBOX
	export GREENLIGHT_IMAP_USER=$IMAP_USER GREENLIGHT_IMAP_PASSWORD=$IMAP_PASSWORD
	export GREENLIGHT_IMAP_CA_FILE=$CERTS/ca.pem
	DOVECOT_UP=1
}

stop_dovecot() {
	[ -n "${DOVECOT_UP:-}" ] || return 0
	"$DOVECOT" -c "$IMAPROOT/dovecot.conf" stop 2>/dev/null
	for _ in $(seq 50); do [ -e "$IMAPROOT/run/master.pid" ] || break; sleep 0.1; done
	DOVECOT_UP=
}

# stop dovecot before lib.sh's cleanup removes its directory
trap 'stop_dovecot; cleanup' EXIT

start_mail_rig() {
	start_smtp --maildir "$GATE_MAILDIR" --maildir-local gate "$@"
}

mail_gate() { # mail_gate [extra decision JSON members]
	local extra=${1:-}
	cat >"$WORK/greenlight.json" <<EOF
{
  "version": 1,
  "name": "model-release",
  "results": "results.json",
  "choices": [
    { "Variable": "\$.accuracypct", "NumericLessThan": 96, "Next": "research" },
    { "Variable": "\$.latencyMs", "NumericGreaterThan": 80, "Next": "engineering" }
  ],
  "default": "pass",
  "teams": {
    "research":    { "email": ["research@example.com"], "approvals": 1 },
    "engineering": { "email": ["alice@example.com", "bob@example.com"], "approvals": ${APPROVALS:-1} }
  },
  "notify": { "from": "greenlight@example.com" },
  "decision": {
    "via": "mail",
    "reply_to": "gate@example.com",
    "poll": "1s",
    "trusted_authserv_id": "mx.example.com"${extra:+,
    $extra}
  }
}
EOF
}

# the request message sent to ADDR (newest), as a path
# confirmation_to ADDR: the newest reply confirmation mailed to ADDR (the
# rig keeps threaded messages in $MAILDIR/thread/); confirm_count: how many
# confirmations arrived.  Confirmations are the gate's auto-replies.
confirmation_to() {
	local f
	f=$(grep -l "\"$1\"" "$MAILDIR"/thread/*.json 2>/dev/null | while read -r j; do
		grep -qi "^Auto-Submitted: auto-replied" "${j%.json}.eml" && echo "$j"; done | tail -n 1)
	[ -n "$f" ] || return 1
	echo "${f%.json}.eml"
}
confirm_count() { grep -li "^Auto-Submitted: auto-replied" "$MAILDIR"/thread/*.eml 2>/dev/null | wc -l; }

request_to() {
	local f
	f=$(grep -l "\"$1\"" "$MAILDIR"/*.json 2>/dev/null | tail -n 1)
	[ -n "$f" ] || return 1
	echo "${f%.json}.eml"
}

reply() { # reply REQUEST.eml [reply.py flags]
	local req=$1
	shift
	$PY "$SRCDIR/tests/integration/reply.py" --request "$req" \
		--smtp-port "$SMTP_PORT" --ca "$CERTS/ca.pem" "$@"
}

imap_count() { # imap_count CRITERIA...
	$PY - "$IMAPS_PORT" "$CERTS/ca.pem" "$IMAP_USER" "$IMAP_PASSWORD" "$@" <<'PYEOF'
import imaplib, ssl, sys
port, ca, user, pw = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
m = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ctx)
m.login(user, pw)
m.select("INBOX")
typ, data = m.uid("SEARCH", *sys.argv[5:])
print(len(data[0].split()))
m.logout()
PYEOF
}

wait_log() { # wait_log TEXT [seconds]
	for _ in $(seq $((${2:-20} * 10))); do
		grep -qF -- "$1" "$WORK/gl.err" 2>/dev/null && return 0
		sleep 0.1
	done
	ko "gl.err never said: $1"
	return 1
}
