/* store_writer.c - SQLite writes of one process grouped into few commits.
 *
 * Every write transaction of the SQLite backend is a function run by
 * sq_write().  With one connection to a database file in the process, it
 * runs as before: BEGIN IMMEDIATE, the function, COMMIT on the caller's
 * connection.  Once a second connection to the same file is opened (a
 * relay opens one per worker thread), the process starts one writer
 * thread for that file with a connection of its own: sq_write() queues the
 * function and waits; the writer takes everything queued (up to
 * GROUP_MAX), runs each function inside its own SAVEPOINT of one BEGIN
 * IMMEDIATE transaction, and commits once (one fdatasync for the group).
 *
 * Invariants: a caller is answered only after the COMMIT that holds its
 * changes succeeded (or with STORE_ERROR when it failed: then nothing of
 * the group was written); a function that fails (STORE_ERROR) is rolled
 * back to its savepoint and fails alone; if SQLite rolls back the whole
 * transaction (I/O error, disk full), every function run in it so far
 * fails and the rest run in a new one.  Functions run one after another,
 * so each sees what the ones before it wrote, as with the busy handler.
 * Connections of other processes (a gate's store, the CLI) still take
 * their write lock through SQLite's busy handler, as before.
 *
 * The registry (one entry per file, by device and inode) is owned here;
 * a connection holds a reference from sq_writer_attach() to
 * sq_writer_detach(); the last detach stops the thread.  A forked child
 * never uses its parent's writer (it has no such thread): it writes
 * directly.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"
#include "util.h"

#define GROUP_MAX 128		/* writes committed together at most */

struct sq_job {
	sq_txn_fn fn;
	void *ctx;
	int rc;
	int done;
	struct sq_job *next;
};

struct sq_writer {
	dev_t dev;
	ino_t ino;
	char *path;
	int refs;			/* connections attached */
	atomic_int owner;		/* pid running the thread, 0 before */
	int stop;
	pthread_t thread;
	struct sq_store *conn;		/* the writer's own connection */
	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t more;		/* a job was queued, or stop */
	pthread_cond_t answered;	/* a group was committed */
	struct sq_job *head, *tail;
	unsigned long groups, writes;	/* for tests and the bench */
	struct sq_writer *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sq_writer *registry;

/* ---- the writer thread ----------------------------------------------------- */

static int run_sql(struct sq_store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Run one job inside its savepoint; STORE_ERROR rolls back its changes. */
static void run_job(struct sq_store *s, struct sq_job *j)
{
	if (run_sql(s, "SAVEPOINT w")) {
		j->rc = sq_error(s, "savepoint");
		return;
	}
	s->writing = 1;
	j->rc = j->fn(s, j->ctx);
	if (sqlite3_get_autocommit(s->db))
		return;		/* SQLite rolled back the whole transaction */
	if (j->rc == STORE_ERROR)
		run_sql(s, "ROLLBACK TO w");
	if (run_sql(s, "RELEASE w")) {	/* undo it rather than answer wrong */
		j->rc = sq_error(s, "release savepoint");
		run_sql(s, "ROLLBACK TO w");
		run_sql(s, "RELEASE w");
	}
}

/* Set the result of jobs [from, to) (nothing of theirs was committed). */
static void fail_jobs(struct sq_job *from, struct sq_job *to)
{
	for (struct sq_job *j = from; j != to; j = j->next)
		j->rc = STORE_ERROR;
}

/* One transaction over jobs from `first` on; returns the first job it did
 * not settle (SQLite rolled back the transaction after it), or NULL. */
static struct sq_job *commit_some(struct sq_writer *w, struct sq_job *first)
{
	struct sq_store *s = w->conn;
	struct sq_job *j;

	if (run_sql(s, "BEGIN IMMEDIATE")) {
		sq_error(s, "begin transaction");
		fail_jobs(first, NULL);
		return NULL;
	}
	for (j = first; j; j = j->next) {
		run_job(s, j);
		if (sqlite3_get_autocommit(s->db)) {	/* all of it is gone */
			error("store: a write failed and took its group with it");
			fail_jobs(first, j->next);
			return j->next;
		}
	}
	if (run_sql(s, "COMMIT")) {
		sq_error(s, "commit");
		run_sql(s, "ROLLBACK");
		fail_jobs(first, NULL);
	}
	return NULL;
}

static void commit_group(struct sq_writer *w, struct sq_job *group)
{
	struct sq_job *rest = group;

	while (rest)
		rest = commit_some(w, rest);
	w->conn->writing = 0;
	store_bump_generation();
}

/* Take up to GROUP_MAX queued jobs (w->lock held). */
static struct sq_job *take_group(struct sq_writer *w)
{
	struct sq_job *group = w->head, *last = w->head;
	int n = 1;

	while (last->next && n < GROUP_MAX) {
		last = last->next;
		n++;
	}
	w->head = last->next;
	if (!w->head)
		w->tail = NULL;
	last->next = NULL;
	w->groups++;
	w->writes += (unsigned long)n;
	return group;
}

static void *writer_main(void *arg)
{
	struct sq_writer *w = arg;
	struct sq_job *group, *next;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->more, &w->lock);
		if (!w->head)
			break;
		group = take_group(w);
		pthread_mutex_unlock(&w->lock);
		commit_group(w, group);
		pthread_mutex_lock(&w->lock);
		for (; group; group = next) {
			next = group->next;
			group->done = 1;
		}
		pthread_cond_broadcast(&w->answered);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* ---- callers ------------------------------------------------------------------ */

/* BEGIN IMMEDIATE, fn, COMMIT on the caller's own connection. */
static int write_direct(struct sq_store *s, sq_txn_fn fn, void *ctx)
{
	if (sq_begin(s, 1))
		return STORE_ERROR;
	return sq_finish(s, fn(s, ctx));
}

int sq_write(struct sq_store *s, sq_txn_fn fn, void *ctx)
{
	struct sq_writer *w = s->writer;
	struct sq_job job = { fn, ctx, STORE_ERROR, 0, NULL };

	/* not started, or a forked child (no thread; its copy of w->lock may
	 * have been taken at the fork): write directly */
	if (!w || atomic_load(&w->owner) != (int)getpid())
		return write_direct(s, fn, ctx);
	pthread_mutex_lock(&w->lock);
	if (w->stop) {
		pthread_mutex_unlock(&w->lock);
		return write_direct(s, fn, ctx);
	}
	if (w->tail)
		w->tail->next = &job;
	else
		w->head = &job;
	w->tail = &job;
	pthread_cond_signal(&w->more);
	while (!job.done)
		pthread_cond_wait(&w->answered, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return job.rc;
}

/* ---- the registry -------------------------------------------------------------- */

static int start_thread(struct sq_writer *w)
{
	w->conn = sq_connect(w->path);
	if (!w->conn)
		return -1;
	if (pthread_create(&w->thread, NULL, writer_main, w)) {
		sq_close(&w->conn->base);
		w->conn = NULL;
		return error("store: cannot start the writer thread");
	}
	atomic_store(&w->owner, (int)getpid());
	return 0;
}

static struct sq_writer *find_writer(const struct stat *st)
{
	struct sq_writer *w;

	for (w = registry; w; w = w->next)
		if (w->dev == st->st_dev && w->ino == st->st_ino)
			return w;
	return NULL;
}

int sq_writer_attach(struct sq_store *s, const char *path)
{
	struct sq_writer *w;
	struct stat st;

	if (stat(path, &st))
		return error("cannot stat '%s': %s", path, strerror(errno));
	pthread_mutex_lock(&registry_lock);
	w = find_writer(&st);
	if (!w) {
		w = xcalloc(1, sizeof(*w));
		w->dev = st.st_dev;
		w->ino = st.st_ino;
		w->path = xstrdup(path);
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->more, NULL);
		pthread_cond_init(&w->answered, NULL);
		w->next = registry;
		registry = w;
	}
	w->refs++;
	s->writer = w;
	/* a second connection: writes of this process now meet in one queue
	 * (a failure to start leaves them on the busy handler, as before) */
	if (w->refs == 2 && !atomic_load(&w->owner))
		start_thread(w);
	pthread_mutex_unlock(&registry_lock);
	return 0;
}

static void unlink_writer(struct sq_writer *w)
{
	struct sq_writer **p = &registry;

	while (*p != w)
		p = &(*p)->next;
	*p = w->next;
}

void sq_writer_detach(struct sq_store *s)
{
	struct sq_writer *w = s->writer;

	if (!w)
		return;
	s->writer = NULL;
	pthread_mutex_lock(&registry_lock);
	if (--w->refs > 0) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	unlink_writer(w);
	pthread_mutex_unlock(&registry_lock);
	if (atomic_load(&w->owner) == (int)getpid()) {
		pthread_mutex_lock(&w->lock);
		w->stop = 1;
		pthread_cond_signal(&w->more);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	if (w->conn)
		sq_close(&w->conn->base);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->answered);
	pthread_mutex_destroy(&w->lock);
	free(w->path);
	free(w);
}

void sq_writer_stats(const struct store *base, unsigned long *groups,
		     unsigned long *writes)
{
	const struct sq_store *s = (const struct sq_store *)base;
	struct sq_writer *w = s->writer;

	*groups = *writes = 0;
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	*groups = w->groups;
	*writes = w->writes;
	pthread_mutex_unlock(&w->lock);
}
