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
};

/* Send every message.  Returns 0 when every team has at least one
 * recipient who was reached, or -1 (each failure reported on stderr, with
 * the server's reply where there was one). */
int notify_send(const struct notify_request *nr, struct notify_recipient *r,
		size_t n);

/* A mailer configured from the notify settings (credentials read from
 * the variables they name), for other messages to reviewers (the reply
 * confirmations).  NULL after reporting an error. */
struct mailer *notify_mailer(const struct settings *set, volatile sig_atomic_t *stop);

#endif
