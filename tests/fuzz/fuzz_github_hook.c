/* fuzz_github_hook.c - fuzz the GitHub App webhook parser.
 *
 * Arbitrary bytes go through github_hook_parse (the strict JSON scanner
 * and the checks of every member the relay uses), and through the
 * signature check with a fixed secret and header.  A refusal must say
 * why; an accepted event must hold only what the checks allow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "github_app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct github_hook h;
	char why[256] = "";

	if (github_signature_ok("fuzz-secret", data, size,
				"sha256=0000000000000000000000000000000000000000000000000000000000000000"))
		abort();
	if (github_hook_parse((const char *)data, size, &h, why, sizeof(why))) {
		if (!why[0])
			abort();
		return 0;
	}
	if (!strchr(h.repository, '/') || !h.run[0] || strspn(h.run, "0123456789") != strlen(h.run) ||
	    (strlen(h.sha) != 40 && strlen(h.sha) != 64) || !h.environment[0] || !h.installation[0])
		abort();
	return 0;
}
