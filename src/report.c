/* report.c - text and JSON renderings of a verdict (see report.h). */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "utf8.h"
#include "util.h"

#define VALUE_MAX 64		/* bytes of a value shown in the table */
#define CONDITION_MAX 60	/* column width cap for conditions */

/* Copy s into out (max bytes with the NUL), ending in "..." when cut; the
 * cut falls on a character boundary. */
static void copy_cut(char *out, size_t max, const char *s)
{
	size_t n = strlen(s), keep;

	if (n < max || max <= 4) {
		strlcpy_gl(out, s, max);
		return;
	}
	keep = max - 4;
	while (keep && ((unsigned char)s[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(out, s, keep);
	memcpy(out + keep, "...", 4);
}

void report_value(const cJSON *v, char *out, size_t max)
{
	char *s, *shown;

	if (!v) {
		strlcpy_gl(out, "(missing)", max);
		return;
	}
	s = cJSON_PrintUnformatted(v);
	if (!s) {
		strlcpy_gl(out, "?", max);
		return;
	}
	shown = utf8_escape_dup(s, NULL);	/* still JSON: \uXXXX escapes */
	copy_cut(out, max, shown);
	free(shown);
	free(s);
}

/* What the VALUE column shows: the value of a single plain test, or
 * "path=value" for every test of a compound or ...Path rule. */
static void rule_values(const struct rule_result *r, char *out, size_t max)
{
	char val[VALUE_MAX + 1];
	size_t len = 0;

	out[0] = '\0';
	if (!r->evaluated) {
		strlcpy_gl(out, "-", max);
		return;
	}
	if (r->nleaves == 1 && !r->leaves[0].operand_path) {
		report_value(r->leaves[0].value, out, max < VALUE_MAX ? max : VALUE_MAX);
		return;
	}
	for (size_t i = 0; i < r->nleaves && len + 1 < max; i++) {
		const struct choice_leaf *l = &r->leaves[i];

		report_value(l->value, val, sizeof(val));
		len += (size_t)snprintf(out + len, max - len, "%s%s=%s",
					i ? ", " : "", l->variable, val);
		if (l->operand_path && len + 1 < max) {
			report_value(l->operand_value, val, sizeof(val));
			len += (size_t)snprintf(out + len, max - len, ", %s=%s",
						l->operand_path, val);
		}
	}
}

/* The BASELINE and CHANGE cells: the baseline and change of each results
 * path the rule's tests read (once per path); "$.path=..." when there are
 * several. */
static void rule_baseline(const struct rule_result *r, const cJSON *context,
			  char *base, char *change, size_t max)
{
	struct baseline_view bv[8];
	size_t n = 0, lb = 0, lc = 0;

	strlcpy_gl(base, "-", max);
	strlcpy_gl(change, "-", max);
	for (size_t i = 0; r->evaluated && i < r->nleaves && n < 8; i++) {
		size_t k;

		if (!baseline_view_of(context, r->leaves[i].variable, &bv[n]))
			continue;
		for (k = 0; k < n && bv[k].baseline != bv[n].baseline; k++)
			;
		n += k == n;
	}
	for (size_t i = 0; i < n && lb + 1 < max && lc + 1 < max; i++) {
		char val[VALUE_MAX + 1], d[64];

		report_value(bv[i].baseline, val, sizeof(val));
		baseline_view_change(&bv[i], d, sizeof(d));
		if (n == 1) {
			snprintf(base, max, "%s", val);
			snprintf(change, max, "%s", *d ? d : "-");
			break;
		}
		lb += (size_t)snprintf(base + lb, max - lb, "%s%s=%s", i ? ", " : "",
				       bv[i].input, val);
		lc += (size_t)snprintf(change + lc, max - lc, "%s%s=%s", i ? ", " : "",
				       bv[i].input, *d ? d : "-");
	}
}

static const char *fired_text(const struct rule_result *r)
{
	if (!r->evaluated)
		return "skipped";
	return r->fired ? "yes" : "no";
}

static void print_outcome(FILE *out, const struct gate *g, const struct verdict *v)
{
	fprintf(out, "outcome: %s", outcome_name(v->outcome));
	if (v->by_default)
		fprintf(out, " (no rule fired; default)");
	if (v->outcome == OUTCOME_REVIEW) {
		fprintf(out, " - notify ");
		for (size_t i = 0; i < v->nteams; i++) {
			const struct team *t = gate_team(g, v->teams[i]);
			char *name = utf8_escape_dup(v->teams[i], NULL);

			fprintf(out, "%s%s (", i ? ", " : "", name);
			free(name);
			for (size_t k = 0; t && k < t->nemail; k++)
				fprintf(out, "%s%s", k ? ", " : "", t->email[k]);
			fprintf(out, "; %d approval%s)", t ? t->approvals : 1,
				t && t->approvals > 1 ? "s" : "");
		}
	}
	fputc('\n', out);
}

/* One row's cells as a terminal may show them (utf8_escape). */
struct row {
	char *condition, *values, *base, *change, *next;
};

static void row_make(struct row *row, const struct rule_result *r, const cJSON *context)
{
	char values[256], base[256], change[256];

	rule_values(r, values, sizeof(values));
	rule_baseline(r, context, base, change, sizeof(base));
	row->condition = utf8_escape_dup(r->condition, NULL);
	row->values = utf8_escape_dup(values, NULL);
	row->base = utf8_escape_dup(base, NULL);
	row->change = utf8_escape_dup(change, NULL);
	row->next = utf8_escape_dup(r->next, NULL);
}

static void row_free(struct row *row)
{
	free(row->condition);
	free(row->values);
	free(row->base);
	free(row->change);
	free(row->next);
}

static int cap(int have, const char *s, int max)
{
	int n = (int)strlen(s);

	if (n > max)
		n = max;
	return n > have ? n : have;
}

static void print_header(FILE *out, const struct gate *g, const char *results)
{
	char *name = utf8_escape_dup(g->name, NULL);
	char *file = utf8_escape_dup(g->file, NULL);
	char *res = utf8_escape_dup(strcmp(results, "-") ? results : "stdin", NULL);

	fprintf(out, "gate %s (%s), match %s, results %s\n", name, file,
		g->match == GATE_MATCH_ALL ? "all" : "first", res);
	free(name);
	free(file);
	free(res);
}

void report_text(FILE *out, const struct gate *g, const char *results,
		 const struct verdict *v, const struct report_baseline *b)
{
	const cJSON *ctx = b ? b->context : NULL;
	int wc = (int)strlen("CONDITION"), wv = (int)strlen("VALUE");
	int wb = (int)strlen("BASELINE"), wd = (int)strlen("CHANGE");
	struct row row;

	for (size_t i = 0; i < v->nrules; i++) {
		row_make(&row, &v->rules[i], ctx);
		wc = cap(wc, row.condition, CONDITION_MAX);
		wv = cap(wv, row.values, VALUE_MAX);
		wb = cap(wb, row.base, VALUE_MAX);
		wd = cap(wd, row.change, VALUE_MAX);
		row_free(&row);
	}
	print_header(out, g, results);
	if (b)
		fprintf(out, "  %-12s %-*s  %-*s  %-*s  %-*s  %-7s  %s\n", "RULE", wc, "CONDITION",
			wv, "VALUE", wb, "BASELINE", wd, "CHANGE", "FIRED", "NEXT");
	else
		fprintf(out, "  %-12s %-*s  %-*s  %-7s  %s\n", "RULE", wc, "CONDITION",
			wv, "VALUE", "FIRED", "NEXT");
	for (size_t i = 0; i < v->nrules; i++) {
		char where[32];

		snprintf(where, sizeof(where), "choices[%zu]", i);
		row_make(&row, &v->rules[i], ctx);
		if (b)
			fprintf(out, "  %-12s %-*s  %-*s  %-*s  %-*s  %-7s  %s\n", where, wc,
				row.condition, wv, row.values, wb, row.base, wd, row.change,
				fired_text(&v->rules[i]), row.next);
		else
			fprintf(out, "  %-12s %-*s  %-*s  %-7s  %s\n", where, wc,
				row.condition, wv, row.values, fired_text(&v->rules[i]),
				row.next);
		row_free(&row);
	}
	if (b)
		fprintf(out, "baseline: %zu recorded commit%s\n", b->commits,
			b->commits == 1 ? "" : "s");
	print_outcome(out, g, v);
}

/* {"value": 205, "delta": 20, "delta_pct": 9.76}: members absent when
 * unknown; NULL when the test's value has no baseline. */
static cJSON *leaf_baseline(const struct choice_leaf *l, const cJSON *context)
{
	struct baseline_view bv;
	cJSON *o;

	if (!baseline_view_of(context, l->variable, &bv))
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "value", cJSON_Duplicate(bv.baseline, 1));
	if (bv.delta)
		cJSON_AddItemToObject(o, "delta", cJSON_Duplicate(bv.delta, 1));
	if (bv.pct)
		cJSON_AddItemToObject(o, "delta_pct", cJSON_Duplicate(bv.pct, 1));
	return o;
}

static cJSON *leaf_json(const struct choice_leaf *l, const cJSON *context)
{
	cJSON *o = cJSON_CreateObject(), *base = leaf_baseline(l, context);

	cJSON_AddStringToObject(o, "rule", l->where);
	cJSON_AddStringToObject(o, "variable", l->variable);
	cJSON_AddStringToObject(o, "operator", l->op);
	if (l->operand_path) {
		cJSON_AddStringToObject(o, "threshold_path", l->operand_path);
		cJSON_AddItemToObject(o, "threshold", l->operand_value
				      ? cJSON_Duplicate(l->operand_value, 1) : cJSON_CreateNull());
	} else if (l->operand) {
		cJSON_AddItemToObject(o, "threshold", cJSON_Duplicate(l->operand, 1));
	}
	cJSON_AddBoolToObject(o, "present", l->value != NULL);
	if (l->value)
		cJSON_AddItemToObject(o, "value", cJSON_Duplicate(l->value, 1));
	if (base)
		cJSON_AddItemToObject(o, "baseline", base);
	cJSON_AddBoolToObject(o, "result", l->result);
	return o;
}

static cJSON *rule_json(size_t i, const struct rule_result *r, const cJSON *context)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *tests = cJSON_CreateArray();
	char where[32];

	snprintf(where, sizeof(where), "choices[%zu]", i);
	cJSON_AddStringToObject(o, "rule", where);
	cJSON_AddStringToObject(o, "condition", r->condition);
	cJSON_AddStringToObject(o, "next", r->next);
	cJSON_AddBoolToObject(o, "evaluated", r->evaluated);
	cJSON_AddBoolToObject(o, "fired", r->fired);
	for (size_t k = 0; k < r->nleaves; k++)
		cJSON_AddItemToArray(tests, leaf_json(&r->leaves[k], context));
	cJSON_AddItemToObject(o, "tests", tests);
	return o;
}

static cJSON *teams_json(const struct gate *g, const struct verdict *v)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < v->nteams; i++) {
		const struct team *t = gate_team(g, v->teams[i]);
		cJSON *o = cJSON_CreateObject();
		cJSON *emails = cJSON_CreateArray();

		cJSON_AddStringToObject(o, "name", v->teams[i]);
		for (size_t k = 0; t && k < t->nemail; k++)
			cJSON_AddItemToArray(emails, cJSON_CreateString(t->email[k]));
		cJSON_AddItemToObject(o, "email", emails);
		cJSON_AddNumberToObject(o, "approvals", t ? t->approvals : 1);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

cJSON *report_json(const struct gate *g, const char *results,
		   const struct verdict *v, time_t now, const struct report_baseline *b)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *rules = cJSON_CreateArray();
	char stamp[UTIL_RFC3339_SIZE];

	format_rfc3339(now, stamp, sizeof(stamp));
	cJSON_AddNumberToObject(o, "record_version", 1);
	cJSON_AddStringToObject(o, "greenlight", GREENLIGHT_VERSION);
	cJSON_AddStringToObject(o, "gate", g->name);
	cJSON_AddStringToObject(o, "gate_file", g->file);
	cJSON_AddStringToObject(o, "results_file", strcmp(results, "-") ? results : "stdin");
	cJSON_AddStringToObject(o, "match", g->match == GATE_MATCH_ALL ? "all" : "first");
	cJSON_AddStringToObject(o, "evaluated_at", stamp);
	cJSON_AddStringToObject(o, "outcome", outcome_name(v->outcome));
	cJSON_AddNumberToObject(o, "exit_code", outcome_exit_code(v->outcome));
	cJSON_AddBoolToObject(o, "default_used", v->by_default);
	cJSON_AddItemToObject(o, "teams", teams_json(g, v));
	for (size_t i = 0; i < v->nrules; i++)
		cJSON_AddItemToArray(rules, rule_json(i, &v->rules[i], b ? b->context : NULL));
	cJSON_AddItemToObject(o, "rules", rules);
	if (b) {
		cJSON *base = cJSON_AddObjectToObject(o, "baseline");

		cJSON_AddNumberToObject(base, "commits", (double)b->commits);
		cJSON_AddStringToObject(base, "aggregate", baseline_agg_name(g->baseline.aggregate));
	}
	return o;
}
