/* store_int.h - what the store's files share (not for other modules).
 *
 * The store is four files, one job each: store_db.c (the SQLite
 * connection, schema and transactions), store_request.c (creating,
 * reading and changing requests), store_review.c (what a reviewer's
 * token resolves to, and recording decisions with quorum) and
 * store_baseline.c (baseline documents a relay keeps).
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

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];	/* prepared on first use */
	int writing;			/* in a BEGIN IMMEDIATE transaction */
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

/* ---- SQLite plumbing (store_db.c) ---- */
int sq_error(struct store *s, const char *what);
int sq_exec(struct store *s, const char *sql);
/* A prepared statement, reset and with no bindings; NULL after an error. */
sqlite3_stmt *sq_stmt(struct store *s, enum query q);
/* Done with a statement: release its locks and borrowed bindings. */
void sq_done(sqlite3_stmt *st);
int sq_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Step a statement that returns no rows (or whose rows do not matter). */
int sq_run(struct store *s, sqlite3_stmt *st, const char *what);
void sq_col_text(sqlite3_stmt *st, int i, char *dst, size_t size);
/* BEGIN (read) or BEGIN IMMEDIATE (write): 0, or -1 after reporting. */
int sq_begin(struct store *s, int write);
void sq_rollback(struct store *s);
/* End a transaction: roll back after STORE_ERROR, else commit; a failed
 * commit turns any result into STORE_ERROR. */
int sq_finish(struct store *s, int rc);
int store_random_hex(char *dst, size_t nbytes);
enum req_state store_state_from_name(const char *name);

/* ---- requests (store_request.c) ---- */
int store_read_policy(struct store *s, const char *id, struct policy *p);
int store_set_state(struct store *s, const char *id, enum req_state to,
		    time_t at);
/* Settle a pending request whose deadline passed, in its own write
 * transaction; a no-op otherwise. */
int store_settle_due(struct store *s, const char *id, time_t now);
/* Everything about request id (inside a transaction). */
int store_read_request(struct store *s, const char *id,
		       struct store_request *r);
int store_insert_recipient(struct store *s, const char *id,
			   const struct store_recipient *r);

#endif
