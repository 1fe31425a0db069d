/* verdict.c - evaluate a gate's rules into an outcome (see verdict.h).
 *
 * match "first" is ASL: the first rule that matches decides and later rules
 * are not evaluated.  match "all" evaluates every rule: any fired "fail"
 * fails; otherwise every team named by a fired rule must review; rules that
 * fired "pass" only pass when no team is named.  No rule fired: "default".
 * An evaluation error anywhere stops everything, as in ASL.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "verdict.h"

const char *outcome_name(enum outcome o)
{
	switch (o) {
	case OUTCOME_PASS: return "pass";
	case OUTCOME_FAIL: return "fail";
	default: return "review";
	}
}

int outcome_exit_code(enum outcome o)
{
	switch (o) {
	case OUTCOME_PASS: return GL_EXIT_PASS;
	case OUTCOME_FAIL: return GL_EXIT_FAIL;
	default: return GL_EXIT_REVIEW;
	}
}

static void add_leaf(void *ud, const struct choice_leaf *leaf)
{
	struct rule_result *r = ud;

	r->leaves = xrealloc(r->leaves, (r->nleaves + 1) * sizeof(*r->leaves));
	r->leaves[r->nleaves++] = *leaf;
}

static void add_team(struct verdict *v, const char *team)
{
	for (size_t i = 0; i < v->nteams; i++)
		if (!strcmp(v->teams[i], team))
			return;
	v->teams = xrealloc(v->teams, (v->nteams + 1) * sizeof(*v->teams));
	v->teams[v->nteams++] = team;
}

/* Turn the set of fired outcomes into the verdict. */
static void settle(struct verdict *v, int any_fail)
{
	if (any_fail) {
		v->outcome = OUTCOME_FAIL;
		v->nteams = 0;
	} else if (v->nteams) {
		v->outcome = OUTCOME_REVIEW;
	} else {
		v->outcome = OUTCOME_PASS;
	}
}

static int apply_default(struct verdict *v, const struct gate *g,
			 struct choice_error *err)
{
	if (!g->default_next) {
		memset(err, 0, sizeof(*err));
		strlcpy_gl(err->where, "default", sizeof(err->where));
		strlcpy_gl(err->msg, "no rule matched and the gate has no \"default\" (States.NoChoiceMatched); add \"default\": \"pass\" or a rule that covers these results",
			   sizeof(err->msg));
		return -1;
	}
	v->by_default = 1;
	if (!strcmp(g->default_next, "fail"))
		v->outcome = OUTCOME_FAIL;
	else if (!strcmp(g->default_next, "pass"))
		v->outcome = OUTCOME_PASS;
	else {
		add_team(v, g->default_next);
		v->outcome = OUTCOME_REVIEW;
	}
	return 0;
}

int verdict_compute(struct verdict *v, const struct gate *g,
		    const cJSON *const *values, struct choice_error *err)
{
	int any_fail = 0, fired_any = 0;

	memset(v, 0, sizeof(*v));
	v->nrules = g->choices.nrules;
	v->rules = xcalloc(v->nrules, sizeof(*v->rules));
	for (size_t i = 0; i < v->nrules; i++) {
		struct rule_result *r = &v->rules[i];
		int rc;

		r->condition = choice_describe(&g->choices, i);
		r->next = choice_next(&g->choices, i);
		if (fired_any && g->match == GATE_MATCH_FIRST)
			continue;
		r->evaluated = 1;
		rc = choice_eval(&g->choices, i, values, add_leaf, r, err);
		if (rc < 0) {
			verdict_release(v);
			return -1;
		}
		if (!rc)
			continue;
		r->fired = fired_any = 1;
		if (!strcmp(r->next, "fail"))
			any_fail = 1;
		else if (strcmp(r->next, "pass"))
			add_team(v, r->next);
	}
	if (!fired_any && apply_default(v, g, err)) {
		verdict_release(v);
		return -1;
	}
	if (fired_any)
		settle(v, any_fail);
	return 0;
}

void verdict_release(struct verdict *v)
{
	for (size_t i = 0; i < v->nrules; i++) {
		free(v->rules[i].condition);
		free(v->rules[i].leaves);
	}
	free(v->rules);
	free(v->teams);
	memset(v, 0, sizeof(*v));
}
