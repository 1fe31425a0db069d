/* test_util.c - unit tests for the parsers of src/util.c that read what
 * users write: switches (environment variables standing for flags), sizes
 * and durations, and the loopback test behind the plain-http rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

static void test_parse_bool(void **state)
{
	static const char *const on[] = { "true", "1", "yes" };
	static const char *const off[] = { "false", "0", "no", "" };
	static const char *const bad[] = { "TRUE", "on", "2", " 1", "1 ", "y", "maybe" };
	int v;

	(void)state;
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		v = 0;
		assert_int_equal(parse_bool(on[i], &v), 0);
		assert_int_equal(v, 1);
	}
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		v = 1;
		assert_int_equal(parse_bool(off[i], &v), 0);
		assert_int_equal(v, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		assert_int_equal(parse_bool(bad[i], &v), -1);
		assert_int_equal(v, 7);		/* left alone */
	}
}

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("64k", &v), 0);
	assert_int_equal(v, 64 << 10);
	assert_int_equal(parse_size("1M", &v), 0);
	assert_int_equal(v, 1 << 20);
	assert_int_equal(parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(parse_size("3mb", &v), 0);
	assert_int_equal(v, 3 << 20);
	assert_int_equal(parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_size("", &v), -1);
	assert_int_equal(parse_size("M", &v), -1);
	assert_int_equal(parse_size("12T", &v), -1);
	assert_int_equal(parse_size("12B", &v), -1);	/* a unit needs a multiple */
	assert_int_equal(parse_size("1 M", &v), -1);
	assert_int_equal(parse_size("-1", &v), -1);
	assert_int_equal(parse_size("1000000000000000000", &v), 0);
	assert_int_equal(v, 1000000000000000000ULL);
	assert_int_equal(parse_size("99999999999999999999", &v), -1);	/* > 2^64 */
	assert_int_equal(parse_size("17179869184G", &v), -1);	/* 2^64 bytes */
}

static void test_parse_duration(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_duration("90s", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(parse_duration("15m", &v), 0);
	assert_int_equal(v, 900);
	assert_int_equal(parse_duration("2h", &v), 0);
	assert_int_equal(v, 7200);
	assert_int_equal(parse_duration("7d", &v), 0);
	assert_int_equal(v, 7 * 86400);
	assert_int_equal(parse_duration("0s", &v), -1);		/* positive */
	assert_int_equal(parse_duration("10", &v), -1);		/* a unit */
	assert_int_equal(parse_duration("1h30m", &v), -1);	/* one unit */
	assert_int_equal(parse_duration("h", &v), -1);
	assert_int_equal(parse_duration("5w", &v), -1);
	assert_int_equal(parse_duration("-5s", &v), -1);
	assert_int_equal(parse_duration("100000000d", &v), 0);
	assert_int_equal(v, 100000000ULL * 86400);
	assert_int_equal(parse_duration("99999999999999999999d", &v), -1);	/* capped */
}

static void test_url_is_loopback(void **state)
{
	(void)state;
	assert_true(url_is_loopback("http://127.0.0.1:8080/x"));
	assert_true(url_is_loopback("http://127.1.2.3/"));
	assert_true(url_is_loopback("http://localhost:1"));
	assert_true(url_is_loopback("http://[::1]:80/"));
	assert_false(url_is_loopback("http://example.com/"));
	assert_false(url_is_loopback("http://127.0.0.1:1@example.com/"));
	assert_false(url_is_loopback("http://127.0.0.1\\@example.com/"));
	assert_false(url_is_loopback("http://localhost.example.com/"));
	assert_false(url_is_loopback("http://128.0.0.1/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_url_is_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
