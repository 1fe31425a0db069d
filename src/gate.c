/* gate.c - load and validate a gate file (see gate.h).
 *
 * Validation is strict and happens once, here: unknown keys, wrong types,
 * bad values and dangling references are errors with a position.  Rule
 * syntax is checked by the choice compiler; this file checks what the rules
 * point at (their `Next`) and everything around them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gate.h"
#include "mime.h"
#include "util.h"

static const char *const top_keys[] = {
	"$schema", "version", "name", "results", "match", "choices", "default", "teams",
	"notify", "decision", "baseline",
};
static const char *const baseline_keys[] = {
	"store", "ref", "record", "window", "aggregate", "branch", "if_missing",
};
static const char *const team_keys[] = { "email", "approvals", "chat", "remind_every", "escalate" };
static const char *const escalate_keys[] = { "after", "to" };
static const char *const chat_keys[] = { "service", "url_env", "required" };
static const char *const chat_services[] = { "slack", "teams", "mattermost", "google-chat" };
static const char *const notify_keys[] = {
	"smtp", "tls", "from", "username_env", "password_env", "ca_file",
	"send_timeout",
};
static const char *const decision_keys[] = {
	"via", "listen", "public_url", "timeout", "on_timeout", "state",
	"progress", "allow_self_approval", "relay", "relay_token_env",
	"secret_env", "allow_insecure_relay", "plus_tags", "imap", "imap_tls",
	"imap_user_env", "imap_password_env", "imap_ca_file", "poll", "reply_to",
	"trusted_authserv_id", "require_auth_results", "processed",
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

int gate_error(const struct gate *g, const cJSON *node, int at_key,
	       const char *fmt, ...)
{
	char msg[1024];
	unsigned line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (node && !json_doc_pos(&g->doc, node, at_key, &line, &col))
		return error_at("%s:%u:%u: %s", g->file, line, col, msg);
	return error_at("%s: %s", g->file, msg);
}

static void list_keys(char *out, size_t size, const char *const *keys, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
					i ? ", " : "", keys[i]);
}

/* Every member of `obj` must be one of `keys`. */
static int check_keys(const struct gate *g, const cJSON *obj, const char *where,
		      const char *const *keys, size_t n)
{
	char valid[512];
	const char *hint;
	size_t i;

	for (const cJSON *m = obj->child; m; m = m->next) {
		for (i = 0; i < n; i++)
			if (!strcmp(m->string, keys[i]))
				break;
		if (i < n)
			continue;
		list_keys(valid, sizeof(valid), keys, n);
		hint = suggest(m->string, keys, n);
		if (hint)
			return gate_error(g, m, 1, "unknown key \"%s\" in %s; did you mean \"%s\"? (keys are case-sensitive)",
					  m->string, where, hint);
		return gate_error(g, m, 1, "unknown key \"%s\" in %s; valid keys: %s",
				  m->string, where, valid);
	}
	return 0;
}

/* A string member (NULL when absent and optional); -1 on error. */
static int get_string(const struct gate *g, const cJSON *obj, const char *key,
		      const char *where, int required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			return gate_error(g, obj, 0, "%s has no \"%s\"; add it", where, key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return gate_error(g, v, 0, "%s.%s must be a string, not %s%s",
				  where, key, cJSON_IsNull(v) ? "" : cJSON_IsArray(v) ||
				  cJSON_IsObject(v) ? "an " : "a ", choice_type_name(v));
	if (!v->valuestring[0])
		return gate_error(g, v, 0, "%s.%s must not be empty", where, key);
	*out = v->valuestring;
	return 0;
}

static const cJSON *member_of(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A branch name: printable ASCII, no spaces, none of git's special characters. */
static int printable_name(const char *s)
{
	if (!*s || *s == '-' || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || strchr("~^:?*[\\", *s))
			return 0;
	return 1;
}

static int is_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

int gate_valid_team_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

/* A plain addr-spec: local@domain, printable ASCII, no spaces, quotes,
 * angle brackets or commas; domain of dot-separated [A-Za-z0-9-] labels. */
int gate_valid_email(const char *s)
{
	const char *at = strchr(s, '@');
	const char *p;
	size_t label = 0;

	if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254 || at - s > 64)
		return 0;
	for (p = s; p < at; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"(),:;<>[\\]", *p))
			return 0;
	if (s[0] == '.' || at[-1] == '.' || strstr(s, ".."))
		return 0;
	for (p = at + 1; *p; p++) {
		if (*p == '.') {
			if (!label)
				return 0;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static int check_env_key(const struct gate *g, const cJSON *obj, const char *where,
			 const char *key);
static int check_enum(const struct gate *g, const cJSON *obj, const char *where,
		      const char *key, const char *const *allowed, size_t n);

/* One entry of a team's "chat": {"service", "url_env", "required"}. */
static int load_chat_one(struct gate *g, const cJSON *node, const char *where,
			 struct team_chat *c)
{
	const cJSON *req;
	const char *s;

	if (!cJSON_IsObject(node))
		return gate_error(g, node, 0, "%s must be an object like {\"service\": \"slack\", \"url_env\": \"GREENLIGHT_SLACK_URL\"}", where);
	if (check_keys(g, node, where, chat_keys, NKEYS(chat_keys)) ||
	    get_string(g, node, "service", where, 1, &s) ||
	    check_enum(g, node, where, "service", chat_services, NKEYS(chat_services)))
		return -1;
	c->service = xstrdup(s);
	if (get_string(g, node, "url_env", where, 1, &s) ||
	    check_env_key(g, node, where, "url_env"))
		return -1;
	c->url_env = xstrdup(s);
	req = cJSON_GetObjectItemCaseSensitive(node, "required");
	if (req && !cJSON_IsBool(req))
		return gate_error(g, req, 0, "%s.required must be true or false", where);
	c->required = cJSON_IsTrue(req);
	return 0;
}

static int load_chat(struct gate *g, const cJSON *chat, const char *team, struct team *t)
{
	char where[128];
	size_t n, i = 0;

	if (!chat)
		return 0;
	if (!cJSON_IsArray(chat) || !chat->child)
		return gate_error(g, chat, 0, "teams.%s.chat must be a non-empty array like [{\"service\": \"slack\", \"url_env\": \"GREENLIGHT_SLACK_URL\"}]", team);
	n = (size_t)cJSON_GetArraySize(chat);
	if (n > GATE_MAX_CHATS)
		return gate_error(g, chat, 0, "teams.%s.chat has %zu entries; at most %d are allowed",
				  team, n, GATE_MAX_CHATS);
	t->chat = xcalloc(n, sizeof(*t->chat));
	for (const cJSON *c = chat->child; c; c = c->next, i++) {
		snprintf(where, sizeof(where), "teams.%s.chat[%zu]", team, i);
		t->nchat++;
		if (load_chat_one(g, c, where, &t->chat[i]))
			return -1;
	}
	return 0;
}

/* A team's "remind_every" and "escalate" (docs/notifications.md). */
static int load_duration(const struct gate *g, const cJSON *node, const char *where,
			 const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, key);

	if (!v)
		return 0;
	if (!cJSON_IsString(v) || parse_duration(v->valuestring, out))
		return gate_error(g, v, 0, "%s.%s must be a duration like \"90s\", \"15m\", \"4h\" or \"1d\"",
				  where, key);
	return 0;
}

static int load_escalate(struct gate *g, const cJSON *esc, const char *where, struct team *t)
{
	char w[160];
	const cJSON *to;
	size_t i = 0, n;

	snprintf(w, sizeof(w), "%s.escalate", where);
	if (!cJSON_IsObject(esc))
		return gate_error(g, esc, 0, "%s must be an object like {\"after\": \"2h\", \"to\": [\"lead@example.com\"]}", w);
	if (check_keys(g, esc, w, escalate_keys, NKEYS(escalate_keys)))
		return -1;
	if (!cJSON_GetObjectItemCaseSensitive(esc, "after"))
		return gate_error(g, esc, 0, "%s needs \"after\": a duration like \"2h\"", w);
	if (load_duration(g, esc, w, "after", &t->escalate_after))
		return -1;
	to = cJSON_GetObjectItemCaseSensitive(esc, "to");
	if (!to || !cJSON_IsArray(to) || !to->child)
		return gate_error(g, to ? to : esc, 0, "%s.to must be a non-empty array of addresses, like [\"lead@example.com\"]", w);
	n = (size_t)cJSON_GetArraySize(to);
	if (n + t->nemail > GATE_MAX_EMAILS)
		return gate_error(g, to, 0, "%s.to has %zu addresses; a team and its escalation may list at most %d",
				  w, n, GATE_MAX_EMAILS);
	t->escalate_to = xcalloc(n, sizeof(*t->escalate_to));
	for (const cJSON *e = to->child; e; e = e->next, i++) {
		if (!cJSON_IsString(e) || !gate_valid_email(e->valuestring))
			return gate_error(g, e, 0, "%s.to[%zu] is not a valid address; write a plain address like \"lead@example.com\"",
					  w, i);
		for (size_t k = 0; k < t->nemail; k++)
			if (!strcasecmp(t->email[k], e->valuestring))
				return gate_error(g, e, 0, "%s.to[%zu] \"%s\" is already a member of the team; escalate to someone else",
						  w, i, e->valuestring);
		for (size_t k = 0; k < i; k++)
			if (!strcasecmp(t->escalate_to[k], e->valuestring))
				return gate_error(g, e, 0, "%s.to[%zu] repeats \"%s\"; list each address once",
						  w, i, e->valuestring);
		t->escalate_to[i] = xstrdup(e->valuestring);
		t->nescalate++;
	}
	return 0;
}

static int load_reminders(struct gate *g, const cJSON *node, const char *where,
			  struct team *t)
{
	const cJSON *esc = cJSON_GetObjectItemCaseSensitive(node, "escalate");
	const char *short_ok = getenv(GATE_SHORT_REMINDERS_ENV);
	uint64_t min = short_ok && !strcmp(short_ok, "1") ? 1 : GATE_MIN_REMIND;

	if (load_duration(g, node, where, "remind_every", &t->remind_every))
		return -1;
	if (t->remind_every && t->remind_every < min)
		return gate_error(g, cJSON_GetObjectItemCaseSensitive(node, "remind_every"), 0,
				  "%s.remind_every is shorter than 1m; remind at most once a minute", where);
	return esc ? load_escalate(g, esc, where, t) : 0;
}

static int load_team(struct gate *g, const cJSON *node, struct team *t)
{
	char where[128];
	const cJSON *email, *appr;
	size_t i = 0, n;

	snprintf(where, sizeof(where), "teams.%s", node->string);
	t->name = xstrdup(node->string);
	if (!gate_valid_team_name(node->string) || !strcmp(node->string, "pass") ||
	    !strcmp(node->string, "fail"))
		return gate_error(g, node, 1, "invalid team name \"%.64s\"; use 1-64 letters, digits, '_', '-' or '.', and not \"pass\" or \"fail\"",
				  node->string);
	if (!cJSON_IsObject(node))
		return gate_error(g, node, 0, "%s must be an object like {\"email\": [\"a@example.com\"], \"approvals\": 1}", where);
	if (check_keys(g, node, where, team_keys, NKEYS(team_keys)))
		return -1;
	email = cJSON_GetObjectItemCaseSensitive(node, "email");
	if (!email || !cJSON_IsArray(email) || !email->child)
		return gate_error(g, email ? email : node, 0, "%s.email must be a non-empty array of addresses, like [\"research@example.com\"]", where);
	n = (size_t)cJSON_GetArraySize(email);
	if (n > GATE_MAX_EMAILS)
		return gate_error(g, email, 0, "%s.email has %zu addresses; at most %d are allowed",
				  where, n, GATE_MAX_EMAILS);
	t->email = xcalloc(n, sizeof(*t->email));
	t->nemail = n;
	for (const cJSON *e = email->child; e; e = e->next, i++) {
		if (!cJSON_IsString(e) || !gate_valid_email(e->valuestring))
			return gate_error(g, e, 0, "%s.email[%zu] is not a valid address; write a plain address like \"name@example.com\"",
					  where, i);
		for (size_t k = 0; k < i; k++)
			if (!strcasecmp(t->email[k], e->valuestring))
				return gate_error(g, e, 0, "%s.email[%zu] repeats \"%s\"; list each address once",
						  where, i, e->valuestring);
		t->email[i] = xstrdup(e->valuestring);
	}
	t->approvals = 1;
	appr = cJSON_GetObjectItemCaseSensitive(node, "approvals");
	if (appr) {
		if (!cJSON_IsNumber(appr) || appr->valuedouble != (double)(int)appr->valuedouble ||
		    appr->valuedouble < 1)
			return gate_error(g, appr, 0, "%s.approvals must be a whole number >= 1", where);
		if (appr->valuedouble > (double)t->nemail)
			return gate_error(g, appr, 0, "%s.approvals is %d but the team lists only %zu address(es); the quorum could never be met",
					  where, (int)appr->valuedouble, t->nemail);
		t->approvals = (int)appr->valuedouble;
	}
	if (load_reminders(g, node, where, t))
		return -1;
	return load_chat(g, cJSON_GetObjectItemCaseSensitive(node, "chat"), t->name, t);
}

static int load_teams(struct gate *g, const cJSON *teams)
{
	size_t n;

	if (!teams)
		return 0;
	if (!cJSON_IsObject(teams))
		return gate_error(g, teams, 0, "teams must be an object mapping team names to {\"email\": [...]}");
	n = (size_t)cJSON_GetArraySize(teams);
	if (n > GATE_MAX_TEAMS)
		return gate_error(g, teams, 0, "%zu teams; at most %d are allowed", n, GATE_MAX_TEAMS);
	g->teams = xcalloc(n, sizeof(*g->teams));
	for (const cJSON *t = teams->child; t; t = t->next)
		if (load_team(g, t, &g->teams[g->nteams++]))
			return -1;
	return 0;
}

const struct team *gate_team(const struct gate *g, const char *name)
{
	for (size_t i = 0; i < g->nteams; i++)
		if (!strcmp(g->teams[i].name, name))
			return &g->teams[i];
	return NULL;
}

/* `Next`/`default` must name pass, fail or a team. */
static int check_target(const struct gate *g, const cJSON *node, const char *what,
			const char *target)
{
	const char **names;
	const char *hint;
	char valid[512] = "pass, fail";
	size_t len = strlen(valid);

	if (!strcmp(target, "pass") || !strcmp(target, "fail") || gate_team(g, target))
		return 0;
	names = xcalloc(g->nteams + 2, sizeof(*names));
	names[0] = "pass";
	names[1] = "fail";
	for (size_t i = 0; i < g->nteams; i++) {
		names[i + 2] = g->teams[i].name;
		len += (size_t)snprintf(valid + len, len < sizeof(valid) ? sizeof(valid) - len : 0,
					", %s", g->teams[i].name);
	}
	hint = suggest(target, names, g->nteams + 2);
	free(names);
	if (hint)
		return gate_error(g, node, 0, "%s names unknown outcome \"%.64s\"; did you mean \"%s\"? (valid: %s)",
				  what, target, hint, valid);
	return gate_error(g, node, 0, "%s names unknown outcome \"%.64s\"; use pass, fail or a team from \"teams\" (valid: %s)",
			  what, target, valid);
}

static int check_rules(struct gate *g)
{
	char what[64];
	int *used = xcalloc(g->nteams + 1, sizeof(*used));
	int ret = -1;

	for (size_t i = 0; i < g->choices.nrules; i++) {
		const char *next = choice_next(&g->choices, i);
		const cJSON *node = cJSON_GetObjectItemCaseSensitive(choice_node(&g->choices, i), "Next");

		snprintf(what, sizeof(what), "choices[%zu].Next", i);
		if (check_target(g, node, what, next))
			goto out;
	}
	for (size_t t = 0; t < g->nteams; t++) {
		for (size_t i = 0; i < g->choices.nrules; i++)
			if (!strcmp(choice_next(&g->choices, i), g->teams[t].name))
				used[t] = 1;
		if (g->default_next && !strcmp(g->default_next, g->teams[t].name))
			used[t] = 1;
		if (!used[t]) {
			unsigned line = 0, col = 0;
			const cJSON *tn = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(g->doc.root, "teams"), g->teams[t].name);

			json_doc_pos(&g->doc, tn, 1, &line, &col);
			fprintf(stderr, "%s:%u:%u: warning: team \"%s\" is never named by a rule's Next or by default; it will never be notified\n",
				g->file, line, col, g->teams[t].name);
		}
	}
	ret = 0;
out:
	free(used);
	return ret;
}

static int check_enum(const struct gate *g, const cJSON *obj, const char *where,
		      const char *key, const char *const *allowed, size_t n)
{
	const char *v;
	char valid[128];

	if (get_string(g, obj, key, where, 0, &v))
		return -1;
	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v, allowed[i]))
			return 0;
	list_keys(valid, sizeof(valid), allowed, n);
	return gate_error(g, cJSON_GetObjectItemCaseSensitive(obj, key), 0,
			  "%s.%s is \"%.64s\"; valid values: %s", where, key, v, valid);
}

static int check_env_key(const struct gate *g, const cJSON *obj, const char *where,
			 const char *key)
{
	const char *v;

	if (get_string(g, obj, key, where, 0, &v))
		return -1;
	if (v && !is_env_name(v))
		return gate_error(g, cJSON_GetObjectItemCaseSensitive(obj, key), 0,
				  "%s.%s must name an environment variable (like GREENLIGHT_SMTP_PASSWORD), not hold a secret",
				  where, key);
	return 0;
}

static int check_duration_key(const struct gate *g, const cJSON *obj,
			      const char *where, const char *key)
{
	const char *v;
	uint64_t secs;

	if (get_string(g, obj, key, where, 0, &v))
		return -1;
	if (v && parse_duration(v, &secs))
		return gate_error(g, cJSON_GetObjectItemCaseSensitive(obj, key), 0,
				  "%s.%s is \"%.64s\"; write a duration like \"90s\", \"15m\", \"2h\" or \"7d\"",
				  where, key, v);
	return 0;
}

static int check_string_keys(const struct gate *g, const cJSON *obj,
			     const char *where, const char *const *keys, size_t n)
{
	const char *v;

	for (size_t i = 0; i < n; i++)
		if (get_string(g, obj, keys[i], where, 0, &v))
			return -1;
	return 0;
}

static int load_notify(struct gate *g, const cJSON *n)
{
	static const char *const tls[] = { "starttls", "none" };
	static const char *const strings[] = { "smtp", "ca_file" };
	const char *from, *why;

	if (!n)
		return 0;
	if (!cJSON_IsObject(n))
		return gate_error(g, n, 0, "notify must be an object");
	if (check_keys(g, n, "notify", notify_keys, NKEYS(notify_keys)) ||
	    check_enum(g, n, "notify", "tls", tls, 2) ||
	    check_env_key(g, n, "notify", "username_env") ||
	    check_env_key(g, n, "notify", "password_env") ||
	    check_duration_key(g, n, "notify", "send_timeout") ||
	    check_string_keys(g, n, "notify", strings, NKEYS(strings)) ||
	    get_string(g, n, "from", "notify", 0, &from))
		return -1;
	if (from && mime_from_parse(from, NULL, NULL, &why))
		return gate_error(g, cJSON_GetObjectItemCaseSensitive(n, "from"), 0,
				  "notify.from: %s", why);
	g->notify = n;
	return 0;
}

/* Check v, an array of relay URLs, and join them with commas into *out
 * (new string).  Returns 0, or -1 after one error at the bad entry. */
static int join_relays(const struct gate *g, const cJSON *v, char **out)
{
	struct buf list = BUF_INIT(GATE_RELAY_MAX * 1100);
	int i = 0, ret = -1;

	for (const cJSON *e = v->child; e; e = e->next, i++) {
		if (!cJSON_IsString(e) || !*e->valuestring || strchr(e->valuestring, ',')) {
			gate_error(g, e, 0, "decision.relay[%d] must be one relay URL (a non-empty string without commas)", i);
			goto out;
		}
		if (buf_addf(&list, "%s%s", i ? "," : "", e->valuestring)) {
			gate_error(g, e, 0, "decision.relay[%d] is too long", i);
			goto out;
		}
	}
	*out = xstrdup(list.data);
	ret = 0;
out:
	buf_release(&list);
	return ret;
}

/* decision.relay: one URL, or an array of 1..GATE_RELAY_MAX URLs of relays
 * on one database, kept joined with commas in g->relay_list (the form
 * --relay and GREENLIGHT_RELAY take).  Each URL's scheme and host are
 * checked by `run` (settings.c), which also knows allow_insecure_relay. */
static int load_relay_list(struct gate *g, const cJSON *d)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "relay");

	if (!v)
		return 0;
	if (!cJSON_IsString(v) && !cJSON_IsArray(v))
		return gate_error(g, v, 0, "decision.relay must be a URL or an array of 1 to %d URLs of relays on one database, not %s%s",
				  GATE_RELAY_MAX, cJSON_IsNull(v) ? "" : cJSON_IsObject(v) ? "an " : "a ",
				  choice_type_name(v));
	if (cJSON_IsString(v) && !*v->valuestring)
		return gate_error(g, v, 0, "decision.relay must not be empty");
	if (cJSON_IsArray(v) && (!v->child || cJSON_GetArraySize(v) > GATE_RELAY_MAX))
		return gate_error(g, v, 0, "decision.relay has %d URLs; list 1 to %d relays of one database",
				  cJSON_GetArraySize(v), GATE_RELAY_MAX);
	free(g->relay_list);
	g->relay_list = NULL;
	if (cJSON_IsArray(v))
		return join_relays(g, v, &g->relay_list);
	g->relay_list = xstrdup(v->valuestring);
	return 0;
}

static int load_decision(struct gate *g, const cJSON *d)
{
	static const char *const via[] = { "listen", "relay", "mail" };
	static const char *const imap_tls[] = { "starttls", "none" };
	static const char *const on_timeout[] = { "fail" };
	static const char *const plus_tags[] = { "ignore", "keep" };
	static const char *const strings[] = { "listen", "public_url", "state",
		"imap", "imap_ca_file", "reply_to", "trusted_authserv_id", "processed" };
	const cJSON *self;

	if (!d)
		return 0;
	if (!cJSON_IsObject(d))
		return gate_error(g, d, 0, "decision must be an object");
	if (check_keys(g, d, "decision", decision_keys, NKEYS(decision_keys)) ||
	    check_enum(g, d, "decision", "via", via, 3) ||
	    check_enum(g, d, "decision", "imap_tls", imap_tls, 2) ||
	    check_duration_key(g, d, "decision", "poll") ||
	    check_env_key(g, d, "decision", "imap_user_env") ||
	    check_env_key(g, d, "decision", "imap_password_env") ||
	    check_enum(g, d, "decision", "on_timeout", on_timeout, 1) ||
	    check_duration_key(g, d, "decision", "timeout") ||
	    check_duration_key(g, d, "decision", "progress") ||
	    check_env_key(g, d, "decision", "relay_token_env") ||
	    check_env_key(g, d, "decision", "secret_env") ||
	    check_enum(g, d, "decision", "plus_tags", plus_tags, 2) ||
	    check_string_keys(g, d, "decision", strings, NKEYS(strings)) ||
	    load_relay_list(g, d))
		return -1;
	self = cJSON_GetObjectItemCaseSensitive(d, "allow_self_approval");
	if (self && !cJSON_IsBool(self))
		return gate_error(g, self, 0, "decision.allow_self_approval must be true or false");
	self = cJSON_GetObjectItemCaseSensitive(d, "processed");
	if (cJSON_IsString(self) && strcmp(self->valuestring, "flag") &&
	    (strncmp(self->valuestring, "move:", 5) || !self->valuestring[5] ||
	     strpbrk(self->valuestring + 5, "\"\\\r\n")))
		return gate_error(g, self, 0, "decision.processed is \"%s\"; write \"flag\" or \"move:FOLDER\"",
				  self->valuestring);
	self = cJSON_GetObjectItemCaseSensitive(d, "require_auth_results");
	if (self && !cJSON_IsBool(self))
		return gate_error(g, self, 0, "decision.require_auth_results must be true or false");
	self = cJSON_GetObjectItemCaseSensitive(d, "allow_insecure_relay");
	if (self && !cJSON_IsBool(self))
		return gate_error(g, self, 0, "decision.allow_insecure_relay must be true or false");
	g->decision = d;
	return 0;
}

static int valid_notes_ref(const char *s)
{
	size_t n = strlen(s);

	if (strncmp(s, "refs/notes/", 11) || n == 11 || n > 200 || s[n - 1] == '/' ||
	    s[n - 1] == '.' || strstr(s, "..") || strstr(s, "//") || strstr(s, "/.") ||
	    strstr(s, "@{") || (n > 5 && !strcmp(s + n - 5, ".lock")))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || strchr("~^:?*[\\", *s))
			return 0;
	return 1;
}

static int load_baseline(struct gate *g, const cJSON *b)
{
	static const char *const record[] = { "on_pass", "never" };
	static const char *const aggregate[] = { "median", "mean", "last", "min", "max" };
	static const char *const if_missing[] = { "evaluate", "error" };
	struct baseline_cfg *c = &g->baseline;
	const cJSON *w;
	const char *s;

	c->store = BASELINE_STORE_NOTES;
	c->ref = xstrdup(BASELINE_DEFAULT_REF);
	c->record_on_pass = 1;
	c->window = 5;
	c->aggregate = AGG_MEDIAN;
	if (!b)
		return 0;
	if (!cJSON_IsObject(b))
		return gate_error(g, b, 0, "baseline must be an object like {\"store\": \"git-notes\"}");
	c->present = 1;
	if (check_keys(g, b, "baseline", baseline_keys, NKEYS(baseline_keys)) ||
	    check_enum(g, b, "baseline", "record", record, 2) ||
	    check_enum(g, b, "baseline", "aggregate", aggregate, 5) ||
	    check_enum(g, b, "baseline", "if_missing", if_missing, 2) ||
	    get_string(g, b, "store", "baseline", 0, &s))
		return -1;
	if (s && !strcmp(s, "git-notes")) {
		c->store = BASELINE_STORE_NOTES;
	} else if (s && !strncmp(s, "dir:", 4) && s[4]) {
		c->store = BASELINE_STORE_DIR;
		c->dir = xstrdup(s + 4);
	} else if (s && !strcmp(s, "relay")) {
		c->store = BASELINE_STORE_RELAY;
	} else if (s) {
		return gate_error(g, member_of(b, "store"), 0,
				  "baseline.store is \"%.64s\"; write \"git-notes\", \"dir:PATH\" or \"relay\"", s);
	}
	if (get_string(g, b, "ref", "baseline", 0, &s))
		return -1;
	if (s && !valid_notes_ref(s))
		return gate_error(g, member_of(b, "ref"), 0,
				  "baseline.ref is \"%.64s\"; write a notes ref like \"refs/notes/greenlight\"", s);
	if (s) {
		free(c->ref);
		c->ref = xstrdup(s);
	}
	if (get_string(g, b, "record", "baseline", 0, &s))
		return -1;
	c->record_on_pass = !s || !strcmp(s, "on_pass");
	if (get_string(g, b, "aggregate", "baseline", 0, &s))
		return -1;
	if (s)
		baseline_agg_parse(s, &c->aggregate);
	if (get_string(g, b, "if_missing", "baseline", 0, &s))
		return -1;
	c->if_missing = s && !strcmp(s, "error") ? BASELINE_MISSING_ERROR : BASELINE_MISSING_EVALUATE;
	if (get_string(g, b, "branch", "baseline", 0, &s))
		return -1;
	if (s && (strlen(s) > 200 || !printable_name(s)))
		return gate_error(g, member_of(b, "branch"), 0,
				  "baseline.branch is not a branch name; write one like \"main\"");
	c->branch = s ? xstrdup(s) : NULL;
	w = member_of(b, "window");
	if (w && (!cJSON_IsNumber(w) || w->valuedouble != (double)(int)w->valuedouble ||
		  w->valuedouble < 1 || w->valuedouble > BASELINE_MAX_WINDOW))
		return gate_error(g, w, 0, "baseline.window must be a whole number from 1 to %d",
				  BASELINE_MAX_WINDOW);
	if (w)
		c->window = (int)w->valuedouble;
	return 0;
}

static int load_header(struct gate *g, const cJSON *root)
{
	static const char *const match[] = { "first", "all" };
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
	const char *s;

	if (!v)
		return gate_error(g, root, 0, "no \"version\"; add \"version\": 1");
	if (!cJSON_IsNumber(v) || v->valuedouble != 1)
		return gate_error(g, v, 0, "unsupported version; this greenlight reads \"version\": 1");
	g->version = 1;
	/* "$schema" points editors at schema/greenlight.schema.json; it has
	 * no meaning here beyond being a string */
	if (get_string(g, root, "$schema", "the gate", 0, &s) ||
	    get_string(g, root, "name", "the gate", 1, &s))
		return -1;
	if (strlen(s) > GATE_NAME_MAX)
		return gate_error(g, cJSON_GetObjectItemCaseSensitive(root, "name"), 0,
				  "name is longer than %d bytes", GATE_NAME_MAX);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return gate_error(g, cJSON_GetObjectItemCaseSensitive(root, "name"), 0,
					  "name contains a control character; use printable text");
	g->name = xstrdup(s);
	if (get_string(g, root, "results", "the gate", 0, &s))
		return -1;
	g->results = s ? xstrdup(s) : NULL;
	if (check_enum(g, root, "the gate", "match", match, 2) ||
	    get_string(g, root, "match", "the gate", 0, &s))
		return -1;
	g->match = s && !strcmp(s, "all") ? GATE_MATCH_ALL : GATE_MATCH_FIRST;
	if (get_string(g, root, "default", "the gate", 0, &s))
		return -1;
	g->default_next = s ? xstrdup(s) : NULL;
	return 0;
}

static int load_choices(struct gate *g, const cJSON *root)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "choices");
	struct choice_error err;

	if (!c)
		return gate_error(g, root, 0, "no \"choices\"; add an array of Choice rules, like [{\"Variable\": \"$.latencyMs\", \"NumericGreaterThan\": 80, \"Next\": \"fail\"}]");
	if (!cJSON_IsArray(c) || !c->child)
		return gate_error(g, c, 0, "choices must be a non-empty array of Choice rules");
	if (choice_compile(&g->choices, c, "choices", &err))
		return gate_error(g, err.node, 0, "%s: %s", err.where, err.msg);
	baseline_add_paths(&g->choices);
	return 0;
}

static int gate_parse(struct gate *g)
{
	struct json_err jerr;
	const cJSON *root;

	if (json_doc_parse(&g->doc, g->text.data, g->text.len, &jerr))
		return error_at("%s:%u:%u: %s", g->file, jerr.line, jerr.col, jerr.msg);
	root = g->doc.root;
	if (!cJSON_IsObject(root))
		return gate_error(g, root, 0, "a gate file is a JSON object; see examples/seed/greenlight.json");
	if (check_keys(g, root, "the gate", top_keys, NKEYS(top_keys)) ||
	    load_header(g, root) ||
	    load_teams(g, cJSON_GetObjectItemCaseSensitive(root, "teams")) ||
	    load_choices(g, root) ||
	    load_notify(g, cJSON_GetObjectItemCaseSensitive(root, "notify")) ||
	    load_decision(g, cJSON_GetObjectItemCaseSensitive(root, "decision")) ||
	    load_baseline(g, cJSON_GetObjectItemCaseSensitive(root, "baseline")))
		return -1;
	if (g->default_next &&
	    check_target(g, cJSON_GetObjectItemCaseSensitive(root, "default"), "default", g->default_next))
		return -1;
	return check_rules(g);
}

int gate_load(struct gate *g, const char *path)
{
	struct buf empty = BUF_INIT(GATE_MAX_BYTES);
	int rc;

	memset(g, 0, sizeof(*g));
	g->file = xstrdup(path);
	g->text = empty;
	rc = buf_read_file(&g->text, path);
	if (rc == BUF_TOOBIG)
		error("%s: gate file is larger than %d bytes; a gate file holds rules, not data",
		      path, GATE_MAX_BYTES);
	else if (rc)
		error("cannot read gate file '%s': %s%s", path, strerror(errno),
		      errno == ENOENT ? " (use -g FILE or create greenlight.json; see examples/seed/)" : "");
	if (rc || gate_parse(g)) {
		gate_release(g);
		return -1;
	}
	return 0;
}

int gate_load_text(struct gate *g, const char *name, const char *text, size_t len)
{
	struct buf empty = BUF_INIT(GATE_MAX_BYTES);

	memset(g, 0, sizeof(*g));
	g->file = xstrdup(name);
	g->text = empty;
	if (buf_add(&g->text, text, len) == BUF_TOOBIG)
		error("%s: gate file is larger than %d bytes; a gate file holds rules, not data",
		      name, GATE_MAX_BYTES);
	if (!g->text.data || gate_parse(g)) {
		gate_release(g);
		return -1;
	}
	return 0;
}

void gate_release(struct gate *g)
{
	free(g->relay_list);
	for (size_t t = 0; t < g->nteams; t++) {
		for (size_t i = 0; i < g->teams[t].nemail; i++)
			free(g->teams[t].email[i]);
		free(g->teams[t].email);
		free(g->teams[t].name);
		for (size_t i = 0; i < g->teams[t].nchat; i++) {
			free(g->teams[t].chat[i].service);
			free(g->teams[t].chat[i].url_env);
		}
		free(g->teams[t].chat);
		for (size_t i = 0; i < g->teams[t].nescalate; i++)
			free(g->teams[t].escalate_to[i]);
		free(g->teams[t].escalate_to);
	}
	free(g->teams);
	choice_release(&g->choices);
	json_doc_release(&g->doc);
	buf_release(&g->text);
	free(g->name);
	free(g->results);
	free(g->default_next);
	free(g->file);
	free(g->baseline.dir);
	free(g->baseline.ref);
	free(g->baseline.branch);
	memset(g, 0, sizeof(*g));
}
