/* choice_int.h - internals shared by choice.c, choice_eval.c, choice_text.c.
 *
 * Not a public API: only the three choice_*.c files include it.  A compiled
 * rule is a tree of struct choice_rule no deeper than CHOICE_MAX_DEPTH, so
 * every recursive walk over it is bounded.  A rule owns its children, its
 * strings and a copy of its literal operand; `node` is borrowed from the
 * gate's cJSON tree.
 */
#ifndef GREENLIGHT_CHOICE_INT_H
#define GREENLIGHT_CHOICE_INT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "choice.h"
#include "strmatch.h"
#include "timestamp.h"

enum op_family {
	FAM_STRING,	/* String{Equals,LessThan,...}[Path] */
	FAM_MATCH,	/* StringMatches */
	FAM_NUMERIC,
	FAM_BOOLEAN,
	FAM_TIMESTAMP,
	FAM_TYPE,	/* IsNull, IsPresent, ... */
};

enum op_cmp { CMP_EQ, CMP_LT, CMP_GT, CMP_LE, CMP_GE };

enum op_test {
	TEST_NULL, TEST_PRESENT, TEST_NUMERIC, TEST_STRING, TEST_BOOLEAN,
	TEST_TIMESTAMP,
};

struct choice_op {
	const char *name;	/* "NumericLessThan" */
	enum op_family fam;
	int sub;		/* enum op_cmp, or enum op_test for FAM_TYPE */
	int path;		/* 1: the operand is a reference path */
	const char *symbol;	/* "<", "matches", "is null" */
};

#define CHOICE_NOPS 39
extern const struct choice_op choice_ops[];	/* CHOICE_NOPS entries */
extern const size_t choice_nops;

/* The operator called `name` (case-sensitive), or NULL. */
const struct choice_op *choice_find_op(const char *name);

/* An operand as a comparison reads it. */
struct choice_val {
	const char *str;	/* FAM_STRING, borrowed from the cJSON node */
	double num;		/* FAM_NUMERIC */
	int boolean;		/* FAM_BOOLEAN and FAM_TYPE */
	struct timestamp ts;	/* FAM_TIMESTAMP */
};

/* 1 and *out filled when v has the type family `fam` compares (a string
 * that is a valid timestamp for FAM_TIMESTAMP, a boolean for FAM_TYPE),
 * else 0.  v may be NULL (then 0). */
int choice_extract(enum op_family fam, const cJSON *v, struct choice_val *out);

enum rule_kind { RULE_AND, RULE_OR, RULE_NOT, RULE_TEST };

struct choice_rule {
	enum rule_kind kind;
	char *where;			/* "choices[2].Or[1]" */
	const cJSON *node;		/* the rule object in the gate (borrowed) */
	char *next;			/* top-level rules only */
	struct choice_rule **kids;	/* And/Or: nkids >= 1; Not: 1 */
	size_t nkids;

	/* RULE_TEST */
	const struct choice_op *op;
	size_t var;			/* path id of Variable */
	char *var_text;			/* Variable as written */
	size_t arg;			/* path id of a ...Path operand */
	char *arg_text;			/* ...Path operand as written, or NULL */
	cJSON *operand;			/* literal operand (owned copy), or NULL */
	struct choice_val lit;		/* the literal, extracted */
	struct strpat pat;		/* StringMatches pattern */
};

#endif
