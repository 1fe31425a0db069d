/* relay_wait.c - the relay's held long-polls (see relay_int.h).
 *
 * A long-poll reads its request outside wlock and is linked under it only
 * if no decision was announced for its bucket meanwhile (relay_hold), so a
 * decision committed after the read is never missed.  Suspended
 * connections never time out in libmicrohttpd: the owner calls
 * relay_api_sweep() a few times a second.
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"
#include "util.h"

#define DEADLINE_SLACK_MS 20		/* wake just after a deadline, not before */

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}



static unsigned bucket_of(const char *id)
{
	unsigned h = 0;

	for (int i = 0; i < 4; i++)
		h = h << 4 | (unsigned)token_hex_value(id[i]);
	return h % NBUCKETS;
}

static void link_waiter(struct relay_api *a, struct call *k)
{
	k->bucket = (unsigned short)bucket_of(k->id);
	k->prev = NULL;
	k->next = a->bucket[k->bucket];
	if (k->next)
		k->next->prev = k;
	a->bucket[k->bucket] = k;
	a->nwaiters++;
}

void relay_unlink_waiter(struct relay_api *a, struct call *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		a->bucket[k->bucket] = k->next;
	if (k->next)
		k->next->prev = k->prev;
	k->prev = k->next = NULL;
	a->nwaiters--;
}

/* End a held long-poll (wlock held): it answers when MHD calls back. */
static void wake(struct relay_api *a, struct call *k)
{
	relay_unlink_waiter(a, k);
	k->state = CALL_WOKEN;
	atomic_fetch_add(&a->unanswered, 1);
	MHD_resume_connection(k->conn);
}

/* When a long-poll of `wait` seconds on a request due at `deadline` ends:
 * just after the deadline if that comes first, so the read settles it. */
static uint64_t hold_until(int wait, time_t deadline)
{
	int64_t left = (int64_t)deadline * 1000 - wall_ms() + DEADLINE_SLACK_MS;
	int64_t ms = (int64_t)wait * 1000;

	if (left < ms)
		ms = left < 0 ? 0 : left;
	return mono_ms() + (uint64_t)ms;
}

/* What a long-poll read is still true when it is linked if no decision
 * was announced for its bucket since before the read began; else it reads
 * again (after HOLD_RETRIES, with wlock held, as every read once did). */
#define HOLD_RETRIES 3

static unsigned long announcements(struct relay_api *a, unsigned b)
{
	return a->announced[b] + a->announced_all;
}

/* Suspend the connection until the request is decided or the wait ends.
 * The read happens outside wlock (on a shared database it is a round trip
 * to the server, and every held long-poll, decision and hint would wait
 * for it); a decision committed after the read began is announced after
 * that, so either the count of announcements moved (read again) or the
 * waiter is linked before the announcement and woken by it. */
int relay_hold(struct relay_api *a, struct MHD_Connection *c, const char *id,
	       int wait, const struct relay_principal *who, void **cls)
{
	unsigned b = bucket_of(id);
	struct store_request r;
	struct call *k;
	int rc;

	for (int attempt = 0;; attempt++) {
		int locked = attempt >= HOLD_RETRIES;
		unsigned long seen;

		pthread_mutex_lock(&a->wlock);
		seen = announcements(a, b);
		if (!locked)
			pthread_mutex_unlock(&a->wlock);
		rc = relay_read(a, id, who->tenant, &r);
		if (!locked)
			pthread_mutex_lock(&a->wlock);
		if (rc || r.state != REQ_PENDING || atomic_load(&a->stopping)) {
			pthread_mutex_unlock(&a->wlock);
			return relay_reply_read(a, c, rc, MHD_HTTP_OK, &r);
		}
		if (announcements(a, b) == seen)
			break;
		pthread_mutex_unlock(&a->wlock);
		store_request_release(&r);
	}
	if (a->nwaiters >= a->max_waiters) {
		pthread_mutex_unlock(&a->wlock);
		store_request_release(&r);
		atomic_fetch_add(&a->m.waiters_refused, 1);
		return relay_fail_h(a, c, MHD_HTTP_TOO_MANY_REQUESTS, "too many"
			      " long-polls are waiting; retry later",
			      MHD_HTTP_HEADER_RETRY_AFTER, "1");
	}
	k = xcalloc(1, sizeof(*k));
	k->route = R_REQUEST;
	k->state = CALL_WAITING;
	memcpy(k->id, id, sizeof(k->id));
	k->conn = c;
	k->until_ms = hold_until(wait, r.deadline);
	store_request_release(&r);
	MHD_suspend_connection(c);
	link_waiter(a, k);
	pthread_mutex_unlock(&a->wlock);
	*cls = k;
	return MHD_YES;
}

/* Answer the long-polls held on request_id: they re-read it. */
static void wake_id(struct relay_api *a, const char *request_id)
{
	struct call *k, *next;

	if (!token_is_hex(request_id, 32))
		return;
	pthread_mutex_lock(&a->wlock);
	a->announced[bucket_of(request_id)]++;
	for (k = a->bucket[bucket_of(request_id)]; k; k = next) {
		next = k->next;
		if (!strcmp(k->id, request_id))
			wake(a, k);
	}
	pthread_mutex_unlock(&a->wlock);
}

void relay_api_decided(void *ud, const char *request_id)
{
	struct relay_api *a = ud;

	atomic_fetch_add(&a->m.decisions, 1);
	wake_id(a, request_id);
}

static void wake_due(struct relay_api *a, int all);

/* A shared database told of a decision (possibly by another relay): the
 * long-polls held on that request re-read it; NULL (the notifications
 * may have been missed while the connection was down): every held
 * long-poll re-reads, answering with what the database says now. */
void relay_api_hint(void *ud, const char *request_id)
{
	struct relay_api *a = ud;

	if (request_id) {
		atomic_fetch_add(&a->m.hints, 1);
		wake_id(a, request_id);
	} else {
		atomic_fetch_add(&a->m.watch_lost, 1);
		wake_due(a, 1);
	}
}

/* Wake every waiter whose time has come (all of them when `all`). */
static void wake_due(struct relay_api *a, int all)
{
	uint64_t now = mono_ms();
	struct call *k, *next;

	pthread_mutex_lock(&a->wlock);
	if (all)
		a->announced_all++;
	for (unsigned b = 0; b < NBUCKETS && a->nwaiters; b++) {
		for (k = a->bucket[b]; k; k = next) {
			next = k->next;
			if (all || k->until_ms <= now)
				wake(a, k);
		}
	}
	pthread_mutex_unlock(&a->wlock);
}

long relay_api_sweep(struct relay_api *a, int settle)
{
	struct slot *sl;
	long n = 0;
	int rc;

	wake_due(a, 0);
	if (!settle)
		return 0;
	sl = relay_slot(a);
	pthread_mutex_lock(&sl->lock);
	rc = store_settle_expired(sl->s, time(NULL), &n);
	pthread_mutex_unlock(&sl->lock);
	if (rc) {
		atomic_fetch_add(&a->m.errors, 1);
		return -1;
	}
	atomic_fetch_add(&a->m.settled, (unsigned long)n);
	return n;
}

#define PRUNE_BATCH 500		/* requests deleted per write transaction */
#define RECLAIM_PAGES 2048		/* pages given back per prune (8 MiB of 4 KiB) */

long relay_api_prune(struct relay_api *a, time_t before)
{
	struct slot *sl = relay_slot(a);
	long total = 0, n, freed = 0;
	int rc;

	do {
		pthread_mutex_lock(&sl->lock);
		rc = store_prune(sl->s, before, PRUNE_BATCH, &n);
		pthread_mutex_unlock(&sl->lock);
		if (rc) {
			atomic_fetch_add(&a->m.errors, 1);
			return -1;
		}
		total += n;
		atomic_fetch_add(&a->m.pruned, (unsigned long)n);
	} while (n == PRUNE_BATCH);
	pthread_mutex_lock(&sl->lock);	/* also what earlier runs left */
	rc = store_reclaim(sl->s, RECLAIM_PAGES, &freed);
	pthread_mutex_unlock(&sl->lock);
	if (rc) {
		atomic_fetch_add(&a->m.errors, 1);
		return -1;
	}
	atomic_fetch_add(&a->m.pages_reclaimed, (unsigned long)freed);
	return total;
}

void relay_api_shutdown(struct relay_api *a)
{
	pthread_mutex_lock(&a->wlock);
	atomic_store(&a->stopping, 1);
	pthread_mutex_unlock(&a->wlock);
	wake_due(a, 1);
}

int relay_api_drain(struct relay_api *a, unsigned ms)
{
	struct timespec tick = { 0, 5 * 1000 * 1000 };

	for (unsigned i = 0; i < ms / 5; i++) {
		if (!relay_api_waiters(a) && !atomic_load(&a->unanswered))
			return 0;
		nanosleep(&tick, NULL);
	}
	return relay_api_waiters(a) || atomic_load(&a->unanswered) ? -1 : 0;
}

unsigned relay_api_waiters(struct relay_api *a)
{
	unsigned n;

	pthread_mutex_lock(&a->wlock);
	n = a->nwaiters;
	pthread_mutex_unlock(&a->wlock);
	return n;
}

