/* test_ci.c - unit tests for src/ci.c and src/ci_report.c.
 *
 * Providers are detected from fake environments (each CI's real variable
 * names), and outputs are read back the way their consumer reads them:
 * $GITHUB_OUTPUT by a parser written from the runner's file-command rules,
 * the dotenv file by GitLab's rules (one KEY=value per line, nothing else),
 * JUnit by counting elements.  Hostile values (newlines, delimiters,
 * markup, invalid UTF-8) must stay inside the value they came in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ci.h"
#include "ci_report.h"

/* ---- records ------------------------------------------------------------ */

#define RULE_FIRED_TEAM \
	"{\"rule\":\"choices[1]\",\"condition\":\"$.latencyMs > 80\",\"next\":\"engineering\"," \
	"\"evaluated\":true,\"fired\":true,\"tests\":[{\"rule\":\"choices[1]\"," \
	"\"variable\":\"$.latencyMs\",\"operator\":\"NumericGreaterThan\",\"threshold\":80," \
	"\"present\":true,\"value\":225,\"result\":true}]}"
#define RULE_QUIET \
	"{\"rule\":\"choices[0]\",\"condition\":\"$.accuracypct < 96\",\"next\":\"research\"," \
	"\"evaluated\":true,\"fired\":false,\"tests\":[{\"rule\":\"choices[0]\"," \
	"\"variable\":\"$.accuracypct\",\"operator\":\"NumericLessThan\",\"threshold\":96," \
	"\"present\":true,\"value\":100,\"result\":false}]}"
#define RULE_SKIPPED \
	"{\"rule\":\"choices[2]\",\"condition\":\"$.x > 1\",\"next\":\"fail\"," \
	"\"evaluated\":false,\"fired\":false,\"tests\":[]}"
#define RULE_FAIL \
	"{\"rule\":\"choices[0]\",\"condition\":\"$.accuracypct < 50\",\"next\":\"fail\"," \
	"\"evaluated\":true,\"fired\":true,\"tests\":[{\"rule\":\"choices[0]\"," \
	"\"variable\":\"$.accuracypct\",\"operator\":\"NumericLessThan\",\"threshold\":50," \
	"\"present\":true,\"value\":12,\"result\":true}]}"
#define TEAMS "[{\"name\":\"engineering\",\"email\":[\"eng@example.com\"],\"approvals\":1}]"

static cJSON *record(const char *outcome, int code, const char *rules, const char *teams,
		     const char *request)
{
	char text[8192];
	cJSON *r;

	snprintf(text, sizeof(text),
		 "{\"record_version\":1,\"gate\":\"model-release\",\"gate_file\":\"greenlight.json\","
		 "\"results_file\":\"results.json\",\"match\":\"first\",\"evaluated_at\":\"2026-01-01T00:00:00Z\","
		 "\"outcome\":\"%s\",\"exit_code\":%d,\"default_used\":false,\"teams\":%s,\"rules\":[%s]%s%s}",
		 outcome, code, teams, rules, request ? ",\"request\":" : "", request ? request : "");
	r = cJSON_Parse(text);
	assert_non_null(r);
	return r;
}

static cJSON *review_record(const char *outcome, int code, const char *decision, const char *reason)
{
	char req[1024];

	snprintf(req, sizeof(req),
		 "{\"id\":\"req123\",\"state\":\"%s\",\"decisions\":[{\"email\":\"bob@example.com\","
		 "\"team\":\"engineering\",\"decision\":\"%s\",\"reason\":\"%s\",\"at\":\"2026-01-01T00:05:00Z\"}],"
		 "\"approvers\":[%s]}",
		 outcome, decision, reason, !strcmp(decision, "approve") ? "\"bob@example.com\"" : "");
	return record(outcome, code, RULE_QUIET "," RULE_FIRED_TEAM, TEAMS, req);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- $GITHUB_OUTPUT parsed like the runner does -------------------------- */

/* Find output `name` in file-command text and copy its value into out:
 * `key=value` lines, or `key<<DELIM` followed by value lines up to a line
 * that is exactly DELIM.  Returns 1 found, 0 not found, -1 malformed (the
 * runner would fail the step). */
static int gh_output_get(const char *text, const char *name, char *out, size_t n)
{
	char *copy = strdup(text), *lines[1024];
	size_t nl = 0;
	int found = 0;

	for (char *p = copy; *p && nl < 1024;) {
		char *eol = strchr(p, '\n');

		lines[nl++] = p;
		if (!eol)
			break;
		*eol = '\0';
		p = eol + 1;
	}
	for (size_t i = 0; i < nl; i++) {
		char *l = lines[i], *eq = strchr(l, '='), *hd = strstr(l, "<<");
		size_t k = i + 1, used = 0;

		if (!*l)
			continue;
		if (eq && (!hd || eq < hd)) {
			*eq = '\0';
			if (!strcmp(l, name) && (found = 1))
				snprintf(out, n, "%s", eq + 1);
			continue;
		}
		if (!hd) {
			found = -1;
			break;
		}
		*hd = '\0';
		while (k < nl && strcmp(lines[k], hd + 2))
			k++;
		if (k == nl) {
			found = -1;
			break;
		}
		if (!strcmp(l, name) && (found = 1)) {
			out[0] = '\0';
			for (size_t j = i + 1; j < k; j++)
				used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s",
							 j > i + 1 ? "\n" : "", lines[j]);
		}
		i = k;
	}
	free(copy);
	return found;
}

/* ---- detection ------------------------------------------------------------ */

static void test_getenv(void **state)
{
	char *vars[] = { "A=1", "AB=2", "EMPTY=", "NOEQ", NULL };
	struct ci_env env = { vars };
	(void)state;

	assert_string_equal(ci_getenv(&env, "A"), "1");
	assert_string_equal(ci_getenv(&env, "AB"), "2");
	assert_null(ci_getenv(&env, "EMPTY"));
	assert_null(ci_getenv(&env, "NOEQ"));
	assert_null(ci_getenv(&env, "B"));
}

static void test_detect(void **state)
{
	char *gh[] = { "GITHUB_ACTIONS=true", NULL };
	char *gh_false[] = { "GITHUB_ACTIONS=false", NULL };
	char *gl[] = { "GITLAB_CI=true", "CI_PROJECT_DIR=/builds/x", NULL };
	char *gcl[] = { "GITLAB_CI=false", "CI_PROJECT_DIR=/tmp/x", NULL };	/* gitlab-ci-local */
	char *jk[] = { "JENKINS_URL=https://ci.example.com/", NULL };
	char *jk_tag[] = { "BUILD_TAG=jenkins-app-7", NULL };
	char *none[] = { "HOME=/root", NULL };
	char *forced[] = { "GITHUB_ACTIONS=true", "GREENLIGHT_CI=jenkins", NULL };
	char *off[] = { "GITHUB_ACTIONS=true", "GREENLIGHT_CI=none", NULL };
	char *bogus[] = { "GITHUB_ACTIONS=true", "GREENLIGHT_CI=travis", NULL };
	struct ci_env e;
	(void)state;

	e.vars = gh; assert_ptr_equal(ci_detect(&e), &ci_github);
	e.vars = gh_false; assert_ptr_equal(ci_detect(&e), &ci_local);
	e.vars = gl; assert_ptr_equal(ci_detect(&e), &ci_gitlab);
	e.vars = gcl; assert_ptr_equal(ci_detect(&e), &ci_gitlab);
	e.vars = jk; assert_ptr_equal(ci_detect(&e), &ci_jenkins);
	e.vars = jk_tag; assert_ptr_equal(ci_detect(&e), &ci_jenkins);
	e.vars = none; assert_ptr_equal(ci_detect(&e), &ci_local);
	e.vars = forced; assert_ptr_equal(ci_detect(&e), &ci_jenkins);
	e.vars = off; assert_ptr_equal(ci_detect(&e), &ci_local);
	e.vars = bogus; assert_ptr_equal(ci_detect(&e), &ci_github);	/* warned, detected */
	e.vars = NULL; assert_ptr_equal(ci_detect(&e), &ci_local);
}

static void test_info_github(void **state)
{
	char *push[] = {
		"GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://github.example",
		"GITHUB_REPOSITORY=acme/model", "GITHUB_RUN_ID=991", "GITHUB_RUN_ATTEMPT=1",
		"GITHUB_SHA=abc123", "GITHUB_REF_NAME=main", "GITHUB_REF_TYPE=branch",
		"GITHUB_ACTOR=ada", "GITHUB_TRIGGERING_ACTOR=ada", NULL,
	};
	char *pr[] = {
		"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=acme/model", "GITHUB_RUN_ID=5",
		"GITHUB_RUN_ATTEMPT=3", "GITHUB_HEAD_REF=feature/x", "GITHUB_REF_NAME=12/merge",
		"GITHUB_BASE_REF=main",
		"GITHUB_ACTOR=ada", "GITHUB_TRIGGERING_ACTOR=bob", NULL,
	};
	char *tag[] = { "GITHUB_ACTIONS=true", "GITHUB_REF_NAME=v1.0", "GITHUB_REF_TYPE=tag", NULL };
	struct ci_env e = { push };
	struct ci_info ci;
	(void)state;

	ci_info_get(&ci, &e);
	assert_string_equal(ci.provider, "github");
	assert_string_equal(ci.run_url, "https://github.example/acme/model/actions/runs/991");
	assert_string_equal(ci.commit, "abc123");
	assert_string_equal(ci.branch, "main");
	assert_null(ci.target_branch);
	assert_string_equal(ci.repository, "acme/model");
	assert_string_equal(ci.actors, "ada");
	assert_null(ci.actor_email);
	ci_info_release(&ci);

	e.vars = pr;
	ci_info_get(&ci, &e);
	assert_string_equal(ci.run_url, "https://github.com/acme/model/actions/runs/5/attempts/3");
	assert_string_equal(ci.branch, "feature/x");
	assert_string_equal(ci.target_branch, "main");
	assert_string_equal(ci.actors, "bob,ada");
	ci_info_release(&ci);

	e.vars = tag;
	ci_info_get(&ci, &e);
	assert_null(ci.branch);
	assert_null(ci.run_url);
	ci_info_release(&ci);
}

static void test_info_gitlab_jenkins(void **state)
{
	char *gl[] = {
		"GITLAB_CI=true", "CI_PROJECT_DIR=/b", "CI_PIPELINE_URL=https://gl.example/p/-/pipelines/4",
		"CI_JOB_URL=https://gl.example/p/-/jobs/9", "CI_COMMIT_SHA=def", "CI_COMMIT_BRANCH=main",
		"CI_PROJECT_URL=https://gl.example/p", "GITLAB_USER_LOGIN=ada",
		"GITLAB_USER_EMAIL=ada@example.com", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=stable", NULL,
	};
	char *jk[] = {
		"JENKINS_URL=https://j.example/", "BUILD_URL=https://j.example/job/app/7/",
		"GIT_COMMIT=0ff", "GIT_BRANCH=origin/release", "GIT_URL=https://git.example/app.git",
		"CHANGE_AUTHOR=carol", "CHANGE_AUTHOR_EMAIL=carol@example.com",
		"GREENLIGHT_TRIGGERED_BY=dave,erin", "CHANGE_TARGET=main", NULL,
	};
	struct ci_env e = { gl };
	struct ci_info ci;
	cJSON *j;
	char *text;
	(void)state;

	ci_info_get(&ci, &e);
	assert_string_equal(ci.provider, "gitlab");
	assert_string_equal(ci.run_url, "https://gl.example/p/-/pipelines/4");
	assert_string_equal(ci.branch, "main");
	assert_string_equal(ci.repository, "https://gl.example/p");
	assert_string_equal(ci.actors, "ada");
	assert_string_equal(ci.actor_email, "ada@example.com");
	assert_string_equal(ci.target_branch, "stable");
	ci_info_release(&ci);

	e.vars = jk;
	ci_info_get(&ci, &e);
	assert_string_equal(ci.provider, "jenkins");
	assert_string_equal(ci.run_url, "https://j.example/job/app/7/");
	assert_string_equal(ci.branch, "release");
	assert_string_equal(ci.actors, "dave,erin");	/* the override wins */
	assert_string_equal(ci.actor_email, "carol@example.com");
	j = ci_info_json(&ci);
	text = cJSON_PrintUnformatted(j);
	assert_non_null(strstr(text, "\"TriggeredBy\":[\"dave\",\"erin\"]"));
	assert_non_null(strstr(text, "\"Provider\":\"jenkins\""));
	assert_non_null(strstr(text, "\"TargetBranch\":\"main\""));
	free(text);
	cJSON_Delete(j);
	ci_info_release(&ci);
}

/* ---- escapers ------------------------------------------------------------- */

static char *escaped(int (*fn)(struct buf *, const char *), const char *s)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(fn(&b, s), 0);
	return b.data ? buf_detach(&b, NULL) : strdup("");
}

static int cmd_data(struct buf *b, const char *s) { return ci_cmd_escape(b, s, 0); }
static int cmd_prop(struct buf *b, const char *s) { return ci_cmd_escape(b, s, 1); }

static void test_escapers(void **state)
{
	char *s;
	(void)state;

	s = escaped(ci_xml_escape, "a<b>&\"c'\x01\x7f\td\xff");
	assert_string_equal(s, "a&lt;b&gt;&amp;&quot;c&apos;\\u0001\\u007f\td\xEF\xBF\xBD");
	free(s);
	/* C1 and bidi controls are shown as \u escapes, line breaks kept */
	s = escaped(ci_xml_escape, "\xE2\x80\xAE" "exe\xC2\x85\n");
	assert_string_equal(s, "\\u202eexe\\u0085\n");
	free(s);
	s = escaped(ci_xml_escape, "\xC3\xA9\xED\xA0\x80");	/* é, then a surrogate */
	assert_string_equal(s, "\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	free(s);
	s = escaped(ci_md_escape, "a|b\n<script>*x*");
	assert_string_equal(s, "a&#124;b &#60;script&#62;&#42;x&#42;");
	free(s);
	s = escaped(ci_md_escape, "a\xC2\x85" "b\xE2\x81\xA6\x1B");
	assert_string_equal(s, "a&#92;u0085b&#92;u2066&#92;u001b");
	free(s);
	s = escaped(cmd_data, "100%\r\n::set-output name=x::y");
	assert_string_equal(s, "100%25%0D%0A::set-output name=x::y");
	free(s);
	s = escaped(cmd_data, "x\xE2\x80\xAE\x01\xC2\x9B");
	assert_string_equal(s, "x\\u202e\\u0001\\u009b");
	free(s);
	s = escaped(cmd_prop, "a:b,c%\n");
	assert_string_equal(s, "a%3Ab%2Cc%25%0A");
	free(s);
}

/* ---- GitHub outputs, annotations, summary --------------------------------- */

static void test_github_output(void **state)
{
	cJSON *r = review_record("approved", 0, "approve", "ok");
	struct ci_values cv;
	struct buf b = BUF_INIT(65536);
	char v[256];
	(void)state;

	ci_values_init(&cv, r, "out/decision.json");
	assert_int_equal(ci_github_output(&b, &cv, "ghadelimiter_x"), 0);
	assert_int_equal(gh_output_get(b.data, "outcome", v, sizeof(v)), 1);
	assert_string_equal(v, "approved");
	assert_int_equal(gh_output_get(b.data, "exit-code", v, sizeof(v)), 1);
	assert_string_equal(v, "0");
	assert_int_equal(gh_output_get(b.data, "approvers", v, sizeof(v)), 1);
	assert_string_equal(v, "bob@example.com");
	assert_int_equal(gh_output_get(b.data, "request-id", v, sizeof(v)), 1);
	assert_string_equal(v, "req123");
	assert_int_equal(gh_output_get(b.data, "decision-file", v, sizeof(v)), 1);
	assert_string_equal(v, "out/decision.json");
	assert_int_equal(gh_output_get(b.data, "teams", v, sizeof(v)), 1);
	assert_string_equal(v, "engineering");
	buf_release(&b);
	/* a value that holds the delimiter, or a bad delimiter, is refused */
	free(cv.v[CI_GATE]);
	cv.v[CI_GATE] = strdup("x\nghadelimiter_x\nevil=1");
	assert_int_equal(ci_github_output(&b, &cv, "ghadelimiter_x"), 1);
	assert_int_equal(b.len, 0);
	assert_int_equal(ci_github_output(&b, &cv, "a\nb"), 1);
	assert_int_equal(ci_github_output(&b, &cv, ""), 1);
	/* with another delimiter the hostile value stays one value */
	assert_int_equal(ci_github_output(&b, &cv, "ghadelimiter_y"), 0);
	assert_int_equal(gh_output_get(b.data, "gate", v, sizeof(v)), 1);
	assert_string_equal(v, "x\nghadelimiter_x\nevil=1");
	assert_int_equal(gh_output_get(b.data, "evil", v, sizeof(v)), 0);
	buf_release(&b);
	ci_values_release(&cv);
	cJSON_Delete(r);
}

static void test_annotation(void **state)
{
	struct { const char *outcome; int code; const char *dec; const char *want; } c[] = {
		{ "approved", 0, "approve", "::notice file=greenlight.json,title=greenlight model-release::gate model-release approved by bob@example.com\n" },
		{ "rejected", 1, "reject", "::error file=greenlight.json,title=greenlight model-release::gate model-release rejected by bob@example.com: too slow%0Asee 50%25\n" },
		{ "timed_out", 3, "approve", "::error file=greenlight.json,title=greenlight model-release::gate model-release timed out waiting for engineering (request req123)\n" },
		{ "pending", 5, "approve", "::warning file=greenlight.json,title=greenlight model-release::gate model-release: the review by engineering is still pending (request req123); re-run to re-attach\n" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cJSON *r = review_record(c[i].outcome, c[i].code, c[i].dec, "too slow\\nsee 50%");
		struct ci_values cv;
		struct buf b = BUF_INIT(65536);

		ci_values_init(&cv, r, NULL);
		assert_int_equal(ci_annotation(&b, r, &cv), 0);
		assert_string_equal(b.data, c[i].want);
		buf_release(&b);
		ci_values_release(&cv);
		cJSON_Delete(r);
	}
}

static void test_annotation_check(void **state)
{
	cJSON *fail = record("fail", 1, RULE_FAIL, "[]", NULL);
	cJSON *review = record("review", 5, RULE_QUIET "," RULE_FIRED_TEAM, TEAMS, NULL);
	struct ci_values cv;
	struct buf b = BUF_INIT(65536);
	(void)state;

	cJSON_ReplaceItemInObject(fail, "gate", cJSON_CreateString("a:b,c"));
	ci_values_init(&cv, fail, NULL);
	assert_int_equal(ci_annotation(&b, fail, &cv), 0);
	assert_string_equal(b.data, "::error file=greenlight.json,title=greenlight a%3Ab%2Cc::gate a:b,c failed: "
			    "choices[0] ($.accuracypct < 50) fired\n");
	buf_release(&b);
	ci_values_release(&cv);
	ci_values_init(&cv, review, NULL);
	assert_int_equal(ci_annotation(&b, review, &cv), 0);
	assert_non_null(strstr(b.data, "::warning "));
	assert_non_null(strstr(b.data, "needs review by engineering: choices[1] ($.latencyMs > 80)"));
	buf_release(&b);
	ci_values_release(&cv);
	cJSON_Delete(fail);
	cJSON_Delete(review);
}

static void test_markdown(void **state)
{
	cJSON *r = review_record("rejected", 1, "reject", "p95 | <b>bad</b>\\nnext line");
	struct ci_values cv;
	struct buf b = BUF_INIT(1 << 20);
	(void)state;

	ci_values_init(&cv, r, "decision.json");
	assert_int_equal(ci_markdown(&b, r, &cv, 100), 0);
	assert_non_null(strstr(b.data, "### \xE2\x9D\x8C rejected: greenlight gate model-release\n"));
	assert_non_null(strstr(b.data, "| choices&#91;1&#93; | &#36;.latencyMs &#62; 80 | &#36;.latencyMs = 225 | 80 | **yes** | engineering |\n"));
	assert_non_null(strstr(b.data, "| bob&#64;example.com | engineering | reject | p95 &#124; &#60;b&#62;bad&#60;/b&#62; next line |"));
	assert_non_null(strstr(b.data, "**decision record:** decision.json"));
	assert_null(strstr(b.data, "<b>"));
	/* every table line has the same number of unescaped pipes */
	for (char *line = strtok(b.data, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] == '|')
			assert_true(count(line, "|") == 7 || count(line, "|") == 6);
	buf_release(&b);
	/* row cap */
	assert_int_equal(ci_markdown(&b, r, &cv, 1), 0);
	assert_non_null(strstr(b.data, "1 more rules: see the decision record"));
	buf_release(&b);
	/* a too small buffer fails whole */
	b.max = 64;
	assert_true(ci_markdown(&b, r, &cv, 100) < 0);
	assert_null(b.data);
	ci_values_release(&cv);
	cJSON_Delete(r);
}

/* ---- JUnit ---------------------------------------------------------------- */

static void junit_of(cJSON *r, struct buf *b)
{
	assert_int_equal(ci_junit(b, r), 0);
	assert_non_null(strstr(b->data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
	assert_non_null(strstr(b->data, "</testsuite>\n</testsuites>\n"));
}

static void test_junit(void **state)
{
	struct { const char *outcome; int code; const char *dec; const char *counts; const char *type; } c[] = {
		{ "approved", 0, "approve", "tests=\"3\" failures=\"0\" errors=\"0\" skipped=\"1\"", NULL },
		{ "rejected", 1, "reject", "tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\"", "type=\"rejected\" message=\"rejected by bob@example.com: no\"" },
		{ "timed_out", 3, "approve", "tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\"", "type=\"timed_out\"" },
		{ "review", 5, "approve", "tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\"", "type=\"review\"" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cJSON *r = review_record(c[i].outcome, c[i].code, c[i].dec, "no");
		struct buf b = BUF_INIT(1 << 20);

		junit_of(r, &b);
		assert_int_equal(count(b.data, c[i].counts), 2);	/* testsuites and testsuite */
		assert_int_equal(count(b.data, "<testcase "), 3);
		if (c[i].type)
			assert_non_null(strstr(b.data, c[i].type));
		else
			assert_null(strstr(b.data, "<failure"));
		assert_non_null(strstr(b.data, "name=\"choices[1] $.latencyMs &gt; 80\""));
		assert_non_null(strstr(b.data, "choices[1]: $.latencyMs = 225 (NumericGreaterThan 80): true"));
		buf_release(&b);
		cJSON_Delete(r);
	}
}

static void test_junit_fail_skip_default(void **state)
{
	cJSON *r = record("fail", 1, RULE_FAIL "," RULE_SKIPPED, "[]", NULL);
	cJSON *d = record("fail", 1, RULE_QUIET, "[]", NULL);
	struct buf b = BUF_INIT(1 << 20);
	(void)state;

	junit_of(r, &b);
	assert_int_equal(count(b.data, "tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"2\""), 2);
	assert_non_null(strstr(b.data, "<failure type=\"fail\""));
	assert_non_null(strstr(b.data, "<skipped message=\"not evaluated: an earlier rule matched (match: first)\"/>"));
	buf_release(&b);
	/* no rule fired, the default failed the gate: the "default" case fails */
	cJSON_ReplaceItemInObject(d, "default_used", cJSON_CreateTrue());
	junit_of(d, &b);
	assert_int_equal(count(b.data, "tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\""), 2);
	assert_non_null(strstr(b.data, "name=\"default\" time=\"0\">\n      <failure type=\"fail\""));
	buf_release(&b);
	/* hostile gate names stay inside attributes */
	cJSON_ReplaceItemInObject(r, "gate", cJSON_CreateString("\"/><evil x=\"\x02"));
	junit_of(r, &b);
	assert_null(strstr(b.data, "<evil"));
	assert_non_null(strstr(b.data, "classname=\"greenlight.&quot;/&gt;&lt;evil x=&quot;\\u0002\""));
	buf_release(&b);
	cJSON_Delete(r);
	cJSON_Delete(d);
}

/* ---- dotenv ----------------------------------------------------------------- */

static void test_dotenv(void **state)
{
	cJSON *r = review_record("approved", 0, "approve", "ok");
	struct ci_values cv;
	struct buf b = BUF_INIT(65536);
	char big[2000];
	(void)state;

	ci_values_init(&cv, r, NULL);
	assert_int_equal(ci_dotenv(&b, &cv), 0);
	assert_string_equal(b.data,
			    "GREENLIGHT_OUTCOME=approved\nGREENLIGHT_EXIT_CODE=0\nGREENLIGHT_GATE_NAME=model-release\n"
			    "GREENLIGHT_TEAMS=engineering\nGREENLIGHT_APPROVERS=bob@example.com\n"
			    "GREENLIGHT_REQUEST_ID=req123\n");	/* no decision file: left out */
	buf_release(&b);
	free(cv.v[CI_GATE]);
	cv.v[CI_GATE] = strdup("  two\nlines\r\x01 ");
	memset(big, 'x', sizeof(big));
	memcpy(big + CI_DOTENV_VALUE_MAX - 1, "\xC3\xA9", 2);	/* é across the cap */
	big[sizeof(big) - 1] = '\0';
	free(cv.v[CI_DECISION_FILE]);
	cv.v[CI_DECISION_FILE] = strdup(big);
	assert_int_equal(ci_dotenv(&b, &cv), 0);
	assert_non_null(strstr(b.data, "\nGREENLIGHT_GATE_NAME=two lines \\u0001\nGREENLIGHT_TEAMS="));
	assert_int_equal(count(b.data, "\n"), 7);
	assert_null(strstr(b.data, "\n\n"));
	assert_null(strstr(b.data, "\xC3"));
	{
		const char *line = strstr(b.data, "GREENLIGHT_DECISION_FILE=");

		assert_int_equal(strlen(line), strlen("GREENLIGHT_DECISION_FILE=") + CI_DOTENV_VALUE_MAX - 1 + 1);
	}
	buf_release(&b);
	ci_values_release(&cv);
	cJSON_Delete(r);
}

/* ---- baselines ---------------------------------------------------------------- */

/* A fired rule reading $$.DeltaPct.latencyMs (baseline 200, +50, +25%),
 * $.accuracypct (no baseline), a path built to inject a dotenv line, and a
 * string whose baseline is not a number. */
#define RULE_LAT \
	"{\"rule\":\"choices[0]\",\"condition\":\"$.latencyMs > 10\",\"next\":\"fail\"," \
	"\"evaluated\":true,\"fired\":true,\"tests\":[{\"rule\":\"choices[0]\"," \
	"\"variable\":\"$.latencyMs\",\"operator\":\"NumericGreaterThan\",\"threshold\":10," \
	"\"present\":true,\"value\":25,\"result\":true}]}"
#define TEST_BASE(var, value, base) \
	"{\"rule\":\"choices[0]\",\"variable\":\"" var "\",\"operator\":\"NumericGreaterThan\"," \
	"\"threshold\":10,\"present\":true,\"value\":" value ",\"baseline\":" base ",\"result\":true}"
#define RULE_BASE \
	"{\"rule\":\"choices[0]\",\"condition\":\"$$.DeltaPct.latencyMs > 10\",\"next\":\"fail\"," \
	"\"evaluated\":true,\"fired\":true,\"tests\":[" \
	TEST_BASE("$$.DeltaPct.latencyMs", "25", "{\"value\":200,\"delta\":50,\"delta_pct\":25}") "," \
	"{\"rule\":\"choices[0]\",\"variable\":\"$.accuracypct\",\"operator\":\"NumericLessThan\"," \
	"\"threshold\":96,\"present\":true,\"value\":90,\"result\":true}," \
	TEST_BASE("$['p95\\n=GREENLIGHT_OUTCOME=pass|x']", "0.5", "{\"value\":0.4,\"delta\":0.1,\"delta_pct\":25}") "," \
	TEST_BASE("$.name", "\"x\"", "{\"value\":\"y\\nGREENLIGHT_X=1\"}") "]}"
#define BASELINE_MEMBER ",\"baseline\":{\"commits\":4,\"aggregate\":\"median\"}"

static cJSON *base_record(const char *rules)
{
	cJSON *r = record("fail", 1, rules, "[]", NULL);

	cJSON_AddItemToObject(r, "baseline", cJSON_Parse(BASELINE_MEMBER + 12));
	assert_non_null(cJSON_GetObjectItem(r, "baseline"));
	return r;
}

static void test_baseline_names(void **state)
{
	char out[128];
	(void)state;

	ci_baseline_key("$.latencyMs", out, sizeof(out));
	assert_string_equal(out, "LATENCYMS");
	ci_baseline_key("$['p(95)'].ms", out, sizeof(out));
	assert_string_equal(out, "P_95_MS");
	ci_baseline_key("$.a[0]['b c\n=d']", out, sizeof(out));
	assert_string_equal(out, "A_0_B_C_D");
	ci_baseline_key("$['\xC3\xA9t\xC3\xA9']", out, sizeof(out));
	assert_string_equal(out, "T");
	ci_baseline_key("$['--']", out, sizeof(out));
	assert_string_equal(out, "");
	ci_baseline_key("$.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbb", out, sizeof(out));
	assert_int_equal(strlen(out), 63);	/* cut at 64, then the trailing '_' */
	ci_baseline_key("$.latencyMs", out, 4);
	assert_string_equal(out, "LAT");
	ci_input_path("$$.DeltaPct.latencyMs", out, sizeof(out));
	assert_string_equal(out, "$.latencyMs");
	ci_input_path("$$['Baseline']['p(95)']", out, sizeof(out));
	assert_string_equal(out, "$['p(95)']");
	ci_input_path("$$.Delta.a.b", out, sizeof(out));
	assert_string_equal(out, "$.a.b");
	ci_input_path("$.x", out, sizeof(out));
	assert_string_equal(out, "$.x");
	ci_input_path("$$.Git.Branch", out, sizeof(out));
	assert_string_equal(out, "");
	ci_input_path("not a path", out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_markdown_baseline(void **state)
{
	/* the rendering of a record without baselines, as before baselines */
	static const char before[] =
		"### \xE2\x9D\x8C failed: greenlight gate model-release\n\n"
		"| rule | condition | value | threshold | fired | next |\n"
		"| --- | --- | --- | --- | --- | --- |\n"
		"| choices&#91;0&#93; | &#36;.latencyMs &#62; 10 | &#36;.latencyMs = 25 | 10 | **yes** | fail |\n"
		"| choices&#91;2&#93; | &#36;.x &#62; 1 | - | - | not evaluated | fail |\n\n"
		"**outcome:** fail \xC2\xB7 **exit code:** 1 \xC2\xB7 **decision record:** d.json\n\n";
	cJSON *plain = record("fail", 1, RULE_LAT "," RULE_SKIPPED, "[]", NULL);
	cJSON *r = base_record(RULE_BASE "," RULE_SKIPPED);
	struct ci_values cv;
	struct buf b = BUF_INIT(1 << 20);
	(void)state;

	ci_values_init(&cv, plain, "d.json");
	assert_int_equal(ci_markdown(&b, plain, &cv, 100), 0);
	assert_string_equal(b.data, before);
	buf_release(&b);
	ci_values_release(&cv);

	ci_values_init(&cv, r, "d.json");
	assert_int_equal(ci_markdown(&b, r, &cv, 100), 0);
	assert_non_null(strstr(b.data, "| rule | condition | value | baseline | change | threshold | fired | next |\n"
				       "| --- | --- | --- | --- | --- | --- | --- | --- |\n"));
	assert_non_null(strstr(b.data, " | &#36;&#36;.DeltaPct.latencyMs = 25<br>&#36;.accuracypct = 90<br>"));
	assert_non_null(strstr(b.data, " = 0.5<br>&#36;.name = &#34;x&#34; | 200<br>-<br>0.4<br>&#34;y&#92;nGREENLIGHT&#95;X=1&#34; | "
				       "+50 (+25%)<br>-<br>+0.1 (+25%)<br>- | 10<br>96<br>10<br>10 | **yes** | fail |\n"));
	assert_non_null(strstr(b.data, "| choices&#91;2&#93; | &#36;.x &#62; 1 | - | - | - | - | not evaluated | fail |\n"));
	assert_non_null(strstr(b.data, " |\n\n**baseline:** median of 4 recorded commits\n\n**outcome:** fail"));
	assert_null(strstr(b.data, "|x"));	/* the path's pipe is an entity */
	for (char *line = strtok(b.data, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] == '|')
			assert_int_equal(count(line, "|"), 9);
	buf_release(&b);
	/* the row cap keeps the column count */
	assert_int_equal(ci_markdown(&b, r, &cv, 1), 0);
	assert_non_null(strstr(b.data, "| 1 more rules: see the decision record | | | | | | |\n"));
	buf_release(&b);
	/* one commit; an aggregate name is escaped */
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "baseline"), "commits", cJSON_CreateNumber(1));
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "baseline"), "aggregate", cJSON_CreateString("<b>last</b>"));
	assert_int_equal(ci_markdown(&b, r, &cv, 100), 0);
	assert_non_null(strstr(b.data, "**baseline:** &#60;b&#62;last&#60;/b&#62; of 1 recorded commit\n"));
	buf_release(&b);
	/* without the top-level member: no columns, no line */
	cJSON_DeleteItemFromObject(r, "baseline");
	assert_int_equal(ci_markdown(&b, r, &cv, 100), 0);
	assert_null(strstr(b.data, "| baseline |"));
	assert_null(strstr(b.data, "**baseline:**"));
	buf_release(&b);
	ci_values_release(&cv);
	cJSON_Delete(r);
	cJSON_Delete(plain);
}

static void test_junit_baseline(void **state)
{
	cJSON *plain = record("fail", 1, RULE_LAT, "[]", NULL);
	cJSON *r = base_record(RULE_BASE);
	struct buf b = BUF_INIT(1 << 20);
	const char *msg;
	(void)state;

	junit_of(plain, &b);
	assert_non_null(strstr(b.data, "<failure type=\"fail\" message=\"fired: the release fails\"/>\n"
				       "      <system-out>fired: the release fails\n"
				       "choices[0]: $.latencyMs = 25 (NumericGreaterThan 10): true\n</system-out>"));
	assert_null(strstr(b.data, "baseline"));
	buf_release(&b);

	junit_of(r, &b);
	assert_non_null(strstr(b.data, "\nchoices[0]: $$.DeltaPct.latencyMs = 25 (NumericGreaterThan 10): true, baseline 200 (+50, +25%)\n"
				       "choices[0]: $.accuracypct = 90 (NumericLessThan 96): true\n"));
	assert_non_null(strstr(b.data, "): true, baseline 0.4 (+0.1, +25%)\n"));
	assert_non_null(strstr(b.data, "choices[0]: $.name = &quot;x&quot; (NumericGreaterThan 10): true, baseline &quot;y\\nGREENLIGHT_X=1&quot;\n"));
	msg = strstr(b.data, "<failure type=\"fail\" message=\"fired: the release fails; $.latencyMs: baseline 200, change +50 (+25%); "
				"$[&apos;p95\\u000a=GREENLIGHT_OUTCOME=pass|x&apos;]: baseline 0.4, change +0.1 (+25%); "
				"$.name: baseline &quot;y\\nGREENLIGHT_X=1&quot;\"/>\n");
	assert_non_null(msg);
	buf_release(&b);
	cJSON_Delete(r);
	cJSON_Delete(plain);
}

/* Every line KEY=value with KEY of [A-Z0-9_]: what GitLab accepts. */
static void assert_dotenv_lines(const char *text)
{
	char *copy = strdup(text);

	for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
		size_t k = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

		assert_true(k > 0 && line[k] == '=');
	}
	free(copy);
}

static void test_dotenv_baseline(void **state)
{
	cJSON *plain = record("fail", 1, RULE_LAT, "[]", NULL);
	cJSON *r = base_record(RULE_BASE "," RULE_SKIPPED);
	struct ci_values cv;
	struct buf b = BUF_INIT(65536);
	(void)state;

	ci_values_init(&cv, plain, "d.json");
	assert_int_equal(cv.nbase, 0);
	assert_int_equal(ci_dotenv(&b, &cv), 0);
	assert_string_equal(b.data, "GREENLIGHT_OUTCOME=fail\nGREENLIGHT_EXIT_CODE=1\nGREENLIGHT_GATE_NAME=model-release\n"
				    "GREENLIGHT_DECISION_FILE=d.json\n");
	buf_release(&b);
	ci_values_release(&cv);

	ci_values_init(&cv, r, "d.json");
	assert_int_equal(cv.nbase, 2);	/* $.name's baseline is not a number */
	assert_int_equal(ci_dotenv(&b, &cv), 0);
	assert_string_equal(b.data, "GREENLIGHT_OUTCOME=fail\nGREENLIGHT_EXIT_CODE=1\nGREENLIGHT_GATE_NAME=model-release\n"
				    "GREENLIGHT_DECISION_FILE=d.json\n"
				    "GREENLIGHT_BASELINE_LATENCYMS=200\nGREENLIGHT_DELTA_LATENCYMS=50\n"
				    "GREENLIGHT_DELTA_PCT_LATENCYMS=25\n"
				    "GREENLIGHT_BASELINE_P95_GREENLIGHT_OUTCOME_PASS_X=0.4\n"
				    "GREENLIGHT_DELTA_P95_GREENLIGHT_OUTCOME_PASS_X=0.1\n"
				    "GREENLIGHT_DELTA_PCT_P95_GREENLIGHT_OUTCOME_PASS_X=25\n");
	assert_dotenv_lines(b.data);
	assert_int_equal(count(b.data, "GREENLIGHT_OUTCOME="), 1);
	buf_release(&b);
	ci_values_release(&cv);
	cJSON_Delete(r);
	cJSON_Delete(plain);
}

static void test_github_output_baseline(void **state)
{
	cJSON *r = base_record(RULE_BASE);
	struct ci_values cv;
	struct buf b = BUF_INIT(65536);
	char v[256];
	(void)state;

	ci_values_init(&cv, r, NULL);
	assert_int_equal(ci_github_output(&b, &cv, "ghadelimiter_x"), 0);
	assert_int_equal(gh_output_get(b.data, "outcome", v, sizeof(v)), 1);
	assert_string_equal(v, "fail");
	assert_int_equal(gh_output_get(b.data, "baseline-latencyms", v, sizeof(v)), 1);
	assert_string_equal(v, "200");
	assert_int_equal(gh_output_get(b.data, "delta-latencyms", v, sizeof(v)), 1);
	assert_string_equal(v, "50");
	assert_int_equal(gh_output_get(b.data, "delta-pct-latencyms", v, sizeof(v)), 1);
	assert_string_equal(v, "25");
	assert_int_equal(gh_output_get(b.data, "delta-pct-p95-greenlight-outcome-pass-x", v, sizeof(v)), 1);
	assert_string_equal(v, "25");
	assert_int_equal(gh_output_get(b.data, "baseline-name", v, sizeof(v)), 0);
	assert_int_equal(gh_output_get(b.data, "GREENLIGHT_OUTCOME", v, sizeof(v)), 0);
	assert_int_equal(count(b.data, "<<ghadelimiter_x\n"), CI_NVALUES + 6);
	buf_release(&b);
	/* a delimiter that a baseline number holds is refused */
	assert_int_equal(ci_github_output(&b, &cv, "200"), 1);
	assert_int_equal(b.len, 0);
	ci_values_release(&cv);
	cJSON_Delete(r);
}

/* Only fired rules; one entry per name (first wins); at most
 * CI_BASELINE_VARS paths. */
static void test_baseline_vars_limits(void **state)
{
	struct buf rules = BUF_INIT(1 << 20), b = BUF_INIT(1 << 20);
	static const char *const paths[] = {
		"$.a_b", "$.a.b", "$$.Baseline.a_b", "$.pct.x", "$.x", "$.q", "$.Q",
	};
	struct ci_values cv;
	cJSON *r;
	(void)state;

	assert_int_equal(buf_adds(&rules, "{\"rule\":\"choices[0]\",\"condition\":\"c\",\"next\":\"fail\","
				  "\"evaluated\":true,\"fired\":false,\"tests\":["
				  TEST_BASE("$.quiet", "1", "{\"value\":1,\"delta\":0}") "]},"
				  "{\"rule\":\"choices[1]\",\"condition\":\"c\",\"next\":\"fail\","
				  "\"evaluated\":true,\"fired\":true,\"tests\":["), 0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(buf_addf(&rules, "%s{\"variable\":\"%s\",\"baseline\":{\"value\":%zu}}",
					  i ? "," : "", paths[i], i), 0);
	for (int i = 0; i < 30; i++)
		assert_int_equal(buf_addf(&rules, ",{\"variable\":\"$.m%d\",\"baseline\":{\"value\":%d,\"delta\":1}}", i, i), 0);
	assert_int_equal(buf_adds(&rules, "]}"), 0);
	r = base_record(rules.data);
	ci_values_init(&cv, r, NULL);
	assert_int_equal(cv.nbase, CI_BASELINE_VARS);
	assert_string_equal(cv.base[0].key, "A_B");
	assert_string_equal(cv.base[0].value, "0");
	assert_string_equal(cv.base[1].key, "PCT_X");
	assert_string_equal(cv.base[2].key, "Q");
	assert_string_equal(cv.base[2].value, "5");
	assert_string_equal(cv.base[3].key, "M0");
	assert_string_equal(cv.base[3].delta, "1");
	assert_string_equal(cv.base[3].pct, "");
	assert_string_equal(cv.base[CI_BASELINE_VARS - 1].key, "M16");
	assert_int_equal(ci_dotenv(&b, &cv), 0);
	assert_null(strstr(b.data, "QUIET"));
	assert_int_equal(count(b.data, "GREENLIGHT_DELTA_PCT_"), 0);
	assert_int_equal(count(b.data, "GREENLIGHT_BASELINE_"), CI_BASELINE_VARS);
	assert_dotenv_lines(b.data);
	buf_release(&b);
	ci_values_release(&cv);
	cJSON_Delete(r);
	buf_release(&rules);
}

/* ---- ci_write: files as each CI sees them --------------------------------------- */

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT(1 << 24);

	if (buf_read_file(&b, path))
		return NULL;
	return b.data ? buf_detach(&b, NULL) : strdup("");
}

static void test_write_github(void **state)
{
	char dir[] = "/tmp/test_ci.XXXXXX", out[128], sum[128], junit[128], envout[160], envsum[160];
	char *vars[] = { "GITHUB_ACTIONS=true", envout, envsum, NULL };
	struct ci_env env = { vars };
	struct ci_output_opts o = { 0 };
	cJSON *r = review_record("approved", 0, "approve", "fine");
	FILE *log = tmpfile();
	char *text, v[128], line[512];
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/output", dir);
	snprintf(sum, sizeof(sum), "%s/summary.md", dir);
	snprintf(junit, sizeof(junit), "%s/junit.xml", dir);
	snprintf(envout, sizeof(envout), "GITHUB_OUTPUT=%s", out);
	snprintf(envsum, sizeof(envsum), "GITHUB_STEP_SUMMARY=%s", sum);
	{
		FILE *f = fopen(out, "w");

		fputs("earlier=kept\n", f);	/* another command's output in the same step */
		fclose(f);
	}
	o.decision_file = "decision.json";
	o.junit = junit;
	o.log = log;
	assert_int_equal(ci_write(&env, r, &o), 0);
	text = slurp(out);
	assert_int_equal(gh_output_get(text, "earlier", v, sizeof(v)), 1);
	assert_int_equal(gh_output_get(text, "outcome", v, sizeof(v)), 1);
	assert_string_equal(v, "approved");
	free(text);
	text = slurp(sum);
	assert_non_null(strstr(text, "approved: greenlight gate model-release"));
	free(text);
	text = slurp(junit);
	assert_non_null(strstr(text, "<testsuites"));
	free(text);
	rewind(log);
	assert_non_null(fgets(line, sizeof(line), log));
	assert_true(!strncmp(line, "::notice ", 9));
	/* an unwritable output is an error, the others are still written */
	unlink(junit);
	snprintf(envout, sizeof(envout), "GITHUB_OUTPUT=%s/missing/dir/output", dir);
	assert_int_equal(ci_write(&env, r, &o), -1);
	assert_int_equal(access(junit, F_OK), 0);
	unlink(junit);
	unlink(out);
	unlink(sum);
	rmdir(dir);
	fclose(log);
	cJSON_Delete(r);
}

static void test_write_gitlab(void **state)
{
	char dir[] = "/tmp/test_ci.XXXXXX", cwd[4096], *text;
	char *vars[] = { "GITLAB_CI=true", "CI_PROJECT_DIR=/b", NULL };
	char *local[] = { "HOME=/root", NULL };
	struct ci_env env = { vars };
	struct ci_output_opts o = { 0 };
	cJSON *r = record("fail", 1, RULE_FAIL, "[]", NULL);
	(void)state;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(ci_write(&env, r, &o), 0);
	text = slurp("greenlight.env");	/* GitLab's default dotenv file */
	assert_non_null(text);
	assert_non_null(strstr(text, "GREENLIGHT_OUTCOME=fail\nGREENLIGHT_EXIT_CODE=1\n"));
	free(text);
	unlink("greenlight.env");
	env.vars = local;	/* no CI: no files unless asked */
	assert_int_equal(ci_write(&env, r, &o), 0);
	assert_int_equal(access("greenlight.env", F_OK), -1);
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
	cJSON_Delete(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getenv),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_info_github),
		cmocka_unit_test(test_info_gitlab_jenkins),
		cmocka_unit_test(test_escapers),
		cmocka_unit_test(test_github_output),
		cmocka_unit_test(test_annotation),
		cmocka_unit_test(test_annotation_check),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_junit),
		cmocka_unit_test(test_junit_fail_skip_default),
		cmocka_unit_test(test_dotenv),
		cmocka_unit_test(test_baseline_names),
		cmocka_unit_test(test_markdown_baseline),
		cmocka_unit_test(test_junit_baseline),
		cmocka_unit_test(test_dotenv_baseline),
		cmocka_unit_test(test_github_output_baseline),
		cmocka_unit_test(test_baseline_vars_limits),
		cmocka_unit_test(test_write_github),
		cmocka_unit_test(test_write_gitlab),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
