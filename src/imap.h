/* imap.h - the few IMAP commands the mail backend needs (libcurl).
 *
 * One struct imap holds one libcurl easy handle, so the connection, the
 * login and the selected mailbox are reused from one command to the next
 * (and from one poll to the next while the server keeps it open).  TLS is
 * verified (peer and host name) for imaps:// and for imap:// with
 * STARTTLS, which is required unless the caller says tls_none.  Every
 * command has a time limit; fetched messages are capped by the server
 * (a partial BODY[]<0.max> fetch) and again here.  Credentials are handed
 * in by the caller and never printed.
 */
#ifndef GREENLIGHT_IMAP_H
#define GREENLIGHT_IMAP_H

#include <stddef.h>
#include "buf.h"

struct imap_config {
	const char *url;	/* imaps://host[:port]/MAILBOX or imap://... */
	int tls_none;		/* imap:// without STARTTLS */
	const char *ca_file;	/* PEM CAs to trust; NULL: the system store */
	const char *user, *password;
	long timeout_ms;	/* per command; 0: 15 s */
};

struct imap;

/* Validate cfg and prepare a handle (nothing is connected yet).  Returns
 * NULL with a reason in err. */
struct imap *imap_new(const struct imap_config *cfg, char *err, size_t errlen);
void imap_free(struct imap *m);

/* Log in and select the mailbox (or check the connection still works). */
int imap_check(struct imap *m, char *err, size_t errlen);

/* UID SEARCH with criteria (IMAP syntax, written by the caller): up to max
 * UIDs into uids, *n set.  Returns 0 or -1 with a reason in err. */
int imap_search(struct imap *m, const char *criteria, unsigned long *uids,
		size_t max, size_t *n, char *err, size_t errlen);

/* The first max bytes of message uid (BODY[]<0.max>) into out. */
int imap_fetch(struct imap *m, unsigned long uid, size_t max, struct buf *out,
	       char *err, size_t errlen);

/* Any other command on the selected mailbox, e.g.
 * "UID STORE 5 +FLAGS (\\Seen $GreenlightDone)" or "UID MOVE 5 Done". */
int imap_command(struct imap *m, const char *cmd, char *err, size_t errlen);

/* Bytes sent and received on the wire so far (for the benchmark). */
void imap_traffic(const struct imap *m, unsigned long *sent, unsigned long *recvd);

#endif
