/* fuzz_review.c - fuzz reading review facts back (review_from_json).
 *
 * Input: the facts JSON a store or a relay keeps for a request; a relay
 * is outside the gate's trust, so the page must show any bytes it sends
 * without crashing.  The input goes through the strict scanner the page
 * uses; what parses is read into a review, rendered as headline and
 * subject (the subject must stay within its 60 characters), written back
 * as JSON and read again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "review.h"

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc;
	struct json_err err;
	struct review rv, back;
	char h[1024], s[4 * REVIEW_SUBJECT_MAX + 1];
	cJSON *j;

	if (json_doc_parse(&doc, (const char *)data, size, &err))
		return 0;
	review_from_json(&rv, doc.root);
	json_doc_release(&doc);
	review_headline(&rv, h, sizeof(h));
	review_subject(&rv, s, sizeof(s));
	if (chars(s) > REVIEW_SUBJECT_MAX)
		abort();
	j = review_to_json(&rv);
	review_from_json(&back, j);
	if (back.ntests != rv.ntests || back.nteams != rv.nteams)
		abort();	/* what is written reads back */
	cJSON_Delete(j);
	review_release(&back);
	review_release(&rv);
	return 0;
}
