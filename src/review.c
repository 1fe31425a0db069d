/* review.c - the review every surface shows (see review.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "buf.h"
#include "choice.h"
#include "json.h"
#include "review.h"
#include "timestamp.h"
#include "utf8.h"
#include "util.h"

#define FACT_MAX 2048		/* bytes kept of any string read from facts */
#define WHY_MAX 500		/* bytes of a team's "why" */

/* Bytes of the first character of s (at least 1; s not empty). */
static size_t char_len(const char *s)
{
	uint32_t cp;

	return utf8_decode((const unsigned char *)s, strlen(s), &cp);
}

/* A copy of at most max bytes of s, cut on a character boundary. */
static char *dup_capped(const char *s, size_t max)
{
	size_t n = 0;

	while (s[n] && n + char_len(s + n) <= max)
		n += char_len(s + n);
	return xstrndup(s, n);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* ---- one fired test ---------------------------------------------------- */

/* What a reader calls the value a Variable reads. */
static char *metric_of(const char *var)
{
	static const char *const ctx[][2] = {
		{ "$$.DeltaPct.", " change %" }, { "$$.Delta.", " change" },
		{ "$$.Baseline.", " baseline" },
	};
	char out[JPATH_MAX_LEN + 16];

	for (size_t i = 0; i < sizeof(ctx) / sizeof(ctx[0]); i++) {
		size_t n = strlen(ctx[i][0]);

		if (!strncmp(var, ctx[i][0], n) && var[n]) {
			snprintf(out, sizeof(out), "%s%s", var + n, ctx[i][1]);
			return xstrdup(out);
		}
	}
	if (var[0] == '$' && var[1] == '.' && var[2])
		return xstrdup(var + 2);
	return xstrdup(var);
}

/* The value as text; a percentage change read from $$.DeltaPct is shown
 * as one ("+221%"), not as the full double it is. */
static char *value_of(const struct choice_leaf *l, char *text, size_t size)
{
	if (!strncmp(l->variable, "$$.DeltaPct.", 12) && cJSON_IsNumber(l->value) &&
	    isfinite(l->value->valuedouble)) {
		double x = l->value->valuedouble;

		snprintf(text, size, fabs(x) < 10 ? "%+.1f%%" : "%+.0f%%", x);
		return xstrdup(text);
	}
	return xstrdup(choice_format_value(text, size, l->value));
}

static int is_ordering(const char *op)
{
	return strstr(op, "GreaterThan") || strstr(op, "LessThan");
}

/* How far a number is past a literal numeric threshold: "+181%". */
static char *over_of(const struct choice_leaf *l)
{
	double v, t, pct;
	char out[32];

	if (!is_ordering(l->op) || !strncmp(l->variable, "$$.", 3) ||
	    !cJSON_IsNumber(l->value) || !cJSON_IsNumber(l->operand) || l->operand_path)
		return xstrdup("");
	v = l->value->valuedouble;
	t = l->operand->valuedouble;
	pct = (v - t) / fabs(t) * 100;
	if (t == 0 || !isfinite(pct))
		return xstrdup("");
	snprintf(out, sizeof(out), fabs(pct) < 10 ? "%+.1f%%" : "%+.0f%%", pct);
	return xstrdup(out);
}

static void test_make(struct review_test *t, const struct rule_result *rr,
		      const struct choice_leaf *l, const cJSON *context)
{
	const char *sym = choice_op_symbol(l->op);
	struct baseline_view bv;
	char text[REVIEW_TEXT_MAX];

	t->variable = xstrdup(l->variable);
	t->metric = metric_of(l->variable);
	t->value = value_of(l, text, sizeof(text));
	t->op = xstrdup(sym ? sym : l->op);
	if (l->operand_path)
		t->threshold = xstrdup(l->operand_path);
	else
		t->threshold = xstrdup(choice_format_value(text, sizeof(text), l->operand));
	t->over = over_of(l);
	if (baseline_view_of(context, l->variable, &bv)) {
		t->baseline = xstrdup(choice_format_value(text, sizeof(text), bv.baseline));
		t->change = xstrdup(baseline_view_change(&bv, text, sizeof(text)));
	} else {
		t->baseline = xstrdup("");
		t->change = xstrdup("");
	}
	t->why = xstrdup(rr->condition);
	t->next = xstrdup(rr->next);
}

static void test_release(struct review_test *t)
{
	free(t->variable), free(t->metric), free(t->value), free(t->op);
	free(t->threshold), free(t->over), free(t->baseline), free(t->change);
	free(t->why), free(t->next);
}

/* ---- teams --------------------------------------------------------------- */

/* The conditions of the fired rules that route to `team`, "; " apart. */
static char *team_why(const struct verdict *v, const char *team)
{
	struct buf b = BUF_INIT(WHY_MAX);

	for (size_t i = 0; i < v->nrules; i++) {
		const struct rule_result *rr = &v->rules[i];

		if (!rr->fired || strcmp(rr->next, team))
			continue;
		if ((b.len && buf_adds(&b, "; ")) || buf_adds(&b, rr->condition))
			break;
	}
	if (!b.len) {
		buf_release(&b);
		return xstrdup("the gate's default names this team");
	}
	return buf_detach(&b, NULL);
}

static void team_make(struct review_team *t, const struct gate *g,
		      const struct verdict *v, const char *name)
{
	const struct team *gt = gate_team(g, name);

	t->name = xstrdup(name);
	t->approvals = gt ? gt->approvals : 1;
	t->nasked = gt ? (gt->nemail < REVIEW_MAX_ASKED ? gt->nemail : REVIEW_MAX_ASKED) : 0;
	t->asked = xcalloc(t->nasked ? t->nasked : 1, sizeof(*t->asked));
	for (size_t k = 0; k < t->nasked; k++)
		t->asked[k] = xstrdup(gt->email[k]);
	t->why = team_why(v, name);
}

static void team_release(struct review_team *t)
{
	for (size_t k = 0; k < t->nasked; k++)
		free(t->asked[k]);
	free(t->asked);
	free(t->name);
	free(t->why);
}

/* ---- building ------------------------------------------------------------ */

static void tests_build(struct review *rv, const struct verdict *v, const cJSON *context)
{
	for (size_t i = 0; i < v->nrules; i++) {
		const struct rule_result *rr = &v->rules[i];

		for (size_t k = 0; rr->fired && k < rr->nleaves; k++) {
			if (rv->ntests == REVIEW_MAX_TESTS) {
				rv->more++;
				continue;
			}
			rv->tests = xrealloc(rv->tests, (rv->ntests + 1) * sizeof(*rv->tests));
			test_make(&rv->tests[rv->ntests++], rr, &rr->leaves[k], context);
		}
	}
}

static char *commit_url(const struct review_source *src)
{
	size_t n;
	char *url;

	if (!src->commit_url_base || !src->sha || !*src->sha)
		return NULL;
	n = strlen(src->commit_url_base) + strlen(src->sha) + 1;
	url = xmalloc(n);
	snprintf(url, n, "%s%s", src->commit_url_base, src->sha);
	return url;
}

void review_build(struct review *rv, const struct gate *g, const struct verdict *v,
		  const struct review_source *src)
{
	memset(rv, 0, sizeof(*rv));
	rv->gate = xstrdup(g->name);
	rv->repository = review_repo_name(src->repository);
	tests_build(rv, v, src->context);
	rv->nteams = v->nteams < REVIEW_MAX_TEAMS ? v->nteams : REVIEW_MAX_TEAMS;
	rv->teams = xcalloc(rv->nteams ? rv->nteams : 1, sizeof(*rv->teams));
	for (size_t i = 0; i < rv->nteams; i++)
		team_make(&rv->teams[i], g, v, v->teams[i]);
	rv->sha = dup_or_null(src->sha);
	rv->author = dup_or_null(src->author);
	rv->author_email = dup_or_null(src->author_email);
	rv->subject = dup_or_null(src->subject);
	rv->branch = dup_or_null(src->branch);
	rv->commit_url = commit_url(src);
	rv->run_url = dup_or_null(src->run_url);
	rv->started_by = dup_or_null(src->started_by);
	rv->deadline = src->deadline;
}

void review_release(struct review *rv)
{
	for (size_t i = 0; i < rv->ntests; i++)
		test_release(&rv->tests[i]);
	for (size_t i = 0; i < rv->nteams; i++)
		team_release(&rv->teams[i]);
	free(rv->tests);
	free(rv->teams);
	free(rv->gate), free(rv->repository);
	free(rv->sha), free(rv->author), free(rv->author_email);
	free(rv->subject), free(rv->branch), free(rv->commit_url);
	free(rv->run_url), free(rv->started_by);
	memset(rv, 0, sizeof(*rv));
}

const struct review_team *review_team(const struct review *rv, const char *name)
{
	for (size_t i = 0; i < rv->nteams; i++)
		if (!strcmp(rv->teams[i].name, name))
			return &rv->teams[i];
	return NULL;
}

/* ---- JSON ---------------------------------------------------------------- */

static void add_opt(cJSON *o, const char *key, const char *s)
{
	if (s && *s)
		cJSON_AddStringToObject(o, key, s);
}

static cJSON *test_json(const struct review_test *t)
{
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "metric", t->variable);
	cJSON_AddStringToObject(x, "name", t->metric);
	cJSON_AddStringToObject(x, "value", t->value);
	cJSON_AddStringToObject(x, "op", t->op);
	cJSON_AddStringToObject(x, "threshold", t->threshold);
	add_opt(x, "over", t->over);
	add_opt(x, "baseline", t->baseline);
	add_opt(x, "change", t->change);
	cJSON_AddStringToObject(x, "why", t->why);
	cJSON_AddStringToObject(x, "next", t->next);
	return x;
}

static cJSON *team_json(const struct review_team *t)
{
	cJSON *x = cJSON_CreateObject();
	cJSON *asked = cJSON_AddArrayToObject(x, "asked");

	cJSON_AddStringToObject(x, "name", t->name);
	cJSON_AddNumberToObject(x, "approvals", t->approvals);
	for (size_t k = 0; k < t->nasked; k++)
		cJSON_AddItemToArray(asked, cJSON_CreateString(t->asked[k]));
	cJSON_AddStringToObject(x, "why", t->why);
	return x;
}

cJSON *review_to_json(const struct review *rv)
{
	cJSON *o = cJSON_CreateObject(), *a, *commit;
	char when[32];

	cJSON_AddStringToObject(o, "gate", rv->gate ? rv->gate : "");
	add_opt(o, "repository", rv->repository);
	a = cJSON_AddArrayToObject(o, "teams");
	for (size_t i = 0; i < rv->nteams; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(rv->teams[i].name));
	a = cJSON_AddArrayToObject(o, "quorum");
	for (size_t i = 0; i < rv->nteams; i++)
		cJSON_AddItemToArray(a, team_json(&rv->teams[i]));
	a = cJSON_AddArrayToObject(o, "rules");
	for (size_t i = 0; i < rv->ntests; i++)
		cJSON_AddItemToArray(a, test_json(&rv->tests[i]));
	if (rv->more)
		cJSON_AddNumberToObject(o, "more_rules", (double)rv->more);
	if (rv->sha) {
		commit = cJSON_AddObjectToObject(o, "commit");
		cJSON_AddStringToObject(commit, "sha", rv->sha);
		add_opt(commit, "author", rv->author);
		add_opt(commit, "email", rv->author_email);
		add_opt(commit, "subject", rv->subject);
		add_opt(commit, "branch", rv->branch);
		add_opt(commit, "url", rv->commit_url);
	}
	add_opt(o, "run_url", rv->run_url);
	add_opt(o, "started_by", rv->started_by);
	if (rv->deadline) {
		format_rfc3339(rv->deadline, when, sizeof(when));
		cJSON_AddStringToObject(o, "deadline", when);
	}
	return o;
}

/* A member as text, capped; numbers and booleans as JSON writes them
 * (facts written by older versions held some as numbers).  NULL when
 * missing or of another type. */
static char *fact(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	char text[64];

	if (cJSON_IsString(v))
		return dup_capped(v->valuestring, FACT_MAX);
	if (cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v))
		return xstrdup(choice_format_value(text, sizeof(text), v));
	return NULL;
}

/* For cJSON_ArrayForEach over a member that may be missing or no array. */
static const cJSON *array_or_null(const cJSON *a)
{
	return cJSON_IsArray(a) ? a : NULL;
}

static char *fact_or_empty(const cJSON *o, const char *key)
{
	char *s = fact(o, key);

	return s ? s : xstrdup("");
}

static void test_from(struct review_test *t, const cJSON *x)
{
	t->variable = fact_or_empty(x, "metric");
	t->metric = fact(x, "name");
	if (!t->metric)
		t->metric = metric_of(t->variable);
	t->value = fact_or_empty(x, "value");
	t->op = fact_or_empty(x, "op");
	t->threshold = fact_or_empty(x, "threshold");
	t->over = fact_or_empty(x, "over");
	t->baseline = fact_or_empty(x, "baseline");
	t->change = fact_or_empty(x, "change");
	t->why = fact_or_empty(x, "why");
	t->next = fact(x, "next");
	if (!t->next)
		t->next = fact_or_empty(x, "team");	/* older facts */
}

static void tests_from(struct review *rv, const cJSON *rules)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, array_or_null(rules)) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(x, "metric");

		if (!cJSON_IsString(m))
			continue;
		if (rv->ntests == REVIEW_MAX_TESTS) {
			rv->more++;
			continue;
		}
		rv->tests = xrealloc(rv->tests, (rv->ntests + 1) * sizeof(*rv->tests));
		test_from(&rv->tests[rv->ntests++], x);
	}
}

static void team_from(struct review_team *t, const cJSON *x, const char *name)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(x, "approvals");
	const cJSON *asked = cJSON_GetObjectItemCaseSensitive(x, "asked"), *a;

	t->name = xstrdup(name);
	t->approvals = cJSON_IsNumber(n) && n->valuedouble >= 1 && n->valuedouble <= 1000 ?
		       (int)n->valuedouble : 1;
	t->asked = xcalloc(REVIEW_MAX_ASKED, sizeof(*t->asked));
	cJSON_ArrayForEach(a, array_or_null(asked))
		if (cJSON_IsString(a) && t->nasked < REVIEW_MAX_ASKED)
			t->asked[t->nasked++] = dup_capped(a->valuestring, 320);
	t->why = fact_or_empty(x, "why");
}

/* "quorum" when present, else the names of "teams" (older facts). */
static void teams_from(struct review *rv, const cJSON *o)
{
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "quorum"), *x;
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(o, "teams");

	rv->teams = xcalloc(REVIEW_MAX_TEAMS, sizeof(*rv->teams));
	cJSON_ArrayForEach(x, array_or_null(q)) {
		char *name = fact(x, "name");

		if (name && rv->nteams < REVIEW_MAX_TEAMS)
			team_from(&rv->teams[rv->nteams++], x, name);
		free(name);
	}
	if (rv->nteams)
		return;
	cJSON_ArrayForEach(x, array_or_null(names))
		if (cJSON_IsString(x) && rv->nteams < REVIEW_MAX_TEAMS)
			team_from(&rv->teams[rv->nteams++], NULL, x->valuestring);
}

void review_from_json(struct review *rv, const cJSON *o)
{
	const cJSON *c = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "commit") : NULL;
	const cJSON *more = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "more_rules") : NULL;
	struct timestamp ts;
	char *deadline;

	memset(rv, 0, sizeof(*rv));
	rv->gate = fact_or_empty(o, "gate");
	rv->repository = fact(o, "repository");
	tests_from(rv, cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "rules") : NULL);
	if (cJSON_IsNumber(more) && more->valuedouble > 0 && more->valuedouble < 1e9)
		rv->more += (size_t)more->valuedouble;
	teams_from(rv, cJSON_IsObject(o) ? o : NULL);
	rv->sha = fact(c, "sha");
	rv->author = fact(c, "author");
	rv->author_email = fact(c, "email");
	rv->subject = fact(c, "subject");
	rv->branch = fact(c, "branch");
	rv->commit_url = fact(c, "url");
	rv->run_url = fact(o, "run_url");
	rv->started_by = fact(o, "started_by");
	deadline = fact(o, "deadline");
	if (deadline && !ts_parse(&ts, deadline, NULL) && ts.sec > 0)
		rv->deadline = (time_t)ts.sec;
	free(deadline);
}

/* ---- text ---------------------------------------------------------------- */

char *review_headline(const struct review *rv, char *out, size_t size)
{
	const struct review_test *t = rv->ntests ? &rv->tests[0] : NULL;
	size_t n;

	out[0] = '\0';
	if (!t || !size)
		return out;
	n = (size_t)snprintf(out, size, "%s %s %s %s", t->metric, t->value, t->op, t->threshold);
	if (*t->over && n < size)
		n += (size_t)snprintf(out + n, size - n, " (%s)", t->over);
	if (*t->baseline && n < size)
		n += (size_t)snprintf(out + n, size - n, ", baseline %s%s%s", t->baseline,
				      *t->change ? ": " : "", t->change);
	return out;
}

/* Append s to out (at `*len` bytes) keeping at most `max` characters of
 * it, ending in "…" when cut. */
static void put_cut(char *out, size_t size, size_t *len, const char *s, size_t max)
{
	size_t chars = 0, i = 0, keep;

	while (s[i] && chars < max) {
		i += char_len(s + i);
		chars++;
	}
	if (!s[i]) {
		keep = i;
	} else {
		/* cut: room for the ellipsis */
		keep = 0;
		chars = 0;
		while (s[keep] && chars + 1 < max) {
			keep += char_len(s + keep);
			chars++;
		}
	}
	*len += (size_t)snprintf(out + *len, size - *len, "%.*s%s", (int)keep, s,
				 s[keep] ? "\xe2\x80\xa6" : "");
	if (*len >= size)
		*len = size - 1;
}

static size_t chars_of(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

char *review_subject(const struct review *rv, char *out, size_t size)
{
	static const char tail[] = " \xe2\x80\x94 review";	/* " — review" */
	const struct review_test *t = rv->ntests ? &rv->tests[0] : NULL;
	char body[4 * REVIEW_SUBJECT_MAX + 64];
	size_t len = 0, room = REVIEW_SUBJECT_MAX - chars_of(tail), blen = 0;

	out[0] = '\0';
	if (rv->repository && *rv->repository) {
		put_cut(out, size, &len, rv->repository, 24);
		len += (size_t)snprintf(out + len, size - len, ": ");
		room -= chars_of(out);
	}
	body[0] = '\0';
	if (t) {
		put_cut(body, sizeof(body), &blen, t->metric, 24);
		blen += (size_t)snprintf(body + blen, sizeof(body) - blen, " ");
		put_cut(body, sizeof(body), &blen, t->value, 12);
		blen += (size_t)snprintf(body + blen, sizeof(body) - blen, " ");
		put_cut(body, sizeof(body), &blen, t->op, 10);
		blen += (size_t)snprintf(body + blen, sizeof(body) - blen, " ");
		put_cut(body, sizeof(body), &blen, t->threshold, 12);
	} else {
		put_cut(body, sizeof(body), &blen, rv->gate ? rv->gate : "", 40);
	}
	put_cut(out, size, &len, body, room);
	snprintf(out + len, size - len, "%s", tail);
	return out;
}

/* ---- repository names ------------------------------------------------------ */

char *review_repo_name(const char *r)
{
	const char *p, *at, *colon;
	size_t n;
	char *out;

	if (!r || !*r)
		return NULL;
	p = strstr(r, "://");
	if (p) {
		p = strchr(p + 3, '/');	/* after the host */
		if (!p)
			return NULL;
		p++;
	} else if ((at = strchr(r, '@')) && (colon = strchr(at, ':'))) {
		p = colon + 1;		/* scp-like: git@host:owner/name */
	} else if (r[0] == '/') {
		p = strrchr(r, '/') + 1;	/* a work tree path: its name */
	} else {
		p = r;
	}
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (n > 4 && !strncmp(p + n - 4, ".git", 4))
		n -= 4;
	if (!n)
		return NULL;
	out = xstrndup(p, n);
	return out;
}
