/* imap.c - IMAP commands over libcurl (see imap.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "imap.h"
#include "util.h"

#define IMAP_CONNECT_TIMEOUT_MS 10000L
#define IMAP_DEFAULT_TIMEOUT_MS 15000L
#define IMAP_MAX_RESPONSE (256 * 1024)	/* bytes of a SEARCH answer */

struct imap {
	CURL *e;
	char *url;		/* the mailbox URL, without a trailing '/' */
	char *user, *password;
	char curl_err[CURL_ERROR_SIZE];
	unsigned long sent, recvd;
};

struct sink {
	struct buf *b;
	int over;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;

	if (s->over)
		return size * n;	/* keep reading, drop: the server caps too */
	if (buf_add(s->b, p, size * n))
		s->over = 1;
	return size * n;
}

static int on_debug(CURL *e, curl_infotype t, char *data, size_t n, void *ud)
{
	struct imap *m = ud;

	(void)e;
	(void)data;
	if (t == CURLINFO_HEADER_OUT || t == CURLINFO_DATA_OUT)
		m->sent += n;
	else if (t == CURLINFO_HEADER_IN || t == CURLINFO_DATA_IN)
		m->recvd += n;
	return 0;
}

struct imap *imap_new(const struct imap_config *cfg, char *err, size_t errlen)
{
	struct imap *m;
	size_t n;
	int tls_url;

	if (!cfg->url || (strncasecmp(cfg->url, "imaps://", 8) && strncasecmp(cfg->url, "imap://", 7))) {
		fail_into(err, errlen, "the mailbox URL must start with imaps:// or imap://");
		return NULL;
	}
	tls_url = !strncasecmp(cfg->url, "imaps://", 8);
	if (strchr(cfg->url + (tls_url ? 8 : 7), '@')) {
		fail_into(err, errlen, "put no user name in the mailbox URL; name the variables that hold it");
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->url = xstrdup(cfg->url);
	n = strlen(m->url);
	while (n && m->url[n - 1] == '/')
		m->url[--n] = '\0';
	m->e = curl_easy_init();
	if (!m->e) {
		imap_free(m);
		fail_into(err, errlen, "cannot initialise libcurl");
		return NULL;
	}
	m->user = cfg->user ? xstrdup(cfg->user) : NULL;
	m->password = cfg->password ? xstrdup(cfg->password) : NULL;
	curl_easy_setopt(m->e, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(m->e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(m->e, CURLOPT_CONNECTTIMEOUT_MS, IMAP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(m->e, CURLOPT_TIMEOUT_MS, cfg->timeout_ms ? cfg->timeout_ms : IMAP_DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(m->e, CURLOPT_ERRORBUFFER, m->curl_err);
	curl_easy_setopt(m->e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(m->e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (!tls_url)
		curl_easy_setopt(m->e, CURLOPT_USE_SSL, cfg->tls_none ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	if (cfg->ca_file && *cfg->ca_file)
		curl_easy_setopt(m->e, CURLOPT_CAINFO, cfg->ca_file);
	if (m->user)
		curl_easy_setopt(m->e, CURLOPT_USERNAME, m->user);
	if (m->password)
		curl_easy_setopt(m->e, CURLOPT_PASSWORD, m->password);
	curl_easy_setopt(m->e, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(m->e, CURLOPT_DEBUGDATA, m);
	curl_easy_setopt(m->e, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(m->e, CURLOPT_WRITEFUNCTION, on_data);
	return m;
}

void imap_free(struct imap *m)
{
	if (!m)
		return;
	if (m->e)
		curl_easy_cleanup(m->e);
	if (m->password) {
		memset(m->password, 0, strlen(m->password));
		free(m->password);
	}
	free(m->user);
	free(m->url);
	free(m);
}

/* Perform one request on url; the answer into out (capped). */
static int perform(struct imap *m, const char *url, const char *custom, struct buf *out,
		   char *err, size_t errlen)
{
	struct sink s = { out, 0 };
	CURLcode rc;

	m->curl_err[0] = '\0';
	curl_easy_setopt(m->e, CURLOPT_URL, url);
	curl_easy_setopt(m->e, CURLOPT_CUSTOMREQUEST, custom);
	curl_easy_setopt(m->e, CURLOPT_WRITEDATA, &s);
	rc = curl_easy_perform(m->e);
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_LOGIN_DENIED)
		return fail_into(err, errlen, "the IMAP server refused the login (check the user and password variables)");
	return fail_into(err, errlen, "%s%s%s", curl_easy_strerror(rc),
			 *m->curl_err ? ": " : "", m->curl_err);
}

int imap_check(struct imap *m, char *err, size_t errlen)
{
	struct buf b = BUF_INIT(IMAP_MAX_RESPONSE);
	int rc = perform(m, m->url, "NOOP", &b, err, errlen);

	buf_release(&b);
	return rc;
}

int imap_search(struct imap *m, const char *criteria, unsigned long *uids,
		size_t max, size_t *n, char *err, size_t errlen)
{
	struct buf b = BUF_INIT(IMAP_MAX_RESPONSE), cmd = BUF_INIT(64 * 1024);
	int rc;
	const char *p;

	*n = 0;
	if (buf_addf(&cmd, "UID SEARCH %s", criteria))
		return fail_into(err, errlen, "search too long");
	rc = perform(m, m->url, cmd.data, &b, err, errlen);
	buf_release(&cmd);
	if (rc) {
		buf_release(&b);
		return -1;
	}
	for (p = b.data ? strstr(b.data, "* SEARCH") : NULL; p; p = strstr(p, "* SEARCH")) {
		p += 8;
		while (*p == ' ' && *n < max) {
			char *end;
			unsigned long v = strtoul(p + 1, &end, 10);

			if (end == p + 1)
				break;
			uids[(*n)++] = v;
			p = end;
		}
	}
	buf_release(&b);
	return 0;
}

int imap_fetch(struct imap *m, unsigned long uid, size_t max, struct buf *out,
	       char *err, size_t errlen)
{
	char url[4096];
	int rc;

	if ((size_t)snprintf(url, sizeof(url), "%s/;UID=%lu;PARTIAL=0.%zu", m->url, uid, max) >= sizeof(url))
		return fail_into(err, errlen, "mailbox URL too long");
	rc = perform(m, url, NULL, out, err, errlen);
	return rc;
}

int imap_command(struct imap *m, const char *cmd, char *err, size_t errlen)
{
	struct buf b = BUF_INIT(IMAP_MAX_RESPONSE);
	int rc = perform(m, m->url, cmd, &b, err, errlen);

	buf_release(&b);
	return rc;
}

void imap_traffic(const struct imap *m, unsigned long *sent, unsigned long *recvd)
{
	*sent = m->sent;
	*recvd = m->recvd;
}
