/* reply.h - read a reviewer's emailed reply: RFC 5322 + MIME, pure.
 *
 * Mail is the most hostile input greenlight reads: anyone who can send to
 * the gate's mailbox writes it.  reply_parse() reads at most
 * REPLY_MAX_INPUT bytes of one message and extracts only what the mail
 * backend (backend_mail.c) decides with:
 *   - From (one addr-spec, or "" when absent or more than one), Subject
 *     (RFC 2047 decoded), Message-ID, In-Reply-To + References;
 *   - whether it is automatic (Auto-Submitted other than "no",
 *     X-Autoreply, Precedence bulk/junk/list, multipart/report and
 *     delivery-status, null Return-Path, MAILER-DAEMON, out-of-office
 *     subjects) and why;
 *   - the reply codes it carries: "+CODE@" in To, Cc, Delivered-To or
 *     X-Original-To, and "Reply code: CODE" anywhere in the text
 *     (including the quoted request);
 *   - the first non-empty line of the new text (text/plain preferred,
 *     else text/html with tags stripped), above the quoted part ("> ",
 *     "On ... wrote:", Outlook's "-----Original Message-----" and
 *     "From:" blocks, <blockquote>, Gmail and Outlook quote containers),
 *     and whether it says approve or reject, with the reason;
 *   - the Authentication-Results header fields (RFC 8601) in order.
 * Bodies are decoded from base64 and quoted-printable and converted to
 * UTF-8 from an allowlist of charsets (others are read as UTF-8; invalid
 * bytes become U+FFFD).  Depth, part count, header count and every text
 * are capped.  No I/O, no clocks, no allocation left behind after
 * reply_release().
 */
#ifndef GREENLIGHT_REPLY_H
#define GREENLIGHT_REPLY_H

#include <stddef.h>
#include "token.h"

#define REPLY_MAX_INPUT (64 * 1024)	/* bytes of a message read */
#define REPLY_MAX_TEXT (64 * 1024)	/* bytes of decoded text kept */
#define REPLY_MAX_HEADERS 200		/* header fields read per part */
#define REPLY_MAX_DEPTH 8		/* nested multiparts */
#define REPLY_MAX_PARTS 64		/* MIME parts visited */
#define REPLY_MAX_CODES 4		/* distinct reply codes kept */
#define REPLY_MAX_AUTH 8		/* Authentication-Results kept */
#define REPLY_MAX_REFS 8192		/* bytes of In-Reply-To + References */
#define REPLY_REASON_MAX 1000		/* bytes of a reason */

enum reply_verdict {
	REPLY_NONE = 0,			/* no approve/reject line */
	REPLY_APPROVE,
	REPLY_REJECT,
};

struct reply {
	char from[256];			/* addr-spec, "" if none or several */
	char message_id[256];		/* "<...>" as given, "" if unusable */
	char subject[256];		/* decoded, controls removed */
	char refs[REPLY_MAX_REFS];	/* In-Reply-To SP References */
	const char *automatic;		/* why it is automatic, or NULL */
	char codes[REPLY_MAX_CODES][TOKEN_SIZE];
	size_t ncodes;
	int more_codes;			/* more distinct codes than kept */
	enum reply_verdict verdict;
	char reason[REPLY_REASON_MAX + 1];	/* after the word, cleaned */
	char first_line[121];		/* the line read, cut (for logs) */
	int quoted_only;		/* text starts with the quoted part */
	char auth[REPLY_MAX_AUTH][1024];	/* Authentication-Results values */
	size_t nauth;
};

/* Parse data[0..n) (only the first REPLY_MAX_INPUT bytes are read).
 * Always fills *r (zeroed first); returns 0, or -1 when the input has no
 * header/body structure at all (r is still usable and counts nothing). */
int reply_parse(struct reply *r, const char *data, size_t n);

/* Whether the message's In-Reply-To or References names msgid ("<id@h>"),
 * compared exactly (case-sensitive, as Message-IDs are). */
int reply_references(const struct reply *r, const char *msgid);

/* Whether the topmost Authentication-Results field from authserv_id
 * (case-insensitive) vouches for the From domain: dmarc=pass (with
 * header.from equal to that domain when given), or dkim=pass with
 * header.d (or the domain of header.i) equal to it or a parent of it
 * (relaxed alignment).  Fields from other authserv-ids are ignored.
 * Returns 1, or 0 with the reason in why. */
int reply_auth_ok(const struct reply *r, const char *authserv_id,
		  char *why, size_t whylen);

/* Decode RFC 2047 encoded words in s[0..n) into out (UTF-8, outsize
 * bytes, NUL-terminated, controls removed).  Exposed for tests. */
void reply_decode_header(char *out, size_t outsize, const char *s, size_t n);

#endif
