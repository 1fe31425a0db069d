/* test_timestamp.c - unit tests for RFC 3339 timestamps (src/timestamp.c).
 *
 * Accepted and rejected forms with the reason given, field ranges, leap
 * years, and instant comparison across offsets and fraction precisions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "timestamp.h"

static struct timestamp ts(const char *s)
{
	struct timestamp t;
	const char *why = NULL;

	if (ts_parse(&t, s, &why))
		fail_msg("\"%s\" rejected: %s", s, why);
	return t;
}

static int cmp(const char *a, const char *b)
{
	struct timestamp x = ts(a), y = ts(b);

	return ts_cmp(&x, &y);
}

static void test_valid(void **state)
{
	struct timestamp t;

	(void)state;
	t = ts("1970-01-01T00:00:00Z");
	assert_int_equal(t.sec, 0);
	assert_int_equal(t.nsec, 0);
	t = ts("2016-03-14T01:59:00Z");
	assert_int_equal(t.sec, 1457920740);
	t = ts("2016-03-14T02:59:00+01:00");
	assert_int_equal(t.sec, 1457920740);
	t = ts("2016-03-13T20:29:00-05:30");
	assert_int_equal(t.sec, 1457920740);
	t = ts("1969-12-31T23:59:59.5Z");
	assert_int_equal(t.sec, -1);
	assert_int_equal(t.nsec, 500000000);
	t = ts("2016-03-14T01:59:00.123456789Z");
	assert_int_equal(t.nsec, 123456789);
	t = ts("2016-03-14T01:59:00.1Z");
	assert_int_equal(t.nsec, 100000000);
	t = ts("0000-01-01T00:00:00Z");
	assert_int_equal(t.sec, -62167219200LL);
	t = ts("9999-12-31T23:59:59Z");
	assert_int_equal(t.sec, 253402300799LL);
	ts("2016-03-14T01:59:00-00:00");
	ts("2016-03-14T01:59:00+23:59");
}

static void test_leap_years(void **state)
{
	struct timestamp t;

	(void)state;
	ts("2024-02-29T00:00:00Z");
	ts("2000-02-29T00:00:00Z");
	assert_int_equal(ts_parse(&t, "2023-02-29T00:00:00Z", NULL), -1);
	assert_int_equal(ts_parse(&t, "1900-02-29T00:00:00Z", NULL), -1);
	assert_int_equal(ts_parse(&t, "2023-02-30T00:00:00Z", NULL), -1);
	assert_int_equal(ts_parse(&t, "2024-02-30T00:00:00Z", NULL), -1);
	assert_int_equal(ts_parse(&t, "2023-04-31T00:00:00Z", NULL), -1);
	ts("2023-03-31T00:00:00Z");
	/* Feb 29 2024 is one day after Feb 28 */
	assert_int_equal(ts("2024-03-01T00:00:00Z").sec -
			 ts("2024-02-28T00:00:00Z").sec, 2 * 86400);
	assert_int_equal(ts("2023-03-01T00:00:00Z").sec -
			 ts("2023-02-28T00:00:00Z").sec, 86400);
}

struct bad {
	const char *s;
	const char *why;	/* expected substring of the reason */
};

static void test_invalid(void **state)
{
	static const struct bad cases[] = {
		{ "", "four digits" },
		{ "2016-03-14", "date only" },
		{ "2016-03-14T01:59:00", "no time zone offset" },
		{ "2016-03-14 01:59:00Z", "a space" },
		{ "2016-03-14t01:59:00Z", "lowercase t" },
		{ "2016-03-14T01:59:00z", "lowercase z" },
		{ "2016-03-14T01:59:00+0100", "needs a colon" },
		{ "2016-03-14T01:59:00+01", "needs a colon" },
		{ "2016-03-14T01:59:00+1:00", "+hh:mm" },
		{ "2016-03-14T01:59Z", "missing seconds" },
		{ "2016-03-14T01:59+01:00", "missing seconds" },
		{ "2016-3-14T01:59:00Z", "month needs two digits" },
		{ "2016-03-4T01:59:00Z", "day needs two digits" },
		{ "2016-03-14T1:59:00Z", "hour needs two digits" },
		{ "2016-03-14T01:5:00Z", "minute needs two digits" },
		{ "2016-03-14T01:59:0Z", "second needs two digits" },
		{ "16-03-14T01:59:00Z", "four digits" },
		{ "20160-03-14T01:59:00Z", "four digits" },
		{ "2016/03/14T01:59:00Z", "YYYY-MM-DD" },
		{ "2016-00-14T01:59:00Z", "month is not 01-12" },
		{ "2016-13-14T01:59:00Z", "month is not 01-12" },
		{ "2016-03-00T01:59:00Z", "day does not exist" },
		{ "2016-03-32T01:59:00Z", "day does not exist" },
		{ "2023-02-30T00:00:00Z", "day does not exist" },
		{ "2016-03-14T24:00:00Z", "hour is not 00-23" },
		{ "2016-03-14T01:60:00Z", "minute is not 00-59" },
		{ "2016-12-31T23:59:60Z", "leap seconds" },
		{ "2016-03-14T01:59:00.Z", "no digits after the decimal" },
		{ "2016-03-14T01:59:00.1234567891Z", "more than 9" },
		{ "2016-03-14T01:59:00,5Z", "expected Z" },
		{ "2016-03-14T01:59:00+24:00", "out of range" },
		{ "2016-03-14T01:59:00+01:60", "out of range" },
		{ "2016-03-14T01:59:00ZZ", "unexpected text" },
		{ "2016-03-14T01:59:00Z ", "unexpected text" },
		{ " 2016-03-14T01:59:00Z", "four digits" },
		{ "2016-03-14T01:59:00UTC", "expected Z" },
		{ "2016-03-14T", "hour needs two digits" },
		{ "2016-03-14T01:59:00+01:00[Europe/Paris]", "unexpected text" },
	};
	struct timestamp t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;

		if (ts_parse(&t, cases[i].s, &why) != -1)
			fail_msg("\"%s\" was accepted", cases[i].s);
		if (!why || !strstr(why, cases[i].why))
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", cases[i].s,
				 why ? why : "(none)", cases[i].why);
	}
}

static void test_compare(void **state)
{
	(void)state;
	assert_int_equal(cmp("2016-03-14T02:59:00+01:00",
			     "2016-03-14T01:59:00Z"), 0);
	assert_int_equal(cmp("2016-03-14T01:59:00.000Z",
			     "2016-03-14T01:59:00Z"), 0);
	assert_int_equal(cmp("2016-03-14T01:59:00.5Z",
			     "2016-03-14T01:59:00.500000000Z"), 0);
	assert_true(cmp("2016-03-14T01:59:00.000000001Z",
			"2016-03-14T01:59:00Z") > 0);
	assert_true(cmp("2016-03-14T01:59:00.999Z",
			"2016-03-14T01:59:01Z") < 0);
	assert_true(cmp("2016-03-14T01:59:00+01:00",
			"2016-03-14T01:59:00Z") < 0);
	assert_true(cmp("2016-03-14T01:59:00-01:00",
			"2016-03-14T01:59:00Z") > 0);
	/* an offset crossing midnight and a month end */
	assert_int_equal(cmp("2016-03-01T00:30:00+01:00",
			     "2016-02-29T23:30:00Z"), 0);
	assert_true(cmp("1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z") < 0);
	assert_true(cmp("9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
