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

int relay_reply_read(struct relay_api *a, struct MHD_Connection *c, int rc,
		      unsigned status, struct store_request *r)
{
	cJSON *j;

	if (rc == STORE_NOT_FOUND)
		return relay_fail(a, c, MHD_HTTP_NOT_FOUND, "no such request");
	if (rc != STORE_OK)
		return relay_internal(a, c);
	j = relay_request_json(r);
	store_request_release(r);
	return relay_send_json(a, c, status, j);
}

int relay_answer(struct relay_api *a, struct MHD_Connection *c,
		 const char *id)
{
	struct store_request r;
	int rc = relay_read(a, id, NULL, &r);

	return relay_reply_read(a, c, rc, MHD_HTTP_OK, &r);
}

void relay_api_responded(void *ud, unsigned status)
{
	struct relay_api *a = ud;

	if (status < NCODES)
		atomic_fetch_add(&a->m.codes[status], 1);
	if (status >= 500)
		atomic_fetch_add(&a->m.errors, 1);
}
