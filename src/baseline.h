/* baseline.h - baseline documents: what a gate recorded for a commit, and
 * how several of them are aggregated into one baseline.  Pure: no I/O.
 *
 * A note (git-notes store) or a file PATH/<sha>.json (dir store) holds one
 * JSON object keyed by gate name, each member a baseline document:
 *
 *   {"model-release": {"version": 1, "gate": "model-release",
 *     "commit": "<40 hex>", "recorded": "2026-01-02T03:04:05Z",
 *     "outcome": "pass" | "approved", "run_url": "https://..." | null,
 *     "values": {"$.latencyMs": 225, "$['p(95)']": 0.4}}}
 *
 * Notes come from a repository anyone with push access can write to, so the
 * parser is strict and bounded: every malformed input is refused with one
 * reason (docs/baselines.md, "The document").
 */
#ifndef GREENLIGHT_BASELINE_H
#define GREENLIGHT_BASELINE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define BASELINE_NOTE_MAX_BYTES (256 * 1024)	/* a whole note or file */
#define BASELINE_MAX_GATES 64			/* gates sharing one commit */
#define BASELINE_MAX_VALUES 256			/* values per document */
#define BASELINE_MAX_STRING 2048		/* any string in a document */
#define BASELINE_MAX_DEPTH 8			/* nesting of one value */

enum baseline_agg { AGG_MEDIAN, AGG_MEAN, AGG_LAST, AGG_MIN, AGG_MAX };

struct baseline_doc {
	char *gate;
	char *commit;		/* 40 lowercase hex */
	char *recorded;		/* RFC 3339 */
	char *outcome;		/* "pass" or "approved" */
	char *run_url;		/* or NULL */
	cJSON *values;		/* object: path as written -> value; owned */
};

/* Parse a note: the object keyed by gate name.  When it has a member for
 * `gate`, *doc receives it and *found is 1; otherwise *found is 0.  Every
 * member is validated, not only `gate`'s.  Returns 0, or -1 with a one-line
 * reason in err (then *doc is empty). */
int baseline_note_parse(const char *text, size_t len, const char *gate,
			struct baseline_doc *doc, int *found,
			char *err, size_t errsize);

/* Validate one document (a member of a note) named `gate`. */
int baseline_doc_from_json(struct baseline_doc *doc, const cJSON *obj,
			   const char *gate, char *err, size_t errsize);

/* The document as JSON (new object). */
cJSON *baseline_doc_json(const struct baseline_doc *doc);

/* `note` (NULL/empty: none yet) with `doc` put in under its gate name,
 * replacing that gate's earlier entry; a new string.  A note that does not
 * parse is replaced whole (reason in err, which is "" otherwise). */
char *baseline_note_merge(const char *note, size_t len,
			  const struct baseline_doc *doc,
			  char *err, size_t errsize);

void baseline_doc_release(struct baseline_doc *doc);

/* "median", "mean", "last", "min", "max" -> *out; -1 when unknown. */
const char *baseline_agg_name(enum baseline_agg agg);
int baseline_agg_parse(const char *s, enum baseline_agg *out);

/* Aggregate n numbers (v[0] is the nearest commit's; v is reordered). */
double baseline_aggregate_numbers(double *v, size_t n, enum baseline_agg agg);

/* The baseline value of `path` over docs[0..n) (nearest first): the
 * aggregate when every recorded value is a number, else the nearest
 * document's value.  NULL when no document has the path.  New item. */
cJSON *baseline_aggregate(const struct baseline_doc *docs, size_t n,
			  const char *path, enum baseline_agg agg);

/* Add $$.Baseline, $$.Delta and $$.DeltaPct to `context` for input paths
 * paths[0..n): `current[i]` is the current value (or NULL), `base[i]` the
 * baseline value (or NULL: the path stays absent everywhere).  Delta and
 * DeltaPct only for two numbers; DeltaPct not for a zero baseline.  The
 * objects mirror the results' shape: $.a.b -> Baseline.a.b. */
struct jpath;
void baseline_context(cJSON *context, const struct jpath *paths, size_t n,
		      const cJSON *const *current, const cJSON *const *base);

/* Every rule path $$.Baseline.X, $$.Delta.X or $$.DeltaPct.X reads the
 * results path $.X too: add it to the set's paths (when not there) so it
 * is loaded, recorded and compared.  X is kept as written. */
struct choice_set;
void baseline_add_paths(struct choice_set *set);

/* What is shown next to a value a rule read: the baseline of its results
 * path and the change, borrowed from the context (NULL when absent). */
struct baseline_view {
	char input[96];		/* "$.X" as written (cut to fit) */
	const cJSON *baseline;	/* $$.Baseline.X */
	const cJSON *delta;	/* $$.Delta.X */
	const cJSON *pct;	/* $$.DeltaPct.X */
};

/* The view for a rule's Variable `variable` as written: $.X, or one of
 * $$.Baseline.X, $$.Delta.X, $$.DeltaPct.X (all about $.X).  Returns 1
 * when $.X has a baseline in `context`, else 0 (*v all NULL; also for
 * any other path and for a NULL context). */
int baseline_view_of(const cJSON *context, const char *variable, struct baseline_view *v);

/* The change as text: "+20 (+9.8%)", "-3.5 (-12%)", "+20" (zero baseline:
 * no percentage), "" (no delta).  Returns out. */
char *baseline_view_change(const struct baseline_view *v, char *out, size_t size);

#endif
