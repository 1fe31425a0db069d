/* backend_relay.c - the relay backend: requests live on `greenlight relay`.
 *
 * The gate registers its request, mails links that point at the relay and
 * long-polls it; it never accepts a connection.  Decisions come back with
 * the review token each reviewer presented, and every decision is checked
 * against the token hashes this gate generated (when this run generated
 * them: a re-attach from a fresh runner has none and relies on the relay,
 * which is authenticated by its bearer token).  A 404 for a request the
 * gate registered is relay state loss: an error, never a decision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "relay_client.h"
#include "token.h"
#include "util.h"

#define POLL_MAX_S 30		/* longest single long-poll */
#define GRACE_S 120		/* keep retrying this long past the deadline */

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

static void remember(struct backend *b, const struct store_recipient *sr, size_t n)
{
	free(R(b)->known);
	R(b)->known = xcalloc(n, sizeof(*sr));
	memcpy(R(b)->known, sr, n * sizeof(*sr));
	R(b)->nknown = n;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static time_t num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? (time_t)v->valuedouble : 0;
}

static enum req_state state_of(const char *s)
{
	if (!strcmp(s, "approved"))
		return REQ_APPROVED;
	if (!strcmp(s, "rejected"))
		return REQ_REJECTED;
	if (!strcmp(s, "expired"))
		return REQ_EXPIRED;
	return REQ_PENDING;
}

/* The presented token must hash to what we generated for that reviewer. */
static int verify(struct backend *b, const char *email, const char *team,
		  const char *token)
{
	char hash[TOKEN_HEX_SIZE];

	if (!R(b)->nknown)
		return 0;
	if (token_hash(hash, token))
		return -1;
	for (size_t i = 0; i < R(b)->nknown; i++) {
		const struct store_recipient *k = &R(b)->known[i];

		if (!strcasecmp(k->email, email) && !strcmp(k->team, team))
			return token_hex_equal(k->token_hash, hash) ? 0 : -1;
	}
	return -1;
}

static int read_decisions(struct backend *b, const cJSON *arr, struct store_request *r)
{
	const cJSON *d;
	size_t i = 0;

	r->ndecisions = (size_t)cJSON_GetArraySize(arr);
	r->decisions = xcalloc(r->ndecisions ? r->ndecisions : 1, sizeof(*r->decisions));
	cJSON_ArrayForEach(d, arr) {
		struct store_decision *x = &r->decisions[i++];

		strlcpy_gl(x->email, str(d, "email"), sizeof(x->email));
		strlcpy_gl(x->team, str(d, "team"), sizeof(x->team));
		x->approve = !strcmp(str(d, "decision"), "approve");
		strlcpy_gl(x->reason, str(d, "reason"), sizeof(x->reason));
		x->at = num(d, "at");
		strlcpy_gl(x->remote_addr, str(d, "remote_addr"), sizeof(x->remote_addr));
		strlcpy_gl(x->user_agent, str(d, "user_agent"), sizeof(x->user_agent));
		if (verify(b, x->email, x->team, str(d, "token")))
			return error("relay reported a decision by %s (team %s) whose review token does not match the one this gate sent; refusing it",
				     x->email, x->team);
	}
	return 0;
}

static void read_teams(const cJSON *arr, struct store_request *r)
{
	const cJSON *t;
	size_t i = 0;

	r->nteams = (size_t)cJSON_GetArraySize(arr);
	r->teams = xcalloc(r->nteams ? r->nteams : 1, sizeof(*r->teams));
	cJSON_ArrayForEach(t, arr) {
		strlcpy_gl(r->teams[i].name, str(t, "name"), sizeof(r->teams[i].name));
		r->teams[i].approvals = (int)num(t, "approvals");
		r->teams[i].approved = (int)num(t, "approved");
		i++;
	}
}

/* The relay's request object as a store_request. */
static int from_json(struct backend *b, const cJSON *j, struct store_request *r)
{
	store_request_release(r);
	memset(r, 0, sizeof(*r));
	if (strlen(str(j, "id")) != 32)
		return error("relay: the answer has no request id");
	strlcpy_gl(r->id, str(j, "id"), sizeof(r->id));
	strlcpy_gl(r->key, str(j, "key"), sizeof(r->key));
	strlcpy_gl(r->gate, str(j, "gate"), sizeof(r->gate));
	r->state = state_of(str(j, "state"));
	r->created = num(j, "created");
	r->deadline = num(j, "deadline");
	r->decided_at = num(j, "decided_at");
	r->notified = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "notified"));
	r->facts_json = xstrdup("{}");
	read_teams(cJSON_GetObjectItemCaseSensitive(j, "teams"), r);
	return read_decisions(b, cJSON_GetObjectItemCaseSensitive(j, "decisions"), r);
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
	return o;
}

static int put(struct backend *b, const struct store_new_request *nr,
	       struct store_request *out, int *created)
{
	cJSON *body = register_json(nr), *j = NULL;
	int rc = relay_register(R(b)->c, body, nr->deadline + GRACE_S, &j, created);

	cJSON_Delete(body);
	R(b)->deadline = nr->deadline;
	if (rc == RELAY_OK && *created)
		remember(b, nr->recipients, nr->nrecipients);
	return result(b, rc, j, NULL, out);
}

static int change(struct backend *b, const char *id, time_t deadline,
		  const struct store_recipient *sr, size_t n, struct store_request *out)
{
	cJSON *body = cJSON_CreateObject(), *j = NULL;
	int rc;

	cJSON_AddItemToObject(body, "recipients", recipients_json(sr, n));
	if (deadline)
		cJSON_AddNumberToObject(body, "deadline", (double)deadline);
	rc = relay_rekey(R(b)->c, id, body, (deadline ? deadline : time(NULL)) + GRACE_S, &j);
	cJSON_Delete(body);
	if (rc == RELAY_OK)
		remember(b, sr, n);
	return result(b, rc, j, id, out);
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
	int rc = relay_notified(R(b)->c, id, time(NULL) + GRACE_S);

	if (rc == RELAY_NOT_FOUND)
		return error("relay does not know request %s any more (relay state lost?)", id);
	return rc == RELAY_OK ? 0 : -1;
}

/* Reviewers reach the relay: links use public_url, else the relay URL. */
static int serve(struct backend *b, char **public_url)
{
	const char *u = b->set->value[SET_PUBLIC_URL];

	*public_url = xstrdup(*u ? u : b->set->value[SET_RELAY]);
	return 0;
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
	rc = relay_get(R(b)->c, id, (int)wait, out->deadline + GRACE_S, &j);
	if (rc == RELAY_INTERRUPTED)
		return -1;
	return result(b, rc, j, id, out);
}

static void close_relay(struct backend *b)
{
	if (!b->priv)
		return;
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
	return 0;
}
