/* ci.c - CI providers as ops-structs, detection, and output files (see ci.h).
 *
 * Only this file touches the CI's files: $GITHUB_OUTPUT and
 * $GITHUB_STEP_SUMMARY are appended to (the runner owns them; one write
 * each), JUnit and dotenv files are replaced atomically (fileio.c).  What
 * goes into them is rendered by ci_report.c.  Values that reach
 * $GITHUB_OUTPUT always use the heredoc form with a random delimiter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ci.h"
#include "fileio.h"
#include "token.h"
#include "util.h"

extern char **environ;

#define JUNIT_MAX (64u << 20)		/* bytes of a JUnit file */
#define SUMMARY_MAX (512u << 10)	/* GitHub allows 1 MiB per step */
#define SUMMARY_RULES 300		/* table rows before summarising */
#define SMALL_MAX (64u << 10)		/* outputs, annotations, dotenv */
#define DELIM_BYTES 16

const char *ci_getenv(const struct ci_env *env, const char *name)
{
	size_t n = strlen(name);

	for (char *const *v = env->vars; v && *v; v++)
		if (!strncmp(*v, name, n) && (*v)[n] == '=')
			return (*v)[n + 1] ? *v + n + 1 : NULL;
	return NULL;
}

static char *dup_env(const struct ci_env *env, const char *name)
{
	const char *v = ci_getenv(env, name);

	return v ? xstrdup(v) : NULL;
}

/* The first of several variables that is set, copied, or NULL. */
static char *first_env(const struct ci_env *env, const char *const *names)
{
	for (; *names; names++)
		if (ci_getenv(env, *names))
			return dup_env(env, *names);
	return NULL;
}

/* "a,b" from two variables, without repeating b when it equals a. */
static char *two_actors(const struct ci_env *env, const char *first, const char *second)
{
	const char *a = ci_getenv(env, first), *b = ci_getenv(env, second);
	struct buf out = BUF_INIT(4096);

	if (!a || !b || !strcmp(a, b))
		return a ? xstrdup(a) : b ? xstrdup(b) : NULL;
	if (buf_addf(&out, "%s,%s", a, b))
		return NULL;
	return buf_detach(&out, NULL);
}

/* ---- files -------------------------------------------------------------- */

static int append_file(const char *path, const char *data, size_t len, const char *what)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	int ret = -1;

	if (fd < 0)
		return error("cannot open '%s' (%s): %s", path, what, strerror(errno));
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		data += n;
		len -= (size_t)n;
	}
	ret = 0;
out:
	if (ret)
		error("cannot write '%s' (%s): %s", path, what, strerror(errno));
	if (close(fd) && !ret)
		ret = error("cannot write '%s' (%s): %s", path, what, strerror(errno));
	return ret;
}

static int write_junit(const char *path, const cJSON *record)
{
	struct buf b = BUF_INIT(JUNIT_MAX);
	int ret;

	if (ci_junit(&b, record))
		return error("cannot render the JUnit report for '%s': larger than %u bytes", path, JUNIT_MAX);
	ret = write_file_atomic(path, b.data, b.len);
	buf_release(&b);
	return ret;
}

static int write_dotenv(const char *path, const struct ci_values *cv)
{
	struct buf b = BUF_INIT(SMALL_MAX);
	int ret;

	if (ci_dotenv(&b, cv))
		return error("cannot render the dotenv file '%s'", path);
	ret = write_file_atomic(path, b.data ? b.data : "", b.len);
	buf_release(&b);
	return ret;
}

/* ---- GitHub Actions -------------------------------------------------- */

static int github_detect(const struct ci_env *env)
{
	const char *v = ci_getenv(env, "GITHUB_ACTIONS");

	return v && !strcmp(v, "true");
}

static char *github_run_url(const struct ci_env *env)
{
	const char *server = ci_getenv(env, "GITHUB_SERVER_URL");
	const char *repo = ci_getenv(env, "GITHUB_REPOSITORY");
	const char *id = ci_getenv(env, "GITHUB_RUN_ID");
	const char *attempt = ci_getenv(env, "GITHUB_RUN_ATTEMPT");
	struct buf b = BUF_INIT(4096);

	if (!repo || !id)
		return NULL;
	if (buf_addf(&b, "%s/%s/actions/runs/%s", server ? server : "https://github.com", repo, id))
		return NULL;
	if (attempt && strcmp(attempt, "1") && buf_addf(&b, "/attempts/%s", attempt))
		return NULL;
	return buf_detach(&b, NULL);
}

/* a + b + c + d when all are set, else NULL. */
static char *url_of(const char *a, const char *b, const char *c, const char *d)
{
	struct buf u = BUF_INIT(4096);

	if (!a || !b || !c || !d || buf_addf(&u, "%s%s%s%s", a, b, c, d))
		return NULL;
	return buf_detach(&u, NULL);
}

static void github_info(const struct ci_env *env, struct ci_info *ci)
{
	const char *server = ci_getenv(env, "GITHUB_SERVER_URL");

	const char *ref_type = ci_getenv(env, "GITHUB_REF_TYPE");

	ci->run_url = github_run_url(env);
	ci->commit = dup_env(env, "GITHUB_SHA");
	ci->branch = dup_env(env, "GITHUB_HEAD_REF");	/* pull requests */
	if (!ci->branch && (!ref_type || !strcmp(ref_type, "branch")))
		ci->branch = dup_env(env, "GITHUB_REF_NAME");
	ci->target_branch = dup_env(env, "GITHUB_BASE_REF");	/* pull requests */
	ci->repository = dup_env(env, "GITHUB_REPOSITORY");
	ci->commit_url_base = url_of(server ? server : "https://github.com", "/",
				     ci->repository, "/commit/");
	ci->actors = two_actors(env, "GITHUB_TRIGGERING_ACTOR", "GITHUB_ACTOR");
}

/* name<<DELIM lines with a fresh random delimiter. */
static int github_output(const char *path, const struct ci_values *cv)
{
	unsigned char rnd[DELIM_BYTES];
	char delim[sizeof("ghadelimiter_") + 2 * DELIM_BYTES];
	struct buf b = BUF_INIT(SMALL_MAX);
	int rc = 1, ret;

	for (int tries = 0; rc == 1 && tries < 4; tries++) {
		if (token_random_bytes(rnd, sizeof(rnd)))
			return error("cannot make a delimiter for '%s': the random generator failed", path);
		memcpy(delim, "ghadelimiter_", 13);
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(delim + 13 + 2 * i, 3, "%02x", rnd[i]);
		rc = ci_github_output(&b, cv, delim);
	}
	if (rc)
		return error("cannot render the outputs for '%s'", path);
	ret = append_file(path, b.data, b.len, "GITHUB_OUTPUT");
	buf_release(&b);
	return ret;
}

static int github_summary(const char *path, const cJSON *record, const struct ci_values *cv)
{
	struct buf b = BUF_INIT(SUMMARY_MAX);
	int ret;

	if (ci_markdown(&b, record, cv, SUMMARY_RULES) && ci_markdown(&b, record, cv, 20))
		return error("cannot render the step summary for '%s'", path);
	ret = append_file(path, b.data, b.len, "GITHUB_STEP_SUMMARY");
	buf_release(&b);
	return ret;
}

static int github_outputs(const struct ci_env *env, const cJSON *record,
			  const struct ci_values *cv, const struct ci_output_opts *o)
{
	const char *out = ci_getenv(env, "GITHUB_OUTPUT");
	const char *summary = ci_getenv(env, "GITHUB_STEP_SUMMARY");
	struct buf b = BUF_INIT(SMALL_MAX);
	int ret = 0;

	if (out && github_output(out, cv))
		ret = -1;
	if (summary && github_summary(summary, record, cv))
		ret = -1;
	if (!ci_annotation(&b, record, cv) && o->log) {
		fflush(stdout);
		fwrite(b.data, 1, b.len, o->log);
		fflush(o->log);
	}
	buf_release(&b);
	return ret;
}

const struct ci_provider ci_github = {
	.name = "github",
	.detect = github_detect,
	.info = github_info,
	.dotenv_default = NULL,
	.outputs = github_outputs,
};

/* ---- GitLab CI ---------------------------------------------------------- */

/* GitLab sets GITLAB_CI=true; gitlab-ci-local sets it to "false" but
 * provides the same job variables, so presence is what counts. */
static int gitlab_detect(const struct ci_env *env)
{
	return ci_getenv(env, "GITLAB_CI") && ci_getenv(env, "CI_PROJECT_DIR");
}

static void gitlab_info(const struct ci_env *env, struct ci_info *ci)
{
	static const char *const url[] = { "CI_PIPELINE_URL", "CI_JOB_URL", NULL };
	static const char *const branch[] = {
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_BRANCH", NULL,
	};
	static const char *const repo[] = { "CI_PROJECT_URL", "CI_PROJECT_PATH", NULL };

	ci->run_url = first_env(env, url);
	ci->commit = dup_env(env, "CI_COMMIT_SHA");
	ci->branch = first_env(env, branch);
	ci->target_branch = dup_env(env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME");
	ci->repository = first_env(env, repo);
	ci->commit_url_base = url_of(ci_getenv(env, "CI_PROJECT_URL"), "/-/commit/", "", "");
	ci->actors = dup_env(env, "GITLAB_USER_LOGIN");
	ci->actor_email = dup_env(env, "GITLAB_USER_EMAIL");
}

const struct ci_provider ci_gitlab = {
	.name = "gitlab",
	.detect = gitlab_detect,
	.info = gitlab_info,
	.dotenv_default = "greenlight.env",
	.outputs = NULL,
};

/* ---- Jenkins -------------------------------------------------------------- */

static int jenkins_detect(const struct ci_env *env)
{
	const char *tag = ci_getenv(env, "BUILD_TAG");

	return ci_getenv(env, "JENKINS_URL") || (tag && !strncmp(tag, "jenkins-", 8));
}

static void jenkins_info(const struct ci_env *env, struct ci_info *ci)
{
	static const char *const branch[] = { "CHANGE_BRANCH", "BRANCH_NAME", "GIT_BRANCH", NULL };
	static const char *const actors[] = { "BUILD_USER_ID", "CHANGE_AUTHOR", NULL };
	static const char *const email[] = { "BUILD_USER_EMAIL", "CHANGE_AUTHOR_EMAIL", NULL };

	ci->run_url = dup_env(env, "BUILD_URL");
	ci->commit = dup_env(env, "GIT_COMMIT");
	ci->branch = first_env(env, branch);
	if (ci->branch && !strncmp(ci->branch, "origin/", 7))
		memmove(ci->branch, ci->branch + 7, strlen(ci->branch + 7) + 1);
	ci->target_branch = dup_env(env, "CHANGE_TARGET");	/* multibranch PRs */
	ci->repository = dup_env(env, "GIT_URL");
	ci->actors = first_env(env, actors);
	ci->actor_email = first_env(env, email);
}

const struct ci_provider ci_jenkins = {
	.name = "jenkins",
	.detect = jenkins_detect,
	.info = jenkins_info,
	.dotenv_default = NULL,
	.outputs = NULL,
};

/* ---- local (no CI) -------------------------------------------------------- */

static int local_detect(const struct ci_env *env)
{
	(void)env;
	return 1;
}

static void local_info(const struct ci_env *env, struct ci_info *ci)
{
	(void)env;
	(void)ci;
}

const struct ci_provider ci_local = {
	.name = "local",
	.detect = local_detect,
	.info = local_info,
	.dotenv_default = NULL,
	.outputs = NULL,
};

/* ---- detection and the public entry points ------------------------------ */

static const struct ci_provider *const providers[] = {
	&ci_github, &ci_gitlab, &ci_jenkins, &ci_local,
};
#define NPROVIDERS (sizeof(providers) / sizeof(providers[0]))

const struct ci_provider *ci_detect(const struct ci_env *env)
{
	static int warned;
	const char *forced = ci_getenv(env, "GREENLIGHT_CI");

	if (forced && !strcmp(forced, "none"))
		return &ci_local;
	for (size_t i = 0; forced && i < NPROVIDERS; i++)
		if (!strcmp(forced, providers[i]->name))
			return providers[i];
	if (forced && !warned++)
		warning("GREENLIGHT_CI \"%s\" is not a CI greenlight knows (github, gitlab, jenkins, local); detecting it instead",
			forced);
	for (size_t i = 0; i < NPROVIDERS; i++)
		if (providers[i]->detect(env))
			return providers[i];
	return &ci_local;
}

void ci_info_get(struct ci_info *ci, const struct ci_env *env)
{
	const struct ci_provider *p = ci_detect(env);
	const char *who = ci_getenv(env, "GREENLIGHT_TRIGGERED_BY");

	memset(ci, 0, sizeof(*ci));
	ci->provider = p->name;
	p->info(env, ci);
	if (who) {
		free(ci->actors);
		ci->actors = xstrdup(who);
	}
}

void ci_info_release(struct ci_info *ci)
{
	free(ci->run_url);
	free(ci->commit);
	free(ci->branch);
	free(ci->target_branch);
	free(ci->repository);
	free(ci->commit_url_base);
	free(ci->actors);
	free(ci->actor_email);
	memset(ci, 0, sizeof(*ci));
}

static void add_str(cJSON *o, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(o, key, value);
}

cJSON *ci_info_json(const struct ci_info *ci)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "Provider", ci->provider);
	add_str(o, "RunUrl", ci->run_url);
	add_str(o, "Commit", ci->commit);
	add_str(o, "Branch", ci->branch);
	add_str(o, "TargetBranch", ci->target_branch);
	add_str(o, "Repository", ci->repository);
	if (ci->actors) {
		cJSON *list = cJSON_AddArrayToObject(o, "TriggeredBy");
		const char *p = ci->actors;

		while (*p) {
			size_t n = strcspn(p, ",");
			char *one = xstrndup(p, n);

			cJSON_AddItemToArray(list, cJSON_CreateString(one));
			free(one);
			p += n + (p[n] == ',');
		}
	}
	add_str(o, "TriggeredByEmail", ci->actor_email);
	return o;
}

int ci_write(const struct ci_env *env, const cJSON *record, const struct ci_output_opts *o)
{
	const struct ci_provider *p = ci_detect(env);
	const char *dotenv = ci_getenv(env, "GREENLIGHT_DOTENV");
	struct ci_values cv;
	int ret = 0;

	ci_values_init(&cv, record, o->decision_file);
	if (p->outputs && p->outputs(env, record, &cv, o))
		ret = -1;
	if (o->junit && *o->junit && write_junit(o->junit, record))
		ret = -1;
	if (!dotenv)
		dotenv = p->dotenv_default;
	if (dotenv && write_dotenv(dotenv, &cv))
		ret = -1;
	ci_values_release(&cv);
	return ret;
}

int ci_write_outputs(const cJSON *record, const char *decision_file, const char *junit)
{
	struct ci_env env = { environ };
	struct ci_output_opts o = { 0 };

	o.decision_file = decision_file && *decision_file ? decision_file : NULL;
	o.junit = junit && *junit ? junit : ci_getenv(&env, "GREENLIGHT_JUNIT");
	o.log = stderr;
	return ci_write(&env, record, &o);
}

void ci_info_detect(struct ci_info *ci)
{
	struct ci_env env = { environ };

	ci_info_get(ci, &env);
}
