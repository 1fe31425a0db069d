/* resume_jenkins.c - resume a Jenkins build: submit or abort its input step.
 *
 * The greenlight step registered inside `node` and then waits in an `input`
 * step outside any node (no executor held).  Approved: the relay proceeds
 * the input, and the step collects and verifies the decision itself;
 * rejected or expired: the relay aborts it (fail closed).  Jenkins' REST
 * endpoints of the Pipeline Input Step plugin (InputStepExecution's
 * doProceedEmpty and doAbort, https://plugins.jenkins.io/pipeline-input-step/)
 * on the build's URL, with Basic authentication user:API-token
 * (https://www.jenkins.io/doc/book/using/remote-access-api/):
 *   GET  /crumbIssuer/api/json           a CSRF crumb, sent back as its
 *        header when Jenkins issues one (404: no crumb needed;
 *        https://www.jenkins.io/doc/book/security/csrf-protection/)
 *   POST /job/A/job/B/<build>/input/<Id>/proceedEmpty   (approved)
 *   POST /job/A/job/B/<build>/input/<Id>/abort          (rejected, expired)
 * The input's id is the step's `id` with its first letter capitalised, as
 * Jenkins does.  Target: {"ci": "jenkins", "job": "A/B" (JOB_NAME),
 * "build": BUILD_NUMBER, "input": ID}; the credential's patterns match "job".
 */
#define _DEFAULT_SOURCE		/* strsep */
#include <ctype.h>
#include <string.h>

#include "resume.h"
#include "util.h"

static const char *member(const cJSON *t, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, name));
}

static int job_ok(const char *job)
{
	const char *seg = job;

	if (!job || !*job)
		return 0;
	for (const char *p = job;; p++) {
		if (*p == '/' || !*p) {
			size_t n = (size_t)(p - seg);

			if (!n || (n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
				return 0;
			if (!*p)
				return 1;
			seg = p + 1;
		}
	}
}

static int check(const cJSON *t, char *why, size_t n)
{
	const char *build = member(t, "build"), *input = member(t, "input");
	size_t nb = build ? strspn(build, "0123456789") : 0;

	if (!job_ok(member(t, "job")))
		return fail_into(why, n, "resume.job: write the job's full name (JOB_NAME, folders separated by /)");
	if (!nb || nb > 19 || build[nb])
		return fail_into(why, n, "resume.build: write the build number (BUILD_NUMBER)");
	if (!input || strlen(input) > 64 ||
	    strspn(input, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(input))
		return fail_into(why, n, "resume.input: write the input step's id (letters, digits, '_', '-'; at most 64)");
	return 0;
}

/* {api}/job/A/job/B/<build>/input/<Id>/<action> */
static int input_url(struct buf *u, const struct resume_call *c, const char *action)
{
	char job[RESUME_MAX_FIELD + 1], input[65], *rest = job, *seg;

	strlcpy_gl(job, member(c->target, "job"), sizeof(job));
	strlcpy_gl(input, member(c->target, "input"), sizeof(input));
	input[0] = (char)toupper((unsigned char)input[0]);
	if (buf_adds(u, c->cred->api))
		return -1;
	while ((seg = strsep(&rest, "/")))
		if (buf_adds(u, "/job/") || resume_url_escape(u, seg))
			return -1;
	return buf_addf(u, "/%s/input/%s/%s", member(c->target, "build"), input, action);
}

static enum resume_result send(struct resume_call *c, const char *method, const char *url,
			       const char *header, struct resume_http_resp *rs, const char *what)
{
	struct resume_http_req rq = { method, url, { header, NULL }, c->cred->secret, NULL };

	return resume_exchange(c, &rq, rs, what);
}

/* The crumb header ("Jenkins-Crumb: ...") into hdr, or nothing on 404. */
static enum resume_result crumb(struct resume_call *c, struct buf *hdr)
{
	struct buf u = BUF_INIT(2048);
	struct resume_http_resp rs = { 0, BUF_INIT(64 * 1024), "" };
	enum resume_result res = RESUME_FAILED;
	cJSON *j = NULL;
	const char *field, *value;

	if (buf_addf(&u, "%s/crumbIssuer/api/json", c->cred->api))
		goto out;
	res = send(c, "GET", u.data, NULL, &rs, "get a CSRF crumb");
	if (rs.status == 404) {
		res = RESUME_DONE;
		goto out;
	}
	if (res != RESUME_DONE)
		goto out;
	j = cJSON_ParseWithLength(rs.body.data ? rs.body.data : "", rs.body.len);
	field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "crumbRequestField"));
	value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "crumb"));
	if (!field || !value || strpbrk(field, ":\r\n ") || strpbrk(value, "\r\n") ||
	    buf_addf(hdr, "%s: %s", field, value)) {
		fail_into(c->why, sizeof(c->why), "the crumb issuer's answer is not a crumb");
		res = RESUME_FAILED;
	}
out:
	cJSON_Delete(j);
	buf_release(&u);
	buf_release(&rs.body);
	return res;
}

static enum resume_result submit(struct resume_call *c)
{
	const char *action = c->outcome == REQ_APPROVED ? "proceedEmpty" : "abort";
	struct buf u = BUF_INIT(4096), hdr = BUF_INIT(1024);
	struct resume_http_resp rs = { 0, BUF_INIT(RESUME_MAX_RESPONSE), "" };
	enum resume_result res = crumb(c, &hdr);

	if (res != RESUME_DONE)
		goto out;
	res = RESUME_FAILED;
	if (input_url(&u, c, action))
		goto out;
	res = send(c, "POST", u.data, hdr.data, &rs, action);
	if (res == RESUME_DONE)
		fail_into(c->why, sizeof(c->why), "input %s of build %s: %s", member(c->target, "input"),
			  member(c->target, "build"), action);
out:
	buf_release(&u);
	buf_release(&hdr);
	buf_release(&rs.body);
	return res;
}

const struct resume_ops resume_jenkins = {
	.name = "jenkins",
	.check = check,
	.scope_member = "job",
	.resume = submit,
};
