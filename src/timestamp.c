/* timestamp.c - strict RFC 3339 parsing and instant comparison (timestamp.h).
 *
 * The parser reads left to right with a cursor and never looks past the
 * terminating NUL; each failure names the first thing that is wrong.  Dates
 * become days since 1970-01-01 with the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil), so no libc time function is involved.
 */
#include <stddef.h>

#include "timestamp.h"

struct cursor {
	const char *p;
	const char *why;	/* set on failure */
};

static int bad(struct cursor *c, const char *why)
{
	c->why = why;
	return -1;
}

/* Exactly n decimal digits into *v. */
static int digits(struct cursor *c, int n, int *v, const char *why)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++, c->p++) {
		if (*c->p < '0' || *c->p > '9')
			return bad(c, why);
		*v = *v * 10 + (*c->p - '0');
	}
	if (*c->p >= '0' && *c->p <= '9')
		return bad(c, why);
	return 0;
}

static int expect(struct cursor *c, char ch, const char *why)
{
	if (*c->p != ch)
		return bad(c, why);
	c->p++;
	return 0;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static int parse_date(struct cursor *c, int64_t *days)
{
	int y, m, d;

	if (digits(c, 4, &y, "the year needs four digits (YYYY-MM-DD)") ||
	    expect(c, '-', "the date needs the form YYYY-MM-DD") ||
	    digits(c, 2, &m, "the month needs two digits (YYYY-MM-DD)") ||
	    expect(c, '-', "the date needs the form YYYY-MM-DD") ||
	    digits(c, 2, &d, "the day needs two digits (YYYY-MM-DD)"))
		return -1;
	if (m < 1 || m > 12)
		return bad(c, "the month is not 01-12");
	if (d < 1 || d > days_in_month(y, m))
		return bad(c, "the day does not exist in that month");
	*days = days_from_civil(y, m, d);
	return 0;
}

static int parse_separator(struct cursor *c)
{
	if (*c->p == '\0')
		return bad(c, "date only; add a time and offset, as in "
			   "T01:59:00Z");
	if (*c->p == 't')
		return bad(c, "lowercase t; write an uppercase T");
	if (*c->p == ' ')
		return bad(c, "a space separates date and time; write T");
	return expect(c, 'T', "expected T after the date");
}

static int parse_time(struct cursor *c, int64_t *secs)
{
	int h, mi, s;

	if (digits(c, 2, &h, "the hour needs two digits (hh:mm:ss)") ||
	    expect(c, ':', "the time needs the form hh:mm:ss") ||
	    digits(c, 2, &mi, "the minute needs two digits (hh:mm:ss)"))
		return -1;
	if (*c->p != ':')
		return bad(c, "missing seconds; write hh:mm:ss");
	c->p++;
	if (digits(c, 2, &s, "the second needs two digits (hh:mm:ss)"))
		return -1;
	if (h > 23)
		return bad(c, "the hour is not 00-23");
	if (mi > 59)
		return bad(c, "the minute is not 00-59");
	if (s > 59)
		return bad(c, "the second is not 00-59 (leap seconds are "
			   "not accepted)");
	*secs = (int64_t)h * 3600 + mi * 60 + s;
	return 0;
}

static int parse_fraction(struct cursor *c, int32_t *nsec)
{
	int n = 0;

	*nsec = 0;
	if (*c->p != '.')
		return 0;
	for (c->p++; *c->p >= '0' && *c->p <= '9'; c->p++, n++) {
		if (n == 9)
			return bad(c, "more than 9 fraction digits");
		*nsec = *nsec * 10 + (*c->p - '0');
	}
	if (n == 0)
		return bad(c, "no digits after the decimal point");
	for (; n < 9; n++)
		*nsec *= 10;
	return 0;
}

static int parse_offset(struct cursor *c, int64_t *secs)
{
	int sign, h, m;

	*secs = 0;
	if (*c->p == 'Z') {
		c->p++;
		return 0;
	}
	if (*c->p == 'z')
		return bad(c, "lowercase z; write an uppercase Z");
	if (*c->p == '\0')
		return bad(c, "no time zone offset; add Z or +hh:mm");
	if (*c->p != '+' && *c->p != '-')
		return bad(c, "expected Z, +hh:mm or -hh:mm after the time");
	sign = *c->p++ == '-' ? -1 : 1;
	if (c->p[0] >= '0' && c->p[0] <= '9' && c->p[1] >= '0' &&
	    c->p[1] <= '9' && c->p[2] >= '0' && c->p[2] <= '9')
		return bad(c, "the offset needs a colon, as in +01:00");
	if (digits(c, 2, &h, "the offset needs the form +hh:mm") ||
	    expect(c, ':', "the offset needs a colon, as in +01:00") ||
	    digits(c, 2, &m, "the offset needs the form +hh:mm"))
		return -1;
	if (h > 23 || m > 59)
		return bad(c, "the offset is out of range (-23:59 to +23:59)");
	*secs = sign * ((int64_t)h * 3600 + m * 60);
	return 0;
}

static int parse_end(struct cursor *c)
{
	return *c->p ? bad(c, "unexpected text after the time zone offset") : 0;
}

int ts_parse(struct timestamp *t, const char *s, const char **why)
{
	struct cursor c = { s, NULL };
	int64_t days, secs, off;

	if (parse_date(&c, &days) || parse_separator(&c) ||
	    parse_time(&c, &secs) || parse_fraction(&c, &t->nsec) ||
	    parse_offset(&c, &off) || parse_end(&c)) {
		if (why)
			*why = c.why;
		return -1;
	}
	t->sec = days * 86400 + secs - off;
	return 0;
}

int ts_cmp(const struct timestamp *a, const struct timestamp *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return 0;
}
