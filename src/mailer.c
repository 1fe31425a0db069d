/* mailer.c - SMTP transport over libESMTP 1.1.0 (see mailer.h, docs/mail.md).
 *
 * Reading order: configuration, the TLS context, the child side (one
 * libESMTP session: callbacks, verdicts, wire records), then the parent
 * side (fork, collect under a hard deadline, retry loop, summary).
 *
 * Ownership: the mailer owns copies of the strings it needs and one
 * SSL_CTX; each session takes its own reference (smtp_starttls_set_ctx).
 * The child writes fixed-size records (struct wire, < PIPE_BUF, so each
 * write is atomic) to a pipe: one per message as soon as the server has
 * answered for it, and one for the session at the end.  A record already
 * read survives the child being killed, so a message accepted before the
 * deadline is never sent again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "mailer.h"
#include "mime.h"
#include "token.h"
#include "util.h"

struct mailer {
	char host[256];
	char hostport[270];
	int port;
	enum mailer_tls tls;
	char *from;
	char *username;
	char *password;
	long timeout_ms;
	long budget_ms;
	long backoff_ms;
	int max_attempts;
	volatile sig_atomic_t *stop;
	SSL_CTX *ctx;
	char verify_err[160];	/* written by verify_cb, in the child only */
};

/* Printable ASCII copy of src[0..n): CR/LF/TAB become one space, other
 * bytes outside 32..126 become '?'. */
static void sanitize(char *dst, size_t size, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < size; i++) {
		char c = src[i];

		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		else if (c < 32 || c > 126)
			c = '?';
		if (c == ' ' && (!o || dst[o - 1] == ' '))
			continue;
		dst[o++] = c;
	}
	while (o && dst[o - 1] == ' ')
		o--;
	if (size)
		dst[o] = '\0';
}

static int has_prefix_ci(const char *s, const char *lower)
{
	for (; *lower; s++, lower++)
		if ((*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s) != *lower)
			return 0;
	return 1;
}

/* ---- configuration ------------------------------------------------------- */

static const char implicit_tls[] =
	"smtps:// and port 465 mean implicit TLS, which libESMTP does not "
	"support; use smtp://HOST:587 (STARTTLS)";

static int host_ok(const char *h, size_t n)
{
	if (!n || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-' ||
		      h[i] == '_'))
			return 0;
	return 1;
}

static int parse_port(const char *p, int *port)
{
	long v = 0;

	if (!*p)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > 65535)
			return -1;
	if ((*p && strcmp(p, "/")) || v < 1)
		return -1;
	*port = (int)v;
	return 0;
}

int mailer_parse_server(const char *spec, char *host, size_t hostsize,
			int *port, char *err, size_t errlen)
{
	const char *p = spec;
	size_t hn;

	if (!spec || !*spec)
		return fail_into(err, errlen, "SMTP server is not set");
	if (has_prefix_ci(spec, "smtps://"))
		return fail_into(err, errlen, "%s", implicit_tls);
	if (has_prefix_ci(spec, "smtp://"))
		p += 7;
	else if (strstr(spec, "://"))
		return fail_into(err, errlen, "SMTP server: unsupported scheme (use smtp://HOST:PORT)");
	if (strchr(p, '@'))
		return fail_into(err, errlen, "SMTP server: credentials do not belong in the URL; "
			    "pass them through the username/password environment variables");
	if (*p == '[')
		return fail_into(err, errlen, "SMTP server: IPv6 literals are not supported "
			    "by libESMTP; use a host name");
	hn = strcspn(p, ":/");
	if (!host_ok(p, hn) || hn >= hostsize)
		return fail_into(err, errlen, "SMTP server: bad host name (expected smtp://HOST:PORT)");
	memcpy(host, p, hn);
	host[hn] = '\0';
	*port = MAILER_DEFAULT_PORT;
	if (p[hn] == '/' && p[hn + 1])
		return fail_into(err, errlen, "SMTP server: a path is not allowed in the URL");
	if (p[hn] == ':' && parse_port(p + hn + 1, port))
		return fail_into(err, errlen, "SMTP server: bad port (expected 1-65535)");
	if (*port == 465)
		return fail_into(err, errlen, "%s", implicit_tls);
	return 0;
}

int mailer_parse_tls(const char *s, enum mailer_tls *out)
{
	if (!s || !strcmp(s, "starttls"))
		*out = MAILER_TLS_STARTTLS;
	else if (!strcmp(s, "none"))
		*out = MAILER_TLS_NONE;
	else
		return -1;
	return 0;
}

static int check_credentials(const struct mailer_config *c, char *err, size_t errlen)
{
	if (!c->username && !c->password)
		return 0;
	if (!c->username || !*c->username)
		return fail_into(err, errlen, "SMTP password given without a username");
	if (!c->password)
		return fail_into(err, errlen, "SMTP username given without a password");
	if (strlen(c->username) > MAILER_MAX_CREDENTIAL ||
	    strlen(c->password) > MAILER_MAX_CREDENTIAL)
		return fail_into(err, errlen, "SMTP username and password are limited to "
			    "%d bytes by libESMTP", MAILER_MAX_CREDENTIAL);
	return 0;
}

/* ---- TLS context ----------------------------------------------------------- */

/* Remember why verification failed, for the error message. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl;
	struct mailer *m = NULL;

	if (ok)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl)
		m = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (m && !m->verify_err[0])
		snprintf(m->verify_err, sizeof(m->verify_err), "%s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
	return 0;
}

static int make_ctx(struct mailer *m, const char *ca_file, char *err, size_t errlen)
{
	X509_VERIFY_PARAM *vp;
	unsigned char ip[4];
	int ok;

	m->ctx = SSL_CTX_new(TLS_client_method());
	if (!m->ctx)
		return fail_into(err, errlen, "cannot create a TLS context");
	/* TLS 1.2 only: after a TLS 1.3 handshake the server's NewSessionTicket
	 * makes the socket readable before libESMTP 1.1.0 has flushed its EHLO,
	 * and its protocol loop then waits for a reply to a command it never
	 * sent (see docs/mail.md).  TLS 1.2 tickets arrive inside the handshake. */
	SSL_CTX_set_min_proto_version(m->ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(m->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(m->ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_app_data(m->ctx, m);
	if (ca_file)
		ok = SSL_CTX_load_verify_locations(m->ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(m->ctx);
	if (ok != 1)
		return fail_into(err, errlen, "cannot load CA certificates from '%s'",
			    ca_file ? ca_file : "the system store");
	/* libESMTP's own name check knows DNS names only; OpenSSL checks
	 * the configured host (name or IPv4 address) during the handshake */
	vp = SSL_CTX_get0_param(m->ctx);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (inet_pton(AF_INET, m->host, ip) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(vp, m->host);
	else
		ok = X509_VERIFY_PARAM_set1_host(vp, m->host, 0);
	if (ok != 1)
		return fail_into(err, errlen, "cannot set the TLS host name to verify");
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct mailer *mailer_new(const struct mailer_config *c, char *err, size_t errlen)
{
	struct mailer *m = xcalloc(1, sizeof(*m));
	char sender[255];
	const char *why;
	int ok = 0;

	if (mailer_parse_server(c->server, m->host, sizeof(m->host), &m->port,
				err, errlen) ||
	    check_credentials(c, err, errlen))
		goto out;
	if (mime_from_parse(c->from, sender, NULL, &why)) {
		fail_into(err, errlen, "SMTP sender (from): %s", why);
		goto out;
	}
	snprintf(m->hostport, sizeof(m->hostport), "%s:%d", m->host, m->port);
	m->tls = c->tls;
	if (m->tls == MAILER_TLS_STARTTLS && make_ctx(m, c->ca_file, err, errlen))
		goto out;
	m->from = xstrdup(sender);	/* MAIL FROM: the address alone */
	m->username = dup_or_null(c->username);
	m->password = dup_or_null(c->password);
	m->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : MAILER_DEFAULT_TIMEOUT_MS;
	m->budget_ms = c->budget_ms > 0 ? c->budget_ms : MAILER_DEFAULT_BUDGET_MS;
	m->backoff_ms = c->backoff_ms > 0 ? c->backoff_ms : MAILER_DEFAULT_BACKOFF_MS;
	m->max_attempts = c->max_attempts > 0 ? c->max_attempts : MAILER_DEFAULT_ATTEMPTS;
	m->stop = c->stop;
	if (m->tls == MAILER_TLS_NONE && m->username)
		warning("tls is 'none': the SMTP password will cross the network unencrypted");
	ok = 1;
out:
	if (!ok) {
		mailer_free(m);
		m = NULL;
	}
	return m;
}

void mailer_free(struct mailer *m)
{
	if (!m)
		return;
	if (m->password)
		OPENSSL_cleanse(m->password, strlen(m->password));
	free(m->password);
	free(m->username);
	free(m->from);
	SSL_CTX_free(m->ctx);
	free(m);
}

const char *mail_status_name(enum mail_status s)
{
	switch (s) {
	case MAIL_SENT: return "sent";
	case MAIL_TEMPFAIL: return "temporary failure";
	case MAIL_PERMFAIL: return "permanent failure";
	case MAIL_PENDING: break;
	}
	return "not attempted";
}

/* ---- the child: one libESMTP session --------------------------------------- */

enum { WIRE_ITEM = 1, WIRE_SESSION = 2 };

/* One record on the pipe from child to parent. */
struct wire {
	int32_t kind;
	int32_t status;		/* enum mail_status (items) */
	int32_t code;		/* SMTP reply code, 0 if none */
	int32_t fatal;		/* session: retrying cannot help */
	uint64_t item;		/* index into the caller's items */
	char text[MAIL_TEXT_SIZE];
};

enum auth_state { AUTH_NONE, AUTH_WAIT, AUTH_OK, AUTH_FAILED };

/* A message as libESMTP reads it, through msg_cb. */
struct msgsrc {
	const char *data;
	size_t len;
	size_t off;
	size_t item;
	int reported;
};

struct sess {
	struct mailer *m;
	int fd;
	int tls_up;		/* STARTTLS handshake done and accepted */
	int no_starttls;	/* server did not offer STARTTLS */
	enum auth_state auth;
	int auth_code;
	char auth_text[MAIL_TEXT_SIZE];
	int fail_code;		/* last final reply >= 400 */
	char fail_text[MAIL_TEXT_SIZE];
	char tls_err[MAIL_TEXT_SIZE];
	char line[512];		/* reply line being assembled */
	size_t linelen;
};

static void put_wire(int fd, const struct wire *w)
{
	ssize_t k;

	do
		k = write(fd, w, sizeof(*w));
	while (k < 0 && errno == EINTR);
}

static const char *msg_cb(void **ctx, int *len, void *arg)
{
	struct msgsrc *src = arg;
	size_t n;

	(void)ctx;
	if (!len) {		/* rewind */
		src->off = 0;
		return NULL;
	}
	n = src->len - src->off;
	if (n > 65536)
		n = 65536;
	*len = (int)n;
	src->off += n;
	return n ? src->data + src->off - n : NULL;
}

/* "550 5.1.1 text" from a libESMTP status. */
static void status_text(char *dst, size_t size, const smtp_status_t *st)
{
	char raw[MAIL_TEXT_SIZE];

	if (st->enh_class)
		snprintf(raw, sizeof(raw), "%d %d.%d.%d %s", st->code, st->enh_class,
			 st->enh_subject, st->enh_detail, st->text ? st->text : "");
	else
		snprintf(raw, sizeof(raw), "%d %s", st->code, st->text ? st->text : "");
	sanitize(dst, size, raw, strlen(raw));
}

static void first_recipient(smtp_recipient_t r, const char *mailbox, void *arg)
{
	const smtp_status_t **out = arg;

	(void)mailbox;
	if (!*out)
		*out = smtp_recipient_status(r);
}

/* The outcome of one message; w->status stays MAIL_PENDING if the server
 * never answered for it. */
static void message_verdict(smtp_message_t msg, struct wire *w)
{
	const smtp_status_t *ms = smtp_message_transfer_status(msg);
	const smtp_status_t *rp = smtp_reverse_path_status(msg);
	const smtp_status_t *rs = NULL;
	const smtp_status_t *use = NULL;

	smtp_enumerate_recipients(msg, first_recipient, &rs);
	w->status = MAIL_PENDING;
	if (rp && rp->code >= 400)
		use = rp;			/* MAIL FROM refused */
	else if (rs && rs->code >= 400)
		use = rs;			/* RCPT TO refused */
	else if (ms && ms->code >= 400)
		use = ms;			/* DATA refused */
	else if (ms && ms->code / 100 == 2 && rs && rs->code / 100 == 2)
		use = ms, w->status = MAIL_SENT;
	if (!use)
		return;
	if (w->status != MAIL_SENT)
		w->status = use->code >= 500 ? MAIL_PERMFAIL : MAIL_TEMPFAIL;
	w->code = use->code;
	status_text(w->text, sizeof(w->text), use);
}

static void report_message(struct sess *s, smtp_message_t msg)
{
	struct msgsrc *src = smtp_message_get_application_data(msg);
	struct wire w;

	if (!src || src->reported)
		return;
	memset(&w, 0, sizeof(w));
	w.kind = WIRE_ITEM;
	w.item = src->item;
	message_verdict(msg, &w);
	if (w.status == MAIL_PENDING)
		return;
	src->reported = 1;
	put_wire(s->fd, &w);
	s->fail_code = 0;	/* failures so far belong to this message */
	s->fail_text[0] = '\0';
}

static void final_message(smtp_message_t msg, void *arg)
{
	report_message(arg, msg);
}

static int cert_ok(struct sess *s, SSL *ssl)
{
	/* reached when libESMTP's DNS-only name check disagrees; OpenSSL
	 * already verified chain and configured host in the handshake */
	if (ssl && SSL_get_verify_result(ssl) == X509_V_OK)
		return 1;
	snprintf(s->tls_err, sizeof(s->tls_err), "certificate does not match %.200s",
		 s->m->host);
	return 0;
}

static void on_event(smtp_session_t session, int ev, void *arg, ...)
{
	struct sess *s = arg;
	va_list ap;
	int *ok;

	(void)session;
	va_start(ap, arg);
	switch (ev) {
	case SMTP_EV_STARTTLS_OK:
		s->tls_up = 1;
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		s->no_starttls = 1;
		break;
	case SMTP_EV_MESSAGESENT:
		report_message(s, va_arg(ap, smtp_message_t));
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		(void)va_arg(ap, char *);
		*ok = cert_ok(s, va_arg(ap, SSL *));
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		(void)va_arg(ap, long);
		*va_arg(ap, int *) = 0;
		snprintf(s->tls_err, sizeof(s->tls_err), "invalid server certificate");
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
		*va_arg(ap, int *) = 0;
		snprintf(s->tls_err, sizeof(s->tls_err), "server sent no certificate");
		break;
	case SMTP_EV_WEAK_CIPHER:
		(void)va_arg(ap, int);
		*va_arg(ap, int *) = 0;
		snprintf(s->tls_err, sizeof(s->tls_err), "weak TLS cipher");
		break;
	}
	va_end(ap);
}

/* One complete reply line from the server (never a line we wrote). */
static void reply_line(struct sess *s, const char *line, size_t n)
{
	int code;

	if (n && line[n - 1] == '\r')
		n--;
	if (n < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return;
	if (n > 3 && line[3] == '-')
		return;			/* wait for the final line */
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (code >= 400) {
		s->fail_code = code;
		sanitize(s->fail_text, sizeof(s->fail_text), line, n);
	}
	if (s->auth == AUTH_WAIT && code / 100 != 3) {
		s->auth = code / 100 == 2 ? AUTH_OK : AUTH_FAILED;
		if (s->auth == AUTH_FAILED) {
			s->auth_code = code;
			sanitize(s->auth_text, sizeof(s->auth_text), line, n);
		}
	}
}

/* Watch the protocol: server replies in full, and of our own writes only
 * whether one starts an AUTH exchange (the rest may carry credentials). */
static void on_monitor(const char *buf, int len, int writing, void *arg)
{
	struct sess *s = arg;

	if (writing == SMTP_CB_WRITING) {
		if (len >= 5 && has_prefix_ci(buf, "auth "))
			s->auth = AUTH_WAIT;
		return;
	}
	if (writing != SMTP_CB_READING)
		return;
	for (int i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			reply_line(s, s->line, s->linelen);
			s->linelen = 0;
		} else if (s->linelen < sizeof(s->line) - 1) {
			s->line[s->linelen++] = buf[i];
		}
	}
}

/* Supply credentials to libESMTP's SASL plugins - never before TLS is up
 * unless tls=none was chosen explicitly. */
static int auth_interact(auth_client_request_t req, char **result, int fields,
			 void *arg)
{
	struct sess *s = arg;

	if (s->m->tls == MAILER_TLS_STARTTLS && !s->tls_up)
		return 0;
	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = s->m->username;
		else if (req[i].flags & AUTH_PASS)
			result[i] = s->m->password;
		else if (req[i].flags & AUTH_REALM)
			result[i] = (char *)"";
		else
			return 0;
	}
	return 1;
}

static const char no_starttls_msg[] =
	"server does not offer STARTTLS; refusing to send credentials in clear "
	"(set tls: none to allow plain SMTP)";

static void connect_error(struct mailer *m, int e, struct wire *w)
{
	char buf[128];
	const char *msg = smtp_strerror(e, buf, sizeof(buf));

	/* a name that does not resolve will not resolve in a second either */
	w->fatal = e == SMTP_ERR_EAI_NONAME || e == SMTP_ERR_EAI_FAIL ||
		   e == SMTP_ERR_EAI_NODATA || e == SMTP_ERR_EAI_ADDRFAMILY ||
		   e == SMTP_ERR_EAI_SERVICE;
	snprintf(w->text, sizeof(w->text), "cannot connect to %.120s: %.100s", m->hostport,
		 msg ? msg : "unknown error");
}

/* Why messages without a verdict were not sent; fatal if retrying the
 * same session cannot help. */
static void session_verdict(struct sess *s, int started, struct wire *w)
{
	struct mailer *m = s->m;
	int e = smtp_errno();
	char user[64], buf[128];

	memset(w, 0, sizeof(*w));
	w->kind = WIRE_SESSION;
	w->fatal = 1;
	if (s->no_starttls) {
		snprintf(w->text, sizeof(w->text), "%s", no_starttls_msg);
	} else if (m->verify_err[0]) {
		snprintf(w->text, sizeof(w->text), "TLS certificate of %.100s is not trusted: %.110s",
			 m->host, m->verify_err);
	} else if (s->tls_err[0]) {
		snprintf(w->text, sizeof(w->text), "TLS with %.100s failed: %.130s", m->host,
			 s->tls_err);
	} else if (s->auth == AUTH_FAILED) {
		sanitize(user, sizeof(user), m->username, strlen(m->username));
		w->code = s->auth_code;
		snprintf(w->text, sizeof(w->text), "authentication failed for user %.60s: %.150s",
			 user, s->auth_text);
	} else if (m->tls == MAILER_TLS_STARTTLS && !s->tls_up && started &&
		   e == SMTP_ERR_CLIENT_ERROR) {
		ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
		snprintf(w->text, sizeof(w->text), "TLS handshake with %.100s failed: %.120s",
			 m->host, buf);
	} else if (s->fail_code) {	/* e.g. 421 or 554 in the greeting */
		w->fatal = s->fail_code >= 500;
		w->code = s->fail_code;
		snprintf(w->text, sizeof(w->text), "%s", s->fail_text);
	} else if (!started) {
		connect_error(m, e, w);
	} else {
		w->fatal = 0;
		snprintf(w->text, sizeof(w->text), "session with %.120s ended early: %.100s",
			 m->hostport, smtp_strerror(e, buf, sizeof(buf)) ? buf : "no reason given");
	}
}

static void set_timeouts(smtp_session_t session, long ms)
{
	static const int which[] = { Timeout_GREETING, Timeout_ENVELOPE,
		Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };

	for (size_t i = 0; i < sizeof(which) / sizeof(*which); i++)
		smtp_set_timeout(session, which[i] | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
}

static int setup_session(smtp_session_t session, struct sess *s, long ms,
			 auth_context_t *auth)
{
	struct mailer *m = s->m;

	if (!smtp_set_server(session, m->hostport) ||
	    !smtp_set_eventcb(session, on_event, s) ||
	    !smtp_set_monitorcb(session, on_monitor, s, 0))
		return -1;
	set_timeouts(session, ms);
	if (m->tls == MAILER_TLS_STARTTLS) {
		if (!smtp_starttls_set_ctx(session, m->ctx) ||
		    !smtp_starttls_enable(session, Starttls_REQUIRED))
			return -1;
	} else if (!smtp_starttls_enable(session, Starttls_DISABLED)) {
		return -1;
	}
	if (!m->username)
		return 0;
	*auth = auth_create_context();
	if (!*auth || !auth_set_mechanism_flags(*auth, AUTH_PLUGIN_PLAIN, 0) ||
	    !auth_set_interact_cb(*auth, auth_interact, s) ||
	    !smtp_auth_set_context(session, *auth))
		return -1;
	return 0;
}

static int add_messages(smtp_session_t session, struct msgsrc *src,
			const struct mail_item *items, const size_t *idx,
			size_t n, const char *from)
{
	for (size_t i = 0; i < n; i++) {
		smtp_message_t msg = smtp_add_message(session);

		src[i].data = items[idx[i]].data;
		src[i].len = items[idx[i]].len;
		src[i].item = idx[i];
		if (!msg || !smtp_set_reverse_path(msg, from) ||
		    !smtp_add_recipient(msg, items[idx[i]].to) ||
		    !smtp_set_messagecb(msg, msg_cb, &src[i]))
			return -1;
		smtp_message_set_application_data_release(msg, &src[i], NULL);
	}
	return 0;
}

/* Runs in the child: one session carrying items idx[0..n), verdicts to fd. */
static void child_run(struct mailer *m, const struct mail_item *items,
		      const size_t *idx, size_t n, long ms, int fd)
{
	smtp_session_t session = smtp_create_session();
	auth_context_t auth = NULL;
	struct msgsrc *src = calloc(n, sizeof(*src));
	struct sess s;
	struct wire w;
	int started = 0, ready = 0;

	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)(ms / 1000 + 2));	/* in case the parent is gone */
	memset(&s, 0, sizeof(s));
	s.m = m;
	s.fd = fd;
	if (session && src && !setup_session(session, &s, ms, &auth) &&
	    !add_messages(session, src, items, idx, n, m->from)) {
		ready = 1;
		started = smtp_start_session(session);
		smtp_enumerate_messages(session, final_message, &s);
	}
	session_verdict(&s, started, &w);
	if (!ready)
		snprintf(w.text, sizeof(w.text), "cannot set up an SMTP session (out of memory?)");
	put_wire(fd, &w);
	if (session)
		smtp_destroy_session(session);
	if (auth)
		auth_destroy_context(auth);
	free(src);
}

/* ---- the parent: deadline, retries, results ------------------------------- */

struct attempt {
	struct wire session;
	int got_session;
	int killed;
	int stopped;		/* killed because the caller asked to stop */
	int signal;		/* the child died of this signal, or 0 */
};

#define STOP_POLL_MS 200	/* how often a wait looks at *stop */

static int stopped(const struct mailer *m)
{
	return m->stop && *m->stop;
}

/* Signed, so that deadlines can be compared by subtraction. */
static long now_ms(void)
{
	return (long)mono_ms();
}

static void apply(const struct wire *w, size_t n, struct mail_result *results,
		  struct attempt *a)
{
	struct mail_result *r;

	if (w->kind == WIRE_SESSION) {
		a->session = *w;
		a->session.text[MAIL_TEXT_SIZE - 1] = '\0';
		a->got_session = 1;
		return;
	}
	if (w->kind != WIRE_ITEM || w->item >= n || w->status <= MAIL_PENDING ||
	    w->status > MAIL_PERMFAIL)
		return;
	r = &results[w->item];
	r->status = (enum mail_status)w->status;
	r->code = w->code;
	memcpy(r->text, w->text, sizeof(r->text));
	r->text[sizeof(r->text) - 1] = '\0';
}

/* Read records until the child closes the pipe or the deadline passes;
 * then kill (if late) and reap it. */
static void collect(const struct mailer *m, int fd, pid_t pid, long end,
		    size_t n, struct mail_result *results, struct attempt *a)
{
	struct wire w;
	size_t have = 0;
	ssize_t k;
	int status = 0, r;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long left = end - now_ms();

		if (left <= 0 || stopped(m)) {
			a->killed = 1;
			a->stopped = left > 0;
			break;
		}
		r = poll(&p, 1, left > STOP_POLL_MS ? STOP_POLL_MS : (int)left);
		if (r <= 0)
			continue;	/* timeout or EINTR: recheck the clock */
		k = read(fd, (char *)&w + have, sizeof(w) - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
		if (have == sizeof(w)) {
			apply(&w, n, results, a);
			have = 0;
		}
	}
	if (a->killed)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status) && !a->killed)
		a->signal = WTERMSIG(status);
}

/* Messages still to send go to idx; returns how many. */
static size_t pending(const struct mail_result *r, size_t n, size_t *idx)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (r[i].status == MAIL_PENDING || r[i].status == MAIL_TEMPFAIL)
			idx[k++] = i;
	return k;
}

/* Give the messages the attempt left without a verdict their reason. */
static void settle(struct mail_result *results, const size_t *idx, size_t k,
		   const struct attempt *a, long ms)
{
	for (size_t i = 0; i < k; i++) {
		struct mail_result *r = &results[idx[i]];

		if (r->status == MAIL_SENT)
			continue;
		if (a->got_session && a->session.fatal) {
			r->status = MAIL_PERMFAIL;
			r->code = a->session.code;
			memcpy(r->text, a->session.text, sizeof(r->text));
		} else if (r->status == MAIL_PENDING) {
			r->status = MAIL_TEMPFAIL;
			r->code = a->got_session ? a->session.code : 0;
			if (a->stopped)
				snprintf(r->text, sizeof(r->text), "interrupted before "
					 "the server accepted it");
			else if (a->killed)
				snprintf(r->text, sizeof(r->text), "no answer within %ld ms; "
					 "the attempt was stopped at its deadline", ms);
			else if (!a->got_session)
				snprintf(r->text, sizeof(r->text), "SMTP session process "
					 "died (signal %d)", a->signal);
			else
				memcpy(r->text, a->session.text, sizeof(r->text));
		}
	}
}

/* One SMTP session in a child process, killed after ms milliseconds.
 * Returns 1 if the failure is fatal (do not retry). */
static int attempt_once(struct mailer *m, const struct mail_item *items, size_t n,
			struct mail_result *results, const size_t *idx, size_t k,
			long ms)
{
	struct attempt a;
	int fds[2];
	pid_t pid;

	memset(&a, 0, sizeof(a));
	for (size_t i = 0; i < k; i++) {
		results[idx[i]].status = MAIL_PENDING;
		results[idx[i]].attempts++;
	}
	if (pipe(fds)) {
		snprintf(a.session.text, sizeof(a.session.text), "cannot create a pipe: %s",
			 strerror(errno));
		a.got_session = 1;
		settle(results, idx, k, &a, ms);
		return 0;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child_run(m, items, idx, k, ms, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0) {
		snprintf(a.session.text, sizeof(a.session.text), "cannot fork: %s",
			 strerror(errno));
		a.got_session = 1;
	} else {
		collect(m, fds[0], pid, now_ms() + ms, n, results, &a);
	}
	close(fds[0]);
	settle(results, idx, k, &a, ms);
	return a.got_session && a.session.fatal;
}

/* Full jitter in [delay/2, delay]. */
static long jitter(long delay)
{
	uint32_t r = 0;

	token_random_bytes(&r, sizeof(r));
	return delay / 2 + (long)(r % (uint32_t)(delay / 2 + 1));
}

/* Sleep ms milliseconds, in slices, unless asked to stop. */
static void sleep_ms(const struct mailer *m, long ms)
{
	long end = now_ms() + ms, left;

	while (!stopped(m) && (left = end - now_ms()) > 0) {
		if (left > STOP_POLL_MS)
			left = STOP_POLL_MS;
		nanosleep(&(struct timespec){ left / 1000, (left % 1000) * 1000000L }, NULL);
	}
}

static void init_results(const struct mail_item *items, size_t n,
			 struct mail_result *results)
{
	memset(results, 0, n * sizeof(*results));
	for (size_t i = 0; i < n; i++) {
		if (!mime_addr_ok(items[i].to)) {
			results[i].status = MAIL_PERMFAIL;
			snprintf(results[i].text, sizeof(results[i].text),
				 "not a plain recipient address (local@domain)");
		} else if (!items[i].data || !items[i].len || items[i].len > 0x7fffffff) {
			results[i].status = MAIL_PERMFAIL;
			snprintf(results[i].text, sizeof(results[i].text), "empty or oversized message");
		}
	}
}

static int summarize(const struct mail_item *items, const struct mail_result *r,
		     size_t n, int attempts, char *err, size_t errlen)
{
	size_t bad = 0, first = n;
	char to[64];

	for (size_t i = 0; i < n; i++)
		if (r[i].status != MAIL_SENT && !bad++)
			first = i;
	if (!bad)
		return 0;
	sanitize(to, sizeof(to), items[first].to ? items[first].to : "",
		 items[first].to ? strlen(items[first].to) : 0);
	if (n == 1)
		return fail_into(err, errlen, "mail to %s not delivered (%d attempt%s): %s",
			    to, attempts, attempts == 1 ? "" : "s", r[first].text);
	return fail_into(err, errlen, "%zu of %zu messages not delivered (%d attempt%s); "
		    "%s: %s", bad, n, attempts, attempts == 1 ? "" : "s", to,
		    r[first].text);
}

int mailer_send(struct mailer *m, const struct mail_item *items, size_t n,
		struct mail_result *results, char *err, size_t errlen)
{
	size_t *idx = xcalloc(n ? n : 1, sizeof(*idx));
	long end = now_ms() + m->budget_ms, delay = m->backoff_ms, left, wait;
	int attempt = 0;
	size_t k;

	init_results(items, n, results);
	while ((k = pending(results, n, idx)) && (left = end - now_ms()) > 0 &&
	       !stopped(m)) {
		if (attempt > 0) {
			wait = jitter(delay);
			delay = delay * 2 > MAILER_MAX_BACKOFF_MS ? MAILER_MAX_BACKOFF_MS : delay * 2;
			if (attempt >= m->max_attempts || wait >= left)
				break;
			warning("mail: %zu message%s not delivered yet (%s); retrying in %ld ms",
				k, k == 1 ? "" : "s", results[idx[0]].text, wait);
			sleep_ms(m, wait);
			left = end - now_ms();
			if (left <= 0 || stopped(m))
				break;
		}
		attempt++;
		if (attempt_once(m, items, n, results, idx, k,
				 left < m->timeout_ms ? left : m->timeout_ms))
			break;
	}
	for (size_t i = 0; i < n; i++)
		if (results[i].status == MAIL_PENDING && !results[i].attempts)
			snprintf(results[i].text, sizeof(results[i].text),
				 "not attempted: %s", stopped(m) ? "interrupted" :
				 "the time budget was used up");
	free(idx);
	return summarize(items, results, n, attempt, err, errlen);
}
