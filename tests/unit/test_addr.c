/* test_addr.c - unit tests for src/addr.c.
 *
 * Covered: the spellings a commit author or CI actor writes an address in
 * (blanks, angle brackets with and without a display name, quotes, case,
 * "+tag" subaddresses with keep_tags off and on), what is not a mailbox
 * (no '@', nothing before it, empty, NULL, over ADDR_MAX bytes), and
 * comma-separated lists with blanks and empty entries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

/* addr_mailbox() of in, checked to be want (NULL: no mailbox). */
static void mailbox_is(const char *in, int keep_tags, const char *want)
{
	char out[ADDR_MAX + 1];
	size_t n;

	memset(out, 'X', sizeof(out));
	n = addr_mailbox(out, in, keep_tags);
	if (!want) {
		assert_int_equal(n, 0);
		assert_string_equal(out, "");
		return;
	}
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_spellings(void **state)
{
	(void)state;
	mailbox_is("eng0@example.com", 0, "eng0@example.com");
	mailbox_is(" eng0@example.com", 0, "eng0@example.com");
	mailbox_is("\teng0@example.com \r\n", 0, "eng0@example.com");
	mailbox_is("<eng0@example.com>", 0, "eng0@example.com");
	mailbox_is(" <eng0@example.com> ", 0, "eng0@example.com");
	mailbox_is("< eng0@example.com >", 0, "eng0@example.com");
	mailbox_is("Eng Zero <ENG0@Example.COM>", 0, "eng0@example.com");
	mailbox_is("ENG0@EXAMPLE.COM", 1, "eng0@example.com");
	/* a '<' in the display name: the last pair holds the address */
	mailbox_is("a <b> c <eng0@example.com>", 0, "eng0@example.com");
	/* an unterminated bracket: the rest is the address */
	mailbox_is("Eng <eng0@example.com", 0, "eng0@example.com");
	/* only ASCII letters are folded */
	mailbox_is("\xc3\x89ng@example.com", 0, "\xc3\x89ng@example.com");
}

static void test_quotes(void **state)
{
	(void)state;
	mailbox_is("\"eng0@example.com\"", 0, "eng0@example.com");
	mailbox_is("'eng0@example.com'", 0, "eng0@example.com");
	mailbox_is("\"Eng Zero\" <eng0@example.com>", 0, "eng0@example.com");
	mailbox_is("<\"eng0@example.com\">", 0, "eng0@example.com");
	mailbox_is(" \" <ENG0@example.com> \" ", 0, "eng0@example.com");
}

static void test_tags(void **state)
{
	(void)state;
	mailbox_is("eng0+x@example.com", 0, "eng0@example.com");
	mailbox_is("eng0+x@example.com", 1, "eng0+x@example.com");
	mailbox_is("Eng <ENG0+CI@Example.com>", 0, "eng0@example.com");
	mailbox_is("Eng <ENG0+CI@Example.com>", 1, "eng0+ci@example.com");
	mailbox_is("eng0+a+b@example.com", 0, "eng0@example.com");
	/* a '+' after the '@' is part of the domain, never a tag */
	mailbox_is("eng0@ex+ample.com", 0, "eng0@ex+ample.com");

	assert_true(addr_same("eng0+x@example.com", "eng0@example.com", 0));
	assert_false(addr_same("eng0+x@example.com", "eng0@example.com", 1));
	assert_true(addr_same("eng0+x@example.com", "ENG0+X@example.com", 1));
	assert_false(addr_same("eng0+x@example.com", "eng0+y@example.com", 1));
	assert_true(addr_same("eng0+x@example.com", "eng0+y@example.com", 0));
	/* a tag never joins two different local parts */
	assert_false(addr_same("eng0+x@example.com", "eng1+x@example.com", 0));
	assert_false(addr_same("eng0@example.com", "eng0@example.org", 0));
}

static void test_not_mailboxes(void **state)
{
	char big[400];
	(void)state;

	mailbox_is("", 0, NULL);
	mailbox_is("   ", 0, NULL);
	mailbox_is("<>", 0, NULL);
	mailbox_is("\"\"", 0, NULL);
	mailbox_is("eng0", 0, NULL);
	mailbox_is("eng0.example.com", 0, NULL);
	mailbox_is("Eng Zero <eng0>", 0, NULL);
	mailbox_is("@example.com", 0, NULL);
	mailbox_is("<@example.com>", 0, NULL);
	mailbox_is(NULL, 0, NULL);

	/* exactly ADDR_MAX bytes is a mailbox; one more is not */
	memset(big, 'a', sizeof(big));
	memcpy(big + ADDR_MAX - strlen("@example.com"), "@example.com",
	       strlen("@example.com") + 1);
	assert_int_equal(strlen(big), ADDR_MAX);
	mailbox_is(big, 0, big);
	memset(big, 'a', sizeof(big));
	memcpy(big + ADDR_MAX + 1 - strlen("@example.com"), "@example.com",
	       strlen("@example.com") + 1);
	assert_int_equal(strlen(big), ADDR_MAX + 1);
	mailbox_is(big, 0, NULL);
	mailbox_is(big, 1, NULL);
	assert_false(addr_same(big, big, 0));

	/* addr_same needs two mailboxes: two empty or bare names never match */
	assert_false(addr_same("", "", 0));
	assert_false(addr_same("eng0", "eng0", 0));
	assert_false(addr_same(NULL, "eng0@example.com", 0));
	assert_false(addr_same("eng0@example.com", NULL, 0));
}

static void test_same(void **state)
{
	static const char *const variants[] = {
		"eng0@example.com", " ENG0@example.com", "<eng0@example.com>",
		"Eng Zero <ENG0@Example.COM>", "\"eng0@example.com\"",
		"eng0+ci@example.com", " <eng0+x@EXAMPLE.com> ",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		for (size_t j = 0; j < sizeof(variants) / sizeof(variants[0]); j++)
			assert_true(addr_same(variants[i], variants[j], 0));
	/* with keep_tags, the first five are one mailbox and the tags others */
	for (size_t i = 0; i < 5; i++) {
		assert_true(addr_same(variants[i], "eng0@example.com", 1));
		assert_false(addr_same(variants[i], "eng0+ci@example.com", 1));
	}
	assert_false(addr_same("eng1@example.com", "eng0@example.com", 0));
}

static void test_in_list(void **state)
{
	(void)state;
	assert_true(addr_in_list("eng0@example.com", "eng0@example.com", 0));
	assert_true(addr_in_list("a@example.com,eng0@example.com",
				 "ENG0@example.com", 0));
	assert_true(addr_in_list("a@example.com , Eng Zero <eng0@example.com> ,b@x.org",
				 "eng0+ci@example.com", 0));
	assert_false(addr_in_list("a@example.com , Eng Zero <eng0@example.com> ,b@x.org",
				  "eng0+ci@example.com", 1));
	assert_true(addr_in_list(",, ,eng0@example.com,", " <eng0@example.com>", 0));
	assert_true(addr_in_list("a@example.com,b@x.org", "B@X.ORG", 0));
	assert_false(addr_in_list("a@example.com,b@x.org", "c@x.org", 0));
	/* the list holds the tag, the email has none: equal unless kept */
	assert_true(addr_in_list("eng0+x@example.com", "eng0@example.com", 0));
	assert_false(addr_in_list("eng0+x@example.com", "eng0@example.com", 1));
	assert_false(addr_in_list(NULL, "eng0@example.com", 0));
	assert_false(addr_in_list("", "eng0@example.com", 0));
	assert_false(addr_in_list(",,,", "eng0@example.com", 0));
	/* entries and emails that are no mailbox match nothing */
	assert_false(addr_in_list("eng0,b@x.org", "eng0", 0));
	assert_false(addr_in_list("a@example.com,,b@x.org", "", 0));
	assert_false(addr_in_list("a@example.com", NULL, 0));
	/* the address is not a substring match */
	assert_false(addr_in_list("xeng0@example.com", "eng0@example.com", 0));
	assert_false(addr_in_list("eng0@example.com.evil", "eng0@example.com", 0));
}

static void test_in_list_long_entries(void **state)
{
	char list[1200], one[300];
	(void)state;

	/* an entry over ADDR_MAX is skipped; the next one still counts */
	memset(one, 'a', sizeof(one));
	memcpy(one + 280, "@example.com", 13);
	snprintf(list, sizeof(list), "%s,eng0@example.com", one);
	assert_true(addr_in_list(list, "eng0@example.com", 0));
	assert_false(addr_in_list(list, one, 0));
	snprintf(list, sizeof(list), "%s", one);
	assert_false(addr_in_list(list, "eng0@example.com", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_not_mailboxes),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_in_list),
		cmocka_unit_test(test_in_list_long_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
