/* store_request.c - creating, reading and changing review requests
 * (see store.h).  A request's state changes only in the store: expiry is
 * settled inside the transactions here, quorum in store_review.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mime.h"
#include "store_int.h"
#include "util.h"

/* ---- validating new requests --------------------------------------------- */

/* s is 1..max bytes without control characters. */
int store_text_ok(const char *s, size_t max)
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

static int check_recipient(const struct store_recipient *r)
{
	if (!store_text_ok(r->email, STORE_MAX_EMAIL))
		return error("store: bad recipient address");
	if (!store_text_ok(r->team, STORE_MAX_TEAM))
		return error("store: bad team name for '%s'", r->email);
	if (!token_is_hex(r->token_hash, TOKEN_HEX_SIZE - 1))
		return error("store: bad token hash for '%s'", r->email);
	return 0;
}

/* Each team is named once, needs 1..max approvals and has enough people. */
static int check_team(const struct store_new_request *nr, size_t i)
{
	const struct store_team *t = &nr->teams[i];
	long asked = 0;

	if (!store_text_ok(t->name, STORE_MAX_TEAM))
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

int store_check_new_request(const struct store_new_request *nr)
{
	if (!store_text_ok(nr->key, STORE_MAX_KEY) ||
	    !store_text_ok(nr->gate, STORE_MAX_GATE))
		return error("store: request key or gate name missing or too long");
	if (nr->id && !token_is_hex(nr->id, 32))
		return error("store: a request id is 32 hex digits");
	if (!nr->facts_json || strlen(nr->facts_json) > STORE_MAX_FACTS)
		return error("store: request facts missing or over %d bytes",
			     STORE_MAX_FACTS);
	if (nr->author_email && *nr->author_email &&
	    !store_text_ok(nr->author_email, STORE_MAX_AUTHORS))
		return error("store: bad author address");
	if (nr->tenant && *nr->tenant &&
	    !store_text_ok(nr->tenant, STORE_MAX_TENANT))
		return error("store: bad tenant name");
	if (nr->repository && !store_text_ok(nr->repository, STORE_MAX_REPO))
		return error("store: bad repository");
	if (nr->subject && !token_is_hex(nr->subject, TOKEN_HEX_SIZE - 1))
		return error("store: bad request subject");
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
static int find_key(struct sq_store *s, const char *key, char id[33])
{
	sqlite3_stmt *st = sq_stmt(s, Q_FIND_KEY);
	int rc;

	if (!st || sq_bind_text(st, 1, key) != SQLITE_OK)
		return sq_error(s, "find request");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		sq_col_text(st, 0, id, 33);
	sq_done(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(s, "find request");
}

int store_insert_recipient(struct sq_store *s, const char *id,
			   const struct store_recipient *r)
{
	sqlite3_stmt *st = sq_stmt(s, Q_INS_RCPT);

	if (!st || sq_bind_text(st, 1, id) || sq_bind_text(st, 2, r->email) ||
	    sq_bind_text(st, 3, r->team) || sq_bind_text(st, 4, r->token_hash)) {
		sq_done(st);
		return sq_error(s, "add recipient");
	}
	return sq_run(s, st, "add recipient");
}

static int insert_team(struct sq_store *s, const char *id,
		       const struct store_team *t)
{
	sqlite3_stmt *st = sq_stmt(s, Q_INS_TEAM);

	if (!st || sq_bind_text(st, 1, id) || sq_bind_text(st, 2, t->name) ||
	    sqlite3_bind_int(st, 3, t->approvals)) {
		sq_done(st);
		return sq_error(s, "add team");
	}
	return sq_run(s, st, "add team");
}

static int insert_row(struct sq_store *s, const struct store_new_request *nr,
		      const char *id, const char *secret)
{
	sqlite3_stmt *st = sq_stmt(s, Q_INS_REQ);
	const char *author = nr->author_email && *nr->author_email ?
			     nr->author_email : NULL;

	if (!st || sq_bind_text(st, 1, id) || sq_bind_text(st, 2, nr->key) ||
	    sq_bind_text(st, 3, nr->gate) || sq_bind_text(st, 4, nr->facts_json) ||
	    sq_bind_text(st, 5, author) ||
	    sqlite3_bind_int(st, 6, !!nr->allow_self_approval) ||
	    sq_bind_text(st, 7, secret) ||
	    sqlite3_bind_int64(st, 8, (sqlite3_int64)nr->created) ||
	    sqlite3_bind_int64(st, 9, (sqlite3_int64)nr->deadline) ||
	    sq_bind_text(st, 10, nr->tenant ? nr->tenant : "") ||
	    sq_bind_text(st, 11, nr->repository) ||
	    sq_bind_text(st, 12, nr->subject) ||
	    sqlite3_bind_int(st, 13, !!nr->keep_tags)) {
		sq_done(st);
		return sq_error(s, "add request");
	}
	return sq_run(s, st, "add request");
}

static int insert_request(struct sq_store *s, const struct store_new_request *nr,
			  char id[33])
{
	char secret[2 * SECRET_BYTES + 1];
	int rc;

	if (nr->id)
		strlcpy_gl(id, nr->id, 33);
	else if (store_random_hex(id, ID_BYTES))
		return STORE_ERROR;
	if (store_random_hex(secret, SECRET_BYTES))
		return STORE_ERROR;
	rc = insert_row(s, nr, id, secret);
	for (size_t i = 0; !rc && i < nr->nteams; i++)
		rc = insert_team(s, id, &nr->teams[i]);
	for (size_t i = 0; !rc && i < nr->nrecipients; i++)
		rc = store_insert_recipient(s, id, &nr->recipients[i]);
	return rc;
}

struct put {
	const struct store_new_request *nr;
	char id[33];
	int fresh;			/* inserted (not found by its key) */
	int taken;			/* a token hash another request has */
};

static int put_txn(struct sq_store *s, void *arg)
{
	struct put *c = arg;
	int rc = find_key(s, c->nr->key, c->id);

	if (rc == STORE_NOT_FOUND) {
		rc = insert_request(s, c->nr, c->id);
		c->fresh = 1;
	}
	/* the key was looked up first: a unique violation is a token hash */
	c->taken = rc == STORE_ERROR &&
		   sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE;
	return rc;
}

int sq_request_put(struct store *base, const struct store_new_request *nr,
		   struct store_request *out, int *created)
{
	struct sq_store *s = (struct sq_store *)base;
	struct put c = { nr, "", 0, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	*created = 0;
	if (store_check_new_request(nr))
		return STORE_ERROR;
	rc = sq_write(s, put_txn, &c);
	if (c.taken)
		return STORE_CONFLICT;
	if (rc == STORE_OK)
		rc = sq_request_get(base, c.id, nr->created, out);
	if (rc == STORE_OK)
		*created = c.fresh;
	return rc;
}
/* ---- reading requests ----------------------------------------------------- */

int store_read_policy(struct sq_store *s, const char *id, struct policy *p)
{
	sqlite3_stmt *st = sq_stmt(s, Q_GET_POLICY);
	int rc;

	if (!st || sq_bind_text(st, 1, id)) {
		sq_done(st);
		return sq_error(s, "read request");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->state = store_state_from_name((const char *)sqlite3_column_text(st, 0));
		p->deadline = (time_t)sqlite3_column_int64(st, 1);
		sq_col_text(st, 2, p->author_email, sizeof(p->author_email));
		p->allow_self = sqlite3_column_int(st, 3);
		sq_col_text(st, 4, p->secret, sizeof(p->secret));
		p->keep_tags = sqlite3_column_int(st, 5);
	}
	sq_done(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(s, "read request");
}

int store_set_state(struct sq_store *s, const char *id, enum req_state to,
		    time_t at)
{
	sqlite3_stmt *st = sq_stmt(s, Q_SET_STATE);

	if (!st || sq_bind_text(st, 1, id) ||
	    sq_bind_text(st, 2, req_state_name(to)) ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)at)) {
		sq_done(st);
		return sq_error(s, "settle request");
	}
	return sq_run(s, st, "settle request");
}

struct expire {
	const char *id;
	time_t at;
};

static int expire_txn(struct sq_store *s, void *arg)
{
	const struct expire *e = arg;

	return store_set_state(s, e->id, REQ_EXPIRED, e->at);
}

/* Settle a pending request whose deadline passed (state EXPIRED, decided at
 * its deadline), in its own write transaction; a no-op otherwise. */
int store_settle_due(struct sq_store *s, const char *id, time_t now)
{
	struct expire e = { id, 0 };
	struct policy p;
	int rc = store_read_policy(s, id, &p);

	if (rc || p.state != REQ_PENDING || now < p.deadline)
		return rc;
	e.at = p.deadline;
	return sq_write(s, expire_txn, &e);
}

static int read_row(struct sq_store *s, const char *id, struct store_request *r,
		    int full)
{
	sqlite3_stmt *st = sq_stmt(s, Q_GET_REQ);
	const unsigned char *facts;
	int rc;

	if (!st || sq_bind_text(st, 1, id)) {
		sq_done(st);
		return sq_error(s, "read request");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sq_col_text(st, 0, r->id, sizeof(r->id));
		sq_col_text(st, 1, r->key, sizeof(r->key));
		sq_col_text(st, 2, r->gate, sizeof(r->gate));
		r->state = store_state_from_name((const char *)sqlite3_column_text(st, 3));
		r->created = (time_t)sqlite3_column_int64(st, 4);
		r->deadline = (time_t)sqlite3_column_int64(st, 5);
		r->decided_at = (time_t)sqlite3_column_int64(st, 6);
		facts = full ? sqlite3_column_text(st, 7) : NULL;
		if (full)
			r->facts_json = xstrdup(facts ? (const char *)facts : "{}");
		r->notified = sqlite3_column_int(st, 8);
		sq_col_text(st, 9, r->tenant, sizeof(r->tenant));
		sq_col_text(st, 10, r->subject, sizeof(r->subject));
	}
	sq_done(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(s, "read request");
}

static void decision_from_row(sqlite3_stmt *st, struct store_decision *d)
{
	sq_col_text(st, 0, d->email, sizeof(d->email));
	sq_col_text(st, 1, d->team, sizeof(d->team));
	d->approve = sqlite3_column_int(st, 2);
	sq_col_text(st, 3, d->reason, sizeof(d->reason));
	d->at = (time_t)sqlite3_column_int64(st, 4);
	sq_col_text(st, 5, d->remote_addr, sizeof(d->remote_addr));
	sq_col_text(st, 6, d->user_agent, sizeof(d->user_agent));
	sq_col_text(st, 7, d->token, sizeof(d->token));
}

static int read_decisions(struct sq_store *s, struct store_request *r)
{
	sqlite3_stmt *st = sq_stmt(s, Q_GET_DECISIONS);
	int rc;

	if (!st || sq_bind_text(st, 1, r->id)) {
		sq_done(st);
		return sq_error(s, "read decisions");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->decisions = xrealloc(r->decisions, (r->ndecisions + 1) *
					sizeof(*r->decisions));
		decision_from_row(st, &r->decisions[r->ndecisions++]);
	}
	sq_done(st);
	return rc == SQLITE_DONE ? STORE_OK : sq_error(s, "read decisions");
}

static int read_teams(struct sq_store *s, struct store_request *r)
{
	sqlite3_stmt *st = sq_stmt(s, Q_GET_TEAMS);
	struct store_team_state *t;
	int rc;

	if (!st || sq_bind_text(st, 1, r->id)) {
		sq_done(st);
		return sq_error(s, "read teams");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->teams = xrealloc(r->teams, (r->nteams + 1) * sizeof(*t));
		t = &r->teams[r->nteams++];
		sq_col_text(st, 0, t->name, sizeof(t->name));
		t->approvals = sqlite3_column_int(st, 1);
		t->approved = sqlite3_column_int(st, 2);
	}
	sq_done(st);
	return rc == SQLITE_DONE ? STORE_OK : sq_error(s, "read teams");
}

static int read_asked(struct sq_store *s, struct store_request *r)
{
	sqlite3_stmt *st = sq_stmt(s, Q_GET_ASKED);
	struct store_asked *a;
	int rc;

	if (!st || sq_bind_text(st, 1, r->id)) {
		sq_done(st);
		return sq_error(s, "read recipients");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->asked = xrealloc(r->asked, (r->nasked + 1) * sizeof(*a));
		a = &r->asked[r->nasked++];
		sq_col_text(st, 0, a->email, sizeof(a->email));
		sq_col_text(st, 1, a->team, sizeof(a->team));
	}
	sq_done(st);
	return rc == SQLITE_DONE ? STORE_OK : sq_error(s, "read recipients");
}

/* Fill *r with everything about request id (inside a transaction); without
 * `full`, leave out the facts and who was asked. */
static int read_some(struct sq_store *s, const char *id, struct store_request *r,
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

int store_read_request(struct sq_store *s, const char *id,
		       struct store_request *r)
{
	return read_some(s, id, r, 1);
}

/* One read transaction; *due says the request is pending past its
 * deadline (*out is then released and due holds the deadline). */
static int read_once(struct sq_store *s, const char *id, time_t now,
		     struct store_request *out, int full, time_t *due)
{
	int rc;

	*due = 0;
	if (sq_begin(s, 0))
		return STORE_ERROR;
	rc = sq_finish(s, read_some(s, id, out, full));
	if (rc == STORE_OK && out->state == REQ_PENDING && now >= out->deadline) {
		*due = out->deadline;
		store_request_release(out);
	}
	return rc;
}

/* Read a request, settling it first if it is pending past its deadline.
 * The common case is one read transaction. */
static int get_request(struct sq_store *s, const char *id, time_t now,
		       struct store_request *out, int full)
{
	struct expire e = { id, 0 };
	time_t due;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!store_text_ok(id, sizeof(out->id) - 1))
		return STORE_NOT_FOUND;
	rc = read_once(s, id, now, out, full, &due);
	if (rc || !due)
		return rc;
	e.at = due;
	rc = sq_write(s, expire_txn, &e);
	if (rc)
		return rc;
	return read_once(s, id, now, out, full, &due);
}

int sq_request_get(struct store *base, const char *id, time_t now,
		   struct store_request *out)
{
	struct sq_store *s = (struct sq_store *)base;
	return get_request(s, id, now, out, 1);
}

int sq_request_status(struct store *base, const char *id, time_t now,
		      struct store_request *out)
{
	struct sq_store *s = (struct sq_store *)base;
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
static int find_previous(struct sq_store *s, const char *tenant,
			 const char *subject, const char *id, char prev[33])
{
	sqlite3_stmt *st = sq_stmt(s, Q_PREVIOUS);
	int rc;

	if (!st || sq_bind_text(st, 1, tenant) || sq_bind_text(st, 2, subject) ||
	    sq_bind_text(st, 3, id)) {
		sq_done(st);
		return sq_error(s, "find previous request");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		sq_col_text(st, 0, prev, 33);
	sq_done(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : sq_error(s, "find previous request");
}

int sq_request_previous(struct store *base, const char *tenant,
			const char *subject, const char *id,
			struct store_request *out)
{
	struct sq_store *s = (struct sq_store *)base;
	char prev[33] = "";
	int rc;

	memset(out, 0, sizeof(*out));
	if (!subject || !*subject)
		return STORE_NOT_FOUND;
	if (sq_begin(s, 0))
		return STORE_ERROR;
	rc = sq_finish(s, find_previous(s, tenant ? tenant : "", subject,
					id ? id : "", prev));
	if (rc)
		return rc;
	return sq_request_get(base, prev, time(NULL), out);
}

/* ---- changing recipients -------------------------------------------------- */

/* New links have not been mailed yet: a re-run mails them if the gate that
 * asked for them dies before it could. */
static int clear_notified(struct sq_store *s, const char *id)
{
	sqlite3_stmt *st = sq_stmt(s, Q_CLEAR_NOTIFIED);

	if (!st || sq_bind_text(st, 1, id)) {
		sq_done(st);
		return sq_error(s, "mark not notified");
	}
	return sq_run(s, st, "mark not notified");
}

static int rekey_txn(struct sq_store *s, const char *id,
		     const struct store_recipient *recipients, size_t n)
{
	sqlite3_stmt *st;
	struct policy p;
	int rc = store_read_policy(s, id, &p);

	if (rc)
		return rc;
	if (p.state != REQ_PENDING)
		return STORE_GONE;
	st = sq_stmt(s, Q_DEL_RCPT);
	if (!st || sq_bind_text(st, 1, id)) {
		sq_done(st);
		return sq_error(s, "replace recipients");
	}
	rc = sq_run(s, st, "replace recipients");
	for (size_t i = 0; !rc && i < n; i++)
		rc = store_insert_recipient(s, id, &recipients[i]);
	return rc ? rc : clear_notified(s, id);
}

int store_check_recipients(const struct store_recipient *r, size_t n)
{
	if (!n || n > STORE_MAX_RECIPIENTS)
		return error("store: a request needs 1..%d recipients",
			     STORE_MAX_RECIPIENTS);
	for (size_t i = 0; i < n; i++)
		if (check_recipient(&r[i]))
			return STORE_ERROR;
	return 0;
}

struct rekey {
	const char *id;
	time_t deadline;		/* reopen only */
	const struct store_recipient *recipients;
	size_t n;
};

static int rekey_fn(struct sq_store *s, void *arg)
{
	const struct rekey *k = arg;

	return rekey_txn(s, k->id, k->recipients, k->n);
}

int sq_request_rekey(struct store *base, const char *id,
		     const struct store_recipient *recipients, size_t n)
{
	struct sq_store *s = (struct sq_store *)base;
	struct rekey k = { id, 0, recipients, n };

	if (!n || n > STORE_MAX_RECIPIENTS)
		return error("store: a request needs 1..%d recipients",
			     STORE_MAX_RECIPIENTS);
	for (size_t i = 0; i < n; i++)
		if (check_recipient(&recipients[i]))
			return STORE_ERROR;
	return sq_write(s, rekey_fn, &k);
}

struct notified {
	const char *id;
	int notified;
};

static int notified_txn(struct sq_store *s, void *arg)
{
	const struct notified *c = arg;
	sqlite3_stmt *st = sq_stmt(s, Q_SET_NOTIFIED);

	if (!st || sq_bind_text(st, 1, c->id) ||
	    sqlite3_bind_int(st, 2, c->notified ? 1 : 0)) {
		sq_done(st);
		return sq_error(s, "mark notified");
	}
	return sq_run(s, st, "mark notified");
}

int sq_recipient_adopt(struct store *base, const char *id, const char *email,
		       const char *team, const char *token_hash)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st;
	int rc, taken;

	if (!token_is_hex(token_hash, TOKEN_HEX_SIZE - 1))
		return error("store: a token hash is 64 hex digits");
	if (sq_begin(s, 1))
		return STORE_ERROR;
	st = sq_stmt(s, Q_ADOPT_RCPT);
	if (!st || sq_bind_text(st, 1, id) || sq_bind_text(st, 2, email) ||
	    sq_bind_text(st, 3, team) || sq_bind_text(st, 4, token_hash)) {
		sq_done(st);
		rc = sq_error(s, "adopt token");
	} else {
		rc = sq_run(s, st, "adopt token");
	}
	if (rc == STORE_OK && !sqlite3_changes(s->db))
		rc = STORE_NOT_FOUND;
	taken = rc == STORE_ERROR &&
		sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE;
	rc = sq_finish(s, rc);
	return taken ? STORE_CONFLICT : rc;
}

int sq_request_set_notified(struct store *base, const char *id, int notified)
{
	struct notified c = { id, notified };

	return sq_write((struct sq_store *)base, notified_txn, &c);
}

static int reopen_txn(struct sq_store *s, const char *id, time_t deadline,
		      const struct store_recipient *recipients, size_t n)
{
	sqlite3_stmt *st = sq_stmt(s, Q_REOPEN);
	int rc;

	if (!st || sq_bind_text(st, 1, id) ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)deadline)) {
		sq_done(st);
		return sq_error(s, "reopen request");
	}
	rc = sq_run(s, st, "reopen request");
	if (rc)
		return rc;
	if (sqlite3_changes(s->db) != 1)
		return STORE_GONE;
	return rekey_txn(s, id, recipients, n);
}

static int reopen_fn(struct sq_store *s, void *arg)
{
	const struct rekey *k = arg;

	return reopen_txn(s, k->id, k->deadline, k->recipients, k->n);
}

int sq_request_reopen(struct store *base, const char *id, time_t deadline,
		      const struct store_recipient *recipients, size_t n)
{
	struct sq_store *s = (struct sq_store *)base;
	struct rekey k = { id, deadline, recipients, n };

	if (!n || n > STORE_MAX_RECIPIENTS)
		return error("store: a request needs 1..%d recipients",
			     STORE_MAX_RECIPIENTS);
	for (size_t i = 0; i < n; i++)
		if (check_recipient(&recipients[i]))
			return STORE_ERROR;
	return sq_write(s, reopen_fn, &k);
}
/* ---- housekeeping ------------------------------------------------------------ */

struct settle {
	time_t now;
	long n;
};

static int settle_txn(struct sq_store *s, void *arg)
{
	struct settle *c = arg;
	sqlite3_stmt *st = sq_stmt(s, Q_SETTLE_DUE);

	if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)c->now)) {
		sq_done(st);
		return sq_error(s, "settle expired requests");
	}
	if (sq_run(s, st, "settle expired requests"))
		return STORE_ERROR;
	c->n = (long)sqlite3_changes(s->db);
	return STORE_OK;
}

int sq_settle_expired(struct store *base, time_t now, long *settled)
{
	struct settle c = { now, 0 };
	int rc = sq_write((struct sq_store *)base, settle_txn, &c);

	if (settled)
		*settled = rc ? 0 : c.n;
	return rc;
}

int sq_state_counts(struct store *base, long counts[4])
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = sq_stmt(s, Q_STATE_COUNTS);
	int rc;

	for (int i = 0; i < 4; i++)
		counts[i] = 0;
	if (!st)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		counts[store_state_from_name((const char *)sqlite3_column_text(st, 0))] =
			(long)sqlite3_column_int64(st, 1);
	sq_done(st);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	for (int i = 0; i < 4; i++)
		counts[i] = 0;
	return sq_error(s, "count requests");
}

struct prune {
	time_t before;
	long max;
	long pruned;
};

/* Bind (before, max) to the prune statements and run them in order. */
static int prune_txn(struct sq_store *s, void *arg)
{
	struct prune *c = arg;
	static const enum query order[] = { Q_PRUNE_DECISIONS, Q_PRUNE_RECIPIENTS,
					    Q_PRUNE_TEAMS, Q_PRUNE_NOTIFICATIONS,
					    Q_PRUNE_REQUESTS };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		sqlite3_stmt *st = sq_stmt(s, order[i]);

		if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)c->before) ||
		    sqlite3_bind_int64(st, 2, (sqlite3_int64)c->max)) {
			sq_done(st);
			return sq_error(s, "prune requests");
		}
		if (sq_run(s, st, "prune requests"))
			return STORE_ERROR;
	}
	c->pruned = (long)sqlite3_changes(s->db);	/* of the last: requests */
	return STORE_OK;
}

int sq_prune(struct store *base, time_t before, long max, long *pruned)
{
	struct prune c = { before, max, 0 };
	int rc;

	if (pruned)
		*pruned = 0;
	if (max < 1)
		return STORE_OK;
	rc = sq_write((struct sq_store *)base, prune_txn, &c);
	if (rc == STORE_OK && pruned)
		*pruned = c.pruned;
	return rc;
}

/* An integer PRAGMA's value, or -1 after reporting. */
static long pragma_int(struct sq_store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	else
		sq_error(s, sql);
	sqlite3_finalize(st);
	return v;
}

int sq_reclaim(struct store *base, long max_pages, long *freed)
{
	struct sq_store *s = (struct sq_store *)base;
	char sql[64];
	long mode, before, after;

	if (freed)
		*freed = 0;
	mode = pragma_int(s, "PRAGMA auto_vacuum");
	if (mode < 0)
		return STORE_ERROR;
	if (mode != 2 || max_pages < 1)	/* 2: incremental */
		return STORE_OK;
	before = pragma_int(s, "PRAGMA freelist_count");
	if (before < 0)
		return STORE_ERROR;
	if (!before)
		return STORE_OK;
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%ld);", max_pages);
	if (sq_exec(s, sql))
		return STORE_ERROR;
	after = pragma_int(s, "PRAGMA freelist_count");
	if (after < 0)
		return STORE_ERROR;
	if (freed)
		*freed = before - after;
	return STORE_OK;
}
