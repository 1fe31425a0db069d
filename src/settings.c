/* settings.c - resolve `run` settings (see settings.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "relay_client.h"
#include "settings.h"
#include "util.h"

struct setting_def {
	const char *option;	/* --option */
	const char *env;	/* GREENLIGHT_* */
	const char *section;	/* gate file section, or NULL */
	const char *key;
	const char *def;
};

static const struct setting_def defs[SET_COUNT] = {
	[SET_SMTP] = { "smtp", "GREENLIGHT_SMTP", "notify", "smtp", "smtp://localhost:587" },
	[SET_TLS] = { "smtp-tls", "GREENLIGHT_SMTP_TLS", "notify", "tls", "starttls" },
	[SET_FROM] = { "from", "GREENLIGHT_FROM", "notify", "from", "greenlight@localhost" },
	[SET_USER_ENV] = { "smtp-user-env", "GREENLIGHT_SMTP_USER_ENV", "notify", "username_env", "GREENLIGHT_SMTP_USER" },
	[SET_PASSWORD_ENV] = { "smtp-password-env", "GREENLIGHT_SMTP_PASSWORD_ENV", "notify", "password_env", "GREENLIGHT_SMTP_PASSWORD" },
	[SET_CA_FILE] = { "smtp-ca-file", "GREENLIGHT_SMTP_CA_FILE", "notify", "ca_file", "" },
	[SET_SEND_TIMEOUT] = { "send-timeout", "GREENLIGHT_SEND_TIMEOUT", "notify", "send_timeout", "2m" },
	[SET_VIA] = { "via", "GREENLIGHT_VIA", "decision", "via", "listen" },
	[SET_LISTEN] = { "listen", "GREENLIGHT_LISTEN", "decision", "listen", "127.0.0.1:8080" },
	[SET_PUBLIC_URL] = { "public-url", "GREENLIGHT_PUBLIC_URL", "decision", "public_url", "" },
	[SET_TIMEOUT] = { "timeout", "GREENLIGHT_TIMEOUT", "decision", "timeout", "24h" },
	[SET_ON_TIMEOUT] = { "on-timeout", "GREENLIGHT_ON_TIMEOUT", "decision", "on_timeout", "fail" },
	[SET_STATE] = { "state", "GREENLIGHT_STATE", "decision", "state", ".greenlight/state.db" },
	[SET_PROGRESS] = { "progress", "GREENLIGHT_PROGRESS", "decision", "progress", "60s" },
	[SET_ALLOW_SELF] = { "allow-self-approval", "GREENLIGHT_ALLOW_SELF_APPROVAL", "decision", "allow_self_approval", "false" },
	[SET_RUN_URL] = { "run-url", "GREENLIGHT_RUN_URL", NULL, NULL, "" },
	[SET_RELAY] = { "relay", "GREENLIGHT_RELAY", "decision", "relay", "" },
	[SET_RELAY_TOKEN_ENV] = { "relay-token-env", "GREENLIGHT_RELAY_TOKEN_ENV", "decision", "relay_token_env", "GREENLIGHT_RELAY_TOKEN" },
	[SET_SECRET_ENV] = { "gate-secret-env", "GREENLIGHT_GATE_SECRET_ENV", "decision", "secret_env", "GREENLIGHT_GATE_SECRET" },
	[SET_INSECURE_RELAY] = { "allow-insecure-relay", "GREENLIGHT_ALLOW_INSECURE_RELAY", "decision", "allow_insecure_relay", "false" },
	[SET_PLUS_TAGS] = { "plus-tags", "GREENLIGHT_PLUS_TAGS", "decision", "plus_tags", "ignore" },
	[SET_IMAP] = { "imap", "GREENLIGHT_IMAP", "decision", "imap", "" },
	[SET_IMAP_TLS] = { "imap-tls", "GREENLIGHT_IMAP_TLS", "decision", "imap_tls", "starttls" },
	[SET_IMAP_USER_ENV] = { "imap-user-env", "GREENLIGHT_IMAP_USER_ENV", "decision", "imap_user_env", "GREENLIGHT_IMAP_USER" },
	[SET_IMAP_PASSWORD_ENV] = { "imap-password-env", "GREENLIGHT_IMAP_PASSWORD_ENV", "decision", "imap_password_env", "GREENLIGHT_IMAP_PASSWORD" },
	[SET_IMAP_CA_FILE] = { "imap-ca-file", "GREENLIGHT_IMAP_CA_FILE", "decision", "imap_ca_file", "" },
	[SET_POLL] = { "poll", "GREENLIGHT_POLL", "decision", "poll", "5s" },
	[SET_REPLY_TO] = { "reply-to", "GREENLIGHT_REPLY_TO", "decision", "reply_to", "" },
	[SET_AUTHSERV_ID] = { "trusted-authserv-id", "GREENLIGHT_TRUSTED_AUTHSERV_ID", "decision", "trusted_authserv_id", "" },
	[SET_REQUIRE_AUTH] = { "require-auth-results", "GREENLIGHT_REQUIRE_AUTH_RESULTS", "decision", "require_auth_results", "true" },
	[SET_PROCESSED] = { "processed", "GREENLIGHT_PROCESSED", "decision", "processed", "flag" },
};

const char *setting_option(enum setting_id id)
{
	return defs[id].option;
}

void settings_set_flag(struct settings *s, enum setting_id id, const char *value)
{
	s->value[id] = value;
	s->origin[id] = defs[id].option;
}

/* The gate file's value as text (booleans as "true"/"false"), or NULL. */
static const char *from_gate(const struct gate *g, const struct setting_def *d)
{
	const cJSON *sec = NULL, *v;

	if (!d->section)
		return NULL;
	sec = !strcmp(d->section, "notify") ? g->notify : g->decision;
	v = sec ? cJSON_GetObjectItemCaseSensitive(sec, d->key) : NULL;
	if (cJSON_IsArray(v) && d == &defs[SET_RELAY])
		return g->relay_list;	/* several relays, joined by commas */
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	return NULL;
}

static int bad(const struct settings *s, enum setting_id id, const char *what)
{
	const char *o = s->origin[id];

	if (!strcmp(o, defs[id].option))
		return error("--%s \"%s\": %s", o, s->value[id], what);
	if (!strcmp(o, "gate"))
		return error("%s.%s \"%s\" in the gate file: %s", defs[id].section,
			     defs[id].key, s->value[id], what);
	return error("%s \"%s\" (from %s): %s", defs[id].option, s->value[id], o, what);
}

/* Entry i (0-based) of a comma-separated list, blanks trimmed. */
static void list_entry(const char *list, int i, char *out, size_t n)
{
	size_t len, b = 0;

	while (i-- > 0 && strchr(list, ','))
		list = strchr(list, ',') + 1;
	len = strcspn(list, ",");
	while (b < len && (list[b] == ' ' || list[b] == '\t'))
		b++;
	while (len > b && (list[len - 1] == ' ' || list[len - 1] == '\t'))
		len--;
	snprintf(out, n, "%.*s", (int)(len - b), list + b);
}

/* The relay URLs (one, or a comma-separated list of relays on one
 * database): each https://, or http:// to this machine, or http:// with
 * the explicit opt-in (anyone on the path could then read and forge).
 * A bad entry from the gate file is reported at its position. */
static int check_relay(struct settings *s, const struct gate *g)
{
	const char *list = s->value[SET_RELAY];
	const cJSON *node = NULL;
	struct relay_urls u;
	char why[512], entry[RELAY_URL_MAX + 1], what[2048];
	int at;

	if (!*list)
		return 0;
	if (!relay_urls_parse(&u, list, s->insecure_relay, &at, why, sizeof(why))) {
		relay_urls_release(&u);
		return 0;
	}
	if (at >= 0)
		list_entry(list, at, entry, sizeof(entry));
	if (!strcmp(s->origin[SET_RELAY], "gate") && g && g->decision)
		node = cJSON_GetObjectItemCaseSensitive(g->decision, "relay");
	if (node && cJSON_IsArray(node) && at >= 0)
		return gate_error(g, cJSON_GetArrayItem(node, at), 0,
				  "decision.relay[%d] \"%s\": %s", at, entry, why);
	if (node)
		return gate_error(g, node, 0, "decision.relay%s%s%s: %s",
				  at >= 0 ? " \"" : "", at >= 0 ? entry : "",
				  at >= 0 ? "\"" : "", why);
	if (at < 0 || !strchr(list, ','))
		return bad(s, SET_RELAY, why);
	snprintf(what, sizeof(what), "entry %d \"%s\": %s", at + 1, entry, why);
	return bad(s, SET_RELAY, what);
}

/* The gate secret, if its variable is set: at least TOKEN_SECRET_MIN
 * bytes.  Never printed. */
static int check_secret(struct settings *s)
{
	const char *name = s->value[SET_SECRET_ENV];
	const char *v = *name ? getenv(name) : NULL;
	size_t n = v ? strlen(v) : 0;

	s->secret.bytes = (const unsigned char *)v;
	s->secret.len = n;
	if (!n)
		return 0;
	if (n < TOKEN_SECRET_MIN || n > TOKEN_SECRET_MAX)
		return bad(s, SET_SECRET_ENV, n < TOKEN_SECRET_MIN ?
			   "the gate secret in this variable is shorter than 32"
			   " bytes; make one with: openssl rand -base64 48" :
			   "the gate secret in this variable is over 1024 bytes");
	return 0;
}

/* SMTP credentials: both variables or neither.  A password alone would
 * make the mailer skip AUTH and the server refuse the mail (530) once a
 * review is due; a username alone cannot log in.  Values never printed. */
static int check_credentials(struct settings *s)
{
	const char *uname = s->value[SET_USER_ENV], *pname = s->value[SET_PASSWORD_ENV];
	const char *user = *uname ? getenv(uname) : NULL;
	const char *pass = *pname ? getenv(pname) : NULL;
	int have_user = user && *user, have_pass = pass && *pass;
	char what[512];

	if (have_pass && !have_user) {
		snprintf(what, sizeof(what), "this variable holds the SMTP username and"
			 " is not set, but %s (the password) is; set both to log in to"
			 " the SMTP server, or neither", pname);
		return bad(s, SET_USER_ENV, what);
	}
	if (have_user && !have_pass) {
		snprintf(what, sizeof(what), "this variable holds the SMTP password and"
			 " is not set, but %s (the username) is; set both to log in to"
			 " the SMTP server, or neither", uname);
		return bad(s, SET_PASSWORD_ENV, what);
	}
	return 0;
}

/* The From value: an address, or a display name and an address
 * ("Release Gate <gate@example.com>"), refused here with one line rather
 * than when the mail is due.  Control characters are shown escaped so the
 * message stays on one line. */
static int check_from(struct settings *s)
{
	const char *v = s->value[SET_FROM], *why;
	char shown[512];
	size_t o = 0;
	int ret;

	if (!mime_from_parse(v, NULL, NULL, &why))
		return 0;
	for (; *v && o + 5 < sizeof(shown); v++) {
		unsigned char c = (unsigned char)*v;

		if (c < 32 || c == 127)
			o += (size_t)snprintf(shown + o, sizeof(shown) - o, "\\x%02x", c);
		else
			shown[o++] = (char)c;
	}
	shown[o] = '\0';
	v = s->value[SET_FROM];
	s->value[SET_FROM] = shown;
	ret = bad(s, SET_FROM, why);
	s->value[SET_FROM] = v;
	return ret;
}

/* Decision by reply (via mail, or listen or relay with a mailbox): the mailbox, its credentials, where
 * replies go and whose authentication results are trusted. */
static int check_mail(struct settings *s)
{
	const char *p = s->value[SET_PROCESSED];
	const char *u = *s->value[SET_IMAP_USER_ENV] ? getenv(s->value[SET_IMAP_USER_ENV]) : NULL;
	const char *pw = *s->value[SET_IMAP_PASSWORD_ENV] ? getenv(s->value[SET_IMAP_PASSWORD_ENV]) : NULL;
	const char *at;

	if (parse_duration(s->value[SET_POLL], &s->poll) || s->poll < 1 || s->poll > 3600)
		return bad(s, SET_POLL, "write a duration from 1s to 1h, like 5s");
	if (parse_bool(s->value[SET_REQUIRE_AUTH], &s->require_auth))
		return bad(s, SET_REQUIRE_AUTH, "write true or false");
	if (strcmp(s->value[SET_IMAP_TLS], "starttls") && strcmp(s->value[SET_IMAP_TLS], "none"))
		return bad(s, SET_IMAP_TLS, "valid values: starttls, none");
	s->imap_tls_none = !strcmp(s->value[SET_IMAP_TLS], "none");
	if (strcmp(p, "flag") && (strncmp(p, "move:", 5) || !p[5] ||
				  strpbrk(p + 5, "\"\\\r\n")))
		return bad(s, SET_PROCESSED, "valid values: flag, move:FOLDER");
	if (strcmp(s->value[SET_VIA], "mail") && !*s->value[SET_IMAP])
		return 0;	/* listen or relay: link only */
	if (!*s->value[SET_IMAP])
		return bad(s, SET_VIA, "mail mode needs the mailbox replies arrive in: set decision.imap, --imap or GREENLIGHT_IMAP (imaps://host/INBOX)");
	if (strncasecmp(s->value[SET_IMAP], "imaps://", 8) && strncasecmp(s->value[SET_IMAP], "imap://", 7))
		return bad(s, SET_IMAP, "write an imaps:// (or imap:// with STARTTLS) URL");
	if (!strncasecmp(s->value[SET_IMAP], "imap://", 7) && s->imap_tls_none &&
	    !url_is_loopback(s->value[SET_IMAP]))
		return bad(s, SET_IMAP_TLS, "none sends the mailbox password in clear; it is only allowed to this machine");
	at = strchr(s->value[SET_REPLY_TO], '@');
	if (!at || strchr(s->value[SET_REPLY_TO], '+') || strpbrk(s->value[SET_REPLY_TO], " <>\"") ||
	    at == s->value[SET_REPLY_TO] || at - s->value[SET_REPLY_TO] > 16)
		return bad(s, SET_REPLY_TO, "mail mode needs the mailbox's address (replies go to local+CODE@domain): a plain address with a local part of at most 16 characters and no '+'");
	if (!u || !*u || !pw || !*pw)
		return bad(s, !u || !*u ? SET_IMAP_USER_ENV : SET_IMAP_PASSWORD_ENV,
			   "this variable holds the mailbox login and is not set");
	if (s->require_auth && !*s->value[SET_AUTHSERV_ID])
		return bad(s, SET_AUTHSERV_ID, "name the server whose Authentication-Results are trusted (the receiving mail server's authserv-id), or set require_auth_results to false (weaker: anyone who can send to the mailbox can claim a reviewer's address)");
	return 0;
}

static int check(struct settings *s, const struct gate *g)
{
	const char *tls = s->value[SET_TLS];
	const char *via = s->value[SET_VIA];

	if (strcmp(tls, "starttls") && strcmp(tls, "none"))
		return bad(s, SET_TLS, "valid values: starttls, none");
	s->tls_none = !strcmp(tls, "none");
	if (strcmp(via, "listen") && strcmp(via, "relay") && strcmp(via, "mail"))
		return bad(s, SET_VIA, "valid values: listen, relay, mail");
	if (strcmp(s->value[SET_ON_TIMEOUT], "fail"))
		return bad(s, SET_ON_TIMEOUT, "the only valid value is fail (a gate fails closed)");
	if (parse_duration(s->value[SET_TIMEOUT], &s->timeout))
		return bad(s, SET_TIMEOUT, "write a duration like 90s, 15m, 2h or 7d");
	if (parse_duration(s->value[SET_PROGRESS], &s->progress))
		return bad(s, SET_PROGRESS, "write a duration like 30s or 5m");
	if (parse_duration(s->value[SET_SEND_TIMEOUT], &s->send_timeout))
		return bad(s, SET_SEND_TIMEOUT, "write a duration like 30s or 2m");
	if (parse_bool(s->value[SET_ALLOW_SELF], &s->allow_self))
		return bad(s, SET_ALLOW_SELF, "write true or false");
	if (!strcmp(via, "relay") && !*s->value[SET_RELAY])
		return bad(s, SET_VIA, "relay mode needs the relay's URL: set decision.relay, --relay or GREENLIGHT_RELAY");
	if (!strcmp(via, "relay") && !getenv(s->value[SET_RELAY_TOKEN_ENV]))
		return bad(s, SET_RELAY_TOKEN_ENV, "this variable holds the relay's bearer token and is not set");
	if (!*s->value[SET_STATE])
		return bad(s, SET_STATE, "name a database file, like .greenlight/state.db");
	if (strcmp(s->value[SET_PLUS_TAGS], "ignore") &&
	    strcmp(s->value[SET_PLUS_TAGS], "keep"))
		return bad(s, SET_PLUS_TAGS, "valid values: ignore (name+tag@domain"
			   " is name@domain), keep");
	s->keep_tags = !strcmp(s->value[SET_PLUS_TAGS], "keep");
	if (parse_bool(s->value[SET_INSECURE_RELAY], &s->insecure_relay))
		return bad(s, SET_INSECURE_RELAY, "write true or false");
	if (!strcmp(via, "relay") && check_relay(s, g))
		return -1;
	if (check_credentials(s) || check_from(s))
		return -1;
	if (check_mail(s))
		return -1;
	return check_secret(s);
}

/* Fill setting i, unless a flag set it: environment > gate > default. */
static void resolve_one(struct settings *s, const struct gate *g, int i)
{
	const char *env, *file;

	if (s->value[i])
		return;
	env = getenv(defs[i].env);
	file = from_gate(g, &defs[i]);
	if (env && *env) {
		s->value[i] = env;
		s->origin[i] = defs[i].env;
	} else if (file) {
		s->value[i] = file;
		s->origin[i] = "gate";
	} else {
		s->value[i] = defs[i].def;
		s->origin[i] = "default";
	}
}

int settings_resolve(struct settings *s, const struct gate *g)
{
	for (int i = 0; i < SET_COUNT; i++)
		resolve_one(s, g, i);
	return check(s, g);
}

int settings_relay(struct settings *s, const struct gate *g, const char *what)
{
	const char *tok;

	memset(s, 0, sizeof(*s));
	resolve_one(s, g, SET_RELAY);
	resolve_one(s, g, SET_RELAY_TOKEN_ENV);
	resolve_one(s, g, SET_INSECURE_RELAY);
	if (!*s->value[SET_RELAY])
		return error("%s needs the relay's URL: set GREENLIGHT_RELAY or"
			     " decision.relay in the gate file", what);
	tok = *s->value[SET_RELAY_TOKEN_ENV] ? getenv(s->value[SET_RELAY_TOKEN_ENV]) : NULL;
	if (!tok || !*tok)
		return error("%s needs the relay's bearer token: set %s (the"
			     " variable named by GREENLIGHT_RELAY_TOKEN_ENV or"
			     " decision.relay_token_env)", what,
			     s->value[SET_RELAY_TOKEN_ENV]);
	if (parse_bool(s->value[SET_INSECURE_RELAY], &s->insecure_relay))
		return bad(s, SET_INSECURE_RELAY, "write true or false");
	return check_relay(s, g);
}
