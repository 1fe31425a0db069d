/* backend.h - where `greenlight run` keeps its request and hears decisions.
 *
 * Two backends, one ops-struct each:
 *   listen  the gate's own SQLite store and review server (web.c): links
 *           point at the gate; a decision wakes the wait at once.
 *   relay   a `greenlight relay` reached over HTTPS (relay_client.c): links
 *           point at the relay; the gate long-polls it.  Outbound only.
 *           The relay is not trusted with the outcome: every decision it
 *           reports is verified and the state settled by the gate
 *           (relay_answer.h).
 *   mail    the gate's own SQLite store, no server: reviewers reply to
 *           the request email and the gate polls an IMAP mailbox for the
 *           replies (backend_mail.c).  Outbound only.
 * Every operation leaves the request as last read in *out (release with
 * store_request_release) and returns 0, or -1 after reporting an error.
 */
#ifndef GREENLIGHT_BACKEND_H
#define GREENLIGHT_BACKEND_H

#include <signal.h>
#include <time.h>
#include "quorum.h"
#include "settings.h"
#include "store.h"

struct backend;

struct backend_ops {
	const char *name;
	/* Create or find the request by key (*created says which).  For a
	 * new request, *prev receives the newest earlier request of the same
	 * subject (same repository, commit and gate name, other evidence),
	 * if any: prev->id is "" otherwise (release it either way). */
	int (*put)(struct backend *b, const struct store_new_request *nr,
		   struct store_request *out, int *created,
		   struct store_request *prev);
	/* New links for a pending request. */
	int (*rekey)(struct backend *b, const char *id,
		     const struct store_recipient *sr, size_t n,
		     struct store_request *out);
	/* Reopen an expired request with a new deadline and new links. */
	int (*reopen)(struct backend *b, const char *id, time_t deadline,
		      const struct store_recipient *sr, size_t n,
		      struct store_request *out);
	/* Every reviewer was mailed. */
	int (*notified)(struct backend *b, const char *id);
	/* Prepare to serve review pages if this backend does (bind: visitors
	 * queue from now on); *public_url gets the base URL the links use
	 * (malloc'd). */
	int (*serve)(struct backend *b, char **public_url);
	/* Start answering them.  Called after mail is sent: the mailer forks,
	 * and a process must not fork while the server thread runs. */
	int (*start)(struct backend *b);
	/* Block until something may have changed or `until`, then re-read. */
	int (*wait)(struct backend *b, const char *id, time_t until,
		    struct store_request *out);
	void (*close)(struct backend *b);
};

struct backend {
	const struct backend_ops *ops;
	const struct settings *set;
	volatile sig_atomic_t *stop;	/* set by SIGINT/SIGTERM */
	int wake_fd;			/* readable when the wait should end */
	void (*wake)(void);		/* makes wake_fd readable */
	/* what the gate checks decisions with (relay): its own key, teams,
	 * quorum and self-approval rules; the secret is set->secret */
	const char *key;
	const struct quorum_team *teams;
	size_t nteams;
	struct quorum_policy policy;
	void *priv;
	void *mail;			/* the reply poller (backend_mail.c), if any */
	int collect;			/* --collect: the request was mailed by another
					 * run, maybe on another machine */
};

/* Open the backend the settings choose (decision.via); b->set, b->stop,
 * b->wake_fd and b->wake must be filled.  Returns 0, or -1 (reported). */
int backend_open(struct backend *b);

/* The put, rekey, reopen and notified operations (and reading a request
 * back) of the backends whose requests live in the gate's own store:
 * listen and mail (backend_local.c).  Same contracts as the ops. */
int local_get(struct store *s, const char *id, struct store_request *out);
int local_put(struct store *s, const struct store_new_request *nr,
	      struct store_request *out, int *created, struct store_request *prev);
int local_rekey(struct store *s, const char *id, const struct store_recipient *sr,
		size_t n, struct store_request *out);
int local_reopen(struct store *s, const char *id, time_t deadline,
		 const struct store_recipient *sr, size_t n, struct store_request *out);
int local_notified(struct store *s, const char *id);

int backend_listen_open(struct backend *b);
int backend_relay_open(struct backend *b);
int backend_mail_open(struct backend *b);	/* backend_mail.c */

/* Replies by mail beside another backend (listen mode with decision.imap):
 * attach polls the mailbox with that backend's store (no confirmations
 * are mailed: the mailer forks, and the review server thread runs);
 * check logs in (bounded retries); tick polls when due, records what
 * counts and sets *next to the next poll time (-1 after 4 failed polls in
 * a row, reported); detach frees it. */
int backend_mail_attach(struct backend *b, struct store *store);
int backend_mail_check(struct backend *b);
int backend_mail_tick(struct backend *b, const char *id, int *decided, time_t *next);
void backend_mail_detach(struct backend *b);

/* Replies by mail beside the relay (relay mode with decision.imap).  The
 * gate keeps what it verified from the mailbox in a store of its own in a
 * temporary directory (removed on detach) under the relay's request id,
 * and the relay backend adds those decisions to the relay's verified ones
 * before settling (relay_answer_merge); the reply's vote is never sent to
 * the relay.  attach_relay makes that store; mirror copies a request the
 * relay answered for (its id, creation time and deadline, this run's
 * recipients); mirror_rekey follows a rekey or reopen; replies reads the
 * decisions taken from mail.  0, or -1 (reported). */
int backend_mail_attach_relay(struct backend *b);
int backend_mail_mirror(struct backend *b, const struct store_new_request *nr,
			const struct store_request *relay);
int backend_mail_mirror_rekey(struct backend *b, const char *id, time_t deadline,
			      const struct store_recipient *sr, size_t n);
int backend_mail_replies(struct backend *b, const char *id, struct store_request *out);

#endif
