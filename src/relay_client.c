/* relay_client.c - libcurl client for the relay API (see relay_client.h).
 *
 * Every call goes through call(): one request, retried while the failure
 * is worth retrying (no connection, timeout, 5xx, 429) and the give-up time
 * has not come, with exponential backoff (0.5 s doubling, at most 30 s) and
 * +-50% jitter so that many gates do not retry in step.  Response bodies are
 * capped at RELAY_MAX_BODY and must be JSON objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "relay_client.h"
#include "token.h"
#include "util.h"

#define RELAY_MAX_BODY (4 << 20)
#define CONNECT_TIMEOUT_MS 10000L
#define SLACK_MS 15000L			/* beyond the long-poll wait */
#define BACKOFF_FIRST_MS 500L
#define BACKOFF_MAX_MS 30000L

struct relay_client {
	CURL *curl;
	char *base;
	char *auth;			/* "Authorization: Bearer ..." */
	char *ca_file;
	volatile sig_atomic_t *stop;
	char curl_err[CURL_ERROR_SIZE];
};

struct reply {
	long status;
	struct buf body;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	return buf_add(b, p, size * n) ? 0 : size * n;	/* 0 aborts: too big */
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
		       curl_off_t d)
{
	struct relay_client *rc = ud;

	(void)a; (void)b; (void)c; (void)d;
	return rc->stop && *rc->stop;
}

struct relay_client *relay_client_new(const char *base_url, const char *bearer,
				      const char *ca_file,
				      volatile sig_atomic_t *stop,
				      char *err, size_t errlen)
{
	struct relay_client *c;
	size_t n;

	if (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8)) {
		snprintf(err, errlen, "relay URL \"%.200s\" must start with https:// (or http:// on a trusted network)", base_url);
		return NULL;
	}
	if (!bearer || !*bearer || strpbrk(bearer, "\r\n")) {
		snprintf(err, errlen, "no relay token: set the variable named by decision.relay_token_env");
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->curl = curl_easy_init();
	c->base = xstrdup(base_url);
	n = strlen(c->base);
	while (n && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	n = strlen(bearer) + 32;
	c->auth = xmalloc(n);
	snprintf(c->auth, n, "Authorization: Bearer %s", bearer);
	c->ca_file = ca_file && *ca_file ? xstrdup(ca_file) : NULL;
	c->stop = stop;
	if (!c->curl) {
		snprintf(err, errlen, "cannot create a libcurl handle");
		relay_client_free(c);
		return NULL;
	}
	return c;
}

void relay_client_free(struct relay_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->auth)
		OPENSSL_cleanse(c->auth, strlen(c->auth));
	free(c->auth);
	free(c->base);
	free(c->ca_file);
	free(c);
}

/* One HTTP exchange.  Returns the CURLcode; r->status and r->body filled. */
static CURLcode perform(struct relay_client *c, const char *method,
			const char *path, const char *body, long timeout_ms,
			struct reply *r)
{
	struct curl_slist *h = NULL;
	char url[2048];
	CURLcode rc;
	CURL *e = c->curl;

	snprintf(url, sizeof(url), "%s%s", c->base, path);
	h = curl_slist_append(h, c->auth);
	h = curl_slist_append(h, "Accept: application/json");
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body || strcmp(method, "GET"))
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "greenlight/" GREENLIGHT_VERSION);
	if (c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	c->curl_err[0] = '\0';
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	return rc;
}

/* Sleep ms milliseconds in slices, returning early (-1) on *stop. */
static int pause_ms(struct relay_client *c, long ms)
{
	struct timespec slice = { 0, 100 * 1000 * 1000 };

	for (; ms > 0; ms -= 100) {
		if (c->stop && *c->stop)
			return -1;
		nanosleep(&slice, NULL);
	}
	return c->stop && *c->stop ? -1 : 0;
}

static long jitter(long ms)
{
	unsigned short r = 0;

	token_random_bytes(&r, sizeof(r));
	return ms / 2 + (long)(r % (unsigned)(ms + 1));
}

static int retryable(CURLcode rc, long status)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_WRITE_ERROR)
		return 0;
	return rc != CURLE_OK || status >= 500 || status == 429;
}

static void describe(const struct relay_client *c, CURLcode rc, long status,
		     char *out, size_t n)
{
	if (rc != CURLE_OK)
		snprintf(out, n, "%s", c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
	else
		snprintf(out, n, "HTTP %ld", status);
}

/* Parse a JSON object reply into *out (when out is not NULL). */
static int parse_reply(const struct reply *r, const char *what, cJSON **out)
{
	cJSON *j;

	if (!out)
		return RELAY_OK;
	j = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return error("relay: %s: the answer is not a JSON object", what);
	}
	*out = j;
	return RELAY_OK;
}

/* scoped: a 403 is RELAY_FORBIDDEN (the caller explains), not reported. */
static int status_result(const struct relay_client *c, const struct reply *r,
			 const char *what, cJSON **out, int scoped)
{
	if (scoped && r->status == 403)
		return RELAY_FORBIDDEN;
	switch (r->status) {
	case 200: case 201: case 204:
		return parse_reply(r, what, out);
	case 401: case 403:
		return error("relay %s rejected the bearer token (HTTP %ld); check the variable named by decision.relay_token_env",
			     c->base, r->status);
	case 404:
		return RELAY_NOT_FOUND;
	case 409:
		return RELAY_CONFLICT;
	default:
		return error("relay: %s: HTTP %ld: %.200s", what, r->status,
			     r->body.data ? r->body.data : "");
	}
}

/* One API call with retries until give_up (scoped: see status_result). */
static int call_ex(struct relay_client *c, const char *method, const char *path,
		   const cJSON *body, int wait, time_t give_up, const char *what,
		   cJSON **out, long *status, int scoped)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	long backoff = BACKOFF_FIRST_MS, delay;
	char why[CURL_ERROR_SIZE + 32];
	int ret;

	for (;;) {
		struct reply r = { 0, BUF_INIT(RELAY_MAX_BODY) };
		CURLcode rc = perform(c, method, path, text, wait * 1000L + SLACK_MS, &r);

		if (rc == CURLE_ABORTED_BY_CALLBACK) {
			ret = RELAY_INTERRUPTED;
		} else if (rc == CURLE_WRITE_ERROR) {
			ret = error("relay: %s: the answer is larger than %d bytes", what, RELAY_MAX_BODY);
		} else if (!retryable(rc, r.status)) {
			*status = r.status;
			ret = status_result(c, &r, what, out, scoped);
		} else {
			describe(c, rc, r.status, why, sizeof(why));
			delay = jitter(backoff);
			if (time(NULL) + delay / 1000 >= give_up) {
				ret = error("relay: %s: %s; giving up", what, why);
			} else {
				warning("relay: %s: %s; retrying in %.1f s", what, why, delay / 1000.0);
				buf_release(&r.body);
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				if (pause_ms(c, delay) == 0)
					continue;
				ret = RELAY_INTERRUPTED;
			}
		}
		buf_release(&r.body);
		break;
	}
	free(text);
	return ret;
}

static int call(struct relay_client *c, const char *method, const char *path,
		const cJSON *body, int wait, time_t give_up, const char *what,
		cJSON **out, long *status)
{
	return call_ex(c, method, path, body, wait, give_up, what, out, status, 0);
}

int relay_register(struct relay_client *c, const cJSON *body, time_t give_up,
		   cJSON **out, int *created)
{
	long status = 0;
	int rc = call(c, "POST", "/v1/requests", body, 0, give_up, "register", out, &status);

	*created = status == 201;
	return rc;
}

/* "/v1/requests/<id><suffix>" into path; -1 (reported) for a bad id. */
static int id_path(char *path, size_t n, const char *id, const char *suffix)
{
	if (!token_is_hex(id, 32))
		return error("relay: request id \"%.40s\" is not 32 hex digits", id);
	snprintf(path, n, "/v1/requests/%s%s", id, suffix);
	return 0;
}

int relay_get(struct relay_client *c, const char *id, int wait, time_t give_up,
	      cJSON **out)
{
	char path[96], query[16];
	long status;

	snprintf(query, sizeof(query), "?wait=%d", wait < 0 ? 0 : wait > 60 ? 60 : wait);
	if (id_path(path, sizeof(path), id, query))
		return RELAY_ERROR;
	return call(c, "GET", path, NULL, wait, give_up, "poll", out, &status);
}

int relay_rekey(struct relay_client *c, const char *id, const cJSON *body,
		time_t give_up, cJSON **out)
{
	char path[96];
	long status;

	if (id_path(path, sizeof(path), id, "/rekey"))
		return RELAY_ERROR;
	return call(c, "POST", path, body, 0, give_up, "new links", out, &status);
}

int relay_notified(struct relay_client *c, const char *id, time_t give_up)
{
	char path[96];
	long status;

	if (id_path(path, sizeof(path), id, "/notified"))
		return RELAY_ERROR;
	return call(c, "POST", path, NULL, 0, give_up, "mark notified", NULL, &status);
}

int relay_put_baseline(struct relay_client *c, const cJSON *body, time_t give_up)
{
	long status;

	return call_ex(c, "PUT", "/v1/baselines", body, 0, give_up,
		       "record baseline", NULL, &status, 1);
}

int relay_lookup_baselines(struct relay_client *c, const cJSON *body,
			   time_t give_up, cJSON **out)
{
	long status;

	return call_ex(c, "POST", "/v1/baselines/lookup", body, 0, give_up,
		       "baseline lookup", out, &status, 1);
}
