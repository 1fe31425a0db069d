/* test_json.c - strict scanner, positions and projection (src/json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static int doc_error(const char *text, struct json_err *err)
{
	struct json_doc doc;
	int rc = json_doc_parse(&doc, text, strlen(text), err);

	if (!rc)
		json_doc_release(&doc);
	return rc;
}

static void test_accepts_rfc8259(void **state)
{
	static const char *const ok[] = {
		"{}", "[]", "0", "-0", "1.5e-3", "1E+2", "\"a\\u00e9\\ud83d\\ude00\"",
		"  {\"a\" : [1, true, false, null, {\"b\": \"c\"}]}  ", "\xEF\xBB\xBF{}",
		"\"caf\xC3\xA9 \xF0\x9F\x98\x80\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
	};
	struct json_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (doc_error(ok[i], &err))
			fail_msg("rejected %s: %s", ok[i], err.msg);
	}
}

struct bad_case {
	const char *text;
	unsigned line, col;
	const char *msg;
};

static void test_rejects_with_position(void **state)
{
	static const struct bad_case bad[] = {
		{ "", 1, 1, "empty document" },
		{ "01", 1, 1, "leading zero" },
		{ "-01", 1, 1, "leading zero" },
		{ "1.", 1, 3, "digit after '.'" },
		{ "1e", 1, 3, "exponent" },
		{ "1e400", 1, 1, "out of range" },
		{ "{\"a\":1,}", 1, 8, "trailing comma" },
		{ "[1,]", 1, 4, "trailing comma" },
		{ "{\"a\" 1}", 1, 6, "':'" },
		{ "[1 2]", 1, 4, "',' or ']'" },
		{ "{} x", 1, 4, "trailing data" },
		{ "\"a\tb\"", 1, 3, "raw control character U+0009" },
		{ "\"\xFF\"", 1, 2, "invalid UTF-8" },
		{ "\"\xC0\xAF\"", 1, 2, "invalid UTF-8" },
		{ "\"\xED\xA0\x80\"", 1, 2, "invalid UTF-8" },	/* encoded surrogate */
		{ "\"\xF4\x90\x80\x80\"", 1, 2, "invalid UTF-8" },	/* > U+10FFFF */
		{ "\"\\ud800\"", 1, 2, "lone high surrogate" },
		{ "\"\\udc00\"", 1, 2, "lone low surrogate" },
		{ "\"\\u0000\"", 1, 2, "\\u0000" },
		{ "\"\\x\"", 1, 2, "invalid escape" },
		{ "\"abc", 1, 1, "unterminated string" },
		{ "[\n  1,\n  nul\n]", 3, 3, "unexpected 'n'" },
		{ "{\"a\":1,\"a\":2}", 1, 8, "duplicate key \"a\"" },
		{ "[{\"x\":{\"k\":1,\"k\":1}}]", 1, 14, "duplicate key \"k\"" },
		{ "NaN", 1, 1, "unexpected 'N'" },
		{ "'a'", 1, 1, "unexpected" },
	};
	struct json_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!doc_error(bad[i].text, &err))
			fail_msg("accepted %s", bad[i].text);
		if (err.line != bad[i].line || err.col != bad[i].col || !strstr(err.msg, bad[i].msg))
			fail_msg("%s: got %u:%u %s; want %u:%u %s", bad[i].text, err.line,
				 err.col, err.msg, bad[i].line, bad[i].col, bad[i].msg);
	}
}

static void test_number_length_cap(void **state)
{
	char text[80];
	struct json_err err;

	(void)state;
	memset(text, '1', 63);
	text[63] = '\0';
	assert_int_equal(doc_error(text, &err), 0);
	memset(text, '1', 64);
	text[64] = '\0';
	assert_int_equal(doc_error(text, &err), -1);
	assert_non_null(strstr(err.msg, "longer than 63"));
}

static void test_depth_cap(void **state)
{
	char text[2 * (JSON_MAX_DEPTH + 1) + 1];
	struct json_err err;
	size_t d;

	(void)state;
	for (d = JSON_MAX_DEPTH; d <= JSON_MAX_DEPTH + 1; d++) {
		memset(text, '[', d);
		memset(text + d, ']', d);
		text[2 * d] = '\0';
		assert_int_equal(doc_error(text, &err), d > JSON_MAX_DEPTH ? -1 : 0);
	}
}

static void test_positions(void **state)
{
	const char *text = "{\n  \"a\": 1,\n  \"b\": [true, {\"c\": null}]\n}";
	struct json_doc doc;
	struct json_err err;
	const cJSON *b, *c;
	unsigned line, col;

	(void)state;
	assert_int_equal(json_doc_parse(&doc, text, strlen(text), &err), 0);
	b = cJSON_GetObjectItemCaseSensitive(doc.root, "b");
	assert_int_equal(json_doc_pos(&doc, b, 0, &line, &col), 0);
	assert_int_equal(line, 3);
	assert_int_equal(col, 8);
	assert_int_equal(json_doc_pos(&doc, b, 1, &line, &col), 0);
	assert_int_equal(col, 3);
	c = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(b, 1), "c");
	assert_int_equal(json_doc_pos(&doc, c, 1, &line, &col), 0);
	assert_int_equal(line, 3);
	assert_int_equal(col, 16);
	json_doc_release(&doc);
}

static void parse_paths(struct jpath *p, const char *const *text, size_t n)
{
	char err[256];

	for (size_t i = 0; i < n; i++)
		if (jpath_parse(&p[i], text[i], err, sizeof(err)))
			fail_msg("%s: %s", text[i], err);
}

static void test_project(void **state)
{
	static const char *const paths[] = {
		"$.m.a", "$.m.b", "$.m.c", "$.m.d", "$.m.e", "$.m.f", "$.arr[2]",
		"$.arr[9]", "$.s[0]", "$['we ird']", "$.m", "$$.Gate.Name", "$.m.a",
		"$.esc",
	};
	const char *text = "{\"arr\":[0,1,{\"x\":[1,2]}],\"m\":{\"a\":1,\"b\":\"two\",\"c\":null,"
			   "\"d\":[],\"e\":{},\"f\":false},\"s\":\"abc\",\"we ird\":7,"
			   "\"\\u0065sc\":\"escaped key\",\"dup\":1,\"dup\":2}";
	enum { N = sizeof(paths) / sizeof(paths[0]) };
	struct jpath p[N];
	cJSON *out[N];
	struct json_err err;
	char *s;

	(void)state;
	parse_paths(p, paths, N);
	assert_int_equal(json_project(text, strlen(text), p, N, out, &err), 0);
	assert_true(cJSON_IsNumber(out[0]) && out[0]->valuedouble == 1);
	assert_string_equal(out[1]->valuestring, "two");
	assert_true(cJSON_IsNull(out[2]));
	assert_true(cJSON_IsArray(out[3]));
	assert_true(cJSON_IsObject(out[4]));
	assert_true(cJSON_IsFalse(out[5]));
	s = cJSON_PrintUnformatted(out[6]);
	assert_string_equal(s, "{\"x\":[1,2]}");
	free(s);
	assert_null(out[7]);		/* index past the end */
	assert_null(out[8]);		/* index on a string is missing */
	assert_true(out[9]->valuedouble == 7);
	assert_int_equal(cJSON_GetArraySize(out[10]), 6);
	assert_null(out[11]);		/* context paths are not projected */
	assert_true(out[12]->valuedouble == 1);	/* same path twice */
	assert_string_equal(out[13]->valuestring, "escaped key");
	for (size_t i = 0; i < N; i++) {
		cJSON_Delete(out[i]);
		jpath_release(&p[i]);
	}
}

static void test_project_duplicates(void **state)
{
	static const char *const paths[] = { "$.a.b" };
	static const char *const dup_on_path[] = {
		"{\"a\":{\"b\":1,\"b\":2}}",
		"{\"a\":{\"b\":1},\"a\":{\"c\":2}}",
		"{\"a\":{\"b\":{\"x\":1,\"x\":2}}}",
	};
	struct jpath p;
	cJSON *out;
	struct json_err err;
	const char *ok = "{\"z\":1,\"z\":2,\"a\":{\"b\":1,\"q\":[{\"y\":1,\"y\":1}]}}";

	(void)state;
	parse_paths(&p, paths, 1);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(json_project(dup_on_path[i], strlen(dup_on_path[i]), &p, 1, &out, &err), -1);
		assert_non_null(strstr(err.msg, "duplicate key"));
		assert_null(out);
	}
	assert_int_equal(json_project(ok, strlen(ok), &p, 1, &out, &err), 0);
	cJSON_Delete(out);
	jpath_release(&p);
}

static void test_project_many_children(void **state)
{
	/* more children per trie node than its first allocation holds */
	enum { N = 40 };
	struct jpath p[N];
	cJSON *out[N];
	struct json_err err;
	char text[1024], path[32], errbuf[128];
	size_t len = 0;

	(void)state;
	len += (size_t)snprintf(text + len, sizeof(text) - len, "{");
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "$.k%d", i);
		assert_int_equal(jpath_parse(&p[i], path, errbuf, sizeof(errbuf)), 0);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\"k%d\":%d", i ? "," : "", i, i);
	}
	snprintf(text + len, sizeof(text) - len, "}");
	assert_int_equal(json_project(text, strlen(text), p, N, out, &err), 0);
	for (int i = 0; i < N; i++) {
		assert_non_null(out[i]);
		assert_true(out[i]->valuedouble == i);
		cJSON_Delete(out[i]);
		jpath_release(&p[i]);
	}
}

static void test_whole_document(void **state)
{
	struct jpath p;
	cJSON *out;
	struct json_err err;
	char errbuf[64];
	const char *dup = "{\"a\":1,\"a\":1}";

	(void)state;
	assert_int_equal(jpath_parse(&p, "$", errbuf, sizeof(errbuf)), 0);
	assert_int_equal(json_project("[1,2]", 5, &p, 1, &out, &err), 0);
	assert_int_equal(cJSON_GetArraySize(out), 2);
	cJSON_Delete(out);
	assert_int_equal(json_project(dup, strlen(dup), &p, 1, &out, &err), -1);
	jpath_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_rfc8259),
		cmocka_unit_test(test_rejects_with_position),
		cmocka_unit_test(test_number_length_cap),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_project),
		cmocka_unit_test(test_project_duplicates),
		cmocka_unit_test(test_project_many_children),
		cmocka_unit_test(test_whole_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
