/* store.c - durable review requests and decisions in SQLite (see store.h).
 *
 * One struct store is one SQLite connection and is not thread-safe: callers
 * that share one across threads hold a lock (web.c does).  Every write is a
 * single BEGIN IMMEDIATE transaction of prepared statements, committed in
 * WAL mode with synchronous=FULL before the caller hears of it.  A
 * request's state changes only here: expiry and quorum are settled inside
 * those transactions.  Schema, quorum and limits: docs/store.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "mime.h"
#include "store.h"
#include "token.h"
#include "util.h"

#define SCHEMA_VERSION 3
#define BUSY_TIMEOUT_MS 5000
#define ID_BYTES 16		/* request id: 32 hex characters */
#define SECRET_BYTES 32		/* per-request form secret: 64 hex */

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

/* Distinct approvers of team t (correlated subquery used twice below). */
#define APPROVED_SQL \
	"(SELECT COUNT(DISTINCT d.email) FROM decisions d" \
	" WHERE d.request_id = t.request_id AND d.team = t.name" \
	" AND d.approve = 1)"

enum query {
	Q_BEGIN_READ,
	Q_BEGIN_WRITE,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_FIND_KEY,
	Q_INS_REQ,
	Q_INS_TEAM,
	Q_INS_RCPT,
	Q_DEL_RCPT,
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
	Q_COUNT
};

static const char *const query_sql[Q_COUNT] = {
	[Q_BEGIN_READ] = "BEGIN",
	[Q_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_FIND_KEY] = "SELECT id FROM requests WHERE key = ?1",
	[Q_INS_REQ] = "INSERT INTO requests(id, key, gate, facts_json,"
		" author_email, allow_self_approval, secret, state, created,"
		" deadline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9)",
	[Q_INS_TEAM] = "INSERT INTO teams(request_id, name, approvals)"
		" VALUES (?1, ?2, ?3)",
	[Q_INS_RCPT] = "INSERT INTO recipients(request_id, email, team,"
		" token_hash) VALUES (?1, ?2, ?3, ?4)",
	[Q_DEL_RCPT] = "DELETE FROM recipients WHERE request_id = ?1",
	[Q_CLEAR_NOTIFIED] = "UPDATE requests SET notified = 0 WHERE id = ?1",
	[Q_GET_REQ] = "SELECT id, key, gate, state, created, deadline,"
		" decided_at, facts_json, notified FROM requests WHERE id = ?1",
	[Q_GET_POLICY] = "SELECT state, deadline, author_email,"
		" allow_self_approval, secret FROM requests WHERE id = ?1",
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
	[Q_STATE_COUNTS] = "SELECT state, COUNT(*) FROM requests GROUP BY state",
	[Q_REOPEN] = "UPDATE requests SET state = 'pending', decided_at = NULL,"
		" deadline = ?2, notified = 0 WHERE id = ?1 AND state = 'expired'",
	[Q_SET_STATE] = "UPDATE requests SET state = ?2, decided_at = ?3"
		" WHERE id = ?1 AND state = 'pending'",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];	/* prepared on first use */
};

/* The request row as deciding needs it (never shown to reviewers). */
struct policy {
	enum req_state state;
	time_t deadline;
	char author_email[STORE_MAX_AUTHORS + 1];
	int allow_self;
	char secret[2 * SECRET_BYTES + 1];
};

/* The recipient row a token hash resolves to. */
struct who {
	char request_id[33];
	char email[256];
	char team[72];
};

/* A reviewer's decision as presented, cleaned and capped. */
struct vote {
	char hash[TOKEN_HEX_SIZE];
	const char *token;		/* as presented (syntax checked) */
	const char *nonce;
	int approve;
	char reason[STORE_REASON_MAX + 1];
	char remote_addr[STORE_ADDR_MAX + 1];
	char user_agent[STORE_UA_MAX + 1];
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

static enum req_state state_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (name && !strcmp(name, state_names[i]))
			return (enum req_state)i;
	return REQ_EXPIRED;	/* unreachable (CHECK constraint); fail closed */
}

/* ---- SQLite plumbing ---------------------------------------------------- */

static int db_error(struct store *s, const char *what)
{
	return error("store: %s: %s", what, sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	error("store: %s", msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -1;
}

/* A prepared statement, reset and with no bindings; NULL after an error. */
static sqlite3_stmt *stmt(struct store *s, enum query q)
{
	sqlite3_stmt **st = &s->stmt[q];

	if (!*st && sqlite3_prepare_v3(s->db, query_sql[q], -1,
				       SQLITE_PREPARE_PERSISTENT, st,
				       NULL) != SQLITE_OK) {
		db_error(s, "prepare");
		*st = NULL;
	}
	return *st;
}

/* Done with a statement: release its locks and borrowed bindings. */
static void done(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (!v)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Step a statement that returns no rows (or whose rows do not matter). */
static int run(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	done(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return STORE_OK;
	return db_error(s, what);
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	strlcpy_gl(dst, v ? (const char *)v : "", size);
}

/* BEGIN (read) or BEGIN IMMEDIATE (write): 0, or -1 after reporting. */
static int begin(struct store *s, int write)
{
	sqlite3_stmt *st = stmt(s, write ? Q_BEGIN_WRITE : Q_BEGIN_READ);

	return st ? run(s, st, "begin transaction") : -1;
}

static void rollback(struct store *s)
{
	sqlite3_stmt *st = stmt(s, Q_ROLLBACK);

	if (st) {
		sqlite3_step(st);
		done(st);
	}
}

/* End a transaction: roll back after STORE_ERROR, else commit; a failed
 * commit turns any result into STORE_ERROR. */
static int finish(struct store *s, int rc)
{
	sqlite3_stmt *st;

	if (rc == STORE_ERROR) {
		rollback(s);
		return rc;
	}
	st = stmt(s, Q_COMMIT);
	if (!st || run(s, st, "commit")) {
		rollback(s);
		return STORE_ERROR;
	}
	return rc;
}

static void hex_encode(char *dst, const unsigned char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hex[src[i] >> 4];
		dst[2 * i + 1] = hex[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

static int random_hex(char *dst, size_t nbytes)
{
	unsigned char raw[SECRET_BYTES];

	if (nbytes > sizeof(raw) || token_random_bytes(raw, nbytes))
		return error("store: random number generator failed");
	hex_encode(dst, raw, nbytes);
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

static int set_wal(struct store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int ret = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL) != SQLITE_OK) {
		db_error(s, "journal_mode");
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_error(s, "journal_mode");
		goto out;
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

static int user_version(struct store *s, int *v)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		db_error(s, "user_version");
		goto out;
	}
	*v = sqlite3_column_int(st, 0);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Create the schema in a fresh database; refuse newer ones. */
static int migrate(struct store *s, const char *path)
{
	int v = 0, ret = -1;

	if (begin(s, 1))
		return -1;
	if (user_version(s, &v))
		goto out;
	if (v > SCHEMA_VERSION) {
		error("'%s' has schema version %d; this greenlight knows %d",
		      path, v, SCHEMA_VERSION);
		goto out;
	}
	if (v < 1 && exec(s, schema_v1))
		goto out;
	if (v < 2 && exec(s, schema_v2))
		goto out;
	if (v < 3 && exec(s, schema_v3))
		goto out;
	ret = 0;
out:
	return finish(s, ret ? STORE_ERROR : STORE_OK) ? -1 : 0;
}

static int configure(struct store *s, const char *path)
{
	if (sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS) != SQLITE_OK)
		return db_error(s, "busy_timeout");
	if (set_wal(s))
		return -1;
	if (exec(s, "PRAGMA synchronous = FULL;"
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

struct store *store_open(const char *path)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int rc;

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
	store_close(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

/* ---- validating new requests --------------------------------------------- */

/* s is 1..max bytes without control characters. */
static int text_ok(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return 0;
	n = strnlen(s, max + 1);
	if (!n || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int hash_ok(const char *h)
{
	size_t i;

	for (i = 0; i < TOKEN_HEX_SIZE - 1; i++)
		if (!strchr("0123456789abcdef", h[i]) || !h[i])
			return 0;
	return h[i] == '\0';
}

static int check_recipient(const struct store_recipient *r)
{
	if (!text_ok(r->email, STORE_MAX_EMAIL))
		return error("store: bad recipient address");
	if (!text_ok(r->team, STORE_MAX_TEAM))
		return error("store: bad team name for '%s'", r->email);
	if (!hash_ok(r->token_hash))
		return error("store: bad token hash for '%s'", r->email);
	return 0;
}

/* Each team is named once, needs 1..max approvals and has enough people. */
static int check_team(const struct store_new_request *nr, size_t i)
{
	const struct store_team *t = &nr->teams[i];
	long asked = 0;

	if (!text_ok(t->name, STORE_MAX_TEAM))
		return error("store: bad team name");
	if (t->approvals < 1 || t->approvals > STORE_MAX_APPROVALS)
		return error("store: team '%s' needs 1..%d approvals", t->name,
			     STORE_MAX_APPROVALS);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(nr->teams[j].name, t->name))
			return error("store: team '%s' given twice", t->name);
	for (size_t j = 0; j < nr->nrecipients; j++)
		asked += !strcmp(nr->recipients[j].team, t->name);
	if (asked < t->approvals)
		return error("store: team '%s' needs %d approvals but only %ld"
			     " people are asked", t->name, t->approvals, asked);
	return 0;
}

static int check_known_team(const struct store_new_request *nr,
			    const struct store_recipient *r)
{
	for (size_t i = 0; i < nr->nteams; i++)
		if (nr->teams[i].name && !strcmp(nr->teams[i].name, r->team))
			return 0;
	return error("store: '%s' is asked for team '%s', which the request"
		     " does not name", r->email, r->team);
}

static int check_new_request(const struct store_new_request *nr)
{
	if (!text_ok(nr->key, STORE_MAX_KEY) ||
	    !text_ok(nr->gate, STORE_MAX_GATE))
		return error("store: request key or gate name missing or too long");
	if (!nr->facts_json || strlen(nr->facts_json) > STORE_MAX_FACTS)
		return error("store: request facts missing or over %d bytes",
			     STORE_MAX_FACTS);
	if (nr->author_email && *nr->author_email &&
	    !text_ok(nr->author_email, STORE_MAX_AUTHORS))
		return error("store: bad author address");
	if (nr->deadline <= nr->created)
		return error("store: request deadline is not after its creation");
	if (!nr->nteams || nr->nteams > STORE_MAX_TEAMS ||
	    !nr->nrecipients || nr->nrecipients > STORE_MAX_RECIPIENTS)
		return error("store: a request needs 1..%d teams and 1..%d"
			     " recipients", STORE_MAX_TEAMS,
			     STORE_MAX_RECIPIENTS);
	for (size_t i = 0; i < nr->nrecipients; i++)
		if (check_recipient(&nr->recipients[i]) ||
		    check_known_team(nr, &nr->recipients[i]))
			return -1;
	for (size_t i = 0; i < nr->nteams; i++)
		if (check_team(nr, i))
			return -1;
	return 0;
}

/* ---- writing requests ----------------------------------------------------- */

/* STORE_OK with the id of the request with this key, or STORE_NOT_FOUND. */
static int find_key(struct store *s, const char *key, char id[33])
{
	sqlite3_stmt *st = stmt(s, Q_FIND_KEY);
	int rc;

	if (!st || bind_text(st, 1, key) != SQLITE_OK)
		return db_error(s, "find request");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		col_text(st, 0, id, 33);
	done(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : db_error(s, "find request");
}

static int insert_recipient(struct store *s, const char *id,
			    const struct store_recipient *r)
{
	sqlite3_stmt *st = stmt(s, Q_INS_RCPT);

	if (!st || bind_text(st, 1, id) || bind_text(st, 2, r->email) ||
	    bind_text(st, 3, r->team) || bind_text(st, 4, r->token_hash)) {
		done(st);
		return db_error(s, "add recipient");
	}
	return run(s, st, "add recipient");
}

static int insert_team(struct store *s, const char *id,
		       const struct store_team *t)
{
	sqlite3_stmt *st = stmt(s, Q_INS_TEAM);

	if (!st || bind_text(st, 1, id) || bind_text(st, 2, t->name) ||
	    sqlite3_bind_int(st, 3, t->approvals)) {
		done(st);
		return db_error(s, "add team");
	}
	return run(s, st, "add team");
}

static int insert_row(struct store *s, const struct store_new_request *nr,
		      const char *id, const char *secret)
{
	sqlite3_stmt *st = stmt(s, Q_INS_REQ);
	const char *author = nr->author_email && *nr->author_email ?
			     nr->author_email : NULL;

	if (!st || bind_text(st, 1, id) || bind_text(st, 2, nr->key) ||
	    bind_text(st, 3, nr->gate) || bind_text(st, 4, nr->facts_json) ||
	    bind_text(st, 5, author) ||
	    sqlite3_bind_int(st, 6, !!nr->allow_self_approval) ||
	    bind_text(st, 7, secret) ||
	    sqlite3_bind_int64(st, 8, (sqlite3_int64)nr->created) ||
	    sqlite3_bind_int64(st, 9, (sqlite3_int64)nr->deadline)) {
		done(st);
		return db_error(s, "add request");
	}
	return run(s, st, "add request");
}

static int insert_request(struct store *s, const struct store_new_request *nr,
			  char id[33])
{
	char secret[2 * SECRET_BYTES + 1];
	int rc;

	if (random_hex(id, ID_BYTES) || random_hex(secret, SECRET_BYTES))
		return STORE_ERROR;
	rc = insert_row(s, nr, id, secret);
	for (size_t i = 0; !rc && i < nr->nteams; i++)
		rc = insert_team(s, id, &nr->teams[i]);
	for (size_t i = 0; !rc && i < nr->nrecipients; i++)
		rc = insert_recipient(s, id, &nr->recipients[i]);
	return rc;
}

int store_request_put(struct store *s, const struct store_new_request *nr,
		      struct store_request *out, int *created)
{
	char id[33] = "";
	int rc, fresh = 0, taken;

	memset(out, 0, sizeof(*out));
	*created = 0;
	if (check_new_request(nr))
		return STORE_ERROR;
	if (begin(s, 1))
		return STORE_ERROR;
	rc = find_key(s, nr->key, id);
	if (rc == STORE_NOT_FOUND) {
		rc = insert_request(s, nr, id);
		fresh = 1;
	}
	/* a token hash another request has (the key was looked up first) */
	taken = rc == STORE_ERROR &&
		sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE;
	rc = finish(s, rc);
	if (taken)
		return STORE_CONFLICT;
	if (rc == STORE_OK)
		rc = store_request_get(s, id, nr->created, out);
	if (rc == STORE_OK)
		*created = fresh;
	return rc;
}

/* ---- reading requests ----------------------------------------------------- */

static int read_policy(struct store *s, const char *id, struct policy *p)
{
	sqlite3_stmt *st = stmt(s, Q_GET_POLICY);
	int rc;

	if (!st || bind_text(st, 1, id)) {
		done(st);
		return db_error(s, "read request");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->state = state_from_name((const char *)sqlite3_column_text(st, 0));
		p->deadline = (time_t)sqlite3_column_int64(st, 1);
		col_text(st, 2, p->author_email, sizeof(p->author_email));
		p->allow_self = sqlite3_column_int(st, 3);
		col_text(st, 4, p->secret, sizeof(p->secret));
	}
	done(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : db_error(s, "read request");
}

static int set_state(struct store *s, const char *id, enum req_state to,
		     time_t at)
{
	sqlite3_stmt *st = stmt(s, Q_SET_STATE);

	if (!st || bind_text(st, 1, id) ||
	    bind_text(st, 2, req_state_name(to)) ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)at)) {
		done(st);
		return db_error(s, "settle request");
	}
	return run(s, st, "settle request");
}

/* Settle a pending request whose deadline passed (state EXPIRED, decided at
 * its deadline), in its own write transaction; a no-op otherwise. */
static int settle_due(struct store *s, const char *id, time_t now)
{
	struct policy p;
	int rc = read_policy(s, id, &p);

	if (rc || p.state != REQ_PENDING || now < p.deadline)
		return rc;
	if (begin(s, 1))
		return STORE_ERROR;
	return finish(s, set_state(s, id, REQ_EXPIRED, p.deadline));
}

static int read_row(struct store *s, const char *id, struct store_request *r,
		    int full)
{
	sqlite3_stmt *st = stmt(s, Q_GET_REQ);
	const unsigned char *facts;
	int rc;

	if (!st || bind_text(st, 1, id)) {
		done(st);
		return db_error(s, "read request");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		col_text(st, 0, r->id, sizeof(r->id));
		col_text(st, 1, r->key, sizeof(r->key));
		col_text(st, 2, r->gate, sizeof(r->gate));
		r->state = state_from_name((const char *)sqlite3_column_text(st, 3));
		r->created = (time_t)sqlite3_column_int64(st, 4);
		r->deadline = (time_t)sqlite3_column_int64(st, 5);
		r->decided_at = (time_t)sqlite3_column_int64(st, 6);
		facts = full ? sqlite3_column_text(st, 7) : NULL;
		if (full)
			r->facts_json = xstrdup(facts ? (const char *)facts : "{}");
		r->notified = sqlite3_column_int(st, 8);
	}
	done(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : db_error(s, "read request");
}

static void decision_from_row(sqlite3_stmt *st, struct store_decision *d)
{
	col_text(st, 0, d->email, sizeof(d->email));
	col_text(st, 1, d->team, sizeof(d->team));
	d->approve = sqlite3_column_int(st, 2);
	col_text(st, 3, d->reason, sizeof(d->reason));
	d->at = (time_t)sqlite3_column_int64(st, 4);
	col_text(st, 5, d->remote_addr, sizeof(d->remote_addr));
	col_text(st, 6, d->user_agent, sizeof(d->user_agent));
	col_text(st, 7, d->token, sizeof(d->token));
}

static int read_decisions(struct store *s, struct store_request *r)
{
	sqlite3_stmt *st = stmt(s, Q_GET_DECISIONS);
	int rc;

	if (!st || bind_text(st, 1, r->id)) {
		done(st);
		return db_error(s, "read decisions");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->decisions = xrealloc(r->decisions, (r->ndecisions + 1) *
					sizeof(*r->decisions));
		decision_from_row(st, &r->decisions[r->ndecisions++]);
	}
	done(st);
	return rc == SQLITE_DONE ? STORE_OK : db_error(s, "read decisions");
}

static int read_teams(struct store *s, struct store_request *r)
{
	sqlite3_stmt *st = stmt(s, Q_GET_TEAMS);
	struct store_team_state *t;
	int rc;

	if (!st || bind_text(st, 1, r->id)) {
		done(st);
		return db_error(s, "read teams");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->teams = xrealloc(r->teams, (r->nteams + 1) * sizeof(*t));
		t = &r->teams[r->nteams++];
		col_text(st, 0, t->name, sizeof(t->name));
		t->approvals = sqlite3_column_int(st, 1);
		t->approved = sqlite3_column_int(st, 2);
	}
	done(st);
	return rc == SQLITE_DONE ? STORE_OK : db_error(s, "read teams");
}

static int read_asked(struct store *s, struct store_request *r)
{
	sqlite3_stmt *st = stmt(s, Q_GET_ASKED);
	struct store_asked *a;
	int rc;

	if (!st || bind_text(st, 1, r->id)) {
		done(st);
		return db_error(s, "read recipients");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->asked = xrealloc(r->asked, (r->nasked + 1) * sizeof(*a));
		a = &r->asked[r->nasked++];
		col_text(st, 0, a->email, sizeof(a->email));
		col_text(st, 1, a->team, sizeof(a->team));
	}
	done(st);
	return rc == SQLITE_DONE ? STORE_OK : db_error(s, "read recipients");
}

/* Fill *r with everything about request id (inside a transaction); without
 * `full`, leave out the facts and who was asked. */
static int read_some(struct store *s, const char *id, struct store_request *r,
		     int full)
{
	int rc = read_row(s, id, r, full);

	if (!rc)
		rc = read_decisions(s, r);
	if (!rc)
		rc = read_teams(s, r);
	if (!rc && full)
		rc = read_asked(s, r);
	if (rc)
		store_request_release(r);
	return rc;
}

static int read_request(struct store *s, const char *id,
			struct store_request *r)
{
	return read_some(s, id, r, 1);
}

/* One read transaction; *due says the request is pending past its
 * deadline (*out is then released and due holds the deadline). */
static int read_once(struct store *s, const char *id, time_t now,
		     struct store_request *out, int full, time_t *due)
{
	int rc;

	*due = 0;
	if (begin(s, 0))
		return STORE_ERROR;
	rc = finish(s, read_some(s, id, out, full));
	if (rc == STORE_OK && out->state == REQ_PENDING && now >= out->deadline) {
		*due = out->deadline;
		store_request_release(out);
	}
	return rc;
}

/* Read a request, settling it first if it is pending past its deadline.
 * The common case is one read transaction. */
static int get_request(struct store *s, const char *id, time_t now,
		       struct store_request *out, int full)
{
	time_t due;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!text_ok(id, sizeof(out->id) - 1))
		return STORE_NOT_FOUND;
	rc = read_once(s, id, now, out, full, &due);
	if (rc || !due)
		return rc;
	if (begin(s, 1))
		return STORE_ERROR;
	rc = finish(s, set_state(s, id, REQ_EXPIRED, due));
	if (rc)
		return rc;
	return read_once(s, id, now, out, full, &due);
}

int store_request_get(struct store *s, const char *id, time_t now,
		      struct store_request *out)
{
	return get_request(s, id, now, out, 1);
}

int store_request_status(struct store *s, const char *id, time_t now,
			 struct store_request *out)
{
	return get_request(s, id, now, out, 0);
}

void store_request_release(struct store_request *r)
{
	free(r->facts_json);
	free(r->decisions);
	free(r->teams);
	free(r->asked);
	r->facts_json = NULL;
	r->decisions = NULL;
	r->teams = NULL;
	r->asked = NULL;
	r->ndecisions = r->nteams = r->nasked = 0;
}

/* ---- changing recipients -------------------------------------------------- */

/* New links have not been mailed yet: a re-run mails them if the gate that
 * asked for them dies before it could. */
static int clear_notified(struct store *s, const char *id)
{
	sqlite3_stmt *st = stmt(s, Q_CLEAR_NOTIFIED);

	if (!st || bind_text(st, 1, id)) {
		done(st);
		return db_error(s, "mark not notified");
	}
	return run(s, st, "mark not notified");
}

static int rekey_txn(struct store *s, const char *id,
		     const struct store_recipient *recipients, size_t n)
{
	sqlite3_stmt *st;
	struct policy p;
	int rc = read_policy(s, id, &p);

	if (rc)
		return rc;
	if (p.state != REQ_PENDING)
		return STORE_GONE;
	st = stmt(s, Q_DEL_RCPT);
	if (!st || bind_text(st, 1, id)) {
		done(st);
		return db_error(s, "replace recipients");
	}
	rc = run(s, st, "replace recipients");
	for (size_t i = 0; !rc && i < n; i++)
		rc = insert_recipient(s, id, &recipients[i]);
	return rc ? rc : clear_notified(s, id);
}

int store_request_rekey(struct store *s, const char *id,
			const struct store_recipient *recipients, size_t n)
{
	if (!n || n > STORE_MAX_RECIPIENTS)
		return error("store: a request needs 1..%d recipients",
			     STORE_MAX_RECIPIENTS);
	for (size_t i = 0; i < n; i++)
		if (check_recipient(&recipients[i]))
			return STORE_ERROR;
	if (begin(s, 1))
		return STORE_ERROR;
	return finish(s, rekey_txn(s, id, recipients, n));
}

int store_request_set_notified(struct store *s, const char *id, int notified)
{
	sqlite3_stmt *st;
	int rc;

	if (begin(s, 1))
		return STORE_ERROR;
	st = stmt(s, Q_SET_NOTIFIED);
	if (!st || bind_text(st, 1, id) || sqlite3_bind_int(st, 2, notified ? 1 : 0)) {
		done(st);
		rc = db_error(s, "mark notified");
	} else {
		rc = run(s, st, "mark notified");
	}
	return finish(s, rc);
}

static int reopen_txn(struct store *s, const char *id, time_t deadline,
		      const struct store_recipient *recipients, size_t n)
{
	sqlite3_stmt *st = stmt(s, Q_REOPEN);
	int rc;

	if (!st || bind_text(st, 1, id) ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)deadline)) {
		done(st);
		return db_error(s, "reopen request");
	}
	rc = run(s, st, "reopen request");
	if (rc)
		return rc;
	if (sqlite3_changes(s->db) != 1)
		return STORE_GONE;
	return rekey_txn(s, id, recipients, n);
}

int store_request_reopen(struct store *s, const char *id, time_t deadline,
			 const struct store_recipient *recipients, size_t n)
{
	if (!n || n > STORE_MAX_RECIPIENTS)
		return error("store: a request needs 1..%d recipients",
			     STORE_MAX_RECIPIENTS);
	for (size_t i = 0; i < n; i++)
		if (check_recipient(&recipients[i]))
			return STORE_ERROR;
	if (begin(s, 1))
		return STORE_ERROR;
	return finish(s, reopen_txn(s, id, deadline, recipients, n));
}

/* ---- housekeeping ------------------------------------------------------------ */

int store_settle_expired(struct store *s, time_t now, long *settled)
{
	sqlite3_stmt *st;
	int rc;

	if (settled)
		*settled = 0;
	if (begin(s, 1))
		return STORE_ERROR;
	st = stmt(s, Q_SETTLE_DUE);
	if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)now)) {
		done(st);
		rc = db_error(s, "settle expired requests");
	} else {
		rc = run(s, st, "settle expired requests");
	}
	if (rc == STORE_OK && settled)
		*settled = (long)sqlite3_changes(s->db);
	rc = finish(s, rc);
	if (rc && settled)
		*settled = 0;
	return rc;
}

int store_state_counts(struct store *s, long counts[4])
{
	sqlite3_stmt *st = stmt(s, Q_STATE_COUNTS);
	int rc;

	for (int i = 0; i < 4; i++)
		counts[i] = 0;
	if (!st)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		counts[state_from_name((const char *)sqlite3_column_text(st, 0))] =
			(long)sqlite3_column_int64(st, 1);
	done(st);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	for (int i = 0; i < 4; i++)
		counts[i] = 0;
	return db_error(s, "count requests");
}

/* ---- reviewers -------------------------------------------------------------- */

/* Hash a presented token and find its recipient: STORE_NOT_FOUND for a
 * malformed or unknown token. */
static int find_token(struct store *s, const char *hash, struct who *w)
{
	sqlite3_stmt *st = stmt(s, Q_FIND_TOKEN);
	int rc;

	if (!st || bind_text(st, 1, hash)) {
		done(st);
		return db_error(s, "find token");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		col_text(st, 0, w->request_id, sizeof(w->request_id));
		col_text(st, 1, w->email, sizeof(w->email));
		col_text(st, 2, w->team, sizeof(w->team));
	}
	done(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : db_error(s, "find token");
}

static int hash_token(const char *token, char hash[TOKEN_HEX_SIZE])
{
	if (!token || !token_syntax_ok(token, strnlen(token, TOKEN_SIZE)))
		return STORE_NOT_FOUND;
	if (token_hash(hash, token))
		return error("store: cannot hash token");
	return STORE_OK;
}

/* The reviewer's earlier decision: 1 approve, 0 reject, -1 none; or
 * STORE_ERROR (which is also negative: check with the return value). */
static int my_decision(struct store *s, const struct who *w, int *prev)
{
	sqlite3_stmt *st = stmt(s, Q_MY_DECISION);
	int rc;

	*prev = -1;
	if (!st || bind_text(st, 1, w->request_id) ||
	    bind_text(st, 2, w->email) || bind_text(st, 3, w->team)) {
		done(st);
		return db_error(s, "read decision");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*prev = sqlite3_column_int(st, 0);
	done(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return STORE_OK;
	return db_error(s, "read decision");
}

/* The form nonce: hex HMAC-SHA256 keyed by the request's secret over the
 * token hash, so it binds a form to one reviewer of one request. */
static int make_nonce(const char *secret, const char *hash,
		      char out[TOKEN_HEX_SIZE])
{
	unsigned char mac[TOKEN_SHA256_BYTES];

	if (token_hmac_sha256(mac, secret, strlen(secret), hash, strlen(hash)))
		return error("store: cannot compute form nonce");
	hex_encode(out, mac, sizeof(mac));
	return 0;
}

static int ascii_casecmp(const char *a, const char *b)
{
	unsigned char ca, cb;

	do {
		ca = (unsigned char)*a++;
		cb = (unsigned char)*b++;
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
	} while (ca && ca == cb);
	return ca - cb;
}

/* Whether email is one of the comma-separated addresses that may not
 * approve (the commit author, the person who started the run). */
static int is_self(const struct policy *p, const char *email)
{
	const char *a = p->author_email;
	char one[STORE_MAX_EMAIL + 1];

	while (*a) {
		size_t n = strcspn(a, ",");

		if (n && n <= STORE_MAX_EMAIL) {
			memcpy(one, a, n);
			one[n] = '\0';
			if (!ascii_casecmp(one, email))
				return 1;
		}
		a += n + (a[n] == ',');
	}
	return 0;
}

static int review_txn(struct store *s, const struct who *w,
		      struct store_review *out, struct policy *p)
{
	int prev, rc = read_policy(s, w->request_id, p);

	if (!rc)
		rc = read_request(s, w->request_id, &out->req);
	if (!rc)
		rc = my_decision(s, w, &prev);
	if (!rc) {
		out->already = prev >= 0;
		out->already_approve = prev == 1;
	}
	return rc;
}

int store_review_get(struct store *s, const char *token, time_t now,
		     struct store_review *out)
{
	char hash[TOKEN_HEX_SIZE];
	struct policy p;
	struct who w;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = hash_token(token, hash);
	if (!rc)
		rc = find_token(s, hash, &w);
	if (!rc)
		rc = settle_due(s, w.request_id, now);
	if (rc)
		return rc;
	if (begin(s, 0))
		return STORE_ERROR;
	rc = finish(s, review_txn(s, &w, out, &p));
	if (!rc && make_nonce(p.secret, hash, out->nonce))
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
static void clean_into(char *dst, size_t size, const char *src)
{
	struct buf b = BUF_INIT(size + 8);

	dst[0] = '\0';
	if (src && !mime_clean(&b, src, size - 1) && b.data)
		strlcpy_gl(dst, b.data, size);
	buf_release(&b);
}

static int nonce_ok(const struct policy *p, const struct vote *v)
{
	char want[TOKEN_HEX_SIZE];

	if (!v->nonce || strnlen(v->nonce, TOKEN_HEX_SIZE) != TOKEN_HEX_SIZE - 1)
		return 0;
	if (make_nonce(p->secret, v->hash, want))
		return 0;
	return token_hex_equal(want, v->nonce);
}

static int insert_decision(struct store *s, const struct who *w,
			   const struct vote *v, time_t now)
{
	sqlite3_stmt *st = stmt(s, Q_INS_DECISION);

	if (!st || bind_text(st, 1, w->request_id) ||
	    bind_text(st, 2, w->email) || bind_text(st, 3, w->team) ||
	    sqlite3_bind_int(st, 4, v->approve) ||
	    bind_text(st, 5, v->reason) ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)now) ||
	    bind_text(st, 7, v->remote_addr) ||
	    bind_text(st, 8, v->user_agent) || bind_text(st, 9, v->token)) {
		done(st);
		return db_error(s, "record decision");
	}
	return run(s, st, "record decision");
}

/* After a decision: a reject rejects; an approve approves once no team
 * has fewer distinct approvers than it needs. */
static int settle_quorum(struct store *s, const char *id, int approve,
			 time_t now)
{
	sqlite3_stmt *st;
	sqlite3_int64 unmet = 0;
	int rc;

	if (!approve)
		return set_state(s, id, REQ_REJECTED, now);
	st = stmt(s, Q_UNMET);
	if (!st || bind_text(st, 1, id)) {
		done(st);
		return db_error(s, "count approvals");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		unmet = sqlite3_column_int64(st, 0);
	done(st);
	if (rc != SQLITE_ROW)
		return db_error(s, "count approvals");
	return unmet ? STORE_OK : set_state(s, id, REQ_APPROVED, now);
}

static int decide_txn(struct store *s, const struct vote *v, time_t now,
		      int *recorded)
{
	struct policy p;
	struct who w;
	int prev, rc = find_token(s, v->hash, &w);

	if (!rc)
		rc = read_policy(s, w.request_id, &p);
	if (rc)
		return rc;
	if (!nonce_ok(&p, v))
		return STORE_FORBIDDEN;
	if (p.state == REQ_PENDING && now >= p.deadline) {
		if (set_state(s, w.request_id, REQ_EXPIRED, p.deadline))
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

int store_decide_ex(struct store *s, const char *token, const char *nonce,
		    int approve, const char *reason, const char *remote_addr,
		    const char *user_agent, time_t now, int *recorded)
{
	struct vote v;
	int rc, added = 0;

	if (recorded)
		*recorded = 0;
	rc = hash_token(token, v.hash);
	if (rc)
		return rc;
	v.token = token;
	v.nonce = nonce;
	v.approve = !!approve;
	clean_into(v.reason, sizeof(v.reason), reason);
	clean_into(v.remote_addr, sizeof(v.remote_addr), remote_addr);
	clean_into(v.user_agent, sizeof(v.user_agent), user_agent);
	if (begin(s, 1))
		return STORE_ERROR;
	rc = finish(s, decide_txn(s, &v, now, &added));
	if (recorded)
		*recorded = rc == STORE_OK && added;
	return rc;
}

int store_decide(struct store *s, const char *token, const char *nonce,
		 int approve, const char *reason, const char *remote_addr,
		 const char *user_agent, time_t now)
{
	return store_decide_ex(s, token, nonce, approve, reason, remote_addr,
			       user_agent, now, NULL);
}
