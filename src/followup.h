/* followup.h - reminders, escalation and follow-ups: the pure part.
 *
 * Who is still pending, when the next reminder is due, whether a team is
 * escalated, and the short threaded messages (In-Reply-To / References =
 * the request email's Message-ID for that reviewer) that carry them.  The
 * sending and the exactly-once records are in remind.c.  No I/O, no
 * clocks: times are passed in.
 */
#ifndef GREENLIGHT_FOLLOWUP_H
#define GREENLIGHT_FOLLOWUP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "mime.h"
#include "review.h"
#include "store.h"

/* Kinds of notification, as recorded (store_notify_claim). */
#define FOLLOWUP_KIND_REMIND "remind"
#define FOLLOWUP_KIND_ESCALATE "escalate"
#define FOLLOWUP_KIND_FOLLOWUP "followup"

/* What CI does with an exit code: "CI continues (exit 0)", ...  The words
 * the chat follow-up and the mail follow-up share. */
const char *followup_ci_did(int exit_code);

/* "Approved", "Rejected", "Timed out", "Still pending". */
const char *followup_outcome(enum req_state st);

/* Whether (team, email) decided already. */
int followup_decided(const struct store_request *req, const char *team,
		     const char *email);

/* Whether the team has its quorum (approved >= approvals). */
int followup_team_met(const struct store_request *req, const char *team);

/* Whether the reviewer is pending: the request is pending, their team
 * lacks quorum and they have not decided. */
int followup_pending(const struct store_request *req, const char *team,
		     const char *email);

/* The reminder due at `now`: the largest k >= 1 with created + k * every
 * <= now and created + k * every < deadline, or 0 when none is due (every
 * 0: never).  Reminders missed while nobody was waiting are not sent one
 * by one: only the latest is due. */
long followup_reminder_seq(time_t created, time_t deadline, uint64_t every,
			   time_t now);

/* When the next reminder after `now` is due (created + k * every > now),
 * or 0 when none is left before the deadline. */
time_t followup_reminder_next(time_t created, time_t deadline, uint64_t every,
			      time_t now);

/* When the team escalates (created + after), or 0 when it never does:
 * after is 0, or it would be at or after the deadline. */
time_t followup_escalation_at(time_t created, time_t deadline, uint64_t after);

/* The Message-ID of a notification: stable per (request, kind, sequence,
 * recipient), distinct from the request email's mime_message_id(). */
int followup_message_id(char out[MIME_MSGID_SIZE], const char *request_id,
			const char *kind, long seq, const char *recipient);

/* A short threaded message: text/plain, UTF-8, quoted-printable. */
struct followup_mail {
	const char *from;		/* "a@b" or "Name <a@b>" */
	const char *to;			/* "a@b" */
	const char *subject;		/* the request email's subject; sent
					 * as "Re: <subject>" */
	const char *in_reply_to;	/* the request email's Message-ID */
	const char *message_id;		/* this message's */
	const char *date;		/* RFC 5322 date */
	const char *body;		/* the text; cleaned per line */
};

/* Append the whole message to out.  Returns 0, or -1 with a reason in err
 * (out released): a bad address, Message-ID or a full buffer. */
int followup_compose(struct buf *out, const struct followup_mail *m,
		     char *err, size_t errlen);

/* The whole threaded message of `kind` and `seq` to `to`, replying to the
 * request email of (request_id, to), with the review's subject; malloc'd,
 * or NULL with a reason in err. */
char *followup_threaded(const struct review *rv, const char *from, const char *request_id,
			const char *to, const char *kind, long seq, const char *body,
			time_t now, char *err, size_t errlen);

/* The text of a reminder to a member of `team`: where the team stands,
 * the deadline, and that the link is in the message it replies to. */
char *followup_reminder_text(const struct review *rv, const struct store_request *req,
			     const char *team);

/* The text of a follow-up: outcome, each decision (who, team, when,
 * reason), what CI did with exit_code. */
char *followup_text(const struct review *rv, const struct store_request *req, int exit_code);

/* The exit code a settled state gives `run` (what the relay tells when it
 * sends the follow-up itself). */
int followup_exit_code(enum req_state st);

#endif
