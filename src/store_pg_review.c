/* store_pg_review.c - PostgreSQL: what a reviewer's token resolves to,
 * and recording decisions with the quorum under the request's row lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_pg_int.h"
#include "util.h"

/* ---- reviewers and decisions ------------------------------------------------ */

struct who {
	char request_id[33];
	char email[256];
	char team[72];
};

static int find_token(struct pg_store *s, const char *hash, struct who *w)
{
	const char *params[1] = { hash };
	PGresult *res = pg_query(s, "find token", "SELECT request_id, email, team"
			   " FROM recipients WHERE token_hash = $1", 1, params);
	int rc;

	if (!res)
		return STORE_ERROR;
	rc = PQntuples(res) == 1 ? STORE_OK : STORE_NOT_FOUND;
	if (!rc) {
		pg_text(res, 0, 0, w->request_id, sizeof(w->request_id));
		pg_text(res, 0, 1, w->email, sizeof(w->email));
		pg_text(res, 0, 2, w->team, sizeof(w->team));
	}
	PQclear(res);
	return rc;
}

/* 1 approve, 0 reject, -1 none in *prev; STORE_OK or STORE_ERROR. */
static int my_decision(struct pg_store *s, const struct who *w, int *prev)
{
	const char *params[3] = { w->request_id, w->email, w->team };
	PGresult *res = pg_query(s, "read decision", "SELECT approve FROM decisions"
			   " WHERE request_id = $1 AND lower(email) = lower($2)"
			   " AND team = $3", 3, params);

	*prev = -1;
	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) == 1)
		*prev = (int)pg_num(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

int pg_review_get(struct store *b, const char *token, time_t now,
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
		rc = pg_expire_one(s, w.request_id, now);
	rc = pg_finish(s, rc, 1);
	if (rc)
		return rc;
	if (pg_begin(s, 0))
		return STORE_ERROR;
	rc = pg_read_policy(s, w.request_id, &p, 0);
	if (!rc)
		rc = pg_read_request(s, w.request_id, &out->req, 1);
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

int pg_set_state(struct pg_store *s, const char *id, enum req_state to,
		 time_t at)
{
	char t[24];
	const char *params[3] = { id, req_state_name(to), t };

	snprintf(t, sizeof(t), "%lld", (long long)at);
	return pg_run(s, "settle request", "UPDATE requests SET state = $2,"
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
		return pg_set_state(s, id, REQ_REJECTED, now);
	res = pg_query(s, "count approvals", "SELECT count(*) FROM teams t WHERE"
		 " t.request_id = $1 AND " APPROVED_SQL " < t.approvals", 1,
		 params);
	if (!res)
		return STORE_ERROR;
	unmet = pg_num(res, 0, 0);
	PQclear(res);
	return unmet ? STORE_OK : pg_set_state(s, id, REQ_APPROVED, now);
}

static int insert_decision(struct pg_store *s, const struct who *w,
			   const struct vote *v, time_t now)
{
	char at[24];
	const char *params[9] = { w->request_id, w->email, w->team,
				  v->approve ? "1" : "0", v->reason, at,
				  v->remote_addr, v->user_agent, v->token };

	snprintf(at, sizeof(at), "%lld", (long long)now);
	return pg_run(s, "record decision", "INSERT INTO decisions(request_id,"
		      " email, team, approve, reason, at, remote_addr,"
		      " user_agent, token) VALUES ($1, $2, $3, $4, $5, $6, $7,"
		      " $8, $9)", 9, params, NULL);
}

static int decide_txn(struct pg_store *s, const struct vote *v, time_t now,
		      int *recorded)
{
	struct policy p;
	struct who w, again;
	int prev, rc = find_token(s, v->hash, &w);

	if (!rc)
		rc = pg_read_policy(s, w.request_id, &p, 1);	/* row lock */
	/* the token may have been replaced while we waited for the lock */
	if (!rc)
		rc = find_token(s, v->hash, &again);
	if (rc)
		return rc;
	if (strcmp(again.request_id, w.request_id))
		return STORE_NOT_FOUND;
	if (!store_vote_nonce_ok(&p, v))
		return STORE_FORBIDDEN;
	if (p.state == REQ_PENDING && now >= p.deadline) {
		if (pg_set_state(s, w.request_id, REQ_EXPIRED, p.deadline))
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
	if (!rc)	/* delivered to listeners on commit */
		rc = pg_hint(s, w.request_id);
	return rc;
}

int pg_decide_ex(struct store *b, const char *token, const char *nonce,
		 int approve, const char *reason, const char *remote_addr,
		 const char *user_agent, time_t now, int *recorded)
{
	struct pg_store *s = PG(b);
	struct vote v;
	int rc, added = 0;

	if (recorded)
		*recorded = 0;
	rc = store_vote_init(&v, token, nonce, approve, reason, remote_addr,
			     user_agent);
	if (rc)
		return rc;
	if (pg_begin(s, 1))
		return STORE_ERROR;
	rc = pg_finish(s, decide_txn(s, &v, now, &added), 1);
	if (recorded)
		*recorded = rc == STORE_OK && added;
	return rc;
}
