/* choice_text.c - human renderings of rules and values (choice.h).
 *
 * Everything here writes into a bounded output that, once full, ends in
 * "..." cut at a UTF-8 character boundary, so a rule or value of any size
 * yields a short line.  Numbers print in their shortest round-trip form so
 * 96 reads as 96, not 96.000000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "choice_int.h"
#include "util.h"

struct out {
	char *s;	/* cap + 1 bytes, always NUL-terminated */
	size_t len;
	size_t cap;
	int full;	/* cut: nothing more is appended */
};

/* Length of s[0..len) without a trailing incomplete UTF-8 sequence. */
static size_t utf8_trim(const char *s, size_t len)
{
	size_t i = len, need;
	unsigned char lead;

	while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return len;
	lead = (unsigned char)s[i - 1];
	if (lead < 0xC0)
		return len;
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	return len - (i - 1) < need ? i - 1 : len;
}

static void put(struct out *o, const char *s, size_t n)
{
	size_t keep = o->cap >= 3 ? o->cap - 3 : o->cap;

	if (o->full)
		return;
	if (n <= o->cap - o->len) {
		memcpy(o->s + o->len, s, n);
		o->len += n;
		o->s[o->len] = '\0';
		return;
	}
	if (o->len < keep) {
		memcpy(o->s + o->len, s, keep - o->len);
		o->len = keep;
	}
	o->len = utf8_trim(o->s, keep < o->len ? keep : o->len);
	if (o->cap >= 3) {
		memcpy(o->s + o->len, "...", 3);
		o->len += 3;
	}
	o->s[o->len] = '\0';
	o->full = 1;
}

static void puts_out(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_number(struct out *o, double d)
{
	char buf[40];
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	puts_out(o, buf);
}

/* s as a JSON string literal. */
static void put_quoted(struct out *o, const char *s)
{
	const char *run = s;
	char esc[8];

	put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(o, run, (size_t)(s - run));
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		puts_out(o, esc);
		run = s + 1;
	}
	put(o, run, (size_t)(s - run));
	put(o, "\"", 1);
}

static void put_value(struct out *o, const cJSON *v)
{
	if (!v)
		puts_out(o, "missing");
	else if (cJSON_IsString(v) && v->valuestring)
		put_quoted(o, v->valuestring);
	else if (cJSON_IsNumber(v))
		put_number(o, v->valuedouble);
	else if (cJSON_IsBool(v))
		puts_out(o, cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		puts_out(o, "null");
	else if (cJSON_IsArray(v))
		puts_out(o, v->child ? "[...]" : "[]");
	else if (cJSON_IsObject(v))
		puts_out(o, v->child ? "{...}" : "{}");
	else
		puts_out(o, "?");
}

const char *choice_type_name(const cJSON *v)
{
	if (!v)
		return "missing";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsObject(v))
		return "object";
	return "invalid";
}

char *choice_format_value(char *dst, size_t size, const cJSON *v)
{
	struct out o = { dst, 0, size ? size - 1 : 0, 0 };

	if (!size)
		return dst;
	dst[0] = '\0';
	put_value(&o, v);
	return dst;
}

const char *choice_op_symbol(const char *op)
{
	const struct choice_op *f = choice_find_op(op);

	return f ? f->symbol : NULL;
}

static void describe_test(struct out *o, const struct choice_rule *r)
{
	puts_out(o, r->var_text);
	if (r->op->fam == FAM_TYPE) {
		puts_out(o, r->lit.boolean ? " is " : " is not ");
		puts_out(o, r->op->symbol + strlen("is "));
		return;
	}
	put(o, " ", 1);
	puts_out(o, r->op->symbol);
	put(o, " ", 1);
	if (r->arg_text)
		puts_out(o, r->arg_text);
	else if (r->op->fam == FAM_TIMESTAMP)
		puts_out(o, r->operand->valuestring);	/* unquoted: an instant */
	else
		put_value(o, r->operand);
}

/* Recursion is bounded by the compiled depth (<= CHOICE_MAX_DEPTH). */
static void describe_rule(struct out *o, const struct choice_rule *r)
{
	static const char *const open[] = { "And(", "Or(", "Not(" };
	size_t i;

	if (r->kind == RULE_TEST) {
		describe_test(o, r);
		return;
	}
	puts_out(o, open[r->kind]);
	for (i = 0; i < r->nkids && !o->full; i++) {
		if (i)
			put(o, ", ", 2);
		describe_rule(o, r->kids[i]);
	}
	put(o, ")", 1);
}

char *choice_describe(const struct choice_set *set, size_t i)
{
	struct out o = { xmalloc(CHOICE_DESCRIBE_MAX + 1), 0,
			 CHOICE_DESCRIBE_MAX, 0 };

	o.s[0] = '\0';
	describe_rule(&o, set->rules[i]);
	return o.s;
}
