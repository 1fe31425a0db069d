/* test_relay_api.c - the relay's API over real HTTP, and the store's schema 3.
 *
 * Each API test starts web_start() with relay_api's hooks on 127.0.0.1
 * port 0 against a fresh SQLite file, plus a sweep thread (as cmd_relay's
 * main loop), and talks to it with libcurl; long-polls run in their own
 * threads.  A second store connection (the test's) checks what was stored.
 * Also here: bearer-token lists and tenant lines (relay_api_set_tokens), and the store additions the relay needs
 * (migration from schema 2, kept tokens, settling, counts, rekey), and
 * the baseline endpoints (PUT /v1/baselines, POST /v1/baselines/lookup).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "buf.h"
#include "capture.h"
#include "relay_api.h"
#include "relay_int.h"
#include "store.h"
#include "token.h"
#include "web.h"

#define BEARER "unit-test-bearer-0123456789"
#define OTHER_BEARER "second-bearer-abcdefghijkl"

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
	struct relay_api *a;
	struct web *w;
	unsigned port;
	pthread_t sweeper;
	atomic_int stop;
	char tokens[3][TOKEN_SIZE];
};

struct resp {
	long status;
	struct buf head;
	struct buf body;
	cJSON *json;
	double seconds;
};

/* ---- plumbing -------------------------------------------------------------- */

static void *sweep_loop(void *ud)
{
	struct fixture *f = ud;
	struct timespec tick = { 0, 20 * 1000 * 1000 };

	while (!atomic_load(&f->stop)) {
		relay_api_sweep(f->a, 1);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static int start(struct fixture *f, unsigned max_waiters)
{
	struct relay_api_config ac = { f->path, 2, max_waiters, 0, NULL, NULL };
	struct web_config wc;

	f->a = relay_api_new(&ac);
	if (!f->a || relay_api_set_tokens(f->a, BEARER "," OTHER_BEARER,
					  "test") != 2)
		return -1;
	memset(&wc, 0, sizeof(wc));
	wc.listen = "127.0.0.1:0";
	wc.store_path = f->path;
	wc.on_decision = relay_api_decided;
	wc.on_response = relay_api_responded;
	wc.api = relay_api_handle;
	wc.api_done = relay_api_done;
	wc.ud = f->a;
	wc.threads = 2;
	wc.max_connections = 256;
	wc.per_ip_connections = 256;
	f->w = web_start(&wc);
	if (!f->w)
		return -1;
	f->port = web_port(f->w);
	atomic_store(&f->stop, 0);
	return pthread_create(&f->sweeper, NULL, sweep_loop, f);
}

static void stop(struct fixture *f)
{
	if (!f->w)
		return;
	atomic_store(&f->stop, 1);
	pthread_join(f->sweeper, NULL);
	relay_api_shutdown(f->a);
	assert_int_equal(relay_api_drain(f->a, 5000), 0);
	web_stop(f->w);
	relay_api_free(f->a);
	f->w = NULL;
	f->a = NULL;
}

static int setup_with(void **state, unsigned max_waiters)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/gl-test-relay-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/relay.db", f->dir);
	f->s = store_open(f->path);
	assert_non_null(f->s);
	assert_int_equal(start(f, max_waiters), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, 0);
}

static int setup_two_waiters(void **state)
{
	return setup_with(state, 2);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	stop(f);
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	return buf_add(ud, p, size * n) ? 0 : size * n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One HTTP call.  bearer NULL: no Authorization; type NULL with a body:
 * application/json. */
static void http(unsigned port, const char *method, const char *path,
		 const char *body, const char *bearer, const char *type,
		 struct resp *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512], line[512];
	double t0 = now_s();

	assert_non_null(c);
	memset(out, 0, sizeof(*out));
	out->head = (struct buf)BUF_INIT(1 << 16);
	out->body = (struct buf)BUF_INIT(1 << 20);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->head);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		snprintf(line, sizeof(line), "Content-Type: %s",
			 type ? type : "application/json");
		h = curl_slist_append(h, line);
	}
	if (bearer) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", bearer);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	out->seconds = now_s() - t0;
	if (out->body.data)
		out->json = cJSON_Parse(out->body.data);
}

static void resp_release(struct resp *r)
{
	buf_release(&r->head);
	buf_release(&r->body);
	cJSON_Delete(r->json);
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* A registration body for team eng (approvals 1) of a@, b@, c@ with fresh
 * tokens in f->tokens; key is 64 hex digits made from `seed`. */
static char *register_body(struct fixture *f, int seed, long deadline_in)
{
	static const char *const who[3] = {
		"a@example.com", "b@example.com", "c@example.com",
	};
	cJSON *o = cJSON_CreateObject(), *teams, *rcpts, *t;
	char key[TOKEN_HEX_SIZE], hash[TOKEN_HEX_SIZE], seedtext[16];
	char *text;

	snprintf(seedtext, sizeof(seedtext), "key-%d", seed);
	assert_int_equal(token_sha256_hex(key, seedtext, strlen(seedtext)), 0);
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddStringToObject(o, "gate", "model-release");
	cJSON_AddItemToObject(o, "facts", cJSON_Parse("{\"rules\":[]}"));
	cJSON_AddStringToObject(o, "author_email", "a@example.com");
	cJSON_AddNumberToObject(o, "deadline", (double)(time(NULL) + deadline_in));
	teams = cJSON_AddArrayToObject(o, "teams");
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "name", "eng");
	cJSON_AddNumberToObject(t, "approvals", 1);
	cJSON_AddItemToArray(teams, t);
	rcpts = cJSON_AddArrayToObject(o, "recipients");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(token_new(f->tokens[i]), 0);
		assert_int_equal(token_hash(hash, f->tokens[i]), 0);
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "email", who[i]);
		cJSON_AddStringToObject(t, "team", "eng");
		cJSON_AddStringToObject(t, "token_hash", hash);
		cJSON_AddItemToArray(rcpts, t);
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* Register a request; its id goes to id. */
static void register_request(struct fixture *f, int seed, long deadline_in,
			     char id[33])
{
	char *body = register_body(f, seed, deadline_in);
	struct resp r;

	http(f->port, "POST", "/v1/requests", body, BEARER, NULL, &r);
	assert_int_equal(r.status, 201);
	assert_int_equal(strlen(jstr(r.json, "id")), 32);
	strcpy(id, jstr(r.json, "id"));
	resp_release(&r);
	free(body);
}

static long count_requests(struct fixture *f)
{
	long n[4];

	assert_int_equal(store_state_counts(f->s, n), STORE_OK);
	return n[0] + n[1] + n[2] + n[3];
}

/* Decide through the review page, as a browser would. */
static long decide_on_page(struct fixture *f, const char *token,
			   const char *decision)
{
	struct store_review rv;
	struct resp r;
	char path[80], body[256];
	long status;

	assert_int_equal(store_review_get(f->s, token, time(NULL), &rv), STORE_OK);
	snprintf(body, sizeof(body), "decision=%s&nonce=%s&reason=ok",
		 decision, rv.nonce);
	store_review_release(&rv);
	snprintf(path, sizeof(path), "/r/%s", token);
	http(f->port, "POST", path, body, NULL,
	     "application/x-www-form-urlencoded", &r);
	status = r.status;
	resp_release(&r);
	return status;
}

/* A long-poll in its own thread. */
struct poll {
	struct fixture *f;
	char path[128];
	struct resp r;
	pthread_t t;
};

static void *poll_thread(void *ud)
{
	struct poll *p = ud;

	http(p->f->port, "GET", p->path, NULL, BEARER, NULL, &p->r);
	return NULL;
}

static void poll_start(struct poll *p, struct fixture *f, const char *id,
		       int wait)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	snprintf(p->path, sizeof(p->path), "/v1/requests/%s?wait=%d", id, wait);
	assert_int_equal(pthread_create(&p->t, NULL, poll_thread, p), 0);
}

static void wait_waiters(struct fixture *f, unsigned n)
{
	struct timespec tick = { 0, 5 * 1000 * 1000 };

	for (int i = 0; i < 1000 && relay_api_waiters(f->a) != n; i++)
		nanosleep(&tick, NULL);
	assert_int_equal(relay_api_waiters(f->a), n);
}

/* ---- bearer tokens ------------------------------------------------------------- */

static void test_tokens(void **state)
{
	struct fixture *f = *state;
	struct resp r;

	assert_int_equal(relay_api_set_tokens(f->a, "# rotated 2026-11\n"
		"  aaaaaaaaaaaaaaaa1 \n\nbbbbbbbbbbbbbbbb2, cccccccccccccccc3\r\n",
		"file"), 3);
	assert_int_equal(relay_api_set_tokens(f->a, "short", "env"), -1);
	assert_int_equal(relay_api_set_tokens(f->a, "has a blank in it 12345",
					      "env"), -1);
	assert_int_equal(relay_api_set_tokens(f->a, " ,\n# only comments\n",
					      "env"), -1);
	/* a failed set kept the previous three */
	http(f->port, "GET", "/v1/requests/0123456789abcdef0123456789abcdef",
	     NULL, "cccccccccccccccc3", NULL, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);
	http(f->port, "GET", "/v1/requests/0123456789abcdef0123456789abcdef",
	     NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 401);
	resp_release(&r);
}

/* ---- authentication ---------------------------------------------------------- */

static void test_wrong_bearer_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char *body = register_body(f, 1, 600);
	static const char *const bad[] = { NULL, "wrong-token-0123456789",
					   BEARER "x", "" };
	struct resp r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http(f->port, "POST", "/v1/requests", body, bad[i], NULL, &r);
		assert_int_equal(r.status, 401);
		assert_non_null(strstr(r.head.data, "WWW-Authenticate: Bearer"));
		resp_release(&r);
	}
	assert_int_equal(count_requests(f), 0);
	/* the second accepted token works too */
	http(f->port, "POST", "/v1/requests", body, OTHER_BEARER, NULL, &r);
	assert_int_equal(r.status, 201);
	resp_release(&r);
	assert_int_equal(count_requests(f), 1);
	free(body);
}

/* ---- registering ------------------------------------------------------------- */

static void test_register_idempotent(void **state)
{
	struct fixture *f = *state;
	char *body = register_body(f, 2, 600), *again;
	char id[33];
	struct resp r;

	http(f->port, "POST", "/v1/requests", body, BEARER, NULL, &r);
	assert_int_equal(r.status, 201);
	strcpy(id, jstr(r.json, "id"));
	assert_string_equal(jstr(r.json, "state"), "pending");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r.json, "decided_at")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "notified")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "teams")), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "decisions")), 0);
	resp_release(&r);
	/* same key, new tokens and deadline: the existing request, unchanged */
	again = register_body(f, 2, 9000);
	http(f->port, "POST", "/v1/requests", again, BEARER, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "id"), id);
	assert_true(jnum(r.json, "deadline") < (double)time(NULL) + 700);
	resp_release(&r);
	assert_int_equal(count_requests(f), 1);
	free(body);
	free(again);
}

static void test_register_reused_hash(void **state)
{
	struct fixture *f = *state;
	char *body = register_body(f, 20, 600), *other;
	char hash[TOKEN_HEX_SIZE], *at;
	struct resp r;

	http(f->port, "POST", "/v1/requests", body, BEARER, NULL, &r);
	assert_int_equal(r.status, 201);
	resp_release(&r);
	/* another key, but b@'s token hash is the first request's */
	assert_int_equal(token_hash(hash, f->tokens[1]), 0);
	other = register_body(f, 21, 600);
	at = strstr(other, "\"b@example.com\"");
	assert_non_null(at);
	at = strstr(at, "\"token_hash\":\"") + 14;
	memcpy(at, hash, 64);
	http(f->port, "POST", "/v1/requests", other, BEARER, NULL, &r);
	assert_int_equal(r.status, 409);
	resp_release(&r);
	assert_int_equal(count_requests(f), 1);
	free(body);
	free(other);
}

/* tmpl with @K (a key member), @D (a deadline a minute ahead) and @H (a
 * token_hash member) filled in. */
static void fill(char *out, size_t size, const char *tmpl)
{
	struct buf b = BUF_INIT(4096);

	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '@' && p[1] == 'K')
			buf_adds(&b, "\"key\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
		else if (p[0] == '@' && p[1] == 'D')
			buf_addf(&b, "\"deadline\":%ld", (long)time(NULL) + 60);
		else if (p[0] == '@' && p[1] == 'H')
			buf_adds(&b, "\"token_hash\":\"0123456789abcdef0123456789"
				 "abcdef0123456789abcdef0123456789abcdef\"");
		else {
			buf_add(&b, p, 1);
			continue;
		}
		p++;
	}
	snprintf(out, size, "%s", b.data ? b.data : "");
	buf_release(&b);
}

static void test_register_refusals(void **state)
{
	struct fixture *f = *state;
	char body[1024];
	struct resp r;
	const char *bad[] = {
		"",
		"[]",
		"{\"key\":1}",
		"{\"key\":\"a\",\"key\":\"b\"}",
		"{@K,\"gate\":\"g\",@D,\"teams\":[{\"name\":\"eng\"}],"
		"\"recipients\":[{\"email\":\"a@x\",\"team\":\"ops\",@H}]}",
		"{@K,\"gate\":\"g\",@D,\"teams\":[{\"name\":\"eng\",\"approvals\":2}],"
		"\"recipients\":[{\"email\":\"a@x\",\"team\":\"eng\",@H}]}",
		"{@K,\"gate\":\"g\",@D,\"teams\":[{\"name\":\"eng\",\"approvals\":1.5}],"
		"\"recipients\":[{\"email\":\"a@x\",\"team\":\"eng\",@H}]}",
		"{@K,\"gate\":\"g\",@D,\"teams\":[{\"name\":\"eng\"}],"
		"\"recipients\":[{\"email\":\"a@x\",\"team\":\"eng\",\"token_hash\":\"ABC\"}]}",
		"{@K,\"gate\":\"\",@D,\"teams\":[{\"name\":\"eng\"}],"
		"\"recipients\":[{\"email\":\"a@x\",\"team\":\"eng\",@H}]}",
		"{@K,\"gate\":\"g\",@D,\"facts\":[],\"teams\":[{\"name\":\"eng\"}],"
		"\"recipients\":[{\"email\":\"a@x\",\"team\":\"eng\",@H}]}",
		"{@K,\"gate\":\"g\",\"deadline\":1,\"teams\":[{\"name\":\"eng\"}],"
		"\"recipients\":[{\"email\":\"a@x\",\"team\":\"eng\",@H}]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fill(body, sizeof(body), bad[i]);
		http(f->port, "POST", "/v1/requests", body, BEARER, NULL, &r);
		assert_int_equal(r.status, 400);
		assert_true(strlen(jstr(r.json, "error")) > 5);
		resp_release(&r);
	}
	http(f->port, "POST", "/v1/requests", "{}", BEARER, "text/plain", &r);
	assert_int_equal(r.status, 415);
	resp_release(&r);
	http(f->port, "GET", "/v1/requests", NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.head.data, "Allow: POST"));
	resp_release(&r);
	http(f->port, "GET", "/v1/nothing", NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);
	assert_int_equal(count_requests(f), 0);
}

static void test_register_too_large(void **state)
{
	struct fixture *f = *state;
	size_t n = RELAY_MAX_BODY + 10;
	char *body = malloc(n + 1);
	struct resp r;

	assert_non_null(body);
	memset(body, ' ', n);
	body[0] = '{';
	body[n - 1] = '}';
	body[n] = '\0';
	http(f->port, "POST", "/v1/requests", body, BEARER, NULL, &r);
	assert_int_equal(r.status, 413);
	resp_release(&r);
	free(body);
}

/* ---- reading and long-polls ------------------------------------------------------- */

static void test_read(void **state)
{
	struct fixture *f = *state;
	char id[33], path[128];
	struct resp r;

	register_request(f, 3, 600, id);
	snprintf(path, sizeof(path), "/v1/requests/%s", id);
	http(f->port, "GET", path, NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "id"), id);
	assert_non_null(strstr(r.head.data, "Content-Type: application/json"));
	assert_non_null(strstr(r.head.data, "Cache-Control: no-store"));
	resp_release(&r);
	http(f->port, "GET", "/v1/requests/ffffffffffffffffffffffffffffffff",
	     NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);
	http(f->port, "GET", "/v1/requests/NOT-AN-ID", NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);
	for (int i = 0; i < 3; i++) {
		static const char *const waits[] = { "61", "-1", "x" };

		snprintf(path, sizeof(path), "/v1/requests/%s?wait=%s", id, waits[i]);
		http(f->port, "GET", path, NULL, BEARER, NULL, &r);
		assert_int_equal(r.status, 400);
		resp_release(&r);
	}
	snprintf(path, sizeof(path), "/v1/requests/%s", id);
	http(f->port, "DELETE", path, NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 405);
	resp_release(&r);
}

static void test_longpoll_woken_by_page(void **state)
{
	struct fixture *f = *state;
	const cJSON *d;
	struct poll p;
	char id[33];

	register_request(f, 4, 600, id);
	poll_start(&p, f, id, 30);
	wait_waiters(f, 1);
	assert_int_equal(decide_on_page(f, f->tokens[1], "approve"), 200);
	pthread_join(p.t, NULL);
	assert_int_equal(p.r.status, 200);
	assert_true(p.r.seconds < 5);
	assert_string_equal(jstr(p.r.json, "state"), "approved");
	assert_true(jnum(p.r.json, "decided_at") > 0);
	d = cJSON_GetArrayItem(cJSON_GetObjectItem(p.r.json, "decisions"), 0);
	assert_string_equal(jstr(d, "email"), "b@example.com");
	assert_string_equal(jstr(d, "decision"), "approve");
	assert_string_equal(jstr(d, "reason"), "ok");
	assert_string_equal(jstr(d, "token"), f->tokens[1]);
	assert_string_equal(jstr(d, "remote_addr"), "127.0.0.1");
	resp_release(&p.r);
	assert_int_equal(relay_api_waiters(f->a), 0);
}

static void test_longpoll_ends_at_wait(void **state)
{
	struct fixture *f = *state;
	struct poll p;
	char id[33];

	register_request(f, 5, 600, id);
	poll_start(&p, f, id, 1);
	pthread_join(p.t, NULL);
	assert_int_equal(p.r.status, 200);
	assert_string_equal(jstr(p.r.json, "state"), "pending");
	assert_true(p.r.seconds >= 0.95 && p.r.seconds < 3);
	resp_release(&p.r);
}

static void test_longpoll_ends_at_deadline(void **state)
{
	struct fixture *f = *state;
	struct poll p;
	char id[33];

	register_request(f, 6, 2, id);
	poll_start(&p, f, id, 30);
	pthread_join(p.t, NULL);
	assert_int_equal(p.r.status, 200);
	assert_string_equal(jstr(p.r.json, "state"), "expired");
	assert_true(p.r.seconds < 4);
	resp_release(&p.r);
}

static void test_decided_answers_at_once(void **state)
{
	struct fixture *f = *state;
	struct poll p;
	char id[33];

	register_request(f, 7, 600, id);
	assert_int_equal(decide_on_page(f, f->tokens[2], "reject"), 200);
	poll_start(&p, f, id, 30);
	pthread_join(p.t, NULL);
	assert_int_equal(p.r.status, 200);
	assert_string_equal(jstr(p.r.json, "state"), "rejected");
	assert_true(p.r.seconds < 1);
	resp_release(&p.r);
}

static void test_too_many_waiters(void **state)
{
	struct fixture *f = *state;
	struct poll p[2];
	struct resp r;
	char id[33], path[128];

	register_request(f, 8, 600, id);
	poll_start(&p[0], f, id, 30);
	poll_start(&p[1], f, id, 30);
	wait_waiters(f, 2);
	snprintf(path, sizeof(path), "/v1/requests/%s?wait=30", id);
	http(f->port, "GET", path, NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 429);
	assert_non_null(strstr(r.head.data, "Retry-After: 1"));
	resp_release(&r);
	/* a plain read is still served */
	snprintf(path, sizeof(path), "/v1/requests/%s", id);
	http(f->port, "GET", path, NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	/* shutting down answers both held long-polls with the current state */
	atomic_store(&f->stop, 1);
	pthread_join(f->sweeper, NULL);
	relay_api_shutdown(f->a);
	assert_int_equal(relay_api_drain(f->a, 5000), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(p[i].t, NULL);
		assert_int_equal(p[i].r.status, 200);
		assert_string_equal(jstr(p[i].r.json, "state"), "pending");
		assert_true(p[i].r.seconds < 5);
		resp_release(&p[i].r);
	}
	http(f->port, "GET", path, NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 503);
	resp_release(&r);
	web_stop(f->w);
	relay_api_free(f->a);
	f->w = NULL;
	f->a = NULL;
}

/* ---- rekey and notified ----------------------------------------------------------- */

static char *rekey_body(struct fixture *f, long deadline)
{
	static const char *const who[2] = { "a@example.com", "c@example.com" };
	cJSON *o = cJSON_CreateObject(), *rcpts, *t;
	char hash[TOKEN_HEX_SIZE], *text;

	rcpts = cJSON_AddArrayToObject(o, "recipients");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(token_new(f->tokens[i]), 0);
		assert_int_equal(token_hash(hash, f->tokens[i]), 0);
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "email", who[i]);
		cJSON_AddStringToObject(t, "team", "eng");
		cJSON_AddStringToObject(t, "token_hash", hash);
		cJSON_AddItemToArray(rcpts, t);
	}
	if (deadline)
		cJSON_AddNumberToObject(o, "deadline", (double)deadline);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static void test_rekey_and_notified(void **state)
{
	struct fixture *f = *state;
	char id[33], path[128], old[TOKEN_SIZE], *body;
	struct store_review rv;
	struct resp r;

	register_request(f, 9, 600, id);
	strcpy(old, f->tokens[0]);
	snprintf(path, sizeof(path), "/v1/requests/%s/notified", id);
	http(f->port, "POST", path, NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 204);
	resp_release(&r);
	body = rekey_body(f, 0);
	snprintf(path, sizeof(path), "/v1/requests/%s/rekey", id);
	http(f->port, "POST", path, body, BEARER, NULL, &r);
	free(body);
	assert_int_equal(r.status, 200);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "notified")));
	resp_release(&r);
	assert_int_equal(store_review_get(f->s, old, time(NULL), &rv), STORE_NOT_FOUND);
	assert_int_equal(store_review_get(f->s, f->tokens[0], time(NULL), &rv), STORE_OK);
	store_review_release(&rv);
	/* a recipient of a team the request does not have */
	http(f->port, "POST", path, "{\"recipients\":[{\"email\":\"x@y\","
	     "\"team\":\"ops\",\"token_hash\":\"0123456789abcdef0123456789abcdef"
	     "0123456789abcdef0123456789abcdef\"}]}", BEARER, NULL, &r);
	assert_int_equal(r.status, 400);
	resp_release(&r);
	assert_int_equal(decide_on_page(f, f->tokens[1], "approve"), 200);
	body = rekey_body(f, 0);
	http(f->port, "POST", path, body, BEARER, NULL, &r);
	free(body);
	assert_int_equal(r.status, 409);
	resp_release(&r);
	http(f->port, "POST", "/v1/requests/ffffffffffffffffffffffffffffffff/notified",
	     NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);
}

static void test_rekey_reopens_expired(void **state)
{
	struct fixture *f = *state;
	char id[33], path[128], *body;
	struct resp r;

	register_request(f, 10, 1, id);
	sleep(2);
	snprintf(path, sizeof(path), "/v1/requests/%s/rekey", id);
	body = rekey_body(f, 0);
	http(f->port, "POST", path, body, BEARER, NULL, &r);
	free(body);
	assert_int_equal(r.status, 400);	/* expired: a deadline is needed */
	assert_non_null(strstr(jstr(r.json, "error"), "deadline"));
	resp_release(&r);
	body = rekey_body(f, time(NULL) + 600);
	http(f->port, "POST", path, body, BEARER, NULL, &r);
	free(body);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "state"), "pending");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r.json, "decided_at")));
	resp_release(&r);
	assert_int_equal(decide_on_page(f, f->tokens[0], "reject"), 200);
}

/* ---- metrics --------------------------------------------------------------------- */

static void test_metrics(void **state)
{
	struct fixture *f = *state;
	char id[33];
	struct resp r;

	register_request(f, 11, 600, id);
	http(f->port, "GET", "/v1/requests/x", NULL, "nope-nope-nope-nope", NULL, &r);
	resp_release(&r);
	assert_int_equal(decide_on_page(f, f->tokens[0], "reject"), 200);
	/* the decision is announced once its page was sent: wait for it */
	for (int i = 0; i < 200; i++) {
		http(f->port, "GET", "/metrics", NULL, NULL, NULL, &r);
		if (strstr(r.body.data, "\ngreenlight_relay_decisions_recorded_total 1\n"))
			break;
		resp_release(&r);
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head.data, "text/plain; version=0.0.4"));
	assert_non_null(strstr(r.body.data, "\ngreenlight_relay_requests_registered_total 1\n"));
	assert_non_null(strstr(r.body.data, "\ngreenlight_relay_decisions_recorded_total 1\n"));
	assert_non_null(strstr(r.body.data, "\ngreenlight_relay_auth_failures_total 1\n"));
	assert_non_null(strstr(r.body.data, "greenlight_relay_requests{state=\"rejected\"} 1\n"));
	assert_non_null(strstr(r.body.data, "greenlight_relay_http_responses_total{code=\"201\"} 1\n"));
	assert_non_null(strstr(r.body.data, "greenlight_relay_http_responses_total{code=\"401\"} 1\n"));
	assert_non_null(strstr(r.body.data, "# TYPE greenlight_relay_waiters gauge\n"));
	assert_null(strstr(r.body.data, BEARER));
	resp_release(&r);
	http(f->port, "POST", "/metrics", "{}", NULL, NULL, &r);
	assert_int_equal(r.status, 405);
	resp_release(&r);
}

/* A review page that fails (its database lost a table behind the relay's
 * back) answers 500, and errors_total counts it with the API's 5xx. */
static void test_metrics_count_page_errors(void **state)
{
	struct fixture *f = *state;
	char id[33], path[80];
	sqlite3 *db = NULL;
	struct resp r;

	register_request(f, 12, 600, id);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE recipients", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	snprintf(path, sizeof(path), "/r/%s", f->tokens[0]);
	http(f->port, "GET", path, NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 500);
	resp_release(&r);
	http(f->port, "GET", "/metrics", NULL, NULL, NULL, &r);
	assert_non_null(strstr(r.body.data, "\ngreenlight_relay_errors_total 1\n"));
	assert_non_null(strstr(r.body.data,
			       "greenlight_relay_http_responses_total{code=\"500\"} 1\n"));
	resp_release(&r);
}

/* ---- the store's schema 3 ------------------------------------------------------- */

static void exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
}

/* A database as schema 2 left it, with one decided request. */
static void make_v2(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	exec_sql(db, "PRAGMA journal_mode=WAL;"
		"CREATE TABLE requests(id TEXT PRIMARY KEY NOT NULL, key TEXT NOT NULL UNIQUE,"
		" gate TEXT NOT NULL, facts_json TEXT NOT NULL, author_email TEXT COLLATE NOCASE,"
		" allow_self_approval INTEGER NOT NULL, secret TEXT NOT NULL, state TEXT NOT NULL,"
		" created INTEGER NOT NULL, deadline INTEGER NOT NULL, decided_at INTEGER,"
		" notified INTEGER NOT NULL DEFAULT 0) STRICT;"
		"CREATE INDEX requests_pending ON requests(state, deadline);"
		"CREATE TABLE teams(request_id TEXT NOT NULL REFERENCES requests(id),"
		" name TEXT NOT NULL, approvals INTEGER NOT NULL, PRIMARY KEY (request_id, name)) STRICT;"
		"CREATE TABLE recipients(request_id TEXT NOT NULL REFERENCES requests(id),"
		" email TEXT NOT NULL COLLATE NOCASE, team TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,"
		" PRIMARY KEY (request_id, email, team)) STRICT;"
		"CREATE TABLE decisions(seq INTEGER PRIMARY KEY, request_id TEXT NOT NULL"
		" REFERENCES requests(id), email TEXT NOT NULL COLLATE NOCASE, team TEXT NOT NULL,"
		" approve INTEGER NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL,"
		" remote_addr TEXT NOT NULL, user_agent TEXT NOT NULL,"
		" UNIQUE (request_id, email, team)) STRICT;"
		"INSERT INTO requests VALUES('0123456789abcdef0123456789abcdef','k','g','{}',NULL,0,"
		" 'secret','approved',100,200,150,1);"
		"INSERT INTO teams VALUES('0123456789abcdef0123456789abcdef','eng',1);"
		"INSERT INTO decisions(request_id,email,team,approve,reason,at,remote_addr,user_agent)"
		" VALUES('0123456789abcdef0123456789abcdef','a@x','eng',1,'fine',150,'::1','ua');"
		"PRAGMA user_version = 2;");
	sqlite3_close(db);
}

static void test_store_migrates_v2(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct store *s;
	struct store_request r;

	snprintf(path, sizeof(path), "%s/old.db", f->dir);
	make_v2(path);
	s = store_open(path);
	assert_non_null(s);
	assert_int_equal(store_request_get(s, "0123456789abcdef0123456789abcdef",
					   time(NULL), &r), STORE_OK);
	assert_int_equal(r.state, REQ_APPROVED);
	assert_int_equal(r.ndecisions, 1);
	assert_string_equal(r.decisions[0].reason, "fine");
	assert_string_equal(r.decisions[0].token, "");
	store_request_release(&r);
	store_close(s);
}

static void test_store_housekeeping(void **state)
{
	struct fixture *f = *state;
	char id[33], live[33];
	struct store_request r;
	long n[4], settled = -1;

	stop(f);	/* only the test's connection from here */
	assert_int_equal(start(f, 0), 0);
	register_request(f, 12, 1, id);
	register_request(f, 13, 600, live);
	assert_int_equal(store_request_set_notified(f->s, live, 1), STORE_OK);
	stop(f);
	assert_int_equal(store_settle_expired(f->s, time(NULL) + 5, &settled), STORE_OK);
	assert_int_equal(settled, 1);
	assert_int_equal(store_settle_expired(f->s, time(NULL) + 5, &settled), STORE_OK);
	assert_int_equal(settled, 0);
	assert_int_equal(store_state_counts(f->s, n), STORE_OK);
	assert_int_equal(n[REQ_PENDING], 1);
	assert_int_equal(n[REQ_EXPIRED], 1);
	assert_int_equal(store_request_get(f->s, id, time(NULL), &r), STORE_OK);
	assert_int_equal(r.state, REQ_EXPIRED);
	assert_int_equal(r.decided_at, r.deadline);
	store_request_release(&r);
	assert_int_equal(store_request_status(f->s, live, time(NULL), &r), STORE_OK);
	assert_null(r.facts_json);
	assert_int_equal(r.nasked, 0);
	assert_int_equal(r.nteams, 1);
	assert_int_equal(r.notified, 1);
	store_request_release(&r);
}

/* ---- tenants ------------------------------------------------------------------ */

#define TOK_ALPHA "alpha-token-0123456789"
#define TOK_BETA "beta-token-0123456789abc"
#define TOK_P1 "plain-token-0123456789a"
#define TOK_P2 "tenant-token-0123456789b"	/* simple, despite its start */

/* Register a request naming repo (NULL: none) with bearer; the status,
 * and the id into id when it is 201. */
static long register_as(struct fixture *f, int seed, const char *bearer,
			const char *repo, char id[33])
{
	char *body = register_body(f, seed, 600), *text;
	cJSON *o = cJSON_Parse(body);
	struct resp r;
	long status;

	assert_non_null(o);
	if (repo)
		cJSON_AddStringToObject(o, "repository", repo);
	text = cJSON_PrintUnformatted(o);
	http(f->port, "POST", "/v1/requests", text, bearer, NULL, &r);
	status = r.status;
	if (status == 201)
		strcpy(id, jstr(r.json, "id"));
	resp_release(&r);
	cJSON_free(text);
	cJSON_Delete(o);
	free(body);
	return status;
}

static long read_as(struct fixture *f, const char *bearer, const char *id)
{
	char path[64];
	struct resp r;
	long status;

	snprintf(path, sizeof(path), "/v1/requests/%s", id);
	http(f->port, "GET", path, NULL, bearer, NULL, &r);
	status = r.status;
	resp_release(&r);
	return status;
}

static void test_tenant_tokens(void **state)
{
	struct fixture *f = *state;
	char a[33], p1[33];

	assert_int_equal(relay_api_set_tokens(f->a,
		"# tenant NAME TOKEN PATTERN...\n"
		"tenant alpha " TOK_ALPHA " https://git.example.com/acme/*"
		"   https://git.example.com/lab/*\n"
		"\ttenant\tbeta\t" TOK_BETA "\t*  \r\n"
		"\n"
		"  # the simple form: each token its own tenant\n"
		TOK_P1 " , " TOK_P2 ",\n", "tokens.txt"), 4);
	/* alpha registers for its repositories only, and must name one */
	assert_int_equal(register_as(f, 1, TOK_ALPHA,
				     "https://git.example.com/acme/model.git", a), 201);
	assert_int_equal(register_as(f, 2, TOK_ALPHA,
				     "https://git.example.com/lab/x", p1), 201);
	assert_int_equal(register_as(f, 3, TOK_ALPHA,
				     "https://git.example.com/evil/model.git", p1), 403);
	assert_int_equal(register_as(f, 4, TOK_ALPHA, NULL, p1), 403);
	/* only alpha reads alpha's request */
	assert_int_equal(read_as(f, TOK_ALPHA, a), 200);
	assert_int_equal(read_as(f, TOK_BETA, a), 404);
	assert_int_equal(read_as(f, TOK_P1, a), 404);
	assert_int_equal(read_as(f, TOK_P2, a), 404);
	/* beta ("*") and the simple tokens register for any repository, each
	 * for itself */
	assert_int_equal(register_as(f, 5, TOK_BETA, NULL, p1), 201);
	assert_int_equal(register_as(f, 6, TOK_P1,
				     "https://git.example.com/evil/x", p1), 201);
	assert_int_equal(read_as(f, TOK_P1, p1), 200);
	assert_int_equal(read_as(f, TOK_P2, p1), 404);
	assert_int_equal(read_as(f, TOK_ALPHA, p1), 404);
	/* the tokens this fixture started with are gone */
	assert_int_equal(read_as(f, BEARER, a), 401);
}

/* relay_api_set_tokens(text) fails, saying want (and never the token). */
static void tokens_refused(struct fixture *f, const char *text,
			   const char *want)
{
	int rc;

	capture_begin();
	rc = relay_api_set_tokens(f->a, text, "tokens.txt");
	capture_end();
	assert_int_equal(rc, -1);
	if (!strstr(captured, want))
		fail_msg("\"%s\" not in \"%s\"", want, captured);
	assert_int_equal(count_lines(captured), 1);
	assert_null(strstr(captured, "0123456789abcdef"));
}

static void test_tenant_tokens_refused(void **state)
{
	struct fixture *f = *state;
	char name[80], line[200], a[33];

	assert_int_equal(relay_api_set_tokens(f->a, "tenant alpha " TOK_ALPHA
					      " *\n", "tokens.txt"), 1);
	tokens_refused(f, "# no patterns\ntenant alpha tok-0123456789abcdef\n",
		       "tokens.txt, line 2: name the repositories tenant alpha");
	tokens_refused(f, "tenant alpha\n", "tokens.txt, line 1: write "
		       "\"tenant NAME TOKEN PATTERN...\"");
	tokens_refused(f, "tenant x\n", "tokens.txt, line 1: write");
	/* the bare word is read as a (too short) token of the simple form */
	tokens_refused(f, "tenant \n", "tokens.txt, line 1: a bearer token must");
	tokens_refused(f, "\n\ntenant bad/name tok-0123456789abcdef *\n",
		       "tokens.txt, line 3: a tenant name is 1 to 64 letters");
	tokens_refused(f, "tenant b\xc3\xa9ta tok-0123456789abcdef *\n",
		       "tokens.txt, line 1: a tenant name");
	/* names of the simple form's tenants are not for the taking */
	tokens_refused(f, "tenant token-0123abcd tok-0123456789abcdef *\n",
		       "tokens.txt, line 1: a tenant name");
	memset(name, 'n', sizeof(name));
	name[65] = '\0';
	snprintf(line, sizeof(line), "tenant %s tok-0123456789abcdef *\n", name);
	tokens_refused(f, line, "tokens.txt, line 1: a tenant name");
	name[64] = '\0';
	snprintf(line, sizeof(line), "tenant %s tok-0123456789abcdef *\n", name);
	assert_int_equal(relay_api_set_tokens(f->a, line, "tokens.txt"), 1);
	/* duplicate tokens, across tenants, lines and forms */
	tokens_refused(f, "tenant a tok-0123456789abcdef *\n"
		       "tenant b tok-0123456789abcdef *\n",
		       "tokens.txt, line 2: a bearer token is listed twice");
	tokens_refused(f, "tenant a tok-0123456789abcdef *\n"
		       "# comment\ntok-0123456789abcdef\n",
		       "tokens.txt, line 3: a bearer token is listed twice");
	tokens_refused(f, "tok-0123456789abcdef, tok-0123456789abcdef",
		       "tokens.txt, line 1: a bearer token is listed twice");
	/* bad tokens in either form */
	tokens_refused(f, "tenant a short *\n",
		       "tokens.txt, line 1: a bearer token must be 16 to 256");
	tokens_refused(f, "# ok\ntok-0123456789abcdef\nshort\n",
		       "tokens.txt, line 3: a bearer token must be 16 to 256");
	tokens_refused(f, "tenant a tok-0123456789abcdef,x *\n",
		       "tokens.txt, line 1: a bearer token may hold only");
	tokens_refused(f, "tok-0123456789abcdef\xc3\xa9\n",
		       "tokens.txt, line 1: a bearer token may hold only");
	/* nothing but comments */
	tokens_refused(f, "# tenant a tok-0123456789abcdef *\n\n",
		       "tokens.txt holds no bearer token");
	/* every refusal kept the last good set: the 64-character tenant */
	assert_int_equal(register_as(f, 7, "tok-0123456789abcdef", NULL, a), 201);
	assert_int_equal(read_as(f, TOK_ALPHA, a), 401);
}

/* ---- baselines ------------------------------------------------------------------ */

#define TOK_GAMMA "gamma-token-0123456789"
#define BL_REPO "https://git.example.com/acme/model.git"
#define BL_SHA1 "1111111111111111111111111111111111111111"
#define BL_SHA2 "2222222222222222222222222222222222222222"

static char *baseline_doc(const char *gate, const char *sha, int latency)
{
	char *s = malloc(512);

	assert_non_null(s);
	snprintf(s, 512, "{\"version\":1,\"gate\":\"%s\",\"commit\":\"%s\","
		 "\"recorded\":\"2026-12-07T10:00:00Z\",\"outcome\":\"pass\","
		 "\"run_url\":null,\"values\":{\"$.latencyMs\":%d}}", gate, sha,
		 latency);
	return s;
}

/* PUT a document; the status (why: the error text on 4xx). */
static long bl_put(struct fixture *f, const char *bearer, const char *repo,
		   const char *doc, char *why, size_t whysize)
{
	char body[2048];
	struct resp r;
	long status;

	snprintf(body, sizeof(body), "{\"repository\":\"%s\",\"document\":%s}",
		 repo, doc);
	http(f->port, "PUT", "/v1/baselines", body, bearer, NULL, &r);
	status = r.status;
	if (why)
		snprintf(why, whysize, "%s", jstr(r.json, "error"));
	resp_release(&r);
	return status;
}

/* Look up BL_SHA2, BL_SHA1 of gate g: the status; the latencies found
 * nearest first into lat (-1 after the last). */
static long bl_lookup(struct fixture *f, const char *bearer, const char *repo,
		      const char *extra, int lat[3])
{
	char body[512];
	const cJSON *rec;
	struct resp r;
	long status;
	int n = 0;

	snprintf(body, sizeof(body), "{\"repository\":\"%s\",\"gate\":\"g\","
		 "\"commits\":[\"" BL_SHA2 "\",\"" BL_SHA1 "\"]%s}", repo,
		 extra ? extra : "");
	http(f->port, "POST", "/v1/baselines/lookup", body, bearer, NULL, &r);
	status = r.status;
	cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(r.json, "records")) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "values");

		lat[n++] = (int)jnum(v, "$.latencyMs");
		if (n == 2)
			break;
	}
	lat[n] = -1;
	resp_release(&r);
	return status;
}

static void test_baselines(void **state)
{
	struct fixture *f = *state;
	char *d1 = baseline_doc("g", BL_SHA1, 200), *d2 = baseline_doc("g", BL_SHA2, 210);
	char *d1b = baseline_doc("g", BL_SHA1, 100000);
	int lat[3];

	assert_int_equal(relay_api_set_tokens(f->a,
		"tenant alpha " TOK_ALPHA " https://git.example.com/acme/*\n"
		"tenant beta " TOK_BETA " https://git.example.com/acme/*\n"
		"tenant gamma " TOK_GAMMA " https://git.example.com/other/*\n",
		"tokens.txt"), 3);
	assert_int_equal(bl_put(f, TOK_ALPHA, BL_REPO, d1, NULL, 0), 204);
	assert_int_equal(bl_lookup(f, TOK_ALPHA, BL_REPO, NULL, lat), 200);
	assert_int_equal(lat[0], 200);
	assert_int_equal(lat[1], -1);
	assert_int_equal(bl_put(f, TOK_ALPHA, BL_REPO, d2, NULL, 0), 204);
	assert_int_equal(bl_lookup(f, TOK_ALPHA, BL_REPO, NULL, lat), 200);
	assert_int_equal(lat[0], 210);	/* in the order asked: nearest first */
	assert_int_equal(lat[1], 200);
	assert_int_equal(bl_lookup(f, TOK_ALPHA, BL_REPO, ",\"limit\":1", lat), 200);
	assert_int_equal(lat[0], 210);
	assert_int_equal(lat[1], -1);
	/* another tenant allowed the same repository sees nothing, and its
	 * PUT does not reach alpha's */
	assert_int_equal(bl_lookup(f, TOK_BETA, BL_REPO, NULL, lat), 200);
	assert_int_equal(lat[0], -1);
	assert_int_equal(bl_put(f, TOK_BETA, BL_REPO, d1b, NULL, 0), 204);
	assert_int_equal(bl_lookup(f, TOK_ALPHA, BL_REPO, NULL, lat), 200);
	assert_int_equal(lat[1], 200);
	/* recording again replaces */
	assert_int_equal(bl_put(f, TOK_ALPHA, BL_REPO, d1b, NULL, 0), 204);
	assert_int_equal(bl_lookup(f, TOK_ALPHA, BL_REPO, NULL, lat), 200);
	assert_int_equal(lat[1], 100000);
	/* a repository outside the token's patterns */
	assert_int_equal(bl_put(f, TOK_GAMMA, BL_REPO, d1, NULL, 0), 403);
	assert_int_equal(bl_lookup(f, TOK_GAMMA, BL_REPO, NULL, lat), 403);
	assert_int_equal(bl_lookup(f, NULL, BL_REPO, NULL, lat), 401);
	free(d1);
	free(d2);
	free(d1b);
}

/* PUT body -> 400 with want in the reason. */
static void bl_bad_put(struct fixture *f, const char *doc, const char *want)
{
	char why[400];

	assert_int_equal(bl_put(f, BEARER, BL_REPO, doc, why, sizeof(why)), 400);
	if (!strstr(why, want))
		fail_msg("\"%s\" not in \"%s\"", want, why);
}

static void bl_bad_lookup(struct fixture *f, const char *body, const char *want)
{
	struct resp r;

	http(f->port, "POST", "/v1/baselines/lookup", body, BEARER, NULL, &r);
	assert_int_equal(r.status, 400);
	if (!strstr(jstr(r.json, "error"), want))
		fail_msg("\"%s\" not in \"%s\"", want, jstr(r.json, "error"));
	resp_release(&r);
}

static void test_baselines_refused(void **state)
{
	struct fixture *f = *state;
	char *many = malloc(64 * 1024), *p;
	struct resp r;

	bl_bad_put(f, "1", "document must be a baseline document");
	bl_bad_put(f, "{\"gate\":\"g\"}", "document: gate \"g\": \"version\" must be 1");
	bl_bad_put(f, "{\"version\":1,\"gate\":\"g\",\"commit\":\"" BL_SHA1 "\","
		   "\"recorded\":\"yesterday\",\"outcome\":\"pass\",\"run_url\":null,"
		   "\"values\":{}}", "\"recorded\" must be an RFC 3339 timestamp");
	bl_bad_put(f, "{\"version\":1,\"gate\":\"g\",\"commit\":\"" BL_SHA1 "\","
		   "\"recorded\":\"2026-12-07T10:00:00Z\",\"outcome\":\"review\","
		   "\"run_url\":null,\"values\":{}}", "\"outcome\" must be");
	bl_bad_put(f, "{\"version\":1,\"gate\":\"g\",\"commit\":\"" BL_SHA1 "\","
		   "\"recorded\":\"2026-12-07T10:00:00Z\",\"outcome\":\"pass\","
		   "\"run_url\":null,\"values\":{},\"extra\":1}", "unknown key \"extra\"");
	http(f->port, "PUT", "/v1/baselines", "{\"repository\":\"r\",\"document\":{},\"x\":1}",
	     BEARER, NULL, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(jstr(r.json, "error"), "unknown member \"x\"");
	resp_release(&r);
	bl_bad_lookup(f, "{\"repository\":\"r\",\"gate\":\"g\",\"commits\":[]}",
		      "commits must be an array of 1 to 1000 commit ids");
	bl_bad_lookup(f, "{\"repository\":\"r\",\"gate\":\"g\",\"commits\":[\"ABC\"]}",
		      "commits[0] must be 40 lowercase hexadecimal digits");
	bl_bad_lookup(f, "{\"repository\":\"r\",\"commits\":[\"" BL_SHA1 "\"]}",
		      "gate must be a string");
	bl_bad_lookup(f, "{\"repository\":\"r\",\"gate\":\"g\",\"commits\":[\"" BL_SHA1 "\"],\"limit\":0}",
		      "limit must be a whole number from 1 to 1000");
	assert_non_null(many);
	p = many + sprintf(many, "{\"repository\":\"r\",\"gate\":\"g\",\"commits\":[");
	for (int i = 0; i < 1001; i++)
		p += sprintf(p, "%s\"%040d\"", i ? "," : "", i);
	strcpy(p, "]}");
	bl_bad_lookup(f, many, "commits must be an array of 1 to 1000");
	free(many);
	http(f->port, "GET", "/v1/baselines", NULL, BEARER, NULL, &r);
	assert_int_equal(r.status, 405);
	resp_release(&r);
}

/* The status answer's text writer gives exactly what cJSON prints for the
 * same request object, escapes included. */
static void same_as_cjson(const struct store_request *r)
{
	cJSON *j = relay_request_json(r);
	char *want = cJSON_PrintUnformatted(j);
	struct buf b = BUF_INIT(1 << 20);

	assert_int_equal(relay_request_text(r, &b), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	cJSON_Delete(j);
	free(want);
	buf_release(&b);
}

static void test_request_text(void **state)
{
	struct store_team_state teams[2] = {
		{ "eng", 2, 1 }, { "r\"e\\s\te/arch\x01\x1f\x7f", 1, 0 },
	};
	struct store_decision d[2];
	struct store_request r;
	struct buf small = BUF_INIT(64);

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(d, 0, sizeof(d));
	strcpy(r.id, "0123456789abcdef0123456789abcdef");
	strcpy(r.key, "k\"ey");
	strcpy(r.gate, "g\xc3\xa9te \b\f\n\r");
	r.created = 1767139200;
	r.deadline = 4102444800LL;	/* past 2038: beyond an int */
	same_as_cjson(&r);		/* pending, nothing decided */
	r.teams = teams;
	r.nteams = 2;
	r.decisions = d;
	r.ndecisions = 2;
	strcpy(d[0].email, "Eng@Example.com");
	strcpy(d[0].team, "eng");
	d[0].approve = 1;
	strcpy(d[0].reason, "fine \"quoted\" \\ back\u2028slash <b>");
	d[0].at = 1767140000;
	strcpy(d[0].remote_addr, "203.0.113.7");
	strcpy(d[0].user_agent, "Mozilla/5.0 (X11)");
	strcpy(d[0].token, "tok_-0123");
	strcpy(d[1].email, "x@example.com");
	strcpy(d[1].team, teams[1].name);
	same_as_cjson(&r);		/* a decision without token: null */
	r.notified = 1;
	r.state = REQ_REJECTED;
	r.decided_at = 1767140001;
	same_as_cjson(&r);
	/* too big for the buffer's limit: refused, never cut */
	assert_int_equal(relay_request_text(&r, &small), -1);
	assert_null(small.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_text),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_tokens_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baselines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baselines_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_bearer_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_reused_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longpoll_woken_by_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longpoll_ends_at_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longpoll_ends_at_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decided_answers_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_waiters, setup_two_waiters, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_and_notified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_reopens_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_count_page_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_migrates_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_housekeeping, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
