/* store_pg.c - the store on PostgreSQL (libpq), for several relays on one
 * database (see store.h, store_int.h; schema: docs/store.md).
 *
 * Same schema and behaviour as the SQLite backend.  One struct store is one
 * libpq connection, used by one thread at a time.  The schema is created
 * or migrated on open under a session advisory lock, so relays starting at
 * once do it once.  Every write is one transaction; a decision locks its
 * request's row (SELECT ... FOR UPDATE) before it counts the quorum, so two
 * relays deciding the same request at once are serialised: no vote is
 * counted twice or lost.  The counts of requests per state are kept by a
 * trigger in the same transactions (O(1) metrics).  Each recorded decision
 * sends NOTIFY greenlight_decided with the request id, delivered on commit:
 * a hint for relays holding long-polls to re-read (store_watch_start).
 *
 * Reads run REPEATABLE READ READ ONLY, so the row, its decisions and teams
 * are one snapshot.  A lost connection is re-established on the next call;
 * while it cannot be, calls fail and store_unavailable() says so.  The URL
 * (which may hold a password) is only ever printed redacted.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "store_int.h"
#include "util.h"

#define PG_SCHEMA_VERSION 1
#define PG_LOCK_KEY "7454610425364734042"	/* advisory lock: migrations */
#define PG_CHANNEL "greenlight_decided"
#define URL_SHOWN 512

struct pg_store {
	struct store base;
	PGconn *conn;
	char *url;
	char shown[URL_SHOWN];		/* the URL, redacted */
	char sqlstate[6];		/* of the last failed statement */
	int in_txn;			/* between BEGIN and its end */
};

/* This thread's last call failed for want of a connection. */
static _Thread_local int conn_lost;

int store_unavailable(void)
{
	return conn_lost;
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

/* Distinct approvers of team t. */
#define APPROVED_SQL \
	"(SELECT count(DISTINCT lower(d.email)) FROM decisions d" \
	" WHERE d.request_id = t.request_id AND d.team = t.name" \
	" AND d.approve = 1)"

#define PG(b) ((struct pg_store *)(b))

/* ---- plumbing --------------------------------------------------------------- */

static void note_failure(struct pg_store *s, const PGresult *res)
{
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	strlcpy_gl(s->sqlstate, code ? code : "", sizeof(s->sqlstate));
	if (PQstatus(s->conn) == CONNECTION_BAD ||
	    (code && (!strncmp(code, "08", 2) || !strncmp(code, "57P", 3))))
		conn_lost = 1;
}

static int pg_error(struct pg_store *s, const char *what, const PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : "";

	note_failure(s, res);
	if (!msg || !*msg)
		msg = PQerrorMessage(s->conn);
	error("store: %s (%s): %.*s", what, s->shown,
	      (int)strcspn(msg ? msg : "", "\n"), msg ? msg : "");
	return STORE_ERROR;
}

/* Run sql with text parameters; the result when its status is the one
 * wanted (PGRES_TUPLES_OK or PGRES_COMMAND_OK), else NULL after
 * reporting (s->sqlstate says why). */
static PGresult *pq(struct pg_store *s, const char *what, const char *sql,
		    int n, const char *const *params)
{
	PGresult *res = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	/* A connection that died while idle (a database restart) is found
	 * out only now.  Outside a transaction the statement (BEGIN, or one
	 * that is harmless to repeat) is tried once more on a new one. */
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && !s->in_txn &&
	    PQstatus(s->conn) == CONNECTION_BAD) {
		PQclear(res);
		PQreset(s->conn);
		res = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
		st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	}
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	pg_error(s, what, res);
	PQclear(res);
	return NULL;
}

/* Run sql; STORE_OK or STORE_ERROR.  *changed (may be NULL): rows changed. */
static int pq_run(struct pg_store *s, const char *what, const char *sql,
		  int n, const char *const *params, long *changed)
{
	PGresult *res = pq(s, what, sql, n, params);

	if (!res)
		return STORE_ERROR;
	if (changed)
		*changed = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

/* A usable connection: reconnect once if it was lost.  0 or -1. */
static int ready(struct pg_store *s)
{
	conn_lost = 0;
	s->sqlstate[0] = '\0';
	if (PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	PQreset(s->conn);
	if (PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	conn_lost = 1;
	return error("store: cannot reach the database (%s): %.*s", s->shown,
		     (int)strcspn(PQerrorMessage(s->conn), "\n"),
		     PQerrorMessage(s->conn));
}

static int pg_begin(struct pg_store *s, int write)
{
	if (ready(s))
		return -1;
	s->in_txn = 0;
	if (pq_run(s, "begin transaction", write ? "BEGIN" :
		   "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
		   NULL))
		return -1;
	s->in_txn = 1;
	return 0;
}

/* End a transaction: roll back after STORE_ERROR, else commit. */
static int pg_finish(struct pg_store *s, int rc, int write)
{
	if (rc == STORE_ERROR) {
		PGresult *res = PQexec(s->conn, "ROLLBACK");

		PQclear(res);
	} else if (pq_run(s, "commit", "COMMIT", 0, NULL, NULL)) {
		rc = STORE_ERROR;
	}
	s->in_txn = 0;
	if (write)
		store_bump_generation();
	return rc;
}

static long long num(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static void text(const PGresult *res, int row, int col, char *dst, size_t n)
{
	strlcpy_gl(dst, PQgetvalue(res, row, col), n);
}

/* ---- reading -------------------------------------------------------------- */

static int read_policy(struct pg_store *s, const char *id, struct policy *p,
		       int lock)
{
	const char *params[1] = { id };
	PGresult *res = pq(s, "read request", lock ?
			   "SELECT state, deadline, coalesce(author_email, ''),"
			   " allow_self_approval, secret, keep_tags FROM requests"
			   " WHERE id = $1 FOR UPDATE" :
			   "SELECT state, deadline, coalesce(author_email, ''),"
			   " allow_self_approval, secret, keep_tags FROM requests"
			   " WHERE id = $1", 1, params);
	int rc = STORE_NOT_FOUND;

	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) == 1) {
		p->state = store_state_from_name(PQgetvalue(res, 0, 0));
		p->deadline = (time_t)num(res, 0, 1);
		text(res, 0, 2, p->author_email, sizeof(p->author_email));
		p->allow_self = (int)num(res, 0, 3);
		text(res, 0, 4, p->secret, sizeof(p->secret));
		p->keep_tags = (int)num(res, 0, 5);
		rc = STORE_OK;
	}
	PQclear(res);
	return rc;
}

static int read_row(struct pg_store *s, const char *id,
		    struct store_request *r, int full)
{
	const char *params[1] = { id };
	PGresult *res = pq(s, "read request", "SELECT id, key, gate, state,"
			   " created, deadline, coalesce(decided_at, 0),"
			   " facts_json, notified, tenant, coalesce(subject, '')"
			   " FROM requests WHERE id = $1", 1, params);
	int rc = STORE_NOT_FOUND;

	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) == 1) {
		text(res, 0, 0, r->id, sizeof(r->id));
		text(res, 0, 1, r->key, sizeof(r->key));
		text(res, 0, 2, r->gate, sizeof(r->gate));
		r->state = store_state_from_name(PQgetvalue(res, 0, 3));
		r->created = (time_t)num(res, 0, 4);
		r->deadline = (time_t)num(res, 0, 5);
		r->decided_at = (time_t)num(res, 0, 6);
		if (full)
			r->facts_json = xstrdup(PQgetisnull(res, 0, 7) ? "{}" :
						PQgetvalue(res, 0, 7));
		r->notified = (int)num(res, 0, 8);
		text(res, 0, 9, r->tenant, sizeof(r->tenant));
		text(res, 0, 10, r->subject, sizeof(r->subject));
		rc = STORE_OK;
	}
	PQclear(res);
	return rc;
}

static int read_decisions(struct pg_store *s, struct store_request *r)
{
	const char *params[1] = { r->id };
	PGresult *res = pq(s, "read decisions", "SELECT email, team, approve,"
			   " reason, at, remote_addr, user_agent,"
			   " coalesce(token, '') FROM decisions WHERE request_id = $1"
			   " ORDER BY seq", 1, params);
	int n;

	if (!res)
		return STORE_ERROR;
	n = PQntuples(res);
	if (n) {
		r->decisions = xcalloc((size_t)n, sizeof(*r->decisions));
		r->ndecisions = (size_t)n;
	}
	for (int i = 0; i < n; i++) {
		struct store_decision *d = &r->decisions[i];

		text(res, i, 0, d->email, sizeof(d->email));
		text(res, i, 1, d->team, sizeof(d->team));
		d->approve = (int)num(res, i, 2);
		text(res, i, 3, d->reason, sizeof(d->reason));
		d->at = (time_t)num(res, i, 4);
		text(res, i, 5, d->remote_addr, sizeof(d->remote_addr));
		text(res, i, 6, d->user_agent, sizeof(d->user_agent));
		text(res, i, 7, d->token, sizeof(d->token));
	}
	PQclear(res);
	return STORE_OK;
}

static int read_teams(struct pg_store *s, struct store_request *r)
{
	const char *params[1] = { r->id };
	PGresult *res = pq(s, "read teams", "SELECT t.name, t.approvals, "
			   APPROVED_SQL " FROM teams t WHERE t.request_id = $1"
			   " ORDER BY t.seq", 1, params);
	int n;

	if (!res)
		return STORE_ERROR;
	n = PQntuples(res);
	if (n) {
		r->teams = xcalloc((size_t)n, sizeof(*r->teams));
		r->nteams = (size_t)n;
	}
	for (int i = 0; i < n; i++) {
		text(res, i, 0, r->teams[i].name, sizeof(r->teams[i].name));
		r->teams[i].approvals = (int)num(res, i, 1);
		r->teams[i].approved = (int)num(res, i, 2);
	}
	PQclear(res);
	return STORE_OK;
}

static int read_asked(struct pg_store *s, struct store_request *r)
{
	const char *params[1] = { r->id };
	PGresult *res = pq(s, "read recipients", "SELECT email, team FROM"
			   " recipients WHERE request_id = $1 ORDER BY seq", 1,
			   params);
	int n;

	if (!res)
		return STORE_ERROR;
	n = PQntuples(res);
	if (n) {
		r->asked = xcalloc((size_t)n, sizeof(*r->asked));
		r->nasked = (size_t)n;
	}
	for (int i = 0; i < n; i++) {
		text(res, i, 0, r->asked[i].email, sizeof(r->asked[i].email));
		text(res, i, 1, r->asked[i].team, sizeof(r->asked[i].team));
	}
	PQclear(res);
	return STORE_OK;
}

static int read_some(struct pg_store *s, const char *id,
		     struct store_request *r, int full)
{
	int rc = read_row(s, id, r, full);

	if (!rc)
		rc = read_decisions(s, r);
	if (!rc)
		rc = read_teams(s, r);
	if (!rc && full)
		rc = read_asked(s, r);
	if (rc)
		store_request_release(r);
	return rc;
}

/* Settle request id as expired if it is pending past its deadline. */
static int expire_one(struct pg_store *s, const char *id, time_t now)
{
	char t[24];
	const char *params[2] = { id, t };

	snprintf(t, sizeof(t), "%lld", (long long)now);
	return pq_run(s, "settle request", "UPDATE requests SET state ="
		      " 'expired', decided_at = deadline WHERE id = $1 AND"
		      " state = 'pending' AND deadline <= $2", 2, params, NULL);
}

static int read_once(struct pg_store *s, const char *id, time_t now,
		     struct store_request *out, int full, int *due)
{
	int rc;

	*due = 0;
	if (pg_begin(s, 0))
		return STORE_ERROR;
	rc = pg_finish(s, read_some(s, id, out, full), 0);
	if (rc == STORE_OK && out->state == REQ_PENDING && now >= out->deadline) {
		*due = 1;
		store_request_release(out);
	}
	return rc;
}

static int get_request(struct pg_store *s, const char *id, time_t now,
		       struct store_request *out, int full)
{
	int due, rc;

	memset(out, 0, sizeof(*out));
	if (!store_text_ok(id, sizeof(out->id) - 1))
		return STORE_NOT_FOUND;
	rc = read_once(s, id, now, out, full, &due);
	if (rc || !due)
		return rc;
	if (pg_begin(s, 1))
		return STORE_ERROR;
	rc = pg_finish(s, expire_one(s, id, now), 1);
	if (rc)
		return rc;
	return read_once(s, id, now, out, full, &due);
}

static int pg_request_get(struct store *b, const char *id, time_t now,
			  struct store_request *out)
{
	return get_request(PG(b), id, now, out, 1);
}

static int pg_request_status(struct store *b, const char *id, time_t now,
			     struct store_request *out)
{
	return get_request(PG(b), id, now, out, 0);
}

static int pg_request_previous(struct store *b, const char *tenant,
			       const char *subject, const char *id,
			       struct store_request *out)
{
	struct pg_store *s = PG(b);
	const char *params[3] = { tenant ? tenant : "", subject, id ? id : "" };
	char prev[33] = "";
	PGresult *res;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!subject || !*subject)
		return STORE_NOT_FOUND;
	if (ready(s))
		return STORE_ERROR;
	res = pq(s, "find previous request", "SELECT id FROM requests WHERE"
		 " tenant = $1 AND subject = $2 AND id <> $3 ORDER BY created"
		 " DESC, seq DESC LIMIT 1", 3, params);
	if (!res)
		return STORE_ERROR;
	rc = PQntuples(res) == 1 ? STORE_OK : STORE_NOT_FOUND;
	if (!rc)
		text(res, 0, 0, prev, sizeof(prev));
	PQclear(res);
	if (rc)
		return rc;
	return get_request(s, prev, time(NULL), out, 1);
}

/* ---- writing requests ------------------------------------------------------- */

static int insert_recipient(struct pg_store *s, const char *id,
			    const struct store_recipient *r)
{
	const char *params[4] = { id, r->email, r->team, r->token_hash };

	return pq_run(s, "add recipient", "INSERT INTO recipients(request_id,"
		      " email, team, token_hash) VALUES ($1, $2, $3, $4)", 4,
		      params, NULL);
}

static int insert_request(struct pg_store *s,
			  const struct store_new_request *nr, char id[33],
			  int *fresh)
{
	char secret[2 * SECRET_BYTES + 1], created[24], deadline[24];
	const char *author = nr->author_email && *nr->author_email ?
			     nr->author_email : NULL;
	const char *params[13];
	PGresult *res;
	int rc = STORE_OK;

	if (store_random_hex(id, ID_BYTES) || store_random_hex(secret, SECRET_BYTES))
		return STORE_ERROR;
	snprintf(created, sizeof(created), "%lld", (long long)nr->created);
	snprintf(deadline, sizeof(deadline), "%lld", (long long)nr->deadline);
	params[0] = id;
	params[1] = nr->key;
	params[2] = nr->gate;
	params[3] = nr->facts_json;
	params[4] = author;
	params[5] = nr->allow_self_approval ? "1" : "0";
	params[6] = secret;
	params[7] = created;
	params[8] = deadline;
	params[9] = nr->tenant ? nr->tenant : "";
	params[10] = nr->repository;
	params[11] = nr->subject;
	params[12] = nr->keep_tags ? "1" : "0";
	/* another relay registering the same key at once: theirs wins */
	res = pq(s, "add request", "INSERT INTO requests(id, key, gate,"
		 " facts_json, author_email, allow_self_approval, secret, state,"
		 " created, deadline, tenant, repository, subject, keep_tags)"
		 " VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10,"
		 " $11, $12, $13) ON CONFLICT (key) DO NOTHING RETURNING id", 13,
		 params);
	if (!res)
		return STORE_ERROR;
	*fresh = PQntuples(res) == 1;
	PQclear(res);
	if (!*fresh)
		return STORE_NOT_FOUND;
	for (size_t i = 0; !rc && i < nr->nteams; i++) {
		char n[16];
		const char *tp[3] = { id, nr->teams[i].name, n };

		snprintf(n, sizeof(n), "%d", nr->teams[i].approvals);
		rc = pq_run(s, "add team", "INSERT INTO teams(request_id, name,"
			    " approvals) VALUES ($1, $2, $3)", 3, tp, NULL);
	}
	for (size_t i = 0; !rc && i < nr->nrecipients; i++)
		rc = insert_recipient(s, id, &nr->recipients[i]);
	return rc;
}

static int find_key(struct pg_store *s, const char *key, char id[33])
{
	const char *params[1] = { key };
	PGresult *res = pq(s, "find request", "SELECT id FROM requests WHERE"
			   " key = $1", 1, params);
	int rc;

	if (!res)
		return STORE_ERROR;
	rc = PQntuples(res) == 1 ? STORE_OK : STORE_NOT_FOUND;
	if (!rc)
		text(res, 0, 0, id, 33);
	PQclear(res);
	return rc;
}

static int pg_request_put(struct store *b, const struct store_new_request *nr,
			  struct store_request *out, int *created)
{
	struct pg_store *s = PG(b);
	char id[33] = "";
	int rc, fresh = 0, taken;

	memset(out, 0, sizeof(*out));
	*created = 0;
	if (store_check_new_request(nr))
		return STORE_ERROR;
	if (pg_begin(s, 1))
		return STORE_ERROR;
	rc = find_key(s, nr->key, id);
	if (rc == STORE_NOT_FOUND) {
		rc = insert_request(s, nr, id, &fresh);
		if (rc == STORE_NOT_FOUND)	/* registered meanwhile */
			rc = find_key(s, nr->key, id);
	}
	/* a token hash another request has (unique_violation) */
	taken = rc == STORE_ERROR && !strcmp(s->sqlstate, "23505");
	rc = pg_finish(s, rc, 1);
	if (taken)
		return STORE_CONFLICT;
	if (rc == STORE_OK)
		rc = get_request(s, id, nr->created, out, 1);
	if (rc == STORE_OK)
		*created = fresh;
	return rc;
}

static int rekey_txn(struct pg_store *s, const char *id,
		     const struct store_recipient *r, size_t n)
{
	const char *params[1] = { id };
	struct policy p;
	int rc = read_policy(s, id, &p, 1);

	if (rc)
		return rc;
	if (p.state != REQ_PENDING)
		return STORE_GONE;
	rc = pq_run(s, "replace recipients", "DELETE FROM recipients WHERE"
		    " request_id = $1", 1, params, NULL);
	for (size_t i = 0; !rc && i < n; i++)
		rc = insert_recipient(s, id, &r[i]);
	if (!rc)
		rc = pq_run(s, "mark not notified", "UPDATE requests SET"
			    " notified = 0 WHERE id = $1", 1, params, NULL);
	return rc;
}

static int pg_request_rekey(struct store *b, const char *id,
			    const struct store_recipient *r, size_t n)
{
	struct pg_store *s = PG(b);

	if (store_check_recipients(r, n))
		return STORE_ERROR;
	if (pg_begin(s, 1))
		return STORE_ERROR;
	return pg_finish(s, rekey_txn(s, id, r, n), 1);
}

static int pg_request_set_notified(struct store *b, const char *id,
				   int notified)
{
	struct pg_store *s = PG(b);
	const char *params[2] = { id, notified ? "1" : "0" };
	int rc;

	if (ready(s))
		return STORE_ERROR;
	rc = pq_run(s, "mark notified", "UPDATE requests SET notified = $2"
		    " WHERE id = $1", 2, params, NULL);
	store_bump_generation();
	return rc;
}

static int reopen_txn(struct pg_store *s, const char *id, time_t deadline,
		      const struct store_recipient *r, size_t n)
{
	char d[24];
	const char *params[2] = { id, d };
	long changed = 0;

	snprintf(d, sizeof(d), "%lld", (long long)deadline);
	if (pq_run(s, "reopen request", "UPDATE requests SET state = 'pending',"
		   " decided_at = NULL, deadline = $2, notified = 0 WHERE id = $1"
		   " AND state = 'expired'", 2, params, &changed))
		return STORE_ERROR;
	if (changed != 1)
		return STORE_GONE;
	return rekey_txn(s, id, r, n);
}

static int pg_request_reopen(struct store *b, const char *id, time_t deadline,
			     const struct store_recipient *r, size_t n)
{
	struct pg_store *s = PG(b);

	if (store_check_recipients(r, n))
		return STORE_ERROR;
	if (pg_begin(s, 1))
		return STORE_ERROR;
	return pg_finish(s, reopen_txn(s, id, deadline, r, n), 1);
}

/* ---- reviewers and decisions ------------------------------------------------ */

struct who {
	char request_id[33];
	char email[256];
	char team[72];
};

static int find_token(struct pg_store *s, const char *hash, struct who *w)
{
	const char *params[1] = { hash };
	PGresult *res = pq(s, "find token", "SELECT request_id, email, team"
			   " FROM recipients WHERE token_hash = $1", 1, params);
	int rc;

	if (!res)
		return STORE_ERROR;
	rc = PQntuples(res) == 1 ? STORE_OK : STORE_NOT_FOUND;
	if (!rc) {
		text(res, 0, 0, w->request_id, sizeof(w->request_id));
		text(res, 0, 1, w->email, sizeof(w->email));
		text(res, 0, 2, w->team, sizeof(w->team));
	}
	PQclear(res);
	return rc;
}

/* 1 approve, 0 reject, -1 none in *prev; STORE_OK or STORE_ERROR. */
static int my_decision(struct pg_store *s, const struct who *w, int *prev)
{
	const char *params[3] = { w->request_id, w->email, w->team };
	PGresult *res = pq(s, "read decision", "SELECT approve FROM decisions"
			   " WHERE request_id = $1 AND lower(email) = lower($2)"
			   " AND team = $3", 3, params);

	*prev = -1;
	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) == 1)
		*prev = (int)num(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

static int pg_review_get(struct store *b, const char *token, time_t now,
			 struct store_review *out)
{
	struct pg_store *s = PG(b);
	char hash[TOKEN_HEX_SIZE];
	struct policy p;
	struct who w;
	int prev = -1, rc;

	memset(out, 0, sizeof(*out));
	rc = store_hash_token(token, hash);
	if (rc)
		return rc;
	if (pg_begin(s, 1))
		return STORE_ERROR;
	rc = find_token(s, hash, &w);
	if (!rc)
		rc = expire_one(s, w.request_id, now);
	rc = pg_finish(s, rc, 1);
	if (rc)
		return rc;
	if (pg_begin(s, 0))
		return STORE_ERROR;
	rc = read_policy(s, w.request_id, &p, 0);
	if (!rc)
		rc = read_some(s, w.request_id, &out->req, 1);
	if (!rc)
		rc = my_decision(s, &w, &prev);
	rc = pg_finish(s, rc, 0);
	if (!rc && store_make_nonce(p.secret, hash, out->nonce))
		rc = STORE_ERROR;
	if (rc) {
		store_review_release(out);
		return rc;
	}
	out->already = prev >= 0;
	out->already_approve = prev == 1;
	strlcpy_gl(out->email, w.email, sizeof(out->email));
	strlcpy_gl(out->team, w.team, sizeof(out->team));
	out->self = store_is_self(p.author_email, p.keep_tags, w.email);
	out->allow_self_approval = p.allow_self;
	return out->req.state == REQ_PENDING ? STORE_OK : STORE_GONE;
}

struct vote {
	char hash[TOKEN_HEX_SIZE];
	const char *token, *nonce;
	int approve;
	char reason[STORE_REASON_MAX + 1];
	char remote_addr[STORE_ADDR_MAX + 1];
	char user_agent[STORE_UA_MAX + 1];
};

static int set_state(struct pg_store *s, const char *id, enum req_state to,
		     time_t at)
{
	char t[24];
	const char *params[3] = { id, req_state_name(to), t };

	snprintf(t, sizeof(t), "%lld", (long long)at);
	return pq_run(s, "settle request", "UPDATE requests SET state = $2,"
		      " decided_at = $3 WHERE id = $1 AND state = 'pending'", 3,
		      params, NULL);
}

/* After a decision (the request's row locked): a reject rejects; an
 * approve approves once no team has fewer distinct approvers than it
 * needs. */
static int settle_quorum(struct pg_store *s, const char *id, int approve,
			 time_t now)
{
	const char *params[1] = { id };
	PGresult *res;
	long long unmet;

	if (!approve)
		return set_state(s, id, REQ_REJECTED, now);
	res = pq(s, "count approvals", "SELECT count(*) FROM teams t WHERE"
		 " t.request_id = $1 AND " APPROVED_SQL " < t.approvals", 1,
		 params);
	if (!res)
		return STORE_ERROR;
	unmet = num(res, 0, 0);
	PQclear(res);
	return unmet ? STORE_OK : set_state(s, id, REQ_APPROVED, now);
}

static int insert_decision(struct pg_store *s, const struct who *w,
			   const struct vote *v, time_t now)
{
	char at[24];
	const char *params[9] = { w->request_id, w->email, w->team,
				  v->approve ? "1" : "0", v->reason, at,
				  v->remote_addr, v->user_agent, v->token };

	snprintf(at, sizeof(at), "%lld", (long long)now);
	return pq_run(s, "record decision", "INSERT INTO decisions(request_id,"
		      " email, team, approve, reason, at, remote_addr,"
		      " user_agent, token) VALUES ($1, $2, $3, $4, $5, $6, $7,"
		      " $8, $9)", 9, params, NULL);
}

static int nonce_ok(const struct policy *p, const struct vote *v)
{
	char want[TOKEN_HEX_SIZE];

	if (!v->nonce || strnlen(v->nonce, TOKEN_HEX_SIZE) != TOKEN_HEX_SIZE - 1)
		return 0;
	if (store_make_nonce(p->secret, v->hash, want))
		return 0;
	return token_hex_equal(want, v->nonce);
}

static int decide_txn(struct pg_store *s, const struct vote *v, time_t now,
		      int *recorded)
{
	const char *params[1];
	struct policy p;
	struct who w, again;
	int prev, rc = find_token(s, v->hash, &w);

	if (!rc)
		rc = read_policy(s, w.request_id, &p, 1);	/* row lock */
	/* the token may have been replaced while we waited for the lock */
	if (!rc)
		rc = find_token(s, v->hash, &again);
	if (rc)
		return rc;
	if (strcmp(again.request_id, w.request_id))
		return STORE_NOT_FOUND;
	if (!nonce_ok(&p, v))
		return STORE_FORBIDDEN;
	if (p.state == REQ_PENDING && now >= p.deadline) {
		if (set_state(s, w.request_id, REQ_EXPIRED, p.deadline))
			return STORE_ERROR;
		p.state = REQ_EXPIRED;
	}
	if (my_decision(s, &w, &prev))
		return STORE_ERROR;
	if (prev >= 0)
		return prev == v->approve ? STORE_OK : STORE_CONFLICT;
	if (p.state != REQ_PENDING)
		return STORE_GONE;
	if (v->approve && store_is_self(p.author_email, p.keep_tags, w.email) &&
	    !p.allow_self)
		return STORE_FORBIDDEN;
	if (insert_decision(s, &w, v, now))
		return STORE_ERROR;
	*recorded = 1;
	rc = settle_quorum(s, w.request_id, v->approve, now);
	params[0] = w.request_id;
	if (!rc)	/* delivered to listeners on commit */
		rc = pq_run(s, "notify", "SELECT pg_notify('" PG_CHANNEL "', $1)",
			    1, params, NULL);
	return rc;
}

static int pg_decide_ex(struct store *b, const char *token, const char *nonce,
			int approve, const char *reason, const char *remote_addr,
			const char *user_agent, time_t now, int *recorded)
{
	struct pg_store *s = PG(b);
	struct vote v;
	int rc, added = 0;

	if (recorded)
		*recorded = 0;
	rc = store_hash_token(token, v.hash);
	if (rc)
		return rc;
	v.token = token;
	v.nonce = nonce;
	v.approve = !!approve;
	store_clean_into(v.reason, sizeof(v.reason), reason);
	store_clean_into(v.remote_addr, sizeof(v.remote_addr), remote_addr);
	store_clean_into(v.user_agent, sizeof(v.user_agent), user_agent);
	if (pg_begin(s, 1))
		return STORE_ERROR;
	rc = pg_finish(s, decide_txn(s, &v, now, &added), 1);
	if (recorded)
		*recorded = rc == STORE_OK && added;
	return rc;
}

/* ---- housekeeping ------------------------------------------------------------- */

static int pg_settle_expired(struct store *b, time_t now, long *settled)
{
	struct pg_store *s = PG(b);
	char t[24];
	const char *params[1] = { t };
	long n = 0;
	int rc;

	if (settled)
		*settled = 0;
	if (ready(s))
		return STORE_ERROR;
	snprintf(t, sizeof(t), "%lld", (long long)now);
	/* rows a decision (or another relay) holds are settled by it, or at
	 * the next sweep: never waited for while holding the counts */
	rc = pq_run(s, "settle expired requests", "UPDATE requests SET state ="
		    " 'expired', decided_at = deadline WHERE id IN (SELECT id FROM"
		    " requests WHERE state = 'pending' AND deadline <= $1"
		    " FOR UPDATE SKIP LOCKED)", 1, params, &n);
	if (n)
		store_bump_generation();
	if (!rc && settled)
		*settled = n;
	return rc;
}

static int pg_state_counts(struct store *b, long counts[4])
{
	struct pg_store *s = PG(b);
	PGresult *res;

	for (int i = 0; i < 4; i++)
		counts[i] = 0;
	if (ready(s))
		return STORE_ERROR;
	res = pq(s, "count requests", "SELECT state, n FROM request_counts", 0,
		 NULL);
	if (!res)
		return STORE_ERROR;
	for (int i = 0; i < PQntuples(res); i++)
		counts[store_state_from_name(PQgetvalue(res, i, 0))] =
			(long)num(res, i, 1);
	PQclear(res);
	return STORE_OK;
}

/* One statement, one transaction; rows another relay is pruning at the
 * same moment are skipped, not waited for. */
static int pg_prune(struct store *b, time_t before, long max, long *pruned)
{
	struct pg_store *s = PG(b);
	char t[24], m[24];
	const char *params[2] = { t, m };
	long n = 0;
	int rc;

	if (pruned)
		*pruned = 0;
	if (max < 1)
		return STORE_OK;
	if (ready(s))
		return STORE_ERROR;
	snprintf(t, sizeof(t), "%lld", (long long)before);
	snprintf(m, sizeof(m), "%ld", max);
	rc = pq_run(s, "prune requests", "DELETE FROM requests WHERE id IN"
		    " (SELECT id FROM requests WHERE state <> 'pending' AND"
		    " decided_at <= $1 ORDER BY decided_at, id LIMIT $2"
		    " FOR UPDATE SKIP LOCKED)", 2, params, &n);
	if (n)
		store_bump_generation();
	if (!rc && pruned)
		*pruned = n;
	return rc;
}

/* PostgreSQL's autovacuum reuses and returns space itself. */
static int pg_reclaim(struct store *b, long max_pages, long *freed)
{
	(void)b;
	(void)max_pages;
	if (freed)
		*freed = 0;
	return STORE_OK;
}

static int pg_baseline_put(struct store *b, const char *tenant,
			   const char *repository, const char *gate,
			   const char *commit, const char *doc_json,
			   time_t recorded)
{
	struct pg_store *s = PG(b);
	char t[24];
	const char *params[6] = { tenant, repository, gate, commit, doc_json, t };

	if (!store_baseline_key_ok(tenant, repository, gate, commit) ||
	    !doc_json || !*doc_json || strlen(doc_json) > STORE_MAX_BASELINE)
		return error("store: a baseline needs a tenant, repository, gate,"
			     " 40 hex digit commit and a document of at most %d"
			     " bytes", STORE_MAX_BASELINE);
	if (ready(s))
		return STORE_ERROR;
	snprintf(t, sizeof(t), "%lld", (long long)recorded);
	return pq_run(s, "store baseline", "INSERT INTO baselines(tenant,"
		      " repository, gate, commit_id, document, recorded) VALUES"
		      " ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, repository,"
		      " gate, commit_id) DO UPDATE SET document ="
		      " excluded.document, recorded = excluded.recorded", 6,
		      params, NULL);
}

static int pg_baseline_lookup(struct store *b, const char *tenant,
			      const char *repository, const char *gate,
			      const char *const *commits, size_t n,
			      store_baseline_fn fn, void *ud)
{
	struct pg_store *s = PG(b);
	int rc = STORE_OK;

	if (pg_begin(s, 0))
		return STORE_ERROR;
	for (size_t i = 0; i < n; i++) {
		const char *params[4] = { tenant, repository, gate, commits[i] };
		PGresult *res = pq(s, "read baseline", "SELECT document FROM"
				   " baselines WHERE tenant = $1 AND repository"
				   " = $2 AND gate = $3 AND commit_id = $4", 4,
				   params);
		int stop = 0;

		if (!res) {
			rc = STORE_ERROR;
			break;
		}
		if (PQntuples(res) == 1)
			stop = fn(ud, i, PQgetvalue(res, 0, 0),
				  (size_t)PQgetlength(res, 0, 0)) != 0;
		PQclear(res);
		if (stop)
			break;
	}
	return pg_finish(s, rc, 0);
}

/* ---- opening -------------------------------------------------------------------- */

/* The server's NOTICEs ("already exists, skipping") are not for users. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *connect_url(const char *url)
{
	/* keywords before dbname are defaults the URL may override */
	const char *keys[] = { "connect_timeout", "application_name", "dbname",
			       NULL };
	const char *vals[] = { "5", "greenlight", url, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c)
		PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static int migrate_txn(struct pg_store *s)
{
	PGresult *res;
	int v = 0;

	if (pq_run(s, "schema", "CREATE TABLE IF NOT EXISTS greenlight_schema("
		   " one boolean PRIMARY KEY DEFAULT true CHECK (one),"
		   " version integer NOT NULL)", 0, NULL, NULL))
		return STORE_ERROR;
	res = pq(s, "schema", "SELECT version FROM greenlight_schema", 0, NULL);
	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) == 1)
		v = (int)num(res, 0, 0);
	PQclear(res);
	if (v > PG_SCHEMA_VERSION)
		return error("the database %s has greenlight schema version %d;"
			     " this greenlight knows %d", s->shown, v,
			     PG_SCHEMA_VERSION);
	if (v < 1) {
		res = PQexec(s->conn, schema_v1);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pg_error(s, "create schema", res);
			PQclear(res);
			return STORE_ERROR;
		}
		PQclear(res);
	}
	if (v == PG_SCHEMA_VERSION)
		return STORE_OK;
	return pq_run(s, "schema", "INSERT INTO greenlight_schema(version)"
		      " VALUES ($1) ON CONFLICT (one) DO"
		      " UPDATE SET version = excluded.version", 1,
		      (const char *const[]){ "1" }, NULL);
}

/* Create or migrate the schema, once whichever relays start at once. */
static int migrate(struct pg_store *s)
{
	int rc;

	if (pq_run(s, "lock schema", "SELECT pg_advisory_lock(" PG_LOCK_KEY ")",
		   0, NULL, NULL))
		return -1;
	rc = pg_begin(s, 1) ? STORE_ERROR : pg_finish(s, migrate_txn(s), 1);
	if (pq_run(s, "unlock schema", "SELECT pg_advisory_unlock("
		   PG_LOCK_KEY ")", 0, NULL, NULL))
		rc = STORE_ERROR;
	return rc ? -1 : 0;
}

static void pg_close(struct store *b)
{
	struct pg_store *s = PG(b);

	if (!s)
		return;
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
};

struct store *pg_open(const char *url)
{
	struct pg_store *s = xcalloc(1, sizeof(*s));

	s->base.ops = &pg_ops;
	s->url = xstrdup(url);
	store_redact(url, s->shown, sizeof(s->shown));
	s->conn = connect_url(url);
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
		const char *msg = s->conn ? PQerrorMessage(s->conn) : "out of memory";

		conn_lost = 1;
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

/* ---- watching for decisions of other relays ------------------------------------- */

#define WATCH_POLL_MS 200
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct store_watch {
	pthread_t thread;
	atomic_int stop;
	char *url;
	char shown[URL_SHOWN];
	store_watch_fn fn;
	void *ud;
};

static PGconn *listen_conn(struct store_watch *w)
{
	PGconn *c = connect_url(w->url);
	PGresult *res;

	if (!c || PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	res = PQexec(c, "LISTEN " PG_CHANNEL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		PQfinish(c);
		return NULL;
	}
	PQclear(res);
	return c;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Deliver what arrived; -1 when the connection is gone. */
static int drain(struct store_watch *w, PGconn *c)
{
	PGnotify *n;

	if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK)
		return -1;
	while ((n = PQnotifies(c))) {
		if (n->extra && *n->extra)
			w->fn(w->ud, n->extra);
		else
			w->fn(w->ud, NULL);
		PQfreemem(n);
	}
	return 0;
}

static void *watch_main(void *arg)
{
	struct store_watch *w = arg;
	PGconn *c = listen_conn(w);
	long backoff = BACKOFF_MIN_MS;
	int lost = !c;

	while (!atomic_load(&w->stop)) {
		struct pollfd pfd;

		if (!c) {
			sleep_ms(backoff);
			if (atomic_load(&w->stop))
				break;
			c = listen_conn(w);
			if (!c) {
				backoff = backoff * 2 > BACKOFF_MAX_MS ?
					  BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			backoff = BACKOFF_MIN_MS;
			if (lost)
				fprintf(stderr, "greenlight relay: listening for"
					" decisions on %s again\n", w->shown);
			lost = 0;
			w->fn(w->ud, NULL);	/* anything may have changed */
		}
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, WATCH_POLL_MS) < 0 && errno != EINTR)
			pfd.revents = POLLERR;
		if (pfd.revents && drain(w, c) < 0) {
			warning("lost the connection that hears decisions (%s);"
				" reconnecting", w->shown);
			PQfinish(c);
			c = NULL;
			lost = 1;
			w->fn(w->ud, NULL);
		}
	}
	PQfinish(c);
	return NULL;
}

struct store_watch *store_watch_start(const char *db, store_watch_fn fn,
				      void *ud)
{
	struct store_watch *w;

	if (!store_is_url(db))
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->url = xstrdup(db);
	store_redact(db, w->shown, sizeof(w->shown));
	w->fn = fn;
	w->ud = ud;
	if (pthread_create(&w->thread, NULL, watch_main, w)) {
		error("cannot start a thread: %s", strerror(errno));
		free(w->url);
		free(w);
		return NULL;
	}
	return w;
}

void store_watch_stop(struct store_watch *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, 1);
	pthread_join(w->thread, NULL);
	free(w->url);
	free(w);
}
