/* store_pg.c - the store on PostgreSQL (libpq), for several relays on one
 * database (see store.h, store_int.h; schema: docs/store.md): the
 * connection, the schema and its migrations, transactions, and the
 * backend's operations table.  The operations live by job in
 * store_pg_request.c (requests and housekeeping), store_pg_review.c
 * (reviewers and decisions), store_pg_baseline.c, store_pg_notify.c,
 * store_pg_resume.c and store_pg_watch.c (LISTEN for other relays'
 * changes); store_pg_int.h is what they share.
 *
 * Same schema and behaviour as the SQLite backend.  One struct store is one
 * libpq connection, used by one thread at a time.  The schema is created
 * or migrated on open under a session advisory lock, so relays starting at
 * once do it once.  Every write is one transaction; a decision locks its
 * request's row (SELECT ... FOR UPDATE) before it counts the quorum, so two
 * relays deciding the same request at once are serialised: no vote is
 * counted twice or lost.  The counts of requests per state are kept by a
 * trigger in the same transactions (O(1) metrics).  Each recorded decision
 * is followed by NOTIFY greenlight_decided with the request id, sent right
 * after its commit (pg_hint): a hint for relays holding long-polls to
 * re-read (store_watch_start).
 *
 * A request (its row, decisions, teams and who was asked) is read in one
 * statement, so in one snapshot and one round trip, and registered in one;
 * a decision is a transaction of three statements under the request's row
 * lock (store_pg_review.c): on a busy relay the round trips to the server,
 * not the server's work, are what a call costs.  A lost connection is
 * re-established on the next call; while it cannot be, calls fail and
 * store_unavailable() says so.  The URL (which may hold a password) is
 * only ever printed redacted.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "token.h"
#include "util.h"

#define PG_SCHEMA_VERSION 4
#define PG_LOCK_KEY "7454610425364734042"	/* advisory lock: migrations */

_Thread_local int pg_conn_lost;

int store_unavailable(void)
{
	return pg_conn_lost;
}
/* Version 1: what the SQLite schema is at its version 6. */
static const char schema_v1[] =
	"CREATE TABLE requests("
	" seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,"
	" id text PRIMARY KEY,"
	" key text NOT NULL UNIQUE,"
	" gate text NOT NULL,"
	" facts_json text NOT NULL,"
	" author_email text,"
	" allow_self_approval integer NOT NULL"
	"  CHECK (allow_self_approval IN (0, 1)),"
	" secret text NOT NULL,"
	" state text NOT NULL"
	"  CHECK (state IN ('pending', 'approved', 'rejected', 'expired')),"
	" created bigint NOT NULL,"
	" deadline bigint NOT NULL,"
	" decided_at bigint,"
	" notified integer NOT NULL DEFAULT 0 CHECK (notified IN (0, 1)),"
	" tenant text NOT NULL DEFAULT '',"
	" repository text,"
	" subject text,"
	" keep_tags integer NOT NULL DEFAULT 0 CHECK (keep_tags IN (0, 1)));"
	"CREATE INDEX requests_pending ON requests(state, deadline);"
	"CREATE INDEX requests_subject ON requests(tenant, subject, created);"
	"CREATE INDEX requests_settled ON requests(decided_at)"
	" WHERE state <> 'pending';"
	"CREATE TABLE teams("
	" seq bigint GENERATED ALWAYS AS IDENTITY,"
	" request_id text NOT NULL REFERENCES requests(id) ON DELETE CASCADE,"
	" name text NOT NULL,"
	" approvals integer NOT NULL CHECK (approvals >= 1),"
	" PRIMARY KEY (request_id, name));"
	"CREATE TABLE recipients("
	" seq bigint GENERATED ALWAYS AS IDENTITY,"
	" request_id text NOT NULL,"
	" email text NOT NULL,"
	" team text NOT NULL,"
	" token_hash text NOT NULL UNIQUE,"
	" FOREIGN KEY (request_id, team) REFERENCES teams(request_id, name)"
	"  ON DELETE CASCADE);"
	"CREATE UNIQUE INDEX recipients_who ON recipients(request_id,"
	" lower(email), team);"
	"CREATE TABLE decisions("
	" seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" request_id text NOT NULL REFERENCES requests(id) ON DELETE CASCADE,"
	" email text NOT NULL,"
	" team text NOT NULL,"
	" approve integer NOT NULL CHECK (approve IN (0, 1)),"
	" reason text NOT NULL,"
	" at bigint NOT NULL,"
	" remote_addr text NOT NULL,"
	" user_agent text NOT NULL,"
	" token text);"
	"CREATE UNIQUE INDEX decisions_who ON decisions(request_id,"
	" lower(email), team);"
	"CREATE TABLE baselines("
	" tenant text NOT NULL,"
	" repository text NOT NULL,"
	" gate text NOT NULL,"
	" commit_id text NOT NULL,"
	" document text NOT NULL,"
	" recorded bigint NOT NULL,"
	" PRIMARY KEY (tenant, repository, gate, commit_id));"
	"CREATE TABLE request_counts("
	" state text PRIMARY KEY,"
	" n bigint NOT NULL);"
	"INSERT INTO request_counts(state, n) VALUES ('pending', 0),"
	" ('approved', 0), ('rejected', 0), ('expired', 0);"
	/* Once per statement, from its transition tables: the rows of the
	 * states that changed are locked in one order (by state) and then
	 * updated, so writers never wait for each other's counts in a cycle
	 * (every transaction changes counts in one statement). */
	"CREATE FUNCTION greenlight_count_apply(d jsonb) RETURNS void"
	" LANGUAGE sql AS $$"
	"  SELECT 1 FROM request_counts WHERE d ? state ORDER BY state FOR UPDATE;"
	"  UPDATE request_counts SET n = n + (d ->> state)::bigint WHERE d ? state;"
	" $$;"
	"CREATE FUNCTION greenlight_count() RETURNS trigger LANGUAGE plpgsql AS $$"
	" DECLARE d jsonb;"
	" BEGIN"
	"  IF TG_OP = 'INSERT' THEN"
	"   SELECT jsonb_object_agg(state, k) INTO d FROM"
	"    (SELECT state, count(*) AS k FROM new_rows GROUP BY state) x;"
	"  ELSIF TG_OP = 'DELETE' THEN"
	"   SELECT jsonb_object_agg(state, k) INTO d FROM"
	"    (SELECT state, -count(*) AS k FROM old_rows GROUP BY state) x;"
	"  ELSE"
	"   SELECT jsonb_object_agg(state, k) INTO d FROM"
	"    (SELECT state, sum(k) AS k FROM"
	"     (SELECT state, 1 AS k FROM new_rows"
	"      UNION ALL SELECT state, -1 FROM old_rows) y"
	"     GROUP BY state HAVING sum(k) <> 0) x;"
	"  END IF;"
	"  IF d IS NOT NULL THEN PERFORM greenlight_count_apply(d); END IF;"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER request_counts_insert AFTER INSERT ON requests"
	" REFERENCING NEW TABLE AS new_rows"
	" FOR EACH STATEMENT EXECUTE FUNCTION greenlight_count();"
	"CREATE TRIGGER request_counts_delete AFTER DELETE ON requests"
	" REFERENCING OLD TABLE AS old_rows"
	" FOR EACH STATEMENT EXECUTE FUNCTION greenlight_count();"
	"CREATE TRIGGER request_counts_update AFTER UPDATE ON requests"
	" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
	" FOR EACH STATEMENT EXECUTE FUNCTION greenlight_count();";

/* Version 2: notifications claimed (SQLite schema 7). */
static const char schema_v2[] =
	"CREATE TABLE notifications("
	" request_id text NOT NULL REFERENCES requests(id) ON DELETE CASCADE,"
	" kind text NOT NULL,"
	" recipient text NOT NULL,"
	" seq bigint NOT NULL,"
	" claimed bigint NOT NULL);"
	"CREATE UNIQUE INDEX notifications_key ON notifications(request_id,"
	" kind, lower(recipient), seq);";

/* Version 3: the resume outbox (SQLite schema 8, store_resume.c). */
static const char schema_v3[] =
	"CREATE TABLE resumes("
	" seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,"
	" request_id text PRIMARY KEY REFERENCES requests(id) ON DELETE CASCADE,"
	" tenant text NOT NULL,"
	" ci text NOT NULL,"
	" target text NOT NULL,"
	" state text NOT NULL DEFAULT 'waiting',"
	" outcome text,"
	" attempts integer NOT NULL DEFAULT 0,"
	" next_at bigint NOT NULL DEFAULT 0,"
	" match text,"
	" ready integer NOT NULL DEFAULT 1 CHECK (ready IN (0, 1)),"
	" updated bigint NOT NULL);"
	"CREATE INDEX resumes_waiting ON resumes(state, next_at);"
	"CREATE INDEX resumes_match ON resumes(ci, match);";

/* Version 4: the counts in slots, kept by row triggers.  A transaction
 * adds to the slot of its server process (pg_backend_pid() % 64), so
 * relays' connections, which are different server processes, no longer
 * wait for one another's counts row until commit (with one row per state,
 * every registration and every settled request waited for the one before
 * it to commit: its fsync included).  A state's count is the sum of its
 * slots: 4 x 64 rows at most, whatever the database holds.  Inserts and
 * changes of state, one row at a time in the relay's statements, are
 * counted by row triggers (the statement trigger's transition tables and
 * JSON cost more than the rest of a registration); a row's two slots are
 * taken in the order of their states' names, as the statement trigger that
 * still counts deletions (pruning, many rows) takes its rows, so writers
 * sharing a slot never wait for each other in a cycle.  Written so that it
 * can run again. */
static const char schema_v4[] =
	"ALTER TABLE request_counts ADD COLUMN IF NOT EXISTS"
	" slot integer NOT NULL DEFAULT 0;"
	"ALTER TABLE request_counts DROP CONSTRAINT IF EXISTS"
	" request_counts_pkey;"
	"ALTER TABLE request_counts ADD PRIMARY KEY (state, slot);"
	"CREATE OR REPLACE FUNCTION greenlight_count_apply(d jsonb)"
	" RETURNS void LANGUAGE sql AS $$"
	"  INSERT INTO request_counts(state, slot, n)"
	"  SELECT key, pg_backend_pid() % 64, value::bigint"
	"  FROM jsonb_each_text(d) ORDER BY key"
	"  ON CONFLICT (state, slot) DO UPDATE SET n = request_counts.n + excluded.n;"
	" $$;"
	"CREATE OR REPLACE FUNCTION greenlight_count_row() RETURNS trigger"
	" LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  IF TG_OP = 'INSERT' THEN"
	"   INSERT INTO request_counts(state, slot, n)"
	"   VALUES (NEW.state, pg_backend_pid() % 64, 1)"
	"   ON CONFLICT (state, slot) DO UPDATE SET n = request_counts.n + 1;"
	"  ELSE"
	"   INSERT INTO request_counts(state, slot, n)"
	"   SELECT v.s, pg_backend_pid() % 64, v.d"
	"   FROM (VALUES (OLD.state, -1), (NEW.state, 1)) v(s, d) ORDER BY v.s"
	"   ON CONFLICT (state, slot) DO UPDATE SET n = request_counts.n + excluded.n;"
	"  END IF;"
	"  RETURN NULL;"
	" END $$;"
	"DROP TRIGGER IF EXISTS request_counts_insert ON requests;"
	"CREATE TRIGGER request_counts_insert AFTER INSERT ON requests"
	" FOR EACH ROW EXECUTE FUNCTION greenlight_count_row();"
	"DROP TRIGGER IF EXISTS request_counts_update ON requests;"
	"CREATE TRIGGER request_counts_update AFTER UPDATE OF state ON requests"
	" FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)"
	" EXECUTE FUNCTION greenlight_count_row();";

/* ---- plumbing --------------------------------------------------------------- */

static void note_failure(struct pg_store *s, const PGresult *res)
{
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	strlcpy_gl(s->sqlstate, code ? code : "", sizeof(s->sqlstate));
	if (PQstatus(s->conn) == CONNECTION_BAD ||
	    (code && (!strncmp(code, "08", 2) || !strncmp(code, "57P", 3))))
		pg_conn_lost = 1;
}

int pg_error(struct pg_store *s, const char *what, const PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : "";

	note_failure(s, res);
	if (!msg || !*msg)
		msg = PQerrorMessage(s->conn);
	error("store: %s (%s): %.*s", what, s->shown,
	      (int)strcspn(msg ? msg : "", "\n"), msg ? msg : "");
	return STORE_ERROR;
}

/* The connection was re-established: what was prepared on it is gone. */
static void reset(struct pg_store *s)
{
	pg_forget_prepared(s);
	PQreset(s->conn);
}

void pg_forget_prepared(struct pg_store *s)
{
	for (unsigned i = 0; i < s->nprepared; i++)
		free(s->prepared[i].sql);
	s->nprepared = 0;
}

static unsigned long sql_hash(const char *sql)
{
	unsigned long h = 14695981039346656037UL;	/* FNV-1a */

	for (; *sql; sql++)
		h = (h ^ (unsigned char)*sql) * 1099511628211UL;
	return h;
}

/* The name sql is prepared under on this connection ("" when it could
 * not be: the statement then goes unprepared, and fails or not as such). */
static void prepared_name(struct pg_store *s, const char *sql, int n,
			  char name[16])
{
	unsigned long h = sql_hash(sql);
	PGresult *res;

	name[0] = '\0';
	for (unsigned i = 0; i < s->nprepared; i++) {
		if (s->prepared[i].hash == h && !strcmp(s->prepared[i].sql, sql)) {
			snprintf(name, 16, "gl%u", i);
			return;
		}
	}
	if (s->nprepared == PG_PREPARED_MAX)
		return;
	snprintf(name, 16, "gl%u", s->nprepared);
	res = PQprepare(s->conn, name, sql, n, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		name[0] = '\0';	/* run unprepared: its error is reported */
	} else {
		s->prepared[s->nprepared].hash = h;
		s->prepared[s->nprepared].sql = xstrdup(sql);
		s->nprepared++;
	}
	PQclear(res);
}

static PGresult *exec(struct pg_store *s, const char *sql, int n,
		      const char *const *params)
{
	char name[16];

	prepared_name(s, sql, n, name);
	if (name[0])
		return PQexecPrepared(s->conn, name, n, params, NULL, NULL, 0);
	return PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
}

/* Run sql with text parameters (a statement prepared on the connection the
 * first time it is run there); the result when its status is the one
 * wanted (PGRES_TUPLES_OK or PGRES_COMMAND_OK), else NULL after
 * reporting (s->sqlstate says why). */
PGresult *pg_query(struct pg_store *s, const char *what, const char *sql,
		   int n, const char *const *params)
{
	PGresult *res = exec(s, sql, n, params);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	/* A connection that died while idle (a database restart) is found
	 * out only now.  Outside a transaction the statement (BEGIN, or one
	 * that is harmless to repeat) is tried once more on a new one. */
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && !s->in_txn &&
	    PQstatus(s->conn) == CONNECTION_BAD) {
		PQclear(res);
		reset(s);
		res = exec(s, sql, n, params);
		st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	}
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	pg_error(s, what, res);
	PQclear(res);
	return NULL;
}

/* Run sql; STORE_OK or STORE_ERROR.  *changed (may be NULL): rows changed. */
int pg_run(struct pg_store *s, const char *what, const char *sql,
	   int n, const char *const *params, long *changed)
{
	PGresult *res = pg_query(s, what, sql, n, params);

	if (!res)
		return STORE_ERROR;
	if (changed)
		*changed = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

/* A usable connection: reconnect once if it was lost.  0 or -1. */
int pg_ready(struct pg_store *s)
{
	pg_conn_lost = 0;
	s->sqlstate[0] = '\0';
	if (PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	reset(s);
	if (PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	pg_conn_lost = 1;
	return error("store: cannot reach the database (%s): %.*s", s->shown,
		     (int)strcspn(PQerrorMessage(s->conn), "\n"),
		     PQerrorMessage(s->conn));
}

int pg_begin(struct pg_store *s, int write)
{
	if (pg_ready(s))
		return -1;
	s->in_txn = 0;
	if (pg_run(s, "begin transaction", write ? "BEGIN" :
		   "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
		   NULL))
		return -1;
	s->in_txn = 1;
	return 0;
}

/* A transaction of its own that tells listeners request id changed (""
 * any): it does not wait for its commit to reach the disk, so it holds
 * PostgreSQL's lock of the notification queue (taken by every committing
 * transaction that notifies, until it ends) only for a moment.  What it
 * tells was committed durably before it was sent.  id is hex, so it may be
 * written into the text. */
#define HINT_SQL_FMT \
	"BEGIN; SET LOCAL synchronous_commit TO off;" \
	" SELECT pg_notify('" PG_CHANNEL "', '%s:%s'); COMMIT"

static char instance[17];		/* this process, in its hints */
static pthread_once_t instance_once = PTHREAD_ONCE_INIT;

static void make_instance(void)
{
	if (store_random_hex(instance, 8))
		strlcpy_gl(instance, "0000000000000000", sizeof(instance));
}

const char *pg_instance(void)
{
	pthread_once(&instance_once, make_instance);
	return instance;
}

static void hint_text(const char *id, char *q, size_t n)
{
	snprintf(q, n, HINT_SQL_FMT, pg_instance(),
		 id && token_is_hex(id, 32) ? id : "");
}

/* Commit, then (one round trip: a query string of several statements,
 * which the server stops at the first that fails) send the hint noted
 * during the transaction.  A hint that fails is reported, not the
 * caller's failure: its transaction is committed.  STORE_OK or
 * STORE_ERROR. */
static int commit_and_hint(struct pg_store *s)
{
	char q[sizeof(HINT_SQL_FMT) + 64] = "COMMIT; ";
	PGresult *res;
	int rc = STORE_OK, first = 1;

	hint_text(s->hint, q + strlen(q), sizeof(q) - strlen(q));
	if (!PQsendQuery(s->conn, q))
		return pg_error(s, "commit", NULL);
	while ((res = PQgetResult(s->conn))) {
		int ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
			 PQresultStatus(res) == PGRES_TUPLES_OK;

		if (first && !ok)
			rc = pg_error(s, "commit", res);
		else if (!ok && rc == STORE_OK)
			warning("store: could not tell the other relays of a"
				" change (%s): %.*s", s->shown,
				(int)strcspn(PQresultErrorMessage(res), "\n"),
				PQresultErrorMessage(res));
		first = 0;
		PQclear(res);
	}
	return rc;
}

/* End a transaction: roll back after STORE_ERROR, else commit (and send
 * the hint noted by pg_hint(), if any). */
int pg_finish(struct pg_store *s, int rc, int write)
{
	int hinted = s->hinted;

	s->hinted = 0;
	if (rc == STORE_ERROR) {
		PGresult *res = PQexec(s->conn, "ROLLBACK");

		PQclear(res);
	} else if (hinted ? commit_and_hint(s) :
		   pg_run(s, "commit", "COMMIT", 0, NULL, NULL)) {
		rc = STORE_ERROR;
	}
	s->in_txn = 0;
	if (write)
		store_bump_generation();
	return rc;
}

int pg_hint(struct pg_store *s, const char *id)
{
	char q[sizeof(HINT_SQL_FMT) + 64];
	PGresult *res;
	int rc = STORE_OK;

	if (s->in_txn) {	/* sent once the transaction is committed */
		if (s->hinted && strcmp(s->hint, id ? id : ""))
			id = NULL;	/* two requests: tell "any" */
		strlcpy_gl(s->hint, id ? id : "", sizeof(s->hint));
		s->hinted = 1;
		return STORE_OK;
	}
	hint_text(id, q, sizeof(q));
	res = PQexec(s->conn, q);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_error(s, "notify", res);
	PQclear(res);
	return rc;
}

long long pg_num(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void pg_text(const PGresult *res, int row, int col, char *dst, size_t n)
{
	strlcpy_gl(dst, PQgetvalue(res, row, col), n);
}

/* ---- opening -------------------------------------------------------------------- */

/* The server's NOTICEs ("already exists, skipping") are not for users. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

PGconn *pg_connect_url(const char *url)
{
	/* keywords before dbname are defaults the URL may override */
	/* plans made once per prepared statement: these are single-request
	 * lookups, whose plan does not depend on the values */
	const char *keys[] = { "connect_timeout", "application_name", "options",
			       "dbname", NULL };
	const char *vals[] = { "5", "greenlight",
			       "-c plan_cache_mode=force_generic_plan", url, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c)
		PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static int migrate_txn(struct pg_store *s)
{
	static const char *const schemas[PG_SCHEMA_VERSION] = {
		schema_v1, schema_v2, schema_v3, schema_v4
	};
	PGresult *res;
	char version[16];
	int v = 0;

	if (pg_run(s, "schema", "CREATE TABLE IF NOT EXISTS greenlight_schema("
		   " one boolean PRIMARY KEY DEFAULT true CHECK (one),"
		   " version integer NOT NULL)", 0, NULL, NULL))
		return STORE_ERROR;
	res = pg_query(s, "schema", "SELECT version FROM greenlight_schema", 0, NULL);
	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) == 1)
		v = (int)pg_num(res, 0, 0);
	PQclear(res);
	if (v < 0 || v > PG_SCHEMA_VERSION)
		return error("the database %s has greenlight schema version %d;"
			     " this greenlight knows %d", s->shown, v,
			     PG_SCHEMA_VERSION);
	for (int i = v; i < PG_SCHEMA_VERSION; i++) {
		res = PQexec(s->conn, schemas[i]);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pg_error(s, "create schema", res);
			PQclear(res);
			return STORE_ERROR;
		}
		PQclear(res);
	}
	if (v == PG_SCHEMA_VERSION)
		return STORE_OK;
	snprintf(version, sizeof(version), "%d", PG_SCHEMA_VERSION);
	return pg_run(s, "schema", "INSERT INTO greenlight_schema(version)"
		      " VALUES ($1) ON CONFLICT (one) DO"
		      " UPDATE SET version = excluded.version", 1,
		      (const char *const[]){ version }, NULL);
}

/* Create or migrate the schema, once whichever relays start at once. */
static int migrate(struct pg_store *s)
{
	int rc;

	if (pg_run(s, "lock schema", "SELECT pg_advisory_lock(" PG_LOCK_KEY ")",
		   0, NULL, NULL))
		return -1;
	rc = pg_begin(s, 1) ? STORE_ERROR : pg_finish(s, migrate_txn(s), 1);
	if (pg_run(s, "unlock schema", "SELECT pg_advisory_unlock("
		   PG_LOCK_KEY ")", 0, NULL, NULL))
		rc = STORE_ERROR;
	return rc ? -1 : 0;
}

static void pg_close(struct store *b)
{
	struct pg_store *s = PG(b);

	if (!s)
		return;
	pg_forget_prepared(s);
	PQfinish(s->conn);
	free(s->url);
	free(s);
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.shared = 1,
	.close = pg_close,
	.request_put = pg_request_put,
	.request_rekey = pg_request_rekey,
	.request_set_notified = pg_request_set_notified,
	.recipient_adopt = pg_recipient_adopt,
	.request_reopen = pg_request_reopen,
	.request_get = pg_request_get,
	.request_status = pg_request_status,
	.request_previous = pg_request_previous,
	.review_get = pg_review_get,
	.decide_ex = pg_decide_ex,
	.settle_expired = pg_settle_expired,
	.state_counts = pg_state_counts,
	.prune = pg_prune,
	.reclaim = pg_reclaim,
	.baseline_put = pg_baseline_put,
	.baseline_lookup = pg_baseline_lookup,
	.notify_claim = pg_notify_claim,
	.notify_claimed = pg_notify_claimed,
	.notify_candidates = pg_notify_candidates,
	.notify_unclaim = pg_notify_unclaim,
	.recipients_add = pg_recipients_add,
	.resume_add = pg_resume_add,
	.resume_attach = pg_resume_attach,
	.resume_due = pg_resume_due,
	.resume_claim = pg_resume_claim,
	.resume_finish = pg_resume_finish,
	.resume_state = pg_resume_state,
};

struct store *pg_open(const char *url)
{
	struct pg_store *s = xcalloc(1, sizeof(*s));

	s->base.ops = &pg_ops;
	s->url = xstrdup(url);
	store_redact(url, s->shown, sizeof(s->shown));
	s->conn = pg_connect_url(url);
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
		const char *msg = s->conn ? PQerrorMessage(s->conn) : "out of memory";

		pg_conn_lost = 1;
		error("cannot open database %s: %.*s", s->shown,
		      (int)strcspn(msg, "\n"), msg);
		pg_close(&s->base);
		return NULL;
	}
	if (migrate(s)) {
		pg_close(&s->base);
		return NULL;
	}
	return &s->base;
}

