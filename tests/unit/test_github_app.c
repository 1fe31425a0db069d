/* test_github_app.c - unit tests for src/github_app.c (the App's RS256 JWT,
 * webhook signatures, the deployment_protection_rule payload) and the
 * calls src/resume_github.c builds (against a scripted fake, no network).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "github_app.h"
#include "resume.h"
#include "token.h"

static char *pem;			/* a fresh RSA key, PKCS#8 PEM */
static EVP_PKEY *pkey;

static int make_key(void **state)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;

	(void)state;
	pkey = EVP_RSA_gen(2048);
	assert_non_null(pkey);
	assert_int_equal(PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &data);
	pem = strndup(data, (size_t)n);
	BIO_free(b);
	return 0;
}

static int free_key(void **state)
{
	(void)state;
	EVP_PKEY_free(pkey);
	free(pem);
	return 0;
}

/* base64url (unpadded) to bytes; returns the length */
static size_t b64url_decode(const char *s, size_t n, unsigned char *out)
{
	char tmp[2048];
	size_t m = 0;
	int len;

	assert_true(n + 4 < sizeof(tmp));
	for (size_t i = 0; i < n; i++)
		tmp[m++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (m % 4)
		tmp[m++] = '=';
	len = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)m);
	assert_true(len >= 0);
	return (size_t)len - (n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0);
}

static void test_jwt(void **state)
{
	struct buf jwt = BUF_INIT(8192);
	char err[160], json[512];
	unsigned char sig[600];
	const char *d1, *d2;
	size_t n, siglen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	(void)state;
	assert_int_equal(github_app_jwt("4242", pem, 1700000000, &jwt, err, sizeof(err)), 0);
	d1 = strchr(jwt.data, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	n = b64url_decode(jwt.data, (size_t)(d1 - jwt.data), (unsigned char *)json);
	json[n] = '\0';
	assert_string_equal(json, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
	n = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), (unsigned char *)json);
	json[n] = '\0';
	/* iat 60 s back for clock drift, exp under GitHub's 10 minutes */
	assert_string_equal(json, "{\"iat\":1699999940,\"exp\":1700000540,\"iss\":\"4242\"}");
	siglen = b64url_decode(d2 + 1, strlen(d2 + 1), sig);
	assert_int_equal(siglen, 256);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jwt.data,
					  (size_t)(d2 - jwt.data)), 1);
	sig[10] ^= 1;
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
	assert_int_not_equal(EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jwt.data,
					      (size_t)(d2 - jwt.data)), 1);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(github_app_jwt("42a", pem, 1700000000, &jwt, err, sizeof(err)), -1);
	assert_int_equal(github_app_jwt("4242", "-----BEGIN PRIVATE KEY-----\nxx\n", 1700000000, &jwt,
					err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RSA key in PEM"));
	assert_null(jwt.data);
	buf_release(&jwt);
}

static void test_signature(void **state)
{
	const char *body = "{\"action\":\"requested\"}";
	unsigned char mac[32];
	unsigned int len = 0;
	char hdr[80] = "sha256=";

	(void)state;
	HMAC(EVP_sha256(), "s3cret", 6, (const unsigned char *)body, strlen(body), mac, &len);
	token_hex_encode(hdr + 7, mac, 32);
	assert_true(github_signature_ok("s3cret", body, strlen(body), hdr));
	assert_false(github_signature_ok("s3cret", body, strlen(body) - 1, hdr));	/* other body */
	assert_false(github_signature_ok("other", body, strlen(body), hdr));
	assert_false(github_signature_ok("", body, strlen(body), hdr));
	assert_false(github_signature_ok("s3cret", body, strlen(body), NULL));
	hdr[20] = hdr[20] == 'a' ? 'b' : 'a';
	assert_false(github_signature_ok("s3cret", body, strlen(body), hdr));
	assert_false(github_signature_ok("s3cret", body, strlen(body), "sha256=abc"));
	assert_false(github_signature_ok("s3cret", body, strlen(body), "sha1=0000000000000000000000000000000000000000"));
}

#define HOOK(url, inst) "{\"action\":\"requested\",\"environment\":\"production\"," \
	"\"sha\":\"3f786850e387550fdab836ed7e6dc881de23001b\"," \
	"\"deployment_callback_url\":\"" url "\",\"repository\":{\"full_name\":\"acme/app\"}," \
	"\"installation\":{\"id\":" inst "}}"
#define URL_OK "https://api.github.com/repos/acme/app/actions/runs/555/deployment_protection_rule"

static void test_hook_parse(void **state)
{
	static const char *const bad[] = {
		HOOK("https://api.github.com/repos/evil/app/actions/runs/555/deployment_protection_rule", "1"),
		HOOK("http://api.github.com/repos/acme/app/actions/runs/555/deployment_protection_rule", "1"),
		HOOK("https://api.github.com/repos/acme/app/actions/runs/55x/deployment_protection_rule", "1"),
		HOOK("https://api.github.com/repos/acme/app/actions/runs/555/deployment_protection_rule/x", "1"),
		HOOK(URL_OK, "\"1\""),
		HOOK(URL_OK, "-3"),
		"{\"action\":\"requested\"}",
		"[]",
		"{\"action\":\"a\",\"action\":\"b\"}",
	};
	struct github_hook h;
	char why[256];
	struct buf key = BUF_INIT(1024);

	(void)state;
	assert_int_equal(github_hook_parse(HOOK(URL_OK, "987654"), strlen(HOOK(URL_OK, "987654")), &h,
					   why, sizeof(why)), 0);
	assert_string_equal(h.action, "requested");
	assert_string_equal(h.repository, "acme/app");
	assert_string_equal(h.run, "555");
	assert_string_equal(h.environment, "production");
	assert_string_equal(h.installation, "987654");
	assert_int_equal(github_match_key(h.repository, h.run, h.sha, h.environment, &key), 0);
	assert_string_equal(key.data, "acme/app\n555\n3f786850e387550fdab836ed7e6dc881de23001b\nproduction");
	buf_release(&key);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(github_hook_parse(bad[i], strlen(bad[i]), &h, why, sizeof(why)), -1);
		assert_true(why[0] != '\0');
		assert_string_equal(h.repository, "");
	}
}

/* ---- the calls resume_github.c makes ---- */
struct fake {
	int n;
	char url[4][256], hdr[4][4][2048], body[4][256];
	long status[4];
	const char *answer[4];
};

static int fake_http(void *ud, const struct resume_http_req *rq, struct resume_http_resp *rs)
{
	struct fake *f = ud;
	int i = f->n++;

	assert_true(i < 4);
	assert_string_equal(rq->method, "POST");
	snprintf(f->url[i], sizeof(f->url[i]), "%s", rq->url);
	for (int h = 0; h < 4; h++)
		snprintf(f->hdr[i][h], sizeof(f->hdr[i][h]), "%s", rq->headers[h] ? rq->headers[h] : "");
	snprintf(f->body[i], sizeof(f->body[i]), "%s", rq->body ? rq->body : "");
	rs->status = f->status[i];
	if (f->answer[i])
		buf_adds(&rs->body, f->answer[i]);
	return 0;
}

static enum resume_result review(struct fake *f, enum req_state outcome, const char *target)
{
	struct resume_config cfg;
	struct resume_call c = { 0 };
	char *secret = malloc(strlen(pem) + 8);
	enum resume_result res;
	cJSON *t = cJSON_Parse(target);

	snprintf(secret, strlen(pem) + 8, "4242:%s", pem);
	setenv("T_GH_APP", secret, 1);
	free(secret);
	assert_int_equal(resume_config_parse(&cfg, "ci acme github https://api.github.com T_GH_APP acme/*\n", "ci"), 0);
	c.cred = resume_config_find(&cfg, "acme", "github");
	c.target = t;
	c.outcome = outcome;
	c.http = fake_http;
	c.ud = f;
	res = resume_github.resume(&c);
	cJSON_Delete(t);
	resume_config_release(&cfg);
	return res;
}

#define GH_TARGET "{\"ci\":\"github\",\"repository\":\"acme/app\",\"run\":\"555\"," \
	"\"sha\":\"3f786850e387550fdab836ed7e6dc881de23001b\",\"environment\":\"production\"," \
	"\"installation\":\"987654\"}"

static void test_review_calls(void **state)
{
	struct fake f = { .status = { 201, 204 }, .answer = { "{\"token\":\"ghs_abc\"}" } };
	char why[200];
	cJSON *t;

	(void)state;
	assert_int_equal(review(&f, REQ_APPROVED, GH_TARGET), RESUME_DONE);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.url[0], "https://api.github.com/app/installations/987654/access_tokens");
	assert_true(!strncmp(f.hdr[0][0], "Authorization: Bearer ey", 24));
	assert_string_equal(f.hdr[0][1], "Accept: application/vnd.github+json");
	assert_string_equal(f.hdr[0][2], "X-GitHub-Api-Version: 2022-11-28");
	assert_string_equal(f.url[1], "https://api.github.com/repos/acme/app/actions/runs/555/deployment_protection_rule");
	assert_string_equal(f.hdr[1][0], "Authorization: Bearer ghs_abc");
	assert_string_equal(f.body[1], "{\"environment_name\":\"production\",\"state\":\"approved\","
			    "\"comment\":\"greenlight: the release review approved\"}");
	for (enum req_state st = REQ_REJECTED; st <= REQ_EXPIRED; st++) {
		f = (struct fake){ .status = { 201, 204 }, .answer = { "{\"token\":\"ghs_abc\"}" } };
		assert_int_equal(review(&f, st, GH_TARGET), RESUME_DONE);
		assert_non_null(strstr(f.body[1], "\"state\":\"rejected\""));	/* expired fails closed */
	}
	f = (struct fake){ .status = { 401 } };
	assert_int_equal(review(&f, REQ_APPROVED, GH_TARGET), RESUME_FAILED);
	f = (struct fake){ .status = { 201, 502 }, .answer = { "{\"token\":\"ghs_abc\"}" } };
	assert_int_equal(review(&f, REQ_APPROVED, GH_TARGET), RESUME_RETRY);
	f = (struct fake){ .status = { 201 }, .answer = { "{\"token\":\"ghs\\r\\nX: y\"}" } };
	assert_int_equal(review(&f, REQ_APPROVED, GH_TARGET), RESUME_FAILED);	/* header injection */
	assert_int_equal(f.n, 1);
	/* targets */
	t = cJSON_Parse("{\"ci\":\"github\",\"repository\":\"acme/app\",\"run\":\"5\",\"sha\":\"abc\",\"environment\":\"p\"}");
	assert_int_equal(resume_github.check(t, why, sizeof(why)), -1);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"ci\":\"github\",\"repository\":\"acme app\",\"run\":\"5\",\"sha\":\"3f786850e387550fdab836ed7e6dc881de23001b\",\"environment\":\"p\"}");
	assert_int_equal(resume_github.check(t, why, sizeof(why)), -1);
	cJSON_Delete(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_hook_parse),
		cmocka_unit_test(test_review_calls),
	};

	return cmocka_run_group_tests(tests, make_key, free_key);
}
