/* jsonpath.c - parse, compare and resolve ASL reference paths (jsonpath.h).
 *
 * The grammar is deliberately small: `$` or `$$`, then steps `.name`,
 * `['name']`, `["name"]` (backslash escapes only the quote and itself) and
 * `[N]`.  Anything that could select more than one node, or that means
 * something else in JSONPath (wildcards, filters, slices, unions, `..`,
 * functions), is rejected with a message that shows the valid form.
 * A parsed path owns its text and every key; nothing is shared.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"
#include "util.h"

#define VALID_FORMS "write $.name, $['name'] or $[0]"

struct parser {
	const char *text;	/* the whole path */
	const char *p;		/* next byte to read */
	struct jpath *path;	/* being built */
	size_t segalloc;
	char *err;
	size_t errsize;
};

static int fail(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->errsize) {
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errsize, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* How many bytes of the path were read, for "after ..." in messages. */
static int consumed(const struct parser *ps)
{
	size_t n = (size_t)(ps->p - ps->text);

	return n > 200 ? 200 : (int)n;
}

static int unexpected(struct parser *ps, const char *what)
{
	return fail(ps, "unexpected %s after \"%.*s\"; a step is .name, "
		    "['name'] or [N]", what, consumed(ps), ps->text);
}

static struct jseg *add_seg(struct parser *ps, enum jseg_kind kind)
{
	struct jpath *path = ps->path;
	struct jseg *s;

	if (path->nseg == ps->segalloc) {
		ps->segalloc = ps->segalloc ? 2 * ps->segalloc : 4;
		path->seg = xrealloc(path->seg,
				     ps->segalloc * sizeof(*path->seg));
	}
	s = &path->seg[path->nseg++];
	s->kind = kind;
	s->key = NULL;
	s->index = 0;
	return s;
}

/* Characters a `.name` step may not contain: JSONPath syntax, the
 * operators the ASL spec bans from reference paths (@ , : ?), quotes,
 * whitespace and control characters.  Bracket notation takes any name. */
static int bad_name_char(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || strchr(".[]()*@,:?'\"", c) != NULL;
}

static int bad_name(struct parser *ps)
{
	unsigned char c = (unsigned char)*ps->p;
	char what[32];

	if (c <= 0x20 || c == 0x7f)
		snprintf(what, sizeof(what), "%s", c == ' ' ? "a space" :
			 "a control character");
	else
		snprintf(what, sizeof(what), "\"%c\"", c);
	return fail(ps, "%s is not allowed in a .name step (after \"%.*s\"); "
		    "for such names use brackets, as in $['a b'] or $[\"a:b\"]",
		    what, consumed(ps), ps->text);
}

/* A backslash in a .name step: .name has no escapes, so `$.a\.b` would
 * read as "a\" then "b".  The message shows the path in bracket notation
 * with the name the writer meant ($['a.b']: backslashes taken as escapes,
 * up to the next unescaped step). */
static int backslash_in_name(struct parser *ps, const char *start)
{
	char name[128];
	size_t n = 0;
	const char *q;

	for (q = start; *q && *q != '[' && n + 3 < sizeof(name); q++) {
		if (*q == '\\' && q[1])
			q++;
		else if (*q == '.')
			break;
		if (*q == '\'' || *q == '\\')
			name[n++] = '\\';
		name[n++] = *q;
	}
	name[n] = '\0';
	return fail(ps, "\"\\\" is not allowed in a .name step (after \"%.*s\"): "
		    ".name has no escapes; for a name with \".\" or other "
		    "special characters use brackets: write %.*s['%s']%.200s",
		    consumed(ps), ps->text, (int)(start - 1 - ps->text),
		    ps->text, name, q);
}

static int dot_step(struct parser *ps)
{
	const char *start = ++ps->p;	/* past '.' */
	struct jseg *s;

	if (*start == '.')
		return fail(ps, "\"..\" (recursive descent) is not allowed in "
			    "a reference path; name each step, as in $.a.b");
	if (*start == '*')
		return fail(ps, "\"*\" (wildcard) is not allowed in a reference "
			    "path: it must select one node; " VALID_FORMS);
	while (*ps->p && *ps->p != '.' && *ps->p != '[') {
		unsigned char c = (unsigned char)*ps->p;

		if (c == '\\')
			return backslash_in_name(ps, start);
		if (bad_name_char(c))
			return bad_name(ps);
		ps->p++;
	}
	if (ps->p == start)
		return fail(ps, "empty member name after \"%.*s\"; "
			    VALID_FORMS, consumed(ps), ps->text);
	s = add_seg(ps, JSEG_KEY);
	s->key = xstrndup(start, (size_t)(ps->p - start));
	return 0;
}

/* ['name'] or ["name"]; ps->p is at the quote. */
static int quoted_step(struct parser *ps)
{
	char quote = *ps->p++;
	size_t len = strlen(ps->p);
	char *name = xmalloc(len + 1), *o = name;
	int ret = -1;

	for (; *ps->p && *ps->p != quote; ps->p++) {
		if (*ps->p == '\\') {
			ps->p++;
			if (*ps->p != quote && *ps->p != '\\') {
				fail(ps, "bad escape in a quoted name after "
				     "\"%.*s\"; only \\%c and \\\\ are escapes",
				     consumed(ps), ps->text, quote);
				goto out;
			}
		}
		*o++ = *ps->p;
	}
	*o = '\0';
	if (!*ps->p) {
		fail(ps, "unterminated quoted name; write [%cname%c]",
		     quote, quote);
		goto out;
	}
	ps->p++;	/* past the closing quote */
	if (*ps->p == ',') {
		fail(ps, "unions ([%ca%c,%cb%c]) are not allowed in a reference "
		     "path: it must select one node", quote, quote, quote, quote);
		goto out;
	}
	if (*ps->p != ']') {
		fail(ps, "expected \"]\" after \"%.*s\"", consumed(ps), ps->text);
		goto out;
	}
	ps->p++;
	if (!*name) {
		fail(ps, "empty member name [%c%c]; " VALID_FORMS, quote, quote);
		goto out;
	}
	add_seg(ps, JSEG_KEY)->key = name;
	name = NULL;
	ret = 0;
out:
	free(name);
	return ret;
}

/* [N]; ps->p is at the first digit. */
static int index_step(struct parser *ps)
{
	const char *start = ps->p;
	unsigned long v = 0;

	for (; isdigit((unsigned char)*ps->p); ps->p++) {
		v = v * 10 + (unsigned long)(*ps->p - '0');
		if (v > JPATH_MAX_INDEX)
			return fail(ps, "index too large after \"%.*s\"; the "
				    "largest is %lu", (int)(start - ps->text),
				    ps->text, JPATH_MAX_INDEX);
	}
	if (*start == '0' && ps->p - start > 1)
		return fail(ps, "index [%.*s] has a leading zero; write [%lu]",
			    (int)(ps->p - start), start, v);
	if (*ps->p == ':')
		return fail(ps, "slices ([1:2]) are not allowed in a reference "
			    "path: it must select one node; write one index, "
			    "as in [0]");
	if (*ps->p == ',')
		return fail(ps, "unions ([0,1]) are not allowed in a reference "
			    "path: it must select one node");
	if (*ps->p != ']')
		return fail(ps, "expected \"]\" after \"%.*s\"", consumed(ps),
			    ps->text);
	ps->p++;
	add_seg(ps, JSEG_INDEX)->index = (size_t)v;
	return 0;
}

static int bracket_step(struct parser *ps)
{
	char c = *++ps->p;	/* past '[' */

	if (c == '\'' || c == '"')
		return quoted_step(ps);
	if (isdigit((unsigned char)c))
		return index_step(ps);
	if (c == '-')
		return fail(ps, "negative indexes are not allowed; indexes "
			    "count from 0 at the start, as in [0]");
	if (c == '*')
		return fail(ps, "\"[*]\" (wildcard) is not allowed in a "
			    "reference path: it must select one node; "
			    VALID_FORMS);
	if (c == '?' || c == '(')
		return fail(ps, "filters and expressions ([?(...)]) are not "
			    "allowed in a reference path; " VALID_FORMS);
	if (c == ':')
		return fail(ps, "slices ([:2]) are not allowed in a reference "
			    "path; write one index, as in [0]");
	return fail(ps, "expected a quoted name or an index after \"%.*s\"; "
		    "write ['name'] or [0]", consumed(ps), ps->text);
}

/* `$` or `$$`; fills path->root. */
static int parse_root(struct parser *ps)
{
	const char *t = ps->text;

	if (!*t)
		return fail(ps, "empty path; a path starts with $, as in "
			    "$.accuracypct");
	if (*t != '$') {
		size_t n = strcspn(t, ".[] \t'\"$*");

		if (!t[n] && (isalpha((unsigned char)*t) || *t == '_'))
			return fail(ps, "a path starts with $; write $.%.200s",
				    t);
		return fail(ps, "a path starts with $, as in $.accuracypct");
	}
	ps->path->root = t[1] == '$' ? JPATH_CONTEXT : JPATH_INPUT;
	ps->p = t + (t[1] == '$' ? 2 : 1);
	return 0;
}

static int parse_steps(struct parser *ps)
{
	while (*ps->p) {
		int r;

		if (ps->path->nseg == JPATH_MAX_SEGS)
			return fail(ps, "path has more than %d steps",
				    JPATH_MAX_SEGS);
		if (*ps->p == '.')
			r = dot_step(ps);
		else if (*ps->p == '[')
			r = bracket_step(ps);
		else if (isspace((unsigned char)*ps->p))
			r = unexpected(ps, "whitespace");
		else {
			char what[8];

			snprintf(what, sizeof(what), "\"%c\"", *ps->p);
			r = unexpected(ps, what);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int jpath_parse(struct jpath *p, const char *text, char *err, size_t errsize)
{
	struct parser ps = { text, text, p, 0, err, errsize };
	int ret = -1;

	memset(p, 0, sizeof(*p));
	if (errsize)
		err[0] = '\0';
	if (strlen(text) > JPATH_MAX_LEN) {
		fail(&ps, "path longer than %d bytes", JPATH_MAX_LEN);
		goto out;
	}
	if (parse_root(&ps) < 0 || parse_steps(&ps) < 0)
		goto out;
	p->text = xstrdup(text);
	ret = 0;
out:
	if (ret)
		jpath_release(p);
	return ret;
}

void jpath_release(struct jpath *p)
{
	size_t i;

	for (i = 0; i < p->nseg; i++)
		free(p->seg[i].key);
	free(p->seg);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

int jpath_equal(const struct jpath *a, const struct jpath *b)
{
	size_t i;

	if (a->root != b->root || a->nseg != b->nseg)
		return 0;
	for (i = 0; i < a->nseg; i++) {
		const struct jseg *x = &a->seg[i], *y = &b->seg[i];

		if (x->kind != y->kind)
			return 0;
		if (x->kind == JSEG_KEY ? strcmp(x->key, y->key) != 0
					: x->index != y->index)
			return 0;
	}
	return 1;
}

static const cJSON *step(const cJSON *node, const struct jseg *s)
{
	const cJSON *c;
	size_t i = 0;

	if (s->kind == JSEG_KEY)
		return cJSON_IsObject(node) ?
			cJSON_GetObjectItemCaseSensitive(node, s->key) : NULL;
	if (!cJSON_IsArray(node))
		return NULL;
	for (c = node->child; c; c = c->next)
		if (i++ == s->index)
			return c;
	return NULL;
}

const cJSON *jpath_resolve(const struct jpath *p, const cJSON *root)
{
	const cJSON *node = root;
	size_t i;

	for (i = 0; node && i < p->nseg; i++)
		node = step(node, &p->seg[i]);
	return node;
}
