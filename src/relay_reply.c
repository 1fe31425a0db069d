/* relay_reply.c - the relay's answers: the request object of
 * docs/relay-protocol.md, JSON errors, and reads through this thread's
 * store connection (see relay_int.h).  Every answer is counted by status
 * here (relay_api_responded), review pages included.
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "util.h"
#include "web.h"

/* ---- store connections ------------------------------------------------------ */

/* This thread's store connection (threads are spread over the slots). */
struct slot *relay_slot(struct relay_api *a)
{
	static _Thread_local unsigned mine;
	static _Thread_local int assigned;

	if (!assigned) {
		mine = atomic_fetch_add(&a->next_slot, 1);
		assigned = 1;
	}
	return &a->slots[mine % a->nslots];
}

int relay_api_healthy(void *ud)
{
	struct relay_api *a = ud;
	struct slot *sl = relay_slot(a);
	long n[4];
	int rc;

	pthread_mutex_lock(&sl->lock);
	rc = store_state_counts(sl->s, n);
	pthread_mutex_unlock(&sl->lock);
	if (rc == STORE_OK)
		return 0;
	if (store_unavailable())
		atomic_fetch_add(&a->m.unavailable, 1);
	return -1;
}

/* Whether tenant may see r (NULL: anyone); if not, r is released. */
static int owned(const char *tenant, struct store_request *r)
{
	if (!tenant || !strcmp(r->tenant, tenant))
		return 1;
	store_request_release(r);
	return 0;
}

int relay_read(struct relay_api *a, const char *id, const char *tenant,
	       struct store_request *r)
{
	struct slot *sl = relay_slot(a);
	int rc;

	pthread_mutex_lock(&sl->lock);
	rc = store_request_status(sl->s, id, time(NULL), r);
	pthread_mutex_unlock(&sl->lock);
	if (rc == STORE_OK && !owned(tenant, r))
		return STORE_NOT_FOUND;
	return rc;
}

/* ---- responses ---------------------------------------------------------------- */

/* Queue body (malloc'd, taken over) with status and an optional extra
 * header.  Returns MHD_YES or MHD_NO (the connection is then closed). */
int relay_queue(struct relay_api *a, struct MHD_Connection *c,
		 unsigned status, char *body, size_t len, const char *type,
		 const char *hname, const char *hval)
{
	struct MHD_Response *r;
	int ret = MHD_NO;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (!web_response_headers(r, type) &&
	    (!hname || MHD_add_response_header(r, hname, hval) == MHD_YES))
		ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES)
		relay_api_responded(a, status);
	return ret;
}

int relay_send_json(struct relay_api *a, struct MHD_Connection *c,
		     unsigned status, cJSON *j)
{
	char *text = j ? cJSON_PrintUnformatted(j) : NULL;

	cJSON_Delete(j);
	if (!text)
		return MHD_NO;
	return relay_queue(a, c, status, text, strlen(text), JSON_TYPE, NULL, NULL);
}

/* {"error": msg} with status, and an optional extra header. */
int relay_fail_h(struct relay_api *a, struct MHD_Connection *c,
		  unsigned status, const char *msg, const char *hname,
		  const char *hval)
{
	cJSON *j = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(j, "error", msg);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!text)
		return MHD_NO;
	return relay_queue(a, c, status, text, strlen(text), JSON_TYPE, hname, hval);
}

int relay_fail(struct relay_api *a, struct MHD_Connection *c,
		unsigned status, const char *msg)
{
	return relay_fail_h(a, c, status, msg, NULL, NULL);
}

int relay_internal(struct relay_api *a, struct MHD_Connection *c)
{
	if (store_unavailable()) {
		atomic_fetch_add(&a->m.unavailable, 1);
		return relay_fail_h(a, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "the relay cannot reach its database; nothing"
				    " was changed: retry later",
				    MHD_HTTP_HEADER_RETRY_AFTER, "1");
	}
	return relay_fail(a, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the relay's database failed; nothing was changed");
}

void relay_add_time(cJSON *o, const char *name, time_t t)
{
	cJSON_AddNumberToObject(o, name, (double)t);
}

static cJSON *teams_json(const struct store_request *r)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < r->nteams; i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "name", r->teams[i].name);
		cJSON_AddNumberToObject(t, "approvals", r->teams[i].approvals);
		cJSON_AddNumberToObject(t, "approved", r->teams[i].approved);
		cJSON_AddItemToArray(arr, t);
	}
	return arr;
}

static cJSON *decisions_json(const struct store_request *r)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < r->ndecisions; i++) {
		const struct store_decision *d = &r->decisions[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "email", d->email);
		cJSON_AddStringToObject(o, "team", d->team);
		cJSON_AddStringToObject(o, "decision",
					d->approve ? "approve" : "reject");
		cJSON_AddStringToObject(o, "reason", d->reason);
		relay_add_time(o, "at", d->at);
		cJSON_AddStringToObject(o, "remote_addr", d->remote_addr);
		cJSON_AddStringToObject(o, "user_agent", d->user_agent);
		if (d->token[0])
			cJSON_AddStringToObject(o, "token", d->token);
		else
			cJSON_AddNullToObject(o, "token");
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* The request object of docs/relay-protocol.md. */
cJSON *relay_request_json(const struct store_request *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddStringToObject(o, "key", r->key);
	cJSON_AddStringToObject(o, "gate", r->gate);
	cJSON_AddStringToObject(o, "state", req_state_name(r->state));
	relay_add_time(o, "created", r->created);
	relay_add_time(o, "deadline", r->deadline);
	if (r->state == REQ_PENDING)
		cJSON_AddNullToObject(o, "decided_at");
	else
		relay_add_time(o, "decided_at", r->decided_at);
	cJSON_AddBoolToObject(o, "notified", r->notified);
	cJSON_AddItemToObject(o, "teams", teams_json(r));
	cJSON_AddItemToObject(o, "decisions", decisions_json(r));
	return o;
}

/* ---- the request object as text ----------------------------------------- *
 * The hot path (every status read and long-poll answer) writes the request
 * object straight into a buffer: byte for byte what cJSON_PrintUnformatted
 * makes of relay_request_json() (test_relay_api checks it), without a tree,
 * a malloc per member, or printf and scanf per number. */

struct out {
	struct buf b;
	int err;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->err && buf_add(&o->b, s, n))
		o->err = 1;
}

#define PUT(o, lit) put((o), (lit), sizeof(lit) - 1)

/* A JSON string, escaped as cJSON does: quote, backslash, \b \f \n \r
 * \t, other control characters as \u00XX, everything else as it is. */
static void put_str(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	char esc[6];

	PUT(o, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		size_t n = 2;

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		put(o, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		switch (ch) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			n = 6;
		}
		put(o, esc, n);
	}
	put(o, run, (size_t)(s - run));
	PUT(o, "\"");
}

static void put_int(struct out *o, long long v)
{
	char d[24], *p = d + sizeof(d);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
			       (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put(o, p, (size_t)(d + sizeof(d) - p));
}

/* ,"name": (the first member of an object passes first = 1) */
static void put_key(struct out *o, const char *name, int first)
{
	if (!first)
		PUT(o, ",");
	put_str(o, name);
	PUT(o, ":");
}

static void put_decision(struct out *o, const struct store_decision *d)
{
	put_key(o, "email", 1);
	put_str(o, d->email);
	put_key(o, "team", 0);
	put_str(o, d->team);
	put_key(o, "decision", 0);
	put_str(o, d->approve ? "approve" : "reject");
	put_key(o, "reason", 0);
	put_str(o, d->reason);
	put_key(o, "at", 0);
	put_int(o, (long long)d->at);
	put_key(o, "remote_addr", 0);
	put_str(o, d->remote_addr);
	put_key(o, "user_agent", 0);
	put_str(o, d->user_agent);
	put_key(o, "token", 0);
	if (d->token[0])
		put_str(o, d->token);
	else
		PUT(o, "null");
}

int relay_request_text(const struct store_request *r, struct buf *b)
{
	struct out o = { BUF_INIT(b->max), 0 };

	PUT(&o, "{");
	put_key(&o, "id", 1);
	put_str(&o, r->id);
	put_key(&o, "key", 0);
	put_str(&o, r->key);
	put_key(&o, "gate", 0);
	put_str(&o, r->gate);
	put_key(&o, "state", 0);
	put_str(&o, req_state_name(r->state));
	put_key(&o, "created", 0);
	put_int(&o, (long long)r->created);
	put_key(&o, "deadline", 0);
	put_int(&o, (long long)r->deadline);
	put_key(&o, "decided_at", 0);
	if (r->state == REQ_PENDING)
		PUT(&o, "null");
	else
		put_int(&o, (long long)r->decided_at);
	put_key(&o, "notified", 0);
	if (r->notified)
		PUT(&o, "true");
	else
		PUT(&o, "false");
	put_key(&o, "teams", 0);
	PUT(&o, "[");
	for (size_t i = 0; i < r->nteams; i++) {
		put(&o, ",{" + !i, 2 - !i);
		put_key(&o, "name", 1);
		put_str(&o, r->teams[i].name);
		put_key(&o, "approvals", 0);
		put_int(&o, r->teams[i].approvals);
		put_key(&o, "approved", 0);
		put_int(&o, r->teams[i].approved);
		PUT(&o, "}");
	}
	PUT(&o, "]");
	put_key(&o, "decisions", 0);
	PUT(&o, "[");
	for (size_t i = 0; i < r->ndecisions; i++) {
		put(&o, ",{" + !i, 2 - !i);
		put_decision(&o, &r->decisions[i]);
		PUT(&o, "}");
	}
	PUT(&o, "]}");
	if (o.err) {
		buf_release(&o.b);
		return -1;
	}
	buf_release(b);
	*b = o.b;
	return 0;
}

#define REQUEST_TEXT_MAX (4 * 1024 * 1024)	/* 256 decisions of ~1.7 KiB */

int relay_reply_read(struct relay_api *a, struct MHD_Connection *c, int rc,
		      unsigned status, struct store_request *r)
{
	struct buf b = BUF_INIT(REQUEST_TEXT_MAX);
	size_t len;
	char *text;

	if (rc == STORE_NOT_FOUND)
		return relay_fail(a, c, MHD_HTTP_NOT_FOUND, "no such request");
	if (rc != STORE_OK)
		return relay_internal(a, c);
	rc = relay_request_text(r, &b);
	store_request_release(r);
	if (rc)
		return MHD_NO;
	text = buf_detach(&b, &len);
	return relay_queue(a, c, status, text, len, JSON_TYPE, NULL, NULL);
}

/* ---- the status cache --------------------------------------------------- *
 * Status reads repeat: a gate polls its request, dashboards poll many.  Each
 * slot (one per worker thread) keeps the last answer per request in a
 * 4-way set-associative table and serves it again without the database
 * while the store's write generation is the one it was read at (no write transaction
 * of this process has ended since: on SQLite the relay is the only writer
 * of its database, which its lock ensures; on a shared PostgreSQL database
 * every change another relay commits is heard as a notification, which
 * ends a generation too, and nothing is cached while that connection is
 * down) and, for a pending request, before its deadline (a read then
 * settles it).  Any write anywhere empties it in effect; a miss costs what
 * a read cost before. */

#define SLOT_CACHE 1024			/* entries per slot */
#define CACHE_WAYS 4			/* entries an id may use (LRU among them) */
#define CACHE_TEXT_MAX (4 * 1024)	/* larger answers are not kept: at most
					 * 4 MiB of answers per worker */

/* The first of the CACHE_WAYS entries id may occupy.  A set of several
 * entries keeps requests whose ids share a set from evicting each other
 * on every read (with one entry per id, 100 requests polled in turn
 * collide about 5 times in 1024 entries: a database read each time). */
static unsigned cache_set(const char *id)
{
	unsigned h = 0;

	for (int i = 0; i < 8; i++)
		h = h << 4 | (unsigned)token_hex_value(id[i]);
	return h % (SLOT_CACHE / CACHE_WAYS) * CACHE_WAYS;
}

/* The entry holding id in its set, or NULL. */
static struct cached *cache_find(struct slot *sl, const char *id)
{
	struct cached *e = &sl->cache[cache_set(id)];

	for (int i = 0; i < CACHE_WAYS; i++)
		if (e[i].text && !strcmp(e[i].id, id))
			return &e[i];
	return NULL;
}

/* The entry to put id in: its own, else an empty one, else the least
 * recently used of its set. */
static struct cached *cache_victim(struct slot *sl, const char *id)
{
	struct cached *e = &sl->cache[cache_set(id)], *v = cache_find(sl, id);

	if (v)
		return v;
	v = e;
	for (int i = 0; i < CACHE_WAYS; i++) {
		if (!e[i].text)
			return &e[i];
		if (e[i].used < v->used)
			v = &e[i];
	}
	return v;
}

/* A copy of the answer kept for id if it is still right, else NULL (read
 * the store); *foreign: it is right but another tenant's request (404). */
static char *cache_get(struct slot *sl, const char *id, const char *tenant,
		       uint64_t gen, time_t now, size_t *len, int *foreign)
{
	struct cached *e;
	char *copy;

	*foreign = 0;
	if (!sl->cache)
		return NULL;
	e = cache_find(sl, id);
	if (!e || e->generation != gen || now >= e->valid_until)
		return NULL;
	e->used = ++sl->clock;
	if (tenant && strcmp(e->tenant, tenant)) {
		*foreign = 1;
		return NULL;
	}
	copy = malloc(e->len + 1);
	if (copy) {
		memcpy(copy, e->text, e->len + 1);
		*len = e->len;
	}
	return copy;
}

static void cache_put(struct slot *sl, const struct store_request *r,
		      uint64_t gen, const char *text, size_t len)
{
	struct cached *e;

	if (len > CACHE_TEXT_MAX)
		return;
	if (!sl->cache)
		sl->cache = calloc(SLOT_CACHE, sizeof(*sl->cache));
	if (!sl->cache)
		return;
	e = cache_victim(sl, r->id);
	free(e->text);
	e->text = malloc(len + 1);
	if (!e->text)
		return;
	memcpy(e->text, text, len + 1);
	e->len = len;
	memcpy(e->id, r->id, sizeof(e->id));
	strlcpy_gl(e->tenant, r->tenant, sizeof(e->tenant));
	e->generation = gen;
	e->valid_until = r->state == REQ_PENDING ? r->deadline : (time_t)INT64_MAX;
	e->used = ++sl->clock;
}

void relay_cache_free(struct slot *sl)
{
	if (!sl->cache)
		return;
	for (unsigned i = 0; i < SLOT_CACHE; i++)
		free(sl->cache[i].text);
	free(sl->cache);
	sl->cache = NULL;
}

int relay_reply_status(struct relay_api *a, struct MHD_Connection *c,
		       const char *id, const char *tenant)
{
	struct slot *sl = relay_slot(a);
	struct buf b = BUF_INIT(REQUEST_TEXT_MAX);
	struct store_request r;
	time_t now = time(NULL);
	uint64_t gen;
	size_t len = 0;
	char *text;
	int rc, foreign, cacheable;

	pthread_mutex_lock(&sl->lock);
	gen = store_generation();	/* before the read: see store.h */
	/* another relay may write a shared database: its answers are kept
	 * only while every change is heard (store_watch_live) */
	cacheable = !a->shared || store_watch_live(a->watch);
	foreign = 0;
	text = cacheable ? cache_get(sl, id, tenant, gen, now, &len, &foreign)
			 : NULL;
	if (text || foreign) {
		pthread_mutex_unlock(&sl->lock);
		if (foreign)
			return relay_fail(a, c, MHD_HTTP_NOT_FOUND, "no such request");
		return relay_queue(a, c, MHD_HTTP_OK, text, len, JSON_TYPE, NULL,
				   NULL);
	}
	rc = store_request_status(sl->s, id, now, &r);
	if (rc == STORE_OK && relay_request_text(&r, &b) == 0 && cacheable)
		cache_put(sl, &r, gen, b.data, b.len);
	pthread_mutex_unlock(&sl->lock);
	if (rc == STORE_OK && tenant && strcmp(r.tenant, tenant)) {
		store_request_release(&r);
		buf_release(&b);
		rc = STORE_NOT_FOUND;
	}
	if (rc == STORE_NOT_FOUND)
		return relay_fail(a, c, MHD_HTTP_NOT_FOUND, "no such request");
	if (rc != STORE_OK)
		return relay_internal(a, c);
	store_request_release(&r);
	if (!b.data)
		return MHD_NO;
	text = buf_detach(&b, &len);
	return relay_queue(a, c, MHD_HTTP_OK, text, len, JSON_TYPE, NULL, NULL);
}

int relay_answer(struct relay_api *a, struct MHD_Connection *c,
		 const char *id)
{
	return relay_reply_status(a, c, id, NULL);
}

void relay_api_responded(void *ud, unsigned status)
{
	struct relay_api *a = ud;

	if (status < NCODES)
		atomic_fetch_add(&a->m.codes[status], 1);
	if (status >= 500)
		atomic_fetch_add(&a->m.errors, 1);
}
