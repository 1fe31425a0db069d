/* store_pg_resume.c - PostgreSQL: the resume outbox (store.h, "resumes";
 * the SQLite statements are in store_resume.c, the rules with them).
 *
 * Several relays sweep one database: a claim is an UPDATE of a 'waiting'
 * row, so of two relays claiming the same resume at once the second waits
 * for the first's row lock, finds the row 'calling' and claims nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "util.h"

static void num_text(char *dst, size_t n, long long v)
{
	snprintf(dst, n, "%lld", v);
}

int pg_resume_add(struct store *b, const char *id, const char *tenant,
		  const char *ci, const char *target, const char *match,
		  time_t now)
{
	struct pg_store *s = PG(b);
	char t[24];
	const char *params[6] = { id, tenant ? tenant : "", ci, target, t, match };

	if (pg_ready(s))
		return STORE_ERROR;
	num_text(t, sizeof(t), (long long)now);
	return pg_run(s, "add resume", "INSERT INTO resumes(request_id, tenant,"
		      " ci, target, match, ready, updated) VALUES ($1, $2, $3, $4,"
		      " $6, CASE WHEN $6::text IS NULL THEN 1 ELSE 0 END, $5)"
		      " ON CONFLICT (request_id) DO UPDATE SET ci = excluded.ci,"
		      " target = excluded.target, match = excluded.match,"
		      " ready = excluded.ready, updated = excluded.updated"
		      " WHERE resumes.state = 'waiting'", 6, params, NULL);
}

int pg_resume_attach(struct store *b, const char *ci, const char *match,
		     const char *target, time_t now)
{
	struct pg_store *s = PG(b);
	char t[24];
	const char *params[4] = { ci, match, target, t };
	long changed = 0;

	if (pg_ready(s))
		return STORE_ERROR;
	num_text(t, sizeof(t), (long long)now);
	if (pg_run(s, "attach resume", "UPDATE resumes SET target = $3, ready = 1,"
		   " updated = $4 WHERE seq = (SELECT max(seq) FROM resumes WHERE"
		   " ci = $1 AND match = $2 AND state = 'waiting')", 4, params,
		   &changed))
		return STORE_ERROR;
	return changed == 1;
}

int pg_resume_due(struct store *b, time_t now, size_t max,
		  struct store_resume **out, size_t *n)
{
	struct pg_store *s = PG(b);
	char t[24], m[24];
	const char *params[2] = { t, m };
	PGresult *res;

	*out = NULL;
	*n = 0;
	if (pg_ready(s))
		return STORE_ERROR;
	num_text(t, sizeof(t), (long long)now);
	num_text(m, sizeof(m), (long long)max);
	res = pg_query(s, "list due resumes", "SELECT r.request_id, r.tenant,"
		       " r.ci, r.target, r.attempts, q.state FROM resumes r JOIN"
		       " requests q ON q.id = r.request_id WHERE r.state ="
		       " 'waiting' AND r.ready = 1 AND r.next_at <= $1 AND"
		       " q.state <> 'pending' ORDER BY r.next_at LIMIT $2", 2,
		       params);
	if (!res)
		return STORE_ERROR;
	if (PQntuples(res) > 0) {
		*n = (size_t)PQntuples(res);
		*out = xcalloc(*n, sizeof(**out));
	}
	for (size_t i = 0; i < *n; i++) {
		struct store_resume *r = &(*out)[i];
		int row = (int)i;

		pg_text(res, row, 0, r->request_id, sizeof(r->request_id));
		pg_text(res, row, 1, r->tenant, sizeof(r->tenant));
		pg_text(res, row, 2, r->ci, sizeof(r->ci));
		r->target = xstrdup(PQgetvalue(res, row, 3));
		r->attempts = (int)pg_num(res, row, 4);
		r->outcome = store_state_from_name(PQgetvalue(res, row, 5));
	}
	PQclear(res);
	return STORE_OK;
}

int pg_resume_claim(struct store *b, const char *id, enum req_state outcome,
		    time_t now)
{
	struct pg_store *s = PG(b);
	char t[24];
	const char *params[3] = { id, req_state_name(outcome), t };
	long changed = 0;

	if (pg_ready(s))
		return STORE_ERROR;
	num_text(t, sizeof(t), (long long)now);
	if (pg_run(s, "claim resume", "UPDATE resumes SET state = 'calling',"
		   " outcome = $2, attempts = attempts + 1, updated = $3 WHERE"
		   " request_id = $1 AND state = 'waiting'", 3, params, &changed))
		return STORE_ERROR;
	return changed == 1;
}

int pg_resume_finish(struct store *b, const char *id, enum resume_end end,
		     time_t next_at, time_t now)
{
	static const char *const names[] = { "done", "failed", "waiting" };
	struct pg_store *s = PG(b);
	char nx[24], t[24];
	const char *params[4] = { id, names[end], nx, t };

	if (pg_ready(s))
		return STORE_ERROR;
	num_text(nx, sizeof(nx), (long long)next_at);
	num_text(t, sizeof(t), (long long)now);
	return pg_run(s, "finish resume", "UPDATE resumes SET state = $2,"
		      " next_at = $3, updated = $4 WHERE request_id = $1 AND"
		      " state = 'calling'", 4, params, NULL);
}

int pg_resume_state(struct store *b, const char *id, char state[16],
		    int *attempts)
{
	struct pg_store *s = PG(b);
	const char *params[1] = { id };
	PGresult *res;
	int found;

	*state = '\0';
	*attempts = 0;
	if (pg_ready(s))
		return STORE_ERROR;
	res = pg_query(s, "read resume", "SELECT state, attempts FROM resumes"
		       " WHERE request_id = $1", 1, params);
	if (!res)
		return STORE_ERROR;
	found = PQntuples(res) == 1;
	if (found) {
		pg_text(res, 0, 0, state, 16);
		*attempts = (int)pg_num(res, 0, 1);
	}
	PQclear(res);
	return found ? STORE_OK : STORE_NOT_FOUND;
}
