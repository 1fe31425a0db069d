/* relay_client.h - the gate's side of the relay protocol (libcurl).
 *
 * Outbound HTTP(S) only; see docs/relay-protocol.md.  One client keeps one
 * curl handle (and its connection) for the whole run.  Connection errors,
 * timeouts, 5xx and 429 are retried with exponential backoff and jitter
 * until the caller's give-up time; other answers are returned at once.
 * The bearer token is sent only in the Authorization header and is never
 * printed.
 */
#ifndef GREENLIGHT_RELAY_CLIENT_H
#define GREENLIGHT_RELAY_CLIENT_H

#include <signal.h>
#include <time.h>
#include <cjson/cJSON.h>

struct relay_client;

enum relay_result {
	RELAY_OK = 0,
	RELAY_ERROR = -1,	/* reported: retries used up, or a hard error */
	RELAY_NOT_FOUND = -2,	/* 404 for the request id */
	RELAY_CONFLICT = -3,	/* 409 */
	RELAY_INTERRUPTED = -4,	/* *stop became non-zero */
	RELAY_FORBIDDEN = -5,	/* 403 from a baseline call (not reported):
				 * the repository is outside the token's scope */
};

/* A client for the relay at base_url ("https://relay.example.com", no
 * trailing path).  ca_file may be NULL (system store).  `stop` is polled
 * during transfers and backoff; when it becomes non-zero the call returns
 * RELAY_INTERRUPTED.  Returns NULL with a reason in err. */
struct relay_client *relay_client_new(const char *base_url, const char *bearer,
				      const char *ca_file,
				      volatile sig_atomic_t *stop,
				      char *err, size_t errlen);

void relay_client_free(struct relay_client *c);

/* POST /v1/requests.  *out receives the request object (caller deletes),
 * *created whether the relay made a new one (201) or found one (200). */
int relay_register(struct relay_client *c, const cJSON *body, time_t give_up,
		   cJSON **out, int *created);

/* GET /v1/requests/<id>?wait=N (0..60). */
int relay_get(struct relay_client *c, const char *id, int wait, time_t give_up,
	      cJSON **out);

/* POST /v1/requests/<id>/rekey with {"recipients", "deadline"}. */
int relay_rekey(struct relay_client *c, const char *id, const cJSON *body,
		time_t give_up, cJSON **out);

/* POST /v1/requests/<id>/notified. */
int relay_notified(struct relay_client *c, const char *id, time_t give_up);

/* PUT /v1/baselines with {"repository", "document"}: RELAY_OK (204), or
 * RELAY_FORBIDDEN, or another result (reported). */
int relay_put_baseline(struct relay_client *c, const cJSON *body, time_t give_up);

/* POST /v1/baselines/lookup with {"repository", "gate", "commits",
 * "limit"}: *out receives the answer object (untrusted: the caller
 * validates every record), or RELAY_FORBIDDEN, or another result. */
int relay_lookup_baselines(struct relay_client *c, const cJSON *body,
			   time_t give_up, cJSON **out);

#endif
