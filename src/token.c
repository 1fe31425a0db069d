/* token.c - review tokens, hashes, HMAC, constant-time compare (see token.h).
 *
 * Every primitive is libcrypto's: RAND_bytes for randomness, EVP for
 * SHA-256, HMAC() for HMAC-SHA256, CRYPTO_memcmp for comparison.  This file
 * only encodes and checks syntax.  No state, no allocation.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "token.h"

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int token_random_bytes(void *buf, size_t n)
{
	if (!n)
		return 0;
	if (n > (size_t)0x7fffffff || RAND_bytes(buf, (int)n) != 1) {
		OPENSSL_cleanse(buf, n);
		return -1;
	}
	return 0;
}

size_t token_b64url_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t token_b64url_encode(char *dst, size_t dstsize, const void *src,
			   size_t n)
{
	const unsigned char *s = src;
	size_t need = token_b64url_len(n);
	size_t i, o = 0;
	unsigned long v;

	if (n > ((size_t)-1) / 2 || need + 1 > dstsize) {
		if (dstsize)
			dst[0] = '\0';
		return (size_t)-1;
	}
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 | s[i + 2];
		dst[o++] = b64url[v >> 18 & 63];
		dst[o++] = b64url[v >> 12 & 63];
		dst[o++] = b64url[v >> 6 & 63];
		dst[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned long)s[i] << 16;
		dst[o++] = b64url[v >> 18 & 63];
		dst[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8;
		dst[o++] = b64url[v >> 18 & 63];
		dst[o++] = b64url[v >> 12 & 63];
		dst[o++] = b64url[v >> 6 & 63];
	}
	dst[o] = '\0';
	return o;
}

int token_new(char out[TOKEN_SIZE])
{
	unsigned char raw[TOKEN_BYTES];
	int ret = -1;

	out[0] = '\0';
	if (token_random_bytes(raw, sizeof(raw)))
		goto out;
	token_b64url_encode(out, TOKEN_SIZE, raw, sizeof(raw));
	ret = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}

/* Value of a base64url character, or 64 for anything else. */
static unsigned b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return 64;
}

int token_syntax_ok(const char *s, size_t len)
{
	unsigned bad = 0;
	unsigned v = 0;
	size_t i;

	if (!s || len != TOKEN_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		v = b64url_value((unsigned char)s[i]);
		bad |= v >> 6;
	}
	/* 43 chars carry 258 bits: the last character's low 2 bits are
	 * padding and must be zero in the canonical encoding. */
	bad |= v & 3;
	return bad == 0;
}

void token_hex_encode(char *dst, const void *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hex[s[i] >> 4];
		dst[2 * i + 1] = hex[s[i] & 15];
	}
	dst[2 * n] = '\0';
}

int token_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int token_hex_prefix(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (token_hex_value(s[i]) < 0 || (s[i] >= 'A' && s[i] <= 'F'))
			return 0;
	return 1;
}

int token_is_hex(const char *s, size_t n)
{
	return s && token_hex_prefix(s, n) && s[n] == '\0';
}

int token_sha256_hex(char out[TOKEN_HEX_SIZE], const void *data, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (!EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != TOKEN_SHA256_BYTES)
		return -1;
	token_hex_encode(out, md, mdlen);
	return 0;
}

int token_hash(char out[TOKEN_HEX_SIZE], const char *token)
{
	return token_sha256_hex(out, token, strlen(token));
}

int token_hmac_sha256(unsigned char out[TOKEN_SHA256_BYTES],
		      const void *key, size_t keylen,
		      const void *msg, size_t msglen)
{
	static const unsigned char nothing[1];
	unsigned int len = 0;

	if (keylen > 0x7fffffff || !HMAC(EVP_sha256(), keylen ? key : nothing,
					 (int)keylen, msglen ? msg : nothing,
					 msglen, out, &len) ||
	    len != TOKEN_SHA256_BYTES) {
		memset(out, 0, TOKEN_SHA256_BYTES);
		return -1;
	}
	return 0;
}

int token_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int token_hex_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n != strlen(b))
		return 0;
	return token_equal(a, b, n);
}

int token_nonce(char *out, size_t outsize, size_t nbytes)
{
	unsigned char raw[64];
	int ret = -1;

	if (outsize)
		out[0] = '\0';
	if (!nbytes || nbytes > sizeof(raw) ||
	    outsize < token_b64url_len(nbytes) + 1)
		return -1;
	if (token_random_bytes(raw, nbytes))
		goto out;
	token_b64url_encode(out, outsize, raw, nbytes);
	ret = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}

int token_boundary(char out[TOKEN_BOUNDARY_SIZE])
{
	/* 24 random bytes = 32 base64url characters */
	char tail[33];

	out[0] = '\0';
	if (token_nonce(tail, sizeof(tail), 24))
		return -1;
	memcpy(out, "=_gl_", 5);
	memcpy(out + 5, tail, 33);
	return 0;
}

/* ---- derived review tokens ------------------------------------------------ */

/* The MAC half of a derived token: HMAC-SHA256 under the gate secret over
 * a label, the request key, team, address and the salt, cut to 16 bytes. */
static int derive_mac(unsigned char mac[TOKEN_SALT_BYTES],
		      const struct token_secret *sec, const char *key,
		      const char *team, const char *email,
		      const unsigned char salt[TOKEN_SALT_BYTES])
{
	static const char label[] = "greenlight review token v1";
	unsigned char msg[sizeof(label) + 64 + 1 + 72 + 1 + 256 + 1 +
			  TOKEN_SALT_BYTES];
	unsigned char full[TOKEN_SHA256_BYTES];
	size_t kl = strlen(key), tl = strlen(team), el = strlen(email), n = 0;
	int rc;

	if (kl > 64 || tl > 71 || el > 255)
		return -1;
	memcpy(msg, label, sizeof(label));	/* with its NUL */
	n = sizeof(label);
	memcpy(msg + n, key, kl + 1);
	n += kl + 1;
	memcpy(msg + n, team, tl + 1);
	n += tl + 1;
	memcpy(msg + n, email, el + 1);
	n += el + 1;
	memcpy(msg + n, salt, TOKEN_SALT_BYTES);
	n += TOKEN_SALT_BYTES;
	rc = token_hmac_sha256(full, sec->bytes, sec->len, msg, n);
	memcpy(mac, full, TOKEN_SALT_BYTES);
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

int token_derive(char out[TOKEN_SIZE], const struct token_secret *sec,
		 const char *key, const char *team, const char *email)
{
	unsigned char raw[TOKEN_BYTES];
	int ret = -1;

	out[0] = '\0';
	if (token_random_bytes(raw, TOKEN_SALT_BYTES) ||
	    derive_mac(raw + TOKEN_SALT_BYTES, sec, key, team, email, raw))
		goto out;
	token_b64url_encode(out, TOKEN_SIZE, raw, sizeof(raw));
	ret = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}

/* Decode a canonical token (token_syntax_ok) into its 32 bytes. */
static void b64url_decode32(unsigned char out[TOKEN_BYTES], const char *s)
{
	unsigned long acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < TOKEN_LEN && o < TOKEN_BYTES; i++) {
		acc = (acc << 6 | b64url_value((unsigned char)s[i])) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
}

int token_derived_ok(const struct token_secret *sec, const char *key,
		     const char *team, const char *email, const char *token)
{
	unsigned char raw[TOKEN_BYTES], mac[TOKEN_SALT_BYTES];
	int ok;

	if (!token || !token_syntax_ok(token, strnlen(token, TOKEN_SIZE)))
		return 0;
	b64url_decode32(raw, token);
	ok = !derive_mac(mac, sec, key, team, email, raw) &&
	     token_equal(mac, raw + TOKEN_SALT_BYTES, TOKEN_SALT_BYTES);
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

int token_request_id(char out[33], const struct token_secret *sec,
		     const char *key)
{
	static const char label[] = "greenlight request id v1\n";
	unsigned char mac[TOKEN_SHA256_BYTES];
	char msg[sizeof(label) + 128];
	int n;

	out[0] = '\0';
	n = snprintf(msg, sizeof(msg), "%s%s", label, key ? key : "");
	if (!sec || !sec->len || !key || n < 0 || (size_t)n >= sizeof(msg) ||
	    token_hmac_sha256(mac, sec->bytes, sec->len, msg, (size_t)n))
		return -1;
	token_hex_encode(out, mac, 16);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}
