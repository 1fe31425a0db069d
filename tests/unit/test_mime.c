/* test_mime.c - unit tests for src/mime.c.
 *
 * The composed message is checked as a receiver would see it: CRLF only,
 * line lengths, the header block (no injected fields), the RFC 2047 Subject
 * decoded back, and both parts decoded from quoted-printable.  The decoders
 * here are deliberately independent of the encoders under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "mime.h"
#include "token.h"

#define SHA "3f2a9c1e8b7d6c5a4f3e2d1c0b9a8f7e6d5c4b3a"
#define REVIEW "http://127.0.0.1:8080/r/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define BOUNDARY "=_gl_testboundary0123456789"

static struct mime_rule rules2[2] = {
	{ "latencyMs", "225", ">", "80", "180", "+45 (+25%)", "+181%" },
	{ "accuracypct", "95.1", "<", "96", NULL, NULL, NULL },
};
static const char *const others2[] = { "b@example.com", "c@example.com" };
#define SUBJ "acme/model: latencyMs 225 > 80 \xe2\x80\x94 review"
#define HEADLINE "latencyMs 225 > 80 (+181%), baseline 180: +45 (+25%)"

static void base_facts(struct mime_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->gate = "model-release";
	f->subject = SUBJ;
	f->headline = HEADLINE;
	f->repository = "acme/model";
	f->team = "engineering";
	f->approvals = 2;
	f->others = others2;
	f->nothers = 2;
	f->team_reason = "$.latencyMs > 80";
	f->rules = rules2;
	f->nrules = 1;
	f->commit_sha = SHA;
	f->commit_url = "https://github.com/acme/model/commit/" SHA;
	f->author_name = "Ann Example";
	f->author_email = "ann@example.com";
	f->commit_subject = "Speed up the tokenizer";
	f->branch = "main";
	f->run_url = "https://ci.example.com/run/42?a=1&b=2";
	f->deadline = "2024-05-01T12:00:00Z";
	f->review_url = REVIEW;
	f->from = "greenlight@example.com";
	f->to = "eng@example.com";
	f->message_id = "<0123456789abcdef0123456789abcdef@greenlight>";
	f->date = "Wed, 01 May 2024 10:40:00 +0000";
}

static char *compose(const struct mime_facts *f)
{
	struct buf out = BUF_INIT(MIME_MAX_MESSAGE);
	char err[200];

	if (mime_compose(&out, f, BOUNDARY, err, sizeof(err))) {
		print_error("compose failed: %s\n", err);
		return NULL;
	}
	return buf_detach(&out, NULL);
}

/* ---- independent decoders ------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode quoted-printable s[0..n) into a malloc'd string (CRLF -> "\n"). */
static char *qp_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=' && i + 2 < n) {
			assert_true(hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0);
			*o++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			*o++ = '\n';
			i++;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* The decoded body of the part whose Content-Type starts with type. */
static char *part_body(const char *msg, const char *type)
{
	char hdr[128];
	const char *p, *body, *end;

	snprintf(hdr, sizeof(hdr), "\r\nContent-Type: %s;", type);
	p = strstr(msg, hdr);
	assert_non_null(p);
	body = strstr(p, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	end = strstr(body, "\r\n--" BOUNDARY);
	assert_non_null(end);
	return qp_decode(body, (size_t)(end - body));
}

/* Unfold and decode an RFC 2047 header value made of B words. */
static char *decode_words(const char *v)
{
	char *out = calloc(1, strlen(v) + 1);
	size_t o = 0;

	while (*v) {
		const char *start, *end;
		unsigned char tmp[128];
		int n;

		while (*v == ' ' || *v == '\r' || *v == '\n')
			v++;
		if (!*v)
			break;
		assert_memory_equal(v, "=?UTF-8?B?", 10);
		start = v + 10;
		end = strstr(start, "?=");
		assert_non_null(end);
		assert_true(end - start < (long)sizeof(tmp));
		n = EVP_DecodeBlock(tmp, (const unsigned char *)start, (int)(end - start));
		assert_true(n >= 0);
		/* EVP_DecodeBlock counts padding bytes as zeros */
		for (const char *q = end - 1; q >= start && *q == '='; q--)
			n--;
		memcpy(out + o, tmp, (size_t)n);
		o += (size_t)n;
		v = end + 2;
	}
	out[o] = '\0';
	return out;
}

/* The raw (folded) value of header name in the header block of msg. */
static char *header_value(const char *msg, const char *name)
{
	const char *end = strstr(msg, "\r\n\r\n");
	size_t nl = strlen(name);
	const char *p = msg;

	while (p < end) {
		const char *eol = strstr(p, "\r\n");

		if (!strncmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *q = eol;

			while (q[2] == ' ' || q[2] == '\t')	/* continuation */
				q = strstr(q + 2, "\r\n");
			return strndup(v, (size_t)(q - v));
		}
		p = eol + 2;
	}
	return NULL;
}

static char *subject_of(const char *m)
{
	char *h = header_value(m, "Subject");
	char *s;

	assert_non_null(h);
	s = decode_words(h);
	free(h);
	return s;
}

/* ---- structural checks --------------------------------------------------- */

static void assert_crlf_only(const char *m)
{
	for (size_t i = 0; m[i]; i++) {
		if (m[i] == '\n')
			assert_true(i > 0 && m[i - 1] == '\r');
		if (m[i] == '\r')
			assert_int_equal(m[i + 1], '\n');
	}
}

static void assert_line_lengths(const char *m, size_t header_max, size_t body_max)
{
	const char *end = strstr(m, "\r\n\r\n");

	for (const char *p = m; *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t len = (size_t)(eol - p);

		assert_non_null(eol);
		assert_true(len <= 998);
		assert_true(len <= (p < end ? header_max : body_max));
		p = eol + 2;
	}
}

static void assert_known_headers(const char *m)
{
	static const char *known[] = { "From:", "To:", "Subject:", "Date:",
		"Message-ID:", "MIME-Version:", "Content-Type:", "Auto-Submitted:",
		"X-Auto-Response-Suppress:" };
	const char *end = strstr(m, "\r\n\r\n");
	size_t seen = 0;

	for (const char *p = m; p < end;) {
		int ok = p[0] == ' ';

		for (size_t i = 0; !ok && i < sizeof(known) / sizeof(*known); i++)
			if (!strncmp(p, known[i], strlen(known[i])))
				ok = 1, seen++;
		if (!ok)
			fail_msg("unexpected header line: %.40s", p);
		p = strstr(p, "\r\n") + 2;
	}
	assert_int_equal(seen, sizeof(known) / sizeof(*known));
}

/* ---- tests --------------------------------------------------------------- */

static void test_compose_shape(void **state)
{
	struct mime_facts f;
	char *m, *text, *html, *subj;
	(void)state;

	base_facts(&f);
	m = compose(&f);
	assert_non_null(m);
	assert_crlf_only(m);
	assert_line_lengths(m, 78, 76);
	assert_known_headers(m);
	assert_non_null(strstr(m, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(m, "Content-Type: multipart/alternative;\r\n boundary=\""
				  BOUNDARY "\"\r\n"));
	assert_non_null(strstr(m, "\r\n--" BOUNDARY "--\r\n"));
	subj = subject_of(m);
	assert_string_equal(subj, SUBJ);
	text = part_body(m, "text/plain");
	/* the headline first, then the intro and the personal link */
	assert_memory_equal(text, HEADLINE "\n", strlen(HEADLINE) + 1);
	assert_non_null(strstr(text, "\nGate \"model-release\" on acme/model needs a "
				  "review from engineering.\n\nYour personal review link:\n  "
				  REVIEW "\n"));
	assert_non_null(strstr(text, "\nTeam asked:    engineering: 2 approvals needed; "
				  "also asked: b@example.com, c@example.com\n"
				  "Why this team: $.latencyMs > 80\n"));
	assert_non_null(strstr(text, "  - latencyMs: 225 > 80 (+181%) (baseline 180, "
				  "+45 (+25%))\n"));
	assert_non_null(strstr(text, "Commit:  " SHA "\n"
				  "         https://github.com/acme/model/commit/" SHA "\n"));
	assert_non_null(strstr(text, "Author:  Ann Example <ann@example.com>\n"));
	assert_non_null(strstr(text, "Subject: Speed up the tokenizer\n"));
	assert_non_null(strstr(text, "Branch:  main\n"));
	assert_non_null(strstr(text, "CI run: https://ci.example.com/run/42?a=1&b=2\n"));
	assert_non_null(strstr(text, "Decide before: 2024-05-01T12:00:00Z\n"));
	/* in that order */
	assert_true(strstr(text, REVIEW) < strstr(text, "Team asked:"));
	assert_true(strstr(text, "Why this team:") < strstr(text, "These rules fired:"));
	assert_true(strstr(text, "These rules fired:") < strstr(text, "Commit:"));
	assert_true(strstr(text, "Commit:") < strstr(text, "CI run:"));
	assert_true(strstr(text, "CI run:") < strstr(text, "Decide before:"));
	assert_null(strstr(text, "cannot approve"));
	assert_non_null(strstr(text, "personal"));
	assert_non_null(strstr(text, "does not decide anything"));
	html = part_body(m, "text/html");
	assert_non_null(strstr(html, "<meta name=\"viewport\""));
	assert_non_null(strstr(html, "href=\"" REVIEW "\""));
	assert_non_null(strstr(html, "href=\"https://ci.example.com/run/42?a=1&amp;b=2\""));
	assert_non_null(strstr(html, "<code>latencyMs</code>: <b>225</b> &gt; 80 (+181%)"));
	assert_non_null(strstr(html, ">latencyMs 225 &gt; 80 (+181%), baseline 180: "
				  "+45 (+25%)</h1>"));
	assert_non_null(strstr(html, "href=\"https://github.com/acme/model/commit/" SHA "\">"
				  SHA "</a>"));
	assert_non_null(strstr(html, "engineering: 2 approvals needed; also asked: "
				  "b@example.com, c@example.com"));
	assert_true(strstr(html, "Open the review page") < strstr(html, "Team asked"));
	assert_null(strstr(html, "src="));	/* self-contained: no assets */
	assert_null(strstr(html, "<link"));
	free(m), free(text), free(html), free(subj);
}

static void test_subject_and_unicode(void **state)
{
	static const char uni[] = "mod\xc3\xa8le-\xe5\x90\x8d\xe5\x89\x8d-"
		"\xf0\x9f\x9a\x80\xf0\x9f\x9a\x80\xf0\x9f\x9a\x80-"
		"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc: lat 1 > 0 \xe2\x80\x94 review";
	struct mime_facts f;
	char *m, *subj, *text;
	(void)state;

	/* multibyte characters straddling word boundaries decode intact */
	base_facts(&f);
	f.subject = uni;
	m = compose(&f);
	assert_line_lengths(m, 78, 76);
	subj = subject_of(m);
	assert_string_equal(subj, uni);
	free(m), free(subj);

	/* a long subject is capped, never a failure */
	{
		static char lng[4000];

		memset(lng, 'x', sizeof(lng) - 1);
		base_facts(&f);
		f.subject = lng;
		m = compose(&f);
		assert_non_null(m);
		subj = subject_of(m);
		assert_true(strlen(subj) <= MIME_CAP_SUBJECT);
		free(m), free(subj);
	}

	/* no subject given: the gate names it; no headline: the first rule */
	base_facts(&f);
	f.subject = NULL;
	f.headline = NULL;
	m = compose(&f);
	subj = subject_of(m);
	assert_string_equal(subj, "Review needed: model-release");
	text = part_body(m, "text/plain");
	assert_memory_equal(text, "latencyMs 225 > 80 (+181%)\n", 27);
	free(m), free(subj), free(text);
}

static void test_team_line_and_self(void **state)
{
	static const char *many[25];
	struct mime_facts f;
	char *m, *text, *html;
	(void)state;

	base_facts(&f);
	f.approvals = 1;
	f.nothers = 0;
	f.self = MIME_SELF_AUTHOR;
	m = compose(&f);
	text = part_body(m, "text/plain");
	html = part_body(m, "text/html");
	assert_non_null(strstr(text, "Team asked:    engineering: 1 approval needed\n"));
	assert_non_null(strstr(text, "\n\nYou wrote this commit, so you cannot approve it. "
				  "You can still reject it.\n\n"));
	assert_true(strstr(text, "cannot approve") < strstr(text, "Team asked:"));
	assert_non_null(strstr(html, "You wrote this commit, so you cannot approve it."));
	free(m), free(text), free(html);

	f.self = MIME_SELF_STARTER;
	m = compose(&f);
	text = part_body(m, "text/plain");
	assert_non_null(strstr(text, "You started this CI run, so you cannot approve it."));
	free(m), free(text);

	/* many reviewers: 20 listed, the rest counted; data is cleaned */
	for (size_t i = 0; i < 25; i++)
		many[i] = i ? "r@example.com" : "x\r\nBcc: y@evil";
	base_facts(&f);
	f.others = many;
	f.nothers = 25;
	f.approvals = 0;
	m = compose(&f);
	text = part_body(m, "text/plain");
	assert_non_null(strstr(text, "Team asked:    engineering; also asked: x Bcc: y@evil, r@"));
	assert_non_null(strstr(text, "r@example.com and 5 more\n"));
	free(m), free(text);
}

static void test_from_header(void **state)
{
	static const struct {
		const char *in, *header;
	} ok[] = {
		{ "gate@example.com", "From: gate@example.com\r\n" },
		{ "<gate@example.com>", "From: gate@example.com\r\n" },
		{ "Release Gate <gate@example.com>", "From: Release Gate <gate@example.com>\r\n" },
		{ "  Release Gate   <gate@example.com>  ", "From: Release Gate <gate@example.com>\r\n" },
		{ "\"Acme, Inc. Gate\" <gate@example.com>", "From: \"Acme, Inc. Gate\" <gate@example.com>\r\n" },
		{ "Gate (CI) <gate@example.com>", "From: \"Gate (CI)\" <gate@example.com>\r\n" },
		{ "\"Say \\\"hi\\\"\" <gate@example.com>", "From: \"Say \\\"hi\\\"\" <gate@example.com>\r\n" },
		{ "Portail de d\xc3\xa9ploiement <gate@example.com>",
		  "From: =?UTF-8?B?UG9ydGFpbCBkZSBkw6lwbG9pZW1lbnQ=?= <gate@example.com>\r\n" },
	};
	static const char *const bad[] = {
		"", "gate", "a@example.com, b@example.com", "a@example.com b@example.com",
		"Gate <a@example.com> <b@example.com>", "Gate <a@example.com>, b@example.com",
		"Gate <a@example.com", "Gate a@example.com>", "Gate >a@example.com<",
		"Gate <a@example.com> trailing", "Gate\r\nBcc: x@evil <a@example.com>",
		"Gate <a@example.com>\r\n", "Gate\t<a@example.com>", "a@b.com <c@d.com>",
		"\"Unclosed <a@example.com>", "Bad \xff name <a@example.com>",
		"Gate <a b@example.com>",
	};
	struct mime_facts f;
	char addr[255], name[MIME_CAP_NAME + 1], *m, *h;
	const char *why;
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		base_facts(&f);
		f.from = ok[i].in;
		m = compose(&f);
		assert_non_null(m);
		if (!strstr(m, ok[i].header))
			fail_msg("From %s: want %s", ok[i].in, ok[i].header);
		assert_int_equal(mime_from_parse(ok[i].in, addr, name, &why), 0);
		assert_string_equal(addr, "gate@example.com");
		free(m);
	}
	assert_int_equal(mime_from_parse("\"Acme, Inc.\" <g@x.org>", addr, name, NULL), 0);
	assert_string_equal(name, "Acme, Inc.");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		why = NULL;
		if (!mime_from_parse(bad[i], addr, name, &why))
			fail_msg("From %s accepted", bad[i]);
		assert_non_null(why);
		assert_null(strchr(why, '\n'));
		assert_string_equal(addr, "");
		base_facts(&f);
		f.from = bad[i];
		assert_null(compose(&f));
	}
	assert_non_null(mime_from_parse("a@x.org, b@x.org", NULL, NULL, &why) ? why : NULL);
	assert_non_null(strstr(why, "one address"));
	mime_from_parse("Gate <a@x.org", NULL, NULL, &why);
	assert_non_null(strstr(why, "unbalanced"));
	mime_from_parse("Gate\r\n <a@x.org>", NULL, NULL, &why);
	assert_non_null(strstr(why, "control"));

	/* a long non-ASCII name folds within 78 bytes and decodes back */
	base_facts(&f);
	f.from = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 gate <gate@a-rather-long-domain.example.com>";
	m = compose(&f);
	assert_non_null(m);
	assert_line_lengths(m, 78, 76);
	h = header_value(m, "From");
	assert_non_null(strstr(h, "\r\n <gate@a-rather-long-domain.example.com>"));
	*strchr(h, '<') = '\0';
	free(m);
	m = decode_words(h);
	assert_string_equal(m, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 gate");
	free(m), free(h);
}

static void test_header_injection(void **state)
{
	struct mime_facts f;
	struct mime_rule evil = { "lat\r\nBcc: x@evil", "1\r\n", ">", "0", "2\r\nBcc: y@evil", NULL, NULL };
	char *m, *text, *subj;
	(void)state;

	base_facts(&f);
	f.commit_subject = "x\r\nBcc: x@evil";
	f.gate = "g\r\nBcc: y@evil\r\n\r\nbody";
	f.subject = "s\r\nBcc: y@evil\r\n\r\nbody";
	f.branch = "main\nX-Injected: 1";
	f.rules = &evil;
	m = compose(&f);
	assert_non_null(m);
	assert_crlf_only(m);
	assert_known_headers(m);	/* no Bcc:, no X-Injected: */
	assert_null(strstr(m, "\r\nBcc:"));
	assert_null(strstr(m, "\r\nX-Injected:"));
	subj = subject_of(m);
	assert_null(strchr(subj, '\r'));
	assert_null(strchr(subj, '\n'));
	assert_non_null(strstr(subj, "s Bcc: y@evil body"));
	text = part_body(m, "text/plain");
	assert_non_null(strstr(text, "Subject: x Bcc: x@evil\n"));
	assert_non_null(strstr(text, "Branch:  main X-Injected: 1\n"));
	free(m), free(text), free(subj);

	/* an address with CR/LF is refused, never repaired */
	base_facts(&f);
	f.to = "a@example.com\r\nBcc: x@evil";
	assert_null(compose(&f));
	f.to = "a@example.com, b@example.com";
	assert_null(compose(&f));
	base_facts(&f);
	f.from = "Evil\r\nBcc: x <a@example.com>";
	assert_null(compose(&f));
	base_facts(&f);
	f.message_id = "<a@b>\r\nBcc: x@evil";
	assert_null(compose(&f));
	base_facts(&f);
	f.date = "Wed\r\nBcc: x@evil";
	assert_null(compose(&f));
}

static void test_html_escaping(void **state)
{
	struct mime_facts f;
	struct mime_rule r = { "<script>alert(1)</script>", "\"'&", "<", "<b>", "<i>", "+1 <u>", "<o>" };
	char *m, *html;
	(void)state;

	base_facts(&f);
	f.rules = &r;
	f.team = "<img src=x onerror=alert(1)>";
	f.commit_subject = "\"><svg onload=1>";
	f.run_url = "javascript:alert(1)";
	f.commit_url = "javascript:alert(2)";
	f.headline = "<script>h</script>";
	f.repository = "<i>repo";
	m = compose(&f);
	assert_non_null(m);
	html = part_body(m, "text/html");
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "<svg"));
	assert_null(strstr(html, "href=\"javascript"));
	assert_non_null(strstr(html, "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
	assert_non_null(strstr(html, "<b>&quot;&#39;&amp;</b> &lt; &lt;b&gt; (&lt;o&gt;) (baseline &lt;i&gt;, +1 &lt;u&gt;)"));
	assert_non_null(strstr(html, "javascript:alert(1)"));	/* shown, not linked */
	assert_null(strstr(html, "alert(2)"));	/* a commit link only when http(s) */
	assert_non_null(strstr(html, "&lt;script&gt;h&lt;/script&gt;</h1>"));
	assert_non_null(strstr(html, "&lt;i&gt;repo"));
	free(m), free(html);
}

static void test_missing_commit_facts(void **state)
{
	struct mime_facts f;
	char *m, *text, *html, *subj;
	(void)state;

	base_facts(&f);
	f.commit_sha = f.author_name = f.author_email = NULL;
	f.commit_subject = f.branch = f.run_url = f.team_reason = NULL;
	f.commit_url = NULL;
	m = compose(&f);
	assert_non_null(m);
	text = part_body(m, "text/plain");
	html = part_body(m, "text/html");
	assert_null(strstr(text, "Commit:"));
	assert_null(strstr(text, "Author:"));
	assert_null(strstr(text, "Subject:"));
	assert_null(strstr(text, "Branch:"));
	assert_null(strstr(text, "CI run:"));
	assert_null(strstr(text, "Why this team:"));
	assert_null(strstr(html, ">Commit<"));
	assert_null(strstr(html, ">Author<"));
	assert_null(strstr(html, ">CI run<"));
	subj = subject_of(m);
	assert_string_equal(subj, SUBJ);
	free(m), free(text), free(html), free(subj);

	/* author email alone */
	base_facts(&f);
	f.author_name = NULL;
	m = compose(&f);
	text = part_body(m, "text/plain");
	assert_non_null(strstr(text, "Author:  <ann@example.com>\n"));
	free(m), free(text);
}

static void test_required_and_invalid(void **state)
{
	struct mime_facts f;
	struct buf out = BUF_INIT(MIME_MAX_MESSAGE);
	char err[200];
	(void)state;

	base_facts(&f);
	f.review_url = "javascript:alert(1)";
	assert_int_equal(mime_compose(&out, &f, BOUNDARY, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "review URL"));
	assert_int_equal(out.len, 0);
	base_facts(&f);
	f.gate = NULL;
	assert_int_equal(mime_compose(&out, &f, BOUNDARY, err, sizeof(err)), -1);
	base_facts(&f);
	assert_int_equal(mime_compose(&out, &f, "bad boundary", err, sizeof(err)), -1);
	assert_int_equal(mime_compose(&out, &f, "", err, sizeof(err)), -1);
	/* a boundary that occurs in the body is refused */
	assert_int_equal(mime_compose(&out, &f, "tokenizer", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "boundary"));
	/* too small a buffer: refused and released */
	struct buf small = BUF_INIT(512);
	assert_int_equal(mime_compose(&small, &f, BOUNDARY, err, sizeof(err)), -1);
	assert_int_equal(small.len, 0);
	assert_null(small.data);
	/* display-name From */
	f.from = "Green Light <greenlight@example.com>";
	assert_int_equal(mime_compose(&out, &f, BOUNDARY, err, sizeof(err)), 0);
	assert_non_null(strstr(out.data, "From: Green Light <greenlight@example.com>\r\n"));
	buf_release(&out);
}

static void test_deterministic_and_message_id(void **state)
{
	struct mime_facts f;
	char a[MIME_MSGID_SIZE], b[MIME_MSGID_SIZE], c[MIME_MSGID_SIZE];
	char hex[TOKEN_HEX_SIZE];
	char *m1, *m2;
	(void)state;

	assert_int_equal(mime_message_id(a, "req-1", "eng@example.com"), 0);
	assert_int_equal(mime_message_id(b, "req-1", "eng@example.com"), 0);
	assert_int_equal(mime_message_id(c, "req-1", "res@example.com"), 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), MIME_MSGID_SIZE - 1);
	assert_int_equal(token_hash(hex, "req-1/eng@example.com"), 0);
	assert_memory_equal(a + 1, hex, 32);
	assert_string_equal(a + 33, "@greenlight>");

	base_facts(&f);
	f.message_id = a;
	m1 = compose(&f);
	m2 = compose(&f);
	assert_string_equal(m1, m2);
	assert_non_null(strstr(m1, "\r\nMessage-ID: "));
	free(m1), free(m2);
}

static void test_many_rules(void **state)
{
	struct mime_rule r[MIME_MAX_RULES + 7];
	struct mime_facts f;
	char *m, *text;
	(void)state;

	for (size_t i = 0; i < sizeof(r) / sizeof(*r); i++)
		r[i] = rules2[i % 2];
	base_facts(&f);
	f.rules = r;
	f.nrules = sizeof(r) / sizeof(*r);
	m = compose(&f);
	text = part_body(m, "text/plain");
	assert_non_null(strstr(text, "  ... and 7 more\n"));
	free(m), free(text);
}

static void test_clean(void **state)
{
	struct buf b = BUF_INIT(4096);
	(void)state;

	assert_int_equal(mime_clean(&b, "a\r\nb\tc\x01\x7f" "d\xc2\x85" "e", 100), 0);
	assert_string_equal(b.data, "a b cd e");
	buf_release(&b);
	/* bidi override and BOM dropped; invalid UTF-8 replaced */
	assert_int_equal(mime_clean(&b, "x\xe2\x80\xaey\xef\xbb\xbfz\xff\xc0\xaf", 100), 0);
	assert_string_equal(b.data, "xyz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	buf_release(&b);
	/* surrogate encoded in UTF-8 is invalid */
	assert_int_equal(mime_clean(&b, "\xed\xa0\x80", 100), 0);
	assert_string_equal(b.data, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	buf_release(&b);
	/* cap: cut on a character boundary, ellipsis within the cap */
	assert_int_equal(mime_clean(&b, "abcdefghij", 8), 0);
	assert_string_equal(b.data, "abcde\xe2\x80\xa6");
	buf_release(&b);
	assert_int_equal(mime_clean(&b, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8), 0);
	assert_string_equal(b.data, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	assert_true(b.len <= 8);
	buf_release(&b);
	assert_int_equal(mime_clean(&b, "abcdefgh", 8), 0);	/* exactly at cap */
	assert_string_equal(b.data, "abcdefgh");
	buf_release(&b);
}

static void test_qp(void **state)
{
	struct buf b = BUF_INIT(65536);
	char line[300], *dec;
	(void)state;

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	line[100] = '=';
	line[150] = (char)0xc3;
	assert_int_equal(mime_qp_encode(&b, line, strlen(line)), 0);
	assert_crlf_only(b.data);
	assert_line_lengths(b.data, 76, 76);
	dec = qp_decode(b.data, b.len);
	assert_int_equal(strlen(dec), strlen(line) + 1);
	assert_memory_equal(dec, line, strlen(line));
	free(dec);
	buf_release(&b);
	assert_int_equal(mime_qp_encode(&b, "a \n.dot\nFrom me\n-- \n", 20), 0);
	assert_string_equal(b.data, "a=20\r\n=2Edot\r\n=46rom me\r\n--=20\r\n");
	buf_release(&b);
}

static void test_header_encode_and_escape(void **state)
{
	struct buf b = BUF_INIT(4096);
	char *v;
	(void)state;

	assert_int_equal(mime_header_encode(&b, "Subject", "", 100), 0);
	assert_string_equal(b.data, "Subject:\r\n");
	buf_release(&b);
	assert_int_equal(mime_header_encode(&b, "Bad:Name", "x", 100), -1);
	assert_int_equal(mime_header_encode(&b, "Bad Name", "x", 100), -1);
	/* a long header name still folds within 78 */
	assert_int_equal(mime_header_encode(&b, "X-A-Very-Long-Header-Name-That-Leaves-"
		"Little-Room-For-Words", "\xf0\x9f\x9a\x80 hello", 100), 0);
	assert_crlf_only(b.data);
	assert_line_lengths(b.data, 78, 78);
	v = decode_words(strchr(b.data, ':') + 1);
	assert_string_equal(v, "\xf0\x9f\x9a\x80 hello");
	free(v);
	buf_release(&b);
	assert_int_equal(mime_html_escape(&b, "a&b<c>d\"e'f"), 0);
	assert_string_equal(b.data, "a&amp;b&lt;c&gt;d&quot;e&#39;f");
	buf_release(&b);
}

static void test_validators(void **state)
{
	char d[MIME_DATE_SIZE];
	(void)state;

	assert_true(mime_addr_ok("a@b.c"));
	assert_true(mime_addr_ok("first.last+tag@sub.example.com"));
	assert_true(mime_addr_ok("x@localhost"));
	assert_false(mime_addr_ok(NULL));
	assert_false(mime_addr_ok("a@@b"));
	assert_false(mime_addr_ok("a@b@c"));
	assert_false(mime_addr_ok(".a@b"));
	assert_false(mime_addr_ok("a..b@c"));
	assert_false(mime_addr_ok("a b@c"));
	assert_false(mime_addr_ok("a@-b.c"));
	assert_false(mime_addr_ok("a@b..c"));
	assert_false(mime_addr_ok("a@b.c\r\n"));
	assert_false(mime_addr_ok("<a@b.c>"));
	assert_true(mime_url_ok("https://x.example/r/abc"));
	assert_true(mime_url_ok("HTTP://x"));
	assert_false(mime_url_ok("http://"));
	assert_false(mime_url_ok("javascript:alert(1)"));
	assert_false(mime_url_ok("http://x/a b"));
	assert_false(mime_url_ok("http://x/\"><script>"));
	assert_int_equal(mime_date(d, 0), 0);
	assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
	assert_int_equal(mime_date(d, 1714560000), 0);
	assert_string_equal(d, "Wed, 01 May 2024 10:40:00 +0000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compose_shape),
		cmocka_unit_test(test_subject_and_unicode),
		cmocka_unit_test(test_team_line_and_self),
		cmocka_unit_test(test_from_header),
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_html_escaping),
		cmocka_unit_test(test_missing_commit_facts),
		cmocka_unit_test(test_required_and_invalid),
		cmocka_unit_test(test_deterministic_and_message_id),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_header_encode_and_escape),
		cmocka_unit_test(test_validators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
