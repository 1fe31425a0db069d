/* relay_auth.c - the relay's bearer tokens, tenants and scopes.
 *
 * Every /v1 call carries a bearer token.  Each token belongs to a tenant,
 * and a request belongs to the tenant whose token registered it: another
 * tenant's calls find nothing (404, as for an absent request).  A token may
 * also be limited to the repositories (shell patterns on the origin URL) it
 * registers requests for.  The relay keeps only SHA-256 of each token and
 * compares a presented one with all of them without stopping early.
 * File format and rotation: docs/relay.md ("Tokens and tenants").
 */
#include <fnmatch.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "relay_int.h"
#include "util.h"

#define SIMPLE_TENANT_PREFIX "token-"

struct relay_token {
	char hash[TOKEN_HEX_SIZE];	/* SHA-256 of the token */
	struct relay_principal who;
};

struct token_set {
	struct relay_token *t;
	size_t n;
	const char *from;
	unsigned line;
};

static const char *trim(const char *s, size_t *len)
{
	while (*len && strchr(" \t\r", s[0])) {
		s++;
		(*len)--;
	}
	while (*len && strchr(" \t\r", s[*len - 1]))
		(*len)--;
	return s;
}

static int token_ok(const struct token_set *ts, const char *t, size_t len)
{
	if (len < RELAY_TOKEN_MIN || len > RELAY_TOKEN_MAX)
		return error("%s, line %u: a bearer token must be %d to %d bytes"
			     " long", ts->from, ts->line, RELAY_TOKEN_MIN,
			     RELAY_TOKEN_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f ||
		    t[i] == ',')
			return error("%s, line %u: a bearer token may hold only"
				     " printable ASCII without blanks or commas",
				     ts->from, ts->line);
	return 0;
}

/* Add a token; its principal is filled by the caller. */
static struct relay_token *add(struct token_set *ts, const char *t, size_t len)
{
	struct relay_token *x;

	if (token_ok(ts, t, len))
		return NULL;
	if (ts->n == RELAY_MAX_TOKENS) {
		error("%s: more than %d bearer tokens", ts->from, RELAY_MAX_TOKENS);
		return NULL;
	}
	x = &ts->t[ts->n];
	if (token_sha256_hex(x->hash, t, len)) {
		error("cannot hash a bearer token");
		return NULL;
	}
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->t[i].hash, x->hash)) {
			error("%s, line %u: a bearer token is listed twice", ts->from,
			      ts->line);
			return NULL;
		}
	ts->n++;
	return x;
}

/* The simple form: comma-separated tokens, each its own tenant (named after
 * its hash, so logs and metrics never show the token), any repository. */
static int simple_line(struct token_set *ts, const char *s, size_t len)
{
	while (len) {
		const char *comma = memchr(s, ',', len);
		size_t k = comma ? (size_t)(comma - s) : len, tl = k;
		const char *t = trim(s, &tl);
		struct relay_token *x;

		if (tl) {
			if (!(x = add(ts, t, tl)))
				return -1;
			snprintf(x->who.tenant, sizeof(x->who.tenant), "%s%.12s",
				 SIMPLE_TENANT_PREFIX, x->hash);
			memcpy(x->who.repos, "*\0", 3);
		}
		s += k + (comma != NULL);
		len -= k + (comma != NULL);
	}
	return 0;
}

/* The next blank-separated field of s[0..*len), or NULL at the end. */
static const char *field(const char **s, size_t *len, size_t *flen)
{
	const char *f;

	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	if (!*len)
		return NULL;
	f = *s;
	while (*len && **s != ' ' && **s != '\t') {
		(*s)++;
		(*len)--;
	}
	*flen = (size_t)(*s - f);
	return f;
}

static int tenant_name_ok(const char *s, size_t n)
{
	if (!n || n > STORE_MAX_TENANT || !strncmp(s, SIMPLE_TENANT_PREFIX,
						    strlen(SIMPLE_TENANT_PREFIX)))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-", s[i]))
			return 0;
	return 1;
}

/* "tenant NAME TOKEN PATTERN..." */
static int tenant_line(struct token_set *ts, const char *s, size_t len)
{
	const char *name, *tok, *pat;
	size_t nl = 0, tl = 0, pl = 0, used = 0;
	struct relay_token *x;

	field(&s, &len, &nl);		/* the word "tenant" */
	name = field(&s, &len, &nl);
	tok = name ? field(&s, &len, &tl) : NULL;
	if (!tok)
		return error("%s, line %u: write \"tenant NAME TOKEN PATTERN...\"",
			     ts->from, ts->line);
	if (!tenant_name_ok(name, nl))
		return error("%s, line %u: a tenant name is 1 to %d letters, digits,"
			     " '.', '_' or '-', and does not start with \"%s\"",
			     ts->from, ts->line, STORE_MAX_TENANT,
			     SIMPLE_TENANT_PREFIX);
	if (!(x = add(ts, tok, tl)))
		return -1;
	memcpy(x->who.tenant, name, nl);
	x->who.tenant[nl] = '\0';
	while ((pat = field(&s, &len, &pl))) {
		if (used + pl + 2 > sizeof(x->who.repos))
			return error("%s, line %u: the repository patterns are over"
				     " %d bytes", ts->from, ts->line,
				     RELAY_SCOPE_MAX - 2);
		memcpy(x->who.repos + used, pat, pl);
		x->who.repos[used + pl] = '\0';
		used += pl + 1;
	}
	if (!used)
		return error("%s, line %u: name the repositories tenant %.*s may"
			     " register for (shell patterns on the origin URL, or"
			     " \"*\" for any)", ts->from, ts->line, (int)nl, name);
	x->who.repos[used] = '\0';
	return 0;
}

static int parse_line(struct token_set *ts, const char *s, size_t len)
{
	s = trim(s, &len);
	if (!len || s[0] == '#')
		return 0;
	if (len > 7 && !strncmp(s, "tenant", 6) && (s[6] == ' ' || s[6] == '\t'))
		return tenant_line(ts, s, len);
	return simple_line(ts, s, len);
}

static void free_tokens(struct relay_token *t, size_t n)
{
	if (t)
		OPENSSL_cleanse(t, n * sizeof(*t));
	free(t);
}

int relay_api_set_tokens(struct relay_api *a, const char *text,
			 const char *from)
{
	struct token_set ts = { xcalloc(RELAY_MAX_TOKENS, sizeof(*ts.t)), 0,
				from, 1 };
	struct relay_token *old;
	size_t nold;

	for (const char *p = text; *p; ts.line++) {
		size_t len = strcspn(p, "\n");

		if (parse_line(&ts, p, len)) {
			free_tokens(ts.t, RELAY_MAX_TOKENS);
			return -1;
		}
		p += len + (p[len] == '\n');
	}
	if (!ts.n) {
		free_tokens(ts.t, RELAY_MAX_TOKENS);
		return error("%s holds no bearer token", from);
	}
	pthread_mutex_lock(&a->tlock);
	old = a->tokens;
	nold = a->ntokens;
	a->tokens = ts.t;
	a->ntokens = ts.n;
	pthread_mutex_unlock(&a->tlock);
	free_tokens(old, nold);
	return (int)ts.n;
}

int relay_auth(struct relay_api *a, struct MHD_Connection *c,
	       struct relay_principal *who)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	char hash[TOKEN_HEX_SIZE];
	size_t len, match = (size_t)-1;
	int ok = 0;

	if (!h || strncasecmp(h, "Bearer ", 7))
		return 0;
	len = strnlen(h + 7, RELAY_TOKEN_MAX + 8);
	h = trim(h + 7, &len);
	if (!len || len > RELAY_TOKEN_MAX || token_sha256_hex(hash, h, len))
		return 0;
	pthread_mutex_lock(&a->tlock);
	for (size_t i = 0; i < a->ntokens; i++) {
		int eq = token_hex_equal(hash, a->tokens[i].hash);

		ok |= eq;
		match = eq ? i : match;
	}
	if (ok)
		*who = a->tokens[match].who;
	pthread_mutex_unlock(&a->tlock);
	return ok;
}

/* repo without a trailing ".git" or "/" into out; 0, or -1 if too long. */
static int bare(char *out, size_t size, const char *repo)
{
	size_t n = strlen(repo);

	if (n >= size)
		return -1;
	memcpy(out, repo, n + 1);
	while (n && out[n - 1] == '/')
		out[--n] = '\0';
	if (n > 4 && !strcmp(out + n - 4, ".git"))
		out[n - 4] = '\0';
	return 0;
}

int relay_auth_repo_ok(const struct relay_principal *who, const char *repo)
{
	char b[STORE_MAX_REPO + 1];

	for (const char *p = who->repos; *p; p += strlen(p) + 1) {
		if (!strcmp(p, "*"))
			return 1;
		if (repo && (!fnmatch(p, repo, 0) ||
			     (!bare(b, sizeof(b), repo) && !fnmatch(p, b, 0))))
			return 1;
	}
	return 0;
}

void relay_auth_free(struct relay_api *a)
{
	free_tokens(a->tokens, a->ntokens);
	a->tokens = NULL;
	a->ntokens = 0;
}
