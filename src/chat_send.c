/* chat_send.c - deliver chat messages in the background (see chat.h).
 *
 * One thread per webhook.  It posts the review message (retrying
 * connection failures, timeouts, 429 and 5xx with backoff, Retry-After
 * honoured up to RETRY_AFTER_MAX_S, never past ANNOUNCE_BUDGET_MS), then
 * waits until the main thread says the request is settled and posts the
 * follow-up within FOLLOWUP_BUDGET_MS.  The main thread never waits for a
 * review message on a webhook that is not required: at the decision such
 * a message still in flight is abandoned (its transfer aborted), so a
 * webhook that is down or never answers cannot delay the gate's exit.
 *
 * Ownership: struct chat owns the targets, their URLs and bodies; the
 * threads read only their own target, and the fields marked "mu" only
 * under the lock.  A thread that has not ended when chat_release() gives
 * up is detached and its struct chat is kept (never freed) until exit.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "chat.h"
#include "token.h"
#include "util.h"

#define CONNECT_MS 5000L
#define ATTEMPT_MS 10000L		/* one POST of the review message */
#define ANNOUNCE_BUDGET_MS 30000L	/* every attempt and pause together */
#define FOLLOWUP_ATTEMPT_MS 4000L
#define FOLLOWUP_BUDGET_MS 5000L
#define MAX_ATTEMPTS 4
#define BACKOFF_FIRST_MS 500L
#define BACKOFF_MAX_MS 4000L
#define RETRY_AFTER_MAX_S 10L
#define REPLY_MAX 1024			/* bytes of a webhook's answer kept */
#define RELEASE_WAIT_MS 200L

enum phase { ANNOUNCE, FOLLOWUP };
enum sent { SENDING, DELIVERED, FAILED, ABANDONED };

struct target {
	struct chat *c;
	const struct chat_service *svc;
	const char *team, *var;		/* the gate's strings */
	char *url;			/* the secret; NULL when unusable */
	int required;
	char *body[2];			/* JSON text per phase */
	enum sent sent[2];		/* mu */
	int done;			/* mu: the thread has ended */
	atomic_int abort;
	int started;
	pthread_t th;
};

struct chat {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct target *t;
	size_t n;
	int settled;			/* mu: follow-ups may go */
	volatile sig_atomic_t *stop;
	const struct review *rv;
	char *gate;
};

static struct chat *kept;		/* see chat_release() */

static const char *phase_name[] = { "review message", "follow-up" };

/* ---- one POST -------------------------------------------------------------- */

static size_t on_reply(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	size_t len = size * n, room = b->len < REPLY_MAX ? REPLY_MAX - b->len : 0;

	buf_add(b, p, len < room ? len : room);
	return len;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
		       curl_off_t d)
{
	struct target *t = ud;

	(void)a; (void)b; (void)c; (void)d;
	return atomic_load(&t->abort) || (t->c->stop && *t->c->stop);
}

static CURLcode post(CURL *e, struct target *t, const char *body, long timeout_ms,
		     long *status, long *retry_after, struct buf *reply)
{
	struct curl_slist *h = NULL;
	curl_off_t ra = -1;
	CURLcode rc;

	h = curl_slist_append(h, "Content-Type: application/json; charset=utf-8");
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < CONNECT_MS ? timeout_ms : CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, t);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "greenlight/" GREENLIGHT_VERSION);
	rc = curl_easy_perform(e);
	*status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra);
	*retry_after = ra > 0 ? (long)ra : 0;
	curl_slist_free_all(h);
	return rc;
}

static int aborted(struct target *t)
{
	return atomic_load(&t->abort) || (t->c->stop && *t->c->stop);
}

/* Sleep ms in slices; -1 when told to stop. */
static int pause_ms(struct target *t, long ms)
{
	struct timespec slice = { 0, 50 * 1000 * 1000 };

	for (; ms > 0; ms -= 50) {
		if (aborted(t))
			return -1;
		nanosleep(&slice, NULL);
	}
	return aborted(t) ? -1 : 0;
}

static long jitter(long ms)
{
	unsigned short r = 0;

	token_random_bytes(&r, sizeof(r));
	return ms / 2 + (long)(r % (unsigned)(ms + 1));
}

/* Why an attempt failed, never quoting the URL: curl's generic text (its
 * error buffer could name the host), or the status and the start of the
 * webhook's answer (Slack says "invalid_blocks", say). */
static void describe(CURLcode rc, long status, const struct buf *reply,
		     char *out, size_t n)
{
	char *said;

	if (rc != CURLE_OK) {
		snprintf(out, n, "%s", curl_easy_strerror(rc));
		return;
	}
	said = chat_text(reply->data, 100, NULL, 0);
	snprintf(out, n, "HTTP %ld%s%s", status, *said ? ": " : "", said);
	free(said);
}

static void report(const struct target *t, enum phase ph, const char *what)
{
	const char *svc = t->svc ? t->svc->title : "chat";

	if (t->required)
		error("chat: team %s: %s webhook (%s): %s: %s", t->team, svc, t->var,
		      phase_name[ph], what);
	else
		warning("chat: team %s: %s webhook (%s): %s: %s", t->team, svc, t->var,
			phase_name[ph], what);
}

static void report_retry(const struct target *t, enum phase ph, const char *what)
{
	warning("chat: team %s: %s webhook (%s): %s: %s", t->team,
		t->svc ? t->svc->title : "chat", t->var, phase_name[ph], what);
}

/* Post one message with retries inside the phase's budget. */
static enum sent deliver(struct target *t, enum phase ph)
{
	long budget = ph == ANNOUNCE ? ANNOUNCE_BUDGET_MS : FOLLOWUP_BUDGET_MS;
	long per = ph == ANNOUNCE ? ATTEMPT_MS : FOLLOWUP_ATTEMPT_MS;
	uint64_t end = mono_ms() + (uint64_t)budget;
	long backoff = BACKOFF_FIRST_MS;
	char why[256], what[320];
	CURL *e = curl_easy_init();
	enum sent ret = FAILED;

	if (!e) {
		report(t, ph, "cannot create a libcurl handle");
		return FAILED;
	}
	for (int attempt = 1;; attempt++) {
		struct buf reply = BUF_INIT(REPLY_MAX + 1);
		long status, retry_after, delay, left = (long)(end - mono_ms());
		CURLcode rc = post(e, t, t->body[ph], left < per ? left : per, &status,
				   &retry_after, &reply);

		if (aborted(t)) {
			buf_release(&reply);
			ret = ABANDONED;
			break;
		}
		if (rc == CURLE_OK && status >= 200 && status < 300) {
			buf_release(&reply);
			ret = DELIVERED;
			break;
		}
		describe(rc, status, &reply, why, sizeof(why));
		buf_release(&reply);
		delay = retry_after ? (retry_after < RETRY_AFTER_MAX_S ? retry_after : RETRY_AFTER_MAX_S) * 1000
			: jitter(backoff);
		if (rc == CURLE_OK && status < 500 && status != 429 && status != 408) {
			snprintf(what, sizeof(what), "%s; not retried", why);
		} else if (attempt == MAX_ATTEMPTS || mono_ms() + (uint64_t)delay >= end) {
			snprintf(what, sizeof(what), "%s; giving up after %d attempt%s", why,
				 attempt, attempt > 1 ? "s" : "");
		} else {
			snprintf(what, sizeof(what), "%s; retrying in %.1f s", why, delay / 1000.0);
			report_retry(t, ph, what);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			if (pause_ms(t, delay) == 0)
				continue;
			ret = ABANDONED;
			break;
		}
		report(t, ph, what);
		break;
	}
	curl_easy_cleanup(e);
	return ret;
}

/* ---- the threads ------------------------------------------------------------ */

static void *worker(void *arg)
{
	struct target *t = arg;
	struct chat *c = t->c;
	enum sent s = deliver(t, ANNOUNCE), f = SENDING;
	int follow;

	pthread_mutex_lock(&c->mu);
	t->sent[ANNOUNCE] = s;
	pthread_cond_broadcast(&c->cv);
	while (!c->settled && !aborted(t))
		pthread_cond_wait(&c->cv, &c->mu);
	follow = s == DELIVERED && c->settled && t->body[FOLLOWUP] && !aborted(t);
	pthread_mutex_unlock(&c->mu);
	if (follow)
		f = deliver(t, FOLLOWUP);
	pthread_mutex_lock(&c->mu);
	t->sent[FOLLOWUP] = f;
	t->done = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static char *render(const struct chat_service *svc, struct chat_msg *m)
{
	cJSON *o = svc->render(m);
	char *s = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	chat_msg_release(m);
	return s;
}

/* Check the variable and the URL, render the review message, start the
 * thread.  A target that cannot start is done with its message FAILED. */
static void start(struct chat *c, struct target *t)
{
	const char *url = getenv(t->var);
	struct chat_msg m;
	char why[256];

	t->done = 1;
	t->sent[ANNOUNCE] = t->sent[FOLLOWUP] = FAILED;
	if (!t->svc) {
		report(t, ANNOUNCE, "unknown service");
		return;
	}
	if (!url || !*url) {
		report(t, ANNOUNCE, "the variable is not set; set it to the webhook's URL");
		return;
	}
	if (chat_url_check(url, why, sizeof(why))) {
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " (the URL is not shown: it is a secret)");
		report(t, ANNOUNCE, why);
		return;
	}
	t->url = xstrdup(url);
	chat_msg_review(&m, c->rv, c->gate, t->team);
	t->body[ANNOUNCE] = render(t->svc, &m);
	t->done = 0;
	t->sent[ANNOUNCE] = t->sent[FOLLOWUP] = SENDING;
	if (pthread_create(&t->th, NULL, worker, t)) {
		t->done = 1;
		t->sent[ANNOUNCE] = t->sent[FOLLOWUP] = FAILED;
		report(t, ANNOUNCE, "cannot start a thread");
		return;
	}
	t->started = 1;
}

void chat_announce(struct chat **cp, const struct gate *g,
		   const struct review *rv, volatile sig_atomic_t *stop)
{
	struct chat *c;
	pthread_condattr_t ca;
	size_t n = 0;

	*cp = NULL;
	for (size_t i = 0; i < rv->nteams; i++) {
		const struct team *tm = gate_team(g, rv->teams[i].name);

		n += tm ? tm->nchat : 0;
	}
	if (!n)
		return;
	curl_global_init(CURL_GLOBAL_DEFAULT);	/* before any thread */
	c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->t = xcalloc(n, sizeof(*c->t));
	c->stop = stop;
	c->rv = rv;
	c->gate = xstrdup(g->name);
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < rv->nteams; i++) {
		const struct team *tm = gate_team(g, rv->teams[i].name);

		for (size_t k = 0; tm && k < tm->nchat; k++) {
			struct target *t = &c->t[c->n++];

			t->c = c;
			t->svc = chat_service_find(tm->chat[k].service);
			t->team = tm->name;
			t->var = tm->chat[k].url_env;
			t->required = tm->chat[k].required;
			start(c, t);
		}
	}
	pthread_mutex_unlock(&c->mu);
	*cp = c;
}

/* ---- the decision ----------------------------------------------------------- */

static int all_done(const struct chat *c, int skip_aborted)
{
	for (size_t i = 0; i < c->n; i++)
		if (!c->t[i].done && !(skip_aborted && atomic_load(&c->t[i].abort)))
			return 0;
	return 1;
}

/* Wait (lock held) until every thread that still matters has ended, or
 * `ms` have passed. */
static void wait_done(struct chat *c, long ms, int skip_aborted)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!all_done(c, skip_aborted))
		if (pthread_cond_timedwait(&c->cv, &c->mu, &until))
			break;
}

/* Abandon review messages still in flight on webhooks that are not
 * required: the decision does not wait for them.  Returns whether a
 * required one is still in flight. */
static int abandon_slow(struct chat *c)
{
	int waiting = 0;

	for (size_t i = 0; i < c->n; i++) {
		struct target *t = &c->t[i];

		if (t->done || t->sent[ANNOUNCE] != SENDING)
			continue;
		if (t->required) {
			waiting = 1;
			continue;
		}
		atomic_store(&t->abort, 1);
		report(t, ANNOUNCE, "still not delivered when the request was settled; abandoned, and no follow-up will be posted");
	}
	return waiting;
}

/* Whether every required webhook took what it had to. */
static int required_ok(const struct chat *c, int settled)
{
	int ok = 1;

	for (size_t i = 0; i < c->n; i++) {
		const struct target *t = &c->t[i];

		if (!t->required)
			continue;
		if (t->sent[ANNOUNCE] != DELIVERED ||
		    (settled && t->sent[FOLLOWUP] != DELIVERED)) {
			error("chat: team %s: %s webhook (%s) is required and did not take the %s; the run fails with exit 4",
			      t->team, t->svc ? t->svc->title : "chat", t->var,
			      t->sent[ANNOUNCE] != DELIVERED ? phase_name[ANNOUNCE] : phase_name[FOLLOWUP]);
			ok = 0;
		}
	}
	return ok;
}

int chat_decided(struct chat **cp, const struct store_request *req, int exit_code)
{
	struct chat *c = *cp;
	int settled = req->state != REQ_PENDING, slow = 0, ok;
	long ms = FOLLOWUP_BUDGET_MS + 1000;

	if (!c)
		return 0;
	for (size_t i = 0; settled && i < c->n; i++) {
		struct chat_msg m;

		if (!c->t[i].url)
			continue;
		chat_msg_decision(&m, c->rv, c->gate, req, exit_code);
		c->t[i].body[FOLLOWUP] = render(c->t[i].svc, &m);
	}
	pthread_mutex_lock(&c->mu);
	if (settled)
		slow = abandon_slow(c);
	else
		slow = 1;	/* --detach or a signal: let review messages finish */
	c->settled = 1;
	pthread_cond_broadcast(&c->cv);
	wait_done(c, slow ? ms + ANNOUNCE_BUDGET_MS : ms, 1);
	ok = required_ok(c, settled);
	pthread_mutex_unlock(&c->mu);
	return ok ? 0 : -1;
}

void chat_release(struct chat **cp)
{
	struct chat *c = *cp;
	int done;

	if (!c)
		return;
	*cp = NULL;
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n; i++)
		atomic_store(&c->t[i].abort, 1);
	pthread_cond_broadcast(&c->cv);
	wait_done(c, RELEASE_WAIT_MS, 0);
	done = all_done(c, 0);
	pthread_mutex_unlock(&c->mu);
	if (!done) {
		for (size_t i = 0; i < c->n; i++)
			if (c->t[i].started)
				pthread_detach(c->t[i].th);
		kept = c;	/* threads still read it; the process ends soon */
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		struct target *t = &c->t[i];

		if (t->started)
			pthread_join(t->th, NULL);
		if (t->url)
			OPENSSL_cleanse(t->url, strlen(t->url));
		free(t->url);
		free(t->body[0]);
		free(t->body[1]);
	}
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->t);
	free(c->gate);
	free(c);
}
