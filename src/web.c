/* web.c - review pages over HTTP with libmicrohttpd (see web.h).
 *
 * One MHD daemon (internal polling thread or pool) with a store connection
 * per worker thread, each behind a mutex (SQLite connections are not
 * shared between threads unguarded): reviewers deciding at once reach the
 * store together, and their commits are grouped (store_writer.c).  GET and HEAD only read (a read may settle an expired
 * request: a fact of time, never a choice).  A POST decides through
 * store_decide_ex(), whose commit returns before any response is queued;
 * its body lives in a struct conn until MHD reports the request complete;
 * an api() request gets only a small struct api_conn (the relay may hold
 * thousands of them).
 * Request deadline: every connection still receiving a request sits on a
 * list, oldest first; a sweeper thread shuts down (shutdown(2)) those past
 * web_config.request_deadline_s, and libmicrohttpd then closes them.  See
 * docs/decisions.md ("Request deadline") for why this and not MHD's own
 * timeout.
 * No URL or token is logged; MHD's messages are masked (mhd_log).
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "page.h"
#include "token.h"
#include "util.h"
#include "web.h"

#define MAX_DISCARD (1024 * 1024)	/* body read past the cap, then close */
#define ORIGIN_MAX 300
#define ADDR_MAX 64

#define CSP_STRICT "default-src 'none'; frame-ancestors 'none'; " \
	"base-uri 'none'; form-action 'none'"

/* A connection still receiving a request (on web.receiving) or not. */
struct track {
	struct track *prev, *next;	/* NULL when not on the list */
	int fd;
	uint64_t since_ms;		/* accept, or end of the previous response */
};

/* A store connection and its lock; a worker thread keeps to one. */
struct web_slot {
	pthread_mutex_t lock;
	struct store *store;		/* guarded by lock */
};

struct web {
	struct MHD_Daemon *d;
	struct web_slot *slots;		/* one per worker thread */
	unsigned nslots;
	atomic_uint next_slot;
	struct web_config cfg;		/* callbacks only; strings cleared */
	unsigned port;
	char origin[ORIGIN_MAX];	/* "http://host:port", normalised */
	char csp[320];			/* for HTML pages (style hash) */
	atomic_int inflight;		/* requests between handler and completion */
	int listen_fd;			/* bound, until web_run hands it over */
	char *listen_at;		/* for messages */
	char *tls_cert, *tls_key;	/* PEM copies while the daemon runs */

	/* The request deadline; all below guarded by track_lock, which the
	 * close notification takes too: an fd on the list is still open. */
	pthread_mutex_t track_lock;
	pthread_cond_t sweep_wake;
	struct track receiving;		/* list head: oldest first */
	uint64_t deadline_ms;
	pthread_t sweeper;
	int sweeping, sweep_stop;
};

/* Per-request state (*con_cls), for POSTs and api() requests only: a
 * struct conn or a struct api_conn, told apart by the kind both start with. */
enum conn_kind { CONN_POST = 1, CONN_API, CONN_DEFERRED };

/* *con_cls between the first and second call of a GET or HEAD without a
 * body:
 * libmicrohttpd 0.9.75 closes the connection after any response queued in
 * the first call ("Connection: close"), so answering there would cost every
 * keep-alive client a new TCP connection a request. */
static enum conn_kind deferred = CONN_DEFERRED;

struct api_conn {
	enum conn_kind kind;		/* CONN_API */
	void *api_cls;			/* the api() handler's own pointer */
};

struct conn {
	enum conn_kind kind;		/* CONN_POST */
	struct buf body;
	size_t seen;			/* body bytes received */
	int too_big;
	char token[TOKEN_SIZE];
	char decided_id[33];		/* request whose decision this POST recorded */
};

/* The decision form as posted. */
struct form {
	int decision;			/* -1 missing, 0 reject, 1 approve */
	char *nonce;
	char *reason;
	int bad;			/* repeated field or unknown decision */
};

static const char *const common_headers[][2] = {
	{ "Cache-Control", "no-store" },
	{ "Referrer-Policy", "no-referrer" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "X-Frame-Options", "DENY" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ "Cross-Origin-Resource-Policy", "same-origin" },
};

/* ---- responses ------------------------------------------------------------ */

static int add_headers(struct MHD_Response *r, const char *type,
		       const char *csp)
{
	size_t n = sizeof(common_headers) / sizeof(common_headers[0]);

	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    MHD_add_response_header(r, "Content-Security-Policy", csp) != MHD_YES)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (MHD_add_response_header(r, common_headers[i][0],
					    common_headers[i][1]) != MHD_YES)
			return -1;
	return 0;
}

int web_response_headers(struct MHD_Response *r, const char *content_type)
{
	return add_headers(r, content_type, CSP_STRICT);
}

/* Queue body (taken over, released) with status; allow adds an Allow
 * header.  Returns MHD_NO when MHD cannot take the response. */
static enum MHD_Result respond(struct web *w, struct MHD_Connection *c,
			       unsigned status, struct buf *body,
			       const char *type, const char *csp,
			       const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;
	size_t len;
	char *data = buf_detach(body, &len);

	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	if (add_headers(r, type, csp) == 0 &&
	    (!allow || MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
					       allow) == MHD_YES))
		ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES && w->cfg.on_response)
		w->cfg.on_response(w->cfg.ud, status);
	return ret;
}

static enum MHD_Result respond_html(struct web *w, struct MHD_Connection *c,
				    unsigned status, struct buf *body,
				    const char *allow)
{
	return respond(w, c, status, body, "text/html; charset=utf-8", w->csp,
		       allow);
}

static enum MHD_Result send_message(struct web *w, struct MHD_Connection *c,
				    unsigned status, const char *title,
				    const char *text, const char *allow)
{
	struct buf b = BUF_INIT(PAGE_MAX);

	if (page_message(&b, title, text))
		return MHD_NO;
	return respond_html(w, c, status, &b, allow);
}

static enum MHD_Result not_found(struct web *w, struct MHD_Connection *c)
{
	return send_message(w, c, MHD_HTTP_NOT_FOUND, "Not found",
			    "This link is not valid.", NULL);
}

/* A store failure: 503 when the database could not be reached (a shared
 * database failing over), else 500. */
static enum MHD_Result internal_error(struct web *w, struct MHD_Connection *c)
{
	return send_message(w, c, store_unavailable() ?
			    MHD_HTTP_SERVICE_UNAVAILABLE :
			    MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "Something went wrong",
			    "Nothing was recorded. Please try again in a moment.",
			    NULL);
}

static enum MHD_Result not_allowed(struct web *w, struct MHD_Connection *c,
				   const char *allow)
{
	return send_message(w, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "Method not allowed",
			    "This address does not accept that request method.",
			    allow);
}

/* ---- request facts -------------------------------------------------------- */

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static void remote_addr(struct MHD_Connection *c, char out[ADDR_MAX])
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	socklen_t len;

	out[0] = '\0';
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	sa = ci->client_addr;
	len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					  sizeof(struct sockaddr_in);
	if (getnameinfo(sa, len, out, ADDR_MAX, NULL, 0, NI_NUMERICHOST))
		out[0] = '\0';
}

/* "scheme://host[:port]" of url, lowercased, default port dropped, into
 * out.  Returns 0, or -1 if url is not http(s) or has user info. */
static int origin_of(const char *url, char *out, size_t size)
{
	const char *p;
	size_t n, o;
	int https;

	if (!strncasecmp(url, "http://", 7))
		https = 0;
	else if (!strncasecmp(url, "https://", 8))
		https = 1;
	else
		return -1;
	p = url + 7 + https;
	n = strcspn(p, "/?#");
	if (!n || n + 9 > size || memchr(p, '@', n))
		return -1;
	o = (size_t)snprintf(out, size, "%s://", https ? "https" : "http");
	for (size_t i = 0; i < n; i++)
		out[o++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
	out[o] = '\0';
	if (!https && !strcmp(out + o - 3, ":80"))
		out[o - 3] = '\0';
	if (https && !strcmp(out + o - 4, ":443"))
		out[o - 4] = '\0';
	return 0;
}

/* Whether a POST may come from our own page.  Browsers send Origin: null
 * on a same-origin form post when the page's referrer policy is
 * no-referrer (as ours is), so "null" counts as absent; Sec-Fetch-Site,
 * when sent, must then say same-origin.  The nonce binds the rest. */
static int origin_ok(const struct web *w, struct MHD_Connection *c)
{
	const char *origin = header(c, "Origin");
	const char *site = header(c, "Sec-Fetch-Site");
	char got[ORIGIN_MAX];

	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return 0;
	if (!origin || !strcmp(origin, "null"))
		return 1;
	if (origin_of(origin, got, sizeof(got)))
		return 0;
	return !strcmp(got, w->origin);
}

int web_content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	if (!ct)
		return 0;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, want, n))
		return 0;
	ct += n;
	ct += strspn(ct, " \t");
	return *ct == '\0' || *ct == ';';
}

int web_length_over(const char *cl, unsigned long long max)
{
	unsigned long long n;
	char *end;

	if (!cl)
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno || end == cl || n > max;
}

/* ---- the review page ------------------------------------------------------- */

/* The calling thread's store slot (assigned on its first call). */
static struct web_slot *web_slot(struct web *w)
{
	static _Thread_local unsigned mine;
	static _Thread_local int assigned;

	if (!assigned) {
		mine = atomic_fetch_add(&w->next_slot, 1);
		assigned = 1;
	}
	return &w->slots[mine % w->nslots];
}

static enum MHD_Result review_get(struct web *w, struct MHD_Connection *c,
				  const char *token)
{
	struct buf b = BUF_INIT(PAGE_MAX);
	struct store_review rv;
	time_t now = time(NULL);
	unsigned status;
	struct web_slot *sl = web_slot(w);
	int rc;

	pthread_mutex_lock(&sl->lock);
	rc = store_review_get(sl->store, token, now, &rv);
	pthread_mutex_unlock(&sl->lock);
	if (rc == STORE_NOT_FOUND)
		return not_found(w, c);
	if (rc != STORE_OK && rc != STORE_GONE)
		return internal_error(w, c);
	status = rc == STORE_OK ? MHD_HTTP_OK : MHD_HTTP_GONE;
	rc = rc == STORE_OK ? page_review(&b, &rv, now) : page_closed(&b, &rv);
	store_review_release(&rv);
	if (rc)
		return internal_error(w, c);
	return respond_html(w, c, status, &b, NULL);
}

static int form_field(void *ud, const char *name, const char *value)
{
	struct form *f = ud;

	if (!strcmp(name, "decision")) {
		if (f->decision >= 0)
			f->bad = 1;
		else if (!strcmp(value, "approve"))
			f->decision = 1;
		else if (!strcmp(value, "reject"))
			f->decision = 0;
		else
			f->bad = 1;
	} else if (!strcmp(name, "nonce")) {
		f->bad |= f->nonce != NULL;
		if (!f->nonce)
			f->nonce = xstrdup(value);
	} else if (!strcmp(name, "reason")) {
		f->bad |= f->reason != NULL;
		if (!f->reason)
			f->reason = xstrdup(value);
	}
	return f->bad;
}

/* Decide under the lock, then read the request for the response page: as
 * the decision left it (recorded), or as it is (a refusal that needs the
 * page: gone, forbidden).  id receives the request's id, "" when it could
 * not be read; then a recorded decision is answered 500 (asking again
 * answers "recorded") and its long-polls only when their wait ends.  One
 * decision and one read: the page is not read before deciding as well
 * (on PostgreSQL each is several round trips). */
static int decide(struct web *w, const char *token, const struct form *f,
		  struct MHD_Connection *c, struct store_review *rv,
		  int *recorded, char id[33])
{
	struct web_slot *sl = web_slot(w);
	char addr[ADDR_MAX];
	time_t now = time(NULL);
	int rc, got;

	remote_addr(c, addr);
	pthread_mutex_lock(&sl->lock);
	rc = store_decide_ex(sl->store, token, f->nonce, f->decision,
			     f->reason, addr,
			     header(c, MHD_HTTP_HEADER_USER_AGENT), now,
			     recorded);
	if (rc == STORE_OK || rc == STORE_GONE || rc == STORE_FORBIDDEN) {
		got = store_review_get(sl->store, token, now, rv);
		if (got != STORE_OK && got != STORE_GONE)
			rc = STORE_ERROR;
	}
	strlcpy_gl(id, rv->req.id, 33);
	pthread_mutex_unlock(&sl->lock);
	return rc;
}

static enum MHD_Result forbidden(struct web *w, struct MHD_Connection *c,
				 const struct store_review *rv,
				 const struct form *f)
{
	int nonce_ok = f->nonce && strlen(f->nonce) == TOKEN_HEX_SIZE - 1 &&
		       token_hex_equal(f->nonce, rv->nonce);

	if (nonce_ok && f->decision && rv->self && !rv->allow_self_approval)
		return send_message(w, c, MHD_HTTP_FORBIDDEN,
				    "You cannot approve your own commit",
				    "You are the author of this commit, so your"
				    " approval does not count. Ask another"
				    " reviewer; you may still reject it.", NULL);
	return send_message(w, c, MHD_HTTP_FORBIDDEN, "Form not accepted",
			    "This form is out of date or did not come from the"
			    " review page. Nothing was recorded. Open the link"
			    " from your email again.", NULL);
}

static enum MHD_Result decided(struct web *w, struct MHD_Connection *c,
			       int rc, const struct store_review *rv,
			       const struct form *f, int recorded)
{
	struct buf b = BUF_INIT(PAGE_MAX);

	switch (rc) {
	case STORE_OK:
		if (page_recorded(&b, rv, f->decision, !recorded))
			return internal_error(w, c);
		return respond_html(w, c, MHD_HTTP_OK, &b, NULL);
	case STORE_GONE:
		if (page_closed(&b, rv))
			return internal_error(w, c);
		return respond_html(w, c, MHD_HTTP_GONE, &b, NULL);
	case STORE_CONFLICT:
		return send_message(w, c, MHD_HTTP_CONFLICT, "Already decided",
				    f->decision ? "You already rejected this"
				    " request. A reviewer's decision cannot be"
				    " changed." : "You already approved this"
				    " request. A reviewer's decision cannot be"
				    " changed.", NULL);
	case STORE_FORBIDDEN:
		return forbidden(w, c, rv, f);
	case STORE_NOT_FOUND:
		return not_found(w, c);
	}
	return internal_error(w, c);
}

static enum MHD_Result post_finish(struct web *w, struct MHD_Connection *c,
				   struct conn *k)
{
	struct form f = { -1, NULL, NULL, 0 };
	struct store_review rv;
	enum MHD_Result ret;
	int rc, recorded = 0;
	char id[33];

	memset(&rv, 0, sizeof(rv));
	if (form_parse(k->body.data ? k->body.data : "", k->body.len,
		       WEB_MAX_PAIRS, form_field, &f) || f.decision < 0) {
		ret = send_message(w, c, MHD_HTTP_BAD_REQUEST, "Bad request",
				   "The form could not be read. Nothing was"
				   " recorded.", NULL);
		goto out;
	}
	rc = decide(w, k->token, &f, c, &rv, &recorded, id);
	if (recorded && id[0])	/* announced in completed(), once the reviewer has the answer */
		strlcpy_gl(k->decided_id, id, sizeof(k->decided_id));
	ret = decided(w, c, rc, &rv, &f, recorded);
out:
	store_review_release(&rv);
	free(f.nonce);
	free(f.reason);
	return ret;
}

/* First call of a POST /r/<token>: refuse early what can be refused on
 * the headers alone, else set up the body buffer. */
static enum MHD_Result post_start(struct web *w, struct MHD_Connection *c,
				  const char *token, void **con_cls)
{
	struct conn *k;

	if (!token_syntax_ok(token, strnlen(token, TOKEN_SIZE)))
		return not_found(w, c);
	if (!web_content_type_is(header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
				 "application/x-www-form-urlencoded"))
		return send_message(w, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				    "Unsupported form", "Decisions are sent as"
				    " application/x-www-form-urlencoded.", NULL);
	if (!origin_ok(w, c))
		return send_message(w, c, MHD_HTTP_FORBIDDEN, "Wrong origin",
				    "This form was sent from another site."
				    " Nothing was recorded.", NULL);
	if (web_length_over(header(c, MHD_HTTP_HEADER_CONTENT_LENGTH), WEB_MAX_BODY))
		return send_message(w, c, MHD_HTTP_CONTENT_TOO_LARGE,
				    "Too large", "The form is larger than"
				    " greenlight accepts.", NULL);
	k = xcalloc(1, sizeof(*k));
	k->kind = CONN_POST;
	k->body = (struct buf)BUF_INIT(WEB_MAX_BODY);
	strlcpy_gl(k->token, token, sizeof(k->token));
	*con_cls = k;
	return MHD_YES;
}

/* Later calls of a POST: collect the body, then decide. */
static enum MHD_Result post_more(struct web *w, struct MHD_Connection *c,
				 struct conn *k, const char *data,
				 size_t *size)
{
	if (*size) {
		k->seen += *size;
		if (k->seen > MAX_DISCARD)
			return MHD_NO;
		if (!k->too_big && buf_add(&k->body, data, *size))
			k->too_big = 1;
		*size = 0;
		return MHD_YES;
	}
	if (k->too_big)
		return send_message(w, c, MHD_HTTP_CONTENT_TOO_LARGE,
				    "Too large", "The form is larger than"
				    " greenlight accepts.", NULL);
	return post_finish(w, c, k);
}

/* ---- the request deadline ------------------------------------------------ */

/* Callers hold track_lock. */
static void track_unlink(struct track *t)
{
	if (!t->prev)
		return;
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

/* Start t's deadline now: it goes last, so the list stays oldest first. */
static void track_restart(struct web *w, struct track *t)
{
	track_unlink(t);
	t->since_ms = mono_ms();
	t->prev = w->receiving.prev;
	t->next = &w->receiving;
	w->receiving.prev->next = t;
	w->receiving.prev = t;
}

static struct track *track_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* The handler has the whole request: its deadline no longer applies. */
static void request_received(struct web *w, struct MHD_Connection *c)
{
	struct track *t = track_of(c);

	if (!t)
		return;
	pthread_mutex_lock(&w->track_lock);
	track_unlink(t);
	pthread_mutex_unlock(&w->track_lock);
}

/* A request ended; on a kept-alive connection the next one starts now. */
static void request_ended(struct web *w, struct MHD_Connection *c)
{
	struct track *t = track_of(c);

	if (!t)
		return;
	pthread_mutex_lock(&w->track_lock);
	track_restart(w, t);
	pthread_mutex_unlock(&w->track_lock);
}

/* MHD's connection notifications: track from accept until close. */
static void on_connection(void *cls, struct MHD_Connection *c,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct web *w = cls;
	struct track *t = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci)
			return;
		t = xcalloc(1, sizeof(*t));
		t->fd = ci->connect_fd;
		pthread_mutex_lock(&w->track_lock);
		track_restart(w, t);
		pthread_mutex_unlock(&w->track_lock);
		*socket_context = t;
		return;
	}
	if (!t)
		return;
	pthread_mutex_lock(&w->track_lock);	/* MHD closes the fd after this */
	track_unlink(t);
	pthread_mutex_unlock(&w->track_lock);
	*socket_context = NULL;
	free(t);
}

/* Shut down the connections past their deadline; returns when the next
 * one is due.  Called with track_lock held. */
static uint64_t cut_overdue(struct web *w)
{
	uint64_t now = mono_ms();
	struct track *t;

	while ((t = w->receiving.next) != &w->receiving) {
		if (t->since_ms + w->deadline_ms > now)
			return t->since_ms + w->deadline_ms;
		shutdown(t->fd, SHUT_RDWR);	/* MHD sees the end and closes it */
		track_unlink(t);
	}
	return now + w->deadline_ms;	/* nothing newer can be due sooner */
}

static void *sweep(void *arg)
{
	struct web *w = arg;
	struct timespec at;
	uint64_t due;

	pthread_mutex_lock(&w->track_lock);
	while (!w->sweep_stop) {
		due = cut_overdue(w);
		at.tv_sec = (time_t)(due / 1000);
		at.tv_nsec = (long)(due % 1000) * 1000000;
		pthread_cond_timedwait(&w->sweep_wake, &w->track_lock, &at);
	}
	pthread_mutex_unlock(&w->track_lock);
	return NULL;
}

static void track_init(struct web *w, unsigned deadline_s)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&w->track_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->sweep_wake, &ca);
	pthread_condattr_destroy(&ca);
	w->receiving.prev = w->receiving.next = &w->receiving;
	w->deadline_ms = (uint64_t)deadline_s * 1000;
}

static void sweeper_stop(struct web *w)
{
	if (!w->sweeping)
		return;
	pthread_mutex_lock(&w->track_lock);
	w->sweep_stop = 1;
	pthread_cond_signal(&w->sweep_wake);
	pthread_mutex_unlock(&w->track_lock);
	pthread_join(w->sweeper, NULL);
	w->sweeping = 0;
}

/* Whether the request announces a body (its deadline then runs until the
 * body's last byte). */
static int has_body(struct MHD_Connection *c)
{
	return header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
	       web_length_over(header(c, MHD_HTTP_HEADER_CONTENT_LENGTH), 0);
}

/* ---- routing ---------------------------------------------------------------- */

static int is_read(const char *method)
{
	return !strcmp(method, MHD_HTTP_METHOD_GET) ||
	       !strcmp(method, MHD_HTTP_METHOD_HEAD);
}

static enum MHD_Result healthz(struct web *w, struct MHD_Connection *c,
			       const char *method)
{
	struct buf b = BUF_INIT(64);
	int ok;

	if (!is_read(method))
		return not_allowed(w, c, "GET, HEAD");
	ok = !w->cfg.healthy || w->cfg.healthy(w->cfg.ud) == 0;
	if (buf_adds(&b, ok ? "ok\n" : "the database cannot be reached\n"))
		return MHD_NO;
	return respond(w, c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
		       &b, "text/plain; charset=utf-8", CSP_STRICT, NULL);
}

static enum MHD_Result api(struct web *w, struct MHD_Connection *c,
			   const char *url, const char *method,
			   const char *data, size_t *size, void **con_cls)
{
	struct api_conn *k = *con_cls;

	if (!k) {
		k = xcalloc(1, sizeof(*k));
		k->kind = CONN_API;
		*con_cls = k;
	}
	return w->cfg.api(w->cfg.ud, c, url, method, data, size,
			  &k->api_cls) ? MHD_YES : MHD_NO;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *data,
			      size_t *size, void **con_cls)
{
	struct web *w = cls;
	enum conn_kind *kind = *con_cls;

	(void)version;
	if (!kind) {	/* first call for this request; completed() balances it */
		atomic_fetch_add(&w->inflight, 1);
		if (!has_body(c))
			request_received(w, c);
		if (!has_body(c) && is_read(method)) {
			*con_cls = &deferred;	/* answer in the next call */
			return MHD_YES;
		}
	} else if (kind == &deferred) {	/* the whole request is here */
		*con_cls = NULL;
		kind = NULL;
	} else if (!*size) {	/* MHD's last call: the body is all here */
		request_received(w, c);
	}
	if (kind && *kind == CONN_API)
		return api(w, c, url, method, data, size, con_cls);
	if (kind)
		return post_more(w, c, (struct conn *)kind, data, size);
	if (!strcmp(url, "/healthz"))
		return healthz(w, c, method);
	if (strncmp(url, "/r/", 3)) {
		if (w->cfg.api)
			return api(w, c, url, method, data, size, con_cls);
		return not_found(w, c);
	}
	if (is_read(method))
		return review_get(w, c, url + 3);
	if (!strcmp(method, MHD_HTTP_METHOD_POST))
		return post_start(w, c, url + 3, con_cls);
	return not_allowed(w, c, "GET, HEAD, POST");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct web *w = cls;
	enum conn_kind *kind = *con_cls;
	struct conn *k;

	(void)toe;
	request_ended(w, c);
	atomic_fetch_sub(&w->inflight, 1);
	if (kind == &deferred)		/* closed before its second call */
		*con_cls = NULL;
	if (!kind || kind == &deferred)
		return;
	*con_cls = NULL;
	if (*kind == CONN_API) {
		if (w->cfg.api_done)
			w->cfg.api_done(w->cfg.ud,
					((struct api_conn *)kind)->api_cls);
		free(kind);
		return;
	}
	k = (struct conn *)kind;
	if (k->decided_id[0] && w->cfg.on_decision)
		w->cfg.on_decision(w->cfg.ud, k->decided_id);
	buf_release(&k->body);
	free(k);
}

/* MHD's diagnostics, one line each, with token-like runs masked. */
#define LOG_BURST 20		/* server messages printed per minute */
#define LOG_WINDOW_S 60

/* Whether a server message may be printed now: at most LOG_BURST a
 * minute, so a swarm of bad clients cannot flood the CI log.  *dropped
 * receives how many were held back in the window that just ended (print
 * that first). */
static int log_allowed(time_t now, unsigned long *dropped)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t window;
	static unsigned long shown, held;
	int ok;

	pthread_mutex_lock(&lock);
	*dropped = 0;
	if (now - window >= LOG_WINDOW_S) {
		*dropped = held;
		window = now;
		shown = held = 0;
	}
	ok = shown < LOG_BURST;
	if (ok)
		shown++;
	else
		held++;
	pthread_mutex_unlock(&lock);
	return ok;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char msg[512];
	size_t i = 0, run;
	unsigned long dropped;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	while (msg[i]) {
		run = strspn(msg + i, b64);
		if (run >= 32)	/* a token is 43, a hash 64 */
			memset(msg + i, '*', run);
		i += run ? run : 1;
	}
	for (i = 0; msg[i]; i++)
		if (msg[i] == '\r' || msg[i] == '\n')
			msg[i] = ' ';
	while (i && msg[i - 1] == ' ')
		msg[--i] = '\0';
	if (!log_allowed(time(NULL), &dropped))
		return;
	if (dropped)
		warning("web: %lu more server messages in the last minute were not shown",
			dropped);
	warning("web: %s", msg);
}

/* ---- starting and stopping ---------------------------------------------- */

/* Split "host:port" or "[v6]:port" into host and port text. */
static int split_listen(const char *s, char *host, size_t hsize,
			char port[8])
{
	const char *h = s, *colon;
	size_t hl;
	char *end;

	if (*s == '[') {
		h = s + 1;
		colon = strchr(h, ']');
		if (!colon || colon[1] != ':')
			return -1;
		hl = (size_t)(colon - h);
		colon++;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':'))
			return -1;
		hl = (size_t)(colon - s);
	}
	if (!hl || hl >= hsize || !colon[1] || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strtoul(colon + 1, &end, 10) > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strlcpy_gl(port, colon + 1, 8);
	return 0;
}

static int bind_listener(const struct addrinfo *ai, const char *listen_at,
			 int backlog)
{
	int one = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			ai->ai_protocol);

	if (fd < 0)
		return error("cannot listen on '%s': %s", listen_at,
			     strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) ||
	    listen(fd, backlog)) {
		error("cannot listen on '%s': %s", listen_at, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Bind the listen address exactly; *port receives the bound port. */
static int open_listener(const char *listen_at, int backlog, char *host,
			 size_t hsize, unsigned *port)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char service[8];
	int fd, rc;

	if (split_listen(listen_at, host, hsize, service))
		return error("bad listen address '%s' (expected HOST:PORT or"
			     " [IPv6]:PORT)", listen_at);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, service, &hints, &ai);
	if (rc)
		return error("cannot resolve listen address '%s': %s",
			     listen_at, gai_strerror(rc));
	fd = bind_listener(ai, listen_at, backlog);
	freeaddrinfo(ai);
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		*port = ntohs(ss.ss_family == AF_INET6 ?
			      ((struct sockaddr_in6 *)&ss)->sin6_port :
			      ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int set_origin(struct web *w, const char *public_url,
		      const char *host)
{
	char url[ORIGIN_MAX];

	if (public_url) {
		if (origin_of(public_url, w->origin, sizeof(w->origin)))
			return error("public URL '%s' is not an http(s) URL",
				     public_url);
		return 0;
	}
	snprintf(url, sizeof(url), strchr(host, ':') ? "%s://[%s]:%u" :
		 "%s://%s:%u", w->tls_cert ? "https" : "http", host, w->port);
	if (origin_of(url, w->origin, sizeof(w->origin)))
		return error("cannot derive a public URL from '%s'", host);
	return 0;
}

static int nibble(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* The page CSP, with the SHA-256 of the one inline stylesheet. */
static int make_csp(struct web *w)
{
	const char *css = page_style();
	unsigned char raw[TOKEN_SHA256_BYTES];
	char hex[TOKEN_HEX_SIZE], b64[48];

	if (token_sha256_hex(hex, css, strlen(css)))
		return error("cannot hash the page stylesheet");
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(nibble(hex[2 * i]) << 4 |
					 nibble(hex[2 * i + 1]));
	if (token_b64url_encode(b64, sizeof(b64), raw, sizeof(raw)) == (size_t)-1)
		return error("cannot encode the page stylesheet hash");
	for (char *p = b64; *p; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	snprintf(w->csp, sizeof(w->csp), "default-src 'none'; style-src"
		 " 'sha256-%s='; img-src 'none'; form-action 'self';"
		 " frame-ancestors 'none'; base-uri 'none'", b64);
	return 0;
}

static unsigned or_default(unsigned v, unsigned def)
{
	return v ? v : def;
}

static struct MHD_Daemon *start_daemon(struct web *w, int fd)
{
	const struct web_config *c = &w->cfg;
	unsigned threads = or_default(c->threads, 1);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	struct MHD_OptionItem extra[] = {
		{ threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
		  (intptr_t)threads, NULL },
		{ w->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0,
		  w->tls_cert },
		{ w->tls_key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0,
		  w->tls_key },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (w->tls_cert)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(flags, 0, NULL, NULL, handle, w,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT,
		or_default(c->max_connections, WEB_MAX_CONNECTIONS),
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		or_default(c->per_ip_connections, WEB_PER_IP_CONNECTIONS),
		MHD_OPTION_CONNECTION_TIMEOUT,
		or_default(c->timeout_s, WEB_TIMEOUT_S),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		c->memory_limit ? c->memory_limit : (size_t)WEB_MEMORY_LIMIT,
		MHD_OPTION_NOTIFY_COMPLETED, completed, w,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
		MHD_OPTION_ARRAY, extra,
		MHD_OPTION_END);
}

struct web *web_bind(const struct web_config *cfg)
{
	struct web *w = xcalloc(1, sizeof(*w));
	const char *listen_at = cfg->listen ? cfg->listen : WEB_DEFAULT_LISTEN;
	char host[256];

	w->listen_fd = -1;
	w->cfg = *cfg;
	w->cfg.listen = w->cfg.public_url = w->cfg.store_path = NULL;
	w->cfg.tls_cert_pem = w->cfg.tls_key_pem = NULL;
	track_init(w, or_default(cfg->request_deadline_s, WEB_REQUEST_DEADLINE_S));
	if (!cfg->tls_cert_pem != !cfg->tls_key_pem) {
		error("HTTPS needs both a certificate and its key");
		goto fail;
	}
	if (cfg->tls_cert_pem) {
		w->tls_cert = xstrdup(cfg->tls_cert_pem);
		w->tls_key = xstrdup(cfg->tls_key_pem);
	}
	if (make_csp(w))
		goto fail;
	w->nslots = or_default(cfg->threads, 1);
	w->slots = xcalloc(w->nslots, sizeof(*w->slots));
	for (unsigned i = 0; i < w->nslots; i++)
		pthread_mutex_init(&w->slots[i].lock, NULL);
	for (unsigned i = 0; i < w->nslots; i++) {
		w->slots[i].store = store_open(cfg->store_path);
		if (!w->slots[i].store)
			goto fail;
	}
	w->listen_fd = open_listener(listen_at, (int)or_default(cfg->listen_backlog,
								WEB_LISTEN_BACKLOG),
				     host, sizeof(host), &w->port);
	if (w->listen_fd < 0 || set_origin(w, cfg->public_url, host))
		goto fail;
	w->listen_at = xstrdup(listen_at);
	return w;
fail:
	web_stop(w);
	return NULL;
}

int web_run(struct web *w)
{
	const union MHD_DaemonInfo *di;

	if (pthread_create(&w->sweeper, NULL, sweep, w))
		return error("cannot start the web server's deadline sweeper");
	w->sweeping = 1;
	w->d = start_daemon(w, w->listen_fd);
	if (!w->d)
		return error("cannot start the web server on '%s'", w->listen_at);
	w->listen_fd = -1;	/* the daemon owns it now */
	di = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
	if (di && di->port)
		w->port = di->port;
	return 0;
}

struct web *web_start(const struct web_config *cfg)
{
	struct web *w = web_bind(cfg);

	if (w && web_run(w)) {
		web_stop(w);
		return NULL;
	}
	return w;
}

unsigned web_port(const struct web *w)
{
	return w->port;
}

/* Let requests already being answered finish (a reviewer whose decision
 * ended the wait still gets the "recorded" page), for at most 2 s. */
static void drain(struct web *w)
{
	struct timespec tick = { 0, 5 * 1000 * 1000 };

	for (int i = 0; i < 400 && atomic_load(&w->inflight) > 0; i++)
		nanosleep(&tick, NULL);
}

void web_stop(struct web *w)
{
	if (!w)
		return;
	if (w->d)
		drain(w);
	sweeper_stop(w);
	if (w->d)
		MHD_stop_daemon(w->d);
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	free(w->listen_at);
	for (unsigned i = 0; w->slots && i < w->nslots; i++) {
		store_close(w->slots[i].store);
		pthread_mutex_destroy(&w->slots[i].lock);
	}
	free(w->slots);
	pthread_mutex_destroy(&w->track_lock);
	pthread_cond_destroy(&w->sweep_wake);
	if (w->tls_key)		/* private key material: do not leave it in the heap */
		OPENSSL_cleanse(w->tls_key, strlen(w->tls_key));
	free(w->tls_cert);
	free(w->tls_key);
	free(w);
}
