/* web.h - review pages and API over HTTP (libmicrohttpd).
 *
 * Used by `greenlight run` in listen mode and by `greenlight relay`.
 *   GET|HEAD /r/<token>   the review page (never changes state)
 *   POST /r/<token>       decide: application/x-www-form-urlencoded with
 *                         decision=approve|reject, nonce, reason (optional)
 *   GET /healthz          "ok"
 * Other methods get 405, unknown tokens 404, decided or expired requests
 * 410.  Every response carries Referrer-Policy: no-referrer, Cache-Control:
 * no-store, a strict Content-Security-Policy with frame-ancestors 'none',
 * X-Content-Type-Options: nosniff.  Bodies and headers are size-capped.
 */
#ifndef GREENLIGHT_WEB_H
#define GREENLIGHT_WEB_H

#include "store.h"

struct web;

struct web_config {
	const char *listen;		/* "127.0.0.1:8080"; port 0 picks one */
	const char *public_url;		/* origin reviewers use, for the Origin
					 * check; NULL: derive from listen */
	const char *store_path;		/* the server opens its own connection */
	/* Called (from the server's thread) after a decision was committed. */
	void (*on_decision)(void *ud, const char *request_id);
	void *ud;
};

/* Start serving.  Returns NULL after reporting an error (bad address, port
 * in use). */
struct web *web_start(const struct web_config *cfg);

/* The port actually bound (useful with port 0). */
unsigned web_port(const struct web *w);

/* Stop serving and free everything. */
void web_stop(struct web *w);

/* Parse application/x-www-form-urlencoded text (pure; exposed for tests and
 * fuzzing).  Calls fn for each name=value pair after percent-decoding;
 * returns 0, or -1 on malformed input (bad %XX escape, NUL byte, more than
 * `max_pairs` pairs). */
int form_parse(const char *body, size_t len, size_t max_pairs,
	       int (*fn)(void *ud, const char *name, const char *value),
	       void *ud);

#endif
