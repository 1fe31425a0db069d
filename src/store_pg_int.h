/* store_pg_int.h - what the PostgreSQL backend's files share (store_pg*.c;
 * not for other modules).
 *
 * One struct pg_store is one libpq connection used by one thread at a
 * time.  pg_query()/pg_run() report failures themselves and note a lost
 * connection in pg_conn_lost (store_unavailable()).
 */
#ifndef GREENLIGHT_STORE_PG_INT_H
#define GREENLIGHT_STORE_PG_INT_H

#include <libpq-fe.h>
#include "store_int.h"

#define PG_CHANNEL "greenlight_decided"	/* NOTIFY channel: a request changed */
#define URL_SHOWN 512

#define PG_PREPARED_MAX 64		/* statements prepared per connection */

/* A statement prepared on the connection, by its text. */
struct pg_prepared {
	unsigned long hash;
	char *sql;			/* owned */
};

struct pg_store {
	struct store base;
	PGconn *conn;
	/* statements prepared on conn (forgotten when it is re-established):
	 * planning a statement cost the server several times running it */
	struct pg_prepared prepared[PG_PREPARED_MAX];
	unsigned nprepared;
	char *url;
	char shown[URL_SHOWN];		/* the URL, redacted */
	char sqlstate[6];		/* of the last failed statement */
	int in_txn;			/* between BEGIN and its end */
	int hinted;			/* pg_hint() in this transaction: */
	char hint[33];			/* the request id ("" any), sent after COMMIT */
};

#define PG(b) ((struct pg_store *)(b))

/* Distinct approvers of team t. */
#define APPROVED_SQL \
	"(SELECT count(DISTINCT lower(d.email)) FROM decisions d" \
	" WHERE d.request_id = t.request_id AND d.team = t.name" \
	" AND d.approve = 1)"

/* This thread's last call failed for want of a connection. */
extern _Thread_local int pg_conn_lost;

/* ---- plumbing (store_pg.c) ---- */
PGconn *pg_connect_url(const char *url);
int pg_error(struct pg_store *s, const char *what, const PGresult *res);
/* Forget the statements prepared on s->conn (it was closed or replaced). */
void pg_forget_prepared(struct pg_store *s);
/* Run sql with text parameters: the result when it succeeded, else NULL
 * after reporting.  Outside a transaction a connection found dead is
 * re-established and the statement tried once more. */
PGresult *pg_query(struct pg_store *s, const char *what, const char *sql,
		   int n, const char *const *params);
/* Run sql; STORE_OK or STORE_ERROR.  *changed (may be NULL): rows changed. */
int pg_run(struct pg_store *s, const char *what, const char *sql, int n,
	   const char *const *params, long *changed);
/* A usable connection (reconnected once if it was lost): 0 or -1. */
int pg_ready(struct pg_store *s);
int pg_begin(struct pg_store *s, int write);
/* End a transaction: roll back after STORE_ERROR, else commit, followed
 * in the same round trip by the hint pg_hint() noted, if any. */
int pg_finish(struct pg_store *s, int rc, int write);
/* Tell every relay listening that request id changed (NULL: possibly
 * any): NOTIFY on PG_CHANNEL in a transaction of its own that does not
 * wait for the disk, sent once the caller's transaction has committed (at
 * once outside one).  Relays re-read what they hold or cached for it; a
 * hint lost (the relay dies between the two) is made good by the
 * listeners' periodic end of their cache generation (store_pg_watch.c). */
int pg_hint(struct pg_store *s, const char *id);
/* This process's tag in its hints ("<tag>:<request id>"), 16 hex digits:
 * a relay does not wake its long-polls again for its own changes. */
const char *pg_instance(void);
long long pg_num(const PGresult *res, int row, int col);
void pg_text(const PGresult *res, int row, int col, char *dst, size_t n);

/* ---- shared by the operations' files ---- */
/* The request's row, decisions and teams (full: and who was asked), in
 * the caller's transaction; released on failure. */
int pg_read_request(struct pg_store *s, const char *id,
		    struct store_request *r, int full);
/* Lock request id's row (in a transaction): STORE_OK while it is
 * pending, STORE_GONE once settled, or STORE_NOT_FOUND / STORE_ERROR. */
int pg_lock_pending(struct pg_store *s, const char *id);
/* Settle request id as expired if it is pending past its deadline. */
int pg_expire_one(struct pg_store *s, const char *id, time_t now);
int pg_insert_recipient(struct pg_store *s, const char *id,
			const struct store_recipient *r);
int pg_set_state(struct pg_store *s, const char *id, enum req_state to,
		 time_t at);

/* ---- the operations (struct store_ops), by file ---- */
int pg_request_get(struct store *b, const char *id, time_t now,
		   struct store_request *out);
int pg_request_status(struct store *b, const char *id, time_t now,
		      struct store_request *out);
int pg_request_previous(struct store *b, const char *tenant,
			const char *subject, const char *id,
			struct store_request *out);
int pg_request_put(struct store *b, const struct store_new_request *nr,
		   struct store_request *out, int *created);
int pg_request_rekey(struct store *b, const char *id,
		     const struct store_recipient *r, size_t n);
int pg_request_set_notified(struct store *b, const char *id, int notified);
int pg_recipient_adopt(struct store *b, const char *id, const char *email,
		       const char *team, const char *token_hash);
int pg_request_reopen(struct store *b, const char *id, time_t deadline,
		      const struct store_recipient *r, size_t n);
int pg_settle_expired(struct store *b, time_t now, long *settled);
int pg_state_counts(struct store *b, long counts[4]);
int pg_prune(struct store *b, time_t before, long max, long *pruned);
int pg_reclaim(struct store *b, long max_pages, long *freed);

int pg_review_get(struct store *b, const char *token, time_t now,
		  struct store_review *out);
int pg_decide_ex(struct store *b, const char *token, const char *nonce,
		 int approve, const char *reason, const char *remote_addr,
		 const char *user_agent, time_t now, int *recorded);

int pg_baseline_put(struct store *b, const char *tenant,
		    const char *repository, const char *gate,
		    const char *commit, const char *doc_json, time_t recorded);
int pg_baseline_lookup(struct store *b, const char *tenant,
		       const char *repository, const char *gate,
		       const char *const *commits, size_t n,
		       store_baseline_fn fn, void *ud);

int pg_notify_claim(struct store *b, const char *id, const char *kind,
		    const char *recipient, long seq, time_t now);
int pg_notify_claimed(struct store *b, const char *id, const char *kind,
		      const char *recipient, long seq);
int pg_notify_candidates(struct store *b, time_t since, char (**ids)[33],
			 size_t *n);
int pg_notify_unclaim(struct store *b, const char *id, const char *kind,
		      const char *recipient, long seq);
int pg_recipients_add(struct store *b, const char *id,
		      const struct store_recipient *r, size_t n);

int pg_resume_add(struct store *b, const char *id, const char *tenant,
		  const char *ci, const char *target, const char *match,
		  time_t now);
int pg_resume_attach(struct store *b, const char *ci, const char *match,
		     const char *target, time_t now);
int pg_resume_due(struct store *b, time_t now, size_t max,
		  struct store_resume **out, size_t *n);
int pg_resume_claim(struct store *b, const char *id, enum req_state outcome,
		    time_t now);
int pg_resume_finish(struct store *b, const char *id, enum resume_end end,
		     time_t next_at, time_t now);
int pg_resume_state(struct store *b, const char *id, char state[16],
		    int *attempts);

#endif
