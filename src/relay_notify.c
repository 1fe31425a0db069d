/* relay_notify.c - reminders and follow-ups the relay sends (relay_notify.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "followup.h"
#include "mailproc.h"
#include "mime.h"
#include "relay_notify.h"
#include "review.h"
#include "store.h"
#include "util.h"

#define SWEEP_MS 1000
#define FOLLOWUP_WINDOW (7 * 86400)	/* settled this recently: follow up */

struct relay_notify {
	struct settings setv;
	const struct settings *set;
	struct store *s;
	struct mailproc *mp;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
};

struct outbox {
	struct mail_item *items;
	char **what;
	size_t n;
};

static void outbox_add(struct outbox *o, const char *to, char *data, const char *what)
{
	o->items = xrealloc(o->items, (o->n + 1) * sizeof(*o->items));
	o->what = xrealloc(o->what, (o->n + 1) * sizeof(*o->what));
	o->items[o->n].to = xstrdup(to);
	o->items[o->n].data = data;
	o->items[o->n].len = strlen(data);
	o->what[o->n] = xstrdup(what);
	o->n++;
}

static void outbox_send(struct relay_notify *rn, struct outbox *o)
{
	struct mail_result *res = xcalloc(o->n ? o->n : 1, sizeof(*res));

	if (o->n)
		mailproc_send(rn->mp, o->items, o->n, res);
	for (size_t i = 0; i < o->n; i++) {
		if (res[i].status == MAIL_SENT)
			fprintf(stderr, "greenlight relay: mailed %s to %s\n", o->what[i], o->items[i].to);
		else
			warning("relay: %s to %s failed: %s%s%s", o->what[i], o->items[i].to,
				mail_status_name(res[i].status), *res[i].text ? ": " : "",
				res[i].text);
		free((char *)o->items[i].to);
		free((char *)o->items[i].data);
		free(o->what[i]);
	}
	free(o->items);
	free(o->what);
	free(res);
	memset(o, 0, sizeof(*o));
}

static void add_threaded(struct relay_notify *rn, struct outbox *o, const struct review *rv,
			 const char *id, const char *to, const char *kind, long seq,
			 const char *body, const char *what)
{
	char err[256];
	char *msg = followup_threaded(rv, rn->set->value[SET_FROM], id, to, kind, seq, body,
				      time(NULL), err, sizeof(err));

	if (msg)
		outbox_add(o, to, msg, what);
	else
		warning("relay: cannot compose the %s to %s: %s", kind, to, err);
}

static void remind(struct relay_notify *rn, struct outbox *o, const struct store_request *req,
		   const struct review *rv, const cJSON *teams, time_t now)
{
	for (size_t t = 0; t < req->nteams; t++) {
		const char *team = req->teams[t].name;
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(teams, team);
		const cJSON *every = cJSON_GetObjectItemCaseSensitive(cfg, "remind_every");
		long seq;
		char *body, what[192];

		if (!cJSON_IsNumber(every) || every->valuedouble < 1 ||
		    every->valuedouble > 1e9 || followup_team_met(req, team))
			continue;
		seq = followup_reminder_seq(req->created, req->deadline,
					    (uint64_t)every->valuedouble, now);
		if (!seq)
			continue;
		body = followup_reminder_text(rv, req, team);
		snprintf(what, sizeof(what), "reminder %ld of request %s (team %.64s)", seq, req->id, team);
		for (size_t i = 0; i < req->nasked; i++) {
			const char *to = req->asked[i].email;

			if (strcmp(req->asked[i].team, team) ||
			    !followup_pending(req, team, to) ||
			    store_notify_claim(rn->s, req->id, FOLLOWUP_KIND_REMIND, to, seq, now) != 1)
				continue;
			add_threaded(rn, o, rv, req->id, to, FOLLOWUP_KIND_REMIND, seq, body, what);
		}
		free(body);
	}
}

static void follow_up(struct relay_notify *rn, struct outbox *o, const struct store_request *req,
		      const struct review *rv, time_t now)
{
	char *body = followup_text(rv, req, followup_exit_code(req->state)), what[96];

	snprintf(what, sizeof(what), "follow-up of request %s", req->id);
	for (size_t i = 0; i < req->nasked; i++) {
		const char *to = req->asked[i].email;
		int dup = 0;

		for (size_t k = 0; k < i; k++)
			dup |= !strcasecmp(req->asked[k].email, to);
		if (dup || store_notify_claim(rn->s, req->id, FOLLOWUP_KIND_FOLLOWUP, to, 0, now) != 1)
			continue;
		add_threaded(rn, o, rv, req->id, to, FOLLOWUP_KIND_FOLLOWUP, 0, body, what);
	}
	free(body);
}

static void sweep(struct relay_notify *rn)
{
	time_t now = time(NULL);
	char (*ids)[33];
	size_t n;
	struct outbox o = { 0 };

	if (store_notify_candidates(rn->s, now - FOLLOWUP_WINDOW, &ids, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		struct store_request req;
		struct review rv;
		cJSON *facts;
		const cJSON *cfg;

		if (store_request_get(rn->s, ids[i], now, &req))
			continue;
		facts = cJSON_Parse(req.facts_json ? req.facts_json : "{}");
		cfg = cJSON_GetObjectItemCaseSensitive(facts, "notifications");
		review_from_json(&rv, facts);
		if (req.state == REQ_PENDING)
			remind(rn, &o, &req, &rv, cJSON_GetObjectItemCaseSensitive(cfg, "teams"), now);
		else
			follow_up(rn, &o, &req, &rv, now);
		if (o.n)
			outbox_send(rn, &o);
		review_release(&rv);
		cJSON_Delete(facts);
		store_request_release(&req);
	}
	free(ids);
}

static void *run(void *arg)
{
	struct relay_notify *rn = arg;

	pthread_mutex_lock(&rn->lock);
	while (!rn->stop) {
		struct timespec until;

		pthread_mutex_unlock(&rn->lock);
		sweep(rn);
		pthread_mutex_lock(&rn->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += SWEEP_MS / 1000;
		if (!rn->stop)
			pthread_cond_timedwait(&rn->cond, &rn->lock, &until);
	}
	pthread_mutex_unlock(&rn->lock);
	return NULL;
}

static int to_settings(const struct relay_mail *m, struct settings *set)
{
	char host[256], err[256], addr[255];
	const char *why;
	enum mailer_tls tls;
	int port;

	memset(set, 0, sizeof(*set));
	for (int i = 0; i < SET_COUNT; i++)
		set->value[i] = "";
	if (mailer_parse_server(m->smtp, host, sizeof(host), &port, err, sizeof(err)))
		return error("relay: --smtp \"%s\": %s", m->smtp, err);
	if (mailer_parse_tls(m->tls, &tls))
		return error("relay: --smtp-tls \"%s\": write starttls or none", m->tls);
	if (mime_from_parse(m->from, addr, NULL, &why))
		return error("relay: --from \"%s\": %s", m->from, why);
	if (parse_duration(m->send_timeout, &set->send_timeout) || set->send_timeout > 3600)
		return error("relay: --send-timeout \"%s\": write a duration like 2m (at most 1h)",
			     m->send_timeout);
	set->value[SET_SMTP] = m->smtp;
	set->value[SET_TLS] = m->tls;
	set->tls_none = tls == MAILER_TLS_NONE;
	set->value[SET_FROM] = m->from;
	set->value[SET_USER_ENV] = m->user_env;
	set->value[SET_PASSWORD_ENV] = m->password_env;
	set->value[SET_CA_FILE] = m->ca_file ? m->ca_file : "";
	return 0;
}

int relay_notify_check(const struct relay_mail *m)
{
	struct settings set;

	return m->smtp ? to_settings(m, &set) : 0;
}

struct relay_notify *relay_notify_start(const char *db_path, const struct relay_mail *m)
{
	struct relay_notify *rn = xcalloc(1, sizeof(*rn));

	if (to_settings(m, &rn->setv)) {
		free(rn);
		return NULL;
	}
	rn->set = &rn->setv;
	rn->s = store_open(db_path);
	if (!rn->s)
		goto fail;
	rn->mp = mailproc_start(rn->set);
	if (!rn->mp)
		goto fail;
	pthread_mutex_init(&rn->lock, NULL);
	pthread_cond_init(&rn->cond, NULL);
	if (pthread_create(&rn->th, NULL, run, rn)) {
		error("relay: cannot start the notification thread");
		pthread_mutex_destroy(&rn->lock);
		pthread_cond_destroy(&rn->cond);
		goto fail;
	}
	return rn;
fail:
	mailproc_stop(rn->mp);
	if (rn->s)
		store_close(rn->s);
	free(rn);
	return NULL;
}

void relay_notify_stop(struct relay_notify *rn)
{
	if (!rn)
		return;
	pthread_mutex_lock(&rn->lock);
	rn->stop = 1;
	pthread_cond_signal(&rn->cond);
	pthread_mutex_unlock(&rn->lock);
	pthread_join(rn->th, NULL);
	pthread_mutex_destroy(&rn->lock);
	pthread_cond_destroy(&rn->cond);
	mailproc_stop(rn->mp);
	store_close(rn->s);
	free(rn);
}
