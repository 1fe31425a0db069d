/* cmd_validate.c - `greenlight validate`: check a gate file on its own. */
#include <getopt.h>
#include <stdlib.h>

#include "cmd.h"
#include "evaluate.h"
#include "gate.h"
#include "utf8.h"
#include "util.h"

void usage_validate(FILE *out)
{
	fputs("usage: greenlight validate [-g GATE]\n"
	      "\n"
	      "Check a gate file: JSON syntax, keys, rule syntax, outcomes and teams.\n"
	      "Errors are printed as FILE:LINE:COL: what is wrong; what would be valid.\n"
	      "\n"
	      "  -g, --gate FILE   gate file (default greenlight.json; $GREENLIGHT_GATE)\n"
	      "  -h, --help        show this help\n"
	      "\n"
	      "Exit: 0 valid, 2 invalid or unreadable.\n", out);
}

int cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "gate", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct gate g;
	char *file, *name;
	int c;

	while ((c = getopt_long(argc, argv, "g:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'g': path = optarg; break;
		case 'h': usage_validate(stdout); return GL_EXIT_PASS;
		default: usage_validate(stderr); return GL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		error("validate: unexpected argument '%s'; see 'greenlight help validate'", argv[optind]);
		return GL_EXIT_USAGE;
	}
	if (gate_load(&g, path ? path : default_gate_path()))
		return GL_EXIT_USAGE;
	file = utf8_escape_dup(g.file, NULL);
	name = utf8_escape_dup(g.name, NULL);
	printf("%s: ok: gate \"%s\", %zu rule%s, %zu team%s, match %s\n", file, name,
	       g.choices.nrules, g.choices.nrules == 1 ? "" : "s",
	       g.nteams, g.nteams == 1 ? "" : "s",
	       g.match == GATE_MATCH_ALL ? "all" : "first");
	free(file);
	free(name);
	gate_release(&g);
	return GL_EXIT_PASS;
}
