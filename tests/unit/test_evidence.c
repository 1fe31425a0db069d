/* test_evidence.c - unit tests for src/evidence.c.
 *
 * Gates are literal gate files loaded with gate_load_text(); results are
 * bound with results_bind() and the verdict computed with
 * verdict_compute(), as `check` and `run` do (src/evaluate.c).  Covered:
 * canonical JSON (members sorted recursively, arrays kept in order, no
 * blanks), the documented key formula, the same gate and evidence giving
 * the same key (whatever the member order of the gate file), and which
 * digest each change moves: a fired value, a threshold, a team address,
 * approvals, the gate name, the repository, the commit; a value no rule
 * fired on moves nothing.  evidence_diff: changed, appearing and
 * disappearing metrics, and the text when no value differs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "evidence.h"
#include "gate.h"
#include "results.h"
#include "verdict.h"

#define REPO "https://git.example.com/acme/model.git"
#define COMMIT "0123456789abcdef0123456789abcdef01234567"

/* The gate, with its threshold, addresses, approvals and name filled in. */
#define GATE_FMT "{\"version\": 1, \"name\": \"%s\", \"match\": \"all\"," \
	" \"choices\": [" \
	"{\"Variable\": \"$.latencyMs\", \"NumericGreaterThan\": %d," \
	" \"Next\": \"engineering\"}," \
	"{\"Variable\": \"$.accuracy\", \"NumericLessThan\": 0.9," \
	" \"Next\": \"research\"}]," \
	" \"default\": \"pass\"," \
	" \"teams\": {\"engineering\": {\"email\": [\"%s\", \"eng1@example.com\"]," \
	" \"approvals\": %d}, \"research\": {\"email\": [\"r@example.com\"]}}}"

/* The same gate with every object's members in another order. */
#define GATE_SHUFFLED "{\"teams\": {\"research\": {\"email\": [\"r@example.com\"]}," \
	" \"engineering\": {\"approvals\": 1, \"email\": [\"eng0@example.com\"," \
	" \"eng1@example.com\"]}}, \"default\": \"pass\", \"choices\": [" \
	"{\"Next\": \"engineering\", \"NumericGreaterThan\": 1000," \
	" \"Variable\": \"$.latencyMs\"}," \
	"{\"NumericLessThan\": 0.9, \"Next\": \"research\"," \
	" \"Variable\": \"$.accuracy\"}]," \
	" \"match\": \"all\", \"name\": \"model-release\", \"version\": 1}"

struct run {
	struct gate g;
	struct results r;
	struct verdict v;
};

static void run_text(struct run *x, const char *gate_text, const char *results)
{
	struct choice_error err;

	memset(x, 0, sizeof(*x));
	if (gate_load_text(&x->g, "gate.json", gate_text, strlen(gate_text)))
		fail_msg("gate did not load: %s", gate_text);
	assert_int_equal(results_bind(&x->r, "results.json", results,
				      strlen(results), &x->g.choices, NULL), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(verdict_compute(&x->v, &x->g, x->r.values, &err), 0);
}

static void run_gate(struct run *x, const char *name, int threshold,
		     const char *eng0, int approvals, const char *results)
{
	char text[2048];

	snprintf(text, sizeof(text), GATE_FMT, name, threshold, eng0, approvals);
	run_text(x, text, results);
}

static void run_release(struct run *x)
{
	verdict_release(&x->v);
	results_release(&x->r);
	gate_release(&x->g);
}

/* The key of the usual gate with one thing changed. */
static void key_of(struct evidence_key *k, const char *name, int threshold,
		   const char *eng0, int approvals, const char *results,
		   const char *repo, const char *commit)
{
	struct run x;

	run_gate(&x, name, threshold, eng0, approvals, results);
	assert_int_equal(evidence_key(k, &x.g, &x.v, repo, commit), 0);
	run_release(&x);
}

#define RESULTS "{\"latencyMs\": 5000, \"accuracy\": 0.95}"
#define BASE(k) key_of(k, "model-release", 1000, "eng0@example.com", 1, \
		       RESULTS, REPO, COMMIT)

/* ---- canonical JSON ------------------------------------------------------ */

static void canonical_is(const char *in, const char *want)
{
	cJSON *j = cJSON_Parse(in), *c;
	char *text;

	assert_non_null(j);
	c = evidence_canonical(j);
	assert_non_null(c);
	text = cJSON_PrintUnformatted(c);
	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
	cJSON_Delete(c);
	cJSON_Delete(j);
}

static void test_canonical(void **state)
{
	(void)state;
	canonical_is("{\"b\": 1, \"a\": 2}", "{\"a\":2,\"b\":1}");
	canonical_is("{\"z\": {\"y\": [ {\"d\": true, \"c\": null} ], \"x\": \"s\"},"
		     " \"a\": [3, 1, 2]}",
		     "{\"a\":[3,1,2],\"z\":{\"x\":\"s\",\"y\":[{\"c\":null,\"d\":true}]}}");
	/* byte order: upper case before lower, "a" before "ab" */
	canonical_is("{\"ab\": 1, \"a\": 2, \"B\": 3, \"_\": 4}",
		     "{\"B\":3,\"_\":4,\"a\":2,\"ab\":1}");
	/* numbers as cJSON prints them */
	canonical_is("[1.0, 0.5, 100, -0, 1e3]", "[1,0.5,100,-0,1000]");
	canonical_is("\"x\"", "\"x\"");
	canonical_is("[]", "[]");
	canonical_is("{}", "{}");
	canonical_is("[[{\"b\":{\"d\":1,\"c\":2},\"a\":0}]]",
		     "[[{\"a\":0,\"b\":{\"c\":2,\"d\":1}}]]");
}

/* ---- the key ---------------------------------------------------------------- */

static void test_key_formula(void **state)
{
	struct evidence_key k;
	char want[TOKEN_HEX_SIZE], text[512];
	struct run x;
	char *ev, *gt;
	(void)state;

	run_gate(&x, "model-release", 1000, "eng0@example.com", 1, RESULTS);
	assert_int_equal(evidence_key(&k, &x.g, &x.v, REPO, COMMIT), 0);
	snprintf(text, sizeof(text), "greenlight subject v1\n%s\n%s\n%s", REPO,
		 COMMIT, "model-release");
	assert_int_equal(token_sha256_hex(want, text, strlen(text)), 0);
	assert_string_equal(k.subject, want);

	gt = evidence_gate_text(&x.g);
	assert_non_null(gt);
	assert_string_equal(gt, "{\"choices\":["
		"{\"Next\":\"engineering\",\"NumericGreaterThan\":1000,"
		"\"Variable\":\"$.latencyMs\"},"
		"{\"Next\":\"research\",\"NumericLessThan\":0.9,"
		"\"Variable\":\"$.accuracy\"}],"
		"\"default\":\"pass\",\"match\":\"all\","
		"\"teams\":{\"engineering\":{\"approvals\":1,\"email\":"
		"[\"eng0@example.com\",\"eng1@example.com\"]},"
		"\"research\":{\"approvals\":1,\"email\":[\"r@example.com\"]}}}");
	assert_int_equal(token_sha256_hex(want, gt, strlen(gt)), 0);
	assert_string_equal(k.gate, want);
	free(gt);

	/* only the latency rule fired */
	ev = evidence_text(&x.v);
	assert_non_null(ev);
	assert_string_equal(ev, "{\"fired\":[{\"next\":\"engineering\",\"rule\":0,"
		"\"values\":[{\"path\":\"$.latencyMs\",\"value\":5000}]}],"
		"\"teams\":[\"engineering\"]}");
	assert_int_equal(token_sha256_hex(want, ev, strlen(ev)), 0);
	assert_string_equal(k.evidence, want);
	free(ev);

	snprintf(text, sizeof(text), "greenlight request v2\n%s\n%s\n%s",
		 k.subject, k.gate, k.evidence);
	assert_int_equal(token_sha256_hex(want, text, strlen(text)), 0);
	assert_string_equal(k.key, want);
	assert_true(token_is_hex(k.key, 64));
	run_release(&x);

	/* outside git: repository and commit are empty */
	run_gate(&x, "model-release", 1000, "eng0@example.com", 1, RESULTS);
	assert_int_equal(evidence_key(&k, &x.g, &x.v, NULL, NULL), 0);
	snprintf(text, sizeof(text), "greenlight subject v1\n\n\nmodel-release");
	assert_int_equal(token_sha256_hex(want, text, strlen(text)), 0);
	assert_string_equal(k.subject, want);
	{
		struct evidence_key e;

		assert_int_equal(evidence_key(&e, &x.g, &x.v, "", ""), 0);
		assert_string_equal(e.key, k.key);
	}
	run_release(&x);
}

static void test_same_evidence_same_key(void **state)
{
	struct evidence_key a, b;
	struct run x;
	(void)state;

	BASE(&a);
	BASE(&b);
	assert_string_equal(a.subject, b.subject);
	assert_string_equal(a.gate, b.gate);
	assert_string_equal(a.evidence, b.evidence);
	assert_string_equal(a.key, b.key);
	/* the results' member order and blanks do not matter */
	key_of(&b, "model-release", 1000, "eng0@example.com", 1,
	       "{ \"accuracy\" : 0.95 ,\n \"latencyMs\": 5000.0, \"extra\": [1] }",
	       REPO, COMMIT);
	assert_string_equal(a.key, b.key);
	/* nor the gate file's member order */
	run_text(&x, GATE_SHUFFLED, RESULTS);
	assert_int_equal(evidence_key(&b, &x.g, &x.v, REPO, COMMIT), 0);
	run_release(&x);
	assert_string_equal(a.gate, b.gate);
	assert_string_equal(a.key, b.key);
	/* a value no rule fired on is not evidence */
	key_of(&b, "model-release", 1000, "eng0@example.com", 1,
	       "{\"latencyMs\": 5000, \"accuracy\": 0.97}", REPO, COMMIT);
	assert_string_equal(a.evidence, b.evidence);
	assert_string_equal(a.key, b.key);
}

/* Which of b's digests differ from a's: 's'ubject, 'g'ate, 'e'vidence. */
static void moved(const struct evidence_key *a, const struct evidence_key *b,
		  const char *want)
{
	char got[4] = "";
	size_t n = 0;

	if (strcmp(a->subject, b->subject))
		got[n++] = 's';
	if (strcmp(a->gate, b->gate))
		got[n++] = 'g';
	if (strcmp(a->evidence, b->evidence))
		got[n++] = 'e';
	got[n] = '\0';
	assert_string_equal(got, want);
	assert_string_not_equal(a->key, b->key);
}

static void test_changes_move_the_key(void **state)
{
	struct evidence_key a, b;
	(void)state;

	BASE(&a);
	/* a value that fired */
	key_of(&b, "model-release", 1000, "eng0@example.com", 1,
	       "{\"latencyMs\": 5001, \"accuracy\": 0.95}", REPO, COMMIT);
	moved(&a, &b, "e");
	/* another rule firing as well (and its team) */
	key_of(&b, "model-release", 1000, "eng0@example.com", 1,
	       "{\"latencyMs\": 5000, \"accuracy\": 0.5}", REPO, COMMIT);
	moved(&a, &b, "e");
	/* a threshold */
	key_of(&b, "model-release", 1001, "eng0@example.com", 1, RESULTS, REPO,
	       COMMIT);
	moved(&a, &b, "g");
	/* a team's address */
	key_of(&b, "model-release", 1000, "eng9@example.com", 1, RESULTS, REPO,
	       COMMIT);
	moved(&a, &b, "g");
	/* approvals */
	key_of(&b, "model-release", 1000, "eng0@example.com", 2, RESULTS, REPO,
	       COMMIT);
	moved(&a, &b, "g");
	/* the gate's name */
	key_of(&b, "model-release-2", 1000, "eng0@example.com", 1, RESULTS, REPO,
	       COMMIT);
	moved(&a, &b, "s");
	/* the repository */
	key_of(&b, "model-release", 1000, "eng0@example.com", 1, RESULTS,
	       "https://git.example.com/acme/other.git", COMMIT);
	moved(&a, &b, "s");
	/* the commit */
	key_of(&b, "model-release", 1000, "eng0@example.com", 1, RESULTS, REPO,
	       "1123456789abcdef0123456789abcdef01234567");
	moved(&a, &b, "s");
	/* the separators keep fields apart: repo "ab" with commit "c" is not
	 * repo "a" with commit "bc" */
	key_of(&a, "model-release", 1000, "eng0@example.com", 1, RESULTS, "ab",
	       "c");
	key_of(&b, "model-release", 1000, "eng0@example.com", 1, RESULTS, "a",
	       "bc");
	moved(&a, &b, "s");
}

/* ---- evidence_diff ---------------------------------------------------------- */

static void diff_is(const char *before, const char *now, const char *want)
{
	struct buf out = BUF_INIT(4096);
	cJSON *b = cJSON_Parse(before), *n = cJSON_Parse(now);

	assert_non_null(b);
	assert_non_null(n);
	evidence_diff(&out, b, n);
	assert_non_null(out.data);
	assert_string_equal(out.data, want);
	buf_release(&out);
	cJSON_Delete(b);
	cJSON_Delete(n);
}

#define RULE(m, v) "{\"metric\": \"" m "\", \"value\": \"" v "\", \"op\": \">\"," \
	" \"threshold\": \"200\", \"next\": \"engineering\"}"

static void test_diff(void **state)
{
	(void)state;
	diff_is("{\"rules\": [" RULE("$.latencyMs", "225") "]}",
		"{\"rules\": [" RULE("$.latencyMs", "5000") "]}",
		"$.latencyMs 225 \xe2\x86\x92 5000");
	/* fired only now, fired only before */
	diff_is("{\"rules\": [" RULE("$.latencyMs", "225") "]}",
		"{\"rules\": [" RULE("$.latencyMs", "225") ","
		RULE("$.accuracy", "0.5") "]}",
		"$.accuracy (not fired) \xe2\x86\x92 0.5");
	diff_is("{\"rules\": [" RULE("$.latencyMs", "225") ","
		RULE("$.accuracy", "0.5") "]}",
		"{\"rules\": [" RULE("$.latencyMs", "225") "]}",
		"$.accuracy 0.5 \xe2\x86\x92 (not fired)");
	/* several: before's order, then what is new */
	diff_is("{\"rules\": [" RULE("$.a", "1") "," RULE("$.b", "2") ","
		RULE("$.c", "3") "]}",
		"{\"rules\": [" RULE("$.d", "4") "," RULE("$.c", "30") ","
		RULE("$.b", "2") "]}",
		"$.a 1 \xe2\x86\x92 (not fired); $.c 3 \xe2\x86\x92 30; "
		"$.d (not fired) \xe2\x86\x92 4");
	/* no value differs */
	diff_is("{\"rules\": [" RULE("$.latencyMs", "225") "]}",
		"{\"rules\": [" RULE("$.latencyMs", "225") "]}",
		"the gate's rules or teams changed");
	diff_is("{}", "{\"rules\": []}", "the gate's rules or teams changed");
	/* one metric tested by two rules is one change */
	diff_is("{\"rules\": [" RULE("$.x", "1") "," RULE("$.x", "1") "]}",
		"{\"rules\": [" RULE("$.x", "2") "," RULE("$.x", "2") "]}",
		"$.x 1 \xe2\x86\x92 2");
	diff_is("{\"rules\": []}",
		"{\"rules\": [" RULE("$.x", "2") "," RULE("$.x", "2") "]}",
		"$.x (not fired) \xe2\x86\x92 2");
	/* malformed facts are skipped, never followed */
	diff_is("{\"rules\": {\"metric\": \"$.x\"}}",
		"{\"rules\": [{\"metric\": 5, \"value\": \"1\"}, {\"value\": \"2\"},"
		" {\"metric\": \"$.y\", \"value\": 3}, \"junk\"]}",
		"the gate's rules or teams changed");
}

static void test_diff_appends(void **state)
{
	struct buf out = BUF_INIT(4096);
	cJSON *b = cJSON_Parse("{\"rules\": [" RULE("$.x", "1") "]}");
	cJSON *n = cJSON_Parse("{\"rules\": [" RULE("$.x", "2") "]}");
	(void)state;

	buf_adds(&out, "changed: ");
	evidence_diff(&out, b, n);
	assert_string_equal(out.data, "changed: $.x 1 \xe2\x86\x92 2");
	buf_release(&out);
	cJSON_Delete(b);
	cJSON_Delete(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_key_formula),
		cmocka_unit_test(test_same_evidence_same_key),
		cmocka_unit_test(test_changes_move_the_key),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
