/* store_pg_request.c - PostgreSQL: reading and writing requests, and
 * housekeeping (expiry sweep, counts, pruning); see store_pg.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_pg_int.h"
#include "util.h"

/* ---- reading -------------------------------------------------------------- */

int pg_read_policy(struct pg_store *s, const char *id, struct policy *p,
		   int lock)
{
	const char *params[1] = { id };
	PGresult *res = pg_query(s, "read request", lock ?
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
		p->deadline = (time_t)pg_num(res, 0, 1);
		pg_text(res, 0, 2, p->author_email, sizeof(p->author_email));
		p->allow_self = (int)pg_num(res, 0, 3);
		pg_text(res, 0, 4, p->secret, sizeof(p->secret));
		p->keep_tags = (int)pg_num(res, 0, 5);
		rc = STORE_OK;
	}
	PQclear(res);
	return rc;
}

static int read_row(struct pg_store *s, const char *id,
		    struct store_request *r, int full)
{
	const char *params[1] = { id };
	PGresult *res = pg_query(s, "read request", "SELECT id, key, gate, state,"
			   " created, deadline, coalesce(decided_at, 0),"
			   " facts_json, notified, tenant, coalesce(subject, '')"
			   " FROM requests WHERE id = $1", 1, params);
	int rc = STORE_NOT_FOUND;

	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) == 1) {
		pg_text(res, 0, 0, r->id, sizeof(r->id));
		pg_text(res, 0, 1, r->key, sizeof(r->key));
		pg_text(res, 0, 2, r->gate, sizeof(r->gate));
		r->state = store_state_from_name(PQgetvalue(res, 0, 3));
		r->created = (time_t)pg_num(res, 0, 4);
		r->deadline = (time_t)pg_num(res, 0, 5);
		r->decided_at = (time_t)pg_num(res, 0, 6);
		if (full)
			r->facts_json = xstrdup(PQgetisnull(res, 0, 7) ? "{}" :
						PQgetvalue(res, 0, 7));
		r->notified = (int)pg_num(res, 0, 8);
		pg_text(res, 0, 9, r->tenant, sizeof(r->tenant));
		pg_text(res, 0, 10, r->subject, sizeof(r->subject));
		rc = STORE_OK;
	}
	PQclear(res);
	return rc;
}

static int read_decisions(struct pg_store *s, struct store_request *r)
{
	const char *params[1] = { r->id };
	PGresult *res = pg_query(s, "read decisions", "SELECT email, team, approve,"
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

		pg_text(res, i, 0, d->email, sizeof(d->email));
		pg_text(res, i, 1, d->team, sizeof(d->team));
		d->approve = (int)pg_num(res, i, 2);
		pg_text(res, i, 3, d->reason, sizeof(d->reason));
		d->at = (time_t)pg_num(res, i, 4);
		pg_text(res, i, 5, d->remote_addr, sizeof(d->remote_addr));
		pg_text(res, i, 6, d->user_agent, sizeof(d->user_agent));
		pg_text(res, i, 7, d->token, sizeof(d->token));
	}
	PQclear(res);
	return STORE_OK;
}

static int read_teams(struct pg_store *s, struct store_request *r)
{
	const char *params[1] = { r->id };
	PGresult *res = pg_query(s, "read teams", "SELECT t.name, t.approvals, "
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
		pg_text(res, i, 0, r->teams[i].name, sizeof(r->teams[i].name));
		r->teams[i].approvals = (int)pg_num(res, i, 1);
		r->teams[i].approved = (int)pg_num(res, i, 2);
	}
	PQclear(res);
	return STORE_OK;
}

static int read_asked(struct pg_store *s, struct store_request *r)
{
	const char *params[1] = { r->id };
	PGresult *res = pg_query(s, "read recipients", "SELECT email, team FROM"
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
		pg_text(res, i, 0, r->asked[i].email, sizeof(r->asked[i].email));
		pg_text(res, i, 1, r->asked[i].team, sizeof(r->asked[i].team));
	}
	PQclear(res);
	return STORE_OK;
}

int pg_read_request(struct pg_store *s, const char *id,
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
	if (pg_begin(s, 0))
		return STORE_ERROR;
	rc = pg_finish(s, pg_read_request(s, id, out, full), 0);
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
	rc = pg_finish(s, pg_expire_one(s, id, now), 1);
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

	if (nr->id)
		strlcpy_gl(id, nr->id, 33);
	else if (store_random_hex(id, ID_BYTES))
		return STORE_ERROR;
	if (store_random_hex(secret, SECRET_BYTES))
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
	res = pg_query(s, "add request", "INSERT INTO requests(id, key, gate,"
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
		rc = pg_run(s, "add team", "INSERT INTO teams(request_id, name,"
			    " approvals) VALUES ($1, $2, $3)", 3, tp, NULL);
	}
	for (size_t i = 0; !rc && i < nr->nrecipients; i++)
		rc = pg_insert_recipient(s, id, &nr->recipients[i]);
	return rc;
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
	int rc = pg_read_policy(s, id, &p, 1);

	if (rc)
		return rc;
	if (p.state != REQ_PENDING)
		return STORE_GONE;
	rc = pg_run(s, "replace recipients", "DELETE FROM recipients WHERE"
		    " request_id = $1", 1, params, NULL);
	for (size_t i = 0; !rc && i < n; i++)
		rc = pg_insert_recipient(s, id, &r[i]);
	if (!rc)
		rc = pg_run(s, "mark not notified", "UPDATE requests SET"
			    " notified = 0 WHERE id = $1", 1, params, NULL);
	if (!rc)	/* delivered to listeners on commit */
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
	res = pg_query(s, "count requests", "SELECT state, n FROM request_counts", 0,
		 NULL);
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
