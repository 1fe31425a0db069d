/* backend_relay.c - the relay backend: requests live on `greenlight relay`.
 *
 * The gate registers its request, mails links that point at the relay and
 * long-polls it; it never accepts a connection.  Decisions come back with
 * the review token each reviewer presented; the gate checks each against
 * the token hashes this run generated, or as a token derived from the gate
 * secret, and settles the request from the verified ones alone
 * (relay_answer.h).  A 404 for a request the gate registered is relay
 * state loss: an error, never a decision.
 *
 * With decision.imap the emails also carry reply codes, and the gate
 * polls the mailbox between long-polls (backend_mail.c): decisions it
 * verifies from replies stay in the gate and are added to the relay's
 * verified ones before the state is settled (relay_answer_merge), so the
 * same quorum, self-approval and first-reject rules hold across both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "relay_answer.h"
#include "relay_client.h"
#include "token.h"
#include "util.h"

#define POLL_MAX_S 30		/* longest single long-poll */
#define GRACE_S 120		/* keep retrying this long past the deadline,
				 * or as long as the timeout when shorter */

struct relay_state {
	struct relay_client *c;
	struct store_recipient *known;	/* hashes this run generated */
	size_t nknown;
	time_t deadline;
};

static struct relay_state *R(struct backend *b)
{
	return b->priv;
}

static time_t grace(const struct backend *b)
{
	return b->set->timeout && b->set->timeout < GRACE_S ?
	       (time_t)b->set->timeout : GRACE_S;
}

static void remember(struct backend *b, const struct store_recipient *sr, size_t n)
{
	free(R(b)->known);
	R(b)->known = xcalloc(n, sizeof(*sr));
	memcpy(R(b)->known, sr, n * sizeof(*sr));
	R(b)->nknown = n;
}

/* The relay's request object, checked and settled by the gate. */
static int from_json(struct backend *b, const cJSON *j, struct store_request *r)
{
	struct relay_trust tr = {
		.key = b->key,
		.secret = b->set->secret.len ? &b->set->secret : NULL,
		.known = R(b)->known,
		.nknown = R(b)->nknown,
		.teams = b->teams,
		.nteams = b->nteams,
		.policy = b->policy,
	};
	char why[512];

	if (relay_answer_read(j, &tr, r, why, sizeof(why)))
		return error("%s", why);
	/* The relay's deadline is a hint too: never later than this run's own
	 * (its timeout from when it registered or re-attached), and at it a
	 * request nobody decided has expired, whatever the relay says. */
	if (R(b)->deadline && (!r->deadline || r->deadline > R(b)->deadline))
		r->deadline = R(b)->deadline;
	if (r->state == REQ_PENDING && r->deadline && time(NULL) >= r->deadline)
		r->state = REQ_EXPIRED;
	return 0;
}

/* Relay mode with a mailbox: add the decisions verified from replies
 * (backend_mail.c keeps them under the relay's id) and settle again. */
static int with_replies(struct backend *b, struct store_request *out)
{
	struct store_request mail = { 0 };
	struct relay_trust tr = { .teams = b->teams, .nteams = b->nteams, .policy = b->policy };
	int ret = 0;

	if (!b->mail || !*out->id)
		return 0;
	if (backend_mail_replies(b, out->id, &mail))
		ret = -1;
	else if (mail.ndecisions)
		ret = relay_answer_merge(out, mail.decisions, mail.ndecisions, &tr);
	store_request_release(&mail);
	return ret;
}

static int result(struct backend *b, int rc, cJSON *j, const char *id,
		  struct store_request *out)
{
	int ret = -1;

	if (rc == RELAY_NOT_FOUND)
		error("relay does not know request %s any more (relay state lost?); this is not a decision",
		      id ? id : "");
	else if (rc == RELAY_CONFLICT)
		error("relay: request %s was decided meanwhile", id ? id : "");
	else if (rc == RELAY_OK)
		ret = from_json(b, j, out);
	cJSON_Delete(j);
	return ret;
}

static cJSON *recipients_json(const struct store_recipient *sr, size_t n)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "email", sr[i].email);
		cJSON_AddStringToObject(o, "team", sr[i].team);
		cJSON_AddStringToObject(o, "token_hash", sr[i].token_hash);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *register_json(const struct store_new_request *nr)
{
	cJSON *o = cJSON_CreateObject(), *teams;
	cJSON *facts = cJSON_Parse(nr->facts_json);

	cJSON_AddStringToObject(o, "key", nr->key);
	cJSON_AddStringToObject(o, "gate", nr->gate);
	if (nr->repository)
		cJSON_AddStringToObject(o, "repository", nr->repository);
	if (nr->subject)
		cJSON_AddStringToObject(o, "subject", nr->subject);
	cJSON_AddBoolToObject(o, "keep_tags", nr->keep_tags);
	cJSON_AddItemToObject(o, "facts", facts ? facts : cJSON_CreateObject());
	if (nr->author_email)
		cJSON_AddStringToObject(o, "author_email", nr->author_email);
	cJSON_AddBoolToObject(o, "allow_self_approval", nr->allow_self_approval);
	cJSON_AddNumberToObject(o, "deadline", (double)nr->deadline);
	teams = cJSON_AddArrayToObject(o, "teams");
	for (size_t i = 0; i < nr->nteams; i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "name", nr->teams[i].name);
		cJSON_AddNumberToObject(t, "approvals", nr->teams[i].approvals);
		cJSON_AddItemToArray(teams, t);
	}
	cJSON_AddItemToObject(o, "recipients", recipients_json(nr->recipients, nr->nrecipients));
	if (nr->resume_json) {
		cJSON *resume = cJSON_Parse(nr->resume_json);

		if (resume)
			cJSON_AddItemToObject(o, "resume", resume);
	}
	return o;
}

static int put(struct backend *b, const struct store_new_request *nr,
	       struct store_request *out, int *created,
	       struct store_request *prev)
{
	cJSON *body = register_json(nr), *j = NULL;
	int rc = relay_register(R(b)->c, body, nr->deadline + grace(b), &j, created);

	cJSON_Delete(body);
	memset(prev, 0, sizeof(*prev));
	R(b)->deadline = nr->deadline;
	if (rc == RELAY_OK && *created) {
		remember(b, nr->recipients, nr->nrecipients);
		if (relay_answer_previous(j, prev)) {
			store_request_release(prev);
			memset(prev, 0, sizeof(*prev));
		}
	}
	if (result(b, rc, j, NULL, out))
		return -1;
	if (b->mail && backend_mail_mirror(b, nr, out))
		return -1;
	return with_replies(b, out);
}

static int change(struct backend *b, const char *id, time_t deadline,
		  const struct store_recipient *sr, size_t n, struct store_request *out)
{
	cJSON *body = cJSON_CreateObject(), *j = NULL;
	int rc;

	cJSON_AddItemToObject(body, "recipients", recipients_json(sr, n));
	if (deadline)
		cJSON_AddNumberToObject(body, "deadline", (double)deadline);
	rc = relay_rekey(R(b)->c, id, body, (deadline ? deadline : time(NULL)) + grace(b), &j);
	cJSON_Delete(body);
	if (rc == RELAY_OK)
		remember(b, sr, n);
	if (rc == RELAY_OK && deadline)
		R(b)->deadline = deadline;
	if (result(b, rc, j, id, out))
		return -1;
	if (b->mail && backend_mail_mirror_rekey(b, id, deadline, sr, n))
		return -1;
	return with_replies(b, out);
}

static int rekey(struct backend *b, const char *id, const struct store_recipient *sr,
		 size_t n, struct store_request *out)
{
	return change(b, id, 0, sr, n, out);
}

static int reopen(struct backend *b, const char *id, time_t deadline,
		  const struct store_recipient *sr, size_t n, struct store_request *out)
{
	return change(b, id, deadline, sr, n, out);
}

static int notified(struct backend *b, const char *id)
{
	int rc = relay_notified(R(b)->c, id, time(NULL) + grace(b));

	if (rc == RELAY_NOT_FOUND)
		return error("relay does not know request %s any more (relay state lost?)", id);
	return rc == RELAY_OK ? 0 : -1;
}

/* Reviewers reach the relay: links use public_url, else the first relay
 * URL (failover is for the gate's own connections). */
static int serve(struct backend *b, char **public_url)
{
	const char *u = b->set->value[SET_PUBLIC_URL];

	*public_url = xstrdup(*u ? u : relay_client_first_url(R(b)->c));
	return b->mail ? backend_mail_check(b) : 0;	/* log in before mailing */
}

static int start(struct backend *b)
{
	(void)b;	/* the relay serves the pages */
	return 0;
}

static int wait_for(struct backend *b, const char *id, time_t until,
		    struct store_request *out)
{
	time_t now = time(NULL);
	long wait = until > now ? (long)(until - now) : 0;
	cJSON *j = NULL;
	int rc;

	if (wait > POLL_MAX_S)
		wait = POLL_MAX_S;
	if (b->mail) {		/* replies too: poll the mailbox when due */
		int decided = 0;
		time_t next;

		if (backend_mail_tick(b, id, &decided, &next))
			return -1;
		if (decided || next <= now)
			wait = 0;
		else if ((long)(next - now) < wait)
			wait = (long)(next - now);
	}
	rc = relay_get(R(b)->c, id, (int)wait, out->deadline + grace(b), &j);
	if (rc == RELAY_INTERRUPTED)
		return -1;
	if (result(b, rc, j, id, out))
		return -1;
	return with_replies(b, out);
}

static void close_relay(struct backend *b)
{
	if (!b->priv)
		return;
	backend_mail_detach(b);
	relay_client_free(R(b)->c);
	free(R(b)->known);
	free(b->priv);
	b->priv = NULL;
}

static const struct backend_ops relay_ops = {
	.name = "relay",
	.put = put,
	.rekey = rekey,
	.reopen = reopen,
	.notified = notified,
	.serve = serve,
	.start = start,
	.wait = wait_for,
	.close = close_relay,
};

int backend_relay_open(struct backend *b)
{
	const char *url = b->set->value[SET_RELAY];
	const char *env = b->set->value[SET_RELAY_TOKEN_ENV];
	struct relay_state *st;
	char err[256];

	if (!*url)
		return error("decision.via is \"relay\" but no relay URL is set; set decision.relay, --relay or GREENLIGHT_RELAY");
	st = xcalloc(1, sizeof(*st));
	st->c = relay_client_new(url, getenv(env), NULL, b->stop, err, sizeof(err));
	if (!st->c) {
		free(st);
		return error("relay: %s (variable %s)", err, env);
	}
	b->priv = st;
	b->ops = &relay_ops;
	if (*b->set->value[SET_IMAP] && backend_mail_attach_relay(b))	/* replies too */
		return -1;
	return 0;
}
