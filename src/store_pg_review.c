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

/* This reviewer's decision on the request so far: 1 approve, 0 reject,
 * -1 none. */
#define PREV_SQL \
	"coalesce((SELECT d.approve FROM decisions d WHERE d.request_id =" \
	" rc.request_id AND lower(d.email) = lower(rc.email) AND d.team =" \
	" rc.team), -1)"

/* Who a token hash names, the request's policy and what they decided so
 * far, in one statement (LOCK_SQL: with the request's row locked). */
#define TOKEN_SQL \
	"SELECT rc.request_id, rc.email, rc.team, r.state, r.deadline," \
	" coalesce(r.author_email, ''), r.allow_self_approval, r.secret," \
	" r.keep_tags, " PREV_SQL " FROM recipients rc JOIN requests r" \
	" ON r.id = rc.request_id WHERE rc.token_hash = $1"
#define LOCK_SQL TOKEN_SQL " FOR UPDATE OF r"

static int find_token(struct pg_store *s, const char *hash, int lock,
		      struct who *w, struct policy *p, int *prev)
{
	const char *params[1] = { hash };
	PGresult *res = pg_query(s, "find token", lock ? LOCK_SQL : TOKEN_SQL,
				 1, params);
	int rc;

	if (!res)
		return STORE_ERROR;
	rc = PQntuples(res) == 1 ? STORE_OK : STORE_NOT_FOUND;
	if (!rc) {
		pg_text(res, 0, 0, w->request_id, sizeof(w->request_id));
		pg_text(res, 0, 1, w->email, sizeof(w->email));
		pg_text(res, 0, 2, w->team, sizeof(w->team));
		p->state = store_state_from_name(PQgetvalue(res, 0, 3));
		p->deadline = (time_t)pg_num(res, 0, 4);
		pg_text(res, 0, 5, p->author_email, sizeof(p->author_email));
		p->allow_self = (int)pg_num(res, 0, 6);
		pg_text(res, 0, 7, p->secret, sizeof(p->secret));
		p->keep_tags = (int)pg_num(res, 0, 8);
		*prev = (int)pg_num(res, 0, 9);
	}
	PQclear(res);
	return rc;
}

/* Two statements, no transaction: who the token names (and whether the
 * request is past its deadline: then settled as expired first), then
 * the request as the page shows it. */
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
	if (pg_ready(s))
		return STORE_ERROR;
	rc = find_token(s, hash, 0, &w, &p, &prev);
	if (!rc && p.state == REQ_PENDING && now >= p.deadline) {
		rc = pg_expire_one(s, w.request_id, now);
		store_bump_generation();
	}
	if (!rc)
		rc = pg_read_request(s, w.request_id, &out->req, 1);
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

/* The decision recorded and the request settled in one statement (the
 * request's row locked, the reviewer known to have no decision yet): a
 * reject rejects; an approve approves once no team has fewer distinct
 * approvers than it needs, counting this one ($4 = 1 adds one to team
 * $3: the statement does not see its own insert). */
#define DECIDE_SQL \
	"WITH ins AS (INSERT INTO decisions(request_id, email, team, approve," \
	" reason, at, remote_addr, user_agent, token) VALUES ($1, $2, $3," \
	" $4::integer, $5, $6::bigint, $7, $8, $9))," \
	" unmet AS (SELECT count(*) AS n FROM teams t WHERE t.request_id = $1" \
	" AND " APPROVED_SQL " + CASE WHEN t.name = $3 THEN $4::integer" \
	" ELSE 0 END < t.approvals)," \
	" settled AS (UPDATE requests SET state = CASE WHEN $4::integer = 1" \
	" THEN 'approved' ELSE 'rejected' END, decided_at = $6::bigint" \
	" WHERE id = $1 AND state = 'pending' AND ($4::integer = 0 OR" \
	" (SELECT n FROM unmet) = 0))" \
	" SELECT 1"

static int record_decision(struct pg_store *s, const struct who *w,
			   const struct vote *v, time_t now)
{
	char at[24];
	const char *params[9] = { w->request_id, w->email, w->team,
				  v->approve ? "1" : "0", v->reason, at,
				  v->remote_addr, v->user_agent, v->token };

	snprintf(at, sizeof(at), "%lld", (long long)now);
	return pg_run(s, "record decision", DECIDE_SQL, 9, params, NULL);
}

/* Five round trips: BEGIN, the token with the row lock, the token again,
 * the decision, COMMIT with the hint to other relays. */
static int decide_txn(struct pg_store *s, const struct vote *v, time_t now,
		      int *recorded)
{
	struct policy p;
	struct who w, again;
	int prev, rc = find_token(s, v->hash, 1, &w, &p, &prev);

	/* once the row lock is held, read again (a statement of its own: a
	 * new snapshot): the token may have been replaced while we waited,
	 * and the reviewer's decision made meanwhile (the same link submitted
	 * twice at once) */
	if (!rc)
		rc = find_token(s, v->hash, 0, &again, &p, &prev);
	if (!rc && strcmp(again.request_id, w.request_id))
		rc = STORE_NOT_FOUND;
	if (rc)
		return rc;
	if (!store_vote_nonce_ok(&p, v))
		return STORE_FORBIDDEN;
	if (p.state == REQ_PENDING && now >= p.deadline) {
		if (pg_set_state(s, w.request_id, REQ_EXPIRED, p.deadline))
			return STORE_ERROR;
		p.state = REQ_EXPIRED;
	}
	if (prev >= 0)
		return prev == v->approve ? STORE_OK : STORE_CONFLICT;
	if (p.state != REQ_PENDING)
		return STORE_GONE;
	if (v->approve && store_is_self(p.author_email, p.keep_tags, w.email) &&
	    !p.allow_self)
		return STORE_FORBIDDEN;
	if (record_decision(s, &w, v, now))
		return STORE_ERROR;
	*recorded = 1;
	return pg_hint(s, w.request_id);	/* told after the commit */
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
