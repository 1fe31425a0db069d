/* relay_github.c - POST /v1/github/webhook: the greenlight GitHub App's
 * webhook (docs/ci/github.md, "Without holding a runner").
 *
 * No bearer token: GitHub signs each delivery with the App's webhook
 * secret (X-Hub-Signature-256, checked in constant time over the raw body
 * before anything in it is read); a wrong or missing signature is 401 and
 * changes nothing.  A deployment_protection_rule "requested" event is
 * matched, by repository, run, commit and environment, to the newest
 * waiting resume a gate registered (`run --detach --resume ENVIRONMENT`),
 * which gets the installation id and becomes due: the resume sweep
 * (relay_resume.c) reviews the rule when the request is settled.  `ping`
 * is 200; other events and actions are 202 and ignored.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "github_app.h"
#include "relay_int.h"
#include "util.h"

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static int answer(struct relay_api *a, struct MHD_Connection *c, unsigned status,
		  const char *what, int matched)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "result", what);
	if (matched >= 0)
		cJSON_AddBoolToObject(j, "matched", matched);
	return relay_send_json(a, c, status, j);
}

/* The resume target the event completes; the registered one had no
 * installation id. */
static char *target_of(const struct github_hook *h)
{
	cJSON *t = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(t, "ci", "github");
	cJSON_AddStringToObject(t, "repository", h->repository);
	cJSON_AddStringToObject(t, "run", h->run);
	cJSON_AddStringToObject(t, "sha", h->sha);
	cJSON_AddStringToObject(t, "environment", h->environment);
	cJSON_AddStringToObject(t, "installation", h->installation);
	text = cJSON_PrintUnformatted(t);
	cJSON_Delete(t);
	return text;
}

static int attach(struct relay_api *a, struct MHD_Connection *c, const struct github_hook *h)
{
	struct buf key = BUF_INIT(4096);
	char *target = target_of(h);
	struct slot *sl;
	int rc = STORE_ERROR;

	if (target && !github_match_key(h->repository, h->run, h->sha, h->environment, &key)) {
		sl = relay_slot(a);
		pthread_mutex_lock(&sl->lock);
		rc = store_resume_attach(sl->s, "github", key.data, target, time(NULL));
		pthread_mutex_unlock(&sl->lock);
	}
	cJSON_free(target);
	buf_release(&key);
	if (rc < 0)
		return relay_internal(a, c);
	if (rc)
		fprintf(stderr, "greenlight relay: GitHub asks about environment %s of run %s (%s): a registered request will answer\n",
			h->environment, h->run, h->repository);
	return answer(a, c, rc ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED,
		      rc ? "registered request found" : "no registered request for this run, commit and environment", rc);
}

int relay_github_hook(struct relay_api *a, struct MHD_Connection *c,
		      const struct call *k)
{
	const struct buf *b = &k->in->buf;
	const char *event = header(c, "X-GitHub-Event");
	struct github_hook h;
	char why[256];

	if (!github_signature_ok(a->github_secret, b->data ? b->data : "", b->len,
				 header(c, "X-Hub-Signature-256"))) {
		atomic_fetch_add(&a->m.auth_failures, 1);
		return relay_fail(a, c, MHD_HTTP_UNAUTHORIZED, "the X-Hub-Signature-256 signature does not match");
	}
	if (event && !strcmp(event, "ping"))
		return answer(a, c, MHD_HTTP_OK, "pong", -1);
	if (!event || strcmp(event, "deployment_protection_rule"))
		return answer(a, c, MHD_HTTP_ACCEPTED, "ignored: not a deployment_protection_rule event", -1);
	if (github_hook_parse(b->data ? b->data : "", b->len, &h, why, sizeof(why)))
		return relay_fail(a, c, MHD_HTTP_BAD_REQUEST, why);
	if (strcmp(h.action, "requested"))
		return answer(a, c, MHD_HTTP_ACCEPTED, "ignored: not a request", -1);
	return attach(a, c, &h);
}
