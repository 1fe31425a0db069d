/* test_web.c - the review page over real HTTP (libcurl -> loopback).
 *
 * Each test starts web_start() on 127.0.0.1 port 0 against a fresh SQLite
 * file and talks to it with libcurl, so requests go through the real
 * libmicrohttpd daemon.  A second store connection (the test's own) creates
 * requests and checks what was recorded, as `greenlight run` would.  The
 * request deadline and connection limits are driven with raw sockets.
 * Also here: form_parse() as a table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "buf.h"
#include "store.h"
#include "token.h"
#include "web.h"

#define NR 3

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
	struct web *w;
	char tokens[NR][TOKEN_SIZE];
	char id[33];
	atomic_int decisions_seen;
	char last_id[33];
};

struct resp {
	long status;
	struct buf head;
	struct buf body;
};

static atomic_int api_done_calls;

static void on_decision(void *ud, const char *request_id)
{
	struct fixture *f = ud;

	strncpy(f->last_id, request_id, sizeof(f->last_id) - 1);
	atomic_fetch_add(&f->decisions_seen, 1);
}

static struct web *start(struct fixture *f, const char *listen,
			 const char *public_url)
{
	struct web_config wc;

	memset(&wc, 0, sizeof(wc));
	wc.listen = listen;
	wc.public_url = public_url;
	wc.store_path = f->path;
	wc.on_decision = on_decision;
	wc.ud = f;
	return web_start(&wc);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/gl-test-web-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	f->s = store_open(f->path);
	assert_non_null(f->s);
	f->w = start(f, "127.0.0.1:0", NULL);
	assert_non_null(f->w);
	assert_true(web_port(f->w) > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	web_stop(f->w);
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A pending request: team eng of a@, b@, c@ needing `approvals`. */
static void make_request(struct fixture *f, const char *key, int approvals,
			 const char *facts, time_t created, time_t deadline)
{
	static const char *const who[NR] = {
		"a@example.com", "b@example.com", "c@example.com",
	};
	struct store_recipient rcpt[NR];
	struct store_team team = { "eng", approvals };
	struct store_new_request nr;
	struct store_request r;
	int created_now;

	memset(&nr, 0, sizeof(nr));
	for (int i = 0; i < NR; i++) {
		assert_int_equal(token_new(f->tokens[i]), 0);
		rcpt[i].email = who[i];
		rcpt[i].team = "eng";
		assert_int_equal(token_hash(rcpt[i].token_hash, f->tokens[i]), 0);
	}
	nr.key = key;
	nr.gate = "model-release";
	nr.facts_json = facts ? facts :
		"{\"gate\":\"model-release\",\"teams\":[\"eng\"],"
		"\"rules\":[{\"metric\":\"$.latencyMs\",\"value\":\"225\","
		"\"op\":\">\",\"threshold\":\"80\",\"why\":\"$.latencyMs > 80\","
		"\"next\":\"eng\"}],\"commit\":{\"sha\":\"3f2a9c1e\","
		"\"author\":\"Ann\",\"email\":\"ann@example.com\","
		"\"subject\":\"Speed up\",\"branch\":\"main\"},"
		"\"run_url\":\"https://ci.example.com/run/1\"}";
	nr.author_email = "a@example.com";
	nr.created = created ? created : time(NULL);
	nr.deadline = deadline ? deadline : nr.created + 3600;
	nr.teams = &team;
	nr.nteams = 1;
	nr.recipients = rcpt;
	nr.nrecipients = NR;
	assert_int_equal(store_request_put(f->s, &nr, &r, &created_now), STORE_OK);
	assert_int_equal(created_now, 1);
	strcpy(f->id, r.id);
	store_request_release(&r);
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	return buf_add(ud, p, size * n) ? 0 : size * n;
}

struct req {
	const char *method;		/* NULL: GET */
	const char *path;
	const char *body;		/* POST body */
	size_t body_len;		/* 0: strlen(body) */
	const char *type;		/* Content-Type; NULL: urlencoded */
	const char *origin;		/* Origin header, or NULL */
	const char *fetch_site;		/* Sec-Fetch-Site header, or NULL */
	int chunked;
};

static void http_at(unsigned port, const char *host, const struct req *q,
		    struct resp *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512], line[512];

	assert_non_null(c);
	out->head = (struct buf)BUF_INIT(1 << 16);
	out->body = (struct buf)BUF_INIT(1 << 20);
	snprintf(url, sizeof(url), "http://%s:%u%s", host, port, q->path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "greenlight-test/1");
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->head);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (q->method && !strcmp(q->method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (q->method)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	if (q->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
				 (long)(q->body_len ? q->body_len : strlen(q->body)));
		snprintf(line, sizeof(line), "Content-Type: %s", q->type ? q->type :
			 "application/x-www-form-urlencoded");
		h = curl_slist_append(h, line);
	}
	if (q->origin) {
		snprintf(line, sizeof(line), "Origin: %s", q->origin);
		h = curl_slist_append(h, line);
	}
	if (q->fetch_site) {
		snprintf(line, sizeof(line), "Sec-Fetch-Site: %s", q->fetch_site);
		h = curl_slist_append(h, line);
	}
	if (q->chunked)
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	out->status = 0;
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (!out->body.data)
		buf_adds(&out->body, "");
	if (!out->head.data)
		buf_adds(&out->head, "");
}

static void http(struct fixture *f, const struct req *q, struct resp *out)
{
	http_at(web_port(f->w), "127.0.0.1", q, out);
}

static void resp_release(struct resp *r)
{
	buf_release(&r->head);
	buf_release(&r->body);
}

/* The value of response header name (case-insensitive), or NULL. */
static const char *resp_header(const struct resp *r, const char *name,
			       char *out, size_t size)
{
	size_t n = strlen(name);

	for (const char *p = r->head.data; p && *p; ) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && !strncasecmp(p, name, n) && p[n] == ':') {
			snprintf(out, size, "%.*s", (int)(len - n - 2), p + n + 2);
			return out;
		}
		p += len + (eol ? 2 : 0);
	}
	return NULL;
}

static long get(struct fixture *f, int who, struct resp *out)
{
	char path[80];
	struct req q = { 0 };

	snprintf(path, sizeof(path), "/r/%s", f->tokens[who]);
	q.path = path;
	http(f, &q, out);
	return out->status;
}

/* The nonce in a review page. */
static void page_nonce(struct fixture *f, int who, char nonce[65])
{
	struct resp r;
	const char *p;

	assert_int_equal(get(f, who, &r), 200);
	p = strstr(r.body.data, "name=\"nonce\" value=\"");
	assert_non_null(p);
	p += strlen("name=\"nonce\" value=\"");
	memcpy(nonce, p, 64);
	nonce[64] = '\0';
	assert_int_equal(p[64], '"');
	resp_release(&r);
}

static long post(struct fixture *f, int who, const char *body,
		 struct resp *out)
{
	char path[80];
	struct req q = { 0 };

	snprintf(path, sizeof(path), "/r/%s", f->tokens[who]);
	q.path = path;
	q.body = body;
	http(f, &q, out);
	return out->status;
}

/* POST a decision with the page's own nonce; returns the status. */
static long vote(struct fixture *f, int who, const char *decision)
{
	char nonce[65], body[256];
	struct resp r;
	long status;

	page_nonce(f, who, nonce);
	snprintf(body, sizeof(body), "nonce=%s&decision=%s&reason=looks+fine%%21",
		 nonce, decision);
	status = post(f, who, body, &r);
	resp_release(&r);
	return status;
}

static void stored(struct fixture *f, enum req_state want, size_t ndecisions)
{
	struct store_request r;

	assert_int_equal(store_request_get(f->s, f->id, time(NULL), &r), STORE_OK);
	assert_int_equal(r.state, want);
	assert_int_equal(r.ndecisions, ndecisions);
	store_request_release(&r);
}

/* ---- tests ---------------------------------------------------------------- */

/* on_decision runs once the response has been sent (completed()), which
 * can be a moment after the client has read it: wait up to 2 s. */
static int seen_decisions(struct fixture *f, int want)
{
	struct timespec tick = { 0, 2 * 1000 * 1000 };

	for (int i = 0; i < 1000 && atomic_load(&f->decisions_seen) < want; i++)
		nanosleep(&tick, NULL);
	return atomic_load(&f->decisions_seen);
}

static void test_get_and_head_do_not_decide(void **state)
{
	struct fixture *f = *state;
	char path[80], a[256], b[256];
	struct req q = { 0 };
	struct resp g, h;

	make_request(f, "k-get", 1, NULL, 0, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(get(f, 0, &g), 200);
		if (i < 2)
			resp_release(&g);
	}
	assert_non_null(strstr(g.body.data, "model-release"));
	assert_non_null(strstr(g.body.data, "value=\"approve\""));
	assert_non_null(strstr(g.body.data, "value=\"reject\""));
	assert_non_null(strstr(g.body.data, "<textarea"));
	assert_non_null(strstr(g.body.data, "$.latencyMs"));
	assert_non_null(strstr(g.body.data, "&gt; 80"));
	assert_non_null(strstr(g.body.data, "3f2a9c1e"));
	assert_non_null(strstr(g.body.data,
			       "<a href=\"https://ci.example.com/run/1\""));
	assert_non_null(strstr(g.body.data, "name=\"viewport\""));
	assert_null(strstr(g.body.data, "<script"));
	snprintf(path, sizeof(path), "/r/%s", f->tokens[0]);
	q.method = "HEAD";
	q.path = path;
	http(f, &q, &h);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.body.len, 0);
	assert_string_equal(resp_header(&g, "Content-Type", a, sizeof(a)),
			    resp_header(&h, "Content-Type", b, sizeof(b)));
	assert_string_equal(resp_header(&g, "Content-Security-Policy", a, sizeof(a)),
			    resp_header(&h, "Content-Security-Policy", b, sizeof(b)));
	resp_release(&g);
	resp_release(&h);
	stored(f, REQ_PENDING, 0);
	assert_int_equal(seen_decisions(f, 0), 0);
}

static void check_security_headers(const struct resp *r)
{
	char v[512];

	assert_non_null(resp_header(r, "Content-Security-Policy", v, sizeof(v)));
	assert_non_null(strstr(v, "default-src 'none'"));
	assert_non_null(strstr(v, "frame-ancestors 'none'"));
	assert_non_null(strstr(v, "base-uri 'none'"));
	assert_null(strstr(v, "unsafe-inline"));
	assert_non_null(resp_header(r, "Referrer-Policy", v, sizeof(v)));
	assert_string_equal(v, "no-referrer");
	assert_non_null(resp_header(r, "Cache-Control", v, sizeof(v)));
	assert_string_equal(v, "no-store");
	assert_non_null(resp_header(r, "X-Content-Type-Options", v, sizeof(v)));
	assert_string_equal(v, "nosniff");
}

static void test_security_headers(void **state)
{
	struct fixture *f = *state;
	struct req q = { 0 };
	struct resp r;
	char v[512];

	make_request(f, "k-headers", 1, NULL, 0, 0);
	assert_int_equal(get(f, 1, &r), 200);
	check_security_headers(&r);
	assert_non_null(resp_header(&r, "Content-Security-Policy", v, sizeof(v)));
	assert_non_null(strstr(v, "style-src 'sha256-"));
	assert_non_null(strstr(v, "form-action 'self'"));
	resp_release(&r);
	q.path = "/nothing-here";
	http(f, &q, &r);
	assert_int_equal(r.status, 404);
	check_security_headers(&r);
	resp_release(&r);
	q.path = "/healthz";
	http(f, &q, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "ok\n");
	check_security_headers(&r);
	resp_release(&r);
}

static void test_post_without_nonce(void **state)
{
	struct fixture *f = *state;
	struct resp r;

	make_request(f, "k-nononce", 1, NULL, 0, 0);
	assert_int_equal(post(f, 0, "decision=approve", &r), 403);
	resp_release(&r);
	assert_int_equal(post(f, 0, "decision=approve&nonce=00", &r), 403);
	resp_release(&r);
	stored(f, REQ_PENDING, 0);
	assert_int_equal(seen_decisions(f, 0), 0);
}

static void test_post_with_nonce_records(void **state)
{
	struct fixture *f = *state;
	struct store_request sr;
	char nonce[65], body[200];
	struct resp r;

	make_request(f, "k-post", 1, NULL, 0, 0);
	page_nonce(f, 1, nonce);
	snprintf(body, sizeof(body), "decision=approve&reason=LGTM+%%E2%%9C%%93"
		 "%%0D%%0ABcc%%3A+x&nonce=%s", nonce);
	assert_int_equal(post(f, 1, body, &r), 200);
	assert_non_null(strstr(r.body.data, "Recorded: approved"));
	check_security_headers(&r);
	resp_release(&r);
	assert_int_equal(seen_decisions(f, 1), 1);
	assert_string_equal(f->last_id, f->id);
	assert_int_equal(store_request_get(f->s, f->id, time(NULL), &sr), STORE_OK);
	assert_int_equal(sr.state, REQ_APPROVED);
	assert_int_equal(sr.ndecisions, 1);
	assert_string_equal(sr.decisions[0].email, "b@example.com");
	assert_string_equal(sr.decisions[0].reason, "LGTM \xe2\x9c\x93 Bcc: x");
	assert_string_equal(sr.decisions[0].remote_addr, "127.0.0.1");
	assert_string_equal(sr.decisions[0].user_agent, "greenlight-test/1");
	store_request_release(&sr);
}

static void test_double_post_idempotent(void **state)
{
	struct fixture *f = *state;
	char nonce[65], body[200];
	struct resp r;

	make_request(f, "k-double", 2, NULL, 0, 0);
	page_nonce(f, 1, nonce);
	snprintf(body, sizeof(body), "decision=reject&nonce=%s", nonce);
	assert_int_equal(post(f, 1, body, &r), 200);
	resp_release(&r);
	assert_int_equal(post(f, 1, body, &r), 200);
	assert_non_null(strstr(r.body.data, "Recorded: rejected"));
	assert_non_null(strstr(r.body.data, "already been recorded"));
	resp_release(&r);
	stored(f, REQ_REJECTED, 1);
	assert_int_equal(seen_decisions(f, 1), 1);
}

static void test_conflict_409(void **state)
{
	struct fixture *f = *state;
	char nonce[65], body[200];
	struct resp r;

	make_request(f, "k-conflict", 2, NULL, 0, 0);
	page_nonce(f, 2, nonce);
	snprintf(body, sizeof(body), "decision=approve&nonce=%s", nonce);
	assert_int_equal(post(f, 2, body, &r), 200);
	resp_release(&r);
	snprintf(body, sizeof(body), "decision=reject&nonce=%s", nonce);
	assert_int_equal(post(f, 2, body, &r), 409);
	assert_non_null(strstr(r.body.data, "already approved"));
	resp_release(&r);
	stored(f, REQ_PENDING, 1);
	/* the page now says so instead of offering the form */
	assert_int_equal(get(f, 2, &r), 200);
	assert_null(strstr(r.body.data, "<form"));
	resp_release(&r);
}

static void test_decided_is_gone(void **state)
{
	struct fixture *f = *state;
	char nonce[65], body[200];
	struct resp r;

	make_request(f, "k-gone", 1, NULL, 0, 0);
	page_nonce(f, 2, nonce);	/* c@ opens the page first */
	assert_int_equal(vote(f, 1, "approve"), 200);
	assert_int_equal(get(f, 0, &r), 410);
	assert_non_null(strstr(r.body.data, "approved"));
	assert_null(strstr(r.body.data, "<form"));
	resp_release(&r);
	snprintf(body, sizeof(body), "decision=reject&nonce=%s", nonce);
	assert_int_equal(post(f, 2, body, &r), 410);
	resp_release(&r);
	stored(f, REQ_APPROVED, 1);
}

static void test_expired_is_gone(void **state)
{
	struct fixture *f = *state;
	struct resp r;
	time_t now = time(NULL);

	struct store_review rv;
	char body[200];

	make_request(f, "k-expired", 1, NULL, now - 100, now - 1);
	assert_int_equal(get(f, 0, &r), 410);
	assert_non_null(strstr(r.body.data, "expired"));
	assert_null(strstr(r.body.data, "<form"));
	resp_release(&r);
	/* even with the right nonce (as an old page would carry) */
	assert_int_equal(store_review_get(f->s, f->tokens[1], now, &rv), STORE_GONE);
	snprintf(body, sizeof(body), "decision=approve&nonce=%s", rv.nonce);
	store_review_release(&rv);
	assert_int_equal(post(f, 1, body, &r), 410);
	assert_non_null(strstr(r.body.data, "expired"));
	resp_release(&r);
	stored(f, REQ_EXPIRED, 0);
}

static void test_unknown_token_404(void **state)
{
	struct fixture *f = *state;
	char other[TOKEN_SIZE], path[80];
	struct req q = { 0 };
	struct resp r;

	make_request(f, "k-404", 1, NULL, 0, 0);
	assert_int_equal(token_new(other), 0);
	snprintf(path, sizeof(path), "/r/%s", other);
	q.path = path;
	http(f, &q, &r);
	assert_int_equal(r.status, 404);
	assert_null(strstr(r.body.data, "model-release"));
	resp_release(&r);
	q.path = "/r/not-a-token";
	http(f, &q, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);
	q.body = "decision=approve";
	http(f, &q, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);
	q.path = path;
	http(f, &q, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);
}

static void test_other_methods_405(void **state)
{
	struct fixture *f = *state;
	static const char *const methods[] = { "PUT", "DELETE", "PATCH", "OPTIONS" };
	char path[80], allow[64];
	struct req q = { 0 };
	struct resp r;

	make_request(f, "k-405", 1, NULL, 0, 0);
	snprintf(path, sizeof(path), "/r/%s", f->tokens[0]);
	q.path = path;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		q.method = methods[i];
		http(f, &q, &r);
		assert_int_equal(r.status, 405);
		assert_non_null(resp_header(&r, "Allow", allow, sizeof(allow)));
		assert_string_equal(allow, "GET, HEAD, POST");
		resp_release(&r);
	}
	q.method = "POST";
	q.path = "/healthz";
	http(f, &q, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(resp_header(&r, "Allow", allow, sizeof(allow)),
			    "GET, HEAD");
	resp_release(&r);
	stored(f, REQ_PENDING, 0);
}

static void test_oversized_413(void **state)
{
	struct fixture *f = *state;
	char path[80], nonce[65];
	struct req q = { 0 };
	struct resp r;
	char *big = malloc(WEB_MAX_BODY + 200);

	assert_non_null(big);
	make_request(f, "k-413", 1, NULL, 0, 0);
	page_nonce(f, 0, nonce);
	snprintf(big, 100, "decision=reject&nonce=%s&reason=", nonce);
	memset(big + strlen(big), 'x', WEB_MAX_BODY + 100 - strlen(big));
	big[WEB_MAX_BODY + 100] = '\0';
	assert_int_equal(post(f, 0, big, &r), 413);
	resp_release(&r);
	/* without a Content-Length (chunked): read, then refused */
	snprintf(path, sizeof(path), "/r/%s", f->tokens[0]);
	q.path = path;
	q.body = big;
	q.chunked = 1;
	http(f, &q, &r);
	assert_int_equal(r.status, 413);
	resp_release(&r);
	free(big);
	stored(f, REQ_PENDING, 0);
}

static void test_content_type_415(void **state)
{
	struct fixture *f = *state;
	static const char *const types[] = {
		"text/plain", "multipart/form-data; boundary=x",
		"application/json", "application/x-www-form-urlencodedx",
	};
	char path[80], nonce[65], body[200];
	struct req q = { 0 };
	struct resp r;

	make_request(f, "k-415", 1, NULL, 0, 0);
	page_nonce(f, 0, nonce);
	snprintf(body, sizeof(body), "decision=reject&nonce=%s", nonce);
	snprintf(path, sizeof(path), "/r/%s", f->tokens[0]);
	q.path = path;
	q.body = body;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		q.type = types[i];
		http(f, &q, &r);
		assert_int_equal(r.status, 415);
		resp_release(&r);
	}
	stored(f, REQ_PENDING, 0);
	q.type = "Application/X-WWW-Form-Urlencoded; charset=UTF-8";
	http(f, &q, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	stored(f, REQ_REJECTED, 1);
}

static void test_origin_check(void **state)
{
	struct fixture *f = *state;
	char path[80], nonce[65], body[200], mine[64];
	struct req q = { 0 };
	struct resp r;

	make_request(f, "k-origin", 1, NULL, 0, 0);
	page_nonce(f, 0, nonce);
	snprintf(body, sizeof(body), "decision=reject&nonce=%s", nonce);
	snprintf(path, sizeof(path), "/r/%s", f->tokens[0]);
	q.path = path;
	q.body = body;
	q.origin = "http://evil.example";
	http(f, &q, &r);
	assert_int_equal(r.status, 403);
	resp_release(&r);
	q.origin = "https://127.0.0.1";
	http(f, &q, &r);
	assert_int_equal(r.status, 403);
	resp_release(&r);
	/* Origin: null (what a no-referrer page sends) from another site */
	q.origin = "null";
	q.fetch_site = "cross-site";
	http(f, &q, &r);
	assert_int_equal(r.status, 403);
	resp_release(&r);
	q.fetch_site = "same-site";
	http(f, &q, &r);
	assert_int_equal(r.status, 403);
	resp_release(&r);
	stored(f, REQ_PENDING, 0);
	snprintf(mine, sizeof(mine), "HTTP://127.0.0.1:%u", web_port(f->w));
	q.origin = mine;
	q.fetch_site = "same-origin";
	http(f, &q, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	stored(f, REQ_REJECTED, 1);
}

/* What Chromium sends from our own page: Origin: null (the page's
 * referrer policy is no-referrer) and Sec-Fetch-Site: same-origin. */
static void test_origin_null_same_origin(void **state)
{
	struct fixture *f = *state;
	char path[80], nonce[65], body[200];
	struct req q = { 0 };
	struct resp r;

	make_request(f, "k-null", 1, NULL, 0, 0);
	page_nonce(f, 1, nonce);
	snprintf(body, sizeof(body), "decision=approve&nonce=%s", nonce);
	snprintf(path, sizeof(path), "/r/%s", f->tokens[1]);
	q.path = path;
	q.body = body;
	q.origin = "null";
	q.fetch_site = "same-origin";
	http(f, &q, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	stored(f, REQ_APPROVED, 1);
}

static void test_public_url_origin(void **state)
{
	struct fixture *f = *state;
	struct web *pub = start(f, "127.0.0.1:0", "https://Gate.Example.com:443/gl/");
	char path[80], nonce[65], body[200], local[64];
	struct req q = { 0 };
	struct resp r;

	assert_non_null(pub);
	make_request(f, "k-public", 1, NULL, 0, 0);
	page_nonce(f, 1, nonce);
	snprintf(body, sizeof(body), "decision=approve&nonce=%s", nonce);
	snprintf(path, sizeof(path), "/r/%s", f->tokens[1]);
	q.path = path;
	q.body = body;
	snprintf(local, sizeof(local), "http://127.0.0.1:%u", web_port(pub));
	q.origin = local;
	http_at(web_port(pub), "127.0.0.1", &q, &r);
	assert_int_equal(r.status, 403);
	resp_release(&r);
	q.origin = "https://gate.example.com";
	http_at(web_port(pub), "127.0.0.1", &q, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	web_stop(pub);
	stored(f, REQ_APPROVED, 1);
}

static void test_html_escaping(void **state)
{
	struct fixture *f = *state;
	struct resp r;

	make_request(f, "k-escape", 1,
		"{\"rules\":[{\"metric\":\"<script>alert(1)</script>\","
		"\"value\":\"\\\"><img src=x>\",\"op\":\">\",\"threshold\":80,"
		"\"why\":\"a & b 'c'\"}],"
		"\"commit\":{\"subject\":\"</dd><script>x</script>\"},"
		"\"run_url\":\"javascript:alert(1)\"}", 0, 0);
	assert_int_equal(get(f, 0, &r), 200);
	assert_null(strstr(r.body.data, "<script"));
	assert_null(strstr(r.body.data, "<img"));
	assert_null(strstr(r.body.data, "href=\"javascript"));
	assert_non_null(strstr(r.body.data, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(r.body.data, "&quot;&gt;&lt;img src=x&gt;"));
	assert_non_null(strstr(r.body.data, "a &amp; b &#39;c&#39;"));
	assert_non_null(strstr(r.body.data, "<code>&gt; 80</code>"));
	resp_release(&r);
}

static void test_self_approval_403(void **state)
{
	struct fixture *f = *state;
	char nonce[65], body[200];
	struct resp r;

	make_request(f, "k-self", 1, NULL, 0, 0);	/* a@ is the author */
	assert_int_equal(get(f, 0, &r), 200);
	assert_non_null(strstr(r.body.data, "class=\"approve\" disabled"));
	resp_release(&r);
	page_nonce(f, 0, nonce);
	snprintf(body, sizeof(body), "decision=approve&nonce=%s", nonce);
	assert_int_equal(post(f, 0, body, &r), 403);
	assert_non_null(strstr(r.body.data, "author"));
	resp_release(&r);
	stored(f, REQ_PENDING, 0);
	snprintf(body, sizeof(body), "decision=reject&nonce=%s", nonce);
	assert_int_equal(post(f, 0, body, &r), 200);
	resp_release(&r);
	stored(f, REQ_REJECTED, 1);
}

static void test_bad_forms_400(void **state)
{
	struct fixture *f = *state;
	static const char *const bodies[][2] = {	/* around the nonce */
		{ "decision=maybe&nonce=", "" },
		{ "nonce=", "" },
		{ "decision=approve&decision=reject&nonce=", "" },
		{ "decision=approve&nonce=", "&bad=%zz" },
		{ "decision=approve&nonce=", "&x=%00" },
	};
	char nonce[65], body[200];
	struct resp r;

	make_request(f, "k-400", 1, NULL, 0, 0);
	page_nonce(f, 1, nonce);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(body, sizeof(body), "%s%s%s", bodies[i][0], nonce,
			 bodies[i][1]);
		assert_int_equal(post(f, 1, body, &r), 400);
		resp_release(&r);
	}
	stored(f, REQ_PENDING, 0);
}

static void test_listen_addresses(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"nope", "127.0.0.1", "::1:80", "[::1]80", "127.0.0.1:99999",
		"127.0.0.1:-1", ":8080", "[]:1",
	};
	struct req q = { 0 };
	struct web *v6;
	struct resp r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(start(f, bad[i], NULL));
	/* the port in use */
	{
		char busy[32];

		snprintf(busy, sizeof(busy), "127.0.0.1:%u", web_port(f->w));
		assert_null(start(f, busy, NULL));
	}
	v6 = start(f, "[::1]:0", NULL);
	if (!v6) {
		print_message("no IPv6 loopback here; skipping [::1]\n");
		return;
	}
	q.path = "/healthz";
	http_at(web_port(v6), "[::1]", &q, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	web_stop(v6);
}

static int api_handler(void *ud, struct MHD_Connection *c, const char *url,
		       const char *method, const char *data, size_t *size,
		       void **cls)
{
	static const char body[] = "{\"pong\":true}";
	struct MHD_Response *r;
	int ret;

	(void)ud;
	(void)method;
	(void)data;
	(void)size;
	*cls = (void *)url;
	if (strcmp(url, "/v1/ping"))
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
					    MHD_RESPMEM_PERSISTENT);
	assert_int_equal(web_response_headers(r, "application/json"), 0);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static void api_done(void *ud, void *cls)
{
	(void)ud;
	(void)cls;
	atomic_fetch_add(&api_done_calls, 1);
}

static void test_api_hook(void **state)
{
	struct fixture *f = *state;
	struct web_config wc;
	struct req q = { 0 };
	struct web *w;
	struct resp r;

	memset(&wc, 0, sizeof(wc));
	wc.listen = "127.0.0.1:0";
	wc.store_path = f->path;
	wc.api = api_handler;
	wc.api_done = api_done;
	w = web_start(&wc);
	assert_non_null(w);
	q.path = "/v1/ping";
	http_at(web_port(w), "127.0.0.1", &q, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"pong\":true}");
	check_security_headers(&r);
	resp_release(&r);
	q.path = "/healthz";	/* still served by web.c */
	http_at(web_port(w), "127.0.0.1", &q, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	web_stop(w);
	assert_int_equal(atomic_load(&api_done_calls), 1);
}

/* ---- request deadline and connection limits -------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct web *start_limited(struct fixture *f, unsigned deadline_s)
{
	struct web_config wc;

	memset(&wc, 0, sizeof(wc));
	wc.listen = "127.0.0.1:0";
	wc.store_path = f->path;
	wc.request_deadline_s = deadline_s;
	return web_start(&wc);
}

/* A connection from src (e.g. "127.0.0.1") to port. */
static int raw_connect(const char *src, unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, src, &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void raw_send(int fd, const char *text)
{
	assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL),
			 (ssize_t)strlen(text));
}

/* Read what the server sends within ms; returns 1 if it then closed the
 * connection, 0 if it is still open.  *got counts the bytes read. */
static int closed_within(int fd, int ms, size_t *got)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char b[4096];
	ssize_t n;

	*got = 0;
	while (poll(&p, 1, ms) == 1) {
		n = recv(fd, b, sizeof(b), 0);
		if (n <= 0)
			return 1;
		*got += (size_t)n;
	}
	return 0;
}

/* Send a header line every 300 ms until the server closes the connection
 * (or 5 s pass); returns the seconds it stayed open. */
static double trickle_until_closed(int fd)
{
	double t0 = now_s();
	size_t got;

	raw_send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
	while (now_s() - t0 < 5) {
		if (closed_within(fd, 300, &got))
			break;
		raw_send(fd, "X-Slow: 1\r\n");
	}
	return now_s() - t0;
}

static void test_deadline_closes_trickling_headers(void **state)
{
	struct fixture *f = *state;
	struct web *w = start_limited(f, 1);
	int fd;
	double secs;

	assert_non_null(w);
	fd = raw_connect("127.0.0.1", web_port(w));
	secs = trickle_until_closed(fd);
	assert_true(secs >= 0.9 && secs < 1.8);
	close(fd);
	web_stop(w);
}

static void test_deadline_closes_trickling_body(void **state)
{
	struct fixture *f = *state;
	struct web *w = start_limited(f, 1);
	double t0 = now_s();
	size_t got = 0;
	int fd, closed = 0;

	assert_non_null(w);
	make_request(f, "deadline-body", 1, NULL, 0, 0);
	fd = raw_connect("127.0.0.1", web_port(w));
	raw_send(fd, "POST /r/");
	raw_send(fd, f->tokens[0]);
	raw_send(fd, " HTTP/1.1\r\nHost: x\r\nContent-Type: "
		 "application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n");
	while (!closed && now_s() - t0 < 5) {
		raw_send(fd, "x");
		closed = closed_within(fd, 300, &got);
	}
	assert_true(closed);
	assert_int_equal(got, 0);	/* cut, not answered */
	assert_true(now_s() - t0 >= 0.9 && now_s() - t0 < 1.8);
	close(fd);
	stored(f, REQ_PENDING, 0);
	web_stop(w);
}

/* A request that arrives whole before the deadline is answered in full;
 * the connection then does not stay open past the deadline (counted anew
 * from the answer, should libmicrohttpd keep it alive). */
static void test_deadline_spares_whole_requests(void **state)
{
	struct fixture *f = *state;
	struct web *w = start_limited(f, 1);
	double t0;
	size_t got;
	int fd;

	assert_non_null(w);
	fd = raw_connect("127.0.0.1", web_port(w));
	assert_int_equal(closed_within(fd, 700, &got), 0);
	raw_send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	t0 = now_s();
	assert_int_equal(closed_within(fd, 1800, &got), 1);
	assert_true(got > 0);
	assert_true(now_s() - t0 < 1.5);
	close(fd);
	web_stop(w);
}

static void test_per_address_limit(void **state)
{
	struct fixture *f = *state;
	struct web *w = start_limited(f, 0);	/* the defaults */
	int fds[WEB_PER_IP_CONNECTIONS + 1];
	struct req q = { 0 };
	struct resp r;
	size_t got;

	assert_non_null(w);
	for (int i = 0; i <= WEB_PER_IP_CONNECTIONS; i++)
		fds[i] = raw_connect("127.0.0.2", web_port(w));
	assert_int_equal(closed_within(fds[WEB_PER_IP_CONNECTIONS], 1000, &got), 1);
	assert_int_equal(closed_within(fds[0], 100, &got), 0);
	q.path = "/healthz";	/* another address is still served */
	http_at(web_port(w), "127.0.0.1", &q, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	for (int i = 0; i <= WEB_PER_IP_CONNECTIONS; i++)
		close(fds[i]);
	web_stop(w);
}

/* ---- form_parse ----------------------------------------------------------- */

struct pairs {
	char text[512];
	int stop_at;			/* make fn fail at this pair (1-based) */
	int n;
};

static int join(void *ud, const char *name, const char *value)
{
	struct pairs *p = ud;
	size_t len = strlen(p->text);

	p->n++;
	snprintf(p->text + len, sizeof(p->text) - len, "[%s|%s]", name, value);
	return p->n == p->stop_at;
}

static void test_form_parse_table(void **state)
{
	static const struct {
		const char *in;
		int ret;
		const char *out;
	} cases[] = {
		{ "", 0, "" },
		{ "a=1", 0, "[a|1]" },
		{ "a=1&b=2", 0, "[a|1][b|2]" },
		{ "a", 0, "[a|]" },
		{ "a=", 0, "[a|]" },
		{ "=v", 0, "[|v]" },
		{ "a=1&&b=2&", 0, "[a|1][b|2]" },
		{ "&&&", 0, "" },
		{ "a+b=c+d", 0, "[a b|c d]" },
		{ "k=%41%62%2B%26%3d", 0, "[k|Ab+&=]" },
		{ "k=a=b", 0, "[k|a=b]" },
		{ "k=%e2%9c%93", 0, "[k|\xe2\x9c\x93]" },
		{ "k=%", -1, NULL },
		{ "k=%4", -1, NULL },
		{ "k=%4g", -1, NULL },
		{ "k=%g4", -1, NULL },
		{ "%zz=1", -1, NULL },
		{ "k=%00", -1, NULL },
		{ "a=1&b=%2", -1, NULL },
		{ "1&2&3&4&5&6&7&8&9", -1, NULL },	/* more than 8 pairs */
		{ "1&2&3&4&5&6&7&8", 0, "[1|][2|][3|][4|][5|][6|][7|][8|]" },
	};
	struct pairs p;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		assert_int_equal(form_parse(cases[i].in, strlen(cases[i].in), 8,
					    join, &p), cases[i].ret);
		if (cases[i].out)
			assert_string_equal(p.text, cases[i].out);
	}
	/* a raw NUL inside the length is refused */
	memset(&p, 0, sizeof(p));
	assert_int_equal(form_parse("a=1\0b", 5, 8, join, &p), -1);
	/* only len bytes are read */
	memset(&p, 0, sizeof(p));
	assert_int_equal(form_parse("a=12345", 3, 8, join, &p), 0);
	assert_string_equal(p.text, "[a|1]");
	/* fn failing stops the parse */
	memset(&p, 0, sizeof(p));
	p.stop_at = 2;
	assert_int_equal(form_parse("a&b&c", 5, 8, join, &p), -1);
	assert_int_equal(p.n, 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_get_and_head_do_not_decide),
		T(test_security_headers),
		T(test_post_without_nonce),
		T(test_post_with_nonce_records),
		T(test_double_post_idempotent),
		T(test_conflict_409),
		T(test_decided_is_gone),
		T(test_expired_is_gone),
		T(test_unknown_token_404),
		T(test_other_methods_405),
		T(test_oversized_413),
		T(test_content_type_415),
		T(test_origin_check),
		T(test_origin_null_same_origin),
		T(test_public_url_origin),
		T(test_html_escaping),
		T(test_self_approval_403),
		T(test_bad_forms_400),
		T(test_listen_addresses),
		T(test_api_hook),
		T(test_deadline_closes_trickling_headers),
		T(test_deadline_closes_trickling_body),
		T(test_deadline_spares_whole_requests),
		T(test_per_address_limit),
		cmocka_unit_test(test_form_parse_table),
	};
	int ret;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return ret;
}
