/* store_pg_watch.c - PostgreSQL: LISTEN for the requests other relays
 * change (NOTIFY greenlight_decided: decisions, re-keys, reopenings, the
 * notified mark, pruning) and wake the long-polls held here.
 *
 * Every notification heard, and every loss or return of the listening
 * connection, ends a write generation of this process before the callback
 * runs (store_bump_generation), so answers cached from the database are
 * read again; while the connection is down store_watch_live() is 0 and no
 * cache may be used at all.  Another relay notifies right after its commit,
 * not within it (store_pg.c, pg_hint), so a generation also ends every
 * GENERATION_MAX_MS whatever is heard. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_pg_int.h"
#include "util.h"

/* ---- watching for decisions of other relays ------------------------------------- */

#define WATCH_POLL_MS 200
/* A generation ends at least this often even when nothing is heard: a
 * hint lost between another relay's commit and its notification (that
 * relay died in between) leaves a cached answer stale for at most this. */
#define GENERATION_MAX_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct store_watch {
	pthread_t thread;
	atomic_int stop;
	char *url;
	char shown[URL_SHOWN];
	store_watch_fn fn;
	void *ud;
	atomic_int live;		/* LISTENing now */
};

static PGconn *listen_conn(struct store_watch *w)
{
	PGconn *c = pg_connect_url(w->url);
	PGresult *res;

	if (!c || PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	res = PQexec(c, "LISTEN " PG_CHANNEL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		PQfinish(c);
		return NULL;
	}
	PQclear(res);
	return c;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The request a hint names ("" any), or NULL for one of this process's
 * own ("<tag>:<id>", pg_instance()): its writes ended its generation and
 * woke its long-polls when they committed.  A payload without a tag (a
 * relay of an earlier version, or anyone who can connect) is an id. */
static const char *hint_id(const char *extra)
{
	const char *colon = extra ? strchr(extra, ':') : NULL;

	if (!extra)
		return "";
	if (!colon)
		return extra;
	if ((size_t)(colon - extra) == strlen(pg_instance()) &&
	    !strncmp(extra, pg_instance(), (size_t)(colon - extra)))
		return NULL;
	return colon + 1;
}

/* Deliver what arrived; -1 when the connection is gone. */
static int drain(struct store_watch *w, PGconn *c)
{
	PGnotify *n;

	if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK)
		return -1;
	while ((n = PQnotifies(c))) {
		const char *id = hint_id(n->extra);

		if (id) {
			store_bump_generation();
			w->fn(w->ud, *id ? id : NULL);
		}
		PQfreemem(n);
	}
	return 0;
}

static void *watch_main(void *arg)
{
	struct store_watch *w = arg;
	PGconn *c = listen_conn(w);
	long backoff = BACKOFF_MIN_MS;
	uint64_t ended = mono_ms();
	int lost = !c;

	atomic_store(&w->live, c != NULL);

	while (!atomic_load(&w->stop)) {
		struct pollfd pfd;

		if (!c) {
			sleep_ms(backoff);
			if (atomic_load(&w->stop))
				break;
			c = listen_conn(w);
			if (!c) {
				backoff = backoff * 2 > BACKOFF_MAX_MS ?
					  BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			backoff = BACKOFF_MIN_MS;
			if (lost)
				fprintf(stderr, "greenlight relay: listening for"
					" decisions on %s again\n", w->shown);
			lost = 0;
			store_bump_generation();
			atomic_store(&w->live, 1);
			w->fn(w->ud, NULL);	/* anything may have changed */
		}
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, WATCH_POLL_MS) < 0 && errno != EINTR)
			pfd.revents = POLLERR;
		if (mono_ms() - ended >= GENERATION_MAX_MS) {
			store_bump_generation();
			ended = mono_ms();
		}
		if (pfd.revents && drain(w, c) < 0) {
			warning("lost the connection that hears decisions (%s);"
				" reconnecting", w->shown);
			atomic_store(&w->live, 0);
			store_bump_generation();
			PQfinish(c);
			c = NULL;
			lost = 1;
			w->fn(w->ud, NULL);
		}
	}
	PQfinish(c);
	return NULL;
}

struct store_watch *store_watch_start(const char *db, store_watch_fn fn,
				      void *ud)
{
	struct store_watch *w;

	if (!store_is_url(db))
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->url = xstrdup(db);
	store_redact(db, w->shown, sizeof(w->shown));
	w->fn = fn;
	w->ud = ud;
	if (pthread_create(&w->thread, NULL, watch_main, w)) {
		error("cannot start a thread: %s", strerror(errno));
		free(w->url);
		free(w);
		return NULL;
	}
	return w;
}

int store_watch_live(struct store_watch *w)
{
	return w && atomic_load(&w->live);
}

void store_watch_stop(struct store_watch *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, 1);
	pthread_join(w->thread, NULL);
	free(w->url);
	free(w);
}
