/* mailer.h - SMTP transport for composed messages (libESMTP 1.1.0).
 *
 * A struct mailer holds a parsed configuration and one OpenSSL SSL_CTX
 * (peer and host name verified) built once in mailer_new() and handed to
 * every libESMTP session.  mailer_send() carries all messages in one SMTP
 * session per attempt, run in a forked child process that the parent kills
 * at the attempt's hard deadline (libESMTP has no connect or DNS timeout).
 * Success is judged per message from the transfer and recipient status,
 * never from smtp_start_session().  4xx replies and connection failures are
 * retried with jittered exponential backoff inside the time budget; 5xx and
 * fatal session errors (no STARTTLS, bad certificate, failed AUTH) are not.
 * Credentials are passed in by the caller; the mailer never reads the
 * environment for them, never logs them, and with tls=starttls never lets
 * libESMTP offer them before TLS is up.  See docs/mail.md.
 */
#ifndef GREENLIGHT_MAILER_H
#define GREENLIGHT_MAILER_H

#include <signal.h>
#include <stddef.h>

enum mailer_tls {
	MAILER_TLS_STARTTLS = 0,	/* default: STARTTLS required + verified */
	MAILER_TLS_NONE,		/* plain SMTP: only when set explicitly */
};

#define MAILER_DEFAULT_PORT 587
#define MAILER_DEFAULT_TIMEOUT_MS 60000L	/* per attempt (one session) */
#define MAILER_DEFAULT_BUDGET_MS 300000L	/* all attempts and backoff */
#define MAILER_DEFAULT_ATTEMPTS 5
#define MAILER_DEFAULT_BACKOFF_MS 1000L		/* doubles, capped below */
#define MAILER_MAX_BACKOFF_MS 30000L
#define MAILER_MAX_CREDENTIAL 255		/* libESMTP's PLAIN/LOGIN limit */

struct mailer_config {
	const char *server;	/* "smtp://host[:port]" or "host[:port]" */
	enum mailer_tls tls;
	const char *ca_file;	/* PEM CAs to trust; NULL: OpenSSL's default
				 * store, which honours SSL_CERT_FILE/_DIR */
	const char *from;	/* "a@b" or "Name <a@b>" (mime_from_parse);
				 * MAIL FROM is the address alone */
	const char *username;	/* NULL: no AUTH */
	const char *password;	/* required with username */
	long timeout_ms;	/* hard deadline per attempt; 0: default */
	long budget_ms;		/* total time for all attempts; 0: default */
	int max_attempts;	/* 0: default */
	long backoff_ms;	/* first retry delay; 0: default */
	volatile sig_atomic_t *stop;	/* optional: once *stop is nonzero (a
					 * signal handler sets it), mailer_send
					 * ends within about 200 ms */
};

/* One message for one envelope recipient. */
struct mail_item {
	const char *to;		/* RCPT TO, an addr-spec */
	const char *data;	/* complete RFC 5322 message with CRLF */
	size_t len;
};

enum mail_status {
	MAIL_PENDING = 0,	/* never attempted (budget ran out first) */
	MAIL_SENT,		/* the server took responsibility (2xx) */
	MAIL_TEMPFAIL,		/* 4xx or connection trouble, retries used up */
	MAIL_PERMFAIL,		/* 5xx, bad address, or a fatal session error */
};

#define MAIL_TEXT_SIZE 256

struct mail_result {
	enum mail_status status;
	int code;		/* last SMTP reply code for it, 0 if none */
	int attempts;		/* sessions that tried to carry it */
	char text[MAIL_TEXT_SIZE];	/* reply or reason, printable ASCII */
};

struct mailer;

/* Parse a server spec into host (hostsize bytes) and *port.  Accepts
 * "smtp://host:port", "smtp://host" (port 587), "host:port" and "host".
 * Refuses smtps:// and port 465 (implicit TLS; libESMTP only speaks
 * STARTTLS), user info, paths and IPv6 literals.  Returns 0, or -1 with a
 * reason in err; host and *port are then unspecified. */
int mailer_parse_server(const char *spec, char *host, size_t hostsize,
			int *port, char *err, size_t errlen);

/* "starttls" or "none" (NULL means the default, starttls).  Returns 0, or
 * -1 for anything else (*out unchanged). */
int mailer_parse_tls(const char *s, enum mailer_tls *out);

/* Validate cfg, copy what it needs and build the TLS context.  Returns a
 * mailer, or NULL with a reason in err (nothing allocated).  Warns once on
 * stderr when credentials would travel without TLS (tls=none). */
struct mailer *mailer_new(const struct mailer_config *cfg, char *err,
			  size_t errlen);

/* Send n messages; results[i] receives the outcome of items[i] (always
 * filled, also on error).  Returns 0 when every message was accepted, else
 * -1 with a one-line summary in err (results say which failed and why).
 * Blocks for at most the budget (each attempt gets what is left of it, and
 * no retry starts whose backoff would pass it), or until *cfg->stop is set;
 * messages the server had not accepted by then are failures saying
 * "interrupted".  Forks one child per
 * attempt; the child never returns into the caller's code.  Prints one
 * warning per retry.  The mailer itself is unchanged. */
int mailer_send(struct mailer *m, const struct mail_item *items, size_t n,
		struct mail_result *results, char *err, size_t errlen);

/* Free the mailer and wipe its copy of the password.  NULL is a no-op. */
void mailer_free(struct mailer *m);

/* "sent", "temporary failure", ... for messages and logs. */
const char *mail_status_name(enum mail_status s);

#endif
