/* store.h - durable review requests and decisions (SQLite or PostgreSQL).
 *
 * store_open() picks the backend: a file path is a SQLite database (the
 * embedded default, one process writing it); a postgres:// or
 * postgresql:// URL is a PostgreSQL database that several relays may
 * share (store_pg.c; docs/store.md).  Both keep the same schema and
 * behaviour; what follows describes SQLite where they differ.
 *
 * One database file holds every request a gate (listen mode) or a relay has
 * made.  Writes use BEGIN IMMEDIATE in WAL mode with synchronous=FULL, so a
 * decision is on disk before any caller is told it was recorded.  Only
 * SHA-256 hashes of review tokens are stored, never the tokens.
 *
 * A request is keyed by its key (docs/run.md: repository, commit, gate
 * name, digests of the gate and of the evidence): creating it again
 * returns the existing one.  Keys are unique in the database; a relay
 * stores SHA-256(tenant LF key), which makes them unique per tenant.  The store is split by job:
 * store_db.c (connection, schema), store_request.c (requests),
 * store_review.c (tokens, decisions, quorum), store_baseline.c (baseline
 * documents a relay keeps per tenant, repository, gate and commit).  Quorum is evaluated inside the transaction that
 * records a decision: each team needs `approvals` distinct approvers; the
 * first reject rejects the whole request.
 */
#ifndef GREENLIGHT_STORE_H
#define GREENLIGHT_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;	/* opaque: one database connection */

/* Limits checked by store_request_put() (over them: STORE_ERROR, nothing
 * written) and caps applied by store_decide() (longer text is cut). */
#define STORE_MAX_KEY 64		/* bytes of a request key */
#define STORE_MAX_GATE 128		/* bytes of a gate name */
#define STORE_MAX_TENANT 64		/* bytes of a tenant name */
#define STORE_MAX_REPO 1024		/* bytes of a repository URL */
#define STORE_MAX_FACTS (64 * 1024)	/* bytes of facts_json */
#define STORE_MAX_EMAIL 254		/* bytes of an email address */
#define STORE_MAX_AUTHORS (2 * STORE_MAX_EMAIL + 1)	/* author_email list */
#define STORE_MAX_TEAM 71		/* bytes of a team name */
#define STORE_MAX_TEAMS 32		/* teams per request */
#define STORE_MAX_RECIPIENTS 256	/* recipients per request */
#define STORE_MAX_APPROVALS 100		/* approvals a team may need */
#define STORE_REASON_MAX 1000		/* reason bytes kept (cleaned) */
#define STORE_ADDR_MAX 63		/* remote address bytes kept */
#define STORE_UA_MAX 255		/* user agent bytes kept (cleaned) */

enum req_state {
	REQ_PENDING,
	REQ_APPROVED,
	REQ_REJECTED,
	REQ_EXPIRED,
};

struct store_team {
	const char *name;
	int approvals;			/* distinct approvers needed */
};

struct store_recipient {
	const char *email;
	const char *team;		/* the team this address was asked for */
	char token_hash[65];		/* hex SHA-256 of the review token */
};

struct store_new_request {
	const char *id;			/* 32 lowercase hex characters, or NULL:
					 * random (a gate with a secret derives
					 * it, token_request_id) */
	const char *key;		/* idempotency key (hex SHA-256) */
	const char *gate;		/* gate name */
	const char *facts_json;		/* what the review page shows (JSON text) */
	const char *author_email;	/* who may not approve: the commit author
					 * and the person who started the CI run,
					 * comma-separated; or NULL */
	int allow_self_approval;
	int keep_tags;			/* "+tag" addresses are their own mailbox */
	const char *tenant;		/* owner (relay); NULL: "" (a gate's store) */
	const char *repository;		/* what the request was registered for, or NULL */
	const char *subject;		/* hex SHA-256 of repository, commit and
					 * gate name, or NULL */
	const char *resume_json;	/* where the pipeline waits (resume.h),
					 * sent to a relay; or NULL.  Not kept
					 * by store_request_put() */
	time_t created, deadline;
	const struct store_team *teams;
	size_t nteams;
	const struct store_recipient *recipients;
	size_t nrecipients;
};

/* A decision as recorded (audit trail). */
struct store_decision {
	char email[256];
	char team[72];
	int approve;			/* 1 approve, 0 reject */
	char reason[1024];
	time_t at;
	char remote_addr[64];
	char user_agent[256];
	char token[44];			/* the review token presented (TOKEN_SIZE),
					 * or "" for decisions older than schema 3 */
};

/* A team's progress as read back. */
struct store_team_state {
	char name[72];
	int approvals;			/* distinct approvers needed */
	int approved;			/* distinct approvers so far */
};

/* Someone asked to review (one per recipient row). */
struct store_asked {
	char email[256];
	char team[72];
};

/* A request as read back. */
struct store_request {
	char id[33];			/* random hex id */
	char key[65];
	char gate[129];
	char tenant[STORE_MAX_TENANT + 1];	/* owner; "" in a gate's store */
	char subject[65];		/* "" when not given */
	enum req_state state;
	time_t created, deadline, decided_at;
	int notified;			/* every reviewer was mailed */
	char *facts_json;		/* owned */
	struct store_decision *decisions;	/* owned, in order */
	size_t ndecisions;
	struct store_team_state *teams;	/* owned, in creation order */
	size_t nteams;
	struct store_asked *asked;	/* owned, in creation order */
	size_t nasked;
};

/* What a reviewer's token resolves to. */
struct store_review {
	struct store_request req;
	char email[256];
	char team[72];
	int already;			/* this reviewer decided already: */
	int already_approve;		/*   1 approve, 0 reject */
	int self;			/* reviewer is the commit author */
	int allow_self_approval;
	char nonce[65];			/* the form nonce for this token */
};

enum store_result {
	STORE_OK = 0,
	STORE_ERROR = -1,		/* database error, reported */
	STORE_NOT_FOUND = -2,		/* unknown id or token */
	STORE_GONE = -3,		/* decided or expired: 410 */
	STORE_CONFLICT = -4,		/* reviewer already decided otherwise: 409 */
	STORE_FORBIDDEN = -5,		/* self-approval, bad nonce: 403 */
};

/* Open (creating if needed, with parent directory) the database at path.
 * The connection has no mutex of its own: use it from one thread at a time
 * (or under the caller's lock).  Returns NULL after reporting an error. */
struct store *store_open(const char *path);
void store_close(struct store *s);

/* Whether a database name is a PostgreSQL URL (postgres:// or
 * postgresql://, lower case as libpq reads them). */
int store_is_url(const char *db);

/* db as it may be printed: a URL's password (user:PASSWORD@ or
 * password=...) replaced by "***"; a path unchanged. */
void store_redact(const char *db, char *out, size_t size);

/* "sqlite" or "postgresql". */
const char *store_backend(const struct store *s);

/* Whether other processes may write the database too (PostgreSQL): then
 * store_generation() says nothing about their writes, and nothing read may
 * be served again from a cache. */
int store_shared(const struct store *s);

/* Whether the last error of a shared store was a lost or refused database
 * connection (process-wide, cleared by the next successful call): the
 * relay answers 503 with Retry-After then, never a wrong answer. */
int store_unavailable(void);

/* Changes made by any process on a shared database: calls fn(ud, id) for
 * each request changed (decided, re-keyed, reopened, marked notified: a
 * hint to re-read it), and fn(ud, NULL) when the connection was lost, when
 * it came back, and after pruning (re-read everything held).  It
 * runs its own thread and connection, reconnecting with backoff.  NULL for
 * a SQLite path (nothing to watch: one process writes it), or after an
 * error (reported). */
typedef void (*store_watch_fn)(void *ud, const char *request_id);
struct store_watch;
struct store_watch *store_watch_start(const char *db, store_watch_fn fn,
				      void *ud);
/* Whether w hears every change now (its connection is up): only then may
 * answers read from a shared database be cached.  0 for NULL. */
int store_watch_live(struct store_watch *w);
void store_watch_stop(struct store_watch *w);

/* Create a request, or find the existing one with the same key.
 * *created says which.  Returns STORE_OK and fills *out (release with
 * store_request_release), STORE_CONFLICT when a token hash belongs to
 * another request already, or STORE_ERROR; nothing is written then. */
int store_request_put(struct store *s, const struct store_new_request *nr,
		      struct store_request *out, int *created);

/* Replace the recipients' token hashes of an existing pending request (for
 * --resend: new tokens, old links stop working) and clear its notified mark
 * (the new links are not mailed yet).  STORE_OK, STORE_GONE (not pending),
 * STORE_NOT_FOUND or STORE_ERROR; on error nothing changed. */
int store_request_rekey(struct store *s, const char *id,
			const struct store_recipient *recipients, size_t n);

/* Give reviewer (email, team) of pending or decided request id the token
 * hash token_hash, when a run without the state that issued the token
 * has verified it another way (derived from the gate secret).  Decisions
 * already made stay.  STORE_OK, STORE_NOT_FOUND (no such reviewer),
 * STORE_CONFLICT (another reviewer has that hash) or STORE_ERROR. */
int store_recipient_adopt(struct store *s, const char *id, const char *email,
			  const char *team, const char *token_hash);

/* Record whether every reviewer of a request was mailed (a re-run that
 * finds notified == 0 mails again).  STORE_OK or STORE_ERROR. */
int store_request_set_notified(struct store *s, const char *id, int notified);

/* Give an expired request a new deadline and new recipients' token hashes
 * (old links stop working); decisions already made stay.  STORE_OK,
 * STORE_GONE (not expired) or STORE_ERROR. */
int store_request_reopen(struct store *s, const char *id, time_t deadline,
			 const struct store_recipient *recipients, size_t n);

/* Read a request by id; expired pending requests are settled as REQ_EXPIRED
 * first (now >= deadline).  STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
int store_request_get(struct store *s, const char *id, time_t now,
		      struct store_request *out);

/* As store_request_get(), without the facts (facts_json stays NULL) and
 * without who was asked (nasked 0): what an API status read needs. */
int store_request_status(struct store *s, const char *id, time_t now,
			 struct store_request *out);

void store_request_release(struct store_request *r);

/* The newest other request of the same tenant and subject than request
 * `id` (what a request with changed evidence succeeds), read in full.
 * STORE_OK, STORE_NOT_FOUND (none, or subject is empty) or STORE_ERROR. */
int store_request_previous(struct store *s, const char *tenant,
			   const char *subject, const char *id,
			   struct store_request *out);

/* Resolve a presented token (plaintext; hashed here) for the review page.
 * STORE_OK (pending: the page can decide), STORE_GONE (decided or expired;
 * *out still filled so the page can say what happened), STORE_NOT_FOUND. */
int store_review_get(struct store *s, const char *token, time_t now,
		     struct store_review *out);

void store_review_release(struct store_review *r);

/* Record a reviewer's decision and settle the request if quorum is met or
 * it was a reject.  Committed (fsync) before returning STORE_OK.
 * Idempotent: the same reviewer repeating the same decision is STORE_OK;
 * the opposite one is STORE_CONFLICT.  STORE_GONE when the request is no
 * longer pending, STORE_FORBIDDEN for self-approval or a wrong nonce,
 * STORE_NOT_FOUND for an unknown token. */
int store_decide(struct store *s, const char *token, const char *nonce,
		 int approve, const char *reason, const char *remote_addr,
		 const char *user_agent, time_t now);

/* As store_decide(); also sets *recorded to 1 when this call added a
 * decision (and so may have changed the request's state), 0 otherwise (an
 * idempotent repeat, or any error).  recorded may be NULL. */
int store_decide_ex(struct store *s, const char *token, const char *nonce,
		    int approve, const char *reason, const char *remote_addr,
		    const char *user_agent, time_t now, int *recorded);

/* Settle every pending request whose deadline is at or before now as
 * expired (decided at its deadline), in one transaction.  *settled (may be
 * NULL) receives how many.  STORE_OK or STORE_ERROR (nothing changed). */
int store_settle_expired(struct store *s, time_t now, long *settled);

/* How many requests are in each state: counts[REQ_PENDING] ...
 * counts[REQ_EXPIRED].  Read from counters the database keeps with every
 * change (schema 6), so the cost does not grow with the database.
 * STORE_OK or STORE_ERROR (counts are then 0). */
int store_state_counts(struct store *s, long counts[4]);

/* Retention: delete at most `max` settled requests (approved, rejected or
 * expired) decided at or before `before`, oldest first, with their
 * decisions, recipients and teams, in one write transaction.  Pending
 * requests and baselines are never deleted.  *pruned (may be NULL)
 * receives how many requests went.  STORE_OK or STORE_ERROR (nothing
 * deleted). */
int store_prune(struct store *s, time_t before, long max, long *pruned);

/* Give up to max_pages free pages back to the file system (PRAGMA
 * incremental_vacuum) when the database was created with
 * auto_vacuum=INCREMENTAL (every database this version creates); a
 * database without it reuses its free pages instead, and *freed is 0.
 * *freed (may be NULL) receives the pages given back.  STORE_OK or
 * STORE_ERROR. */
int store_reclaim(struct store *s, long max_pages, long *freed);

/* ---- baselines (store_baseline.c) ----
 * A relay keeps baseline documents (baseline.h) for gates that cannot push
 * git notes, keyed by (tenant, repository, gate, commit); the document is
 * stored as the caller gives it (validated before). */
#define STORE_MAX_BASELINE (256 * 1024)	/* bytes of one document */

/* Store doc_json for the key, replacing the document recorded before for
 * it.  STORE_OK, or STORE_ERROR (reported; nothing written, also for text
 * over the limits). */
int store_baseline_put(struct store *s, const char *tenant,
		       const char *repository, const char *gate,
		       const char *commit, const char *doc_json,
		       time_t recorded);

/* Called by store_baseline_lookup for commits[i] with its document; a
 * non-zero return stops the lookup (not an error). */
typedef int (*store_baseline_fn)(void *ud, size_t i, const char *doc_json,
				 size_t len);

/* For each of commits[0..n) in order that has a document of (tenant,
 * repository, gate), call fn; in one read transaction.  STORE_OK or
 * STORE_ERROR (reported; fn may have been called for some commits). */
int store_baseline_lookup(struct store *s, const char *tenant,
			  const char *repository, const char *gate,
			  const char *const *commits, size_t n,
			  store_baseline_fn fn, void *ud);

/* ---- notifications (store_notify.c) ----
 * Reminders, escalations and follow-ups a gate (or relay) sent for a
 * request, so each goes out once: claimed in a write transaction before
 * the message is sent (at most once: a crash between the claim and the
 * send loses that message rather than sending it twice). */

/* Claim (id, kind, recipient, seq).  Returns 1 when this call claimed it
 * (send now), 0 when it was claimed before, STORE_ERROR (reported). */
int store_notify_claim(struct store *s, const char *id, const char *kind,
		       const char *recipient, long seq, time_t now);

/* Whether (id, kind, recipient, seq) was claimed: 1, 0 or STORE_ERROR. */
int store_notify_claimed(struct store *s, const char *id, const char *kind,
			 const char *recipient, long seq);

/* Requests whose facts ask the relay to send their notifications
 * ("notifications": {"by": "relay"}, set by `run --detach`): pending ones,
 * and those settled at or after `since`.  *ids is malloc'd (free it).
 * STORE_OK or STORE_ERROR. */
int store_notify_candidates(struct store *s, time_t since, char (**ids)[33], size_t *n);

/* Give up a claim whose message could not be sent (so a later run may try
 * again).  STORE_OK or STORE_ERROR. */
int store_notify_unclaim(struct store *s, const char *id, const char *kind,
			 const char *recipient, long seq);

/* Add recipients to a pending request (escalation): their teams must be
 * the request's; an address already asked for that team gets the new
 * token hash (its old link stops working).
 * STORE_OK, STORE_GONE (not pending), STORE_NOT_FOUND or STORE_ERROR
 * (nothing added). */
int store_recipients_add(struct store *s, const char *id,
			 const struct store_recipient *recipients, size_t n);

/* ---- resumes (store_resume.c) ----
 * The outbox of pipelines the relay resumes through their CI's API when
 * their request is settled (docs/relay.md, "Resuming pipelines"): one row
 * per request, so one outcome per request.  A row is claimed in a write
 * transaction before the CI is called (at most once: a relay killed during
 * the call does not call again), then finished as done, failed, or waiting
 * again with a later next_at (a retry). */
#define STORE_MAX_RESUME 2048		/* bytes of a resume target (JSON) */

struct store_resume {
	char request_id[33];
	char tenant[STORE_MAX_TENANT + 1];
	char ci[16];			/* "gitlab", "jenkins" */
	char *target;			/* owned: the target JSON as registered */
	int attempts;			/* calls made before this one */
	enum req_state outcome;		/* the request's state: not pending */
};

enum resume_end { RESUME_END_DONE, RESUME_END_FAILED, RESUME_END_RETRY };

/* Add the resume of request id (match: NULL, or the key a later
 * store_resume_attach() finds it by); adding it again while it waits replaces
 * its target (the newest pipeline that waits for the request is resumed),
 * after it was claimed changes nothing.  STORE_OK, or STORE_ERROR (reported; also for a target over
 * STORE_MAX_RESUME bytes). */
int store_resume_add(struct store *s, const char *id, const char *tenant,
		     const char *ci, const char *target, const char *match, time_t now);

/* A resume added with a match key (not NULL) is not due until the CI tells
 * where to answer (GitHub: the deployment_protection_rule webhook):
 * attach gives the newest waiting resume of ci with that key its full
 * target and makes it due.  1 when one was found, 0 when none,
 * STORE_ERROR. */
int store_resume_attach(struct store *s, const char *ci, const char *match,
			const char *target, time_t now);

/* At most max waiting, attached resumes whose request is settled and whose next_at
 * is at or before now, oldest first; each outcome is its request's
 * state.  *out is malloc'd: free with store_resume_free().  STORE_OK or
 * STORE_ERROR (*out NULL, *n 0). */
int store_resume_due(struct store *s, time_t now, size_t max,
		     struct store_resume **out, size_t *n);

/* Claim a waiting resume with its outcome before calling the CI.  1 when
 * this call claimed it (call now), 0 when it was not waiting (claimed
 * elsewhere, or finished), STORE_ERROR. */
int store_resume_claim(struct store *s, const char *id, enum req_state outcome,
		       time_t now);

/* End a claimed call: done, failed for good, or waiting again until
 * next_at.  STORE_OK or STORE_ERROR. */
int store_resume_finish(struct store *s, const char *id, enum resume_end end,
			time_t next_at, time_t now);

/* The state of request id's resume ("waiting", "calling", "done",
 * "failed") and the calls made.  STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
int store_resume_state(struct store *s, const char *id, char state[16], int *attempts);

void store_resume_free(struct store_resume *r, size_t n);

/* Whether s is 1..max bytes without control characters: the rule every
 * text the store keeps follows (callers validating input use it too). */
int store_text_ok(const char *s, size_t max);

/* A process-wide count of the write transactions this process ended
 * (committed or not), bumped after the commit.  A reader that takes it
 * before reading and finds it unchanged later knows that nothing this
 * process wrote since can be missing from what it read: what a cache of
 * reads needs (the relay is the only writer of its database). */
uint64_t store_generation(void);

/* Name of a state: "pending", "approved", "rejected", "expired". */
const char *req_state_name(enum req_state st);

#endif
