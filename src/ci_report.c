/* ci_report.c - CI renderings of a decision record (see ci_report.h).
 *
 * Everything here reads the record through str_of()/bool_of(), which treat
 * a missing or mistyped member as empty, so a record from an older or newer
 * greenlight still renders.  Escaping happens at the last moment, per
 * destination, on bytes that are first checked to be valid UTF-8.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "ci_report.h"
#include "json.h"
#include "jsonpath.h"
#include "report.h"
#include "utf8.h"
#include "util.h"

#define JOIN_MAX (64 * 1024)	/* teams or approvers joined by commas */
#define CELL_MAX 200		/* bytes of one Markdown cell's data */
#define CELL_TESTS 5		/* tests listed per rule in a cell */
#define MSG_MAX 1024		/* bytes of an annotation's message */

static const struct {
	const char *output;
	const char *env;
} value_names[CI_NVALUES] = {
	[CI_OUTCOME] = { "outcome", "GREENLIGHT_OUTCOME" },
	[CI_EXIT_CODE] = { "exit-code", "GREENLIGHT_EXIT_CODE" },
	[CI_GATE] = { "gate", "GREENLIGHT_GATE_NAME" },
	[CI_TEAMS] = { "teams", "GREENLIGHT_TEAMS" },
	[CI_APPROVERS] = { "approvers", "GREENLIGHT_APPROVERS" },
	[CI_REQUEST_ID] = { "request-id", "GREENLIGHT_REQUEST_ID" },
	[CI_DECISION_FILE] = { "decision-file", "GREENLIGHT_DECISION_FILE" },
};

const char *ci_value_output_name(enum ci_value_id id)
{
	return value_names[id].output;
}

const char *ci_value_env_name(enum ci_value_id id)
{
	return value_names[id].env;
}

static const cJSON *member(const cJSON *o, const char *key)
{
	return o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const char *s = json_str(o, key);

	return s ? s : "";
}

static int bool_of(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(member(o, key));
}

/* Length of the UTF-8 character at p in a NUL-terminated string, or 0
 * if it is not a valid one. */
static size_t utf8_len(const unsigned char *p)
{
	uint32_t cp;
	size_t n = utf8_decode(p, strnlen((const char *)p, 4), &cp);

	return cp == UTF8_BAD ? 0 : n;
}

/* Strings of an array, or member `key` of its objects, joined by commas. */
static char *join(const cJSON *arr, const char *key)
{
	struct buf b = BUF_INIT(JOIN_MAX);
	const cJSON *it;
	int first = 1;

	cJSON_ArrayForEach(it, arr) {
		const char *s = key ? str_of(it, key) : cJSON_GetStringValue(it);

		if (!s || !*s)
			continue;
		if ((!first && buf_add(&b, ",", 1)) || buf_adds(&b, s))
			break;	/* too long: the buffer is now empty */
		first = 0;
	}
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

/* ---- baseline variables ------------------------------------------------ */

void ci_input_path(const char *variable, char *out, size_t size)
{
	struct jpath p;
	char err[256];
	const char *rest;

	out[0] = '\0';
	if (!variable || jpath_parse(&p, variable, err, sizeof(err)))
		return;
	if (p.root == JPATH_INPUT) {
		snprintf(out, size, "%s", p.text);
	} else if (p.nseg >= 2 && p.seg[0].kind == JSEG_KEY &&
		   (!strcmp(p.seg[0].key, "Baseline") || !strcmp(p.seg[0].key, "Delta") ||
		    !strcmp(p.seg[0].key, "DeltaPct"))) {
		/* "$$" then ".Delta" or "['Delta']" / ["Delta"] as written */
		rest = p.text + 2;
		rest += rest[0] == '.' ? 1 + strlen(p.seg[0].key) : 4 + strlen(p.seg[0].key);
		snprintf(out, size, "$%s", rest);
	}
	jpath_release(&p);
}

static int ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

void ci_baseline_key(const char *path, char *out, size_t size)
{
	size_t n = 0, max = size - 1 < CI_BASELINE_KEY_MAX ? size - 1 : CI_BASELINE_KEY_MAX;

	if (!size)
		return;
	for (const unsigned char *p = (const unsigned char *)path; *p && n < max; p++) {
		if (ascii_alnum(*p))
			out[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		else if (n && out[n - 1] != '_')
			out[n++] = '_';
	}
	while (n && out[n - 1] == '_')
		n--;
	out[n] = '\0';
}

/* A number's JSON text into out, or "" for anything else (or too long). */
static void number_text(const cJSON *v, char *out, size_t size)
{
	char *s = cJSON_IsNumber(v) ? cJSON_PrintUnformatted(v) : NULL;

	out[0] = '\0';
	if (s && strlen(s) < size && strcmp(s, "null"))
		memcpy(out, s, strlen(s) + 1);
	free(s);
}

/* Whether keys a and b give one of the same names: equal, or one is the
 * other with "PCT_" in front (DELTA_PCT_X against DELTA_ of "PCT_X"). */
static int keys_clash(const char *a, const char *b)
{
	return !strcmp(a, b) || (!strncmp(a, "PCT_", 4) && !strcmp(a + 4, b)) ||
	       (!strncmp(b, "PCT_", 4) && !strcmp(b + 4, a));
}

static void baseline_vars(struct ci_values *cv, const cJSON *rec)
{
	const cJSON *rule, *t;

	cv->nbase = 0;
	cJSON_ArrayForEach(rule, member(rec, "rules")) {
		if (!bool_of(rule, "fired"))
			continue;
		cJSON_ArrayForEach(t, member(rule, "tests")) {
			const cJSON *base = member(t, "baseline");
			struct ci_baseline_var *bv = &cv->base[cv->nbase];
			char path[JPATH_MAX_LEN + 2];
			size_t k;

			if (cv->nbase == CI_BASELINE_VARS)
				return;
			if (!cJSON_IsObject(base))
				continue;
			ci_input_path(str_of(t, "variable"), path, sizeof(path));
			ci_baseline_key(path, bv->key, sizeof(bv->key));
			number_text(member(base, "value"), bv->value, sizeof(bv->value));
			number_text(member(base, "delta"), bv->delta, sizeof(bv->delta));
			number_text(member(base, "delta_pct"), bv->pct, sizeof(bv->pct));
			if (!*bv->key || (!*bv->value && !*bv->delta && !*bv->pct))
				continue;
			for (k = 0; k < cv->nbase && !keys_clash(cv->base[k].key, bv->key); k++)
				;
			cv->nbase += k == cv->nbase;
		}
	}
}

/* The baseline variables' names: kind 0 baseline, 1 delta, 2 delta_pct;
 * `env` for GREENLIGHT_DELTA_PCT_K, else delta-pct-k. */
static void baseline_var_name(const struct ci_baseline_var *bv, int kind, int env,
			      char *out, size_t size)
{
	static const char *const kinds[] = { "BASELINE_", "DELTA_", "DELTA_PCT_" };
	size_t n;

	snprintf(out, size, "%s%s%s", env ? "GREENLIGHT_" : "", kinds[kind], bv->key);
	if (env)
		return;
	for (n = 0; out[n]; n++)
		out[n] = out[n] == '_' ? '-' : out[n] >= 'A' && out[n] <= 'Z' ? (char)(out[n] - 'A' + 'a') : out[n];
}

static const char *baseline_var_value(const struct ci_baseline_var *bv, int kind)
{
	return kind == 0 ? bv->value : kind == 1 ? bv->delta : bv->pct;
}

void ci_values_init(struct ci_values *cv, const cJSON *rec, const char *decision_file)
{
	const cJSON *req = member(rec, "request");
	const cJSON *code = member(rec, "exit_code");
	char num[16] = "";

	if (cJSON_IsNumber(code))
		snprintf(num, sizeof(num), "%d", code->valueint);
	cv->v[CI_OUTCOME] = xstrdup(str_of(rec, "outcome"));
	cv->v[CI_EXIT_CODE] = xstrdup(num);
	cv->v[CI_GATE] = xstrdup(str_of(rec, "gate"));
	cv->v[CI_TEAMS] = join(member(rec, "teams"), "name");
	cv->v[CI_APPROVERS] = join(member(req, "approvers"), NULL);
	cv->v[CI_REQUEST_ID] = xstrdup(str_of(req, "id"));
	cv->v[CI_DECISION_FILE] = xstrdup(decision_file ? decision_file : "");
	baseline_vars(cv, rec);
}

void ci_values_release(struct ci_values *cv)
{
	for (int i = 0; i < CI_NVALUES; i++) {
		free(cv->v[i]);
		cv->v[i] = NULL;
	}
	cv->nbase = 0;
}

/* ---- escapers ------------------------------------------------------- */

int ci_xml_escape(struct buf *b, const char *s)
{
	char *t = utf8_escape_dup(s, "\t\n\r");
	const unsigned char *p = (const unsigned char *)t;
	int rc = 0;

	while (*p && !rc) {
		size_t n = utf8_len(p);

		if (!n) {
			rc = buf_adds(b, UTF8_REPLACEMENT);
			n = 1;
		} else if (*p == '&') {
			rc = buf_adds(b, "&amp;");
		} else if (*p == '<') {
			rc = buf_adds(b, "&lt;");
		} else if (*p == '>') {
			rc = buf_adds(b, "&gt;");
		} else if (*p == '"') {
			rc = buf_adds(b, "&quot;");
		} else if (*p == '\'') {
			rc = buf_adds(b, "&apos;");
		} else {
			rc = buf_add(b, p, n);
		}
		p += n;
	}
	free(t);
	return rc;
}

/* Markdown and HTML metacharacters that could start markup in a cell. */
static const char md_special[] = "&<>\"'|\\`*_[]~!#@$";

/* One cell, at most `max` bytes of escaped input (whole characters):
 * line breaks and tabs become spaces, other controls and bidi characters
 * \u escapes (shown with the backslash as an entity). */
static int md_cell(struct buf *b, const char *s, size_t max)
{
	char *t = utf8_escape_dup(s, "\t\n\r");
	const unsigned char *p = (const unsigned char *)t;
	size_t used = 0;
	int rc = 0;

	while (*p && !rc) {
		size_t n = utf8_len(p);

		if (used + (n ? n : 1) > max) {
			rc = buf_adds(b, "\xE2\x80\xA6");	/* ... */
			break;
		}
		if (!n) {
			rc = buf_adds(b, UTF8_REPLACEMENT);
			n = 1;
		} else if (*p < 0x20) {
			rc = buf_add(b, " ", 1);
		} else if (strchr(md_special, *p)) {
			rc = buf_addf(b, "&#%u;", (unsigned)*p);
		} else {
			rc = buf_add(b, p, n);
		}
		used += n;
		p += n;
	}
	free(t);
	return rc;
}

int ci_md_escape(struct buf *b, const char *s)
{
	return md_cell(b, s, (size_t)-1);
}

int ci_cmd_escape(struct buf *b, const char *s, int property)
{
	char *t = utf8_escape_dup(s, "\r\n");
	int rc = 0;

	for (s = t; *s && !rc; s++) {
		if (*s == '%')
			rc = buf_adds(b, "%25");
		else if (*s == '\r')
			rc = buf_adds(b, "%0D");
		else if (*s == '\n')
			rc = buf_adds(b, "%0A");
		else if (property && *s == ':')
			rc = buf_adds(b, "%3A");
		else if (property && *s == ',')
			rc = buf_adds(b, "%2C");
		else
			rc = buf_add(b, s, 1);
	}
	free(t);
	return rc;
}

/* ---- shared wording ------------------------------------------------- */

static const char *outcome_words(const char *outcome)
{
	static const struct {
		const char *name, *words;
	} w[] = {
		{ "pass", "\xE2\x9C\x85 passed" },
		{ "approved", "\xE2\x9C\x85 approved" },
		{ "fail", "\xE2\x9D\x8C failed" },
		{ "rejected", "\xE2\x9D\x8C rejected" },
		{ "timed_out", "\xE2\x8C\x9B timed out" },
		{ "review", "\xE2\x8F\xB3 review needed" },
		{ "pending", "\xE2\x8F\xB3 still pending" },
	};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (!strcmp(outcome, w[i].name))
			return w[i].words;
	return outcome;
}

/* The first decision of a request with the given verdict, or NULL. */
static const cJSON *first_decision(const cJSON *rec, const char *decision)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, member(member(rec, "request"), "decisions"))
		if (!strcmp(str_of(d, "decision"), decision))
			return d;
	return NULL;
}

/* A test's baseline as text: *base its value ("" without a baseline),
 * *change "+50 (+25%)" as check shows it (baseline_view_change; "" when
 * unknown). */
static void test_baseline(const cJSON *t, char *base, size_t nbase, char *change, size_t nchange)
{
	const cJSON *b = member(t, "baseline");
	struct baseline_view v;

	base[0] = change[0] = '\0';
	if (!cJSON_IsObject(b) || !member(b, "value"))
		return;
	memset(&v, 0, sizeof(v));
	v.baseline = member(b, "value");
	v.delta = member(b, "delta");
	v.pct = member(b, "delta_pct");
	report_value(v.baseline, base, nbase);
	baseline_view_change(&v, change, nchange);
}

/* ---- JUnit ------------------------------------------------------------ */

enum tc_kind { TC_PASS, TC_FAIL, TC_SKIP };

struct tc {
	enum tc_kind kind;
	const char *type;	/* failure type */
	char msg[512];
};

static void tc_set(struct tc *tc, enum tc_kind kind, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void tc_set(struct tc *tc, enum tc_kind kind, const char *type, const char *fmt, ...)
{
	va_list ap;

	tc->kind = kind;
	tc->type = type;
	va_start(ap, fmt);
	vsnprintf(tc->msg, sizeof(tc->msg), fmt, ap);
	va_end(ap);
}

/* A fired rule (or the default) whose Next is `next`. */
static void tc_decided(struct tc *tc, const char *next, const cJSON *rec)
{
	const char *outcome = str_of(rec, "outcome");
	const cJSON *rej = first_decision(rec, "reject");

	if (!strcmp(next, "pass"))
		tc_set(tc, TC_PASS, NULL, "fired: the release passes");
	else if (!strcmp(next, "fail"))
		tc_set(tc, TC_FAIL, "fail", "fired: the release fails");
	else if (!strcmp(outcome, "approved"))
		tc_set(tc, TC_PASS, NULL, "fired: %s approved the release", next);
	else if (!strcmp(outcome, "rejected"))
		tc_set(tc, TC_FAIL, "rejected", "rejected by %s%s%s", rej ? str_of(rej, "email") : "a reviewer",
		       rej && *str_of(rej, "reason") ? ": " : "", rej ? str_of(rej, "reason") : "");
	else if (!strcmp(outcome, "timed_out"))
		tc_set(tc, TC_FAIL, "timed_out", "no decision by %s before the deadline", next);
	else if (!strcmp(outcome, "review") || !strcmp(outcome, "pending"))
		tc_set(tc, TC_FAIL, "review", "review needed: %s must approve", next);
	else
		tc_set(tc, TC_SKIP, NULL, "not reviewed: the gate %s on another rule",
		       strcmp(outcome, "fail") ? outcome : "failed");
}

/* "; $.latencyMs: baseline 200, change +50 (+25%)" for each results path
 * a fired rule's tests read that has a baseline (once per path), appended
 * to the message; the path with every control character as a \u escape,
 * so the message stays one line. */
static void tc_baselines(struct tc *tc, const cJSON *rule)
{
	const cJSON *t;
	char seen[4][200];
	size_t nseen = 0, len = strlen(tc->msg);

	cJSON_ArrayForEach(t, member(rule, "tests")) {
		char path[JPATH_MAX_LEN + 2], base[72], change[64];
		char *shown;
		size_t k;

		test_baseline(t, base, sizeof(base), change, sizeof(change));
		if (!*base)
			continue;
		ci_input_path(str_of(t, "variable"), path, sizeof(path));
		shown = utf8_escape_dup(path, NULL);
		if (strlen(shown) >= sizeof(seen[0]))
			memcpy(shown + sizeof(seen[0]) - 4, "...", 4);
		for (k = 0; k < nseen && strcmp(seen[k], shown); k++)
			;
		if (k == nseen && nseen < 4 && len + 1 < sizeof(tc->msg)) {
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", shown);
			len += (size_t)snprintf(tc->msg + len, sizeof(tc->msg) - len, "; %s: baseline %s%s%s",
						shown, base, *change ? ", change " : "", change);
		}
		free(shown);
	}
}

static void tc_rule(struct tc *tc, const cJSON *rule, const cJSON *rec)
{
	if (!bool_of(rule, "evaluated")) {
		tc_set(tc, TC_SKIP, NULL, "not evaluated: an earlier rule matched (match: first)");
	} else if (!bool_of(rule, "fired")) {
		tc_set(tc, TC_PASS, NULL, "did not fire");
	} else {
		tc_decided(tc, str_of(rule, "next"), rec);
		tc_baselines(tc, rule);
	}
}

/* The default decided when no rule fired; its Next is not in the record,
 * so it follows from the outcome. */
static void tc_default(struct tc *tc, const cJSON *rec)
{
	const char *o = str_of(rec, "outcome");
	const char *next = !strcmp(o, "pass") ? "pass" : !strcmp(o, "fail") ? "fail" : NULL;
	const cJSON *team = cJSON_GetArrayItem(member(rec, "teams"), 0);

	if (!bool_of(rec, "default_used")) {
		tc_set(tc, TC_SKIP, NULL, "not used: a rule decided");
		return;
	}
	tc_decided(tc, next ? next : team ? str_of(team, "name") : "review", rec);
}

/* "variable = value (operator threshold): result" per test. */
static int junit_tests(struct buf *b, const cJSON *rule)
{
	const cJSON *t;
	char val[72], thr[72];
	int rc = 0;

	cJSON_ArrayForEach(t, member(rule, "tests")) {
		const cJSON *v = bool_of(t, "present") ? member(t, "value") : NULL;
		struct buf line = BUF_INIT(1024);
		char base[72], change[64];

		report_value(v, val, sizeof(val));
		report_value(member(t, "threshold"), thr, sizeof(thr));
		test_baseline(t, base, sizeof(base), change, sizeof(change));
		rc = buf_addf(&line, "%s: %s = %s (%s %s): %s", str_of(t, "rule"),
			      str_of(t, "variable"), val, str_of(t, "operator"), thr,
			      bool_of(t, "result") ? "true" : "false");
		if (!rc && *base)
			rc = buf_addf(&line, ", baseline %s", base);
		if (!rc && *change) {
			char *paren = strstr(change, " (");

			/* "+50 (+25%)" -> " (+50, +25%)" */
			if (paren) {
				*paren = '\0';
				rc = buf_addf(&line, " (%s, %s", change, paren + 2);
			} else {
				rc = buf_addf(&line, " (%s)", change);
			}
		}
		rc = rc || buf_adds(&line, "\n");
		if (!rc)
			rc = ci_xml_escape(b, line.data);
		buf_release(&line);
		if (rc)
			break;
	}
	return rc;
}

static int junit_case(struct buf *b, const char *cls, const char *name, const cJSON *rule,
		      const struct tc *tc)
{
	static const char *const open_tag[] = { NULL, "failure", "skipped" };
	int rc = buf_adds(b, "    <testcase classname=\"") || ci_xml_escape(b, cls) ||
		 buf_adds(b, "\" name=\"") || ci_xml_escape(b, name) || buf_adds(b, "\" time=\"0\">\n");

	if (!rc && tc->kind != TC_PASS) {
		rc = buf_addf(b, "      <%s", open_tag[tc->kind]);
		if (!rc && tc->type)
			rc = buf_addf(b, " type=\"%s\"", tc->type);
		rc = rc || buf_adds(b, " message=\"") || ci_xml_escape(b, tc->msg) || buf_adds(b, "\"/>\n");
	}
	rc = rc || buf_adds(b, "      <system-out>") || ci_xml_escape(b, tc->msg) ||
	     buf_adds(b, "\n") || (rule && junit_tests(b, rule)) || buf_adds(b, "</system-out>\n") ||
	     buf_adds(b, "    </testcase>\n");
	return rc ? -1 : 0;
}

static int junit_header(struct buf *b, const cJSON *rec, size_t n, const struct tc *tcs)
{
	static const char *const props[] = {
		"outcome", "gate_file", "results_file", "match", "evaluated_at",
	};
	size_t failures = 0, skipped = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		failures += tcs[i].kind == TC_FAIL;
		skipped += tcs[i].kind == TC_SKIP;
	}
	rc = buf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<testsuites name=\"greenlight\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n"
		      "  <testsuite name=\"greenlight ", n, failures, skipped);
	rc = rc || ci_xml_escape(b, str_of(rec, "gate")) ||
	     buf_addf(b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n"
		      "    <properties>\n", n, failures, skipped);
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]) && !rc; i++)
		rc = buf_addf(b, "      <property name=\"%s\" value=\"", props[i]) ||
		     ci_xml_escape(b, str_of(rec, props[i])) || buf_adds(b, "\"/>\n");
	return rc || buf_adds(b, "    </properties>\n") ? -1 : 0;
}

int ci_junit(struct buf *b, const cJSON *rec)
{
	const cJSON *rules = member(rec, "rules"), *rule;
	size_t n = (size_t)cJSON_GetArraySize(rules), i = 0;
	struct tc *tcs = xcalloc(n + 1, sizeof(*tcs));
	struct buf cls = BUF_INIT(4096), name = BUF_INIT(4096);
	int rc;

	cJSON_ArrayForEach(rule, rules)
		tc_rule(&tcs[i++], rule, rec);
	tc_default(&tcs[n], rec);
	rc = junit_header(b, rec, n + 1, tcs) || buf_addf(&cls, "greenlight.%s", str_of(rec, "gate"));
	i = 0;
	cJSON_ArrayForEach(rule, rules) {
		if (rc)
			break;
		buf_release(&name);
		rc = buf_addf(&name, "%s %s", str_of(rule, "rule"), str_of(rule, "condition")) ||
		     junit_case(b, cls.data, name.data, rule, &tcs[i++]);
	}
	rc = rc || junit_case(b, cls.data, "default", NULL, &tcs[n]) ||
	     buf_adds(b, "  </testsuite>\n</testsuites>\n");
	buf_release(&cls);
	buf_release(&name);
	free(tcs);
	if (rc)
		buf_release(b);
	return rc ? BUF_TOOBIG : 0;
}

/* ---- Markdown --------------------------------------------------------- */

enum md_col { COL_VALUE, COL_THRESHOLD, COL_BASELINE, COL_CHANGE };

/* Cell of a rule's tests: "variable = value", thresholds, baselines or
 * changes ("-" for a test without), <br> apart. */
static int md_tests(struct buf *b, const cJSON *rule, enum md_col col)
{
	const cJSON *t;
	char val[72], change[64];
	int n = 0, rc = 0;

	if (!bool_of(rule, "evaluated"))
		return buf_adds(b, "-");
	cJSON_ArrayForEach(t, member(rule, "tests")) {
		if (n == CELL_TESTS)
			return buf_addf(b, "<br>+%d more", cJSON_GetArraySize(member(rule, "tests")) - n);
		if (col == COL_THRESHOLD)
			report_value(member(t, "threshold"), val, sizeof(val));
		else if (col == COL_VALUE)
			report_value(bool_of(t, "present") ? member(t, "value") : NULL, val, sizeof(val));
		else
			test_baseline(t, val, sizeof(val), change, sizeof(change));
		if (col == COL_CHANGE)
			snprintf(val, sizeof(val), "%s", change);
		rc = (n && buf_adds(b, "<br>")) ||
		     (col == COL_VALUE && (md_cell(b, str_of(t, "variable"), CELL_MAX) || buf_adds(b, " = "))) ||
		     md_cell(b, *val ? val : "-", CELL_MAX);
		if (rc)
			return -1;
		n++;
	}
	return 0;
}

static int md_rule_row(struct buf *b, const cJSON *rule, int baselines)
{
	const char *fired = !bool_of(rule, "evaluated") ? "not evaluated" :
			    bool_of(rule, "fired") ? "**yes**" : "no";

	return buf_adds(b, "| ") || md_cell(b, str_of(rule, "rule"), CELL_MAX) ||
	       buf_adds(b, " | ") || md_cell(b, str_of(rule, "condition"), CELL_MAX) ||
	       buf_adds(b, " | ") || md_tests(b, rule, COL_VALUE) ||
	       (baselines && (buf_adds(b, " | ") || md_tests(b, rule, COL_BASELINE) ||
			      buf_adds(b, " | ") || md_tests(b, rule, COL_CHANGE))) ||
	       buf_adds(b, " | ") || md_tests(b, rule, COL_THRESHOLD) ||
	       buf_addf(b, " | %s | ", fired) || md_cell(b, str_of(rule, "next"), CELL_MAX) ||
	       buf_adds(b, " |\n") ? -1 : 0;
}

static int md_rules(struct buf *b, const cJSON *rec, size_t max_rules)
{
	const cJSON *rules = member(rec, "rules"), *rule;
	size_t n = 0, total = (size_t)cJSON_GetArraySize(rules);
	int baselines = cJSON_IsObject(member(rec, "baseline"));

	if (baselines ? buf_adds(b, "| rule | condition | value | baseline | change | threshold | fired | next |\n"
				"| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		      : buf_adds(b, "| rule | condition | value | threshold | fired | next |\n"
				"| --- | --- | --- | --- | --- | --- |\n"))
		return -1;
	cJSON_ArrayForEach(rule, rules) {
		if (n == max_rules)
			return buf_addf(b, "| \xE2\x80\xA6 | %zu more rules: see the decision record | | | | |%s\n",
					total - n, baselines ? " | |" : "");
		if (md_rule_row(b, rule, baselines))
			return -1;
		n++;
	}
	return 0;
}

/* "**baseline:** median of 4 recorded commits", after the table. */
static int md_baseline(struct buf *b, const cJSON *rec)
{
	const cJSON *base = member(rec, "baseline"), *commits = member(base, "commits");
	double n = cJSON_IsNumber(commits) ? commits->valuedouble : -1;
	const char *agg = str_of(base, "aggregate");

	if (!cJSON_IsObject(base))
		return 0;
	if (buf_adds(b, "\n**baseline:** "))
		return -1;
	if (n < 0 || n > 1e9 || n != (double)(long)n)
		return buf_adds(b, "recorded commits unknown\n");
	if (n == 0)
		return buf_adds(b, "no recorded commit\n");
	if (*agg && (md_cell(b, agg, CELL_MAX) || buf_adds(b, " of ")))
		return -1;
	return buf_addf(b, "%ld recorded commit%s\n", (long)n, n == 1 ? "" : "s");
}

static int md_decisions(struct buf *b, const cJSON *rec)
{
	const cJSON *list = member(member(rec, "request"), "decisions"), *d;

	if (!cJSON_GetArraySize(list))
		return 0;
	if (buf_adds(b, "\n| reviewer | team | decision | reason | at |\n| --- | --- | --- | --- | --- |\n"))
		return -1;
	cJSON_ArrayForEach(d, list) {
		if (buf_adds(b, "| ") || md_cell(b, str_of(d, "email"), CELL_MAX) ||
		    buf_adds(b, " | ") || md_cell(b, str_of(d, "team"), CELL_MAX) ||
		    buf_adds(b, " | ") || md_cell(b, str_of(d, "decision"), CELL_MAX) ||
		    buf_adds(b, " | ") || md_cell(b, str_of(d, "reason"), CELL_MAX) ||
		    buf_adds(b, " | ") || md_cell(b, str_of(d, "at"), CELL_MAX) || buf_adds(b, " |\n"))
			return -1;
	}
	return 0;
}

/* "**label:** value" items of the summary line; empty values left out. */
static int md_facts(struct buf *b, const struct ci_values *cv)
{
	static const struct {
		enum ci_value_id id;
		const char *label;
	} f[] = {
		{ CI_EXIT_CODE, "exit code" }, { CI_TEAMS, "teams" },
		{ CI_APPROVERS, "approvers" }, { CI_REQUEST_ID, "request" },
		{ CI_DECISION_FILE, "decision record" },
	};
	int rc = buf_adds(b, "\n**outcome:** ") || md_cell(b, cv->v[CI_OUTCOME], CELL_MAX);

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && !rc; i++)
		if (*cv->v[f[i].id])
			rc = buf_addf(b, " \xC2\xB7 **%s:** ", f[i].label) ||
			     md_cell(b, cv->v[f[i].id], 4 * CELL_MAX);
	return rc || buf_adds(b, "\n") ? -1 : 0;
}

int ci_markdown(struct buf *b, const cJSON *rec, const struct ci_values *cv, size_t max_rules)
{
	int rc = buf_addf(b, "### %s: greenlight gate ", outcome_words(cv->v[CI_OUTCOME])) ||
		 md_cell(b, cv->v[CI_GATE], CELL_MAX) || buf_adds(b, "\n\n") ||
		 md_rules(b, rec, max_rules) || md_baseline(b, rec) || md_facts(b, cv) ||
		 md_decisions(b, rec) ||
		 buf_adds(b, "\n");

	if (rc)
		buf_release(b);
	return rc ? BUF_TOOBIG : 0;
}

/* ---- GitHub outputs and annotations ----------------------------------- */

int ci_github_output(struct buf *b, const struct ci_values *cv, const char *delim)
{
	char name[CI_BASELINE_KEY_MAX + 32];

	if (!*delim || strpbrk(delim, "\r\n"))
		return 1;
	for (int i = 0; i < CI_NVALUES; i++)
		if (strstr(cv->v[i], delim))
			return 1;
	for (size_t i = 0; i < cv->nbase; i++)
		for (int k = 0; k < 3; k++) {
			baseline_var_name(&cv->base[i], k, 0, name, sizeof(name));
			if (strstr(name, delim) || strstr(baseline_var_value(&cv->base[i], k), delim))
				return 1;
		}
	for (int i = 0; i < CI_NVALUES; i++)
		if (buf_addf(b, "%s<<%s\n%s\n%s\n", value_names[i].output, delim, cv->v[i], delim))
			return BUF_TOOBIG;
	for (size_t i = 0; i < cv->nbase; i++)
		for (int k = 0; k < 3; k++) {
			const char *v = baseline_var_value(&cv->base[i], k);

			baseline_var_name(&cv->base[i], k, 0, name, sizeof(name));
			if (*v && buf_addf(b, "%s<<%s\n%s\n%s\n", name, delim, v, delim))
				return BUF_TOOBIG;
		}
	return 0;
}

/* The first fired rule as "choices[N] (condition)", or "". */
static void first_fired(const cJSON *rec, char *out, size_t n)
{
	const cJSON *rule;

	out[0] = '\0';
	cJSON_ArrayForEach(rule, member(rec, "rules"))
		if (bool_of(rule, "fired")) {
			snprintf(out, n, "%s (%s)", str_of(rule, "rule"), str_of(rule, "condition"));
			return;
		}
}

static void annotation_text(char *msg, size_t n, const cJSON *rec, const struct ci_values *cv)
{
	const char *o = cv->v[CI_OUTCOME], *gate = cv->v[CI_GATE], *teams = cv->v[CI_TEAMS];
	const cJSON *rej = first_decision(rec, "reject");
	char fired[600];

	first_fired(rec, fired, sizeof(fired));
	if (!strcmp(o, "pass"))
		snprintf(msg, n, "gate %s passed", gate);
	else if (!strcmp(o, "approved"))
		snprintf(msg, n, "gate %s approved by %s", gate, cv->v[CI_APPROVERS]);
	else if (!strcmp(o, "fail") && *fired)
		snprintf(msg, n, "gate %s failed: %s fired", gate, fired);
	else if (!strcmp(o, "fail"))
		snprintf(msg, n, "gate %s failed: no rule fired and the default is fail", gate);
	else if (!strcmp(o, "rejected"))
		snprintf(msg, n, "gate %s rejected by %s%s%s", gate, rej ? str_of(rej, "email") : "a reviewer",
			 rej && *str_of(rej, "reason") ? ": " : "", rej ? str_of(rej, "reason") : "");
	else if (!strcmp(o, "timed_out"))
		snprintf(msg, n, "gate %s timed out waiting for %s (request %s)", gate, teams, cv->v[CI_REQUEST_ID]);
	else if (!strcmp(o, "pending"))
		snprintf(msg, n, "gate %s: the review by %s is still pending (request %s); re-run to re-attach",
			 gate, teams, cv->v[CI_REQUEST_ID]);
	else
		snprintf(msg, n, "gate %s needs review by %s%s%s", gate, teams, *fired ? ": " : "", fired);
}

int ci_annotation(struct buf *b, const cJSON *rec, const struct ci_values *cv)
{
	const char *code = cv->v[CI_EXIT_CODE];
	const char *level = !strcmp(code, "0") ? "notice" : !strcmp(code, "5") ? "warning" : "error";
	const char *file = str_of(rec, "gate_file");
	char msg[MSG_MAX];
	int rc;

	annotation_text(msg, sizeof(msg), rec, cv);
	rc = buf_addf(b, "::%s ", level);
	if (!rc && *file && strcmp(file, "stdin"))
		rc = buf_adds(b, "file=") || ci_cmd_escape(b, file, 1) || buf_add(b, ",", 1);
	rc = rc || buf_adds(b, "title=") || ci_cmd_escape(b, "greenlight ", 1) ||
	     ci_cmd_escape(b, cv->v[CI_GATE], 1) || buf_adds(b, "::") ||
	     ci_cmd_escape(b, msg, 0) || buf_adds(b, "\n");
	if (rc)
		buf_release(b);
	return rc ? BUF_TOOBIG : 0;
}

/* ---- dotenv ------------------------------------------------------------- */

/* A value on one line: line breaks and tabs become spaces, other controls
 * and bidi characters \u escapes; trimmed, capped. */
static int dotenv_value(struct buf *b, const char *s)
{
	char *t = utf8_escape_dup(s, "\t\n\r");
	const unsigned char *p = (const unsigned char *)t, *end;
	size_t used = 0;
	int rc = 0;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	end = p + strlen((const char *)p);
	while (end > p && (end[-1] == ' ' || end[-1] < 0x20))
		end--;
	while (p < end && !rc) {
		size_t n = utf8_len(p);

		if (used + (n ? n : 1) > CI_DOTENV_VALUE_MAX)
			break;
		if (!n || *p < 0x20)
			rc = buf_add(b, n ? " " : "?", 1);
		else
			rc = buf_add(b, p, n);
		used += n ? n : 1;
		p += n ? n : 1;
	}
	free(t);
	return rc;
}

/* One KEY=value line, or nothing when the value is empty. */
static int dotenv_line(struct buf *b, const char *key, const char *value)
{
	struct buf v = BUF_INIT(4 * CI_DOTENV_VALUE_MAX);
	int rc = dotenv_value(&v, value);

	if (!rc && v.len)
		rc = buf_addf(b, "%s=%s\n", key, v.data);
	buf_release(&v);
	return rc;
}

int ci_dotenv(struct buf *b, const struct ci_values *cv)
{
	char name[CI_BASELINE_KEY_MAX + 32];
	int rc = 0;

	for (int i = 0; i < CI_NVALUES && !rc; i++)
		rc = dotenv_line(b, value_names[i].env, cv->v[i]);
	for (size_t i = 0; i < cv->nbase && !rc; i++)
		for (int k = 0; k < 3 && !rc; k++) {
			baseline_var_name(&cv->base[i], k, 1, name, sizeof(name));
			rc = dotenv_line(b, name, baseline_var_value(&cv->base[i], k));
		}
	if (rc)
		buf_release(b);
	return rc ? BUF_TOOBIG : 0;
}
