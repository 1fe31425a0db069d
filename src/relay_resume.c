/* relay_resume.c - the workers that resume waiting pipelines (relay_resume.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "relay_resume.h"
#include "store.h"
#include "util.h"

#define SWEEP_MS 1000
#define SWEEP_BATCH 32

struct worker {
	struct relay_resume *rr;
	struct store *s;
	pthread_t th;
	int started;
};

struct relay_resume {
	const struct resume_config *cfg;
	struct resume_lanes lanes;
	struct worker w[RESUME_WORKERS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
};

/* Take r's lane: its slot, or -1 when another worker calls that CI of
 * that tenant now. */
static int lane_take(struct resume_lanes *l, const struct store_resume *r)
{
	char key[RESUME_LANE_SIZE];
	int slot = -1;

	snprintf(key, sizeof(key), "%s %s", r->tenant, r->ci);
	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < RESUME_WORKERS; i++) {
		if (!strcmp(l->busy[i], key)) {
			slot = -1;
			break;
		}
		if (slot < 0 && !l->busy[i][0])
			slot = i;
	}
	if (slot >= 0)
		strlcpy_gl(l->busy[slot], key, sizeof(l->busy[slot]));
	pthread_mutex_unlock(&l->lock);
	return slot;
}

static void lane_give(struct resume_lanes *l, int slot)
{
	pthread_mutex_lock(&l->lock);
	l->busy[slot][0] = '\0';
	pthread_mutex_unlock(&l->lock);
}

/* Call the CI for one claimed resume; how it ended. */
static enum resume_result call(const struct resume_config *cfg, const struct store_resume *r,
			       resume_http_fn http, void *ud, char *why, size_t n)
{
	const struct resume_ops *ops = resume_ops_find(r->ci);
	struct resume_call c = { 0 };
	cJSON *target = cJSON_Parse(r->target);
	enum resume_result res = RESUME_FAILED;

	c.cred = resume_config_find(cfg, r->tenant, r->ci);
	if (!ops || !target || !c.cred) {
		fail_into(why, n, "the relay holds no %s credential for tenant %s now", r->ci, r->tenant);
		goto out;
	}
	c.target = target;
	c.outcome = r->outcome;
	c.http = http;
	c.ud = ud;
	res = ops->resume(&c);
	strlcpy_gl(why, c.why, n);
out:
	cJSON_Delete(target);
	return res;
}

static void one(struct store *s, const struct resume_config *cfg, const struct store_resume *r,
		resume_http_fn http, void *ud, time_t now)
{
	char why[256] = "";
	enum resume_result res = call(cfg, r, http, ud, why, sizeof(why));
	int attempts = r->attempts + 1;
	const char *outcome = req_state_name(r->outcome);

	if (res == RESUME_RETRY && attempts >= RESUME_MAX_ATTEMPTS)
		res = RESUME_FAILED;
	if (res == RESUME_DONE) {
		fprintf(stderr, "greenlight relay: resumed request %s (%s, %s): %s\n", r->request_id,
			r->ci, outcome, why);
		store_resume_finish(s, r->request_id, RESUME_END_DONE, 0, now);
	} else if (res == RESUME_RETRY) {
		time_t wait = resume_backoff(attempts);

		warning("relay: resuming request %s (%s, %s): %s; retrying in %lds", r->request_id,
			r->ci, outcome, why, (long)wait);
		store_resume_finish(s, r->request_id, RESUME_END_RETRY, now + wait, now);
	} else {
		warning("relay: resuming request %s (%s, %s) failed after %d call%s: %s; resume the pipeline by hand",
			r->request_id, r->ci, outcome, attempts, attempts == 1 ? "" : "s", why);
		store_resume_finish(s, r->request_id, RESUME_END_FAILED, 0, now);
	}
}

int relay_resume_sweep(struct store *s, const struct resume_config *cfg,
		       struct resume_lanes *lanes, resume_http_fn http, void *ud,
		       time_t now)
{
	struct store_resume *due;
	size_t n;
	int claimed = 0;

	if (store_resume_due(s, now, SWEEP_BATCH, &due, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int slot = lanes ? lane_take(lanes, &due[i]) : -1;
		int rc;

		if (lanes && slot < 0)
			continue;	/* a later sweep takes it */
		rc = store_resume_claim(s, due[i].request_id, due[i].outcome, now);
		if (rc == 1) {
			claimed++;
			one(s, cfg, &due[i], http, ud, now);
		}
		if (slot >= 0)
			lane_give(lanes, slot);
		if (rc < 0) {
			claimed = -1;
			break;
		}
	}
	store_resume_free(due, n);
	return claimed;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct relay_resume *rr = w->rr;

	pthread_mutex_lock(&rr->lock);
	while (!rr->stop) {
		struct timespec until;

		pthread_mutex_unlock(&rr->lock);
		relay_resume_sweep(w->s, rr->cfg, &rr->lanes, resume_http_curl, NULL,
				   time(NULL));
		pthread_mutex_lock(&rr->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += SWEEP_MS / 1000;
		if (!rr->stop)
			pthread_cond_timedwait(&rr->cond, &rr->lock, &until);
	}
	pthread_mutex_unlock(&rr->lock);
	return NULL;
}

struct relay_resume *relay_resume_start(const char *db_path,
					const struct resume_config *cfg)
{
	struct relay_resume *rr = xcalloc(1, sizeof(*rr));

	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		error("relay: cannot initialise libcurl");
		free(rr);
		return NULL;
	}
	rr->cfg = cfg;
	pthread_mutex_init(&rr->lock, NULL);
	pthread_cond_init(&rr->cond, NULL);
	pthread_mutex_init(&rr->lanes.lock, NULL);
	for (int i = 0; i < RESUME_WORKERS; i++) {
		struct worker *w = &rr->w[i];

		w->rr = rr;
		w->s = store_open(db_path);
		if (!w->s)
			goto fail;
		if (pthread_create(&w->th, NULL, run, w)) {
			error("relay: cannot start the resume threads");
			goto fail;
		}
		w->started = 1;
	}
	return rr;
fail:
	relay_resume_stop(rr);
	return NULL;
}

void relay_resume_stop(struct relay_resume *rr)
{
	if (!rr)
		return;
	pthread_mutex_lock(&rr->lock);
	rr->stop = 1;
	pthread_cond_broadcast(&rr->cond);
	pthread_mutex_unlock(&rr->lock);
	for (int i = 0; i < RESUME_WORKERS; i++) {
		if (rr->w[i].started)
			pthread_join(rr->w[i].th, NULL);
		store_close(rr->w[i].s);
	}
	pthread_mutex_destroy(&rr->lanes.lock);
	pthread_mutex_destroy(&rr->lock);
	pthread_cond_destroy(&rr->cond);
	free(rr);
}
