/* resume.c - what every CI provider of resume.h shares: the relay's CI
 * file (credentials and scopes), checking a registered target, backoff,
 * and the libcurl call.  The providers are resume_gitlab.c and
 * resume_jenkins.c; the sweep that drives them is relay_resume.c.
 */
#define _DEFAULT_SOURCE		/* strsep */
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "resume.h"
#include "util.h"

static const struct resume_ops *const providers[] = { &resume_gitlab, &resume_jenkins, &resume_github };

const struct resume_ops *resume_ops_find(const char *ci)
{
	for (size_t i = 0; ci && i < sizeof(providers) / sizeof(providers[0]); i++)
		if (!strcmp(providers[i]->name, ci))
			return providers[i];
	return NULL;
}

/* ---- the CI file ---------------------------------------------------------- */

static int name_ok(const char *s, const char *extra, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return 0;
	return 1;
}

static int api_ok(const char *url)
{
	if (strlen(url) > 1024 || strpbrk(url, "?#@ \t") )
		return 0;
	if (!strncmp(url, "https://", 8) && url[8])
		return 1;
	return !strncmp(url, "http://", 7) && url_is_loopback(url);
}

/* One line's words after "ci": TENANT KIND API-URL SECRET-ENV PATTERN... */
static int parse_line(struct resume_cred *cr, char **w, size_t nw, const char *from,
		      int line)
{
	const char *secret;
	size_t off = 0;

	if (nw < 5)
		return error("%s:%d: write: ci TENANT KIND API-URL SECRET-VARIABLE PATTERN...", from, line);
	if (!name_ok(w[0], "._-", STORE_MAX_TENANT))
		return error("%s:%d: tenant \"%.64s\": 1-64 letters, digits, '.', '_', '-'", from, line, w[0]);
	if (!resume_ops_find(w[1]))
		return error("%s:%d: CI \"%.32s\": write gitlab, jenkins or github", from, line, w[1]);
	if (!api_ok(w[2]))
		return error("%s:%d: API URL \"%.100s\": write an https:// URL without credentials, query or fragment (http:// only on loopback)",
			     from, line, w[2]);
	if (!name_ok(w[3], "_", 128) || isdigit((unsigned char)*w[3]))
		return error("%s:%d: \"%.64s\" is not a variable name (the secret itself never goes in this file)",
			     from, line, w[3]);
	secret = getenv(w[3]);
	if (!secret || !*secret || strlen(secret) > 4096)
		return error("%s:%d: the variable %s holding the %s credential of tenant %s is not set",
			     from, line, w[3], w[1], w[0]);
	for (size_t i = 4; i < nw; i++) {
		size_t len = strlen(w[i]) + 1;

		if (off + len + 1 > sizeof(cr->scopes))
			return error("%s:%d: the patterns are over %d bytes", from, line, RESUME_SCOPE_MAX);
		memcpy(cr->scopes + off, w[i], len);
		off += len;
	}
	cr->scopes[off] = '\0';
	strlcpy_gl(cr->tenant, w[0], sizeof(cr->tenant));
	strlcpy_gl(cr->ci, w[1], sizeof(cr->ci));
	cr->api = xstrdup(w[2]);
	for (size_t n = strlen(cr->api); n && cr->api[n - 1] == '/'; n--)
		cr->api[n - 1] = '\0';
	cr->secret = xstrdup(secret);
	return 0;
}

static size_t split(char *s, char **w, size_t max)
{
	size_t n = 0;

	for (char *t = strtok_r(s, " \t", &s); t && n < max; t = strtok_r(NULL, " \t", &s))
		w[n++] = t;
	return n;
}

int resume_config_parse(struct resume_config *c, const char *text, const char *from)
{
	char *copy = xstrdup(text), *rest = copy, *ln;
	int line = 0, rc = 0;

	memset(c, 0, sizeof(*c));
	while (!rc && (ln = strsep(&rest, "\n"))) {
		char *w[64];
		size_t nw;

		line++;
		ln[strcspn(ln, "\r")] = '\0';
		nw = split(ln, w, 64);
		if (!nw || w[0][0] == '#')
			continue;
		if (strcmp(w[0], "ci")) {
			rc = error("%s:%d: lines start with \"ci\" (ci TENANT KIND API-URL SECRET-VARIABLE PATTERN...)",
				   from, line);
			break;
		}
		if (c->n == RESUME_MAX_CREDS) {
			rc = error("%s:%d: at most %d ci lines", from, line, RESUME_MAX_CREDS);
			break;
		}
		c->creds = xrealloc(c->creds, (c->n + 1) * sizeof(*c->creds));
		memset(&c->creds[c->n], 0, sizeof(*c->creds));
		rc = parse_line(&c->creds[c->n], w + 1, nw - 1, from, line);
		if (!rc && resume_config_find(c, c->creds[c->n].tenant, c->creds[c->n].ci))
			rc = error("%s:%d: tenant %s has a %s line already", from, line,
				   c->creds[c->n].tenant, c->creds[c->n].ci);
		c->n++;
	}
	OPENSSL_cleanse(copy, strlen(text));
	free(copy);
	if (rc)
		resume_config_release(c);
	return rc;
}

void resume_config_release(struct resume_config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->creds[i].secret)
			OPENSSL_cleanse(c->creds[i].secret, strlen(c->creds[i].secret));
		free(c->creds[i].secret);
		free(c->creds[i].api);
	}
	free(c->creds);
	memset(c, 0, sizeof(*c));
}

const struct resume_cred *resume_config_find(const struct resume_config *c,
					     const char *tenant, const char *ci)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->creds[i].api && !strcmp(c->creds[i].tenant, tenant) &&
		    !strcmp(c->creds[i].ci, ci))
			return &c->creds[i];
	return NULL;
}

/* ---- targets ---------------------------------------------------------------- */

static int scope_ok(const struct resume_cred *cr, const char *what)
{
	for (const char *p = cr->scopes; *p; p += strlen(p) + 1)
		if (!fnmatch(p, what, 0))
			return 1;
	return 0;
}

/* An object of 2..8 string members, each 1..RESUME_MAX_FIELD printable
 * ASCII bytes. */
static int shape_ok(const cJSON *t, char *why, size_t n)
{
	int count = 0;

	if (!cJSON_IsObject(t))
		return fail_into(why, n, "resume: write an object");
	for (const cJSON *m = t->child; m; m = m->next, count++) {
		size_t len = cJSON_IsString(m) ? strlen(m->valuestring) : 0;

		if (!len || len > RESUME_MAX_FIELD)
			return fail_into(why, n, "resume.%.32s: write a string of 1-%d bytes",
					 m->string, RESUME_MAX_FIELD);
		for (const char *s = m->valuestring; *s; s++)
			if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
				return fail_into(why, n, "resume.%.32s: printable ASCII only", m->string);
	}
	if (count > 8)
		return fail_into(why, n, "resume: at most 8 members");
	return 0;
}

const struct resume_ops *resume_target_valid(const cJSON *target, char *why, size_t n)
{
	const struct resume_ops *ops;

	if (shape_ok(target, why, n))
		return NULL;
	ops = resume_ops_find(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(target, "ci")));
	if (!ops) {
		fail_into(why, n, "resume.ci: write gitlab, jenkins or github");
		return NULL;
	}
	return ops->check(target, why, n) ? NULL : ops;
}

unsigned resume_check_target(const struct resume_config *cfg, const char *tenant,
			     const cJSON *target, char *why, size_t n)
{
	const struct resume_ops *ops = resume_target_valid(target, why, n);
	const struct resume_cred *cr;
	const char *scope;

	if (!ops)
		return 400;
	cr = resume_config_find(cfg, tenant, ops->name);
	scope = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(target, ops->scope_member));
	if (!cr) {
		fail_into(why, n, "the relay holds no %s credential for this token's tenant", ops->name);
		return 403;
	}
	if (!scope || !scope_ok(cr, scope)) {
		fail_into(why, n, "this token's tenant may not resume that %s %s", ops->name,
			  ops->scope_member);
		return 403;
	}
	return 0;
}

time_t resume_backoff(int attempts)
{
	time_t d = 1;

	for (int i = 1; i < attempts && d < RESUME_BACKOFF_MAX; i++)
		d *= 2;
	return d < RESUME_BACKOFF_MAX ? d : RESUME_BACKOFF_MAX;
}

enum resume_result resume_status_result(long status)
{
	if (status >= 200 && status < 300)
		return RESUME_DONE;
	if (!status || status == 408 || status == 429 || status >= 500)
		return RESUME_RETRY;
	return RESUME_FAILED;
}

enum resume_result resume_exchange(struct resume_call *c,
				   const struct resume_http_req *rq,
				   struct resume_http_resp *rs, const char *what)
{
	enum resume_result res;

	if (c->http(c->ud, rq, rs)) {
		fail_into(c->why, sizeof(c->why), "%s: %s", what, rs->err);
		return RESUME_RETRY;
	}
	res = resume_status_result(rs->status);
	if (res != RESUME_DONE)
		fail_into(c->why, sizeof(c->why), "%s: HTTP %ld", what, rs->status);
	return res;
}

int resume_url_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int rc = isalnum(ch) || strchr("-._~", ch) ? buf_add(b, s, 1) :
			 buf_addf(b, "%%%02X", ch);

		if (rc)
			return -1;
	}
	return 0;
}

/* ---- libcurl ------------------------------------------------------------------ */

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	return buf_add(b, p, size * n) ? 0 : size * n;	/* over the cap: stop */
}

int resume_http_curl(void *ud, const struct resume_http_req *rq,
		     struct resume_http_resp *rs)
{
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL;
	CURLcode cc;

	(void)ud;
	rs->status = 0;
	if (!e)
		return fail_into(rs->err, sizeof(rs->err), "cannot start libcurl");
	for (size_t i = 0; i < 4 && rq->headers[i]; i++)
		h = curl_slist_append(h, rq->headers[i]);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(e, CURLOPT_URL, rq->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)RESUME_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)RESUME_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "greenlight-relay/" GREENLIGHT_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &rs->body);
	if (rq->userpwd) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERPWD, rq->userpwd);
	}
	if (!strcmp(rq->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(rq->body ? strlen(rq->body) : 0));
	}
	cc = curl_easy_perform(e);
	if (cc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &rs->status);
	else
		fail_into(rs->err, sizeof(rs->err), "%s", curl_easy_strerror(cc));
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	return cc == CURLE_OK ? 0 : -1;
}
