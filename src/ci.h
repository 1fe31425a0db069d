/* ci.h - the CI system greenlight runs in: GitHub Actions, GitLab CI,
 * Jenkins, or none ("local"), each a provider ops-struct.
 *
 * A provider is detected from the variables its CI sets (GREENLIGHT_CI
 * names one explicitly).  It supplies facts about the run (run URL, commit,
 * branch, who triggered it) and writes the outputs its CI reads: GitHub's
 * $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY and annotations; GitLab's dotenv
 * report.  JUnit XML (--junit) and a dotenv file ($GREENLIGHT_DOTENV) are
 * written under every provider.  The environment is passed in as an
 * environ-style array, so tests can pose as any CI.
 */
#ifndef GREENLIGHT_CI_H
#define GREENLIGHT_CI_H

#include <stdio.h>
#include <cjson/cJSON.h>
#include "ci_report.h"

/* An environment: NULL-terminated "NAME=value" strings (like environ). */
struct ci_env {
	char *const *vars;
};

/* Value of NAME, or NULL when unset or empty. */
const char *ci_getenv(const struct ci_env *env, const char *name);

/* Facts about the run; every string may be NULL. */
struct ci_info {
	const char *provider;	/* "github", "gitlab", "jenkins", "local" */
	char *run_url;		/* the pipeline / workflow run / build page */
	char *commit;		/* full commit id the CI built */
	char *branch;		/* branch (or PR source branch) */
	char *target_branch;	/* a pull/merge request's target branch */
	char *repository;	/* owner/name or project URL */
	char *commit_url_base;	/* a commit's page on the forge without the sha:
				 * "https://github.com/o/r/commit/" */
	char *actors;		/* who triggered the run, comma-separated logins */
	char *actor_email;	/* the triggering user's email, when the CI knows it */
};

/* Where the outputs go: stream for annotations (stderr in production). */
struct ci_output_opts {
	const char *decision_file;	/* -o FILE, or NULL */
	const char *junit;		/* --junit FILE, or NULL */
	FILE *log;			/* annotations and workflow commands */
};

struct ci_provider {
	const char *name;
	/* whether this CI set the environment */
	int (*detect)(const struct ci_env *env);
	/* fill *ci (provider already set) */
	void (*info)(const struct ci_env *env, struct ci_info *ci);
	/* dotenv file written when $GREENLIGHT_DOTENV is unset, or NULL */
	const char *dotenv_default;
	/* provider-specific outputs; NULL if none.  0, or -1 reported */
	int (*outputs)(const struct ci_env *env, const cJSON *record,
		       const struct ci_values *cv, const struct ci_output_opts *o);
};

extern const struct ci_provider ci_github, ci_gitlab, ci_jenkins, ci_local;

/* The provider named by $GREENLIGHT_CI, else the first that detects
 * itself, else ci_local.  An unknown $GREENLIGHT_CI is warned about and
 * ignored.  Never NULL. */
const struct ci_provider *ci_detect(const struct ci_env *env);

/* Detect and fill *ci.  Cannot fail. */
void ci_info_get(struct ci_info *ci, const struct ci_env *env);
void ci_info_release(struct ci_info *ci);

/* The facts as the $$.Ci context object: {"Provider", "RunUrl", "Commit",
 * "Branch", "TargetBranch", "Repository", "TriggeredBy": [...],
 * "TriggeredByEmail"},
 * members absent when unknown.  New object; the caller deletes it. */
cJSON *ci_info_json(const struct ci_info *ci);

/* Write every output for a decision record: the provider's own, the JUnit
 * file and the dotenv file.  Each is attempted even if an earlier one
 * failed.  Returns 0, or -1 after reporting what could not be written. */
int ci_write(const struct ci_env *env, const cJSON *record, const struct ci_output_opts *o);

/* The same for commands: the process environment, annotations on stderr,
 * junit from the flag else $GREENLIGHT_JUNIT. */
int ci_write_outputs(const cJSON *record, const char *decision_file, const char *junit);

/* ci_info_get() on the process environment. */
void ci_info_detect(struct ci_info *ci);

#endif
