/* utf8.c - decode, repair and escape UTF-8 text (see utf8.h). */
#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t v, min;

	*cp = UTF8_BAD;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, v = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, v = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, v = s[0] & 0x07, min = 0x10000;
	else
		return 1;
	if (len > n)
		return 1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 1;
	*cp = v;
	return len;
}

char *utf8_repair(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, used, o = 0;
	uint32_t cp;
	char *out;

	if (!s)
		return NULL;
	n = strlen(s);
	out = xmalloc(3 * n + 1);	/* one bad byte becomes three */
	while (n) {
		used = utf8_decode(p, n, &cp);
		if (cp == UTF8_BAD) {
			memcpy(out + o, UTF8_REPLACEMENT, 3);
			o += 3;
		} else {
			memcpy(out + o, p, used);
			o += used;
		}
		p += used;
		n -= used;
	}
	out[o] = '\0';
	return out;
}

int utf8_unsafe(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return 1;
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static int kept(uint32_t cp, const char *keep)
{
	return keep && cp && cp < 0x80 && strchr(keep, (int)cp);
}

int utf8_escape(struct buf *b, const char *s, size_t n, const char *keep)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t used;
	uint32_t cp;
	int rc = 0;

	while (n && !rc) {
		used = utf8_decode(p, n, &cp);
		if (cp == UTF8_BAD)
			rc = buf_adds(b, UTF8_REPLACEMENT);
		else if (utf8_unsafe(cp) && !kept(cp, keep))
			rc = buf_addf(b, "\\u%04x", (unsigned)cp);
		else
			rc = buf_add(b, p, used);
		p += used;
		n -= used;
	}
	return rc;
}

char *utf8_escape_dup(const char *s, const char *keep)
{
	struct buf b = BUF_INIT(UTF8_ESCAPE_MAX);
	size_t n = s ? strlen(s) : 0, take = n;
	const size_t room = (UTF8_ESCAPE_MAX - 3) / 6;	/* input that surely fits */

	if (n > room) {		/* cut the input on a character boundary */
		take = room;
		while (take && ((unsigned char)s[take] & 0xc0) == 0x80)
			take--;
	}
	char *out;

	if (utf8_escape(&b, s ? s : "", take, keep) ||
	    (take < n && buf_adds(&b, "...")))
		return xstrdup("...");
	out = buf_detach(&b, NULL);
	return out ? out : xstrdup("");
}
