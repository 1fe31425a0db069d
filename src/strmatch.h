/* strmatch.h - the string side of Choice rules: ordering and patterns.
 *
 * str_cmp16() orders UTF-8 strings the way Java's String.compareTo orders
 * them (by UTF-16 code unit), which is how AWS compares String* operands.
 * A strpat is a compiled StringMatches pattern: `*` matches any run of
 * characters (none included), `\*` is a literal star, `\\` a literal
 * backslash, everything else is literal.  Pure: no I/O, no locale.
 */
#ifndef GREENLIGHT_STRMATCH_H
#define GREENLIGHT_STRMATCH_H

#include <stddef.h>

/* <0, 0 or >0 as a sorts before, equal to or after b by UTF-16 code units.
 * Inputs should be valid UTF-8; an invalid byte counts as one unit of its
 * own value (never an error, never a read past the NUL). */
int str_cmp16(const char *a, const char *b);

struct strpat {
	char *lit;	/* the unescaped literal bytes of every segment */
	size_t *end;	/* segment i is lit[end[i-1] .. end[i]) (end[-1] = 0) */
	size_t nseg;	/* number of stars + 1 */
};

/* Compile `pattern`.  Returns 0, or -1 for an open escape (a backslash
 * followed by anything but * or \, or at the end) with a one-line
 * explanation in err; *p is then empty and needs no release. */
int strpat_compile(struct strpat *p, const char *pattern, char *err,
		   size_t errsize);

/* 1 when the whole of s matches, else 0.  Time is O(len(s) * len(pattern))
 * at worst; there is no backtracking beyond that. */
int strpat_match(const struct strpat *p, const char *s);

/* Free the contents of *p. */
void strpat_release(struct strpat *p);

#endif
