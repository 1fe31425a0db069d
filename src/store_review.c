/* store_review.c - what a reviewer's token resolves to, and recording
 * decisions: nonce, self-approval and quorum are checked inside the
 * transaction that records the decision (see store.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "mime.h"
#include "store_int.h"
#include "util.h"

/* The recipient row a token hash resolves to. */
struct who {
	char request_id[33];
	char email[256];
	char team[72];
};

int store_vote_init(struct vote *v, const char *token, const char *nonce,
		    int approve, const char *reason, const char *remote_addr,
		    const char *user_agent)
{
	int rc = store_hash_token(token, v->hash);

	if (rc)
		return rc;
	v->token = token;
	v->nonce = nonce;
	v->approve = !!approve;
	store_clean_into(v->reason, sizeof(v->reason), reason);
	store_clean_into(v->remote_addr, sizeof(v->remote_addr), remote_addr);
	store_clean_into(v->user_agent, sizeof(v->user_agent), user_agent);
	return STORE_OK;
}

/* ---- reviewers -------------------------------------------------------------- */

/* Hash a presented token and find its recipient: STORE_NOT_FOUND for a
 * malformed or unknown token. */
static int find_token(struct sq_store *s, const char *hash, struct who *w)
{
	sqlite3_stmt *st = sq_stmt(s, Q_FIND_TOKEN);
	int rc;

	if (!st || sq_bind_text(st, 1, hash)) {
		sq_done(st);
		return sq_error(s, "find token");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sq_col_text(st, 0, w->request_id, sizeof(w->request_id));
		sq_col_text(st, 1, w->email, sizeof(w->email));
		sq_col_text(st, 2, w->team, sizeof(w->team));
	}
	sq_done(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(s, "find token");
}

int store_hash_token(const char *token, char hash[TOKEN_HEX_SIZE])
{
	if (!token || !token_syntax_ok(token, strnlen(token, TOKEN_SIZE)))
		return STORE_NOT_FOUND;
	if (token_hash(hash, token))
		return error("store: cannot hash token");
	return STORE_OK;
}

/* The reviewer's earlier decision: 1 approve, 0 reject, -1 none; or
 * STORE_ERROR (which is also negative: check with the return value). */
static int my_decision(struct sq_store *s, const struct who *w, int *prev)
{
	sqlite3_stmt *st = sq_stmt(s, Q_MY_DECISION);
	int rc;

	*prev = -1;
	if (!st || sq_bind_text(st, 1, w->request_id) ||
	    sq_bind_text(st, 2, w->email) || sq_bind_text(st, 3, w->team)) {
		sq_done(st);
		return sq_error(s, "read decision");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*prev = sqlite3_column_int(st, 0);
	sq_done(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return STORE_OK;
	return sq_error(s, "read decision");
}

/* The form nonce: hex HMAC-SHA256 keyed by the request's secret over the
 * token hash, so it binds a form to one reviewer of one request. */
int store_make_nonce(const char *secret, const char *hash,
		     char out[TOKEN_HEX_SIZE])
{
	unsigned char mac[TOKEN_SHA256_BYTES];

	if (token_hmac_sha256(mac, secret, strlen(secret), hash, strlen(hash)))
		return error("store: cannot compute form nonce");
	token_hex_encode(out, mac, sizeof(mac));
	return 0;
}

/* Whether email is one of the comma-separated addresses that may not
 * approve (the commit author, the person who started the run). */
int store_is_self(const char *author_email, int keep_tags, const char *email)
{
	return addr_in_list(author_email, email, keep_tags);
}

static int is_self(const struct policy *p, const char *email)
{
	return store_is_self(p->author_email, p->keep_tags, email);
}

static int review_txn(struct sq_store *s, const struct who *w,
		      struct store_review *out, struct policy *p)
{
	int prev, rc = store_read_policy(s, w->request_id, p);

	if (!rc)
		rc = store_read_request(s, w->request_id, &out->req);
	if (!rc)
		rc = my_decision(s, w, &prev);
	if (!rc) {
		out->already = prev >= 0;
		out->already_approve = prev == 1;
	}
	return rc;
}

int sq_review_get(struct store *base, const char *token, time_t now,
		  struct store_review *out)
{
	struct sq_store *s = (struct sq_store *)base;
	char hash[TOKEN_HEX_SIZE];
	struct policy p;
	struct who w;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_hash_token(token, hash);
	if (!rc)
		rc = find_token(s, hash, &w);
	if (!rc)
		rc = store_settle_due(s, w.request_id, now);
	if (rc)
		return rc;
	if (sq_begin(s, 0))
		return STORE_ERROR;
	rc = sq_finish(s, review_txn(s, &w, out, &p));
	if (!rc && store_make_nonce(p.secret, hash, out->nonce))
		rc = STORE_ERROR;
	if (rc) {
		store_review_release(out);
		return rc;
	}
	strlcpy_gl(out->email, w.email, sizeof(out->email));
	strlcpy_gl(out->team, w.team, sizeof(out->team));
	out->self = is_self(&p, w.email);
	out->allow_self_approval = p.allow_self;
	return out->req.state == REQ_PENDING ? STORE_OK : STORE_GONE;
}

void store_review_release(struct store_review *r)
{
	store_request_release(&r->req);
}
/* ---- deciding ----------------------------------------------------------- */

/* Copy src cleaned (valid UTF-8, no controls; CR/LF/TAB become spaces) and
 * cut to size-1 bytes into dst. */
void store_clean_into(char *dst, size_t size, const char *src)
{
	struct buf b = BUF_INIT(size + 8);

	dst[0] = '\0';
	if (src && !mime_clean(&b, src, size - 1) && b.data)
		strlcpy_gl(dst, b.data, size);
	buf_release(&b);
}

int store_vote_nonce_ok(const struct policy *p, const struct vote *v)
{
	char want[TOKEN_HEX_SIZE];

	if (!v->nonce || strnlen(v->nonce, TOKEN_HEX_SIZE) != TOKEN_HEX_SIZE - 1)
		return 0;
	if (store_make_nonce(p->secret, v->hash, want))
		return 0;
	return token_hex_equal(want, v->nonce);
}

static int insert_decision(struct sq_store *s, const struct who *w,
			   const struct vote *v, time_t now)
{
	sqlite3_stmt *st = sq_stmt(s, Q_INS_DECISION);

	if (!st || sq_bind_text(st, 1, w->request_id) ||
	    sq_bind_text(st, 2, w->email) || sq_bind_text(st, 3, w->team) ||
	    sqlite3_bind_int(st, 4, v->approve) ||
	    sq_bind_text(st, 5, v->reason) ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)now) ||
	    sq_bind_text(st, 7, v->remote_addr) ||
	    sq_bind_text(st, 8, v->user_agent) || sq_bind_text(st, 9, v->token)) {
		sq_done(st);
		return sq_error(s, "record decision");
	}
	return sq_run(s, st, "record decision");
}

/* After a decision: a reject rejects; an approve approves once no team
 * has fewer distinct approvers than it needs. */
static int settle_quorum(struct sq_store *s, const char *id, int approve,
			 time_t now)
{
	sqlite3_stmt *st;
	sqlite3_int64 unmet = 0;
	int rc;

	if (!approve)
		return store_set_state(s, id, REQ_REJECTED, now);
	st = sq_stmt(s, Q_UNMET);
	if (!st || sq_bind_text(st, 1, id)) {
		sq_done(st);
		return sq_error(s, "count approvals");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		unmet = sqlite3_column_int64(st, 0);
	sq_done(st);
	if (rc != SQLITE_ROW)
		return sq_error(s, "count approvals");
	return unmet ? STORE_OK : store_set_state(s, id, REQ_APPROVED, now);
}

static int decide_txn(struct sq_store *s, const struct vote *v, time_t now,
		      int *recorded)
{
	struct policy p;
	struct who w;
	int prev, rc = find_token(s, v->hash, &w);

	if (!rc)
		rc = store_read_policy(s, w.request_id, &p);
	if (rc)
		return rc;
	if (!store_vote_nonce_ok(&p, v))
		return STORE_FORBIDDEN;
	if (p.state == REQ_PENDING && now >= p.deadline) {
		if (store_set_state(s, w.request_id, REQ_EXPIRED, p.deadline))
			return STORE_ERROR;
		p.state = REQ_EXPIRED;
	}
	if (my_decision(s, &w, &prev))
		return STORE_ERROR;
	if (prev >= 0)
		return prev == v->approve ? STORE_OK : STORE_CONFLICT;
	if (p.state != REQ_PENDING)
		return STORE_GONE;
	if (v->approve && is_self(&p, w.email) && !p.allow_self)
		return STORE_FORBIDDEN;
	if (insert_decision(s, &w, v, now))
		return STORE_ERROR;
	*recorded = 1;
	return settle_quorum(s, w.request_id, v->approve, now);
}

static int decide_fn(struct sq_store *s, void *arg)
{
	struct vote *v = arg;

	return decide_txn(s, v, v->now, &v->recorded);
}

int sq_decide_ex(struct store *base, const char *token, const char *nonce,
		 int approve, const char *reason, const char *remote_addr,
		 const char *user_agent, time_t now, int *recorded)
{
	struct sq_store *s = (struct sq_store *)base;
	struct vote v;
	int rc;

	if (recorded)
		*recorded = 0;
	rc = store_vote_init(&v, token, nonce, approve, reason, remote_addr,
			     user_agent);
	if (rc)
		return rc;
	v.now = now;
	v.recorded = 0;
	rc = sq_write(s, decide_fn, &v);
	if (recorded)
		*recorded = rc == STORE_OK && v.recorded;
	return rc;
}
