/* relay_int.h - what the relay API's files share (not for other modules).
 *
 * The API is these files, one job each:
 *   relay_auth.c     bearer tokens, tenants and their repository scopes
 *   relay_body.c     validating request bodies (pure)
 *   relay_wait.c     held long-polls: linking, waking, sweeping, draining
 *   relay_metrics.c  counters and GET /metrics
 *   relay_reply.c    answers: request objects, errors, store reads
 *   relay_baseline.c baselines kept per tenant (/v1/baselines)
 *   relay_github.c   the GitHub App's webhook (deployment protection rules)
 *   relay_api.c      routing and the /v1/requests endpoints
 *
 * Ownership: a struct call is the per-request state of a POST (its body and
 * who sent it) or of a held long-poll; web.c hands it back on every later
 * call and to relay_api_done(), which frees it.  A held long-poll sits in a
 * hash bucket (by request id) under wlock, after reading its request
 * outside it (relay_wait.c says why no decision is missed); whoever ends
 * it (a decision, the sweep, the shutdown) unlinks it under wlock and only
 * then resumes its connection, so a connection is resumed exactly once and
 * never before it was suspended.  A request's tenant never changes, so ownership is checked
 * once, when a call arrives.
 */
#ifndef GREENLIGHT_RELAY_INT_H
#define GREENLIGHT_RELAY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "json.h"
#include "relay_api.h"
#include "store.h"
#include "token.h"

#define NBUCKETS 1024			/* held long-polls, by request id */
#define NCODES 600			/* HTTP status codes counted */
#define JSON_TYPE "application/json"
#define RELAY_SCOPE_MAX 2048		/* bytes of a token's repository patterns */

enum route { R_NONE, R_REQUESTS, R_REQUEST, R_REKEY, R_NOTIFIED,
	     R_BASELINES, R_BASELINE_LOOKUP, R_GITHUB_HOOK };
#define RELAY_GITHUB_HOOK_PATH "/v1/github/webhook"
enum call_state { CALL_BODY, CALL_WAITING, CALL_WOKEN, CALL_ANSWERED };

/* Who is calling: the tenant of the bearer token presented, and the
 * repositories that token may register requests for. */
struct relay_principal {
	char tenant[STORE_MAX_TENANT + 1];
	char repos[RELAY_SCOPE_MAX];	/* patterns, each NUL-terminated,
					 * then an empty one; "*" for any */
};

/* A POST's body as it arrives, and who sent it. */
struct body {
	struct buf buf;
	size_t seen;			/* bytes received */
	int too_big;
	struct relay_principal who;
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

/* A status answer kept by a slot (relay_reply.c): served again while no
 * write transaction ended since it was read (store_generation) and, for a
 * pending request, its deadline has not come. */
struct cached {
	char id[33];
	char tenant[STORE_MAX_TENANT + 1];
	uint64_t generation;
	time_t valid_until;		/* pending: the deadline; else for ever */
	char *text;			/* the request object, NULL: empty */
	size_t len;
	unsigned long used;		/* when last put or served (slot clock) */
};

struct slot {
	pthread_mutex_t lock;
	struct store *s;
	struct cached *cache;		/* SLOT_CACHE entries, or NULL */
	unsigned long clock;		/* counts cache uses: least recent out */
};

struct counters {
	atomic_ulong registered, reattached, decisions, settled;
	atomic_ulong errors, auth_failures, waiters_refused, scope_refused;
	atomic_ulong baselines_recorded, baseline_lookups;
	atomic_ulong pruned, pages_reclaimed;
	atomic_ulong hints;		/* decisions heard from the database */
	atomic_ulong watch_lost;	/* hint connection lost or re-made */
	atomic_ulong unavailable;	/* 503: the database was unreachable */
	atomic_ulong codes[NCODES];
};

struct relay_token;			/* relay_auth.c */
struct resume_config;			/* resume.h */

struct relay_api {
	struct slot *slots;
	unsigned nslots;
	int shared;			/* the database is shared (PostgreSQL) */
	struct store_watch *watch;	/* hears other relays' decisions */
	atomic_uint next_slot;
	pthread_mutex_t tlock;		/* guards tokens */
	struct relay_token *tokens;
	size_t ntokens;
	pthread_mutex_t wlock;		/* guards the waiters */
	struct call *bucket[NBUCKETS];
	/* announcements made (under wlock), by bucket and of every request:
	 * a long-poll reads its request outside wlock and is linked only if
	 * none came for its bucket meanwhile (relay_hold) */
	unsigned long announced[NBUCKETS], announced_all;
	unsigned nwaiters, max_waiters;
	uint64_t retention_s;		/* 0: keep for ever */
	const struct resume_config *resume;	/* tenants' CI credentials, or NULL */
	const char *github_secret;	/* the GitHub App's webhook secret, or NULL */
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
	const cJSON *resume;		/* the "resume" member (in doc), or NULL */
	long long deadline;
	int has_deadline;
	char why[300];
};

/* ---- relay_auth.c ---- */
/* Whether the Authorization header carries an accepted bearer token; *who
 * receives its tenant and scope.  Time independent of the token. */
int relay_auth(struct relay_api *a, struct MHD_Connection *c,
	       struct relay_principal *who);
/* Whether who may register requests for repository (NULL: unnamed, which
 * only an any-repository token may). */
int relay_auth_repo_ok(const struct relay_principal *who, const char *repo);
void relay_auth_free(struct relay_api *a);

/* ---- relay_body.c ---- */
const cJSON *relay_parse_body(struct parsed *p, const struct buf *body);
int relay_parse_register(struct parsed *p, const cJSON *root, time_t now);
/* The new recipients of a rekey, checked against the stored teams. */
int relay_parse_rekey(struct parsed *p, const cJSON *root,
		      const struct store_request *r);
int relay_parse_deadline(struct parsed *p, const cJSON *root);
void relay_parsed_free(struct parsed *p);
/* As vsnprintf into p->why; returns status (for callers that answer). */
unsigned relay_refuse(struct parsed *p, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- relay_wait.c ---- */
/* GET with ?wait=N > 0: answer now, or suspend until decided, N seconds
 * pass or the deadline comes.  who: the caller (checked against the
 * request's tenant before anything is held). */
int relay_hold(struct relay_api *a, struct MHD_Connection *c, const char *id,
	       int wait, const struct relay_principal *who, void **cls);
void relay_unlink_waiter(struct relay_api *a, struct call *k);
/* store_watch_fn: a decision heard from a shared database (NULL: any). */
void relay_api_hint(void *ud, const char *request_id);

/* ---- relay_reply.c ---- */
struct slot *relay_slot(struct relay_api *a);
/* Read a request's status as tenant `tenant` (NULL: any; another tenant's
 * request is STORE_NOT_FOUND). */
int relay_read(struct relay_api *a, const char *id, const char *tenant,
	       struct store_request *r);
/* Answer with what a store read returned (releases *r). */
int relay_reply_read(struct relay_api *a, struct MHD_Connection *c, int rc,
		     unsigned status, struct store_request *r);
/* GET /v1/requests/<id> (and a long-poll's answer): the request object as
 * tenant `tenant` sees it (NULL: any), from this thread's cache of status
 * answers when nothing was written since, else read and kept. */
int relay_reply_status(struct relay_api *a, struct MHD_Connection *c,
		       const char *id, const char *tenant);
void relay_cache_free(struct slot *sl);
int relay_answer(struct relay_api *a, struct MHD_Connection *c,
		 const char *id);
int relay_queue(struct relay_api *a, struct MHD_Connection *c,
		unsigned status, char *body, size_t len, const char *type,
		const char *hname, const char *hval);
int relay_fail_h(struct relay_api *a, struct MHD_Connection *c,
		 unsigned status, const char *msg, const char *hname,
		 const char *hval);
int relay_fail(struct relay_api *a, struct MHD_Connection *c,
	       unsigned status, const char *msg);
/* 500: the database failed. */
int relay_internal(struct relay_api *a, struct MHD_Connection *c);
int relay_send_json(struct relay_api *a, struct MHD_Connection *c,
		    unsigned status, cJSON *j);
/* The request object of docs/relay-protocol.md. */
cJSON *relay_request_json(const struct store_request *r);
/* The same object as compact JSON text (what cJSON_PrintUnformatted makes
 * of it, byte for byte) into b, which is replaced (its max is kept); 0, or
 * -1 when it would not fit or memory ran out (b is then unchanged). */
int relay_request_text(const struct store_request *r, struct buf *b);
void relay_add_time(cJSON *o, const char *name, time_t t);

/* ---- relay_baseline.c ---- */
/* PUT /v1/baselines and POST /v1/baselines/lookup with the body in k. */
int relay_baseline_put(struct relay_api *a, struct MHD_Connection *c,
		       const struct call *k);
int relay_baseline_lookup(struct relay_api *a, struct MHD_Connection *c,
			  const struct call *k);

/* ---- relay_github.c ---- */
/* POST /v1/github/webhook with the body in k: a signed GitHub App event. */
int relay_github_hook(struct relay_api *a, struct MHD_Connection *c,
		      const struct call *k);

/* ---- relay_metrics.c ---- */
int relay_metrics(struct relay_api *a, struct MHD_Connection *c,
		  const char *method);

#endif
