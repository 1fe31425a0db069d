/* test_quorum.c - unit tests for src/quorum.c.
 *
 * Two teams, "eng" needing two approvers and "research" needing one.
 * Covered: approvals per team, distinct approvers (case folded), the first
 * reject, nothing after the request settled, self-approval in its address
 * spellings (counted only with allow_self; +tags kept apart with
 * keep_tags), votes for teams the gate does not have, and the approved
 * counts written back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "quorum.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct quorum_team teams[2];
static const struct quorum_policy none = { NULL, 0, 0 };

static void two_teams(void)
{
	teams[0] = (struct quorum_team){ "eng", 2, -7 };
	teams[1] = (struct quorum_team){ "research", 1, -7 };
}

static enum req_state settle(const struct quorum_vote *v, size_t n,
			     const struct quorum_policy *p)
{
	two_teams();
	return quorum_settle(teams, N(teams), v, n, p);
}

static void test_approvals_per_team(void **state)
{
	const struct quorum_vote v[] = {
		{ "a@example.com", "eng", 1 },
		{ "r@example.com", "research", 1 },
		{ "b@example.com", "eng", 1 },
	};
	(void)state;

	/* nothing yet: pending, counts zeroed */
	assert_int_equal(settle(v, 0, &none), REQ_PENDING);
	assert_int_equal(teams[0].approved, 0);
	assert_int_equal(teams[1].approved, 0);
	/* one of two for eng, research met: still pending */
	assert_int_equal(settle(v, 2, &none), REQ_PENDING);
	assert_int_equal(teams[0].approved, 1);
	assert_int_equal(teams[1].approved, 1);
	/* the second eng approver settles it */
	assert_int_equal(settle(v, 3, &none), REQ_APPROVED);
	assert_int_equal(teams[0].approved, 2);
	assert_int_equal(teams[1].approved, 1);
}

static void test_every_team_needed(void **state)
{
	const struct quorum_vote v[] = {
		{ "a@example.com", "eng", 1 },
		{ "b@example.com", "eng", 1 },
		{ "c@example.com", "eng", 1 },
	};
	(void)state;

	/* eng has more than enough; research has nobody */
	assert_int_equal(settle(v, N(v), &none), REQ_PENDING);
	assert_int_equal(teams[0].approved, 3);
	assert_int_equal(teams[1].approved, 0);
}

static void test_distinct_approvers(void **state)
{
	const struct quorum_vote v[] = {
		{ "a@example.com", "eng", 1 },
		{ "A@Example.COM", "eng", 1 },
		{ "a@example.com", "eng", 1 },
		{ "r@example.com", "research", 1 },
	};
	const struct quorum_vote both[] = {
		/* one person in both teams counts once in each */
		{ "a@example.com", "eng", 1 },
		{ "a@example.com", "research", 1 },
		{ "b@example.com", "eng", 1 },
	};
	(void)state;

	assert_int_equal(settle(v, N(v), &none), REQ_PENDING);
	assert_int_equal(teams[0].approved, 1);
	assert_int_equal(teams[1].approved, 1);
	assert_int_equal(settle(both, N(both), &none), REQ_APPROVED);
	assert_int_equal(teams[0].approved, 2);
	assert_int_equal(teams[1].approved, 1);
}

static void test_first_reject_rejects(void **state)
{
	const struct quorum_vote v[] = {
		{ "a@example.com", "eng", 1 },
		{ "r@example.com", "research", 0 },
		{ "b@example.com", "eng", 1 },
		{ "r2@example.com", "research", 1 },
	};
	const struct quorum_vote self_reject[] = {
		{ "author@example.com", "eng", 0 },
	};
	const struct quorum_policy author = { "author@example.com", 0, 0 };
	(void)state;

	assert_int_equal(settle(v, N(v), &none), REQ_REJECTED);
	/* counts are those at the reject */
	assert_int_equal(teams[0].approved, 1);
	assert_int_equal(teams[1].approved, 0);
	/* the author may not approve, but may reject */
	assert_int_equal(settle(self_reject, 1, &author), REQ_REJECTED);
}

static void test_nothing_after_settling(void **state)
{
	const struct quorum_vote v[] = {
		{ "a@example.com", "eng", 1 },
		{ "b@example.com", "eng", 1 },
		{ "r@example.com", "research", 1 },
		{ "c@example.com", "eng", 0 },		/* too late */
		{ "d@example.com", "eng", 1 },		/* too late */
	};
	const struct quorum_vote rej[] = {
		{ "r@example.com", "research", 0 },
		{ "a@example.com", "eng", 1 },		/* too late */
		{ "b@example.com", "eng", 1 },
		{ "r2@example.com", "research", 1 },
	};
	(void)state;

	assert_int_equal(settle(v, N(v), &none), REQ_APPROVED);
	assert_int_equal(teams[0].approved, 2);
	assert_int_equal(teams[1].approved, 1);
	assert_int_equal(settle(rej, N(rej), &none), REQ_REJECTED);
	assert_int_equal(teams[0].approved, 0);
	assert_int_equal(teams[1].approved, 0);
}

static void test_self_approval(void **state)
{
	/* the author's spellings, each approving for research */
	static const char *const variants[] = {
		"eng0@example.com", " ENG0@example.com", "<eng0@example.com>",
		"Eng Zero <Eng0@Example.com>", "eng0+ci@example.com",
		"eng0+x@example.com",
	};
	const struct quorum_policy p = { "author@example.com, eng0@example.com",
					 0, 0 };
	const struct quorum_policy allow = { "author@example.com, eng0@example.com",
					     1, 0 };
	const struct quorum_policy keep = { "author@example.com, eng0@example.com",
					    0, 1 };
	(void)state;

	for (size_t i = 0; i < N(variants); i++) {
		struct quorum_vote v[] = {
			{ variants[i], "research", 1 },
			{ "a@example.com", "eng", 1 },
			{ "b@example.com", "eng", 1 },
		};

		assert_int_equal(settle(v, N(v), &p), REQ_PENDING);
		assert_int_equal(teams[1].approved, 0);
		assert_int_equal(teams[0].approved, 2);
		assert_int_equal(settle(v, N(v), &allow), REQ_APPROVED);
		assert_int_equal(teams[1].approved, 1);
		/* keep_tags: only the tagged spellings are someone else */
		assert_int_equal(settle(v, N(v), &keep),
				 i >= 4 ? REQ_APPROVED : REQ_PENDING);
	}
	/* the person who started the run, listed second, with a display name */
	{
		const struct quorum_policy actor = {
			"author@example.com,Ci Bot <BOT@example.com>", 0, 0 };
		const struct quorum_vote v[] = {
			{ "bot+x@example.com", "research", 1 },
			{ "author@example.com", "eng", 1 },
			{ "a@example.com", "eng", 1 },
		};

		assert_int_equal(settle(v, N(v), &actor), REQ_PENDING);
		assert_int_equal(teams[0].approved, 1);
		assert_int_equal(teams[1].approved, 0);
	}
}

static void test_self_does_not_block_others(void **state)
{
	/* a self-approval that did not count leaves room for the real one */
	const struct quorum_vote v[] = {
		{ "Author@Example.com", "eng", 1 },
		{ "a@example.com", "eng", 1 },
		{ "r@example.com", "research", 1 },
		{ "b@example.com", "eng", 1 },
	};
	const struct quorum_policy p = { "author@example.com", 0, 0 };
	(void)state;

	assert_int_equal(settle(v, 3, &p), REQ_PENDING);
	assert_int_equal(teams[0].approved, 1);
	assert_int_equal(settle(v, N(v), &p), REQ_APPROVED);
	assert_int_equal(teams[0].approved, 2);
}

static void test_unknown_teams_ignored(void **state)
{
	const struct quorum_vote v[] = {
		{ "x@example.com", "ops", 0 },		/* a reject for no team */
		{ "a@example.com", "eng", 1 },
		{ "y@example.com", "Eng", 1 },		/* names are exact */
		{ "z@example.com", "", 1 },
		{ "b@example.com", "eng", 1 },
		{ "r@example.com", "research", 1 },
	};
	(void)state;

	assert_int_equal(settle(v, 4, &none), REQ_PENDING);
	assert_int_equal(teams[0].approved, 1);
	assert_int_equal(teams[1].approved, 0);
	assert_int_equal(settle(v, N(v), &none), REQ_APPROVED);
	assert_int_equal(teams[0].approved, 2);
	assert_int_equal(teams[1].approved, 1);
}

static void test_no_teams_never_approves(void **state)
{
	const struct quorum_vote v[] = { { "a@example.com", "eng", 1 } };
	struct quorum_team one = { "eng", 1, 5 };
	(void)state;

	assert_int_equal(quorum_settle(NULL, 0, v, N(v), &none), REQ_PENDING);
	/* one team, one approval: approved and counted */
	assert_int_equal(quorum_settle(&one, 1, v, N(v), &none), REQ_APPROVED);
	assert_int_equal(one.approved, 1);
	/* no votes: the stale count is reset */
	one.approved = 5;
	assert_int_equal(quorum_settle(&one, 1, v, 0, &none), REQ_PENDING);
	assert_int_equal(one.approved, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_approvals_per_team),
		cmocka_unit_test(test_every_team_needed),
		cmocka_unit_test(test_distinct_approvers),
		cmocka_unit_test(test_first_reject_rejects),
		cmocka_unit_test(test_nothing_after_settling),
		cmocka_unit_test(test_self_approval),
		cmocka_unit_test(test_self_does_not_block_others),
		cmocka_unit_test(test_unknown_teams_ignored),
		cmocka_unit_test(test_no_teams_never_approves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
