/* evaluate.c - load gate and results, compute the verdict (see evaluate.h). */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "baseline_store.h"
#include "ci.h"
#include "evaluate.h"
#include "gitinfo.h"
#include "util.h"

const char *default_gate_path(void)
{
	const char *env = getenv("GREENLIGHT_GATE");

	return env && *env ? env : "greenlight.json";
}

/* Whether a rule reads $$.<key>. */
static int reads_context(const struct gate *g, const char *key)
{
	for (size_t i = 0; i < g->choices.npaths; i++) {
		const struct jpath *p = &g->choices.paths[i];

		if (p->root == JPATH_CONTEXT && p->nseg && p->seg[0].kind == JSEG_KEY &&
		    !strcmp(p->seg[0].key, key))
			return 1;
	}
	return 0;
}

/* Whether a rule reads $$.Git (then, and only then, git is consulted). */
static int reads_git(const struct gate *g)
{
	return reads_context(g, "Git");
}

int gate_reads_baseline(const struct gate *g)
{
	return reads_context(g, "Baseline") || reads_context(g, "Delta") ||
	       reads_context(g, "DeltaPct");
}

/* $$.Baseline, $$.Delta, $$.DeltaPct from the recorded commits, then the
 * rules' $$ paths bound again. */
static int add_baseline(struct evaluation *e)
{
	const struct choice_set *set = &e->gate.choices;
	struct baseline_doc *docs;
	const cJSON **base;
	size_t n;

	if (baseline_find(&e->gate, &docs, &n))
		return -1;
	base = xcalloc(set->npaths ? set->npaths : 1, sizeof(*base));
	for (size_t i = 0; i < set->npaths; i++)
		if (set->paths[i].root == JPATH_INPUT)
			base[i] = baseline_aggregate(docs, n, set->paths[i].text,
						     e->gate.baseline.aggregate);
	baseline_context(e->context, set->paths, set->npaths, e->results.values, base);
	for (size_t i = 0; i < set->npaths; i++) {
		cJSON_Delete((cJSON *)base[i]);
		if (set->paths[i].root == JPATH_CONTEXT)
			e->results.values[i] = jpath_resolve(&set->paths[i], e->context);
	}
	e->baseline_commits = n;
	free(base);
	baseline_docs_release(docs, n);
	return 0;
}

cJSON *context_build(const struct gate *g)
{
	cJSON *ctx = cJSON_CreateObject();
	cJSON *gate = cJSON_AddObjectToObject(ctx, "Gate");
	struct gitinfo gi;
	struct ci_info ci;

	cJSON_AddStringToObject(gate, "Name", g->name);
	ci_info_detect(&ci);
	cJSON_AddItemToObject(ctx, "Ci", ci_info_json(&ci));
	ci_info_release(&ci);
	if (reads_git(g)) {
		gitinfo_discover(&gi, ".");
		cJSON_AddItemToObject(ctx, "Git", gitinfo_json(&gi));
		gitinfo_release(&gi);
	} else {
		cJSON_AddObjectToObject(ctx, "Git");
	}
	return ctx;
}

/* The gate file's "results" is relative to the gate file's directory. */
static char *results_path(const struct gate *g, const char *flag)
{
	const char *env = getenv("GREENLIGHT_RESULTS");
	char *copy, *dir, *out;
	size_t n;

	if (flag)
		return xstrdup(flag);
	if (env && *env)
		return xstrdup(env);
	if (!g->results)
		return xstrdup("results.json");
	if (g->results[0] == '/' || !strcmp(g->results, "-"))
		return xstrdup(g->results);
	copy = xstrdup(g->file);
	dir = dirname(copy);
	n = strlen(dir) + strlen(g->results) + 2;
	out = xmalloc(n);
	if (!strcmp(dir, "."))
		snprintf(out, n, "%s", g->results);
	else
		snprintf(out, n, "%s/%s", dir, g->results);
	free(copy);
	return out;
}

static int max_results(const struct eval_opts *o, uint64_t *out)
{
	const char *env = getenv("GREENLIGHT_MAX_RESULTS_BYTES");

	*out = o->max_results ? o->max_results : RESULTS_DEFAULT_MAX;
	if (!o->max_results && env && *env && (parse_size(env, out) || !*out))
		return error("GREENLIGHT_MAX_RESULTS_BYTES is \"%s\"; write a size like 67108864, 64M or 1G", env);
	return 0;
}

static int runtime_error(const struct evaluation *e, const struct choice_error *err)
{
	const char *file = strcmp(e->results_file, "-") ? e->results_file : "stdin";

	if (!strcmp(err->where, "default"))
		return error("%s: %s", file, err->msg);
	return error("%s: %s: %s", file, err->where, err->msg);
}

int evaluate(struct evaluation *e, const struct eval_opts *o)
{
	struct choice_error err;
	uint64_t max;

	memset(e, 0, sizeof(*e));
	if (max_results(o, &max))
		return -1;
	if (gate_load(&e->gate, o->gate ? o->gate : default_gate_path()))
		return -1;
	e->context = context_build(&e->gate);
	e->results_file = results_path(&e->gate, o->results);
	if (results_load(&e->results, e->results_file, max, &e->gate.choices, e->context))
		goto fail;
	if (gate_reads_baseline(&e->gate) && add_baseline(e))
		goto fail;
	if (verdict_compute(&e->verdict, &e->gate, e->results.values, &err)) {
		runtime_error(e, &err);
		goto fail;
	}
	return 0;
fail:
	evaluation_release(e);
	return -1;
}

void evaluation_release(struct evaluation *e)
{
	verdict_release(&e->verdict);
	results_release(&e->results);
	free(e->results_file);
	cJSON_Delete(e->context);
	gate_release(&e->gate);
	memset(e, 0, sizeof(*e));
}

int eval_opts_max_results(struct eval_opts *o, const char *arg)
{
	if (parse_size(arg, &o->max_results) || !o->max_results)
		return error("--max-results-bytes \"%s\" is not a size; write e.g. 67108864, 64M or 1G",
			     arg);
	return 0;
}

const struct report_baseline *evaluation_baseline(const struct evaluation *e,
						  struct report_baseline *rb)
{
	if (!gate_reads_baseline(&e->gate))
		return NULL;
	rb->context = e->context;
	rb->commits = e->baseline_commits;
	return rb;
}
