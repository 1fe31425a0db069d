/* store_resume.c - the resume outbox: pipelines the relay resumes through
 * their CI's API once their request is settled (store.h, "resumes").
 *
 * One row per request (the primary key: one outcome per request).  A row
 * is 'waiting' until its request is settled and its next_at has come; the
 * sweep claims it ('calling') in its own BEGIN IMMEDIATE transaction,
 * committed before the CI is called, so two sweeps never both call and a
 * relay killed during the call never calls again (at most once).  It ends
 * 'done', 'failed', or back to 'waiting' with a later next_at (retry).
 * Every SQLite statement of the outbox is in this file (PostgreSQL:
 * store_pg_resume.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

/* v8 (run by store_db.c's migrate): the outbox, and a trigger so that
 * retention, which deletes settled requests, deletes their rows too. */
const char store_resume_schema[] =
	"CREATE TABLE resumes("
	" request_id TEXT PRIMARY KEY,"
	" tenant TEXT NOT NULL,"
	" ci TEXT NOT NULL,"
	" target TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'waiting',"
	" outcome TEXT,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at INTEGER NOT NULL DEFAULT 0,"
	" match TEXT,"
	" ready INTEGER NOT NULL DEFAULT 1,"
	" updated INTEGER NOT NULL) STRICT;"
	"CREATE INDEX resumes_waiting ON resumes(state, next_at);"
	"CREATE INDEX resumes_match ON resumes(ci, match);"
	"CREATE TRIGGER resumes_prune AFTER DELETE ON requests BEGIN"
	" DELETE FROM resumes WHERE request_id = old.id; END;"
	"PRAGMA user_version = 8;";

static int prepare(struct sq_store *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return sq_error(s, "prepare resume statement");
	}
	return 0;
}

/* Run one write statement in its own transaction; *changes receives
 * sqlite3_changes() (may be NULL). */
static int write1(struct sq_store *s, sqlite3_stmt *st, int bound, const char *what,
		  int *changes)
{
	int rc = bound ? sq_error(s, what) : 0;

	if (!rc)
		rc = sq_run(s, st, what);
	if (!rc && changes)
		*changes = sqlite3_changes(s->db);
	sqlite3_finalize(st);
	return sq_finish(s, rc ? STORE_ERROR : STORE_OK);
}

int sq_resume_add(struct store *base, const char *id, const char *tenant,
		     const char *ci, const char *target, const char *match, time_t now)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = NULL;

	if (sq_begin(s, 1))
		return STORE_ERROR;
	if (prepare(s, "INSERT INTO resumes(request_id, tenant, ci, target, match, ready,"
		    " updated) VALUES (?1, ?2, ?3, ?4, ?6, ?6 IS NULL, ?5) ON CONFLICT"
		    " (request_id) DO UPDATE SET ci = excluded.ci, target = excluded.target,"
		    " match = excluded.match, ready = excluded.ready, updated = excluded.updated"
		    " WHERE state = 'waiting'", &st))
		return sq_finish(s, STORE_ERROR);
	return write1(s, st, sq_bind_text(st, 1, id) || sq_bind_text(st, 2, tenant ? tenant : "") ||
		      sq_bind_text(st, 3, ci) || sq_bind_text(st, 4, target) ||
		      sqlite3_bind_int64(st, 5, (sqlite3_int64)now) ||
		      (match ? sq_bind_text(st, 6, match) : sqlite3_bind_null(st, 6)),
		      "add resume", NULL);
}

static void row(sqlite3_stmt *st, struct store_resume *r)
{
	const unsigned char *t = sqlite3_column_text(st, 3);

	memset(r, 0, sizeof(*r));
	sq_col_text(st, 0, r->request_id, sizeof(r->request_id));
	sq_col_text(st, 1, r->tenant, sizeof(r->tenant));
	sq_col_text(st, 2, r->ci, sizeof(r->ci));
	r->target = xstrdup(t ? (const char *)t : "{}");
	r->attempts = sqlite3_column_int(st, 4);
	r->outcome = store_state_from_name((const char *)sqlite3_column_text(st, 5));
}

int sq_resume_due(struct store *base, time_t now, size_t max,
		     struct store_resume **out, size_t *n)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "SELECT r.request_id, r.tenant, r.ci, r.target, r.attempts,"
			 " q.state FROM resumes r JOIN requests q ON q.id = r.request_id"
			 " WHERE r.state = 'waiting' AND r.ready = 1 AND r.next_at <= ?1 AND q.state <>"
			 " 'pending' ORDER BY r.next_at LIMIT ?2", &st);

	*out = NULL;
	*n = 0;
	if (!rc && (sqlite3_bind_int64(st, 1, (sqlite3_int64)now) ||
		    sqlite3_bind_int64(st, 2, (sqlite3_int64)max)))
		rc = sq_error(s, "list due resumes");
	while (!rc) {
		int step = sqlite3_step(st);

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = sq_error(s, "list due resumes");
			break;
		}
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc) {
		store_resume_free(*out, *n);
		*out = NULL;
		*n = 0;
		return STORE_ERROR;
	}
	return STORE_OK;
}

int sq_resume_attach(struct store *base, const char *ci, const char *match,
			const char *target, time_t now)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = NULL;
	int changes = 0, rc;

	if (sq_begin(s, 1))
		return STORE_ERROR;
	if (prepare(s, "UPDATE resumes SET target = ?3, ready = 1, updated = ?4 WHERE rowid ="
		    " (SELECT max(rowid) FROM resumes WHERE ci = ?1 AND match = ?2 AND"
		    " state = 'waiting')", &st))
		return sq_finish(s, STORE_ERROR);
	rc = write1(s, st, sq_bind_text(st, 1, ci) || sq_bind_text(st, 2, match) ||
		    sq_bind_text(st, 3, target) || sqlite3_bind_int64(st, 4, (sqlite3_int64)now),
		    "attach resume", &changes);
	return rc ? rc : changes == 1;
}

int sq_resume_claim(struct store *base, const char *id, enum req_state outcome,
		       time_t now)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = NULL;
	int changes = 0, rc;

	if (sq_begin(s, 1))
		return STORE_ERROR;
	if (prepare(s, "UPDATE resumes SET state = 'calling', outcome = ?2, attempts ="
		    " attempts + 1, updated = ?3 WHERE request_id = ?1 AND state = 'waiting'", &st))
		return sq_finish(s, STORE_ERROR);
	rc = write1(s, st, sq_bind_text(st, 1, id) || sq_bind_text(st, 2, req_state_name(outcome)) ||
		    sqlite3_bind_int64(st, 3, (sqlite3_int64)now), "claim resume", &changes);
	return rc ? rc : changes == 1;
}

int sq_resume_finish(struct store *base, const char *id, enum resume_end end,
			time_t next_at, time_t now)
{
	struct sq_store *s = (struct sq_store *)base;
	static const char *const names[] = { "done", "failed", "waiting" };
	sqlite3_stmt *st = NULL;

	if (sq_begin(s, 1))
		return STORE_ERROR;
	if (prepare(s, "UPDATE resumes SET state = ?2, next_at = ?3, updated = ?4"
		    " WHERE request_id = ?1 AND state = 'calling'", &st))
		return sq_finish(s, STORE_ERROR);
	return write1(s, st, sq_bind_text(st, 1, id) || sq_bind_text(st, 2, names[end]) ||
		      sqlite3_bind_int64(st, 3, (sqlite3_int64)next_at) ||
		      sqlite3_bind_int64(st, 4, (sqlite3_int64)now), "finish resume", NULL);
}

int sq_resume_state(struct store *base, const char *id, char state[16], int *attempts)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = NULL;
	int step;

	*state = '\0';
	*attempts = 0;
	if (prepare(s, "SELECT state, attempts FROM resumes WHERE request_id = ?1", &st))
		return STORE_ERROR;
	if (sq_bind_text(st, 1, id)) {
		sqlite3_finalize(st);
		return sq_error(s, "read resume");
	}
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		sq_col_text(st, 0, state, 16);
		*attempts = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return STORE_OK;
	return step == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(s, "read resume");
}

void store_resume_free(struct store_resume *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		free(r[i].target);
	free(r);
}
