/* test_choice.c - unit tests for the ASL Choice rule engine (src/choice*.c).
 *
 * Every operator true / false / type mismatch / missing; every ...Path
 * variant with missing and wrong-typed targets; And/Or/Not nesting and
 * short-circuit; numbers, strings, timestamps; every compile error class
 * with its location; describe(), symbols, leaf callbacks, path binding.
 * Inputs are literal JSON texts parsed with cJSON_Parse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "choice.h"

static struct choice_error err;	/* of the last compile or eval */

/* Compile a JSON array of rules; fail the test if it does not compile. */
static cJSON *compile_ok(struct choice_set *set, const char *rules)
{
	cJSON *tree = cJSON_Parse(rules);

	if (!tree)
		fail_msg("bad test JSON: %s", rules);
	if (choice_compile(set, tree, "choices", &err))
		fail_msg("%s: %s: %s", rules, err.where, err.msg);
	return tree;
}

/* Evaluate rule i of set against input (and context) JSON texts. */
static int eval_set(const struct choice_set *set, size_t i, const char *input,
		    const char *context, choice_leaf_fn fn, void *ud)
{
	cJSON *in = cJSON_Parse(input), *ctx = NULL;
	const cJSON **values = calloc(set->npaths + 1, sizeof(*values));
	int r;

	if (!in)
		fail_msg("bad test JSON: %s", input);
	if (context)
		ctx = cJSON_Parse(context);
	choice_bind_tree(set, in, ctx, values);
	r = choice_eval(set, i, values, fn, ud, &err);
	free(values);
	cJSON_Delete(in);
	cJSON_Delete(ctx);
	return r;
}

/* One rule (a JSON object without Next) against an input document. */
static int run(const char *rule, const char *input)
{
	struct choice_set set;
	char rules[2048];
	cJSON *tree;
	int r;

	snprintf(rules, sizeof(rules), "[%s]", rule);
	tree = cJSON_Parse(rules);
	if (!tree || !tree->child)
		fail_msg("bad test JSON: %s", rule);
	cJSON_AddStringToObject(tree->child, "Next", "fail");
	if (choice_compile(&set, tree, "choices", &err))
		fail_msg("%s: %s: %s", rule, err.where, err.msg);
	r = eval_set(&set, 0, input, NULL, NULL, NULL);
	choice_release(&set);
	cJSON_Delete(tree);
	return r;
}

/* Compile a JSON array of rules that must fail; err holds the error. */
static void compile_bad(const char *rules)
{
	struct choice_set set;
	cJSON *tree = cJSON_Parse(rules);

	if (!tree)
		fail_msg("bad test JSON: %s", rules);
	if (choice_compile(&set, tree, "choices", &err) != -1)
		fail_msg("compiled but should not: %s", rules);
	assert_null(set.rules);
	assert_null(set.paths);
	assert_int_equal(set.nrules, 0);
	assert_int_equal(set.npaths, 0);
	cJSON_Delete(tree);
}

/* Every operator: yes / no / wrong type / missing.  $.v is the Variable;
 * ...Path operands read $.b.  NULL means "not applicable". */
struct opcase {
	const char *op, *operand, *b, *yes, *no, *mismatch;
};

static const struct opcase opcases[] = {
	{ "StringEquals", "\"abc\"", NULL, "\"abc\"", "\"abd\"", "1" },
	{ "StringLessThan", "\"b\"", NULL, "\"a\"", "\"b\"", "null" },
	{ "StringGreaterThan", "\"b\"", NULL, "\"c\"", "\"b\"", "true" },
	{ "StringLessThanEquals", "\"b\"", NULL, "\"b\"", "\"c\"", "[]" },
	{ "StringGreaterThanEquals", "\"b\"", NULL, "\"b\"", "\"a\"", "{}" },
	{ "StringEqualsPath", "\"$.b\"", "\"abc\"", "\"abc\"", "\"ab\"", "1" },
	{ "StringLessThanPath", "\"$.b\"", "\"b\"", "\"a\"", "\"b\"", "2" },
	{ "StringGreaterThanPath", "\"$.b\"", "\"b\"", "\"ba\"", "\"a\"",
	  "null" },
	{ "StringLessThanEqualsPath", "\"$.b\"", "\"b\"", "\"b\"", "\"c\"",
	  "false" },
	{ "StringGreaterThanEqualsPath", "\"$.b\"", "\"b\"", "\"c\"", "\"a\"",
	  "[\"c\"]" },
	{ "StringMatches", "\"a*c\"", NULL, "\"abbbc\"", "\"abd\"", "42" },
	{ "NumericEquals", "5", NULL, "5.0", "6", "\"5\"" },
	{ "NumericLessThan", "96", NULL, "95.5", "96", "\"50\"" },
	{ "NumericGreaterThan", "80", NULL, "81", "80", "null" },
	{ "NumericLessThanEquals", "96", NULL, "96", "96.01", "true" },
	{ "NumericGreaterThanEquals", "96", NULL, "96", "95", "[]" },
	{ "NumericEqualsPath", "\"$.b\"", "7", "7", "8", "\"7\"" },
	{ "NumericLessThanPath", "\"$.b\"", "7", "6", "7", "\"6\"" },
	{ "NumericGreaterThanPath", "\"$.b\"", "7", "8", "7", "{}" },
	{ "NumericLessThanEqualsPath", "\"$.b\"", "7", "7", "8", "false" },
	{ "NumericGreaterThanEqualsPath", "\"$.b\"", "7", "7", "-7", "null" },
	{ "BooleanEquals", "true", NULL, "true", "false", "\"true\"" },
	{ "BooleanEqualsPath", "\"$.b\"", "false", "false", "true", "0" },
	{ "TimestampEquals", "\"2016-03-14T01:59:00Z\"", NULL,
	  "\"2016-03-14T02:59:00+01:00\"", "\"2016-03-14T01:59:01Z\"",
	  "\"2016-03-14\"" },
	{ "TimestampLessThan", "\"2016-03-14T01:59:00Z\"", NULL,
	  "\"2016-03-14T01:58:59.999Z\"", "\"2016-03-14T01:59:00.000Z\"",
	  "null" },
	{ "TimestampGreaterThan", "\"2016-03-14T01:59:00Z\"", NULL,
	  "\"2016-03-14T01:59:00-00:01\"", "\"2016-03-14T01:59:00+00:00\"",
	  "1457920740" },
	{ "TimestampLessThanEquals", "\"2016-03-14T01:59:00Z\"", NULL,
	  "\"2016-03-14T01:59:00Z\"", "\"2016-03-14T01:59:00.001Z\"",
	  "\"2016-03-14T01:59:00\"" },
	{ "TimestampGreaterThanEquals", "\"2016-03-14T01:59:00Z\"", NULL,
	  "\"2016-03-14T01:59:00Z\"", "\"2016-03-14T00:59:00Z\"",
	  "\"yesterday\"" },
	{ "TimestampEqualsPath", "\"$.b\"", "\"2020-01-01T00:00:00Z\"",
	  "\"2020-01-01T01:00:00+01:00\"", "\"2020-01-01T00:00:01Z\"",
	  "\"2020-01-01\"" },
	{ "TimestampLessThanPath", "\"$.b\"", "\"2020-01-01T00:00:00Z\"",
	  "\"2019-12-31T23:59:59Z\"", "\"2020-01-01T00:00:00Z\"", "true" },
	{ "TimestampGreaterThanPath", "\"$.b\"", "\"2020-01-01T00:00:00Z\"",
	  "\"2020-01-01T00:00:00.5Z\"", "\"2019-01-01T00:00:00Z\"", "[]" },
	{ "TimestampLessThanEqualsPath", "\"$.b\"", "\"2020-01-01T00:00:00Z\"",
	  "\"2020-01-01T00:00:00Z\"", "\"2021-01-01T00:00:00Z\"", "{}" },
	{ "TimestampGreaterThanEqualsPath", "\"$.b\"",
	  "\"2020-01-01T00:00:00Z\"", "\"2020-01-01T00:00:00Z\"",
	  "\"2000-01-01T00:00:00Z\"", "\"2020-01-01 00:00:00Z\"" },
	{ "IsNull", "true", NULL, "null", "0", NULL },
	{ "IsPresent", "true", NULL, "null", NULL, NULL },
	{ "IsNumeric", "true", NULL, "-1.5e3", "\"1\"", NULL },
	{ "IsString", "true", NULL, "\"\"", "1", NULL },
	{ "IsBoolean", "true", NULL, "false", "\"false\"", NULL },
	{ "IsTimestamp", "true", NULL, "\"2016-03-14T01:59:00Z\"",
	  "\"2016-03-14\"", NULL },
};
#define NOPCASES (sizeof(opcases) / sizeof(opcases[0]))

static int run_op(const struct opcase *c, const char *value)
{
	char rule[512], input[512];

	snprintf(rule, sizeof(rule), "{\"Variable\": \"$.v\", \"%s\": %s}",
		 c->op, c->operand);
	if (value)
		snprintf(input, sizeof(input), "{\"v\": %s, \"b\": %s}", value,
			 c->b ? c->b : "0");
	else
		snprintf(input, sizeof(input), "{\"b\": %s}", c->b ? c->b : "0");
	return run(rule, input);
}

static void expect_op(const struct opcase *c, const char *what,
		      const char *value, int want)
{
	int got = run_op(c, value);

	if (got != want)
		fail_msg("%s on %s (%s): got %d, want %d (%s)", c->op,
			 value ? value : "missing", what, got, want, err.msg);
}

static void test_every_operator(void **state)
{
	size_t i, j;

	(void)state;
	assert_int_equal(NOPCASES, 39);
	for (i = 0; i < NOPCASES; i++) {
		for (j = 0; j < i; j++)
			assert_string_not_equal(opcases[i].op, opcases[j].op);
		assert_non_null(choice_op_symbol(opcases[i].op));
		expect_op(&opcases[i], "true case", opcases[i].yes, 1);
		if (opcases[i].no)
			expect_op(&opcases[i], "false case", opcases[i].no, 0);
		if (opcases[i].mismatch)
			expect_op(&opcases[i], "type mismatch",
				  opcases[i].mismatch, 0);
	}
}

/* A missing Variable is a runtime error for every operator but IsPresent. */
static void test_missing_variable(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NOPCASES; i++) {
		int r = run_op(&opcases[i], NULL);

		if (!strcmp(opcases[i].op, "IsPresent")) {
			assert_int_equal(r, 0);
			continue;
		}
		if (r != -1)
			fail_msg("%s on a missing path: got %d", opcases[i].op, r);
		assert_string_equal(err.where, "choices[0]");
		assert_string_equal(err.path, "$.v");
		assert_non_null(strstr(err.msg, "States.Runtime"));
	}
	assert_int_equal(run("{\"Variable\": \"$.accuracypct\", "
			     "\"NumericLessThan\": 96}", "{}"), -1);
	assert_string_equal(err.msg, "path $.accuracypct is not in the results "
			    "(States.Runtime); report the metric or guard the "
			    "rule with \"IsPresent\": true");
	assert_non_null(err.node);
}

static void test_type_tests(void **state)
{
	static const char *const values[] = {
		"null", "0", "\"s\"", "true", "\"2016-03-14T01:59:00Z\"", "[]",
		"{}",
	};
	/* expected IsNull, IsNumeric, IsString, IsBoolean, IsTimestamp */
	static const int want[7][5] = {
		{ 1, 0, 0, 0, 0 }, { 0, 1, 0, 0, 0 }, { 0, 0, 1, 0, 0 },
		{ 0, 0, 0, 1, 0 }, { 0, 0, 1, 0, 1 }, { 0, 0, 0, 0, 0 },
		{ 0, 0, 0, 0, 0 },
	};
	static const char *const ops[] = {
		"IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp",
	};
	char rule[128], input[128];
	size_t i, j;

	(void)state;
	for (i = 0; i < 7; i++) {
		snprintf(input, sizeof(input), "{\"v\": %s}", values[i]);
		for (j = 0; j < 5; j++) {
			snprintf(rule, sizeof(rule), "{\"Variable\": \"$.v\", "
				 "\"%s\": true}", ops[j]);
			if (run(rule, input) != want[i][j])
				fail_msg("%s on %s", ops[j], values[i]);
			/* false negates */
			snprintf(rule, sizeof(rule), "{\"Variable\": \"$.v\", "
				 "\"%s\": false}", ops[j]);
			if (run(rule, input) != !want[i][j])
				fail_msg("%s:false on %s", ops[j], values[i]);
		}
	}
	/* IsPresent: a null is present; missing is not; false negates */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"IsPresent\": true}",
			     "{\"v\": null}"), 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"IsPresent\": true}",
			     "{}"), 0);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"IsPresent\": false}",
			     "{}"), 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"IsPresent\": false}",
			     "{\"v\": null}"), 0);
	assert_int_equal(run("{\"Variable\": \"$.s[0]\", \"IsPresent\": true}",
			     "{\"s\": \"abc\"}"), 0);
	/* IsNull:false on 0 is true; on missing it is an error */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"IsNull\": false}",
			     "{\"v\": 0}"), 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"IsNull\": false}",
			     "{}"), -1);
}

/* Wrong-typed ...Path targets: equality false, ordering a runtime error. */
static void test_path_targets(void **state)
{
	static const struct {
		const char *op, *good, *v, *badb;
	} cases[] = {
		{ "StringEqualsPath", "\"x\"", "\"x\"", "1" },
		{ "StringLessThanPath", "\"x\"", "\"a\"", "1" },
		{ "StringGreaterThanPath", "\"x\"", "\"z\"", "1" },
		{ "StringLessThanEqualsPath", "\"x\"", "\"x\"", "null" },
		{ "StringGreaterThanEqualsPath", "\"x\"", "\"x\"", "true" },
		{ "NumericEqualsPath", "1", "1", "\"1\"" },
		{ "NumericLessThanPath", "1", "0", "\"1\"" },
		{ "NumericGreaterThanPath", "1", "2", "null" },
		{ "NumericLessThanEqualsPath", "1", "1", "[1]" },
		{ "NumericGreaterThanEqualsPath", "1", "1", "{}" },
		{ "BooleanEqualsPath", "true", "true", "\"true\"" },
		{ "TimestampEqualsPath", "\"2020-01-01T00:00:00Z\"",
		  "\"2020-01-01T00:00:00Z\"", "\"2020-01-01\"" },
		{ "TimestampLessThanPath", "\"2020-01-01T00:00:00Z\"",
		  "\"2019-01-01T00:00:00Z\"", "\"2020-01-01\"" },
		{ "TimestampGreaterThanPath", "\"2020-01-01T00:00:00Z\"",
		  "\"2021-01-01T00:00:00Z\"", "5" },
		{ "TimestampLessThanEqualsPath", "\"2020-01-01T00:00:00Z\"",
		  "\"2020-01-01T00:00:00Z\"", "null" },
		{ "TimestampGreaterThanEqualsPath", "\"2020-01-01T00:00:00Z\"",
		  "\"2020-01-01T00:00:00Z\"", "\"now\"" },
	};
	char rule[256], input[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int eq = strstr(cases[i].op, "EqualsPath") &&
			 !strstr(cases[i].op, "ThanEqualsPath");

		snprintf(rule, sizeof(rule), "{\"Variable\": \"$.v\", \"%s\": "
			 "\"$.b\"}", cases[i].op);
		snprintf(input, sizeof(input), "{\"v\": %s, \"b\": %s}",
			 cases[i].v, cases[i].good);
		if (run(rule, input) != 1)
			fail_msg("%s: true case", cases[i].op);
		/* missing target: runtime error naming the target path */
		snprintf(input, sizeof(input), "{\"v\": %s}", cases[i].v);
		if (run(rule, input) != -1)
			fail_msg("%s: missing target", cases[i].op);
		assert_string_equal(err.path, "$.b");
		assert_string_equal(err.where, "choices[0]");
		assert_non_null(strstr(err.msg, "not in the results"));
		/* wrong-typed target */
		snprintf(input, sizeof(input), "{\"v\": %s, \"b\": %s}",
			 cases[i].v, cases[i].badb);
		if (run(rule, input) != (eq ? 0 : -1))
			fail_msg("%s: wrong-typed target", cases[i].op);
		if (!eq) {
			assert_string_equal(err.path, "$.b");
			assert_non_null(strstr(err.msg, "Invalid value provided "
					       "at path $.b"));
		}
	}
	/* the Variable is checked first: missing Variable and target */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericLessThanPath\": "
			     "\"$.b\"}", "{}"), -1);
	assert_string_equal(err.path, "$.v");
	/* Variable of the wrong type with a good target: false */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericLessThanPath\": "
			     "\"$.b\"}", "{\"v\": \"1\", \"b\": 2}"), 0);
	/* the same path on both sides */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericEqualsPath\": "
			     "\"$.v\"}", "{\"v\": 3}"), 1);
	/* a ...Path operand may read the context */
	{
		struct choice_set set;
		cJSON *t = compile_ok(&set, "[{\"Variable\": \"$.branch\", "
				      "\"StringEqualsPath\": \"$$.Git.Branch\", "
				      "\"Next\": \"x\"}]");

		assert_int_equal(eval_set(&set, 0, "{\"branch\": \"main\"}",
					  "{\"Git\": {\"Branch\": \"main\"}}",
					  NULL, NULL), 1);
		assert_int_equal(eval_set(&set, 0, "{\"branch\": \"main\"}",
					  NULL, NULL, NULL), -1);
		assert_string_equal(err.path, "$$.Git.Branch");
		assert_non_null(strstr(err.msg, "not in the context"));
		choice_release(&set);
		cJSON_Delete(t);
	}
}

static void test_strings(void **state)
{
	(void)state;
	/* UTF-16 order: U+1F600 sorts before U+FF61 */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"StringLessThan\": "
			     "\"\xef\xbd\xa1\"}", "{\"v\": \"\xf0\x9f\x98\x80\"}"),
			 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"StringGreaterThan\": "
			     "\"\xef\xbd\xa1\"}", "{\"v\": \"\xf0\x9f\x98\x80\"}"),
			 0);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"StringLessThan\": "
			     "\"\\uff61\"}", "{\"v\": \"\\ud83d\\ude00\"}"), 1);
	/* no trimming, no folding, no normalisation */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"StringLessThan\": "
			     "\"A \"}", "{\"v\": \"A\"}"), 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"StringEquals\": "
			     "\"abc\"}", "{\"v\": \"ABC\"}"), 0);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"StringEquals\": "
			     "\"\\u00e9\"}", "{\"v\": \"e\\u0301\"}"), 0);
	/* a timestamp is still a string */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"StringEquals\": "
			     "\"2016-03-14T01:59:00Z\"}",
			     "{\"v\": \"2016-03-14T01:59:00Z\"}"), 1);
	/* a numeric string is not a number and vice versa */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"StringEquals\": "
			     "\"1\"}", "{\"v\": 1}"), 0);
	/* an index on a string is missing, not the first character */
	assert_int_equal(run("{\"Variable\": \"$.s[0]\", \"StringEquals\": "
			     "\"a\"}", "{\"s\": \"abc\"}"), -1);
}

static void test_string_matches(void **state)
{
	static const struct {
		const char *pattern, *value;	/* JSON texts */
		int want;
	} cases[] = {
		{ "\"foo*.log\"", "\"foo23.log\"", 1 },
		{ "\"*.log\"", "\"zebra.log\"", 1 },
		{ "\"foo*.*\"", "\"foobar.zebra\"", 1 },
		{ "\"a?c\"", "\"abc\"", 0 },
		{ "\"a?c\"", "\"a?c\"", 1 },
		{ "\"[ab]*\"", "\"a\"", 0 },
		{ "\"[ab]*\"", "\"[ab]x\"", 1 },
		{ "\"log-*\"", "\"LOG-1\"", 0 },
		{ "\"*\"", "\"\"", 1 },
		{ "\"a\\\\*b\"", "\"a*b\"", 1 },	/* JSON "\\*" */
		{ "\"a\\\\*b\"", "\"axb\"", 0 },
		{ "\"a\\\\\\\\b\"", "\"a\\\\b\"", 1 },	/* JSON "\\\\" */
		{ "\"a\\\\\\\\*\"", "\"a\\\\zz\"", 1 },
		{ "\"*\"", "42", 0 },
		{ "\"*\"", "null", 0 },
		{ "\"*\"", "[\"x\"]", 0 },
	};
	char rule[256], input[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rule, sizeof(rule), "{\"Variable\": \"$.v\", "
			 "\"StringMatches\": %s}", cases[i].pattern);
		snprintf(input, sizeof(input), "{\"v\": %s}", cases[i].value);
		if (run(rule, input) != cases[i].want)
			fail_msg("%s matches %s: want %d", cases[i].value,
				 cases[i].pattern, cases[i].want);
	}
}

static void test_numbers(void **state)
{
	(void)state;
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericEquals\": 100}",
			     "{\"v\": 1e2}"), 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericEquals\": 1e2}",
			     "{\"v\": 100.0}"), 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericEquals\": 0}",
			     "{\"v\": -0}"), 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericLessThan\": 0}",
			     "{\"v\": -0.0}"), 0);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericEquals\": 0.3}",
			     "{\"v\": 0.30000000000000004}"), 0);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericGreaterThan\": "
			     "-1e308}", "{\"v\": -1.7e308}"), 0);
	/* binary64: 2^53 + 1 rounds to 2^53, so they compare equal */
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericEquals\": "
			     "9007199254740993}", "{\"v\": 9007199254740992}"),
			 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericGreaterThan\": "
			     "9007199254740992}", "{\"v\": 9007199254740993}"),
			 0);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"NumericLessThan\": "
			     "9007199254740994}", "{\"v\": 9007199254740993}"),
			 1);
}

static void test_booleans(void **state)
{
	static const char *const never[] = { "0", "1", "\"\"", "null",
					     "\"true\"", "[true]" };
	char input[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		snprintf(input, sizeof(input), "{\"v\": %s}", never[i]);
		assert_int_equal(run("{\"Variable\": \"$.v\", \"BooleanEquals\": "
				     "true}", input), 0);
		assert_int_equal(run("{\"Variable\": \"$.v\", \"BooleanEquals\": "
				     "false}", input), 0);
	}
	assert_int_equal(run("{\"Variable\": \"$.v\", \"BooleanEquals\": "
			     "false}", "{\"v\": false}"), 1);
}

static void test_timestamps(void **state)
{
	const char *rule = "{\"Variable\": \"$.v\", \"TimestampEquals\": "
			   "\"2016-03-14T01:59:00Z\"}";

	(void)state;
	assert_int_equal(run(rule, "{\"v\": \"2016-03-14T01:59:00.000Z\"}"), 1);
	assert_int_equal(run(rule, "{\"v\": \"2016-03-14T02:59:00+01:00\"}"),
			 1);
	assert_int_equal(run(rule, "{\"v\": \"2016-03-14T01:59:00.000000001Z\"}"),
			 0);
	/* not timestamps: type mismatch, false */
	assert_int_equal(run(rule, "{\"v\": \"2016-03-14T01:59:00\"}"), 0);
	assert_int_equal(run(rule, "{\"v\": \"2016-03-14t01:59:00z\"}"), 0);
	assert_int_equal(run(rule, "{\"v\": \"2016-03-14T01:59:60Z\"}"), 0);
	assert_int_equal(run(rule, "{\"v\": 1457920740}"), 0);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"TimestampLessThan\": "
			     "\"2024-03-01T00:00:00Z\"}",
			     "{\"v\": \"2024-02-29T23:59:59Z\"}"), 1);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"TimestampLessThan\": "
			     "\"2024-03-01T00:00:00Z\"}",
			     "{\"v\": \"2023-02-29T23:59:59Z\"}"), 0);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"IsTimestamp\": true}",
			     "{\"v\": \"2023-02-30T00:00:00Z\"}"), 0);
	assert_int_equal(run("{\"Variable\": \"$.v\", \"IsTimestamp\": true}",
			     "{\"v\": \"2024-02-29T00:00:00Z\"}"), 1);
}

struct leaflog {
	char text[1024];
	int n;
};

static void log_leaf(void *ud, const struct choice_leaf *leaf)
{
	struct leaflog *log = ud;
	size_t len = strlen(log->text);

	snprintf(log->text + len, sizeof(log->text) - len, "%s%s:%s=%d",
		 log->n++ ? " " : "", leaf->where, leaf->op, leaf->result);
}

static int run_logged(const char *rules, const char *input,
		      struct leaflog *log)
{
	struct choice_set set;
	cJSON *t = compile_ok(&set, rules);
	int r;

	memset(log, 0, sizeof(*log));
	r = eval_set(&set, 0, input, NULL, log_leaf, log);
	choice_release(&set);
	cJSON_Delete(t);
	return r;
}

static void test_boolean_rules(void **state)
{
	const char *guard = "[{\"And\": ["
		"{\"Variable\": \"$.k\", \"IsPresent\": true},"
		"{\"Variable\": \"$.k\", \"StringEquals\": \"x\"}],"
		" \"Next\": \"fail\"}]";
	const char *unguarded = "[{\"And\": ["
		"{\"Variable\": \"$.k\", \"StringEquals\": \"x\"},"
		"{\"Variable\": \"$.k\", \"IsPresent\": true}],"
		" \"Next\": \"fail\"}]";
	const char *orr = "[{\"Or\": ["
		"{\"Variable\": \"$.a\", \"NumericLessThan\": 1},"
		"{\"Variable\": \"$.b\", \"NumericLessThan\": 1},"
		"{\"Variable\": \"$.c\", \"NumericLessThan\": 1}],"
		" \"Next\": \"fail\"}]";
	struct leaflog log;

	(void)state;
	/* the IsPresent guard short-circuits the missing path */
	assert_int_equal(run_logged(guard, "{}", &log), 0);
	assert_string_equal(log.text, "choices[0].And[0]:IsPresent=0");
	assert_int_equal(run_logged(guard, "{\"k\": \"x\"}", &log), 1);
	assert_string_equal(log.text, "choices[0].And[0]:IsPresent=1 "
			    "choices[0].And[1]:StringEquals=1");
	/* reversed, the missing path raises an error */
	assert_int_equal(run_logged(unguarded, "{}", &log), -1);
	assert_string_equal(err.where, "choices[0].And[0]");
	assert_string_equal(err.path, "$.k");
	assert_int_equal(log.n, 0);
	/* Or stops at the first true child, errors past it are never seen */
	assert_int_equal(run_logged(orr, "{\"a\": 5, \"b\": 0}", &log), 1);
	assert_string_equal(log.text, "choices[0].Or[0]:NumericLessThan=0 "
			    "choices[0].Or[1]:NumericLessThan=1");
	assert_int_equal(run_logged(orr, "{\"a\": 5, \"b\": 5}", &log), -1);
	assert_string_equal(err.where, "choices[0].Or[2]");
	assert_int_equal(run_logged(orr, "{\"a\": 5, \"b\": 5, \"c\": 5}",
				    &log), 0);
	assert_int_equal(log.n, 3);
	/* Not negates and passes errors through */
	assert_int_equal(run("{\"Not\": {\"Variable\": \"$.a\", "
			     "\"NumericEquals\": 1}}", "{\"a\": 2}"), 1);
	assert_int_equal(run("{\"Not\": {\"Variable\": \"$.a\", "
			     "\"NumericEquals\": 1}}", "{\"a\": 1}"), 0);
	assert_int_equal(run("{\"Not\": {\"Variable\": \"$.a\", "
			     "\"NumericEquals\": 1}}", "{}"), -1);
	assert_string_equal(err.where, "choices[0].Not");
	assert_int_equal(run("{\"Not\": {\"Not\": {\"Variable\": \"$.a\", "
			     "\"IsPresent\": true}}}", "{}"), 0);
	/* nesting */
	assert_int_equal(run("{\"And\": [{\"Variable\": \"$.a\", "
			     "\"NumericGreaterThanEquals\": 1}, {\"Not\": "
			     "{\"Or\": [{\"Variable\": \"$.b\", \"StringEquals\": "
			     "\"x\"}, {\"Variable\": \"$.b\", \"StringEquals\": "
			     "\"y\"}]}}]}", "{\"a\": 1, \"b\": \"z\"}"), 1);
	assert_int_equal(run("{\"And\": [{\"Variable\": \"$.a\", "
			     "\"NumericGreaterThanEquals\": 1}, {\"Not\": "
			     "{\"Or\": [{\"Variable\": \"$.b\", \"StringEquals\": "
			     "\"x\"}, {\"Variable\": \"$.b\", \"StringEquals\": "
			     "\"y\"}]}}]}", "{\"a\": 1, \"b\": \"y\"}"), 0);
	/* one-element And/Or */
	assert_int_equal(run("{\"Or\": [{\"Variable\": \"$\", \"IsPresent\": "
			     "true}]}", "{}"), 1);
}

static void test_leaf_fields(void **state)
{
	struct choice_set set;
	cJSON *t;

	(void)state;
	t = compile_ok(&set, "[{\"Variable\": \"$.a\", \"NumericLessThan\": 96,"
		       " \"Next\": \"research\"}, {\"Variable\": \"$['a']\", "
		       "\"NumericLessThanPath\": \"$.b\", \"Next\": \"x\"}]");
	assert_int_equal(eval_set(&set, 0, "{\"a\": 50}", NULL,
				  (choice_leaf_fn)NULL, NULL), 1);
	assert_string_equal(choice_next(&set, 0), "research");
	assert_string_equal(choice_next(&set, 1), "x");
	assert_non_null(choice_node(&set, 1));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(choice_node(&set, 1),
							 "NumericLessThanPath"));
	/* $.a and $['a'] are one path; $.b a second */
	assert_int_equal(set.npaths, 2);
	assert_string_equal(set.paths[0].text, "$.a");
	assert_string_equal(set.paths[1].text, "$.b");
	choice_release(&set);
	assert_null(set.rules);
	assert_int_equal(set.npaths, 0);
	cJSON_Delete(t);
}

static struct choice_leaf last_leaf;
static char last_value[64], last_operand[64], last_opval[64];

static void keep_leaf(void *ud, const struct choice_leaf *leaf)
{
	(void)ud;
	last_leaf = *leaf;
	choice_format_value(last_value, sizeof(last_value), leaf->value);
	choice_format_value(last_operand, sizeof(last_operand),
			    leaf->operand);
	choice_format_value(last_opval, sizeof(last_opval),
			    leaf->operand_value);
}

static void test_leaf_callback(void **state)
{
	struct choice_set set;
	cJSON *t;

	(void)state;
	t = compile_ok(&set, "[{\"Variable\": \"$.a\", \"NumericLessThan\": 96,"
		       " \"Next\": \"r\"}, {\"Or\": [{\"Variable\": \"$['a']\", "
		       "\"NumericLessThanPath\": \"$.b\"}], \"Next\": \"x\"}]");
	assert_int_equal(eval_set(&set, 0, "{\"a\": 50}", NULL, keep_leaf,
				  NULL), 1);
	assert_string_equal(last_leaf.where, "choices[0]");
	assert_string_equal(last_leaf.variable, "$.a");
	assert_string_equal(last_leaf.op, "NumericLessThan");
	assert_null(last_leaf.operand_path);
	assert_int_equal(last_leaf.result, 1);
	assert_string_equal(last_value, "50");
	assert_string_equal(last_operand, "96");
	assert_string_equal(last_opval, "missing");

	assert_int_equal(eval_set(&set, 1, "{\"a\": 50, \"b\": 40}", NULL,
				  keep_leaf, NULL), 0);
	assert_string_equal(last_leaf.where, "choices[1].Or[0]");
	assert_string_equal(last_leaf.variable, "$['a']");	/* as written */
	assert_string_equal(last_leaf.operand_path, "$.b");
	assert_null(last_leaf.operand);
	assert_string_equal(last_opval, "40");
	assert_int_equal(last_leaf.result, 0);
	choice_release(&set);
	cJSON_Delete(t);
}

static void test_bind_context(void **state)
{
	struct choice_set set;
	cJSON *t;

	(void)state;
	t = compile_ok(&set, "[{\"Variable\": \"$$.Gate.Name\", "
		       "\"StringEquals\": \"model-release\", \"Next\": \"x\"},"
		       " {\"Variable\": \"$$.Git.Branch\", \"IsPresent\": true,"
		       " \"Next\": \"y\"}, {\"Variable\": \"$\", \"IsPresent\":"
		       " true, \"Next\": \"z\"}, {\"Variable\": \"$$\", "
		       "\"IsPresent\": true, \"Next\": \"w\"}]");
	assert_int_equal(set.npaths, 4);
	assert_int_equal(eval_set(&set, 0, "{\"Gate\": {\"Name\": \"no\"}}",
				  "{\"Gate\": {\"Name\": \"model-release\"}, "
				  "\"Git\": {}}", NULL, NULL), 1);
	assert_int_equal(eval_set(&set, 1, "{}", "{\"Git\": {}}", NULL, NULL),
			 0);
	assert_int_equal(eval_set(&set, 2, "[]", NULL, NULL, NULL), 1);
	assert_int_equal(eval_set(&set, 3, "{}", NULL, NULL, NULL), 0);
	assert_int_equal(eval_set(&set, 3, "{}", "{}", NULL, NULL), 1);
	assert_int_equal(eval_set(&set, 0, "{}", NULL, NULL, NULL), -1);
	assert_string_equal(err.msg, "path $$.Gate.Name is not in the context "
			    "(States.Runtime); guard the rule with "
			    "\"IsPresent\": true");
	choice_release(&set);
	cJSON_Delete(t);
}

static char *describe(const char *rules)
{
	struct choice_set set;
	cJSON *t = compile_ok(&set, rules);
	char *s = choice_describe(&set, 0);

	choice_release(&set);
	cJSON_Delete(t);
	return s;
}

static void expect_describe(const char *rule, const char *want)
{
	char rules[1024];
	char *s;

	snprintf(rules, sizeof(rules), "[{%s, \"Next\": \"x\"}]", rule);
	s = describe(rules);
	if (strcmp(s, want))
		fail_msg("describe %s: got \"%s\", want \"%s\"", rule, s, want);
	free(s);
}

static void test_describe(void **state)
{
	char rules[8192], *s;
	size_t i, len;

	(void)state;
	expect_describe("\"Variable\": \"$.accuracypct\", \"NumericLessThan\": "
			"96", "$.accuracypct < 96");
	expect_describe("\"Variable\": \"$.x\", \"NumericGreaterThanEquals\": "
			"0.1", "$.x >= 0.1");
	expect_describe("\"Variable\": \"$.x\", \"NumericLessThanEquals\": "
			"-2.5e-7", "$.x <= -2.5e-07");
	expect_describe("\"Variable\": \"$.x\", \"NumericEquals\": 1e21",
			"$.x == 1e+21");
	expect_describe("\"Variable\": \"$.name\", \"StringEquals\": \"x\"",
			"$.name == \"x\"");
	expect_describe("\"Variable\": \"$.n\", \"StringEquals\": \"a\\\"b\"",
			"$.n == \"a\\\"b\"");
	expect_describe("\"Variable\": \"$.a\", \"StringMatches\": \"foo*\"",
			"$.a matches \"foo*\"");
	expect_describe("\"Variable\": \"$.t\", \"IsPresent\": true",
			"$.t is present");
	expect_describe("\"Variable\": \"$.t\", \"IsNull\": false",
			"$.t is not null");
	expect_describe("\"Variable\": \"$.t\", \"IsTimestamp\": true",
			"$.t is timestamp");
	expect_describe("\"Variable\": \"$.ok\", \"BooleanEquals\": true",
			"$.ok == true");
	expect_describe("\"Variable\": \"$.t\", \"TimestampLessThan\": "
			"\"2016-03-14T01:59:00Z\"", "$.t < 2016-03-14T01:59:00Z");
	expect_describe("\"Variable\": \"$.a\", \"NumericLessThanPath\": "
			"\"$$.Baseline.a\"", "$.a < $$.Baseline.a");
	expect_describe("\"Variable\": \"$.s\", \"StringGreaterThanPath\": "
			"\"$['t']\"", "$.s > $['t']");
	expect_describe("\"And\": [{\"Variable\": \"$.a\", "
			"\"NumericGreaterThanEquals\": 1}, {\"Not\": "
			"{\"Variable\": \"$.b\", \"StringEquals\": \"x\"}}]",
			"And($.a >= 1, Not($.b == \"x\"))");
	expect_describe("\"Or\": [{\"Variable\": \"$.a\", \"IsNumeric\": "
			"false}, {\"Variable\": \"$.a\", \"NumericEquals\": 0}]",
			"Or($.a is not numeric, $.a == 0)");

	/* long descriptions are cut at CHOICE_DESCRIBE_MAX with "..." */
	len = (size_t)snprintf(rules, sizeof(rules), "[{\"Or\": [");
	for (i = 0; i < 80; i++)
		len += (size_t)snprintf(rules + len, sizeof(rules) - len,
			"%s{\"Variable\": \"$.metric%zu\", \"NumericLessThan\": "
			"%zu}", i ? "," : "", i, i);
	snprintf(rules + len, sizeof(rules) - len, "], \"Next\": \"x\"}]");
	s = describe(rules);
	assert_int_equal(strlen(s), CHOICE_DESCRIBE_MAX);
	assert_memory_equal(s, "Or($.metric0 < 0, $.metric1 < 1", 30);
	assert_string_equal(s + CHOICE_DESCRIBE_MAX - 3, "...");
	free(s);
}

static void test_symbols_and_values(void **state)
{
	static const char *const sym[][2] = {
		{ "StringEquals", "==" }, { "StringEqualsPath", "==" },
		{ "NumericLessThan", "<" }, { "NumericGreaterThan", ">" },
		{ "TimestampLessThanEqualsPath", "<=" },
		{ "StringGreaterThanEquals", ">=" },
		{ "StringMatches", "matches" }, { "BooleanEquals", "==" },
		{ "IsNull", "is null" }, { "IsPresent", "is present" },
		{ "IsNumeric", "is numeric" }, { "IsString", "is string" },
		{ "IsBoolean", "is boolean" }, { "IsTimestamp", "is timestamp" },
	};
	char buf[64], small[8];
	cJSON *v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sym) / sizeof(sym[0]); i++)
		assert_string_equal(choice_op_symbol(sym[i][0]), sym[i][1]);
	assert_null(choice_op_symbol("NumericLessThen"));
	assert_null(choice_op_symbol("numericlessthan"));
	assert_null(choice_op_symbol("And"));

	v = cJSON_Parse("[96, 0.1, \"a\\\"\\n\", true, null, [], {\"a\": 1},"
			" -0, 1e300, 3.14159265358979]");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 0)),
			    "96");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 1)),
			    "0.1");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 2)),
			    "\"a\\\"\\u000a\"");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 3)),
			    "true");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 4)),
			    "null");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 5)),
			    "[]");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 6)),
			    "{...}");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 7)),
			    "-0");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 8)),
			    "1e+300");
	assert_string_equal(choice_format_value(buf, 64, cJSON_GetArrayItem(v, 9)),
			    "3.14159265358979");
	assert_string_equal(choice_format_value(buf, 64, NULL), "missing");
	assert_string_equal(choice_format_value(small, sizeof(small),
						cJSON_GetArrayItem(v, 2)),
			    "\"a\\\"...");
	assert_string_equal(choice_type_name(NULL), "missing");
	assert_string_equal(choice_type_name(cJSON_GetArrayItem(v, 3)),
			    "boolean");
	assert_string_equal(choice_type_name(cJSON_GetArrayItem(v, 6)),
			    "object");
	cJSON_Delete(v);

	/* cut inside a multi-byte character: the character is dropped */
	v = cJSON_CreateString("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_string_equal(choice_format_value(small, sizeof(small), v),
			    "\"\xc3\xa9...");
	cJSON_Delete(v);
}

struct bad {
	const char *rules;	/* JSON array of rules */
	const char *where;
	const char *msg;	/* expected substring of err.msg */
};

static const struct bad bad_cases[] = {
	{ "{}", "choices", "choices needs a non-empty array of rules, "
	  "got object" },
	{ "[]", "choices", "got an empty array" },
	{ "[1]", "choices[0]", "a rule is a JSON object, got number 1" },
	{ "[{\"Variable\": \"$.a\", \"NumericLessThen\": 1, \"Next\": \"x\"}]",
	  "choices[0].NumericLessThen", "unknown operator \"NumericLessThen\"; "
	  "did you mean \"NumericLessThan\"?" },
	{ "[{\"variable\": \"$.a\", \"IsPresent\": true, \"Next\": \"x\"}]",
	  "choices[0].variable", "did you mean \"Variable\"? (keys are "
	  "case-sensitive)" },
	{ "[{\"Variable\": \"$.a\", \"isPresent\": true, \"Next\": \"x\"}]",
	  "choices[0].isPresent", "did you mean \"IsPresent\"?" },
	{ "[{\"Variable\": \"$.a\", \"Frobnicate\": 1, \"Next\": \"x\"}]",
	  "choices[0].Frobnicate", "unknown key \"Frobnicate\"; a rule has" },
	{ "[{\"Variable\": \"$.a\", \"my key\": 1, \"Next\": \"x\"}]",
	  "choices[0][\"my key\"]", "unknown key \"my key\"" },
	{ "[{\"Variable\": \"$.a\", \"StringMatchesPath\": \"$.b\", "
	  "\"Next\": \"x\"}]", "choices[0].StringMatchesPath",
	  "StringMatches has no Path form" },
	{ "[{\"Variable\": \"$.a\", \"NumericLessThan\": 1, "
	  "\"NumericGreaterThan\": 0, \"Next\": \"x\"}]",
	  "choices[0].NumericGreaterThan", "two operators in one rule "
	  "(NumericLessThan, NumericGreaterThan); use And to combine them" },
	{ "[{\"And\": [], \"Or\": [], \"Next\": \"x\"}]", "choices[0].Or",
	  "And and Or in one rule; nest one inside the other" },
	{ "[{\"And\": [{\"Variable\": \"$.a\", \"IsNull\": true}], "
	  "\"IsNull\": true, \"Next\": \"x\"}]", "choices[0].IsNull",
	  "And and IsNull in one rule" },
	{ "[{\"Variable\": \"$.a\", \"IsNull\": true, \"Not\": {}, "
	  "\"Next\": \"x\"}]", "choices[0].Not", "Not and IsNull in one rule" },
	{ "[{\"Variable\": \"$.a\", \"Variable\": \"$.b\", \"IsNull\": true, "
	  "\"Next\": \"x\"}]", "choices[0].Variable", "\"Variable\" appears "
	  "twice" },
	{ "[{\"Variable\": \"$.a\", \"And\": [{\"Variable\": \"$.a\", "
	  "\"IsNull\": true}], \"Next\": \"x\"}]", "choices[0].Variable",
	  "a rule with And has no Variable" },
	{ "[{\"NumericLessThan\": 1, \"Next\": \"x\"}]", "choices[0]",
	  "rule with NumericLessThan has no Variable; add \"Variable\"" },
	{ "[{\"Variable\": \"$.a\", \"Next\": \"x\"}]", "choices[0]",
	  "rule has a Variable but no operator" },
	{ "[{\"Next\": \"x\"}]", "choices[0]", "empty rule" },
	{ "[{\"Comment\": \"c\", \"Next\": \"x\"}]", "choices[0]",
	  "empty rule" },
	{ "[{\"Variable\": \"$.a\", \"IsNull\": true}]", "choices[0]",
	  "rule has no \"Next\"" },
	{ "[{\"Variable\": \"$.a\", \"IsNull\": true, \"Next\": 1}]",
	  "choices[0].Next", "Next needs a string naming the outcome, got "
	  "number 1" },
	{ "[{\"Variable\": \"$.a\", \"IsNull\": true, \"Next\": \"\"}]",
	  "choices[0].Next", "Next is empty" },
	{ "[{\"And\": [{\"Variable\": \"$.a\", \"IsNull\": true, \"Next\": "
	  "\"x\"}], \"Next\": \"x\"}]", "choices[0].And[0].Next",
	  "Next is only allowed on top-level rules" },
	{ "[{\"Variable\": \"$.a\", \"IsNull\": true, \"Comment\": 5, "
	  "\"Next\": \"x\"}]", "choices[0].Comment", "Comment needs a string" },
	{ "[{\"And\": {}, \"Next\": \"x\"}]", "choices[0].And",
	  "And needs a non-empty array of rules, got object" },
	{ "[{\"Or\": [], \"Next\": \"x\"}]", "choices[0].Or",
	  "Or needs a non-empty array of rules, got an empty array" },
	{ "[{\"Not\": [{\"Variable\": \"$.a\", \"IsNull\": true}], \"Next\": "
	  "\"x\"}]", "choices[0].Not", "Not needs one rule object, got array" },
	{ "[{\"And\": [5], \"Next\": \"x\"}]", "choices[0].And[0]",
	  "a rule is a JSON object, got number 5" },
	{ "[{\"Variable\": \"$.a\", \"IsNull\": true, \"Next\": \"x\"}, "
	  "{\"Or\": [{\"Variable\": \"$.a\", \"IsNull\": true}, {\"And\": "
	  "[{\"Variable\": \"$.a\", \"IsNull\": true}, {\"Variable\": \"$.a\", "
	  "\"IsNull\": true}, {\"Variable\": \"$.a\", \"NumericLessThan\": "
	  "\"9\"}]}], \"Next\": \"x\"}]",
	  "choices[1].Or[1].And[2].NumericLessThan", "operator NumericLessThan "
	  "needs a number, got string \"9\"; write 9 without quotes" },
	{ "[{\"Variable\": \"$.a\", \"NumericLessThan\": \"96\", \"Next\": "
	  "\"x\"}]", "choices[0].NumericLessThan", "operator NumericLessThan "
	  "needs a number, got string \"96\"; write 96 without quotes" },
	{ "[{\"Variable\": \"$.a\", \"NumericEquals\": \"many\", \"Next\": "
	  "\"x\"}]", "choices[0].NumericEquals", "needs a number, got string "
	  "\"many\"" },
	{ "[{\"Variable\": \"$.a\", \"NumericEquals\": \"-1.5e3\", \"Next\": "
	  "\"x\"}]", "choices[0].NumericEquals", "got string \"-1.5e3\"; write "
	  "-1.5e3 without quotes" },
	{ "[{\"Variable\": \"$.a\", \"NumericEquals\": \"0x10\", \"Next\": "
	  "\"x\"}]", "choices[0].NumericEquals", "got string \"0x10\"" },
	{ "[{\"Variable\": \"$.a\", \"NumericEquals\": null, \"Next\": "
	  "\"x\"}]", "choices[0].NumericEquals", "needs a number, got null" },
	{ "[{\"Variable\": \"$.a\", \"StringEquals\": 5, \"Next\": \"x\"}]",
	  "choices[0].StringEquals", "operator StringEquals needs a string, got "
	  "number 5; put it in quotes" },
	{ "[{\"Variable\": \"$.a\", \"StringLessThan\": [\"a\"], \"Next\": "
	  "\"x\"}]", "choices[0].StringLessThan", "needs a string, got array" },
	{ "[{\"Variable\": \"$.a\", \"BooleanEquals\": \"true\", \"Next\": "
	  "\"x\"}]", "choices[0].BooleanEquals", "operator BooleanEquals needs "
	  "true or false, got string \"true\"; write true without quotes" },
	{ "[{\"Variable\": \"$.a\", \"BooleanEquals\": 1, \"Next\": \"x\"}]",
	  "choices[0].BooleanEquals", "needs true or false, got number 1" },
	{ "[{\"Variable\": \"$.a\", \"IsPresent\": \"true\", \"Next\": "
	  "\"x\"}]", "choices[0].IsPresent", "operator IsPresent needs true or "
	  "false, got string \"true\"; write true without quotes" },
	{ "[{\"Variable\": \"$.a\", \"IsNull\": 1, \"Next\": \"x\"}]",
	  "choices[0].IsNull", "needs true or false, got number 1" },
	{ "[{\"Variable\": \"$.a\", \"StringMatches\": 5, \"Next\": \"x\"}]",
	  "choices[0].StringMatches", "needs a pattern string" },
	{ "[{\"Variable\": \"$.a\", \"TimestampLessThan\": \"2016-03-14\", "
	  "\"Next\": \"x\"}]", "choices[0].TimestampLessThan", "operator "
	  "TimestampLessThan needs an RFC 3339 timestamp such as "
	  "\"2016-03-14T01:59:00Z\", got \"2016-03-14\": date only" },
	{ "[{\"Variable\": \"$.a\", \"TimestampEquals\": "
	  "\"2023-02-30T00:00:00Z\", \"Next\": \"x\"}]",
	  "choices[0].TimestampEquals", "the day does not exist" },
	{ "[{\"Variable\": \"$.a\", \"TimestampEquals\": "
	  "\"2016-12-31T23:59:60Z\", \"Next\": \"x\"}]",
	  "choices[0].TimestampEquals", "leap seconds" },
	{ "[{\"Variable\": \"$.a\", \"TimestampEquals\": 1457920740, "
	  "\"Next\": \"x\"}]", "choices[0].TimestampEquals",
	  "needs a timestamp string" },
	{ "[{\"Variable\": \"$.a\", \"StringMatches\": \"a\\\\b\", "
	  "\"Next\": \"x\"}]", "choices[0].StringMatches", "bad StringMatches "
	  "pattern \"a\\b\": open escape \"\\b\" at byte 1" },
	{ "[{\"Variable\": \"$.a\", \"StringMatches\": \"ab\\\\\", "
	  "\"Next\": \"x\"}]", "choices[0].StringMatches",
	  "pattern ends with a backslash" },
	{ "[{\"Variable\": \"$.a\", \"NumericLessThanPath\": 5, \"Next\": "
	  "\"x\"}]", "choices[0].NumericLessThanPath", "NumericLessThanPath "
	  "needs a reference path string such as \"$.threshold\", got "
	  "number 5" },
	{ "[{\"Variable\": \"$.a\", \"NumericLessThanPath\": \"$.b[*]\", "
	  "\"Next\": \"x\"}]", "choices[0].NumericLessThanPath",
	  "invalid path \"$.b[*]\" in NumericLessThanPath: \"[*]\" (wildcard)" },
	{ "[{\"Variable\": \"$..a\", \"IsNull\": true, \"Next\": \"x\"}]",
	  "choices[0].Variable", "invalid path \"$..a\" in Variable: \"..\" "
	  "(recursive descent)" },
	{ "[{\"Variable\": \"accuracypct\", \"IsNull\": true, \"Next\": "
	  "\"x\"}]", "choices[0].Variable", "write $.accuracypct" },
	{ "[{\"Variable\": 5, \"IsNull\": true, \"Next\": \"x\"}]",
	  "choices[0].Variable", "Variable needs a reference path string such "
	  "as \"$.accuracypct\", got number 5" },
	{ "[{\"Variable\": \"$.a[-1]\", \"IsNull\": true, \"Next\": \"x\"}]",
	  "choices[0].Variable", "negative indexes" },
};

static void test_compile_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		compile_bad(bad_cases[i].rules);
		if (strcmp(err.where, bad_cases[i].where))
			fail_msg("%s: where \"%s\", want \"%s\"",
				 bad_cases[i].rules, err.where,
				 bad_cases[i].where);
		if (!strstr(err.msg, bad_cases[i].msg))
			fail_msg("%s: msg \"%s\" lacks \"%s\"",
				 bad_cases[i].rules, err.msg, bad_cases[i].msg);
		assert_non_null(err.node);
		assert_string_equal(err.path, "");
	}
}

/* Hints only suggest what is valid JSON. */
static void test_error_hints(void **state)
{
	static const char *const nohint[] = { "0x10", "01", "1.", ".5", "1e",
					      "--1", "1e5x", "" };
	char rules[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nohint) / sizeof(nohint[0]); i++) {
		snprintf(rules, sizeof(rules), "[{\"Variable\": \"$.a\", "
			 "\"NumericEquals\": \"%s\", \"Next\": \"x\"}]",
			 nohint[i]);
		compile_bad(rules);
		if (strstr(err.msg, "without quotes"))
			fail_msg("\"%s\": unexpected hint in %s", nohint[i],
				 err.msg);
	}
}

/* err.node is the exact gate node at fault. */
static void test_error_nodes(void **state)
{
	struct choice_set set;
	cJSON *t;

	(void)state;
	t = cJSON_Parse("[{\"Variable\": \"$.a\", \"NumericLessThan\": \"96\","
			" \"Next\": \"x\"}]");
	assert_int_equal(choice_compile(&set, t, "choices", &err), -1);
	assert_true(cJSON_IsString(err.node));
	assert_string_equal(err.node->string, "NumericLessThan");
	assert_string_equal(err.node->valuestring, "96");
	cJSON_Delete(t);

	t = cJSON_Parse("[{\"Variable\": \"$.a\", \"IsNull\": true}]");
	assert_int_equal(choice_compile(&set, t, "gate.choices", &err), -1);
	assert_ptr_equal(err.node, t->child);	/* the rule object */
	assert_string_equal(err.where, "gate.choices[0]");
	cJSON_Delete(t);

	/* a NULL prefix means "choices" */
	t = cJSON_Parse("[{\"Variable\": \"$.a\", \"IsNull\": true}]");
	assert_int_equal(choice_compile(&set, t, NULL, &err), -1);
	assert_string_equal(err.where, "choices[0]");
	cJSON_Delete(t);
}

/* Comment is allowed (string) on any rule and ignored. */
static void test_comment(void **state)
{
	(void)state;
	assert_int_equal(run("{\"Comment\": \"accuracy gate\", \"Variable\": "
			     "\"$.a\", \"NumericLessThan\": 96}",
			     "{\"a\": 50}"), 1);
	assert_int_equal(run("{\"And\": [{\"Comment\": \"inner\", \"Variable\":"
			     " \"$.a\", \"IsPresent\": true}]}", "{}"), 0);
}

/* Nesting is capped at CHOICE_MAX_DEPTH levels (the top rule is level 1). */
static char *nested(int levels)
{
	size_t cap = (size_t)levels * 16 + 128, len = 0;
	char *s = malloc(cap);
	int i;

	len += (size_t)snprintf(s + len, cap - len, "[");
	for (i = 1; i < levels; i++)
		len += (size_t)snprintf(s + len, cap - len, "{\"Not\": ");
	len += (size_t)snprintf(s + len, cap - len, "{\"Variable\": \"$.a\", "
				"\"IsPresent\": true}");
	for (i = 1; i < levels; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s}",
					i == levels - 1 ? ", \"Next\": \"x\"" :
							  "");
	snprintf(s + len, cap - len, "]");
	return s;
}

static void test_depth_limit(void **state)
{
	struct choice_set set;
	char *s;
	cJSON *t;

	(void)state;
	s = nested(CHOICE_MAX_DEPTH);
	t = compile_ok(&set, s);
	/* 63 Nots around IsPresent:true on a missing path: odd -> true */
	assert_int_equal(eval_set(&set, 0, "{}", NULL, NULL, NULL), 1);
	choice_release(&set);
	cJSON_Delete(t);
	free(s);

	s = nested(CHOICE_MAX_DEPTH + 1);
	compile_bad(s);
	assert_non_null(strstr(err.msg, "nested more than 64 levels"));
	assert_int_equal(strncmp(err.where, "choices[0].Not.Not.Not", 22), 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_operator),
		cmocka_unit_test(test_missing_variable),
		cmocka_unit_test(test_type_tests),
		cmocka_unit_test(test_path_targets),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_string_matches),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_boolean_rules),
		cmocka_unit_test(test_leaf_fields),
		cmocka_unit_test(test_leaf_callback),
		cmocka_unit_test(test_bind_context),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_symbols_and_values),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_error_hints),
		cmocka_unit_test(test_error_nodes),
		cmocka_unit_test(test_comment),
		cmocka_unit_test(test_depth_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
