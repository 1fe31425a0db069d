/* store_pg_notify.c - PostgreSQL: notifications claimed for a request, and
 * recipients added by escalation (store.h, "notifications").
 *
 * A claim is one INSERT ... ON CONFLICT DO NOTHING, committed before the
 * caller sends: of two relays (or a relay and a gate) racing for the same
 * (request, kind, recipient, sequence) exactly one sees its row inserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "util.h"

#define NOTIFY_KEY_SQL \
	" request_id = $1 AND kind = $2 AND lower(recipient) = lower($3)" \
	" AND seq = $4"

int pg_notify_claim(struct store *b, const char *id, const char *kind,
		    const char *recipient, long seq, time_t now)
{
	struct pg_store *s = PG(b);
	char q[24], t[24];
	const char *params[5] = { id, kind, recipient, q, t };
	long changed = 0;

	if (pg_ready(s))
		return STORE_ERROR;
	snprintf(q, sizeof(q), "%ld", seq);
	snprintf(t, sizeof(t), "%lld", (long long)now);
	if (pg_run(s, "claim notification", "INSERT INTO notifications("
		   "request_id, kind, recipient, seq, claimed) VALUES ($1, $2,"
		   " $3, $4, $5) ON CONFLICT DO NOTHING", 5, params, &changed))
		return STORE_ERROR;
	return changed == 1;
}

int pg_notify_claimed(struct store *b, const char *id, const char *kind,
		      const char *recipient, long seq)
{
	struct pg_store *s = PG(b);
	char q[24];
	const char *params[4] = { id, kind, recipient, q };
	PGresult *res;
	int found;

	if (pg_ready(s))
		return STORE_ERROR;
	snprintf(q, sizeof(q), "%ld", seq);
	res = pg_query(s, "read notification", "SELECT 1 FROM notifications"
		       " WHERE" NOTIFY_KEY_SQL, 4, params);
	if (!res)
		return STORE_ERROR;
	found = PQntuples(res) > 0;
	PQclear(res);
	return found;
}

int pg_notify_unclaim(struct store *b, const char *id, const char *kind,
		      const char *recipient, long seq)
{
	struct pg_store *s = PG(b);
	char q[24];
	const char *params[4] = { id, kind, recipient, q };

	if (pg_ready(s))
		return STORE_ERROR;
	snprintf(q, sizeof(q), "%ld", seq);
	return pg_run(s, "release notification", "DELETE FROM notifications"
		      " WHERE" NOTIFY_KEY_SQL, 4, params, NULL);
}

int pg_notify_candidates(struct store *b, time_t since, char (**ids)[33],
			 size_t *n)
{
	struct pg_store *s = PG(b);
	char t[24];
	const char *params[1] = { t };
	PGresult *res;

	*ids = NULL;
	*n = 0;
	if (pg_ready(s))
		return STORE_ERROR;
	snprintf(t, sizeof(t), "%lld", (long long)since);
	res = pg_query(s, "list requests to notify", "SELECT id FROM requests"
		       " WHERE strpos(facts_json, '\"notifications\":{\"by\":"
		       "\"relay\"') > 0 AND (state = 'pending' OR decided_at >= $1)"
		       " ORDER BY created LIMIT 10000", 1, params);
	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) > 0) {
		*n = (size_t)PQntuples(res);
		*ids = xcalloc(*n, sizeof(**ids));
		for (size_t i = 0; i < *n; i++)
			pg_text(res, (int)i, 0, (*ids)[i], sizeof((*ids)[i]));
	}
	PQclear(res);
	return STORE_OK;
}

/* Asked already for that team: the new token replaces the old (the old
 * link stops working); else a new recipient. */
static int add_one(struct pg_store *s, const char *id,
		   const struct store_recipient *r)
{
	const char *params[4] = { id, r->email, r->team, r->token_hash };
	long changed = 0;

	if (pg_run(s, "replace a recipient's token", "UPDATE recipients SET"
		   " token_hash = $4 WHERE request_id = $1 AND lower(email) ="
		   " lower($2) AND team = $3", 4, params, &changed))
		return STORE_ERROR;
	return changed ? STORE_OK : pg_insert_recipient(s, id, r);
}

static int add_txn(struct pg_store *s, const char *id,
		   const struct store_recipient *r, size_t n)
{
	int rc = pg_lock_pending(s, id);

	for (size_t i = 0; !rc && i < n; i++)
		rc = add_one(s, id, &r[i]);
	return rc;
}

int pg_recipients_add(struct store *b, const char *id,
		      const struct store_recipient *r, size_t n)
{
	struct pg_store *s = PG(b);

	if (store_check_recipients(r, n))
		return STORE_ERROR;
	if (pg_begin(s, 1))
		return STORE_ERROR;
	return pg_finish(s, add_txn(s, id, r, n), 1);
}
