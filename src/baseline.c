/* baseline.c - baseline documents and their aggregation (see baseline.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "choice.h"
#include "json.h"
#include "jsonpath.h"
#include "timestamp.h"
#include "util.h"

static const char *const doc_keys[] = {
	"version", "gate", "commit", "recorded", "outcome", "run_url", "values",
};
#define NDOC_KEYS (sizeof(doc_keys) / sizeof(doc_keys[0]))

void baseline_doc_release(struct baseline_doc *doc)
{
	free(doc->gate);
	free(doc->commit);
	free(doc->recorded);
	free(doc->outcome);
	free(doc->run_url);
	cJSON_Delete(doc->values);
	memset(doc, 0, sizeof(*doc));
}

static int short_string(const cJSON *v)
{
	return cJSON_IsString(v) && strlen(v->valuestring) <= BASELINE_MAX_STRING;
}

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int is_sha(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == 40;
}

/* Strings short, depth bounded. */
static int value_ok(const cJSON *v, int depth)
{
	if (depth > BASELINE_MAX_DEPTH)
		return 0;
	if (cJSON_IsString(v))
		return short_string(v);
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		for (const cJSON *c = v->child; c; c = c->next)
			if ((c->string && strlen(c->string) > BASELINE_MAX_STRING) ||
			    !value_ok(c, depth + 1))
				return 0;
	return 1;
}

static const cJSON *member(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

int baseline_doc_from_json(struct baseline_doc *doc, const cJSON *obj,
			   const char *gate, char *err, size_t n)
{
	const cJSON *v;
	const char *why;
	struct timestamp ts;
	struct jpath p;
	char perr[256];
	size_t i, count = 0;

	memset(doc, 0, sizeof(*doc));
	if (!cJSON_IsObject(obj))
		return fail_into(err, n, "the entry for gate \"%.64s\" is not an object", gate);
	for (const cJSON *m = obj->child; m; m = m->next) {
		for (i = 0; i < NDOC_KEYS; i++)
			if (!strcmp(m->string, doc_keys[i]))
				break;
		if (i == NDOC_KEYS)
			return fail_into(err, n, "gate \"%.64s\": unknown key \"%.64s\"", gate, m->string);
	}
	v = member(obj, "version");
	if (!cJSON_IsNumber(v) || v->valuedouble != 1)
		return fail_into(err, n, "gate \"%.64s\": \"version\" must be 1", gate);
	v = member(obj, "gate");
	if (!short_string(v) || strcmp(v->valuestring, gate))
		return fail_into(err, n, "gate \"%.64s\": \"gate\" must repeat the gate's name", gate);
	v = member(obj, "commit");
	if (!short_string(v) || !is_sha(v->valuestring))
		return fail_into(err, n, "gate \"%.64s\": \"commit\" must be a full lowercase commit id", gate);
	v = member(obj, "recorded");
	if (!short_string(v) || ts_parse(&ts, v->valuestring, &why))
		return fail_into(err, n, "gate \"%.64s\": \"recorded\" must be an RFC 3339 timestamp", gate);
	v = member(obj, "outcome");
	if (!short_string(v) || (strcmp(v->valuestring, "pass") && strcmp(v->valuestring, "approved")))
		return fail_into(err, n, "gate \"%.64s\": \"outcome\" must be \"pass\" or \"approved\"", gate);
	v = member(obj, "run_url");
	if (v && !cJSON_IsNull(v) && !(short_string(v) && printable(v->valuestring)))
		return fail_into(err, n, "gate \"%.64s\": \"run_url\" must be a string without control characters, or null", gate);
	v = member(obj, "values");
	if (!cJSON_IsObject(v))
		return fail_into(err, n, "gate \"%.64s\": \"values\" must be an object of path -> value", gate);
	for (const cJSON *m = v->child; m; m = m->next) {
		if (++count > BASELINE_MAX_VALUES)
			return fail_into(err, n, "gate \"%.64s\": more than %d values", gate, BASELINE_MAX_VALUES);
		if (jpath_parse(&p, m->string, perr, sizeof(perr)))
			return fail_into(err, n, "gate \"%.64s\": value key \"%.64s\" is not a reference path", gate, m->string);
		i = p.root == JPATH_INPUT;
		jpath_release(&p);
		if (!i)
			return fail_into(err, n, "gate \"%.64s\": value key \"%.64s\" must start with $. (a results path)", gate, m->string);
		if (!value_ok(m, 0))
			return fail_into(err, n, "gate \"%.64s\": value \"%.64s\" is too long or too deep", gate, m->string);
	}
	doc->gate = xstrdup(gate);
	doc->commit = xstrdup(member(obj, "commit")->valuestring);
	doc->recorded = xstrdup(member(obj, "recorded")->valuestring);
	doc->outcome = xstrdup(member(obj, "outcome")->valuestring);
	v = member(obj, "run_url");
	doc->run_url = v && cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
	doc->values = cJSON_Duplicate(member(obj, "values"), 1);
	return 0;
}

/* Strictly parse a whole note into a validated object tree. */
static cJSON *note_parse(const char *text, size_t len, char *err, size_t n)
{
	struct json_doc jd;
	struct json_err jerr;
	struct baseline_doc d;
	cJSON *root;
	size_t count = 0;

	if (len > BASELINE_NOTE_MAX_BYTES) {
		fail_into(err, n, "larger than %d bytes", BASELINE_NOTE_MAX_BYTES);
		return NULL;
	}
	if (json_doc_parse(&jd, text, len, &jerr)) {
		fail_into(err, n, "not valid JSON at %u:%u: %s", jerr.line, jerr.col, jerr.msg);
		return NULL;
	}
	root = jd.root;
	jd.root = NULL;
	json_doc_release(&jd);
	if (!cJSON_IsObject(root)) {
		fail_into(err, n, "not a JSON object keyed by gate name");
		goto bad;
	}
	for (const cJSON *m = root->child; m; m = m->next) {
		if (++count > BASELINE_MAX_GATES) {
			fail_into(err, n, "more than %d gates", BASELINE_MAX_GATES);
			goto bad;
		}
		if (!*m->string || strlen(m->string) > 128 || !printable(m->string)) {
			fail_into(err, n, "a gate name is empty, longer than 128 bytes or has control characters");
			goto bad;
		}
		if (baseline_doc_from_json(&d, m, m->string, err, n))
			goto bad;
		baseline_doc_release(&d);
	}
	return root;
bad:
	cJSON_Delete(root);
	return NULL;
}

int baseline_note_parse(const char *text, size_t len, const char *gate,
			struct baseline_doc *doc, int *found, char *err, size_t n)
{
	cJSON *root = note_parse(text, len, err, n);
	const cJSON *m;
	int ret = 0;

	memset(doc, 0, sizeof(*doc));
	*found = 0;
	if (!root)
		return -1;
	m = member(root, gate);
	if (m) {
		ret = baseline_doc_from_json(doc, m, gate, err, n);
		*found = !ret;
	}
	cJSON_Delete(root);
	return ret;
}

cJSON *baseline_doc_json(const struct baseline_doc *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "version", 1);
	cJSON_AddStringToObject(o, "gate", d->gate);
	cJSON_AddStringToObject(o, "commit", d->commit);
	cJSON_AddStringToObject(o, "recorded", d->recorded);
	cJSON_AddStringToObject(o, "outcome", d->outcome);
	if (d->run_url)
		cJSON_AddStringToObject(o, "run_url", d->run_url);
	else
		cJSON_AddNullToObject(o, "run_url");
	cJSON_AddItemToObject(o, "values", d->values ? cJSON_Duplicate(d->values, 1)
			      : cJSON_CreateObject());
	return o;
}

char *baseline_note_merge(const char *note, size_t len,
			  const struct baseline_doc *doc, char *err, size_t n)
{
	cJSON *root = NULL;
	char *out;

	err[0] = '\0';
	if (note && len)
		root = note_parse(note, len, err, n);
	if (!root)
		root = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(root, doc->gate);
	cJSON_AddItemToObject(root, doc->gate, baseline_doc_json(doc));
	out = cJSON_PrintUnformatted(root);
	if (cJSON_GetArraySize(root) > BASELINE_MAX_GATES ||
	    strlen(out) > BASELINE_NOTE_MAX_BYTES) {
		/* full: this gate's entry alone, rather than a note nobody reads */
		fail_into(err, n, "the note holds too many gates or bytes; only gate \"%.64s\" is kept",
		     doc->gate);
		free(out);
		cJSON_Delete(root);
		root = cJSON_CreateObject();
		cJSON_AddItemToObject(root, doc->gate, baseline_doc_json(doc));
		out = cJSON_PrintUnformatted(root);
	}
	cJSON_Delete(root);
	return out;
}

static const char *const agg_names[] = { "median", "mean", "last", "min", "max" };

const char *baseline_agg_name(enum baseline_agg agg)
{
	return agg_names[agg];
}

int baseline_agg_parse(const char *s, enum baseline_agg *out)
{
	const char *const *names = agg_names;

	for (size_t i = 0; i < sizeof(agg_names) / sizeof(agg_names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum baseline_agg)i;
			return 0;
		}
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double baseline_aggregate_numbers(double *v, size_t n, enum baseline_agg agg)
{
	double r;

	if (!n)
		return NAN;
	switch (agg) {
	case AGG_LAST:
		return v[0];
	case AGG_MEAN:
		r = 0;
		for (size_t i = 0; i < n; i++)
			r += v[i] / (double)n;
		return r;
	case AGG_MIN:
	case AGG_MAX:
		r = v[0];
		for (size_t i = 1; i < n; i++)
			if (agg == AGG_MIN ? v[i] < r : v[i] > r)
				r = v[i];
		return r;
	case AGG_MEDIAN:
	default:
		qsort(v, n, sizeof(*v), cmp_double);
		return n % 2 ? v[n / 2] : v[n / 2 - 1] / 2 + v[n / 2] / 2;
	}
}

cJSON *baseline_aggregate(const struct baseline_doc *docs, size_t n,
			  const char *path, enum baseline_agg agg)
{
	double *v = xcalloc(n ? n : 1, sizeof(*v));
	const cJSON *nearest = NULL;
	size_t count = 0;
	int numeric = 1;
	cJSON *out;

	for (size_t i = 0; i < n; i++) {
		const cJSON *x = docs[i].values ? member(docs[i].values, path) : NULL;

		if (!x)
			continue;
		if (!nearest)
			nearest = x;
		if (cJSON_IsNumber(x))
			v[count++] = x->valuedouble;
		else
			numeric = 0;
	}
	if (!nearest)
		out = NULL;
	else if (numeric)
		out = cJSON_CreateNumber(baseline_aggregate_numbers(v, count, agg));
	else
		out = cJSON_Duplicate(nearest, 1);
	free(v);
	return out;
}

/* Put `value` at path p below `root` (an object), creating objects for
 * keys and arrays (padded with null) for indexes.  Takes ownership. */
static void put(cJSON *root, const struct jpath *p, cJSON *value)
{
	cJSON *node = root;

	for (size_t i = 0; i < p->nseg; i++) {
		const struct jseg *s = &p->seg[i];
		int last = i + 1 == p->nseg;
		cJSON *next;

		if (s->kind == JSEG_KEY) {
			if (!cJSON_IsObject(node))
				goto drop;
			next = cJSON_GetObjectItemCaseSensitive(node, s->key);
			if (last) {
				if (next)
					cJSON_DeleteItemFromObjectCaseSensitive(node, s->key);
				cJSON_AddItemToObject(node, s->key, value);
				return;
			}
			if (!next) {
				next = p->seg[i + 1].kind == JSEG_KEY ? cJSON_CreateObject()
								       : cJSON_CreateArray();
				cJSON_AddItemToObject(node, s->key, next);
			}
		} else {
			if (!cJSON_IsArray(node) || s->index > BASELINE_MAX_VALUES * 4)
				goto drop;
			while ((size_t)cJSON_GetArraySize(node) <= s->index)
				cJSON_AddItemToArray(node, cJSON_CreateNull());
			if (last) {
				cJSON_ReplaceItemInArray(node, (int)s->index, value);
				return;
			}
			next = cJSON_GetArrayItem(node, (int)s->index);
			if (cJSON_IsNull(next)) {
				cJSON *fresh = p->seg[i + 1].kind == JSEG_KEY ? cJSON_CreateObject()
									      : cJSON_CreateArray();
				cJSON_ReplaceItemInArray(node, (int)s->index, fresh);
				next = fresh;
			}
		}
		node = next;
	}
drop:
	cJSON_Delete(value);	/* `$` itself, or a shape clash between paths */
}

void baseline_context(cJSON *context, const struct jpath *paths, size_t n,
		      const cJSON *const *current, const cJSON *const *base)
{
	cJSON *b = cJSON_AddObjectToObject(context, "Baseline");
	cJSON *d = cJSON_AddObjectToObject(context, "Delta");
	cJSON *pct = cJSON_AddObjectToObject(context, "DeltaPct");

	for (size_t i = 0; i < n; i++) {
		double cur, was;

		if (paths[i].root != JPATH_INPUT || !base[i] || !paths[i].nseg)
			continue;
		put(b, &paths[i], cJSON_Duplicate(base[i], 1));
		if (!current[i] || !cJSON_IsNumber(current[i]) || !cJSON_IsNumber(base[i]))
			continue;
		cur = current[i]->valuedouble;
		was = base[i]->valuedouble;
		if (!isfinite(cur - was))
			continue;
		put(d, &paths[i], cJSON_CreateNumber(cur - was));
		if (was != 0 && isfinite((cur - was) / fabs(was) * 100))
			put(pct, &paths[i], cJSON_CreateNumber((cur - was) / fabs(was) * 100));
	}
}

static int is_baseline_key(const char *k)
{
	return !strcmp(k, "Baseline") || !strcmp(k, "Delta") || !strcmp(k, "DeltaPct");
}

/* The results path $.X that the context path `p` ($$.Baseline.X,
 * $$.Delta.X or $$.DeltaPct.X, as written) derives from: 0 with *q set,
 * -1 when p is not such a path. */
static int input_of(const struct jpath *p, struct jpath *q)
{
	const char *rest;
	char *text, err[256];
	size_t k;
	int rc;

	if (p->root != JPATH_CONTEXT || p->nseg < 2 || p->seg[0].kind != JSEG_KEY ||
	    !is_baseline_key(p->seg[0].key))
		return -1;
	/* "$$" then ".Delta" or "['Delta']" / ["Delta"] as written */
	rest = p->text + 2;
	rest += rest[0] == '.' ? 1 + strlen(p->seg[0].key) : 4 + strlen(p->seg[0].key);
	k = strlen(rest) + 2;
	text = xmalloc(k);
	snprintf(text, k, "$%s", rest);
	rc = jpath_parse(q, text, err, sizeof(err));
	free(text);
	return rc ? -1 : 0;
}

void baseline_add_paths(struct choice_set *set)
{
	size_t n = set->npaths;

	for (size_t i = 0; i < n; i++) {
		struct jpath q;
		size_t k;

		if (input_of(&set->paths[i], &q))
			continue;
		for (k = 0; k < set->npaths; k++)
			if (jpath_equal(&set->paths[k], &q))
				break;
		if (k < set->npaths) {
			jpath_release(&q);
			continue;
		}
		set->paths = xrealloc(set->paths, (set->npaths + 1) * sizeof(*set->paths));
		set->paths[set->npaths++] = q;
	}
}

static const cJSON *mirrored(const cJSON *context, const char *key, const struct jpath *q)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(context, key);

	return o ? jpath_resolve(q, o) : NULL;
}

int baseline_view_of(const cJSON *context, const char *variable, struct baseline_view *v)
{
	struct jpath p, q;
	char err[256];
	int own;

	memset(v, 0, sizeof(*v));
	if (!context || jpath_parse(&p, variable, err, sizeof(err)))
		return 0;
	own = p.root == JPATH_INPUT;
	if (own)
		q = p;
	else if (input_of(&p, &q)) {
		jpath_release(&p);
		return 0;
	}
	if (q.nseg) {
		snprintf(v->input, sizeof(v->input), "%s", q.text);
		v->baseline = mirrored(context, "Baseline", &q);
		v->delta = mirrored(context, "Delta", &q);
		v->pct = mirrored(context, "DeltaPct", &q);
	}
	if (!own)
		jpath_release(&q);
	jpath_release(&p);
	return v->baseline != NULL;
}

/* A signed number as a reader wants it: "+20", "-3.5", "+0.0012". */
static void signed_number(char *out, size_t size, double x)
{
	if (x == (double)(long long)x && fabs(x) < 1e15)
		snprintf(out, size, "%+lld", (long long)x);
	else
		snprintf(out, size, "%+.4g", x);
}

char *baseline_view_change(const struct baseline_view *v, char *out, size_t size)
{
	char d[48], pct[48];

	out[0] = '\0';
	if (!v->delta || !cJSON_IsNumber(v->delta))
		return out;
	signed_number(d, sizeof(d), v->delta->valuedouble);
	if (v->pct && cJSON_IsNumber(v->pct)) {
		double x = v->pct->valuedouble;

		snprintf(pct, sizeof(pct), fabs(x) < 10 ? "%+.1f%%" : "%+.0f%%", x);
		snprintf(out, size, "%s (%s)", d, pct);
	} else {
		snprintf(out, size, "%s", d);
	}
	return out;
}
