/* mime.h - compose the review-request email: RFC 5322 + MIME, pure.
 *
 * Input is a struct of facts plus a caller-supplied random boundary; output
 * is one complete message appended to a struct buf: CRLF line endings only,
 * no line over 998 bytes (headers folded to 78 where possible), an RFC 2047
 * UTF-8 Subject, and a multipart/alternative body with a text/plain and a
 * self-contained text/html part, both quoted-printable.
 *
 * Invariants: every value that comes from data (gate, rules, team, commit
 * facts, URLs, date) is cleaned (CR/LF/TAB become spaces; other controls,
 * bidi overrides and invalid UTF-8 are removed or replaced) and cut to the
 * MIME_CAP_* byte limits below before use; every HTML interpolation is
 * escaped; only http(s) URLs become links.  Addresses (From, To) are
 * validated, never repaired: the recipient list belongs to the caller.
 * No I/O, no clocks, no randomness: the same input gives the same bytes.
 */
#ifndef GREENLIGHT_MIME_H
#define GREENLIGHT_MIME_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

/* Byte caps applied after cleaning; a longer value is cut at a character
 * boundary and ends in "…" (U+2026), the whole staying within the cap. */
#define MIME_CAP_GATE 100
#define MIME_CAP_TEAM 100
#define MIME_CAP_REASON 500
#define MIME_CAP_METRIC 200
#define MIME_CAP_VALUE 100	/* a value or a threshold */
#define MIME_CAP_OP 16
#define MIME_CAP_SHA 64
#define MIME_CAP_AUTHOR 200	/* author name */
#define MIME_CAP_EMAIL 254	/* author email (shown, not an address) */
#define MIME_CAP_COMMIT_SUBJECT 300
#define MIME_CAP_BRANCH 255
#define MIME_CAP_TRIGGERED 200	/* who started the CI run */
#define MIME_CAP_URL 2048
#define MIME_CAP_DATE 64	/* Date header and deadline text */
#define MIME_CAP_SUBJECT 250	/* the decoded Subject header, whole */
#define MIME_CAP_NAME 100	/* display name of From */
#define MIME_MAX_RULES 50	/* rules listed in the body; the rest counted */
#define MIME_MAX_OTHERS 20	/* other reviewers listed; the rest counted */
#define MIME_MAX_MESSAGE (1024 * 1024)	/* a good struct buf max for compose */

#define MIME_MSGID_SIZE 46	/* "<" 32 hex "@greenlight>" NUL */
#define MIME_DATE_SIZE 32	/* "Tue, 02 Jan 2024 15:04:05 +0000" NUL */

/* One fired rule as the reader should see it. */
struct mime_rule {
	const char *metric;	/* "latencyMs" or "$.latencyMs" */
	const char *value;	/* the observed value as text: "225" */
	const char *op;		/* operator symbol: ">", "<=", "matches" */
	const char *threshold;	/* "80" */
	const char *baseline;	/* optional: the baseline value, "180" */
	const char *change;	/* optional: "+45 (+25%)" */
	const char *over;	/* optional: how far past the threshold, "+181%" */
};

/* Why the recipient may not approve (they may still reject). */
enum mime_self {
	MIME_SELF_NONE = 0,
	MIME_SELF_AUTHOR,	/* the recipient wrote the commit */
	MIME_SELF_STARTER,	/* the recipient started the CI run */
};

/* What the message says.  Pointers are borrowed; NULL in an optional
 * field leaves its line out. */
struct mime_facts {
	const char *gate;		/* required: gate name */
	const char *subject;		/* optional: the Subject as read
					 * ("acme/model: latencyMs 225 > 80 —
					 * review"); NULL: "Review needed: <gate>" */
	const char *headline;		/* optional: the body's first line
					 * ("latencyMs 225 > 80 (+181%)"); NULL:
					 * the first rule */
	const char *repository;		/* optional: "acme/model" */
	const char *team;		/* required: team being asked */
	int approvals;			/* the team's quorum; 0 leaves it out */
	const char *const *others;	/* the team's other reviewers (shown) */
	size_t nothers;
	const char *team_reason;	/* optional: why this team */
	enum mime_self self;		/* the recipient may not approve */
	const struct mime_rule *rules;	/* fired rules, first one in Subject */
	size_t nrules;
	const char *commit_sha;		/* optional: full sha */
	const char *commit_url;		/* optional: linked if http/https */
	const char *author_name;	/* optional */
	const char *author_email;	/* optional */
	const char *commit_subject;	/* optional */
	const char *branch;		/* optional */
	const char *triggered_by;	/* optional: who started the CI run */
	const char *run_url;		/* optional: CI run (linked if http/https) */
	const char *deadline;		/* required: RFC 3339 text */
	const char *review_url;		/* personal link, http/https; required
					 * unless reply_code is given */
	const char *reply_to;		/* optional: Reply-To addr-spec */
	const char *reply_code;		/* optional: the reviewer's reply code
					 * (token syntax); the message then says
					 * how to decide by replying */
	const char *from;		/* required: "a@b" or "Name <a@b>"
					 * (mime_from_parse) */
	const char *to;			/* required: "a@b" */
	const char *message_id;		/* required: "<id@host>" */
	const char *date;		/* required: RFC 5322 date text */
};

/* Append the whole message to out.  boundary must be 1..70 characters of
 * RFC 2046 bchars without spaces (token_boundary() makes one).  Returns 0;
 * or -1 with a reason in err (when errlen > 0) if a required field is
 * missing or invalid (bad address, Message-ID, date, boundary, non-http(s)
 * review URL), the boundary occurs in an encoded part, or out overflows its
 * max.  On failure out is released (empty), as buf.h does for any error. */
int mime_compose(struct buf *out, const struct mime_facts *f,
		 const char *boundary, char *err, size_t errlen);

/* Append s cleaned and capped to cap bytes (see the file comment): output
 * is valid UTF-8 without controls.  NULL appends nothing.  Returns 0, or a
 * negative buf_status (out released). */
int mime_clean(struct buf *out, const char *s, size_t cap);

/* Append a header field "name: value" with value cleaned, capped to cap
 * bytes and written as RFC 2047 UTF-8 B encoded-words, folded so lines
 * stay within 78 bytes; ends in CRLF.  name must be 1..64 printable ASCII
 * characters without ':'.  Returns 0, or -1 for a bad name or a full
 * buffer (out released). */
int mime_header_encode(struct buf *out, const char *name, const char *value,
		       size_t cap);

/* Append s with & < > " ' replaced by entities.  Returns 0, or a negative
 * buf_status (out released). */
int mime_html_escape(struct buf *out, const char *s);

/* Append n bytes as quoted-printable: "\n" or "\r\n" in the input is a
 * line break written as CRLF; lines stay within 76 bytes; a leading '.'
 * or "From " is encoded.  Returns 0, or a negative buf_status. */
int mime_qp_encode(struct buf *out, const char *s, size_t n);

/* Whether s is an addr-spec we send to: local@domain, dot-atom on both
 * sides, at most 254 bytes, printable ASCII only.  Returns 1 or 0. */
int mime_addr_ok(const char *s);

/* Read a From value: "addr@domain", "<addr@domain>", "Name <addr@domain>"
 * or "\"Name, Inc.\" <addr@domain>".  The name may be UTF-8 (at most
 * MIME_CAP_NAME bytes).  On success fills addr (the addr-spec, the SMTP
 * envelope sender) and name ("" when none; quotes and escapes removed)
 * and returns 0.  Refused, with a one-line reason in *why: control
 * characters (CR, LF, ...), more than one address, unbalanced or
 * misplaced angle brackets, an address that is not local@domain, invalid
 * UTF-8.  addr and name may be NULL. */
int mime_from_parse(const char *from, char addr[255], char name[MIME_CAP_NAME + 1],
		    const char **why);

/* Whether s is an http:// or https:// URL without spaces or controls, at
 * most MIME_CAP_URL bytes.  Returns 1 or 0. */
int mime_url_ok(const char *s);

/* The stable Message-ID for (request, recipient):
 * "<" + first 32 hex of SHA-256(request_id "/" recipient) + "@greenlight>".
 * A resend of the same request to the same person gets the same id.
 * Returns 0, or -1 if hashing failed (out is then the empty string). */
int mime_message_id(char out[MIME_MSGID_SIZE], const char *request_id,
		    const char *recipient);

/* Format t as an RFC 5322 date in UTC ("Tue, 02 Jan 2024 15:04:05 +0000"),
 * independent of locale.  Returns 0, or -1 if t cannot be represented. */
int mime_date(char out[MIME_DATE_SIZE], time_t t);

#endif
