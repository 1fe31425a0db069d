/* resume.h - resuming a waiting pipeline through its CI's API.
 *
 * A gate that detaches (`run --detach --resume NAME`) registers, with its
 * request, where its pipeline waits: a `resume` target (docs/relay-protocol.md).
 * When the request is settled the relay (relay_resume.c) calls the CI's API
 * with the tenant's credential for that CI: GitLab plays the manual collect
 * job (resume_gitlab.c), Jenkins submits or aborts the waiting input step
 * (resume_jenkins.c).  Credentials come from the relay's CI file ("ci"
 * lines, docs/relay.md): the API's base URL, the variable holding the
 * secret, and the projects or jobs the tenant may resume; the secret is
 * read from the environment once, kept in memory only, never printed.
 * A target names only ids: the URL called is always the credential's.
 * Each provider is an ops-struct; HTTP goes through a function pointer so
 * that the providers can be tested without a network.
 */
#ifndef GREENLIGHT_RESUME_H
#define GREENLIGHT_RESUME_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "store.h"

#define RESUME_MAX_FIELD 255		/* bytes of one target member */
#define RESUME_MAX_RESPONSE (1024 * 1024)	/* bytes of a CI's answer read */
#define RESUME_CONNECT_MS 5000
#define RESUME_TIMEOUT_MS 15000		/* per HTTP call, all included */
#define RESUME_MAX_ATTEMPTS 20		/* calls before a resume fails for good */
#define RESUME_BACKOFF_MAX 300		/* seconds between retries, at most */
#define RESUME_MAX_CREDS 256		/* "ci" lines in the CI file */
#define RESUME_SCOPE_MAX 2048		/* bytes of one line's patterns */

/* One "ci TENANT KIND API-URL SECRET-ENV PATTERN..." line. */
struct resume_cred {
	char tenant[STORE_MAX_TENANT + 1];
	char ci[16];			/* "gitlab", "jenkins", "github" */
	char *api;			/* base URL, no trailing slash */
	char *secret;			/* from the environment: never printed */
	char scopes[RESUME_SCOPE_MAX];	/* patterns, each NUL-terminated, then "" */
};

struct resume_config {
	struct resume_cred *creds;
	size_t n;
};

/* Parse the CI file's text (`from` names it in errors); the secrets are
 * read from the variables the lines name.  0, or -1 after reporting what
 * is wrong and where (never a secret); *c is then empty. */
int resume_config_parse(struct resume_config *c, const char *text, const char *from);
/* Forget everything, the secrets wiped first. */
void resume_config_release(struct resume_config *c);
/* The credential of tenant for ci, or NULL. */
const struct resume_cred *resume_config_find(const struct resume_config *c,
					     const char *tenant, const char *ci);

/* One HTTP call as a provider asks for it. */
struct resume_http_req {
	const char *method;		/* "GET", "POST" */
	const char *url;
	const char *headers[4];		/* "Name: value", NULL-terminated */
	const char *userpwd;		/* Basic auth "user:secret", or NULL */
	const char *body;		/* NULL: none */
};

struct resume_http_resp {
	long status;			/* 0: no answer (connection, timeout) */
	struct buf body;		/* capped at RESUME_MAX_RESPONSE */
	char err[160];			/* why status is 0 */
};

/* Send rq; fill rs (rs->body initialised by the caller).  Returns 0 when
 * an answer came (any status), -1 otherwise (rs->err says why). */
typedef int (*resume_http_fn)(void *ud, const struct resume_http_req *rq,
			      struct resume_http_resp *rs);
/* The real one: libcurl, http and https only, no redirects, timeouts. */
int resume_http_curl(void *ud, const struct resume_http_req *rq,
		     struct resume_http_resp *rs);

enum resume_result { RESUME_DONE, RESUME_RETRY, RESUME_FAILED };

/* 2xx done; no answer, 408, 429 and 5xx retry; any other failed. */
enum resume_result resume_status_result(long status);

/* One resume being made. */
struct resume_call {
	const struct resume_cred *cred;
	const cJSON *target;		/* validated by the provider's check */
	enum req_state outcome;		/* approved, rejected or expired */
	resume_http_fn http;
	void *ud;
	char why[256];			/* what happened, for the log (no secret) */
};

/* Make one call of c with c->http and classify it: no answer and 408, 429,
 * 5xx retry, 2xx done, anything else failed; c->why then says what
 * ("WHAT: HTTP 503", "WHAT: <libcurl's reason>"). */
enum resume_result resume_exchange(struct resume_call *c,
				   const struct resume_http_req *rq,
				   struct resume_http_resp *rs, const char *what);

struct resume_ops {
	const char *name;
	/* Whether target (an object of strings) names what this CI needs:
	 * 0, or -1 with the reason in why. */
	int (*check)(const cJSON *target, char *why, size_t n);
	/* The member matched against the credential's patterns. */
	const char *scope_member;
	/* NULL, or: the key the CI's own event finds this target by (the
	 * resume is not due before that event): 0 or -1. */
	int (*match)(const cJSON *target, struct buf *out);
	enum resume_result (*resume)(struct resume_call *c);
};

extern const struct resume_ops resume_gitlab, resume_jenkins, resume_github;
const struct resume_ops *resume_ops_find(const char *ci);

/* Whether target is a resume target some provider understands (pure): its
 * provider, or NULL with the reason in why. */
const struct resume_ops *resume_target_valid(const cJSON *target, char *why, size_t n);

/* Check a registration's "resume" member for tenant: 0; 400 (bad shape,
 * why says what) or 403 (no credential for that CI, or the project/job is
 * outside the credential's patterns). */
unsigned resume_check_target(const struct resume_config *cfg, const char *tenant,
			     const cJSON *target, char *why, size_t n);

/* Seconds to wait after the attempts-th failed call: 1, 2, 4, ... capped
 * at RESUME_BACKOFF_MAX. */
time_t resume_backoff(int attempts);

/* Percent-encode s (RFC 3986 unreserved kept) into b.  0 or -1 (full). */
int resume_url_escape(struct buf *b, const char *s);

#endif
