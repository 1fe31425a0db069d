/* fuzz_sfn.c - fuzz the Step Functions import (src/sfn.c): parse the
 * definition, follow StartAt, map the Choice's targets, write and reload
 * the gate.  Every input must end in a gate or one error, without a crash,
 * a leak or undefined behaviour.  The input is the definition; if it
 * contains a NUL byte, the part after it is one --team argument.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sfn.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	struct sfn_team team;
	struct sfn_opts o = { NULL, NULL, 0 };
	char *out = NULL, *arg = NULL;
	size_t len = size, ph;

	if (nul) {
		len = (size_t)(nul - text);
		arg = xstrndup(nul + 1, size - len - 1);
		if (!sfn_parse_team(arg, &team)) {
			o.teams = &team;
			o.nteams = 1;
		}
	}
	if (!sfn_import("fuzz-sfn.json", text, len, &o, &out, &ph))
		free(out);
	if (o.nteams)
		sfn_team_release(&team);
	free(arg);
	return 0;
}
