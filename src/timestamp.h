/* timestamp.h - RFC 3339 timestamps as ASL Choice rules read them.
 *
 * Only the profile AWS documents is accepted:
 * YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm), uppercase T and Z, every
 * field two digits (four for the year), 1-9 fraction digits, no leap second,
 * the day checked against the month (leap years included).  A parsed
 * timestamp is an instant: the offset is applied, so equal instants written
 * in different zones compare equal.  Pure: no I/O, no clocks, no locale.
 */
#ifndef GREENLIGHT_TIMESTAMP_H
#define GREENLIGHT_TIMESTAMP_H

#include <stdint.h>

struct timestamp {
	int64_t sec;	/* seconds since 1970-01-01T00:00:00Z */
	int32_t nsec;	/* 0..999999999 */
};

/* Parse `s` (NUL-terminated) into *t.  Returns 0, or -1 when s is not a
 * timestamp of the profile above; then *why (when why is not NULL) points
 * to a static phrase saying what is wrong, e.g. "no time zone offset (add Z
 * or +hh:mm)", and *t is unspecified. */
int ts_parse(struct timestamp *t, const char *s, const char **why);

/* <0, 0 or >0 as instant a is before, equal to or after instant b. */
int ts_cmp(const struct timestamp *a, const struct timestamp *b);

#endif
