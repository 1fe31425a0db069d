/* chat.c - chat messages in service-neutral form, text made fit for a
 * service, and the webhook URL rules (see chat.h).  Pure: no I/O.
 * Delivery is in chat_send.c; each service's JSON in chat_<service>.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "chat.h"
#include "followup.h"
#include "utf8.h"
#include "util.h"

#define CHAT_PART_MAX 1000	/* characters of any one value in a message */
#define ELLIPSIS "\xe2\x80\xa6"

static const struct chat_service *const services[] = {
	&chat_slack, &chat_teams, &chat_mattermost, &chat_google_chat,
};

const struct chat_service *chat_service_find(const char *name)
{
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (!strcmp(services[i]->name, name))
			return services[i];
	return NULL;
}

/* ---- text ---------------------------------------------------------------- */

char *chat_text(const char *s, size_t limit, chat_escape_fn esc, int keep_newlines)
{
	struct buf b = BUF_INIT((size_t)-1 / 2);
	size_t chars = 0, i = 0, n;
	char one[8];

	buf_adds(&b, "");
	if (!s || !limit)
		return buf_detach(&b, NULL);
	n = strlen(s);
	while (i < n) {
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		const char *rep = NULL;
		size_t rchars;

		if (cp == UTF8_BAD)
			rep = UTF8_REPLACEMENT;
		else if (utf8_unsafe(cp) && !(cp == '\n' && keep_newlines))
			rep = " ";
		else if (esc)
			rep = esc(cp);
		if (!rep) {
			memcpy(one, s + i, k);
			one[k] = '\0';
			rep = one;
		}
		rchars = 0;
		for (const char *p = rep; *p; p++)
			rchars += ((unsigned char)*p & 0xc0) != 0x80;
		/* keep room for the ellipsis unless this is the last character */
		if (chars + rchars > limit || (i + k < n && chars + rchars + 1 > limit)) {
			buf_adds(&b, ELLIPSIS);
			break;
		}
		buf_adds(&b, rep);
		chars += rchars;
		i += k;
	}
	return buf_detach(&b, NULL);
}

void chat_add_text(cJSON *obj, const char *key, const char *s, size_t limit,
		   chat_escape_fn esc)
{
	char *t = chat_text(s, limit, esc, 0);

	cJSON_AddStringToObject(obj, key, t);
	free(t);
}

/* ---- the message --------------------------------------------------------- */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	struct buf b = BUF_INIT(64 * 1024);
	char tmp[4096];
	va_list ap;

	va_start(ap, f);
	vsnprintf(tmp, sizeof(tmp), f, ap);
	va_end(ap);
	buf_adds(&b, tmp);
	return buf_detach(&b, NULL);
}

static char *dup0(const char *s)
{
	return xstrdup(s ? s : "");
}

static void init_msg(struct chat_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->title = dup0(NULL);
	m->summary = dup0(NULL);
	m->items_title = dup0(NULL);
	m->note = dup0(NULL);
	m->button_label = dup0(NULL);
	m->button_url = dup0(NULL);
}

/* A link a message may carry: an http(s) URL that passes the webhook
 * rules, with the characters chat markup uses for its own link syntax
 * ("<>|()[]" and quotes) percent-encoded; "" for anything else (a
 * javascript: URL from a CI variable, say). */
static char *safe_url(const char *url)
{
	struct buf b = BUF_INIT(4 * CHAT_URL_MAX);
	char why[8];

	buf_adds(&b, "");
	if (!url || chat_url_check(url, why, sizeof(why)))
		return buf_detach(&b, NULL);
	for (const char *p = url; *p; p++)
		if (strchr("\"'<>|()[]{}^`\\", *p))
			buf_addf(&b, "%%%02X", (unsigned char)*p);
		else
			buf_add(&b, p, 1);
	return buf_detach(&b, NULL);
}

static void add_fact(struct chat_msg *m, const char *label, const char *value,
		     const char *url)
{
	struct chat_fact *f;

	if (!value || !*value || m->nfacts >= CHAT_MAX_FACTS)
		return;
	f = &m->facts[m->nfacts++];
	f->label = xstrdup(label);
	f->value = chat_text(value, CHAT_PART_MAX, NULL, 0);
	f->url = safe_url(url);
}

static void add_item(struct chat_msg *m, char *owned)
{
	m->items[m->nitems++] = owned;
}

/* "latencyMs 225 > 80 (+181%), baseline 180: +45 (+25%)" */
static char *test_line(const struct review_test *t)
{
	char line[4 * REVIEW_TEXT_MAX + 256];
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "%.200s %s %s %s", t->metric, t->value,
			     t->op, t->threshold);
	if (*t->over && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " (%s)", t->over);
	if (*t->baseline && n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, ", baseline %s%s%s", t->baseline,
			 *t->change ? ": " : "", t->change);
	return chat_text(line, CHAT_PART_MAX, NULL, 0);
}

/* Repository, commit (linked), branch: the facts both messages show. */
static void commit_facts(struct chat_msg *m, const struct review *rv)
{
	char commit[256];

	add_fact(m, "Repository", rv->repository, NULL);
	if (rv->sha) {
		snprintf(commit, sizeof(commit), "%.7s%s%.120s%s%.60s", rv->sha,
			 rv->subject ? " " : "", rv->subject ? rv->subject : "",
			 rv->author ? " by " : "", rv->author ? rv->author : "");
		add_fact(m, "Commit", commit, rv->commit_url);
	}
	add_fact(m, "Branch", rv->branch, NULL);
}

/* The one button: the CI run, else the commit; never a review link. */
static void set_button(struct chat_msg *m, const struct review *rv)
{
	char *run = safe_url(rv->run_url), *commit = safe_url(rv->commit_url);

	free(m->button_label);
	free(m->button_url);
	m->button_label = xstrdup(*run ? "Open CI run" : *commit ? "Open commit" : "");
	m->button_url = xstrdup(*run ? run : commit);
	free(run);
	free(commit);
}

void chat_msg_review(struct chat_msg *m, const struct review *rv,
		     const char *gate, const char *team)
{
	const struct review_team *t = review_team(rv, team);
	char head[1024], when[UTIL_RFC3339_SIZE];
	size_t routed = 0;

	init_msg(m);
	free(m->title);
	m->title = fmt("Review needed: %.128s", gate);
	free(m->summary);
	m->summary = chat_text(review_headline(rv, head, sizeof(head)), CHAT_PART_MAX, NULL, 0);
	m->tone = CHAT_TONE_WARN;
	free(m->items_title);
	m->items_title = fmt("Fired rules routed to %.64s", team);
	for (size_t i = 0; i < rv->ntests; i++) {
		if (strcmp(rv->tests[i].next, team))
			continue;
		if (m->nitems < CHAT_MAX_ITEMS)
			add_item(m, test_line(&rv->tests[i]));
		routed++;
	}
	if (routed > m->nitems)
		add_item(m, fmt("and %zu more", routed - m->nitems));
	else if (rv->more && routed)
		add_item(m, fmt("and %zu more fired rules (all teams) not listed", rv->more));
	if (!routed && t && t->why) {
		free(m->items_title);
		m->items_title = fmt("Why %.64s", team);
		add_item(m, chat_text(t->why, CHAT_PART_MAX, NULL, 0));
	}
	commit_facts(m, rv);
	if (rv->deadline) {
		format_rfc3339(rv->deadline, when, sizeof(when));
		add_fact(m, "Deadline", when, NULL);
	}
	free(m->note);
	m->note = fmt("Each member of %.64s was mailed a personal review link; decide"
		      " there (%d approval%s needed). This message decides nothing.",
		      team, t ? t->approvals : 1, t && t->approvals > 1 ? "s" : "");
	set_button(m, rv);
}

/* What CI does with the run's exit code, and the outcome's title: the
 * words the mail follow-up uses too (followup.h). */
#define ci_did followup_ci_did
#define outcome_title followup_outcome

void chat_msg_decision(struct chat_msg *m, const struct review *rv,
		       const char *gate, const struct store_request *req,
		       int exit_code)
{
	char head[1024], *line;

	init_msg(m);
	free(m->title);
	m->title = fmt("%s: %.128s", outcome_title(req->state), gate);
	free(m->summary);
	m->summary = chat_text(review_headline(rv, head, sizeof(head)), CHAT_PART_MAX, NULL, 0);
	m->tone = req->state == REQ_APPROVED ? CHAT_TONE_GOOD : CHAT_TONE_BAD;
	free(m->items_title);
	m->items_title = xstrdup(req->ndecisions ? "Decisions" : "Nobody decided");
	for (size_t i = 0; i < req->ndecisions; i++) {
		const struct store_decision *d = &req->decisions[i];

		if (m->nitems == CHAT_MAX_ITEMS) {
			add_item(m, fmt("and %zu more", req->ndecisions - i));
			break;
		}
		line = fmt("%s %s for %s%s%s", d->email, d->approve ? "approved" : "rejected",
			   d->team, *d->reason ? ": " : "", d->reason);
		add_item(m, chat_text(line, CHAT_PART_MAX, NULL, 0));
		free(line);
	}
	commit_facts(m, rv);
	add_fact(m, "CI", ci_did(exit_code), NULL);
	free(m->note);
	m->note = xstrdup("The decision is recorded in the gate's decision record.");
	set_button(m, rv);
}

void chat_msg_release(struct chat_msg *m)
{
	free(m->title), free(m->summary), free(m->items_title), free(m->note);
	free(m->button_label), free(m->button_url);
	for (size_t i = 0; i < m->nitems; i++)
		free(m->items[i]);
	for (size_t i = 0; i < m->nfacts; i++) {
		free(m->facts[i].label);
		free(m->facts[i].value);
		free(m->facts[i].url);
	}
	memset(m, 0, sizeof(*m));
}

/* ---- the webhook URL ----------------------------------------------------- */

int chat_url_check(const char *url, char *why, size_t n)
{
	const char *h;
	size_t auth;

	if (!url || !*url)
		return fail_into(why, n, "it is empty");
	if (strlen(url) > CHAT_URL_MAX)
		return fail_into(why, n, "the URL is longer than %d bytes", CHAT_URL_MAX);
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return fail_into(why, n, "the URL contains a space, a control or a non-ASCII character");
	if (strncasecmp(url, "https://", 8) && strncasecmp(url, "http://", 7))
		return fail_into(why, n, "the URL must start with https://");
	h = strstr(url, "://") + 3;
	auth = strcspn(h, "/?#");
	if (!auth)
		return fail_into(why, n, "the URL has no host");
	if (memchr(h, '@', auth) || memchr(h, '\\', auth))
		return fail_into(why, n, "the URL's host part holds user information ('@') or a backslash");
	if (!strncasecmp(url, "http://", 7) && !url_is_loopback(url))
		return fail_into(why, n, "plain http:// is allowed only to this machine (127.0.0.1, localhost, [::1]); use the https:// URL the service gave you");
	return 0;
}
