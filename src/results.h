/* results.h - the build's results document, bounded and strictly parsed.
 *
 * results_load() reads a results file (or stdin), validates all of it as
 * strict JSON and keeps only the values the gate's rules read: one small
 * cJSON tree per input path.  The file itself is released before returning,
 * so memory stays proportional to what the rules read.  `$$` paths are bound
 * against the context object the caller passes.
 */
#ifndef GREENLIGHT_RESULTS_H
#define GREENLIGHT_RESULTS_H

#include <stdint.h>
#include "choice.h"

#define RESULTS_DEFAULT_MAX ((uint64_t)64 << 20)	/* 64 MiB */

struct results {
	char *file;		/* "-" for stdin */
	size_t n;		/* = set->npaths */
	cJSON **owned;		/* projected input values, per path id */
	const cJSON **values;	/* bound values per path id, NULL = missing */
};

/* Load `path` (at most `max` bytes) and bind every path of `set`.
 * Returns 0, or -1 after reporting one error ("file:line:col: ..."); *r is
 * then empty. */
int results_load(struct results *r, const char *path, uint64_t max,
		 const struct choice_set *set, const cJSON *context);

/* The same for a document in memory (`name` is used in messages); the
 * text may be freed as soon as this returns. */
int results_bind(struct results *r, const char *name, const char *text,
		 size_t len, const struct choice_set *set, const cJSON *context);

void results_release(struct results *r);

#endif
