/* strmatch.c - UTF-16 ordering of UTF-8 strings and StringMatches patterns.
 *
 * Ordering walks both strings one code point at a time and maps each to a
 * key that sorts like its first UTF-16 code unit would: astral characters
 * (U+10000 and up, surrogate pairs in UTF-16) sort above U+D7FF and below
 * U+E000.  Nothing is allocated.  A pattern is stored as the literal
 * segments between its stars; matching pins the first segment to the start,
 * the last to the end, and finds each middle one leftmost, which is exact
 * for `*`-only patterns and needs no backtracking.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmatch.h"
#include "util.h"

/* Length of the valid UTF-8 sequence at s with its code point in *cp, or 0
 * when s does not start a valid sequence. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, v = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, v = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, v = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
	    v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

/* The next character's sort key; advances *s (not past the NUL). */
static uint32_t next_key(const unsigned char **s)
{
	uint32_t cp;
	size_t n;

	if (!**s)
		return 0;
	n = utf8_decode(*s, &cp);
	if (!n) {
		cp = **s;	/* invalid byte: a unit of its own value */
		n = 1;
	}
	*s += n;
	/* U+E000..U+FFFF sort after every surrogate pair (0xD800..0xDFFF). */
	return cp >= 0xE000 && cp <= 0xFFFF ? cp + 0x200000 : cp;
}

int str_cmp16(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	for (;;) {
		uint32_t kx = next_key(&x), ky = next_key(&y);

		if (kx != ky)
			return kx < ky ? -1 : 1;
		if (!kx)
			return 0;
	}
}

static int open_escape(const char *pattern, const char *at, char *err,
		       size_t errsize)
{
	uint32_t cp;
	size_t n = utf8_decode((const unsigned char *)at + 1, &cp);

	if (!at[1])
		snprintf(err, errsize, "pattern ends with a backslash");
	else
		snprintf(err, errsize, "open escape \"\\%.*s\" at byte %zu of "
			 "the pattern", (int)(n ? n : 1), at + 1,
			 (size_t)(at - pattern));
	if (errsize) {
		size_t len = strlen(err);

		snprintf(err + len, errsize - len, "; only \\* (a literal star) "
			 "and \\\\ (a literal backslash) are escapes, written "
			 "\"\\\\*\" and \"\\\\\\\\\" in JSON");
	}
	return -1;
}

int strpat_compile(struct strpat *p, const char *pattern, char *err,
		   size_t errsize)
{
	size_t n = strlen(pattern), len = 0;
	const char *s;

	p->lit = xmalloc(n + 1);
	p->end = xmalloc((n + 1) * sizeof(*p->end));
	p->nseg = 0;
	for (s = pattern; *s; s++) {
		if (*s == '*') {
			p->end[p->nseg++] = len;
			continue;
		}
		if (*s == '\\' && s[1] != '*' && s[1] != '\\') {
			strpat_release(p);
			return open_escape(pattern, s, err, errsize);
		}
		if (*s == '\\')
			s++;
		p->lit[len++] = *s;
	}
	p->lit[len] = '\0';
	p->end[p->nseg++] = len;
	return 0;
}

/* Leftmost occurrence of needle (nn bytes) in hay (hn bytes), or NULL. */
static const char *find(const char *hay, size_t hn, const char *needle,
			size_t nn)
{
	size_t i;

	if (nn > hn)
		return NULL;
	if (nn == 0)
		return hay;
	for (i = 0; i + nn <= hn; i++)
		if (hay[i] == needle[0] && !memcmp(hay + i, needle, nn))
			return hay + i;
	return NULL;
}

int strpat_match(const struct strpat *p, const char *s)
{
	size_t n = strlen(s), first = p->end[0], last, pos, i;

	if (p->nseg == 1)
		return n == first && !memcmp(s, p->lit, n);
	last = p->end[p->nseg - 1] - p->end[p->nseg - 2];
	if (n < first + last || memcmp(s, p->lit, first) ||
	    memcmp(s + n - last, p->lit + p->end[p->nseg - 2], last))
		return 0;
	pos = first;
	for (i = 1; i + 1 < p->nseg; i++) {
		size_t off = p->end[i - 1], len = p->end[i] - off;
		const char *at = find(s + pos, n - last - pos, p->lit + off, len);

		if (!at)
			return 0;
		pos = (size_t)(at - s) + len;
	}
	return 1;
}

void strpat_release(struct strpat *p)
{
	free(p->lit);
	free(p->end);
	p->lit = NULL;
	p->end = NULL;
	p->nseg = 0;
}
