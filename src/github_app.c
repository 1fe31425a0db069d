/* github_app.c - GitHub App pieces of the relay (github_app.h): webhook
 * signatures, the App's JWT, the deployment_protection_rule payload. */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "github_app.h"
#include "json.h"
#include "token.h"
#include "util.h"

int github_signature_ok(const char *secret, const void *body, size_t len,
			const char *header)
{
	unsigned char mac[TOKEN_SHA256_BYTES];
	char hex[2 * TOKEN_SHA256_BYTES + 1];
	int ok;

	if (!secret || !*secret || !header || strncmp(header, "sha256=", 7) ||
	    strlen(header + 7) != 2 * TOKEN_SHA256_BYTES)
		return 0;
	if (token_hmac_sha256(mac, secret, strlen(secret), body, len))
		return 0;
	token_hex_encode(hex, mac, sizeof(mac));
	ok = token_hex_equal(hex, header + 7);	/* constant time */
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

/* base64url(text) appended to out. */
static int add_b64(struct buf *out, const void *data, size_t n)
{
	char enc[1024];

	if (token_b64url_encode(enc, sizeof(enc), data, n) == (size_t)-1)
		return -1;
	return buf_adds(out, enc);
}

static int sign(const char *pem, const char *msg, unsigned char *sig, size_t *siglen,
		char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	if (!key || EVP_PKEY_base_id(key) != EVP_PKEY_RSA)
		fail_into(err, errlen, "the App's private key is not an RSA key in PEM");
	else if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
		 EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)msg, strlen(msg)) != 1)
		fail_into(err, errlen, "cannot sign the App's JWT (RS256)");
	else
		rc = 0;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return rc;
}

int github_app_jwt(const char *app_id, const char *pem, time_t now,
		   struct buf *out, char *err, size_t errlen)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	char payload[128];
	size_t n = strspn(app_id ? app_id : "", "0123456789");

	if (!n || n > 20 || app_id[n])
		return fail_into(err, errlen, "the App id must be a number");
	snprintf(payload, sizeof(payload), "{\"iat\":%lld,\"exp\":%lld,\"iss\":\"%s\"}",
		 (long long)now - 60, (long long)now + GITHUB_JWT_LIFE, app_id);
	buf_release(out);
	if (add_b64(out, header, strlen(header)) || buf_adds(out, ".") ||
	    add_b64(out, payload, strlen(payload)))
		return fail_into(err, errlen, "out of memory");
	if (sign(pem, out->data, sig, &siglen, err, errlen)) {
		buf_release(out);
		return -1;
	}
	if (buf_adds(out, ".") || siglen > 512 || add_b64(out, sig, siglen)) {
		buf_release(out);
		return fail_into(err, errlen, "the signature is too long");
	}
	return 0;
}

static int copy(char *dst, size_t size, const char *src, const char *charset)
{
	size_t n = src ? strlen(src) : 0;

	if (!n || n >= size || (charset && strspn(src, charset) != n))
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)src[i] < 0x20 || (unsigned char)src[i] == 0x7f)
			return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

#define REPO_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/"

/* run id from https://HOST/repos/<repo>/actions/runs/<id>/deployment_protection_rule */
static int run_from_url(const char *url, const char *repo, char run[21])
{
	const char *p, *tail = "/deployment_protection_rule";
	size_t n;

	if (!url || strncmp(url, "https://", 8))
		return -1;
	p = strchr(url + 8, '/');
	if (!p || strncmp(p, "/repos/", 7) || strncmp(p + 7, repo, strlen(repo)))
		return -1;
	p += 7 + strlen(repo);
	if (strncmp(p, "/actions/runs/", 14))
		return -1;
	p += 14;
	n = strspn(p, "0123456789");
	if (!n || n > 20 || strcmp(p + n, tail))
		return -1;
	memcpy(run, p, n);
	run[n] = '\0';
	return 0;
}

static int fill(const cJSON *root, struct github_hook *h, char *why, size_t whylen)
{
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(root, "repository");
	const cJSON *inst = cJSON_GetObjectItemCaseSensitive(root, "installation");
	const cJSON *dep = cJSON_GetObjectItemCaseSensitive(root, "deployment");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(inst, "id");
	const char *sha = json_str(dep, "sha");

	if (copy(h->action, sizeof(h->action), json_str(root, "action"), NULL))
		return fail_into(why, whylen, "action: a string is required");
	if (copy(h->repository, sizeof(h->repository), json_str(repo, "full_name"), REPO_CHARS) ||
	    !strchr(h->repository, '/'))
		return fail_into(why, whylen, "repository.full_name: owner/name is required");
	if (copy(h->environment, sizeof(h->environment), json_str(root, "environment"), NULL))
		return fail_into(why, whylen, "environment: a name of 1-255 bytes is required");
	if (!sha)
		sha = json_str(root, "sha");
	if (copy(h->sha, sizeof(h->sha), sha, "0123456789abcdef") || (strlen(h->sha) != 40 && strlen(h->sha) != 64))
		return fail_into(why, whylen, "deployment.sha: a commit id is required");
	if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9e15)
		return fail_into(why, whylen, "installation.id: a number is required");
	snprintf(h->installation, sizeof(h->installation), "%lld", (long long)id->valuedouble);
	if (run_from_url(json_str(root, "deployment_callback_url"), h->repository, h->run))
		return fail_into(why, whylen, "deployment_callback_url: not this repository's deployment protection rule URL");
	return 0;
}

int github_hook_parse(const char *body, size_t len, struct github_hook *h,
		      char *why, size_t whylen)
{
	struct json_doc doc;
	struct json_err err;
	int rc;

	memset(h, 0, sizeof(*h));
	memset(&err, 0, sizeof(err));
	if (len > GITHUB_HOOK_MAX)
		return fail_into(why, whylen, "the body is over %d bytes", GITHUB_HOOK_MAX);
	if (json_doc_parse(&doc, body, len, &err))
		return fail_into(why, whylen, "line %u, column %u: %s", err.line, err.col, err.msg);
	rc = cJSON_IsObject(doc.root) ? fill(doc.root, h, why, whylen) :
	     fail_into(why, whylen, "the body must be a JSON object");
	json_doc_release(&doc);
	if (rc)
		memset(h, 0, sizeof(*h));
	return rc;
}

int github_match_key(const char *repository, const char *run, const char *sha,
		     const char *environment, struct buf *out)
{
	buf_release(out);
	return buf_addf(out, "%s\n%s\n%s\n%s", repository, run, sha, environment) ? -1 : 0;
}
