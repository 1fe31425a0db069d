/* mime.c - compose the review-request email (see mime.h).
 *
 * Reading order: cleaning (UTF-8 aware), the three encoders (RFC 2047
 * header words, HTML escaping, quoted-printable), validators, then the
 * composer: facts are cleaned once into struct clean, the text and HTML
 * bodies are written into private buffers, and only then are the headers
 * and the encoded parts appended to the caller's buffer.  Everything here is
 * a function of its arguments; nothing is global except constant tables.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "mime.h"
#include "token.h"
#include "utf8.h"

#define PART_MAX (MIME_MAX_MESSAGE / 2)

/* ---- cleaning ---------------------------------------------------------- */

enum cp_action { CP_KEEP, CP_SPACE, CP_DROP, CP_REPLACE };

static enum cp_action classify(uint32_t cp)
{
	if (cp == UTF8_BAD)
		return CP_REPLACE;
	if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c ||
	    cp == 0x85 || cp == 0x2028 || cp == 0x2029)
		return CP_SPACE;
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return CP_DROP;
	/* bidi embeddings/overrides/isolates and BOM: display spoofing */
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0xfeff)
		return CP_DROP;
	return CP_KEEP;
}

/* Cut out->data back to at most base + keep bytes on a character boundary
 * and append "…" when keep leaves room for it. */
static int cut_with_ellipsis(struct buf *out, size_t base, size_t cap)
{
	size_t keep = cap >= 3 ? cap - 3 : cap;
	size_t cut = base + keep;

	while (cut > base && ((unsigned char)out->data[cut] & 0xc0) == 0x80)
		cut--;
	out->len = cut;
	out->data[cut] = '\0';
	return cap >= 3 ? buf_add(out, "\xe2\x80\xa6", 3) : 0;
}

int mime_clean(struct buf *out, const char *s, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t base = out->len, n, used;
	int spaced = 0;	/* last output was a space made from a break */
	uint32_t cp;
	int ret = 0;

	if (!s)
		return 0;
	n = strlen(s);
	while (n && !ret && out->len - base <= cap) {
		used = utf8_decode(p, n, &cp);
		switch (classify(cp)) {
		case CP_KEEP:
			ret = buf_add(out, p, used);
			spaced = 0;
			break;
		case CP_SPACE:	/* "\r\n" and friends become one space */
			if (!spaced)
				ret = buf_add(out, " ", 1);
			spaced = 1;
			break;
		case CP_REPLACE:
			ret = buf_adds(out, UTF8_REPLACEMENT);
			spaced = 0;
			break;
		case CP_DROP:
			break;
		}
		p += used;
		n -= used;
	}
	if (!ret && out->len - base > cap)
		ret = cut_with_ellipsis(out, base, cap);
	return ret;
}

/* Cleaned, capped, heap copy of s; NULL for NULL.  Sets *failed on error. */
static char *clean_dup(const char *s, size_t cap, int *failed)
{
	struct buf b = BUF_INIT(cap + 8);

	if (!s)
		return NULL;
	if (mime_clean(&b, s, cap) || !(s = buf_detach(&b, NULL))) {
		*failed = 1;
		return NULL;
	}
	return (char *)s;
}

/* ---- RFC 2047 header encoding -------------------------------------------- */

static int header_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 64)
		return 0;
	for (; *name; name++)
		if (*name < 33 || *name > 126 || *name == ':')
			return 0;
	return 1;
}

/* Append one encoded-word for s[0..n) (n <= 45). */
static int add_encoded_word(struct buf *out, const char *s, size_t n)
{
	unsigned char b64[64];

	EVP_EncodeBlock(b64, (const unsigned char *)s, (int)n);
	if (buf_adds(out, " =?UTF-8?B?") || buf_adds(out, (char *)b64))
		return -1;
	return buf_adds(out, "?=");
}

/* Longest prefix of s[0..n) within max bytes that ends on a character. */
static size_t utf8_prefix(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

static int encode_words(struct buf *out, const char *v, size_t n, size_t col)
{
	size_t pos = 0, word, take;

	while (pos < n) {
		/* " =?UTF-8?B?" "?=" is 13 bytes; a word is at most 75 */
		word = 78 - col - 1 < 75 ? 78 - col - 1 : 75;
		if (word < 12 + 8) {	/* no room for one 4-byte character */
			if (buf_adds(out, "\r\n"))
				return -1;
			col = 0;
			continue;
		}
		take = utf8_prefix(v + pos, n - pos, (word - 12) / 4 * 3);
		if (add_encoded_word(out, v + pos, take))
			return -1;
		pos += take;
		col = 0;
		if (pos < n && buf_adds(out, "\r\n"))
			return -1;
	}
	return buf_adds(out, "\r\n");
}

int mime_header_encode(struct buf *out, const char *name, const char *value,
		       size_t cap)
{
	struct buf v = BUF_INIT(cap + 8);
	int ret = -1;

	if (!header_name_ok(name)) {
		buf_release(out);
		goto out;
	}
	if (mime_clean(&v, value, cap)) {
		buf_release(out);
		goto out;
	}
	if (buf_adds(out, name) || buf_adds(out, ":"))
		goto out;
	ret = encode_words(out, v.data ? v.data : "", v.len, strlen(name) + 1);
out:
	buf_release(&v);
	return ret ? -1 : 0;
}

/* ---- HTML and quoted-printable ------------------------------------------- */

int mime_html_escape(struct buf *out, const char *s)
{
	const char *run = s;
	const char *ent;
	int ret = 0;

	for (; *s && !ret; s++) {
		switch (*s) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: continue;
		}
		ret = buf_add(out, run, (size_t)(s - run));
		if (!ret)
			ret = buf_adds(out, ent);
		run = s + 1;
	}
	if (!ret)
		ret = buf_add(out, run, (size_t)(s - run));
	return ret;
}

static int qp_literal(const unsigned char *line, size_t n, size_t i)
{
	unsigned char c = line[i];

	if (i == 0 && (c == '.' || (n >= 5 && !memcmp(line, "From ", 5))))
		return 0;
	if (c == ' ')
		return i + 1 < n;	/* trailing space must be encoded */
	return c >= 33 && c <= 126 && c != '=';
}

static int qp_line(struct buf *out, const unsigned char *line, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3] = { '=', 0, 0 };
	size_t i, col = 0, w;
	int lit, ret = 0;

	for (i = 0; i < n && !ret; i++) {
		lit = qp_literal(line, n, i);
		w = lit ? 1 : 3;
		/* 76 per line: 75 + "=" soft break, or 76 on the last chunk */
		if (col + w > 75 && !(i + 1 == n && col + w <= 76)) {
			ret = buf_add(out, "=\r\n", 3);
			col = 0;
		}
		esc[1] = hex[line[i] >> 4];
		esc[2] = hex[line[i] & 15];
		if (!ret)
			ret = lit ? buf_add(out, &line[i], 1) : buf_add(out, esc, 3);
		col += w;
	}
	return ret ? ret : buf_add(out, "\r\n", 2);
}

int mime_qp_encode(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *nl;
	size_t len;
	int ret = 0;

	while (n && !ret) {
		nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl - p) : n;
		ret = qp_line(out, p, len && nl && p[len - 1] == '\r' ? len - 1 : len);
		if (!nl)
			break;
		n -= len + 1;
		p += len + 1;
	}
	return ret;
}

/* ---- validators ---------------------------------------------------------- */

static int is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int dot_atom_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int domain_ok(const char *s)
{
	size_t label = 0;

	if (!*s || *s == '.' || strlen(s) > 253)
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (!label || s[-1] == '-' || !s[1])
				return 0;
			label = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || (*s == '-' && label)))
			return 0;
		if (++label > 63)
			return 0;
	}
	return s[-1] != '-';
}

int mime_addr_ok(const char *s)
{
	const char *at;
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	at = strchr(s, '@');
	if (n < 3 || n > 254 || !at || strchr(at + 1, '@') || at - s > 64)
		return 0;
	return dot_atom_ok(s, (size_t)(at - s)) && domain_ok(at + 1);
}

static int printable_run(const char *s, size_t from, size_t to, const char *ban)
{
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126 || strchr(ban, c))
			return 0;
	}
	return 1;
}

/* Whether s starts with the lowercase ASCII prefix p, ignoring case. */
static int has_prefix_ci(const char *s, const char *p)
{
	for (; *p; s++, p++) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;

		if (c != *p)
			return 0;
	}
	return 1;
}

int mime_url_ok(const char *s)
{
	size_t skip, n;

	if (!s)
		return 0;
	n = strlen(s);
	if (has_prefix_ci(s, "http://"))
		skip = 7;
	else if (has_prefix_ci(s, "https://"))
		skip = 8;
	else
		return 0;
	return n > skip && n <= MIME_CAP_URL &&
	       printable_run(s, skip, n, "<>\"\\`");
}

static int msgid_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	const char *at;

	if (n < 5 || n > 250 || s[0] != '<' || s[n - 1] != '>')
		return 0;
	at = strchr(s, '@');
	if (!at || at == s + 1 || at == s + n - 2 || strchr(at + 1, '@'))
		return 0;
	return printable_run(s, 1, n - 1, "<> ");
}

static int date_text_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > MIME_CAP_DATE || s[0] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 32 || s[i] > 126)
			return 0;
	return 1;
}

static int boundary_ok(const char *s)
{
	static const char extra[] = "'()+_,-./:=?";
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 70)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || (c && strchr(extra, c))))
			return 0;
	}
	return 1;
}

/* ---- ids and dates ------------------------------------------------------- */

int mime_message_id(char out[MIME_MSGID_SIZE], const char *request_id,
		    const char *recipient)
{
	struct buf b = BUF_INIT(1 << 20);
	char hex[TOKEN_HEX_SIZE];
	int ret = -1;

	out[0] = '\0';
	if (buf_adds(&b, request_id) || buf_adds(&b, "/") ||
	    buf_adds(&b, recipient))
		goto out;
	if (token_sha256_hex(hex, b.data, b.len))
		goto out;
	snprintf(out, MIME_MSGID_SIZE, "<%.32s@greenlight>", hex);
	ret = 0;
out:
	buf_release(&b);
	return ret;
}

int mime_date(char out[MIME_DATE_SIZE], time_t t)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	out[0] = '\0';
	if (!gmtime_r(&t, &tm) || tm.tm_year < 0 || tm.tm_year > 9999 - 1900)
		return -1;
	snprintf(out, MIME_DATE_SIZE, "%s, %02u %s %04u %02u:%02u:%02u +0000",
		 days[tm.tm_wday % 7], (unsigned)tm.tm_mday % 100u,
		 months[tm.tm_mon % 12], (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
		 (unsigned)tm.tm_sec % 100u);
	return 0;
}

/* ---- composition --------------------------------------------------------- */

/* A writer: appends until the first failure, then does nothing. */
struct w {
	struct buf *b;
	int err;
};

static void put(struct w *w, const char *s)
{
	if (!w->err && s)
		w->err = buf_adds(w->b, s);
}

static void put_html(struct w *w, const char *s)
{
	if (!w->err && s)
		w->err = mime_html_escape(w->b, s);
}

static void put_clean(struct w *w, const char *s, size_t cap)
{
	if (!w->err && s)
		w->err = mime_clean(w->b, s, cap);
}

struct clean_rule {
	char *metric, *value, *op, *threshold;
	char *over, *baseline, *change;	/* NULL when not given */
};

/* Every data-derived string, cleaned and capped once. */
struct clean {
	char *gate, *headline, *repo, *team, *reason;
	char *sha, *commit_url, *author, *email, *csubject, *branch;
	char *run_url, *deadline, *trig;
	char **others;
	size_t nothers;		/* listed */
	size_t more_others;	/* not listed */
	int approvals;
	enum mime_self self;
	struct clean_rule *rules;
	size_t nrules;	/* listed in the body */
	size_t more;	/* fired but not listed */
};

static void clean_release(struct clean *c)
{
	for (size_t i = 0; c->rules && i < c->nrules; i++) {
		free(c->rules[i].metric);
		free(c->rules[i].value);
		free(c->rules[i].op);
		free(c->rules[i].threshold);
		free(c->rules[i].over);
		free(c->rules[i].baseline);
		free(c->rules[i].change);
	}
	for (size_t i = 0; c->others && i < c->nothers; i++)
		free(c->others[i]);
	free(c->others);
	free(c->rules);
	free(c->gate), free(c->headline), free(c->repo);
	free(c->team), free(c->reason);
	free(c->sha), free(c->commit_url), free(c->author), free(c->email);
	free(c->csubject), free(c->branch);
	free(c->run_url), free(c->deadline), free(c->trig);
	memset(c, 0, sizeof(*c));
}

/* s when it says something, else NULL. */
static const char *opt(const char *s)
{
	return s && *s ? s : NULL;
}

static int clean_rules(struct clean *c, const struct mime_facts *f, int *failed)
{
	size_t n = f->nrules < MIME_MAX_RULES ? f->nrules : MIME_MAX_RULES;

	c->more = f->nrules - n;
	if (!n)
		return 0;
	c->rules = calloc(n, sizeof(*c->rules));
	if (!c->rules)
		return -1;
	c->nrules = n;
	for (size_t i = 0; i < n; i++) {
		const struct mime_rule *r = &f->rules[i];

		c->rules[i].metric = clean_dup(r->metric ? r->metric : "", MIME_CAP_METRIC, failed);
		c->rules[i].value = clean_dup(r->value ? r->value : "", MIME_CAP_VALUE, failed);
		c->rules[i].op = clean_dup(r->op ? r->op : "", MIME_CAP_OP, failed);
		c->rules[i].threshold = clean_dup(r->threshold ? r->threshold : "",
						  MIME_CAP_VALUE, failed);
		c->rules[i].over = clean_dup(opt(r->over), MIME_CAP_VALUE, failed);
		c->rules[i].baseline = clean_dup(opt(r->baseline), MIME_CAP_VALUE, failed);
		c->rules[i].change = clean_dup(opt(r->change), MIME_CAP_VALUE, failed);
	}
	return *failed ? -1 : 0;
}

static int clean_others(struct clean *c, const struct mime_facts *f, int *failed)
{
	size_t n = f->others ? f->nothers : 0;

	if (n > MIME_MAX_OTHERS)
		n = MIME_MAX_OTHERS;
	c->more_others = (f->others ? f->nothers : 0) - n;
	if (!n)
		return 0;
	c->others = calloc(n, sizeof(*c->others));
	if (!c->others)
		return -1;
	c->nothers = n;
	for (size_t i = 0; i < n; i++)
		c->others[i] = clean_dup(f->others[i] ? f->others[i] : "", MIME_CAP_EMAIL, failed);
	return *failed ? -1 : 0;
}

/* The first rule as a headline: "latencyMs 225 > 80 (+181%)". */
static char *rule_headline(const struct mime_rule *r, int *failed)
{
	struct buf b = BUF_INIT(2 * (MIME_CAP_METRIC + 3 * MIME_CAP_VALUE + MIME_CAP_OP) + 16);
	struct w w = { &b, 0 };
	char *s;

	put_clean(&w, r->metric ? r->metric : "", MIME_CAP_METRIC);
	put(&w, " ");
	put_clean(&w, r->value ? r->value : "", MIME_CAP_VALUE);
	put(&w, " ");
	put_clean(&w, r->op ? r->op : "", MIME_CAP_OP);
	put(&w, " ");
	put_clean(&w, r->threshold ? r->threshold : "", MIME_CAP_VALUE);
	if (opt(r->over)) {
		put(&w, " (");
		put_clean(&w, r->over, MIME_CAP_VALUE);
		put(&w, ")");
	}
	s = w.err ? NULL : buf_detach(&b, NULL);
	buf_release(&b);
	if (!s)
		*failed = 1;
	return s;
}

static int clean_facts(struct clean *c, const struct mime_facts *f)
{
	int failed = 0;

	c->gate = clean_dup(f->gate, MIME_CAP_GATE, &failed);
	if (opt(f->headline))
		c->headline = clean_dup(f->headline, MIME_CAP_REASON, &failed);
	else if (f->nrules)
		c->headline = rule_headline(&f->rules[0], &failed);
	c->repo = clean_dup(opt(f->repository), MIME_CAP_BRANCH, &failed);
	c->team = clean_dup(f->team, MIME_CAP_TEAM, &failed);
	c->approvals = f->approvals > 0 ? f->approvals : 0;
	c->self = f->self;
	c->reason = clean_dup(f->team_reason, MIME_CAP_REASON, &failed);
	c->sha = clean_dup(f->commit_sha, MIME_CAP_SHA, &failed);
	c->commit_url = clean_dup(opt(f->commit_url), MIME_CAP_URL, &failed);
	c->author = clean_dup(f->author_name, MIME_CAP_AUTHOR, &failed);
	c->email = clean_dup(f->author_email, MIME_CAP_EMAIL, &failed);
	c->csubject = clean_dup(f->commit_subject, MIME_CAP_COMMIT_SUBJECT, &failed);
	c->branch = clean_dup(f->branch, MIME_CAP_BRANCH, &failed);
	c->run_url = clean_dup(f->run_url, MIME_CAP_URL, &failed);
	c->trig = clean_dup(f->triggered_by, MIME_CAP_TRIGGERED, &failed);
	c->deadline = clean_dup(f->deadline, MIME_CAP_DATE, &failed);
	if (failed || clean_rules(c, f, &failed) || clean_others(c, f, &failed))
		return -1;
	return 0;
}

static const char note_text[] =
	"This link is personal: it identifies you as the reviewer, so please\n"
	"do not forward it. Opening it does not decide anything - the page\n"
	"shows the details and asks you to approve or reject.\n";

/* Why the recipient may not approve, or NULL. */
static const char *self_text(enum mime_self self)
{
	switch (self) {
	case MIME_SELF_AUTHOR:
		return "You wrote this commit, so you cannot approve it. "
		       "You can still reject it.";
	case MIME_SELF_STARTER:
		return "You started this CI run, so you cannot approve it. "
		       "You can still reject it.";
	default:
		return NULL;
	}
}

/* A writer that escapes for HTML, or not. */
static void put_as(struct w *w, const char *s, int html)
{
	if (html)
		put_html(w, s);
	else
		put(w, s);
}

/* "engineering: 2 approvals needed; also asked: a@x, b@x" */
static void put_team(struct w *w, const struct clean *c, int html)
{
	char num[80];

	put_as(w, c->team, html);
	if (c->approvals) {
		snprintf(num, sizeof(num), ": %d approval%s needed", c->approvals,
			 c->approvals == 1 ? "" : "s");
		put(w, num);
	}
	for (size_t i = 0; i < c->nothers; i++) {
		put(w, i ? ", " : "; also asked: ");
		put_as(w, c->others[i], html);
	}
	if (c->more_others) {
		snprintf(num, sizeof(num), " and %zu more", c->more_others);
		put(w, num);
	}
}

/* ": 225 > 80 (+181%) (baseline 180, +45 (+25%))" after the metric. */
static void put_rule_tail(struct w *w, const struct clean_rule *r, int html)
{
	put(w, html ? "</code>: <b>" : ": ");
	put_as(w, r->value, html);
	put(w, html ? "</b> " : " ");
	put_as(w, r->op, html);
	put(w, " ");
	put_as(w, r->threshold, html);
	if (r->over) {
		put(w, " (");
		put_as(w, r->over, html);
		put(w, ")");
	}
	if (r->baseline) {
		put(w, " (baseline ");
		put_as(w, r->baseline, html);
		if (r->change) {
			put(w, ", ");
			put_as(w, r->change, html);
		}
		put(w, ")");
	}
}
static const char reply_note[] =
	"The reply code is personal: it identifies you as the reviewer, so\n"
	"please do not forward this email. A reply counts only from your own\n"
	"address, with the code, and never as an automatic reply.\n";

static void text_line(struct w *w, const char *label, const char *value)
{
	if (!value)
		return;
	put(w, label);
	put(w, value);
	put(w, "\n");
}

static void text_rules(struct w *w, const struct clean *c)
{
	char more[64];

	if (!c->nrules)
		return;
	put(w, "These rules fired:\n");
	for (size_t i = 0; i < c->nrules; i++) {
		put(w, "  - ");
		put(w, c->rules[i].metric);
		put_rule_tail(w, &c->rules[i], 0);
		put(w, "\n");
	}
	if (c->more) {
		snprintf(more, sizeof(more), "  ... and %zu more\n", c->more);
		put(w, more);
	}
	put(w, "\n");
}

static void text_commit(struct w *w, const struct clean *c)
{
	if (!c->sha && !c->author && !c->email && !c->csubject && !c->branch)
		return;
	text_line(w, "Commit:  ", c->sha);
	if (c->commit_url && mime_url_ok(c->commit_url))
		text_line(w, "         ", c->commit_url);
	if (c->author || c->email) {
		put(w, "Author:  ");
		put(w, c->author);
		put(w, c->author && c->email ? " <" : c->email ? "<" : "");
		put(w, c->email);
		put(w, c->email ? ">\n" : "\n");
	}
	text_line(w, "Subject: ", c->csubject);
	text_line(w, "Branch:  ", c->branch);
	put(w, "\n");
}

/* 'Gate "model-release" on acme/model needs a review from engineering.' */
static void put_intro(struct w *w, const struct clean *c, int html)
{
	put(w, html ? "Gate <b>" : "Gate \"");
	put_as(w, c->gate, html);
	put(w, html ? "</b>" : "\"");
	if (c->repo) {
		put(w, html ? " on <b>" : " on ");
		put_as(w, c->repo, html);
		put(w, html ? "</b>" : "");
	}
	put(w, html ? " needs a review from <b>" : " needs a review from ");
	put_as(w, c->team, html);
	put(w, html ? "</b>." : ".");
}

static int write_text(struct buf *b, const struct clean *c, const char *review,
		      const char *code)
{
	struct w w = { b, 0 };
	const char *self = self_text(c->self);

	if (c->headline) {
		put(&w, c->headline);
		put(&w, "\n");
	}
	put_intro(&w, c, 0);
	put(&w, "\n\n");
	if (review) {
		put(&w, "Your personal review link:\n  ");
		put(&w, review);
		put(&w, "\n\n");
	}
	if (code) {
		put(&w, review ? "Or decide by replying" : "Decide by replying");
		put(&w, " to this email: write approve or reject on the first line,\n"
			"optionally followed by the reason (\"reject: latency regressed\").\n"
			"Keep the code below in the reply; it is yours alone.\n"
			"Reply code: ");
		put(&w, code);
		put(&w, "\n\n");
	}
	if (self) {
		put(&w, self);
		put(&w, "\n\n");
	}
	put(&w, "Team asked:    ");
	put_team(&w, c, 0);
	put(&w, "\n");
	text_line(&w, "Why this team: ", c->reason);
	put(&w, "\n");
	text_rules(&w, c);
	text_commit(&w, c);
	text_line(&w, "CI run: ", c->run_url);
	text_line(&w, "Started by: ", c->trig);
	text_line(&w, "Decide before: ", c->deadline);
	put(&w, "\n");
	put(&w, review ? note_text : reply_note);
	put(&w, "\n-- \ngreenlight\n");
	return w.err;
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>Review needed: ";
static const char html_body[] =
	"</title>\n</head>\n"
	"<body style=\"margin:0;padding:0;background:#f6f8fa;color:#1f2328;"
	"font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
	"font-size:16px;line-height:1.5\">\n"
	"<div style=\"max-width:600px;margin:0 auto;padding:16px;background:#ffffff\">\n"
	"<h1 style=\"font-size:20px;line-height:1.3;margin:0 0 8px;word-break:break-word\">";
static const char html_table[] =
	"<table role=\"presentation\" style=\"border-collapse:collapse;"
	"width:100%;margin:0 0 16px;font-size:14px\">\n";
static const char html_th[] =
	"<tr><th style=\"text-align:left;vertical-align:top;padding:4px 12px 4px 0;"
	"white-space:nowrap;color:#57606a;font-weight:normal\">";
static const char html_td[] =
	"</th><td style=\"padding:4px 0;word-break:break-word\">";
static const char html_button[] =
	"<p style=\"margin:16px 0 24px\"><a style=\"display:inline-block;padding:12px 20px;"
	"background:#1f883d;color:#ffffff;text-decoration:none;border-radius:6px;"
	"font-weight:600\" href=\"";
static const char html_self[] =
	"<p style=\"margin:0 0 16px;padding:12px;background:#fff8c5;"
	"border:1px solid #d4a72c;border-radius:6px\">";
static const char html_small[] =
	"<p style=\"font-size:13px;color:#57606a;word-break:break-all\">";

static void html_row(struct w *w, const char *label, const char *value)
{
	if (!value)
		return;
	put(w, html_th);
	put(w, label);
	put(w, html_td);
	put_html(w, value);
	put(w, "</td></tr>\n");
}

/* A row whose value is a link when it is an http(s) URL. */
static void html_link_row(struct w *w, const char *label, const char *text,
			  const char *url)
{
	if (!text)
		return;
	if (!url || !mime_url_ok(url)) {
		html_row(w, label, text);
		return;
	}
	put(w, html_th);
	put(w, label);
	put(w, html_td);
	put(w, "<a href=\"");
	put_html(w, url);
	put(w, "\">");
	put_html(w, text);
	put(w, "</a></td></tr>\n");
}

static void html_rules(struct w *w, const struct clean *c)
{
	char more[64];

	if (!c->nrules)
		return;
	put(w, "<p style=\"margin:0 0 4px;font-weight:600\">These rules fired:</p>\n"
	       "<ul style=\"margin:0 0 16px;padding-left:20px\">\n");
	for (size_t i = 0; i < c->nrules; i++) {
		put(w, "<li style=\"word-break:break-word\"><code>");
		put_html(w, c->rules[i].metric);
		put_rule_tail(w, &c->rules[i], 1);
		put(w, "</li>\n");
	}
	if (c->more) {
		snprintf(more, sizeof(more), "<li>and %zu more</li>\n", c->more);
		put(w, more);
	}
	put(w, "</ul>\n");
}

static void html_author(struct w *w, const struct clean *c)
{
	if (!c->author && !c->email)
		return;
	put(w, html_th);
	put(w, "Author");
	put(w, html_td);
	put_html(w, c->author);
	put(w, c->author && c->email ? " &lt;" : c->email ? "&lt;" : "");
	put_html(w, c->email);
	put(w, c->email ? "&gt;" : "");
	put(w, "</td></tr>\n");
}

static void html_team(struct w *w, const struct clean *c)
{
	put(w, html_table);
	put(w, html_th);
	put(w, "Team asked");
	put(w, html_td);
	put_team(w, c, 1);
	put(w, "</td></tr>\n");
	html_row(w, "Why this team", c->reason);
	put(w, "</table>\n");
}

static void html_facts(struct w *w, const struct clean *c)
{
	put(w, html_table);
	html_link_row(w, "Commit", c->sha, c->commit_url);
	html_author(w, c);
	html_row(w, "Subject", c->csubject);
	html_row(w, "Branch", c->branch);
	html_link_row(w, "CI run", c->run_url, c->run_url);
	html_row(w, "Started by", c->trig);
	html_row(w, "Decide before", c->deadline);
	put(w, "</table>\n");
}

static int write_html(struct buf *b, const struct clean *c, const char *review,
		      const char *code)
{
	struct w w = { b, 0 };
	const char *self = self_text(c->self);

	put(&w, html_head);
	put_html(&w, c->gate);
	put(&w, html_body);
	put_html(&w, c->headline ? c->headline : c->gate);
	put(&w, "</h1>\n<p style=\"margin:0\">");
	put_intro(&w, c, 1);
	put(&w, "</p>\n");
	if (review) {
		put(&w, html_button);
		put_html(&w, review);
		put(&w, "\">Open the review page</a></p>\n");
	}
	if (code) {
		put(&w, "<p>");
		put(&w, review ? "Or decide by replying" : "Decide by replying");
		put(&w, " to this email: write <b>approve</b> or <b>reject</b> on the first"
			" line, optionally followed by the reason. Keep the code below in"
			" the reply; it is yours alone.</p>\n<p>Reply code: <code>");
		put_html(&w, code);
		put(&w, "</code></p>\n");
	}
	if (self) {
		put(&w, html_self);
		put(&w, self);
		put(&w, "</p>\n");
	}
	html_team(&w, c);
	html_rules(&w, c);
	html_facts(&w, c);
	if (review) {
		put(&w, html_small);
		put(&w, "If the button does not work, open this link:<br>\n");
		put_html(&w, review);
		put(&w, "</p>\n");
	}
	put(&w, "<p style=\"font-size:13px;color:#57606a\">");
	put_html(&w, review ? note_text : reply_note);
	put(&w, "</p>\n</div>\n</body>\n</html>\n");
	return w.err;
}

/* The Subject: the caller's (review_subject: "acme/model: latencyMs 225 >
 * 80 — review"), or "Review needed: <gate>". */
static int add_subject(struct buf *out, const struct mime_facts *f)
{
	struct buf s = BUF_INIT(2 * MIME_CAP_SUBJECT + 64);
	struct w w = { &s, 0 };
	int ret;

	if (opt(f->subject))
		return mime_header_encode(out, "Subject", f->subject, MIME_CAP_SUBJECT);
	put(&w, "Review needed: ");
	put_clean(&w, f->gate, 60);
	ret = w.err ? -1 : mime_header_encode(out, "Subject", s.data, MIME_CAP_SUBJECT);
	buf_release(&s);
	return ret;
}

/* ---- From ---------------------------------------------------------------- */

static int is_space(char c)
{
	return c == ' ';
}

/* A display name we write as is: atext words and single spaces. */
static int name_plain(const char *s)
{
	if (strstr(s, "=?"))
		return 0;	/* would read as an encoded-word */
	for (; *s; s++)
		if (*s != ' ' && !is_atext((unsigned char)*s))
			return 0;
	return 1;
}

static int name_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s > 126)
			return 0;
	return 1;
}

/* Whether s[0..n) is valid UTF-8 without controls or bidi overrides. */
static int name_chars_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (n) {
		size_t used = utf8_decode(p, n, &cp);

		if (classify(cp) != CP_KEEP)
			return 0;
		p += used;
		n -= used;
	}
	return 1;
}

static int from_fail(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

int mime_from_parse(const char *from, char addr[255], char name[MIME_CAP_NAME + 1],
		    const char **why)
{
	char nm[MIME_CAP_NAME + 1], ad[255];
	const char *p = from, *lt, *gt, *dummy;
	size_t nn = 0, an;

	if (!why)
		why = &dummy;
	if (addr)
		addr[0] = '\0';
	if (name)
		name[0] = '\0';
	if (!from || !*from)
		return from_fail(why, "empty; write addr@domain or Name <addr@domain>");
	for (const char *q = from; *q; q++)
		if ((unsigned char)*q < 32 || *q == 0x7f)
			return from_fail(why, "control characters (CR, LF, tab) are not allowed; write one line: Name <addr@domain>");
	while (is_space(*p))
		p++;
	if (*p == '"') {	/* a quoted display name */
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (nn == MIME_CAP_NAME)
				return from_fail(why, "the display name is over 100 bytes");
			nm[nn++] = *p;
		}
		if (*p != '"')
			return from_fail(why, "unbalanced quotes in the display name");
		p++;
		while (is_space(*p))
			p++;
		if (*p != '<')
			return from_fail(why, "a quoted display name must be followed by <addr@domain>");
	} else {
		const char *end = strchr(p, '<');

		if (!end) {	/* a bare address */
			end = p + strlen(p);
			while (end > p && is_space(end[-1]))
				end--;
			an = (size_t)(end - p);
			if (memchr(p, '>', an))
				return from_fail(why, "unbalanced < >; write Name <addr@domain>");
			if (memchr(p, ',', an) || memchr(p, ' ', an) ||
			    (memchr(p, '@', an) && strchr(strchr(p, '@') + 1, '@')))
				return from_fail(why, "name one address: addr@domain or Name <addr@domain>");
			if (an >= sizeof(ad))
				return from_fail(why, "the address is over 254 bytes");
			memcpy(ad, p, an);
			ad[an] = '\0';
			if (!mime_addr_ok(ad))
				return from_fail(why, "not an address; write addr@domain or Name <addr@domain>");
			if (addr)
				memcpy(addr, ad, an + 1);
			return 0;
		}
		while (end > p && is_space(end[-1]))
			end--;
		if (memchr(p, '>', (size_t)(end - p)))
			return from_fail(why, "unbalanced < >; write Name <addr@domain>");
		if (memchr(p, '@', (size_t)(end - p)) || memchr(p, ',', (size_t)(end - p)))
			return from_fail(why, "name one address: a display name with '@' or ',' must be quoted (\"Name, Inc.\" <addr@domain>)");
		if ((size_t)(end - p) > MIME_CAP_NAME)
			return from_fail(why, "the display name is over 100 bytes");
		nn = (size_t)(end - p);
		memcpy(nm, p, nn);
		p = strchr(p, '<');
	}
	/* p is at '<' */
	lt = p;
	gt = strchr(lt, '>');
	if (!gt)
		return from_fail(why, "unbalanced < >; write Name <addr@domain>");
	if (memchr(lt + 1, '<', (size_t)(gt - lt - 1)))
		return from_fail(why, "unbalanced < >; write Name <addr@domain>");
	for (p = gt + 1; is_space(*p); p++)
		;
	if (*p)
		return from_fail(why, strchr(p, '<') || strchr(p, '@') || *p == ',' ?
				 "name one address: Name <addr@domain>" :
				 "unbalanced < > or text after the address; write Name <addr@domain>");
	an = (size_t)(gt - lt - 1);
	if (an >= sizeof(ad))
		return from_fail(why, "the address is over 254 bytes");
	memcpy(ad, lt + 1, an);
	ad[an] = '\0';
	if (!mime_addr_ok(ad))
		return from_fail(why, strchr(ad, ',') ? "name one address: Name <addr@domain>" :
				 "not an address inside < >; write Name <addr@domain>");
	while (nn && is_space(nm[nn - 1]))
		nn--;
	nm[nn] = '\0';
	if (!name_chars_ok(nm, nn))
		return from_fail(why, "the display name is not valid UTF-8 text");
	if (addr)
		memcpy(addr, ad, an + 1);
	if (name)
		memcpy(name, nm, nn + 1);
	return 0;
}

/* The From header value: the address alone, or the display name written
 * as is (atext words), quoted (with specials) or as RFC 2047 words
 * (non-ASCII, or too long for one 78-byte line), then <addr>, folded
 * before the address if the line would pass 78 bytes.  -1 if from is
 * invalid. */
static int add_from(struct buf *out, const char *from)
{
	char addr[255], name[MIME_CAP_NAME + 1];
	size_t start = out->len, col, n, quoted;
	int ret = 0;

	if (mime_from_parse(from, addr, name, NULL))
		return -1;
	if (!*name)
		return buf_adds(out, addr);
	n = strlen(name);
	quoted = n + 2;
	for (size_t i = 0; i < n; i++)
		quoted += name[i] == '"' || name[i] == '\\';
	if (name_plain(name) && 6 + n <= 78) {
		ret = buf_adds(out, name);
	} else if (name_ascii(name) && 6 + quoted <= 78) {
		ret = buf_adds(out, "\"");
		for (size_t i = 0; i < n && !ret; i++) {
			if (name[i] == '"' || name[i] == '\\')
				ret = buf_add(out, "\\", 1);
			if (!ret)
				ret = buf_add(out, &name[i], 1);
		}
		if (!ret)
			ret = buf_adds(out, "\"");
	} else {
		/* words of at most 36 bytes (60 characters encoded), one a line;
		 * add_encoded_word starts each with the folding space */
		for (size_t pos = 0; pos < n && !ret;) {
			size_t take = utf8_prefix(name + pos, n - pos, 36);

			ret = pos ? buf_adds(out, "\r\n") : 0;
			if (!ret)
				ret = add_encoded_word(out, name + pos, take);
			if (!ret && !pos) {	/* no space right after "From: " */
				memmove(out->data + start, out->data + start + 1,
					out->len - start - 1);
				out->data[--out->len] = '\0';
			}
			pos += take;
		}
	}
	if (ret)
		return ret;
	col = 6 + out->len - start;	/* "From: " */
	for (size_t i = start; i + 1 < out->len; i++)
		if (out->data[i] == '\r' && out->data[i + 1] == '\n')
			col = out->len - i - 2;
	ret = buf_adds(out, col + strlen(addr) + 3 > 78 ? "\r\n <" : " <");
	if (!ret)
		ret = buf_adds(out, addr);
	return ret ? ret : buf_adds(out, ">");
}

static int fail(char *err, size_t errlen, const char *msg)
{
	if (errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

static int check_facts(const struct mime_facts *f, const char *boundary,
		       char *err, size_t errlen)
{
	if (!f->gate || !f->team || !f->deadline)
		return fail(err, errlen, "gate, team and deadline are required");
	if (f->nrules && !f->rules)
		return fail(err, errlen, "rules missing");
	if (f->review_url ? !mime_url_ok(f->review_url) : !f->reply_code)
		return fail(err, errlen, "review URL must be an http:// or https:// URL");
	if (f->reply_code && !token_syntax_ok(f->reply_code, strlen(f->reply_code)))
		return fail(err, errlen, "reply code has the wrong syntax");
	if (f->reply_to && !mime_addr_ok(f->reply_to))
		return fail(err, errlen, "Reply-To is not a plain address (local@domain)");
	if (mime_from_parse(f->from, NULL, NULL, NULL))
		return fail(err, errlen, "From must be \"a@b\" or \"Name <a@b>\"");
	if (!mime_addr_ok(f->to))
		return fail(err, errlen, "To is not a plain address (local@domain)");
	if (!msgid_ok(f->message_id))
		return fail(err, errlen, "Message-ID must look like <id@host>");
	if (!date_text_ok(f->date))
		return fail(err, errlen, "Date must be printable ASCII text");
	if (!boundary_ok(boundary))
		return fail(err, errlen, "MIME boundary must be 1-70 bchars");
	return 0;
}

static int add_headers(struct buf *out, const struct mime_facts *f,
		       const char *boundary, char *err, size_t errlen)
{
	struct w w = { out, 0 };

	put(&w, "From: ");
	if (!w.err && add_from(out, f->from))
		return fail(err, errlen, "From must be \"a@b\" or \"Name <a@b>\"");
	put(&w, "\r\nTo: ");
	put(&w, f->to);
	put(&w, "\r\n");
	if (f->reply_to) {
		put(&w, "Reply-To: ");
		put(&w, f->reply_to);
		put(&w, "\r\n");
	}
	if (!w.err && add_subject(out, f))
		w.err = -1;
	put(&w, "Date: ");
	put(&w, f->date);
	put(&w, "\r\nMessage-ID: ");
	put(&w, f->message_id);
	put(&w, "\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative;\r\n boundary=\"");
	put(&w, boundary);
	put(&w, "\"\r\nAuto-Submitted: auto-generated\r\n"
		"X-Auto-Response-Suppress: All\r\n"
		"\r\nThis is a multi-part message in MIME format.\r\n");
	return w.err ? fail(err, errlen, "message too large") : 0;
}

/* Whether needle occurs in hay[0..n). */
static int contains(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; k && i + k <= n; i++)
		if (hay[i] == needle[0] && !memcmp(hay + i, needle, k))
			return 1;
	return 0;
}

static int add_part(struct buf *out, const char *boundary, const char *type,
		    const struct buf *body, char *err, size_t errlen)
{
	struct w w = { out, 0 };
	size_t start;

	put(&w, "\r\n--");
	put(&w, boundary);
	put(&w, "\r\nContent-Type: ");
	put(&w, type);
	put(&w, "; charset=UTF-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	if (w.err)
		return fail(err, errlen, "message too large");
	start = out->len;
	if (mime_qp_encode(out, body->data, body->len))
		return fail(err, errlen, "message too large");
	/* the part ends in CRLF, which the next delimiter line claims */
	out->len -= 2;
	out->data[out->len] = '\0';
	if (contains(out->data + start, out->len - start, boundary))
		return fail(err, errlen, "MIME boundary occurs in the body");
	return 0;
}

int mime_compose(struct buf *out, const struct mime_facts *f,
		 const char *boundary, char *err, size_t errlen)
{
	struct buf text = BUF_INIT(PART_MAX);
	struct buf html = BUF_INIT(PART_MAX);
	struct clean c;
	int ret = -1;

	memset(&c, 0, sizeof(c));
	if (errlen)
		err[0] = '\0';
	if (check_facts(f, boundary, err, errlen))
		goto out;
	if (clean_facts(&c, f)) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	if (write_text(&text, &c, f->review_url, f->reply_code) ||
	    write_html(&html, &c, f->review_url, f->reply_code)) {
		fail(err, errlen, "message too large");
		goto out;
	}
	if (add_headers(out, f, boundary, err, errlen) ||
	    add_part(out, boundary, "text/plain", &text, err, errlen) ||
	    add_part(out, boundary, "text/html", &html, err, errlen))
		goto out;
	if (buf_adds(out, "\r\n--") || buf_adds(out, boundary) ||
	    buf_adds(out, "--\r\n")) {
		fail(err, errlen, "message too large");
		goto out;
	}
	ret = 0;
out:
	if (ret)
		buf_release(out);
	clean_release(&c);
	buf_release(&text);
	buf_release(&html);
	return ret;
}
