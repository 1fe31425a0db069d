/* reply.c - read a reviewer's emailed reply (see reply.h).
 *
 * Reading order: small text helpers, header fields (unfolding, RFC 2047),
 * body decoding (transfer encodings, charsets to UTF-8), HTML to text,
 * the MIME walk, then what the backend asks for: codes, the first line,
 * automatic replies and Authentication-Results.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "reply.h"
#include "util.h"

/* ---- text helpers ---- */

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int is_b64url(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_';
}

static int prefix_ci(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);

	return n >= k && !strncasecmp(s, p, k);
}

/* Whether needle occurs in s[0..n), ASCII case-insensitively. */
static int contains_ci(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; k && i + k <= n; i++)
		if (!strncasecmp(s + i, needle, k))
			return 1;
	return 0;
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t k;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, cp = c & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

/* Append s[0..n) as valid UTF-8 without NULs: invalid bytes become
 * U+FFFD; with no_controls, controls (and CR/LF/TAB) become spaces. */
static void add_utf8(struct buf *out, const char *s, size_t n, int no_controls)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(u + i, n - i);

		if (!k) {
			buf_adds(out, "\xef\xbf\xbd");
			i++;
		} else if (k == 1 && (u[i] < 0x20 || u[i] == 0x7f) &&
			   (no_controls || (u[i] != '\n' && u[i] != '\t' && u[i] != '\r'))) {
			if (u[i])
				buf_adds(out, " ");
			i++;
		} else {
			buf_add(out, s + i, k);
			i += k;
		}
	}
}

/* Copy s into out (outsize bytes), cut at a UTF-8 boundary. */
static void copy_cut(char *out, size_t outsize, const char *s, size_t n)
{
	if (n >= outsize) {
		n = outsize - 1;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

/* ---- charsets ---- */

/* Charsets converted with iconv: the common mail ones.  Anything else
 * (and the stateful ISO-2022 family, whose glibc converters have had
 * memory bugs) is read as UTF-8, invalid bytes replaced. */
static int charset_allowed(const char *cs)
{
	static const char *const names[] = {
		"iso-8859-1", "iso-8859-2", "iso-8859-3", "iso-8859-4",
		"iso-8859-5", "iso-8859-6", "iso-8859-7", "iso-8859-8",
		"iso-8859-9", "iso-8859-10", "iso-8859-13", "iso-8859-14",
		"iso-8859-15", "iso-8859-16", "latin1", "windows-1250",
		"windows-1251", "windows-1252", "windows-1253", "windows-1254",
		"windows-1255", "windows-1256", "windows-1257", "windows-1258",
		"cp1252", "koi8-r", "koi8-u", "gb2312", "gbk", "gb18030",
		"big5", "shift_jis", "euc-jp", "euc-kr", "utf-16", "utf-16le",
		"utf-16be",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(cs, names[i]))
			return 1;
	return 0;
}

/* Append s[0..n) in charset cs to out as UTF-8 (controls kept as in
 * add_utf8 with no_controls 0). */
static void to_utf8(struct buf *out, const char *cs, const char *s, size_t n)
{
	iconv_t cd;
	char tmp[4096];
	char *in = (char *)s;
	size_t inleft = n;

	if (!cs || !*cs || !charset_allowed(cs)) {
		add_utf8(out, s, n, 0);
		return;
	}
	cd = iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1) {
		add_utf8(out, s, n, 0);
		return;
	}
	while (inleft && out->max > out->len + sizeof(tmp)) {
		char *o = tmp;
		size_t oleft = sizeof(tmp);
		size_t rc = iconv(cd, &in, &inleft, &o, &oleft);
		int e = errno;

		add_utf8(out, tmp, sizeof(tmp) - oleft, 0);
		if (rc != (size_t)-1)
			break;
		if (e == EILSEQ) {
			buf_adds(out, "\xef\xbf\xbd");
			in++;
			inleft--;
		} else if (e != E2BIG) {
			break;	/* EINVAL: incomplete sequence at the end */
		}
	}
	iconv_close(cd);
}

/* ---- transfer encodings ---- */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static void b64_decode(struct buf *out, const char *s, size_t n)
{
	unsigned long acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64_value((unsigned char)s[i]);
		char c;

		if (v < 0)
			continue;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			c = (char)(acc >> bits & 0xff);
			if (buf_add(out, &c, 1))
				return;
		}
	}
}

static int hexval(char c)
{
	return token_hex_value(c);
}

/* Quoted-printable; with q (RFC 2047 "Q"), '_' is a space. */
static void qp_decode(struct buf *out, const char *s, size_t n, int q)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else if (c == '=') {
			size_t j = i + 1;

			while (j < n && is_wsp(s[j]))
				j++;
			if (j < n && s[j] == '\r')
				j++;
			if (j < n && s[j] == '\n') {
				i = j;	/* soft line break */
				continue;
			}
			if (j >= n)
				break;
		} else if (q && c == '_') {
			c = ' ';
		}
		if (buf_add(out, &c, 1))
			return;
	}
}

/* ---- header fields ---- */

struct field {
	const char *name;
	size_t nlen;
	const char *val;
	size_t vlen;
};

struct headers {
	struct field f[REPLY_MAX_HEADERS];
	size_t n;
	char *arena;		/* unfolded values */
};

/* Read the header block at p[0..n); *body gets the offset of the body
 * (n when there is no empty line).  Values are unfolded into h->arena. */
static void parse_headers(struct headers *h, const char *p, size_t n, size_t *body)
{
	size_t i = 0, a = 0;
	struct field *cur = NULL;

	h->n = 0;
	h->arena = xmalloc(n + 1);
	*body = n;
	while (i < n) {
		const char *line = p + i, *nl = memchr(line, '\n', n - i);
		size_t len = nl ? (size_t)(nl - line) : n - i;
		size_t raw = len;
		const char *colon;

		i += len + (nl ? 1 : 0);
		if (len && line[len - 1] == '\r')
			len--;
		if (!len) {
			*body = i;
			break;
		}
		if (is_wsp(line[0])) {
			if (cur) {
				memcpy(h->arena + a, line, len);
				a += len;
				cur->vlen += len;
			}
			continue;
		}
		(void)raw;
		colon = memchr(line, ':', len);
		cur = NULL;
		if (!colon || colon == line || h->n >= REPLY_MAX_HEADERS)
			continue;
		cur = &h->f[h->n++];
		cur->name = line;
		cur->nlen = (size_t)(colon - line);
		while (cur->nlen && is_wsp(line[cur->nlen - 1]))
			cur->nlen--;
		cur->val = h->arena + a;
		cur->vlen = len - (size_t)(colon + 1 - line);
		memcpy(h->arena + a, colon + 1, cur->vlen);
		a += cur->vlen;
	}
	for (size_t k = 0; k < h->n; k++)
		trim(&h->f[k].val, &h->f[k].vlen);
}

static const struct field *field_at(const struct headers *h, const char *name, size_t *from)
{
	size_t k = strlen(name);

	for (size_t i = from ? *from : 0; i < h->n; i++)
		if (h->f[i].nlen == k && !strncasecmp(h->f[i].name, name, k)) {
			if (from)
				*from = i + 1;
			return &h->f[i];
		}
	return NULL;
}

static const struct field *field(const struct headers *h, const char *name)
{
	return field_at(h, name, NULL);
}

/* One RFC 2047 encoded word at s[0..n) ("=?cs?e?text?="): decoded into
 * out; returns its length, or 0 if s does not start with one. */
static size_t encoded_word(struct buf *out, const char *s, size_t n)
{
	const char *q1, *q2, *end;
	char cs[48];
	struct buf raw = BUF_INIT(4096);
	size_t csn;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	q1 = memchr(s + 2, '?', (n < 64 ? n : 64) - 2);
	if (!q1 || q1 + 3 >= s + n || q1[2] != '?')
		return 0;
	end = NULL;
	if (n > 200)
		n = 200;	/* an encoded word has at most 75 characters */
	if (q1 + 3 >= s + n)
		return 0;
	for (q2 = q1 + 3; q2 + 1 < s + n; q2++)
		if (q2[0] == '?' && q2[1] == '=') {
			end = q2;
			break;
		}
	if (!end)
		return 0;
	csn = (size_t)(q1 - (s + 2));
	if (!csn || csn >= sizeof(cs))
		return 0;
	memcpy(cs, s + 2, csn);
	cs[csn] = '\0';
	if (strchr(cs, '*'))
		*strchr(cs, '*') = '\0';	/* RFC 2231 language */
	if (q1[1] == 'B' || q1[1] == 'b')
		b64_decode(&raw, q1 + 3, (size_t)(end - (q1 + 3)));
	else if (q1[1] == 'Q' || q1[1] == 'q')
		qp_decode(&raw, q1 + 3, (size_t)(end - (q1 + 3)), 1);
	else
		return 0;
	if (raw.len)
		to_utf8(out, cs, raw.data, raw.len);
	buf_release(&raw);
	return (size_t)(end + 2 - s);
}

void reply_decode_header(char *out, size_t outsize, const char *s, size_t n)
{
	struct buf b = BUF_INIT(8192), clean = BUF_INIT(8192);
	int last_word = 0;

	if (n > 4 * outsize)
		n = 4 * outsize;	/* more could not be kept anyway */

	for (size_t i = 0; i < n;) {
		size_t k = encoded_word(&b, s + i, n - i);
		size_t w;

		if (k) {
			i += k;
			last_word = 1;
			continue;
		}
		/* whitespace between two encoded words is dropped */
		for (w = i; w < n && isspace((unsigned char)s[w]); w++)
			;
		if (last_word && w > i && n - w >= 8 && s[w] == '=' && s[w + 1] == '?') {
			struct buf probe = BUF_INIT(4096);
			size_t pk = encoded_word(&probe, s + w, n - w);

			buf_release(&probe);
			if (pk) {
				i = w;
				continue;
			}
		}
		buf_add(&b, s + i, 1);
		last_word = 0;
		i++;
	}
	add_utf8(&clean, b.data ? b.data : "", b.len, 1);
	copy_cut(out, outsize, clean.data ? clean.data : "", clean.len);
	buf_release(&b);
	buf_release(&clean);
}

/* ---- Content-Type and friends ---- */

struct ctype {
	char type[64];		/* "text/plain", lowercase */
	char charset[48];
	char boundary[72];
	int attachment;
	int encoding;		/* 0 identity, 1 base64, 2 quoted-printable */
};

/* The value of parameter name in v[0..n) ("; name=value" or quoted). */
static int param(const char *v, size_t n, const char *name, char *out, size_t outsize)
{
	size_t k = strlen(name);

	for (size_t i = 0; i < n; i++) {
		size_t j, o = 0;

		if (v[i] != ';')
			continue;
		j = i + 1;
		while (j < n && isspace((unsigned char)v[j]))
			j++;
		if (n - j <= k || strncasecmp(v + j, name, k))
			continue;
		j += k;
		while (j < n && is_wsp(v[j]))
			j++;
		if (j >= n || v[j] != '=')
			continue;
		j++;
		while (j < n && is_wsp(v[j]))
			j++;
		if (j < n && v[j] == '"') {
			for (j++; j < n && v[j] != '"' && o + 1 < outsize; j++) {
				if (v[j] == '\\' && j + 1 < n)
					j++;
				out[o++] = v[j];
			}
		} else {
			for (; j < n && v[j] != ';' && !isspace((unsigned char)v[j]) &&
			       o + 1 < outsize; j++)
				out[o++] = v[j];
		}
		out[o] = '\0';
		return o > 0;
	}
	return 0;
}

static void content_type(const struct headers *h, struct ctype *ct, int digest)
{
	const struct field *f = field(h, "Content-Type");
	const struct field *e = field(h, "Content-Transfer-Encoding");
	const struct field *d = field(h, "Content-Disposition");
	size_t n = 0;

	memset(ct, 0, sizeof(*ct));
	strlcpy_gl(ct->type, digest ? "message/rfc822" : "text/plain", sizeof(ct->type));
	if (f) {
		while (n < f->vlen && n + 1 < sizeof(ct->type) && f->val[n] != ';' &&
		       !isspace((unsigned char)f->val[n]))
			n++;
		if (n && memchr(f->val, '/', n)) {
			for (size_t i = 0; i < n; i++)
				ct->type[i] = (char)tolower((unsigned char)f->val[i]);
			ct->type[n] = '\0';
		}
		param(f->val, f->vlen, "charset", ct->charset, sizeof(ct->charset));
		if (!param(f->val, f->vlen, "boundary", ct->boundary, sizeof(ct->boundary)))
			ct->boundary[0] = '\0';
	}
	if (e && prefix_ci(e->val, e->vlen, "base64"))
		ct->encoding = 1;
	else if (e && prefix_ci(e->val, e->vlen, "quoted-printable"))
		ct->encoding = 2;
	ct->attachment = d && prefix_ci(d->val, d->vlen, "attachment");
}

/* ---- HTML to text ---- */

static size_t put_codepoint(struct buf *out, unsigned long cp)
{
	char u[4];
	size_t k;

	if (!cp || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char)cp, k = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), k = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f)), k = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), k = 4;
	}
	buf_add(out, u, k);
	return k;
}

/* An entity at s[0..n) ("&amp;", "&#65;"): appended; returns its length,
 * or 0 when s does not start with one we know. */
static size_t entity(struct buf *out, const char *s, size_t n)
{
	static const struct { const char *name; const char *text; } named[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
		{ "&quot;", "\"" }, { "&apos;", "'" }, { "&nbsp;", " " },
		{ "&mdash;", "\xe2\x80\x94" }, { "&ndash;", "\xe2\x80\x93" },
		{ "&rsquo;", "\xe2\x80\x99" }, { "&lsquo;", "\xe2\x80\x98" },
		{ "&ldquo;", "\xe2\x80\x9c" }, { "&rdquo;", "\xe2\x80\x9d" },
		{ "&hellip;", "\xe2\x80\xa6" },
	};
	const char *semi = memchr(s, ';', n < 12 ? n : 12);
	unsigned long cp = 0;
	size_t i;

	if (!semi)
		return 0;
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (prefix_ci(s, n, named[i].name)) {
			buf_adds(out, named[i].text);
			return strlen(named[i].name);
		}
	if (n < 4 || s[1] != '#')
		return 0;
	if (s[2] == 'x' || s[2] == 'X') {
		for (i = 3; s + i < semi; i++) {
			if (hexval(s[i]) < 0)
				return 0;
			cp = cp * 16 + (unsigned long)hexval(s[i]);
		}
	} else {
		for (i = 2; s + i < semi; i++) {
			if (!isdigit((unsigned char)s[i]))
				return 0;
			cp = cp * 10 + (unsigned long)(s[i] - '0');
		}
	}
	if (cp == 0xa0)
		cp = ' ';
	put_codepoint(out, cp);
	return (size_t)(semi + 1 - s);
}

static int tag_is(const char *t, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n >= k && !strncasecmp(t, name, k) &&
	       (n == k || !isalnum((unsigned char)t[k]));
}

/* Whether a tag opens the quoted part of a reply. */
static int quote_tag(const char *t, size_t n)
{
	return tag_is(t, n, "blockquote") || contains_ci(t, n, "gmail_quote") ||
	       contains_ci(t, n, "divRplyFwdMsg") || contains_ci(t, n, "moz-cite-prefix") ||
	       contains_ci(t, n, "appendonsend") || contains_ci(t, n, "yahoo_quoted");
}

/* Text of HTML s[0..n): tags removed, block tags as line breaks, entities
 * decoded; script, style and head skipped.  stop_at_quote: end at the
 * quoted part. */
static void html_text(struct buf *out, const char *s, size_t n, int stop_at_quote)
{
	static const char *const blocks[] = {
		"br", "p", "/p", "div", "/div", "tr", "li", "h1", "h2", "h3",
		"h4", "h5", "h6", "table", "/table", "blockquote", "/blockquote", "hr",
	};
	static const char *const skip[] = { "script", "style", "head", "title" };
	size_t i = 0;

	while (i < n) {
		if (s[i] == '<') {
			const char *gt;
			const char *t = s + i + 1;
			size_t tn;

			if (prefix_ci(s + i, n - i, "<!--")) {
				size_t j = i + 4;

				while (j + 2 < n && memcmp(s + j, "-->", 3))
					j++;
				i = j + 3;
				continue;
			}
			gt = memchr(s + i, '>', n - i);
			if (!gt)
				break;
			tn = (size_t)(gt - t);
			i = (size_t)(gt - s) + 1;
			if (stop_at_quote && quote_tag(t, tn))
				break;
			for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
				if (tag_is(t, tn, skip[k])) {
					/* to the matching close tag */
					size_t kl = strlen(skip[k]);

					while (i < n && !(s[i] == '<' && i + 2 + kl <= n && s[i + 1] == '/' &&
							  !strncasecmp(s + i + 2, skip[k], kl)))
						i++;
					break;
				}
			for (size_t k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++)
				if (tag_is(t, tn, blocks[k])) {
					buf_adds(out, "\n");
					break;
				}
			continue;
		}
		if (s[i] == '&') {
			size_t k = entity(out, s + i, n - i);

			if (k) {
				i += k;
				continue;
			}
		}
		buf_add(out, s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? " " : s + i, 1);
		i++;
	}
}

/* ---- the MIME walk ---- */

struct walk {
	struct reply *r;
	struct buf plain, html;		/* first text/plain and text/html, UTF-8 */
	int have_plain, have_html;
	int parts;
};

static void decode_part(struct buf *out, const struct ctype *ct, const char *s, size_t n)
{
	struct buf raw = BUF_INIT(REPLY_MAX_INPUT);

	if (ct->encoding == 1)
		b64_decode(&raw, s, n);
	else if (ct->encoding == 2)
		qp_decode(&raw, s, n, 0);
	else
		buf_add(&raw, s, n);
	if (raw.len)
		to_utf8(out, ct->charset, raw.data, raw.len);
	buf_release(&raw);
}

static void body(struct walk *w, const struct headers *h, const char *p, size_t n,
		 int depth, int digest);

/* Offset of the next line "--boundary" in p[from..n), or n. */
static size_t find_delim(const char *p, size_t n, const char *b, size_t bl, size_t from)
{
	for (size_t i = from; i < n;) {
		const char *nl;

		if (n - i >= bl + 2 && p[i] == '-' && p[i + 1] == '-' && !memcmp(p + i + 2, b, bl))
			return i;
		nl = memchr(p + i, '\n', n - i);
		if (!nl)
			break;
		i = (size_t)(nl - p) + 1;
	}
	return n;
}

static void part(struct walk *w, const char *p, size_t n, int depth, int digest)
{
	struct headers *h = xmalloc(sizeof(*h));
	size_t off;

	parse_headers(h, p, n, &off);
	body(w, h, p + off, n - off, depth, digest);
	free(h->arena);
	free(h);
}

static void multipart(struct walk *w, const struct ctype *ct, const char *p, size_t n,
		      int depth)
{
	size_t bl = strlen(ct->boundary);
	size_t at = find_delim(p, n, ct->boundary, bl, 0);
	int digest = !strcmp(ct->type, "multipart/digest");

	while (at < n && w->parts < REPLY_MAX_PARTS) {
		const char *nl;
		size_t start, next, end;

		if (n - at >= bl + 4 && p[at + 2 + bl] == '-' && p[at + 3 + bl] == '-')
			return;	/* close delimiter */
		nl = memchr(p + at, '\n', n - at);
		if (!nl)
			return;
		start = (size_t)(nl - p) + 1;
		next = find_delim(p, n, ct->boundary, bl, start);
		end = next;
		if (end > start && p[end - 1] == '\n')
			end--;
		if (end > start && p[end - 1] == '\r')
			end--;
		part(w, p + start, end - start, depth + 1, digest);
		at = next;
	}
}

static void body(struct walk *w, const struct headers *h, const char *p, size_t n,
		 int depth, int digest)
{
	struct ctype ct;

	if (w->parts++ >= REPLY_MAX_PARTS)
		return;
	content_type(h, &ct, digest);
	if (!strcmp(ct.type, "multipart/report") ||
	    !strcmp(ct.type, "message/delivery-status") ||
	    !strcmp(ct.type, "message/disposition-notification")) {
		if (!w->r->automatic)
			w->r->automatic = "a delivery or read report";
		return;
	}
	if (!strncmp(ct.type, "multipart/", 10)) {
		if (*ct.boundary && depth < REPLY_MAX_DEPTH)
			multipart(w, &ct, p, n, depth);
		return;
	}
	if (ct.attachment)
		return;
	if (!strcmp(ct.type, "text/plain") && !w->have_plain) {
		w->have_plain = 1;
		decode_part(&w->plain, &ct, p, n);
	} else if (!strcmp(ct.type, "text/html") && !w->have_html) {
		w->have_html = 1;
		decode_part(&w->html, &ct, p, n);
	}
	/* message/rfc822 and everything else: not read (a forwarded message
	 * is someone else's text) */
}

/* ---- what the backend asks for ---- */

static void add_code(struct reply *r, const char *c)
{
	for (size_t i = 0; i < r->ncodes; i++)
		if (!memcmp(r->codes[i], c, TOKEN_LEN))
			return;
	if (r->ncodes == REPLY_MAX_CODES) {
		r->more_codes = 1;
		return;
	}
	memcpy(r->codes[r->ncodes], c, TOKEN_LEN);
	r->codes[r->ncodes++][TOKEN_LEN] = '\0';
}

/* Reply codes in s[0..n): "+CODE@" and "Reply code: CODE". */
static void scan_codes(struct reply *r, const char *s, size_t n)
{
	static const char label[] = "reply code:";

	for (size_t i = 0; i < n; i++) {
		size_t at = n;

		if (s[i] == '+' && n - i > TOKEN_LEN + 1 && s[i + 1 + TOKEN_LEN] == '@')
			at = i + 1;
		else if ((s[i] == 'r' || s[i] == 'R') && prefix_ci(s + i, n - i, label)) {
			size_t j = i + sizeof(label) - 1;

			while (j < n && (is_wsp(s[j]) || s[j] == '*'))
				j++;
			if (n - j >= TOKEN_LEN && (n - j == TOKEN_LEN ||
						   !is_b64url((unsigned char)s[j + TOKEN_LEN])))
				at = j;
		}
		if (at < n && token_syntax_ok(s + at, TOKEN_LEN))
			add_code(r, s + at);
	}
}

/* Leading and trailing blanks of a line, including NBSP, ZWSP and BOM. */
static void trim_line(const char **s, size_t *n)
{
	for (;;) {
		trim(s, n);
		if (*n >= 2 && !memcmp(*s, "\xc2\xa0", 2))
			*s += 2, *n -= 2;
		else if (*n >= 3 && (!memcmp(*s, "\xe2\x80\x8b", 3) || !memcmp(*s, "\xef\xbb\xbf", 3)))
			*s += 3, *n -= 3;
		else if (*n >= 2 && !memcmp(*s + *n - 2, "\xc2\xa0", 2))
			*n -= 2;
		else
			break;
	}
}

/* Whether a line starts the quoted part (next: the following line). */
static int quote_line(const char *l, size_t n, const char *next, size_t nn)
{
	if (l[0] == '>' || prefix_ci(l, n, "-----Original Message") ||
	    prefix_ci(l, n, "________________") || prefix_ci(l, n, "From: ") ||
	    prefix_ci(l, n, "-------- Forwarded") || prefix_ci(l, n, "---------- Forwarded"))
		return 1;
	if (prefix_ci(l, n, "On ") && (contains_ci(l, n, "wrote:") ||
				       (next && contains_ci(next, nn, "wrote:"))))
		return 1;
	return 0;
}

static void set_verdict(struct reply *r, const char *l, size_t n)
{
	struct buf why = BUF_INIT(4 * REPLY_REASON_MAX);
	size_t k;

	copy_cut(r->first_line, sizeof(r->first_line), l, n);
	if (prefix_ci(l, n, "approve"))
		k = 7, r->verdict = REPLY_APPROVE;
	else if (prefix_ci(l, n, "reject"))
		k = 6, r->verdict = REPLY_REJECT;
	else
		return;
	if (k < n && (isalnum((unsigned char)l[k]) || l[k] == '_' || (unsigned char)l[k] >= 0x80)) {
		r->verdict = REPLY_NONE;	/* "approved", "rejection" */
		return;
	}
	for (;;) {
		if (k < n && (isspace((unsigned char)l[k]) || strchr(":,.;!-", l[k])))
			k++;
		else if (n - k >= 3 && (!memcmp(l + k, "\xe2\x80\x94", 3) || !memcmp(l + k, "\xe2\x80\x93", 3)))
			k += 3;
		else
			break;
	}
	add_utf8(&why, l + k, n - k, 1);
	copy_cut(r->reason, sizeof(r->reason), why.data ? why.data : "", why.len);
	buf_release(&why);
}

/* The first non-empty line of text t[0..n), unless the quote comes first. */
static void first_line(struct reply *r, const char *t, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *l = t + i, *nl = memchr(l, '\n', n - i);
		size_t len = nl ? (size_t)(nl - l) : n - i;
		const char *next = NULL;
		size_t nlen = 0;

		i += len + (nl ? 1 : 0);
		trim_line(&l, &len);
		if (!len)
			continue;
		if (i < n) {
			const char *nn = memchr(t + i, '\n', n - i);

			next = t + i;
			nlen = nn ? (size_t)(nn - next) : n - i;
		}
		if (quote_line(l, len, next, nlen)) {
			r->quoted_only = 1;
			copy_cut(r->first_line, sizeof(r->first_line), l, len);
			return;
		}
		set_verdict(r, l, len);
		return;
	}
}

/* Whether s[0..n) has non-blank text before any quoted part. */
static int has_text(const char *s, size_t n)
{
	struct reply tmp;

	memset(&tmp, 0, sizeof(tmp));
	first_line(&tmp, s, n);
	return tmp.first_line[0] && !tmp.quoted_only;
}

/* The single addr-spec in a From value, or "". */
static void from_addr(char *out, size_t outsize, const char *v, size_t n)
{
	int quote = 0, angle = 0, paren = 0, commas = 0;
	const char *lt = NULL, *gt = NULL;
	struct buf a = BUF_INIT(512);

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (quote) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quote = 0;
		} else if (paren) {
			paren += c == '(' ? 1 : c == ')' ? -1 : 0;
		} else if (c == '"') {
			quote = 1;
		} else if (c == '(') {
			paren = 1;
		} else if (c == '<') {
			angle++;
			lt = v + i;
		} else if (c == '>' && lt) {
			gt = v + i;
		} else if (c == ',') {
			commas++;
		} else if (!angle) {
			buf_add(&a, &c, 1);
		}
	}
	if (commas || angle > 1) {
		buf_release(&a);
		return;
	}
	if (lt && gt && gt > lt) {
		buf_release(&a);
		buf_add(&a, lt + 1, (size_t)(gt - lt - 1));
	}
	if (a.len) {
		const char *s = a.data;
		size_t len = a.len;
		int ok = 1;

		trim(&s, &len);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
			    strchr("<>()\",;\\", s[i]))
				ok = 0;
		const char *at1 = memchr(s, '@', len);

		if (ok && len && len < outsize && at1 && !memchr(at1 + 1, '@', len - (size_t)(at1 + 1 - s))) {
			memcpy(out, s, len);
			out[len] = '\0';
		}
	}
	buf_release(&a);
}

static void message_id(char *out, size_t outsize, const struct field *f)
{
	out[0] = '\0';
	if (!f || f->vlen < 3 || f->vlen >= outsize || f->val[0] != '<' ||
	    f->val[f->vlen - 1] != '>')
		return;
	for (size_t i = 0; i < f->vlen; i++)
		if ((unsigned char)f->val[i] <= ' ' || (unsigned char)f->val[i] >= 0x7f)
			return;
	memcpy(out, f->val, f->vlen);
	out[f->vlen] = '\0';
}

static void add_refs(struct reply *r, const struct field *f)
{
	size_t have = strlen(r->refs);

	if (!f || have + f->vlen + 2 >= sizeof(r->refs))
		return;
	if (have)
		r->refs[have++] = ' ';
	for (size_t i = 0; i < f->vlen; i++)
		r->refs[have++] = (unsigned char)f->val[i] < ' ' ? ' ' : f->val[i];
	r->refs[have] = '\0';
}

/* Automatic replies: the headers that say so, bounces, out-of-office. */
static const char *automatic(const struct reply *r, const struct headers *h)
{
	static const char *const subjects[] = {
		"out of office", "automatic reply", "auto:", "autoreply",
		"auto-reply", "auto reply", "undeliverable", "undelivered mail",
		"delivery status notification", "returned mail", "mail delivery failed",
		"vacation", "abwesenheit",
	};
	const struct field *f;
	size_t sl = strlen(r->subject);

	if ((f = field(h, "Auto-Submitted")) && !(f->vlen >= 2 && prefix_ci(f->val, f->vlen, "no") &&
						  (f->vlen == 2 || !isalnum((unsigned char)f->val[2]))))
		return "Auto-Submitted is not \"no\"";
	if (field(h, "X-Autoreply") || field(h, "X-Autorespond") || field(h, "X-Autogenerated"))
		return "an auto-reply header (X-Autoreply)";
	if ((f = field(h, "Precedence")) && (prefix_ci(f->val, f->vlen, "bulk") ||
					     prefix_ci(f->val, f->vlen, "junk") ||
					     prefix_ci(f->val, f->vlen, "list") ||
					     prefix_ci(f->val, f->vlen, "auto_reply")))
		return "Precedence: bulk, junk or list";
	if ((f = field(h, "Return-Path")) && f->vlen == 2 && !memcmp(f->val, "<>", 2))
		return "a null Return-Path (a bounce)";
	if (prefix_ci(r->from, strlen(r->from), "mailer-daemon@") ||
	    prefix_ci(r->from, strlen(r->from), "postmaster@"))
		return "sent by a mail system (MAILER-DAEMON)";
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++)
		if (prefix_ci(r->subject, sl, subjects[i]))
			return "an out-of-office or delivery subject";
	return NULL;
}

int reply_parse(struct reply *r, const char *data, size_t n)
{
	struct headers *h = xmalloc(sizeof(*h));
	struct walk w = { r, BUF_INIT(REPLY_MAX_TEXT), BUF_INIT(REPLY_MAX_TEXT), 0, 0, 0 };
	struct buf full = BUF_INIT(REPLY_MAX_TEXT), cut = BUF_INIT(REPLY_MAX_TEXT);
	const struct field *f;
	size_t off, from = 0;
	int rc;
	static const char *const to_fields[] = { "To", "Cc", "Delivered-To", "X-Original-To" };

	memset(r, 0, sizeof(*r));
	if (n > REPLY_MAX_INPUT)
		n = REPLY_MAX_INPUT;
	parse_headers(h, data, n, &off);
	if ((f = field(h, "From")))
		from_addr(r->from, sizeof(r->from), f->val, f->vlen);
	if ((f = field(h, "Subject")))
		reply_decode_header(r->subject, sizeof(r->subject), f->val, f->vlen);
	message_id(r->message_id, sizeof(r->message_id), field(h, "Message-ID"));
	add_refs(r, field(h, "In-Reply-To"));
	add_refs(r, field(h, "References"));
	for (size_t i = 0; i < sizeof(to_fields) / sizeof(to_fields[0]); i++)
		for (from = 0; (f = field_at(h, to_fields[i], &from));)
			scan_codes(r, f->val, f->vlen);
	for (from = 0; r->nauth < REPLY_MAX_AUTH &&
		       (f = field_at(h, "Authentication-Results", &from));)
		copy_cut(r->auth[r->nauth++], sizeof(r->auth[0]), f->val, f->vlen);
	r->automatic = automatic(r, h);
	if (h->n)
		body(&w, h, data + off, n - off, 0, 0);
	if (w.plain.len)
		scan_codes(r, w.plain.data, w.plain.len);
	if (w.html.len) {
		html_text(&full, w.html.data, w.html.len, 0);
		if (full.len)
			scan_codes(r, full.data, full.len);
		html_text(&cut, w.html.data, w.html.len, 1);
	}
	if (w.plain.len && (has_text(w.plain.data, w.plain.len) || !cut.len))
		first_line(r, w.plain.data, w.plain.len);
	else if (cut.len)
		first_line(r, cut.data, cut.len);
	rc = h->n ? 0 : -1;
	buf_release(&w.plain);
	buf_release(&w.html);
	buf_release(&full);
	buf_release(&cut);
	free(h->arena);
	free(h);
	return rc;
}

int reply_references(const struct reply *r, const char *msgid)
{
	return msgid && *msgid && strstr(r->refs, msgid) != NULL;
}

/* ---- Authentication-Results (RFC 8601) ---- */

/* s without comments (nested parentheses) and with quotes removed. */
static void strip_comments(char *out, size_t outsize, const char *s)
{
	size_t o = 0;
	int depth = 0, quote = 0;

	for (; *s && o + 1 < outsize; s++) {
		if (quote) {
			if (*s == '"')
				quote = 0;
			else
				out[o++] = *s;
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')' && depth) {
			depth--;
		} else if (!depth) {
			if (*s == '"')
				quote = 1;
			else
				out[o++] = *s;
		}
	}
	out[o] = '\0';
}

/* The value of "name=" among the blank-separated words of s (a resinfo). */
static int prop(const char *s, const char *name, char *out, size_t outsize)
{
	size_t k = strlen(name);

	for (const char *p = s; *p; p++) {
		if ((p == s || isspace((unsigned char)p[-1])) && !strncasecmp(p, name, k) && p[k] == '=') {
			size_t n = strcspn(p + k + 1, " \t\r\n;");

			copy_cut(out, outsize, p + k + 1, n);
			return 1;
		}
	}
	return 0;
}

/* Whether domain d aligns with the From domain (equal, or its parent). */
static int aligned(const char *from_dom, const char *d)
{
	size_t fl = strlen(from_dom), dl = strlen(d);

	if (!dl)
		return 0;
	if (!strcasecmp(from_dom, d))
		return 1;
	return fl > dl + 1 && from_dom[fl - dl - 1] == '.' && !strcasecmp(from_dom + fl - dl, d) &&
	       strchr(d, '.');
}

int reply_auth_ok(const struct reply *r, const char *authserv_id,
		  char *why, size_t whylen)
{
	const char *at = strrchr(r->from, '@');
	const char *dom = at ? at + 1 : "";

	for (size_t i = 0; i < r->nauth; i++) {
		char v[1024], id[256], seen[256] = "";
		const char *p;
		size_t idn;

		strip_comments(v, sizeof(v), r->auth[i]);
		p = v;
		while (isspace((unsigned char)*p))
			p++;
		idn = strcspn(p, " \t;");
		copy_cut(id, sizeof(id), p, idn);
		if (strcasecmp(id, authserv_id))
			continue;
		/* the topmost field from the trusted server decides */
		for (p = strchr(p, ';'); p; p = strchr(p + 1, ';')) {
			char res[1024], method[32], d[256];
			size_t rn = strcspn(p + 1, ";");
			const char *q = res;
			size_t mn;

			copy_cut(res, sizeof(res), p + 1, rn);
			while (isspace((unsigned char)*q))
				q++;
			mn = strcspn(q, " \t");
			copy_cut(method, sizeof(method), q, mn);
			if (strlen(seen) + strlen(method) + 3 < sizeof(seen) && *method) {
				if (*seen)
					strlcpy_gl(seen + strlen(seen), ", ", sizeof(seen) - strlen(seen));
				strlcpy_gl(seen + strlen(seen), method, sizeof(seen) - strlen(seen));
			}
			if (!strcasecmp(method, "dmarc=pass") &&
			    (!prop(q, "header.from", d, sizeof(d)) || !strcasecmp(d, dom)) && *dom)
				return 1;
			if (!strcasecmp(method, "dkim=pass") && *dom) {
				if (prop(q, "header.d", d, sizeof(d)) && aligned(dom, d))
					return 1;
				if (prop(q, "header.i", d, sizeof(d)) && strchr(d, '@') &&
				    aligned(dom, strchr(d, '@') + 1))
					return 1;
			}
		}
		fail_into(why, whylen, "%s did not vouch for %s (%s)", authserv_id,
			  *dom ? dom : "the sender", *seen ? seen : "no results");
		return 0;
	}
	fail_into(why, whylen, "no Authentication-Results from %s", authserv_id);
	return 0;
}
