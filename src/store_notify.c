/* store_notify.c - notifications sent for a request, and recipients added
 * by escalation (store.h, "notifications"): the SQLite backend.
 *
 * A claim is an INSERT into notifications in its own BEGIN IMMEDIATE
 * transaction, committed (synchronous=FULL) before the caller sends: two
 * processes racing for the same (request, kind, recipient, sequence) see
 * one winner, and a process killed after the claim never sends it again.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

static int prepare(struct sq_store *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return sq_error(s, "prepare notification statement");
	}
	return 0;
}

/* (id, kind, recipient, seq) of a claim, and when. */
struct claim {
	const char *id, *kind, *recipient;
	long seq;
	time_t now;
};

/* 1 when this transaction claimed it, 0 when claimed before, or -1. */
static int claim_txn(struct sq_store *s, void *arg)
{
	const struct claim *c = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = prepare(s, "INSERT OR IGNORE INTO notifications(request_id, kind,"
		     " recipient, seq, claimed) VALUES (?1, ?2, ?3, ?4, ?5)", &st);
	if (!rc && (sq_bind_text(st, 1, c->id) || sq_bind_text(st, 2, c->kind) ||
		    sq_bind_text(st, 3, c->recipient) ||
		    sqlite3_bind_int64(st, 4, c->seq) ||
		    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->now)))
		rc = sq_error(s, "claim notification");
	if (!rc)
		rc = sq_run(s, st, "claim notification");
	if (!rc)
		rc = sqlite3_changes(s->db) == 1 ? 1 : 0;
	sqlite3_finalize(st);
	return rc < 0 ? STORE_ERROR : rc;
}

int sq_notify_claim(struct store *base, const char *id, const char *kind,
		       const char *recipient, long seq, time_t now)
{
	struct claim c = { id, kind, recipient, seq, now };

	return sq_write((struct sq_store *)base, claim_txn, &c);
}

static int unclaim_txn(struct sq_store *s, void *arg)
{
	const struct claim *c = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = prepare(s, "DELETE FROM notifications WHERE request_id = ?1 AND"
		     " kind = ?2 AND recipient = ?3 AND seq = ?4", &st);
	if (!rc && (sq_bind_text(st, 1, c->id) || sq_bind_text(st, 2, c->kind) ||
		    sq_bind_text(st, 3, c->recipient) ||
		    sqlite3_bind_int64(st, 4, c->seq)))
		rc = sq_error(s, "release notification");
	if (!rc)
		rc = sq_run(s, st, "release notification");
	sqlite3_finalize(st);
	return rc ? STORE_ERROR : STORE_OK;
}

int sq_notify_unclaim(struct store *base, const char *id, const char *kind,
			 const char *recipient, long seq)
{
	struct claim c = { id, kind, recipient, seq, 0 };

	return sq_write((struct sq_store *)base, unclaim_txn, &c);
}

static int asked(struct sq_store *s, const char *id, const struct store_recipient *r,
		 int *found)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "SELECT 1 FROM recipients WHERE request_id = ?1 AND"
			 " email = ?2 AND team = ?3", &st);

	*found = 0;
	if (!rc && (sq_bind_text(st, 1, id) || sq_bind_text(st, 2, r->email) ||
		    sq_bind_text(st, 3, r->team)))
		rc = sq_error(s, "find recipient");
	if (!rc) {
		int step = sqlite3_step(st);

		if (step == SQLITE_ROW)
			*found = 1;
		else if (step != SQLITE_DONE)
			rc = sq_error(s, "find recipient");
	}
	sqlite3_finalize(st);
	return rc ? STORE_ERROR : STORE_OK;
}

/* A new token for someone asked already: the old link stops working. */
static int rehash(struct sq_store *s, const char *id, const struct store_recipient *r)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "UPDATE recipients SET token_hash = ?4 WHERE"
			 " request_id = ?1 AND email = ?2 AND team = ?3", &st);

	if (!rc && (sq_bind_text(st, 1, id) || sq_bind_text(st, 2, r->email) ||
		    sq_bind_text(st, 3, r->team) || sq_bind_text(st, 4, r->token_hash)))
		rc = sq_error(s, "replace a recipient's token");
	if (!rc)
		rc = sq_run(s, st, "replace a recipient's token");
	sqlite3_finalize(st);
	return rc ? STORE_ERROR : STORE_OK;
}

static int add_txn(struct sq_store *s, const char *id,
		   const struct store_recipient *recipients, size_t n)
{
	struct policy p;
	int rc = store_read_policy(s, id, &p);

	if (rc)
		return rc;
	if (p.state != REQ_PENDING)
		return STORE_GONE;
	for (size_t i = 0; !rc && i < n; i++) {
		int found;

		rc = asked(s, id, &recipients[i], &found);
		if (!rc && !found)
			rc = store_insert_recipient(s, id, &recipients[i]);
		else if (!rc)
			rc = rehash(s, id, &recipients[i]);
	}
	return rc;
}

struct add {
	const char *id;
	const struct store_recipient *recipients;
	size_t n;
};

static int add_fn(struct sq_store *s, void *arg)
{
	const struct add *c = arg;

	return add_txn(s, c->id, c->recipients, c->n);
}

int sq_recipients_add(struct store *base, const char *id,
			 const struct store_recipient *recipients, size_t n)
{
	struct sq_store *s = (struct sq_store *)base;
	struct add c = { id, recipients, n };

	if (n > STORE_MAX_RECIPIENTS)
		return error("store: at most %d recipients", STORE_MAX_RECIPIENTS);
	for (size_t i = 0; i < n; i++)
		if (!store_text_ok(recipients[i].email, STORE_MAX_EMAIL) ||
		    !store_text_ok(recipients[i].team, STORE_MAX_TEAM) ||
		    strlen(recipients[i].token_hash) != 64)
			return error("store: a recipient needs an address, a team and a token hash");
	return sq_write(s, add_fn, &c);
}

int sq_notify_claimed(struct store *base, const char *id, const char *kind,
			 const char *recipient, long seq)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "SELECT 1 FROM notifications WHERE request_id = ?1 AND"
			 " kind = ?2 AND recipient = ?3 AND seq = ?4", &st), step;

	if (!rc && (sq_bind_text(st, 1, id) || sq_bind_text(st, 2, kind) ||
		    sq_bind_text(st, 3, recipient) || sqlite3_bind_int64(st, 4, seq)))
		rc = sq_error(s, "read notification");
	if (rc) {
		sqlite3_finalize(st);
		return STORE_ERROR;
	}
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return 1;
	return step == SQLITE_DONE ? 0 : sq_error(s, "read notification");
}

int sq_notify_candidates(struct store *base, time_t since, char (**ids)[33], size_t *n)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "SELECT id FROM requests WHERE instr(facts_json,"
			 " '\"notifications\":{\"by\":\"relay\"') > 0 AND (state ="
			 " 'pending' OR decided_at >= ?1) ORDER BY created LIMIT 10000", &st);

	*ids = NULL;
	*n = 0;
	if (!rc && sqlite3_bind_int64(st, 1, (sqlite3_int64)since))
		rc = sq_error(s, "list requests to notify");
	while (!rc) {
		int step = sqlite3_step(st);

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = sq_error(s, "list requests to notify");
			break;
		}
		*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
		sq_col_text(st, 0, (*ids)[*n], sizeof((*ids)[*n]));
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return STORE_ERROR;
	}
	return STORE_OK;
}
