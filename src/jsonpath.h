/* jsonpath.h - ASL reference paths: `$`, `.name`, `['name']`, `["name"]`, `[N]`.
 *
 * A reference path selects at most one node.  `$` is the input document and
 * `$$` the context object (the rest of the path applies to it).  Filters,
 * wildcards, slices, `..` and negative indexes are not reference paths and
 * are rejected by jpath_parse().  Pure: no I/O.
 */
#ifndef GREENLIGHT_JSONPATH_H
#define GREENLIGHT_JSONPATH_H

#include <stddef.h>
#include <cjson/cJSON.h>

enum jpath_root {
	JPATH_INPUT,	/* $  : the results document */
	JPATH_CONTEXT,	/* $$ : the context object (Git, Ci, Gate, ...) */
};

enum jseg_kind {
	JSEG_KEY,	/* .name or ['name']: member of an object */
	JSEG_INDEX,	/* [N]: element of an array */
};

/* Limits: longer paths or more steps are rejected by jpath_parse(). */
#define JPATH_MAX_LEN 1024		/* bytes of path text */
#define JPATH_MAX_SEGS 64		/* steps after the root */
#define JPATH_MAX_INDEX 2147483647UL	/* largest [N] */

struct jseg {
	enum jseg_kind kind;
	char *key;	/* JSEG_KEY: the member name, NUL-terminated, owned */
	size_t index;	/* JSEG_INDEX */
};

struct jpath {
	enum jpath_root root;
	size_t nseg;
	struct jseg *seg;	/* owned */
	char *text;		/* the path as written, owned */
};

/* Parse `text` into *p.  Returns 0, or -1 with a one-line explanation in
 * err (what is wrong and what a valid path looks like); *p is then empty
 * and needs no release. */
int jpath_parse(struct jpath *p, const char *text, char *err, size_t errsize);

/* Free the contents of *p. */
void jpath_release(struct jpath *p);

/* 1 when a and b select the same node (same root and segments), else 0. */
int jpath_equal(const struct jpath *a, const struct jpath *b);

/* The node `p` selects below `root` (p->root is ignored: the caller picks the
 * document), or NULL when the path is missing: a key on a non-object, an
 * index on a non-array (strings included), an index past the end, or a
 * missing key.  Key lookup is case-sensitive.  A JSON null is present. */
const cJSON *jpath_resolve(const struct jpath *p, const cJSON *root);

#endif
