/* form.c - application/x-www-form-urlencoded parsing (see web.h).
 *
 * Pure and strict: pairs are separated by '&' (empty pairs are skipped, as
 * browsers do), a name without '=' has the empty value, '+' is a space and
 * '%' must be followed by two hex digits.  A NUL byte, raw or as %00, is
 * rejected, so every decoded name and value is a proper C string.  Decoding
 * never grows the text, so one scratch buffer of len + 2 bytes holds any
 * name and value; it is freed before returning.
 */
#include <stdlib.h>
#include <string.h>

#include "token.h"
#include "util.h"
#include "web.h"

typedef int (*form_fn)(void *ud, const char *name, const char *value);

/* Decode s[0..n) into dst and NUL-terminate it.  Returns 0, or -1 for a
 * bad escape or a NUL byte. */
static int decode(char *dst, const char *s, size_t n)
{
	size_t o = 0;
	int hi, lo;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			if (n - i < 3)
				return -1;
			hi = token_hex_value(s[i + 1]);
			lo = token_hex_value(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == '\0')
			return -1;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

/* One "name[=value]" of n > 0 bytes; scratch holds n + 2 bytes. */
static int one_pair(const char *seg, size_t n, char *scratch, form_fn fn,
		    void *ud)
{
	const char *eq = memchr(seg, '=', n);
	size_t nl = eq ? (size_t)(eq - seg) : n;
	char *value = scratch + nl + 1;

	if (decode(scratch, seg, nl))
		return -1;
	if (decode(value, eq ? eq + 1 : "", eq ? n - nl - 1 : 0))
		return -1;
	return fn(ud, scratch, value) ? -1 : 0;
}

int form_parse(const char *body, size_t len, size_t max_pairs,
	       int (*fn)(void *ud, const char *name, const char *value),
	       void *ud)
{
	char *scratch;
	size_t i = 0, pairs = 0;
	int ret = 0;

	if (len > ((size_t)-1) - 2)
		return -1;
	scratch = xmalloc(len + 2);
	while (i < len && !ret) {
		const char *seg = body + i;
		const char *amp = memchr(seg, '&', len - i);
		size_t n = amp ? (size_t)(amp - seg) : len - i;

		i += n + 1;
		if (!n)
			continue;
		if (++pairs > max_pairs)
			ret = -1;
		else
			ret = one_pair(seg, n, scratch, fn, ud);
	}
	free(scratch);
	return ret;
}
