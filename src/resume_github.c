/* resume_github.c - resume a GitHub Actions run: review its deployment
 * protection rule as the greenlight GitHub App.
 *
 * The deploy job targets an environment protected by the App and waits
 * without a runner.  GitHub's deployment_protection_rule webhook
 * (relay_github.c) fills in the installation id and marks the resume
 * ready; then, when the request is settled, the relay:
 *   POST /app/installations/{installation_id}/access_tokens
 *        with a JWT of the App ("Create an installation access token for
 *        an app", https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app)
 *   POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule
 *        with the installation token and {"environment_name", "state":
 *        "approved" | "rejected", "comment"} ("Review custom deployment
 *        protection rules for a workflow run",
 *        https://docs.github.com/en/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run)
 * Both with Accept: application/vnd.github+json and X-GitHub-Api-Version.
 * Expired and rejected requests are answered "rejected" (fail closed).
 * Credential secret: "APP_ID:PEM" (the App's id, then its private key).
 * Target: {"ci": "github", "repository": "owner/name", "run": ID, "sha":
 * commit, "environment": NAME[, "installation": ID]}; the credential's
 * patterns match "repository".
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "github_app.h"
#include "resume.h"
#include "util.h"

#define API_VERSION "X-GitHub-Api-Version: 2022-11-28"
#define ACCEPT "Accept: application/vnd.github+json"

static const char *member(const cJSON *t, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, name));
}

static int digits(const char *s)
{
	size_t n = s ? strspn(s, "0123456789") : 0;

	return n && n <= 20 && !s[n];
}

static int check(const cJSON *t, char *why, size_t n)
{
	const char *repo = member(t, "repository"), *sha = member(t, "sha");
	const char *inst = member(t, "installation");
	size_t ns = sha ? strspn(sha, "0123456789abcdef") : 0;

	if (!repo || !strchr(repo, '/') || strspn(repo, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") != strlen(repo) || strlen(repo) > 200)
		return fail_into(why, n, "resume.repository: write owner/name (GITHUB_REPOSITORY)");
	if (!digits(member(t, "run")))
		return fail_into(why, n, "resume.run: write the run's id (GITHUB_RUN_ID)");
	if (!sha || sha[ns] || (ns != 40 && ns != 64))
		return fail_into(why, n, "resume.sha: write the commit (GITHUB_SHA)");
	if (!member(t, "environment"))
		return fail_into(why, n, "resume.environment: name the protected environment");
	if (inst && !digits(inst))
		return fail_into(why, n, "resume.installation: a number");
	return 0;
}

static enum resume_result post(struct resume_call *c, const char *url, const char *auth,
			       const char *body, struct resume_http_resp *rs, const char *what)
{
	struct resume_http_req rq = { "POST", url, { auth, ACCEPT, API_VERSION,
				      "Content-Type: application/json" }, NULL, body };

	return resume_exchange(c, &rq, rs, what);
}

/* An installation token into tok ("Authorization: Bearer ..."). */
static enum resume_result installation_token(struct resume_call *c, struct buf *tok)
{
	const char *colon = strchr(c->cred->secret, ':');
	struct buf jwt = BUF_INIT(4096), auth = BUF_INIT(4200), url = BUF_INIT(2048);
	struct resume_http_resp rs = { 0, BUF_INIT(64 * 1024), "" };
	enum resume_result res = RESUME_FAILED;
	char app[24] = "", err[160];
	cJSON *j = NULL;
	const char *t;

	if (!colon || (size_t)(colon - c->cred->secret) >= sizeof(app)) {
		fail_into(c->why, sizeof(c->why), "the GitHub credential must be APP_ID:PEM");
		goto out;
	}
	memcpy(app, c->cred->secret, (size_t)(colon - c->cred->secret));
	if (github_app_jwt(app, colon + 1, time(NULL), &jwt, err, sizeof(err))) {
		fail_into(c->why, sizeof(c->why), "%s", err);
		goto out;
	}
	if (buf_addf(&auth, "Authorization: Bearer %s", jwt.data) ||
	    buf_addf(&url, "%s/app/installations/%s/access_tokens", c->cred->api,
		     member(c->target, "installation")))
		goto out;
	res = post(c, url.data, auth.data, "{}", &rs, "get an installation token");
	if (res != RESUME_DONE)
		goto out;
	j = cJSON_ParseWithLength(rs.body.data ? rs.body.data : "", rs.body.len);
	t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "token"));
	if (!t || !*t || strpbrk(t, "\r\n ") || buf_addf(tok, "Authorization: Bearer %s", t)) {
		fail_into(c->why, sizeof(c->why), "the installation token answer holds no token");
		res = RESUME_FAILED;
	}
out:
	if (rs.body.data)
		OPENSSL_cleanse(rs.body.data, rs.body.len);
	cJSON_Delete(j);
	buf_release(&jwt);
	buf_release(&auth);
	buf_release(&url);
	buf_release(&rs.body);
	return res;
}

static enum resume_result review(struct resume_call *c)
{
	const char *state = c->outcome == REQ_APPROVED ? "approved" : "rejected";
	struct buf tok = BUF_INIT(4200), url = BUF_INIT(2048);
	struct resume_http_resp rs = { 0, BUF_INIT(64 * 1024), "" };
	enum resume_result res = RESUME_FAILED;
	cJSON *body = cJSON_CreateObject();
	char comment[128], *text = NULL;

	if (!member(c->target, "installation")) {	/* no webhook yet: not due */
		fail_into(c->why, sizeof(c->why), "no deployment_protection_rule event arrived");
		res = RESUME_RETRY;
		goto out;
	}
	res = installation_token(c, &tok);
	if (res != RESUME_DONE)
		goto out;
	res = RESUME_FAILED;
	snprintf(comment, sizeof(comment), "greenlight: the release review %s", req_state_name(c->outcome));
	cJSON_AddStringToObject(body, "environment_name", member(c->target, "environment"));
	cJSON_AddStringToObject(body, "state", state);
	cJSON_AddStringToObject(body, "comment", comment);
	text = cJSON_PrintUnformatted(body);
	if (!text || buf_addf(&url, "%s/repos/%s/actions/runs/%s/deployment_protection_rule",
			      c->cred->api, member(c->target, "repository"), member(c->target, "run")))
		goto out;
	res = post(c, url.data, tok.data, text, &rs, "review the deployment protection rule");
	if (res == RESUME_DONE)
		fail_into(c->why, sizeof(c->why), "environment %s of run %s: %s",
			  member(c->target, "environment"), member(c->target, "run"), state);
out:
	if (tok.data)
		OPENSSL_cleanse(tok.data, tok.len);
	cJSON_free(text);
	cJSON_Delete(body);
	buf_release(&tok);
	buf_release(&url);
	buf_release(&rs.body);
	return res;
}

static int match(const cJSON *t, struct buf *out)
{
	return github_match_key(member(t, "repository"), member(t, "run"), member(t, "sha"),
				member(t, "environment"), out);
}

const struct resume_ops resume_github = {
	.name = "github",
	.check = check,
	.scope_member = "repository",
	.match = match,
	.resume = review,
};
