/* test_reply.c - the emailed-reply parser (src/reply.c): known answers for
 * what the mail backend decides with.  Whole messages are written here as
 * mail clients write them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reply.h"

#define CODE "THAOPRmhHjlPjTcbq9gutOul6cL3WMiMTUR_jJsYbD0"
#define CODE2 "AAAOPRmhHjlPjTcbq9gutOul6cL3WMiMTUR_jJsYbD0"
#define REQ "<0123456789abcdef0123456789abcdef@greenlight>"
#define HEAD "From: Alice <alice@example.com>\r\nTo: gate+" CODE "@example.com\r\n" \
	"Message-ID: <r1@client.example>\r\nIn-Reply-To: " REQ "\r\n"

static struct reply r;

static void parse(const char *msg)
{
	reply_parse(&r, msg, strlen(msg));
}

static void test_plain_approve(void **state)
{
	(void)state;
	parse(HEAD "Subject: Re: review\r\n\r\nApprove: numbers are fine\r\n\r\n"
	      "On Mon, 7 Dec 2026, greenlight <g@example.com> wrote:\r\n> Reply code: " CODE "\r\n> reject\r\n");
	assert_string_equal(r.from, "alice@example.com");
	assert_string_equal(r.message_id, "<r1@client.example>");
	assert_int_equal(r.verdict, REPLY_APPROVE);
	assert_string_equal(r.reason, "numbers are fine");
	assert_int_equal(r.ncodes, 1);
	assert_string_equal(r.codes[0], CODE);
	assert_true(reply_references(&r, REQ));
	assert_false(reply_references(&r, "<other@greenlight>"));
	assert_null(r.automatic);
}

static void test_first_line_rules(void **state)
{
	(void)state;
	parse(HEAD "\r\n\r\n   \r\nREJECT \xe2\x80\x94 too slow\r\n");
	assert_int_equal(r.verdict, REPLY_REJECT);
	assert_string_equal(r.reason, "too slow");
	parse(HEAD "\r\nApproved\r\n");
	assert_int_equal(r.verdict, REPLY_NONE);
	parse(HEAD "\r\nLooks odd\r\napprove\r\n");
	assert_int_equal(r.verdict, REPLY_NONE);
	assert_string_equal(r.first_line, "Looks odd");
	parse(HEAD "\r\n> approve\r\n");
	assert_int_equal(r.verdict, REPLY_NONE);
	assert_true(r.quoted_only);
	parse(HEAD "\r\nOn Mon, 7 Dec 2026 at 10:00, greenlight\r\n<g@example.com> wrote:\r\n> approve\r\n");
	assert_int_equal(r.verdict, REPLY_NONE);
	assert_true(r.quoted_only);
	parse(HEAD "\r\n-----Original Message-----\r\napprove\r\n");
	assert_int_equal(r.verdict, REPLY_NONE);
}

static void test_html_only(void **state)
{
	(void)state;
	parse(HEAD "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	      "<html><head><style>p{}</style></head><body><div>approve&nbsp;&amp; ship</div>"
	      "<div class=3D\"gmail_quote\"><blockquote>reject<br>Reply code: " CODE "</blockquote></div></body></html>\r\n");
	assert_int_equal(r.verdict, REPLY_APPROVE);
	assert_string_equal(r.reason, "& ship");
	assert_int_equal(r.ncodes, 1);
}

static void test_encodings_and_charsets(void **state)
{
	(void)state;
	/* base64 UTF-8 */
	parse(HEAD "Content-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	      "cmVqZWN0OiDDp2EgbmUgdmEgcGFz\r\n");
	assert_int_equal(r.verdict, REPLY_REJECT);
	assert_string_equal(r.reason, "\xc3\xa7" "a ne va pas");
	/* quoted-printable windows-1252 in multipart/alternative */
	parse(HEAD "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n"
	      "Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	      "approve =96 =E7a va=\r\n ici\r\n--b1\r\nContent-Type: text/html\r\n\r\n<p>reject</p>\r\n--b1--\r\n");
	assert_int_equal(r.verdict, REPLY_APPROVE);
	assert_string_equal(r.reason, "\xc3\xa7" "a va ici");
	/* RFC 2047 subject, two words joined */
	parse("Subject: =?ISO-8859-1?Q?Re:_caf=E9?= =?UTF-8?B?IOKckw==?=\r\n\r\nx\r\n");
	assert_string_equal(r.subject, "Re: caf\xc3\xa9 \xe2\x9c\x93");
}

static void test_codes(void **state)
{
	(void)state;
	parse("From: a@example.com\r\nTo: gate@example.com\r\n\r\napprove\r\n");
	assert_int_equal(r.ncodes, 0);
	parse("From: a@example.com\r\nTo: gate+" CODE "@example.com\r\nCc: gate+" CODE2 "@example.com\r\n\r\napprove\r\n");
	assert_int_equal(r.ncodes, 2);
	/* a code one character short or long is no code */
	parse("From: a@example.com\r\n\r\napprove\r\nReply code: " CODE "x\r\nReply code: THAOPR\r\n");
	assert_int_equal(r.ncodes, 0);
}

static void test_automatic(void **state)
{
	(void)state;
	parse(HEAD "Auto-Submitted: auto-replied\r\n\r\napprove\r\n");
	assert_non_null(r.automatic);
	parse(HEAD "Auto-Submitted: no\r\n\r\napprove\r\n");
	assert_null(r.automatic);
	parse(HEAD "Precedence: bulk\r\n\r\napprove\r\n");
	assert_non_null(r.automatic);
	parse(HEAD "Subject: Out of Office: away\r\n\r\napprove\r\n");
	assert_non_null(r.automatic);
	parse("From: MAILER-DAEMON@example.com\r\n\r\napprove\r\n");
	assert_non_null(r.automatic);
	parse(HEAD "Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n\r\napprove\r\n--x--\r\n");
	assert_non_null(r.automatic);
}

static void test_from(void **state)
{
	(void)state;
	parse("From: \"Doe, Jane\" <jane@example.com>\r\n\r\nx\r\n");
	assert_string_equal(r.from, "jane@example.com");
	parse("From: jane@example.com (Jane)\r\n\r\nx\r\n");
	assert_string_equal(r.from, "jane@example.com");
	parse("From: a@example.com, b@example.com\r\n\r\nx\r\n");
	assert_string_equal(r.from, "");
	parse("From: <a@b@example.com>\r\n\r\nx\r\n");
	assert_string_equal(r.from, "");
}

static void test_auth_results(void **state)
{
	char why[256];

	(void)state;
	parse("Authentication-Results: mx.example.com (comment); dkim=pass header.d=example.com;\r\n"
	      " dmarc=pass (p=reject) header.from=example.com\r\nFrom: a@example.com\r\n\r\nx\r\n");
	assert_true(reply_auth_ok(&r, "mx.example.com", why, sizeof(why)));
	assert_true(reply_auth_ok(&r, "MX.EXAMPLE.COM", why, sizeof(why)));
	assert_false(reply_auth_ok(&r, "other.example", why, sizeof(why)));
	assert_string_equal(why, "no Authentication-Results from other.example");
	/* dmarc for another domain than From */
	parse("Authentication-Results: mx.example.com; dmarc=pass header.from=evil.example\r\nFrom: a@example.com\r\n\r\nx\r\n");
	assert_false(reply_auth_ok(&r, "mx.example.com", why, sizeof(why)));
	/* aligned DKIM: a parent domain; unaligned: another one */
	parse("Authentication-Results: mx.example.com; dkim=pass header.d=example.com\r\nFrom: a@eu.example.com\r\n\r\nx\r\n");
	assert_true(reply_auth_ok(&r, "mx.example.com", why, sizeof(why)));
	parse("Authentication-Results: mx.example.com; dkim=pass header.d=ample.com\r\nFrom: a@example.com\r\n\r\nx\r\n");
	assert_false(reply_auth_ok(&r, "mx.example.com", why, sizeof(why)));
	/* only the topmost field of the trusted server counts */
	parse("Authentication-Results: mx.example.com; dmarc=fail header.from=example.com\r\n"
	      "Authentication-Results: mx.example.com; dmarc=pass header.from=example.com\r\n"
	      "From: a@example.com\r\n\r\nx\r\n");
	assert_false(reply_auth_ok(&r, "mx.example.com", why, sizeof(why)));
	assert_string_equal(why, "mx.example.com did not vouch for example.com (dmarc=fail)");
}

static void test_caps(void **state)
{
	size_t n = 2 * REPLY_MAX_INPUT;
	char *big = malloc(n + 1);

	(void)state;
	memset(big, 'a', n);
	memcpy(big, "From: a@example.com\r\n\r\napprove ", 31);
	big[n] = '\0';
	parse(big);
	assert_int_equal(r.verdict, REPLY_APPROVE);
	assert_true(strlen(r.reason) <= REPLY_REASON_MAX);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_approve),
		cmocka_unit_test(test_first_line_rules),
		cmocka_unit_test(test_html_only),
		cmocka_unit_test(test_encodings_and_charsets),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_automatic),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_auth_results),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
