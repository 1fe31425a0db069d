/* verdict.h - the outcome of a gate: pass, fail, or review by teams.
 *
 * verdict_compute() evaluates a gate's rules against bound values according
 * to its match mode and records, for every rule, whether it was evaluated,
 * whether it fired and which data tests it ran (for reports).  Pure: no I/O.
 */
#ifndef GREENLIGHT_VERDICT_H
#define GREENLIGHT_VERDICT_H

#include "choice.h"
#include "gate.h"

enum outcome {
	OUTCOME_PASS,
	OUTCOME_FAIL,
	OUTCOME_REVIEW,
};

struct rule_result {
	char *condition;		/* choice_describe() text, owned */
	const char *next;
	int evaluated;			/* 0: skipped after a first match */
	int fired;
	struct choice_leaf *leaves;	/* tests evaluated, in order, owned */
	size_t nleaves;
};

struct verdict {
	enum outcome outcome;
	int by_default;			/* no rule fired; "default" decided */
	const char **teams;		/* teams to notify, in rule order */
	size_t nteams;
	struct rule_result *rules;	/* one per top-level rule */
	size_t nrules;
};

/* Evaluate `g` against values[] (see choice_bind_tree()).  Returns 0, or -1
 * with *err filled for a runtime error or when no rule matched and the gate
 * has no default (err->where is then "default"); *v is then empty. */
int verdict_compute(struct verdict *v, const struct gate *g,
		    const cJSON *const *values, struct choice_error *err);

void verdict_release(struct verdict *v);

/* "pass", "fail" or "review". */
const char *outcome_name(enum outcome o);

/* Exit code of a verdict for `check`: 0 pass, 1 fail, 5 review. */
int outcome_exit_code(enum outcome o);

#endif
