/* test_store_writer.c - unit tests for src/store_writer.c (group commit of
 * SQLite writes) against real SQLite files.
 *
 * Covered: one connection writes by itself (no thread); a second one starts
 * the writer, whose groups hold many writes; a write that fails inside a
 * group is rolled back to its savepoint and fails alone while the others
 * of its group commit; many threads registering and deciding at once get
 * their own results, with a token-hash conflict in the middle; a process
 * killed while it writes keeps every write it was answered for, and no
 * half-written request; many threads opening one new file at once all get
 * a connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "store_int.h"
#include "token.h"

#define T0 1700000000
#define DAY 86400

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/gl-test-writer-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A request of one team "eng" (2 approvals) asking 3 people. */
struct req {
	char key[65];
	char tokens[3][TOKEN_SIZE];
	struct store_recipient rcpt[3];
	struct store_team team;
	struct store_new_request nr;
};

static void make_req(struct req *q, const char *key)
{
	static const char *const who[] = {
		"a@example.com", "b@example.com", "c@example.com",
	};

	memset(q, 0, sizeof(*q));
	snprintf(q->key, sizeof(q->key), "%s", key);
	q->team.name = "eng";
	q->team.approvals = 2;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(token_new(q->tokens[i]), 0);
		q->rcpt[i].email = who[i];
		q->rcpt[i].team = "eng";
		assert_int_equal(token_hash(q->rcpt[i].token_hash, q->tokens[i]), 0);
	}
	q->nr.key = q->key;
	q->nr.gate = "g";
	q->nr.facts_json = "{}";
	q->nr.created = T0;
	q->nr.deadline = T0 + DAY;
	q->nr.teams = &q->team;
	q->nr.nteams = 1;
	q->nr.recipients = q->rcpt;
	q->nr.nrecipients = 3;
}

static long count_rows(const char *path, const char *sql, const char *arg)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long n = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void test_one_connection_writes_itself(void **state)
{
	struct fixture *f = *state;
	struct store *s = store_open(f->path);
	struct store_request r;
	unsigned long groups, writes;
	struct req q;
	int created;

	assert_non_null(s);
	make_req(&q, "solo");
	assert_int_equal(store_request_put(s, &q.nr, &r, &created), STORE_OK);
	store_request_release(&r);
	sq_writer_stats(s, &groups, &writes);
	assert_int_equal(writes, 0);	/* no thread: the caller committed */
	store_close(s);
}

/* ---- a failing write inside a group ------------------------------------- */

struct job {
	struct store *s;
	int n;				/* baseline commit number */
	int fail;			/* insert, then fail */
	int slow;			/* hold the writer for a while */
	int rc;
};

static int put_then(struct sq_store *s, void *arg)
{
	struct job *j = arg;
	char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO baselines(tenant, repository, gate,"
		 " commit_id, document, recorded) VALUES ('t', 'r', 'g', '%040d',"
		 " '{}', 1)", j->n);
	if (sq_exec(s, sql))
		return STORE_ERROR;
	if (j->slow)
		sleep_ms(300);	/* the others queue up meanwhile */
	return j->fail ? STORE_ERROR : STORE_OK;
}

static void *run_job(void *arg)
{
	struct job *j = arg;

	j->rc = sq_write((struct sq_store *)j->s, put_then, j);
	return NULL;
}

static void test_failure_stays_in_its_savepoint(void **state)
{
	struct fixture *f = *state;
	enum { N = 12 };
	struct store *s[N];
	struct job jobs[N];
	pthread_t th[N];
	unsigned long groups, writes;
	char commit[41];

	for (int i = 0; i < N; i++) {
		s[i] = store_open(f->path);
		assert_non_null(s[i]);
		jobs[i] = (struct job){ s[i], i, i == 5, i == 0, 99 };
	}
	assert_int_equal(pthread_create(&th[0], NULL, run_job, &jobs[0]), 0);
	sleep_ms(100);	/* job 0 holds the writer: 1..N-1 form one group */
	for (int i = 1; i < N; i++)
		assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	sq_writer_stats(s[0], &groups, &writes);
	assert_int_equal(writes, N);
	assert_int_equal(groups, 2);
	for (int i = 0; i < N; i++) {
		snprintf(commit, sizeof(commit), "%040d", i);
		assert_int_equal(jobs[i].rc, i == 5 ? STORE_ERROR : STORE_OK);
		assert_int_equal(count_rows(f->path, "SELECT COUNT(*) FROM baselines"
					    " WHERE commit_id = ?1", commit),
				 i == 5 ? 0 : 1);
	}
	for (int i = 0; i < N; i++)
		store_close(s[i]);
}

/* ---- many callers through the public API ---------------------------------- */

#define THREADS 8
#define PER 25

struct worker {
	const char *path;
	int n;
	int ok, conflicts, decided, wrong;
	struct req q[PER];
	const char *stolen;		/* a token hash of another request */
};

static void decide_two(struct store *s, struct worker *w, struct req *q)
{
	struct store_review rv;

	for (int k = 0; k < 2; k++) {
		if (store_review_get(s, q->tokens[k], T0 + 1, &rv) != STORE_OK) {
			w->wrong++;
			continue;
		}
		if (store_decide(s, q->tokens[k], rv.nonce, 1, "ok", "127.0.0.1",
				 "t", T0 + 2) == STORE_OK)
			w->decided++;
		else
			w->wrong++;
		store_review_release(&rv);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct store *s = store_open(w->path);
	struct store_request r;
	char key[65];
	int created;

	if (!s)
		return NULL;
	for (int i = 0; i < PER; i++) {
		snprintf(key, sizeof(key), "w%d-%d", w->n, i);
		make_req(&w->q[i], key);
		if (w->stolen && i == PER / 2)	/* someone else's token hash */
			memcpy(w->q[i].rcpt[2].token_hash, w->stolen, 65);
		switch (store_request_put(s, &w->q[i].nr, &r, &created)) {
		case STORE_OK:
			w->ok++;
			if (r.state != REQ_PENDING || !created)
				w->wrong++;
			store_request_release(&r);
			decide_two(s, w, &w->q[i]);
			break;
		case STORE_CONFLICT:
			w->conflicts++;
			break;
		default:
			w->wrong++;
		}
	}
	store_close(s);
	return NULL;
}

static void test_many_callers(void **state)
{
	struct fixture *f = *state;
	struct store *s = store_open(f->path);
	struct store *s2 = store_open(f->path);
	static struct worker w[THREADS];
	struct store_request r;
	pthread_t th[THREADS];
	unsigned long groups, writes;
	struct req first;
	int created, ok = 0, conflicts = 0, decided = 0;

	assert_non_null(s);
	assert_non_null(s2);
	make_req(&first, "first");
	assert_int_equal(store_request_put(s, &first.nr, &r, &created), STORE_OK);
	store_request_release(&r);
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].path = f->path;
		w[i].n = i;
		w[i].stolen = i == 3 ? first.rcpt[0].token_hash : NULL;
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].wrong, 0);
		ok += w[i].ok;
		conflicts += w[i].conflicts;
		decided += w[i].decided;
	}
	assert_int_equal(conflicts, 1);
	assert_int_equal(ok, THREADS * PER - 1);
	assert_int_equal(decided, 2 * ok);
	sq_writer_stats(s, &groups, &writes);
	assert_true(writes >= (unsigned long)(3 * ok));
	assert_true(groups < writes);	/* writes were committed together */
	assert_int_equal(count_rows(f->path, "SELECT COUNT(*) FROM requests", NULL),
			 ok + 1);
	assert_int_equal(count_rows(f->path, "SELECT COUNT(*) FROM decisions", NULL),
			 decided);
	assert_int_equal(count_rows(f->path, "SELECT COUNT(*) FROM requests"
				    " WHERE state = 'approved'", NULL), ok);
	/* the conflicting request left nothing behind */
	assert_int_equal(count_rows(f->path, "SELECT COUNT(*) FROM requests"
				    " WHERE key = ?1", "w3-12"), 0);
	store_close(s2);
	store_close(s);
}

/* ---- killed while writing --------------------------------------------------- */

struct killed {
	const char *path;
	int fd;				/* pipe: "n\n" once put n was answered */
	int n;
};

static void *child_writer(void *arg)
{
	struct killed *k = arg;
	struct store *s = store_open(k->path);
	struct store_request r;
	struct req q;
	char key[32], line[32];
	int created, len;

	for (int i = 0; s; i++) {
		snprintf(key, sizeof(key), "k%d-%d", k->n, i);
		make_req(&q, key);
		if (store_request_put(s, &q.nr, &r, &created) != STORE_OK)
			_exit(3);
		store_request_release(&r);
		len = snprintf(line, sizeof(line), "%s\n", key);
		if (write(k->fd, line, (size_t)len) != len)
			_exit(4);
	}
	_exit(5);
}

static void run_child(const char *path, int fd)
{
	static struct killed k[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		k[i] = (struct killed){ path, fd, i };
		if (pthread_create(&th[i], NULL, child_writer, &k[i]))
			_exit(2);
	}
	pause();
	_exit(0);
}

static void test_killed_mid_group(void **state)
{
	struct fixture *f = *state;
	char buf[1 << 16], *line, *save = NULL;
	size_t have = 0;
	ssize_t n;
	int fds[2], status, answered = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		run_child(f->path, fds[1]);
	}
	close(fds[1]);
	sleep_ms(400);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	while (have < sizeof(buf) - 1 &&
	       (n = read(fds[0], buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	close(fds[0]);
	buf[have] = '\0';
	line = strrchr(buf, '\n');	/* the kill may have cut the last line */
	if (line)
		line[1] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(count_rows(f->path, "SELECT COUNT(*) FROM requests"
					    " WHERE key = ?1", line), 1);
		answered++;
	}
	assert_true(answered > 0);
	/* every request there is whole: its team and its three reviewers */
	assert_int_equal(count_rows(f->path, "SELECT COUNT(*) FROM requests r"
				    " WHERE (SELECT COUNT(*) FROM recipients c"
				    " WHERE c.request_id = r.id) <> 3 OR (SELECT"
				    " COUNT(*) FROM teams t WHERE t.request_id ="
				    " r.id) <> 1", NULL), 0);
}

/* ---- many first openers ----------------------------------------------------- */

#define OPENERS 8

struct opener {
	const char *path;
	pthread_barrier_t *start;
	int ok;
};

static void *open_at_once(void *arg)
{
	struct opener *o = arg;
	struct store *s;

	pthread_barrier_wait(o->start);
	s = store_open(o->path);
	o->ok = s != NULL;
	store_close(s);
	return NULL;
}

/* Each opener of a new file switches it to WAL mode; two of them asking at
 * once used to make one fail with "database is locked". */
static void test_openers_of_a_new_file(void **state)
{
	struct fixture *f = *state;
	char path[160];

	for (int round = 0; round < 40; round++) {
		struct opener o[OPENERS];
		pthread_t th[OPENERS];
		pthread_barrier_t start;

		snprintf(path, sizeof(path), "%s/new-%d.db", f->dir, round);
		assert_int_equal(pthread_barrier_init(&start, NULL, OPENERS), 0);
		for (int i = 0; i < OPENERS; i++) {
			o[i] = (struct opener){ path, &start, 0 };
			assert_int_equal(pthread_create(&th[i], NULL,
							open_at_once, &o[i]), 0);
		}
		for (int i = 0; i < OPENERS; i++) {
			assert_int_equal(pthread_join(th[i], NULL), 0);
			assert_true(o[i].ok);
		}
		pthread_barrier_destroy(&start);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_one_connection_writes_itself),
		T(test_failure_stays_in_its_savepoint),
		T(test_many_callers),
		T(test_killed_mid_group),
		T(test_openers_of_a_new_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
