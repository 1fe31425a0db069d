/* evidence.c - what a review request covers, as a key (see evidence.h). */
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "json.h"
#include "util.h"

static int by_key(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

static cJSON *canonical_object(const cJSON *v)
{
	size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
	const cJSON **kids = xcalloc(n ? n : 1, sizeof(*kids));
	cJSON *o = cJSON_CreateObject(), *c;

	cJSON_ArrayForEach(c, v)
		kids[i++] = c;
	qsort(kids, n, sizeof(*kids), by_key);
	for (i = 0; o && i < n; i++) {
		cJSON *x = evidence_canonical(kids[i]);

		if (!x || !cJSON_AddItemToObject(o, kids[i]->string, x)) {
			cJSON_Delete(x);
			cJSON_Delete(o);
			o = NULL;
		}
	}
	free(kids);
	return o;
}

cJSON *evidence_canonical(const cJSON *v)
{
	cJSON *a, *c;

	if (cJSON_IsObject(v))
		return canonical_object(v);
	if (!cJSON_IsArray(v))
		return cJSON_Duplicate(v, 0);
	a = cJSON_CreateArray();
	cJSON_ArrayForEach(c, v) {
		cJSON *x = evidence_canonical(c);

		if (!x || !a || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

/* Print o canonically and delete it. */
static char *print_canonical(cJSON *o)
{
	cJSON *c = evidence_canonical(o);
	char *text = c ? cJSON_PrintUnformatted(c) : NULL;

	cJSON_Delete(c);
	cJSON_Delete(o);
	return text;
}

static cJSON *teams_json(const struct gate *g)
{
	cJSON *teams = cJSON_CreateObject();

	for (size_t i = 0; i < g->nteams; i++) {
		const struct team *t = &g->teams[i];
		cJSON *x = cJSON_AddObjectToObject(teams, t->name);
		cJSON *emails = cJSON_AddArrayToObject(x, "email");

		for (size_t k = 0; k < t->nemail; k++)
			cJSON_AddItemToArray(emails, cJSON_CreateString(t->email[k]));
		cJSON_AddNumberToObject(x, "approvals", t->approvals);
	}
	return teams;
}

char *evidence_gate_text(const struct gate *g)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *choices = cJSON_GetObjectItemCaseSensitive(g->doc.root,
								"choices");

	cJSON_AddItemToObject(o, "choices", choices ?
			      cJSON_Duplicate(choices, 1) : cJSON_CreateArray());
	if (g->default_next)
		cJSON_AddStringToObject(o, "default", g->default_next);
	else
		cJSON_AddNullToObject(o, "default");
	cJSON_AddStringToObject(o, "match",
				g->match == GATE_MATCH_ALL ? "all" : "first");
	cJSON_AddItemToObject(o, "teams", teams_json(g));
	return print_canonical(o);
}

static cJSON *values_json(const struct rule_result *rr)
{
	cJSON *values = cJSON_CreateArray();

	for (size_t k = 0; k < rr->nleaves; k++) {
		const struct choice_leaf *l = &rr->leaves[k];
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "path", l->variable);
		cJSON_AddItemToObject(x, "value", l->value ?
				      cJSON_Duplicate(l->value, 1) : cJSON_CreateNull());
		if (l->operand_path)
			cJSON_AddItemToObject(x, "operand", l->operand_value ?
					      cJSON_Duplicate(l->operand_value, 1) :
					      cJSON_CreateNull());
		cJSON_AddItemToArray(values, x);
	}
	return values;
}

char *evidence_text(const struct verdict *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *fired = cJSON_AddArrayToObject(o, "fired");
	cJSON *teams = cJSON_AddArrayToObject(o, "teams");

	for (size_t i = 0; i < v->nrules; i++) {
		const struct rule_result *rr = &v->rules[i];
		cJSON *x;

		if (!rr->fired)
			continue;
		x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "rule", (double)i);
		cJSON_AddStringToObject(x, "next", rr->next);
		cJSON_AddItemToObject(x, "values", values_json(rr));
		cJSON_AddItemToArray(fired, x);
	}
	for (size_t i = 0; i < v->nteams; i++)
		cJSON_AddItemToArray(teams, cJSON_CreateString(v->teams[i]));
	return print_canonical(o);
}

static int digest_of(char out[TOKEN_HEX_SIZE], char *text)
{
	int rc = text ? token_sha256_hex(out, text, strlen(text)) : -1;

	free(text);
	return rc;
}

int evidence_key(struct evidence_key *k, const struct gate *g,
		 const struct verdict *v, const char *repo, const char *commit)
{
	struct buf b = BUF_INIT(16 * 1024);
	int rc;

	buf_addf(&b, "greenlight subject v1\n%s\n%s\n%s", repo ? repo : "",
		 commit ? commit : "", g->name);
	rc = !b.data || token_sha256_hex(k->subject, b.data, b.len);
	buf_release(&b);
	if (rc || digest_of(k->gate, evidence_gate_text(g)) ||
	    digest_of(k->evidence, evidence_text(v)))
		return -1;
	b = (struct buf)BUF_INIT(1024);
	buf_addf(&b, "greenlight request v2\n%s\n%s\n%s", k->subject, k->gate,
		 k->evidence);
	rc = !b.data || token_sha256_hex(k->key, b.data, b.len);
	buf_release(&b);
	return rc ? -1 : 0;
}

/* The value shown for metric m in facts' rules, or NULL. */
static const char *value_of(const cJSON *facts, const char *m)
{
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(facts, "rules"), *r;

	cJSON_ArrayForEach(r, rules) {
		const char *metric = json_str(r, "metric");

		if (metric && json_str(r, "value") && !strcmp(metric, m))
			return json_str(r, "value");
	}
	return NULL;
}

/* Whether a rule before r in rules names metric m (one metric tested by
 * several rules is one change). */
static int listed_before(const cJSON *rules, const cJSON *r, const char *m)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, rules) {
		const char *metric = json_str(x, "metric");

		if (x == r)
			break;
		if (metric && !strcmp(metric, m))
			return 1;
	}
	return 0;
}

/* Metrics of `a` whose value in `b` differs; `a_first` says which side is
 * "before".  A metric several rules test is listed once. */
static void diff_side(struct buf *out, const cJSON *a, const cJSON *b,
		      int a_first, int *n)
{
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(a, "rules"), *r;

	cJSON_ArrayForEach(r, rules) {
		const char *metric = json_str(r, "metric");
		const char *va, *vb;

		if (!metric || listed_before(rules, r, metric))
			continue;
		va = value_of(a, metric);
		vb = value_of(b, metric);
		if (!va || (vb && (!a_first || !strcmp(va, vb))))
			continue;	/* equal, or listed from the other side */
		buf_addf(out, "%s%s %s → %s", (*n)++ ? "; " : "",
			 metric, a_first ? va : "(not fired)",
			 a_first ? (vb ? vb : "(not fired)") : va);
	}
}

void evidence_diff(struct buf *out, const cJSON *before, const cJSON *now)
{
	int n = 0;

	diff_side(out, before, now, 1, &n);
	diff_side(out, now, before, 0, &n);
	if (!n)
		buf_adds(out, "the gate's rules or teams changed");
}
