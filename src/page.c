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
	"h1{font-size:1.4rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}"
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
	".buttons{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}"
	"button{flex:1 1 9rem;min-height:3rem;font:inherit;font-weight:600;"
	"border:0;border-radius:6px;color:#fff;cursor:pointer}"
	".approve{background:#1a7f37}.reject{background:#cf222e}"
	"button:disabled{background:#8c959f;cursor:not-allowed}"
	".banner{padding:.75rem 1rem;border-radius:8px;margin:1rem 0;"
	"font-weight:600}"
	".ok{background:#dafbe1}.bad{background:#ffebe9}.info{background:#ddf4ff}";

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

/* The facts the store or the relay keeps, read through the strict JSON
 * scanner into the review every surface shows. */
static void facts_sections(struct html *h, const char *facts_json)
{
	struct json_doc doc;
	struct json_err err;
	struct review rv;

	if (!facts_json ||
	    json_doc_parse(&doc, facts_json, strlen(facts_json), &err)) {
		put(h, "<p class=\"muted\">The details of this request cannot be"
		       " shown.</p>\n");
		return;
	}
	review_from_json(&rv, doc.root);
	json_doc_release(&doc);
	rules_section(h, &rv);
	commit_section(h, &rv);
	review_release(&rv);
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

/* ---- the review page -------------------------------------------------------- */

static void intro(struct html *h, const struct store_review *rv, time_t now)
{
	put(h, "<h1>Review needed: ");
	text(h, rv->req.gate, MIME_CAP_GATE);
	put(h, "</h1>\n<p>You (<b>");
	text(h, rv->email, MIME_CAP_EMAIL);
	put(h, "</b>) are asked to review for team <b>");
	text(h, rv->team, MIME_CAP_TEAM);
	put(h, "</b>.</p>\n<p class=\"muted\">Decide by ");
	when(h, rv->req.deadline);
	put(h, " (");
	time_left(h, rv->req.deadline, now);
	put(h, "); after that the request expires.</p>\n");
}

static void form(struct html *h, const struct store_review *rv)
{
	int no_approve = rv->self && !rv->allow_self_approval;

	if (no_approve)
		put(h, "<p class=\"banner bad\">You are the author of this"
		       " commit, so you cannot approve it. You may reject it.</p>\n");
	put(h, "<form method=\"post\" class=\"card\">\n"
	       "<input type=\"hidden\" name=\"nonce\" value=\"");
	text(h, rv->nonce, 64);
	putf(h, "\">\n<label for=\"reason\">Reason (optional)</label>\n"
		"<textarea id=\"reason\" name=\"reason\" rows=\"3\""
		" maxlength=\"%d\"></textarea>\n"
		"<div class=\"buttons\">\n"
		"<button type=\"submit\" name=\"decision\" value=\"approve\""
		" class=\"approve\"%s>Approve</button>\n", STORE_REASON_MAX,
	     no_approve ? " disabled" : "");
	put(h, "<button type=\"submit\" name=\"decision\" value=\"reject\""
	       " class=\"reject\">Reject</button>\n</div>\n</form>\n");
}

static void already(struct html *h, const struct store_review *rv)
{
	put(h, "<p class=\"banner info\">You ");
	put(h, rv->already_approve ? "approved" : "rejected");
	put(h, " this request. A decision cannot be changed; the request is"
	       " still waiting for other reviewers.</p>\n");
}

int page_review(struct buf *out, const struct store_review *rv, time_t now)
{
	struct html h = { out, 0 };

	head(&h, "Review needed");
	intro(&h, rv, now);
	facts_sections(&h, rv->req.facts_json);
	progress_section(&h, &rv->req);
	if (rv->already)
		already(&h, rv);
	else
		form(&h, rv);
	put(&h, "<p class=\"muted\">Opening this page changes nothing; only"
		" the buttons decide. Each reviewer decides once.</p>\n");
	return tail(&h);
}

/* ---- after deciding, and closed requests ---------------------------------- */

static void outcome(struct html *h, const struct store_request *r)
{
	switch (r->state) {
	case REQ_PENDING:
		put(h, "<p>The request is still waiting for approvals.</p>\n");
		return;
	case REQ_APPROVED:
		put(h, "<p class=\"banner ok\">The request was approved on ");
		break;
	case REQ_REJECTED:
		put(h, "<p class=\"banner bad\">The request was rejected on ");
		break;
	case REQ_EXPIRED:
		put(h, "<p class=\"banner info\">The request expired without a"
		       " decision on ");
		break;
	}
	when(h, r->decided_at);
	put(h, ".</p>\n");
}

int page_recorded(struct buf *out, const struct store_review *rv,
		  int approve, int repeat)
{
	struct html h = { out, 0 };
	const char *what = approve ? "approved" : "rejected";

	head(&h, approve ? "Recorded: approved" : "Recorded: rejected");
	putf(&h, "<h1>Recorded: %s</h1>\n<p>Your decision on <b>", what);
	text(&h, rv->req.gate, MIME_CAP_GATE);
	put(&h, repeat ? "</b> had already been recorded.</p>\n" :
			 "</b> is stored.</p>\n");
	outcome(&h, &rv->req);
	progress_section(&h, &rv->req);
	return tail(&h);
}

int page_closed(struct buf *out, const struct store_review *rv)
{
	struct html h = { out, 0 };

	head(&h, "Review closed");
	put(&h, "<h1>This review is closed: ");
	text(&h, rv->req.gate, MIME_CAP_GATE);
	put(&h, "</h1>\n");
	outcome(&h, &rv->req);
	if (rv->already) {
		put(&h, "<p>You ");
		put(&h, rv->already_approve ? "approved" : "rejected");
		put(&h, " it.</p>\n");
	}
	decisions_list(&h, &rv->req);
	put(&h, "<p class=\"muted\">Nothing can be decided here any more.</p>\n");
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
