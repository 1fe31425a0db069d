/* util.c - diagnostics and allocation helpers (see util.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "utf8.h"
#include "util.h"

/* One line on stderr.  Messages quote values from results and gate files,
 * so the line is escaped (utf8_escape): no control or bidi character can
 * break it, recolour the terminal or forge a CI log line. */
__attribute__((format(printf, 2, 0)))
static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char line[4096], *shown;

	vsnprintf(line, sizeof(line), fmt, ap);
	shown = utf8_escape_dup(line, NULL);
	fprintf(stderr, "%s%s\n", prefix, shown);
	free(shown);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("greenlight: ", fmt, ap);
	va_end(ap);
	return -1;
}

int warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("greenlight: warning: ", fmt, ap);
	va_end(ap);
	return 0;
}

void notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("greenlight: ", fmt, ap);
	va_end(ap);
}

int error_at(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return -1;
}

static void *oom(size_t n)
{
	fprintf(stderr, "greenlight: out of memory (allocating %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom(n);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	return p ? p : oom(n * size);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	return q ? q : oom(n);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

size_t strlcpy_gl(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int parse_bool(const char *s, int *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no") || !*s) {
		*out = 0;
		return 0;
	}
	return -1;
}

int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!*p)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -1;
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': mul = 1ULL << 10; p++; break;
	case 'm': case 'M': mul = 1ULL << 20; p++; break;
	case 'g': case 'G': mul = 1ULL << 30; p++; break;
	default: return -1;
	}
	if (*p == 'i' && mul > 1)
		p++;
	if ((*p == 'B' || *p == 'b') && mul > 1)
		p++;
	if (*p)
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], tmp;

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb];
}

const char *suggest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t limit = strlen(word) / 3;

	if (limit < 1)
		limit = 1;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, candidates[i]);

		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

int parse_duration(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 100000000)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s || v == 0 || p[0] == '\0' || p[1] != '\0')
		return -1;
	switch (*p) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -1;
	}
	*out = v * mul;
	return 0;
}

void format_rfc3339(time_t t, char *out, size_t n)
{
	struct tm tm;

	if (!n)
		return;
	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

int fail_into(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (size) {
		va_start(ap, fmt);
		vsnprintf(buf, size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Whether url's host is this machine: 127.0.0.0/8, localhost or [::1].
 * An authority with user information ("127.0.0.1:1@host") names another
 * host (libcurl connects to the part after '@'): never loopback, nor one
 * with a backslash, which libcurl reads as part of the authority. */
int url_is_loopback(const char *url)
{
	const char *h = strstr(url, "://");
	size_t n;

	if (!h)
		return 0;
	h += 3;
	n = strcspn(h, "/?#");
	if (memchr(h, '@', n) || memchr(h, '\\', n))
		return 0;
	n = strcspn(h, ":/?#");
	if (*h == '[')
		return !strncmp(h, "[::1]", 5);
	return (n == 9 && !strncasecmp(h, "localhost", 9)) ||
	       (n >= 7 && !strncmp(h, "127.", 4) &&
		strspn(h, "0123456789.") == n);
}
