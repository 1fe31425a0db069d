/* relay_client.h - the gate's side of the relay protocol (libcurl).
 *
 * Outbound HTTP(S) only; see docs/relay-protocol.md.  One client keeps one
 * curl handle (and its connection) for the whole run.  A client may know
 * several relays of ONE shared database (a comma-separated list, at most
 * RELAY_MAX_URLS): it uses the one that answered last, and on a connection
 * error, a timeout or a 5xx it moves on to the next (round-robin, one line
 * on stderr per switch).  Connection errors, timeouts, 5xx and 429 are
 * retried with exponential backoff and jitter (after each full round of
 * the list) until the caller's give-up time, honouring Retry-After up to
 * 30 s; other answers (4xx) are returned at once and never failed over.
 * The bearer token is sent only in the Authorization header and is never
 * printed.
 */
#ifndef GREENLIGHT_RELAY_CLIENT_H
#define GREENLIGHT_RELAY_CLIENT_H

#include <signal.h>
#include <time.h>
#include <cjson/cJSON.h>

struct relay_client;

#define RELAY_MAX_URLS 8
#define RELAY_URL_MAX 1024		/* bytes per URL */

/* A list of relay URLs, parsed and checked (pure; for settings and tests). */
struct relay_urls {
	size_t n;
	char *url[RELAY_MAX_URLS];	/* trailing slashes removed */
};

/* Split `list` at commas (blanks around entries ignored) and check each
 * entry: https://HOST..., or http:// to this machine (url_is_loopback), or
 * any http:// when `insecure`; no blanks or controls inside; 1 to
 * RELAY_MAX_URLS entries, none twice.  Returns 0 (*u filled; release it),
 * or -1 with *u empty, a reason in why and in *bad the 0-based index of
 * the entry at fault (or -1 when the list as a whole is wrong). */
int relay_urls_parse(struct relay_urls *u, const char *list, int insecure,
		     int *bad, char *why, size_t whylen);

void relay_urls_release(struct relay_urls *u);

/* The failover choice (pure): which relay to try next and how long to
 * wait first.  cur is the relay in use; failed counts attempts that got
 * no answer since the last answer. */
struct relay_failover {
	size_t n, cur;
	unsigned failed;
	long backoff_ms;		/* next full round's backoff, before jitter */
	long long retry_at_ms[RELAY_MAX_URLS];	/* not before (Retry-After) */
};

#define RELAY_BACKOFF_FIRST_MS 500L
#define RELAY_BACKOFF_MAX_MS 30000L
#define RELAY_RETRY_AFTER_MAX_MS 30000L

void relay_failover_init(struct relay_failover *f, size_t n);

/* An answer came (any status that is not retried): start afresh. */
void relay_failover_answered(struct relay_failover *f);

/* The attempt on f->cur got no answer at now_ms.  retry_after_ms is the
 * relay's Retry-After (0 if none; capped at RELAY_RETRY_AFTER_MAX_MS);
 * move_on is 0 for a 429 (an answer from a busy relay: retried there)
 * and 1 otherwise.  Sets f->cur to the relay to try next (the next one in
 * the list when move_on, round-robin) and returns the milliseconds to wait
 * before trying it: nothing while the round of the list is not complete,
 * the jittered backoff (rnd: a random number) after each full round, and
 * at least until that relay's Retry-After. */
long relay_failover_next(struct relay_failover *f, long long now_ms,
			 long retry_after_ms, int move_on, unsigned rnd);

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
 * trailing path), or for several relays of one database ("https://a,
 * https://b": relay_urls_parse without its http rule, which the settings
 * apply).  ca_file may be NULL (system store).  `stop` is polled during
 * transfers and backoff; when it becomes non-zero the call returns
 * RELAY_INTERRUPTED.  Returns NULL with a reason in err. */
struct relay_client *relay_client_new(const char *base_url, const char *bearer,
				      const char *ca_file,
				      volatile sig_atomic_t *stop,
				      char *err, size_t errlen);

void relay_client_free(struct relay_client *c);

/* The first relay URL of the list (the one review links name when there
 * is no public_url), trailing slashes removed. */
const char *relay_client_first_url(const struct relay_client *c);

/* POST /v1/requests.  *out receives the request object (caller deletes),
 * *created whether the relay made a new one (201) or found one (200).
 * Registration is idempotent by key, so a retry on another relay of the
 * same database finds the request the first one may have made.  With
 * several relays, every other relay that answers at once is then asked
 * for the request (GET, no wait): one that does not know it (404) is on
 * another database, and the call fails with one line (RELAY_ERROR).  From
 * then on a 404 for this request from a relay other than the one that
 * registered it is reported the same way. */
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
