/* choice.h - Amazon States Language Choice rules: compile, evaluate, explain.
 *
 * Pure: no I/O, no clocks.  The semantics are AWS Step Functions' (see
 * docs/rules.md).  A compiled choice_set owns every rule and a table of the
 * distinct reference paths the rules read (`paths`).  Evaluation does not
 * resolve paths itself: the caller binds each path id to a value
 * (values[id], NULL when the path is missing) - from a full cJSON tree with
 * choice_bind_tree(), or from a streaming projection of a large results file.
 *
 * Compile errors point at the offending gate node (err->node, for line:col)
 * and name it by JSON path (err->where, e.g. "choices[1].And[0]").  Runtime
 * errors (what AWS raises as States.Runtime) name the rule and the path.
 */
#ifndef GREENLIGHT_CHOICE_H
#define GREENLIGHT_CHOICE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "jsonpath.h"

#define CHOICE_MAX_DEPTH 64		/* deepest rule nesting (top level is 1) */
#define CHOICE_DESCRIBE_MAX 1024	/* longest choice_describe() text */

struct choice_rule;	/* opaque */

struct choice_set {
	struct choice_rule **rules;	/* top-level rules, in order */
	size_t nrules;
	struct jpath *paths;	/* distinct paths; a path id indexes this */
	size_t npaths;
};

struct choice_error {
	const cJSON *node;	/* the gate node at fault (compile) or the
				 * rule (runtime), or NULL */
	char where[256];	/* "choices[1].And[0]" (compile: may name a key) */
	char path[256];		/* runtime errors: the reference path involved */
	char msg[512];		/* "what is wrong; what would be valid" */
};

/* One data test as it was evaluated, handed to a choice_leaf_fn. */
struct choice_leaf {
	const char *where;		/* "choices[0]" or "choices[2].Or[1]" */
	const char *variable;		/* the Variable path as written */
	const char *op;			/* operator name, e.g. "NumericLessThan" */
	const cJSON *operand;		/* literal operand; NULL for ...Path */
	const char *operand_path;	/* ...Path operand as written, else NULL */
	const cJSON *operand_value;	/* its bound value (NULL if missing) */
	const cJSON *value;		/* bound Variable value, NULL if missing */
	int result;			/* 1 true, 0 false */
};

typedef void (*choice_leaf_fn)(void *ud, const struct choice_leaf *leaf);

/* Compile a JSON array of Choice rules (the gate's "choices", `prefix` names
 * it in messages, e.g. "choices").  Each top-level rule must have a string
 * "Next"; nested rules must not.  Literal operands of the wrong JSON type,
 * unknown keys, unknown operators, two operators in one rule, invalid paths,
 * bad StringMatches patterns and bad timestamps are compile errors.
 * The set borrows `rules`: choice_node() and error nodes point into it, so
 * keep it alive while the set is used; literal operands are copied (a
 * choice_leaf's operand lives as long as the set).
 * Returns 0, or -1 with *err filled and *set left empty. */
int choice_compile(struct choice_set *set, const cJSON *rules,
		   const char *prefix, struct choice_error *err);

/* Free everything the set owns; the set is then empty. */
void choice_release(struct choice_set *set);

/* The `Next` of top-level rule i (not NULL). */
const char *choice_next(const struct choice_set *set, size_t i);

/* The gate node of top-level rule i (for positions in messages). */
const cJSON *choice_node(const struct choice_set *set, size_t i);

/* A short human rendering of top-level rule i, such as
 * `$.accuracypct < 96` or `And($.a >= 1, Not($.b == "x"))`.
 * Returns a malloc'd string the caller frees. */
char *choice_describe(const struct choice_set *set, size_t i);

/* Bind every path of the set to its node: values[id] for id < npaths, input
 * paths against `input`, `$$` paths against `context` (which may be NULL:
 * then every context path is missing). */
void choice_bind_tree(const struct choice_set *set, const cJSON *input,
		      const cJSON *context, const cJSON **values);

/* Evaluate top-level rule i against bound values.  Children are evaluated in
 * order with short-circuit, like AWS; each data test actually evaluated is
 * reported to fn (may be NULL).  Returns 1 when the rule matches, 0 when it
 * does not, -1 on a runtime error (*err filled: where, path, msg). */
int choice_eval(const struct choice_set *set, size_t i,
		const cJSON *const *values, choice_leaf_fn fn, void *ud,
		struct choice_error *err);

/* The short symbol reports show for operator `op` (a name such as
 * "NumericLessThan" or "NumericLessThanPath"): "==", "<", ">", "<=", ">=",
 * "matches", or for the type tests "is null", "is present", "is numeric",
 * "is string", "is boolean", "is timestamp" (the form for an operand of
 * true).  Returns NULL when op is not one of the 39 operators. */
const char *choice_op_symbol(const char *op);

/* The JSON type of v for messages: "string", "number", "boolean", "null",
 * "array", "object", or "missing" when v is NULL.  Never NULL. */
const char *choice_type_name(const cJSON *v);

/* Render v compactly into dst for messages: numbers in their shortest
 * round-trip form (96, 0.1, 1e+21), strings JSON-quoted, `[...]`/`{...}`
 * for non-empty containers, "missing" for NULL.  Output longer than size-1
 * is cut and ends in "...".  Returns dst (NUL-terminated when size > 0). */
char *choice_format_value(char *dst, size_t size, const cJSON *v);

#endif
