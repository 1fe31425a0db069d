/* review.c - the fired tests as reviewers see them (see review.h). */
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "choice.h"
#include "review.h"
#include "util.h"

/* "latencyMs" for "$.latencyMs"; other paths are shown as written. */
static const char *metric_name(const char *path)
{
	if (path[0] == '$' && path[1] == '.' && path[2] && !strpbrk(path + 2, ".["))
		return path + 2;
	return path;
}

static void test_make(struct review_test *t, const struct rule_result *rr,
		      const struct choice_leaf *l, const cJSON *context)
{
	const char *sym = choice_op_symbol(l->op);
	struct baseline_view bv;

	memset(t, 0, sizeof(*t));
	t->variable = l->variable;
	t->metric = metric_name(l->variable);
	t->op = sym ? sym : l->op;
	t->why = rr->condition;
	t->next = rr->next;
	choice_format_value(t->value, sizeof(t->value), l->value);
	if (l->operand_path)
		snprintf(t->threshold, sizeof(t->threshold), "%s", l->operand_path);
	else
		choice_format_value(t->threshold, sizeof(t->threshold), l->operand);
	if (baseline_view_of(context, l->variable, &bv)) {
		choice_format_value(t->baseline, sizeof(t->baseline), bv.baseline);
		baseline_view_change(&bv, t->change, sizeof(t->change));
	}
}

void review_tests_build(struct review_tests *rt, const struct verdict *v,
			const cJSON *context)
{
	memset(rt, 0, sizeof(*rt));
	for (size_t i = 0; i < v->nrules; i++) {
		const struct rule_result *rr = &v->rules[i];

		for (size_t k = 0; rr->fired && k < rr->nleaves; k++) {
			rt->t = xrealloc(rt->t, (rt->n + 1) * sizeof(*rt->t));
			test_make(&rt->t[rt->n++], rr, &rr->leaves[k], context);
		}
	}
}

void review_tests_release(struct review_tests *rt)
{
	free(rt->t);
	memset(rt, 0, sizeof(*rt));
}
