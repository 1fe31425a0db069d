/* utf8.h - UTF-8 text from outside: decode, repair, escape for display.
 *
 * One decoder for the modules that clean or escape text (mime, ci_report,
 * report, diagnostics).  Repair makes any bytes valid UTF-8, so text read
 * from git or a file can go into JSON, HTML, mail and the store.  Escaping
 * makes text safe to write to a terminal or a CI log: characters that
 * move the cursor, end a line, or reorder what is displayed are shown as
 * \uXXXX instead.  Pure: no I/O, no globals.
 */
#ifndef GREENLIGHT_UTF8_H
#define GREENLIGHT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define UTF8_BAD 0xFFFFFFFFu		/* utf8_decode: not a character */
#define UTF8_REPLACEMENT "\xEF\xBF\xBD"	/* U+FFFD as UTF-8 */

/* Decode one UTF-8 sequence from s[0..n), n > 0.  Returns the bytes used;
 * *cp is the code point, or UTF8_BAD for an invalid, truncated, overlong
 * or surrogate sequence (then exactly one byte is used). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* A heap copy of s in which every byte that is not part of a valid UTF-8
 * sequence is replaced by U+FFFD; NULL for NULL.  Valid text is copied
 * unchanged. */
char *utf8_repair(const char *s);

/* Whether code point cp must not reach a terminal or a log as is: C0
 * controls (TAB, LF and CR included), DEL, C1 controls (U+0080-U+009F) and
 * the Unicode Bidi_Control characters (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069).  Returns 1 or 0. */
int utf8_unsafe(uint32_t cp);

/* Append s[0..n) with every utf8_unsafe() character written as a \u
 * escape of four lowercase hex digits ("\u202e", "\u0085", "\u000a") and
 * every invalid byte as U+FFFD; everything else is copied.  The ASCII
 * characters in keep (NULL for none), such as "\n" for a destination that
 * has its own way to show line breaks, are copied too.  A backslash
 * already in s is copied as is.  Returns 0, or a negative buf_status (b
 * released). */
int utf8_escape(struct buf *b, const char *s, size_t n, const char *keep);

/* utf8_escape() of the whole of s as a heap string (never NULL; "" for
 * NULL).  Output is capped at UTF8_ESCAPE_MAX bytes: a longer result is
 * cut at a character boundary and ends in "...". */
#define UTF8_ESCAPE_MAX (256 * 1024)
char *utf8_escape_dup(const char *s, const char *keep);

#endif
