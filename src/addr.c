/* addr.c - email addresses compared as mailboxes (see addr.h). */
#include <string.h>

#include "addr.h"

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' ||
	       c == '\'';
}

/* The part of s[0..n) an address lives in: inside the last <...>, with
 * blanks and quotes trimmed.  *len receives its length. */
static const char *core(const char *s, size_t n, size_t *len)
{
	const char *lt = memchr(s, '<', n), *gt;

	while (lt) {		/* the last '<' */
		const char *next = memchr(lt + 1, '<', n - (size_t)(lt + 1 - s));

		if (!next)
			break;
		lt = next;
	}
	if (lt) {
		gt = memchr(lt, '>', n - (size_t)(lt - s));
		n = gt ? (size_t)(gt - lt - 1) : n - (size_t)(lt - s) - 1;
		s = lt + 1;
	}
	while (n && blank(*s)) {
		s++;
		n--;
	}
	while (n && blank(s[n - 1]))
		n--;
	*len = n;
	return s;
}

size_t addr_mailbox(char out[ADDR_MAX + 1], const char *in, int keep_tags)
{
	size_t n, o = 0;
	const char *s = core(in ? in : "", in ? strlen(in) : 0, &n);
	const char *at = n ? memchr(s, '@', n) : NULL;
	int in_tag = 0;

	out[0] = '\0';
	if (!at || at == s || n > ADDR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (s + i == at)
			in_tag = 0;
		else if (c == '+' && s + i < at && !keep_tags)
			in_tag = 1;
		if (in_tag)
			continue;
		out[o++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[o] = '\0';
	return o;
}

int addr_same(const char *a, const char *b, int keep_tags)
{
	char x[ADDR_MAX + 1], y[ADDR_MAX + 1];

	if (!addr_mailbox(x, a, keep_tags) || !addr_mailbox(y, b, keep_tags))
		return 0;
	return !strcmp(x, y);
}

int addr_in_list(const char *list, const char *email, int keep_tags)
{
	char one[ADDR_MAX + 1];

	while (list && *list) {
		size_t n = strcspn(list, ",");

		if (n && n <= ADDR_MAX) {
			memcpy(one, list, n);
			one[n] = '\0';
			if (addr_same(one, email, keep_tags))
				return 1;
		}
		list += n + (list[n] == ',');
	}
	return 0;
}
