/* chat.h - per-team chat notifications: Slack, Microsoft Teams, Mattermost
 * and Google Chat incoming webhooks (docs/notifications.md).
 *
 * Three layers.  chat_msg_review() and chat_msg_decision() turn the review
 * (review.h) into a service-neutral message of plain, unescaped text; a
 * service ops-struct renders that message as the JSON body its webhook
 * documents, escaping and capping every piece of text its own way (pure,
 * src/chat_<service>.c); chat_announce() and chat_decided() deliver the
 * bodies with libcurl from one background thread per webhook, so that a
 * webhook that is down or slow never delays the gate's decision.
 *
 * A channel message never carries a review token: anyone in the channel
 * could decide as that reviewer.  Its one button opens the CI run (else the
 * commit); deciding stays with each reviewer's personal mailed link.
 * Webhook URLs are secrets: they come only from the environment variables
 * the gate names and are never printed; messages name the variable.
 */
#ifndef GREENLIGHT_CHAT_H
#define GREENLIGHT_CHAT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "gate.h"
#include "review.h"
#include "store.h"

#define CHAT_MAX_ITEMS 10	/* fired rules (or decisions) listed */
#define CHAT_MAX_FACTS 6
#define CHAT_URL_MAX 2048	/* bytes of a webhook URL */

enum chat_tone { CHAT_TONE_WARN, CHAT_TONE_GOOD, CHAT_TONE_BAD };

/* A label and its value, e.g. "Repository" / "acme/model". */
struct chat_fact {
	char *label;
	char *value;
	char *url;		/* the value links here ("" for no link) */
};

/* A message before any service renders it.  Every string is owned, plain
 * text (unescaped, possibly hostile), never NULL; "" when absent. */
struct chat_msg {
	char *title;		/* "Review needed: model-release" */
	char *summary;		/* the headline, or the outcome in one line */
	enum chat_tone tone;
	char *items_title;	/* "Fired rules routed to engineering" */
	char *items[CHAT_MAX_ITEMS + 1];	/* + "and 3 more" */
	size_t nitems;
	struct chat_fact facts[CHAT_MAX_FACTS];
	size_t nfacts;
	char *note;		/* how to decide; what this message is not */
	char *button_label;	/* "Open CI run" */
	char *button_url;	/* "" when there is nothing to open */
};

/* A chat service: renders a message as its webhook's JSON body. */
struct chat_service {
	const char *name;	/* as in the gate file: "slack" */
	const char *title;	/* for people: "Slack" */
	/* The webhook body (a new object).  Never fails. */
	cJSON *(*render)(const struct chat_msg *m);
};

extern const struct chat_service chat_slack, chat_teams, chat_mattermost,
	chat_google_chat;

/* The service called `name` ("slack", "teams", "mattermost",
 * "google-chat"), or NULL. */
const struct chat_service *chat_service_find(const char *name);

/* The message announcing that `team` must review: headline, the fired
 * rules routed to the team (value, threshold, how far over, baseline and
 * change), repository, commit, branch, deadline, the quorum, and a button
 * to the CI run (else the commit).  `gate` is the gate's name.  Never
 * fails. */
void chat_msg_review(struct chat_msg *m, const struct review *rv,
		     const char *gate, const char *team);

/* The follow-up once the request is decided: outcome, by whom (each
 * decision with team and reason), and what CI did (`exit_code`). */
void chat_msg_decision(struct chat_msg *m, const struct review *rv,
		       const char *gate, const struct store_request *req,
		       int exit_code);

void chat_msg_release(struct chat_msg *m);

/* ---- for the service renderers (src/chat_<service>.c) --------------- */

/* Replacement text for code point cp, or NULL to copy it as is. */
typedef const char *(*chat_escape_fn)(uint32_t cp);

/* s made fit for a service: invalid UTF-8 repaired, control and bidi
 * characters (but newline when keep_newlines) turned into spaces, each
 * character passed through esc (NULL for none), and the result cut to at
 * most `limit` characters, ending in "…" when cut (an escape is never
 * split).  A new string; "" for NULL. */
char *chat_text(const char *s, size_t limit, chat_escape_fn esc,
		int keep_newlines);

/* Add chat_text(s, limit, esc, 0) to obj as member `key`. */
void chat_add_text(cJSON *obj, const char *key, const char *s, size_t limit,
		   chat_escape_fn esc);

/* ---- the webhook URL -------------------------------------------------- */

/* Whether `url` may receive a message: https://, or http:// to this
 * machine (127.0.0.0/8, localhost, [::1]); no user information, no
 * spaces or control characters, at most CHAT_URL_MAX bytes.  0, or -1
 * with the reason in why (which never quotes the URL). */
int chat_url_check(const char *url, char *why, size_t n);

/* ---- delivery --------------------------------------------------------- */

struct chat;

/* Post the review message of every team in rv that has chat webhooks, in
 * the background; returns at once.  Problems (a variable not set, a bad
 * URL, a webhook that fails after retries) are reported on stderr as one
 * line naming the team, the service and the variable.  *c is NULL when no
 * team has a webhook.  `stop` (SIGINT/SIGTERM) abandons sending. */
void chat_announce(struct chat **c, const struct gate *g,
		   const struct review *rv, volatile sig_atomic_t *stop);

/* The request is settled (or the run ends with it pending): post the
 * follow-up to every webhook that took the review message, within a short
 * budget, after abandoning review messages still in flight on webhooks
 * that are not required.  Returns -1 when a webhook marked "required"
 * did not take both messages (the run then ends with 4), else 0; 0 when
 * c is NULL. */
int chat_decided(struct chat **c, const struct store_request *req,
		 int exit_code);

/* Stop and free everything (threads still stuck on a webhook are left to
 * end with the process).  *c becomes NULL. */
void chat_release(struct chat **c);

#endif
