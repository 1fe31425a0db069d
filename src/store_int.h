/* store_int.h - what the store's files share (not for other modules).
 *
 * store.c picks a backend (an ops-struct, struct store_ops) from what
 * store_open() is given (store_url.c tells a URL from a path) and
 * dispatches store.h's calls to it: SQLite for a file path, PostgreSQL
 * (store_pg*.c, store_pg_int.h) for a postgres:// or postgresql:// URL.
 * The SQLite backend is five files, one job each: store_db.c (the SQLite
 * connection, schema and transactions), store_request.c (creating,
 * reading and changing requests), store_review.c (what a reviewer's token
 * resolves to, and recording decisions with quorum), store_baseline.c
 * (baseline documents a relay keeps) and store_notify.c (notifications
 * claimed, recipients added by escalation).
 */
#ifndef GREENLIGHT_STORE_INT_H
#define GREENLIGHT_STORE_INT_H

#include <sqlite3.h>
#include "store.h"
#include "token.h"

#define ID_BYTES 16		/* request id: 32 hex characters */
#define SECRET_BYTES 32		/* per-request form secret: 64 hex */

enum query {
	Q_BEGIN_READ,
	Q_BEGIN_WRITE,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_FIND_KEY,
	Q_PREVIOUS,
	Q_INS_REQ,
	Q_INS_TEAM,
	Q_INS_RCPT,
	Q_DEL_RCPT,
	Q_ADOPT_RCPT,
	Q_CLEAR_NOTIFIED,
	Q_GET_REQ,
	Q_GET_POLICY,
	Q_GET_DECISIONS,
	Q_GET_TEAMS,
	Q_GET_ASKED,
	Q_FIND_TOKEN,
	Q_MY_DECISION,
	Q_INS_DECISION,
	Q_UNMET,
	Q_SET_STATE,
	Q_SET_NOTIFIED,
	Q_REOPEN,
	Q_SETTLE_DUE,
	Q_STATE_COUNTS,
	Q_PRUNE_DECISIONS,
	Q_PRUNE_RECIPIENTS,
	Q_PRUNE_TEAMS,
	Q_PRUNE_NOTIFICATIONS,
	Q_PRUNE_REQUESTS,
	Q_BASELINE_PUT,
	Q_BASELINE_GET,
	Q_COUNT
};

/* Every backend's connection starts with this (store.c dispatches). */
struct store_ops;
struct store {
	const struct store_ops *ops;
};

/* What a backend does: the operations of store.h with the same meaning. */
struct store_ops {
	const char *name;		/* "sqlite", "postgresql" */
	int shared;			/* other processes may write the database */
	void (*close)(struct store *s);
	int (*request_put)(struct store *s, const struct store_new_request *nr,
			   struct store_request *out, int *created);
	int (*request_rekey)(struct store *s, const char *id,
			     const struct store_recipient *r, size_t n);
	int (*request_set_notified)(struct store *s, const char *id, int notified);
	int (*recipient_adopt)(struct store *s, const char *id, const char *email,
			       const char *team, const char *token_hash);
	int (*request_reopen)(struct store *s, const char *id, time_t deadline,
			      const struct store_recipient *r, size_t n);
	int (*request_get)(struct store *s, const char *id, time_t now,
			   struct store_request *out);
	int (*request_status)(struct store *s, const char *id, time_t now,
			      struct store_request *out);
	int (*request_previous)(struct store *s, const char *tenant,
				const char *subject, const char *id,
				struct store_request *out);
	int (*review_get)(struct store *s, const char *token, time_t now,
			  struct store_review *out);
	int (*decide_ex)(struct store *s, const char *token, const char *nonce,
			 int approve, const char *reason, const char *remote_addr,
			 const char *user_agent, time_t now, int *recorded);
	int (*settle_expired)(struct store *s, time_t now, long *settled);
	int (*state_counts)(struct store *s, long counts[4]);
	int (*prune)(struct store *s, time_t before, long max, long *pruned);
	int (*reclaim)(struct store *s, long max_pages, long *freed);
	int (*baseline_put)(struct store *s, const char *tenant,
			    const char *repository, const char *gate,
			    const char *commit, const char *doc_json,
			    time_t recorded);
	int (*baseline_lookup)(struct store *s, const char *tenant,
			       const char *repository, const char *gate,
			       const char *const *commits, size_t n,
			       store_baseline_fn fn, void *ud);
	int (*notify_claim)(struct store *s, const char *id, const char *kind,
			    const char *recipient, long seq, time_t now);
	int (*notify_claimed)(struct store *s, const char *id, const char *kind,
			      const char *recipient, long seq);
	int (*notify_candidates)(struct store *s, time_t since,
				 char (**ids)[33], size_t *n);
	int (*notify_unclaim)(struct store *s, const char *id, const char *kind,
			      const char *recipient, long seq);
	int (*recipients_add)(struct store *s, const char *id,
			      const struct store_recipient *r, size_t n);
	int (*resume_add)(struct store *s, const char *id, const char *tenant,
			  const char *ci, const char *target, const char *match,
			  time_t now);
	int (*resume_attach)(struct store *s, const char *ci, const char *match,
			     const char *target, time_t now);
	int (*resume_due)(struct store *s, time_t now, size_t max,
			  struct store_resume **out, size_t *n);
	int (*resume_claim)(struct store *s, const char *id,
			    enum req_state outcome, time_t now);
	int (*resume_finish)(struct store *s, const char *id,
			     enum resume_end end, time_t next_at, time_t now);
	int (*resume_state)(struct store *s, const char *id, char state[16],
			    int *attempts);
};

/* The backends (store_db.c: SQLite; store_pg.c: PostgreSQL). */
struct store *sq_open(const char *path);
struct store *pg_open(const char *url);

/* ---- what both backends share (store_request.c, store_review.c) ---- */
int store_check_new_request(const struct store_new_request *nr);
int store_check_recipients(const struct store_recipient *r, size_t n);
/* Hash a presented token: STORE_NOT_FOUND when malformed. */
int store_hash_token(const char *token, char hash[TOKEN_HEX_SIZE]);
/* The form nonce of a reviewer (hex HMAC of the token hash). */
int store_make_nonce(const char *secret, const char *hash,
		     char out[TOKEN_HEX_SIZE]);
/* Whether email may not approve under the request's policy. */
int store_is_self(const char *author_email, int keep_tags, const char *email);
/* Cleaned, capped copy of a reviewer's text (reason, address, agent). */
void store_clean_into(char *dst, size_t size, const char *src);
/* A reviewer's decision as both backends record it. */
struct vote {
	char hash[TOKEN_HEX_SIZE];
	const char *token;		/* as presented (syntax checked) */
	const char *nonce;
	int approve;
	char reason[STORE_REASON_MAX + 1];
	char remote_addr[STORE_ADDR_MAX + 1];
	char user_agent[STORE_UA_MAX + 1];
	time_t now;			/* when it was posted (SQLite's writer) */
	int recorded;			/* this call added a decision */
};
/* Fill v from what the review form posted: the token hashed (STORE_NOT_FOUND
 * when malformed), the texts cleaned and capped.  STORE_OK otherwise. */
int store_vote_init(struct vote *v, const char *token, const char *nonce,
		    int approve, const char *reason, const char *remote_addr,
		    const char *user_agent);
struct policy;
/* Whether the vote's form nonce is the one the request's secret gives its
 * token (constant time). */
int store_vote_nonce_ok(const struct policy *p, const struct vote *v);
/* The key of a baseline document is well formed (store_baseline.c). */
int store_baseline_key_ok(const char *tenant, const char *repository,
			  const char *gate, const char *commit);
/* A write transaction of this process ended (readers' caches are stale). */
void store_bump_generation(void);

/* The SQLite connection. */
struct sq_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];	/* prepared on first use */
	int writing;			/* in a BEGIN IMMEDIATE transaction */
	struct sq_writer *writer;	/* the file's writer (store_writer.c) */
};

/* The request row as deciding needs it (never shown to reviewers). */
struct policy {
	enum req_state state;
	time_t deadline;
	char author_email[STORE_MAX_AUTHORS + 1];
	int allow_self;
	char secret[2 * SECRET_BYTES + 1];
	int keep_tags;			/* "+tag" addresses are their own mailbox */
};

/* The SQLite backend's operations (store_*.c). */
void sq_close(struct store *base);
int sq_request_put(struct store *base, const struct store_new_request *nr,
		   struct store_request *out, int *created);
int sq_request_rekey(struct store *base, const char *id,
		     const struct store_recipient *recipients, size_t n);
int sq_request_set_notified(struct store *base, const char *id, int notified);
int sq_recipient_adopt(struct store *base, const char *id, const char *email,
		       const char *team, const char *token_hash);
int sq_request_reopen(struct store *base, const char *id, time_t deadline,
		      const struct store_recipient *recipients, size_t n);
int sq_request_get(struct store *base, const char *id, time_t now,
		   struct store_request *out);
int sq_request_status(struct store *base, const char *id, time_t now,
		      struct store_request *out);
int sq_request_previous(struct store *base, const char *tenant,
			const char *subject, const char *id,
			struct store_request *out);
int sq_review_get(struct store *base, const char *token, time_t now,
		  struct store_review *out);
int sq_decide_ex(struct store *base, const char *token, const char *nonce,
		 int approve, const char *reason, const char *remote_addr,
		 const char *user_agent, time_t now, int *recorded);
int sq_settle_expired(struct store *base, time_t now, long *settled);
int sq_state_counts(struct store *base, long counts[4]);
int sq_prune(struct store *base, time_t before, long max, long *pruned);
int sq_reclaim(struct store *base, long max_pages, long *freed);
int sq_baseline_put(struct store *base, const char *tenant,
		    const char *repository, const char *gate,
		    const char *commit, const char *doc_json, time_t recorded);
int sq_baseline_lookup(struct store *base, const char *tenant,
		       const char *repository, const char *gate,
		       const char *const *commits, size_t n,
		       store_baseline_fn fn, void *ud);

int sq_notify_claim(struct store *base, const char *id, const char *kind,
		    const char *recipient, long seq, time_t now);
int sq_notify_claimed(struct store *base, const char *id, const char *kind,
		      const char *recipient, long seq);
int sq_notify_candidates(struct store *base, time_t since, char (**ids)[33],
			 size_t *n);
int sq_notify_unclaim(struct store *base, const char *id, const char *kind,
		      const char *recipient, long seq);
int sq_recipients_add(struct store *base, const char *id,
		      const struct store_recipient *recipients, size_t n);

int sq_resume_add(struct store *base, const char *id, const char *tenant,
		  const char *ci, const char *target, const char *match,
		  time_t now);
int sq_resume_attach(struct store *base, const char *ci, const char *match,
		     const char *target, time_t now);
int sq_resume_due(struct store *base, time_t now, size_t max,
		  struct store_resume **out, size_t *n);
int sq_resume_claim(struct store *base, const char *id,
		    enum req_state outcome, time_t now);
int sq_resume_finish(struct store *base, const char *id, enum resume_end end,
		     time_t next_at, time_t now);
int sq_resume_state(struct store *base, const char *id, char state[16],
		    int *attempts);

/* ---- SQLite plumbing (store_db.c) ---- */
int sq_error(struct sq_store *s, const char *what);
int sq_exec(struct sq_store *s, const char *sql);
/* A prepared statement, reset and with no bindings; NULL after an error. */
sqlite3_stmt *sq_stmt(struct sq_store *s, enum query q);
/* Done with a statement: release its locks and borrowed bindings. */
void sq_done(sqlite3_stmt *st);
int sq_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Step a statement that returns no rows (or whose rows do not matter). */
int sq_run(struct sq_store *s, sqlite3_stmt *st, const char *what);
void sq_col_text(sqlite3_stmt *st, int i, char *dst, size_t size);
/* BEGIN (read) or BEGIN IMMEDIATE (write): 0, or -1 after reporting. */
int sq_begin(struct sq_store *s, int write);
void sq_rollback(struct sq_store *s);
/* End a transaction: roll back after STORE_ERROR, else commit; a failed
 * commit turns any result into STORE_ERROR. */
int sq_finish(struct sq_store *s, int rc);
int store_random_hex(char *dst, size_t nbytes);
enum req_state store_state_from_name(const char *name);

/* ---- resumes (store_resume.c) ---- */
extern const char store_resume_schema[];	/* the v8 migration */

/* ---- writes (store_writer.c) ---- */
/* The body of a write transaction, run on connection s inside BEGIN
 * IMMEDIATE (or a SAVEPOINT of a group of them); returns a store result
 * (or a count >= 0).  STORE_ERROR rolls back what it changed. */
typedef int (*sq_txn_fn)(struct sq_store *s, void *ctx);
/* Run fn as one durable write: its result once committed (fsync), or
 * STORE_ERROR when the commit failed (nothing of it written).  With
 * several connections to the file in this process, one writer thread runs
 * every write and commits them in groups; with one, the caller's
 * connection does.  Outputs fn leaves in ctx count only without
 * STORE_ERROR. */
int sq_write(struct sq_store *s, sq_txn_fn fn, void *ctx);
/* A configured connection of its own, not attached to a writer (store_db.c). */
struct sq_store *sq_connect(const char *path);
/* Take / drop a connection's reference to its file's writer: the second
 * connection of the process starts the thread, the last one stops it. */
int sq_writer_attach(struct sq_store *s, const char *path);
void sq_writer_detach(struct sq_store *s);
/* How many groups the writer committed, and writes in them (0 without). */
void sq_writer_stats(const struct store *s, unsigned long *groups,
		     unsigned long *writes);

/* ---- requests (store_request.c) ---- */
int store_read_policy(struct sq_store *s, const char *id, struct policy *p);
int store_set_state(struct sq_store *s, const char *id, enum req_state to,
		    time_t at);
/* Settle a pending request whose deadline passed, in its own write
 * transaction; a no-op otherwise. */
int store_settle_due(struct sq_store *s, const char *id, time_t now);
/* Everything about request id (inside a transaction). */
int store_read_request(struct sq_store *s, const char *id,
		       struct store_request *r);
int store_insert_recipient(struct sq_store *s, const char *id,
			   const struct store_recipient *r);

#endif
