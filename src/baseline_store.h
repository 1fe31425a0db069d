/* baseline_store.h - where baseline documents live, and which ones count.
 *
 * Three stores (docs/baselines.md): "git-notes" (one note per commit on a
 * notes ref, read and written with libgit2; concurrent writers retry when
 * the ref moved), "dir:PATH" (PATH/<sha>.json, written atomically under
 * a lock), both holding per commit the note format of baseline.h, and
 * "relay" (documents kept by `greenlight relay` per tenant; the walk stays
 * here, baseline_relay.c looks the walked commits up in one call).
 */
#ifndef GREENLIGHT_BASELINE_STORE_H
#define GREENLIGHT_BASELINE_STORE_H

#include "baseline.h"
#include "gate.h"

#define BASELINE_WALK_MAX 1000	/* first-parent commits looked at, at most */
#define BASELINE_WRITE_TRIES 50	/* notes ref updates attempted */

/* The nearest gate.baseline.window recorded documents of gate g along the
 * first-parent history (docs/baselines.md, "Choosing the baseline"),
 * nearest first.  Returns 0 (*n may be 0: no baseline; a line on stderr
 * says why when that may be a checkout problem), or -1 after reporting an
 * error (no repository, base branch or history missing, if_missing
 * "error"). */
int baseline_find(const struct gate *g, struct baseline_doc **docs, size_t *n);

void baseline_docs_release(struct baseline_doc *docs, size_t n);

/* Record the values of the gate's input paths (values[i] for
 * g->choices.paths[i], NULL when missing) for HEAD, with `outcome` ("pass"
 * or "approved").  Replaces the gate's earlier entry for HEAD.  Prints
 * "baseline: recorded ..." on `log` (may be NULL).  Returns 0, or -1
 * reported. */
int baseline_record(const struct gate *g, const cJSON *const *values,
		    const char *outcome, FILE *log);

#endif
