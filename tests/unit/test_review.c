/* test_review.c - unit tests for src/review.c.
 *
 * The review built from a real verdict: fired tests with value, threshold,
 * how far over, baseline and change; teams with quorum, who was asked and
 * the rule that routed them; the commit link.  The JSON round trip (what
 * the store and the relay keep, and what the page reads back), facts of
 * older versions and hostile facts.  The headline and the subject (at
 * most 60 characters, metric first), and repository names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gate.h"
#include "review.h"
#include "verdict.h"

static struct gate gate;
static struct verdict v;
static cJSON *input;

#define SEED \
	"{\"version\": 1, \"name\": \"model-release\", \"match\": \"all\", \"choices\": [" \
	"{\"Variable\": \"$.accuracypct\", \"NumericLessThan\": 96, \"Next\": \"research\"}," \
	"{\"Variable\": \"$.latencyMs\", \"NumericGreaterThan\": 80, \"Next\": \"engineering\"}," \
	"{\"Variable\": \"$.p95\", \"NumericGreaterThanPath\": \"$.slo\", \"Next\": \"engineering\"}]," \
	"\"default\": \"pass\", \"teams\": {" \
	"\"research\": {\"email\": [\"research@example.com\", \"lead@example.com\"], \"approvals\": 2}," \
	"\"engineering\": {\"email\": [\"engineering@example.com\"]}}}"

static void decide(const char *results)
{
	struct choice_error err;
	const cJSON **values;

	input = cJSON_Parse(results);
	assert_non_null(input);
	assert_int_equal(gate_load_text(&gate, "g.json", SEED, strlen(SEED)), 0);
	values = calloc(gate.choices.npaths + 1, sizeof(*values));
	assert_non_null(values);
	choice_bind_tree(&gate.choices, input, NULL, values);
	assert_int_equal(verdict_compute(&v, &gate, values, &err), 0);
	free(values);
}

static int teardown(void **state)
{
	(void)state;
	verdict_release(&v);
	gate_release(&gate);
	cJSON_Delete(input);
	input = NULL;
	return 0;
}

static void build(struct review *rv, const cJSON *context)
{
	struct review_source src = { 0 };

	src.context = context;
	src.repository = "https://github.com/acme/model.git";
	src.sha = "3f2a9c1b7e40d1c2b3a4f5e6d7c8b9a0f1e2d3c4";
	src.author = "Ada Dev";
	src.author_email = "ada@example.com";
	src.subject = "Speed up the model";
	src.commit_url_base = "https://github.com/acme/model/commit/";
	src.run_url = "https://github.com/acme/model/actions/runs/42";
	src.deadline = 1700000000;
	review_build(rv, &gate, &v, &src);
}

static void test_build(void **state)
{
	cJSON *ctx = cJSON_Parse("{\"Baseline\":{\"latencyMs\":180},\"Delta\":{\"latencyMs\":45},"
				 "\"DeltaPct\":{\"latencyMs\":25}}");
	struct review rv;
	(void)state;

	decide("{\"accuracypct\": 95.1, \"latencyMs\": 225, \"p95\": 3, \"slo\": 2}");
	build(&rv, ctx);
	assert_string_equal(rv.gate, "model-release");
	assert_string_equal(rv.repository, "acme/model");
	assert_int_equal(rv.ntests, 3);
	assert_string_equal(rv.tests[0].metric, "accuracypct");
	assert_string_equal(rv.tests[0].op, "<");
	assert_string_equal(rv.tests[0].over, "-0.9%");
	assert_string_equal(rv.tests[0].baseline, "");
	assert_string_equal(rv.tests[1].variable, "$.latencyMs");
	assert_string_equal(rv.tests[1].value, "225");
	assert_string_equal(rv.tests[1].threshold, "80");
	assert_string_equal(rv.tests[1].over, "+181%");
	assert_string_equal(rv.tests[1].baseline, "180");
	assert_string_equal(rv.tests[1].change, "+45 (+25%)");
	assert_string_equal(rv.tests[1].next, "engineering");
	assert_string_equal(rv.tests[2].threshold, "$.slo");	/* a path: no "over" */
	assert_string_equal(rv.tests[2].over, "");
	assert_int_equal(rv.nteams, 2);
	assert_string_equal(rv.teams[0].name, "research");
	assert_int_equal(rv.teams[0].approvals, 2);
	assert_int_equal(rv.teams[0].nasked, 2);
	assert_string_equal(rv.teams[0].asked[1], "lead@example.com");
	assert_string_equal(rv.teams[0].why, "$.accuracypct < 96");
	assert_string_equal(rv.teams[1].why, "$.latencyMs > 80; $.p95 > $.slo");
	assert_string_equal(rv.commit_url,
			    "https://github.com/acme/model/commit/3f2a9c1b7e40d1c2b3a4f5e6d7c8b9a0f1e2d3c4");
	assert_ptr_equal(review_team(&rv, "engineering"), &rv.teams[1]);
	assert_null(review_team(&rv, "nobody"));
	review_release(&rv);
	cJSON_Delete(ctx);
}

static void test_round_trip(void **state)
{
	struct review rv, back;
	cJSON *j, *j2;
	char *a, *b;
	(void)state;

	decide("{\"accuracypct\": 95.1, \"latencyMs\": 225, \"p95\": 1, \"slo\": 2}");
	build(&rv, NULL);
	j = review_to_json(&rv);
	review_from_json(&back, j);
	j2 = review_to_json(&back);
	a = cJSON_PrintUnformatted(j);
	b = cJSON_PrintUnformatted(j2);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\"deadline\":\"2023-11-14T22:13:20Z\""));
	assert_int_equal(back.deadline, 1700000000);
	free(a), free(b);
	cJSON_Delete(j), cJSON_Delete(j2);
	review_release(&rv);
	review_release(&back);
}

/* Facts written before the review model (no quorum, no name, "team"), and
 * facts of the wrong shape: shown as far as they go, never a crash. */
static void test_from_older_and_hostile(void **state)
{
	cJSON *old = cJSON_Parse("{\"gate\":\"g\",\"teams\":[\"eng\",7],"
				 "\"rules\":[{\"metric\":\"$.latencyMs\",\"value\":225,\"op\":\">\","
				 "\"threshold\":80,\"team\":\"eng\"},{\"value\":1},\"x\"],"
				 "\"commit\":{\"sha\":\"abc\"},\"deadline\":\"not a time\"}");
	cJSON *bad = cJSON_Parse("{\"gate\":[],\"rules\":{},\"quorum\":[{\"name\":\"t\","
				 "\"approvals\":1e9,\"asked\":[1,\"a@b\"]}],\"commit\":\"x\"}");
	struct review rv;
	char h[256];
	(void)state;

	review_from_json(&rv, old);
	assert_int_equal(rv.ntests, 1);
	assert_string_equal(rv.tests[0].metric, "latencyMs");
	assert_string_equal(rv.tests[0].value, "225");
	assert_string_equal(rv.tests[0].next, "eng");
	assert_int_equal(rv.nteams, 1);
	assert_int_equal(rv.teams[0].approvals, 1);
	assert_string_equal(rv.sha, "abc");
	assert_int_equal(rv.deadline, 0);
	assert_string_equal(review_headline(&rv, h, sizeof(h)), "latencyMs 225 > 80");
	review_release(&rv);
	review_from_json(&rv, bad);
	assert_string_equal(rv.gate, "");
	assert_int_equal(rv.ntests, 0);
	assert_int_equal(rv.teams[0].approvals, 1);
	assert_int_equal(rv.teams[0].nasked, 1);
	assert_null(rv.sha);
	review_release(&rv);
	review_from_json(&rv, NULL);
	assert_int_equal(rv.ntests + rv.nteams, 0);
	review_release(&rv);
	cJSON_Delete(old);
	cJSON_Delete(bad);
}

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void test_headline_subject(void **state)
{
	cJSON *ctx = cJSON_Parse("{\"Baseline\":{\"latencyMs\":180},\"Delta\":{\"latencyMs\":45},"
				 "\"DeltaPct\":{\"latencyMs\":25}}");
	struct review rv;
	char h[256], s[4 * REVIEW_SUBJECT_MAX + 1];
	(void)state;

	decide("{\"accuracypct\": 99, \"latencyMs\": 225, \"p95\": 1, \"slo\": 2}");
	build(&rv, ctx);
	assert_string_equal(review_headline(&rv, h, sizeof(h)),
			    "latencyMs 225 > 80 (+181%), baseline 180: +45 (+25%)");
	assert_string_equal(review_subject(&rv, s, sizeof(s)),
			    "acme/model: latencyMs 225 > 80 \xe2\x80\x94 review");
	/* long names are cut with an ellipsis; never more than 60 characters */
	free(rv.repository);
	rv.repository = strdup("a-very-long-organisation-name/an-even-longer-repository");
	free(rv.tests[0].metric);
	rv.tests[0].metric = strdup("metrics.latency.p99.milliseconds.\xc3\xa9t\xc3\xa9");
	review_subject(&rv, s, sizeof(s));
	assert_true(chars(s) <= REVIEW_SUBJECT_MAX);
	assert_non_null(strstr(s, "\xe2\x80\xa6"));
	assert_non_null(strstr(s, " \xe2\x80\x94 review"));
	assert_int_equal(strncmp(s, "a-very-long-organisatio\xe2\x80\xa6: ", 27), 0);
	review_release(&rv);
	cJSON_Delete(ctx);
}

static void test_repo_name(void **state)
{
	static const char *const cases[][2] = {
		{ "https://github.com/acme/model.git", "acme/model" },
		{ "https://gitlab.example.com/group/sub/project", "group/sub/project" },
		{ "git@github.com:acme/model.git", "acme/model" },
		{ "ssh://git@host:2222/acme/model.git/", "acme/model" },
		{ "acme/model", "acme/model" },
		{ "/home/ci/work/model", "model" },
	};
	char *n;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = review_repo_name(cases[i][0]);
		assert_non_null(n);
		assert_string_equal(n, cases[i][1]);
		free(n);
	}
	assert_null(review_repo_name(NULL));
	assert_null(review_repo_name(""));
	assert_null(review_repo_name("https://host"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_build, teardown),
		cmocka_unit_test_teardown(test_round_trip, teardown),
		cmocka_unit_test(test_from_older_and_hostile),
		cmocka_unit_test_teardown(test_headline_subject, teardown),
		cmocka_unit_test(test_repo_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
