/* notify.h - email each reviewer their personal review link.
 *
 * Glue between the review (review.h), mime.c (composition) and mailer.c
 * (SMTP).  Each recipient gets one message with a link carrying
 * their own token; per-recipient results are reported so that one bad
 * address never hides the others.
 */
#ifndef GREENLIGHT_NOTIFY_H
#define GREENLIGHT_NOTIFY_H

#include <signal.h>
#include <time.h>
#include "review.h"
#include "settings.h"
#include "mailer.h"
#include "token.h"

struct mailer;

struct notify_recipient {
	const char *team;
	const char *email;
	char token[TOKEN_SIZE];		/* plaintext, only in memory */
	char token_hash[TOKEN_HEX_SIZE];
	int sent;			/* 1 once the server accepted it */
	char error[256];		/* why not, when not */
};

struct notify_request {
	const struct review *rv;	/* what the message says */
	const struct settings *set;
	const char *request_id;
	const char *public_url;		/* links are <public_url>/r/<token>;
					 * NULL: no link (decide by reply) */
	const char *reply_to;		/* decide by reply: the mailbox address;
					 * Reply-To is local+<token>@domain and
					 * the token is the reply code */
	volatile sig_atomic_t *stop;	/* SIGINT/SIGTERM: give up sending */
	const char *not_approvers;	/* optional: comma-separated addresses
					 * that may not approve (the commit
					 * author, who started the CI run);
					 * NULL: the commit author alone */
};

/* Why `email` may not approve this review (told in their message):
 * MIME_SELF_AUTHOR when it is the commit author's mailbox,
 * MIME_SELF_STARTER when it is among nr->not_approvers otherwise, or
 * MIME_SELF_NONE (also whenever self-approval is allowed).  Mailboxes are
 * compared as addr.h does, with the settings' plus-tag rule. */
int notify_self(const struct notify_request *nr, const char *email);

/* The review request message to one recipient (malloc'd), or NULL with
 * a reason in err. */
char *notify_compose(const struct notify_request *nr, const struct notify_recipient *r,
		     char *err, size_t errlen);

/* A mailer for the run's mail settings (credentials from the variables
 * they name), for the review mail and other messages to reviewers
 * (reminders, follow-ups, reply confirmations), or NULL after reporting
 * why.  Free with mailer_free. */
struct mailer *notify_mailer(const struct settings *set,
			     volatile sig_atomic_t *stop);

/* Send every message.  Returns 0 when every team has at least one
 * recipient who was reached, or -1 (each failure reported on stderr, with
 * the server's reply where there was one). */
int notify_send(const struct notify_request *nr, struct notify_recipient *r,
		size_t n);

#endif
