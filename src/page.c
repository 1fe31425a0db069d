/* page.c - HTML for the review page and its companions (see page.h).
 *
 * Output is built with a small writer that remembers the first buffer
 * error, so the page code reads top to bottom without error checks; every
 * public function turns that error into -1 at the end.  The facts are the
 * review (review.h) as JSON, read back with review_from_json(): anything
 * missing or of the wrong type is simply not shown.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mime.h"
#include "page.h"
#include "review.h"
#include "util.h"

#define CAP_WHY 500		/* a rule's or team's explanation */
#define CAP_REASON 1000		/* a reviewer's reason (store caps it too) */

static const char style[] =
	"body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',"
	"Roboto,sans-serif;color:#1b1f24;background:#f4f5f7}"
	"main{box-sizing:border-box;max-width:44rem;margin:0 auto;padding:1rem}"
	"h1{font-size:1.4rem;line-height:1.3;margin:.5rem 0 .5rem;"
	"overflow-wrap:anywhere}"
	"h2{font-size:1.05rem;margin:1.5rem 0 .5rem}"
	".card{background:#fff;border:1px solid #d0d7de;border-radius:8px;"
	"padding:.75rem 1rem;margin:.5rem 0}"
	"ul.card{padding-left:2rem}"
	"li{margin:.25rem 0;overflow-wrap:anywhere}"
	"dl{display:grid;grid-template-columns:max-content 1fr;"
	"gap:.25rem .75rem}"
	"dt{color:#57606a}dd{margin:0;min-width:0;overflow-wrap:anywhere}"
	"code{font:.9em ui-monospace,Menlo,Consolas,monospace;"
	"overflow-wrap:anywhere}"
	".muted{color:#57606a;font-size:.9rem}"
	"label{display:block;font-weight:600;margin:.25rem 0}"
	"textarea{box-sizing:border-box;width:100%;font:inherit;padding:.5rem;"
	"border:1px solid #8c959f;border-radius:6px}"
	".buttons{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:.75rem}"
	"button{flex:1 1 9rem;min-height:3rem;font:inherit;font-weight:600;"
	"border:0;border-radius:6px;color:#fff;cursor:pointer}"
	".approve{background:#1a7f37}.reject{background:#cf222e}"
	"button:disabled{background:#8c959f;cursor:not-allowed}"
	".banner{padding:.75rem 1rem;border-radius:8px;margin:.5rem 0;"
	"font-weight:600;border-left:6px solid;overflow-wrap:anywhere}"
	".ok{background:#dafbe1;border-color:#1a7f37}"
	".bad{background:#ffebe9;border-color:#cf222e}"
	".info{background:#ddf4ff;border-color:#0969da}"
	".warn{background:#fff8c5;border-color:#9a6700}"
	".summary{margin:.25rem 0 .75rem;color:#424a53}"
	".details{margin-top:1.5rem;border-top:1px solid #d0d7de}"
	".run{font-weight:600}";

const char *page_style(void)
{
	return style;
}

/* ---- writer ---------------------------------------------------------------- */

struct html {
	struct buf *out;
	int err;
};

static void put(struct html *h, const char *s)
{
	if (!h->err)
		h->err = buf_adds(h->out, s);
}

static void putf(struct html *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(struct html *h, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(h, tmp);
}

/* Text from data: cleaned, capped to cap bytes, escaped. */
static void text(struct html *h, const char *s, size_t cap)
{
	struct buf clean = BUF_INIT(cap + 8);

	if (!s || h->err)
		return;
	if (mime_clean(&clean, s, cap) == 0 && clean.data)
		h->err = mime_html_escape(h->out, clean.data);
	buf_release(&clean);
}

/* A link when url is http(s), else plain text. */
static void put_link(struct html *h, const char *url)
{
	if (!mime_url_ok(url)) {
		text(h, url, MIME_CAP_URL);
		return;
	}
	put(h, "<a href=\"");
	text(h, url, MIME_CAP_URL);
	put(h, "\" rel=\"noopener noreferrer\">");
	text(h, url, MIME_CAP_URL);
	put(h, "</a>");
}

static void when(struct html *h, time_t t)
{
	char s[32];
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%d %H:%M UTC", &tm))
		strlcpy_gl(s, "?", sizeof(s));
	put(h, s);
}

static void time_left(struct html *h, time_t deadline, time_t now)
{
	long left = (long)(deadline - now);

	if (left <= 0)
		put(h, "now");
	else if (left < 3600)
		putf(h, "in %ld min", (left + 59) / 60);
	else
		putf(h, "in %ld h %ld min", left / 3600, left / 60 % 60);
}

static void head(struct html *h, const char *title)
{
	put(h, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	       "<meta name=\"referrer\" content=\"no-referrer\">\n"
	       "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>");
	text(h, title, 200);
	put(h, "</title>\n<style>");
	put(h, style);
	put(h, "</style>\n</head>\n<body><main>\n");
}

static int tail(struct html *h)
{
	put(h, "</main></body></html>\n");
	return h->err ? -1 : 0;
}

/* ---- the review's facts ---------------------------------------------------- */

/* The facts the store or the relay keeps, read through the strict JSON
 * scanner into the review every surface shows.  Returns 0, or -1 when
 * they cannot be read (rv is then empty). */
static int facts_read(struct review *rv, const char *facts_json)
{
	struct json_doc doc;
	struct json_err err;

	if (!facts_json ||
	    json_doc_parse(&doc, facts_json, strlen(facts_json), &err)) {
		review_from_json(rv, NULL);
		return -1;
	}
	review_from_json(rv, doc.root);
	json_doc_release(&doc);
	return 0;
}

static void rule_item(struct html *h, const struct review_test *t)
{
	put(h, "<li><code>");
	text(h, t->metric, MIME_CAP_METRIC);
	put(h, "</code> is <b>");
	text(h, t->value, MIME_CAP_VALUE);
	put(h, "</b>");
	if (*t->baseline) {
		put(h, ", baseline ");
		text(h, t->baseline, MIME_CAP_VALUE);
		if (*t->change) {
			put(h, " (");
			text(h, t->change, MIME_CAP_VALUE);
			put(h, ")");
		}
	}
	put(h, "; rule: <code>");
	text(h, t->op, MIME_CAP_OP);
	put(h, " ");
	text(h, t->threshold, MIME_CAP_VALUE);
	put(h, "</code>");
	if (*t->over) {
		put(h, " (");
		text(h, t->over, MIME_CAP_VALUE);
		put(h, ")");
	}
	if (*t->next) {
		put(h, " &rarr; <b>");
		text(h, t->next, MIME_CAP_TEAM);
		put(h, "</b>");
	}
	if (*t->why) {
		put(h, "<br><span class=\"muted\">");
		text(h, t->why, CAP_WHY);
		put(h, "</span>");
	}
	put(h, "</li>\n");
}

static void rules_section(struct html *h, const struct review *rv)
{
	if (!rv->ntests)
		return;
	put(h, "<h2>Why a review is needed</h2>\n<ul class=\"card\">\n");
	for (size_t i = 0; i < rv->ntests; i++)
		rule_item(h, &rv->tests[i]);
	if (rv->more)
		putf(h, "<li>and %zu more</li>\n", rv->more);
	put(h, "</ul>\n");
}

/* Why this reviewer's team was asked, when the facts say. */
static void team_why(struct html *h, const struct review *rv, const char *team)
{
	const struct review_team *t = team && *team ? review_team(rv, team) : NULL;

	if (!t || !t->why || !*t->why)
		return;
	put(h, "<p class=\"muted\">Why <b>");
	text(h, team, MIME_CAP_TEAM);
	put(h, "</b> is asked: ");
	text(h, t->why, CAP_WHY);
	put(h, "</p>\n");
}

static void row(struct html *h, const char *label, const char *value,
		size_t cap, int code)
{
	if (!value || !*value)
		return;
	putf(h, "<dt>%s</dt><dd>%s", label, code ? "<code>" : "");
	text(h, value, cap);
	put(h, code ? "</code></dd>\n" : "</dd>\n");
}

static void commit_section(struct html *h, const struct review *rv)
{
	if (!rv->sha && !rv->run_url && !rv->repository && !rv->started_by)
		return;
	put(h, "<h2>Commit</h2>\n<dl class=\"card\">\n");
	row(h, "Repository", rv->repository, MIME_CAP_URL, 0);
	if (rv->sha && rv->commit_url && mime_url_ok(rv->commit_url)) {
		put(h, "<dt>Commit</dt><dd><a href=\"");
		text(h, rv->commit_url, MIME_CAP_URL);
		put(h, "\" rel=\"noopener noreferrer\"><code>");
		text(h, rv->sha, MIME_CAP_SHA);
		put(h, "</code></a></dd>\n");
	} else {
		row(h, "Commit", rv->sha, MIME_CAP_SHA, 1);
	}
	if (rv->author || rv->author_email) {
		put(h, "<dt>Author</dt><dd>");
		text(h, rv->author, MIME_CAP_AUTHOR);
		if (rv->author_email) {
			put(h, rv->author ? " &lt;" : "&lt;");
			text(h, rv->author_email, MIME_CAP_EMAIL);
			put(h, "&gt;");
		}
		put(h, "</dd>\n");
	}
	row(h, "Subject", rv->subject, MIME_CAP_COMMIT_SUBJECT, 0);
	row(h, "Branch", rv->branch, MIME_CAP_BRANCH, 1);
	if (rv->run_url && *rv->run_url) {
		put(h, "<dt>CI run</dt><dd>");
		put_link(h, rv->run_url);
		put(h, "</dd>\n");
	}
	row(h, "Started by", rv->started_by, MIME_CAP_TRIGGERED, 0);
	put(h, "</dl>\n");
}

/* The evidence: every fired rule, why the team was asked, the commit. */
static void facts_sections(struct html *h, const struct review *rv, int ok,
			   const char *team)
{
	if (!ok) {
		put(h, "<p class=\"muted\">The details of this request cannot be"
		       " shown.</p>\n");
		return;
	}
	rules_section(h, rv);
	team_why(h, rv, team);
	commit_section(h, rv);
}

/* The headline: the first fired rule, value against threshold, how far
 * over and the baseline ("latencyMs 225 > 80 (+181%)"); without facts,
 * "Review needed: GATE". */
static void headline(struct html *h, const struct review *rv,
		     const struct store_request *r)
{
	char line[1024];

	review_headline(rv, line, sizeof(line));
	put(h, "<h1>");
	if (*line) {
		text(h, line, 400);
	} else {
		put(h, "Review needed: ");
		text(h, r->gate, MIME_CAP_GATE);
	}
	put(h, "</h1>\n");
}

/* "Back to the CI run" when the run's URL can be a link. */
static void run_link(struct html *h, const struct review *rv)
{
	if (!rv->run_url || !mime_url_ok(rv->run_url))
		return;
	put(h, "<p class=\"run\"><a href=\"");
	text(h, rv->run_url, MIME_CAP_URL);
	put(h, "\" rel=\"noopener noreferrer\">Back to the CI run</a></p>\n");
}

/* ---- progress ------------------------------------------------------------- */

static void decision_item(struct html *h, const struct store_decision *d)
{
	put(h, "<li>");
	text(h, d->email, MIME_CAP_EMAIL);
	put(h, d->approve ? " <b>approved</b>" : " <b>rejected</b>");
	put(h, " for ");
	text(h, d->team, MIME_CAP_TEAM);
	put(h, ", ");
	when(h, d->at);
	if (d->reason[0]) {
		put(h, ": &ldquo;");
		text(h, d->reason, CAP_REASON);
		put(h, "&rdquo;");
	}
	put(h, "</li>\n");
}

static void decisions_list(struct html *h, const struct store_request *r)
{
	if (!r->ndecisions)
		return;
	put(h, "<h2>Decisions</h2>\n<ul class=\"card\">\n");
	for (size_t i = 0; i < r->ndecisions; i++)
		decision_item(h, &r->decisions[i]);
	put(h, "</ul>\n");
}

static void asked_list(struct html *h, const struct store_request *r)
{
	if (!r->nasked)
		return;
	put(h, "<p class=\"muted\">Asked: ");
	for (size_t i = 0; i < r->nasked; i++) {
		put(h, i ? ", " : "");
		text(h, r->asked[i].email, MIME_CAP_EMAIL);
		put(h, " (");
		text(h, r->asked[i].team, MIME_CAP_TEAM);
		put(h, ")");
	}
	put(h, "</p>\n");
}

static void progress_section(struct html *h, const struct store_request *r)
{
	put(h, "<h2>Approvals so far</h2>\n<ul class=\"card\">\n");
	for (size_t i = 0; i < r->nteams; i++) {
		put(h, "<li><b>");
		text(h, r->teams[i].name, MIME_CAP_TEAM);
		putf(h, "</b>: %d of %d</li>\n", r->teams[i].approved,
		     r->teams[i].approvals);
	}
	put(h, "</ul>\n");
	asked_list(h, r);
	decisions_list(h, r);
}

/* ---- where the request stands ---------------------------------------------- */

static const struct store_team_state *team_state(const struct store_request *r,
						 const char *name)
{
	for (size_t i = 0; i < r->nteams; i++)
		if (!strcmp(r->teams[i].name, name))
			return &r->teams[i];
	return NULL;
}

/* This reviewer's own decision, or NULL. */
static const struct store_decision *my_decision(const struct store_review *rv)
{
	for (size_t i = 0; i < rv->req.ndecisions; i++) {
		const struct store_decision *d = &rv->req.decisions[i];

		if (!strcmp(d->email, rv->email) && !strcmp(d->team, rv->team))
			return d;
	}
	return NULL;
}

/* The reject that decided the request, or NULL. */
static const struct store_decision *first_reject(const struct store_request *r)
{
	for (size_t i = 0; i < r->ndecisions; i++)
		if (!r->decisions[i].approve)
			return &r->decisions[i];
	return NULL;
}

/* Whether the reviewer's team has all the approvals it needs. */
static int quorum_met(const struct store_review *rv)
{
	const struct store_team_state *t = team_state(&rv->req, rv->team);

	return t && t->approved >= t->approvals;
}

/* "1 more approval from research and 2 more from ops". */
static void waiting_for(struct html *h, const struct store_request *r)
{
	int n = 0;

	for (size_t i = 0; i < r->nteams; i++) {
		int left = r->teams[i].approvals - r->teams[i].approved;

		if (left <= 0)
			continue;
		put(h, n++ ? " and " : "");
		putf(h, "%d more approval%s from <b>", left, left == 1 ? "" : "s");
		text(h, r->teams[i].name, MIME_CAP_TEAM);
		put(h, "</b>");
	}
	if (!n)
		put(h, "the request to be settled");
}

static void banner_open(struct html *h, const char *kind, const char *state)
{
	putf(h, "<p class=\"banner %s\" id=\"state\" data-state=\"%s\">", kind,
	     state);
}

/* "You approved at 2026-11-27 14:02 UTC" (the time when it is known). */
static void you_decided(struct html *h, const struct store_review *rv)
{
	const struct store_decision *d = my_decision(rv);

	put(h, rv->already_approve ? "You approved" : "You rejected");
	if (d) {
		put(h, " at ");
		when(h, d->at);
		if (d->reason[0]) {
			put(h, " (&ldquo;");
			text(h, d->reason, CAP_REASON);
			put(h, "&rdquo;)");
		}
	}
}

/* Who rejected, why, and what CI does. */
static void rejected_by(struct html *h, const struct store_request *r)
{
	const struct store_decision *d = first_reject(r);

	put(h, "Rejected");
	if (d) {
		put(h, " by ");
		text(h, d->email, MIME_CAP_EMAIL);
		if (d->reason[0]) {
			put(h, ": &ldquo;");
			text(h, d->reason, CAP_REASON);
			put(h, "&rdquo;");
		}
	}
	put(h, " &mdash; CI fails (greenlight exits 1).");
}

/* The state of a closed (decided or expired) request, as its banner;
 * mine: also say what this reviewer decided. */
static void closed_banner(struct html *h, const struct store_review *rv,
			  int mine)
{
	const struct store_request *r = &rv->req;

	switch (r->state) {
	case REQ_PENDING:	/* not closed: page_review's business */
		banner_open(h, "info", "pending");
		put(h, "The request is still waiting for ");
		waiting_for(h, r);
		put(h, ".");
		break;
	case REQ_APPROVED:
		banner_open(h, "ok", "approved");
		put(h, "Approved on ");
		when(h, r->decided_at);
		put(h, " &mdash; every team&rsquo;s quorum is met; CI continues"
		       " (greenlight exits 0).");
		break;
	case REQ_REJECTED:
		banner_open(h, "bad", "rejected");
		rejected_by(h, r);
		break;
	case REQ_EXPIRED:
		banner_open(h, "warn", "expired");
		put(h, "Expired at ");
		when(h, r->decided_at);
		put(h, " without a decision &mdash; CI stopped waiting (greenlight"
		       " exits 3). To ask again, re-run the CI job with"
		       " <code>greenlight run --resend</code>: it reopens this"
		       " request and mails new links.");
		break;
	}
	if (mine && rv->already && r->state != REQ_PENDING) {
		put(h, "<br>");
		you_decided(h, rv);
		put(h, ".");
	}
	put(h, "</p>\n");
}

/* ---- the review page -------------------------------------------------------- */

/* The one state that matters most to this reviewer, at the very top. */
static void review_banner(struct html *h, const struct store_review *rv,
			  int met)
{
	if (rv->already) {
		banner_open(h, rv->already_approve ? "ok" : "bad", "decided");
		you_decided(h, rv);
		put(h, ". A decision cannot be changed; the request is waiting"
		       " for ");
		waiting_for(h, &rv->req);
		put(h, ".</p>\n");
	} else if (met) {
		banner_open(h, "ok", "quorum-met");
		text(h, rv->team, MIME_CAP_TEAM);
		put(h, "&rsquo;s quorum is met &mdash; your vote is not needed."
		       " The request is waiting for ");
		waiting_for(h, &rv->req);
		put(h, ". You can still reject: one reject stops the release"
		       " and CI fails.</p>\n");
	} else if (rv->self && !rv->allow_self_approval) {
		banner_open(h, "warn", "author");
		put(h, "You are the author of this commit, so you cannot approve"
		       " it. You may reject it.</p>\n");
	}
}

/* One line under the headline: gate, team progress, deadline. */
static void summary(struct html *h, const struct store_review *rv, time_t now)
{
	const struct store_team_state *t = team_state(&rv->req, rv->team);

	put(h, "<p class=\"summary\">Gate <b>");
	text(h, rv->req.gate, MIME_CAP_GATE);
	put(h, "</b> &middot; <b>");
	text(h, rv->team, MIME_CAP_TEAM);
	put(h, "</b>");
	if (t)
		putf(h, ": %d of %d approval%s", t->approved, t->approvals,
		     t->approvals == 1 ? "" : "s");
	put(h, " &middot; decide by ");
	when(h, rv->req.deadline);
	put(h, " (");
	time_left(h, rv->req.deadline, now);
	put(h, ")</p>\n");
}

static void form(struct html *h, const struct store_review *rv, int met)
{
	int no_approve = (rv->self && !rv->allow_self_approval) || met;

	put(h, "<form method=\"post\" class=\"card\">\n"
	       "<input type=\"hidden\" name=\"nonce\" value=\"");
	text(h, rv->nonce, 64);
	putf(h, "\">\n<label for=\"reason\">Reason (optional)</label>\n"
		"<textarea id=\"reason\" name=\"reason\" rows=\"2\""
		" maxlength=\"%d\"></textarea>\n"
		"<div class=\"buttons\">\n"
		"<button type=\"submit\" name=\"decision\" value=\"approve\""
		" class=\"approve\"%s>Approve</button>\n", STORE_REASON_MAX,
	     no_approve ? " disabled" : "");
	put(h, "<button type=\"submit\" name=\"decision\" value=\"reject\""
	       " class=\"reject\">Reject</button>\n</div>\n</form>\n");
}

/* Who is reviewing, and the deadline in full, under the details. */
static void reviewer_note(struct html *h, const struct store_review *rv,
			  time_t now)
{
	put(h, "<p class=\"muted\">You (<b>");
	text(h, rv->email, MIME_CAP_EMAIL);
	put(h, "</b>) are asked to review for team <b>");
	text(h, rv->team, MIME_CAP_TEAM);
	put(h, "</b>. Decide by ");
	when(h, rv->req.deadline);
	put(h, " (");
	time_left(h, rv->req.deadline, now);
	put(h, "; the same wherever you are); after that the request"
	       " expires. Opening this page changes nothing; only the buttons"
	       " decide. Each reviewer decides once.</p>\n");
}

int page_review(struct buf *out, const struct store_review *rv, time_t now)
{
	struct html h = { out, 0 };
	struct review facts;
	int ok = facts_read(&facts, rv->req.facts_json) == 0;
	int met = !rv->already && rv->req.state == REQ_PENDING && quorum_met(rv);

	head(&h, "Review needed");
	review_banner(&h, rv, met);
	headline(&h, &facts, &rv->req);
	summary(&h, rv, now);
	if (!rv->already)
		form(&h, rv, met);
	put(&h, "<div class=\"details\">\n");
	facts_sections(&h, &facts, ok, rv->team);
	progress_section(&h, &rv->req);
	reviewer_note(&h, rv, now);
	put(&h, "</div>\n");
	review_release(&facts);
	return tail(&h);
}

/* ---- after deciding, and closed requests ---------------------------------- */

/* What CI does now that a decision was recorded. */
static void ci_now(struct html *h, const struct store_review *rv)
{
	const struct store_request *r = &rv->req;

	switch (r->state) {
	case REQ_PENDING:
		banner_open(h, "info", "waiting");
		put(h, "CI keeps waiting for ");
		waiting_for(h, r);
		put(h, ", until ");
		when(h, r->deadline);
		put(h, ".</p>\n");
		return;
	case REQ_APPROVED:
		banner_open(h, "ok", "approved");
		put(h, "Every team&rsquo;s quorum is met &mdash; CI continues:"
		       " greenlight exits 0.</p>\n");
		return;
	case REQ_REJECTED:
	case REQ_EXPIRED:
		closed_banner(h, rv, 0);
		return;
	}
}

int page_recorded(struct buf *out, const struct store_review *rv,
		  int approve, int repeat)
{
	struct html h = { out, 0 };
	struct review facts;
	const char *what = approve ? "approved" : "rejected";

	facts_read(&facts, rv->req.facts_json);
	head(&h, approve ? "Recorded: approved" : "Recorded: rejected");
	putf(&h, "<h1>Recorded: %s</h1>\n", what);
	ci_now(&h, rv);
	put(&h, "<p>Your decision on <b>");
	text(&h, rv->req.gate, MIME_CAP_GATE);
	put(&h, repeat ? "</b> had already been recorded.</p>\n" :
			 "</b> is stored.</p>\n");
	run_link(&h, &facts);
	progress_section(&h, &rv->req);
	review_release(&facts);
	return tail(&h);
}

int page_closed(struct buf *out, const struct store_review *rv)
{
	struct html h = { out, 0 };
	struct review facts;
	int ok = facts_read(&facts, rv->req.facts_json) == 0;

	head(&h, "Review closed");
	closed_banner(&h, rv, 1);
	headline(&h, &facts, &rv->req);
	put(&h, "<p class=\"summary\">This review of <b>");
	text(&h, rv->req.gate, MIME_CAP_GATE);
	put(&h, "</b> is closed; nothing can be decided here any more.</p>\n");
	run_link(&h, &facts);
	put(&h, "<div class=\"details\">\n");
	facts_sections(&h, &facts, ok, rv->team);
	progress_section(&h, &rv->req);
	put(&h, "</div>\n");
	review_release(&facts);
	return tail(&h);
}

int page_message(struct buf *out, const char *title, const char *msg)
{
	struct html h = { out, 0 };

	head(&h, title);
	put(&h, "<h1>");
	text(&h, title, 200);
	put(&h, "</h1>\n<p>");
	text(&h, msg, 2000);
	put(&h, "</p>\n");
	return tail(&h);
}
