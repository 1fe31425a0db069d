/* ci_report.h - what CI systems read from a decision: JUnit XML, a GitHub
 * step summary (Markdown), GitHub outputs and annotations, a dotenv file.
 *
 * Pure: every writer takes the decision record (docs/decision-record.md)
 * and appends text to the caller's bounded buf; no files, environment,
 * randomness or clock.  Every value taken from the record is escaped for
 * its destination (XML, Markdown + HTML, workflow-command percent-encoding,
 * single-line dotenv), with control and bidi characters shown as \uXXXX.  A writer returns 0, or a negative buf_status after
 * which the buffer is empty (buf.h: never half a document).
 */
#ifndef GREENLIGHT_CI_REPORT_H
#define GREENLIGHT_CI_REPORT_H

#include <cjson/cJSON.h>
#include "buf.h"

/* The values every CI output carries, in this order. */
enum ci_value_id {
	CI_OUTCOME,		/* pass fail review approved rejected timed_out pending */
	CI_EXIT_CODE,		/* "0".."5" */
	CI_GATE,		/* the gate's name */
	CI_TEAMS,		/* teams asked to review, comma-separated */
	CI_APPROVERS,		/* addresses that approved, comma-separated */
	CI_REQUEST_ID,		/* review request id, or "" */
	CI_DECISION_FILE,	/* where the decision record was written, or "" */
	CI_NVALUES
};

/* Baselines of fired rules (docs/ci/README.md, "Baseline variables"): for
 * each results path $.X that a fired rule's test read (directly or through
 * $$.Baseline.X, $$.Delta.X, $$.DeltaPct.X) and whose record entry has a
 * baseline, the baseline, delta and delta_pct as JSON number text ("" when
 * not a number).  `key` is the path mangled by ci_baseline_key().  At most
 * CI_BASELINE_VARS paths, in rule order; a path whose names would repeat
 * an earlier path's is left out (first wins). */
#define CI_BASELINE_VARS 20
#define CI_BASELINE_KEY_MAX 64	/* bytes of a mangled path */
#define CI_NUMBER_MAX 32	/* bytes of a number's text with the NUL */

struct ci_baseline_var {
	char key[CI_BASELINE_KEY_MAX + 1];	/* "LATENCYMS" */
	char value[CI_NUMBER_MAX];		/* "200" or "" */
	char delta[CI_NUMBER_MAX];		/* "50" or "" */
	char pct[CI_NUMBER_MAX];		/* "25" or "" */
};

struct ci_values {
	char *v[CI_NVALUES];	/* never NULL after ci_values_init; may be "" */
	struct ci_baseline_var base[CI_BASELINE_VARS];
	size_t nbase;
};

/* The results path a test's Variable reads: `variable` itself when it is
 * $.X, $.X for $$.Baseline.X, $$.Delta.X and $$.DeltaPct.X; "" otherwise.
 * Written into out (cut to size). */
void ci_input_path(const char *variable, char *out, size_t size);

/* A results path as a variable-name part: upper case, every run of
 * characters other than ASCII letters and digits as one '_', no '_' at
 * either end, at most CI_BASELINE_KEY_MAX bytes: "$.latencyMs" ->
 * "LATENCYMS", "$['p(95)'].ms" -> "P_95_MS".  "" when nothing is left. */
void ci_baseline_key(const char *path, char *out, size_t size);

/* Name as a GitHub output ("outcome", "exit-code", "request-id", ...) and as
 * a dotenv variable ("GREENLIGHT_OUTCOME", ...). */
const char *ci_value_output_name(enum ci_value_id id);
const char *ci_value_env_name(enum ci_value_id id);

/* Read the values from a record; decision_file may be NULL.  Missing
 * members become "".  Also fills the baseline variables.  Cannot fail
 * (allocation failure aborts). */
void ci_values_init(struct ci_values *cv, const cJSON *record, const char *decision_file);
void ci_values_release(struct ci_values *cv);

/* JUnit XML: one testsuite for the gate, one testcase per top-level rule
 * (named "choices[N] <condition>") and one named "default".  A testcase
 * fails when its rule decided against the release: a fired `fail` rule, or
 * a fired team rule whose review was rejected, timed out or is undecided.
 * Rules that were not evaluated (match: first) and an unused default are
 * skipped. */
int ci_junit(struct buf *b, const cJSON *record);

/* A Markdown section: heading with the outcome, a table of rules (rule,
 * condition, values read, thresholds, fired, next), teams, approvers and
 * the reviewers' decisions.  Rows beyond max_rules are summarised.  When
 * the record has a top-level "baseline", the table has a baseline and a
 * change column after the values, and a line says how many recorded
 * commits were aggregated and how. */
int ci_markdown(struct buf *b, const cJSON *record, const struct ci_values *cv,
		size_t max_rules);

/* Lines for $GITHUB_OUTPUT, every value in the heredoc form
 * `name<<DELIM` LF value LF `DELIM` LF; then the baseline variables as
 * baseline-K, delta-K, delta-pct-K (K: the key in lower case, '_' as '-').
 * Returns 1 (buffer untouched) if DELIM occurs in a value or is unsafe;
 * the caller picks another. */
int ci_github_output(struct buf *b, const struct ci_values *cv, const char *delim);

/* One workflow-command line: ::notice:: for exit 0, ::warning:: for a
 * review still undecided (5), ::error:: otherwise; file= names the gate
 * file.  Escaped per the workflow-command rules. */
int ci_annotation(struct buf *b, const cJSON *record, const struct ci_values *cv);

/* KEY=value lines for GitLab's artifacts:reports:dotenv: no quotes, no
 * empty lines, line breaks and tabs replaced by spaces, other controls and
 * bidi characters as \u escapes, values trimmed and capped at
 * CI_DOTENV_VALUE_MAX bytes (whole UTF-8 sequences).  After the fixed
 * values, the baseline variables GREENLIGHT_BASELINE_K,
 * GREENLIGHT_DELTA_K and GREENLIGHT_DELTA_PCT_K. */
#define CI_DOTENV_VALUE_MAX 512
int ci_dotenv(struct buf *b, const struct ci_values *cv);

/* Escapers, exposed for tests.  Each first shows control and bidi
 * characters as \u escapes (utf8_escape) except those the destination
 * has its own form for.  xml: &<>"' as entities, TAB/LF/CR kept.  md: one
 * table cell; HTML and Markdown metacharacters as numeric entities, line
 * breaks as spaces.  cmd: %, CR, LF percent-encoded, and with `property`
 * also ':' and ','. */
int ci_xml_escape(struct buf *b, const char *s);
int ci_md_escape(struct buf *b, const char *s);
int ci_cmd_escape(struct buf *b, const char *s, int property);

#endif
