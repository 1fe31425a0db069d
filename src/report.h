/* report.h - what a gate decided, for people (text) and machines (JSON).
 *
 * Pure formatting: the caller opens files and supplies the clock.  The JSON
 * form is the decision record (decision.json); its fields are documented in
 * docs/decision-record.md.
 */
#ifndef GREENLIGHT_REPORT_H
#define GREENLIGHT_REPORT_H

#include <stdio.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "gate.h"
#include "verdict.h"

/* Compact JSON text of a value for tables and messages, at most `max` bytes
 * (longer values end in "..."); "(missing)" for NULL.  Control and bidi
 * characters are \u escapes (utf8_escape), so the text stays JSON and is
 * safe on a terminal.  Writes into out. */
void report_value(const cJSON *v, char *out, size_t max);

/* The baselines a verdict was judged against (docs/baselines.md): the
 * context holding $$.Baseline / $$.Delta / $$.DeltaPct, and how many
 * recorded commits were aggregated.  Pass NULL when the gate does not
 * read baselines. */
struct report_baseline {
	const cJSON *context;
	size_t commits;
};

/* The rule table and the outcome, as `greenlight check` prints them, with
 * every cell escaped by utf8_escape.  With `b`, the table has a BASELINE
 * and a CHANGE column. */
void report_text(FILE *out, const struct gate *g, const char *results,
		 const struct verdict *v, const struct report_baseline *b);

/* The decision record as a new cJSON object (caller deletes).  With `b`,
 * each test that has a baseline carries it, and the record says how many
 * commits it came from. */
cJSON *report_json(const struct gate *g, const char *results,
		   const struct verdict *v, time_t now, const struct report_baseline *b);

#endif
