/* test_strmatch.c - unit tests for string ordering and StringMatches
 * patterns (src/strmatch.c).
 *
 * UTF-16 code-unit order (astral characters before U+E000..U+FFFF), the
 * pattern language (* only; \* and \\ escapes; open escapes rejected), and
 * a pathological pattern that must not take exponential time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strmatch.h"

static int sign(int v)
{
	return v < 0 ? -1 : v > 0;
}

static void test_cmp16(void **state)
{
	(void)state;
	assert_int_equal(str_cmp16("", ""), 0);
	assert_int_equal(str_cmp16("abc", "abc"), 0);
	assert_int_equal(sign(str_cmp16("a", "b")), -1);
	assert_int_equal(sign(str_cmp16("b", "a")), 1);
	assert_int_equal(sign(str_cmp16("A", "A ")), -1);	/* prefix */
	assert_int_equal(sign(str_cmp16("", "a")), -1);
	assert_int_equal(sign(str_cmp16("Z", "a")), -1);	/* no folding */
	assert_int_equal(sign(str_cmp16("a", "B")), 1);
	/* U+00E9 vs e + U+0301: no normalisation, 0xE9 > 0x65 */
	assert_int_equal(sign(str_cmp16("\xc3\xa9", "e\xcc\x81")), 1);
	/* U+FF61 (halfwidth ideographic full stop) vs U+1F600 (emoji):
	 * UTF-16 0xFF61 > 0xD83D, so the emoji sorts first; memcmp of
	 * UTF-8 would say the opposite. */
	assert_int_equal(sign(str_cmp16("\xef\xbd\xa1", "\xf0\x9f\x98\x80")),
			 1);
	assert_int_equal(sign(str_cmp16("\xf0\x9f\x98\x80", "\xef\xbd\xa1")),
			 -1);
	assert_true(memcmp("\xef\xbd\xa1", "\xf0\x9f\x98\x80", 3) < 0);
	/* U+E000 (private use) too sorts after astral characters */
	assert_int_equal(sign(str_cmp16("\xee\x80\x80", "\xf0\x90\x80\x80")),
			 1);
	/* U+D7FF sorts before astral characters */
	assert_int_equal(sign(str_cmp16("\xed\x9f\xbf", "\xf0\x90\x80\x80")),
			 -1);
	/* two astral characters: code point order */
	assert_int_equal(sign(str_cmp16("\xf0\x9f\x98\x80",
					"\xf0\x9f\x98\x81")), -1);
	assert_int_equal(sign(str_cmp16("\xf0\x90\x80\x80",
					"\xf4\x8f\xbf\xbf")), -1);
	/* BMP below the surrogates: code point order */
	assert_int_equal(sign(str_cmp16("\xc3\xa9", "\xe2\x82\xac")), -1);
	/* invalid bytes never crash and order deterministically */
	assert_int_equal(sign(str_cmp16("\xff", "\xfe")), 1);
	assert_int_equal(sign(str_cmp16("\xe2\x82", "\xe2\x82\xac")), -1);
	assert_int_equal(str_cmp16("\xc0\x80", "\xc0\x80"), 0);
}

static int match(const char *pattern, const char *s)
{
	struct strpat p;
	char err[256];
	int r;

	if (strpat_compile(&p, pattern, err, sizeof(err)))
		fail_msg("pattern \"%s\" rejected: %s", pattern, err);
	r = strpat_match(&p, s);
	strpat_release(&p);
	return r;
}

static void test_matches(void **state)
{
	(void)state;
	/* the spec's and AWS docs' examples */
	assert_int_equal(match("foo*.log", "foo23.log"), 1);
	assert_int_equal(match("*.log", "zebra.log"), 1);
	assert_int_equal(match("foo*.*", "foobar.zebra"), 1);
	assert_int_equal(match("a?c", "abc"), 0);
	assert_int_equal(match("a?c", "a?c"), 1);
	assert_int_equal(match("[ab]", "a"), 0);
	assert_int_equal(match("[ab]", "[ab]"), 1);
	assert_int_equal(match(".", "x"), 0);

	assert_int_equal(match("", ""), 1);
	assert_int_equal(match("", "a"), 0);
	assert_int_equal(match("*", ""), 1);
	assert_int_equal(match("*", "anything"), 1);
	assert_int_equal(match("**", "x"), 1);
	assert_int_equal(match("abc", "abc"), 1);
	assert_int_equal(match("abc", "abcd"), 0);		/* whole string */
	assert_int_equal(match("abc", "ABC"), 0);		/* case */
	assert_int_equal(match("a*", "a"), 1);
	assert_int_equal(match("*a", "a"), 1);
	assert_int_equal(match("a*a", "a"), 0);		/* no overlap */
	assert_int_equal(match("a*a", "aa"), 1);
	assert_int_equal(match("a*b*c", "aXbYc"), 1);
	assert_int_equal(match("a*b*c", "acb"), 0);
	assert_int_equal(match("*ab*ab*", "xabyab"), 1);
	assert_int_equal(match("*ab*ab*", "xaby"), 0);
	assert_int_equal(match("*b*b", "abab"), 1);
	assert_int_equal(match("*.log", ".log.txt"), 0);

	/* escapes: \* literal star, \\ literal backslash */
	assert_int_equal(match("a\\*b", "a*b"), 1);
	assert_int_equal(match("a\\*b", "axb"), 0);
	assert_int_equal(match("\\**", "*abc"), 1);
	assert_int_equal(match("\\**", "abc"), 0);
	assert_int_equal(match("a\\\\b", "a\\b"), 1);
	assert_int_equal(match("a\\\\*", "a\\xyz"), 1);
	assert_int_equal(match("a\\\\*", "axyz"), 0);
	assert_int_equal(match("\\\\\\*", "\\*"), 1);

	/* UTF-8: * spans whole characters */
	assert_int_equal(match("caf*", "caf\xc3\xa9"), 1);
	assert_int_equal(match("*\xc3\xa9", "caf\xc3\xa9"), 1);
	assert_int_equal(match("\xf0\x9f\x98\x80*", "\xf0\x9f\x98\x80!"), 1);
}

static void test_open_escapes(void **state)
{
	static const char *const bad[] = {
		"a\\b", "\\", "abc\\", "\\?", "\\n", "*\\x*", "\\\\\\",
	};
	struct strpat p;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (strpat_compile(&p, bad[i], err, sizeof(err)) != -1)
			fail_msg("pattern \"%s\" was accepted", bad[i]);
		assert_non_null(strstr(err, "only \\* (a literal star)"));
		assert_null(p.lit);
		assert_null(p.end);
	}
	assert_int_equal(strpat_compile(&p, "a\\b", err, sizeof(err)), -1);
	assert_string_equal(err, "open escape \"\\b\" at byte 1 of the pattern; "
			    "only \\* (a literal star) and \\\\ (a literal "
			    "backslash) are escapes, written \"\\\\*\" and "
			    "\"\\\\\\\\\" in JSON");
	assert_int_equal(strpat_compile(&p, "ab\\", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pattern ends with a backslash"));
	assert_int_equal(strpat_compile(&p, "ab\\", NULL, 0), -1);
}

/* a*a*a*...*b against aaaa...: exponential for naive backtracking. */
static void test_no_blowup(void **state)
{
	size_t n = 200000, k = 2000, i;
	char *s = malloc(n + 1), *pat = malloc(2 * k + 2);
	struct strpat p;
	char err[64];

	(void)state;
	memset(s, 'a', n);
	s[n] = '\0';
	for (i = 0; i < k; i++) {
		pat[2 * i] = 'a';
		pat[2 * i + 1] = '*';
	}
	pat[2 * k] = 'b';
	pat[2 * k + 1] = '\0';
	assert_int_equal(strpat_compile(&p, pat, err, sizeof(err)), 0);
	assert_int_equal(strpat_match(&p, s), 0);
	s[n - 1] = 'b';
	assert_int_equal(strpat_match(&p, s), 1);
	strpat_release(&p);
	free(s);
	free(pat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmp16),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_open_escapes),
		cmocka_unit_test(test_no_blowup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
