/* test_jsonpath.c - unit tests for ASL reference paths (src/jsonpath.c).
 *
 * Valid and invalid path texts, the message for each rejected form,
 * structural equality, and resolution against cJSON trees (missing vs
 * null, indexes on strings, case-sensitive keys).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "jsonpath.h"

static void test_parse_valid(void **state)
{
	struct jpath p;
	char err[256];

	(void)state;
	assert_int_equal(jpath_parse(&p, "$", err, sizeof(err)), 0);
	assert_int_equal(p.root, JPATH_INPUT);
	assert_int_equal(p.nseg, 0);
	assert_string_equal(p.text, "$");
	jpath_release(&p);

	assert_int_equal(jpath_parse(&p, "$$", err, sizeof(err)), 0);
	assert_int_equal(p.root, JPATH_CONTEXT);
	assert_int_equal(p.nseg, 0);
	jpath_release(&p);

	assert_int_equal(jpath_parse(&p, "$.a.b-c[10]['x y'][\"q\\\"\\\\\"]",
				     err, sizeof(err)), 0);
	assert_int_equal(p.nseg, 5);
	assert_int_equal(p.seg[0].kind, JSEG_KEY);
	assert_string_equal(p.seg[0].key, "a");
	assert_string_equal(p.seg[1].key, "b-c");
	assert_int_equal(p.seg[2].kind, JSEG_INDEX);
	assert_int_equal(p.seg[2].index, 10);
	assert_string_equal(p.seg[3].key, "x y");
	assert_string_equal(p.seg[4].key, "q\"\\");
	jpath_release(&p);

	assert_int_equal(jpath_parse(&p, "$$.Gate.Name", err, 256), 0);
	assert_int_equal(p.root, JPATH_CONTEXT);
	assert_int_equal(p.nseg, 2);
	assert_string_equal(p.seg[1].key, "Name");
	jpath_release(&p);

	assert_int_equal(jpath_parse(&p, "$[0]['it''s']", err, 256), -1);
	assert_int_equal(jpath_parse(&p, "$['it\\'s'][0]", err, 256), 0);
	assert_string_equal(p.seg[0].key, "it's");
	jpath_release(&p);

	/* Unicode and $ inside names are fine. */
	assert_int_equal(jpath_parse(&p, "$.caf\xc3\xa9.a$b", err, 256), 0);
	assert_string_equal(p.seg[0].key, "caf\xc3\xa9");
	assert_string_equal(p.seg[1].key, "a$b");
	jpath_release(&p);

	assert_int_equal(jpath_parse(&p, "$['a:b,c?@*.[]']", err, 256), 0);
	assert_string_equal(p.seg[0].key, "a:b,c?@*.[]");
	jpath_release(&p);
}

struct bad {
	const char *path;
	const char *msg;	/* expected substring of the message */
};

static void test_parse_invalid(void **state)
{
	static const struct bad cases[] = {
		{ "", "empty path" },
		{ "accuracypct", "write $.accuracypct" },
		{ "a.b", "a path starts with $" },
		{ "$..a", "recursive descent" },
		{ "$.*", "wildcard" },
		{ "$[*]", "wildcard" },
		{ "$.a[?(@.b)]", "filters" },
		{ "$.a[(@.length-1)]", "filters" },
		{ "$.a[1:2]", "slices" },
		{ "$.a[:2]", "slices" },
		{ "$.a[-1]", "negative" },
		{ "$.a[01]", "leading zero; write [1]" },
		{ "$.a[0,1]", "unions" },
		{ "$['a','b']", "unions" },
		{ "$.", "empty member name" },
		{ "$.a.", "empty member name" },
		{ "$.a..b", "recursive descent" },
		{ "$['']", "empty member name" },
		{ "$.a b", "a space is not allowed" },
		{ "$.a\tb", "control character" },
		{ "$.a:b", "\":\" is not allowed" },
		{ "$.a?", "\"?\" is not allowed" },
		{ "$.a@b", "\"@\" is not allowed" },
		{ "$.a,b", "\",\" is not allowed" },
		{ "$.a(", "\"(\" is not allowed" },
		{ "$.a]", "\"]\" is not allowed" },
		{ "$.a'", "\"'\" is not allowed" },
		{ "$.a\\.b", "\"\\\" is not allowed in a .name step (after \"$.a\")" },
		{ "$.a\\.b", "use brackets: write $['a.b']" },
		{ "$.x.a\\.b.c", "write $.x['a.b'].c" },
		{ "$.a\\'s", "write $['a\\'s']" },
		{ "$.a\\", "write $['a\\\\']" },
		{ "$.a\\[0]", "write $['a[0]']" },
		{ "$.a.b\\c[1]", "write $.a['bc'][1]" },
		{ "$x", "unexpected \"x\" after \"$\"" },
		{ "$$$", "unexpected \"$\" after \"$$\"" },
		{ "$ ", "unexpected whitespace" },
		{ "$[0", "expected \"]\"" },
		{ "$[0]x", "unexpected \"x\" after \"$[0]\"" },
		{ "$['a'", "expected \"]\"" },
		{ "$['a", "unterminated" },
		{ "$['a\\x']", "bad escape" },
		{ "$[\"a\\'\"]", "bad escape" },
		{ "$[abc]", "expected a quoted name or an index" },
		{ "$[]", "expected a quoted name or an index" },
		{ "$[99999999999]", "index too large" },
		{ "$[2147483648]", "index too large" },
	};
	struct jpath p;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(err, 0, sizeof(err));
		if (jpath_parse(&p, cases[i].path, err, sizeof(err)) != -1)
			fail_msg("\"%s\" was accepted", cases[i].path);
		if (!strstr(err, cases[i].msg))
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"",
				 cases[i].path, err, cases[i].msg);
		/* a failed parse leaves the path empty */
		assert_null(p.seg);
		assert_null(p.text);
		assert_int_equal(p.nseg, 0);
	}
}

static void test_limits(void **state)
{
	char text[JPATH_MAX_LEN + 8], err[256];
	struct jpath p;
	size_t i;

	(void)state;
	assert_int_equal(jpath_parse(&p, "$[2147483647]", err, 256), 0);
	assert_int_equal(p.seg[0].index, 2147483647);
	jpath_release(&p);

	strcpy(text, "$");
	for (i = 0; i < JPATH_MAX_SEGS; i++)
		strcat(text, ".a");
	assert_int_equal(jpath_parse(&p, text, err, sizeof(err)), 0);
	assert_int_equal(p.nseg, JPATH_MAX_SEGS);
	jpath_release(&p);
	strcat(text, ".a");
	assert_int_equal(jpath_parse(&p, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 64 steps"));

	memset(text, 'a', sizeof(text));
	text[0] = '$';
	text[1] = '.';
	text[JPATH_MAX_LEN + 1] = '\0';
	assert_int_equal(jpath_parse(&p, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 1024"));
	text[JPATH_MAX_LEN] = '\0';
	assert_int_equal(jpath_parse(&p, text, err, sizeof(err)), 0);
	jpath_release(&p);

	/* a zero-size error buffer is allowed */
	assert_int_equal(jpath_parse(&p, "$..", NULL, 0), -1);
}

static int equal(const char *a, const char *b)
{
	struct jpath x, y;
	char err[256];
	int r;

	assert_int_equal(jpath_parse(&x, a, err, sizeof(err)), 0);
	assert_int_equal(jpath_parse(&y, b, err, sizeof(err)), 0);
	r = jpath_equal(&x, &y);
	jpath_release(&x);
	jpath_release(&y);
	return r;
}

static void test_equal(void **state)
{
	(void)state;
	assert_int_equal(equal("$.a", "$.a"), 1);
	assert_int_equal(equal("$.a", "$['a']"), 1);
	assert_int_equal(equal("$['a']", "$[\"a\"]"), 1);
	assert_int_equal(equal("$.a[0]", "$.a[0]"), 1);
	assert_int_equal(equal("$.a", "$.A"), 0);
	assert_int_equal(equal("$.a", "$$.a"), 0);
	assert_int_equal(equal("$.a", "$.a.b"), 0);
	assert_int_equal(equal("$.a[0]", "$.a[1]"), 0);
	assert_int_equal(equal("$.a[0]", "$.a['0']"), 0);
	assert_int_equal(equal("$", "$$"), 0);
}

static const cJSON *resolve(const cJSON *doc, const char *path)
{
	struct jpath p;
	const cJSON *v;
	char err[256];

	assert_int_equal(jpath_parse(&p, path, err, sizeof(err)), 0);
	v = jpath_resolve(&p, doc);
	jpath_release(&p);
	return v;
}

static void test_resolve(void **state)
{
	cJSON *doc = cJSON_Parse("{\"a\": {\"b\": [10, 20, {\"c\": null}]},"
				 " \"s\": \"abc\", \"A\": 1, \"x y\": 2,"
				 " \"n\": 0}");
	const cJSON *v;

	(void)state;
	assert_non_null(doc);
	assert_ptr_equal(resolve(doc, "$"), doc);
	v = resolve(doc, "$.a.b[1]");
	assert_non_null(v);
	assert_true(cJSON_IsNumber(v));
	assert_int_equal(v->valueint, 20);
	v = resolve(doc, "$.a.b[2].c");
	assert_non_null(v);			/* null is present */
	assert_true(cJSON_IsNull(v));
	assert_null(resolve(doc, "$.a.b[3]"));	/* past the end */
	assert_null(resolve(doc, "$.s[0]"));	/* index on a string */
	assert_null(resolve(doc, "$.s.length"));/* key on a string */
	assert_null(resolve(doc, "$.a[0]"));	/* index on an object */
	assert_null(resolve(doc, "$.a.b.c"));	/* key on an array */
	assert_null(resolve(doc, "$.missing"));
	assert_null(resolve(doc, "$.a.b[2].c.d"));	/* below null */
	assert_null(resolve(doc, "$.a.B"));
	v = resolve(doc, "$.A");		/* case-sensitive */
	assert_non_null(v);
	assert_int_equal(v->valueint, 1);
	assert_null(resolve(doc, "$.N"));
	v = resolve(doc, "$['x y']");
	assert_non_null(v);
	assert_int_equal(v->valueint, 2);
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
