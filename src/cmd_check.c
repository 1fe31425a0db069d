/* cmd_check.c - `greenlight check`: evaluate the gate, never send mail.
 *
 * Prints the rule table (or the decision record with --json) and exits
 * with the verdict: 0 pass, 1 fail, 5 review needed, 2 bad input.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ci.h"
#include "cmd.h"
#include "evaluate.h"
#include "fileio.h"
#include "report.h"
#include "util.h"

void usage_check(FILE *out)
{
	fputs("usage: greenlight check [-g GATE] [-r RESULTS|-] [--json] [-o FILE]\n"
	      "                        [--junit FILE] [--max-results-bytes N]\n"
	      "\n"
	      "Evaluate the gate's rules against the results and print each rule with\n"
	      "the value found, whether it fired, and the outcome.  Never sends mail.\n"
	      "\n"
	      "  -g, --gate FILE            gate file (default greenlight.json; $GREENLIGHT_GATE)\n"
	      "  -r, --results FILE|-       results JSON, - for stdin (default: the gate's\n"
	      "                             \"results\", else results.json; $GREENLIGHT_RESULTS)\n"
	      "      --json                 print the decision record as JSON instead\n"
	      "  -o, --output FILE          also write the decision record to FILE\n"
	      "                             ($GREENLIGHT_OUTPUT)\n"
	      "      --junit FILE           also write a JUnit XML report, one testcase per\n"
	      "                             rule ($GREENLIGHT_JUNIT; docs/ci/README.md)\n"
	      "      --max-results-bytes N  refuse larger results (default 64M;\n"
	      "                             $GREENLIGHT_MAX_RESULTS_BYTES)\n"
	      "  -h, --help                 show this help\n"
	      "\n"
	      "Exit: 0 pass, 1 fail, 5 review needed, 2 bad usage or input,\n"
	      "      4 output could not be written.  See docs/exit-codes.md.\n", out);
}

int write_record(const char *path, const char *json)
{
	size_t n = strlen(json);
	char *text = xmalloc(n + 2);
	int ret;

	memcpy(text, json, n);
	text[n] = '\n';
	text[n + 1] = '\0';
	ret = write_file_atomic(path, text, n + 1);
	free(text);
	return ret;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "gate", required_argument, NULL, 'g' },
		{ "results", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "junit", required_argument, NULL, 'J' },
		{ "max-results-bytes", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eval_opts o = { 0 };
	struct evaluation e;
	const char *output = getenv("GREENLIGHT_OUTPUT");
	const char *junit = NULL;
	int json = 0, c, code;
	char *text = NULL;
	cJSON *record;
	struct report_baseline rb;
	const struct report_baseline *b;

	while ((c = getopt_long(argc, argv, "g:r:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'g': o.gate = optarg; break;
		case 'r': o.results = optarg; break;
		case 'j': json = 1; break;
		case 'o': output = optarg; break;
		case 'J': junit = optarg; break;
		case 'm':
			if (eval_opts_max_results(&o, optarg))
				return GL_EXIT_USAGE;
			break;
		case 'h': usage_check(stdout); return GL_EXIT_PASS;
		default: usage_check(stderr); return GL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		error("check: unexpected argument '%s'; see 'greenlight help check'", argv[optind]);
		return GL_EXIT_USAGE;
	}
	if (evaluate(&e, &o))
		return GL_EXIT_USAGE;
	code = outcome_exit_code(e.verdict.outcome);
	b = evaluation_baseline(&e, &rb);
	record = report_json(&e.gate, e.results_file, &e.verdict, time(NULL), b);
	text = cJSON_Print(record);
	if (json)
		printf("%s\n", text);
	else
		report_text(stdout, &e.gate, e.results_file, &e.verdict, b);
	if (output && *output && write_record(output, text))
		code = GL_EXIT_INFRA;
	if (e.verdict.outcome == OUTCOME_PASS && e.gate.baseline.present &&
	    e.gate.baseline.record_on_pass && record_outcome(&e, "pass", json ? stderr : stdout))
		code = GL_EXIT_INFRA;
	if (ci_write_outputs(record, output, junit))
		code = GL_EXIT_INFRA;
	free(text);
	cJSON_Delete(record);
	evaluation_release(&e);
	return code;
}
