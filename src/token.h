/* token.h - review tokens, hashes, HMAC and constant-time comparison.
 *
 * Pure: no files, sockets or clocks; randomness comes from OpenSSL's CSPRNG
 * (RAND_bytes) and all hashing from libcrypto.  A review token is 32 random
 * bytes written as 43 characters of unpadded base64url.  Only its SHA-256
 * (64 lowercase hex characters) is ever stored; a presented token is checked
 * with token_syntax_ok() before it is hashed, and stored hashes are compared
 * with token_hex_equal() (CRYPTO_memcmp, constant time).  Callers own every
 * output buffer; nothing here allocates.
 */
#ifndef GREENLIGHT_TOKEN_H
#define GREENLIGHT_TOKEN_H

#include <stddef.h>

#define TOKEN_BYTES 32				/* entropy of a review token */
#define TOKEN_LEN 43				/* its base64url length */
#define TOKEN_SIZE (TOKEN_LEN + 1)		/* buffer for a token + NUL */
#define TOKEN_SHA256_BYTES 32
#define TOKEN_HEX_SIZE (2 * TOKEN_SHA256_BYTES + 1)	/* hex digest + NUL */
#define TOKEN_BOUNDARY_SIZE 38			/* "=_gl_" + 32 chars + NUL */

#define TOKEN_SALT_BYTES 16			/* derived tokens: salt, then MAC */
#define TOKEN_SECRET_MIN 32			/* bytes of a gate secret */
#define TOKEN_SECRET_MAX 1024

/* The gate secret (GREENLIGHT_GATE_SECRET): known to the CI, never to a
 * relay.  Review tokens derived from it can be checked by any later run. */
struct token_secret {
	const unsigned char *bytes;
	size_t len;
};

/* Fill buf with n bytes from the CSPRNG.  Returns 0, or -1 if the generator
 * failed (buf is then zeroed, so a failure can never leak as a weak token). */
int token_random_bytes(void *buf, size_t n);

/* Write a fresh review token (TOKEN_LEN characters + NUL) into out.
 * Returns 0, or -1 if the CSPRNG failed (out is then the empty string). */
int token_new(char out[TOKEN_SIZE]);

/* Encode n bytes as unpadded base64url into dst (dstsize must hold
 * 4*ceil(n/3) + 1 bytes; the exact length is token_b64url_len(n)).
 * Returns the encoded length, or (size_t)-1 if dst is too small (dst is
 * then the empty string when dstsize > 0). */
size_t token_b64url_encode(char *dst, size_t dstsize, const void *src,
			   size_t n);
size_t token_b64url_len(size_t n);

/* Whether s[0..len) has the syntax of a review token: exactly TOKEN_LEN
 * base64url characters, with the unused low bits of the last character
 * zero (the canonical encoding of 32 bytes).  Returns 1 or 0; reads no
 * more than len bytes and runs in time independent of where it fails. */
int token_syntax_ok(const char *s, size_t len);

/* Write n bytes as 2n lowercase hex characters + NUL into dst. */
void token_hex_encode(char *dst, const void *src, size_t n);

/* The value of hex digit c (either case), or -1. */
int token_hex_value(char c);

/* Whether s starts with n lowercase hex digits (token_hex_prefix), or is
 * exactly n of them (token_is_hex; s may be NULL).  Returns 1 or 0. */
int token_hex_prefix(const char *s, size_t n);
int token_is_hex(const char *s, size_t n);

/* SHA-256 of n bytes as 64 lowercase hex characters + NUL.  Returns 0, or
 * -1 if libcrypto failed (out is then the empty string). */
int token_sha256_hex(char out[TOKEN_HEX_SIZE], const void *data, size_t n);

/* The stored form of a token: token_sha256_hex() of its characters. */
int token_hash(char out[TOKEN_HEX_SIZE], const char *token);

/* HMAC-SHA256 of msg under key into out (32 bytes).  Returns 0, or -1 if
 * libcrypto failed (out is then zeroed). */
int token_hmac_sha256(unsigned char out[TOKEN_SHA256_BYTES],
		      const void *key, size_t keylen,
		      const void *msg, size_t msglen);

/* Compare n bytes in constant time.  Returns 1 if equal, else 0. */
int token_equal(const void *a, const void *b, size_t n);

/* Compare two NUL-terminated hex digests: constant time in their contents
 * (their lengths are public, fixed by the format).  Returns 1 if equal. */
int token_hex_equal(const char *a, const char *b);

/* A random nonce of nbytes (1..64) bytes as base64url into out, which must
 * hold token_b64url_len(nbytes) + 1 bytes.  Returns 0, or -1 on a CSPRNG
 * failure or a bad size (out is then the empty string when outsize > 0). */
int token_nonce(char *out, size_t outsize, size_t nbytes);

/* A random MIME boundary: "=_gl_" followed by 32 base64url characters.
 * "=_" cannot occur in quoted-printable text, so the boundary can never
 * collide with an encoded body line.  Returns 0, or -1 on a CSPRNG failure
 * (out is then the empty string). */
int token_boundary(char out[TOKEN_BOUNDARY_SIZE]);

/* A review token any run holding the gate secret can check without state:
 * 16 random bytes of salt, then the first 16 bytes of HMAC-SHA256 under
 * the secret over ("greenlight review token v1", key, team, email, salt),
 * written like every token (43 base64url characters).  Returns 0, or -1
 * (out is then ""). */
int token_derive(char out[TOKEN_SIZE], const struct token_secret *sec,
		 const char *key, const char *team, const char *email);

/* Whether token was derived by token_derive() for exactly this key, team
 * and address under sec.  Constant time in the MAC.  Returns 1 or 0. */
int token_derived_ok(const struct token_secret *sec, const char *key,
		     const char *team, const char *email, const char *token);

/* The id of the request with this key, derived from the gate secret: the
 * first 16 bytes of HMAC-SHA256 under the secret over ("greenlight
 * request id v1", LF, key) as 32 lowercase hex characters.  Any run
 * holding the secret names the request (and so its emails' Message-IDs)
 * the same way without state.  Returns 0, or -1 (out is then ""). */
int token_request_id(char out[33], const struct token_secret *sec,
		     const char *key);

#endif
