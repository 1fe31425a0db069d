/* cmd_import.c - `greenlight import-sfn`: write a gate file from an AWS
 * Step Functions definition (the mapping is src/sfn.c). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "fileio.h"
#include "sfn.h"
#include "util.h"

void usage_import_sfn(FILE *out)
{
	fputs("usage: greenlight import-sfn FILE [--team NAME=ADDR[,ADDR...]]... [--name NAME] [-o OUT]\n"
	      "\n"
	      "Write a gate file from an AWS Step Functions definition (FILE, or - for\n"
	      "stdin): the rules of the Choice state reached from StartAt, with each Next\n"
	      "and the Default mapped to pass (a state that ends in Succeed), fail (ends\n"
	      "in Fail) or a team (a .waitForTaskToken task; named by its Payload's\n"
	      "team_alias or team, else after the state).  Anything else a Choice leads\n"
	      "to is an error.  Skipped and unused states are named on stderr.\n"
	      "\n"
	      "      --team NAME=ADDR[,ADDR...]  the team's addresses (repeat per team)\n"
	      "      --name NAME                 gate name (default: Comment, else the file name)\n"
	      "  -o, --output OUT                write the gate to OUT (default stdout)\n"
	      "  -h, --help                      show this help\n"
	      "\n"
	      "A team with no address gets a placeholder (NAME@example.invalid) and a\n"
	      "warning; the gate is still written.\n"
	      "Exit: 0 gate written (warnings included), 2 bad usage, an unreadable or\n"
	      "invalid definition, or a state the gate cannot express; 4 OUT could not\n"
	      "be written.  See docs/import-sfn.md.\n", out);
}

int cmd_import_sfn(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "team", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct buf in = BUF_INIT(SFN_MAX_BYTES);
	struct sfn_team *teams = NULL;
	struct sfn_opts o = { NULL, NULL, 0 };
	const char *output = NULL, *file;
	char *gate = NULL;
	size_t nteams = 0, placeholders;
	int c, rc, ret = GL_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			teams = xrealloc(teams, (nteams + 1) * sizeof(*teams));
			if (sfn_parse_team(optarg, &teams[nteams]))
				goto out;
			for (size_t k = 0; k < nteams; k++)
				if (!strcmp(teams[k].name, teams[nteams].name)) {
					error("--team %s is given twice; list all its addresses in one --team", teams[k].name);
					sfn_team_release(&teams[nteams]);
					goto out;
				}
			nteams++;
			break;
		case 'n': o.name = optarg; break;
		case 'o': output = optarg; break;
		case 'h': usage_import_sfn(stdout); ret = GL_EXIT_PASS; goto out;
		default: usage_import_sfn(stderr); goto out;
		}
	}
	if (optind >= argc) {
		error("import-sfn: name the state machine definition to import; see 'greenlight help import-sfn'");
		goto out;
	}
	if (optind + 1 < argc) {
		error("import-sfn: unexpected argument '%s'; see 'greenlight help import-sfn'", argv[optind + 1]);
		goto out;
	}
	file = argv[optind];
	rc = buf_read_file(&in, file);
	if (rc == BUF_TOOBIG) {
		error("%s: the definition is larger than %d bytes (Step Functions' own limit)", file, SFN_MAX_BYTES);
		goto out;
	}
	if (rc) {
		error("cannot read '%s': %s", file, strerror(errno));
		goto out;
	}
	o.teams = teams;
	o.nteams = nteams;
	if (sfn_import(file, in.data, in.len, &o, &gate, &placeholders))
		goto out;
	if (output) {
		if (write_file_atomic(output, gate, strlen(gate))) {
			ret = GL_EXIT_INFRA;
			goto out;
		}
	} else {
		fputs(gate, stdout);
	}
	ret = GL_EXIT_PASS;
out:
	for (size_t k = 0; k < nteams; k++)
		sfn_team_release(&teams[k]);
	free(teams);
	free(gate);
	buf_release(&in);
	return ret;
}
