/* notify.c - compose and send the review emails (see notify.h).
 *
 * One message per recipient (each link carries that reviewer's token), all
 * sent in one SMTP session by the mailer.  The SMTP credentials are read
 * here from the environment variables the settings name, handed to the
 * mailer, and never printed.
 */
#include <stdlib.h>
#include <string.h>

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
		(*n)++;
	}
	return m;
}

static char *compose(const struct notify_request *nr, const struct notify_recipient *r,
		     char *err, size_t errlen)
{
	struct buf msg = BUF_INIT(MIME_MAX_MESSAGE);
	struct mime_facts mf = { 0 };
	const struct review *rv = nr->rv;
	const struct review_team *team = review_team(rv, r->team);
	struct mime_rule *rules;
	size_t nrules;
	char url[2304], msgid[MIME_MSGID_SIZE], date[MIME_DATE_SIZE];
	char deadline[32], boundary[TOKEN_BOUNDARY_SIZE];
	char reply_to[320];
	int rc;

	format_rfc3339(rv->deadline, deadline, sizeof(deadline));
	snprintf(url, sizeof(url), "%s/r/%s", nr->public_url, r->token);
	rules = team_rules(rv, r->team, &nrules);
	mf.gate = rv->gate;
	mf.team = r->team;
	mf.team_reason = team ? team->why : NULL;
	mf.rules = rules;
	mf.nrules = nrules;
	mf.commit_sha = rv->sha;
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
	return rc ? NULL : buf_detach(&msg, NULL);
}

static struct mailer *make_mailer(const struct settings *set,
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
	mc.from = set->value[SET_FROM];
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

struct mailer *notify_mailer(const struct settings *set, volatile sig_atomic_t *stop)
{
	return make_mailer(set, stop);
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
	struct mailer *m = make_mailer(nr->set, nr->stop);
	char err[256];
	int ret = -1;

	if (!m)
		goto out;
	for (size_t i = 0; i < n; i++) {
		items[i].to = r[i].email;
		items[i].data = compose(nr, &r[i], err, sizeof(err));
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
