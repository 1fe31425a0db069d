# pg_lib.sh - a real PostgreSQL server for relay tests (no mocks).
#
# Sourced by bash after relay_lib.sh.  pg_start initialises a cluster with
# Debian's server binaries (the newest /usr/lib/postgresql/*/bin) into a
# fresh directory, as the unprivileged user "nobody" when the suite runs as
# root (initdb refuses root), starts it on 127.0.0.1 at a free port with
# its socket in that directory, and exports PGURL
# (postgresql://gl@127.0.0.1:PORT/postgres; trust authentication, so a
# password in the URL is accepted and ignored).  The server is stopped
# and its directory removed on exit.  Without the server binaries the test
# is skipped (exit 77) with one line.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
	echo "SKIP: PostgreSQL server binaries not found (install postgresql)"
	exit 77
fi
PGDIR=""
PGRUN=""

pg_stop() {
	[ -n "$PGDIR" ] || return 0
	$PGRUN "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$PGDIR"
	PGDIR=""
}
trap 'pg_stop; cleanup' EXIT

pg_start() {
	PGDIR=$(mktemp -d /tmp/glpg.XXXXXX)
	chmod 0755 "$PGDIR"
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$PGDIR"
		PGRUN="runuser -u nobody --"
	fi
	PGPORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	(cd "$PGDIR" && $PGRUN "$PGBIN/initdb" -D "$PGDIR/data" -U gl -A trust \
		-E UTF8 --locale=C --no-sync >"$PGDIR/initdb.log" 2>&1) || {
		cat "$PGDIR/initdb.log"; echo "FAIL: initdb"; exit 1; }
	(cd "$PGDIR" && $PGRUN "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
		-o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
		start >/dev/null) || {
		cat "$PGDIR/server.log"; echo "FAIL: PostgreSQL did not start"; exit 1; }
	PGURL="postgresql://gl@127.0.0.1:$PGPORT/postgres"
	export PGURL PGDIR PGBIN PGPORT
}
