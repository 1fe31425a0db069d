/* relay_client.c - libcurl client for the relay API (see relay_client.h).
 *
 * Every call goes through call(): one request, retried while the failure
 * is worth retrying (no connection, timeout, 5xx, 429) and the give-up time
 * has not come.  With several relays (one shared database) a failure moves
 * on to the next relay at once, round-robin; after each full round of the
 * list, exponential backoff (0.5 s doubling, at most 30 s) with +-50%
 * jitter so that many gates do not retry in step, and never before a
 * relay's Retry-After (at most 30 s).  The choice is relay_failover_next(),
 * pure.  Response bodies are capped at RELAY_MAX_BODY and must be JSON
 * objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
#define PROBE_TIMEOUT_MS 5000L		/* asking another relay for a request */

struct relay_client {
	CURL *curl;
	struct relay_urls urls;
	struct relay_failover fo;
	char *base;			/* urls.url[fo.cur] */
	char confirmed[33];		/* the request id registration answered */
	size_t confirmed_by;		/* ... through this relay */
	char *auth;			/* "Authorization: Bearer ..." */
	char *ca_file;
	volatile sig_atomic_t *stop;
	char curl_err[CURL_ERROR_SIZE];
};

struct reply {
	long status;
	long retry_after_ms;		/* Retry-After in seconds, as ms; 0: none */
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

/* ---- URL lists (pure) ------------------------------------------------- */

void relay_urls_release(struct relay_urls *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->url[i]);
	memset(u, 0, sizeof(*u));
}

/* What is wrong with one entry (trailing slashes already removed), or
 * NULL. */
static const char *url_problem(const char *u, int insecure)
{
	const char *host;

	if (!*u)
		return "an empty entry (two commas, or a comma at an end)";
	if (strlen(u) > RELAY_URL_MAX)
		return "longer than 1024 bytes";
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "a blank or a control character inside a URL";
	if (!strncasecmp(u, "https://", 8))
		host = u + 8;
	else if (!strncasecmp(u, "http://", 7))
		host = u + 7;
	else
		return "write an https:// URL";
	if (!*host || strchr("/?#", *host))
		return "no host after the scheme";
	if (host == u + 7 && !url_is_loopback(u) && !insecure)
		return "plain http to another host lets anyone on the path read"
		       " review links and forge answers; use https://, or pass"
		       " --allow-insecure-relay if the network is trusted";
	if (memchr(host, '@', strcspn(host, "/?#")))
		return "user information in a relay URL (it would be printed in"
		       " messages); the bearer token authenticates the gate";
	return NULL;
}

int relay_urls_parse(struct relay_urls *u, const char *list, int insecure,
		     int *bad, char *why, size_t whylen)
{
	const char *p = list, *problem;

	memset(u, 0, sizeof(*u));
	*bad = -1;
	for (;;) {
		size_t n = strcspn(p, ","), b = 0;
		char *e;

		if (u->n == RELAY_MAX_URLS) {
			*bad = -1;
			snprintf(why, whylen, "more than %d relay URLs", RELAY_MAX_URLS);
			goto fail;
		}
		while (b < n && (p[b] == ' ' || p[b] == '\t'))
			b++;
		while (n > b && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		e = xmalloc(n - b + 1);
		memcpy(e, p + b, n - b);
		e[n - b] = '\0';
		for (size_t k = strlen(e); k > 0 && e[k - 1] == '/'; k--)
			e[k - 1] = '\0';
		u->url[u->n++] = e;
		*bad = (int)u->n - 1;
		if ((problem = url_problem(e, insecure))) {
			snprintf(why, whylen, "%s", problem);
			goto fail;
		}
		for (size_t i = 0; i + 1 < u->n; i++)
			if (!strcasecmp(u->url[i], e)) {
				snprintf(why, whylen, "listed twice");
				goto fail;
			}
		p += strcspn(p, ",");
		if (!*p)
			break;
		p++;
	}
	*bad = -1;
	return 0;
fail:
	relay_urls_release(u);
	return -1;
}

/* ---- failover choice (pure) ------------------------------------------- */

void relay_failover_init(struct relay_failover *f, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->n = n ? n : 1;
	f->backoff_ms = RELAY_BACKOFF_FIRST_MS;
}

void relay_failover_answered(struct relay_failover *f)
{
	f->failed = 0;
	f->backoff_ms = RELAY_BACKOFF_FIRST_MS;
}

long relay_failover_next(struct relay_failover *f, long long now_ms,
			 long retry_after_ms, int move_on, unsigned rnd)
{
	long wait = 0;
	long long left;

	if (retry_after_ms > RELAY_RETRY_AFTER_MAX_MS)
		retry_after_ms = RELAY_RETRY_AFTER_MAX_MS;
	if (retry_after_ms > 0)
		f->retry_at_ms[f->cur] = now_ms + retry_after_ms;
	f->failed++;
	if (move_on)
		f->cur = (f->cur + 1) % f->n;
	if (!move_on || f->failed % f->n == 0) {	/* a full round */
		wait = f->backoff_ms / 2 + (long)(rnd % (unsigned)(f->backoff_ms + 1));
		f->backoff_ms = f->backoff_ms * 2 > RELAY_BACKOFF_MAX_MS ?
				RELAY_BACKOFF_MAX_MS : f->backoff_ms * 2;
	}
	left = f->retry_at_ms[f->cur] - now_ms;
	if (left > wait)
		wait = (long)left;
	return wait;
}

/* ---- the client -------------------------------------------------------- */

struct relay_client *relay_client_new(const char *base_url, const char *bearer,
				      const char *ca_file,
				      volatile sig_atomic_t *stop,
				      char *err, size_t errlen)
{
	struct relay_client *c;
	struct relay_urls urls;
	char why[256];
	size_t n;
	int bad;

	if (relay_urls_parse(&urls, base_url, 1, &bad, why, sizeof(why))) {
		if (bad >= 0)
			snprintf(err, errlen, "relay URL %d of \"%.200s\": %s", bad + 1, base_url, why);
		else
			snprintf(err, errlen, "relay URLs \"%.200s\": %s", base_url, why);
		return NULL;
	}
	if (!bearer || !*bearer || strpbrk(bearer, "\r\n")) {
		snprintf(err, errlen, "no relay token: set the variable named by decision.relay_token_env");
		relay_urls_release(&urls);
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "cannot initialise libcurl");
		relay_urls_release(&urls);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->curl = curl_easy_init();
	c->urls = urls;
	relay_failover_init(&c->fo, urls.n);
	c->base = c->urls.url[0];
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
	relay_urls_release(&c->urls);
	free(c->ca_file);
	free(c);
}

const char *relay_client_first_url(const struct relay_client *c)
{
	return c->urls.url[0];
}

/* The answer's Retry-After as milliseconds (delta-seconds only; an
 * HTTP-date or nonsense is ignored: 0). */
static long retry_after(CURL *e)
{
	struct curl_header *h = NULL;
	const char *v;
	long s = 0;

	if (curl_easy_header(e, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return 0;
	v = h->value;
	if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 6)
		return 0;
	for (; *v; v++)
		s = s * 10 + (*v - '0');
	return s * 1000;
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
	r->retry_after_ms = rc == CURLE_OK ? retry_after(e) : 0;
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

/* A 404 from a relay other than the one that registered the request:
 * the relays in the list are not on one database. */
static int split_database(const struct relay_client *c, size_t other)
{
	return error("relay %s does not know request %s that relay %s registered:"
		     " the relays listed for a gate must share one database"
		     " (relays on different databases hold different requests)",
		     c->urls.url[other], c->confirmed, c->urls.url[c->confirmed_by]);
}

/* scoped: a 403 is RELAY_FORBIDDEN (the caller explains), not reported. */
static int status_result(const struct relay_client *c, const struct reply *r,
			 const char *path, const char *what, cJSON **out,
			 int scoped)
{
	if (r->status == 404 && *c->confirmed && c->fo.cur != c->confirmed_by &&
	    strstr(path, c->confirmed))
		return split_database(c, c->fo.cur);

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

/* The attempt on the relay in use got no answer (why): choose the next
 * relay and the pause, and say so.  Returns the pause in ms, or -1 after
 * reporting that give_up comes first. */
static long fail_over(struct relay_client *c, const struct reply *r,
		      const char *why, int timeout, time_t give_up,
		      const char *what)
{
	size_t was = c->fo.cur;
	unsigned short rnd = 0;
	long delay;

	token_random_bytes(&rnd, sizeof(rnd));
	delay = relay_failover_next(&c->fo, (long long)mono_ms(), r->retry_after_ms,
				    r->status != 429, rnd);
	c->base = c->urls.url[c->fo.cur];
	if (time(NULL) + delay / 1000 >= give_up) {
		if (c->urls.n == 1)
			return error("relay: %s: %s; giving up", what, why);
		return error("relay: %s: none of the %zu relays answered (last: %s: %s); giving up",
			     what, c->urls.n, c->urls.url[was], why);
	}
	if (c->fo.cur == was)
		warning("relay: %s: %s; retrying in %.1f s", what, why, delay / 1000.0);
	else if (delay >= 100)
		warning("relay %s %s (%s); using %s in %.1f s", c->urls.url[was],
			timeout ? "unreachable" : "unavailable", why, c->base,
			delay / 1000.0);
	else
		warning("relay %s %s (%s); using %s", c->urls.url[was],
			timeout ? "unreachable" : "unavailable", why, c->base);
	return delay;
}

/* One API call with retries until give_up (scoped: see status_result). */
static int call_ex(struct relay_client *c, const char *method, const char *path,
		   const cJSON *body, int wait, time_t give_up, const char *what,
		   cJSON **out, long *status, int scoped)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	char why[CURL_ERROR_SIZE + 32];
	long delay;
	int ret;

	for (;;) {
		struct reply r = { 0, 0, BUF_INIT(RELAY_MAX_BODY) };
		CURLcode rc = perform(c, method, path, text, wait * 1000L + SLACK_MS, &r);

		if (rc == CURLE_ABORTED_BY_CALLBACK) {
			ret = RELAY_INTERRUPTED;
		} else if (rc == CURLE_WRITE_ERROR) {
			ret = error("relay: %s: the answer is larger than %d bytes", what, RELAY_MAX_BODY);
		} else if (!retryable(rc, r.status)) {
			relay_failover_answered(&c->fo);
			*status = r.status;
			ret = status_result(c, &r, path, what, out, scoped);
		} else {
			describe(c, rc, r.status, why, sizeof(why));
			delay = fail_over(c, &r, why, rc != CURLE_OK, give_up, what);
			buf_release(&r.body);
			if (delay >= 0 && pause_ms(c, delay) == 0)
				continue;
			ret = delay < 0 ? RELAY_ERROR : RELAY_INTERRUPTED;
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

/* Ask every other relay of the list that answers at once for the request
 * registration answered: a 404 means another database.  Relays that do
 * not answer are skipped (failover finds them later). */
static int probe_others(struct relay_client *c)
{
	char path[96];
	int ret = RELAY_OK;

	snprintf(path, sizeof(path), "/v1/requests/%s?wait=0", c->confirmed);
	for (size_t i = 0; i < c->urls.n && ret == RELAY_OK; i++) {
		struct reply r = { 0, 0, BUF_INIT(RELAY_MAX_BODY) };
		CURLcode rc;

		if (i == c->confirmed_by)
			continue;
		c->base = c->urls.url[i];
		rc = perform(c, "GET", path, NULL, PROBE_TIMEOUT_MS, &r);
		if (rc == CURLE_ABORTED_BY_CALLBACK)
			ret = RELAY_INTERRUPTED;
		else if (rc == CURLE_OK && r.status == 404)
			ret = split_database(c, i);
		else if (rc == CURLE_OK && (r.status == 401 || r.status == 403))
			ret = error("relay %s rejected the bearer token (HTTP %ld); every relay in decision.relay must accept the same tokens",
				    c->base, r.status);
		buf_release(&r.body);
	}
	c->base = c->urls.url[c->fo.cur];
	return ret;
}

int relay_register(struct relay_client *c, const cJSON *body, time_t give_up,
		   cJSON **out, int *created)
{
	long status = 0;
	int rc = call(c, "POST", "/v1/requests", body, 0, give_up, "register", out, &status);
	const cJSON *id;

	*created = status == 201;
	if (rc != RELAY_OK || c->urls.n == 1)
		return rc;
	id = cJSON_GetObjectItemCaseSensitive(*out, "id");
	if (!cJSON_IsString(id) || !token_is_hex(id->valuestring, 32))
		return rc;		/* the caller's reading reports it */
	memcpy(c->confirmed, id->valuestring, 33);
	c->confirmed_by = c->fo.cur;
	rc = probe_others(c);
	if (rc != RELAY_OK) {
		cJSON_Delete(*out);
		*out = NULL;
	}
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
