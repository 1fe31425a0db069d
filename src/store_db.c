/* store_db.c - the store's SQLite connection: schema, migrations,
 * prepared statements and transactions (see store.h, store_int.h).
 *
 * One struct store is one SQLite connection and is not thread-safe: callers
 * that share one across threads hold a lock (web.c does).  Every write is a
 * single BEGIN IMMEDIATE transaction of prepared statements (or a
 * SAVEPOINT in a group of them: store_writer.c), committed in WAL mode
 * with synchronous=FULL before the caller hears of it.  Schema,
 * quorum and limits: docs/store.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mime.h"
#include "store_int.h"
#include "util.h"

#define SCHEMA_VERSION 8
#define BUSY_TIMEOUT_MS 5000
#define WAL_RETRY_MS 5		/* between tries of a switch to WAL mode */

static const char schema_v1[] =
	"CREATE TABLE requests("
	" id TEXT PRIMARY KEY NOT NULL,"
	" key TEXT NOT NULL UNIQUE,"
	" gate TEXT NOT NULL,"
	" facts_json TEXT NOT NULL,"
	" author_email TEXT COLLATE NOCASE,"
	" allow_self_approval INTEGER NOT NULL"
	"  CHECK (allow_self_approval IN (0, 1)),"
	" secret TEXT NOT NULL,"
	" state TEXT NOT NULL"
	"  CHECK (state IN ('pending', 'approved', 'rejected', 'expired')),"
	" created INTEGER NOT NULL,"
	" deadline INTEGER NOT NULL,"
	" decided_at INTEGER) STRICT;"
	"CREATE INDEX requests_pending ON requests(state, deadline);"
	"CREATE TABLE teams("
	" request_id TEXT NOT NULL REFERENCES requests(id),"
	" name TEXT NOT NULL,"
	" approvals INTEGER NOT NULL CHECK (approvals >= 1),"
	" PRIMARY KEY (request_id, name)) STRICT;"
	"CREATE TABLE recipients("
	" request_id TEXT NOT NULL REFERENCES requests(id),"
	" email TEXT NOT NULL COLLATE NOCASE,"
	" team TEXT NOT NULL,"
	" token_hash TEXT NOT NULL UNIQUE,"
	" PRIMARY KEY (request_id, email, team),"
	" FOREIGN KEY (request_id, team) REFERENCES teams(request_id, name))"
	" STRICT;"
	"CREATE TABLE decisions("
	" seq INTEGER PRIMARY KEY,"
	" request_id TEXT NOT NULL REFERENCES requests(id),"
	" email TEXT NOT NULL COLLATE NOCASE,"
	" team TEXT NOT NULL,"
	" approve INTEGER NOT NULL CHECK (approve IN (0, 1)),"
	" reason TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" remote_addr TEXT NOT NULL,"
	" user_agent TEXT NOT NULL,"
	" UNIQUE (request_id, email, team)) STRICT;"
	"PRAGMA user_version = 1;";

/* v2: whether every reviewer was mailed (a re-run mails again if not). */
static const char schema_v2[] =
	"ALTER TABLE requests ADD COLUMN notified INTEGER NOT NULL DEFAULT 0"
	" CHECK (notified IN (0, 1));"
	"PRAGMA user_version = 2;";

/* v3: the review token a reviewer presented, kept with the decision so a
 * relay can show it to the gate, which checks it against its own hash.  It
 * is single-use and dies with the request, so it opens nothing any more. */
static const char schema_v3[] =
	"ALTER TABLE decisions ADD COLUMN token TEXT;"
	"PRAGMA user_version = 3;";

/* v4: the tenant a request belongs to (a relay answers only that tenant's
 * tokens; '' in a gate's own store and for requests made before tenants,
 * which no relay token reaches), the repository it was registered for,
 * its subject (hex SHA-256 of repository, commit and gate name: requests
 * for the same subject with other evidence are its successors), and
 * whether "+tag" addresses count as their own mailbox for self-approval. */
static const char schema_v4[] =
	"ALTER TABLE requests ADD COLUMN tenant TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE requests ADD COLUMN repository TEXT;"
	"ALTER TABLE requests ADD COLUMN subject TEXT;"
	"ALTER TABLE requests ADD COLUMN keep_tags INTEGER NOT NULL DEFAULT 0"
	" CHECK (keep_tags IN (0, 1));"
	"CREATE INDEX requests_subject ON requests(tenant, subject, created);"
	"PRAGMA user_version = 4;";

/* v5: baseline documents a relay keeps for gates that cannot push git
 * notes (docs/baselines.md, "The relay store"), per tenant, repository,
 * gate and commit; recording again replaces the document. */
static const char schema_v5[] =
	"CREATE TABLE baselines("
	" tenant TEXT NOT NULL,"
	" repository TEXT NOT NULL,"
	" gate TEXT NOT NULL,"
	" commit_id TEXT NOT NULL,"
	" document TEXT NOT NULL,"
	" recorded INTEGER NOT NULL,"
	" PRIMARY KEY (tenant, repository, gate, commit_id)) STRICT;"
	"PRAGMA user_version = 5;";

/* v6: retention and O(1) counts.  request_counts holds how many requests
 * are in each state, kept by triggers in the transaction of every insert,
 * state change and delete (whoever makes it), so /metrics reads four rows
 * instead of counting the table; it starts from one count of the rows
 * there are.  requests_settled finds what retention may prune. */
static const char schema_v6[] =
	"CREATE TABLE request_counts("
	" state TEXT PRIMARY KEY NOT NULL,"
	" n INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
	"INSERT INTO request_counts(state, n)"
	" SELECT s.state, (SELECT COUNT(*) FROM requests r WHERE r.state = s.state)"
	" FROM (SELECT 'pending' AS state UNION ALL SELECT 'approved'"
	" UNION ALL SELECT 'rejected' UNION ALL SELECT 'expired') s;"
	"CREATE TRIGGER request_counts_insert AFTER INSERT ON requests BEGIN"
	" UPDATE request_counts SET n = n + 1 WHERE state = NEW.state; END;"
	"CREATE TRIGGER request_counts_update AFTER UPDATE OF state ON requests"
	" WHEN OLD.state <> NEW.state BEGIN"
	" UPDATE request_counts SET n = n - 1 WHERE state = OLD.state;"
	" UPDATE request_counts SET n = n + 1 WHERE state = NEW.state; END;"
	"CREATE TRIGGER request_counts_delete AFTER DELETE ON requests BEGIN"
	" UPDATE request_counts SET n = n - 1 WHERE state = OLD.state; END;"
	"CREATE INDEX requests_settled ON requests(decided_at)"
	" WHERE state <> 'pending';"
	"PRAGMA user_version = 6;";

/* The settled requests retention prunes next: decided (or expired) at or
 * before ?1, oldest first, at most ?2 (the same rows in each statement of
 * one transaction; children first, as the foreign keys want). */
#define PRUNABLE_SQL \
	"(SELECT id FROM requests WHERE state <> 'pending' AND decided_at <= ?1" \
	" ORDER BY decided_at, id LIMIT ?2)"

/* v7: notifications sent for a request (reminders, escalations, follow-ups),
 * one row per (request, kind, recipient, sequence), claimed in a write
 * transaction before the message is sent (store_notify.c): at most once. */
static const char schema_v7[] =
	"CREATE TABLE notifications("
	" request_id TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" recipient TEXT NOT NULL COLLATE NOCASE,"
	" seq INTEGER NOT NULL,"
	" claimed INTEGER NOT NULL,"
	" PRIMARY KEY (request_id, kind, recipient, seq)) STRICT;"
	"PRAGMA user_version = 7;";

/* Distinct approvers of team t (correlated subquery used twice below). */
#define APPROVED_SQL \
	"(SELECT COUNT(DISTINCT d.email) FROM decisions d" \
	" WHERE d.request_id = t.request_id AND d.team = t.name" \
	" AND d.approve = 1)"

static const char *const query_sql[Q_COUNT] = {
	[Q_BEGIN_READ] = "BEGIN",
	[Q_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_FIND_KEY] = "SELECT id FROM requests WHERE key = ?1",
	[Q_INS_REQ] = "INSERT INTO requests(id, key, gate, facts_json,"
		" author_email, allow_self_approval, secret, state, created,"
		" deadline, tenant, repository, subject, keep_tags) VALUES (?1,"
		" ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?10, ?11, ?12, ?13)",
	[Q_PREVIOUS] = "SELECT id FROM requests WHERE tenant = ?1"
		" AND subject = ?2 AND id <> ?3 ORDER BY created DESC, rowid DESC"
		" LIMIT 1",
	[Q_INS_TEAM] = "INSERT INTO teams(request_id, name, approvals)"
		" VALUES (?1, ?2, ?3)",
	[Q_INS_RCPT] = "INSERT INTO recipients(request_id, email, team,"
		" token_hash) VALUES (?1, ?2, ?3, ?4)",
	[Q_DEL_RCPT] = "DELETE FROM recipients WHERE request_id = ?1",
	[Q_ADOPT_RCPT] = "UPDATE recipients SET token_hash = ?4"
		" WHERE request_id = ?1 AND email = ?2 AND team = ?3",
	[Q_CLEAR_NOTIFIED] = "UPDATE requests SET notified = 0 WHERE id = ?1",
	[Q_GET_REQ] = "SELECT id, key, gate, state, created, deadline,"
		" decided_at, facts_json, notified, tenant, subject FROM requests"
		" WHERE id = ?1",
	[Q_GET_POLICY] = "SELECT state, deadline, author_email,"
		" allow_self_approval, secret, keep_tags FROM requests WHERE id = ?1",
	[Q_GET_DECISIONS] = "SELECT email, team, approve, reason, at,"
		" remote_addr, user_agent, token FROM decisions WHERE request_id = ?1"
		" ORDER BY seq",
	[Q_GET_TEAMS] = "SELECT t.name, t.approvals, " APPROVED_SQL
		" FROM teams t WHERE t.request_id = ?1 ORDER BY t.rowid",
	[Q_GET_ASKED] = "SELECT email, team FROM recipients"
		" WHERE request_id = ?1 ORDER BY rowid",
	[Q_FIND_TOKEN] = "SELECT request_id, email, team FROM recipients"
		" WHERE token_hash = ?1",
	[Q_MY_DECISION] = "SELECT approve FROM decisions"
		" WHERE request_id = ?1 AND email = ?2 AND team = ?3",
	[Q_INS_DECISION] = "INSERT INTO decisions(request_id, email, team,"
		" approve, reason, at, remote_addr, user_agent, token)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[Q_UNMET] = "SELECT COUNT(*) FROM teams t WHERE t.request_id = ?1"
		" AND " APPROVED_SQL " < t.approvals",
	[Q_SET_NOTIFIED] = "UPDATE requests SET notified = ?2 WHERE id = ?1",
	[Q_SETTLE_DUE] = "UPDATE requests SET state = 'expired',"
		" decided_at = deadline WHERE state = 'pending' AND deadline <= ?1",
	[Q_STATE_COUNTS] = "SELECT state, n FROM request_counts",
	[Q_PRUNE_DECISIONS] = "DELETE FROM decisions WHERE request_id IN "
		PRUNABLE_SQL,
	[Q_PRUNE_RECIPIENTS] = "DELETE FROM recipients WHERE request_id IN "
		PRUNABLE_SQL,
	[Q_PRUNE_TEAMS] = "DELETE FROM teams WHERE request_id IN " PRUNABLE_SQL,
	[Q_PRUNE_NOTIFICATIONS] = "DELETE FROM notifications WHERE request_id IN "
		PRUNABLE_SQL,
	[Q_PRUNE_REQUESTS] = "DELETE FROM requests WHERE id IN " PRUNABLE_SQL,
	[Q_REOPEN] = "UPDATE requests SET state = 'pending', decided_at = NULL,"
		" deadline = ?2, notified = 0 WHERE id = ?1 AND state = 'expired'",
	[Q_SET_STATE] = "UPDATE requests SET state = ?2, decided_at = ?3"
		" WHERE id = ?1 AND state = 'pending'",
	[Q_BASELINE_PUT] = "INSERT INTO baselines(tenant, repository, gate,"
		" commit_id, document, recorded) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (tenant, repository, gate, commit_id) DO UPDATE SET"
		" document = excluded.document, recorded = excluded.recorded",
	[Q_BASELINE_GET] = "SELECT document FROM baselines WHERE tenant = ?1"
		" AND repository = ?2 AND gate = ?3 AND commit_id = ?4",
};
static const char *const state_names[] = {
	[REQ_PENDING] = "pending",
	[REQ_APPROVED] = "approved",
	[REQ_REJECTED] = "rejected",
	[REQ_EXPIRED] = "expired",
};

const char *req_state_name(enum req_state st)
{
	if ((unsigned)st >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[st];
}

enum req_state store_state_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (name && !strcmp(name, state_names[i]))
			return (enum req_state)i;
	return REQ_EXPIRED;	/* unreachable (CHECK constraint); fail closed */
}
/* ---- SQLite plumbing ---------------------------------------------------- */

int sq_error(struct sq_store *s, const char *what)
{
	return error("store: %s: %s", what, sqlite3_errmsg(s->db));
}

int sq_exec(struct sq_store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	error("store: %s", msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -1;
}

/* A prepared statement, reset and with no bindings; NULL after an error. */
sqlite3_stmt *sq_stmt(struct sq_store *s, enum query q)
{
	sqlite3_stmt **st = &s->stmt[q];

	if (!*st && sqlite3_prepare_v3(s->db, query_sql[q], -1,
				       SQLITE_PREPARE_PERSISTENT, st,
				       NULL) != SQLITE_OK) {
		sq_error(s, "prepare");
		*st = NULL;
	}
	return *st;
}

/* Done with a statement: release its locks and borrowed bindings. */
void sq_done(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

int sq_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (!v)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Step a statement that returns no rows (or whose rows do not matter). */
int sq_run(struct sq_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sq_done(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return STORE_OK;
	return sq_error(s, what);
}

void sq_col_text(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	strlcpy_gl(dst, v ? (const char *)v : "", size);
}

static _Atomic uint64_t generation;

uint64_t store_generation(void)
{
	return atomic_load_explicit(&generation, memory_order_acquire);
}

/* BEGIN (read) or BEGIN IMMEDIATE (write): 0, or -1 after reporting. */
int sq_begin(struct sq_store *s, int write)
{
	sqlite3_stmt *st = sq_stmt(s, write ? Q_BEGIN_WRITE : Q_BEGIN_READ);

	s->writing = write;
	return st ? sq_run(s, st, "begin transaction") : -1;
}

/* A write transaction ended: readers' caches are out of date now. */
void store_bump_generation(void)
{
	atomic_fetch_add_explicit(&generation, 1, memory_order_release);
}

static void wrote(struct sq_store *s)
{
	if (s->writing)
		store_bump_generation();
	s->writing = 0;
}

void sq_rollback(struct sq_store *s)
{
	sqlite3_stmt *st = sq_stmt(s, Q_ROLLBACK);

	if (st) {
		sqlite3_step(st);
		sq_done(st);
	}
}

/* End a transaction: roll back after STORE_ERROR, else commit; a failed
 * commit turns any result into STORE_ERROR. */
int sq_finish(struct sq_store *s, int rc)
{
	sqlite3_stmt *st;

	if (rc == STORE_ERROR) {
		sq_rollback(s);
		wrote(s);
		return rc;
	}
	st = sq_stmt(s, Q_COMMIT);
	if (!st || sq_run(s, st, "commit")) {
		sq_rollback(s);
		wrote(s);
		return STORE_ERROR;
	}
	wrote(s);
	return rc;
}

int store_random_hex(char *dst, size_t nbytes)
{
	unsigned char raw[SECRET_BYTES];

	if (nbytes > sizeof(raw) || token_random_bytes(raw, nbytes))
		return error("store: random number generator failed");
	token_hex_encode(dst, raw, nbytes);
	return 0;
}
/* ---- opening ------------------------------------------------------------ */

/* mkdir -p of dir with mode 0700 for what it creates. */
static int make_dirs(char *dir)
{
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return error("cannot create directory '%s': %s", dir,
				     strerror(errno));
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return error("cannot create directory '%s': %s", dir,
			     strerror(errno));
	return 0;
}

/* Create the parent directories (0700) and the file itself (0600), unless
 * the file exists. */
static int make_file(const char *path)
{
	char *dir;
	char *slash;
	struct stat st;
	int fd, ret = 0;

	/* An existing database is never opened here: closing a descriptor
	 * drops every POSIX lock this process holds on the file, including
	 * the SHARED locks of its other SQLite connections; another process
	 * closing its own connection could then take the WAL away from under
	 * them (later commits would go to an unlinked file). */
	if (!stat(path, &st))
		return 0;
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		ret = make_dirs(dir);
	}
	free(dir);
	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)	/* another thread made it meanwhile */
		return 0;
	if (fd < 0)
		return error("cannot open '%s': %s", path, strerror(errno));
	close(fd);
	return 0;
}

/* Several connections opening one new file at once each ask for WAL
 * mode; the switch needs the file to itself, and SQLite answers BUSY
 * without waiting when two of them would wait for each other.  Such a
 * BUSY is retried for as long as a lock is waited for elsewhere. */
static int set_wal(struct sq_store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc, ret = -1, waited = 0;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL) != SQLITE_OK) {
		sq_error(s, "journal_mode");
		goto out;
	}
	while ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if ((rc & 0xff) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS) {
			sq_error(s, "journal_mode");
			goto out;
		}
		sqlite3_reset(st);
		waited += sqlite3_sleep(WAL_RETRY_MS);
	}
	mode = sqlite3_column_text(st, 0);
	if (!mode || strcmp((const char *)mode, "wal")) {
		error("store: cannot switch to WAL mode (got '%s')",
		      mode ? (const char *)mode : "");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int user_version(struct sq_store *s, int *v)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sq_error(s, "user_version");
		goto out;
	}
	*v = sqlite3_column_int(st, 0);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Create the schema in a fresh database; refuse newer ones. */
static int migrate(struct sq_store *s, const char *path)
{
	int v = 0, ret = -1;

	if (sq_begin(s, 1))
		return -1;
	if (user_version(s, &v))
		goto out;
	if (v > SCHEMA_VERSION) {
		error("'%s' has schema version %d; this greenlight knows %d",
		      path, v, SCHEMA_VERSION);
		goto out;
	}
	if (v < 1 && sq_exec(s, schema_v1))
		goto out;
	if (v < 2 && sq_exec(s, schema_v2))
		goto out;
	if (v < 3 && sq_exec(s, schema_v3))
		goto out;
	if (v < 4 && sq_exec(s, schema_v4))
		goto out;
	if (v < 5 && sq_exec(s, schema_v5))
		goto out;
	if (v < 6 && sq_exec(s, schema_v6))
		goto out;
	if (v < 7 && sq_exec(s, schema_v7))
		goto out;
	if (v < 8 && sq_exec(s, store_resume_schema))	/* store_resume.c */
		goto out;
	ret = 0;
out:
	return sq_finish(s, ret ? STORE_ERROR : STORE_OK) ? -1 : 0;
}

/* A new, empty database gets auto_vacuum=INCREMENTAL, so that what
 * retention prunes can be given back to the file system a bounded number
 * of pages at a time (store_reclaim).  It must be set before the first
 * table and before WAL mode; an existing database keeps its mode. */
static int set_auto_vacuum(struct sq_store *s)
{
	sqlite3_stmt *st = NULL;
	int pages = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA page_count", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		pages = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (pages < 0)
		return sq_error(s, "page_count");
	return pages ? 0 : sq_exec(s, "PRAGMA auto_vacuum = INCREMENTAL;");
}

static int configure(struct sq_store *s, const char *path)
{
	if (sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS) != SQLITE_OK)
		return sq_error(s, "busy_timeout");
	if (set_auto_vacuum(s) || set_wal(s))
		return -1;
	if (sq_exec(s, "PRAGMA synchronous = FULL;"
		    "PRAGMA foreign_keys = ON;"
		    "PRAGMA trusted_schema = OFF;"))
		return -1;
	return migrate(s, path);
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

/* Process-wide: no memory statistics (a global mutex on every allocation,
 * which threads with their own connections would contend for).  Fails
 * harmlessly if SQLite was initialised already. */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static const struct store_ops sq_ops = {
	.name = "sqlite",
	.shared = 0,
	.close = sq_close,
	.request_put = sq_request_put,
	.request_rekey = sq_request_rekey,
	.request_set_notified = sq_request_set_notified,
	.recipient_adopt = sq_recipient_adopt,
	.request_reopen = sq_request_reopen,
	.request_get = sq_request_get,
	.request_status = sq_request_status,
	.request_previous = sq_request_previous,
	.review_get = sq_review_get,
	.decide_ex = sq_decide_ex,
	.settle_expired = sq_settle_expired,
	.state_counts = sq_state_counts,
	.prune = sq_prune,
	.reclaim = sq_reclaim,
	.baseline_put = sq_baseline_put,
	.baseline_lookup = sq_baseline_lookup,
	.notify_claim = sq_notify_claim,
	.notify_claimed = sq_notify_claimed,
	.notify_candidates = sq_notify_candidates,
	.notify_unclaim = sq_notify_unclaim,
	.recipients_add = sq_recipients_add,
	.resume_add = sq_resume_add,
	.resume_attach = sq_resume_attach,
	.resume_due = sq_resume_due,
	.resume_claim = sq_resume_claim,
	.resume_finish = sq_resume_finish,
	.resume_state = sq_resume_state,
};

struct store *sq_open(const char *path)
{
	struct sq_store *s = sq_connect(path);

	if (s && sq_writer_attach(s, path)) {
		sq_close(&s->base);
		s = NULL;
	}
	return s ? &s->base : NULL;
}

struct sq_store *sq_connect(const char *path)
{
	struct sq_store *s = xcalloc(1, sizeof(*s));
	int rc;

	s->base.ops = &sq_ops;
	if (make_file(path))
		goto fail;
	pthread_once(&sqlite_once, sqlite_setup);
	/* no SQLite mutex: a struct store is used by one thread at a time */
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		error("cannot open database '%s': %s", path,
		      s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (configure(s, path))
		goto fail;
	return s;
fail:
	sq_close(&s->base);
	return NULL;
}

void sq_close(struct store *base)
{
	struct sq_store *s = (struct sq_store *)base;

	if (!s)
		return;
	sq_writer_detach(s);
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}
