/* fuzz_reply.c - libFuzzer target for src/reply.c: a whole message of
 * arbitrary bytes (headers, MIME structure, transfer encodings, charsets,
 * HTML, Authentication-Results).
 *
 * Invariants checked per input: every text the parser hands out (From,
 * Message-ID, Subject, first line, reason, Authentication-Results) is
 * NUL-terminated inside its buffer; Subject, first line and reason are
 * valid UTF-8 without control characters; From and Message-ID are
 * printable ASCII without blanks; every reply code has token syntax and
 * no code is kept twice; a reason only comes with a verdict; the codes
 * counted stay within REPLY_MAX_CODES.  reply_auth_ok and
 * reply_references run on the result.  Parsing the same bytes twice gives
 * the same result.  Failures abort(), which libFuzzer and replay.c report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "reply.h"
#include "token.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_reply: invariant failed: %s\n", what);
		abort();
	}
}

static void terminated(const char *s, size_t size, const char *what)
{
	check(memchr(s, '\0', size) != NULL, what);
}

/* Valid UTF-8 and no C0 controls or DEL. */
static int clean_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t k;

		if (*u < 0x20 || *u == 0x7f)
			return 0;
		if (*u < 0x80) {
			u++;
			continue;
		}
		k = *u >= 0xf0 ? 4 : *u >= 0xe0 ? 3 : *u >= 0xc0 ? 2 : 0;
		if (!k || *u > 0xf4 || (*u >= 0x80 && *u < 0xc2))
			return 0;
		for (size_t i = 1; i < k; i++)
			if ((u[i] & 0xc0) != 0x80)
				return 0;
		u += k;
	}
	return 1;
}

static int printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply *r = malloc(sizeof(*r)), *again = malloc(sizeof(*again));
	char why[256];

	if (!r || !again)
		abort();
	reply_parse(r, (const char *)data, size);
	terminated(r->from, sizeof(r->from), "From terminated");
	terminated(r->message_id, sizeof(r->message_id), "Message-ID terminated");
	terminated(r->subject, sizeof(r->subject), "Subject terminated");
	terminated(r->refs, sizeof(r->refs), "refs terminated");
	terminated(r->reason, sizeof(r->reason), "reason terminated");
	terminated(r->first_line, sizeof(r->first_line), "first line terminated");
	check(printable_ascii(r->from), "From is printable ASCII");
	check(printable_ascii(r->message_id), "Message-ID is printable ASCII");
	check(clean_utf8(r->subject), "Subject is clean UTF-8");
	check(clean_utf8(r->reason), "reason is clean UTF-8");
	check(r->ncodes <= REPLY_MAX_CODES, "codes within the cap");
	for (size_t i = 0; i < r->ncodes; i++) {
		check(token_syntax_ok(r->codes[i], strlen(r->codes[i])), "code has token syntax");
		for (size_t k = 0; k < i; k++)
			check(strcmp(r->codes[i], r->codes[k]) != 0, "no code kept twice");
	}
	check(r->verdict == REPLY_NONE || r->verdict == REPLY_APPROVE ||
	      r->verdict == REPLY_REJECT, "verdict is known");
	check(r->verdict != REPLY_NONE || !*r->reason, "a reason only with a verdict");
	check(r->nauth <= REPLY_MAX_AUTH, "auth fields within the cap");
	for (size_t i = 0; i < r->nauth; i++)
		terminated(r->auth[i], sizeof(r->auth[i]), "auth field terminated");
	(void)reply_auth_ok(r, "mx.example.com", why, sizeof(why));
	terminated(why, sizeof(why), "why terminated");
	(void)reply_references(r, "<0123456789abcdef0123456789abcdef@greenlight>");
	reply_parse(again, (const char *)data, size);
	check(!strcmp(r->from, again->from) && !strcmp(r->reason, again->reason) &&
	      r->verdict == again->verdict && r->ncodes == again->ncodes &&
	      !strcmp(r->first_line, again->first_line), "parsing is deterministic");
	free(r);
	free(again);
	return 0;
}
