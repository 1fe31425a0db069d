/* test_baseline.c - unit tests for baseline documents (src/baseline.c):
 * the strict note parser (each refusal and its reason), merging a gate's
 * entry into a note, aggregation, the derived results paths and the
 * $$.Baseline / $$.Delta / $$.DeltaPct context objects, and what the relay
 * store takes from a lookup answer (baseline_relay_take).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "baseline.h"
#include "baseline_relay.h"
#include "choice.h"
#include "jsonpath.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"
#define DOC(gate, extra) "{\"version\":1,\"gate\":\"" gate "\",\"commit\":\"" SHA \
	"\",\"recorded\":\"2026-01-02T03:04:05Z\",\"outcome\":\"pass\",\"run_url\":null," \
	"\"values\":{\"$.latencyMs\":225,\"$['p(95)']\":0.5}" extra "}"

static int parse(const char *text, struct baseline_doc *d, int *found, char *err)
{
	return baseline_note_parse(text, strlen(text), "g", d, found, err, 256);
}

static void test_parse_valid(void **state)
{
	struct baseline_doc d;
	char err[256];
	int found;

	(void)state;
	assert_int_equal(parse("{\"g\":" DOC("g", "") ",\"h\":" DOC("h", "") "}", &d, &found, err), 0);
	assert_int_equal(found, 1);
	assert_string_equal(d.commit, SHA);
	assert_string_equal(d.outcome, "pass");
	assert_null(d.run_url);
	assert_int_equal(cJSON_GetObjectItem(d.values, "$.latencyMs")->valuedouble, 225);
	baseline_doc_release(&d);
	assert_int_equal(parse("{\"h\":" DOC("h", "") "}", &d, &found, err), 0);
	assert_int_equal(found, 0);
	assert_int_equal(parse("{}", &d, &found, err), 0);
	assert_int_equal(found, 0);
}

static void refused(const char *text, const char *reason)
{
	struct baseline_doc d;
	char err[256] = "";
	int found = 7;

	if (parse(text, &d, &found, err) != -1 || !strstr(err, reason)) {
		print_error("input %s\nerror \"%s\", expected \"%s\"\n", text, err, reason);
		fail();
	}
	assert_int_equal(found, 0);
	assert_null(d.gate);
}

static void test_parse_refuses(void **state)
{
	(void)state;
	refused("", "not valid JSON");
	refused("[]", "not a JSON object keyed by gate name");
	refused("{\"g\":1}", "is not an object");
	refused("{\"g\":" DOC("g", ",\"x\":1") "}", "unknown key \"x\"");
	refused("{\"g\":" DOC("h", "") "}", "\"gate\" must repeat the gate's name");
	refused("{\"g\":" DOC("g", "") ",\"g\":" DOC("g", "") "}", "not valid JSON");	/* duplicate */
	refused("{\"h\":" DOC("h", ",\"values\":1") "}", "not valid JSON");	/* duplicate key */
	refused("{\"g\":{\"version\":2}}", "\"version\" must be 1");
	refused("{\"g\":{\"version\":1,\"gate\":\"g\",\"commit\":\"ABC\"}}", "full lowercase commit id");
	refused("{\"g\":{\"version\":1,\"gate\":\"g\",\"commit\":\"" SHA "\",\"recorded\":\"yesterday\"}}",
		"RFC 3339");
	refused("{\"g\":{\"version\":1,\"gate\":\"g\",\"commit\":\"" SHA "\",\"recorded\":\"2026-01-02T03:04:05Z\",\"outcome\":\"review\"}}",
		"\"outcome\" must be \"pass\" or \"approved\"");
	refused("{\"g\":{\"version\":1,\"gate\":\"g\",\"commit\":\"" SHA "\",\"recorded\":\"2026-01-02T03:04:05Z\",\"outcome\":\"pass\",\"run_url\":\"a\\nb\"}}",
		"\"run_url\" must be a string without control characters");
	refused("{\"g\":{\"version\":1,\"gate\":\"g\",\"commit\":\"" SHA "\",\"recorded\":\"2026-01-02T03:04:05Z\",\"outcome\":\"pass\",\"values\":[]}}",
		"\"values\" must be an object");
	refused("{\"g\":{\"version\":1,\"gate\":\"g\",\"commit\":\"" SHA "\",\"recorded\":\"2026-01-02T03:04:05Z\",\"outcome\":\"pass\",\"values\":{\"latency\":1}}}",
		"is not a reference path");
	refused("{\"g\":{\"version\":1,\"gate\":\"g\",\"commit\":\"" SHA "\",\"recorded\":\"2026-01-02T03:04:05Z\",\"outcome\":\"pass\",\"values\":{\"$$.Git\":1}}}",
		"must start with $.");
	refused("{\"g\":{\"version\":1,\"gate\":\"g\",\"commit\":\"" SHA "\",\"recorded\":\"2026-01-02T03:04:05Z\",\"outcome\":\"pass\",\"values\":{\"$.a\":[[[[[[[[[[1]]]]]]]]]]}}}",
		"too long or too deep");
	refused("{\"\":{}}", "a gate name is empty");
}

static void test_parse_caps(void **state)
{
	size_t n = BASELINE_NOTE_MAX_BYTES + 1;
	char *big = malloc(n + 1), *many;
	struct baseline_doc d;
	char err[256];
	int found;
	size_t len;

	(void)state;
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	assert_int_equal(baseline_note_parse(big, n, "g", &d, &found, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than"));
	free(big);
	/* BASELINE_MAX_VALUES + 1 values */
	many = malloc(64 * 1024);
	len = (size_t)sprintf(many, "{\"g\":{\"version\":1,\"gate\":\"g\",\"commit\":\"" SHA "\",\"recorded\":\"2026-01-02T03:04:05Z\",\"outcome\":\"pass\",\"values\":{");
	for (int i = 0; i <= BASELINE_MAX_VALUES; i++)
		len += (size_t)sprintf(many + len, "%s\"$.v%d\":%d", i ? "," : "", i, i);
	strcpy(many + len, "}}}");
	refused(many, "more than 256 values");
	free(many);
}

static void test_merge(void **state)
{
	struct baseline_doc d, back;
	char err[256], *note, *again;
	int found;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.gate = "g";
	d.commit = SHA;
	d.recorded = "2026-01-02T03:04:05Z";
	d.outcome = "approved";
	d.run_url = "https://ci.example.com/1";
	d.values = cJSON_Parse("{\"$.latencyMs\":100}");
	note = baseline_note_merge("{\"h\":" DOC("h", "") "}", strlen("{\"h\":" DOC("h", "") "}"), &d, err, sizeof(err));
	assert_string_equal(err, "");
	assert_int_equal(baseline_note_parse(note, strlen(note), "h", &back, &found, err, sizeof(err)), 0);
	assert_int_equal(found, 1);	/* the other gate's entry is kept */
	baseline_doc_release(&back);
	cJSON_Delete(d.values);
	d.values = cJSON_Parse("{\"$.latencyMs\":200}");
	again = baseline_note_merge(note, strlen(note), &d, err, sizeof(err));
	assert_int_equal(baseline_note_parse(again, strlen(again), "g", &back, &found, err, sizeof(err)), 0);
	assert_int_equal(cJSON_GetObjectItem(back.values, "$.latencyMs")->valuedouble, 200);	/* replaced */
	assert_string_equal(back.outcome, "approved");
	assert_string_equal(back.run_url, "https://ci.example.com/1");
	baseline_doc_release(&back);
	free(again);
	free(note);
	/* a malformed note is replaced whole, with the reason */
	note = baseline_note_merge("garbage", 7, &d, err, sizeof(err));
	assert_non_null(strstr(err, "not valid JSON"));
	assert_int_equal(baseline_note_parse(note, strlen(note), "g", &back, &found, err, sizeof(err)), 0);
	assert_int_equal(found, 1);
	baseline_doc_release(&back);
	free(note);
	cJSON_Delete(d.values);
}

static void test_aggregate_numbers(void **state)
{
	double a[] = { 5, 1, 3 }, b[] = { 4, 1, 3, 2 }, c[] = { 5, 1, 3 };
	enum baseline_agg agg;

	(void)state;
	assert_true(baseline_aggregate_numbers(a, 3, AGG_MEDIAN) == 3);
	assert_true(baseline_aggregate_numbers(b, 4, AGG_MEDIAN) == 2.5);
	assert_true(baseline_aggregate_numbers(c, 3, AGG_LAST) == 5);
	assert_true(baseline_aggregate_numbers(c, 3, AGG_MEAN) == 3);
	assert_true(baseline_aggregate_numbers(c, 3, AGG_MIN) == 1);
	assert_true(baseline_aggregate_numbers(c, 3, AGG_MAX) == 5);
	assert_true(isnan(baseline_aggregate_numbers(c, 0, AGG_MEAN)));
	assert_int_equal(baseline_agg_parse("mean", &agg), 0);
	assert_int_equal(agg, AGG_MEAN);
	assert_int_equal(baseline_agg_parse("average", &agg), -1);
}

static void test_aggregate_docs(void **state)
{
	struct baseline_doc d[3];
	cJSON *v;

	(void)state;
	memset(d, 0, sizeof(d));
	d[0].values = cJSON_Parse("{\"$.a\":10,\"$.s\":\"new\"}");
	d[1].values = cJSON_Parse("{\"$.a\":30,\"$.s\":\"old\"}");
	d[2].values = cJSON_Parse("{\"$.a\":20}");
	v = baseline_aggregate(d, 3, "$.a", AGG_MEDIAN);
	assert_true(v->valuedouble == 20);
	cJSON_Delete(v);
	v = baseline_aggregate(d, 3, "$.a", AGG_LAST);
	assert_true(v->valuedouble == 10);	/* the nearest */
	cJSON_Delete(v);
	v = baseline_aggregate(d, 3, "$.s", AGG_MEDIAN);
	assert_string_equal(v->valuestring, "new");	/* not numbers: the nearest */
	cJSON_Delete(v);
	assert_null(baseline_aggregate(d, 3, "$.missing", AGG_MEDIAN));
	assert_null(baseline_aggregate(d, 0, "$.a", AGG_MEDIAN));
	for (int i = 0; i < 3; i++)
		cJSON_Delete(d[i].values);
}

static void test_context(void **state)
{
	const char *texts[] = { "$.latencyMs", "$['p(95)']", "$.zero", "$.name", "$.a.b[1]", "$.gone" };
	struct jpath p[6];
	cJSON *cur[6], *base[6], *ctx = cJSON_CreateObject();
	char err[256], *s;

	(void)state;
	for (int i = 0; i < 6; i++)
		assert_int_equal(jpath_parse(&p[i], texts[i], err, sizeof(err)), 0);
	cur[0] = cJSON_CreateNumber(250); base[0] = cJSON_CreateNumber(200);
	cur[1] = cJSON_CreateNumber(0.3); base[1] = cJSON_CreateNumber(0.4);
	cur[2] = cJSON_CreateNumber(3); base[2] = cJSON_CreateNumber(0);
	cur[3] = cJSON_CreateString("b"); base[3] = cJSON_CreateString("a");
	cur[4] = cJSON_CreateNumber(1); base[4] = cJSON_CreateNumber(2);
	cur[5] = cJSON_CreateNumber(1); base[5] = NULL;
	baseline_context(ctx, p, 6, (const cJSON *const *)cur, (const cJSON *const *)base);
	s = cJSON_PrintUnformatted(ctx);
	assert_string_equal(s,
		"{\"Baseline\":{\"latencyMs\":200,\"p(95)\":0.4,\"zero\":0,\"name\":\"a\",\"a\":{\"b\":[null,2]}},"
		"\"Delta\":{\"latencyMs\":50,\"p(95)\":-0.10000000000000003,\"zero\":3,\"a\":{\"b\":[null,-1]}},"
		"\"DeltaPct\":{\"latencyMs\":25,\"p(95)\":-25.000000000000007,\"a\":{\"b\":[null,-50]}}}");
	free(s);
	for (int i = 0; i < 6; i++) {
		cJSON_Delete(cur[i]);
		cJSON_Delete(base[i]);
		jpath_release(&p[i]);
	}
	cJSON_Delete(ctx);
}

/* What reports show next to a value: the baseline and the change of the
 * results path a rule's Variable is about, whichever of the four forms. */
static void test_view(void **state)
{
	cJSON *ctx = cJSON_Parse("{\"Baseline\":{\"latencyMs\":200,\"p(95)\":0.4,\"zero\":0,\"name\":\"a\"},"
				 "\"Delta\":{\"latencyMs\":50,\"p(95)\":-0.1,\"zero\":3},"
				 "\"DeltaPct\":{\"latencyMs\":25,\"p(95)\":-3.3333}}");
	static const char *const same[] = {
		"$.latencyMs", "$['latencyMs']", "$$.Baseline.latencyMs", "$$.Delta.latencyMs",
		"$$.DeltaPct.latencyMs", "$$['DeltaPct'].latencyMs",
	};
	struct baseline_view v;
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(baseline_view_of(ctx, same[i], &v), 1);
		assert_int_equal(v.baseline->valuedouble, 200);
		assert_string_equal(baseline_view_change(&v, text, sizeof(text)), "+50 (+25%)");
	}
	assert_string_equal(v.input, "$.latencyMs");
	assert_int_equal(baseline_view_of(ctx, "$['p(95)']", &v), 1);
	assert_string_equal(baseline_view_change(&v, text, sizeof(text)), "-0.1 (-3.3%)");
	assert_string_equal(v.input, "$['p(95)']");
	assert_int_equal(baseline_view_of(ctx, "$.zero", &v), 1);	/* no percentage of 0 */
	assert_string_equal(baseline_view_change(&v, text, sizeof(text)), "+3");
	assert_int_equal(baseline_view_of(ctx, "$.name", &v), 1);	/* not a number: no change */
	assert_string_equal(baseline_view_change(&v, text, sizeof(text)), "");
	assert_int_equal(baseline_view_of(ctx, "$.other", &v), 0);	/* never recorded */
	assert_null(v.delta);
	assert_int_equal(baseline_view_of(ctx, "$$.Git.Commit", &v), 0);
	assert_int_equal(baseline_view_of(ctx, "$", &v), 0);
	assert_int_equal(baseline_view_of(ctx, "not a path", &v), 0);
	assert_int_equal(baseline_view_of(NULL, "$.latencyMs", &v), 0);
	cJSON_Delete(ctx);
}

static void test_add_paths(void **state)
{
	struct choice_set set;
	struct choice_error cerr;
	cJSON *rules = cJSON_Parse("[{\"Variable\":\"$$.DeltaPct.latencyMs\",\"NumericGreaterThan\":10,\"Next\":\"fail\"},"
				   "{\"Variable\":\"$$.Baseline['p(95)']\",\"IsPresent\":true,\"Next\":\"fail\"},"
				   "{\"Variable\":\"$$.Delta.latencyMs\",\"NumericGreaterThan\":1,\"Next\":\"fail\"},"
				   "{\"Variable\":\"$$.Git.Commit\",\"IsPresent\":true,\"Next\":\"fail\"}]");
	size_t n;

	(void)state;
	assert_int_equal(choice_compile(&set, rules, "choices", &cerr), 0);
	n = set.npaths;
	baseline_add_paths(&set);
	assert_int_equal(set.npaths, n + 2);	/* $.latencyMs once, $['p(95)'] */
	assert_string_equal(set.paths[n].text, "$.latencyMs");
	assert_int_equal(set.paths[n].root, JPATH_INPUT);
	assert_string_equal(set.paths[n + 1].text, "$['p(95)']");
	choice_release(&set);
	cJSON_Delete(rules);
}

#define RSHA(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define RDOC(gate, sha, lat) "{\"version\":1,\"gate\":\"" gate "\",\"commit\":\"" sha \
	"\",\"recorded\":\"2026-12-07T10:00:00Z\",\"outcome\":\"pass\",\"run_url\":null," \
	"\"values\":{\"$.latencyMs\":" #lat "}}"

/* What the relay store takes from a lookup answer: only valid records of
 * this gate for commits asked, nearest first, at most window. */
static void test_relay_take(void **state)
{
	const char *commits[3] = { RSHA("a"), RSHA("b"), RSHA("c") };
	struct baseline_doc docs[2];
	char why[320];
	size_t dropped;
	cJSON *ans;
	long n;

	(void)state;
	ans = cJSON_Parse("{\"records\":[" RDOC("g", RSHA("c"), 3) "," RDOC("g", RSHA("a"), 1) ","
			  RDOC("g", RSHA("f"), 9) "," RDOC("h", RSHA("b"), 2) ","
			  RDOC("g", RSHA("a"), 7) ",{\"version\":1}]}");
	assert_non_null(ans);
	n = baseline_relay_take(ans, "g", commits, 3, docs, 2, &dropped, why, sizeof(why));
	assert_int_equal(n, 2);
	assert_string_equal(docs[0].commit, RSHA("a"));
	assert_string_equal(docs[1].commit, RSHA("c"));
	assert_int_equal(cJSON_GetObjectItem(docs[0].values, "$.latencyMs")->valueint, 1);
	assert_int_equal(dropped, 4);
	assert_string_equal(why, "a record for commit ffffffffffff that was not asked for");
	baseline_doc_release(&docs[0]);
	baseline_doc_release(&docs[1]);
	cJSON_Delete(ans);
	/* window 1 keeps the nearest */
	ans = cJSON_Parse("{\"records\":[" RDOC("g", RSHA("c"), 3) "," RDOC("g", RSHA("b"), 2) "]}");
	n = baseline_relay_take(ans, "g", commits, 3, docs, 1, &dropped, why, sizeof(why));
	assert_int_equal(n, 1);
	assert_string_equal(docs[0].commit, RSHA("b"));
	assert_int_equal(dropped, 0);
	baseline_doc_release(&docs[0]);
	cJSON_Delete(ans);
	/* a member twice, and an answer without records */
	ans = cJSON_Parse("{\"records\":[{\"version\":1,\"version\":1}]}");
	n = baseline_relay_take(ans, "g", commits, 3, docs, 2, &dropped, why, sizeof(why));
	assert_int_equal(n, 0);
	assert_string_equal(why, "a record has a member twice");
	cJSON_Delete(ans);
	ans = cJSON_Parse("{\"records\":{}}");
	assert_int_equal(baseline_relay_take(ans, "g", commits, 3, docs, 2, &dropped, why, sizeof(why)), -1);
	cJSON_Delete(ans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_parse_caps),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_aggregate_numbers),
		cmocka_unit_test(test_aggregate_docs),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_add_paths),
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_relay_take),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
