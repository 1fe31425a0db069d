/* test_report.c - unit tests for src/report.c.
 *
 * The text table (`greenlight check`): header line, the RULE / CONDITION /
 * VALUE / FIRED / NEXT columns and their widths, values of plain, compound
 * and ...Path rules, skipped rules, and the outcome line with teams and
 * quorums.  The decision record (report_json): exactly the fields
 * docs/decision-record.md lists, with their types and values, per rule and
 * per data test.  Gates are loaded from text, verdicts computed for real.
 * (Escaping of control characters is deliberately not covered here.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gate.h"
#include "report.h"
#include "verdict.h"

#define T_NOW 1700000000	/* 2023-11-14T22:13:20Z */

static struct gate gate;
static struct verdict v;
static char *text;		/* last report_text() output */
static cJSON *rec;		/* last report_json() output */
static cJSON *input;		/* the results; the verdict borrows its values */

/* The seed gate of examples/seed/greenlight.json, with `match` filled in. */
#define SEED(match) \
	"{\"version\": 1, \"name\": \"model-release\", \"match\": \"" match "\", \"choices\": [" \
	"{\"Variable\": \"$.accuracypct\", \"NumericLessThan\": 96, \"Next\": \"research\"}," \
	"{\"Variable\": \"$.latencyMs\", \"NumericGreaterThan\": 80, \"Next\": \"engineering\"}]," \
	"\"default\": \"pass\", \"teams\": {" \
	"\"research\": {\"email\": [\"research@example.com\", \"lead@example.com\"], \"approvals\": 2}," \
	"\"engineering\": {\"email\": [\"engineering@example.com\"]}}}"

/* Load a gate and compute its verdict for a results JSON text. */
static void decide(const char *gate_text, const char *results)
{
	struct choice_error err;
	const cJSON **values;

	input = cJSON_Parse(results);
	if (!input)
		fail_msg("bad test JSON: %s", results);
	if (gate_load_text(&gate, "gates/g.json", gate_text, strlen(gate_text)))
		fail_msg("gate did not load: %s", gate_text);
	values = calloc(gate.choices.npaths + 1, sizeof(*values));
	assert_non_null(values);
	choice_bind_tree(&gate.choices, input, NULL, values);
	if (verdict_compute(&v, &gate, values, &err))
		fail_msg("verdict: %s: %s", err.where, err.msg);
	free(values);
}

/* report_text() of the current verdict into `text`. */
static const char *render(const char *results)
{
	size_t len;
	FILE *f;

	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	report_text(f, &gate, results, &v, NULL);
	assert_int_equal(fclose(f), 0);
	return text;
}

static cJSON *record(const char *results)
{
	cJSON_Delete(rec);
	rec = report_json(&gate, results, &v, T_NOW, NULL);
	assert_non_null(rec);
	return rec;
}

static int teardown(void **state)
{
	(void)state;
	free(text);
	text = NULL;
	cJSON_Delete(rec);
	rec = NULL;
	verdict_release(&v);
	gate_release(&gate);
	cJSON_Delete(input);
	input = NULL;
	return 0;
}

/* Line n (0-based) of s into out. */
static const char *line_of(const char *s, int n, char *out, size_t size)
{
	const char *end;

	while (n-- > 0) {
		s = strchr(s, '\n');
		if (!s)
			fail_msg("no line %d", n);
		s++;
	}
	end = strchr(s, '\n');
	if (!end)
		end = s + strlen(s);
	if ((size_t)(end - s) >= size)
		fail_msg("line too long");
	memcpy(out, s, (size_t)(end - s));
	out[end - s] = '\0';
	return out;
}

/* --- report_value ------------------------------------------------------ */

static void check_value(const char *json, size_t max, const char *want)
{
	char out[128];
	cJSON *j = json ? cJSON_Parse(json) : NULL;

	if (json && !j)
		fail_msg("bad test JSON: %s", json);
	memset(out, 'X', sizeof(out));
	report_value(j, out, max);
	assert_string_equal(out, want);
	assert_true(strlen(out) < max);
	cJSON_Delete(j);
}

static void test_value(void **state)
{
	(void)state;
	check_value(NULL, 64, "(missing)");
	check_value("225", 64, "225");
	check_value("95.5", 64, "95.5");
	check_value("\"abc\"", 64, "\"abc\"");
	check_value("true", 64, "true");
	check_value("null", 64, "null");
	check_value("[1, 2, {\"a\": \"b\"}]", 64, "[1,2,{\"a\":\"b\"}]");
	/* exactly fits: 9 chars in 10 bytes */
	check_value("\"1234567\"", 10, "\"1234567\"");
	/* one more does not: cut to max-4 bytes and "..." */
	check_value("\"12345678\"", 10, "\"12345...");
	check_value("[1,2,3,4,5,6,7,8,9,10,11,12]", 16, "[1,2,3,4,5,6...");
	/* "(missing)" is cut like anything else */
	check_value(NULL, 5, "(mis");
}

/* --- report_text --------------------------------------------------------- */

static void test_text_table(void **state)
{
	(void)state;
	decide(SEED("first"), "{\"accuracypct\": 100, \"latencyMs\": 225}");
	assert_string_equal(render("results/slow.json"),
		"gate model-release (gates/g.json), match first, results results/slow.json\n"
		"  RULE         CONDITION           VALUE  FIRED    NEXT\n"
		"  choices[0]   $.accuracypct < 96  100    no       research\n"
		"  choices[1]   $.latencyMs > 80    225    yes      engineering\n"
		"outcome: review - notify engineering (engineering@example.com; 1 approval)\n");
}

static void test_text_skipped_and_stdin(void **state)
{
	(void)state;
	/* the first rule decides; the second is shown as skipped with "-" */
	decide(SEED("first"), "{\"accuracypct\": 90, \"latencyMs\": 225}");
	assert_string_equal(render("-"),
		"gate model-release (gates/g.json), match first, results stdin\n"
		"  RULE         CONDITION           VALUE  FIRED    NEXT\n"
		"  choices[0]   $.accuracypct < 96  90     yes      research\n"
		"  choices[1]   $.latencyMs > 80    -      skipped  engineering\n"
		"outcome: review - notify research (research@example.com, lead@example.com; 2 approvals)\n");
}

static void test_text_all_teams(void **state)
{
	(void)state;
	decide(SEED("all"), "{\"accuracypct\": 90, \"latencyMs\": 225}");
	assert_string_equal(render("r.json"),
		"gate model-release (gates/g.json), match all, results r.json\n"
		"  RULE         CONDITION           VALUE  FIRED    NEXT\n"
		"  choices[0]   $.accuracypct < 96  90     yes      research\n"
		"  choices[1]   $.latencyMs > 80    225    yes      engineering\n"
		"outcome: review - notify research (research@example.com, lead@example.com; 2 approvals), "
		"engineering (engineering@example.com; 1 approval)\n");
}

static void test_text_outcome_lines(void **state)
{
	char line[256];

	(void)state;
	decide(SEED("first"), "{\"accuracypct\": 100, \"latencyMs\": 10}");
	assert_string_equal(line_of(render("r.json"), 4, line, sizeof(line)),
			    "outcome: pass (no rule fired; default)");
	teardown(state);

	decide("{\"version\": 1, \"name\": \"n\", \"choices\": ["
	       "{\"Variable\": \"$.x\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}],"
	       "\"default\": \"pass\"}", "{\"x\": 2}");
	assert_string_equal(line_of(render("r.json"), 3, line, sizeof(line)),
			    "outcome: fail");
	teardown(state);

	decide("{\"version\": 1, \"name\": \"n\", \"choices\": ["
	       "{\"Variable\": \"$.x\", \"NumericGreaterThan\": 1, \"Next\": \"pass\"}],"
	       "\"default\": \"fail\"}", "{\"x\": 0}");
	assert_string_equal(line_of(render("r.json"), 3, line, sizeof(line)),
			    "outcome: fail (no rule fired; default)");
	teardown(state);

	decide("{\"version\": 1, \"name\": \"n\", \"choices\": ["
	       "{\"Variable\": \"$.x\", \"NumericGreaterThan\": 1, \"Next\": \"pass\"}],"
	       "\"default\": \"ops\", \"teams\": {\"ops\": {\"email\": "
	       "[\"a@example.com\", \"b@example.com\", \"c@example.com\"], \"approvals\": 3}}}",
	       "{\"x\": 0}");
	assert_string_equal(line_of(render("r.json"), 3, line, sizeof(line)),
			    "outcome: review (no rule fired; default) - notify ops "
			    "(a@example.com, b@example.com, c@example.com; 3 approvals)");
}

static void test_text_compound_values(void **state)
{
	(void)state;
	/* compound and ...Path rules show path=value for every test run;
	 * a missing value shows as (missing) */
	decide("{\"version\": 1, \"name\": \"c\", \"match\": \"all\", \"choices\": ["
	       "{\"And\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1},"
	       "{\"Variable\": \"$.b\", \"StringEquals\": \"x\"}], \"Next\": \"fail\"},"
	       "{\"Variable\": \"$.a\", \"NumericLessThanPath\": \"$.lim\", \"Next\": \"pass\"},"
	       "{\"Variable\": \"$.gone\", \"IsPresent\": false, \"Next\": \"pass\"}],"
	       "\"default\": \"pass\"}",
	       "{\"a\": 5, \"b\": \"x\", \"lim\": 7}");
	assert_string_equal(render("r.json"),
		"gate c (gates/g.json), match all, results r.json\n"
		"  RULE         CONDITION                 VALUE           FIRED    NEXT\n"
		"  choices[0]   And($.a > 1, $.b == \"x\")  $.a=5, $.b=\"x\"  yes      fail\n"
		"  choices[1]   $.a < $.lim               $.a=5, $.lim=7  yes      pass\n"
		"  choices[2]   $.gone is not present     (missing)       yes      pass\n"
		"outcome: fail\n");
}

static void test_text_column_caps(void **state)
{
	char gtext[2048], results[512], line[1024];
	char longstr[101], want[256];
	const char *hdr;

	(void)state;
	/* a condition over 60 characters widens CONDITION to 60 only; a plain
	 * value over 63 bytes is cut to 60 and "..." */
	memset(longstr, 'y', 100);
	longstr[100] = '\0';
	snprintf(gtext, sizeof(gtext),
		 "{\"version\": 1, \"name\": \"w\", \"choices\": ["
		 "{\"Variable\": \"$.s\", \"StringEquals\": \"%s\", \"Next\": \"fail\"}],"
		 "\"default\": \"pass\"}", longstr);
	snprintf(results, sizeof(results), "{\"s\": \"%s\"}", longstr);
	decide(gtext, results);
	assert_true(strlen(v.rules[0].condition) > 60);
	hdr = line_of(render("r.json"), 1, line, sizeof(line));
	/* "  RULE" padded to 12 and a space: 15 columns, then 60 + 2 */
	assert_int_equal(strstr(hdr, "VALUE") - hdr, 15 + 60 + 2);
	/* FIRED follows the 63-byte cut value and two spaces */
	assert_int_equal(strstr(hdr, "FIRED") - hdr, 15 + 60 + 2 + 63 + 2);
	line_of(text, 2, line, sizeof(line));
	/* the row holds the whole condition, then the cut value */
	assert_non_null(strstr(line, v.rules[0].condition));
	snprintf(want, sizeof(want), "  \"%.59s...  yes ", longstr);
	assert_non_null(strstr(line, want));
	teardown(state);

	/* compound values are not cut to a value's size; the column is still
	 * at most 64 wide */
	snprintf(gtext, sizeof(gtext),
		 "{\"version\": 1, \"name\": \"w\", \"choices\": ["
		 "{\"Or\": [{\"Variable\": \"$.s\", \"StringEquals\": \"a\"},"
		 "{\"Variable\": \"$.t\", \"StringEquals\": \"b\"}], \"Next\": \"fail\"}],"
		 "\"default\": \"pass\"}");
	snprintf(results, sizeof(results), "{\"s\": \"%.50s\", \"t\": \"%.50s\"}",
		 longstr, longstr);
	decide(gtext, results);
	hdr = line_of(render("r.json"), 1, line, sizeof(line));
	assert_int_equal(strstr(hdr, "FIRED") - hdr, 15 + (long)strlen(v.rules[0].condition) + 2 + 64 + 2);
	line_of(text, 2, line, sizeof(line));
	snprintf(want, sizeof(want), "$.s=\"%.50s\", $.t=\"%.50s\"  no ",
		 longstr, longstr);
	assert_non_null(strstr(line, want));
}

/* --- report_json --------------------------------------------------------- */

/* The object's member names, in order, joined by ",". */
static const char *keys_of(const cJSON *o, char *out, size_t size)
{
	size_t len = 0;

	assert_true(cJSON_IsObject(o));
	out[0] = '\0';
	for (const cJSON *m = o->child; m; m = m->next)
		len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "," : "",
					m->string);
	assert_true(len < size);
	return out;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!m)
		fail_msg("no \"%s\" in the record", key);
	return m;
}

static void want_string(const cJSON *o, const char *key, const char *want)
{
	const cJSON *m = get(o, key);

	assert_true(cJSON_IsString(m));
	assert_string_equal(m->valuestring, want);
}

static void want_number(const cJSON *o, const char *key, double want)
{
	const cJSON *m = get(o, key);

	assert_true(cJSON_IsNumber(m));
	assert_true(m->valuedouble == want);
}

static void want_bool(const cJSON *o, const char *key, int want)
{
	const cJSON *m = get(o, key);

	assert_true(cJSON_IsBool(m));
	assert_int_equal(cJSON_IsTrue(m), want);
}

static void test_json_record(void **state)
{
	char keys[512];
	const cJSON *teams, *t, *rules, *r, *tests, *e;

	(void)state;
	decide(SEED("first"), "{\"accuracypct\": 100, \"latencyMs\": 225}");
	record("results/slow.json");
	/* exactly the documented top-level fields */
	assert_string_equal(keys_of(rec, keys, sizeof(keys)),
			    "record_version,greenlight,gate,gate_file,results_file,match,"
			    "evaluated_at,outcome,exit_code,default_used,teams,rules");
	want_number(rec, "record_version", 1);
	want_string(rec, "greenlight", GREENLIGHT_VERSION);
	want_string(rec, "gate", "model-release");
	want_string(rec, "gate_file", "gates/g.json");
	want_string(rec, "results_file", "results/slow.json");
	want_string(rec, "match", "first");
	want_string(rec, "evaluated_at", "2023-11-14T22:13:20Z");
	want_string(rec, "outcome", "review");
	want_number(rec, "exit_code", 5);
	want_bool(rec, "default_used", 0);

	teams = get(rec, "teams");
	assert_true(cJSON_IsArray(teams));
	assert_int_equal(cJSON_GetArraySize(teams), 1);
	t = cJSON_GetArrayItem(teams, 0);
	assert_string_equal(keys_of(t, keys, sizeof(keys)), "name,email,approvals");
	want_string(t, "name", "engineering");
	want_number(t, "approvals", 1);
	e = get(t, "email");
	assert_true(cJSON_IsArray(e));
	assert_int_equal(cJSON_GetArraySize(e), 1);
	assert_string_equal(cJSON_GetArrayItem(e, 0)->valuestring, "engineering@example.com");

	rules = get(rec, "rules");
	assert_true(cJSON_IsArray(rules));
	assert_int_equal(cJSON_GetArraySize(rules), 2);
	r = cJSON_GetArrayItem(rules, 1);
	assert_string_equal(keys_of(r, keys, sizeof(keys)),
			    "rule,condition,next,evaluated,fired,tests");
	want_string(r, "rule", "choices[1]");
	want_string(r, "condition", "$.latencyMs > 80");
	want_string(r, "next", "engineering");
	want_bool(r, "evaluated", 1);
	want_bool(r, "fired", 1);
	tests = get(r, "tests");
	assert_int_equal(cJSON_GetArraySize(tests), 1);
	e = cJSON_GetArrayItem(tests, 0);
	assert_string_equal(keys_of(e, keys, sizeof(keys)),
			    "rule,variable,operator,threshold,present,value,result");
	want_string(e, "rule", "choices[1]");
	want_string(e, "variable", "$.latencyMs");
	want_string(e, "operator", "NumericGreaterThan");
	want_number(e, "threshold", 80);
	want_bool(e, "present", 1);
	want_number(e, "value", 225);
	want_bool(e, "result", 1);

	r = cJSON_GetArrayItem(rules, 0);
	want_string(r, "rule", "choices[0]");
	want_string(r, "condition", "$.accuracypct < 96");
	want_string(r, "next", "research");
	want_bool(r, "fired", 0);
	e = cJSON_GetArrayItem(get(r, "tests"), 0);
	want_number(e, "threshold", 96);
	want_number(e, "value", 100);
	want_bool(e, "result", 0);
}

static void test_json_skipped_rule(void **state)
{
	const cJSON *r;

	(void)state;
	decide(SEED("first"), "{\"accuracypct\": 90, \"latencyMs\": 225}");
	record("-");
	want_string(rec, "results_file", "stdin");
	r = cJSON_GetArrayItem(get(rec, "rules"), 1);
	want_bool(r, "evaluated", 0);
	want_bool(r, "fired", 0);
	assert_true(cJSON_IsArray(get(r, "tests")));
	assert_int_equal(cJSON_GetArraySize(get(r, "tests")), 0);
	/* the quorum of the team that must review */
	r = cJSON_GetArrayItem(get(rec, "teams"), 0);
	want_string(r, "name", "research");
	want_number(r, "approvals", 2);
	assert_int_equal(cJSON_GetArraySize(get(r, "email")), 2);
	assert_string_equal(cJSON_GetArrayItem(get(r, "email"), 1)->valuestring,
			    "lead@example.com");
}

static void test_json_outcomes(void **state)
{
	(void)state;
	decide(SEED("all"), "{\"accuracypct\": 90, \"latencyMs\": 225}");
	record("r.json");
	want_string(rec, "match", "all");
	want_string(rec, "outcome", "review");
	want_number(rec, "exit_code", 5);
	assert_int_equal(cJSON_GetArraySize(get(rec, "teams")), 2);
	want_string(cJSON_GetArrayItem(get(rec, "teams"), 0), "name", "research");
	want_string(cJSON_GetArrayItem(get(rec, "teams"), 1), "name", "engineering");
	teardown(state);

	decide(SEED("all"), "{\"accuracypct\": 100, \"latencyMs\": 5}");
	record("r.json");
	want_string(rec, "outcome", "pass");
	want_number(rec, "exit_code", 0);
	want_bool(rec, "default_used", 1);
	assert_int_equal(cJSON_GetArraySize(get(rec, "teams")), 0);
	teardown(state);

	decide("{\"version\": 1, \"name\": \"f\", \"choices\": ["
	       "{\"Variable\": \"$.x\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}],"
	       "\"default\": \"pass\"}", "{\"x\": 2}");
	record("r.json");
	want_string(rec, "outcome", "fail");
	want_number(rec, "exit_code", 1);
	want_bool(rec, "default_used", 0);
}

static void test_json_tests(void **state)
{
	char keys[512];
	const cJSON *r, *e;

	(void)state;
	decide("{\"version\": 1, \"name\": \"c\", \"match\": \"all\", \"choices\": ["
	       "{\"Or\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 10},"
	       "{\"Variable\": \"$.b\", \"StringEquals\": \"x\"}], \"Next\": \"fail\"},"
	       "{\"Variable\": \"$.a\", \"NumericLessThanPath\": \"$.lim\", \"Next\": \"pass\"},"
	       "{\"Variable\": \"$.gone\", \"IsPresent\": false, \"Next\": \"pass\"}],"
	       "\"default\": \"pass\"}",
	       "{\"a\": 5, \"b\": \"x\", \"lim\": 7}");
	record("r.json");
	r = cJSON_GetArrayItem(get(rec, "rules"), 0);
	want_string(r, "condition", "Or($.a > 10, $.b == \"x\")");
	assert_int_equal(cJSON_GetArraySize(get(r, "tests")), 2);
	e = cJSON_GetArrayItem(get(r, "tests"), 0);
	want_string(e, "rule", "choices[0].Or[0]");
	want_bool(e, "result", 0);
	e = cJSON_GetArrayItem(get(r, "tests"), 1);
	want_string(e, "rule", "choices[0].Or[1]");
	want_string(e, "variable", "$.b");
	want_string(e, "operator", "StringEquals");
	want_string(e, "threshold", "x");
	want_string(e, "value", "x");
	want_bool(e, "result", 1);

	/* ...Path: threshold_path as written, threshold the value found */
	e = cJSON_GetArrayItem(get(cJSON_GetArrayItem(get(rec, "rules"), 1), "tests"), 0);
	assert_string_equal(keys_of(e, keys, sizeof(keys)),
			    "rule,variable,operator,threshold_path,threshold,present,value,result");
	want_string(e, "operator", "NumericLessThanPath");
	want_string(e, "threshold_path", "$.lim");
	want_number(e, "threshold", 7);
	want_number(e, "value", 5);
	want_bool(e, "result", 1);

	/* a missing value: present false and no "value" */
	e = cJSON_GetArrayItem(get(cJSON_GetArrayItem(get(rec, "rules"), 2), "tests"), 0);
	assert_string_equal(keys_of(e, keys, sizeof(keys)),
			    "rule,variable,operator,threshold,present,result");
	want_string(e, "operator", "IsPresent");
	assert_true(cJSON_IsFalse(get(e, "threshold")));
	want_bool(e, "present", 0);
	want_bool(e, "result", 1);
}

static void test_json_is_independent(void **state)
{
	char *s;

	(void)state;
	/* the record owns its values: it outlives the gate and the verdict */
	decide(SEED("first"), "{\"accuracypct\": 100, \"latencyMs\": 225}");
	record("r.json");
	verdict_release(&v);
	gate_release(&gate);
	cJSON_Delete(input);
	input = NULL;
	s = cJSON_PrintUnformatted(rec);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"gate\":\"model-release\""));
	assert_non_null(strstr(s, "\"value\":225"));
	assert_non_null(strstr(s, "\"email\":[\"engineering@example.com\"]"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value),
		cmocka_unit_test_teardown(test_text_table, teardown),
		cmocka_unit_test_teardown(test_text_skipped_and_stdin, teardown),
		cmocka_unit_test_teardown(test_text_all_teams, teardown),
		cmocka_unit_test_teardown(test_text_outcome_lines, teardown),
		cmocka_unit_test_teardown(test_text_compound_values, teardown),
		cmocka_unit_test_teardown(test_text_column_caps, teardown),
		cmocka_unit_test_teardown(test_json_record, teardown),
		cmocka_unit_test_teardown(test_json_skipped_rule, teardown),
		cmocka_unit_test_teardown(test_json_outcomes, teardown),
		cmocka_unit_test_teardown(test_json_tests, teardown),
		cmocka_unit_test_teardown(test_json_is_independent, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
