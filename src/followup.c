/* followup.c - reminders, escalation and follow-ups: the pure part. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "followup.h"
#include "review.h"
#include "util.h"

const char *followup_ci_did(int code)
{
	switch (code) {
	case GL_EXIT_PASS: return "CI continues (exit 0)";
	case GL_EXIT_FAIL: return "CI stops: the gate failed (exit 1)";
	case GL_EXIT_TIMEOUT: return "CI stops: nobody decided in time (exit 3)";
	case GL_EXIT_INFRA: return "CI stops: the gate hit an infrastructure failure (exit 4)";
	default: return "CI stops: the request stays pending (exit 5)";
	}
}

const char *followup_outcome(enum req_state st)
{
	switch (st) {
	case REQ_APPROVED: return "Approved";
	case REQ_REJECTED: return "Rejected";
	case REQ_EXPIRED: return "Timed out";
	default: return "Still pending";
	}
}

int followup_decided(const struct store_request *req, const char *team,
		     const char *email)
{
	for (size_t i = 0; i < req->ndecisions; i++)
		if (!strcmp(req->decisions[i].team, team) &&
		    !strcasecmp(req->decisions[i].email, email))
			return 1;
	return 0;
}

int followup_team_met(const struct store_request *req, const char *team)
{
	for (size_t i = 0; i < req->nteams; i++)
		if (!strcmp(req->teams[i].name, team))
			return req->teams[i].approved >= req->teams[i].approvals;
	return 0;
}

int followup_pending(const struct store_request *req, const char *team,
		     const char *email)
{
	return req->state == REQ_PENDING && !followup_team_met(req, team) &&
	       !followup_decided(req, team, email);
}

long followup_reminder_seq(time_t created, time_t deadline, uint64_t every,
			   time_t now)
{
	long k;

	if (!every || now < created)
		return 0;
	k = (long)((uint64_t)(now - created) / every);
	while (k >= 1 && created + (time_t)((uint64_t)k * every) >= deadline)
		k--;
	return k;
}

time_t followup_reminder_next(time_t created, time_t deadline, uint64_t every,
			      time_t now)
{
	uint64_t k;
	time_t t;

	if (!every)
		return 0;
	k = now < created ? 1 : (uint64_t)(now - created) / every + 1;
	t = created + (time_t)(k * every);
	return t < deadline ? t : 0;
}

time_t followup_escalation_at(time_t created, time_t deadline, uint64_t after)
{
	time_t t = created + (time_t)after;

	return after && t < deadline ? t : 0;
}

int followup_message_id(char out[MIME_MSGID_SIZE], const char *request_id,
			const char *kind, long seq, const char *recipient)
{
	char who[400];

	snprintf(who, sizeof(who), "%s/%ld/%s", kind, seq, recipient);
	return mime_message_id(out, request_id, who);
}

static int msgid_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 5 || n > 250 || s[0] != '<' || s[n - 1] != '>' || !strchr(s, '@'))
		return 0;
	for (size_t i = 1; i + 1 < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '<' || s[i] == '>')
			return 0;
	return 1;
}

/* From: the address alone, or an encoded display name and the address. */
static int add_from(struct buf *out, const char *from)
{
	char addr[255], name[MIME_CAP_NAME + 1];
	const char *why;
	struct buf h = BUF_INIT(4096);
	int rc;

	if (mime_from_parse(from, addr, name, &why))
		return -1;
	if (!*name)
		return buf_adds(out, "From: ") || buf_adds(out, addr) || buf_adds(out, "\r\n");
	/* the name as RFC 2047 words: mime_header_encode writes "From: =?..?=" */
	rc = mime_header_encode(&h, "From", name, MIME_CAP_NAME);
	if (!rc && h.len >= 2)
		h.len -= 2;	/* drop its CRLF; the address follows */
	rc = rc || buf_add(out, h.data, h.len) || buf_adds(out, "\r\n <") ||
	     buf_adds(out, addr) || buf_adds(out, ">\r\n");
	buf_release(&h);
	return rc;
}

int followup_compose(struct buf *out, const struct followup_mail *m,
		     char *err, size_t errlen)
{
	struct buf body = BUF_INIT(256 * 1024);
	char subject[1200];
	const char *p;
	int rc;

	if (errlen)
		err[0] = '\0';
#define FAIL(msg) do { if (errlen) snprintf(err, errlen, "%s", msg); goto fail; } while (0)
	if (!m->to || !mime_addr_ok(m->to))
		FAIL("To is not a plain address (local@domain)");
	if (!msgid_ok(m->message_id) || !msgid_ok(m->in_reply_to))
		FAIL("Message-ID must look like <id@host>");
	if (!m->date || !*m->date || strpbrk(m->date, "\r\n"))
		FAIL("bad Date");
	if (add_from(out, m->from))
		FAIL("From must be \"a@b\" or \"Name <a@b>\"");
	snprintf(subject, sizeof(subject), "Re: %s", m->subject ? m->subject : "review");
	rc = buf_adds(out, "To: ") || buf_adds(out, m->to) || buf_adds(out, "\r\n") ||
	     mime_header_encode(out, "Subject", subject, MIME_CAP_SUBJECT + 4) ||
	     buf_adds(out, "Date: ") || buf_adds(out, m->date) ||
	     buf_adds(out, "\r\nMessage-ID: ") || buf_adds(out, m->message_id) ||
	     buf_adds(out, "\r\nIn-Reply-To: ") || buf_adds(out, m->in_reply_to) ||
	     buf_adds(out, "\r\nReferences: ") || buf_adds(out, m->in_reply_to) ||
	     buf_adds(out, "\r\nMIME-Version: 1.0\r\n"
			   "Content-Type: text/plain; charset=UTF-8\r\n"
			   "Content-Transfer-Encoding: quoted-printable\r\n"
			   "Auto-Submitted: auto-generated\r\n"
			   "X-Auto-Response-Suppress: All\r\n\r\n");
	if (rc)
		FAIL("message too large");
	/* each line cleaned (controls, invalid UTF-8) and capped */
	p = m->body ? m->body : "";
	while (*p) {
		size_t n = strcspn(p, "\n");
		char line[2048];

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
		if (mime_clean(&body, line, 1000) || buf_adds(&body, "\n"))
			FAIL("message too large");
		p += n;
		if (*p == '\n')
			p++;
	}
	if (mime_qp_encode(out, body.data ? body.data : "", body.len))
		FAIL("message too large");
#undef FAIL
	buf_release(&body);
	return 0;
fail:
	buf_release(&body);
	buf_release(out);
	return -1;
}

char *followup_threaded(const struct review *rv, const char *from, const char *request_id,
			const char *to, const char *kind, long seq, const char *body,
			time_t now, char *err, size_t errlen)
{
	struct buf out = BUF_INIT(MIME_MAX_MESSAGE);
	struct followup_mail fm = { 0 };
	char subject[4 * REVIEW_SUBJECT_MAX + 1], parent[MIME_MSGID_SIZE];
	char msgid[MIME_MSGID_SIZE], date[MIME_DATE_SIZE];

	if (mime_message_id(parent, request_id, to) ||
	    followup_message_id(msgid, request_id, kind, seq, to) ||
	    mime_date(date, now)) {
		snprintf(err, errlen, "cannot prepare the headers");
		return NULL;
	}
	fm.from = from;
	fm.to = to;
	fm.subject = review_subject(rv, subject, sizeof(subject));
	fm.in_reply_to = parent;
	fm.message_id = msgid;
	fm.date = date;
	fm.body = body;
	if (followup_compose(&out, &fm, err, errlen))
		return NULL;
	return buf_detach(&out, NULL);
}

static int approved_of(const struct store_request *req, const char *team, int *need)
{
	for (size_t i = 0; i < req->nteams; i++)
		if (!strcmp(req->teams[i].name, team)) {
			*need = req->teams[i].approvals;
			return req->teams[i].approved;
		}
	*need = 1;
	return 0;
}

char *followup_reminder_text(const struct review *rv, const struct store_request *req,
			     const char *team)
{
	struct buf b = BUF_INIT(64 * 1024);
	char head[1024], when[32];
	int need, got = approved_of(req, team, &need);

	format_rfc3339(req->deadline, when, sizeof(when));
	buf_addf(&b, "Reminder: %s still needs %s's review.\n\n", rv->gate ? rv->gate : "the gate", team);
	if (*review_headline(rv, head, sizeof(head)))
		buf_addf(&b, "%s\n\n", head);
	buf_addf(&b, "Team %s: %d of %d approval%s so far. Deadline: %s.\n", team, got,
		 need, need == 1 ? "" : "s", when);
	buf_adds(&b, "Decide with the personal link in the message this replies to;"
		 " this message carries no link.\n");
	return buf_detach(&b, NULL);
}

char *followup_text(const struct review *rv, const struct store_request *req, int code)
{
	struct buf b = BUF_INIT(256 * 1024);
	char head[1024], when[32];

	buf_addf(&b, "%s: %s\n\n", followup_outcome(req->state), rv->gate ? rv->gate : "the gate");
	if (*review_headline(rv, head, sizeof(head)))
		buf_addf(&b, "%s\n\n", head);
	if (!req->ndecisions)
		buf_adds(&b, req->state == REQ_EXPIRED ? "Nobody decided before the deadline.\n" :
			 "No decision was recorded.\n");
	for (size_t i = 0; i < req->ndecisions && i < 50; i++) {
		const struct store_decision *d = &req->decisions[i];

		format_rfc3339(d->at, when, sizeof(when));
		buf_addf(&b, "%s %s for %s at %s%s%s\n", d->email,
			 d->approve ? "approved" : "rejected", d->team, when,
			 *d->reason ? ": " : "", d->reason);
	}
	buf_addf(&b, "\n%s.\n", followup_ci_did(code));
	buf_adds(&b, "The review links of this request are closed; a new run of the"
		 " gate with other results asks again.\n");
	return buf_detach(&b, NULL);
}

int followup_exit_code(enum req_state st)
{
	switch (st) {
	case REQ_APPROVED: return GL_EXIT_PASS;
	case REQ_REJECTED: return GL_EXIT_FAIL;
	case REQ_EXPIRED: return GL_EXIT_TIMEOUT;
	default: return GL_EXIT_REVIEW;
	}
}
