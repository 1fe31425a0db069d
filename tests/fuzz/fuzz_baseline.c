/* fuzz_baseline.c - fuzz the baseline note parser and merge.
 *
 * Input: a note (the object keyed by gate name that a git note or a
 * dir-store file holds).  It is parsed for the gate "model-release", and a
 * fixed document is merged into it; the merged note must parse again.
 * Malformed input is expected to be refused, never to crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct baseline_doc doc, mine;
	char err[256], *merged;
	int found;

	if (!baseline_note_parse((const char *)data, size, "model-release", &doc, &found,
				 err, sizeof(err)))
		baseline_doc_release(&doc);
	memset(&mine, 0, sizeof(mine));
	mine.gate = "model-release";
	mine.commit = "0123456789abcdef0123456789abcdef01234567";
	mine.recorded = "2026-01-02T03:04:05Z";
	mine.outcome = "pass";
	mine.values = cJSON_CreateObject();
	cJSON_AddNumberToObject(mine.values, "$.latencyMs", 225);
	merged = baseline_note_merge((const char *)data, size, &mine, err, sizeof(err));
	if (baseline_note_parse(merged, strlen(merged), "model-release", &doc, &found, err, sizeof(err)) ||
	    !found)
		abort();	/* what greenlight writes, it must read back */
	baseline_doc_release(&doc);
	free(merged);
	cJSON_Delete(mine.values);
	return 0;
}
