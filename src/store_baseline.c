/* store_baseline.c - baseline documents a relay keeps (see store.h).
 *
 * One row per (tenant, repository, gate, commit); putting a document again
 * replaces it, as recording again does in the git-notes and dir stores.
 * The store checks only sizes and characters of the key: the relay
 * validates the document itself (baseline_doc_from_json) before it is put,
 * and the gate validates again whatever it reads back.
 */
#include <string.h>

#include "store_int.h"
#include "util.h"

#define COMMIT_HEX 40

int store_baseline_key_ok(const char *tenant, const char *repository,
			  const char *gate, const char *commit)
{
	return store_text_ok(tenant, STORE_MAX_TENANT) &&
	       store_text_ok(repository, STORE_MAX_REPO) &&
	       store_text_ok(gate, STORE_MAX_GATE) &&
	       strlen(commit) == COMMIT_HEX && token_is_hex(commit, COMMIT_HEX);
}

struct put_baseline {
	const char *tenant, *repository, *gate, *commit, *doc_json;
	time_t recorded;
};

static int put_txn(struct sq_store *s, void *arg)
{
	const struct put_baseline *c = arg;
	sqlite3_stmt *st = sq_stmt(s, Q_BASELINE_PUT);

	if (!st || sq_bind_text(st, 1, c->tenant) ||
	    sq_bind_text(st, 2, c->repository) || sq_bind_text(st, 3, c->gate) ||
	    sq_bind_text(st, 4, c->commit) || sq_bind_text(st, 5, c->doc_json) ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)c->recorded)) {
		sq_done(st);
		return sq_error(s, "bind baseline");
	}
	return sq_run(s, st, "store baseline");
}

int sq_baseline_put(struct store *base, const char *tenant,
		    const char *repository, const char *gate,
		    const char *commit, const char *doc_json,
		    time_t recorded)
{
	struct put_baseline c = { tenant, repository, gate, commit, doc_json,
				  recorded };

	if (!store_baseline_key_ok(tenant, repository, gate, commit) || !doc_json ||
	    !*doc_json || strlen(doc_json) > STORE_MAX_BASELINE)
		return error("store: a baseline needs a tenant, repository, gate,"
			     " 40 hex digit commit and a document of at most %d"
			     " bytes", STORE_MAX_BASELINE);
	return sq_write((struct sq_store *)base, put_txn, &c);
}

/* The document of one commit through fn: 1 when fn asked to stop, 0 to go
 * on, -1 on a database error (reported). */
static int lookup_one(struct sq_store *s, sqlite3_stmt *st, const char *commit,
		      size_t i, store_baseline_fn fn, void *ud)
{
	int rc, stop = 0;

	if (sq_bind_text(st, 4, commit))
		return sq_error(s, "bind baseline");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *doc = (const char *)sqlite3_column_text(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);

		stop = doc ? fn(ud, i, doc, len) != 0 : 0;
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return sq_error(s, "read baseline");
	}
	sqlite3_reset(st);
	return stop;
}

int sq_baseline_lookup(struct store *base, const char *tenant,
		       const char *repository, const char *gate,
		       const char *const *commits, size_t n,
		       store_baseline_fn fn, void *ud)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st;
	int rc = STORE_OK;

	if (sq_begin(s, 0))
		return STORE_ERROR;
	st = sq_stmt(s, Q_BASELINE_GET);
	if (!st || sq_bind_text(st, 1, tenant) || sq_bind_text(st, 2, repository) ||
	    sq_bind_text(st, 3, gate)) {
		sq_done(st);
		return sq_finish(s, sq_error(s, "bind baseline"));
	}
	for (size_t i = 0; i < n; i++) {
		int one = lookup_one(s, st, commits[i], i, fn, ud);

		if (one < 0)
			rc = STORE_ERROR;
		if (one)
			break;
	}
	sq_done(st);
	return sq_finish(s, rc);
}
