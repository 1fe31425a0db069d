/* store_url.c - telling a database URL from a SQLite path, and showing a
 * URL without its password (store.h).
 *
 * A --db value naming a postgres:// or postgresql:// URL opens PostgreSQL;
 * anything else is the path of a SQLite file.  A URL may carry a password
 * (in its user information or a password= parameter): it is never printed,
 * only store_redact()'s form of it.
 */
#include <string.h>

#include "buf.h"
#include "store.h"
#include "util.h"

int store_is_url(const char *s)
{
	return s && (!strncmp(s, "postgres://", 11) ||
		     !strncmp(s, "postgresql://", 13));
}

void store_redact(const char *db, char *out, size_t size)
{
	const char *p = db ? strstr(db, "://") : NULL;
	const char *auth, *end, *at, *colon, *pw;
	struct buf b = BUF_INIT(size);

	if (!size)
		return;
	if (!p) {
		strlcpy_gl(out, db ? db : "", size);
		return;
	}
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (const char *q = auth; q < end; q++)
		if (*q == '@')
			at = q;
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		buf_add(&b, db, (size_t)(colon - db));
		buf_adds(&b, ":***");
		buf_adds(&b, at);
	} else {
		buf_adds(&b, db);
	}
	/* password=... in the query string */
	pw = b.data ? strstr(b.data, "password=") : NULL;
	if (pw) {
		size_t keep = (size_t)(pw - b.data) + 9;
		size_t skip = keep + strcspn(b.data + keep, "&");
		struct buf c = BUF_INIT(size);

		buf_add(&c, b.data, keep);
		buf_adds(&c, "***");
		buf_adds(&c, b.data + skip);
		buf_release(&b);
		b = c;
	}
	strlcpy_gl(out, b.data ? b.data : "", size);
	buf_release(&b);
}
