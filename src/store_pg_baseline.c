/* store_pg_baseline.c - PostgreSQL: baseline documents the relay keeps
 * per tenant, repository, gate and commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_pg_int.h"
#include "util.h"


int pg_baseline_put(struct store *b, const char *tenant,
		    const char *repository, const char *gate,
		    const char *commit, const char *doc_json,
		    time_t recorded)
{
	struct pg_store *s = PG(b);
	char t[24];
	const char *params[6] = { tenant, repository, gate, commit, doc_json, t };

	if (!store_baseline_key_ok(tenant, repository, gate, commit) ||
	    !doc_json || !*doc_json || strlen(doc_json) > STORE_MAX_BASELINE)
		return error("store: a baseline needs a tenant, repository, gate,"
			     " 40 hex digit commit and a document of at most %d"
			     " bytes", STORE_MAX_BASELINE);
	if (pg_ready(s))
		return STORE_ERROR;
	snprintf(t, sizeof(t), "%lld", (long long)recorded);
	return pg_run(s, "store baseline", "INSERT INTO baselines(tenant,"
		      " repository, gate, commit_id, document, recorded) VALUES"
		      " ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, repository,"
		      " gate, commit_id) DO UPDATE SET document ="
		      " excluded.document, recorded = excluded.recorded", 6,
		      params, NULL);
}

int pg_baseline_lookup(struct store *b, const char *tenant,
		       const char *repository, const char *gate,
		       const char *const *commits, size_t n,
		       store_baseline_fn fn, void *ud)
{
	struct pg_store *s = PG(b);
	int rc = STORE_OK;

	if (pg_begin(s, 0))
		return STORE_ERROR;
	for (size_t i = 0; i < n; i++) {
		const char *params[4] = { tenant, repository, gate, commits[i] };
		PGresult *res = pg_query(s, "read baseline", "SELECT document FROM"
				   " baselines WHERE tenant = $1 AND repository"
				   " = $2 AND gate = $3 AND commit_id = $4", 4,
				   params);
		int stop = 0;

		if (!res) {
			rc = STORE_ERROR;
			break;
		}
		if (PQntuples(res) == 1)
			stop = fn(ud, i, PQgetvalue(res, 0, 0),
				  (size_t)PQgetlength(res, 0, 0)) != 0;
		PQclear(res);
		if (stop)
			break;
	}
	return pg_finish(s, rc, 0);
}
