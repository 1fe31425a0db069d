/* github_app.h - what the relay needs to act as a GitHub App (pure).
 *
 * The relay answers GitHub's custom deployment protection rules
 * (https://docs.github.com/en/actions/deployment/protecting-deployments/creating-custom-deployment-protection-rules):
 * GitHub sends a `deployment_protection_rule` webhook, signed with the
 * App's webhook secret (X-Hub-Signature-256: HMAC-SHA256 of the raw body,
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries);
 * when the team decides, the relay authenticates as the App with a JWT
 * (RS256, https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app),
 * trades it for an installation token and reviews the rule.  These
 * functions take values and return values: no clock, no network.
 */
#ifndef GREENLIGHT_GITHUB_APP_H
#define GREENLIGHT_GITHUB_APP_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define GITHUB_HOOK_MAX (256 * 1024)	/* bytes of a webhook body read */
#define GITHUB_JWT_LIFE 540		/* seconds a JWT lives (at most 600) */

/* Whether header ("sha256=" and 64 hex digits) is the HMAC-SHA256 of
 * body[0..len) under secret; compared in constant time.  1 or 0. */
int github_signature_ok(const char *secret, const void *body, size_t len,
			const char *header);

/* A JWT for app_id signed (RS256) with the App's private key (PEM), issued
 * at now - 60 (clock drift) and expiring at now + GITHUB_JWT_LIFE, into
 * out.  0, or -1 with the reason in err (never key material). */
int github_app_jwt(const char *app_id, const char *pem, time_t now,
		   struct buf *out, char *err, size_t errlen);

/* What a deployment_protection_rule event says. */
struct github_hook {
	char action[32];		/* "requested" */
	char repository[201];		/* "owner/name" (repository.full_name) */
	char run[21];			/* the run id, from the callback URL */
	char sha[65];			/* the commit (deployment.sha or sha) */
	char environment[256];
	char installation[21];		/* installation.id */
};

/* Parse a deployment_protection_rule body (strict JSON, at most
 * GITHUB_HOOK_MAX bytes) and check every member used: 0, or -1 with the
 * reason in why.  The run id comes from deployment_callback_url, which
 * must be https://<host>/repos/<repository>/actions/runs/<digits>/
 * deployment_protection_rule for the event's own repository. */
int github_hook_parse(const char *body, size_t len, struct github_hook *h,
		      char *why, size_t whylen);

/* The key a registration and a webhook meet on: repository, run, commit
 * and environment, separated by LF (none of them holds one). */
int github_match_key(const char *repository, const char *run, const char *sha,
		     const char *environment, struct buf *out);

#endif
