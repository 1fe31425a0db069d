/* mailproc.h - a mail sender that works while other threads run.
 *
 * The mailer forks a child per SMTP attempt (mailer.h), and a process must
 * not fork while other threads run (docs/decisions.md, 9).  Reminders,
 * escalations and follow-ups are sent while the review server and chat
 * threads run, so they go through a helper process forked before any
 * thread starts: it receives composed messages over a socket pair, sends
 * them with mailer_send() (forking from a single-threaded process) and
 * answers with one result per message.  The helper ends when the pipe
 * closes (the gate exits or calls mailproc_stop).
 */
#ifndef GREENLIGHT_MAILPROC_H
#define GREENLIGHT_MAILPROC_H

#include <stddef.h>
#include "mailer.h"
#include "settings.h"

struct mailproc;

/* Fork the helper with the run's mail settings.  Call while the process
 * has a single thread.  Returns NULL after reporting an error. */
struct mailproc *mailproc_start(const struct settings *set);

/* Send n messages through the helper; results[i] is always filled.
 * Returns 0 when every message was accepted, else -1.  Blocks for at most
 * the mail budget (notify.send_timeout, capped at 30 s so that a mail
 * server that is down never holds the gate long) plus a little.  The
 * helper prints nothing: the caller reports each result. */
int mailproc_send(struct mailproc *p, const struct mail_item *items, size_t n,
		  struct mail_result *results);

/* Close the pipe and reap the helper.  NULL is a no-op. */
void mailproc_stop(struct mailproc *p);

#endif
