/* test_mailer.c - src/mailer.c against a real SMTP server.
 *
 * Configuration parsing is tested directly.  Everything else sends real
 * mail through libESMTP to tests/integration/smtp_server.py (aiosmtpd under
 * Debian's /usr/bin/python3, STARTTLS + AUTH, a throw-away CA made by
 * make_ca.sh), started per test with the fault mode under test.  Received
 * messages are checked by tests/integration/check_mail.py with Python's
 * email package.  Only a missing python3-aiosmtpd or openssl makes the
 * server tests skip, and they say so; a rig that fails to start fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "buf.h"
#include "mailer.h"
#include "mime.h"
#include "token.h"

#define PY "/usr/bin/python3"
#define FROM "greenlight@example.com"
#define USER "greenlight"
#define PASS "s3cret-Pa55"
#define SUBJECT "acme/model: <script>alert(1)</script>latencyMs 225 > 80 " \
	"\xe2\x80\x94 review"
#define DISPLAY_FROM "Release Gate <" FROM ">"

static int stop_live(void **state);

static char srcdir[2048];
static char base[64];		/* temp dir for CAs and rigs */
static int have_rig;

/* ---- processes ------------------------------------------------------------ */

static int run(const char *const argv[], int quiet)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void find_srcdir(void)
{
	const char *env = getenv("SRCDIR");
	char *p;

	snprintf(srcdir, sizeof(srcdir), "%s", env ? env : __FILE__);
	if (!env && (p = strstr(srcdir, "/tests/unit/test_mailer.c")))
		*p = '\0';
}

static int group_setup(void **state)
{
	static const char *probe_py[] = { PY, "-c", "import aiosmtpd", NULL };
	static const char *probe_ssl[] = { "openssl", "version", NULL };
	char script[2200], ca[128];
	const char *argv[] = { "sh", script, ca, NULL };
	(void)state;

	find_srcdir();
	have_rig = run(probe_py, 1) == 0 && run(probe_ssl, 1) == 0;
	if (!have_rig) {
		fprintf(stderr, "SKIP: server tests need python3-aiosmtpd under %s "
			"and openssl (apt-get install python3-aiosmtpd openssl)\n", PY);
		return 0;
	}
	snprintf(base, sizeof(base), "/tmp/gl-mailer-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(script, sizeof(script), "%s/tests/integration/make_ca.sh", srcdir);
	snprintf(ca, sizeof(ca), "%s/ca", base);
	if (run(argv, 0))
		return -1;
	snprintf(ca, sizeof(ca), "%s/otherca", base);
	return run(argv, 0) ? -1 : 0;
}

static int group_teardown(void **state)
{
	const char *argv[] = { "rm", "-rf", base, NULL };
	(void)state;

	stop_live(state);
	if (base[0])
		run(argv, 0);
	return 0;
}

/* ---- the SMTP rig ---------------------------------------------------------- */

struct rig {
	pid_t pid;
	int port;
	char dir[128];
	char mail[160];
	char authlog[160];
};

static struct rig *live;	/* the rig running now, if any */

static void rig_start(struct rig *r, const char *const *extra)
{
	static int seq;
	char script[2200], portfile[160], certdir[128];
	const char *argv[32] = { PY, script, "--dir", r->mail, "--port-file", portfile,
		"--certdir", certdir, "--log-auth", r->authlog, "--user", USER,
		"--password", PASS };
	size_t n = 14;
	FILE *f;

	if (!have_rig)
		skip();
	memset(r, 0, sizeof(*r));
	live = r;
	snprintf(r->dir, sizeof(r->dir), "%s/rig%d", base, ++seq);
	snprintf(r->mail, sizeof(r->mail), "%s/mail", r->dir);
	snprintf(r->authlog, sizeof(r->authlog), "%s/auth.log", r->dir);
	snprintf(portfile, sizeof(portfile), "%s/port", r->dir);
	snprintf(certdir, sizeof(certdir), "%s/ca", base);
	snprintf(script, sizeof(script), "%s/tests/integration/smtp_server.py", srcdir);
	mkdir(r->dir, 0700);
	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	r->pid = fork();
	if (r->pid == 0) {
		execv(PY, (char *const *)argv);
		_exit(127);
	}
	assert_true(r->pid > 0);
	for (int i = 0; i < 300 && !(f = fopen(portfile, "r")); i++) {
		int status;

		if (waitpid(r->pid, &status, WNOHANG) == r->pid)
			fail_msg("SMTP rig exited before listening");
		nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	}
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &r->port), 1);
	fclose(f);
}

static void rig_stop(struct rig *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
	live = NULL;
}

/* Per-test teardown: a failed assertion must not leave a rig running. */
static int stop_live(void **state)
{
	(void)state;
	if (live)
		rig_stop(live);
	return 0;
}

static int count_suffix(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		n += l > s && !strcmp(de->d_name + l - s, suffix);
	}
	if (d)
		closedir(d);
	return n;
}

/* AUTH commands the rig saw; *in_clear counts those before TLS. */
static int auth_attempts(const struct rig *r, int *in_clear)
{
	char line[256];
	FILE *f = fopen(r->authlog, "r");
	int n = 0;

	*in_clear = 0;
	while (f && fgets(line, sizeof(line), f)) {
		n++;
		*in_clear += strstr(line, "\"tls\": false") != NULL;
	}
	if (f)
		fclose(f);
	return n;
}

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT(1 << 20);

	assert_int_equal(buf_read_file(&b, path), 0);
	return buf_detach(&b, NULL);
}

/* ---- messages and mailers -------------------------------------------------- */

struct msg {
	struct buf data;
	char link[128];
	char msgid[MIME_MSGID_SIZE];
};

static const char *msg_from = FROM;	/* the From header of make_msg */

static void make_msg(struct msg *m, const char *to)
{
	static const struct mime_rule rule = {
		"<script>alert(1)</script>latencyMs", "225", ">", "80", NULL, NULL, NULL };
	char token[TOKEN_SIZE], boundary[TOKEN_BOUNDARY_SIZE], err[200];
	struct mime_facts f;

	memset(&f, 0, sizeof(f));
	m->data = (struct buf)BUF_INIT(MIME_MAX_MESSAGE);
	assert_int_equal(token_new(token), 0);
	assert_int_equal(token_boundary(boundary), 0);
	snprintf(m->link, sizeof(m->link), "http://127.0.0.1:8080/r/%s", token);
	assert_int_equal(mime_message_id(m->msgid, "request-42", to), 0);
	f.gate = "model-release";
	f.subject = SUBJECT;
	f.team = "engineering";
	f.team_reason = "choices[2] ($.latencyMs > 80) routes to engineering";
	f.rules = &rule;
	f.nrules = 1;
	f.commit_sha = "3f2a9c1e8b7d6c5a4f3e2d1c0b9a8f7e6d5c4b3a";
	f.author_name = "Ann Example";
	f.author_email = "ann@example.com";
	f.commit_subject = "x\r\nBcc: x@evil";
	f.branch = "main";
	f.deadline = "2030-01-01T00:00:00Z";
	f.review_url = m->link;
	f.from = msg_from;
	f.to = to;
	f.message_id = m->msgid;
	f.date = "Wed, 01 May 2024 10:40:00 +0000";
	if (mime_compose(&m->data, &f, boundary, err, sizeof(err)))
		fail_msg("compose: %s", err);
}

static void base_config(struct mailer_config *c, char *server, size_t size,
			char *ca, size_t casize, int port)
{
	memset(c, 0, sizeof(*c));
	snprintf(server, size, "smtp://127.0.0.1:%d", port);
	snprintf(ca, casize, "%s/ca/ca.pem", base);
	c->server = server;
	c->ca_file = ca;
	c->from = FROM;
	c->username = USER;
	c->password = PASS;
	c->timeout_ms = 10000;
	c->budget_ms = 20000;
	c->max_attempts = 3;
	c->backoff_ms = 100;
}

/* Send one message per address; results and err are the caller's. */
static int send_to(const struct mailer_config *c, const char *const *to, size_t n,
		   struct msg *msgs, struct mail_result *res, char *err, size_t errlen)
{
	struct mail_item items[8];
	struct mailer *m;
	char e[256];
	int ret;

	assert_true(n <= 8);
	m = mailer_new(c, e, sizeof(e));
	if (!m)
		fail_msg("mailer_new: %s", e);
	for (size_t i = 0; i < n; i++) {
		make_msg(&msgs[i], to[i]);
		items[i].to = to[i];
		items[i].data = msgs[i].data.data;
		items[i].len = msgs[i].data.len;
	}
	ret = mailer_send(m, items, n, res, err, errlen);
	mailer_free(m);
	return ret;
}

static void release_msgs(struct msg *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_release(&msgs[i].data);
}

/* ---- configuration ------------------------------------------------------- */

static void test_parse_server(void **state)
{
	char host[256], err[256];
	int port;
	enum mailer_tls tls = MAILER_TLS_NONE;
	(void)state;

	assert_int_equal(mailer_parse_server("smtp://mail.example.com:2525", host,
					     sizeof(host), &port, err, sizeof(err)), 0);
	assert_string_equal(host, "mail.example.com");
	assert_int_equal(port, 2525);
	assert_int_equal(mailer_parse_server("smtp://mail.example.com", host,
					     sizeof(host), &port, err, sizeof(err)), 0);
	assert_int_equal(port, 587);
	assert_int_equal(mailer_parse_server("SMTP://mail.example.com:25/", host,
					     sizeof(host), &port, err, sizeof(err)), 0);
	assert_int_equal(port, 25);
	assert_int_equal(mailer_parse_server("127.0.0.1:1025", host, sizeof(host),
					     &port, err, sizeof(err)), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 1025);
	assert_int_equal(mailer_parse_server("localhost", host, sizeof(host), &port,
					     err, sizeof(err)), 0);
	assert_int_equal(port, 587);

	assert_int_equal(mailer_parse_server("smtps://mail.example.com", host,
					     sizeof(host), &port, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "implicit TLS"));
	assert_int_equal(mailer_parse_server("mail.example.com:465", host,
					     sizeof(host), &port, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "implicit TLS"));
	assert_int_equal(mailer_parse_server("smtp://u:pw@mail.example.com", host,
					     sizeof(host), &port, err, sizeof(err)), -1);
	assert_null(strstr(err, "pw"));		/* never echo credentials */
	static const char *bad[] = { "", "http://x", "smtp://", "smtp://x:0",
		"smtp://x:65536", "smtp://x:25x", "smtp://[::1]:25", "smtp://x/path",
		"smtp://a b", "x\r\n:25" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(mailer_parse_server(bad[i], host, sizeof(host), &port,
						     err, sizeof(err)), -1);
	assert_int_equal(mailer_parse_server(NULL, host, sizeof(host), &port, err,
					     sizeof(err)), -1);

	assert_int_equal(mailer_parse_tls(NULL, &tls), 0);
	assert_int_equal(tls, MAILER_TLS_STARTTLS);
	assert_int_equal(mailer_parse_tls("none", &tls), 0);
	assert_int_equal(tls, MAILER_TLS_NONE);
	assert_int_equal(mailer_parse_tls("starttls", &tls), 0);
	assert_int_equal(tls, MAILER_TLS_STARTTLS);
	assert_int_equal(mailer_parse_tls("ssl", &tls), -1);
}

static void test_new_rejects(void **state)
{
	struct mailer_config c;
	char err[256], longpw[300];
	struct mailer *m;
	(void)state;

	memset(&c, 0, sizeof(c));
	c.server = "smtp://127.0.0.1:2525";
	c.from = "bad from";
	assert_null(mailer_new(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "from"));
	c.from = "a@example.com, b@example.com";	/* two senders */
	assert_null(mailer_new(&c, err, sizeof(err)));
	c.from = "Gate <a@example.com";			/* unbalanced */
	assert_null(mailer_new(&c, err, sizeof(err)));
	c.from = "Gate <a@example.com>\r\nBcc: x@evil";
	assert_null(mailer_new(&c, err, sizeof(err)));
	c.from = FROM;
	c.username = USER;
	assert_null(mailer_new(&c, err, sizeof(err)));	/* no password */
	memset(longpw, 'p', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	c.password = longpw;
	assert_null(mailer_new(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "255"));
	c.password = PASS;
	c.ca_file = "/nonexistent/ca.pem";
	assert_null(mailer_new(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "CA"));
	c.ca_file = NULL;		/* system store */
	m = mailer_new(&c, err, sizeof(err));
	assert_non_null(m);
	mailer_free(m);
	mailer_free(NULL);
}

/* ---- against the rig ------------------------------------------------------ */

static void check_received(const struct rig *r, int seq, const char *to,
			   const struct msg *m)
{
	char eml[200], json[200], script[2200];
	char *meta;
	const char *argv[] = { PY, script, eml, "--to", to, "--from", FROM,
		"--subject", SUBJECT, "--link", m->link, "--message-id", m->msgid,
		"--absent-header", "Bcc", "--absent-header", "X-Injected",
		"--text-contains", "Subject: x Bcc: x@evil",
		"--html-contains", "&lt;script&gt;alert(1)&lt;/script&gt;latencyMs",
		"--html-absent", "<script", NULL };

	snprintf(script, sizeof(script), "%s/tests/integration/check_mail.py", srcdir);
	snprintf(eml, sizeof(eml), "%s/%04d.eml", r->mail, seq);
	snprintf(json, sizeof(json), "%s/%04d.json", r->mail, seq);
	assert_int_equal(run(argv, 0), 0);
	meta = slurp(json);
	assert_non_null(strstr(meta, "\"mail_from\": \"" FROM "\""));
	assert_non_null(strstr(meta, "\"tls\": true"));
	assert_non_null(strstr(meta, "\"auth_login\": \"" USER "\""));
	assert_non_null(strstr(meta, to));
	free(meta);
}

static void test_send_starttls_auth(void **state)
{
	static const char *to[] = { "eng@example.com", "research@example.com",
		"lead@example.com" };
	struct mailer_config c;
	struct mail_result res[3];
	struct msg msgs[3];
	struct rig r;
	char server[64], ca[128], err[512];
	int clear;
	(void)state;

	rig_start(&r, NULL);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	assert_int_equal(send_to(&c, to, 3, msgs, res, err, sizeof(err)), 0);
	rig_stop(&r);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(res[i].status, MAIL_SENT);
		assert_int_equal(res[i].code, 250);
		assert_int_equal(res[i].attempts, 1);
		check_received(&r, i + 1, to[i], &msgs[i]);
	}
	assert_int_equal(count_suffix(r.mail, ".eml"), 3);
	assert_int_equal(auth_attempts(&r, &clear), 1);	/* one session */
	assert_int_equal(clear, 0);
	release_msgs(msgs, 3);
}

/* A From with a display name: the header keeps the name, the envelope
 * (MAIL FROM) carries the address alone. */
static void test_display_name_from(void **state)
{
	static const char *to[] = { "eng@example.com" };
	static const char script[] =
		"import email, sys\n"
		"from email import policy\n"
		"m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)\n"
		"a = m['From'].addresses[0]\n"
		"sys.exit(not (a.display_name == 'Release Gate' and a.addr_spec == sys.argv[2]))\n";
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	struct rig r;
	char server[64], ca[128], err[512], eml[200], json[200];
	const char *argv[] = { PY, "-c", script, eml, FROM, NULL };
	char *meta;
	(void)state;

	rig_start(&r, NULL);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	c.from = DISPLAY_FROM;
	msg_from = DISPLAY_FROM;
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), 0);
	msg_from = FROM;
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_SENT);
	snprintf(eml, sizeof(eml), "%s/0001.eml", r.mail);
	snprintf(json, sizeof(json), "%s/0001.json", r.mail);
	meta = slurp(json);
	assert_non_null(strstr(meta, "\"mail_from\": \"" FROM "\""));
	free(meta);
	assert_int_equal(run(argv, 0), 0);
	release_msgs(msgs, 1);
}

static void test_server_down_retries(void **state)
{
	static const char *to[] = { "eng@example.com" };
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	char server[64], ca[128], err[512];
	long t0;
	int fd;
	(void)state;

	if (!have_rig)
		skip();
	/* a port that nothing listens on: bind, learn it, close */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), ntohs(sa.sin_port));
	c.budget_ms = 5000;
	t0 = now_ms();
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(res[0].status, MAIL_TEMPFAIL);
	assert_int_equal(res[0].attempts, 3);
	assert_non_null(strstr(res[0].text, "cannot connect to 127.0.0.1:"));
	assert_non_null(strstr(res[0].text, "refused"));
	assert_non_null(strstr(err, "3 attempts"));
	release_msgs(msgs, 1);
}

static void test_451_then_success(void **state)
{
	static const char *to[] = { "eng@example.com" };
	static const char *extra[] = { "--fail-first", "1", "--code", "451", NULL };
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	struct rig r;
	char server[64], ca[128], err[512];
	(void)state;

	rig_start(&r, extra);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), 0);
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_SENT);
	assert_int_equal(res[0].attempts, 2);
	assert_int_equal(count_suffix(r.mail, ".eml"), 1);
	check_received(&r, 1, to[0], &msgs[0]);
	release_msgs(msgs, 1);
}

static void test_550_fails_at_once(void **state)
{
	static const char *to[] = { "eng@example.com" };
	static const char *extra[] = { "--code", "550", NULL };
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	struct rig r;
	char server[64], ca[128], err[512];
	(void)state;

	rig_start(&r, extra);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_PERMFAIL);
	assert_int_equal(res[0].code, 550);
	assert_int_equal(res[0].attempts, 1);
	assert_string_equal(res[0].text, "550 5.7.1 Message rejected by policy");
	assert_non_null(strstr(err, "550 5.7.1 Message rejected by policy"));
	assert_int_equal(count_suffix(r.mail, ".eml"), 0);
	release_msgs(msgs, 1);
}

static void test_one_bad_recipient(void **state)
{
	static const char *to[] = { "eng@example.com", "nobody@example.com",
		"research@example.com" };
	static const char *extra[] = { "--reject-rcpt", "nobody@example.com", NULL };
	struct mailer_config c;
	struct mail_result res[3];
	struct msg msgs[3];
	struct rig r;
	char server[64], ca[128], err[512];
	(void)state;

	rig_start(&r, extra);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	assert_int_equal(send_to(&c, to, 3, msgs, res, err, sizeof(err)), -1);
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_SENT);
	assert_int_equal(res[1].status, MAIL_PERMFAIL);
	assert_int_equal(res[1].code, 550);
	assert_non_null(strstr(res[1].text, "User unknown"));
	assert_int_equal(res[2].status, MAIL_SENT);
	for (int i = 0; i < 3; i++)
		assert_int_equal(res[i].attempts, 1);
	assert_non_null(strstr(err, "1 of 3 messages not delivered"));
	assert_non_null(strstr(err, "nobody@example.com"));
	assert_int_equal(count_suffix(r.mail, ".eml"), 2);
	check_received(&r, 1, to[0], &msgs[0]);
	check_received(&r, 2, to[2], &msgs[2]);
	release_msgs(msgs, 3);
}

static void test_wrong_password(void **state)
{
	static const char *to[] = { "eng@example.com" };
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	struct rig r;
	char server[64], ca[128], err[512];
	int clear;
	(void)state;

	rig_start(&r, NULL);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	c.password = "Wrong-Horse-Battery";
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_PERMFAIL);
	assert_int_equal(res[0].attempts, 1);
	assert_int_equal(res[0].code, 535);
	assert_non_null(strstr(res[0].text, "authentication failed for user " USER ": 535"));
	assert_null(strstr(err, "Wrong-Horse"));
	assert_null(strstr(res[0].text, "Wrong-Horse"));
	assert_int_equal(count_suffix(r.mail, ".eml"), 0);
	assert_true(auth_attempts(&r, &clear) >= 1);
	assert_int_equal(clear, 0);
	release_msgs(msgs, 1);
}

static void test_no_starttls_no_credentials(void **state)
{
	static const char *to[] = { "eng@example.com" };
	static const char *extra[] = { "--no-starttls", NULL };
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	struct rig r;
	char server[64], ca[128], err[512];
	int clear;
	(void)state;

	rig_start(&r, extra);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_PERMFAIL);
	assert_int_equal(res[0].attempts, 1);
	assert_string_equal(res[0].text, "server does not offer STARTTLS; refusing to "
			    "send credentials in clear (set tls: none to allow plain SMTP)");
	assert_int_equal(auth_attempts(&r, &clear), 0);	/* never sent */
	assert_int_equal(count_suffix(r.mail, ".eml"), 0);
	release_msgs(msgs, 1);
}

static void test_untrusted_certificate(void **state)
{
	static const char *to[] = { "eng@example.com" };
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	struct rig r;
	char server[64], ca[128], err[512];
	int clear;
	(void)state;

	rig_start(&r, NULL);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	snprintf(ca, sizeof(ca), "%s/otherca/ca.pem", base);
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_PERMFAIL);
	assert_int_equal(res[0].attempts, 1);
	assert_non_null(strstr(res[0].text, "TLS certificate of 127.0.0.1 is not trusted"));
	assert_int_equal(auth_attempts(&r, &clear), 0);
	release_msgs(msgs, 1);
}

static void test_host_name_checked(void **state)
{
	static const char *to[] = { "eng@example.com" };
	static const char *extra[] = { "--host", "127.0.0.2", NULL };
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	struct rig r;
	char server[64], ca[128], err[512];
	(void)state;

	/* the certificate names localhost and 127.0.0.1, not 127.0.0.2 */
	rig_start(&r, extra);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	snprintf(server, sizeof(server), "smtp://127.0.0.2:%d", r.port);
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_PERMFAIL);
	assert_int_equal(res[0].attempts, 1);
	assert_non_null(strstr(res[0].text, "is not trusted"));
	assert_non_null(strstr(res[0].text, "mismatch"));
	release_msgs(msgs, 1);
}

static void test_host_by_name(void **state)
{
	static const char *to[] = { "eng@example.com" };
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	struct rig r;
	char server[64], ca[128], err[512];
	(void)state;

	rig_start(&r, NULL);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	snprintf(server, sizeof(server), "smtp://localhost:%d", r.port);
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), 0);
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_SENT);
	release_msgs(msgs, 1);
}

static void test_tls_none_is_explicit_plain(void **state)
{
	static const char *to[] = { "eng@example.com" };
	static const char *extra[] = { "--no-starttls", NULL };
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	struct rig r;
	char server[64], ca[128], err[512];
	int clear;
	(void)state;

	rig_start(&r, extra);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	c.tls = MAILER_TLS_NONE;
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), 0);
	rig_stop(&r);
	assert_int_equal(res[0].status, MAIL_SENT);
	assert_int_equal(auth_attempts(&r, &clear), 1);
	assert_int_equal(clear, 1);
	release_msgs(msgs, 1);
}

static void test_tls13_tickets_server(void **state)
{
	static const char *to[] = { "eng@example.com", "research@example.com" };
	static const char *extra[] = { "--tickets", "2", NULL };
	struct mailer_config c;
	struct mail_result res[2];
	struct msg msgs[2];
	struct rig r;
	char server[64], ca[128], err[512];
	(void)state;

	/* a server that sends session tickets must not stall the session */
	rig_start(&r, extra);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), r.port);
	c.timeout_ms = 5000;
	for (int round = 0; round < 3; round++) {
		assert_int_equal(send_to(&c, to, 2, msgs, res, err, sizeof(err)), 0);
		assert_int_equal(res[0].attempts, 1);
		release_msgs(msgs, 2);
	}
	rig_stop(&r);
}

static void test_hard_deadline(void **state)
{
	static const char *to[] = { "eng@example.com" };
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	char server[64], ca[128], err[512];
	long t0, took;
	int fd;
	(void)state;

	if (!have_rig)
		skip();
	/* a server that accepts connections (backlog) but never says hello */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), ntohs(sa.sin_port));
	c.timeout_ms = 1500;
	c.max_attempts = 1;
	t0 = now_ms();
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	took = now_ms() - t0;
	close(fd);
	assert_true(took >= 1400 && took < 2800);
	assert_int_equal(res[0].status, MAIL_TEMPFAIL);
	assert_int_equal(res[0].attempts, 1);
	release_msgs(msgs, 1);
}

/* connect() to a listener whose accept queue is full hangs in SYN retries
 * for minutes; libESMTP has no connect timeout, so only the kill ends it */
static void test_connect_hang_killed(void **state)
{
	static const char *to[] = { "eng@example.com" };
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	char server[64], ca[128], err[512];
	int fd, filler[3];
	long t0, took;
	(void)state;

	if (!have_rig)
		skip();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 0), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	for (int i = 0; i < 3; i++) {	/* fill the accept queue */
		filler[i] = socket(AF_INET, SOCK_STREAM, 0);
		fcntl(filler[i], F_SETFL, O_NONBLOCK);
		connect(filler[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	nanosleep(&(struct timespec){ 0, 200000000L }, NULL);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), ntohs(sa.sin_port));
	c.timeout_ms = 1500;
	c.max_attempts = 1;
	t0 = now_ms();
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	took = now_ms() - t0;
	for (int i = 0; i < 3; i++)
		close(filler[i]);
	close(fd);
	assert_true(took >= 1400 && took < 2800);
	assert_int_equal(res[0].status, MAIL_TEMPFAIL);
	assert_non_null(strstr(res[0].text, "stopped at its deadline"));
	release_msgs(msgs, 1);
}

static volatile sig_atomic_t stop_flag;

static void on_alarm(int sig)
{
	stop_flag = sig;
}

/* A signal handler setting cfg.stop ends a send that would block long. */
static void test_stop_flag(void **state)
{
	static const char *to[] = { "eng@example.com" };
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct sigaction act, old;
	struct mailer_config c;
	struct mail_result res[1];
	struct msg msgs[1];
	char server[64], ca[128], err[512];
	long t0, took;
	int fd;
	(void)state;

	if (!have_rig)
		skip();
	fd = socket(AF_INET, SOCK_STREAM, 0);	/* never greets */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	base_config(&c, server, sizeof(server), ca, sizeof(ca), ntohs(sa.sin_port));
	c.stop = &stop_flag;
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_alarm;
	sigaction(SIGALRM, &act, &old);
	stop_flag = 0;
	alarm(1);
	t0 = now_ms();
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	took = now_ms() - t0;
	sigaction(SIGALRM, &old, NULL);
	close(fd);
	assert_true(took >= 900 && took < 1800);
	assert_int_equal(res[0].status, MAIL_TEMPFAIL);
	assert_string_equal(res[0].text, "interrupted before the server accepted it");
	release_msgs(msgs, 1);

	/* already stopped: nothing is attempted */
	assert_int_equal(send_to(&c, to, 1, msgs, res, err, sizeof(err)), -1);
	assert_int_equal(res[0].attempts, 0);
	assert_string_equal(res[0].text, "not attempted: interrupted");
	release_msgs(msgs, 1);
}

static void test_bad_items(void **state)
{
	struct mailer_config c;
	struct mail_item items[2] = {
		{ "a@example.com\r\nRCPT TO:<evil@x>", "x", 1 },
		{ "b@example.com", NULL, 0 },
	};
	struct mail_result res[2];
	struct mailer *m;
	char err[256];
	(void)state;

	memset(&c, 0, sizeof(c));
	c.server = "smtp://127.0.0.1:9";	/* never contacted */
	c.from = FROM;
	m = mailer_new(&c, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(mailer_send(m, items, 2, res, err, sizeof(err)), -1);
	assert_int_equal(res[0].status, MAIL_PERMFAIL);
	assert_int_equal(res[1].status, MAIL_PERMFAIL);
	assert_int_equal(res[0].attempts, 0);
	assert_null(strchr(err, '\n'));
	mailer_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_server),
		cmocka_unit_test(test_new_rejects),
		cmocka_unit_test(test_bad_items),
		cmocka_unit_test_teardown(test_send_starttls_auth, stop_live),
		cmocka_unit_test_teardown(test_display_name_from, stop_live),
		cmocka_unit_test(test_server_down_retries),
		cmocka_unit_test_teardown(test_451_then_success, stop_live),
		cmocka_unit_test_teardown(test_550_fails_at_once, stop_live),
		cmocka_unit_test_teardown(test_one_bad_recipient, stop_live),
		cmocka_unit_test_teardown(test_wrong_password, stop_live),
		cmocka_unit_test_teardown(test_no_starttls_no_credentials, stop_live),
		cmocka_unit_test_teardown(test_untrusted_certificate, stop_live),
		cmocka_unit_test_teardown(test_host_name_checked, stop_live),
		cmocka_unit_test_teardown(test_host_by_name, stop_live),
		cmocka_unit_test_teardown(test_tls_none_is_explicit_plain, stop_live),
		cmocka_unit_test_teardown(test_tls13_tickets_server, stop_live),
		cmocka_unit_test(test_hard_deadline),
		cmocka_unit_test(test_connect_hang_killed),
		cmocka_unit_test(test_stop_flag),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
