#!/bin/bash
# i0221-relay-suite-postgres.sh - the relay tests that do not look inside
# the SQLite file, run again with every relay on a real PostgreSQL
# (pg_lib.sh): each script gets a fresh database of its own through
# GREENLIGHT_TEST_RELAY_DB, which relay_util.Relay and the gate tests'
# relays use instead of the file they name.  i0203 (restart) and i0209
# (retention) read the SQLite file directly and stay SQLite-only; i0220
# covers what is particular to PostgreSQL.
. "$(dirname "$0")/relay_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
pg_start
n=0
for t in i0201-relay-auth i0202-relay-longpoll i0204-relay-thousand \
	i0205-relay-sigterm i0206-relay-tls i0207-relay-limits \
	i0211-relay-status-cache i0210-run-relay i0302-trust-tenants \
	i0305-baseline-relay i0230-relay-reminders; do
	n=$((n + 1))
	"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U gl -d postgres -qc \
		"CREATE DATABASE suite$n" >/dev/null
	if GREENLIGHT_TEST_RELAY_DB="postgresql://gl@127.0.0.1:$PGPORT/suite$n" \
		bash "$SRCDIR/tests/integration/$t.sh" >"$TMP/$t.log" 2>&1; then
		ok
		echo "$t on PostgreSQL: $(tail -n 1 "$TMP/$t.log")"
	else
		ko "$t on PostgreSQL failed:"
		tail -n 40 "$TMP/$t.log"
	fi
	# and its relays kept their state there (i0211's retention deletes
	# every request it made: there, the schema the relay created)
	psql_n() { "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U gl -d "suite$n" -Atc "$1" 2>&1; }
	if [ "$t" = i0211-relay-status-cache ]; then
		rows=$(psql_n "SELECT version FROM greenlight_schema")
	else
		rows=$(psql_n "SELECT (SELECT count(*) FROM requests) + (SELECT count(*) FROM baselines)")
	fi
	if [ "${rows:-0}" -gt 0 ] 2>/dev/null; then ok; else
		ko "$t: nothing in its PostgreSQL database ($rows)"; fi
done
finish
