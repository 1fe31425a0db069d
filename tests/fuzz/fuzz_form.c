/* fuzz_form.c - fuzz form_parse(), the urlencoded body parser of web.c.
 *
 * Input: any bytes, parsed as a POST body.  Beyond "no crash, no leak, no
 * UB" it checks two properties: every name and value handed to the
 * callback is a C string no longer than the input, and a successful parse
 * round-trips: encoding the pairs again (every byte outside [A-Za-z0-9]
 * as %XX) and parsing that gives the same pairs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "web.h"

#define MAX_PAIRS 64

struct collected {
	struct buf flat;	/* name NUL value NUL ... */
	size_t n;
	size_t input_len;
};

static int collect(void *ud, const char *name, const char *value)
{
	struct collected *c = ud;
	size_t nl = strlen(name), vl = strlen(value);

	if (nl > c->input_len || vl > c->input_len)
		abort();
	c->n++;
	if (buf_add(&c->flat, name, nl + 1) || buf_add(&c->flat, value, vl + 1))
		abort();
	return 0;
}

static void encode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3] = { '%', 0, 0 };

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9')) {
			buf_add(out, s, 1);
			continue;
		}
		esc[1] = hex[ch >> 4];
		esc[2] = hex[ch & 15];
		buf_add(out, esc, 3);
	}
}

/* Re-encode the pairs in c->flat as one urlencoded body. */
static void reencode(const struct collected *c, struct buf *out)
{
	const char *p = c->flat.data;

	for (size_t i = 0; i < c->n; i++) {
		if (i)
			buf_add(out, "&", 1);
		encode(out, p);
		p += strlen(p) + 1;
		buf_add(out, "=", 1);
		encode(out, p);
		p += strlen(p) + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct collected a = { BUF_INIT(1 << 24), 0, size };
	struct collected b = { BUF_INIT(1 << 24), 0, 0 };
	struct buf again = BUF_INIT(1 << 26);

	if (form_parse((const char *)data, size, MAX_PAIRS, collect, &a))
		goto out;
	reencode(&a, &again);
	b.input_len = again.len;
	if (form_parse(again.data ? again.data : "", again.len, MAX_PAIRS,
		       collect, &b))
		abort();
	if (a.n != b.n)
		abort();
	/* a name without '=' comes back with an empty value: same pairs */
	if (a.flat.len != b.flat.len ||
	    (a.flat.len && memcmp(a.flat.data, b.flat.data, a.flat.len)))
		abort();
out:
	buf_release(&a.flat);
	buf_release(&b.flat);
	buf_release(&again);
	return 0;
}
