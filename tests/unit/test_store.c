/* test_store.c - unit tests for src/store.c against real SQLite files.
 *
 * Each test gets a fresh database in its own temporary directory (created
 * by store_open, so the 0700/0600 modes are checked too).  Tokens are real
 * ones from token.h; the store only ever sees their hashes.  Covered:
 * idempotent requests, quorum (distinct approvers, several teams, first
 * reject), self-approval (in every spelling of the author's address, and
 * with keep_tags), nonces, expiry, conflicts, the audit trail, durability
 * across a reopen, tenants, subjects and previous requests; baseline
 * documents (store_baseline.c) and the migration of a schema 4 database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "token.h"

#define T0 1700000000
#define DAY 86400
#define MAXR 4

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
	char tokens[MAXR][TOKEN_SIZE];
	struct store_recipient rcpt[MAXR];
	struct store_team teams[2];
	struct store_new_request nr;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/gl-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sub/state.db", f->dir);
	f->s = store_open(f->path);
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A request for one team "eng" needing `approvals` of a@, b@, c@. */
static void one_team(struct fixture *f, const char *key, int approvals)
{
	static const char *const who[] = {
		"a@example.com", "b@example.com", "c@example.com",
	};

	f->teams[0].name = "eng";
	f->teams[0].approvals = approvals;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(token_new(f->tokens[i]), 0);
		f->rcpt[i].email = who[i];
		f->rcpt[i].team = "eng";
		assert_int_equal(token_hash(f->rcpt[i].token_hash, f->tokens[i]), 0);
	}
	memset(&f->nr, 0, sizeof(f->nr));
	f->nr.key = key;
	f->nr.gate = "model-release";
	f->nr.facts_json = "{\"gate\":\"model-release\"}";
	f->nr.author_email = "Author@Example.com";
	f->nr.created = T0;
	f->nr.deadline = T0 + DAY;
	f->nr.teams = f->teams;
	f->nr.nteams = 1;
	f->nr.recipients = f->rcpt;
	f->nr.nrecipients = 3;
}

static void put(struct fixture *f, char id[33])
{
	struct store_request r;
	int created = -1;

	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_OK);
	assert_int_equal(created, 1);
	assert_int_equal(r.state, REQ_PENDING);
	strcpy(id, r.id);
	store_request_release(&r);
}

/* The nonce the review page would carry for token i. */
static void nonce_of(struct fixture *f, int i, char out[65])
{
	struct store_review rv;
	int rc = store_review_get(f->s, f->tokens[i], T0 + 1, &rv);

	assert_true(rc == STORE_OK || rc == STORE_GONE);
	strcpy(out, rv.nonce);
	store_review_release(&rv);
}

static int decide(struct fixture *f, int i, int approve)
{
	char nonce[65];

	nonce_of(f, i, nonce);
	return store_decide(f->s, f->tokens[i], nonce, approve, "because",
			    "127.0.0.1", "test-agent", T0 + 2);
}

static enum req_state state_of(struct fixture *f, const char *id,
			       size_t *ndecisions)
{
	struct store_request r;
	enum req_state st;

	assert_int_equal(store_request_get(f->s, id, T0 + 3, &r), STORE_OK);
	st = r.state;
	if (ndecisions)
		*ndecisions = r.ndecisions;
	store_request_release(&r);
	return st;
}

static void test_open_modes(void **state)
{
	struct fixture *f = *state;
	char sub[80];
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a second connection on the same file works (WAL, schema exists) */
	struct store *s2 = store_open(f->path);
	assert_non_null(s2);
	store_close(s2);
}

static void test_put_idempotent(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char id[33], id2[33];
	int created = -1;

	one_team(f, "key-1", 1);
	put(f, id);
	assert_int_equal(strlen(id), 32);
	/* same key again: the existing request, nothing new */
	f->nr.created = T0 + 60;
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_OK);
	assert_int_equal(created, 0);
	assert_string_equal(r.id, id);
	assert_string_equal(r.key, "key-1");
	assert_string_equal(r.gate, "model-release");
	assert_string_equal(r.facts_json, "{\"gate\":\"model-release\"}");
	assert_int_equal(r.created, T0);
	assert_int_equal(r.nteams, 1);
	assert_string_equal(r.teams[0].name, "eng");
	assert_int_equal(r.teams[0].approvals, 1);
	assert_int_equal(r.teams[0].approved, 0);
	assert_int_equal(r.nasked, 3);
	assert_string_equal(r.asked[2].email, "c@example.com");
	store_request_release(&r);
	/* another key: another request */
	one_team(f, "key-2", 1);
	put(f, id2);
	assert_string_not_equal(id2, id);
}

static void test_put_rejects_bad_input(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	int created;

	one_team(f, "k", 4);	/* 4 approvals, 3 people */
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_ERROR);
	one_team(f, "k", 1);
	f->rcpt[1].token_hash[5] = 'X';
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_ERROR);
	one_team(f, "k", 1);
	f->rcpt[2].team = "nope";
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_ERROR);
	one_team(f, "k", 1);
	f->nr.deadline = T0;
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_ERROR);
	one_team(f, "k", 1);
	f->rcpt[1].email = "a@EXAMPLE.com";	/* same person twice in a team */
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_ERROR);
	/* nothing half-written: the good request still goes in fresh */
	one_team(f, "k", 1);
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_OK);
	assert_int_equal(created, 1);
	store_request_release(&r);
}

static void test_quorum_two_distinct(void **state)
{
	struct fixture *f = *state;
	char id[33];
	size_t n;
	int recorded = -1;
	char nonce[65];

	one_team(f, "q2", 2);
	put(f, id);
	nonce_of(f, 0, nonce);
	assert_int_equal(store_decide_ex(f->s, f->tokens[0], nonce, 1, "", "::1",
					 "ua", T0 + 2, &recorded), STORE_OK);
	assert_int_equal(recorded, 1);
	assert_int_equal(state_of(f, id, &n), REQ_PENDING);
	assert_int_equal(n, 1);
	/* the same approver again counts once and adds no row */
	assert_int_equal(store_decide_ex(f->s, f->tokens[0], nonce, 1, "", "::1",
					 "ua", T0 + 2, &recorded), STORE_OK);
	assert_int_equal(recorded, 0);
	assert_int_equal(state_of(f, id, &n), REQ_PENDING);
	assert_int_equal(n, 1);
	assert_int_equal(decide(f, 1, 1), STORE_OK);
	assert_int_equal(state_of(f, id, &n), REQ_APPROVED);
	assert_int_equal(n, 2);
	/* decided: the third reviewer is too late */
	assert_int_equal(decide(f, 2, 1), STORE_GONE);
	assert_int_equal(decide(f, 2, 0), STORE_GONE);
}

static void test_multi_team(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char id[33];

	one_team(f, "multi", 1);
	f->teams[1].name = "research";
	f->teams[1].approvals = 1;
	f->rcpt[2].team = "research";
	f->nr.nteams = 2;
	put(f, id);
	assert_int_equal(decide(f, 0, 1), STORE_OK);
	assert_int_equal(decide(f, 1, 1), STORE_OK);	/* eng again */
	assert_int_equal(state_of(f, id, NULL), REQ_PENDING);
	assert_int_equal(decide(f, 2, 1), STORE_OK);	/* research */
	assert_int_equal(store_request_get(f->s, id, T0 + 3, &r), STORE_OK);
	assert_int_equal(r.state, REQ_APPROVED);
	assert_int_equal(r.decided_at, T0 + 2);
	assert_int_equal(r.teams[0].approved, 2);
	assert_int_equal(r.teams[1].approved, 1);
	store_request_release(&r);
}

static void test_first_reject_rejects(void **state)
{
	struct fixture *f = *state;
	char id[33];

	one_team(f, "rej", 2);
	put(f, id);
	assert_int_equal(decide(f, 0, 1), STORE_OK);
	assert_int_equal(decide(f, 1, 0), STORE_OK);
	assert_int_equal(state_of(f, id, NULL), REQ_REJECTED);
	assert_int_equal(decide(f, 2, 1), STORE_GONE);
}

static void test_self_approval(void **state)
{
	struct fixture *f = *state;
	struct store_review rv;
	char id[33];

	one_team(f, "self", 1);
	f->rcpt[0].email = "author@example.COM";
	put(f, id);
	assert_int_equal(store_review_get(f->s, f->tokens[0], T0, &rv), STORE_OK);
	assert_int_equal(rv.self, 1);
	assert_int_equal(rv.allow_self_approval, 0);
	store_review_release(&rv);
	assert_int_equal(decide(f, 0, 1), STORE_FORBIDDEN);
	assert_int_equal(state_of(f, id, NULL), REQ_PENDING);
	assert_int_equal(decide(f, 0, 0), STORE_OK);	/* may reject */
	assert_int_equal(state_of(f, id, NULL), REQ_REJECTED);

	one_team(f, "self-allowed", 1);
	f->rcpt[0].email = "author@example.com";
	f->nr.allow_self_approval = 1;
	put(f, id);
	assert_int_equal(decide(f, 0, 1), STORE_OK);
	assert_int_equal(state_of(f, id, NULL), REQ_APPROVED);
}

static void test_bad_nonce(void **state)
{
	struct fixture *f = *state;
	char id[33], nonce[65];
	size_t n;

	one_team(f, "nonce", 1);
	put(f, id);
	nonce_of(f, 0, nonce);
	assert_int_equal(strlen(nonce), 64);
	assert_int_equal(store_decide(f->s, f->tokens[0], NULL, 1, NULL, NULL,
				      NULL, T0 + 2), STORE_FORBIDDEN);
	assert_int_equal(store_decide(f->s, f->tokens[0], "", 1, NULL, NULL,
				      NULL, T0 + 2), STORE_FORBIDDEN);
	/* another reviewer's nonce does not fit this token */
	nonce_of(f, 1, nonce);
	assert_int_equal(store_decide(f->s, f->tokens[0], nonce, 1, NULL, NULL,
				      NULL, T0 + 2), STORE_FORBIDDEN);
	nonce_of(f, 0, nonce);
	nonce[63] = nonce[63] == '0' ? '1' : '0';
	assert_int_equal(store_decide(f->s, f->tokens[0], nonce, 1, NULL, NULL,
				      NULL, T0 + 2), STORE_FORBIDDEN);
	assert_int_equal(state_of(f, id, &n), REQ_PENDING);
	assert_int_equal(n, 0);
}

static void test_unknown_token(void **state)
{
	struct fixture *f = *state;
	struct store_review rv;
	char id[33], other[TOKEN_SIZE];

	one_team(f, "unknown", 1);
	put(f, id);
	assert_int_equal(token_new(other), 0);
	assert_int_equal(store_review_get(f->s, other, T0, &rv), STORE_NOT_FOUND);
	assert_int_equal(store_review_get(f->s, "short", T0, &rv), STORE_NOT_FOUND);
	assert_int_equal(store_decide(f->s, other, "x", 1, NULL, NULL, NULL, T0),
			 STORE_NOT_FOUND);
	assert_int_equal(store_request_get(f->s, "0123", T0,
					   &rv.req), STORE_NOT_FOUND);
}

static void test_expiry_settles(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	struct store_review rv;
	char id[33], nonce[65];

	one_team(f, "exp", 1);
	put(f, id);
	nonce_of(f, 0, nonce);
	assert_int_equal(store_request_get(f->s, id, T0 + DAY - 1, &r), STORE_OK);
	assert_int_equal(r.state, REQ_PENDING);
	store_request_release(&r);
	assert_int_equal(store_request_get(f->s, id, T0 + DAY, &r), STORE_OK);
	assert_int_equal(r.state, REQ_EXPIRED);
	assert_int_equal(r.decided_at, T0 + DAY);
	store_request_release(&r);
	/* persisted: reading "earlier" does not revive it */
	assert_int_equal(store_request_get(f->s, id, T0, &r), STORE_OK);
	assert_int_equal(r.state, REQ_EXPIRED);
	store_request_release(&r);
	assert_int_equal(store_review_get(f->s, f->tokens[1], T0, &rv), STORE_GONE);
	assert_int_equal(rv.req.state, REQ_EXPIRED);
	store_review_release(&rv);
	assert_int_equal(store_decide(f->s, f->tokens[0], nonce, 1, NULL, NULL,
				      NULL, T0 + 5), STORE_GONE);
}

static void test_expiry_on_decide(void **state)
{
	struct fixture *f = *state;
	char id[33], nonce[65];

	one_team(f, "exp2", 1);
	put(f, id);
	nonce_of(f, 0, nonce);
	assert_int_equal(store_decide(f->s, f->tokens[0], nonce, 1, NULL, NULL,
				      NULL, T0 + DAY + 1), STORE_GONE);
	assert_int_equal(state_of(f, id, NULL), REQ_EXPIRED);
}

static void test_conflict_and_repeat(void **state)
{
	struct fixture *f = *state;
	struct store_review rv;
	char id[33];
	size_t n;

	one_team(f, "conflict", 2);
	put(f, id);
	assert_int_equal(decide(f, 0, 1), STORE_OK);
	assert_int_equal(decide(f, 0, 1), STORE_OK);
	assert_int_equal(decide(f, 0, 0), STORE_CONFLICT);
	assert_int_equal(state_of(f, id, &n), REQ_PENDING);
	assert_int_equal(n, 1);
	assert_int_equal(store_review_get(f->s, f->tokens[0], T0, &rv), STORE_OK);
	assert_int_equal(rv.already, 1);
	assert_int_equal(rv.already_approve, 1);
	store_review_release(&rv);
	/* after a reject decided it, the rejecter's repeat is still OK */
	assert_int_equal(decide(f, 1, 0), STORE_OK);
	assert_int_equal(decide(f, 1, 0), STORE_OK);
	assert_int_equal(decide(f, 1, 1), STORE_CONFLICT);
	assert_int_equal(state_of(f, id, &n), REQ_REJECTED);
	assert_int_equal(n, 2);
}

static void test_audit_cleaned(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char id[33], nonce[65], reason[5000], ua[600];

	one_team(f, "audit", 1);
	put(f, id);
	nonce_of(f, 0, nonce);
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	memcpy(reason, "ok\r\nBcc: x@evil\x01\x7f", 18);
	memset(ua, 'u', sizeof(ua) - 1);
	ua[sizeof(ua) - 1] = '\0';
	assert_int_equal(store_decide(f->s, f->tokens[0], nonce, 0, reason,
				      "203.0.113.9", ua, T0 + 7), STORE_OK);
	assert_int_equal(store_request_get(f->s, id, T0 + 8, &r), STORE_OK);
	assert_int_equal(r.ndecisions, 1);
	assert_string_equal(r.decisions[0].email, "a@example.com");
	assert_string_equal(r.decisions[0].team, "eng");
	assert_int_equal(r.decisions[0].approve, 0);
	assert_int_equal(r.decisions[0].at, T0 + 7);
	assert_string_equal(r.decisions[0].remote_addr, "203.0.113.9");
	assert_true(strlen(r.decisions[0].reason) <= STORE_REASON_MAX);
	assert_memory_equal(r.decisions[0].reason, "ok Bcc: x@evil", 14);
	assert_null(strpbrk(r.decisions[0].reason, "\r\n\x01\x7f"));
	assert_true(strlen(r.decisions[0].user_agent) <= STORE_UA_MAX);
	store_request_release(&r);
}

static void test_durable_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char id[33];

	one_team(f, "durable", 1);
	put(f, id);
	assert_int_equal(decide(f, 1, 1), STORE_OK);
	store_close(f->s);
	f->s = store_open(f->path);
	assert_non_null(f->s);
	assert_int_equal(store_request_get(f->s, id, T0 + 9, &r), STORE_OK);
	assert_int_equal(r.state, REQ_APPROVED);
	assert_int_equal(r.ndecisions, 1);
	assert_string_equal(r.decisions[0].email, "b@example.com");
	assert_string_equal(r.decisions[0].reason, "because");
	assert_string_equal(r.decisions[0].user_agent, "test-agent");
	assert_string_equal(r.decisions[0].remote_addr, "127.0.0.1");
	store_request_release(&r);
}

/* A process that dies right after store_decide() returned (no close, no
 * checkpoint) must not lose the decision. */
static void test_durable_after_crash(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char id[33], nonce[65];
	int status;
	pid_t pid;

	one_team(f, "crash", 1);
	put(f, id);
	nonce_of(f, 2, nonce);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *child = store_open(f->path);

		_exit(child && store_decide(child, f->tokens[2], nonce, 0, "no",
					    NULL, NULL, T0 + 5) == STORE_OK ?
		      0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	store_close(f->s);
	f->s = store_open(f->path);
	assert_non_null(f->s);
	assert_int_equal(store_request_get(f->s, id, T0 + 9, &r), STORE_OK);
	assert_int_equal(r.state, REQ_REJECTED);
	assert_int_equal(r.ndecisions, 1);
	assert_string_equal(r.decisions[0].reason, "no");
	store_request_release(&r);
}

/* Three processes approve at once, each on its own connection: BEGIN
 * IMMEDIATE serialises them, every decision lands, quorum settles once. */
static void test_concurrent_deciders(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char id[33], nonce[3][65];
	pid_t pid[3];
	int status;

	one_team(f, "concurrent", 3);
	f->nr.author_email = NULL;
	put(f, id);
	for (int i = 0; i < 3; i++)
		nonce_of(f, i, nonce[i]);
	for (int i = 0; i < 3; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			struct store *child = store_open(f->path);

			_exit(child && store_decide(child, f->tokens[i], nonce[i],
						    1, NULL, NULL, NULL,
						    T0 + 5) == STORE_OK ? 0 : 1);
		}
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(store_request_get(f->s, id, T0 + 9, &r), STORE_OK);
	assert_int_equal(r.state, REQ_APPROVED);
	assert_int_equal(r.ndecisions, 3);
	assert_int_equal(r.teams[0].approved, 3);
	store_request_release(&r);
}

static void test_two_connections(void **state)
{
	struct fixture *f = *state;
	struct store *other = store_open(f->path);
	char id[33], nonce[65];

	assert_non_null(other);
	one_team(f, "two", 1);
	put(f, id);
	nonce_of(f, 2, nonce);
	assert_int_equal(store_decide(other, f->tokens[2], nonce, 1, NULL, NULL,
				      NULL, T0 + 4), STORE_OK);
	assert_int_equal(state_of(f, id, NULL), REQ_APPROVED);
	store_close(other);
}

static void test_rekey(void **state)
{
	struct fixture *f = *state;
	struct store_review rv;
	char id[33], old[TOKEN_SIZE];

	one_team(f, "rekey", 1);
	put(f, id);
	strcpy(old, f->tokens[0]);
	assert_int_equal(token_new(f->tokens[0]), 0);
	assert_int_equal(token_hash(f->rcpt[0].token_hash, f->tokens[0]), 0);
	assert_int_equal(store_request_rekey(f->s, id, f->rcpt, 3), STORE_OK);
	assert_int_equal(store_review_get(f->s, old, T0, &rv), STORE_NOT_FOUND);
	assert_int_equal(store_review_get(f->s, f->tokens[0], T0, &rv), STORE_OK);
	assert_string_equal(rv.email, "a@example.com");
	assert_string_equal(rv.req.id, id);
	store_review_release(&rv);
	assert_int_equal(decide(f, 0, 0), STORE_OK);
	assert_int_equal(store_request_rekey(f->s, id, f->rcpt, 3), STORE_GONE);
	assert_int_equal(store_request_rekey(f->s, "feedfeedfeedfeedfeedfeedfeedfeed",
					     f->rcpt, 3), STORE_NOT_FOUND);
}

/* A request id given by the caller (derived from the gate secret), and a
 * reviewer's row taking the hash of a token verified another way
 * (store_recipient_adopt): the old hash stops, the new one decides, a
 * decision already made stays, unknown reviewers are not found. */
static void test_given_id_and_adopt(void **state)
{
	struct fixture *f = *state;
	struct store_review rv;
	char id[33], fresh[TOKEN_SIZE], hash[TOKEN_HEX_SIZE];

	one_team(f, "adopt", 2);
	f->nr.id = "0123456789abcdef0123456789ABCDEF";
	{
		struct store_request r;
		int created;

		assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_ERROR);
	}
	f->nr.id = "0123456789abcdef0123456789abcdef";
	put(f, id);
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	assert_int_equal(token_new(fresh), 0);
	assert_int_equal(token_hash(hash, fresh), 0);
	assert_int_equal(store_recipient_adopt(f->s, id, "A@example.com", "eng", hash), STORE_OK);
	assert_int_equal(store_review_get(f->s, f->tokens[0], T0, &rv), STORE_NOT_FOUND);
	store_review_release(&rv);
	strcpy(f->tokens[0], fresh);
	assert_int_equal(decide(f, 0, 1), STORE_OK);
	assert_int_equal(state_of(f, id, NULL), REQ_PENDING);
	/* adopting again (a later run) keeps the decision */
	assert_int_equal(store_recipient_adopt(f->s, id, "a@example.com", "eng", hash), STORE_OK);
	assert_int_equal(store_review_get(f->s, fresh, T0 + 1, &rv), STORE_OK);
	assert_int_equal(rv.already, 1);
	store_review_release(&rv);
	assert_int_equal(store_recipient_adopt(f->s, id, "z@example.com", "eng", hash), STORE_NOT_FOUND);
	assert_int_equal(store_recipient_adopt(f->s, id, "a@example.com", "ops", hash), STORE_NOT_FOUND);
	assert_int_equal(store_recipient_adopt(f->s, id, "b@example.com", "eng", "xyz"), STORE_ERROR);
	/* another reviewer's hash is refused, nothing changes */
	assert_int_equal(store_recipient_adopt(f->s, id, "b@example.com", "eng", hash), STORE_CONFLICT);
	assert_int_equal(decide(f, 1, 1), STORE_OK);
	assert_int_equal(state_of(f, id, NULL), REQ_APPROVED);
}

static void test_notified_flag(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char id[33];

	one_team(f, "notified", 1);
	put(f, id);
	assert_int_equal(store_request_get(f->s, id, T0, &r), STORE_OK);
	assert_int_equal(r.notified, 0);
	store_request_release(&r);
	assert_int_equal(store_request_set_notified(f->s, id, 1), STORE_OK);
	store_close(f->s);
	f->s = store_open(f->path);	/* durable */
	assert_non_null(f->s);
	assert_int_equal(store_request_get(f->s, id, T0, &r), STORE_OK);
	assert_int_equal(r.notified, 1);
	store_request_release(&r);
}

static void test_reopen_expired(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char id[33], old[TOKEN_SIZE];

	one_team(f, "reopen", 2);
	put(f, id);
	assert_int_equal(decide(f, 1, 1), STORE_OK);	/* one approval of two */
	assert_int_equal(store_request_reopen(f->s, id, T0 + 2 * DAY, f->rcpt, 3), STORE_GONE);
	assert_int_equal(store_request_get(f->s, id, T0 + DAY, &r), STORE_OK);
	assert_int_equal(r.state, REQ_EXPIRED);
	store_request_release(&r);
	strcpy(old, f->tokens[0]);
	assert_int_equal(token_new(f->tokens[0]), 0);
	assert_int_equal(token_hash(f->rcpt[0].token_hash, f->tokens[0]), 0);
	assert_int_equal(store_request_reopen(f->s, id, T0 + 2 * DAY, f->rcpt, 3), STORE_OK);
	assert_int_equal(store_request_get(f->s, id, T0 + DAY + 1, &r), STORE_OK);
	assert_int_equal(r.state, REQ_PENDING);
	assert_int_equal(r.deadline, T0 + 2 * DAY);
	assert_int_equal(r.notified, 0);
	assert_int_equal(r.ndecisions, 1);	/* the earlier approval stays */
	store_request_release(&r);
	assert_int_equal(decide(f, 0, 1), STORE_OK);	/* the second approver */
	assert_int_equal(state_of(f, id, NULL), REQ_APPROVED);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(req_state_name(REQ_PENDING), "pending");
	assert_string_equal(req_state_name(REQ_APPROVED), "approved");
	assert_string_equal(req_state_name(REQ_REJECTED), "rejected");
	assert_string_equal(req_state_name(REQ_EXPIRED), "expired");
}

/* ---- tenants, subjects, previous requests ------------------------------- */

#define SUBJ_A "1111111111111111111111111111111111111111111111111111111111111111"
#define SUBJ_B "2222222222222222222222222222222222222222222222222222222222222222"

static void put_as(struct fixture *f, const char *key, const char *tenant,
		   const char *subject, time_t created, char id[33])
{
	one_team(f, key, 1);
	f->nr.tenant = tenant;
	f->nr.subject = subject;
	f->nr.repository = "https://git.example.com/acme/model.git";
	f->nr.created = created;
	f->nr.deadline = created + DAY;
	put(f, id);
}

static void test_tenant_and_subject(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char a[33], b[33], c[33];
	int created = -1;

	put_as(f, "tk-1", "alpha", SUBJ_A, T0, a);
	assert_int_equal(store_request_get(f->s, a, T0 + 1, &r), STORE_OK);
	assert_string_equal(r.tenant, "alpha");
	assert_string_equal(r.subject, SUBJ_A);
	store_request_release(&r);
	/* another tenant's request is its own (the relay scopes keys by
	 * tenant before they reach the store) */
	put_as(f, "tk-1-beta", "beta", SUBJ_A, T0, b);
	assert_string_not_equal(a, b);
	assert_int_equal(store_request_get(f->s, b, T0 + 1, &r), STORE_OK);
	assert_string_equal(r.tenant, "beta");
	store_request_release(&r);
	/* the same key again is alpha's request, not a new one */
	one_team(f, "tk-1", 1);
	f->nr.tenant = "alpha";
	f->nr.subject = SUBJ_A;
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_OK);
	assert_int_equal(created, 0);
	assert_string_equal(r.id, a);
	assert_string_equal(r.tenant, "alpha");
	store_request_release(&r);
	/* no tenant (a gate's own store) and no subject read back empty */
	put_as(f, "tk-2", NULL, NULL, T0, c);
	assert_int_equal(store_request_get(f->s, c, T0 + 1, &r), STORE_OK);
	assert_string_equal(r.tenant, "");
	assert_string_equal(r.subject, "");
	store_request_release(&r);
	/* a subject that is no digest, a tenant with a control character */
	one_team(f, "tk-3", 1);
	f->nr.subject = "XYZ";
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_ERROR);
	one_team(f, "tk-3", 1);
	f->nr.tenant = "al\npha";
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_ERROR);
}

static void test_previous(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char a1[33], a2[33], a3[33], b1[33], other[33];

	put_as(f, "pv-1", "alpha", SUBJ_A, T0, a1);
	/* nothing before the first */
	assert_int_equal(store_request_previous(f->s, "alpha", SUBJ_A, a1, &r),
			 STORE_NOT_FOUND);
	put_as(f, "pv-2", "alpha", SUBJ_A, T0 + 100, a2);
	put_as(f, "pv-b", "beta", SUBJ_A, T0 + 200, b1);	/* newer, beta's */
	put_as(f, "pv-o", "alpha", SUBJ_B, T0 + 300, other);	/* newer, other subject */
	put_as(f, "pv-3", "alpha", SUBJ_A, T0 + 150, a3);

	/* the newest other request of alpha's subject A, read in full */
	assert_int_equal(store_request_previous(f->s, "alpha", SUBJ_A, a3, &r),
			 STORE_OK);
	assert_string_equal(r.id, a2);
	assert_string_equal(r.tenant, "alpha");
	assert_string_equal(r.subject, SUBJ_A);
	assert_non_null(r.facts_json);
	assert_int_equal(r.nasked, 3);
	store_request_release(&r);
	/* for a2, the newest other one is a3 */
	assert_int_equal(store_request_previous(f->s, "alpha", SUBJ_A, a2, &r),
			 STORE_OK);
	assert_string_equal(r.id, a3);
	store_request_release(&r);
	/* beta's only request of subject A has no predecessor in beta */
	assert_int_equal(store_request_previous(f->s, "beta", SUBJ_A, b1, &r),
			 STORE_NOT_FOUND);
	/* a new beta request finds beta's, never alpha's */
	assert_int_equal(store_request_previous(f->s, "beta", SUBJ_A, "", &r),
			 STORE_OK);
	assert_string_equal(r.id, b1);
	store_request_release(&r);
	/* another tenant, another subject, no subject: nothing */
	assert_int_equal(store_request_previous(f->s, "gamma", SUBJ_A, "", &r),
			 STORE_NOT_FOUND);
	assert_int_equal(store_request_previous(f->s, "alpha", SUBJ_B, other, &r),
			 STORE_NOT_FOUND);
	assert_int_equal(store_request_previous(f->s, "alpha", "", a1, &r),
			 STORE_NOT_FOUND);
	assert_int_equal(store_request_previous(f->s, "alpha", NULL, a1, &r),
			 STORE_NOT_FOUND);
	/* the gate's own store: tenant "" */
	put_as(f, "pv-g1", NULL, SUBJ_B, T0, a1);
	put_as(f, "pv-g2", NULL, SUBJ_B, T0 + 1, a2);
	assert_int_equal(store_request_previous(f->s, NULL, SUBJ_B, a2, &r),
			 STORE_OK);
	assert_string_equal(r.id, a1);
	store_request_release(&r);
}

/* ---- self-approval in its spellings ----------------------------------------- */

/* Whether reviewer (asked as recipient 0) may approve a change by author. */
static int self_case(struct fixture *f, const char *key, const char *author,
		     const char *reviewer, int keep_tags, int *self)
{
	struct store_review rv;
	char id[33];
	int rc;

	one_team(f, key, 1);
	f->rcpt[0].email = reviewer;
	f->nr.author_email = author;
	f->nr.keep_tags = keep_tags;
	put(f, id);
	assert_int_equal(store_review_get(f->s, f->tokens[0], T0, &rv), STORE_OK);
	*self = rv.self;
	store_review_release(&rv);
	rc = decide(f, 0, 1);
	assert_int_equal(state_of(f, id, NULL),
			 rc == STORE_OK ? REQ_APPROVED : REQ_PENDING);
	return rc;
}

static void test_self_approval_spellings(void **state)
{
	struct fixture *f = *state;
	static const char *const authors[] = {
		" ENG0@example.com", "<eng0@example.com>", "eng0+ci@example.com",
		"Eng Zero <Eng0@Example.com>", "\"eng0@example.com\"",
		"ci@example.com, eng0@example.com",
		"ci@example.com,  <ENG0+bot@example.com> ",
	};
	char key[32];
	int self;

	for (size_t i = 0; i < sizeof(authors) / sizeof(authors[0]); i++) {
		snprintf(key, sizeof(key), "sp-%zu", i);
		assert_int_equal(self_case(f, key, authors[i], "eng0@example.com",
					   0, &self), STORE_FORBIDDEN);
		assert_int_equal(self, 1);
	}
	/* the reviewer's address carries the tag */
	assert_int_equal(self_case(f, "sp-tag", "eng0@example.com",
				   "eng0+x@example.com", 0, &self), STORE_FORBIDDEN);
	assert_int_equal(self, 1);
	/* keep_tags: a +tag is someone else's mailbox ... */
	assert_int_equal(self_case(f, "kt-1", "eng0@example.com",
				   "eng0+x@example.com", 1, &self), STORE_OK);
	assert_int_equal(self, 0);
	assert_int_equal(self_case(f, "kt-2", "eng0+ci@example.com",
				   "eng0@example.com", 1, &self), STORE_OK);
	assert_int_equal(self, 0);
	/* ... but the other spellings are still the author */
	assert_int_equal(self_case(f, "kt-3", " <ENG0@example.com>",
				   "eng0@example.com", 1, &self), STORE_FORBIDDEN);
	assert_int_equal(self, 1);
	assert_int_equal(self_case(f, "kt-4", "Eng0+X@Example.com",
				   "eng0+x@example.com", 1, &self), STORE_FORBIDDEN);
	/* someone else is never the author */
	assert_int_equal(self_case(f, "other", "eng0@example.com",
				   "eng1@example.com", 0, &self), STORE_OK);
	assert_int_equal(self, 0);
	assert_int_equal(self_case(f, "none", NULL, "eng0@example.com", 0, &self),
			 STORE_OK);
	assert_int_equal(self, 0);
}

/* ---- baselines ---------------------------------------------------------- */

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccc"
#define REPO "https://git.example.com/acme/model.git"

struct found {
	size_t n, idx[8];
	char doc[8][64];
	size_t stop_after;		/* 0: never stop */
};

static int collect_doc(void *ud, size_t i, const char *doc, size_t len)
{
	struct found *fd = ud;

	assert_true(fd->n < 8);
	assert_int_equal(strlen(doc), len);
	fd->idx[fd->n] = i;
	snprintf(fd->doc[fd->n], sizeof(fd->doc[0]), "%s", doc);
	fd->n++;
	return fd->stop_after && fd->n >= fd->stop_after;
}

static struct found lookup3(struct store *s, const char *tenant,
			    const char *repo, const char *gate, size_t stop)
{
	const char *commits[3] = { SHA_C, SHA_B, SHA_A };
	struct found fd;

	memset(&fd, 0, sizeof(fd));
	fd.stop_after = stop;
	assert_int_equal(store_baseline_lookup(s, tenant, repo, gate, commits, 3,
					       collect_doc, &fd), STORE_OK);
	return fd;
}

static void test_baseline_put_lookup(void **state)
{
	struct fixture *f = *state;
	struct found fd;

	assert_int_equal(store_baseline_put(f->s, "alpha", REPO, "g", SHA_A,
					    "{\"v\":1}", T0), STORE_OK);
	assert_int_equal(store_baseline_put(f->s, "alpha", REPO, "g", SHA_C,
					    "{\"v\":3}", T0), STORE_OK);
	/* in the order of the commits asked, only those that have one */
	fd = lookup3(f->s, "alpha", REPO, "g", 0);
	assert_int_equal(fd.n, 2);
	assert_int_equal(fd.idx[0], 0);
	assert_string_equal(fd.doc[0], "{\"v\":3}");
	assert_int_equal(fd.idx[1], 2);
	assert_string_equal(fd.doc[1], "{\"v\":1}");
	/* the callback stops the lookup */
	fd = lookup3(f->s, "alpha", REPO, "g", 1);
	assert_int_equal(fd.n, 1);
	/* recording again replaces */
	assert_int_equal(store_baseline_put(f->s, "alpha", REPO, "g", SHA_A,
					    "{\"v\":10}", T0 + 1), STORE_OK);
	fd = lookup3(f->s, "alpha", REPO, "g", 0);
	assert_int_equal(fd.n, 2);
	assert_string_equal(fd.doc[1], "{\"v\":10}");
	/* another tenant, repository or gate finds nothing */
	assert_int_equal(lookup3(f->s, "beta", REPO, "g", 0).n, 0);
	assert_int_equal(lookup3(f->s, "alpha", REPO "x", "g", 0).n, 0);
	assert_int_equal(lookup3(f->s, "alpha", REPO, "h", 0).n, 0);
	/* and writes its own row: alpha's stays */
	assert_int_equal(store_baseline_put(f->s, "beta", REPO, "g", SHA_A,
					    "{\"v\":99}", T0), STORE_OK);
	fd = lookup3(f->s, "alpha", REPO, "g", 0);
	assert_string_equal(fd.doc[1], "{\"v\":10}");
	fd = lookup3(f->s, "beta", REPO, "g", 0);
	assert_int_equal(fd.n, 1);
	assert_string_equal(fd.doc[0], "{\"v\":99}");
}

static void test_baseline_refuses(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(STORE_MAX_BASELINE + 2);

	assert_non_null(big);
	memset(big, 'x', STORE_MAX_BASELINE + 1);
	big[STORE_MAX_BASELINE + 1] = '\0';
	assert_int_equal(store_baseline_put(f->s, "alpha", REPO, "g", "abc",
					    "{}", T0), STORE_ERROR);
	assert_int_equal(store_baseline_put(f->s, "alpha", REPO, "g",
					    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "{}", T0),
			 STORE_ERROR);
	assert_int_equal(store_baseline_put(f->s, "", REPO, "g", SHA_A, "{}", T0),
			 STORE_ERROR);
	assert_int_equal(store_baseline_put(f->s, "alpha", "a\nb", "g", SHA_A,
					    "{}", T0), STORE_ERROR);
	assert_int_equal(store_baseline_put(f->s, "alpha", REPO, "g", SHA_A, "",
					    T0), STORE_ERROR);
	assert_int_equal(store_baseline_put(f->s, "alpha", REPO, "g", SHA_A, big,
					    T0), STORE_ERROR);
	free(big);
	assert_int_equal(lookup3(f->s, "alpha", REPO, "g", 0).n, 0);
}

static int user_version_of(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* A schema 4 database (as written before baselines) with a request in it
 * opens as the current schema (6), keeps the request and stores baselines. */
static void test_baseline_migrates_v4(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	sqlite3 *db = NULL;
	int created;

	one_team(f, "key-v4", 1);
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_OK);
	store_request_release(&r);
	store_close(f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE baselines;"
				      "DROP TABLE notifications;"
				      "DROP TABLE resumes; DROP TRIGGER resumes_prune;"
				      "DROP TRIGGER request_counts_insert;"
				      "DROP TRIGGER request_counts_update;"
				      "DROP TRIGGER request_counts_delete;"
				      "DROP TABLE request_counts;"
				      "DROP INDEX requests_settled;"
				      "PRAGMA user_version = 4;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(user_version_of(f->path), 4);
	f->s = store_open(f->path);
	assert_non_null(f->s);
	assert_int_equal(user_version_of(f->path), 8);
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_OK);
	assert_int_equal(created, 0);
	store_request_release(&r);
	assert_int_equal(store_baseline_put(f->s, "alpha", REPO, "g", SHA_B,
					    "{\"v\":2}", T0), STORE_OK);
	assert_int_equal(lookup3(f->s, "alpha", REPO, "g", 0).n, 1);
}

/* ---- retention and counts (schema 6) ---- */

/* One integer from SQL on a separate connection (what is really stored). */
static long sql_long(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The maintained counts equal a COUNT(*) of the rows, state by state. */
static void counts_match_rows(struct fixture *f, const long want[4])
{
	static const char *const sql[4] = {
		"SELECT COUNT(*) FROM requests WHERE state = 'pending'",
		"SELECT COUNT(*) FROM requests WHERE state = 'approved'",
		"SELECT COUNT(*) FROM requests WHERE state = 'rejected'",
		"SELECT COUNT(*) FROM requests WHERE state = 'expired'",
	};
	long n[4];

	assert_int_equal(store_state_counts(f->s, n), STORE_OK);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(n[i], sql_long(f->path, sql[i]));
		assert_int_equal(n[i], want[i]);
	}
}

/* A request of one team needing one approval, key `key`, created at t. */
static void put_at(struct fixture *f, const char *key, time_t t, char id[33])
{
	one_team(f, key, 1);
	f->nr.created = t;
	f->nr.deadline = t + DAY;
	put(f, id);
}

static int decide_at(struct fixture *f, int i, int approve, time_t now)
{
	struct store_review rv;
	char nonce[65];
	int rc = store_review_get(f->s, f->tokens[i], now, &rv);

	assert_true(rc == STORE_OK || rc == STORE_GONE);
	strcpy(nonce, rv.nonce);
	store_review_release(&rv);
	return store_decide(f->s, f->tokens[i], nonce, approve, "r", "127.0.0.1",
			    "ua", now);
}

/* Counts follow every change: register, approve, reject, expire (by the
 * sweep and by a read), reopen, a repeated decision, prune, and a reopen of
 * the database; they are never recounted. */
static void test_counts_maintained(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char a[33], b[33], c[33], d[33], e[33];
	long n, zero[4] = { 0, 0, 0, 0 };

	counts_match_rows(f, zero);
	put_at(f, "c-a", T0, a);
	put_at(f, "c-b", T0, b);
	put_at(f, "c-c", T0, c);
	put_at(f, "c-d", T0, d);
	counts_match_rows(f, (long[4]){ 4, 0, 0, 0 });
	/* the fixture's tokens are those of the last request, d */
	assert_int_equal(decide_at(f, 0, 1, T0 + 10), STORE_OK);
	counts_match_rows(f, (long[4]){ 3, 1, 0, 0 });
	assert_int_equal(decide_at(f, 0, 1, T0 + 11), STORE_OK);	/* repeat */
	counts_match_rows(f, (long[4]){ 3, 1, 0, 0 });
	put_at(f, "c-e", T0, e);
	assert_int_equal(decide_at(f, 1, 0, T0 + 12), STORE_OK);	/* reject e */
	counts_match_rows(f, (long[4]){ 3, 1, 1, 0 });
	/* a read past the deadline settles one, the sweep the others */
	assert_int_equal(store_request_get(f->s, a, T0 + DAY, &r), STORE_OK);
	store_request_release(&r);
	counts_match_rows(f, (long[4]){ 2, 1, 1, 1 });
	assert_int_equal(store_settle_expired(f->s, T0 + DAY, &n), STORE_OK);
	assert_int_equal(n, 2);
	counts_match_rows(f, (long[4]){ 0, 1, 1, 3 });
	/* reopening an expired request makes it pending again */
	one_team(f, "c-b-new", 1);
	assert_int_equal(store_request_reopen(f->s, b, T0 + 3 * DAY, f->rcpt, 3),
			 STORE_OK);
	counts_match_rows(f, (long[4]){ 1, 1, 1, 2 });
	/* pruning what was settled by T0 + DAY: a and c (expired at T0 + DAY),
	 * d and e (decided at T0 + 10 and + 12); b is pending again */
	assert_int_equal(store_prune(f->s, T0 + DAY, 100, &n), STORE_OK);
	assert_int_equal(n, 4);
	counts_match_rows(f, (long[4]){ 1, 0, 0, 0 });
	/* and they survive a reopen of the database: nothing is recounted */
	store_close(f->s);
	f->s = store_open(f->path);
	assert_non_null(f->s);
	counts_match_rows(f, (long[4]){ 1, 0, 0, 0 });
	assert_int_equal(decide_at(f, 2, 0, T0 + DAY + 5), STORE_OK);	/* b */
	counts_match_rows(f, (long[4]){ 0, 0, 1, 0 });
}

/* Pruning deletes only settled requests decided at or before the cutoff,
 * with all their rows, oldest first and at most `max` at a time; pending
 * requests (however old) and baselines stay; a pruned key registers anew. */
static void test_prune(void **state)
{
	struct fixture *f = *state;
	struct store_request r;
	char old1[33], old2[33], recent[33], pend[33];
	long n;
	int created;

	put_at(f, "p-old1", T0, old1);
	assert_int_equal(decide_at(f, 0, 1, T0 + 100), STORE_OK);
	put_at(f, "p-old2", T0, old2);
	assert_int_equal(decide_at(f, 1, 0, T0 + 200), STORE_OK);
	put_at(f, "p-recent", T0, recent);
	assert_int_equal(decide_at(f, 2, 1, T0 + 5000), STORE_OK);
	one_team(f, "p-pending", 1);		/* old, still pending */
	f->nr.created = T0 - 30 * DAY;
	f->nr.deadline = T0 + 30 * DAY;
	put(f, pend);
	assert_int_equal(store_baseline_put(f->s, "alpha", REPO, "g", SHA_B,
					    "{\"v\":1}", T0 - 60 * DAY), STORE_OK);
	assert_int_equal(sql_long(f->path, "SELECT COUNT(*) FROM decisions"), 3);

	assert_int_equal(store_prune(f->s, T0 + 99, 100, &n), STORE_OK);
	assert_int_equal(n, 0);					/* none that old */
	assert_int_equal(store_prune(f->s, T0 + 4999, 1, &n), STORE_OK);
	assert_int_equal(n, 1);					/* max 1: oldest */
	assert_int_equal(store_request_get(f->s, old1, T0 + 6000, &r), STORE_NOT_FOUND);
	assert_int_equal(store_request_get(f->s, old2, T0 + 6000, &r), STORE_OK);
	store_request_release(&r);
	assert_int_equal(store_prune(f->s, T0 + 4999, 100, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_request_get(f->s, old2, T0 + 6000, &r), STORE_NOT_FOUND);
	assert_int_equal(store_request_get(f->s, recent, T0 + 6000, &r), STORE_OK);
	assert_int_equal(r.ndecisions, 1);
	store_request_release(&r);
	/* the children went with them: only recent's and pend's rows stay */
	assert_int_equal(sql_long(f->path, "SELECT COUNT(*) FROM decisions"), 1);
	assert_int_equal(sql_long(f->path, "SELECT COUNT(*) FROM teams"), 2);
	assert_int_equal(sql_long(f->path, "SELECT COUNT(*) FROM recipients"), 6);
	assert_int_equal(sql_long(f->path, "SELECT COUNT(*) FROM requests"), 2);
	/* the pending one is never pruned, however far the cutoff */
	assert_int_equal(store_prune(f->s, T0 + 365 * DAY, 100, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_request_get(f->s, pend, T0 + 6000, &r), STORE_OK);
	assert_int_equal(r.state, REQ_PENDING);
	store_request_release(&r);
	assert_int_equal(sql_long(f->path, "SELECT COUNT(*) FROM baselines"), 1);
	assert_int_equal(sql_long(f->path, "SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
	/* a pruned key is free again: the same registration is a new request */
	one_team(f, "p-old1", 1);
	assert_int_equal(store_request_put(f->s, &f->nr, &r, &created), STORE_OK);
	assert_int_equal(created, 1);
	assert_string_not_equal(r.id, old1);
	store_request_release(&r);
}

/* A new database is created with auto_vacuum=INCREMENTAL, so pages freed
 * by pruning go back to the file system with store_reclaim(). */
static void test_reclaim(void **state)
{
	struct fixture *f = *state;
	char id[33], key[32];
	static char facts[48 * 1024];
	long n, freed, pages;

	assert_int_equal(sql_long(f->path, "PRAGMA auto_vacuum"), 2);
	memset(facts, 'x', sizeof(facts) - 3);
	facts[0] = '"';
	facts[sizeof(facts) - 3] = '"';
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "big-%d", i);
		one_team(f, key, 1);
		f->nr.facts_json = facts;
		put(f, id);
	}
	assert_int_equal(store_settle_expired(f->s, T0 + DAY, &n), STORE_OK);
	assert_int_equal(n, 40);
	pages = sql_long(f->path, "PRAGMA page_count");
	assert_int_equal(store_prune(f->s, T0 + DAY, 1000, &n), STORE_OK);
	assert_int_equal(n, 40);
	assert_true(sql_long(f->path, "PRAGMA freelist_count") > 100);
	assert_int_equal(store_reclaim(f->s, 100000, &freed), STORE_OK);
	assert_true(freed > 100);
	assert_int_equal(sql_long(f->path, "PRAGMA freelist_count"), 0);
	assert_true(sql_long(f->path, "PRAGMA page_count") < pages - 100);
	assert_int_equal(store_reclaim(f->s, 100000, &freed), STORE_OK);
	assert_int_equal(freed, 0);
}

/* A schema 5 database with requests in every state gets counts that match
 * its rows when it is migrated to schema 6. */
static void test_counts_migrate_v5(void **state)
{
	struct fixture *f = *state;
	char a[33], b[33], c[33];
	sqlite3 *db = NULL;
	long n;

	put_at(f, "m-a", T0, a);
	assert_int_equal(decide_at(f, 0, 1, T0 + 1), STORE_OK);
	put_at(f, "m-b", T0, b);
	put_at(f, "m-c", T0 + DAY, c);
	assert_int_equal(store_settle_expired(f->s, T0 + DAY, &n), STORE_OK);
	store_close(f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE notifications;"
				      "DROP TABLE resumes; DROP TRIGGER resumes_prune;"
				      "DROP TRIGGER request_counts_insert;"
				      "DROP TRIGGER request_counts_update;"
				      "DROP TRIGGER request_counts_delete;"
				      "DROP TABLE request_counts;"
				      "DROP INDEX requests_settled;"
				      "PRAGMA user_version = 5;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	f->s = store_open(f->path);
	assert_non_null(f->s);
	assert_int_equal(user_version_of(f->path), 8);
	counts_match_rows(f, (long[4]){ 1, 1, 0, 1 });
}

/* store_open() picks the backend from its argument; URLs are printed
 * without their password. */
static void test_backend_dispatch(void **state)
{
	struct fixture *f = *state;
	char out[256];
	struct store *pg;

	assert_string_equal(store_backend(f->s), "sqlite");
	assert_int_equal(store_shared(f->s), 0);
	assert_true(store_is_url("postgresql://gl@db/relay"));
	assert_true(store_is_url("postgres://db/relay"));
	assert_false(store_is_url("POSTGRESQL://db/relay"));
	assert_false(store_is_url("postgresql:relay"));
	assert_false(store_is_url("/var/lib/greenlight/relay.db"));
	assert_false(store_is_url(NULL));
	store_redact("postgresql://gl:hunter2@db:5432/relay?sslmode=require", out,
		     sizeof(out));
	assert_string_equal(out, "postgresql://gl:***@db:5432/relay?sslmode=require");
	store_redact("postgres://db/relay?user=gl&password=hunter2&x=1", out,
		     sizeof(out));
	assert_string_equal(out, "postgres://db/relay?user=gl&password=***&x=1");
	store_redact("postgres://gl@db/a@b", out, sizeof(out));
	assert_string_equal(out, "postgres://gl@db/a@b");
	store_redact("relay.db", out, sizeof(out));
	assert_string_equal(out, "relay.db");
	/* nothing listens on port 1: NULL, and no file named like the URL */
	pg = store_open("postgresql://gl:hunter2@127.0.0.1:1/relay");
	assert_null(pg);
	assert_int_equal(store_unavailable(), 1);
	assert_int_equal(access("postgresql:", F_OK), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_modes),
		T(test_notified_flag),
		T(test_reopen_expired),
		T(test_put_idempotent),
		T(test_put_rejects_bad_input),
		T(test_quorum_two_distinct),
		T(test_multi_team),
		T(test_first_reject_rejects),
		T(test_self_approval),
		T(test_bad_nonce),
		T(test_unknown_token),
		T(test_expiry_settles),
		T(test_expiry_on_decide),
		T(test_conflict_and_repeat),
		T(test_audit_cleaned),
		T(test_durable_reopen),
		T(test_durable_after_crash),
		T(test_concurrent_deciders),
		T(test_two_connections),
		T(test_rekey),
		T(test_given_id_and_adopt),
		T(test_given_id_and_adopt),
		T(test_state_names),
		T(test_tenant_and_subject),
		T(test_previous),
		T(test_self_approval_spellings),
		T(test_baseline_put_lookup),
		T(test_baseline_refuses),
		T(test_baseline_migrates_v4),
		T(test_counts_maintained),
		T(test_prune),
		T(test_reclaim),
		T(test_counts_migrate_v5),
		T(test_backend_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
