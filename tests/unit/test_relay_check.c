/* test_relay_check.c - the registration body rules (relay_api_check_register). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "relay_api.h"

#define NOW 1700000000
#define H64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define T64 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define BODY(deadline, team, hash) \
	"{\"key\":\"" H64 "\",\"gate\":\"g\",\"deadline\":" deadline "," \
	"\"teams\":[{\"name\":\"eng\",\"approvals\":1}]," \
	"\"recipients\":[{\"email\":\"e@example.com\",\"team\":\"" team "\"," \
	"\"token_hash\":\"" hash "\"}]}"

static int check(const char *body, char *why)
{
	return relay_api_check_register(body, strlen(body), NOW, why, 300);
}

static void test_register_rules(void **state)
{
	char why[300];

	(void)state;
	assert_int_equal(check(BODY("1700086400", "eng", T64), why), 0);
	assert_string_equal(why, "");
	assert_int_equal(check(BODY("1699999999", "eng", T64), why), -1);
	assert_non_null(strstr(why, "deadline"));
	assert_int_equal(check(BODY("1700086400", "ops", T64), why), -1);
	assert_int_equal(check(BODY("1700086400", "eng", "BBBB"), why), -1);
	assert_non_null(strstr(why, "token_hash"));
	assert_int_equal(check("{\"key\":", why), -1);
	assert_non_null(strstr(why, "line 1"));
	assert_int_equal(check("[]", why), -1);
	assert_int_equal(check("", why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
