/* baseline_relay.c - the "relay" baseline store (see baseline_relay.h).
 *
 * One client per call: a lookup is one POST /v1/baselines/lookup with
 * every candidate commit (at most BASELINE_WALK_MAX, which the relay
 * accepts in one body), a record one PUT /v1/baselines.  The repository
 * sent is the one relay requests name (gitinfo: the origin URL without
 * credentials, else the work tree path), so the tenant's repository
 * patterns scope baselines exactly as they scope requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "baseline_relay.h"
#include "gitinfo.h"
#include "json.h"
#include "relay_client.h"
#include "settings.h"
#include "store.h"
#include "util.h"

#define STORE_NAME "baseline store \"relay\""

/* A client for the relay the settings name; NULL after one error line. */
static struct relay_client *connect_relay(const struct gate *g)
{
	struct relay_client *c;
	struct settings s;
	char err[512];

	if (settings_relay(&s, g, STORE_NAME))
		return NULL;
	c = relay_client_new(s.value[SET_RELAY], getenv(s.value[SET_RELAY_TOKEN_ENV]),
			     NULL, NULL, err, sizeof(err));
	if (!c)
		error("baseline: %s", err);
	return c;
}

/* The repository relay requests name (new string), or NULL reported. */
static char *repository(void)
{
	struct gitinfo gi;
	char *repo = NULL;

	gitinfo_discover(&gi, ".");
	if (!gi.found || !gi.repo)
		error("baseline: the relay keeps baselines per repository; run greenlight in a git work tree");
	else if (strlen(gi.repo) > STORE_MAX_REPO)
		error("baseline: the repository name is over %d bytes", STORE_MAX_REPO);
	else
		repo = xstrdup(gi.repo);
	gitinfo_release(&gi);
	return repo;
}

static int forbidden(const char *repo)
{
	return error("baseline: the relay refused repository %.300s for this token (HTTP 403); add it to the tenant's repository patterns in the relay's tokens file, or use a token of the tenant that owns it",
		     repo);
}

static long commit_index(const char *commit, const char *const *commits, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(commit, commits[i]))
			return (long)i;
	return -1;
}

static void drop(size_t *dropped, char *why, size_t whysize, const char *reason)
{
	if (!(*dropped)++)
		snprintf(why, whysize, "%s", reason);
}

/* One record into slots[index]; dropped (with a reason) when invalid. */
static void take_one(const cJSON *rec, const char *gate, const char *const *commits,
		     size_t n, struct baseline_doc *slots, unsigned char *used,
		     size_t *dropped, char *why, size_t whysize)
{
	struct baseline_doc d;
	const cJSON *dup = NULL;
	char err[256], reason[320];
	long i;

	if (json_check_duplicates(rec, &dup)) {
		drop(dropped, why, whysize, "a record has a member twice");
		return;
	}
	if (baseline_doc_from_json(&d, rec, gate, err, sizeof(err))) {
		drop(dropped, why, whysize, err);
		return;
	}
	i = commit_index(d.commit, commits, n);
	if (i < 0 || used[i]) {
		snprintf(reason, sizeof(reason), "a record for commit %.12s %s", d.commit,
			 i < 0 ? "that was not asked for" : "came twice");
		drop(dropped, why, whysize, reason);
		baseline_doc_release(&d);
		return;
	}
	slots[i] = d;
	used[i] = 1;
}

long baseline_relay_take(const cJSON *answer, const char *gate,
			 const char *const *commits, size_t n,
			 struct baseline_doc *docs, size_t window,
			 size_t *dropped, char *why, size_t whysize)
{
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(answer, "records"), *r;
	struct baseline_doc *slots;
	unsigned char *used;
	size_t got = 0;

	*dropped = 0;
	why[0] = '\0';
	if (!cJSON_IsArray(recs))
		return -1;
	slots = xcalloc(n ? n : 1, sizeof(*slots));
	used = xcalloc(n ? n : 1, 1);
	cJSON_ArrayForEach(r, recs)
		take_one(r, gate, commits, n, slots, used, dropped, why, whysize);
	for (size_t i = 0; i < n; i++) {
		if (used[i] && got < window)
			docs[got++] = slots[i];
		else if (used[i])
			baseline_doc_release(&slots[i]);
	}
	free(slots);
	free(used);
	return (long)got;
}

static cJSON *lookup_body(const struct gate *g, const char *repo,
			  const char *const *commits, size_t n)
{
	cJSON *b = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(b, "commits");

	cJSON_AddStringToObject(b, "repository", repo);
	cJSON_AddStringToObject(b, "gate", g->name);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(commits[i]));
	cJSON_AddNumberToObject(b, "limit", g->baseline.window);
	return b;
}

/* Validate the answer into docs; 0, or -1 reported. */
static int take_answer(const struct gate *g, const cJSON *answer,
		       const char *const *commits, size_t n,
		       struct baseline_doc *docs, size_t *found)
{
	size_t dropped;
	char why[320];
	long got = baseline_relay_take(answer, g->name, commits, n, docs,
				       (size_t)g->baseline.window, &dropped,
				       why, sizeof(why));

	if (got < 0)
		return error("baseline: the relay's lookup answer has no \"records\" array; is the relay URL right?");
	if (dropped)
		warning("baseline: %zu record(s) from the relay ignored (%s)", dropped, why);
	*found = (size_t)got;
	return 0;
}

int baseline_relay_find(const struct gate *g, const char *const *commits,
			size_t n, struct baseline_doc *docs, size_t *found)
{
	struct relay_client *c = NULL;
	cJSON *body = NULL, *answer = NULL;
	char *repo = NULL;
	int rc, ret = -1;

	*found = 0;
	if (!(c = connect_relay(g)) || !(repo = repository()))
		goto out;
	if (!n) {
		ret = 0;
		goto out;
	}
	body = lookup_body(g, repo, commits, n);
	rc = relay_lookup_baselines(c, body, time(NULL) + BASELINE_RELAY_GIVE_UP, &answer);
	if (rc == RELAY_FORBIDDEN)
		forbidden(repo);
	else if (rc == RELAY_NOT_FOUND)
		error("baseline: the relay has no baseline store (HTTP 404); it needs a newer greenlight relay");
	else if (rc == RELAY_OK)
		ret = take_answer(g, answer, commits, n, docs, found);
	else if (rc != RELAY_ERROR)
		error("baseline: the relay's baseline lookup failed (%d)", rc);
out:
	cJSON_Delete(answer);
	cJSON_Delete(body);
	free(repo);
	relay_client_free(c);
	return ret;
}

int baseline_relay_record(const struct gate *g, const struct baseline_doc *doc)
{
	struct relay_client *c = NULL;
	cJSON *body = NULL;
	char *repo = NULL;
	int rc, ret = -1;

	if (!(c = connect_relay(g)) || !(repo = repository()))
		goto out;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "repository", repo);
	cJSON_AddItemToObject(body, "document", baseline_doc_json(doc));
	rc = relay_put_baseline(c, body, time(NULL) + BASELINE_RELAY_GIVE_UP);
	if (rc == RELAY_FORBIDDEN)
		forbidden(repo);
	else if (rc == RELAY_NOT_FOUND)
		error("baseline: the relay has no baseline store (HTTP 404); it needs a newer greenlight relay");
	else if (rc == RELAY_OK)
		ret = 0;
	else if (rc != RELAY_ERROR)
		error("baseline: recording with the relay failed (%d)", rc);
out:
	cJSON_Delete(body);
	free(repo);
	relay_client_free(c);
	return ret;
}
