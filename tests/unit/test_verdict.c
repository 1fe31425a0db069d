/* test_verdict.c - unit tests for src/verdict.c.
 *
 * Gates are literal gate files loaded with gate_load_text(); results are
 * literal JSON bound with choice_bind_tree().  Covered: match "first" (the
 * first rule that fires decides, later rules are skipped) against match
 * "all" (every rule runs), fail beating teams, pass rules, the default
 * outcome, no match without a default (States.NoChoiceMatched), runtime
 * errors, the team list (deduplicated, in rule order) and the per-rule
 * record (condition, next, evaluated, fired, tests).
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
#include "verdict.h"

/* Two teams for the gates below (each gate names both, or the loader warns
 * about an unused team), and eng alone. */
#define ENG "\"teams\": {\"eng\": {\"email\": [\"eng@example.com\"]}}"
#define TEAMS "\"teams\": {" \
	"\"research\": {\"email\": [\"r1@example.com\", \"r2@example.com\"], \"approvals\": 2}," \
	"\"eng\": {\"email\": [\"eng@example.com\"]}}"

static struct gate gate;
static struct verdict v;
static struct choice_error err;
static cJSON *in;		/* the results; the verdict borrows its values */

static void load(const char *text)
{
	if (gate_load_text(&gate, "test.json", text, strlen(text)))
		fail_msg("gate did not load: %s", text);
}

/* verdict_compute() of the loaded gate against an input JSON text. */
static int compute(const char *input)
{
	const cJSON **values;
	int rc;

	cJSON_Delete(in);
	in = cJSON_Parse(input);
	if (!in)
		fail_msg("bad test JSON: %s", input);
	values = calloc(gate.choices.npaths + 1, sizeof(*values));
	assert_non_null(values);
	choice_bind_tree(&gate.choices, in, NULL, values);
	memset(&err, 0, sizeof(err));
	rc = verdict_compute(&v, &gate, values, &err);
	free(values);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	verdict_release(&v);
	gate_release(&gate);
	cJSON_Delete(in);
	in = NULL;
	return 0;
}

/* Two rules that both fire on {"a": 5, "b": 5}: a > 1 -> research,
 * b > 1 -> fail; then a rule naming eng that only fires when c is true. */
#define TWO_RULES(match) \
	"{\"version\": 1, \"name\": \"g\", \"match\": \"" match "\", \"choices\": [" \
	"{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"research\"}," \
	"{\"Variable\": \"$.b\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}," \
	"{\"Variable\": \"$.c\", \"BooleanEquals\": true, \"Next\": \"eng\"}]," \
	"\"default\": \"pass\", " TEAMS "}"

static void test_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(outcome_name(OUTCOME_PASS), "pass");
	assert_string_equal(outcome_name(OUTCOME_FAIL), "fail");
	assert_string_equal(outcome_name(OUTCOME_REVIEW), "review");
	assert_int_equal(outcome_exit_code(OUTCOME_PASS), 0);
	assert_int_equal(outcome_exit_code(OUTCOME_FAIL), 1);
	assert_int_equal(outcome_exit_code(OUTCOME_REVIEW), 5);
}

static void test_first_match_decides(void **state)
{
	(void)state;
	load(TWO_RULES("first"));
	assert_int_equal(compute("{\"a\": 5, \"b\": 5, \"c\": true}"), 0);
	/* rule 0 fired: research reviews, the fail rule is never run */
	assert_int_equal(v.outcome, OUTCOME_REVIEW);
	assert_int_equal(v.by_default, 0);
	assert_int_equal(v.nteams, 1);
	assert_string_equal(v.teams[0], "research");
	assert_int_equal(v.nrules, 3);
	assert_int_equal(v.rules[0].evaluated, 1);
	assert_int_equal(v.rules[0].fired, 1);
	assert_int_equal(v.rules[0].nleaves, 1);
	for (size_t i = 1; i < 3; i++) {
		assert_int_equal(v.rules[i].evaluated, 0);
		assert_int_equal(v.rules[i].fired, 0);
		assert_int_equal(v.rules[i].nleaves, 0);
		assert_null(v.rules[i].leaves);
	}
	/* skipped rules still carry their condition and Next for reports */
	assert_string_equal(v.rules[1].condition, "$.b > 1");
	assert_string_equal(v.rules[1].next, "fail");
	assert_string_equal(v.rules[2].condition, "$.c == true");
	assert_string_equal(v.rules[2].next, "eng");
}

static void test_first_match_later_rule(void **state)
{
	(void)state;
	load(TWO_RULES("first"));
	assert_int_equal(compute("{\"a\": 0, \"b\": 5, \"c\": true}"), 0);
	assert_int_equal(v.outcome, OUTCOME_FAIL);
	assert_int_equal(v.nteams, 0);
	assert_int_equal(v.rules[0].evaluated, 1);
	assert_int_equal(v.rules[0].fired, 0);
	assert_int_equal(v.rules[1].evaluated, 1);
	assert_int_equal(v.rules[1].fired, 1);
	assert_int_equal(v.rules[2].evaluated, 0);
}

static void test_first_match_skips_missing_data(void **state)
{
	(void)state;
	/* a skipped rule is not evaluated, so its missing path is no error */
	load(TWO_RULES("first"));
	assert_int_equal(compute("{\"a\": 5}"), 0);
	assert_int_equal(v.outcome, OUTCOME_REVIEW);
	assert_int_equal(v.rules[1].evaluated, 0);
}

static void test_all_evaluates_every_rule(void **state)
{
	(void)state;
	load(TWO_RULES("all"));
	assert_int_equal(compute("{\"a\": 5, \"b\": 0, \"c\": true}"), 0);
	assert_int_equal(v.outcome, OUTCOME_REVIEW);
	assert_int_equal(v.by_default, 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(v.rules[i].evaluated, 1);
		assert_int_equal(v.rules[i].nleaves, 1);
	}
	assert_int_equal(v.rules[0].fired, 1);
	assert_int_equal(v.rules[1].fired, 0);
	assert_int_equal(v.rules[2].fired, 1);
	/* both teams, in rule order */
	assert_int_equal(v.nteams, 2);
	assert_string_equal(v.teams[0], "research");
	assert_string_equal(v.teams[1], "eng");
}

static void test_all_fail_beats_teams(void **state)
{
	(void)state;
	load(TWO_RULES("all"));
	/* teams fire before and after the fail rule */
	assert_int_equal(compute("{\"a\": 5, \"b\": 5, \"c\": true}"), 0);
	assert_int_equal(v.outcome, OUTCOME_FAIL);
	assert_int_equal(v.by_default, 0);
	assert_int_equal(v.nteams, 0);
	assert_int_equal(v.rules[0].fired, 1);
	assert_int_equal(v.rules[1].fired, 1);
	assert_int_equal(v.rules[2].fired, 1);
}

static void test_all_missing_data_is_an_error(void **state)
{
	(void)state;
	/* under "all" every rule runs, so a missing metric is found even after
	 * a rule fired; the error names the rule and the path */
	load(TWO_RULES("all"));
	assert_int_equal(compute("{\"a\": 5, \"c\": true}"), -1);
	assert_string_equal(err.where, "choices[1]");
	assert_string_equal(err.path, "$.b");
	assert_non_null(strstr(err.msg, "States.Runtime"));
	assert_int_equal(v.nrules, 0);
	assert_null(v.rules);
	assert_int_equal(v.nteams, 0);
	assert_null(v.teams);
}

static void test_pass_rules(void **state)
{
	(void)state;
	/* a fired "pass" only passes when no team is named */
	load("{\"version\": 1, \"name\": \"g\", \"match\": \"all\", \"choices\": ["
	     "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"pass\"},"
	     "{\"Variable\": \"$.b\", \"NumericGreaterThan\": 1, \"Next\": \"eng\"}],"
	     "\"default\": \"fail\", " ENG "}");
	assert_int_equal(compute("{\"a\": 2, \"b\": 0}"), 0);
	assert_int_equal(v.outcome, OUTCOME_PASS);
	assert_int_equal(v.by_default, 0);
	assert_int_equal(v.nteams, 0);
	verdict_release(&v);

	assert_int_equal(compute("{\"a\": 2, \"b\": 2}"), 0);
	assert_int_equal(v.outcome, OUTCOME_REVIEW);
	assert_int_equal(v.nteams, 1);
	assert_string_equal(v.teams[0], "eng");
	assert_int_equal(v.rules[0].fired, 1);
	assert_int_equal(v.rules[1].fired, 1);
}

static void test_default_outcomes(void **state)
{
	static const struct {
		const char *def;
		enum outcome outcome;
		const char *team;
	} cases[] = {
		{ "pass", OUTCOME_PASS, NULL },
		{ "fail", OUTCOME_FAIL, NULL },
		{ "research", OUTCOME_REVIEW, "research" },
	};
	char text[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"version\": 1, \"name\": \"g\", \"choices\": ["
			 "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"eng\"},"
			 "{\"Variable\": \"$.a\", \"NumericLessThan\": -1, \"Next\": \"research\"}],"
			 "\"default\": \"%s\", " TEAMS "}", cases[i].def);
		load(text);
		assert_int_equal(compute("{\"a\": 0}"), 0);
		assert_int_equal(v.outcome, cases[i].outcome);
		assert_int_equal(v.by_default, 1);
		assert_int_equal(v.rules[0].evaluated, 1);
		assert_int_equal(v.rules[0].fired, 0);
		assert_int_equal(v.rules[1].evaluated, 1);
		assert_int_equal(v.rules[1].fired, 0);
		if (cases[i].team) {
			assert_int_equal(v.nteams, 1);
			assert_string_equal(v.teams[0], cases[i].team);
		} else {
			assert_int_equal(v.nteams, 0);
		}
		verdict_release(&v);
		gate_release(&gate);
	}
}

static void test_default_not_used_when_a_rule_fires(void **state)
{
	(void)state;
	load("{\"version\": 1, \"name\": \"g\", \"choices\": ["
	     "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"pass\"}],"
	     "\"default\": \"fail\"}");
	assert_int_equal(compute("{\"a\": 2}"), 0);
	assert_int_equal(v.outcome, OUTCOME_PASS);
	assert_int_equal(v.by_default, 0);
}

static void test_no_match_without_default(void **state)
{
	(void)state;
	load("{\"version\": 1, \"name\": \"g\", \"choices\": ["
	     "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}]}");
	assert_null(gate.default_next);
	assert_int_equal(compute("{\"a\": 0}"), -1);
	assert_string_equal(err.where, "default");
	assert_non_null(strstr(err.msg, "States.NoChoiceMatched"));
	assert_non_null(strstr(err.msg, "no rule matched"));
	assert_null(err.node);
	/* nothing is left behind */
	assert_null(v.rules);
	assert_int_equal(v.nrules, 0);
	assert_int_equal(v.by_default, 0);
	/* the same gate decides normally when a rule fires */
	assert_int_equal(compute("{\"a\": 3}"), 0);
	assert_int_equal(v.outcome, OUTCOME_FAIL);
}

static void test_team_dedup_and_order(void **state)
{
	(void)state;
	/* eng twice, research once: each team once, in the order of the first
	 * rule that names it */
	load("{\"version\": 1, \"name\": \"g\", \"match\": \"all\", \"choices\": ["
	     "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"eng\"},"
	     "{\"Variable\": \"$.b\", \"NumericGreaterThan\": 1, \"Next\": \"pass\"},"
	     "{\"Variable\": \"$.c\", \"NumericGreaterThan\": 1, \"Next\": \"research\"},"
	     "{\"Variable\": \"$.d\", \"NumericGreaterThan\": 1, \"Next\": \"eng\"}],"
	     "\"default\": \"pass\", " TEAMS "}");
	assert_int_equal(compute("{\"a\": 2, \"b\": 2, \"c\": 2, \"d\": 2}"), 0);
	assert_int_equal(v.outcome, OUTCOME_REVIEW);
	assert_int_equal(v.nteams, 2);
	assert_string_equal(v.teams[0], "eng");
	assert_string_equal(v.teams[1], "research");
	verdict_release(&v);

	/* only the later rules fire: research comes first now */
	assert_int_equal(compute("{\"a\": 0, \"b\": 0, \"c\": 2, \"d\": 2}"), 0);
	assert_int_equal(v.nteams, 2);
	assert_string_equal(v.teams[0], "research");
	assert_string_equal(v.teams[1], "eng");
	verdict_release(&v);

	/* only pass fires: pass */
	assert_int_equal(compute("{\"a\": 0, \"b\": 2, \"c\": 0, \"d\": 0}"), 0);
	assert_int_equal(v.outcome, OUTCOME_PASS);
	assert_int_equal(v.by_default, 0);
	assert_int_equal(v.nteams, 0);
}

static void test_rule_records(void **state)
{
	const struct choice_leaf *l;

	(void)state;
	/* And short-circuits: the second test is not run when the first is
	 * false, and only tests actually run are recorded */
	load("{\"version\": 1, \"name\": \"g\", \"match\": \"all\", \"choices\": ["
	     "{\"And\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1},"
	     "          {\"Variable\": \"$.b\", \"StringEquals\": \"x\"}], \"Next\": \"fail\"},"
	     "{\"Variable\": \"$.a\", \"NumericLessThanPath\": \"$.limit\", \"Next\": \"eng\"}],"
	     "\"default\": \"pass\", " ENG "}");
	assert_int_equal(compute("{\"a\": 0, \"b\": \"x\", \"limit\": 3}"), 0);
	assert_int_equal(v.outcome, OUTCOME_REVIEW);
	assert_int_equal(v.nrules, 2);
	assert_string_equal(v.rules[0].condition, "And($.a > 1, $.b == \"x\")");
	assert_string_equal(v.rules[0].next, "fail");
	assert_int_equal(v.rules[0].fired, 0);
	assert_int_equal(v.rules[0].nleaves, 1);
	l = &v.rules[0].leaves[0];
	assert_string_equal(l->where, "choices[0].And[0]");
	assert_string_equal(l->variable, "$.a");
	assert_string_equal(l->op, "NumericGreaterThan");
	assert_int_equal(l->result, 0);
	assert_non_null(l->value);
	assert_int_equal(l->value->valueint, 0);

	assert_string_equal(v.rules[1].condition, "$.a < $.limit");
	assert_int_equal(v.rules[1].fired, 1);
	assert_int_equal(v.rules[1].nleaves, 1);
	l = &v.rules[1].leaves[0];
	assert_string_equal(l->where, "choices[1]");
	assert_string_equal(l->operand_path, "$.limit");
	assert_non_null(l->operand_value);
	assert_int_equal(l->operand_value->valueint, 3);
	assert_int_equal(l->result, 1);
	verdict_release(&v);

	/* both tests of the And run when the first is true */
	assert_int_equal(compute("{\"a\": 5, \"b\": \"x\", \"limit\": 3}"), 0);
	assert_int_equal(v.outcome, OUTCOME_FAIL);
	assert_int_equal(v.rules[0].nleaves, 2);
	assert_string_equal(v.rules[0].leaves[1].where, "choices[0].And[1]");
	assert_string_equal(v.rules[0].leaves[1].variable, "$.b");
	assert_int_equal(v.rules[0].leaves[1].result, 1);
	assert_int_equal(v.rules[1].fired, 0);
}

static void test_release_is_idempotent(void **state)
{
	(void)state;
	load(TWO_RULES("all"));
	assert_int_equal(compute("{\"a\": 5, \"b\": 5, \"c\": true}"), 0);
	verdict_release(&v);
	assert_null(v.rules);
	assert_null(v.teams);
	assert_int_equal(v.nrules, 0);
	assert_int_equal(v.nteams, 0);
	verdict_release(&v);	/* teardown releases once more */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test_teardown(test_first_match_decides, teardown),
		cmocka_unit_test_teardown(test_first_match_later_rule, teardown),
		cmocka_unit_test_teardown(test_first_match_skips_missing_data, teardown),
		cmocka_unit_test_teardown(test_all_evaluates_every_rule, teardown),
		cmocka_unit_test_teardown(test_all_fail_beats_teams, teardown),
		cmocka_unit_test_teardown(test_all_missing_data_is_an_error, teardown),
		cmocka_unit_test_teardown(test_pass_rules, teardown),
		cmocka_unit_test_teardown(test_default_outcomes, teardown),
		cmocka_unit_test_teardown(test_default_not_used_when_a_rule_fires, teardown),
		cmocka_unit_test_teardown(test_no_match_without_default, teardown),
		cmocka_unit_test_teardown(test_team_dedup_and_order, teardown),
		cmocka_unit_test_teardown(test_rule_records, teardown),
		cmocka_unit_test_teardown(test_release_is_idempotent, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
