/* resume_gitlab.c - resume a GitLab pipeline: play its manual collect job.
 *
 * The gate job detached; the pipeline's `when: manual` collect job (named
 * in the target as "job") waits without a runner.  Whatever the outcome,
 * the relay plays that job, which then reads the decision and verifies it
 * itself (approved: exit 0; rejected or expired: exit 1).  Two calls of
 * GitLab's REST API v4 (https://docs.gitlab.com/ee/api/jobs.html), with
 * the tenant's project access token in the PRIVATE-TOKEN header
 * (https://docs.gitlab.com/ee/api/rest/authentication.html):
 *   GET  /projects/:id/pipelines/:pipeline_id/jobs?per_page=100
 *        ("List pipeline jobs": find the job's id by name)
 *   POST /projects/:id/jobs/:job_id/play ("Run a job")
 * Target: {"ci": "gitlab", "project": ID or path, "pipeline": ID, "job": NAME};
 * the credential's patterns match "project".
 */
#include <string.h>

#include "resume.h"
#include "util.h"

static int digits(const char *s, size_t max)
{
	size_t n = s ? strspn(s, "0123456789") : 0;

	return n && n <= max && !s[n];
}

static int check(const cJSON *t, char *why, size_t n)
{
	const char *project = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "project"));
	const char *pipeline = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "pipeline"));
	const char *job = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "job"));

	if (!project)
		return fail_into(why, n, "resume.project: the project's id (CI_PROJECT_ID) is required");
	if (!digits(pipeline, 19))
		return fail_into(why, n, "resume.pipeline: write the pipeline's id (CI_PIPELINE_ID)");
	if (!job)
		return fail_into(why, n, "resume.job: name the manual job to play");
	return 0;
}

/* {api}/projects/{project, escaped}/ then what follows. */
static int project_url(struct buf *u, const struct resume_call *c)
{
	const char *project = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->target, "project"));

	return buf_addf(u, "%s/projects/", c->cred->api) || resume_url_escape(u, project);
}

/* The id of the job named `name` in the list, and its status. */
static long find_job(const struct buf *body, const char *name, const char **status, cJSON **arr)
{
	const cJSON *j;

	*arr = cJSON_ParseWithLength(body->data ? body->data : "", body->len);
	if (!cJSON_IsArray(*arr))
		return 0;
	cJSON_ArrayForEach(j, *arr) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "name"));

		if (n && !strcmp(n, name) && cJSON_IsNumber(id) && id->valuedouble > 0 &&
		    id->valuedouble < 9e15) {
			*status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
			return (long)id->valuedouble;
		}
	}
	return 0;
}

static enum resume_result call(struct resume_call *c, const char *method, const char *url,
			       struct resume_http_resp *rs, const char *what)
{
	struct buf hdr = BUF_INIT(4200);
	struct resume_http_req rq = { method, url, { NULL }, NULL, NULL };
	enum resume_result res = RESUME_FAILED;

	if (buf_addf(&hdr, "PRIVATE-TOKEN: %s", c->cred->secret))
		goto out;
	rq.headers[0] = hdr.data;
	rq.headers[1] = "Accept: application/json";
	res = resume_exchange(c, &rq, rs, what);
out:
	if (hdr.data)
		memset(hdr.data, 0, hdr.len);
	buf_release(&hdr);
	return res;
}

static enum resume_result play(struct resume_call *c)
{
	const char *job = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->target, "job"));
	const char *pipeline = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->target, "pipeline"));
	struct buf u = BUF_INIT(4096);
	struct resume_http_resp rs = { 0, BUF_INIT(RESUME_MAX_RESPONSE), "" };
	const char *status = NULL;
	cJSON *arr = NULL;
	enum resume_result res = RESUME_FAILED;
	long id;

	if (project_url(&u, c) || buf_addf(&u, "/pipelines/%s/jobs?per_page=100", pipeline))
		goto out;
	res = call(c, "GET", u.data, &rs, "list the pipeline's jobs");
	if (res != RESUME_DONE)
		goto out;
	id = find_job(&rs.body, job, &status, &arr);
	res = RESUME_FAILED;
	if (!id) {
		fail_into(c->why, sizeof(c->why), "pipeline %s has no job named \"%s\"", pipeline, job);
		goto out;
	}
	if (status && strcmp(status, "manual")) {
		res = RESUME_DONE;	/* someone played it already: nothing to do */
		fail_into(c->why, sizeof(c->why), "job %ld was %s already, not played again", id, status);
		goto out;
	}
	buf_release(&u);
	u = (struct buf)BUF_INIT(4096);
	buf_release(&rs.body);
	rs.body = (struct buf)BUF_INIT(RESUME_MAX_RESPONSE);
	if (project_url(&u, c) || buf_addf(&u, "/jobs/%ld/play", id))
		goto out;
	res = call(c, "POST", u.data, &rs, "play the job");
	if (res == RESUME_DONE)
		fail_into(c->why, sizeof(c->why), "played job %ld (%s)", id, job);
out:
	cJSON_Delete(arr);
	buf_release(&u);
	buf_release(&rs.body);
	return res;
}

const struct resume_ops resume_gitlab = {
	.name = "gitlab",
	.check = check,
	.scope_member = "project",
	.resume = play,
};
