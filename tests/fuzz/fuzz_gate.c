/* fuzz_gate.c - fuzz gate loading, results loading and evaluation together.
 *
 * Input: a gate file, a NUL byte, then a results document (no NUL: the
 * whole input is used as both, which still exercises both parsers).  Every
 * path through load, bind and verdict must end without a crash, a leak or
 * undefined behaviour; errors are expected (run the fuzzer with
 * -close_fd_mask=2 to keep their messages out of its output).
 */
#include <stdint.h>
#include <string.h>

#include "evaluate.h"
#include "fuzz.h"
#include "report.h"

static void evaluate_once(const char *gtext, size_t glen, const char *rtext, size_t rlen)
{
	struct gate g;
	struct results r;
	struct verdict v;
	struct choice_error err;
	cJSON *ctx, *rec;

	if (gate_load_text(&g, "fuzz-gate.json", gtext, glen))
		return;
	ctx = context_build(&g);
	if (!results_bind(&r, "fuzz-results.json", rtext, rlen, &g.choices, ctx)) {
		if (!verdict_compute(&v, &g, r.values, &err)) {
			rec = report_json(&g, "fuzz-results.json", &v, 0, NULL);
			cJSON_Delete(rec);
			verdict_release(&v);
		}
		results_release(&r);
	}
	cJSON_Delete(ctx);
	gate_release(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	if (nul)
		evaluate_once(text, (size_t)(nul - text), nul + 1, size - (size_t)(nul - text) - 1);
	else
		evaluate_once(text, size, text, size);
	return 0;
}
