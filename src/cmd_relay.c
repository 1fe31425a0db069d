/* cmd_relay.c - `greenlight relay`: the decision relay service.
 *
 * Serves the review pages (web.c, exactly as listen mode) and the /v1 API
 * (relay_api.c) from one SQLite database, for gates on runners nobody can
 * reach.  The main thread only sweeps: ten times a second it answers the
 * long-polls whose wait or deadline has come (libmicrohttpd never times
 * out a suspended connection), once a second it settles expired requests.
 * SIGTERM/SIGINT answer every held long-poll, then stop; SIGHUP re-reads
 * --tokens-file.  Tokens and Authorization headers are never printed.
 *
 * --db is a SQLite file, or a postgres:// / postgresql:// URL (libpq;
 * the password only in the URL or PGPASSWORD, and the URL is printed
 * redacted).  One relay per SQLite database: the relay holds an exclusive
 * flock() on "<database>.lock" for its whole life (the kernel drops it when
 * the process dies, even by SIGKILL), and a second relay on the same
 * database refuses to start.  Several relays may share one PostgreSQL
 * database: that is what it is for.
 */
#define _XOPEN_SOURCE 700		/* realpath() */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "cmd.h"
#include "store.h"
#include "relay_api.h"
#include "relay_notify.h"
#include "util.h"
#include "web.h"

#define TICK_MS 100			/* sweep period */
#define SETTLE_TICKS 10			/* settle expired requests every second */
#define PRUNE_TICKS_MAX 600		/* prune at least once a minute */
#define DRAIN_MS 30000			/* for held long-polls to be answered */
#define TOKENS_FILE_MAX (64 * 1024)
#define PEM_MAX (1024 * 1024)
#define RELAY_BACKLOG 1024
#define HEADER_BUFFER_MIN (4 * 1024)
#define HEADER_BUFFER_MAX (1024 * 1024)

enum opt {
	O_LISTEN, O_DB, O_PUBLIC_URL, O_TOKENS_FILE, O_TLS_CERT, O_TLS_KEY,
	O_MAX_WAITERS, O_MAX_CONNECTIONS, O_PER_IP, O_THREADS, O_IDLE,
	O_DEADLINE, O_HEADER_BUFFER, O_RETENTION,
	/* mail for detached requests (relay_notify.h) */
	O_SMTP, O_SMTP_TLS, O_FROM, O_SMTP_USER_ENV, O_SMTP_PASSWORD_ENV,
	O_SMTP_CA_FILE, O_SEND_TIMEOUT, O_COUNT
};

static const struct {
	const char *name;		/* --name */
	const char *env;		/* GREENLIGHT_RELAY_* */
	const char *def;		/* default, or NULL */
} opts[O_COUNT] = {
	[O_LISTEN] = { "listen", "GREENLIGHT_RELAY_LISTEN", "127.0.0.1:8080" },
	[O_DB] = { "db", "GREENLIGHT_RELAY_DB", NULL },
	[O_PUBLIC_URL] = { "public-url", "GREENLIGHT_RELAY_PUBLIC_URL", NULL },
	[O_TOKENS_FILE] = { "tokens-file", "GREENLIGHT_RELAY_TOKENS_FILE", NULL },
	[O_TLS_CERT] = { "tls-cert", "GREENLIGHT_RELAY_TLS_CERT", NULL },
	[O_TLS_KEY] = { "tls-key", "GREENLIGHT_RELAY_TLS_KEY", NULL },
	[O_MAX_WAITERS] = { "max-waiters", "GREENLIGHT_RELAY_MAX_WAITERS", "768" },
	[O_MAX_CONNECTIONS] = { "max-connections", "GREENLIGHT_RELAY_MAX_CONNECTIONS", "1024" },
	[O_PER_IP] = { "per-ip-connections", "GREENLIGHT_RELAY_PER_IP_CONNECTIONS", "64" },
	[O_THREADS] = { "threads", "GREENLIGHT_RELAY_THREADS", "2" },
	[O_IDLE] = { "idle-timeout", "GREENLIGHT_RELAY_IDLE_TIMEOUT", "30s" },
	[O_DEADLINE] = { "request-deadline", "GREENLIGHT_RELAY_REQUEST_DEADLINE", "10s" },
	[O_HEADER_BUFFER] = { "header-buffer", "GREENLIGHT_RELAY_HEADER_BUFFER", "8K" },
	[O_RETENTION] = { "retention", "GREENLIGHT_RELAY_RETENTION", "90d" },
	[O_SMTP] = { "smtp", "GREENLIGHT_RELAY_SMTP", NULL },
	[O_SMTP_TLS] = { "smtp-tls", "GREENLIGHT_RELAY_SMTP_TLS", "starttls" },
	[O_FROM] = { "from", "GREENLIGHT_RELAY_FROM", "greenlight@localhost" },
	[O_SMTP_USER_ENV] = { "smtp-user-env", "GREENLIGHT_RELAY_SMTP_USER_ENV", "GREENLIGHT_SMTP_USER" },
	[O_SMTP_PASSWORD_ENV] = { "smtp-password-env", "GREENLIGHT_RELAY_SMTP_PASSWORD_ENV", "GREENLIGHT_SMTP_PASSWORD" },
	[O_SMTP_CA_FILE] = { "smtp-ca-file", "GREENLIGHT_RELAY_SMTP_CA_FILE", NULL },
	[O_SEND_TIMEOUT] = { "send-timeout", "GREENLIGHT_RELAY_SEND_TIMEOUT", "2m" },
};

struct relay {
	const char *val[O_COUNT];
	unsigned max_waiters, max_connections, per_ip, threads;
	uint64_t idle, deadline, header_buffer;
	uint64_t retention;		/* seconds; 0: keep for ever */
	unsigned prune_ticks;		/* prune every this many ticks */
	struct relay_api *api;
	struct web *web;
	char *cert, *key;		/* PEM text, until the server started */
	int tls;
	int lock_fd;			/* holds the database's lock, or -1 */
	struct relay_mail mail;		/* --smtp ...: mail for detached requests */
	struct relay_notify *notify;
};

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_signal = 1;
}

void usage_relay(FILE *out)
{
	fputs("usage: greenlight relay --db PATH|URL [--listen ADDR] [options]\n"
	      "\n"
	      "Serve review pages and the relay API (docs/relay-protocol.md) so\n"
	      "that gates on unreachable CI runners can wait for decisions.\n"
	      "Bearer tokens for the API come from --tokens-file, else from\n"
	      "GREENLIGHT_RELAY_TOKENS (comma or newline separated).\n"
	      "\n"
	      "      --listen ADDR            HOST:PORT or [IPv6]:PORT (127.0.0.1:8080)\n"
	      "      --db PATH|URL            the state database: a SQLite file (created\n"
	      "                               if missing; one relay per file) or a\n"
	      "                               postgresql://USER@HOST/DB URL (shared by\n"
	      "                               several relays)\n"
	      "      --public-url URL         the origin reviewers use (behind a proxy)\n"
	      "      --tokens-file FILE       bearer tokens; re-read on SIGHUP\n"
	      "      --tls-cert FILE          serve HTTPS with this PEM certificate\n"
	      "      --tls-key FILE           ... and this PEM private key\n"
	      "      --max-waiters N          long-polls held at once (768), else 429\n"
	      "      --max-connections N      open connections in all (1024)\n"
	      "      --per-ip-connections N   open connections per address (64)\n"
	      "      --threads N              worker threads (2)\n"
	      "      --idle-timeout DUR       close idle connections after (30s)\n"
	      "      --request-deadline DUR   close a connection that has not sent a\n"
	      "                               whole request this long after it\n"
	      "                               connected or got its last answer (10s)\n"
	      "      --header-buffer SIZE     memory per connection for the request\n"
	      "                               line and headers (8K: headers up to\n"
	      "                               about 3.5 KiB; larger ones get 431)\n"
	      "      --retention DUR          delete approved, rejected and expired\n"
	      "                               requests this long after they were\n"
	      "                               settled (90d; 0 keeps them for ever)\n"
	      "Mail for detached requests (no gate waits for them): reminders and\n"
	      "follow-ups, each sent once\n"
	      "      --smtp URL               send them through this server (off)\n"
	      "      --smtp-tls MODE          starttls (or none)\n"
	      "      --from ADDR              greenlight@localhost\n"
	      "      --smtp-user-env NAME     variable with the login (GREENLIGHT_SMTP_USER)\n"
	      "      --smtp-password-env NAME variable with the password\n"
	      "                               (GREENLIGHT_SMTP_PASSWORD)\n"
	      "      --smtp-ca-file FILE      CAs for the server (system store)\n"
	      "      --send-timeout DUR       per batch of messages (2m)\n"
	      "  -h, --help                   show this help\n"
	      "Each option also reads GREENLIGHT_RELAY_<OPTION> (e.g.\n"
	      "GREENLIGHT_RELAY_DB); a flag wins over the variable.\n"
	      "\n"
	      "Exit: 0 stopped by SIGTERM or SIGINT, 2 bad usage or settings,\n"
	      "      4 the database, address or certificate could not be used,\n"
	      "      or another relay serves the database.\n",
	      out);
}

static int parse_args(struct relay *r, int argc, char **argv)
{
	struct option longopts[O_COUNT + 2];
	int c, idx;

	for (int i = 0; i < O_COUNT; i++)
		longopts[i] = (struct option){ opts[i].name, required_argument,
					       NULL, 256 + i };
	longopts[O_COUNT] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[O_COUNT + 1] = (struct option){ NULL, 0, NULL, 0 };
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		if (c >= 256 && c < 256 + O_COUNT) {
			r->val[c - 256] = optarg;
			continue;
		}
		if (c == 'h') {
			usage_relay(stdout);
			return 1;
		}
		usage_relay(stderr);
		return -1;
	}
	if (optind < argc)
		return error("relay: unexpected argument '%s'; see 'greenlight"
			     " help relay'", argv[optind]);
	return 0;
}

/* A whole number 1..max from option i, into *out. */
static int number(const struct relay *r, enum opt i, unsigned max,
		  unsigned *out)
{
	const char *s = r->val[i];
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max || *s == '-')
		return error("--%s \"%s\": write a whole number from 1 to %u",
			     opts[i].name, s, max);
	*out = (unsigned)v;
	return 0;
}

/* Whether a --db value is a URL ("scheme://...", or "postgres:" /
 * "postgresql:" followed by anything): never taken as a file name; only
 * postgres:// and postgresql:// URLs are opened (store_is_url). */
static int looks_like_url(const char *s)
{
	size_t n = 0;

	if (!strncasecmp(s, "postgres:", 9) || !strncasecmp(s, "postgresql:", 11))
		return 1;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789+.-");
	return !strncmp(s + n, "://", 3);
}

/* Fill every option from flag > environment > default; check numbers. */
static int resolve(struct relay *r)
{
	for (int i = 0; i < O_COUNT; i++) {
		const char *env = getenv(opts[i].env);

		if (!r->val[i])
			r->val[i] = env && *env ? env : opts[i].def;
	}
	if (!r->val[O_DB])
		return error("relay: name the database with --db PATH (or"
			     " GREENLIGHT_RELAY_DB)");
	if (looks_like_url(r->val[O_DB]) && !store_is_url(r->val[O_DB])) {
		char shown[512];

		store_redact(r->val[O_DB], shown, sizeof(shown));
		return error("relay: --db \"%s\" is not a database the relay can"
			     " use: write --db PATH for a SQLite file (e.g."
			     " /var/lib/greenlight/relay.db) or a PostgreSQL URL"
			     " starting postgresql:// or postgres://", shown);
	}
	if (!r->val[O_TLS_CERT] != !r->val[O_TLS_KEY])
		return error("relay: --tls-cert and --tls-key go together");
	if (parse_duration(r->val[O_IDLE], &r->idle) || r->idle > 3600)
		return error("--idle-timeout \"%s\": write a duration like 30s"
			     " (at most 1h)", r->val[O_IDLE]);
	if (parse_duration(r->val[O_DEADLINE], &r->deadline) ||
	    r->deadline > 3600)
		return error("--request-deadline \"%s\": write a duration like"
			     " 10s (at most 1h)", r->val[O_DEADLINE]);
	if (parse_size(r->val[O_HEADER_BUFFER], &r->header_buffer) ||
	    r->header_buffer < HEADER_BUFFER_MIN ||
	    r->header_buffer > HEADER_BUFFER_MAX)
		return error("--header-buffer \"%s\": write a size from 4K to 1M,"
			     " like 16K", r->val[O_HEADER_BUFFER]);
	if (!strcmp(r->val[O_RETENTION], "0"))
		r->retention = 0;
	else if (parse_duration(r->val[O_RETENTION], &r->retention))
		return error("--retention \"%s\": write a duration like 90d, or 0"
			     " to keep settled requests for ever",
			     r->val[O_RETENTION]);
	/* prune ten times per retention period, at most once a second and at
	 * least once a minute */
	r->prune_ticks = PRUNE_TICKS_MAX;
	if (r->retention && r->retention * 1000 / 10 / TICK_MS < PRUNE_TICKS_MAX)
		r->prune_ticks = (unsigned)(r->retention * 1000 / 10 / TICK_MS);
	if (r->prune_ticks < SETTLE_TICKS)
		r->prune_ticks = SETTLE_TICKS;
	r->mail = (struct relay_mail){ r->val[O_SMTP], r->val[O_SMTP_TLS], r->val[O_FROM],
				       r->val[O_SMTP_USER_ENV], r->val[O_SMTP_PASSWORD_ENV],
				       r->val[O_SMTP_CA_FILE], r->val[O_SEND_TIMEOUT] };
	if (relay_notify_check(&r->mail))
		return -1;
	if (number(r, O_MAX_WAITERS, 1000000, &r->max_waiters) ||
	    number(r, O_MAX_CONNECTIONS, 1000000, &r->max_connections) ||
	    number(r, O_PER_IP, 1000000, &r->per_ip) ||
	    number(r, O_THREADS, 64, &r->threads))
		return -1;
	return 0;
}

/* ---- tokens and certificates ------------------------------------------ */

static int read_text(const char *path, size_t max, char **out)
{
	struct buf b = BUF_INIT(max);
	int rc = buf_read_file(&b, path);

	if (rc == BUF_TOOBIG)
		return error("'%s' is larger than %zu bytes", path, max);
	if (rc)
		return error("cannot read '%s': %s", path, strerror(errno));
	*out = buf_detach(&b, NULL);
	return 0;
}

static int load_tokens(struct relay *r)
{
	const char *path = r->val[O_TOKENS_FILE];
	const char *env = getenv("GREENLIGHT_RELAY_TOKENS");
	struct stat st;
	char *text = NULL;
	int n;

	if (!path) {
		if (!env || !*env)
			return error("relay: no bearer tokens; set"
				     " GREENLIGHT_RELAY_TOKENS or --tokens-file");
		return relay_api_set_tokens(r->api, env,
					    "GREENLIGHT_RELAY_TOKENS");
	}
	if (read_text(path, TOKENS_FILE_MAX, &text))
		return -1;
	if (!stat(path, &st) && (st.st_mode & 007))
		warning("'%s' can be read by every user; chmod o-rwx it", path);
	n = relay_api_set_tokens(r->api, text, path);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return n;
}

static void reload_tokens(struct relay *r)
{
	int n;

	if (!r->val[O_TOKENS_FILE]) {
		warning("SIGHUP: no --tokens-file to re-read; tokens unchanged");
		return;
	}
	n = load_tokens(r);
	if (n < 0)
		warning("SIGHUP: kept the bearer tokens in use");
	else
		fprintf(stderr, "greenlight relay: %d bearer token%s accepted"
			" now\n", n, n == 1 ? "" : "s");
}

static int load_tls(struct relay *r)
{
	if (!r->val[O_TLS_CERT])
		return 0;
	if (read_text(r->val[O_TLS_CERT], PEM_MAX, &r->cert) ||
	    read_text(r->val[O_TLS_KEY], PEM_MAX, &r->key))
		return -1;
	r->tls = 1;
	return 0;
}

static void release(struct relay *r)
{
	if (r->key)
		OPENSSL_cleanse(r->key, strlen(r->key));
	free(r->key);
	free(r->cert);
	r->key = r->cert = NULL;
}

/* ---- one relay per database ---------------------------------------------- */

/* Take the exclusive lock on "<database>.lock" (the database's real path,
 * so a second relay that names it through a symbolic link or another
 * relative path finds the same lock) and write our pid into it.  The
 * lock file stays when the relay stops: removing it would let a relay
 * starting at that moment lock a file nobody else will open again. */
static int lock_database(struct relay *r)
{
	char real[PATH_MAX], path[PATH_MAX + 8], pid[32] = "";
	const char *db = r->val[O_DB];
	ssize_t n;
	int fd;

	if (store_is_url(db))
		return 0;	/* PostgreSQL: several relays share it */
	if (realpath(db, real))
		db = real;
	if ((size_t)snprintf(path, sizeof(path), "%s.lock", db) >= sizeof(path))
		return error("relay: the database path '%s' is too long", db);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return error("relay: cannot open the lock file '%s': %s", path,
			     strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int busy = errno == EWOULDBLOCK;

		n = busy ? pread(fd, pid, sizeof(pid) - 1, 0) : -1;
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (busy)
			return error("relay: another greenlight relay%s%s%s is"
				     " serving '%s' (it holds '%s'); one relay per"
				     " database", *pid ? " (pid " : "", pid,
				     *pid ? ")" : "", db, path);
		return error("relay: cannot lock '%s': %s", path, strerror(errno));
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n)
		warning("cannot write the pid into '%s': %s", path, strerror(errno));
	r->lock_fd = fd;
	return 0;
}

/* ---- serving --------------------------------------------------------------- */

static struct web *start_web(struct relay *r)
{
	struct web_config wc = { 0 };

	wc.listen = r->val[O_LISTEN];
	wc.public_url = r->val[O_PUBLIC_URL];
	wc.store_path = r->val[O_DB];
	wc.on_decision = relay_api_decided;
	wc.on_response = relay_api_responded;
	wc.api = relay_api_handle;
	wc.api_done = relay_api_done;
	wc.healthy = relay_api_healthy;
	wc.ud = r->api;
	wc.max_connections = r->max_connections;
	wc.per_ip_connections = r->per_ip;
	wc.timeout_s = (unsigned)r->idle;
	wc.request_deadline_s = (unsigned)r->deadline;
	wc.threads = r->threads;
	wc.listen_backlog = RELAY_BACKLOG;
	wc.memory_limit = (size_t)r->header_buffer;
	wc.tls_cert_pem = r->cert;
	wc.tls_key_pem = r->key;
	return web_start(&wc);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void announce(const struct relay *r)
{
	const char *listen = r->val[O_LISTEN];
	const char *colon = strrchr(listen, ':');
	int hostlen = (int)(colon ? colon - listen : (long)strlen(listen));
	char shown[512];

	store_redact(r->val[O_DB], shown, sizeof(shown));
	fprintf(stderr, "greenlight relay: listening on %s://%.*s:%u"
		" (database %s)\n", r->tls ? "https" : "http", hostlen,
		listen, web_port(r->web), shown);
}

/* Retention: delete what was settled longer ago than --retention. */
static void prune(struct relay *r)
{
	time_t before;
	char when[32];
	long n;

	if (!r->retention)
		return;
	before = time(NULL) - (time_t)r->retention;
	n = relay_api_prune(r->api, before);
	if (n <= 0)
		return;
	format_rfc3339(before, when, sizeof(when));
	fprintf(stderr, "greenlight relay: retention %s: deleted %ld request%s"
		" settled before %s\n", r->val[O_RETENTION], n, n == 1 ? "" : "s",
		when);
}

/* Sweep until a stop signal. */
static void serve(struct relay *r)
{
	struct timespec tick = { 0, TICK_MS * 1000 * 1000 };
	unsigned n = 0;

	while (!stop_signal) {
		nanosleep(&tick, NULL);
		if (reload_signal) {
			reload_signal = 0;
			reload_tokens(r);
		}
		relay_api_sweep(r->api, ++n % SETTLE_TICKS == 0);
		if (n % r->prune_ticks == 0)
			prune(r);
	}
}

static int start(struct relay *r)
{
	struct relay_api_config ac = { 0 };
	long settled;

	ac.store_path = r->val[O_DB];
	ac.stores = r->threads;		/* one per worker; the sweep shares one */
	ac.max_waiters = r->max_waiters;
	ac.retention_s = r->retention;
	r->api = relay_api_new(&ac);
	if (!r->api)
		return GL_EXIT_INFRA;
	if (lock_database(r))
		return GL_EXIT_INFRA;
	if (load_tokens(r) < 0)
		return GL_EXIT_USAGE;
	if (load_tls(r))
		return GL_EXIT_USAGE;
	if (r->mail.smtp) {	/* forks its mail helper: before any thread */
		r->notify = relay_notify_start(r->val[O_DB], &r->mail);
		if (!r->notify)
			return GL_EXIT_INFRA;
	}
	settled = relay_api_sweep(r->api, 1);
	if (settled < 0)
		return GL_EXIT_INFRA;
	if (settled)
		fprintf(stderr, "greenlight relay: %ld request%s expired while"
			" the relay was down\n", settled, settled == 1 ? "" : "s");
	prune(r);
	r->web = start_web(r);
	release(r);
	if (!r->web)
		return GL_EXIT_INFRA;
	return GL_EXIT_PASS;
}

int cmd_relay(int argc, char **argv)
{
	struct relay r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.lock_fd = -1;
	rc = parse_args(&r, argc, argv);
	if (rc)
		return rc > 0 ? GL_EXIT_PASS : GL_EXIT_USAGE;
	if (resolve(&r))
		return GL_EXIT_USAGE;
	install_signals();
	rc = start(&r);
	if (rc == GL_EXIT_PASS) {
		announce(&r);
		serve(&r);
		fprintf(stderr, "greenlight relay: signal %d: answering %u"
			" waiting long-poll%s and stopping\n", (int)stop_signal,
			relay_api_waiters(r.api),
			relay_api_waiters(r.api) == 1 ? "" : "s");
		relay_api_shutdown(r.api);
		if (relay_api_drain(r.api, DRAIN_MS))
			warning("some long-polls were not answered in %d s",
				DRAIN_MS / 1000);
	}
	web_stop(r.web);
	relay_notify_stop(r.notify);
	relay_api_free(r.api);
	release(&r);
	if (r.lock_fd >= 0)
		close(r.lock_fd);	/* the next relay may start now */
	return rc;
}
