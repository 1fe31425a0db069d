/* remind.h - reminders, escalation and follow-ups sent by the waiting gate.
 *
 * While `greenlight run` waits (listen or relay mode) it calls
 * remind_tick(): pending reviewers of a team without quorum are mailed
 * again every "remind_every", in the thread of their request email; a
 * team without quorum "escalate.after" the request was made has its
 * escalation addresses asked, each with a personal link (a new review
 * token registered with the request, counting toward the team's quorum).
 * Once the request is settled and decision.json written,
 * remind_followup() mails everyone asked a short threaded message:
 * outcome, by whom, reason, what CI did.
 *
 * Each message is claimed in the run's state database (decision.state,
 * table notifications) before it is sent, so a re-run never sends it
 * again (at most once).  Mail goes through a helper process (mailproc.h)
 * forked before any thread starts.  A mail failure is one line on stderr
 * and never changes the exit code.
 */
#ifndef GREENLIGHT_REMIND_H
#define GREENLIGHT_REMIND_H

#include <stddef.h>
#include <time.h>

#include "backend.h"
#include "gate.h"
#include "notify.h"
#include "review.h"
#include "settings.h"
#include "store.h"

struct remind_ctx {
	const struct gate *g;
	const struct review *rv;
	const struct settings *set;
	const char *key;		/* the request key (derived tokens) */
	const char *request_id;
	const char *public_url;		/* links are <public_url>/r/<token> */
	const char *not_approvers;	/* as notify_request */
	struct backend *be;		/* relay: escalations are registered
					 * with a rekey of every recipient */
	const struct notify_recipient *rcpt;	/* this run's recipients */
	size_t nrcpt;
	int escalate_only;		/* reminders and follow-ups are the
					 * relay's (a relay-mode run that
					 * re-attached without mailing) */
};

/* What a detached request asks the relay to send (docs/notifications.md):
 * {"by": "relay", "teams": {name: {"remind_every": seconds}}}, kept in the
 * request's facts as "notifications".  A new object. */
cJSON *remind_relay_config(const struct gate *g, const struct review *rv);

struct remind;

/* Open the state database and fork the mail helper; call while the
 * process has one thread.  NULL after reporting why (the gate goes on
 * without reminders and follow-ups). */
struct remind *remind_open(const struct remind_ctx *c);

/* Send what is due at `now` for a pending request (*req may be re-read:
 * an escalation in relay mode registers the new links).  Returns when the
 * next reminder or escalation is due, or 0 when none is left. */
time_t remind_tick(struct remind *m, struct store_request *req, time_t now);

/* Mail the follow-up of a settled request to everyone asked, once. */
void remind_followup(struct remind *m, const struct store_request *req,
		     int exit_code);

/* Stop the helper and close the database.  NULL is a no-op. */
void remind_close(struct remind *m);

#endif
