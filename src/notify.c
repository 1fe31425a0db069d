/* notify.c - compose and send the review emails (see notify.h).
 *
 * One message per recipient (each link carries that reviewer's token), all
 * sent in one SMTP session by the mailer.  The SMTP credentials are read
 * here from the environment variables the settings name, handed to the
 * mailer, and never printed.
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "mailer.h"
#include "mime.h"
#include "notify.h"
#include "util.h"

/* The fired tests that routed the release to `team`, as mime_rules
 * borrowing from the review. */
static struct mime_rule *team_rules(const struct review *rv, const char *team, size_t *n)
{
	struct mime_rule *m = xcalloc(rv->ntests ? rv->ntests : 1, sizeof(*m));

	*n = 0;
	for (size_t i = 0; i < rv->ntests; i++) {
		const struct review_test *t = &rv->tests[i];

		if (strcmp(t->next, team))
			continue;
		m[*n].metric = t->metric;
		m[*n].value = t->value;
		m[*n].op = t->op;
		m[*n].threshold = t->threshold;
		m[*n].baseline = *t->baseline ? t->baseline : NULL;
		m[*n].change = *t->change ? t->change : NULL;
		m[*n].over = *t->over ? t->over : NULL;
		(*n)++;
	}
	return m;
}

/* The team's reviewers other than `email`, borrowed from the review. */
static const char **team_others(const struct review_team *team, const char *email,
				int keep_tags, size_t *n)
{
	const char **o = xcalloc(team && team->nasked ? team->nasked : 1, sizeof(*o));

	*n = 0;
	for (size_t k = 0; team && k < team->nasked; k++)
		if (!addr_same(team->asked[k], email, keep_tags) &&
		    strcmp(team->asked[k], email))
			o[(*n)++] = team->asked[k];
	return o;
}

int notify_self(const struct notify_request *nr, const char *email)
{
	int keep = nr->set->keep_tags;

	if (nr->set->allow_self)
		return MIME_SELF_NONE;
	if (nr->rv->author_email && addr_same(email, nr->rv->author_email, keep))
		return MIME_SELF_AUTHOR;
	if (nr->not_approvers && addr_in_list(nr->not_approvers, email, keep))
		return MIME_SELF_STARTER;
	return MIME_SELF_NONE;
}

char *notify_compose(const struct notify_request *nr, const struct notify_recipient *r,
		     char *err, size_t errlen)
{
	struct buf msg = BUF_INIT(MIME_MAX_MESSAGE);
	struct mime_facts mf = { 0 };
	const struct review *rv = nr->rv;
	const struct review_team *team = review_team(rv, r->team);
	struct mime_rule *rules;
	const char **others;
	size_t nrules, nothers;
	char subject[4 * REVIEW_SUBJECT_MAX + 1], headline[1024];
	char url[2304], msgid[MIME_MSGID_SIZE], date[MIME_DATE_SIZE];
	char deadline[32], boundary[TOKEN_BOUNDARY_SIZE];
	char reply_to[320];
	int rc;

	format_rfc3339(rv->deadline, deadline, sizeof(deadline));
	snprintf(url, sizeof(url), "%s/r/%s", nr->public_url, r->token);
	rules = team_rules(rv, r->team, &nrules);
	others = team_others(team, r->email, nr->set->keep_tags, &nothers);
	mf.gate = rv->gate;
	mf.subject = review_subject(rv, subject, sizeof(subject));
	mf.headline = review_headline(rv, headline, sizeof(headline));
	mf.repository = rv->repository;
	mf.team = r->team;
	mf.approvals = team ? team->approvals : 0;
	mf.others = others;
	mf.nothers = nothers;
	mf.self = (enum mime_self)notify_self(nr, r->email);
	mf.team_reason = team ? team->why : NULL;
	mf.rules = rules;
	mf.nrules = nrules;
	mf.commit_sha = rv->sha;
	mf.commit_url = rv->commit_url;
	mf.author_name = rv->author;
	mf.author_email = rv->author_email;
	mf.commit_subject = rv->subject;
	mf.branch = rv->branch;
	mf.run_url = rv->run_url;
	mf.triggered_by = rv->started_by;
	mf.deadline = deadline;
	mf.review_url = nr->public_url ? url : NULL;
	if (nr->reply_to && strchr(nr->reply_to, '@')) {
		const char *at = strchr(nr->reply_to, '@');

		snprintf(reply_to, sizeof(reply_to), "%.*s+%s%s", (int)(at - nr->reply_to),
			 nr->reply_to, r->token, at);
		mf.reply_to = reply_to;
		mf.reply_code = r->token;
	}
	mf.from = nr->set->value[SET_FROM];
	mf.to = r->email;
	rc = mime_message_id(msgid, nr->request_id, r->email) ||
	     mime_date(date, time(NULL)) || token_boundary(boundary);
	mf.message_id = msgid;
	mf.date = date;
	if (rc)
		snprintf(err, errlen, "cannot prepare the message headers");
	else
		rc = mime_compose(&msg, &mf, boundary, err, errlen);
	free(rules);
	free(others);
	return rc ? NULL : buf_detach(&msg, NULL);
}

struct mailer *notify_mailer(const struct settings *set,
			     volatile sig_atomic_t *stop)
{
	struct mailer_config mc = { 0 };
	const char *user = getenv(set->value[SET_USER_ENV]);
	const char *pass = getenv(set->value[SET_PASSWORD_ENV]);
	struct mailer *m;
	char err[256];

	mc.server = set->value[SET_SMTP];
	mc.tls = set->tls_none ? MAILER_TLS_NONE : MAILER_TLS_STARTTLS;
	mc.ca_file = *set->value[SET_CA_FILE] ? set->value[SET_CA_FILE] : NULL;
	mc.from = set->value[SET_FROM];	/* the mailer sends from its address */
	mc.stop = stop;
	mc.budget_ms = (long)set->send_timeout * 1000;
	mc.timeout_ms = mc.budget_ms < MAILER_DEFAULT_TIMEOUT_MS ? mc.budget_ms : MAILER_DEFAULT_TIMEOUT_MS;
	if (user && *user) {
		if (!pass || !*pass) {
			error("%s is set but %s is not; set both to log in to the SMTP server, or neither",
			      set->value[SET_USER_ENV], set->value[SET_PASSWORD_ENV]);
			return NULL;
		}
		mc.username = user;
		mc.password = pass;
	}
	m = mailer_new(&mc, err, sizeof(err));
	if (!m)
		error("mail: %s", err);
	return m;
}

/* Every team must have at least `approvals` reachable members. */
static int check_teams(const struct notify_request *nr, const struct notify_recipient *r,
		       size_t n)
{
	int ret = 0;

	for (size_t t = 0; t < nr->rv->nteams; t++) {
		const struct review_team *team = &nr->rv->teams[t];
		int reached = 0;

		for (size_t i = 0; i < n; i++)
			reached += r[i].sent && !strcmp(r[i].team, team->name);
		if (reached < team->approvals)
			ret = error("team %s: %d of %zu members reached, %d approval%s needed",
				    team->name, reached, team->nasked, team->approvals,
				    team->approvals == 1 ? "" : "s");
	}
	return ret;
}

int notify_send(const struct notify_request *nr, struct notify_recipient *r,
		size_t n)
{
	struct mail_item *items = xcalloc(n, sizeof(*items));
	struct mail_result *res = xcalloc(n, sizeof(*res));
	struct mailer *m = notify_mailer(nr->set, nr->stop);
	char err[256];
	int ret = -1;

	if (!m)
		goto out;
	for (size_t i = 0; i < n; i++) {
		items[i].to = r[i].email;
		items[i].data = notify_compose(nr, &r[i], err, sizeof(err));
		if (!items[i].data) {
			error("cannot compose the message to %s: %s", r[i].email, err);
			goto out;
		}
		items[i].len = strlen(items[i].data);
	}
	mailer_send(m, items, n, res, err, sizeof(err));
	for (size_t i = 0; i < n; i++) {
		r[i].sent = res[i].status == MAIL_SENT;
		if (r[i].sent)
			fprintf(stderr, "greenlight: mailed %s (team %s)\n", r[i].email, r[i].team);
		else
			error("mail to %s (team %s) failed: %s%s%s", r[i].email, r[i].team,
			      mail_status_name(res[i].status), *res[i].text ? ": " : "", res[i].text);
	}
	ret = check_teams(nr, r, n);
out:
	for (size_t i = 0; i < n; i++)
		free((char *)items[i].data);
	free(items);
	free(res);
	mailer_free(m);
	return ret;
}
