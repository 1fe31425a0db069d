/* relay_notify.h - the relay mails reminders and follow-ups of detached
 * requests (`run --detach`), which have no waiting gate.
 *
 * Given SMTP settings (`greenlight relay --smtp ...`), a thread looks every
 * second at the requests whose facts ask for it ("notifications": {"by":
 * "relay", "teams": {name: {"remind_every": seconds}}}): pending reviewers
 * of a team without quorum get a reminder every remind_every, and once the
 * request is settled everyone asked gets the follow-up, both threaded on
 * the reviewer's request email.  Each message is claimed in the relay's
 * database (table notifications) in a committed transaction before it is
 * sent, so it goes out at most once, also across restarts and SIGKILL.
 * Escalations are not sent by the relay: their links must be verifiable
 * by the gate, which holds the secret (docs/security.md); the collecting
 * run sends them.
 */
#ifndef GREENLIGHT_RELAY_NOTIFY_H
#define GREENLIGHT_RELAY_NOTIFY_H

#include "settings.h"

struct relay_notify;

/* The relay's mail settings, as given (flags or GREENLIGHT_RELAY_*). */
struct relay_mail {
	const char *smtp;		/* NULL: the relay sends no mail */
	const char *tls;		/* "starttls" or "none" */
	const char *from;
	const char *user_env, *password_env;	/* variables holding secrets */
	const char *ca_file;		/* or NULL */
	const char *send_timeout;	/* a duration */
};

/* Check the settings; 0, or -1 after one line naming the bad one. */
int relay_notify_check(const struct relay_mail *m);

/* Open the database, fork the mail helper (call before any thread starts)
 * and start the thread.  NULL after reporting why. */
struct relay_notify *relay_notify_start(const char *db_path, const struct relay_mail *m);

/* Stop the thread, the helper, and close.  NULL is a no-op. */
void relay_notify_stop(struct relay_notify *rn);

#endif
