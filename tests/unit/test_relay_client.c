/* test_relay_client.c - unit tests for the pure parts of src/relay_client.c.
 *
 * The list of relay URLs (split, trimmed, every entry checked with the
 * https-or-loopback rule, 1 to 8 entries, none twice, the index of the bad
 * entry reported) and the failover choice (round-robin to the next relay at
 * once, backoff only after a full round of the list, Retry-After honoured
 * up to its cap, a 429 retried on the same relay, a fresh start after an
 * answer).  No sockets: the client itself is exercised by i0210 and i0222.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "relay_client.h"

static void parse_ok(const char *list, int insecure, size_t n, const char *first,
		     const char *last)
{
	struct relay_urls u;
	char why[256] = "";
	int bad = 99;

	if (relay_urls_parse(&u, list, insecure, &bad, why, sizeof(why)))
		fail_msg("\"%s\" refused: entry %d: %s", list, bad, why);
	assert_int_equal(bad, -1);
	assert_int_equal(u.n, n);
	assert_string_equal(u.url[0], first);
	assert_string_equal(u.url[n - 1], last);
	relay_urls_release(&u);
	assert_int_equal(u.n, 0);
}

static void parse_bad(const char *list, int insecure, int want_bad, const char *want_why)
{
	struct relay_urls u;
	char why[256] = "";
	int bad = 99;

	assert_int_equal(relay_urls_parse(&u, list, insecure, &bad, why, sizeof(why)), -1);
	assert_int_equal(u.n, 0);
	if (bad != want_bad)
		fail_msg("\"%s\": bad entry %d, wanted %d (%s)", list, bad, want_bad, why);
	if (!strstr(why, want_why))
		fail_msg("\"%s\": \"%s\" does not say \"%s\"", list, why, want_why);
}

static void test_lists(void **state)
{
	(void)state;
	parse_ok("https://relay.example.com", 0, 1, "https://relay.example.com",
		 "https://relay.example.com");
	parse_ok("https://a.example.com/,https://b.example.com//", 0, 2,
		 "https://a.example.com", "https://b.example.com");
	parse_ok(" https://a.example.com , http://127.0.0.1:8080\t", 0, 2,
		 "https://a.example.com", "http://127.0.0.1:8080");
	parse_ok("HTTPS://A.example.com,http://localhost:1,http://[::1]:2", 0, 3,
		 "HTTPS://A.example.com", "http://[::1]:2");
	parse_ok("https://1,https://2,https://3,https://4,https://5,https://6,"
		 "https://7,https://8", 0, 8, "https://1", "https://8");
	/* plain http to another host only with the opt-in */
	parse_ok("https://a.example.com,http://b.example.com", 1, 2,
		 "https://a.example.com", "http://b.example.com");
	parse_bad("https://a.example.com,http://b.example.com", 0, 1,
		  "plain http to another host");
	parse_bad("https://user:pw@b.example.com", 0, 0, "user information");
	parse_bad("https://a.example.com,https://b.example.com@c", 0, 1, "user information");
	parse_ok("https://a.example.com/x?y=@", 0, 1, "https://a.example.com/x?y=@",
		 "https://a.example.com/x?y=@");
	/* the entry at fault is named */
	parse_bad("ftp://a.example.com", 0, 0, "write an https:// URL");
	parse_bad("https://a.example.com,relay.example.com", 0, 1, "write an https:// URL");
	parse_bad("https://a.example.com,,https://b.example.com", 0, 1, "an empty entry");
	parse_bad("https://a.example.com,", 0, 1, "an empty entry");
	parse_bad("", 0, 0, "an empty entry");
	parse_bad("https://a.example.com,https://b example.com", 0, 1, "a blank or a control");
	parse_bad("https://a.example.com\n", 0, 0, "a blank or a control");
	parse_bad("https://", 0, 0, "write an https:// URL");
	parse_bad("https://?x", 0, 0, "no host");
	parse_bad("https:///path", 0, 0, "no host");
	parse_bad("https://a.example.com,https://A.example.com/", 0, 1, "listed twice");
	/* the list as a whole */
	parse_bad("https://1,https://2,https://3,https://4,https://5,https://6,"
		  "https://7,https://8,https://9", 0, -1, "more than 8 relay URLs");
}

/* rnd 0 gives the smallest jitter: half the backoff. */
static void test_failover_round_robin(void **state)
{
	struct relay_failover f;

	(void)state;
	relay_failover_init(&f, 3);
	assert_int_equal(f.cur, 0);
	/* the first two failures move on at once */
	assert_int_equal(relay_failover_next(&f, 1000, 0, 1, 0), 0);
	assert_int_equal(f.cur, 1);
	assert_int_equal(relay_failover_next(&f, 1000, 0, 1, 0), 0);
	assert_int_equal(f.cur, 2);
	/* a full round: back to the first, after the backoff (500 ms +-50%) */
	assert_int_equal(relay_failover_next(&f, 1000, 0, 1, 0), 250);
	assert_int_equal(f.cur, 0);
	assert_int_equal(relay_failover_next(&f, 1000, 0, 1, 0), 0);
	assert_int_equal(relay_failover_next(&f, 1000, 0, 1, 0), 0);
	/* the second round's backoff doubled; rnd bounds the jitter */
	assert_int_equal(relay_failover_next(&f, 1000, 0, 1, 1000), 500 + 1000 % 1001);
	assert_int_equal(f.cur, 0);
	/* an answer starts afresh but stays on the relay that answered */
	relay_failover_next(&f, 1000, 0, 1, 0);
	relay_failover_answered(&f);
	assert_int_equal(f.cur, 1);
	assert_int_equal(f.failed, 0);
	assert_int_equal(f.backoff_ms, RELAY_BACKOFF_FIRST_MS);
	assert_int_equal(relay_failover_next(&f, 1000, 0, 1, 0), 0);
	assert_int_equal(f.cur, 2);
}

static void test_failover_one_relay(void **state)
{
	struct relay_failover f;
	long want = RELAY_BACKOFF_FIRST_MS;

	(void)state;
	relay_failover_init(&f, 1);
	/* one relay: every failure is a full round, as before failover */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(relay_failover_next(&f, 0, 0, 1, 0), want / 2);
		assert_int_equal(f.cur, 0);
		want = want * 2 > RELAY_BACKOFF_MAX_MS ? RELAY_BACKOFF_MAX_MS : want * 2;
	}
	assert_int_equal(f.backoff_ms, RELAY_BACKOFF_MAX_MS);
}

static void test_failover_retry_after(void **state)
{
	struct relay_failover f;

	(void)state;
	relay_failover_init(&f, 2);
	/* A says 503 + Retry-After 3: B at once */
	assert_int_equal(relay_failover_next(&f, 10000, 3000, 1, 0), 0);
	assert_int_equal(f.cur, 1);
	/* B fails too, a second later: A again, not before its Retry-After */
	assert_int_equal(relay_failover_next(&f, 11000, 0, 1, 0), 2000);
	assert_int_equal(f.cur, 0);
	/* a Retry-After beyond the cap is capped */
	relay_failover_init(&f, 1);
	assert_int_equal(relay_failover_next(&f, 0, 3600 * 1000L, 1, 0),
			 RELAY_RETRY_AFTER_MAX_MS);
	/* a 429 is an answer from a busy relay: retried there, after a pause */
	relay_failover_init(&f, 2);
	assert_int_equal(relay_failover_next(&f, 0, 1000, 0, 0), 1000);
	assert_int_equal(f.cur, 0);
	assert_int_equal(relay_failover_next(&f, 5000, 0, 0, 0), 500);
	assert_int_equal(f.cur, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_failover_round_robin),
		cmocka_unit_test(test_failover_one_relay),
		cmocka_unit_test(test_failover_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
