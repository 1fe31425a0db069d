/* relay_resume.h - the relay resumes waiting pipelines (resume.h) when
 * their requests are settled.
 *
 * A thread with its own store connection sweeps the resume outbox
 * (store.h, "resumes") once a second: each due resume is claimed before its
 * CI is called (at most once, also across restarts and SIGKILL), then
 * marked done, failed, or waiting again with a capped exponential backoff
 * (no answer, 408, 429, 5xx).  It logs one line per call: the request, the
 * CI, the outcome, what happened; never a credential.
 */
#ifndef GREENLIGHT_RELAY_RESUME_H
#define GREENLIGHT_RELAY_RESUME_H

#include "resume.h"

struct relay_resume;

/* Start the sweep on the database at db_path with the tenants' credentials
 * cfg (must outlive the sweep); calls go through libcurl.  Call before other
 * threads start (it initialises libcurl).  NULL after reporting an error. */
struct relay_resume *relay_resume_start(const char *db_path,
					const struct resume_config *cfg);

/* Stop the sweep (a call in progress ends first).  NULL is a no-op. */
void relay_resume_stop(struct relay_resume *rr);

/* One sweep at now, with http for the calls (tests); the number of
 * resumes claimed, or -1 on a store error. */
int relay_resume_sweep(struct store *s, const struct resume_config *cfg,
		       resume_http_fn http, void *ud, time_t now);

#endif
