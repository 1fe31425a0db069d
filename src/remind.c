/* remind.c - reminders, escalation and follow-ups (remind.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "followup.h"
#include "mailproc.h"
#include "remind.h"
#include "token.h"
#include "util.h"

struct remind {
	struct remind_ctx c;
	struct store *s;		/* what was sent (decision.state) */
	struct mailproc *mp;
	struct notify_recipient *esc;	/* escalated by this run */
	size_t nesc;
	int relay;
	char id[sizeof(((struct store_request *)0)->id)];	/* the request's */
};

/* Addresses asked for `team` (the gate's list, then escalation addresses
 * that were escalated), into a malloc'd array of borrowed strings. */
static const char **team_reviewers(struct remind *m, const struct team *t, size_t *n)
{
	const char **out = xcalloc(t->nemail + t->nescalate + 1, sizeof(*out));

	*n = 0;
	for (size_t i = 0; i < t->nemail; i++)
		out[(*n)++] = t->email[i];
	for (size_t i = 0; i < t->nescalate; i++)
		if (store_notify_claimed(m->s, m->c.request_id, FOLLOWUP_KIND_ESCALATE,
					 t->escalate_to[i], 0) == 1)
			out[(*n)++] = t->escalate_to[i];
	return out;
}

struct outbox {
	struct mail_item *items;
	char **what;			/* "reminder", "follow-up", ... per item */
	size_t n;
};

static void outbox_add(struct outbox *o, const char *to, char *data, const char *what)
{
	o->items = xrealloc(o->items, (o->n + 1) * sizeof(*o->items));
	o->what = xrealloc(o->what, (o->n + 1) * sizeof(*o->what));
	o->items[o->n].to = to;
	o->items[o->n].data = data;
	o->items[o->n].len = strlen(data);
	o->what[o->n] = xstrdup(what);
	o->n++;
}

/* Send and report: one line per message sent or failed.  Returns how many
 * failed; failed[i] (when not NULL) says which. */
static size_t outbox_send(struct remind *m, struct outbox *o, int *failed)
{
	struct mail_result *res = xcalloc(o->n ? o->n : 1, sizeof(*res));
	size_t bad = 0;

	if (o->n)
		mailproc_send(m->mp, o->items, o->n, res);
	for (size_t i = 0; i < o->n; i++) {
		int ok = res[i].status == MAIL_SENT;

		if (failed)
			failed[i] = !ok;
		if (ok)
			fprintf(stderr, "greenlight: mailed %s to %s\n", o->what[i], o->items[i].to);
		else
			warning("%s to %s failed: %s%s%s", o->what[i], o->items[i].to,
				mail_status_name(res[i].status), *res[i].text ? ": " : "",
				res[i].text);
		bad += !ok;
		free((char *)o->items[i].data);
		free(o->what[i]);
	}
	free(o->items);
	free(o->what);
	free(res);
	memset(o, 0, sizeof(*o));
	return bad;
}

static char *threaded(struct remind *m, const char *to, const char *kind, long seq,
		      const char *body)
{
	char err[256];
	char *msg = followup_threaded(m->c.rv, m->c.set->value[SET_FROM], m->c.request_id,
				      to, kind, seq, body, time(NULL), err, sizeof(err));

	if (!msg)
		error("cannot compose the %s to %s: %s", kind, to, err);
	return msg;
}

static void remind_team(struct remind *m, const struct store_request *req,
			const struct team *t, long seq)
{
	struct outbox o = { 0 };
	size_t n;
	const char **who = team_reviewers(m, t, &n);
	char *body = followup_reminder_text(m->c.rv, req, t->name);

	for (size_t i = 0; i < n; i++) {
		char what[96], *msg;

		if (!followup_pending(req, t->name, who[i]) ||
		    store_notify_claim(m->s, m->c.request_id, FOLLOWUP_KIND_REMIND, who[i],
				       seq, time(NULL)) != 1)
			continue;
		msg = threaded(m, who[i], FOLLOWUP_KIND_REMIND, seq, body);
		snprintf(what, sizeof(what), "reminder %ld (team %.64s)", seq, t->name);
		if (msg)
			outbox_add(&o, who[i], msg, what);
	}
	outbox_send(m, &o, NULL);
	free(body);
	free(who);
}

/* Escalation addresses an earlier run asked (claimed, not by this run):
 * their derived tokens, so that a rekey keeps their links (relay mode
 * re-attaches only with the gate secret). */
static void earlier_escalations(struct remind *m, struct store_recipient **sr,
				size_t *k, size_t *total)
{
	if (!m->c.set->secret.len)
		return;
	for (size_t i = 0; i < m->c.g->nteams; i++) {
		const struct team *t = &m->c.g->teams[i];

		for (size_t e = 0; e < t->nescalate; e++) {
			char tok[TOKEN_SIZE];
			int mine = 0;

			for (size_t j = 0; j < m->nesc; j++)
				mine |= !strcmp(m->esc[j].team, t->name) &&
					!strcasecmp(m->esc[j].email, t->escalate_to[e]);
			if (mine || !review_team(m->c.rv, t->name) ||
			    store_notify_claimed(m->s, m->c.request_id, FOLLOWUP_KIND_ESCALATE,
						 t->escalate_to[e], 0) != 1)
				continue;
			if (token_derive(tok, &m->c.set->secret, m->c.key, t->name, t->escalate_to[e]))
				continue;
			*sr = xrealloc(*sr, (*total + 1) * sizeof(**sr));
			memmove(*sr + *k + 1, *sr + *k, (*total - *k) * sizeof(**sr));
			memset(*sr + *k, 0, sizeof(**sr));
			(*sr)[*k].email = t->escalate_to[e];
			(*sr)[*k].team = t->name;
			token_hash((*sr)[*k].token_hash, tok);
			OPENSSL_cleanse(tok, sizeof(tok));
			(*k)++;
			(*total)++;
		}
	}
}

/* Register the new recipients with the request: the listen store, or the
 * relay (a rekey with every recipient this run knows, the new ones
 * included; the others keep their tokens). */
static int register_escalated(struct remind *m, struct store_request *req, size_t n)
{
	struct store_recipient *sr;
	size_t k = 0, total = m->c.nrcpt + m->nesc;
	int rc;

	sr = xcalloc(total ? total : 1, sizeof(*sr));
	for (size_t i = 0; i < m->c.nrcpt; i++, k++) {
		sr[k].email = m->c.rcpt[i].email;
		sr[k].team = m->c.rcpt[i].team;
		memcpy(sr[k].token_hash, m->c.rcpt[i].token_hash, sizeof(sr[k].token_hash));
	}
	if (m->relay)
		earlier_escalations(m, &sr, &k, &total);
	for (size_t i = 0; i < m->nesc; i++, k++) {
		sr[k].email = m->esc[i].email;
		sr[k].team = m->esc[i].team;
		memcpy(sr[k].token_hash, m->esc[i].token_hash, sizeof(sr[k].token_hash));
	}
	if (!m->relay) {
		struct store_recipient *a = sr + (total - n);

		rc = store_recipients_add(m->s, m->c.request_id, a, n) ? -1 : 0;
	} else {
		rc = m->c.be->ops->rekey(m->c.be, m->c.request_id, sr, total, req);
	}
	free(sr);
	return rc;
}

static void escalate(struct remind *m, struct store_request *req, const struct team *t)
{
	struct notify_request nr = { 0 };
	struct outbox o = { 0 };
	size_t first = m->nesc, n;
	int *failed;

	for (size_t i = 0; i < t->nescalate; i++) {
		struct notify_recipient *x;

		if (store_notify_claim(m->s, m->c.request_id, FOLLOWUP_KIND_ESCALATE,
				       t->escalate_to[i], 0, time(NULL)) != 1)
			continue;
		m->esc = xrealloc(m->esc, (m->nesc + 1) * sizeof(*m->esc));
		x = &m->esc[m->nesc++];
		memset(x, 0, sizeof(*x));
		x->team = t->name;
		x->email = t->escalate_to[i];
		if ((m->c.set->secret.len ?
		     token_derive(x->token, &m->c.set->secret, m->c.key, x->team, x->email) :
		     token_new(x->token)) || token_hash(x->token_hash, x->token)) {
			error("cannot generate a review token for the escalation to %s", x->email);
			m->nesc--;
			store_notify_unclaim(m->s, m->c.request_id, FOLLOWUP_KIND_ESCALATE, x->email, 0);
		}
	}
	n = m->nesc - first;
	if (!n)
		return;
	fprintf(stderr, "greenlight: team %s has no quorum after %llus: escalating to %zu address%s\n",
		t->name, (unsigned long long)t->escalate_after, n, n == 1 ? "" : "es");
	if (register_escalated(m, req, n)) {
		warning("team %s: the escalation links could not be registered; trying again later", t->name);
		for (size_t i = first; i < m->nesc; i++)
			store_notify_unclaim(m->s, m->c.request_id, FOLLOWUP_KIND_ESCALATE,
					     m->esc[i].email, 0);
		m->nesc = first;
		return;
	}
	nr.rv = m->c.rv;
	nr.set = m->c.set;
	nr.request_id = m->c.request_id;
	nr.public_url = m->c.public_url;
	nr.not_approvers = m->c.not_approvers;
	for (size_t i = first; i < m->nesc; i++) {
		char err[256], what[96], *msg = notify_compose(&nr, &m->esc[i], err, sizeof(err));

		snprintf(what, sizeof(what), "escalation (team %.64s)", t->name);
		if (msg)
			outbox_add(&o, m->esc[i].email, msg, what);
		else
			warning("cannot compose the escalation to %s: %s", m->esc[i].email, err);
	}
	failed = xcalloc(o.n ? o.n : 1, sizeof(*failed));
	outbox_send(m, &o, failed);
	free(failed);
	if (m->relay && m->c.be->ops->notified(m->c.be, m->c.request_id))
		warning("request %s: the relay was not told that the escalation was mailed",
			m->c.request_id);
}

static time_t earlier(time_t a, time_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

time_t remind_tick(struct remind *m, struct store_request *req, time_t now)
{
	time_t next = 0, created, deadline;

	if (!m || req->state != REQ_PENDING)
		return 0;
	created = req->created ? req->created : now;
	deadline = req->deadline;
	for (size_t i = 0; i < m->c.rv->nteams; i++) {
		const struct team *t = gate_team(m->c.g, m->c.rv->teams[i].name);
		time_t esc_at, due;
		long seq;

		if (!t || followup_team_met(req, t->name))
			continue;
		esc_at = followup_escalation_at(created, deadline, t->escalate_after);
		if (esc_at && now >= esc_at)
			escalate(m, req, t);
		else
			next = earlier(next, esc_at);
		if (req->state != REQ_PENDING)
			return 0;
		if (m->c.escalate_only)
			continue;
		seq = followup_reminder_seq(created, deadline, t->remind_every, now);
		if (seq)
			remind_team(m, req, t, seq);
		due = followup_reminder_next(created, deadline, t->remind_every, now);
		next = earlier(next, due);
	}
	return next;
}

void remind_followup(struct remind *m, const struct store_request *req, int exit_code)
{
	struct outbox o = { 0 };
	const char **seen;
	size_t nseen = 0, cap = 0;
	char *body;

	if (!m || req->state == REQ_PENDING || m->c.escalate_only)
		return;
	body = followup_text(m->c.rv, req, exit_code);
	for (size_t i = 0; i < m->c.g->nteams; i++)
		cap += m->c.g->teams[i].nemail + m->c.g->teams[i].nescalate;
	seen = xcalloc(cap + 1, sizeof(*seen));
	for (size_t i = 0; i < m->c.rv->nteams; i++) {
		const struct team *t = gate_team(m->c.g, m->c.rv->teams[i].name);
		size_t n;
		const char **who;

		if (!t)
			continue;
		who = team_reviewers(m, t, &n);
		for (size_t k = 0; k < n; k++) {
			int dup = 0;
			char *msg;

			for (size_t j = 0; j < nseen; j++)
				dup |= !strcasecmp(seen[j], who[k]);
			if (dup)
				continue;
			seen[nseen++] = who[k];
			if (store_notify_claim(m->s, m->c.request_id, FOLLOWUP_KIND_FOLLOWUP,
					       who[k], 0, time(NULL)) != 1)
				continue;
			msg = threaded(m, who[k], FOLLOWUP_KIND_FOLLOWUP, 0, body);
			if (msg)
				outbox_add(&o, who[k], msg, "follow-up");
		}
		free(who);
	}
	outbox_send(m, &o, NULL);
	free(seen);
	free(body);
}

struct remind *remind_open(const struct remind_ctx *c)
{
	struct remind *m = xcalloc(1, sizeof(*m));

	m->c = *c;
	snprintf(m->id, sizeof(m->id), "%s", c->request_id);
	m->c.request_id = m->id;	/* the caller's copy is re-read in place */
	m->relay = !strcmp(c->set->value[SET_VIA], "relay");
	m->s = store_open(c->set->value[SET_STATE]);
	if (!m->s) {
		warning("no reminders or follow-ups: the state database %s cannot be opened",
			c->set->value[SET_STATE]);
		free(m);
		return NULL;
	}
	m->mp = mailproc_start(c->set);
	if (!m->mp) {
		store_close(m->s);
		free(m);
		return NULL;
	}
	return m;
}

void remind_close(struct remind *m)
{
	if (!m)
		return;
	mailproc_stop(m->mp);
	store_close(m->s);
	for (size_t i = 0; i < m->nesc; i++)
		OPENSSL_cleanse(m->esc[i].token, sizeof(m->esc[i].token));
	free(m->esc);
	free(m);
}

cJSON *remind_relay_config(const struct gate *g, const struct review *rv)
{
	cJSON *o = cJSON_CreateObject(), *teams;

	cJSON_AddStringToObject(o, "by", "relay");
	teams = cJSON_AddObjectToObject(o, "teams");
	for (size_t i = 0; i < rv->nteams; i++) {
		const struct team *t = gate_team(g, rv->teams[i].name);
		cJSON *x;

		if (!t)
			continue;
		x = cJSON_AddObjectToObject(teams, t->name);
		cJSON_AddNumberToObject(x, "remind_every", (double)t->remind_every);
	}
	return o;
}
