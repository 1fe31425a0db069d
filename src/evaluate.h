/* evaluate.h - the shared front half of `check` and `run`.
 *
 * Resolves the gate and results locations (flag > GREENLIGHT_* environment
 * > gate file > default), loads both, builds the context object and
 * computes the verdict.  Every failure is reported on stderr before
 * returning.
 */
#ifndef GREENLIGHT_EVALUATE_H
#define GREENLIGHT_EVALUATE_H

#include <stdint.h>
#include "gate.h"
#include "report.h"
#include "results.h"
#include "verdict.h"

struct eval_opts {
	const char *gate;	/* -g, or NULL */
	const char *results;	/* -r, or NULL */
	uint64_t max_results;	/* 0: GREENLIGHT_MAX_RESULTS_BYTES or 64 MiB */
};

struct evaluation {
	struct gate gate;
	cJSON *context;
	char *results_file;
	struct results results;
	struct verdict verdict;
	size_t baseline_commits;	/* recorded commits aggregated */
};

/* --max-results-bytes ARG into o->max_results.  Returns 0, or -1 after
 * saying how to write a size. */
int eval_opts_max_results(struct eval_opts *o, const char *arg);

/* Returns 0 with *e filled, or -1 (bad input, reported) with *e empty. */
int evaluate(struct evaluation *e, const struct eval_opts *o);

void evaluation_release(struct evaluation *e);

/* The gate path to use when no -g was given. */
const char *default_gate_path(void);

/* Build the context object ($$) for a gate: $$.Gate.Name, $$.Ci (the CI
 * provider's facts, see ci_info_json()), and $$.Git
 * (Commit, Branch, Author, AuthorEmail, Subject, Repository) from the
 * repository around the working directory when a rule reads $$.Git. */
cJSON *context_build(const struct gate *g);

/* Whether a rule reads $$.Baseline, $$.Delta or $$.DeltaPct; evaluate()
 * then adds them to the context (docs/baselines.md). */
int gate_reads_baseline(const struct gate *g);

/* The baselines the verdict was judged against, for report_text() and
 * report_json(): *rb filled and returned, or NULL when the gate reads no
 * baseline. */
const struct report_baseline *evaluation_baseline(const struct evaluation *e,
						  struct report_baseline *rb);

#endif
