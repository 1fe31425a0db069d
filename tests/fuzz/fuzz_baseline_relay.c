/* fuzz_baseline_relay.c - fuzz what the relay baseline store takes from a
 * lookup answer (baseline_relay_take).
 *
 * Input: the relay's answer, parsed as cJSON the way the relay client
 * parses it.  Whatever it holds, at most `window` documents come back,
 * each of the gate asked for and for a commit that was asked for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "baseline_relay.h"
#include "fuzz.h"

#define WINDOW 3

static const char *const commits[] = {
	"0123456789abcdef0123456789abcdef01234567",
	"1111111111111111111111111111111111111111",
	"2222222222222222222222222222222222222222",
	"3333333333333333333333333333333333333333",
};

static int asked(const char *sha)
{
	for (size_t i = 0; i < sizeof(commits) / sizeof(commits[0]); i++)
		if (!strcmp(sha, commits[i]))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct baseline_doc docs[WINDOW];
	cJSON *answer = cJSON_ParseWithLength((const char *)data, size);
	char why[320];
	size_t dropped;
	long n;

	n = baseline_relay_take(answer, "model-release", commits, 4, docs, WINDOW,
				&dropped, why, sizeof(why));
	if (n > WINDOW)
		abort();
	for (long i = 0; i < n; i++) {
		if (strcmp(docs[i].gate, "model-release") || !asked(docs[i].commit))
			abort();
		baseline_doc_release(&docs[i]);
	}
	cJSON_Delete(answer);
	return 0;
}
