/* relay_metrics.c - the relay's counters and GET /metrics (Prometheus
 * text format 0.0.4).  Counters are atomics updated by every worker
 * thread; the request counts by state are counters the store keeps with
 * every change (four rows, whatever the size of the database).
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "util.h"

#define METRICS_MAX (64 * 1024)


static void metric(struct buf *b, const char *name, const char *type,
		   const char *help, unsigned long v)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n%s %lu\n", name, help, name,
		 type, name, v);
}

static void metric_states(struct relay_api *a, struct buf *b)
{
	struct slot *sl = relay_slot(a);
	long n[4];
	int rc;

	pthread_mutex_lock(&sl->lock);
	rc = store_state_counts(sl->s, n);
	pthread_mutex_unlock(&sl->lock);
	if (rc) {
		atomic_fetch_add(&a->m.errors, 1);
		return;
	}
	buf_adds(b, "# HELP greenlight_relay_requests Requests in the"
		 " database, by state.\n# TYPE greenlight_relay_requests gauge\n");
	for (int i = REQ_PENDING; i <= REQ_EXPIRED; i++)
		buf_addf(b, "greenlight_relay_requests{state=\"%s\"} %ld\n",
			 req_state_name((enum req_state)i), n[i]);
}

static void metric_codes(struct relay_api *a, struct buf *b)
{
	buf_adds(b, "# HELP greenlight_relay_http_responses_total HTTP"
		 " responses, by status code.\n"
		 "# TYPE greenlight_relay_http_responses_total counter\n");
	for (unsigned i = 100; i < NCODES; i++) {
		unsigned long v = atomic_load(&a->m.codes[i]);

		if (v)
			buf_addf(b, "greenlight_relay_http_responses_total"
				 "{code=\"%u\"} %lu\n", i, v);
	}
}

int relay_metrics(struct relay_api *a, struct MHD_Connection *c,
		   const char *method)
{
	struct counters *m = &a->m;
	struct buf b = BUF_INIT(METRICS_MAX);
	size_t len;
	char *text;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return relay_fail_h(a, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			      "method not allowed", MHD_HTTP_HEADER_ALLOW,
			      "GET, HEAD");
	metric(&b, "greenlight_relay_requests_registered_total", "counter",
	       "Requests created by POST /v1/requests.", m->registered);
	metric(&b, "greenlight_relay_requests_reattached_total", "counter",
	       "POST /v1/requests answered with an existing request.",
	       m->reattached);
	metric(&b, "greenlight_relay_decisions_recorded_total", "counter",
	       "Decisions recorded through the review page.", m->decisions);
	metric(&b, "greenlight_relay_requests_expired_total", "counter",
	       "Pending requests settled as expired by the sweep.", m->settled);
	metric(&b, "greenlight_relay_waiters", "gauge",
	       "Long-polls held right now.", relay_api_waiters(a));
	metric(&b, "greenlight_relay_waiters_max", "gauge",
	       "Long-polls held at most (--max-waiters).", a->max_waiters);
	metric(&b, "greenlight_relay_waiters_refused_total", "counter",
	       "Long-polls refused with 429 because --max-waiters were held.",
	       m->waiters_refused);
	metric(&b, "greenlight_relay_auth_failures_total", "counter",
	       "API calls refused with 401.", m->auth_failures);
	metric(&b, "greenlight_relay_errors_total", "counter",
	       "Server errors: 5xx answers (review pages and API) and failed"
	       " sweeps.", m->errors);
	metric(&b, "greenlight_relay_scope_refusals_total", "counter",
	       "Registrations and baseline calls refused because the token may"
	       " not act for the repository.", m->scope_refused);
	metric(&b, "greenlight_relay_baselines_recorded_total", "counter",
	       "Baseline documents stored by PUT /v1/baselines.",
	       m->baselines_recorded);
	metric(&b, "greenlight_relay_baseline_lookups_total", "counter",
	       "Baseline lookups answered (POST /v1/baselines/lookup).",
	       m->baseline_lookups);
	metric(&b, "greenlight_relay_requests_pruned_total", "counter",
	       "Settled requests deleted by retention (--retention).", m->pruned);
	metric(&b, "greenlight_relay_db_pages_reclaimed_total", "counter",
	       "Database pages given back to the file system after pruning.",
	       m->pages_reclaimed);
	metric(&b, "greenlight_relay_retention_seconds", "gauge",
	       "How long settled requests are kept (0: for ever).",
	       (unsigned long)a->retention_s);
	metric(&b, "greenlight_relay_decision_hints_total", "counter",
	       "Changes to requests heard from a shared (PostgreSQL) database,"
	       " made by another relay; each answers the long-polls held for"
	       " that request.", m->hints);
	metric(&b, "greenlight_relay_store_unavailable_total", "counter",
	       "Calls answered 503 because the database could not be reached.",
	       m->unavailable);
	metric(&b, "greenlight_relay_store_watch_interruptions_total", "counter",
	       "Times the connection that hears other relays' decisions was"
	       " lost or re-made (every held long-poll was answered).",
	       m->watch_lost);
	buf_addf(&b, "# HELP greenlight_relay_store The database in use.\n"
		 "# TYPE greenlight_relay_store gauge\n"
		 "greenlight_relay_store{backend=\"%s\"} 1\n",
		 store_backend(a->slots[0].s));
	metric_states(a, &b);
	metric_codes(a, &b);
	if (!b.data)
		return MHD_NO;
	text = buf_detach(&b, &len);
	return relay_queue(a, c, MHD_HTTP_OK, text, len,
		     "text/plain; version=0.0.4; charset=utf-8", NULL, NULL);
}
