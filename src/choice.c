/* choice.c - compile ASL Choice rules from a gate's cJSON tree (choice.h).
 *
 * Compilation checks everything that can be checked without results: the
 * shape of each rule, key names (case-sensitive), operand types, paths,
 * StringMatches patterns and timestamp literals.  Each error names the gate
 * node, its JSON path and a valid alternative.  The result is a tree of
 * choice_rule plus a table of distinct paths; evaluation lives in
 * choice_eval.c and rendering in choice_text.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "choice_int.h"
#include "util.h"

#define OP(name, fam, sub, path, sym) { name, fam, sub, path, sym }
#define CMP5(pre, fam, path, suf) \
	OP(pre "Equals" suf, fam, CMP_EQ, path, "=="), \
	OP(pre "LessThan" suf, fam, CMP_LT, path, "<"), \
	OP(pre "GreaterThan" suf, fam, CMP_GT, path, ">"), \
	OP(pre "LessThanEquals" suf, fam, CMP_LE, path, "<="), \
	OP(pre "GreaterThanEquals" suf, fam, CMP_GE, path, ">=")

const struct choice_op choice_ops[] = {
	CMP5("String", FAM_STRING, 0, ""),
	CMP5("String", FAM_STRING, 1, "Path"),
	OP("StringMatches", FAM_MATCH, CMP_EQ, 0, "matches"),
	CMP5("Numeric", FAM_NUMERIC, 0, ""),
	CMP5("Numeric", FAM_NUMERIC, 1, "Path"),
	OP("BooleanEquals", FAM_BOOLEAN, CMP_EQ, 0, "=="),
	OP("BooleanEqualsPath", FAM_BOOLEAN, CMP_EQ, 1, "=="),
	CMP5("Timestamp", FAM_TIMESTAMP, 0, ""),
	CMP5("Timestamp", FAM_TIMESTAMP, 1, "Path"),
	OP("IsNull", FAM_TYPE, TEST_NULL, 0, "is null"),
	OP("IsPresent", FAM_TYPE, TEST_PRESENT, 0, "is present"),
	OP("IsNumeric", FAM_TYPE, TEST_NUMERIC, 0, "is numeric"),
	OP("IsString", FAM_TYPE, TEST_STRING, 0, "is string"),
	OP("IsBoolean", FAM_TYPE, TEST_BOOLEAN, 0, "is boolean"),
	OP("IsTimestamp", FAM_TYPE, TEST_TIMESTAMP, 0, "is timestamp"),
};
const size_t choice_nops = CHOICE_NOPS;
_Static_assert(sizeof(choice_ops) / sizeof(choice_ops[0]) == CHOICE_NOPS,
	       "choice_ops must list every operator");

/* Keys a rule may have besides the comparison operators. */
static const char *const plain_keys[] = {
	"Variable", "Next", "Comment", "And", "Or", "Not",
};
#define NPLAIN (sizeof(plain_keys) / sizeof(plain_keys[0]))

struct compiler {
	struct choice_set *set;
	size_t pathalloc;
	struct choice_error *err;
};

/* The members of one rule object, sorted by role. */
struct keys {
	const cJSON *variable, *next, *comment;
	const cJSON *boolop;		/* the And, Or or Not member */
	const cJSON *operand;		/* the comparison operator member */
	const struct choice_op *op;
};

static int compile_rule(struct compiler *cc, const cJSON *node,
			const char *where, int depth, int top,
			struct choice_rule **slot);

const struct choice_op *choice_find_op(const char *name)
{
	size_t i;

	for (i = 0; i < choice_nops; i++)
		if (!strcmp(choice_ops[i].name, name))
			return &choice_ops[i];
	return NULL;
}

/* "choices[1]" + "Next" -> "choices[1].Next" (or ["odd key"]). */
static void where_key(char *dst, size_t size, const char *where,
		      const char *key)
{
	const char *k;

	for (k = key; *k && (isalnum((unsigned char)*k) || *k == '_'); k++)
		;
	if (*key && !*k)
		snprintf(dst, size, "%s.%s", where, key);
	else
		snprintf(dst, size, "%s[\"%.64s\"]", where, key);
}

static int cerr(struct compiler *cc, const cJSON *node, const char *where,
		const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Fill cc->err (key, when not NULL, is appended to where) and return -1. */
static int cerr(struct compiler *cc, const cJSON *node, const char *where,
		const char *key, const char *fmt, ...)
{
	struct choice_error *err = cc->err;
	va_list ap;

	err->node = node;
	if (key)
		where_key(err->where, sizeof(err->where), where, key);
	else
		strlcpy_gl(err->where, where, sizeof(err->where));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* "string \"96\"", "number 5", "array" - what a node is, for messages. */
static const char *got(char *dst, size_t size, const cJSON *v)
{
	char val[80];

	if (cJSON_IsArray(v) || cJSON_IsObject(v) || cJSON_IsNull(v))
		snprintf(dst, size, "%s", choice_type_name(v));
	else
		snprintf(dst, size, "%s %s", choice_type_name(v),
			 choice_format_value(val, sizeof(val), v));
	return dst;
}

static char *where_index(const char *where, const char *key, size_t i)
{
	size_t n = strlen(where) + strlen(key) + 32;
	char *w = xmalloc(n);

	snprintf(w, n, "%s.%s[%zu]", where, key, i);
	return w;
}

static size_t add_path(struct compiler *cc, struct jpath *p)
{
	struct choice_set *set = cc->set;
	size_t i;

	for (i = 0; i < set->npaths; i++) {
		if (jpath_equal(&set->paths[i], p)) {
			jpath_release(p);
			return i;
		}
	}
	if (set->npaths == cc->pathalloc) {
		cc->pathalloc = cc->pathalloc ? 2 * cc->pathalloc : 8;
		set->paths = xrealloc(set->paths,
				      cc->pathalloc * sizeof(*set->paths));
	}
	set->paths[set->npaths] = *p;
	return set->npaths++;
}

/* The valid key closest to `key` (a likely typo), or NULL. */
static const char *closest_key(const char *key)
{
	const char *cands[NPLAIN + CHOICE_NOPS];
	size_t i;

	for (i = 0; i < NPLAIN; i++)
		cands[i] = plain_keys[i];
	for (i = 0; i < CHOICE_NOPS; i++)
		cands[NPLAIN + i] = choice_ops[i].name;
	return suggest(key, cands, NPLAIN + CHOICE_NOPS);
}

static int unknown_key(struct compiler *cc, const cJSON *m, const char *where)
{
	const char *key = m->string, *s = closest_key(key);

	if (!strcmp(key, "StringMatchesPath"))
		return cerr(cc, m, where, key, "StringMatches has no Path form; "
			    "give the pattern as a literal string");
	if (s && choice_find_op(s))
		return cerr(cc, m, where, key, "unknown operator \"%.64s\"; did "
			    "you mean \"%s\"?", key, s);
	if (s)
		return cerr(cc, m, where, key, "unknown key \"%.64s\"; did you "
			    "mean \"%s\"?%s", key, s, strcasecmp(key, s) ? "" :
			    " (keys are case-sensitive)");
	return cerr(cc, m, where, key, "unknown key \"%.64s\"; a rule has "
		    "\"Variable\" and one operator (such as \"NumericLessThan\" "
		    "or \"StringEquals\"), or one of \"And\", \"Or\", \"Not\"; "
		    "top-level rules add \"Next\"; any rule may have \"Comment\" "
		    "(docs/rules.md lists the 39 operators)", key);
}

static int mixed(struct compiler *cc, const cJSON *m, const char *where,
		 const char *boolop, const char *op)
{
	return cerr(cc, m, where, m->string, "%s and %s in one rule; a rule is "
		    "either And/Or/Not or Variable with one operator: move the "
		    "%s test into a rule inside %s", boolop, op, op, boolop);
}

static int add_boolop(struct compiler *cc, const cJSON *m, const char *where,
		      struct keys *k)
{
	if (k->boolop)
		return cerr(cc, m, where, m->string, "%s and %s in one rule; "
			    "nest one inside the other", k->boolop->string,
			    m->string);
	if (k->op)
		return mixed(cc, m, where, m->string, k->op->name);
	k->boolop = m;
	return 0;
}

static int add_op(struct compiler *cc, const cJSON *m,
		  const struct choice_op *op, const char *where, struct keys *k)
{
	if (k->op)
		return cerr(cc, m, where, m->string, "two operators in one rule "
			    "(%s, %s); use And to combine them", k->op->name,
			    op->name);
	if (k->boolop)
		return mixed(cc, m, where, k->boolop->string, op->name);
	k->op = op;
	k->operand = m;
	return 0;
}

static int scan_key(struct compiler *cc, const cJSON *m, const char *where,
		    struct keys *k)
{
	const char *key = m->string ? m->string : "";
	const struct choice_op *op;
	const cJSON **slot = NULL;

	if (!strcmp(key, "Variable"))
		slot = &k->variable;
	else if (!strcmp(key, "Next"))
		slot = &k->next;
	else if (!strcmp(key, "Comment"))
		slot = &k->comment;
	if (slot && *slot)
		return cerr(cc, m, where, key, "\"%s\" appears twice in one "
			    "rule", key);
	if (slot) {
		*slot = m;
		return 0;
	}
	if (!strcmp(key, "And") || !strcmp(key, "Or") || !strcmp(key, "Not"))
		return add_boolop(cc, m, where, k);
	op = choice_find_op(key);
	if (op)
		return add_op(cc, m, op, where, k);
	return unknown_key(cc, m, where);
}

static int check_next(struct compiler *cc, struct choice_rule *r,
		      const struct keys *k, const char *where, int top)
{
	char g[128];

	if (!top && k->next)
		return cerr(cc, k->next, where, "Next", "Next is only allowed "
			    "on top-level rules; remove it from this nested "
			    "rule");
	if (!top)
		return 0;
	if (!k->next)
		return cerr(cc, r->node, where, NULL, "rule has no \"Next\"; "
			    "add one naming the outcome, e.g. \"Next\": "
			    "\"fail\"");
	if (!cJSON_IsString(k->next))
		return cerr(cc, k->next, where, "Next", "Next needs a string "
			    "naming the outcome, got %s", got(g, sizeof(g),
							      k->next));
	if (!*k->next->valuestring)
		return cerr(cc, k->next, where, "Next", "Next is empty; name "
			    "the outcome, e.g. \"fail\"");
	r->next = xstrdup(k->next->valuestring);
	return 0;
}

static int check_comment(struct compiler *cc, const struct keys *k,
			 const char *where)
{
	char g[128];

	if (k->comment && !cJSON_IsString(k->comment))
		return cerr(cc, k->comment, where, "Comment", "Comment needs a "
			    "string, got %s", got(g, sizeof(g), k->comment));
	return 0;
}

static int compile_list(struct compiler *cc, struct choice_rule *r,
			const cJSON *list, const char *where, int depth)
{
	const char *name = list->string;
	const cJSON *c;
	char g[128];
	size_t i = 0;

	r->kind = !strcmp(name, "And") ? RULE_AND : RULE_OR;
	if (!cJSON_IsArray(list) || !list->child)
		return cerr(cc, list, where, name, "%s needs a non-empty array "
			    "of rules, got %s%s", name,
			    cJSON_IsArray(list) ? "an empty " : "",
			    got(g, sizeof(g), list));
	r->nkids = (size_t)cJSON_GetArraySize(list);
	r->kids = xcalloc(r->nkids, sizeof(*r->kids));
	for (c = list->child; c && i < r->nkids; c = c->next, i++) {
		char *w = where_index(where, name, i);
		int ret = compile_rule(cc, c, w, depth + 1, 0, &r->kids[i]);

		free(w);
		if (ret)
			return -1;
	}
	return 0;
}

static int compile_not(struct compiler *cc, struct choice_rule *r,
		       const cJSON *rule, const char *where, int depth)
{
	size_t n = strlen(where) + 5;
	char g[128], *w;
	int ret;

	r->kind = RULE_NOT;
	if (!cJSON_IsObject(rule))
		return cerr(cc, rule, where, "Not", "Not needs one rule object, "
			    "got %s; to negate several rules write \"Not\": "
			    "{\"Or\": [...]}", got(g, sizeof(g), rule));
	r->nkids = 1;
	r->kids = xcalloc(1, sizeof(*r->kids));
	w = xmalloc(n);
	snprintf(w, n, "%s.Not", where);
	ret = compile_rule(cc, rule, w, depth + 1, 0, &r->kids[0]);
	free(w);
	return ret;
}

static int compile_bool(struct compiler *cc, struct choice_rule *r,
			const struct keys *k, const char *where, int depth)
{
	const char *name = k->boolop->string;

	if (k->variable)
		return cerr(cc, k->variable, where, "Variable", "a rule with %s "
			    "has no Variable; put Variable in the rules inside "
			    "%s", name, name);
	if (!strcmp(name, "Not"))
		return compile_not(cc, r, k->boolop, where, depth);
	return compile_list(cc, r, k->boolop, where, depth);
}

/* A reference path operand (Variable or ...Path) into the path table. */
static int compile_path(struct compiler *cc, const cJSON *m,
			const char *where, size_t *id, char **text)
{
	const char *key = m->string;
	char why[256], g[128];
	struct jpath p;

	if (!cJSON_IsString(m))
		return cerr(cc, m, where, key, "%s needs a reference path string "
			    "such as \"$.%s\", got %s", key,
			    strcmp(key, "Variable") ? "threshold" : "accuracypct",
			    got(g, sizeof(g), m));
	if (jpath_parse(&p, m->valuestring, why, sizeof(why)))
		return cerr(cc, m, where, key, "invalid path \"%.80s\" in %s: %s",
			    m->valuestring, key, why);
	*text = xstrdup(m->valuestring);
	*id = add_path(cc, &p);
	return 0;
}

/* What a literal operand of each family must be, for messages. */
static const char *wanted(enum op_family fam)
{
	switch (fam) {
	case FAM_STRING: return "a string";
	case FAM_MATCH: return "a pattern string such as \"release-*\"";
	case FAM_NUMERIC: return "a number";
	case FAM_BOOLEAN: return "true or false";
	case FAM_TIMESTAMP: return "a timestamp string such as "
				   "\"2016-03-14T01:59:00Z\"";
	case FAM_TYPE: return "true or false";
	}
	return "a value";
}

static const char *skip_digits(const char *s)
{
	while (isdigit((unsigned char)*s))
		s++;
	return s;
}

/* 1 when s is a JSON number written as a string, e.g. "96" or "-1.5e3". */
static int looks_numeric(const char *s)
{
	const char *p = s + (*s == '-');

	if (!isdigit((unsigned char)*p) ||
	    (*p == '0' && isdigit((unsigned char)p[1])))
		return 0;
	p = skip_digits(p);
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return 0;
		p = skip_digits(p + 1);
	}
	if (*p == 'e' || *p == 'E') {
		p += p[1] == '+' || p[1] == '-' ? 2 : 1;
		if (!isdigit((unsigned char)*p))
			return 0;
		p = skip_digits(p);
	}
	return *p == '\0';
}

/* Literal operand of the wrong JSON type: say what to write instead. */
static int wrong_type(struct compiler *cc, const cJSON *m, const char *where,
		      enum op_family fam)
{
	char g[128], hint[96] = "";
	const char *s = cJSON_IsString(m) ? m->valuestring : NULL;

	if (fam == FAM_NUMERIC && s && looks_numeric(s))
		snprintf(hint, sizeof(hint), "; write %.40s without quotes", s);
	else if ((fam == FAM_BOOLEAN || fam == FAM_TYPE) && s &&
		 (!strcmp(s, "true") || !strcmp(s, "false")))
		snprintf(hint, sizeof(hint), "; write %s without quotes", s);
	else if ((fam == FAM_STRING || fam == FAM_MATCH) &&
		 (cJSON_IsNumber(m) || cJSON_IsBool(m)))
		snprintf(hint, sizeof(hint), "; put it in quotes");
	return cerr(cc, m, where, m->string, "operator %s needs %s, got %s%s",
		    m->string, wanted(fam), got(g, sizeof(g), m), hint);
}

static int literal_has_type(enum op_family fam, const cJSON *m)
{
	switch (fam) {
	case FAM_NUMERIC: return cJSON_IsNumber(m);
	case FAM_BOOLEAN: case FAM_TYPE: return cJSON_IsBool(m);
	default: return cJSON_IsString(m);
	}
}

/* Family-specific checks of a literal of the right JSON type. */
static int check_literal(struct compiler *cc, struct choice_rule *r,
			 const cJSON *m, const char *where)
{
	char why[384];
	const char *tswhy = NULL;
	struct timestamp ts;

	if (r->op->fam == FAM_MATCH &&
	    strpat_compile(&r->pat, m->valuestring, why, sizeof(why)))
		return cerr(cc, m, where, m->string, "bad StringMatches pattern "
			    "\"%.60s\": %s", m->valuestring, why);
	if (r->op->fam == FAM_TIMESTAMP &&
	    ts_parse(&ts, m->valuestring, &tswhy))
		return cerr(cc, m, where, m->string, "operator %s needs an RFC "
			    "3339 timestamp such as \"2016-03-14T01:59:00Z\", "
			    "got \"%.60s\": %s", m->string, m->valuestring,
			    tswhy);
	return 0;
}

static int compile_literal(struct compiler *cc, struct choice_rule *r,
			   const cJSON *m, const char *where)
{
	if (!literal_has_type(r->op->fam, m))
		return wrong_type(cc, m, where, r->op->fam);
	if (check_literal(cc, r, m, where))
		return -1;
	r->operand = cJSON_Duplicate(m, 1);
	if (!r->operand)
		return cerr(cc, m, where, m->string, "out of memory");
	choice_extract(r->op->fam, r->operand, &r->lit);
	return 0;
}

static int no_operator(struct compiler *cc, const cJSON *node,
		       const struct keys *k, const char *where)
{
	if (k->variable)
		return cerr(cc, node, where, NULL, "rule has a Variable but no "
			    "operator; add one, e.g. \"NumericLessThan\": 96 or "
			    "\"IsPresent\": true");
	return cerr(cc, node, where, NULL, "empty rule; a rule has "
		    "\"Variable\" and one operator, or one of \"And\", \"Or\", "
		    "\"Not\"");
}

static int compile_test(struct compiler *cc, struct choice_rule *r,
			const struct keys *k, const char *where)
{
	if (!k->op)
		return no_operator(cc, r->node, k, where);
	if (!k->variable)
		return cerr(cc, r->node, where, NULL, "rule with %s has no "
			    "Variable; add \"Variable\": \"$.name\" naming the "
			    "value to test", k->op->name);
	r->kind = RULE_TEST;
	r->op = k->op;
	if (compile_path(cc, k->variable, where, &r->var, &r->var_text))
		return -1;
	if (r->op->path)
		return compile_path(cc, k->operand, where, &r->arg,
				    &r->arg_text);
	return compile_literal(cc, r, k->operand, where);
}

static int compile_rule(struct compiler *cc, const cJSON *node,
			const char *where, int depth, int top,
			struct choice_rule **slot)
{
	struct keys k = { 0 };
	struct choice_rule *r;
	const cJSON *m;
	char g[128];

	if (depth > CHOICE_MAX_DEPTH)
		return cerr(cc, node, where, NULL, "rules nested more than %d "
			    "levels deep; flatten them", CHOICE_MAX_DEPTH);
	if (!cJSON_IsObject(node))
		return cerr(cc, node, where, NULL, "a rule is a JSON object, "
			    "got %s", got(g, sizeof(g), node));
	r = *slot = xcalloc(1, sizeof(*r));
	r->where = xstrdup(where);
	r->node = node;
	for (m = node->child; m; m = m->next)
		if (scan_key(cc, m, where, &k))
			return -1;
	if (check_comment(cc, &k, where) || check_next(cc, r, &k, where, top))
		return -1;
	if (k.boolop)
		return compile_bool(cc, r, &k, where, depth);
	return compile_test(cc, r, &k, where);
}

static int compile_top(struct compiler *cc, const cJSON *rules,
		       const char *prefix)
{
	struct choice_set *set = cc->set;
	const cJSON *c;
	char g[128];
	size_t i = 0;

	if (!cJSON_IsArray(rules) || !rules->child)
		return cerr(cc, rules, prefix, NULL, "%s needs a non-empty "
			    "array of rules, got %s%s", prefix,
			    cJSON_IsArray(rules) ? "an empty " : "",
			    got(g, sizeof(g), rules));
	set->nrules = (size_t)cJSON_GetArraySize(rules);
	set->rules = xcalloc(set->nrules, sizeof(*set->rules));
	for (c = rules->child; c && i < set->nrules; c = c->next, i++) {
		char where[64 + 32];

		snprintf(where, sizeof(where), "%.64s[%zu]", prefix, i);
		if (compile_rule(cc, c, where, 1, 1, &set->rules[i]))
			return -1;
	}
	return 0;
}

int choice_compile(struct choice_set *set, const cJSON *rules,
		   const char *prefix, struct choice_error *err)
{
	struct compiler cc = { set, 0, err };
	int ret;

	memset(set, 0, sizeof(*set));
	memset(err, 0, sizeof(*err));
	ret = compile_top(&cc, rules, prefix ? prefix : "choices");
	if (ret)
		choice_release(set);
	return ret;
}

/* Recursion is bounded: compile_rule() builds no tree deeper than
 * CHOICE_MAX_DEPTH. */
static void rule_free(struct choice_rule *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nkids; i++)
		rule_free(r->kids[i]);
	free(r->kids);
	free(r->where);
	free(r->next);
	free(r->var_text);
	free(r->arg_text);
	cJSON_Delete(r->operand);
	strpat_release(&r->pat);
	free(r);
}

void choice_release(struct choice_set *set)
{
	size_t i;

	for (i = 0; i < set->nrules; i++)
		rule_free(set->rules[i]);
	free(set->rules);
	for (i = 0; i < set->npaths; i++)
		jpath_release(&set->paths[i]);
	free(set->paths);
	memset(set, 0, sizeof(*set));
}

const char *choice_next(const struct choice_set *set, size_t i)
{
	return set->rules[i]->next;
}

const cJSON *choice_node(const struct choice_set *set, size_t i)
{
	return set->rules[i]->node;
}
