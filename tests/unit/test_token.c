/* test_token.c - unit tests for src/token.c.
 *
 * Known answers: SHA-256 (FIPS 180-2 examples), HMAC-SHA256 (RFC 4231
 * cases 1, 2, 3, 6 and 7), base64url (RFC 4648 section 10).  Properties:
 * token length and alphabet, no repeats over many draws, constant-time
 * comparison gives the right answer, syntax check rejects near misses.
 * Derived tokens: salted, well-formed, and verified only for exactly the
 * key, team, address and secret they were made for.  Hex helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "token.h"

static void hex_of(char *dst, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hex[p[i] >> 4];
		dst[2 * i + 1] = hex[p[i] & 15];
	}
	dst[2 * n] = '\0';
}

static void test_sha256_vectors(void **state)
{
	char out[TOKEN_HEX_SIZE];
	(void)state;

	assert_int_equal(token_sha256_hex(out, "", 0), 0);
	assert_string_equal(out,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(token_sha256_hex(out, "abc", 3), 0);
	assert_string_equal(out,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(token_hash(out,
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), 0);
	assert_string_equal(out,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void check_hmac(const void *key, size_t keylen, const void *msg,
		       size_t msglen, const char *want)
{
	unsigned char mac[TOKEN_SHA256_BYTES];
	char hex[TOKEN_HEX_SIZE];

	assert_int_equal(token_hmac_sha256(mac, key, keylen, msg, msglen), 0);
	hex_of(hex, mac, sizeof(mac));
	assert_string_equal(hex, want);
}

static void test_hmac_rfc4231(void **state)
{
	unsigned char k20[20], d50[50], k131[131];
	static const char big[] = "This is a test using a larger than block-size"
		" key and a larger than block-size data. The key needs to be"
		" hashed before being used by the HMAC algorithm.";
	(void)state;

	memset(k20, 0x0b, sizeof(k20));
	check_hmac(k20, 20, "Hi There", 8,
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	check_hmac("Jefe", 4, "what do ya want for nothing?", 28,
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k20, 0xaa, sizeof(k20));
	memset(d50, 0xdd, sizeof(d50));
	check_hmac(k20, 20, d50, 50,
		"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	memset(k131, 0xaa, sizeof(k131));
	check_hmac(k131, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	check_hmac(k131, 131, big, strlen(big),
		"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
	/* empty key and message are legal */
	check_hmac(NULL, 0, NULL, 0,
		"b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_b64url_vectors(void **state)
{
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *want[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE",
				      "Zm9vYmFy" };
	static const unsigned char urlbytes[] = { 0xfb, 0xff };
	char out[16];
	(void)state;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(token_b64url_encode(out, sizeof(out), in[i],
						     strlen(in[i])), strlen(want[i]));
		assert_string_equal(out, want[i]);
		assert_int_equal(token_b64url_len(strlen(in[i])), strlen(want[i]));
	}
	assert_int_equal(token_b64url_encode(out, sizeof(out), urlbytes, 2), 3);
	assert_string_equal(out, "-_8");
	/* too small: refused, empty string */
	assert_int_equal(token_b64url_encode(out, 4, "foo", 3), (size_t)-1);
	assert_string_equal(out, "");
}

static int in_alphabet(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_token_shape_and_uniqueness(void **state)
{
	enum { DRAWS = 10000 };
	char (*toks)[TOKEN_SIZE] = calloc(DRAWS, TOKEN_SIZE);
	(void)state;

	assert_non_null(toks);
	for (int i = 0; i < DRAWS; i++) {
		assert_int_equal(token_new(toks[i]), 0);
		assert_int_equal(strlen(toks[i]), TOKEN_LEN);
		for (int j = 0; j < TOKEN_LEN; j++)
			assert_true(in_alphabet(toks[i][j]));
		assert_true(token_syntax_ok(toks[i], TOKEN_LEN));
	}
	qsort(toks, DRAWS, TOKEN_SIZE, cmp_str);
	for (int i = 1; i < DRAWS; i++)
		assert_string_not_equal(toks[i - 1], toks[i]);
	free(toks);
}

static void test_constant_time_compare(void **state)
{
	char a[TOKEN_HEX_SIZE], b[TOKEN_HEX_SIZE];
	(void)state;

	assert_int_equal(token_hash(a, "one"), 0);
	assert_int_equal(token_hash(b, "one"), 0);
	assert_true(token_hex_equal(a, b));
	assert_true(token_equal(a, b, 64));
	for (int i = 0; i < 64; i++) {	/* a difference anywhere is seen */
		b[i] ^= 1;
		assert_false(token_hex_equal(a, b));
		assert_false(token_equal(a, b, 64));
		b[i] ^= 1;
	}
	assert_false(token_hex_equal(a, "abc"));
	assert_false(token_hex_equal("", a));
	assert_true(token_hex_equal("", ""));
	assert_true(token_equal("x", "y", 0));
}

static void test_syntax_rejects(void **state)
{
	char t[TOKEN_SIZE + 8];
	(void)state;

	assert_int_equal(token_new(t), 0);
	assert_true(token_syntax_ok(t, TOKEN_LEN));
	assert_false(token_syntax_ok(t, TOKEN_LEN - 1));	/* short */
	assert_false(token_syntax_ok(NULL, 0));
	assert_false(token_syntax_ok("", 0));
	memcpy(t + TOKEN_LEN, "A", 2);				/* long */
	assert_false(token_syntax_ok(t, TOKEN_LEN + 1));
	t[TOKEN_LEN] = '\0';
	static const char bad[] = { '+', '/', '=', '.', ' ', '%', '\0', '\n', (char)0xc3 };
	for (size_t i = 0; i < sizeof(bad); i++) {
		char save = t[10];

		t[10] = bad[i];
		assert_false(token_syntax_ok(t, TOKEN_LEN));
		t[10] = save;
	}
	/* non-canonical last character (low bits set) */
	t[TOKEN_LEN - 1] = 'B';
	assert_false(token_syntax_ok(t, TOKEN_LEN));
	t[TOKEN_LEN - 1] = 'A';
	assert_true(token_syntax_ok(t, TOKEN_LEN));
	t[TOKEN_LEN - 1] = '8';
	assert_true(token_syntax_ok(t, TOKEN_LEN));
}

static void test_nonce_and_boundary(void **state)
{
	char n1[64], n2[64], b1[TOKEN_BOUNDARY_SIZE], b2[TOKEN_BOUNDARY_SIZE];
	(void)state;

	assert_int_equal(token_nonce(n1, sizeof(n1), 16), 0);
	assert_int_equal(token_nonce(n2, sizeof(n2), 16), 0);
	assert_int_equal(strlen(n1), 22);
	assert_string_not_equal(n1, n2);
	assert_int_equal(token_nonce(n1, 10, 16), -1);		/* too small */
	assert_string_equal(n1, "");
	assert_int_equal(token_nonce(n1, sizeof(n1), 0), -1);
	assert_int_equal(token_nonce(n1, sizeof(n1), 65), -1);

	assert_int_equal(token_boundary(b1), 0);
	assert_int_equal(token_boundary(b2), 0);
	assert_int_equal(strlen(b1), TOKEN_BOUNDARY_SIZE - 1);
	assert_memory_equal(b1, "=_gl_", 5);
	assert_string_not_equal(b1, b2);
	for (size_t i = 5; i < strlen(b1); i++)
		assert_true(in_alphabet(b1[i]));
}

#define DKEY "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* The request id a run without state re-derives (mail mode --collect):
 * a known answer (HMAC-SHA256 computed independently), stable, bound to
 * the key and the secret. */
static void test_request_id(void **state)
{
	static const char sb[] = "gate-secret-0123456789abcdefghijklmnop";
	const struct token_secret sec = { (const unsigned char *)sb, sizeof(sb) - 1 };
	const struct token_secret other = { (const unsigned char *)sb, sizeof(sb) - 2 };
	const struct token_secret none = { NULL, 0 };
	char a[33], b[33];
	(void)state;

	assert_int_equal(token_request_id(a, &sec, DKEY), 0);
	assert_string_equal(a, "30ed8f15bc332d142f030958085b7355");
	assert_int_equal(token_request_id(b, &sec, DKEY), 0);
	assert_string_equal(a, b);
	assert_int_equal(token_request_id(b, &other, DKEY), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(token_request_id(b, &sec, "b" DKEY), 0);
	assert_string_not_equal(a, b);
	assert_true(token_is_hex(b, 32));
	assert_int_equal(token_request_id(b, &none, DKEY), -1);
	assert_string_equal(b, "");
	assert_int_equal(token_request_id(b, &sec, NULL), -1);
	assert_string_equal(b, "");
}

static void test_derived_tokens(void **state)
{
	static const char sb[] = "gate-secret-0123456789abcdefghijklmnop";
	static const char ob[] = "gate-secret-0123456789abcdefghijklmnoq";
	const struct token_secret sec = { (const unsigned char *)sb, sizeof(sb) - 1 };
	const struct token_secret other = { (const unsigned char *)ob, sizeof(ob) - 1 };
	const struct token_secret shorter = { (const unsigned char *)sb, sizeof(sb) - 2 };
	char t[TOKEN_SIZE], u[TOKEN_SIZE], bad[TOKEN_SIZE];
	(void)state;

	assert_int_equal(token_derive(t, &sec, DKEY, "eng", "a@example.com"), 0);
	assert_int_equal(strlen(t), TOKEN_LEN);
	assert_true(token_syntax_ok(t, strlen(t)));
	/* salted: the same inputs give another token, and both verify */
	assert_int_equal(token_derive(u, &sec, DKEY, "eng", "a@example.com"), 0);
	assert_string_not_equal(t, u);
	assert_true(token_syntax_ok(u, strlen(u)));
	assert_true(token_derived_ok(&sec, DKEY, "eng", "a@example.com", t));
	assert_true(token_derived_ok(&sec, DKEY, "eng", "a@example.com", u));
	/* any change fails */
	assert_false(token_derived_ok(&sec, DKEY "0", "eng", "a@example.com", t));
	assert_false(token_derived_ok(&sec, "baaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				      "eng", "a@example.com", t));
	assert_false(token_derived_ok(&sec, DKEY, "Eng", "a@example.com", t));
	assert_false(token_derived_ok(&sec, DKEY, "eng2", "a@example.com", t));
	assert_false(token_derived_ok(&sec, DKEY, "", "a@example.com", t));
	assert_false(token_derived_ok(&sec, DKEY, "eng", "b@example.com", t));
	assert_false(token_derived_ok(&sec, DKEY, "eng", "a@example.co", t));
	assert_false(token_derived_ok(&sec, DKEY, "eng", "", t));
	/* fields cannot slide into each other: ("eng", "a@...") is not
	 * ("en", "ga@...") */
	assert_false(token_derived_ok(&sec, DKEY, "en", "ga@example.com", t));
	assert_false(token_derived_ok(&other, DKEY, "eng", "a@example.com", t));
	assert_false(token_derived_ok(&shorter, DKEY, "eng", "a@example.com", t));
	/* a changed character of the token: salt or MAC */
	for (size_t i = 0; i < TOKEN_LEN - 1; i++) {
		strcpy(bad, t);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_false(token_derived_ok(&sec, DKEY, "eng", "a@example.com", bad));
	}
	/* a token with the salt of one and the MAC of the other */
	memcpy(bad, t, 21);
	memcpy(bad + 21, u + 21, TOKEN_SIZE - 21);
	assert_false(token_derived_ok(&sec, DKEY, "eng", "a@example.com", bad));
	/* random tokens, malformed ones and NULL never pass */
	assert_int_equal(token_new(bad), 0);
	assert_false(token_derived_ok(&sec, DKEY, "eng", "a@example.com", bad));
	assert_false(token_derived_ok(&sec, DKEY, "eng", "a@example.com", ""));
	assert_false(token_derived_ok(&sec, DKEY, "eng", "a@example.com", NULL));
	snprintf(bad, sizeof(bad), "%.42s", t);
	assert_false(token_derived_ok(&sec, DKEY, "eng", "a@example.com", bad));
	/* inputs over the limits are refused, not cut */
	{
		char team[80], email[300];

		memset(team, 't', sizeof(team));
		team[72] = '\0';
		assert_int_equal(token_derive(u, &sec, DKEY, team, "a@example.com"), -1);
		assert_string_equal(u, "");
		team[71] = '\0';
		assert_int_equal(token_derive(u, &sec, DKEY, team, "a@example.com"), 0);
		assert_true(token_derived_ok(&sec, DKEY, team, "a@example.com", u));
		memset(email, 'e', sizeof(email));
		email[256] = '\0';
		assert_int_equal(token_derive(u, &sec, DKEY, "eng", email), -1);
		email[255] = '\0';
		assert_int_equal(token_derive(u, &sec, DKEY, "eng", email), 0);
		assert_true(token_derived_ok(&sec, DKEY, "eng", email, u));
		assert_int_equal(token_derive(u, &sec, DKEY "a", "eng", "a@x"), -1);
	}
}

static void test_hex_encode_and_check(void **state)
{
	static const unsigned char bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(bytes) + 1];
	(void)state;

	memset(out, 'X', sizeof(out));
	token_hex_encode(out, bytes, sizeof(bytes));
	assert_string_equal(out, "00017f80abff");
	token_hex_encode(out, bytes, 0);
	assert_string_equal(out, "");

	assert_true(token_is_hex("00017f80abff", 12));
	assert_true(token_is_hex("", 0));
	assert_false(token_is_hex("00017f80abff", 11));	/* one left over */
	assert_false(token_is_hex("00017f80abff", 13));	/* one short */
	assert_false(token_is_hex("00017F80ABFF", 12));	/* upper case */
	assert_false(token_is_hex("00017f80abfg", 12));
	assert_false(token_is_hex("00017f 0abff", 12));
	assert_false(token_is_hex(NULL, 0));
	assert_false(token_is_hex(NULL, 64));
	assert_true(token_hex_prefix("abc-", 3));
	assert_false(token_hex_prefix("abc-", 4));
	assert_false(token_hex_prefix("ab", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_b64url_vectors),
		cmocka_unit_test(test_token_shape_and_uniqueness),
		cmocka_unit_test(test_constant_time_compare),
		cmocka_unit_test(test_syntax_rejects),
		cmocka_unit_test(test_nonce_and_boundary),
		cmocka_unit_test(test_derived_tokens),
		cmocka_unit_test(test_request_id),
		cmocka_unit_test(test_hex_encode_and_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
