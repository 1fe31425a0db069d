/* mailproc.c - the mail helper process (mailproc.h).
 *
 * Wire (one request at a time, native byte order: both ends are this
 * binary): the gate writes uint32 n, then per message uint32 to_len, to,
 * uint32 data_len, data; the helper answers with n struct mail_result.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mailproc.h"
#include "notify.h"
#include "util.h"

#define MAILPROC_MAX_ITEMS 1024
#define MAILPROC_MAX_BYTES (2u * 1024 * 1024)
#define MAILPROC_MAX_BUDGET_S 30	/* a follow-up never holds the gate longer */

struct mailproc {
	int fd;
	pid_t pid;
	long budget_ms;
};

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t k = write(fd, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read n bytes; the deadline (monotonic ms, 0: none) bounds the wait. */
static int read_all(int fd, void *p, size_t n, uint64_t deadline)
{
	char *c = p;

	while (n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		int ms = -1;
		ssize_t k;

		if (deadline) {
			uint64_t now = mono_ms();

			if (now >= deadline)
				return -1;
			ms = (int)(deadline - now);
		}
		if (poll(&pf, 1, ms) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!pf.revents)
			return -1;
		k = read(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

static char *read_string(int fd, uint32_t *len)
{
	char *s;

	if (read_all(fd, len, sizeof(*len), 0) || *len > MAILPROC_MAX_BYTES)
		return NULL;
	s = xmalloc((size_t)*len + 1);
	if (read_all(fd, s, *len, 0)) {
		free(s);
		return NULL;
	}
	s[*len] = '\0';
	return s;
}

/* The helper: one batch at a time until the pipe closes. */
static void serve(int fd, struct mailer *m)
{
	uint32_t n;

	while (!read_all(fd, &n, sizeof(n), 0) && n <= MAILPROC_MAX_ITEMS) {
		struct mail_item *items = xcalloc(n ? n : 1, sizeof(*items));
		struct mail_result *res = xcalloc(n ? n : 1, sizeof(*res));
		char err[256];
		int ok = 1;

		for (uint32_t i = 0; ok && i < n; i++) {
			uint32_t len;

			items[i].to = read_string(fd, &len);
			items[i].data = items[i].to ? read_string(fd, &len) : NULL;
			items[i].len = len;
			ok = items[i].to && items[i].data;
		}
		if (ok && m)
			mailer_send(m, items, n, res, err, sizeof(err));
		for (uint32_t i = 0; !m && i < n; i++) {
			res[i].status = MAIL_PERMFAIL;
			snprintf(res[i].text, sizeof(res[i].text), "the mail settings are not usable");
		}
		for (uint32_t i = 0; i < n; i++) {
			free((char *)items[i].to);
			free((char *)items[i].data);
		}
		free(items);
		if (!ok || write_all(fd, res, n * sizeof(*res))) {
			free(res);
			return;
		}
		free(res);
	}
}

struct mailproc *mailproc_start(const struct settings *set)
{
	struct mailproc *p;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		error("mail helper: cannot create a socket pair: %s", strerror(errno));
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		error("mail helper: cannot fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		struct settings capped = *set;
		struct mailer *m;
		int null = open("/dev/null", O_WRONLY);

		close(sv[0]);
		/* the gate reports each message's outcome in one line; the
		 * mailer's retry warnings would only repeat it */
		if (null >= 0) {
			dup2(null, STDERR_FILENO);
			close(null);
		}
		if (capped.send_timeout > MAILPROC_MAX_BUDGET_S || !capped.send_timeout)
			capped.send_timeout = MAILPROC_MAX_BUDGET_S;
		signal(SIGINT, SIG_IGN);	/* the gate decides when to stop */
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		m = notify_mailer(&capped, NULL);
		serve(sv[1], m);
		mailer_free(m);
		_exit(0);
	}
	close(sv[1]);
	p = xcalloc(1, sizeof(*p));
	p->fd = sv[0];
	p->pid = pid;
	p->budget_ms = (long)(set->send_timeout && set->send_timeout < MAILPROC_MAX_BUDGET_S ?
			      set->send_timeout : MAILPROC_MAX_BUDGET_S) * 1000;
	return p;
}

int mailproc_send(struct mailproc *p, const struct mail_item *items, size_t n,
		  struct mail_result *results)
{
	uint32_t k = (uint32_t)n;
	int ret = 0;

	memset(results, 0, n * sizeof(*results));
	if (!p || n > MAILPROC_MAX_ITEMS)
		goto fail;
	if (!n)
		return 0;
	if (write_all(p->fd, &k, sizeof(k)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		uint32_t tl = (uint32_t)strlen(items[i].to), dl = (uint32_t)items[i].len;

		if (write_all(p->fd, &tl, sizeof(tl)) || write_all(p->fd, items[i].to, tl) ||
		    write_all(p->fd, &dl, sizeof(dl)) || write_all(p->fd, items[i].data, dl))
			goto fail;
	}
	if (read_all(p->fd, results, n * sizeof(*results),
		     mono_ms() + (uint64_t)p->budget_ms + 15000))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (results[i].status != MAIL_SENT)
			ret = -1;
	return ret;
fail:
	for (size_t i = 0; i < n; i++) {
		results[i].status = MAIL_PENDING;
		snprintf(results[i].text, sizeof(results[i].text), "the mail helper did not answer");
	}
	return -1;
}

void mailproc_stop(struct mailproc *p)
{
	int status;

	if (!p)
		return;
	close(p->fd);
	if (waitpid(p->pid, &status, WNOHANG) == 0) {
		/* it ends at EOF; a send in flight is bounded by its budget */
		for (int i = 0; i < 50 && waitpid(p->pid, &status, WNOHANG) == 0; i++)
			nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
		if (waitpid(p->pid, &status, WNOHANG) == 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
		}
	}
	free(p);
}
