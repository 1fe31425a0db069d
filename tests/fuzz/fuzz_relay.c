/* fuzz_relay.c - fuzz the relay's registration body parser.
 *
 * Arbitrary bytes go through the same strict JSON scanner and field checks
 * as POST /v1/requests (relay_api_check_register), with a fixed clock.
 * A reason must always be given for a refusal.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "relay_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[300];

	if (relay_api_check_register((const char *)data, size, 1700000000, why, sizeof(why)) &&
	    !why[0])
		abort();
	return 0;
}
