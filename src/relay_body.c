/* relay_body.c - validating the relay's request bodies (pure: no store,
 * no sockets).  Every field is checked for type, size and characters
 * before anything is stored; the reason for a 400 names the field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay_int.h"
#include "resume.h"
#include "util.h"

static int bad(struct parsed *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct parsed *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return -1;
}

unsigned relay_refuse(struct parsed *p, unsigned status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return status;
}

static const cJSON *member(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* A string member of 1..max bytes without controls; NULL/absent is
 * allowed when optional (then *out is NULL). */
static int get_text(struct parsed *p, const cJSON *o, const char *name,
		    const char *where, size_t max, int optional,
		    const char **out)
{
	const cJSON *v = member(o, name);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return optional ? 0 : bad(p, "%s%s is required", where, name);
	if (!cJSON_IsString(v) || !store_text_ok(v->valuestring, max))
		return bad(p, "%s%s must be a string of 1 to %zu bytes without"
			   " control characters", where, name, max);
	*out = v->valuestring;
	return 0;
}

/* An integer member in [min, max]; *present says whether it was there. */
static int get_int(struct parsed *p, const cJSON *o, const char *name,
		   const char *where, long long min, long long max,
		   long long *out, int *present)
{
	const cJSON *v = member(o, name);
	double d;

	*present = v && !cJSON_IsNull(v);
	if (!*present)
		return 0;
	d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
	if (d < (double)min || d > (double)max || d != (double)(long long)d)
		return bad(p, "%s%s must be a whole number from %lld to %lld",
			   where, name, min, max);
	*out = (long long)d;
	return 0;
}

static int get_hex64(struct parsed *p, const cJSON *o, const char *name,
		     const char *where, const char **out)
{
	if (get_text(p, o, name, where, 64, 0, out))
		return -1;
	if (!token_is_hex(*out, 64))
		return bad(p, "%s%s must be 64 lowercase hexadecimal digits",
			   where, name);
	return 0;
}

static const cJSON *get_array(struct parsed *p, const cJSON *o,
			      const char *name, int max)
{
	const cJSON *v = member(o, name);
	int n = cJSON_GetArraySize(v);

	if (!cJSON_IsArray(v) || n < 1 || n > max) {
		bad(p, "%s must be an array of 1 to %d entries", name, max);
		return NULL;
	}
	return v;
}

static int parse_team(struct parsed *p, const cJSON *t, size_t i)
{
	char where[32];
	long long approvals = 1;
	int present;

	snprintf(where, sizeof(where), "teams[%zu].", i);
	if (!cJSON_IsObject(t))
		return bad(p, "teams[%zu] must be an object", i);
	if (get_text(p, t, "name", where, STORE_MAX_TEAM, 0,
		     &p->teams[i].name) ||
	    get_int(p, t, "approvals", where, 1, STORE_MAX_APPROVALS,
		    &approvals, &present))
		return -1;
	for (size_t j = 0; j < i; j++)
		if (!strcmp(p->teams[j].name, p->teams[i].name))
			return bad(p, "team \"%s\" is named twice",
				   p->teams[i].name);
	p->teams[i].approvals = (int)approvals;
	return 0;
}

static int parse_teams(struct parsed *p, const cJSON *root)
{
	const cJSON *arr = get_array(p, root, "teams", STORE_MAX_TEAMS);
	const cJSON *t;

	if (!arr)
		return -1;
	cJSON_ArrayForEach(t, arr) {
		if (parse_team(p, t, p->nteams))
			return -1;
		p->nteams++;
	}
	return 0;
}

static int known_team(const struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->nteams; i++)
		if (!strcmp(p->teams[i].name, name))
			return 1;
	return 0;
}

/* Recipient i against those before it: one row per (address, team), one
 * token hash per row. */
static int unique_recipient(struct parsed *p, size_t i)
{
	const struct store_recipient *r = &p->rcpt[i];

	for (size_t j = 0; j < i; j++) {
		if (!strcasecmp(p->rcpt[j].email, r->email) &&
		    !strcmp(p->rcpt[j].team, r->team))
			return bad(p, "recipients[%zu] repeats %s for team %s",
				   i, r->email, r->team);
		if (!strcmp(p->rcpt[j].token_hash, r->token_hash))
			return bad(p, "recipients[%zu] repeats a token_hash", i);
	}
	return 0;
}

static int parse_recipient(struct parsed *p, const cJSON *o, size_t i)
{
	struct store_recipient *r = &p->rcpt[i];
	const char *hash;
	char where[40];

	snprintf(where, sizeof(where), "recipients[%zu].", i);
	if (!cJSON_IsObject(o))
		return bad(p, "recipients[%zu] must be an object", i);
	if (get_text(p, o, "email", where, STORE_MAX_EMAIL, 0, &r->email) ||
	    get_text(p, o, "team", where, STORE_MAX_TEAM, 0, &r->team) ||
	    get_hex64(p, o, "token_hash", where, &hash))
		return -1;
	memcpy(r->token_hash, hash, sizeof(r->token_hash));
	if (!known_team(p, r->team))
		return bad(p, "recipients[%zu].team \"%s\" is not one of the"
			   " request's teams", i, r->team);
	return unique_recipient(p, i);
}

/* Every team can reach its quorum with the people asked. */
static int enough_people(struct parsed *p)
{
	for (size_t t = 0; t < p->nteams; t++) {
		int asked = 0;

		for (size_t i = 0; i < p->nrcpt; i++)
			asked += !strcmp(p->rcpt[i].team, p->teams[t].name);
		if (asked < p->teams[t].approvals)
			return bad(p, "team \"%s\" needs %d approvals but only"
				   " %d recipients", p->teams[t].name,
				   p->teams[t].approvals, asked);
	}
	return 0;
}

static int parse_recipients(struct parsed *p, const cJSON *root)
{
	const cJSON *arr = get_array(p, root, "recipients",
				     STORE_MAX_RECIPIENTS);
	const cJSON *o;

	if (!arr)
		return -1;
	cJSON_ArrayForEach(o, arr) {
		if (parse_recipient(p, o, p->nrcpt))
			return -1;
		p->nrcpt++;
	}
	return enough_people(p);
}

static int parse_facts(struct parsed *p, const cJSON *root)
{
	const cJSON *v = member(root, "facts");

	if (!v || cJSON_IsNull(v)) {
		p->facts = xstrdup("{}");
		return 0;
	}
	if (!cJSON_IsObject(v))
		return bad(p, "facts must be an object");
	p->facts = cJSON_PrintUnformatted(v);
	if (!p->facts || strlen(p->facts) > STORE_MAX_FACTS)
		return bad(p, "facts must be at most %d bytes as compact JSON",
			   STORE_MAX_FACTS);
	return 0;
}

static int get_bool(struct parsed *p, const cJSON *root, const char *name,
		    int *out)
{
	const cJSON *v = member(root, name);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return bad(p, "%s must be true or false", name);
	*out = cJSON_IsTrue(v);
	return 0;
}

static int parse_self(struct parsed *p, const cJSON *root)
{
	return get_bool(p, root, "allow_self_approval",
			&p->nr.allow_self_approval) ||
	       get_bool(p, root, "keep_tags", &p->nr.keep_tags);
}

/* Optional: the repository (checked against the token's scope by the
 * caller) and the subject (64 hex digits). */
static int parse_origin(struct parsed *p, const cJSON *root)
{
	const cJSON *s = member(root, "subject");

	if (get_text(p, root, "repository", "", STORE_MAX_REPO, 1,
		     &p->nr.repository))
		return -1;
	if (!s || cJSON_IsNull(s))
		return 0;
	return get_hex64(p, root, "subject", "", &p->nr.subject);
}

/* Optional: where the pipeline waits, for the relay to resume it
 * (resume.h); checked against the tenant's CI credentials by the caller. */
static int parse_resume(struct parsed *p, const cJSON *root)
{
	const cJSON *r = member(root, "resume");
	char why[200];

	if (!r || cJSON_IsNull(r))
		return 0;
	if (!resume_target_valid(r, why, sizeof(why)))
		return bad(p, "%s", why);
	p->resume = r;
	return 0;
}

/* The body as a JSON object (p->doc owns it), or NULL with p->why. */
const cJSON *relay_parse_body(struct parsed *p, const struct buf *body)
{
	struct json_err err;

	memset(&err, 0, sizeof(err));
	if (!body->len) {
		bad(p, "the body is empty; send a JSON object");
		return NULL;
	}
	if (json_doc_parse(&p->doc, body->data, body->len, &err)) {
		bad(p, "body, line %u, column %u: %s", err.line, err.col,
		    err.msg);
		return NULL;
	}
	if (!cJSON_IsObject(p->doc.root)) {
		bad(p, "the body must be a JSON object");
		return NULL;
	}
	return p->doc.root;
}

int relay_parse_register(struct parsed *p, const cJSON *root, time_t now)
{
	struct store_new_request *nr = &p->nr;
	int present;

	if (get_hex64(p, root, "key", "", &nr->key) ||
	    get_text(p, root, "gate", "", STORE_MAX_GATE, 0, &nr->gate) ||
	    parse_facts(p, root) ||
	    get_text(p, root, "author_email", "", STORE_MAX_AUTHORS, 1,
		     &nr->author_email) ||
	    parse_self(p, root) || parse_origin(p, root) ||
	    get_int(p, root, "deadline", "", 0, 1LL << 53, &p->deadline,
		    &present))
		return -1;
	if (!present)
		return bad(p, "deadline is required");
	if (p->deadline <= now || p->deadline > now + RELAY_MAX_DEADLINE)
		return bad(p, "deadline must be a Unix time in the future, at"
			   " most %ld days ahead (now is %lld)",
			   RELAY_MAX_DEADLINE / 86400, (long long)now);
	if (parse_teams(p, root) || parse_recipients(p, root) ||
	    parse_resume(p, root))
		return -1;
	nr->facts_json = p->facts;
	nr->created = now;
	nr->deadline = (time_t)p->deadline;
	nr->teams = p->teams;
	nr->nteams = p->nteams;
	nr->recipients = p->rcpt;
	nr->nrecipients = p->nrcpt;
	return 0;
}

void relay_parsed_free(struct parsed *p)
{
	json_doc_release(&p->doc);
	free(p->facts);
	free(p);
}

int relay_api_check_register(const char *body, size_t len, time_t now,
			     char *why, size_t whylen)
{
	struct parsed *p = xcalloc(1, sizeof(*p));
	struct buf b = BUF_INIT(len);
	const cJSON *root;
	int ret = -1;

	b.data = (char *)body;	/* borrowed: parse_body only reads it */
	b.len = len;
	root = relay_parse_body(p, &b);
	if (root && !relay_parse_register(p, root, now))
		ret = 0;
	if (why && whylen)
		strlcpy_gl(why, ret ? p->why : "", whylen);
	relay_parsed_free(p);
	return ret;
}
/* The new recipients, checked against the stored request's teams. */
int relay_parse_rekey(struct parsed *p, const cJSON *root,
		       const struct store_request *r)
{
	for (size_t i = 0; i < r->nteams && i < STORE_MAX_TEAMS; i++) {
		p->teams[i].name = r->teams[i].name;
		p->teams[i].approvals = r->teams[i].approvals;
	}
	p->nteams = r->nteams;
	return parse_recipients(p, root);
}

int relay_parse_deadline(struct parsed *p, const cJSON *root)
{
	int present = 0;

	if (get_int(p, root, "deadline", "", 1, 1LL << 53, &p->deadline,
		    &present))
		return -1;
	p->has_deadline = present;
	return 0;
}
