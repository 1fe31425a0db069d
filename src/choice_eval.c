/* choice_eval.c - bind paths and evaluate compiled Choice rules (choice.h).
 *
 * Semantics are AWS Step Functions' (docs/rules.md): And/Or short-circuit
 * in order, Not passes errors through, a missing Variable is a runtime
 * error for every operator but IsPresent, a value of the wrong type makes a
 * comparison false.  A ...Path operand must resolve; when its target has the
 * wrong type, ...EqualsPath is false and the ordering operators raise an
 * error ("Invalid value provided at path", as recorded against AWS).
 * Recursion depth is bounded by CHOICE_MAX_DEPTH (see choice.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "choice_int.h"
#include "util.h"

struct evalctx {
	const cJSON *const *values;
	choice_leaf_fn fn;
	void *ud;
	struct choice_error *err;
};

int choice_extract(enum op_family fam, const cJSON *v, struct choice_val *out)
{
	switch (fam) {
	case FAM_STRING:
	case FAM_MATCH:
		if (!cJSON_IsString(v) || !v->valuestring)
			return 0;
		out->str = v->valuestring;
		return 1;
	case FAM_NUMERIC:
		if (!cJSON_IsNumber(v))
			return 0;
		out->num = v->valuedouble;
		return 1;
	case FAM_BOOLEAN:
	case FAM_TYPE:
		if (!cJSON_IsBool(v))
			return 0;
		out->boolean = cJSON_IsTrue(v) ? 1 : 0;
		return 1;
	case FAM_TIMESTAMP:
		return cJSON_IsString(v) && v->valuestring &&
		       !ts_parse(&out->ts, v->valuestring, NULL);
	}
	return 0;
}

void choice_bind_tree(const struct choice_set *set, const cJSON *input,
		      const cJSON *context, const cJSON **values)
{
	size_t i;

	for (i = 0; i < set->npaths; i++) {
		const struct jpath *p = &set->paths[i];
		const cJSON *root = p->root == JPATH_CONTEXT ? context : input;

		values[i] = root ? jpath_resolve(p, root) : NULL;
	}
}

static int rerr(struct evalctx *ec, const struct choice_rule *r,
		const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Fill a runtime error for rule r about `path`; returns -1. */
static int rerr(struct evalctx *ec, const struct choice_rule *r,
		const char *path, const char *fmt, ...)
{
	struct choice_error *err = ec->err;
	va_list ap;

	if (!err)
		return -1;
	err->node = r->node;
	strlcpy_gl(err->where, r->where, sizeof(err->where));
	strlcpy_gl(err->path, path, sizeof(err->path));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* A path the rule reads is missing; `op` names the ...Path operator when
 * the path is its operand, else NULL (the Variable). */
static int missing(struct evalctx *ec, const struct choice_rule *r,
		   const char *path, const char *op)
{
	int ctx = path[1] == '$';

	return rerr(ec, r, path, "path %.200s%s%s%s is not in the %s "
		    "(States.Runtime); %sguard the rule with \"IsPresent\": "
		    "true", path, op ? " (operand of " : "", op ? op : "",
		    op ? ")" : "", ctx ? "context" : "results",
		    ctx ? "" : "report the metric or ");
}

/* Three-way comparison of two extracted values of family fam. */
static int compare(enum op_family fam, const struct choice_val *a,
		   const struct choice_val *b)
{
	switch (fam) {
	case FAM_STRING:
	case FAM_MATCH:
		return str_cmp16(a->str, b->str);
	case FAM_NUMERIC:
		return a->num < b->num ? -1 : a->num > b->num ? 1 : 0;
	case FAM_BOOLEAN:
	case FAM_TYPE:
		return a->boolean != b->boolean;
	case FAM_TIMESTAMP:
		return ts_cmp(&a->ts, &b->ts);
	}
	return 0;
}

static int holds(enum op_cmp cmp, int c)
{
	switch (cmp) {
	case CMP_EQ: return c == 0;
	case CMP_LT: return c < 0;
	case CMP_GT: return c > 0;
	case CMP_LE: return c <= 0;
	case CMP_GE: return c >= 0;
	}
	return 0;
}

static int type_test(enum op_test t, const cJSON *v)
{
	struct choice_val tmp;

	switch (t) {
	case TEST_NULL: return cJSON_IsNull(v);
	case TEST_PRESENT: return v != NULL;
	case TEST_NUMERIC: return cJSON_IsNumber(v);
	case TEST_STRING: return cJSON_IsString(v);
	case TEST_BOOLEAN: return cJSON_IsBool(v);
	case TEST_TIMESTAMP: return choice_extract(FAM_TIMESTAMP, v, &tmp);
	}
	return 0;
}

/* The operand of r: its literal, or the bound target of its ...Path.
 * Returns 1 with *out filled, 0 when the target has the wrong type and the
 * operator is an equality (false), -1 for an ordering operator (error). */
static int operand(struct evalctx *ec, const struct choice_rule *r,
		   const cJSON *target, struct choice_val *out)
{
	char val[80];

	if (!r->op->path) {
		*out = r->lit;
		return 1;
	}
	if (choice_extract(r->op->fam, target, out))
		return 1;
	if (r->op->sub == CMP_EQ)
		return 0;
	return rerr(ec, r, r->arg_text, "Invalid value provided at path "
		    "%.200s (States.Runtime): %s needs a %s there, got %s %s",
		    r->arg_text, r->op->name,
		    r->op->fam == FAM_NUMERIC ? "number" :
		    r->op->fam == FAM_TIMESTAMP ? "timestamp string" : "string",
		    choice_type_name(target),
		    choice_format_value(val, sizeof(val), target));
}

/* 1, 0, or -1 (error) for a data test whose Variable is bound to v. */
static int test_value(struct evalctx *ec, const struct choice_rule *r,
		      const cJSON *v, const cJSON *target)
{
	struct choice_val x, y;
	int ok;

	if (r->op->fam == FAM_TYPE)
		return type_test((enum op_test)r->op->sub, v) ==
		       r->lit.boolean;
	if (r->op->fam == FAM_MATCH)
		return cJSON_IsString(v) && strpat_match(&r->pat,
							 v->valuestring);
	ok = operand(ec, r, target, &y);
	if (ok <= 0)
		return ok;
	if (!choice_extract(r->op->fam, v, &x))
		return 0;
	return holds((enum op_cmp)r->op->sub, compare(r->op->fam, &x, &y));
}

static int eval_test(struct evalctx *ec, const struct choice_rule *r)
{
	const cJSON *v = ec->values[r->var], *target = NULL;
	int res;

	if (!v && !(r->op->fam == FAM_TYPE && r->op->sub == TEST_PRESENT))
		return missing(ec, r, r->var_text, NULL);
	if (r->op->path) {
		target = ec->values[r->arg];
		if (!target)
			return missing(ec, r, r->arg_text, r->op->name);
	}
	res = test_value(ec, r, v, target);
	if (res >= 0 && ec->fn) {
		struct choice_leaf leaf = {
			r->where, r->var_text, r->op->name, r->operand,
			r->arg_text, target, v, res,
		};

		ec->fn(ec->ud, &leaf);
	}
	return res;
}

/* Recursion is bounded by the compiled depth (<= CHOICE_MAX_DEPTH). */
static int eval_rule(struct evalctx *ec, const struct choice_rule *r)
{
	size_t i;
	int v;

	switch (r->kind) {
	case RULE_AND:
		for (i = 0; i < r->nkids; i++) {
			v = eval_rule(ec, r->kids[i]);
			if (v != 1)
				return v;
		}
		return 1;
	case RULE_OR:
		for (i = 0; i < r->nkids; i++) {
			v = eval_rule(ec, r->kids[i]);
			if (v != 0)
				return v;
		}
		return 0;
	case RULE_NOT:
		v = eval_rule(ec, r->kids[0]);
		return v < 0 ? v : !v;
	case RULE_TEST:
		return eval_test(ec, r);
	}
	return -1;
}

int choice_eval(const struct choice_set *set, size_t i,
		const cJSON *const *values, choice_leaf_fn fn, void *ud,
		struct choice_error *err)
{
	struct evalctx ec = { values, fn, ud, err };

	if (err)
		memset(err, 0, sizeof(*err));
	return eval_rule(&ec, set->rules[i]);
}
