/* json.h - strict JSON on top of cJSON: validation, positions, projection.
 *
 * cJSON is lenient (it accepts `01`, raw control characters, invalid UTF-8,
 * numbers it silently truncates) and keeps no positions.  Every JSON text
 * greenlight reads from outside first goes through the strict scanner here
 * (RFC 8259 plus the limits in docs/input.md), which reports errors as
 * line:col; only then is it handed to cJSON.
 *
 * Two ways in:
 *  - json_doc_parse(): small documents (gate files).  Validates, parses the
 *    whole text with cJSON, remembers where each node starts, and rejects
 *    duplicate keys anywhere.  json_doc_pos() maps a node back to line:col.
 *  - json_project(): large documents (results).  Validates everything but
 *    parses only the values at the given reference paths, so memory stays
 *    proportional to what the rules read, not to the file.
 */
#ifndef GREENLIGHT_JSON_H
#define GREENLIGHT_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "jsonpath.h"

#define JSON_MAX_DEPTH 512	/* deepest nesting accepted */
#define JSON_MAX_NUMBER 63	/* longest number token (cJSON's own limit) */

struct json_err {
	size_t offset;		/* byte offset of the problem */
	unsigned line, col;	/* 1-based; col counts bytes */
	char path[256];		/* JSON path of the problem when known, or "" */
	char msg[256];		/* what is wrong and how to fix it */
};

struct json_doc {
	const char *text;	/* borrowed; must outlive the doc */
	size_t len;
	cJSON *root;		/* owned */
	size_t *value_off;	/* pre-order start offset of every value */
	size_t *key_off;	/* offset of the member name, or (size_t)-1 */
	size_t nvalues;
};

/* Validate and parse `text`.  Returns 0, or -1 with *err filled and *doc
 * empty (nothing to release). */
int json_doc_parse(struct json_doc *doc, const char *text, size_t len,
		   struct json_err *err);

/* Free the tree and the position tables. */
void json_doc_release(struct json_doc *doc);

/* Position of `node` (its member name when `at_key` and it has one).
 * Returns 0, or -1 when the node is not part of the document. */
int json_doc_pos(const struct json_doc *doc, const cJSON *node, int at_key,
		 unsigned *line, unsigned *col);

/* Line and column of a byte offset in text. */
void json_offset_pos(const char *text, size_t len, size_t offset,
		     unsigned *line, unsigned *col);

/* Validate the whole of `text` and parse only the values the input paths
 * select: out[i] receives a new tree for paths[i] (caller frees with
 * cJSON_Delete), or NULL when the path is missing.  Paths whose root is
 * JPATH_CONTEXT are left NULL.  Duplicate keys are rejected wherever they
 * could change what a path selects.  Returns 0, or -1 with *err filled and
 * every out[i] NULL. */
int json_project(const char *text, size_t len, const struct jpath *paths,
		 size_t npaths, cJSON **out, struct json_err *err);

/* 0 when no object in the tree has two members of the same name, else -1
 * and *dup is the second member. */
/* The string member `key` of object o, or NULL when o is not an object or
 * the member is absent or not a string. */
const char *json_str(const cJSON *o, const char *key);

int json_check_duplicates(const cJSON *node, const cJSON **dup);

#endif
