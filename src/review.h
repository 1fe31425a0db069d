/* review.h - what a reviewer is told about each fired test, built once.
 *
 * The page (through the facts the store and the relay keep), the email and
 * the terminal all show the same lines: the metric, its value, the
 * operator and threshold, the rule that routed it, and, when the gate
 * reads baselines, the baseline and the change.  review_tests_build()
 * makes them from a verdict and the context that holds the baselines.
 * Pure: no I/O.
 */
#ifndef GREENLIGHT_REVIEW_H
#define GREENLIGHT_REVIEW_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "verdict.h"

#define REVIEW_TEXT_MAX 128	/* bytes of a value, threshold or baseline shown */

struct review_test {
	const char *variable;		/* the Variable as written */
	const char *metric;		/* "latencyMs" for "$.latencyMs", else variable */
	const char *op;			/* ">" and the like, else the operator name */
	const char *why;		/* the rule's condition, as choice_describe() wrote it */
	const char *next;		/* where the rule routes: a team, "pass", "fail" */
	char value[REVIEW_TEXT_MAX];
	char threshold[REVIEW_TEXT_MAX];	/* literal, or the ...Path as written */
	char baseline[REVIEW_TEXT_MAX];		/* "" when there is none */
	char change[64];			/* "+50 (+25%)", or "" */
};

struct review_tests {
	struct review_test *t;		/* the fired rules' tests, in rule order */
	size_t n;
};

/* Every test of every fired rule of `v`; `context` (may be NULL) holds
 * $$.Baseline / $$.Delta / $$.DeltaPct.  Strings borrow from v, which
 * must outlive *rt. */
void review_tests_build(struct review_tests *rt, const struct verdict *v,
			const cJSON *context);

void review_tests_release(struct review_tests *rt);

#endif
