/* test_store_notify.c - unit tests for src/store_notify.c against a real
 * SQLite file: a notification is claimed once (also from a second
 * connection, as a re-run or a restarted relay would), an unclaimed one
 * can be claimed again, and escalation recipients added to a pending
 * request get working tokens that count toward their team's quorum.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store.h"
#include "token.h"

#define T0 1700000000

struct fixture {
	char dir[64], path[128];
	struct store *s;
	char id[33];
	char tok[2][TOKEN_SIZE];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_recipient r[2] = { { "a@example.com", "eng", "" },
					{ "b@example.com", "eng", "" } };
	char unused[TOKEN_SIZE];
	struct store_team t = { "eng", 2 };
	struct store_new_request nr = { 0 };
	struct store_request out;
	int created;

	strcpy(f->dir, "/tmp/gl-test-notify-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	f->s = store_open(f->path);
	assert_non_null(f->s);
	assert_int_equal(token_new(f->tok[0]), 0);
	assert_int_equal(token_hash(r[0].token_hash, f->tok[0]), 0);
	assert_int_equal(token_new(unused), 0);
	assert_int_equal(token_hash(r[1].token_hash, unused), 0);
	nr.key = "k1";
	nr.gate = "g";
	nr.facts_json = "{}";
	nr.created = T0;
	nr.deadline = T0 + 3600;
	nr.teams = &t;
	nr.nteams = 1;
	nr.recipients = r;
	nr.nrecipients = 2;
	/* approvals 2 of a@ and b@; b@ never answers, the escalation does */
	assert_int_equal(store_request_put(f->s, &nr, &out, &created), STORE_OK);
	strcpy(f->id, out.id);
	store_request_release(&out);
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

static void test_claim_once(void **state)
{
	struct fixture *f = *state;
	struct store *other;

	assert_int_equal(store_notify_claimed(f->s, f->id, "remind", "a@example.com", 1), 0);
	assert_int_equal(store_notify_claim(f->s, f->id, "remind", "a@example.com", 1, T0), 1);
	assert_int_equal(store_notify_claim(f->s, f->id, "remind", "a@example.com", 1, T0), 0);
	assert_int_equal(store_notify_claim(f->s, f->id, "remind", "A@Example.com", 1, T0), 0);
	assert_int_equal(store_notify_claimed(f->s, f->id, "remind", "a@example.com", 1), 1);
	/* another sequence, kind or recipient is another notification */
	assert_int_equal(store_notify_claim(f->s, f->id, "remind", "a@example.com", 2, T0), 1);
	assert_int_equal(store_notify_claim(f->s, f->id, "followup", "a@example.com", 1, T0), 1);
	assert_int_equal(store_notify_claim(f->s, f->id, "remind", "b@example.com", 1, T0), 1);
	/* a second connection (a re-run) sees the claims */
	other = store_open(f->path);
	assert_non_null(other);
	assert_int_equal(store_notify_claim(other, f->id, "remind", "a@example.com", 1, T0), 0);
	assert_int_equal(store_notify_unclaim(other, f->id, "remind", "a@example.com", 1), STORE_OK);
	store_close(other);
	assert_int_equal(store_notify_claim(f->s, f->id, "remind", "a@example.com", 1, T0), 1);
}

static void test_recipients_add(void **state)
{
	struct fixture *f = *state;
	struct store_recipient add = { "lead@example.com", "eng", "" };
	struct store_recipient bad = { "x@example.com", "nope", "" };
	struct store_review rv;
	struct store_request r;
	char old[TOKEN_SIZE];

	assert_int_equal(token_new(f->tok[1]), 0);
	assert_int_equal(token_hash(add.token_hash, f->tok[1]), 0);
	memcpy(bad.token_hash, add.token_hash, sizeof(bad.token_hash));
	assert_int_equal(store_recipients_add(f->s, f->id, &bad, 1), STORE_ERROR);
	assert_int_equal(store_recipients_add(f->s, f->id, &add, 1), STORE_OK);
	/* a new token for the same address replaces the old one */
	memcpy(old, f->tok[1], sizeof(old));
	assert_int_equal(token_new(f->tok[1]), 0);
	assert_int_equal(token_hash(add.token_hash, f->tok[1]), 0);
	assert_int_equal(store_recipients_add(f->s, f->id, &add, 1), STORE_OK);
	assert_int_equal(store_review_get(f->s, old, T0 + 1, &rv), STORE_NOT_FOUND);
	assert_int_equal(store_review_get(f->s, f->tok[1], T0 + 1, &rv), STORE_OK);
	assert_string_equal(rv.team, "eng");
	assert_string_equal(rv.email, "lead@example.com");
	/* both approvals: the escalated reviewer counts toward the quorum */
	assert_int_equal(store_decide(f->s, f->tok[1], rv.nonce, 1, "", "127.0.0.1", "t", T0 + 2), STORE_OK);
	store_review_release(&rv);
	assert_int_equal(store_review_get(f->s, f->tok[0], T0 + 3, &rv), STORE_OK);
	assert_int_equal(store_decide(f->s, f->tok[0], rv.nonce, 1, "", "127.0.0.1", "t", T0 + 3), STORE_OK);
	store_review_release(&rv);
	assert_int_equal(store_request_get(f->s, f->id, T0 + 4, &r), STORE_OK);
	assert_int_equal(r.state, REQ_APPROVED);
	assert_int_equal(r.nasked, 3);
	store_request_release(&r);
	/* nothing is added to a settled request */
	assert_int_equal(store_recipients_add(f->s, f->id, &add, 1), STORE_GONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_claim_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipients_add, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
