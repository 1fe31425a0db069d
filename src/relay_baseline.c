/* relay_baseline.c - the relay's baseline store: PUT /v1/baselines and
 * POST /v1/baselines/lookup (docs/relay-protocol.md, "Baselines").
 *
 * Baselines live in their tenant exactly as requests do: the key is
 * (tenant of the bearer token, repository, gate, commit), so another
 * tenant's lookups never find them and its PUTs write its own rows.  A
 * token keeps and reads baselines only for the repositories its patterns
 * allow (403 otherwise).  A document is validated with the strict parser
 * of baseline.h before it is stored, and stored as re-serialised from the
 * parsed form; the gate validates again whatever it reads back.
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "relay_int.h"
#include "util.h"

#define LOOKUP_MAX_COMMITS 1000		/* BASELINE_WALK_MAX */
#define LOOKUP_MAX_ANSWER (3 << 20)	/* bytes of documents in one answer */

/* 0 when root has no member but names[0..n), else the status (400). */
static unsigned only_keys(struct parsed *p, const cJSON *root,
			  const char *const *names, size_t n)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, root) {
		size_t i = 0;

		while (i < n && strcmp(m->string, names[i]))
			i++;
		if (i == n)
			return relay_refuse(p, 400, "unknown member \"%.64s\"",
					    m->string);
	}
	return 0;
}

/* A required text member of 1..max bytes without controls into *out. */
static unsigned text_member(struct parsed *p, const cJSON *o,
			    const char *name, size_t max, const char **out)
{
	*out = json_str(o, name);
	if (!*out || !store_text_ok(*out, max))
		return relay_refuse(p, 400, "%s must be a string of 1 to %zu bytes"
				    " without control characters", name, max);
	return 0;
}

static unsigned scope(struct relay_api *a, struct parsed *p,
		      const struct call *k, const char *repo)
{
	if (relay_auth_repo_ok(&k->in->who, repo))
		return 0;
	atomic_fetch_add(&a->m.scope_refused, 1);
	return relay_refuse(p, 403, "this token may not keep baselines for that"
			    " repository");
}

/* Answer a refusal (status 4xx with p->why, or 500). */
static int refused(struct relay_api *a, struct MHD_Connection *c,
		   struct parsed *p, unsigned status)
{
	int ret = status == 500 ? relay_internal(a, c)
				: relay_fail(a, c, status, p->why);

	relay_parsed_free(p);
	return ret;
}

/* ---- PUT /v1/baselines ------------------------------------------------ */

/* The document, validated, as the text to store (new string) in *text. */
static unsigned put_document(struct parsed *p, const cJSON *root, char **text)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "document");
	struct baseline_doc doc;
	const char *gate;
	char err[256];
	cJSON *j;

	if (!cJSON_IsObject(d))
		return relay_refuse(p, 400, "document must be a baseline document"
				    " (an object)");
	gate = json_str(d, "gate");
	if (!gate || !store_text_ok(gate, STORE_MAX_GATE))
		return relay_refuse(p, 400, "document.gate must be a string of 1"
				    " to %d bytes without control characters",
				    STORE_MAX_GATE);
	if (baseline_doc_from_json(&doc, d, gate, err, sizeof(err)))
		return relay_refuse(p, 400, "document: %s", err);
	j = baseline_doc_json(&doc);
	*text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	baseline_doc_release(&doc);
	return *text ? 0 : 500;
}

static unsigned put_on(struct relay_api *a, struct parsed *p,
		       const struct call *k, const cJSON *root)
{
	static const char *const keys[] = { "repository", "document" };
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "document");
	const char *repo;
	char *text = NULL;
	struct slot *sl;
	unsigned status;
	int rc;

	if ((status = only_keys(p, root, keys, 2)) ||
	    (status = text_member(p, root, "repository", STORE_MAX_REPO, &repo)) ||
	    (status = put_document(p, root, &text)) ||
	    (status = scope(a, p, k, repo))) {
		free(text);
		return status;
	}
	sl = relay_slot(a);
	pthread_mutex_lock(&sl->lock);
	rc = store_baseline_put(sl->s, k->in->who.tenant, repo, json_str(d, "gate"),
				json_str(d, "commit"), text, time(NULL));
	pthread_mutex_unlock(&sl->lock);
	free(text);
	if (rc)
		return 500;
	atomic_fetch_add(&a->m.baselines_recorded, 1);
	return 204;
}

int relay_baseline_put(struct relay_api *a, struct MHD_Connection *c,
		       const struct call *k)
{
	struct parsed *p = xcalloc(1, sizeof(*p));
	const cJSON *root = relay_parse_body(p, &k->in->buf);
	unsigned status = root ? put_on(a, p, k, root) : 400;

	if (status != 204)
		return refused(a, c, p, status);
	relay_parsed_free(p);
	return relay_queue(a, c, MHD_HTTP_NO_CONTENT, NULL, 0, JSON_TYPE, NULL,
			   NULL);
}

/* ---- POST /v1/baselines/lookup ---------------------------------------- */

struct lookup {
	const char *commits[LOOKUP_MAX_COMMITS];
	size_t ncommits;
	long long limit;
	size_t bytes;
	cJSON *records;
};

static unsigned lookup_commits(struct parsed *p, const cJSON *root,
			       struct lookup *l)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "commits"), *v;
	int n = cJSON_GetArraySize(arr);

	if (!cJSON_IsArray(arr) || n < 1 || n > LOOKUP_MAX_COMMITS)
		return relay_refuse(p, 400, "commits must be an array of 1 to %d"
				    " commit ids", LOOKUP_MAX_COMMITS);
	cJSON_ArrayForEach(v, arr) {
		if (!cJSON_IsString(v) || !token_is_hex(v->valuestring, 40))
			return relay_refuse(p, 400, "commits[%zu] must be 40"
					    " lowercase hexadecimal digits",
					    l->ncommits);
		l->commits[l->ncommits++] = v->valuestring;
	}
	return 0;
}

static unsigned lookup_limit(struct parsed *p, const cJSON *root,
			     struct lookup *l)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "limit");

	l->limit = LOOKUP_MAX_COMMITS;
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
	    v->valuedouble > LOOKUP_MAX_COMMITS ||
	    v->valuedouble != (double)(long long)v->valuedouble)
		return relay_refuse(p, 400, "limit must be a whole number from 1"
				    " to %d", LOOKUP_MAX_COMMITS);
	l->limit = (long long)v->valuedouble;
	return 0;
}

static int add_record(void *ud, size_t i, const char *doc, size_t len)
{
	struct lookup *l = ud;
	cJSON *j;

	(void)i;
	if (l->bytes + len > LOOKUP_MAX_ANSWER)
		return 1;
	j = cJSON_ParseWithLength(doc, len);
	if (j) {
		cJSON_AddItemToArray(l->records, j);
		l->bytes += len;
	}
	return cJSON_GetArraySize(l->records) >= l->limit;
}

static unsigned lookup_on(struct relay_api *a, struct parsed *p,
			  const struct call *k, const cJSON *root,
			  struct lookup *l)
{
	static const char *const keys[] = { "repository", "gate", "commits", "limit" };
	const char *repo, *gate;
	struct slot *sl;
	unsigned status;
	int rc;

	if ((status = only_keys(p, root, keys, 4)) ||
	    (status = text_member(p, root, "repository", STORE_MAX_REPO, &repo)) ||
	    (status = text_member(p, root, "gate", STORE_MAX_GATE, &gate)) ||
	    (status = lookup_commits(p, root, l)) ||
	    (status = lookup_limit(p, root, l)) ||
	    (status = scope(a, p, k, repo)))
		return status;
	sl = relay_slot(a);
	pthread_mutex_lock(&sl->lock);
	rc = store_baseline_lookup(sl->s, k->in->who.tenant, repo, gate,
				   l->commits, l->ncommits, add_record, l);
	pthread_mutex_unlock(&sl->lock);
	if (rc)
		return 500;
	atomic_fetch_add(&a->m.baseline_lookups, 1);
	return 200;
}

int relay_baseline_lookup(struct relay_api *a, struct MHD_Connection *c,
			  const struct call *k)
{
	struct parsed *p = xcalloc(1, sizeof(*p));
	struct lookup *l = xcalloc(1, sizeof(*l));
	const cJSON *root = relay_parse_body(p, &k->in->buf);
	unsigned status;
	cJSON *j;

	l->records = cJSON_CreateArray();
	status = root ? lookup_on(a, p, k, root, l) : 400;
	if (status != 200) {
		cJSON_Delete(l->records);
		free(l);
		return refused(a, c, p, status);
	}
	j = cJSON_CreateObject();
	cJSON_AddItemToObject(j, "records", l->records);
	free(l);
	relay_parsed_free(p);
	return relay_send_json(a, c, MHD_HTTP_OK, j);
}
