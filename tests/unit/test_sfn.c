/* test_sfn.c - unit tests for the Step Functions import (src/sfn.c).
 *
 * The mapping of Choice targets (Succeed, Fail, waitForTaskToken tasks,
 * Pass/Wait chains), team names from team_alias or the state, --team
 * parsing, and the refusals (Parallel, nested Choice, plain Task), each
 * with its one line on stderr.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture.h"
#include "sfn.h"

#define WAIT "\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke.waitForTaskToken\""
#define ENDS "\"Ok\":{\"Type\":\"Succeed\"},\"No\":{\"Type\":\"Fail\"}"
#define RULE(next) "{\"Variable\":\"$.a\",\"NumericLessThan\":1,\"Next\":\"" next "\"}"

static int run(const char *def, const struct sfn_opts *o, char **out, size_t *ph)
{
	struct sfn_opts none = { NULL, NULL, 0 };
	int rc;

	capture_begin();
	rc = sfn_import("def.json", def, strlen(def), o ? o : &none, out, ph);
	capture_end();
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	capture_reset();
	return 0;
}

static void test_outcomes(void **state)
{
	char *out;
	size_t ph;
	(void)state;

	assert_int_equal(run("{\"Comment\":\"g\",\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":["
			     RULE("No") "," RULE("P") "],\"Default\":\"Ok\"},"
			     "\"P\":{\"Type\":\"Pass\",\"Next\":\"Ok\"}," ENDS "}}", NULL, &out, &ph), 0);
	assert_non_null(strstr(out, "\"Next\": \"fail\""));
	assert_non_null(strstr(out, "\"Next\": \"pass\""));
	assert_non_null(strstr(out, "\"default\": \"pass\""));
	assert_non_null(strstr(out, "\"name\": \"g\""));
	assert_null(strstr(out, "\"teams\""));
	assert_int_equal(ph, 0);
	assert_non_null(strstr(captured, "state \"P\" (Pass) is skipped"));
	assert_int_equal(count_lines(captured), 1);
	free(out);
}

static void test_teams(void **state)
{
	char *out;
	size_t ph;
	struct sfn_team t;
	struct sfn_opts o = { "x", &t, 1 };
	const char *def = "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":["
			  RULE("A") "," RULE("B") "]},"
			  "\"A\":{" WAIT ",\"Parameters\":{\"Payload\":{\"team_alias\":\"ops@example.com\"}},\"Next\":\"Ok\"},"
			  "\"B\":{" WAIT ",\"Parameters\":{\"team\":\"qa\"},\"End\":true,\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"No\"}]},"
			  ENDS "}}";
	(void)state;

	assert_int_equal(run(def, NULL, &out, &ph), 0);
	assert_non_null(strstr(out, "\"Next\": \"ops\""));
	assert_non_null(strstr(out, "\"Next\": \"qa\""));
	assert_non_null(strstr(out, "\"ops@example.com\""));
	assert_non_null(strstr(out, "\"qa@example.invalid\""));
	assert_int_equal(ph, 1);
	assert_non_null(strstr(captured, "team \"qa\" has no address"));
	free(out);

	capture_begin();
	assert_int_equal(sfn_parse_team("qa=q1@example.com,q2@example.com", &t), 0);
	capture_end();
	assert_int_equal(t.nemail, 2);
	assert_int_equal(run(def, &o, &out, &ph), 0);
	assert_int_equal(ph, 0);
	assert_non_null(strstr(out, "\"q2@example.com\""));
	assert_non_null(strstr(out, "\"name\": \"x\""));
	free(out);
	sfn_team_release(&t);
}

static void test_parse_team(void **state)
{
	struct sfn_team t;
	(void)state;

	capture_begin();
	assert_int_equal(sfn_parse_team("pass=a@example.com", &t), -1);
	capture_end();
	assert_non_null(strstr(captured, "invalid team name \"pass\""));
	capture_begin();
	assert_int_equal(sfn_parse_team("a=x@example.com,", &t), -1);
	capture_end();
	assert_non_null(strstr(captured, "\"\" is not a valid address"));
	capture_begin();
	assert_int_equal(sfn_parse_team("a=x@example.com,X@example.com", &t), -1);
	capture_end();
	assert_non_null(strstr(captured, "listed twice"));
	capture_begin();
	assert_int_equal(sfn_parse_team("=x@example.com", &t), -1);
	capture_end();
	assert_int_equal(count_lines(captured), 1);
}

static void refuse(const char *def, const char *msg)
{
	char *out = (char *)"untouched";
	size_t ph;

	assert_int_equal(run(def, NULL, &out, &ph), -1);
	assert_null(out);
	if (!strstr(captured, msg))
		fail_msg("expected \"%s\" in: %s", msg, captured);
	assert_int_equal(count_lines(captured), 1);
}

static void test_refusals(void **state)
{
	(void)state;
	refuse("{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":[" RULE("P") "]},"
	       "\"P\":{\"Type\":\"Parallel\",\"Branches\":[],\"End\":true}}}", "\"P\" is a Parallel state");
	refuse("{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":[" RULE("Ok") "],\"Default\":\"C\"}," ENDS "}}",
	       "\"C\" is a nested Choice");
	refuse("{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":[" RULE("T") "]},"
	       "\"T\":{\"Type\":\"Task\",\"Resource\":\"arn:x\",\"End\":true}}}", "does not wait for a decision");
	refuse("{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":[" RULE("L") "]},"
	       "\"L\":{\"Type\":\"Pass\",\"Next\":\"L\"}}}", "the states from \"L\" loop");
	refuse("{\"StartAt\":\"C\",\"States\":{}}", "\"C\" names no state");
	refuse("[1]", "a state machine definition is a JSON object");
	refuse("{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":[" RULE("Ok") "],\"InputPath\":\"$.x\"}," ENDS "}}",
	       "has an InputPath");
	refuse("{\"StartAt\":\"C\" \"States\":{}}", "def.json:1:16: unexpected");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_outcomes, teardown),
		cmocka_unit_test_teardown(test_teams, teardown),
		cmocka_unit_test_teardown(test_parse_team, teardown),
		cmocka_unit_test_teardown(test_refusals, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
