/* json.c - strict JSON validation, positions and projection (see json.h).
 *
 * One recursive-descent scanner serves both entry points.  It never builds a
 * tree: it checks the grammar of RFC 8259 plus greenlight's limits (UTF-8,
 * no raw controls, no U+0000, no lone surrogates, no leading zeros, finite
 * numbers of at most JSON_MAX_NUMBER characters, depth <= JSON_MAX_DEPTH) and
 * either records where every value starts (json_doc_parse) or notes the byte
 * span of each value a reference path selects (json_project).  Spans are then
 * parsed by cJSON, which is safe because the scanner accepted them first.
 * Recursion depth is bounded by JSON_MAX_DEPTH.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* A trie of the reference paths being projected; the root is `$`. */
struct trie {
	enum jseg_kind kind;
	const char *key;
	size_t keylen;
	size_t index;
	struct trie *child;
	size_t nchild;
	size_t achild;
	long path_id;		/* first path ending here, or -1 */
	unsigned long seen;	/* serial of the object it was last seen in */
};

struct scan {
	const unsigned char *start, *p, *end;
	struct json_err *err;
	unsigned depth;
	/* json_doc_parse: pre-order positions */
	int record;
	size_t *voff, *koff;
	size_t n, alloc;
	/* json_project */
	size_t *span_from, *span_to;
	unsigned long serial;
	char *scratch;
	size_t scratch_len;
};

enum { C_PLAIN, C_QUOTE, C_BACKSLASH, C_CONTROL, C_HIGH };
static unsigned char char_class[256];

static void fill_classes(void)
{
	for (int c = 0; c < 256; c++)
		char_class[c] = c < 0x20 ? C_CONTROL : c >= 0x80 ? C_HIGH : C_PLAIN;
	char_class['"'] = C_QUOTE;
	char_class['\\'] = C_BACKSLASH;
}

/* Threads may parse at once (the relay's server threads): fill once. */
static void init_classes(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, fill_classes);
}

void json_offset_pos(const char *text, size_t len, size_t offset,
		     unsigned *line, unsigned *col)
{
	unsigned l = 1;
	size_t bol = 0;

	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			l++;
			bol = i + 1;
		}
	}
	*line = l;
	*col = (unsigned)(offset - bol + 1);
}

__attribute__((format(printf, 3, 4)))
static int fail(struct scan *s, const unsigned char *at, const char *fmt, ...)
{
	va_list ap;

	if (at > s->end)
		at = s->end;
	s->err->offset = (size_t)(at - s->start);
	json_offset_pos((const char *)s->start, (size_t)(s->end - s->start),
			s->err->offset, &s->err->line, &s->err->col);
	va_start(ap, fmt);
	vsnprintf(s->err->msg, sizeof(s->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' ||
				 *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

static const char *describe_char(const unsigned char *p, const unsigned char *end,
				 char *tmp, size_t n)
{
	if (p >= end)
		return "end of input";
	if (*p >= 0x21 && *p < 0x7f)
		snprintf(tmp, n, "'%c'", *p);
	else
		snprintf(tmp, n, "byte 0x%02X", *p);
	return tmp;
}

static int unexpected(struct scan *s, const char *wanted)
{
	char tmp[16];

	return fail(s, s->p, "unexpected %s; expected %s",
		    describe_char(s->p, s->end, tmp, sizeof(tmp)), wanted);
}

/* Length of a valid UTF-8 sequence at p, or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n = (size_t)(end - p);
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;

	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	unsigned v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* s->p is just past a backslash. */
static int scan_escape(struct scan *s)
{
	const unsigned char *at = s->p - 1;
	unsigned u, lo;

	if (s->p >= s->end)
		return fail(s, at, "unterminated string");
	switch (*s->p) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		s->p++;
		return 0;
	case 'u':
		break;
	default:
		return fail(s, at, "invalid escape '\\%c' in string; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
			    *s->p >= 0x20 && *s->p < 0x7f ? *s->p : '?');
	}
	if (hex4(s->p + 1, s->end, &u))
		return fail(s, at, "invalid \\u escape; write exactly four hex digits, as in \\u00e9");
	s->p += 5;
	if (u == 0)
		return fail(s, at, "\\u0000 is not supported in strings; remove the NUL character");
	if (u >= 0xDC00 && u <= 0xDFFF)
		return fail(s, at, "lone low surrogate \\u%04X in string; encode the character as a surrogate pair or as UTF-8", u);
	if (u < 0xD800 || u > 0xDBFF)
		return 0;
	if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
	    hex4(s->p + 2, s->end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
		return fail(s, at, "lone high surrogate \\u%04X in string; follow it with a low surrogate \\uDC00-\\uDFFF", u);
	s->p += 6;
	return 0;
}

/* s->p is at the opening quote.  On success *from and *to delimit the raw
 * contents and *escaped says whether they contain a backslash. */
static int scan_string(struct scan *s, const unsigned char **from,
		       const unsigned char **to, int *escaped)
{
	const unsigned char *open = s->p;
	size_t n;

	*escaped = 0;
	*from = ++s->p;
	for (;;) {
		while (s->p < s->end && char_class[*s->p] == C_PLAIN)
			s->p++;
		if (s->p >= s->end)
			return fail(s, open, "unterminated string; add the closing '\"'");
		switch (char_class[*s->p]) {
		case C_QUOTE:
			*to = s->p++;
			return 0;
		case C_BACKSLASH:
			*escaped = 1;
			s->p++;
			if (scan_escape(s))
				return -1;
			break;
		case C_CONTROL:
			return fail(s, s->p, "raw control character U+%04X in string; escape it (\\n, \\t, \\u%04X)",
				    *s->p, *s->p);
		default:
			n = utf8_len(s->p, s->end);
			if (!n)
				return fail(s, s->p, "invalid UTF-8 (byte 0x%02X) in string; save the file as UTF-8", *s->p);
			s->p += n;
		}
	}
}

static int is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

static int scan_number(struct scan *s)
{
	const unsigned char *from = s->p;
	int exp = 0;
	char tmp[JSON_MAX_NUMBER + 1];
	size_t len;

	if (*s->p == '-')
		s->p++;
	if (!is_digit(s->p, s->end))
		return fail(s, from, "invalid number; expected a digit after '-'");
	if (*s->p == '0') {
		s->p++;
		if (is_digit(s->p, s->end))
			return fail(s, from, "number with a leading zero; write 7, not 07");
	} else {
		while (is_digit(s->p, s->end))
			s->p++;
	}
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!is_digit(s->p, s->end))
			return fail(s, s->p, "invalid number; expected a digit after '.'");
		while (is_digit(s->p, s->end))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		exp = 1;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!is_digit(s->p, s->end))
			return fail(s, s->p, "invalid number; expected a digit in the exponent");
		while (is_digit(s->p, s->end))
			s->p++;
	}
	len = (size_t)(s->p - from);
	if (len > JSON_MAX_NUMBER)
		return fail(s, from, "number longer than %d characters; greenlight reads numbers as IEEE doubles, so write at most 17 significant digits",
			    JSON_MAX_NUMBER);
	if (exp) {
		memcpy(tmp, from, len);
		tmp[len] = '\0';
		if (!isfinite(strtod(tmp, NULL)))
			return fail(s, from, "number %s is out of range for a double (non-finite numbers are not accepted)", tmp);
	}
	return 0;
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return unexpected(s, "a JSON value (object, array, string, number, true, false or null)");
	s->p += n;
	return 0;
}

static int record(struct scan *s, size_t voff, size_t koff)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 64;
		s->voff = xrealloc(s->voff, s->alloc * sizeof(*s->voff));
		s->koff = xrealloc(s->koff, s->alloc * sizeof(*s->koff));
	}
	s->voff[s->n] = voff;
	s->koff[s->n] = koff;
	s->n++;
	return 0;
}

/* Decode validated raw string contents into s->scratch (NUL-terminated). */
static size_t unescape(struct scan *s, const unsigned char *p, const unsigned char *end)
{
	size_t need = (size_t)(end - p) + 1;
	char *o;
	unsigned u = 0, lo = 0;

	if (need > s->scratch_len) {
		s->scratch = xrealloc(s->scratch, need);
		s->scratch_len = need;
	}
	o = s->scratch;
	while (p < end) {
		if (*p != '\\') {
			*o++ = (char)*p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'b': *o++ = '\b'; p++; continue;
		case 'f': *o++ = '\f'; p++; continue;
		case 'n': *o++ = '\n'; p++; continue;
		case 'r': *o++ = '\r'; p++; continue;
		case 't': *o++ = '\t'; p++; continue;
		case 'u': break;
		default: *o++ = (char)*p++; continue;
		}
		hex4(p + 1, end, &u);
		p += 5;
		if (u >= 0xD800 && u <= 0xDBFF) {
			hex4(p + 2, end, &lo);
			p += 6;
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (u < 0x80) {
			*o++ = (char)u;
		} else if (u < 0x800) {
			*o++ = (char)(0xC0 | (u >> 6));
			*o++ = (char)(0x80 | (u & 0x3F));
		} else if (u < 0x10000) {
			*o++ = (char)(0xE0 | (u >> 12));
			*o++ = (char)(0x80 | ((u >> 6) & 0x3F));
			*o++ = (char)(0x80 | (u & 0x3F));
		} else {
			*o++ = (char)(0xF0 | (u >> 18));
			*o++ = (char)(0x80 | ((u >> 12) & 0x3F));
			*o++ = (char)(0x80 | ((u >> 6) & 0x3F));
			*o++ = (char)(0x80 | (u & 0x3F));
		}
	}
	*o = '\0';
	return (size_t)(o - s->scratch);
}

static struct trie *child_by_key(struct scan *s, struct trie *node,
				 const unsigned char *from, const unsigned char *to,
				 int escaped)
{
	const char *key = (const char *)from;
	size_t len = (size_t)(to - from);

	if (!node || !node->nchild)
		return NULL;
	if (escaped) {
		len = unescape(s, from, to);
		key = s->scratch;
	}
	for (size_t i = 0; i < node->nchild; i++) {
		struct trie *c = &node->child[i];

		if (c->kind == JSEG_KEY && c->keylen == len && !memcmp(c->key, key, len))
			return c;
	}
	return NULL;
}

static struct trie *child_by_index(struct trie *node, size_t index)
{
	if (!node)
		return NULL;
	for (size_t i = 0; i < node->nchild; i++)
		if (node->child[i].kind == JSEG_INDEX && node->child[i].index == index)
			return &node->child[i];
	return NULL;
}

static int scan_value(struct scan *s, struct trie *node, size_t keyoff);

static int enter(struct scan *s)
{
	if (++s->depth > JSON_MAX_DEPTH)
		return fail(s, s->p, "nesting deeper than %d levels", JSON_MAX_DEPTH);
	s->p++;
	skip_ws(s);
	return 0;
}

static int scan_object(struct scan *s, struct trie *node)
{
	unsigned long serial = ++s->serial;
	const unsigned char *kfrom, *kto, *kat;
	struct trie *child;
	int escaped;

	if (enter(s))
		return -1;
	if (s->p < s->end && *s->p == '}')
		goto done;
	for (;;) {
		if (s->p >= s->end || *s->p != '"')
			return unexpected(s, "a member name in double quotes");
		kat = s->p;
		if (scan_string(s, &kfrom, &kto, &escaped))
			return -1;
		child = child_by_key(s, node, kfrom, kto, escaped);
		if (child && child->seen == serial)
			return fail(s, kat, "duplicate key %.*s; each member name may appear only once in an object",
				    (int)(kto - kfrom + 2 > 100 ? 100 : kto - kfrom + 2), (const char *)kat);
		if (child)
			child->seen = serial;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return unexpected(s, "':' after the member name");
		s->p++;
		skip_ws(s);
		if (scan_value(s, child, (size_t)(kat - s->start)))
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == '}')
			break;
		if (s->p >= s->end || *s->p != ',')
			return unexpected(s, "',' or '}' after an object member");
		s->p++;
		skip_ws(s);
		if (s->p < s->end && *s->p == '}')
			return fail(s, s->p, "trailing comma before '}'; remove the last ','");
	}
done:
	s->p++;
	s->depth--;
	return 0;
}

static int scan_array(struct scan *s, struct trie *node)
{
	size_t index = 0;

	if (enter(s))
		return -1;
	if (s->p < s->end && *s->p == ']')
		goto done;
	for (;;) {
		if (scan_value(s, child_by_index(node, index++), (size_t)-1))
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ']')
			break;
		if (s->p >= s->end || *s->p != ',')
			return unexpected(s, "',' or ']' after an array element");
		s->p++;
		skip_ws(s);
		if (s->p < s->end && *s->p == ']')
			return fail(s, s->p, "trailing comma before ']'; remove the last ','");
	}
done:
	s->p++;
	s->depth--;
	return 0;
}

static int scan_value(struct scan *s, struct trie *node, size_t keyoff)
{
	const unsigned char *from = s->p, *a, *b;
	int escaped, ret;

	if (s->record)
		record(s, (size_t)(from - s->start), keyoff);
	if (s->p >= s->end)
		return unexpected(s, "a JSON value");
	switch (*s->p) {
	case '{': ret = scan_object(s, node); break;
	case '[': ret = scan_array(s, node); break;
	case '"': ret = scan_string(s, &a, &b, &escaped); break;
	case 't': ret = scan_literal(s, "true"); break;
	case 'f': ret = scan_literal(s, "false"); break;
	case 'n': ret = scan_literal(s, "null"); break;
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			ret = scan_number(s);
		else
			ret = unexpected(s, "a JSON value (object, array, string, number, true, false or null)");
	}
	if (!ret && node && node->path_id >= 0) {
		s->span_from[node->path_id] = (size_t)(from - s->start);
		s->span_to[node->path_id] = (size_t)(s->p - s->start);
	}
	return ret;
}

static size_t bom_len(const char *text, size_t len)
{
	return len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

static int scan_document(struct scan *s, const char *text, size_t len,
			 struct trie *root, struct json_err *err)
{
	init_classes();
	memset(err, 0, sizeof(*err));
	s->start = (const unsigned char *)text;
	s->end = s->start + len;
	s->p = s->start + bom_len(text, len);
	s->err = err;
	skip_ws(s);
	if (s->p >= s->end)
		return fail(s, s->p, "empty document; expected a JSON value");
	if (scan_value(s, root, (size_t)-1))
		return -1;
	skip_ws(s);
	if (s->p < s->end)
		return fail(s, s->p, "trailing data after the JSON value; a file holds exactly one value");
	return 0;
}

/* ---- whole documents ---------------------------------------------------- */

void json_doc_release(struct json_doc *doc)
{
	cJSON_Delete(doc->root);
	free(doc->value_off);
	free(doc->key_off);
	memset(doc, 0, sizeof(*doc));
}

static int cmp_name(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* A member of object `node` whose name an earlier member has, or NULL.
 * Small objects are checked pairwise; large ones by sorting the names. */
static const cJSON *dup_member(const cJSON *node)
{
	const cJSON *a, *b, *found = NULL;
	const cJSON **v;
	size_t n = 0, i = 0;

	for (a = node->child; a; a = a->next)
		n++;
	if (n <= 32) {
		for (a = node->child; a; a = a->next)
			for (b = node->child; b != a; b = b->next)
				if (!strcmp(a->string, b->string))
					return a;
		return NULL;
	}
	v = xmalloc(n * sizeof(*v));
	for (a = node->child; a; a = a->next)
		v[i++] = a;
	qsort(v, n, sizeof(*v), cmp_name);
	for (i = 1; i < n && !found; i++)
		if (!strcmp(v[i - 1]->string, v[i]->string))
			found = v[i];
	free(v);
	return found;
}

static const cJSON *find_dup(const cJSON *node, unsigned depth)
{
	const cJSON *d;

	if (depth > JSON_MAX_DEPTH)
		return NULL;
	if (cJSON_IsObject(node) && (d = dup_member(node)))
		return d;
	for (const cJSON *c = node->child; c; c = c->next)
		if ((d = find_dup(c, depth + 1)))
			return d;
	return NULL;
}

int json_check_duplicates(const cJSON *node, const cJSON **dup)
{
	*dup = find_dup(node, 0);
	return *dup ? -1 : 0;
}

int json_doc_parse(struct json_doc *doc, const char *text, size_t len,
		   struct json_err *err)
{
	struct scan s = { 0 };
	const cJSON *dup;
	size_t bom = bom_len(text, len);

	memset(doc, 0, sizeof(*doc));
	s.record = 1;
	if (scan_document(&s, text, len, NULL, err))
		goto fail;
	doc->text = text;
	doc->len = len;
	doc->value_off = s.voff;
	doc->key_off = s.koff;
	doc->nvalues = s.n;
	doc->root = cJSON_ParseWithLength(text + bom, len - bom);
	if (!doc->root) {
		json_doc_release(doc);
		snprintf(err->msg, sizeof(err->msg), "out of memory parsing JSON");
		return -1;
	}
	if (json_check_duplicates(doc->root, &dup)) {
		err->offset = 0;
		json_doc_pos(doc, dup, 1, &err->line, &err->col);
		snprintf(err->msg, sizeof(err->msg),
			 "duplicate key \"%.100s\"; each member name may appear only once in an object",
			 dup->string);
		json_doc_release(doc);
		return -1;
	}
	return 0;
fail:
	free(s.voff);
	free(s.koff);
	return -1;
}

static int preorder_index(const cJSON *node, const cJSON *want, size_t *i,
			  unsigned depth)
{
	if (node == want)
		return 1;
	if (depth > JSON_MAX_DEPTH)
		return 0;
	for (const cJSON *c = node->child; c; c = c->next) {
		++*i;
		if (preorder_index(c, want, i, depth + 1))
			return 1;
	}
	return 0;
}

int json_doc_pos(const struct json_doc *doc, const cJSON *node, int at_key,
		 unsigned *line, unsigned *col)
{
	size_t i = 0;
	size_t off;

	if (!doc->root || !node || !preorder_index(doc->root, node, &i, 0) ||
	    i >= doc->nvalues)
		return -1;
	off = doc->value_off[i];
	if (at_key && doc->key_off[i] != (size_t)-1)
		off = doc->key_off[i];
	json_offset_pos(doc->text, doc->len, off, line, col);
	return 0;
}

/* ---- projection --------------------------------------------------------- */

static void trie_free(struct trie *t)
{
	for (size_t i = 0; i < t->nchild; i++)
		trie_free(&t->child[i]);
	free(t->child);
}

/* The child of t for seg; created when `create` (else NULL if absent).
 * Creating may move t's children: pointers to them are then stale. */
static struct trie *trie_step(struct trie *t, const struct jseg *seg, int create)
{
	struct trie *c;

	for (size_t i = 0; i < t->nchild; i++) {
		c = &t->child[i];
		if (c->kind == seg->kind &&
		    (seg->kind == JSEG_INDEX ? c->index == seg->index : !strcmp(c->key, seg->key)))
			return c;
	}
	if (!create)
		return NULL;
	if (t->nchild == t->achild) {
		t->achild = t->achild ? t->achild * 2 : 4;
		t->child = xrealloc(t->child, t->achild * sizeof(*t->child));
	}
	c = &t->child[t->nchild++];
	memset(c, 0, sizeof(*c));
	c->kind = seg->kind;
	c->path_id = -1;
	if (seg->kind == JSEG_INDEX) {
		c->index = seg->index;
	} else {
		c->key = seg->key;
		c->keylen = strlen(seg->key);
	}
	return c;
}

static struct trie *trie_walk(struct trie *t, const struct jpath *p, int create)
{
	for (size_t k = 0; t && k < p->nseg; k++)
		t = trie_step(t, &p->seg[k], create);
	return t;
}

/* Build the trie of the input paths, then record for each path the id of
 * the first path that ends at the same node (ids[i], -1 for $$ paths). */
static void trie_build(struct trie *root, const struct jpath *paths, size_t n,
		       long *ids)
{
	struct trie *t;

	memset(root, 0, sizeof(*root));
	root->path_id = -1;
	for (size_t i = 0; i < n; i++) {
		if (paths[i].root != JPATH_INPUT)
			continue;
		t = trie_walk(root, &paths[i], 1);
		if (t->path_id < 0)
			t->path_id = (long)i;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = paths[i].root == JPATH_INPUT
			? trie_walk(root, &paths[i], 0)->path_id : -1;
}

static cJSON *parse_span(const char *text, size_t from, size_t to,
			 struct json_err *err)
{
	cJSON *v = cJSON_ParseWithLength(text + from, to - from);
	const cJSON *dup;

	if (!v) {
		snprintf(err->msg, sizeof(err->msg), "out of memory parsing JSON");
		return NULL;
	}
	if (json_check_duplicates(v, &dup)) {
		err->offset = from;
		json_offset_pos(text, to, from, &err->line, &err->col);
		snprintf(err->msg, sizeof(err->msg),
			 "duplicate key \"%.100s\" inside a value the rules read; each member name may appear only once in an object",
			 dup->string);
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

int json_project(const char *text, size_t len, const struct jpath *paths,
		 size_t npaths, cJSON **out, struct json_err *err)
{
	struct scan s = { 0 };
	struct trie root;
	long *ids = xcalloc(npaths, sizeof(*ids));
	int ret = -1;

	for (size_t i = 0; i < npaths; i++)
		out[i] = NULL;
	trie_build(&root, paths, npaths, ids);
	s.span_from = xcalloc(npaths, sizeof(size_t));
	s.span_to = xcalloc(npaths, sizeof(size_t));
	for (size_t i = 0; i < npaths; i++)
		s.span_from[i] = (size_t)-1;
	if (scan_document(&s, text, len, &root, err))
		goto out;
	for (size_t i = 0; i < npaths; i++) {
		long id = ids[i];

		if (id < 0 || s.span_from[id] == (size_t)-1)
			continue;
		out[i] = parse_span(text, s.span_from[id], s.span_to[id], err);
		if (!out[i])
			goto out;
	}
	ret = 0;
out:
	if (ret)
		for (size_t i = 0; i < npaths; i++) {
			cJSON_Delete(out[i]);
			out[i] = NULL;
		}
	trie_free(&root);
	free(ids);
	free(s.span_from);
	free(s.span_to);
	free(s.scratch);
	return ret;
}

const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_IsObject(o) ?
			 cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}
