/* backend_mail.c - the mail backend: decide by replying to the request.
 *
 * The gate keeps requests in its own SQLite store (as in listen mode) but
 * serves nothing: each reviewer's request email carries a personal reply
 * code (the review token, stored only hashed) in its Reply-To address
 * (local+CODE@domain) and its text, and the gate polls an IMAP mailbox for
 * replies.  Outbound connections only.
 *
 * Each poll asks the server for unprocessed messages whose In-Reply-To or
 * References name one of this request's Message-IDs (UID SEARCH HEADER;
 * the mailbox is never listed or downloaded), reads at most
 * REPLY_MAX_INPUT bytes of each, and counts a reply only when every rule
 * of docs/mail.md holds: not automatic, exactly one reply code, issued for
 * this request, the request email of that reviewer referenced, From is
 * that reviewer, the trusted server's Authentication-Results vouch for
 * the From domain (unless relaxed), and the first line says approve or
 * reject.  The store then applies the same quorum, self-approval and
 * first-reject rules as the review page.  Every message looked at gets
 * one log line saying what happened and why, and is then marked processed
 * (flagged $GreenlightDone, or moved) so no run reads it twice; messages
 * for other requests are never touched.  The reviewer (never an unverified
 * sender) gets a short answer in the same thread.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "backend.h"
#include "imap.h"
#include "mailer.h"
#include "mime.h"
#include "notify.h"
#include "reply.h"
#include "token.h"
#include "util.h"

#define MAIL_KEYWORD "$GreenlightDone"
#define MAIL_MAX_PER_POLL 50		/* replies read per poll */
#define MAIL_MAX_FAILURES 4		/* failed polls in a row before exit 4 */
#define MAIL_MAX_BACKOFF 30		/* seconds */
#define MAIL_CHECK_ATTEMPTS 3		/* logins tried before mailing */

struct mail_state {
	struct store *store;		/* the backend's own, or listen's */
	int own_store;
	int no_confirm;			/* listen mode: no fork beside the server thread */
	int combined;			/* relay mode: the store holds replies only */
	int scanned;			/* the first poll (processed mail too) is done */
	char *tmpdir;			/* relay mode: the replies' store lives here */
	struct imap *imap;
	struct imap *done;		/* processed: move:FOLDER, that folder (rescan) */
	int done_scanned, done_warned;
	struct mailer *mailer;		/* for confirmations, made on first use */
	int no_mailer;			/* making it failed: do not retry */
	unsigned failures;		/* failed polls in a row */
	time_t next_poll;
};

static struct mail_state *M(struct backend *b)
{
	return b->mail;
}

static int get(struct backend *b, const char *id, struct store_request *out)
{
	return local_get(M(b)->store, id, out);
}

static int put(struct backend *b, const struct store_new_request *nr,
	       struct store_request *out, int *created, struct store_request *prev)
{
	return local_put(M(b)->store, nr, out, created, prev);
}

static int rekey(struct backend *b, const char *id, const struct store_recipient *sr,
		 size_t n, struct store_request *out)
{
	return local_rekey(M(b)->store, id, sr, n, out);
}

static int reopen(struct backend *b, const char *id, time_t deadline,
		  const struct store_recipient *sr, size_t n, struct store_request *out)
{
	return local_reopen(M(b)->store, id, deadline, sr, n, out);
}

static int notified(struct backend *b, const char *id)
{
	return local_notified(M(b)->store, id);
}

/* Sleep up to secs, or until a signal wakes the gate.  1 if woken. */
static int nap(struct backend *b, long secs)
{
	struct pollfd p = { b->wake_fd, POLLIN, 0 };
	char drain[64];
	int woken;

	if (secs <= 0)
		return 0;
	woken = poll(&p, 1, (int)(secs > 86400 ? 86400000 : secs * 1000)) > 0;
	if (woken)
		while (read(b->wake_fd, drain, sizeof(drain)) > 0)
			;
	return woken || *b->stop;
}

/* No review page; log in to the mailbox before anyone is mailed, so a
 * wrong URL or password ends the run at once (bounded retries). */
static int serve(struct backend *b, char **public_url)
{
	*public_url = xstrdup("");
	return backend_mail_check(b);
}

int backend_mail_check(struct backend *b)
{
	char err[512];

	for (int i = 1; i <= MAIL_CHECK_ATTEMPTS; i++) {
		if (!imap_check(M(b)->imap, err, sizeof(err)))
			return 0;
		if (i < MAIL_CHECK_ATTEMPTS) {
			warning("mailbox %s: %s; retrying in %ds (attempt %d of %d)",
				b->set->value[SET_IMAP], err, 1 << (i - 1), i, MAIL_CHECK_ATTEMPTS);
			if (nap(b, 1L << (i - 1)))
				break;
		}
	}
	return error("mailbox %s: %s; giving up after %d attempts (exit 4): no reply could be read",
		     b->set->value[SET_IMAP], err, MAIL_CHECK_ATTEMPTS);
}

static int start(struct backend *b)
{
	(void)b;
	return 0;
}

/* ---- the confirmation ---- */

static struct mailer *mailer(struct backend *b)
{
	struct mail_state *m = M(b);

	if (!m->mailer && !m->no_mailer && !m->no_confirm) {
		m->mailer = notify_mailer(b->set, b->stop);
		m->no_mailer = !m->mailer;
	}
	return m->mailer;
}

/* A short answer to the reviewer in the reply's thread. */
static void confirm(struct backend *b, const struct reply *r, const char *to,
		    const char *request_msgid, const char *text)
{
	struct buf msg = BUF_INIT(64 * 1024), subj = BUF_INIT(512);
	struct mail_item item;
	struct mail_result res;
	char date[MIME_DATE_SIZE], nonce[32], err[256];
	const char *from = b->set->value[SET_FROM];
	struct mailer *m = mailer(b);
	int bad = !m;

	if (bad)
		return;
	bad |= mime_date(date, time(NULL)) || token_nonce(nonce, sizeof(nonce), 16);
	bad |= strpbrk(from, "\r\n") != NULL;
	if (strncasecmp(r->subject, "re:", 3))
		buf_adds(&subj, "Re: ");
	buf_adds(&subj, *r->subject ? r->subject : "greenlight review");
	bad |= buf_addf(&msg, "From: %s\r\nTo: %s\r\n", from, to) != 0;
	bad |= mime_header_encode(&msg, "Subject", subj.data ? subj.data : "Re:", MIME_CAP_SUBJECT) != 0;
	bad |= buf_addf(&msg, "Date: %s\r\nMessage-ID: <%s@greenlight>\r\n", date, nonce) != 0;
	if (*r->message_id)
		bad |= buf_addf(&msg, "In-Reply-To: %s\r\nReferences: %s %s\r\n", r->message_id,
				request_msgid, r->message_id) != 0;
	else
		bad |= buf_addf(&msg, "In-Reply-To: %s\r\nReferences: %s\r\n", request_msgid,
				request_msgid) != 0;
	bad |= buf_adds(&msg, "Auto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"
			"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n\r\n") != 0;
	bad |= mime_qp_encode(&msg, text, strlen(text)) != 0;
	buf_release(&subj);
	if (bad) {
		warning("cannot compose the answer to %s", to);
		buf_release(&msg);
		return;
	}
	item.to = to;
	item.data = msg.data;
	item.len = msg.len;
	if (mailer_send(m, &item, 1, &res, err, sizeof(err)))
		warning("the answer to %s was not sent: %s", to, res.text[0] ? res.text : err);
	buf_release(&msg);
}

/* ---- one reply ---- */

struct verdict_ctx {
	struct backend *b;
	const char *id;			/* this request */
	const struct reply *r;
	unsigned long uid;
	char reviewer[256];		/* whom the code was issued to, once known */
	char msgid[MIME_MSGID_SIZE];	/* that reviewer's request Message-ID */
	int verified;			/* From and authentication checked */
	int old;			/* marked processed by an earlier run: it was
					 * logged and answered then; count it again
					 * (the mailbox is the durable store), say
					 * nothing */
};

/* Log a refusal and, when the sender is verified as the reviewer, tell
 * them why.  Returns 0 (a refusal is not an error). */
static int refuse(struct verdict_ctx *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int refuse(struct verdict_ctx *v, const char *fmt, ...)
{
	char why[1024], text[1400];
	va_list ap;

	if (v->old)
		return 0;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	notice("reply %s from %s (UID %lu) not counted: %s",
	       *v->r->message_id ? v->r->message_id : "without Message-ID",
	       *v->r->from ? v->r->from : "an unreadable From", v->uid, why);
	if (v->verified) {
		snprintf(text, sizeof(text), "Your reply was not counted: %s.\n", why);
		confirm(v->b, v->r, v->reviewer, v->msgid, text);
	}
	return 0;
}

/* "engineering - 1 of 2" progress of a team after a decision. */
static void progress_text(struct backend *b, const char *id, const char *team,
			  int approve, char *out, size_t n)
{
	struct store_request req = { 0 };

	if (M(b)->combined || get(b, id, &req)) {	/* relay: counts are the gate's */
		snprintf(out, n, "Recorded: %s for %s.\n", approve ? "approved" : "rejected", team);
		return;
	}
	for (size_t i = 0; i < req.nteams; i++)
		if (!strcmp(req.teams[i].name, team)) {
			if (approve)
				snprintf(out, n, "Recorded: approved for %s \xe2\x80\x94 %d of %d%s.\n", team,
					 req.teams[i].approved, req.teams[i].approvals,
					 req.state == REQ_APPROVED ? "; the release is approved" : "");
			else
				snprintf(out, n, "Recorded: rejected for %s; the release is rejected.\n", team);
			break;
		}
	store_request_release(&req);
}

/* A code this store has no hash for, issued by a run without this run's
 * state (a detached request collected on a fresh runner, a re-attached
 * relay request): when it was derived from the gate secret for one of
 * this request's reviewers, that reviewer's row takes its hash.  STORE_OK
 * when adopted, STORE_NOT_FOUND when not derived for this request,
 * STORE_ERROR. */
static int adopt(struct backend *b, const char *id, const char *code)
{
	struct store_request req = { 0 };
	char hash[TOKEN_HEX_SIZE];
	int rc = STORE_NOT_FOUND;

	if (!b->set->secret.len || !b->key || !token_syntax_ok(code, strlen(code)))
		return STORE_NOT_FOUND;
	if (get(b, id, &req) || token_hash(hash, code)) {
		store_request_release(&req);
		return STORE_ERROR;
	}
	for (size_t i = 0; i < req.nasked && rc == STORE_NOT_FOUND; i++)
		if (token_derived_ok(&b->set->secret, b->key, req.asked[i].team,
				     req.asked[i].email, code))
			rc = store_recipient_adopt(M(b)->store, id, req.asked[i].email,
						   req.asked[i].team, hash);
	store_request_release(&req);
	return rc == STORE_CONFLICT ? STORE_NOT_FOUND : rc;
}

/* Decide what one fetched reply means; records a decision when it counts.
 * *decided: a decision was recorded.  -1 only for store errors. */
static int judge(struct verdict_ctx *v, int *decided)
{
	struct backend *b = v->b;
	const struct reply *r = v->r;
	struct store_review rv;
	const char *code;
	char why[512], ua[300], text[1400];
	int rc, recorded = 0, approve;

	if (r->automatic)
		return refuse(v, "an automatic message (%s)", r->automatic);
	if (!r->ncodes)
		return refuse(v, "it carries no reply code");
	if (r->ncodes > 1 || r->more_codes)
		return refuse(v, "it carries more than one reply code");
	code = r->codes[0];
	memset(&rv, 0, sizeof(rv));
	rc = store_review_get(M(b)->store, code, time(NULL), &rv);
	if (rc == STORE_NOT_FOUND) {
		rc = adopt(b, v->id, code);
		if (rc == STORE_OK) {
			store_review_release(&rv);
			memset(&rv, 0, sizeof(rv));
			rc = store_review_get(M(b)->store, code, time(NULL), &rv);
		}
	}
	if (rc == STORE_ERROR)
		return -1;
	if (rc == STORE_NOT_FOUND) {
		store_review_release(&rv);
		return refuse(v, "its reply code was not issued by this gate");
	}
	if (strcmp(rv.req.id, v->id)) {
		refuse(v, "its reply code belongs to request %s, not to this one (%s)", rv.req.id, v->id);
		store_review_release(&rv);
		return 0;
	}
	strlcpy_gl(v->reviewer, rv.email, sizeof(v->reviewer));
	if (mime_message_id(v->msgid, v->id, rv.email)) {
		store_review_release(&rv);
		return -1;
	}
	if (!reply_references(r, v->msgid)) {
		refuse(v, "it does not answer %s's request email %s (In-Reply-To/References)",
		       rv.email, v->msgid);
		goto out;
	}
	if (!*r->from || !addr_same(r->from, rv.email, b->set->keep_tags)) {
		refuse(v, "From is not %s, whom its reply code was issued to", rv.email);
		goto out;
	}
	if (b->set->require_auth &&
	    !reply_auth_ok(r, b->set->value[SET_AUTHSERV_ID], why, sizeof(why))) {
		refuse(v, "%s", why);
		goto out;
	}
	v->verified = 1;
	if (r->verdict == REPLY_NONE) {
		if (r->quoted_only || !*r->first_line)
			refuse(v, "there is no new text above the quoted request; write approve or reject on the first line");
		else
			refuse(v, "its first line is not approve or reject (\"%s\")", r->first_line);
		goto out;
	}
	approve = r->verdict == REPLY_APPROVE;
	if (rc == STORE_GONE) {
		refuse(v, "the request is %s already", req_state_name(rv.req.state));
		goto out;
	}
	if (rv.already) {
		refuse(v, "its reply code was used already (%s); each code decides once",
		       rv.already_approve ? "approved" : "rejected");
		goto out;
	}
	snprintf(ua, sizeof(ua), "email reply %s", *r->message_id ? r->message_id : "");
	rc = store_decide_ex(M(b)->store, code, rv.nonce, approve, r->reason, "imap", ua,
			     time(NULL), &recorded);
	switch (rc) {
	case STORE_OK:
		if (!recorded) {
			refuse(v, "the same decision was recorded already");
			break;
		}
		progress_text(b, v->id, rv.team, approve, text, sizeof(text));
		text[strcspn(text, "\n")] = '\0';
		notice("reply %s from %s (UID %lu%s) counted: %s%s%s", r->message_id, r->from, v->uid,
		       v->old ? ", processed earlier" : "", text, *r->reason ? " Reason: " : "",
		       r->reason);
		strlcpy_gl(text + strlen(text), "\n", sizeof(text) - strlen(text));
		if (!v->old)	/* answered when it was first processed */
			confirm(b, r, rv.email, v->msgid, text);
		*decided = 1;
		break;
	case STORE_FORBIDDEN:
		refuse(v, "%s may not approve this release (self-approval)", rv.email);
		break;
	case STORE_CONFLICT:
		refuse(v, "%s decided otherwise already", rv.email);
		break;
	case STORE_GONE:
		refuse(v, "the request is decided already");
		break;
	default:
		store_review_release(&rv);
		return -1;
	}
out:
	store_review_release(&rv);
	return 0;
}

/* ---- polling ---- */

/* [UID lo:*] [UN]KEYWORD $GreenlightDone [SINCE <request date - 1 day>]
 * OR HEADER In-Reply-To "x" OR HEADER References "x" ... over the
 * Message-IDs of every reviewer asked.  A run that collects a request it
 * did not create (--collect on a fresh runner) does not know when it was
 * mailed and searches without SINCE. */
static int criteria(const struct backend *b, const struct store_request *req, int processed,
		    unsigned long lo, struct buf *out)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	size_t k = 2 * req->nasked;
	time_t since = req->created - 86400;	/* a day early: servers' time zones */
	struct tm tm;

	if (lo > 1 && buf_addf(out, "UID %lu:* ", lo))
		return -1;
	if (buf_addf(out, "%sKEYWORD " MAIL_KEYWORD " ", processed ? "" : "UN"))
		return -1;
	/* SINCE bounds the server's work to mail that arrived after the
	 * request (internal date), whatever the mailbox holds */
	if (!b->collect && (!gmtime_r(&since, &tm) ||
			    buf_addf(out, "SINCE %d-%s-%d ", tm.tm_mday, months[tm.tm_mon],
				     tm.tm_year + 1900)))
		return -1;
	for (size_t i = 0; i < req->nasked; i++) {
		char id[MIME_MSGID_SIZE];
		const char *hdr[2] = { "In-Reply-To", "References" };

		if (mime_message_id(id, req->id, req->asked[i].email))
			return -1;
		id[strlen(id) - 1] = '\0';	/* search for "<hex@greenlight" */
		for (int h = 0; h < 2; h++) {
			k--;
			if (buf_addf(out, "%sHEADER %s \"%s\"%s", k ? "OR " : "", hdr[h], id,
				     k ? " " : ""))
				return -1;
		}
	}
	return 0;
}

static int mark(struct backend *b, unsigned long uid, char *err, size_t errlen)
{
	const char *p = b->set->value[SET_PROCESSED];
	char cmd[512], create[512];

	snprintf(cmd, sizeof(cmd), "UID STORE %lu +FLAGS (\\Seen " MAIL_KEYWORD ")", uid);
	if (imap_command(M(b)->imap, cmd, err, errlen))
		return -1;
	if (strncmp(p, "move:", 5))
		return 0;
	snprintf(cmd, sizeof(cmd), "UID MOVE %lu \"%s\"", uid, p + 5);
	if (!imap_command(M(b)->imap, cmd, err, errlen))
		return 0;
	/* the folder may not exist yet: create it once and try again */
	snprintf(create, sizeof(create), "CREATE \"%s\"", p + 5);
	imap_command(M(b)->imap, create, err, errlen);
	return imap_command(M(b)->imap, cmd, err, errlen);
}

/* Fetch, judge and (when new) mark one message.  -1 with err. */
static int one(struct backend *b, struct imap *box, const char *id, unsigned long uid, int old,
	       int *decided, char *err, size_t errlen)
{
	struct buf msg = BUF_INIT(REPLY_MAX_INPUT + 1024);
	struct reply *r = NULL;
	struct verdict_ctx v = { b, id, NULL, uid, "", "", 0, old };
	int rc = -1;

	if (imap_fetch(box, uid, REPLY_MAX_INPUT, &msg, err, errlen))
		goto out;
	r = xmalloc(sizeof(*r));
	reply_parse(r, msg.data ? msg.data : "", msg.len);
	v.r = r;
	if (judge(&v, decided)) {
		fail_into(err, errlen, "the store failed");
		goto out;
	}
	rc = old ? 0 : mark(b, uid, err, errlen);
out:
	free(r);
	buf_release(&msg);
	return rc;
}

/* Every message of this request already marked processed (by an earlier
 * run, maybe on another machine), counted again and quietly: the mailbox
 * is the durable store of replies.  In batches by UID, so a flood of
 * processed mail cannot hide a reply. */
static int rescan(struct backend *b, struct imap *box, const struct store_request *req,
		  int *decided, char *err, size_t errlen)
{
	unsigned long uids[MAIL_MAX_PER_POLL], lo = 1;
	size_t n = MAIL_MAX_PER_POLL;

	while (n == MAIL_MAX_PER_POLL && !*b->stop) {
		struct buf crit = BUF_INIT(256 * 1024);
		unsigned long top = 0;
		int bad = criteria(b, req, 1, lo, &crit);

		if (bad)
			fail_into(err, errlen, "too many reviewers to search for");
		else
			bad = imap_search(box, crit.data, uids, MAIL_MAX_PER_POLL, &n, err, errlen);
		buf_release(&crit);
		if (bad)
			return -1;
		for (size_t i = 0; i < n && !*b->stop; i++) {
			if (uids[i] < lo)	/* "lo:*" always matches the last message */
				continue;
			if (uids[i] > top)
				top = uids[i];
			if (one(b, box, req->id, uids[i], 1, decided, err, errlen))
				return -1;
		}
		if (!top)
			break;
		lo = top + 1;
	}
	return 0;
}

/* With processed "move:FOLDER", the replies an earlier run moved are in
 * FOLDER: read them once too.  The folder may not exist yet (nothing was
 * moved) or fail to open: said once, tried again at the next poll. */
static void rescan_done(struct backend *b, const struct store_request *req, int *decided)
{
	struct mail_state *m = M(b);
	char err[512];

	if (!m->done || m->done_scanned)
		return;
	if (!rescan(b, m->done, req, decided, err, sizeof(err))) {
		m->done_scanned = 1;
		return;
	}
	if (!m->done_warned++)
		notice("folder %s not read (%s): replies an earlier run moved there count once it can be read",
		       b->set->value[SET_PROCESSED] + 5, err);
}

/* One poll.  -1 with err for mailbox trouble; *decided when a decision
 * was recorded. */
static int poll_once(struct backend *b, const char *id, int *decided, char *err, size_t errlen)
{
	struct store_request req = { 0 };
	struct buf crit = BUF_INIT(256 * 1024);
	unsigned long uids[MAIL_MAX_PER_POLL];
	size_t n = 0;
	int ret = -1;

	if (get(b, id, &req)) {
		fail_into(err, errlen, "cannot read request %s from the store", id);
		goto out;
	}
	if (req.state != REQ_PENDING || !req.nasked) {
		ret = 0;
		goto out;
	}
	if (criteria(b, &req, 0, 1, &crit)) {
		fail_into(err, errlen, "too many reviewers to search for");
		goto out;
	}
	/* NOOP first: servers (dovecot) look for new mail on it, while a
	 * SEARCH on a selected mailbox may answer from an older view */
	if (imap_command(M(b)->imap, "NOOP", err, errlen))
		goto out;
	if (!M(b)->scanned) {
		if (rescan(b, M(b)->imap, &req, decided, err, errlen))
			goto out;
		M(b)->scanned = 1;
	}
	rescan_done(b, &req, decided);
	if (imap_search(M(b)->imap, crit.data, uids, MAIL_MAX_PER_POLL, &n, err, errlen))
		goto out;
	for (size_t i = 0; i < n && !*b->stop; i++)
		if (one(b, M(b)->imap, id, uids[i], 0, decided, err, errlen))
			goto out;
	ret = 0;
out:
	store_request_release(&req);
	buf_release(&crit);
	return ret;
}

int backend_mail_tick(struct backend *b, const char *id, int *decided, time_t *next)
{
	struct mail_state *m = M(b);
	time_t now = time(NULL);
	char err[512];

	*decided = 0;
	if (now >= m->next_poll) {
		if (poll_once(b, id, decided, err, sizeof(err))) {
			long backoff;

			if (*b->stop)
				return 0;
			if (++m->failures >= MAIL_MAX_FAILURES)
				return error("mailbox %s: %s; giving up after %u failed polls in a row (exit 4); the request stays pending, re-run to re-attach",
					     b->set->value[SET_IMAP], err, m->failures);
			backoff = (long)b->set->poll << (m->failures - 1);
			if (backoff > MAIL_MAX_BACKOFF)
				backoff = MAIL_MAX_BACKOFF;
			warning("mailbox %s: %s; retrying in %lds (%u of %d failed polls)",
				b->set->value[SET_IMAP], err, backoff, m->failures, MAIL_MAX_FAILURES);
			m->next_poll = time(NULL) + backoff;
		} else {
			m->failures = 0;
			m->next_poll = time(NULL) + (time_t)b->set->poll;
		}
	}
	*next = m->next_poll;
	return 0;
}

static int wait_for(struct backend *b, const char *id, time_t until,
		    struct store_request *out)
{
	int decided = 0;
	time_t next;

	if (backend_mail_tick(b, id, &decided, &next))
		return -1;
	if (!decided && !*b->stop)
		nap(b, (long)((next < until ? next : until) - time(NULL)));
	return get(b, id, out);
}

/* Remove the replies' store of relay mode (a directory of our own). */
static void remove_tmpdir(char *dir)
{
	DIR *d;
	struct dirent *e;

	if (!dir)
		return;
	d = opendir(dir);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

void backend_mail_detach(struct backend *b)
{
	struct mail_state *m = M(b);

	if (!m)
		return;
	imap_free(m->imap);
	imap_free(m->done);
	mailer_free(m->mailer);
	if (m->own_store && m->store)
		store_close(m->store);
	remove_tmpdir(m->tmpdir);
	free(m);
	b->mail = NULL;
}

static void close_mail(struct backend *b)
{
	backend_mail_detach(b);
	b->priv = NULL;
}

static const struct backend_ops mail_ops = {
	.name = "mail",
	.put = put,
	.rekey = rekey,
	.reopen = reopen,
	.notified = notified,
	.serve = serve,
	.start = start,
	.wait = wait_for,
	.close = close_mail,
};

/* The URL of FOLDER on the server of mailbox URL url (its path replaced,
 * percent-encoded), malloc'd, or NULL. */
static char *folder_url(const char *url, const char *folder)
{
	const char *host = strstr(url, "://"), *path;
	struct buf u = BUF_INIT(4096);

	if (!host || !(path = strchr(host + 3, '/')))
		return NULL;
	if (buf_addf(&u, "%.*s", (int)(path - url + 1), url))
		return NULL;
	for (const unsigned char *p = (const unsigned char *)folder; *p; p++)
		if ((isalnum(*p) || strchr("-._~", *p)) ? buf_addf(&u, "%c", *p)
							 : buf_addf(&u, "%%%02X", *p))
			return NULL;
	return u.data;
}

int backend_mail_attach(struct backend *b, struct store *store)
{
	struct mail_state *m = xcalloc(1, sizeof(*m));
	struct imap_config ic = { 0 };
	char err[256];

	ic.url = b->set->value[SET_IMAP];
	ic.tls_none = b->set->imap_tls_none;
	ic.ca_file = *b->set->value[SET_IMAP_CA_FILE] ? b->set->value[SET_IMAP_CA_FILE] : NULL;
	ic.user = getenv(b->set->value[SET_IMAP_USER_ENV]);
	ic.password = getenv(b->set->value[SET_IMAP_PASSWORD_ENV]);
	m->imap = imap_new(&ic, err, sizeof(err));
	if (!m->imap) {
		free(m);
		return error("mailbox %s: %s", b->set->value[SET_IMAP], err);
	}
	if (!strncmp(b->set->value[SET_PROCESSED], "move:", 5)) {
		char *url = folder_url(ic.url, b->set->value[SET_PROCESSED] + 5);

		ic.url = url;
		m->done = url ? imap_new(&ic, err, sizeof(err)) : NULL;
		free(url);
		if (!m->done) {
			imap_free(m->imap);
			free(m);
			return error("mailbox %s: the folder %s: %s", b->set->value[SET_IMAP],
				     b->set->value[SET_PROCESSED] + 5, url ? err : "cannot make its URL");
		}
	}
	m->own_store = !store;
	m->no_confirm = store != NULL;
	m->store = store ? store : store_open(b->set->value[SET_STATE]);
	if (!m->store) {
		imap_free(m->imap);
		imap_free(m->done);
		free(m);
		return -1;
	}
	b->mail = m;
	return 0;
}

/* ---- relay mode: replies beside the relay ---- */

int backend_mail_attach_relay(struct backend *b)
{
	const char *t = getenv("TMPDIR");
	char dir[4096], path[4200];
	struct store *s;

	snprintf(dir, sizeof(dir), "%s/greenlight-replies-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		return error("cannot create a directory for the replies in %s: %s",
			     t && *t ? t : "/tmp", strerror(errno));
	snprintf(path, sizeof(path), "%s/replies.db", dir);
	s = store_open(path);
	if (!s || backend_mail_attach(b, s)) {
		if (s)
			store_close(s);
		remove_tmpdir(xstrdup(dir));
		return -1;
	}
	M(b)->own_store = 1;
	M(b)->no_confirm = 0;	/* no server thread runs in relay mode */
	M(b)->combined = 1;
	M(b)->tmpdir = xstrdup(dir);
	return 0;
}

int backend_mail_mirror(struct backend *b, const struct store_new_request *nr,
			const struct store_request *relay)
{
	struct store_new_request copy = *nr;
	struct store_request got = { 0 }, prev = { 0 };
	int created = 0, ret;

	copy.id = relay->id;
	copy.created = relay->created ? relay->created : nr->created;
	copy.deadline = relay->deadline ? relay->deadline : nr->deadline;
	ret = local_put(M(b)->store, &copy, &got, &created, &prev);
	store_request_release(&got);
	store_request_release(&prev);
	return ret;
}

int backend_mail_mirror_rekey(struct backend *b, const char *id, time_t deadline,
			      const struct store_recipient *sr, size_t n)
{
	struct store_request got = { 0 };
	int ret;

	if (local_get(M(b)->store, id, &got))
		ret = -1;
	else if (got.state == REQ_EXPIRED && deadline)
		ret = local_reopen(M(b)->store, id, deadline, sr, n, &got);
	else if (got.state == REQ_PENDING)
		ret = local_rekey(M(b)->store, id, sr, n, &got);
	else
		ret = 0;
	store_request_release(&got);
	return ret;
}

int backend_mail_replies(struct backend *b, const char *id, struct store_request *out)
{
	return local_get(M(b)->store, id, out);
}

int backend_mail_open(struct backend *b)
{
	if (backend_mail_attach(b, NULL))
		return -1;
	b->priv = b->mail;
	b->ops = &mail_ops;
	return 0;
}
