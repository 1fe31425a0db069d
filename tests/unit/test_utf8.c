/* test_utf8.c - unit tests for src/utf8.c: decoding, repair of invalid
 * bytes to U+FFFD, and \u escaping of controls and bidi characters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

static void test_decode(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(utf8_decode((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x80\xae", 3, &cp), 3);
	assert_int_equal(cp, 0x202e);
	assert_int_equal(utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	/* invalid: one byte used, UTF8_BAD */
	assert_int_equal(utf8_decode((const unsigned char *)"\xff", 1, &cp), 1);
	assert_int_equal(cp, UTF8_BAD);
	assert_int_equal(utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp), 1);
	assert_int_equal(cp, UTF8_BAD);	/* overlong */
	assert_int_equal(utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 1);
	assert_int_equal(cp, UTF8_BAD);	/* surrogate */
	assert_int_equal(utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 1);
	assert_int_equal(cp, UTF8_BAD);	/* above U+10FFFF */
	assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x80", 2, &cp), 1);
	assert_int_equal(cp, UTF8_BAD);	/* truncated */
}

static void repaired(const char *in, const char *want)
{
	char *out = utf8_repair(in);

	assert_string_equal(out, want);
	free(out);
}

static void test_repair(void **state)
{
	(void)state;
	assert_null(utf8_repair(NULL));
	repaired("", "");
	repaired("plain ascii", "plain ascii");
	repaired("caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80");
	repaired("Speed up \xff\xfe the model",
		 "Speed up \xef\xbf\xbd\xef\xbf\xbd the model");
	repaired("Jos\xe9", "Jos\xef\xbf\xbd");
	repaired("\xe2\x80", "\xef\xbf\xbd\xef\xbf\xbd");	/* truncated at the end */
	repaired("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	/* controls are valid UTF-8: repair keeps them (escaping is separate) */
	repaired("a\r\nb\xe2\x80\xae", "a\r\nb\xe2\x80\xae");
}

static void test_unsafe(void **state)
{
	static const uint32_t bad[] = { 0x00, 0x07, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f,
					0x80, 0x85, 0x9b, 0x9f, 0x061c, 0x200e, 0x200f,
					0x202a, 0x202e, 0x2066, 0x2069 };
	static const uint32_t good[] = { 0x20, 'a', 0x7e, 0xa0, 0xe9, 0x2029, 0x2065,
					 0x206a, 0x2026, 0xfffd, 0x1f600 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!utf8_unsafe(bad[i]))
			fail_msg("U+%04X is not unsafe", (unsigned)bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (utf8_unsafe(good[i]))
			fail_msg("U+%04X is unsafe", (unsigned)good[i]);
}

static void escaped(const char *in, const char *want)
{
	struct buf b = BUF_INIT(1024);

	assert_int_equal(utf8_escape(&b, in, strlen(in), NULL), 0);
	assert_string_equal(b.data ? b.data : "", want);
	buf_release(&b);
}

static void test_escape(void **state)
{
	struct buf small = BUF_INIT(4);

	(void)state;
	escaped("", "");
	escaped("p95 latency: 225 ms, caf\xc3\xa9", "p95 latency: 225 ms, caf\xc3\xa9");
	escaped("\xe2\x80\xae" "exe.txt", "\\u202eexe.txt");
	escaped("a\xc2\x85" "b", "a\\u0085b");
	escaped("\xe2\x81\xa6key\xe2\x81\xa9", "\\u2066key\\u2069");
	escaped("\x1b[31mred\x7f", "\\u001b[31mred\\u007f");
	escaped("line\r\nnext\tcol", "line\\u000d\\u000anext\\u0009col");
	escaped("\xe2\x80\x8f\xd8\x9c", "\\u200f\\u061c");
	escaped("bad \xff byte", "bad \xef\xbf\xbd byte");
	escaped("back\\slash", "back\\slash");
	/* only n bytes are read */
	{
		struct buf b = BUF_INIT(64);

		assert_int_equal(utf8_escape(&b, "ab\x01" "cd", 3, NULL), 0);
		assert_string_equal(b.data, "ab\\u0001");
		buf_release(&b);
	}
	/* ASCII characters in keep pass through; keep cannot let bidi through */
	{
		struct buf b = BUF_INIT(64);
		const char *in = "a\tb\nc\rd\x01\xe2\x80\xae";

		assert_int_equal(utf8_escape(&b, in, strlen(in), "\t\n\r"), 0);
		assert_string_equal(b.data, "a\tb\nc\rd\\u0001\\u202e");
		buf_release(&b);
	}
	/* a full buffer fails and is left empty */
	assert_int_not_equal(utf8_escape(&small, "\xe2\x80\xae", 3, NULL), 0);
	assert_null(small.data);
	assert_int_equal(small.len, 0);
}

static void test_escape_dup(void **state)
{
	char *s, *big;
	size_t n = UTF8_ESCAPE_MAX;

	(void)state;
	s = utf8_escape_dup(NULL, NULL);
	assert_string_equal(s, "");
	free(s);
	s = utf8_escape_dup("x\xc2\x85y\n", "\n");
	assert_string_equal(s, "x\\u0085y\n");
	free(s);
	/* a huge input is cut, stays within the cap and ends in "..." */
	big = malloc(n + 1);
	assert_non_null(big);
	for (size_t i = 0; i + 2 <= n; i += 2)	/* n is even */
		memcpy(big + i, "\xc2\x85", 2);
	big[n] = '\0';
	s = utf8_escape_dup(big, NULL);
	assert_true(strlen(s) <= UTF8_ESCAPE_MAX);
	assert_memory_equal(s, "\\u0085", 6);
	assert_string_equal(s + strlen(s) - 3, "...");
	free(s);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_unsafe),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
