/* relay_api.h - the relay's JSON API, served through web.c's api() hook.
 *
 * The contract is docs/relay-protocol.md: POST /v1/requests, GET
 * /v1/requests/<id>?wait=N (a long-poll: the connection is suspended and
 * resumed on a decision, at `wait`, at the request's deadline or on
 * shutdown), POST .../rekey and .../notified, PUT /v1/baselines and POST
 * /v1/baselines/lookup (baselines kept per tenant), and GET /metrics.  Every /v1
 * call needs a bearer token, compared in constant time; none is ever
 * logged.  Each token belongs to a tenant, and a request to the tenant
 * that registered it: other tenants' calls about it are 404.  The
 * implementation is split by job (relay_int.h).  The API keeps its own store connections (one per worker thread,
 * each behind a mutex); review-page decisions arrive via relay_api_decided().
 * Suspended connections never time out in libmicrohttpd, so the owner calls
 * relay_api_sweep() a few times a second, and relay_api_shutdown() then
 * relay_api_drain() before web_stop().
 */
#ifndef GREENLIGHT_RELAY_API_H
#define GREENLIGHT_RELAY_API_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RELAY_MAX_BODY (256 * 1024)	/* bytes of a JSON body (else 413) */
#define RELAY_MAX_WAIT 60		/* longest ?wait= in seconds */
#define RELAY_MAX_DEADLINE (366L * 24 * 3600)	/* deadline at most this far ahead */
#define RELAY_TOKEN_MIN 16		/* bytes of a bearer token */
#define RELAY_TOKEN_MAX 256
#define RELAY_MAX_TOKENS 64		/* bearer tokens accepted at once */
#define RELAY_DEFAULT_WAITERS 768	/* long-polls held at once (else 429) */

struct relay_api;
struct MHD_Connection;

struct relay_api_config {
	const char *store_path;		/* opened once per store connection */
	unsigned stores;		/* store connections (worker threads); 0: 1 */
	unsigned max_waiters;		/* 0: RELAY_DEFAULT_WAITERS */
	uint64_t retention_s;		/* settled requests kept this long; 0: for ever */
};

/* Open the API's store connections.  NULL after reporting an error. */
struct relay_api *relay_api_new(const struct relay_api_config *cfg);

/* Close everything.  Call after web_stop(): no request may be running. */
void relay_api_free(struct relay_api *a);

/* Replace the accepted bearer tokens with those in text (docs/relay.md,
 * "Tokens and tenants"): one entry a line, blanks trimmed, empty lines and
 * lines starting with '#' skipped; either "tenant NAME TOKEN PATTERN..."
 * (the token's tenant and the repositories it may register for) or
 * tokens separated by commas, each its own tenant for any repository.  A
 * token is RELAY_TOKEN_MIN..MAX printable ASCII bytes without blanks or
 * commas, listed once.  `from` names the source in errors.  Returns how
 * many tokens are now accepted (>= 1), or -1 after reporting what is wrong
 * and where (never the token itself); the old set then stays. */
int relay_api_set_tokens(struct relay_api *a, const char *text,
			 const char *from);

/* Validate a POST /v1/requests body exactly as the relay does, without a
 * database (pure; for tests and fuzzing).  Returns 0, or -1 with the
 * reason the relay would answer 400 with in why. */
int relay_api_check_register(const char *body, size_t len, time_t now,
			     char *why, size_t whylen);

/* web_config hooks: api, api_done, on_decision, on_response (ud = a). */
int relay_api_handle(void *ud, struct MHD_Connection *c, const char *url,
		     const char *method, const char *upload_data,
		     size_t *upload_data_size, void **cls);
void relay_api_done(void *ud, void *cls);
/* /healthz: 0 when this thread's database connection answers (an O(1)
 * read of the request counts), else -1. */
int relay_api_healthy(void *ud);
void relay_api_decided(void *ud, const char *request_id);
void relay_api_responded(void *ud, unsigned status);

/* Answer every long-poll whose wait or request deadline has come; with
 * `settle`, also store pending requests past their deadline as expired.
 * Returns how many requests were settled, or -1 on a store error
 * (reported; the long-polls were answered anyway). */
long relay_api_sweep(struct relay_api *a, int settle);

/* Retention: delete the settled requests decided at or before `before`
 * (with their decisions, recipients and teams), a batch per write
 * transaction so decisions are never held up for long, then give the
 * freed pages back to the file system a bounded number at a time.
 * Returns how many requests were deleted, or -1 on a store error
 * (reported; what was deleted before it stays deleted). */
long relay_api_prune(struct relay_api *a, time_t before);

/* Refuse new API calls (503) and answer every held long-poll with the
 * request's current state.  Call before web_stop(). */
void relay_api_shutdown(struct relay_api *a);

/* After relay_api_shutdown(): wait up to ms milliseconds until every
 * long-poll it woke has been taken back by libmicrohttpd and answered
 * (MHD_stop_daemon() must not find a suspended connection).  Returns 0, or
 * -1 if some are still pending. */
int relay_api_drain(struct relay_api *a, unsigned ms);

/* Long-polls held right now. */
unsigned relay_api_waiters(struct relay_api *a);

#endif
