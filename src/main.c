/* main.c - greenlight's entry point: the command table and exit policy.
 *
 * Each command lives in src/cmd_<name>.c and returns an exit code (see
 * docs/exit-codes.md).  main() only dispatches, and makes sure that what a
 * command printed really reached stdout: a failed write is an error, not
 * silence.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "util.h"

struct cmd_struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	void (*usage)(FILE *out);
	const char *summary;
};

static const struct cmd_struct commands[] = {
	{ "check", cmd_check, usage_check, "evaluate the gate against results; never sends mail" },
	{ "run", cmd_run, usage_run, "evaluate, email the owning team, wait for its decision" },
	{ "relay", cmd_relay, usage_relay, "serve review pages and an API for gates that cannot be reached" },
	{ "record", cmd_record, usage_record, "store this commit's values as a baseline for later runs" },
	{ "validate", cmd_validate, usage_validate, "check a gate file and explain its errors" },
	{ "import-sfn", cmd_import_sfn, usage_import_sfn, "write a gate file from an AWS Step Functions definition" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: greenlight <command> [options]\n"
	      "       greenlight --version | --help | help [COMMAND]\n\n"
	      "A release gate for CI: evaluates threshold rules (Amazon States Language\n"
	      "Choice syntax) against a build's results.json.\n\n"
	      "Commands:\n", out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nExit codes: 0 pass or approved, 1 fail or rejected, 2 bad usage or input,\n"
	      "3 timed out, 4 infrastructure failure, 5 review needed.  See docs/exit-codes.md.\n", out);
}

static const struct cmd_struct *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int help(int argc, char **argv)
{
	const struct cmd_struct *c;

	if (argc < 2) {
		usage(stdout);
		return GL_EXIT_PASS;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		error("no command '%s'; run 'greenlight help' for the list", argv[1]);
		return GL_EXIT_USAGE;
	}
	c->usage(stdout);
	return GL_EXIT_PASS;
}

static int dispatch(int argc, char **argv)
{
	const struct cmd_struct *c;

	if (argc < 2) {
		usage(stderr);
		return GL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("greenlight %s\n", GREENLIGHT_VERSION);
		return GL_EXIT_PASS;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help(argc - 1, argv + 1);
	c = find_cmd(argv[1]);
	if (!c) {
		error("'%s' is not a greenlight command; run 'greenlight help'", argv[1]);
		return GL_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	int code = dispatch(argc, argv);

	if (fflush(stdout) || ferror(stdout) || fclose(stdout)) {
		error("cannot write to standard output");
		return GL_EXIT_INFRA;
	}
	return code;
}
