/* backend_listen.c - the listen backend: own store, own review server.
 *
 * The gate keeps requests in its SQLite store and serves the review pages
 * itself (web.c, a second store connection in the server thread).  The
 * server's on_decision callback makes the self-pipe readable, so a decision
 * ends the wait as soon as the reviewer's page has been sent.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "util.h"
#include "web.h"

struct listen_state {
	struct store *store;
	struct web *web;
};

static struct listen_state *L(struct backend *b)
{
	return b->priv;
}

static void (*wake_fn)(void);

static void on_decision(void *ud, const char *request_id)
{
	(void)ud;
	(void)request_id;
	if (wake_fn)
		wake_fn();
}

static int get(struct backend *b, const char *id, struct store_request *out)
{
	return local_get(L(b)->store, id, out);
}

static int put(struct backend *b, const struct store_new_request *nr,
	       struct store_request *out, int *created, struct store_request *prev)
{
	return local_put(L(b)->store, nr, out, created, prev);
}

static int rekey(struct backend *b, const char *id, const struct store_recipient *sr,
		 size_t n, struct store_request *out)
{
	return local_rekey(L(b)->store, id, sr, n, out);
}

static int reopen(struct backend *b, const char *id, time_t deadline,
		  const struct store_recipient *sr, size_t n, struct store_request *out)
{
	return local_reopen(L(b)->store, id, deadline, sr, n, out);
}

static int notified(struct backend *b, const char *id)
{
	return local_notified(L(b)->store, id);
}

/* Links point at public_url, or at the address actually bound. */
static int serve(struct backend *b, char **public_url)
{
	struct web_config wc = { 0 };
	const char *listen = b->set->value[SET_LISTEN];
	const char *colon = strrchr(listen, ':');
	int hostlen = (int)(colon ? colon - listen : (long)strlen(listen));
	size_t n;

	wc.listen = listen;
	wc.public_url = *b->set->value[SET_PUBLIC_URL] ? b->set->value[SET_PUBLIC_URL] : NULL;
	wc.store_path = b->set->value[SET_STATE];
	wc.on_decision = on_decision;
	L(b)->web = web_bind(&wc);
	if (!L(b)->web)
		return -1;
	if (b->mail && backend_mail_check(b))	/* replies by mail too */
		return -1;
	if (wc.public_url) {
		*public_url = xstrdup(wc.public_url);
		return 0;
	}
	n = (size_t)hostlen + 32;
	*public_url = xmalloc(n);
	snprintf(*public_url, n, "http://%.*s:%u", hostlen, listen, web_port(L(b)->web));
	return 0;
}

static int start(struct backend *b)
{
	return web_run(L(b)->web);
}

/* Milliseconds from now until `until` for poll(): 0 when due, and at most
 * a day, so that a wait of weeks fits an int; the caller's loop waits the
 * rest. */
static int poll_ms(time_t now, time_t until)
{
	const time_t max_wait = 24 * 3600;

	if (until <= now)
		return 0;
	return (int)((until - now < max_wait ? until - now : max_wait) * 1000);
}

static int wait_for(struct backend *b, const char *id, time_t until,
		    struct store_request *out)
{
	struct pollfd p = { b->wake_fd, POLLIN, 0 };
	char drain[64];
	int decided = 0;
	time_t next;

	if (b->mail) {		/* replies by mail too (backend_mail.c) */
		if (backend_mail_tick(b, id, &decided, &next))
			return -1;
		if (decided)
			return get(b, id, out);
		if (next < until)
			until = next;
	}
	if (poll(&p, 1, poll_ms(time(NULL), until)) > 0)
		while (read(b->wake_fd, drain, sizeof(drain)) > 0)
			;
	return get(b, id, out);
}

static void close_listen(struct backend *b)
{
	if (!b->priv)
		return;
	if (L(b)->web)
		web_stop(L(b)->web);
	backend_mail_detach(b);
	if (L(b)->store)
		store_close(L(b)->store);
	free(b->priv);
	b->priv = NULL;
	wake_fn = NULL;
}

static const struct backend_ops listen_ops = {
	.name = "listen",
	.put = put,
	.rekey = rekey,
	.reopen = reopen,
	.notified = notified,
	.serve = serve,
	.start = start,
	.wait = wait_for,
	.close = close_listen,
};

int backend_listen_open(struct backend *b)
{
	struct listen_state *l = xcalloc(1, sizeof(*l));

	l->store = store_open(b->set->value[SET_STATE]);
	if (!l->store) {
		free(l);
		return -1;
	}
	b->priv = l;
	b->ops = &listen_ops;
	wake_fn = b->wake;
	if (*b->set->value[SET_IMAP] && backend_mail_attach(b, l->store)) {
		close_listen(b);
		return -1;
	}
	return 0;
}

int backend_open(struct backend *b)
{
	if (!strcmp(b->set->value[SET_VIA], "relay"))
		return backend_relay_open(b);
	if (!strcmp(b->set->value[SET_VIA], "mail"))
		return backend_mail_open(b);
	return backend_listen_open(b);
}
