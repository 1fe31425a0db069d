/* util.h - diagnostics and small helpers shared by every module.
 *
 * Diagnostics go to stderr as one line each.  error() and warning() return
 * -1 and 0 so that callers can write `return error(...)`.  Only commands
 * decide exit codes; library code reports and returns.
 */
#ifndef GREENLIGHT_UTIL_H
#define GREENLIGHT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Exit codes: a public API, documented in docs/exit-codes.md. */
enum gl_exit {
	GL_EXIT_PASS = 0,	/* no rule fired, or approved */
	GL_EXIT_FAIL = 1,	/* hard-fail rule fired, or rejected */
	GL_EXIT_USAGE = 2,	/* bad usage or bad input */
	GL_EXIT_TIMEOUT = 3,	/* timed out waiting for a decision */
	GL_EXIT_INFRA = 4,	/* infrastructure failure after retries */
	GL_EXIT_REVIEW = 5,	/* review needed, not decided */
};

/* "greenlight: <message>" on stderr; returns -1. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "greenlight: warning: <message>" on stderr; returns 0. */
int warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "greenlight: <message>" on stderr, for what is neither an error nor a
 * warning but quotes outside values (escaped like the others). */
void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A message with no prefix (it already names a file:line:col); returns -1. */
int error_at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write a reason into buf (size bytes; nothing when size is 0) for a
 * caller to report, and return -1: the pure modules' way to fail. */
int fail_into(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Allocation that never returns NULL: aborts with a message on failure
 * (out of memory is not a recoverable condition for a CLI). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Copy at most size-1 bytes and NUL-terminate; returns strlen(src). */
size_t strlcpy_gl(char *dst, const char *src, size_t size);

/* Parse a switch: "true", "1", "yes" set *out to 1; "false", "0", "no"
 * and "" to 0; anything else returns -1 and leaves *out alone. */
int parse_bool(const char *s, int *out);

/* Parse a size like "64M", "1G", "4096" into *out; -1 on bad syntax. */
int parse_size(const char *s, uint64_t *out);

/* The candidate closest to `word` by edit distance, if it is close enough to
 * be a plausible typo (distance <= 1/3 of the length, at least 1), or NULL. */
const char *suggest(const char *word, const char *const *candidates, size_t n);

/* t as RFC 3339 UTC with seconds ("2026-11-26T16:20:00Z") into out, which
 * must hold 21 bytes (UTIL_RFC3339_SIZE). */
#define UTIL_RFC3339_SIZE 21
/* Milliseconds on the monotonic clock (for deadlines and timeouts). */
uint64_t mono_ms(void);

void format_rfc3339(time_t t, char *out, size_t n);

/* Parse a duration: a positive integer followed by s, m, h or d ("90s",
 * "15m", "2h", "7d").  Returns 0 and seconds in *out, or -1. */
int parse_duration(const char *s, uint64_t *out);

/* Whether url's host is this machine: 127.0.0.0/8, localhost or [::1],
 * for the rules that allow plain http only there (relay, mailbox, chat
 * webhooks).  An authority with user information ("127.0.0.1:1@host")
 * names another host, and so does one with a backslash: never loopback. */
int url_is_loopback(const char *url);

#endif
