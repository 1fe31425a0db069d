/* cmd_record.c - `greenlight record`: store this commit's values as a
 * baseline for later runs (docs/baselines.md).
 *
 * Evaluates the gate like `check`; only a passing outcome is recorded
 * (`run` records approved ones itself).  Recording the same commit again
 * replaces the gate's entry for it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "baseline_store.h"
#include "cmd.h"
#include "evaluate.h"
#include "util.h"

void usage_record(FILE *out)
{
	fputs("usage: greenlight record [-g GATE] [-r RESULTS|-] [--max-results-bytes N]\n"
	      "\n"
	      "Evaluate the gate and, when it passes, store the values its rules read\n"
	      "for HEAD as a baseline (the gate's \"baseline\" store: git notes on\n"
	      "refs/notes/greenlight by default, dir:PATH, or relay: kept by\n"
	      "greenlight relay, at $GREENLIGHT_RELAY).  Recording a commit\n"
	      "again replaces its entry.  Rules read baselines as $$.Baseline,\n"
	      "$$.Delta and $$.DeltaPct (docs/baselines.md).\n"
	      "\n"
	      "  -g, --gate FILE            gate file (default greenlight.json; $GREENLIGHT_GATE)\n"
	      "  -r, --results FILE|-       results JSON, - for stdin ($GREENLIGHT_RESULTS)\n"
	      "      --max-results-bytes N  refuse larger results (default 64M)\n"
	      "  -h, --help                 show this help\n"
	      "\n"
	      "Exit: 0 recorded, 1 or 5 not recorded (the gate fails or needs review),\n"
	      "      2 bad usage or input, 4 the store could not be written.\n", out);
}

int record_outcome(const struct evaluation *e, const char *outcome, FILE *log)
{
	return baseline_record(&e->gate, e->results.values, outcome, log);
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "gate", required_argument, NULL, 'g' },
		{ "results", required_argument, NULL, 'r' },
		{ "max-results-bytes", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eval_opts o = { 0 };
	struct evaluation e;
	int c, code;

	while ((c = getopt_long(argc, argv, "g:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'g': o.gate = optarg; break;
		case 'r': o.results = optarg; break;
		case 'm':
			if (eval_opts_max_results(&o, optarg))
				return GL_EXIT_USAGE;
			break;
		case 'h': usage_record(stdout); return GL_EXIT_PASS;
		default: usage_record(stderr); return GL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		error("record: unexpected argument '%s'; see 'greenlight help record'", argv[optind]);
		return GL_EXIT_USAGE;
	}
	if (evaluate(&e, &o))
		return GL_EXIT_USAGE;
	code = outcome_exit_code(e.verdict.outcome);
	if (e.verdict.outcome != OUTCOME_PASS)
		error("record: gate %s does not pass (outcome %s); only passing or approved releases are recorded",
		      e.gate.name, outcome_name(e.verdict.outcome));
	else if (record_outcome(&e, "pass", stdout))
		code = GL_EXIT_INFRA;
	evaluation_release(&e);
	return code;
}
