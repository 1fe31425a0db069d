/* backend_local.c - the request operations of the backends that keep
 * requests in the gate's own store (listen and mail; see backend.h). */
#include <string.h>

#include "backend.h"
#include "util.h"

int local_get(struct store *s, const char *id, struct store_request *out)
{
	char copy[sizeof(out->id)];

	strlcpy_gl(copy, id, sizeof(copy));	/* id may point into *out */
	store_request_release(out);
	return store_request_get(s, copy, time(NULL), out) ? -1 : 0;
}

int local_put(struct store *s, const struct store_new_request *nr,
	      struct store_request *out, int *created, struct store_request *prev)
{
	int rc;

	memset(prev, 0, sizeof(*prev));
	if (store_request_put(s, nr, out, created))
		return -1;
	if (!*created)
		return 0;
	rc = store_request_previous(s, nr->tenant, nr->subject, out->id, prev);
	return rc == STORE_OK || rc == STORE_NOT_FOUND ? 0 : -1;
}

int local_rekey(struct store *s, const char *id, const struct store_recipient *sr,
		size_t n, struct store_request *out)
{
	if (store_request_rekey(s, id, sr, n))
		return -1;
	return local_get(s, id, out);
}

int local_reopen(struct store *s, const char *id, time_t deadline,
		 const struct store_recipient *sr, size_t n, struct store_request *out)
{
	if (store_request_reopen(s, id, deadline, sr, n))
		return -1;
	return local_get(s, id, out);
}

int local_notified(struct store *s, const char *id)
{
	return store_request_set_notified(s, id, 1) ? -1 : 0;
}
