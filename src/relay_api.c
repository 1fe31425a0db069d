/* relay_api.c - the relay's /v1 API: routing and the request endpoints
 * (see relay_api.h for the contract, relay_int.h for how the relay's files
 * share the work; relay_reply.c builds the answers, relay_baseline.c
 * serves /v1/baselines).  Every /v1 call needs a
 * bearer token; a call about a request of another tenant is answered
 * exactly like one about a request that does not exist.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "util.h"
#include "web.h"

#define MAX_DISCARD (1024 * 1024)	/* body read past the cap, then close */

static const char *const route_method[] = {
	[R_NONE] = "", [R_REQUESTS] = "POST", [R_REQUEST] = "GET",
	[R_REKEY] = "POST", [R_NOTIFIED] = "POST",
	[R_BASELINES] = "PUT", [R_BASELINE_LOOKUP] = "POST",
};

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ?wait=N: 0 when absent, -1 when not a whole number 0..RELAY_MAX_WAIT. */
static int parse_wait(const char *s)
{
	int v = 0;

	if (!s)
		return 0;
	if (!*s || strlen(s) > 3 || strspn(s, "0123456789") != strlen(s))
		return -1;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	return v <= RELAY_MAX_WAIT ? v : -1;
}

static int get_request(struct relay_api *a, struct MHD_Connection *c,
		       const char *id, const struct relay_principal *who,
		       void **cls)
{
	int wait = parse_wait(MHD_lookup_connection_value(c,
				MHD_GET_ARGUMENT_KIND, "wait"));

	if (wait < 0)
		return relay_fail(a, c, MHD_HTTP_BAD_REQUEST, "wait must be a whole"
			    " number of seconds from 0 to 60");
	if (!wait)
		return relay_reply_status(a, c, id, who->tenant);
	return relay_hold(a, c, id, wait, who, cls);
}
/* ---- POST /v1/requests ---------------------------------------------------------- */

/* The request a new one with other evidence succeeds, for the gate to say
 * what changed: {"id", "created", "facts"}, or NULL. */
static cJSON *previous_json(struct store *s, const struct parsed *p,
			    const char *id)
{
	struct store_request prev;
	cJSON *o, *facts;

	if (store_request_previous(s, p->nr.tenant, p->nr.subject, id, &prev))
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", prev.id);
	relay_add_time(o, "created", prev.created);
	facts = cJSON_Parse(prev.facts_json ? prev.facts_json : "{}");
	cJSON_AddItemToObject(o, "facts", facts ? facts : cJSON_CreateObject());
	store_request_release(&prev);
	return o;
}

/* Keys live in their tenant: the store keeps SHA-256(tenant "\n" key), so
 * one tenant can neither find nor take another's key. */
static int scoped_key(const char *tenant, const char *key,
		      char out[TOKEN_HEX_SIZE])
{
	char both[STORE_MAX_TENANT + 1 + 64 + 1];
	int n = snprintf(both, sizeof(both), "%s\n%s", tenant, key);

	return n < 0 || (size_t)n >= sizeof(both) ||
	       token_sha256_hex(out, both, (size_t)n);
}

static int registered(struct relay_api *a, struct MHD_Connection *c,
		      struct store *s, struct parsed *p)
{
	struct store_request r;
	cJSON *j, *prev = NULL;
	int created = 0, rc = store_request_put(s, &p->nr, &r, &created);

	if (rc == STORE_CONFLICT)
		return relay_fail(a, c, MHD_HTTP_CONFLICT, "a token_hash belongs"
				  " to another request already; generate new"
				  " tokens");
	if (rc != STORE_OK)
		return relay_reply_read(a, c, rc, MHD_HTTP_OK, &r);
	atomic_fetch_add(created ? &a->m.registered : &a->m.reattached, 1);
	if (created)
		prev = previous_json(s, p, r.id);
	j = relay_request_json(&r);
	store_request_release(&r);
	if (prev)
		cJSON_AddItemToObject(j, "previous", prev);
	return relay_send_json(a, c, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, j);
}

static int do_register(struct relay_api *a, struct MHD_Connection *c,
		       const struct call *k)
{
	struct parsed *p = xcalloc(1, sizeof(*p));
	const cJSON *root = relay_parse_body(p, &k->in->buf);
	char key[TOKEN_HEX_SIZE];
	struct slot *sl;
	int ret;

	if (!root || relay_parse_register(p, root, time(NULL))) {
		ret = relay_fail(a, c, MHD_HTTP_BAD_REQUEST, p->why);
		goto out;
	}
	if (!relay_auth_repo_ok(&k->in->who, p->nr.repository)) {
		atomic_fetch_add(&a->m.scope_refused, 1);
		ret = relay_fail(a, c, MHD_HTTP_FORBIDDEN, p->nr.repository ?
				 "this token may not register requests for"
				 " that repository" : "this token may register"
				 " only requests that name their repository");
		goto out;
	}
	if (scoped_key(k->in->who.tenant, p->nr.key, key)) {
		ret = relay_fail(a, c, MHD_HTTP_BAD_REQUEST, "bad key");
		goto out;
	}
	p->nr.key = key;
	p->nr.tenant = k->in->who.tenant;
	sl = relay_slot(a);
	pthread_mutex_lock(&sl->lock);
	ret = registered(a, c, sl->s, p);
	pthread_mutex_unlock(&sl->lock);
out:
	relay_parsed_free(p);
	return ret;
}

/* ---- POST /v1/requests/<id>/rekey --------------------------------------------- */

/* Give an expired request its new deadline and links. */
static unsigned reopen(struct store *s, struct parsed *p, const char *id,
		       time_t now)
{
	int rc;

	if (!p->has_deadline)
		return relay_refuse(p, 400, "deadline is required: the request"
			      " expired");
	if (p->deadline <= now || p->deadline > now + RELAY_MAX_DEADLINE)
		return relay_refuse(p, 400, "deadline must be a Unix time in the"
			      " future, at most %ld days ahead (now is %lld)",
			      RELAY_MAX_DEADLINE / 86400, (long long)now);
	rc = store_request_reopen(s, id, (time_t)p->deadline, p->rcpt,
				  p->nrcpt);
	if (rc == STORE_GONE)
		return relay_refuse(p, 409, "the request changed meanwhile; read it"
			      " again");
	return rc ? 500 : 200;
}

/* Apply a rekey on store s.  Returns the HTTP status; p->why says why for
 * 4xx.  *r is the request as read first (released here). */
static unsigned rekey_on(struct store *s, struct parsed *p,
			 const cJSON *root, const struct call *k,
			 struct store_request *r)
{
	const char *id = k->id;
	time_t now = time(NULL);
	int rc = store_request_status(s, id, now, r);
	enum req_state st;

	if (rc == STORE_OK && strcmp(r->tenant, k->in->who.tenant)) {
		store_request_release(r);
		rc = STORE_NOT_FOUND;
	}
	if (rc)
		return rc == STORE_NOT_FOUND ? 404 : 500;
	st = r->state;
	rc = relay_parse_rekey(p, root, r);
	store_request_release(r);
	if (st == REQ_APPROVED || st == REQ_REJECTED)
		return relay_refuse(p, 409, "the request was %s; its links cannot"
			      " change", req_state_name(st));
	if (rc)
		return 400;
	if (st == REQ_EXPIRED)
		return reopen(s, p, id, now);
	rc = store_request_rekey(s, id, p->rcpt, p->nrcpt);
	if (rc == STORE_GONE)	/* it expired or was decided meanwhile */
		return relay_refuse(p, 409, "the request changed meanwhile; read it"
			      " again");
	return rc ? 500 : 200;
}

static int do_rekey(struct relay_api *a, struct MHD_Connection *c,
		    const struct call *k)
{
	struct parsed *p = xcalloc(1, sizeof(*p));
	const cJSON *root = relay_parse_body(p, &k->in->buf);
	struct store_request r;
	struct slot *sl = relay_slot(a);
	unsigned status = 400;
	int rc = STORE_OK, ret;

	memset(&r, 0, sizeof(r));
	if (root && !relay_parse_deadline(p, root)) {
		pthread_mutex_lock(&sl->lock);
		status = rekey_on(sl->s, p, root, k, &r);
		if (status == 200)
			rc = store_request_status(sl->s, k->id, time(NULL), &r);
		pthread_mutex_unlock(&sl->lock);
	}
	if (status == 200)
		ret = relay_reply_read(a, c, rc, MHD_HTTP_OK, &r);
	else if (status == 404)
		ret = relay_fail(a, c, status, "no such request");
	else if (status == 500)
		ret = relay_internal(a, c);
	else
		ret = relay_fail(a, c, status, p->why);
	relay_parsed_free(p);
	return ret;
}

/* ---- POST /v1/requests/<id>/notified ---------------------------------------- */

static int do_notified(struct relay_api *a, struct MHD_Connection *c,
		       const struct call *k)
{
	struct slot *sl = relay_slot(a);
	struct store_request r;
	int rc;

	pthread_mutex_lock(&sl->lock);
	rc = store_request_status(sl->s, k->id, time(NULL), &r);
	if (rc == STORE_OK) {
		rc = strcmp(r.tenant, k->in->who.tenant) ? STORE_NOT_FOUND : STORE_OK;
		store_request_release(&r);
	}
	if (rc == STORE_OK)
		rc = store_request_set_notified(sl->s, k->id, 1);
	pthread_mutex_unlock(&sl->lock);
	if (rc == STORE_NOT_FOUND)
		return relay_fail(a, c, MHD_HTTP_NOT_FOUND, "no such request");
	if (rc)
		return relay_internal(a, c);
	return relay_queue(a, c, MHD_HTTP_NO_CONTENT, NULL, 0, JSON_TYPE, NULL,
		     NULL);
}

/* ---- bodies ------------------------------------------------------------------- */

static int start_body(struct relay_api *a, struct MHD_Connection *c,
		      enum route route, const char *id,
		      const struct relay_principal *who, void **cls)
{
	struct call *k;

	if (route != R_NOTIFIED &&
	    !web_content_type_is(header(c, MHD_HTTP_HEADER_CONTENT_TYPE), JSON_TYPE))
		return relay_fail(a, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			    "send the body as application/json");
	if (web_length_over(header(c, MHD_HTTP_HEADER_CONTENT_LENGTH), RELAY_MAX_BODY))
		return relay_fail(a, c, MHD_HTTP_CONTENT_TOO_LARGE,
			    "the body is over 256 KiB");
	k = xcalloc(1, sizeof(*k));
	k->route = (unsigned char)route;
	k->state = CALL_BODY;
	memcpy(k->id, id, sizeof(k->id));
	k->in = xcalloc(1, sizeof(*k->in));
	k->in->buf = (struct buf)BUF_INIT(RELAY_MAX_BODY);
	k->in->who = *who;
	*cls = k;
	return MHD_YES;
}

static int more_body(struct relay_api *a, struct MHD_Connection *c,
		     struct call *k, const char *data, size_t *size)
{
	struct body *in = k->in;

	if (*size) {
		in->seen += *size;
		if (in->seen > RELAY_MAX_BODY + MAX_DISCARD)
			return MHD_NO;
		if (!in->too_big && buf_add(&in->buf, data, *size))
			in->too_big = 1;
		*size = 0;
		return MHD_YES;
	}
	if (in->too_big)
		return relay_fail(a, c, MHD_HTTP_CONTENT_TOO_LARGE,
			    "the body is over 256 KiB");
	if (k->route == R_REQUESTS)
		return do_register(a, c, k);
	if (k->route == R_REKEY)
		return do_rekey(a, c, k);
	if (k->route == R_BASELINES)
		return relay_baseline_put(a, c, k);
	if (k->route == R_BASELINE_LOOKUP)
		return relay_baseline_lookup(a, c, k);
	return do_notified(a, c, k);
}
/* ---- routing ------------------------------------------------------------------- */

/* /v1/requests[/<id>[/rekey|/notified]] (id receives the id),
 * /v1/baselines[/lookup]. */
static enum route route_of(const char *url, char id[33])
{
	const char *rest;

	if (!strcmp(url, "/v1/baselines"))
		return R_BASELINES;
	if (!strcmp(url, "/v1/baselines/lookup"))
		return R_BASELINE_LOOKUP;
	if (!strcmp(url, "/v1/requests"))
		return R_REQUESTS;
	if (strncmp(url, "/v1/requests/", 13) || !token_hex_prefix(url + 13, 32))
		return R_NONE;
	memcpy(id, url + 13, 32);
	id[32] = '\0';
	rest = url + 13 + 32;
	if (!*rest)
		return R_REQUEST;
	if (!strcmp(rest, "/rekey"))
		return R_REKEY;
	if (!strcmp(rest, "/notified"))
		return R_NOTIFIED;
	return R_NONE;
}

static int first_call(struct relay_api *a, struct MHD_Connection *c,
		      const char *url, const char *method, void **cls)
{
	struct relay_principal who;
	enum route route;
	char id[33] = "";

	if (!strcmp(url, "/metrics"))
		return relay_metrics(a, c, method);
	if (strncmp(url, "/v1/", 4))
		return relay_fail(a, c, MHD_HTTP_NOT_FOUND, "not found");
	if (atomic_load(&a->stopping))
		return relay_fail_h(a, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			      "the relay is shutting down",
			      MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (!relay_auth(a, c, &who)) {
		atomic_fetch_add(&a->m.auth_failures, 1);
		return relay_fail_h(a, c, MHD_HTTP_UNAUTHORIZED, "a valid bearer"
			      " token is required", "WWW-Authenticate",
			      "Bearer realm=\"greenlight relay\"");
	}
	route = route_of(url, id);
	if (route == R_NONE)
		return relay_fail(a, c, MHD_HTTP_NOT_FOUND, "not found");
	if (strcmp(method, route_method[route]))
		return relay_fail_h(a, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			      "method not allowed", MHD_HTTP_HEADER_ALLOW,
			      route_method[route]);
	if (route == R_REQUEST)
		return get_request(a, c, id, &who, cls);
	return start_body(a, c, route, id, &who, cls);
}

int relay_api_handle(void *ud, struct MHD_Connection *c, const char *url,
		     const char *method, const char *upload_data,
		     size_t *upload_data_size, void **cls)
{
	struct relay_api *a = ud;
	struct call *k = *cls;

	if (!k)
		return first_call(a, c, url, method, cls);
	if (k->state == CALL_WOKEN) {	/* MHD resumed it: it is no longer suspended */
		k->state = CALL_ANSWERED;
		atomic_fetch_sub(&a->unanswered, 1);
		return relay_answer(a, c, k->id);
	}
	if (k->state != CALL_BODY || !k->in)	/* not reached */
		return MHD_NO;
	return more_body(a, c, k, upload_data, upload_data_size);
}

void relay_api_done(void *ud, void *cls)
{
	struct relay_api *a = ud;
	struct call *k = cls;

	if (!k)
		return;
	if (k->state == CALL_WAITING) {	/* only if MHD closed it held */
		pthread_mutex_lock(&a->wlock);
		relay_unlink_waiter(a, k);
		pthread_mutex_unlock(&a->wlock);
	}
	if (k->state == CALL_WOKEN)
		atomic_fetch_sub(&a->unanswered, 1);
	if (k->in)
		buf_release(&k->in->buf);
	free(k->in);
	free(k);
}

/* ---- life cycle -------------------------------------------------------------- */

struct relay_api *relay_api_new(const struct relay_api_config *cfg)
{
	struct relay_api *a = xcalloc(1, sizeof(*a));
	struct json_doc doc;
	struct json_err err;

	a->nslots = cfg->stores ? cfg->stores : 1;
	a->max_waiters = cfg->max_waiters ? cfg->max_waiters :
			 RELAY_DEFAULT_WAITERS;
	a->retention_s = cfg->retention_s;
	pthread_mutex_init(&a->tlock, NULL);
	pthread_mutex_init(&a->wlock, NULL);
	a->slots = xcalloc(a->nslots, sizeof(*a->slots));
	for (unsigned i = 0; i < a->nslots; i++) {
		pthread_mutex_init(&a->slots[i].lock, NULL);
		a->slots[i].s = store_open(cfg->store_path);
		if (!a->slots[i].s) {
			relay_api_free(a);
			return NULL;
		}
	}
	a->shared = store_shared(a->slots[0].s);
	if (a->shared) {
		a->watch = store_watch_start(cfg->store_path, relay_api_hint, a);
		if (!a->watch) {
			relay_api_free(a);
			return NULL;
		}
	}
	/* json.c fills its character table on first use; do that here, on
	 * one thread, before worker threads parse bodies concurrently. */
	if (!json_doc_parse(&doc, "{}", 2, &err))
		json_doc_release(&doc);
	return a;
}

void relay_api_free(struct relay_api *a)
{
	if (!a)
		return;
	store_watch_stop(a->watch);
	for (unsigned i = 0; i < a->nslots; i++) {
		relay_cache_free(&a->slots[i]);
		store_close(a->slots[i].s);
		pthread_mutex_destroy(&a->slots[i].lock);
	}
	free(a->slots);
	relay_auth_free(a);
	pthread_mutex_destroy(&a->tlock);
	pthread_mutex_destroy(&a->wlock);
	free(a);
}
