/* relay_resume.h - the relay resumes waiting pipelines (resume.h) when
 * their requests are settled.
 *
 * RESUME_WORKERS threads, each with its own store connection, sweep the
 * resume outbox (store.h, "resumes") once a second: each due resume is
 * claimed before its CI is called (at most once, also across restarts and
 * SIGKILL), then marked done, failed, or waiting again with a capped
 * exponential backoff (no answer, 408, 429, 5xx).  A tenant's CI is
 * called by one worker at a time (its lane): a CI that does not answer
 * holds one worker, and the other tenants' resumes go on.  One log line
 * per call: the request, the CI, the outcome, what happened; never a
 * credential.
 */
#ifndef GREENLIGHT_RELAY_RESUME_H
#define GREENLIGHT_RELAY_RESUME_H

#include <pthread.h>

#include "resume.h"

#define RESUME_WORKERS 4
#define RESUME_LANE_SIZE 128		/* "tenant ci", cut to this */

struct relay_resume;

/* The lanes (tenant and CI) that have a call in flight, one per worker. */
struct resume_lanes {
	pthread_mutex_t lock;
	char busy[RESUME_WORKERS][RESUME_LANE_SIZE];
};

/* Start the sweep on the database at db_path with the tenants' credentials
 * cfg (must outlive the sweep); calls go through libcurl.  Call before other
 * threads start (it initialises libcurl).  NULL after reporting an error. */
struct relay_resume *relay_resume_start(const char *db_path,
					const struct resume_config *cfg);

/* Stop the sweep (a call in progress ends first).  NULL is a no-op. */
void relay_resume_stop(struct relay_resume *rr);

/* One sweep at now, with http for the calls (tests); the number of
 * resumes claimed, or -1 on a store error.  With lanes (NULL: none), a
 * resume whose lane is busy is left for a later sweep, and the lane is
 * held while its CI is called. */
int relay_resume_sweep(struct store *s, const struct resume_config *cfg,
		       struct resume_lanes *lanes, resume_http_fn http, void *ud,
		       time_t now);

#endif
