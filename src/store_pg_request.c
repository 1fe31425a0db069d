/* store_pg_request.c - PostgreSQL: reading and writing requests, and
 * housekeeping (expiry sweep, counts, pruning); see store_pg.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "store_pg_int.h"
#include "util.h"

/* ---- reading -------------------------------------------------------------- */

/* The request, its decisions, its teams with their approvers so far and
 * (when $2) who was asked, in one statement: one snapshot and one round
 * trip, where a transaction of a statement each took six.  Every row says
 * what it is in its first column (0 the request, 1 a decision, 2 a team,
 * 3 someone asked) and they come in that order, each part by seq. */
#define READ_SQL \
	"SELECT 0 AS part, 0::bigint AS seq, id, key, gate, state," \
	" created::text, deadline::text, coalesce(decided_at, 0)::text," \
	" CASE WHEN $2 THEN coalesce(facts_json, '{}') END, notified::text," \
	" tenant, coalesce(subject, '') FROM requests WHERE id = $1" \
	" UNION ALL SELECT 1, seq, email, team, approve::text, reason," \
	" at::text, remote_addr, user_agent, coalesce(token, ''), NULL," \
	" NULL, NULL FROM decisions WHERE request_id = $1" \
	" UNION ALL SELECT 2, t.seq, t.name, t.approvals::text, " \
	APPROVED_SQL "::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL," \
	" NULL FROM teams t WHERE t.request_id = $1" \
	" UNION ALL SELECT 3, seq, email, team, NULL, NULL, NULL, NULL, NULL," \
	" NULL, NULL, NULL, NULL FROM recipients WHERE request_id = $1 AND $2" \
	" ORDER BY 1, 2"

enum { PART_REQUEST, PART_DECISION, PART_TEAM, PART_ASKED, PARTS };
#define COL 2			/* the first column after part and seq */

static void row_from(const PGresult *res, struct store_request *r, int full)
{
	pg_text(res, 0, COL, r->id, sizeof(r->id));
	pg_text(res, 0, COL + 1, r->key, sizeof(r->key));
	pg_text(res, 0, COL + 2, r->gate, sizeof(r->gate));
	r->state = store_state_from_name(PQgetvalue(res, 0, COL + 3));
	r->created = (time_t)pg_num(res, 0, COL + 4);
	r->deadline = (time_t)pg_num(res, 0, COL + 5);
	r->decided_at = (time_t)pg_num(res, 0, COL + 6);
	if (full)
		r->facts_json = xstrdup(PQgetvalue(res, 0, COL + 7));
	r->notified = (int)pg_num(res, 0, COL + 8);
	pg_text(res, 0, COL + 9, r->tenant, sizeof(r->tenant));
	pg_text(res, 0, COL + 10, r->subject, sizeof(r->subject));
}

static void decision_from(const PGresult *res, int i, struct store_decision *d)
{
	pg_text(res, i, COL, d->email, sizeof(d->email));
	pg_text(res, i, COL + 1, d->team, sizeof(d->team));
	d->approve = (int)pg_num(res, i, COL + 2);
	pg_text(res, i, COL + 3, d->reason, sizeof(d->reason));
	d->at = (time_t)pg_num(res, i, COL + 4);
	pg_text(res, i, COL + 5, d->remote_addr, sizeof(d->remote_addr));
	pg_text(res, i, COL + 6, d->user_agent, sizeof(d->user_agent));
	pg_text(res, i, COL + 7, d->token, sizeof(d->token));
}

static void team_from(const PGresult *res, int i, struct store_team_state *t)
{
	pg_text(res, i, COL, t->name, sizeof(t->name));
	t->approvals = (int)pg_num(res, i, COL + 1);
	t->approved = (int)pg_num(res, i, COL + 2);
}

static void asked_from(const PGresult *res, int i, struct store_asked *a)
{
	pg_text(res, i, COL, a->email, sizeof(a->email));
	pg_text(res, i, COL + 1, a->team, sizeof(a->team));
}

static int request_from(const PGresult *res, struct store_request *r,
			int full)
{
	int rows = PQntuples(res);
	size_t n[PARTS] = { 0 }, at[PARTS] = { 0 };

	if (rows < 1 || pg_num(res, 0, 0) != PART_REQUEST)
		return STORE_NOT_FOUND;
	for (int i = 1; i < rows; i++) {
		long long part = pg_num(res, i, 0);

		if (part <= PART_REQUEST || part >= PARTS)
			return error("store: an unexpected row reading request"
				     " %s", PQgetvalue(res, 0, COL));
		n[part]++;
	}
	row_from(res, r, full);
	if (n[PART_DECISION])
		r->decisions = xcalloc(n[PART_DECISION], sizeof(*r->decisions));
	if (n[PART_TEAM])
		r->teams = xcalloc(n[PART_TEAM], sizeof(*r->teams));
	if (n[PART_ASKED])
		r->asked = xcalloc(n[PART_ASKED], sizeof(*r->asked));
	r->ndecisions = n[PART_DECISION];
	r->nteams = n[PART_TEAM];
	r->nasked = n[PART_ASKED];
	for (int i = 1; i < rows; i++) {
		long long part = pg_num(res, i, 0);
		size_t k = at[part]++;

		if (part == PART_DECISION)
			decision_from(res, i, &r->decisions[k]);
		else if (part == PART_TEAM)
			team_from(res, i, &r->teams[k]);
		else
			asked_from(res, i, &r->asked[k]);
	}
	return STORE_OK;
}

int pg_read_request(struct pg_store *s, const char *id,
		    struct store_request *r, int full)
{
	const char *params[2] = { id, full ? "true" : "false" };
	PGresult *res = pg_query(s, "read request", READ_SQL, 2, params);
	int rc;

	if (!res)
		return STORE_ERROR;
	rc = request_from(res, r, full);
	PQclear(res);
	if (rc)
		store_request_release(r);
	return rc;
}

/* Settle request id as expired if it is pending past its deadline. */
int pg_expire_one(struct pg_store *s, const char *id, time_t now)
{
	char t[24];
	const char *params[2] = { id, t };

	snprintf(t, sizeof(t), "%lld", (long long)now);
	return pg_run(s, "settle request", "UPDATE requests SET state ="
		      " 'expired', decided_at = deadline WHERE id = $1 AND"
		      " state = 'pending' AND deadline <= $2", 2, params, NULL);
}

static int read_once(struct pg_store *s, const char *id, time_t now,
		     struct store_request *out, int full, int *due)
{
	int rc;

	*due = 0;
	if (pg_ready(s))
		return STORE_ERROR;
	rc = pg_read_request(s, id, out, full);
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
	if (pg_ready(s))
		return STORE_ERROR;
	rc = pg_expire_one(s, id, now);		/* a statement of its own */
	store_bump_generation();
	if (rc)
		return rc;
	return read_once(s, id, now, out, full, &due);
}

int pg_request_get(struct store *b, const char *id, time_t now,
		   struct store_request *out)
{
	return get_request(PG(b), id, now, out, 1);
}

int pg_request_status(struct store *b, const char *id, time_t now,
		      struct store_request *out)
{
	return get_request(PG(b), id, now, out, 0);
}

int pg_request_previous(struct store *b, const char *tenant,
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
	if (pg_ready(s))
		return STORE_ERROR;
	res = pg_query(s, "find previous request", "SELECT id FROM requests WHERE"
		 " tenant = $1 AND subject = $2 AND id <> $3 ORDER BY created"
		 " DESC, seq DESC LIMIT 1", 3, params);
	if (!res)
		return STORE_ERROR;
	rc = PQntuples(res) == 1 ? STORE_OK : STORE_NOT_FOUND;
	if (!rc)
		pg_text(res, 0, 0, prev, sizeof(prev));
	PQclear(res);
	if (rc)
		return rc;
	return get_request(s, prev, time(NULL), out, 1);
}

/* ---- writing requests ------------------------------------------------------- */

int pg_insert_recipient(struct pg_store *s, const char *id,
			const struct store_recipient *r)
{
	const char *params[4] = { id, r->email, r->team, r->token_hash };

	return pg_run(s, "add recipient", "INSERT INTO recipients(request_id,"
		      " email, team, token_hash) VALUES ($1, $2, $3, $4)", 4,
		      params, NULL);
}

/* The request with its teams and recipients, in one statement (one round
 * trip, atomic on its own): the rows of the teams and the recipients come
 * as JSON arrays, in order.  A key registered already (another relay at
 * the same moment) inserts nothing and returns no row. */
#define INSERT_SQL \
	"WITH r AS (INSERT INTO requests(id, key, gate, facts_json," \
	" author_email, allow_self_approval, secret, state, created," \
	" deadline, tenant, repository, subject, keep_tags)" \
	" VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11," \
	" $12, $13) ON CONFLICT (key) DO NOTHING RETURNING id)," \
	" t AS (INSERT INTO teams(request_id, name, approvals)" \
	" SELECT r.id, x.name, x.approvals FROM r, ROWS FROM" \
	" (json_to_recordset($14::json) AS (name text, approvals integer))" \
	" WITH ORDINALITY AS x(name, approvals, o) ORDER BY x.o)," \
	" c AS (INSERT INTO recipients(request_id, email, team, token_hash)" \
	" SELECT r.id, x.email, x.team, x.token_hash FROM r, ROWS FROM" \
	" (json_to_recordset($15::json) AS (email text, team text," \
	" token_hash text)) WITH ORDINALITY AS x(email, team, token_hash, o)" \
	" ORDER BY x.o) SELECT id FROM r"

/* The teams and the recipients as the JSON arrays INSERT_SQL takes;
 * freed by the caller. */
static char *teams_json(const struct store_new_request *nr)
{
	cJSON *a = cJSON_CreateArray();
	char *text;

	for (size_t i = 0; i < nr->nteams; i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "name", nr->teams[i].name);
		cJSON_AddNumberToObject(t, "approvals", nr->teams[i].approvals);
		cJSON_AddItemToArray(a, t);
	}
	text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return text;
}

static char *recipients_json(const struct store_new_request *nr)
{
	cJSON *a = cJSON_CreateArray();
	char *text;

	for (size_t i = 0; i < nr->nrecipients; i++) {
		const struct store_recipient *r = &nr->recipients[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "email", r->email);
		cJSON_AddStringToObject(o, "team", r->team);
		cJSON_AddStringToObject(o, "token_hash", r->token_hash);
		cJSON_AddItemToArray(a, o);
	}
	text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return text;
}

static int insert_request(struct pg_store *s,
			  const struct store_new_request *nr, char id[33],
			  int *fresh)
{
	char secret[2 * SECRET_BYTES + 1], created[24], deadline[24];
	const char *author = nr->author_email && *nr->author_email ?
			     nr->author_email : NULL;
	char *teams = NULL, *recipients = NULL;
	const char *params[15];
	PGresult *res;

	*fresh = 0;
	if (nr->id)
		strlcpy_gl(id, nr->id, 33);
	else if (store_random_hex(id, ID_BYTES))
		return STORE_ERROR;
	if (store_random_hex(secret, SECRET_BYTES))
		return STORE_ERROR;
	teams = teams_json(nr);
	recipients = recipients_json(nr);
	if (!teams || !recipients) {
		free(teams);
		free(recipients);
		return error("store: out of memory");
	}
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
	params[13] = teams;
	params[14] = recipients;
	res = pg_query(s, "add request", INSERT_SQL, 15, params);
	free(teams);
	free(recipients);
	if (!res)
		return STORE_ERROR;
	*fresh = PQntuples(res) > 0;
	PQclear(res);
	return *fresh ? STORE_OK : STORE_NOT_FOUND;
}

static int find_key(struct pg_store *s, const char *key, char id[33])
{
	const char *params[1] = { key };
	PGresult *res = pg_query(s, "find request", "SELECT id FROM requests WHERE"
			   " key = $1", 1, params);
	int rc;

	if (!res)
		return STORE_ERROR;
	rc = PQntuples(res) == 1 ? STORE_OK : STORE_NOT_FOUND;
	if (!rc)
		pg_text(res, 0, 0, id, 33);
	PQclear(res);
	return rc;
}

int pg_request_put(struct store *b, const struct store_new_request *nr,
		   struct store_request *out, int *created)
{
	struct pg_store *s = PG(b);
	char id[33] = "";
	int rc, fresh = 0;

	memset(out, 0, sizeof(*out));
	*created = 0;
	if (store_check_new_request(nr))
		return STORE_ERROR;
	if (pg_ready(s))
		return STORE_ERROR;
	rc = insert_request(s, nr, id, &fresh);
	/* a token hash another request has (unique_violation) */
	if (rc == STORE_ERROR && !strcmp(s->sqlstate, "23505"))
		return STORE_CONFLICT;
	if (fresh)
		store_bump_generation();
	if (rc == STORE_NOT_FOUND)	/* registered before, or meanwhile */
		rc = find_key(s, nr->key, id);
	if (rc == STORE_OK)
		rc = get_request(s, id, nr->created, out, 1);
	if (rc == STORE_OK)
		*created = fresh;
	return rc;
}

int pg_lock_pending(struct pg_store *s, const char *id)
{
	const char *params[1] = { id };
	PGresult *res = pg_query(s, "lock request", "SELECT state FROM requests"
				 " WHERE id = $1 FOR UPDATE", 1, params);
	int rc = STORE_NOT_FOUND;

	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) == 1)
		rc = store_state_from_name(PQgetvalue(res, 0, 0)) == REQ_PENDING ?
		     STORE_OK : STORE_GONE;
	PQclear(res);
	return rc;
}

static int rekey_txn(struct pg_store *s, const char *id,
		     const struct store_recipient *r, size_t n)
{
	const char *params[1] = { id };
	int rc = pg_lock_pending(s, id);

	if (rc)
		return rc;
	rc = pg_run(s, "replace recipients", "DELETE FROM recipients WHERE"
		    " request_id = $1", 1, params, NULL);
	for (size_t i = 0; !rc && i < n; i++)
		rc = pg_insert_recipient(s, id, &r[i]);
	if (!rc)
		rc = pg_run(s, "mark not notified", "UPDATE requests SET"
			    " notified = 0 WHERE id = $1", 1, params, NULL);
	if (!rc)	/* sent once committed */
		rc = pg_hint(s, id);
	return rc;
}

int pg_request_rekey(struct store *b, const char *id,
		     const struct store_recipient *r, size_t n)
{
	struct pg_store *s = PG(b);

	if (store_check_recipients(r, n))
		return STORE_ERROR;
	if (pg_begin(s, 1))
		return STORE_ERROR;
	return pg_finish(s, rekey_txn(s, id, r, n), 1);
}

int pg_recipient_adopt(struct store *b, const char *id, const char *email,
		       const char *team, const char *token_hash)
{
	struct pg_store *s = PG(b);
	const char *params[4] = { id, email, team, token_hash };
	long changed = 0;
	int rc;

	if (!token_is_hex(token_hash, TOKEN_HEX_SIZE - 1))
		return error("store: a token hash is 64 hex digits");
	if (pg_ready(s))
		return STORE_ERROR;
	rc = pg_run(s, "adopt token", "UPDATE recipients SET token_hash = $4"
		    " WHERE request_id = $1 AND lower(email) = lower($2) AND team = $3",
		    4, params, &changed);
	if (rc)
		return !strcmp(s->sqlstate, "23505") ? STORE_CONFLICT : STORE_ERROR;
	store_bump_generation();
	return changed ? STORE_OK : STORE_NOT_FOUND;
}

int pg_request_set_notified(struct store *b, const char *id,
			    int notified)
{
	struct pg_store *s = PG(b);
	const char *params[2] = { id, notified ? "1" : "0" };
	int rc;

	if (pg_ready(s))
		return STORE_ERROR;
	rc = pg_run(s, "mark notified", "UPDATE requests SET notified = $2"
		    " WHERE id = $1", 2, params, NULL);
	if (!rc)
		rc = pg_hint(s, id);
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
	if (pg_run(s, "reopen request", "UPDATE requests SET state = 'pending',"
		   " decided_at = NULL, deadline = $2, notified = 0 WHERE id = $1"
		   " AND state = 'expired'", 2, params, &changed))
		return STORE_ERROR;
	if (changed != 1)
		return STORE_GONE;
	return rekey_txn(s, id, r, n);
}

int pg_request_reopen(struct store *b, const char *id, time_t deadline,
		      const struct store_recipient *r, size_t n)
{
	struct pg_store *s = PG(b);

	if (store_check_recipients(r, n))
		return STORE_ERROR;
	if (pg_begin(s, 1))
		return STORE_ERROR;
	return pg_finish(s, reopen_txn(s, id, deadline, r, n), 1);
}

/* ---- housekeeping ------------------------------------------------------------- */

int pg_settle_expired(struct store *b, time_t now, long *settled)
{
	struct pg_store *s = PG(b);
	char t[24];
	const char *params[1] = { t };
	long n = 0;
	int rc;

	if (settled)
		*settled = 0;
	if (pg_ready(s))
		return STORE_ERROR;
	snprintf(t, sizeof(t), "%lld", (long long)now);
	/* rows a decision (or another relay) holds are settled by it, or at
	 * the next sweep: never waited for while holding the counts */
	rc = pg_run(s, "settle expired requests", "UPDATE requests SET state ="
		    " 'expired', decided_at = deadline WHERE id IN (SELECT id FROM"
		    " requests WHERE state = 'pending' AND deadline <= $1"
		    " FOR UPDATE SKIP LOCKED)", 1, params, &n);
	if (n)
		store_bump_generation();
	if (!rc && settled)
		*settled = n;
	return rc;
}

int pg_state_counts(struct store *b, long counts[4])
{
	struct pg_store *s = PG(b);
	PGresult *res;

	for (int i = 0; i < 4; i++)
		counts[i] = 0;
	if (pg_ready(s))
		return STORE_ERROR;
	res = pg_query(s, "count requests", "SELECT state, sum(n) FROM"
		 " request_counts GROUP BY state", 0, NULL);
	if (!res)
		return STORE_ERROR;
	for (int i = 0; i < PQntuples(res); i++)
		counts[store_state_from_name(PQgetvalue(res, i, 0))] =
			(long)pg_num(res, i, 1);
	PQclear(res);
	return STORE_OK;
}

/* One statement, one transaction; rows another relay is pruning at the
 * same moment are skipped, not waited for. */
int pg_prune(struct store *b, time_t before, long max, long *pruned)
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
	if (pg_ready(s))
		return STORE_ERROR;
	snprintf(t, sizeof(t), "%lld", (long long)before);
	snprintf(m, sizeof(m), "%ld", max);
	rc = pg_run(s, "prune requests", "DELETE FROM requests WHERE id IN"
		    " (SELECT id FROM requests WHERE state <> 'pending' AND"
		    " decided_at <= $1 ORDER BY decided_at, id LIMIT $2"
		    " FOR UPDATE SKIP LOCKED)", 2, params, &n);
	if (n) {
		if (!rc)
			rc = pg_hint(s, NULL);
		store_bump_generation();
	}
	if (!rc && pruned)
		*pruned = n;
	return rc;
}

/* PostgreSQL's autovacuum reuses and returns space itself. */
int pg_reclaim(struct store *b, long max_pages, long *freed)
{
	(void)b;
	(void)max_pages;
	if (freed)
		*freed = 0;
	return STORE_OK;
}
