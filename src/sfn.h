/* sfn.h - import an AWS Step Functions definition (Amazon States Language)
 * as a gate file.
 *
 * Pure: text in, gate text out.  The Choice state reached from StartAt
 * becomes the gate's rules (copied as they are); each Next and the Default
 * are mapped to an outcome: a state that ends in Succeed is "pass", one that
 * ends in Fail is "fail", a Task that waits for a task token (it notifies
 * someone and waits) is a team.  Anything else a target leads to is an
 * error, so an imported gate never silently differs from the definition.
 * States that are skipped or not imported are named in one warning line
 * each.  See docs/import-sfn.md.
 */
#ifndef GREENLIGHT_SFN_H
#define GREENLIGHT_SFN_H

#include <stddef.h>

#define SFN_MAX_BYTES (1024 * 1024)	/* Step Functions' own limit on a definition */

/* A team's addresses as given on the command line (--team NAME=ADDR,...). */
struct sfn_team {
	char *name;
	char **email;
	size_t nemail;
};

struct sfn_opts {
	const char *name;		/* gate name, or NULL: Comment, else file name */
	const struct sfn_team *teams;	/* addresses for the teams, by name */
	size_t nteams;
};

/* Parse "NAME=ADDR[,ADDR...]" into *t.  Returns 0, or -1 after reporting
 * one error (*t is then empty). */
int sfn_parse_team(const char *arg, struct sfn_team *t);
void sfn_team_release(struct sfn_team *t);

/* Convert the definition `text` (read from `file`, used in messages and
 * for the default name) into a gate file: *out receives NUL-terminated JSON
 * with a 2-space indent and a final newline (caller frees).  *placeholders
 * is the number of teams written with a placeholder address because no
 * address was known.  Returns 0, or -1 after reporting one error. */
int sfn_import(const char *file, const char *text, size_t len,
	       const struct sfn_opts *o, char **out, size_t *placeholders);

#endif
