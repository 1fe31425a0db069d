/* relay_api.c - the relay's /v1 API and /metrics (see relay_api.h).
 *
 * Ownership: a struct call is the per-request state of a POST (its body) or
 * of a held long-poll; web.c hands it back on every later call and to
 * relay_api_done(), which frees it.  A held long-poll sits in a hash bucket
 * (by request id) under wlock; whoever ends it (a decision, the sweep, the
 * shutdown) unlinks it under wlock and only then resumes its connection, so
 * a connection is resumed exactly once and never before it was suspended.
 * Store reads and writes go through one store connection per worker thread;
 * a long-poll reads its request under wlock, so a decision committed after
 * that read is announced (relay_api_decided) after the waiter was linked.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "json.h"
#include "relay_api.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "web.h"

#define NBUCKETS 1024			/* held long-polls, by request id */
#define MAX_DISCARD (1024 * 1024)	/* body read past the cap, then close */
#define NCODES 600			/* HTTP status codes counted */
#define METRICS_MAX (64 * 1024)
#define DEADLINE_SLACK_MS 20		/* wake just after a deadline, not before */
#define JSON_TYPE "application/json"

enum route { R_NONE, R_REQUESTS, R_REQUEST, R_REKEY, R_NOTIFIED };
enum call_state { CALL_BODY, CALL_WAITING, CALL_WOKEN, CALL_ANSWERED };

static const char *const route_method[] = {
	[R_NONE] = "", [R_REQUESTS] = "POST", [R_REQUEST] = "GET",
	[R_REKEY] = "POST", [R_NOTIFIED] = "POST",
};

/* A POST's body as it arrives. */
struct body {
	struct buf buf;
	size_t seen;			/* bytes received */
	int too_big;
};

/* Kept small: a relay may hold ten thousand of these. */
struct call {
	char id[33];
	unsigned char route;		/* enum route */
	unsigned char state;		/* enum call_state */
	unsigned short bucket;
	struct body *in;		/* POSTs only */
	/* while held (CALL_WAITING), guarded by wlock */
	struct MHD_Connection *conn;
	uint64_t until_ms;		/* monotonic */
	struct call *prev, *next;
};

struct slot {
	pthread_mutex_t lock;
	struct store *s;
};

struct counters {
	atomic_ulong registered, reattached, decisions, settled;
	atomic_ulong errors, auth_failures, waiters_refused;
	atomic_ulong codes[NCODES];
};

struct relay_api {
	struct slot *slots;
	unsigned nslots;
	atomic_uint next_slot;
	pthread_mutex_t tlock;		/* guards tokens */
	char (*tokens)[TOKEN_HEX_SIZE];	/* SHA-256 of each accepted token */
	size_t ntokens;
	pthread_mutex_t wlock;		/* guards the waiters */
	struct call *bucket[NBUCKETS];
	unsigned nwaiters, max_waiters;
	atomic_int stopping;
	atomic_int unanswered;		/* woken, not yet answered */
	struct counters m;
};

/* The parts of a POST body, validated. */
struct parsed {
	struct json_doc doc;
	struct store_new_request nr;
	struct store_team teams[STORE_MAX_TEAMS];
	size_t nteams;
	struct store_recipient rcpt[STORE_MAX_RECIPIENTS];
	size_t nrcpt;
	char *facts;
	long long deadline;
	int has_deadline;
	char why[300];
};

/* ---- small helpers ------------------------------------------------------- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whether s starts with exactly n lowercase hex digits. */
static int hex_prefix(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hex_digit(s[i]) < 0)
			return 0;
	return 1;
}

static int hex_exact(const char *s, size_t n)
{
	return hex_prefix(s, n) && s[n] == '\0';
}

/* s is 1..max bytes without control characters (the store's rule). */
static int text_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (!n || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- bearer tokens --------------------------------------------------------- */

static const char *trim(const char *s, size_t *len)
{
	while (*len && strchr(" \t\r", s[0])) {
		s++;
		(*len)--;
	}
	while (*len && strchr(" \t\r", s[*len - 1]))
		(*len)--;
	return s;
}

static int add_token(const char *t, size_t len, const char *from,
		     unsigned line, char (*out)[TOKEN_HEX_SIZE], size_t *n)
{
	if (len < RELAY_TOKEN_MIN || len > RELAY_TOKEN_MAX)
		return error("%s, line %u: a bearer token must be %d to %d bytes"
			     " long", from, line, RELAY_TOKEN_MIN,
			     RELAY_TOKEN_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return error("%s, line %u: a bearer token may hold only"
				     " printable ASCII without blanks", from,
				     line);
	if (*n == RELAY_MAX_TOKENS)
		return error("%s: more than %d bearer tokens", from,
			     RELAY_MAX_TOKENS);
	if (token_sha256_hex(out[*n], t, len))
		return error("cannot hash a bearer token");
	(*n)++;
	return 0;
}

/* One line: '#' comment, or tokens separated by commas. */
static int parse_line(const char *s, size_t len, const char *from,
		      unsigned line, char (*out)[TOKEN_HEX_SIZE], size_t *n)
{
	s = trim(s, &len);
	if (!len || s[0] == '#')
		return 0;
	while (len) {
		const char *comma = memchr(s, ',', len);
		size_t k = comma ? (size_t)(comma - s) : len;
		size_t tl = k;
		const char *t = trim(s, &tl);

		if (tl && add_token(t, tl, from, line, out, n))
			return -1;
		s += k + (comma != NULL);
		len -= k + (comma != NULL);
	}
	return 0;
}

int relay_api_set_tokens(struct relay_api *a, const char *text,
			 const char *from)
{
	char (*tok)[TOKEN_HEX_SIZE] = xcalloc(RELAY_MAX_TOKENS, sizeof(*tok));
	char (*old)[TOKEN_HEX_SIZE];
	size_t n = 0;
	unsigned line = 1;

	for (const char *p = text; *p; line++) {
		size_t len = strcspn(p, "\n");

		if (parse_line(p, len, from, line, tok, &n)) {
			free(tok);
			return -1;
		}
		p += len + (p[len] == '\n');
	}
	if (!n) {
		free(tok);
		return error("%s holds no bearer token", from);
	}
	pthread_mutex_lock(&a->tlock);
	old = a->tokens;
	a->tokens = tok;
	a->ntokens = n;
	pthread_mutex_unlock(&a->tlock);
	free(old);
	return (int)n;
}

/* Whether the Authorization header carries an accepted bearer token.  The
 * presented token is hashed and compared with every accepted hash without
 * stopping early: the time taken does not depend on its contents. */
static int authorized(struct relay_api *a, struct MHD_Connection *c)
{
	const char *h = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
	char hash[TOKEN_HEX_SIZE];
	size_t len;
	int ok = 0;

	if (!h || strncasecmp(h, "Bearer ", 7))
		return 0;
	len = strnlen(h + 7, RELAY_TOKEN_MAX + 8);
	h = trim(h + 7, &len);
	if (!len || len > RELAY_TOKEN_MAX || token_sha256_hex(hash, h, len))
		return 0;
	pthread_mutex_lock(&a->tlock);
	for (size_t i = 0; i < a->ntokens; i++)
		ok |= token_hex_equal(hash, a->tokens[i]);
	pthread_mutex_unlock(&a->tlock);
	return ok;
}

/* ---- store connections ------------------------------------------------------ */

/* This thread's store connection (threads are spread over the slots). */
static struct slot *my_slot(struct relay_api *a)
{
	static _Thread_local unsigned mine;
	static _Thread_local int assigned;

	if (!assigned) {
		mine = atomic_fetch_add(&a->next_slot, 1);
		assigned = 1;
	}
	return &a->slots[mine % a->nslots];
}

static int read_request(struct relay_api *a, const char *id,
			struct store_request *r)
{
	struct slot *sl = my_slot(a);
	int rc;

	pthread_mutex_lock(&sl->lock);
	rc = store_request_status(sl->s, id, time(NULL), r);
	pthread_mutex_unlock(&sl->lock);
	return rc;
}

/* ---- responses ---------------------------------------------------------------- */

/* Queue body (malloc'd, taken over) with status and an optional extra
 * header.  Returns MHD_YES or MHD_NO (the connection is then closed). */
static int queue(struct relay_api *a, struct MHD_Connection *c,
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

static int send_json(struct relay_api *a, struct MHD_Connection *c,
		     unsigned status, cJSON *j)
{
	char *text = j ? cJSON_PrintUnformatted(j) : NULL;

	cJSON_Delete(j);
	if (!text)
		return MHD_NO;
	return queue(a, c, status, text, strlen(text), JSON_TYPE, NULL, NULL);
}

/* {"error": msg} with status, and an optional extra header. */
static int fail_h(struct relay_api *a, struct MHD_Connection *c,
		  unsigned status, const char *msg, const char *hname,
		  const char *hval)
{
	cJSON *j = cJSON_CreateObject();
	char *text;

	if (status == MHD_HTTP_INTERNAL_SERVER_ERROR)
		atomic_fetch_add(&a->m.errors, 1);
	cJSON_AddStringToObject(j, "error", msg);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!text)
		return MHD_NO;
	return queue(a, c, status, text, strlen(text), JSON_TYPE, hname, hval);
}

static int fail(struct relay_api *a, struct MHD_Connection *c,
		unsigned status, const char *msg)
{
	return fail_h(a, c, status, msg, NULL, NULL);
}

static int internal(struct relay_api *a, struct MHD_Connection *c)
{
	return fail(a, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the relay's database failed; nothing was changed");
}

static void add_time(cJSON *o, const char *name, time_t t)
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
		add_time(o, "at", d->at);
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
static cJSON *request_json(const struct store_request *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddStringToObject(o, "key", r->key);
	cJSON_AddStringToObject(o, "gate", r->gate);
	cJSON_AddStringToObject(o, "state", req_state_name(r->state));
	add_time(o, "created", r->created);
	add_time(o, "deadline", r->deadline);
	if (r->state == REQ_PENDING)
		cJSON_AddNullToObject(o, "decided_at");
	else
		add_time(o, "decided_at", r->decided_at);
	cJSON_AddBoolToObject(o, "notified", r->notified);
	cJSON_AddItemToObject(o, "teams", teams_json(r));
	cJSON_AddItemToObject(o, "decisions", decisions_json(r));
	return o;
}

/* Answer with what a store read returned (releases *r). */
static int reply_read(struct relay_api *a, struct MHD_Connection *c, int rc,
		      unsigned status, struct store_request *r)
{
	cJSON *j;

	if (rc == STORE_NOT_FOUND)
		return fail(a, c, MHD_HTTP_NOT_FOUND, "no such request");
	if (rc != STORE_OK)
		return internal(a, c);
	j = request_json(r);
	store_request_release(r);
	return send_json(a, c, status, j);
}

static int answer_request(struct relay_api *a, struct MHD_Connection *c,
			  const char *id)
{
	struct store_request r;
	int rc = read_request(a, id, &r);

	return reply_read(a, c, rc, MHD_HTTP_OK, &r);
}

/* ---- held long-polls ---------------------------------------------------------- */

static unsigned bucket_of(const char *id)
{
	unsigned h = 0;

	for (int i = 0; i < 4; i++)
		h = h << 4 | (unsigned)hex_digit(id[i]);
	return h % NBUCKETS;
}

static void link_waiter(struct relay_api *a, struct call *k)
{
	k->bucket = (unsigned short)bucket_of(k->id);
	k->prev = NULL;
	k->next = a->bucket[k->bucket];
	if (k->next)
		k->next->prev = k;
	a->bucket[k->bucket] = k;
	a->nwaiters++;
}

static void unlink_waiter(struct relay_api *a, struct call *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		a->bucket[k->bucket] = k->next;
	if (k->next)
		k->next->prev = k->prev;
	k->prev = k->next = NULL;
	a->nwaiters--;
}

/* End a held long-poll (wlock held): it answers when MHD calls back. */
static void wake(struct relay_api *a, struct call *k)
{
	unlink_waiter(a, k);
	k->state = CALL_WOKEN;
	atomic_fetch_add(&a->unanswered, 1);
	MHD_resume_connection(k->conn);
}

/* When a long-poll of `wait` seconds on a request due at `deadline` ends:
 * just after the deadline if that comes first, so the read settles it. */
static uint64_t hold_until(int wait, time_t deadline)
{
	int64_t left = (int64_t)deadline * 1000 - wall_ms() + DEADLINE_SLACK_MS;
	int64_t ms = (int64_t)wait * 1000;

	if (left < ms)
		ms = left < 0 ? 0 : left;
	return mono_ms() + (uint64_t)ms;
}

/* Suspend the connection until the request is decided or the wait ends.
 * The read happens under wlock: a decision committed after it is
 * announced only once the waiter is linked. */
static int hold(struct relay_api *a, struct MHD_Connection *c,
		const char *id, int wait, void **cls)
{
	struct store_request r;
	struct call *k;
	int rc;

	pthread_mutex_lock(&a->wlock);
	rc = read_request(a, id, &r);
	if (rc || r.state != REQ_PENDING || atomic_load(&a->stopping)) {
		pthread_mutex_unlock(&a->wlock);
		return reply_read(a, c, rc, MHD_HTTP_OK, &r);
	}
	if (a->nwaiters >= a->max_waiters) {
		pthread_mutex_unlock(&a->wlock);
		store_request_release(&r);
		atomic_fetch_add(&a->m.waiters_refused, 1);
		return fail_h(a, c, MHD_HTTP_TOO_MANY_REQUESTS, "too many"
			      " long-polls are waiting; retry later",
			      MHD_HTTP_HEADER_RETRY_AFTER, "1");
	}
	k = xcalloc(1, sizeof(*k));
	k->route = R_REQUEST;
	k->state = CALL_WAITING;
	memcpy(k->id, id, sizeof(k->id));
	k->conn = c;
	k->until_ms = hold_until(wait, r.deadline);
	store_request_release(&r);
	MHD_suspend_connection(c);
	link_waiter(a, k);
	pthread_mutex_unlock(&a->wlock);
	*cls = k;
	return MHD_YES;
}

void relay_api_decided(void *ud, const char *request_id)
{
	struct relay_api *a = ud;
	struct call *k, *next;

	atomic_fetch_add(&a->m.decisions, 1);
	if (!hex_exact(request_id, 32))
		return;
	pthread_mutex_lock(&a->wlock);
	for (k = a->bucket[bucket_of(request_id)]; k; k = next) {
		next = k->next;
		if (!strcmp(k->id, request_id))
			wake(a, k);
	}
	pthread_mutex_unlock(&a->wlock);
}

/* Wake every waiter whose time has come (all of them when `all`). */
static void wake_due(struct relay_api *a, int all)
{
	uint64_t now = mono_ms();
	struct call *k, *next;

	pthread_mutex_lock(&a->wlock);
	for (unsigned b = 0; b < NBUCKETS && a->nwaiters; b++) {
		for (k = a->bucket[b]; k; k = next) {
			next = k->next;
			if (all || k->until_ms <= now)
				wake(a, k);
		}
	}
	pthread_mutex_unlock(&a->wlock);
}

long relay_api_sweep(struct relay_api *a, int settle)
{
	struct slot *sl;
	long n = 0;
	int rc;

	wake_due(a, 0);
	if (!settle)
		return 0;
	sl = my_slot(a);
	pthread_mutex_lock(&sl->lock);
	rc = store_settle_expired(sl->s, time(NULL), &n);
	pthread_mutex_unlock(&sl->lock);
	if (rc) {
		atomic_fetch_add(&a->m.errors, 1);
		return -1;
	}
	atomic_fetch_add(&a->m.settled, (unsigned long)n);
	return n;
}

void relay_api_shutdown(struct relay_api *a)
{
	pthread_mutex_lock(&a->wlock);
	atomic_store(&a->stopping, 1);
	pthread_mutex_unlock(&a->wlock);
	wake_due(a, 1);
}

int relay_api_drain(struct relay_api *a, unsigned ms)
{
	struct timespec tick = { 0, 5 * 1000 * 1000 };

	for (unsigned i = 0; i < ms / 5; i++) {
		if (!relay_api_waiters(a) && !atomic_load(&a->unanswered))
			return 0;
		nanosleep(&tick, NULL);
	}
	return relay_api_waiters(a) || atomic_load(&a->unanswered) ? -1 : 0;
}

unsigned relay_api_waiters(struct relay_api *a)
{
	unsigned n;

	pthread_mutex_lock(&a->wlock);
	n = a->nwaiters;
	pthread_mutex_unlock(&a->wlock);
	return n;
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
		       const char *id, void **cls)
{
	int wait = parse_wait(MHD_lookup_connection_value(c,
				MHD_GET_ARGUMENT_KIND, "wait"));

	if (wait < 0)
		return fail(a, c, MHD_HTTP_BAD_REQUEST, "wait must be a whole"
			    " number of seconds from 0 to 60");
	if (!wait)
		return answer_request(a, c, id);
	return hold(a, c, id, wait, cls);
}

/* ---- validating bodies -------------------------------------------------------- */

static int bad(struct parsed *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct parsed *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* As bad(), for callers that answer with an HTTP status: returns status. */
static unsigned refuse(struct parsed *p, unsigned status, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));

static unsigned refuse(struct parsed *p, unsigned status, const char *fmt,
		       ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return status;
}

static const cJSON *member(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* A string member of 1..max bytes without controls; NULL/absent is
 * allowed when optional (then *out is NULL). */
static int get_text(struct parsed *p, const cJSON *o, const char *name,
		    const char *where, size_t max, int optional,
		    const char **out)
{
	const cJSON *v = member(o, name);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return optional ? 0 : bad(p, "%s%s is required", where, name);
	if (!cJSON_IsString(v) || !text_ok(v->valuestring, max))
		return bad(p, "%s%s must be a string of 1 to %zu bytes without"
			   " control characters", where, name, max);
	*out = v->valuestring;
	return 0;
}

/* An integer member in [min, max]; *present says whether it was there. */
static int get_int(struct parsed *p, const cJSON *o, const char *name,
		   const char *where, long long min, long long max,
		   long long *out, int *present)
{
	const cJSON *v = member(o, name);
	double d;

	*present = v && !cJSON_IsNull(v);
	if (!*present)
		return 0;
	d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
	if (d < (double)min || d > (double)max || d != (double)(long long)d)
		return bad(p, "%s%s must be a whole number from %lld to %lld",
			   where, name, min, max);
	*out = (long long)d;
	return 0;
}

static int get_hex64(struct parsed *p, const cJSON *o, const char *name,
		     const char *where, const char **out)
{
	if (get_text(p, o, name, where, 64, 0, out))
		return -1;
	if (!hex_exact(*out, 64))
		return bad(p, "%s%s must be 64 lowercase hexadecimal digits",
			   where, name);
	return 0;
}

static const cJSON *get_array(struct parsed *p, const cJSON *o,
			      const char *name, int max)
{
	const cJSON *v = member(o, name);
	int n = cJSON_GetArraySize(v);

	if (!cJSON_IsArray(v) || n < 1 || n > max) {
		bad(p, "%s must be an array of 1 to %d entries", name, max);
		return NULL;
	}
	return v;
}

static int parse_team(struct parsed *p, const cJSON *t, size_t i)
{
	char where[32];
	long long approvals = 1;
	int present;

	snprintf(where, sizeof(where), "teams[%zu].", i);
	if (!cJSON_IsObject(t))
		return bad(p, "teams[%zu] must be an object", i);
	if (get_text(p, t, "name", where, STORE_MAX_TEAM, 0,
		     &p->teams[i].name) ||
	    get_int(p, t, "approvals", where, 1, STORE_MAX_APPROVALS,
		    &approvals, &present))
		return -1;
	for (size_t j = 0; j < i; j++)
		if (!strcmp(p->teams[j].name, p->teams[i].name))
			return bad(p, "team \"%s\" is named twice",
				   p->teams[i].name);
	p->teams[i].approvals = (int)approvals;
	return 0;
}

static int parse_teams(struct parsed *p, const cJSON *root)
{
	const cJSON *arr = get_array(p, root, "teams", STORE_MAX_TEAMS);
	const cJSON *t;

	if (!arr)
		return -1;
	cJSON_ArrayForEach(t, arr) {
		if (parse_team(p, t, p->nteams))
			return -1;
		p->nteams++;
	}
	return 0;
}

static int known_team(const struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->nteams; i++)
		if (!strcmp(p->teams[i].name, name))
			return 1;
	return 0;
}

/* Recipient i against those before it: one row per (address, team), one
 * token hash per row. */
static int unique_recipient(struct parsed *p, size_t i)
{
	const struct store_recipient *r = &p->rcpt[i];

	for (size_t j = 0; j < i; j++) {
		if (!strcasecmp(p->rcpt[j].email, r->email) &&
		    !strcmp(p->rcpt[j].team, r->team))
			return bad(p, "recipients[%zu] repeats %s for team %s",
				   i, r->email, r->team);
		if (!strcmp(p->rcpt[j].token_hash, r->token_hash))
			return bad(p, "recipients[%zu] repeats a token_hash", i);
	}
	return 0;
}

static int parse_recipient(struct parsed *p, const cJSON *o, size_t i)
{
	struct store_recipient *r = &p->rcpt[i];
	const char *hash;
	char where[40];

	snprintf(where, sizeof(where), "recipients[%zu].", i);
	if (!cJSON_IsObject(o))
		return bad(p, "recipients[%zu] must be an object", i);
	if (get_text(p, o, "email", where, STORE_MAX_EMAIL, 0, &r->email) ||
	    get_text(p, o, "team", where, STORE_MAX_TEAM, 0, &r->team) ||
	    get_hex64(p, o, "token_hash", where, &hash))
		return -1;
	memcpy(r->token_hash, hash, sizeof(r->token_hash));
	if (!known_team(p, r->team))
		return bad(p, "recipients[%zu].team \"%s\" is not one of the"
			   " request's teams", i, r->team);
	return unique_recipient(p, i);
}

/* Every team can reach its quorum with the people asked. */
static int enough_people(struct parsed *p)
{
	for (size_t t = 0; t < p->nteams; t++) {
		int asked = 0;

		for (size_t i = 0; i < p->nrcpt; i++)
			asked += !strcmp(p->rcpt[i].team, p->teams[t].name);
		if (asked < p->teams[t].approvals)
			return bad(p, "team \"%s\" needs %d approvals but only"
				   " %d recipients", p->teams[t].name,
				   p->teams[t].approvals, asked);
	}
	return 0;
}

static int parse_recipients(struct parsed *p, const cJSON *root)
{
	const cJSON *arr = get_array(p, root, "recipients",
				     STORE_MAX_RECIPIENTS);
	const cJSON *o;

	if (!arr)
		return -1;
	cJSON_ArrayForEach(o, arr) {
		if (parse_recipient(p, o, p->nrcpt))
			return -1;
		p->nrcpt++;
	}
	return enough_people(p);
}

static int parse_facts(struct parsed *p, const cJSON *root)
{
	const cJSON *v = member(root, "facts");

	if (!v || cJSON_IsNull(v)) {
		p->facts = xstrdup("{}");
		return 0;
	}
	if (!cJSON_IsObject(v))
		return bad(p, "facts must be an object");
	p->facts = cJSON_PrintUnformatted(v);
	if (!p->facts || strlen(p->facts) > STORE_MAX_FACTS)
		return bad(p, "facts must be at most %d bytes as compact JSON",
			   STORE_MAX_FACTS);
	return 0;
}

static int parse_self(struct parsed *p, const cJSON *root)
{
	const cJSON *v = member(root, "allow_self_approval");

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return bad(p, "allow_self_approval must be true or false");
	p->nr.allow_self_approval = cJSON_IsTrue(v);
	return 0;
}

/* The body as a JSON object (p->doc owns it), or NULL with p->why. */
static const cJSON *parse_body(struct parsed *p, const struct buf *body)
{
	struct json_err err;

	memset(&err, 0, sizeof(err));
	if (!body->len) {
		bad(p, "the body is empty; send a JSON object");
		return NULL;
	}
	if (json_doc_parse(&p->doc, body->data, body->len, &err)) {
		bad(p, "body, line %u, column %u: %s", err.line, err.col,
		    err.msg);
		return NULL;
	}
	if (!cJSON_IsObject(p->doc.root)) {
		bad(p, "the body must be a JSON object");
		return NULL;
	}
	return p->doc.root;
}

static int parse_register(struct parsed *p, const cJSON *root, time_t now)
{
	struct store_new_request *nr = &p->nr;
	int present;

	if (get_hex64(p, root, "key", "", &nr->key) ||
	    get_text(p, root, "gate", "", STORE_MAX_GATE, 0, &nr->gate) ||
	    parse_facts(p, root) ||
	    get_text(p, root, "author_email", "", STORE_MAX_AUTHORS, 1,
		     &nr->author_email) ||
	    parse_self(p, root) ||
	    get_int(p, root, "deadline", "", 0, 1LL << 53, &p->deadline,
		    &present))
		return -1;
	if (!present)
		return bad(p, "deadline is required");
	if (p->deadline <= now || p->deadline > now + RELAY_MAX_DEADLINE)
		return bad(p, "deadline must be a Unix time in the future, at"
			   " most %ld days ahead (now is %lld)",
			   RELAY_MAX_DEADLINE / 86400, (long long)now);
	if (parse_teams(p, root) || parse_recipients(p, root))
		return -1;
	nr->facts_json = p->facts;
	nr->created = now;
	nr->deadline = (time_t)p->deadline;
	nr->teams = p->teams;
	nr->nteams = p->nteams;
	nr->recipients = p->rcpt;
	nr->nrecipients = p->nrcpt;
	return 0;
}

static void parsed_free(struct parsed *p)
{
	json_doc_release(&p->doc);
	free(p->facts);
	free(p);
}

int relay_api_check_register(const char *body, size_t len, time_t now,
			     char *why, size_t whylen)
{
	struct parsed *p = xcalloc(1, sizeof(*p));
	struct buf b = BUF_INIT(len);
	const cJSON *root;
	int ret = -1;

	b.data = (char *)body;	/* borrowed: parse_body only reads it */
	b.len = len;
	root = parse_body(p, &b);
	if (root && !parse_register(p, root, now))
		ret = 0;
	if (why && whylen)
		strlcpy_gl(why, ret ? p->why : "", whylen);
	parsed_free(p);
	return ret;
}

/* ---- POST /v1/requests ---------------------------------------------------------- */

static int do_register(struct relay_api *a, struct MHD_Connection *c,
		       const struct call *k)
{
	struct parsed *p = xcalloc(1, sizeof(*p));
	const cJSON *root = parse_body(p, &k->in->buf);
	struct store_request r;
	struct slot *sl;
	int rc, created = 0, ret;

	if (!root || parse_register(p, root, time(NULL))) {
		ret = fail(a, c, MHD_HTTP_BAD_REQUEST, p->why);
		goto out;
	}
	sl = my_slot(a);
	pthread_mutex_lock(&sl->lock);
	rc = store_request_put(sl->s, &p->nr, &r, &created);
	pthread_mutex_unlock(&sl->lock);
	if (rc == STORE_OK)
		atomic_fetch_add(created ? &a->m.registered : &a->m.reattached, 1);
	if (rc == STORE_CONFLICT)
		ret = fail(a, c, MHD_HTTP_CONFLICT, "a token_hash belongs to"
			   " another request already; generate new tokens");
	else
		ret = reply_read(a, c, rc, created ? MHD_HTTP_CREATED :
				 MHD_HTTP_OK, &r);
out:
	parsed_free(p);
	return ret;
}

/* ---- POST /v1/requests/<id>/rekey --------------------------------------------- */

/* The new recipients, checked against the stored request's teams. */
static int parse_rekey(struct parsed *p, const cJSON *root,
		       const struct store_request *r)
{
	for (size_t i = 0; i < r->nteams && i < STORE_MAX_TEAMS; i++) {
		p->teams[i].name = r->teams[i].name;
		p->teams[i].approvals = r->teams[i].approvals;
	}
	p->nteams = r->nteams;
	return parse_recipients(p, root);
}

/* Give an expired request its new deadline and links. */
static unsigned reopen(struct store *s, struct parsed *p, const char *id,
		       time_t now)
{
	int rc;

	if (!p->has_deadline)
		return refuse(p, 400, "deadline is required: the request"
			      " expired");
	if (p->deadline <= now || p->deadline > now + RELAY_MAX_DEADLINE)
		return refuse(p, 400, "deadline must be a Unix time in the"
			      " future, at most %ld days ahead (now is %lld)",
			      RELAY_MAX_DEADLINE / 86400, (long long)now);
	rc = store_request_reopen(s, id, (time_t)p->deadline, p->rcpt,
				  p->nrcpt);
	if (rc == STORE_GONE)
		return refuse(p, 409, "the request changed meanwhile; read it"
			      " again");
	return rc ? 500 : 200;
}

/* Apply a rekey on store s.  Returns the HTTP status; p->why says why for
 * 4xx.  *r is the request as read first (released here). */
static unsigned rekey_on(struct store *s, struct parsed *p,
			 const cJSON *root, const char *id,
			 struct store_request *r)
{
	time_t now = time(NULL);
	int rc = store_request_status(s, id, now, r);
	enum req_state st;

	if (rc)
		return rc == STORE_NOT_FOUND ? 404 : 500;
	st = r->state;
	rc = parse_rekey(p, root, r);
	store_request_release(r);
	if (st == REQ_APPROVED || st == REQ_REJECTED)
		return refuse(p, 409, "the request was %s; its links cannot"
			      " change", req_state_name(st));
	if (rc)
		return 400;
	if (st == REQ_EXPIRED)
		return reopen(s, p, id, now);
	rc = store_request_rekey(s, id, p->rcpt, p->nrcpt);
	if (rc == STORE_GONE)	/* it expired or was decided meanwhile */
		return refuse(p, 409, "the request changed meanwhile; read it"
			      " again");
	return rc ? 500 : 200;
}

static int do_rekey(struct relay_api *a, struct MHD_Connection *c,
		    const struct call *k)
{
	struct parsed *p = xcalloc(1, sizeof(*p));
	const cJSON *root = parse_body(p, &k->in->buf);
	struct store_request r;
	struct slot *sl = my_slot(a);
	unsigned status = 400;
	int present, rc = STORE_OK, ret;

	memset(&r, 0, sizeof(r));
	if (root && !get_int(p, root, "deadline", "", 1, 1LL << 53,
			     &p->deadline, &present)) {
		p->has_deadline = present;
		pthread_mutex_lock(&sl->lock);
		status = rekey_on(sl->s, p, root, k->id, &r);
		if (status == 200)
			rc = store_request_status(sl->s, k->id, time(NULL), &r);
		pthread_mutex_unlock(&sl->lock);
	}
	if (status == 200)
		ret = reply_read(a, c, rc, MHD_HTTP_OK, &r);
	else if (status == 404)
		ret = fail(a, c, status, "no such request");
	else if (status == 500)
		ret = internal(a, c);
	else
		ret = fail(a, c, status, p->why);
	parsed_free(p);
	return ret;
}

/* ---- POST /v1/requests/<id>/notified ---------------------------------------- */

static int do_notified(struct relay_api *a, struct MHD_Connection *c,
		       const struct call *k)
{
	struct slot *sl = my_slot(a);
	struct store_request r;
	int rc;

	pthread_mutex_lock(&sl->lock);
	rc = store_request_status(sl->s, k->id, time(NULL), &r);
	if (rc == STORE_OK) {
		store_request_release(&r);
		rc = store_request_set_notified(sl->s, k->id, 1);
	}
	pthread_mutex_unlock(&sl->lock);
	if (rc == STORE_NOT_FOUND)
		return fail(a, c, MHD_HTTP_NOT_FOUND, "no such request");
	if (rc)
		return internal(a, c);
	return queue(a, c, MHD_HTTP_NO_CONTENT, NULL, 0, JSON_TYPE, NULL,
		     NULL);
}

/* ---- bodies ------------------------------------------------------------------- */


static int start_body(struct relay_api *a, struct MHD_Connection *c,
		      enum route route, const char *id, void **cls)
{
	struct call *k;

	if (route != R_NOTIFIED &&
	    !web_content_type_is(header(c, MHD_HTTP_HEADER_CONTENT_TYPE), JSON_TYPE))
		return fail(a, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			    "send the body as application/json");
	if (web_length_over(header(c, MHD_HTTP_HEADER_CONTENT_LENGTH), RELAY_MAX_BODY))
		return fail(a, c, MHD_HTTP_CONTENT_TOO_LARGE,
			    "the body is over 256 KiB");
	k = xcalloc(1, sizeof(*k));
	k->route = (unsigned char)route;
	k->state = CALL_BODY;
	memcpy(k->id, id, sizeof(k->id));
	k->in = xcalloc(1, sizeof(*k->in));
	k->in->buf = (struct buf)BUF_INIT(RELAY_MAX_BODY);
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
		return fail(a, c, MHD_HTTP_CONTENT_TOO_LARGE,
			    "the body is over 256 KiB");
	if (k->route == R_REQUESTS)
		return do_register(a, c, k);
	if (k->route == R_REKEY)
		return do_rekey(a, c, k);
	return do_notified(a, c, k);
}

/* ---- metrics ------------------------------------------------------------------- */

static void metric(struct buf *b, const char *name, const char *type,
		   const char *help, unsigned long v)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n%s %lu\n", name, help, name,
		 type, name, v);
}

static void metric_states(struct relay_api *a, struct buf *b)
{
	struct slot *sl = my_slot(a);
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

static int metrics(struct relay_api *a, struct MHD_Connection *c,
		   const char *method)
{
	struct counters *m = &a->m;
	struct buf b = BUF_INIT(METRICS_MAX);
	size_t len;
	char *text;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return fail_h(a, c, MHD_HTTP_METHOD_NOT_ALLOWED,
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
	       "Internal errors (database failures; answered 500).", m->errors);
	metric_states(a, &b);
	metric_codes(a, &b);
	if (!b.data)
		return MHD_NO;
	text = buf_detach(&b, &len);
	return queue(a, c, MHD_HTTP_OK, text, len,
		     "text/plain; version=0.0.4; charset=utf-8", NULL, NULL);
}

/* ---- routing ------------------------------------------------------------------- */

/* /v1/requests[/<id>[/rekey|/notified]]; id receives the id. */
static enum route route_of(const char *url, char id[33])
{
	const char *rest;

	if (!strcmp(url, "/v1/requests"))
		return R_REQUESTS;
	if (strncmp(url, "/v1/requests/", 13) || !hex_prefix(url + 13, 32))
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
	enum route route;
	char id[33] = "";

	if (!strcmp(url, "/metrics"))
		return metrics(a, c, method);
	if (strncmp(url, "/v1/", 4))
		return fail(a, c, MHD_HTTP_NOT_FOUND, "not found");
	if (atomic_load(&a->stopping))
		return fail_h(a, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			      "the relay is shutting down",
			      MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (!authorized(a, c)) {
		atomic_fetch_add(&a->m.auth_failures, 1);
		return fail_h(a, c, MHD_HTTP_UNAUTHORIZED, "a valid bearer"
			      " token is required", "WWW-Authenticate",
			      "Bearer realm=\"greenlight relay\"");
	}
	route = route_of(url, id);
	if (route == R_NONE)
		return fail(a, c, MHD_HTTP_NOT_FOUND, "not found");
	if (strcmp(method, route_method[route]))
		return fail_h(a, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			      "method not allowed", MHD_HTTP_HEADER_ALLOW,
			      route_method[route]);
	if (route == R_REQUEST)
		return get_request(a, c, id, cls);
	return start_body(a, c, route, id, cls);
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
		return answer_request(a, c, k->id);
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
		unlink_waiter(a, k);
		pthread_mutex_unlock(&a->wlock);
	}
	if (k->state == CALL_WOKEN)
		atomic_fetch_sub(&a->unanswered, 1);
	if (k->in)
		buf_release(&k->in->buf);
	free(k->in);
	free(k);
}

void relay_api_responded(void *ud, unsigned status)
{
	struct relay_api *a = ud;

	if (status < NCODES)
		atomic_fetch_add(&a->m.codes[status], 1);
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
	for (unsigned i = 0; i < a->nslots; i++) {
		store_close(a->slots[i].s);
		pthread_mutex_destroy(&a->slots[i].lock);
	}
	free(a->slots);
	if (a->tokens)
		OPENSSL_cleanse(a->tokens, a->ntokens * sizeof(*a->tokens));
	free(a->tokens);
	pthread_mutex_destroy(&a->tlock);
	pthread_mutex_destroy(&a->wlock);
	free(a);
}
