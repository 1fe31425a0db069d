/* fuzz_mime.c - libFuzzer target for src/mime.c on arbitrary bytes.
 *
 * Three checks per input: (1) the RFC 2047 header encoder: output is one
 * "Subject:" field, CRLF only, lines <= 78, every word decodes and the
 * words together give back exactly mime_clean() of the input; (2) the HTML
 * escaper: no raw < > " ' and every & starts an entity; the From parser:
 * what it accepts is a plain address and a name without controls; (3) a whole
 * mime_compose() with fields cut from the input at NUL bytes: CRLF only,
 * lines <= 998, header lines <= 78 and only our header names, and the
 * decoded HTML part has exactly as many '<' as the same message composed
 * from harmless placeholders - so no '<' came from data.
 * Invariant failures abort(), which both libFuzzer and replay.c report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS 16
#define BOUNDARY "=_gl_fuzzboundary"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_mime: invariant failed: %s\n", what);
		abort();
	}
}

static void check_crlf(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r')
			check(i + 1 < n && s[i + 1] == '\n', "bare CR");
		if (s[i] == '\n')
			check(i > 0 && s[i - 1] == '\r', "bare LF");
	}
}

/* ---- (1) header encoder ---------------------------------------------- */

static size_t decode_word(const char *w, size_t n, char *out)
{
	unsigned char tmp[80];
	int len;

	check(n > 12 && !memcmp(w, "=?UTF-8?B?", 10) && !memcmp(w + n - 2, "?=", 2),
	      "encoded-word syntax");
	check(n <= 75, "encoded-word longer than 75");
	len = EVP_DecodeBlock(tmp, (const unsigned char *)w + 10, (int)n - 12);
	check(len >= 0, "encoded-word base64");
	for (size_t i = n - 3; i >= 10 && w[i] == '='; i--)
		len--;
	memcpy(out, tmp, (size_t)len);
	return (size_t)len;
}

static void fuzz_header(const char *value, size_t cap)
{
	struct buf hdr = BUF_INIT(1 << 20), clean = BUF_INIT(1 << 20);
	char *decoded;
	size_t o = 0, i;

	check(!mime_header_encode(&hdr, "Subject", value, cap), "header encode failed");
	check(!mime_clean(&clean, value, cap), "clean failed");
	check_crlf(hdr.data, hdr.len);
	check(!memcmp(hdr.data, "Subject:", 8), "header name");
	check(hdr.len >= 2 && !memcmp(hdr.data + hdr.len - 2, "\r\n", 2), "ends in CRLF");
	decoded = malloc(hdr.len + 1);
	for (i = 0; i < hdr.len;) {
		const char *line = hdr.data + i;
		const char *eol = strstr(line, "\r\n");
		const char *p = i ? line : line + 8;

		check(eol - line <= 78, "header line over 78");
		check(!i || *line == ' ', "continuation without leading space");
		while (p < eol) {
			const char *sp;

			while (p < eol && *p == ' ')
				p++;
			if (p == eol)
				break;
			sp = memchr(p, ' ', (size_t)(eol - p));
			if (!sp)
				sp = eol;
			o += decode_word(p, (size_t)(sp - p), decoded + o);
			p = sp;
		}
		i = (size_t)(eol - hdr.data) + 2;
	}
	check(o == clean.len && (!o || !memcmp(decoded, clean.data, o)),
	      "header does not decode to the cleaned value");
	check(clean.len <= cap, "clean exceeds cap");
	free(decoded);
	buf_release(&hdr);
	buf_release(&clean);
}

/* ---- (2) HTML escaper ------------------------------------------------- */

static void fuzz_escape(const char *value)
{
	static const char *ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
	struct buf b = BUF_INIT(1 << 22);

	check(!mime_html_escape(&b, value), "escape failed");
	for (size_t i = 0; i < b.len; i++) {
		int ok = 0;

		check(!strchr("<>\"'", b.data[i]) || !b.data[i], "raw special in escaped HTML");
		if (b.data[i] != '&')
			continue;
		for (size_t e = 0; e < 5; e++)
			ok |= !strncmp(b.data + i, ents[e], strlen(ents[e]));
		check(ok, "& that does not start an entity");
	}
	buf_release(&b);
}

/* ---- From values ------------------------------------------------------ */

/* An accepted From gives a plain address and a name without controls. */
static void fuzz_from(const char *value)
{
	char addr[255], name[MIME_CAP_NAME + 1];
	const char *why = NULL;

	if (mime_from_parse(value, addr, name, &why)) {
		check(why && !strchr(why, '\n') && !*addr && !*name, "refusal without a reason");
		return;
	}
	check(mime_addr_ok(addr), "accepted From with a bad address");
	for (const char *p = name; *p; p++)
		check((unsigned char)*p >= 32 && *p != 127, "control in a display name");
}

/* ---- (3) whole message ------------------------------------------------ */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Count '<' in the decoded HTML part of msg. */
static size_t html_lt_count(const char *msg)
{
	const char *p = strstr(msg, "\r\n--" BOUNDARY "\r\nContent-Type: text/html;");
	const char *end;
	size_t count = 0;

	check(p != NULL, "no html part");
	p = strstr(p, "\r\n\r\n") + 4;
	end = strstr(p, "\r\n--" BOUNDARY "--\r\n");
	check(end != NULL, "no closing delimiter");
	for (; p < end; p++) {
		if (*p == '=' && p[1] == '\r')
			p += 2;
		else if (*p == '=') {
			check(hexval(p[1]) >= 0 && hexval(p[2]) >= 0, "bad QP escape");
			count += hexval(p[1]) * 16 + hexval(p[2]) == '<';
			p += 2;
		} else
			count += *p == '<';
	}
	return count;
}

static void check_message(const char *m, size_t n)
{
	const char *hend = strstr(m, "\r\n\r\n");
	static const char *known[] = { "From: ", "To: ", "Subject:", "Date: ",
		"Message-ID: ", "MIME-Version: ", "Content-Type: ",
		"Auto-Submitted: ", "X-Auto-Response-Suppress: ", " " };

	check_crlf(m, n);
	check(hend != NULL, "no header/body separator");
	for (const char *p = m; p < m + n;) {
		const char *eol = strstr(p, "\r\n");
		int ok = p > hend;

		check(eol != NULL && eol - p <= 998, "line over 998");
		if (p < hend) {
			/* only an address alone may pass 78: "From: a@b" or the
			 * folded " <a@b>" after a display name */
			int addr_line = (!strncmp(p, "From: ", 6) &&
					 !memchr(p + 6, ' ', (size_t)(eol - p - 6))) ||
					(!strncmp(p, " <", 2) && eol[-1] == '>');

			check(eol - p <= 78 || addr_line, "header line over 78");
			for (size_t k = 0; !ok && k < sizeof(known) / sizeof(*known); k++)
				ok = !strncmp(p, known[k], strlen(known[k]));
			check(ok, "unknown header line (injection)");
		}
		p = eol + 2;
	}
}

struct fields {
	const char *f[NFIELDS];
};

static void split(char *s, size_t n, struct fields *out)
{
	size_t k = 0;

	for (size_t i = 0; i < NFIELDS; i++)
		out->f[i] = "";
	out->f[k++] = s;
	for (size_t i = 0; i < n && k < NFIELDS; i++)
		if (!s[i])
			out->f[k++] = s + i + 1;
}

/* Whether the composer will link this run URL (it checks the cleaned text). */
static int linkable(const char *v)
{
	struct buf b = BUF_INIT(MIME_CAP_URL + 8);
	int ok;

	check(!mime_clean(&b, v, MIME_CAP_URL), "clean failed");
	ok = b.data && mime_url_ok(b.data);
	buf_release(&b);
	return ok;
}

static const char *pick(const char *v, unsigned flags, int bit, int ref)
{
	if (flags & (1u << bit))
		return NULL;
	if (!ref)
		return v;
	return (bit == 10 || bit == 15) && linkable(v) ? "https://x" : "x";
}

/* An optional field the composer leaves out when empty. */
static const char *pick_opt(const char *v, unsigned flags, int bit, int ref)
{
	if (flags & (1u << bit))
		return NULL;
	if (!ref)
		return v;
	return *v ? "x" : "";
}

static char *compose(const struct fields *fl, unsigned flags, int ref,
		     struct mime_rule *rules, size_t *len)
{
	const char *others[2] = { ref ? "x" : fl->f[14], ref ? "x" : fl->f[15] };
	struct mime_facts f;
	struct buf out = BUF_INIT(MIME_MAX_MESSAGE);
	char err[128];

	memset(&f, 0, sizeof(f));
	for (size_t i = 0; i < 3; i++) {
		rules[i].metric = ref ? "x" : fl->f[3];
		rules[i].value = ref ? "x" : fl->f[4];
		rules[i].op = ref ? "x" : fl->f[5];
		rules[i].threshold = ref ? "x" : fl->f[6];
		rules[i].baseline = pick(fl->f[4], flags, 11, ref);
		rules[i].change = pick(fl->f[6], flags, 12, ref);
		rules[i].over = pick_opt(fl->f[5], flags, 13, ref);
	}
	f.gate = ref ? "x" : fl->f[0];
	f.team = ref ? "x" : fl->f[1];
	f.team_reason = pick(fl->f[2], flags, 2, ref);
	f.subject = pick_opt(fl->f[14], flags, 8, ref);
	f.headline = pick_opt(fl->f[14], flags, 9, ref);
	f.repository = pick_opt(fl->f[15], flags, 14, ref);
	f.approvals = (int)(flags >> 12 & 3);
	f.others = others;
	f.nothers = (flags >> 14 & 3) % 3;
	f.self = (enum mime_self)(flags >> 10 & 1 ? MIME_SELF_AUTHOR : flags >> 11 & 1 ?
				  MIME_SELF_STARTER : MIME_SELF_NONE);
	f.rules = rules;
	f.nrules = flags & 3;
	f.commit_sha = pick(fl->f[7], flags, 3, ref);
	f.author_name = pick(fl->f[8], flags, 4, ref);
	f.author_email = pick(fl->f[9], flags, 5, ref);
	f.commit_subject = pick(fl->f[11], flags, 6, ref);
	f.branch = pick(fl->f[12], flags, 7, ref);
	f.run_url = pick(fl->f[10], flags, 10, ref);
	f.commit_url = pick(fl->f[10], flags, 15, ref);
	f.deadline = ref ? "x" : fl->f[13];
	f.review_url = "https://example.com/r/AAAA";
	/* a From the parser accepts is used as given (it is not in the HTML) */
	f.from = mime_from_parse(fl->f[15], NULL, NULL, NULL) ? "greenlight@example.com" :
		 fl->f[15];
	f.to = "eng@example.com";
	f.message_id = "<0123@greenlight>";
	f.date = "Thu, 01 Jan 1970 00:00:00 +0000";
	if (mime_compose(&out, &f, BOUNDARY, err, sizeof(err)))
		return NULL;
	return buf_detach(&out, len);
}

static void fuzz_compose(char *s, size_t n, unsigned flags)
{
	struct mime_rule rules[3], ref_rules[3];
	struct fields fl;
	char *m, *ref;
	size_t mlen = 0, rlen = 0;

	split(s, n, &fl);
	m = compose(&fl, flags, 0, rules, &mlen);
	ref = compose(&fl, flags, 1, ref_rules, &rlen);
	check(ref != NULL, "reference compose failed");
	check(m != NULL, "compose failed on valid addresses");
	check_message(m, mlen);
	check(html_lt_count(m) == html_lt_count(ref), "'<' from data in HTML");
	free(m);
	free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	unsigned flags;

	if (size > 64 * 1024)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	flags = size ? data[0] : 0;
	fuzz_header(s, size ? (size_t)data[size - 1] * 2 + 3 : MIME_CAP_SUBJECT);
	fuzz_escape(s);
	fuzz_from(s);
	fuzz_compose(size ? s + 1 : s, size ? size - 1 : 0, flags | (size > 1 ? (unsigned)data[1] << 8 : 0));
	free(s);
	return 0;
}
