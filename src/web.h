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
 * X-Content-Type-Options: nosniff.  Bodies and headers are size-capped;
 * connections are limited in all and per client address, and each request
 * must arrive whole within a deadline (slow clients cannot hold the
 * server).
 * With a certificate and key (web_config.tls_*), it serves HTTPS (GnuTLS,
 * through libmicrohttpd).
 */
#ifndef GREENLIGHT_WEB_H
#define GREENLIGHT_WEB_H

#include <stddef.h>

#include "store.h"

struct web;
struct MHD_Connection;
struct MHD_Response;

/* Limits; a 0 in the matching web_config field picks the default. */
#define WEB_DEFAULT_LISTEN "127.0.0.1:8080"
#define WEB_MAX_BODY 8192		/* bytes of a POSTed form (else 413) */
#define WEB_MAX_PAIRS 16		/* name=value pairs in a form */
#define WEB_MAX_CONNECTIONS 128	/* open connections in all */
#define WEB_PER_IP_CONNECTIONS 8	/* open connections per client address */
#define WEB_TIMEOUT_S 30		/* idle connection timeout */
#define WEB_REQUEST_DEADLINE_S 10	/* to receive a whole request (below) */
#define WEB_MEMORY_LIMIT (32 * 1024)	/* per connection: request line + headers */
#define WEB_LISTEN_BACKLOG 64		/* pending connections the kernel queues */

struct web_config {
	const char *listen;		/* "127.0.0.1:8080"; port 0 picks one */
	const char *public_url;		/* origin reviewers use, for the Origin
					 * check; NULL: derive from listen */
	const char *store_path;		/* the server opens its own connection */
	/* Called (from the server's thread) after a decision was committed. */
	void (*on_decision)(void *ud, const char *request_id);
	void *ud;

	/* Optional limits (0: the WEB_* default). */
	unsigned max_connections;
	unsigned per_ip_connections;
	unsigned timeout_s;
	/* Seconds a connection has to deliver a whole request (headers and
	 * body), counted from its accept or from the end of its previous
	 * response; past it the connection is closed, however busy it is.
	 * A request the handler has in full (a held long-poll included) is
	 * no longer subject to it. */
	unsigned request_deadline_s;
	unsigned threads;		/* worker threads; default 1 */
	unsigned listen_backlog;	/* listen(2) backlog; default 64 */
	size_t memory_limit;		/* per connection; default 32 KiB */

	/* Optional HTTPS: PEM text of the certificate (chain) and its private
	 * key, both or neither.  The origin derived from listen is then
	 * https://.  NULL: plain HTTP. */
	const char *tls_cert_pem;
	const char *tls_key_pem;

	/* Optional: called with the status of every response the review
	 * pages and /healthz queue (not the api()'s own), for metrics. */
	void (*on_response)(void *ud, unsigned status);

	/* Optional: whether this server can do its work now (the relay: its
	 * database answers); 0 yes.  /healthz answers 503 when it says no,
	 * so a load balancer stops sending calls that would fail. */
	int (*healthy)(void *ud);

	/* Optional extension (the relay's API): a request for a path other
	 * than /r/... and /healthz is handed to api() with libmicrohttpd's
	 * access-handler arguments; it returns MHD_YES or MHD_NO.  *cls is
	 * the handler's own per-request pointer; api_done(ud, *cls) is called
	 * when the request ends.  Suspending connections is allowed; resume
	 * them all before web_stop().  NULL: such paths get 404. */
	int (*api)(void *ud, struct MHD_Connection *c, const char *url,
		   const char *method, const char *upload_data,
		   size_t *upload_data_size, void **cls);
	void (*api_done)(void *ud, void *cls);
};

/* Bind the listening socket (connections queue in the kernel from now
 * on) without starting the server thread, so that the caller can still
 * fork safely; web_port() is known.  web_run() starts serving.  Returns
 * NULL after reporting an error. */
struct web *web_bind(const struct web_config *cfg);

/* Start the server thread on a bound web.  Returns 0, or -1 (reported). */
int web_run(struct web *w);

/* web_bind() and web_run() in one.  listen is "HOST:PORT" or "[IPv6]:PORT" (NULL:
 * WEB_DEFAULT_LISTEN), bound exactly as given.  The Origin check compares
 * against public_url's scheme://host[:port]; without public_url, against
 * http://HOST:PORT of the bound address.  cfg's strings are not kept.
 * Returns NULL after reporting an error (bad address, port in use, store
 * cannot be opened); nothing is left running then. */
struct web *web_start(const struct web_config *cfg);

/* The port actually bound (useful with port 0). */
unsigned web_port(const struct web *w);

/* Stop serving and free everything. */
void web_stop(struct web *w);

/* Add the headers every response carries (Content-Type: content_type,
 * Cache-Control: no-store, Referrer-Policy: no-referrer, nosniff, a CSP
 * that allows nothing, frame-ancestors 'none') to a response made by an
 * api() handler.  Returns 0, or -1 if libmicrohttpd refused one (the
 * response may then hold some of them). */
int web_response_headers(struct MHD_Response *r, const char *content_type);

/* Whether a Content-Type header value is `want` (case-insensitive, with
 * optional parameters after ';').  NULL is never. */
int web_content_type_is(const char *ct, const char *want);

/* Whether a Content-Length header value is unreadable or over max.  NULL
 * (no header) is not. */
int web_length_over(const char *cl, unsigned long long max);

/* Parse application/x-www-form-urlencoded text (pure; exposed for tests and
 * fuzzing).  Calls fn for each name=value pair after percent-decoding;
 * returns 0, or -1 on malformed input (bad %XX escape, NUL byte, more than
 * `max_pairs` pairs) or when fn returns non-zero (parsing stops there).
 * '+' decodes to a space; empty pairs ("a=1&&b=2") are skipped; a name
 * without '=' has the empty value.  Names and values passed to fn live
 * only until fn returns. */
int form_parse(const char *body, size_t len, size_t max_pairs,
	       int (*fn)(void *ud, const char *name, const char *value),
	       void *ud);

#endif
