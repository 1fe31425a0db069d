/* settings.h - `greenlight run` settings: flag > environment > gate file >
 * default, resolved in one table.
 *
 * Every setting has a long option, a GREENLIGHT_* variable, a place in the
 * gate file (section.key) and a default.  settings_resolve() fills each
 * value and remembers where it came from, for messages.  Secrets are never
 * settings: the file and the flags only name the variables that hold them.
 */
#ifndef GREENLIGHT_SETTINGS_H
#define GREENLIGHT_SETTINGS_H

#include <stdint.h>
#include "gate.h"
#include "token.h"

enum setting_id {
	SET_SMTP, SET_TLS, SET_FROM, SET_USER_ENV, SET_PASSWORD_ENV, SET_CA_FILE,
	SET_SEND_TIMEOUT, SET_VIA, SET_LISTEN, SET_PUBLIC_URL, SET_TIMEOUT,
	SET_ON_TIMEOUT, SET_STATE, SET_PROGRESS, SET_ALLOW_SELF, SET_RUN_URL,
	SET_RELAY, SET_RELAY_TOKEN_ENV, SET_SECRET_ENV, SET_INSECURE_RELAY,
	SET_PLUS_TAGS,
	/* decision by reply (via mail): the mailbox polled for replies */
	SET_IMAP, SET_IMAP_TLS, SET_IMAP_USER_ENV, SET_IMAP_PASSWORD_ENV,
	SET_IMAP_CA_FILE, SET_POLL, SET_REPLY_TO, SET_AUTHSERV_ID,
	SET_REQUIRE_AUTH, SET_PROCESSED,
	SET_COUNT
};

struct settings {
	const char *value[SET_COUNT];	/* never NULL after resolve, may be "" */
	const char *origin[SET_COUNT];	/* "--smtp", "GREENLIGHT_SMTP", "notify.smtp", "default" */
	/* parsed forms */
	uint64_t send_timeout, timeout, progress;	/* seconds */
	int tls_none, allow_self;
	int insecure_relay;		/* http:// to a relay off this host */
	int keep_tags;			/* plus_tags "keep" */
	uint64_t poll;			/* seconds between mailbox polls */
	int imap_tls_none;		/* imap:// without STARTTLS */
	int require_auth;		/* require_auth_results */
	/* the gate secret (from the variable SET_SECRET_ENV names), or
	 * secret.len == 0 when it is not set */
	struct token_secret secret;
};

/* Long option name of a setting ("smtp", "smtp-tls", ...), for getopt. */
const char *setting_option(enum setting_id id);

/* Record a flag's value (argument memory must outlive the settings). */
void settings_set_flag(struct settings *s, enum setting_id id, const char *value);

/* Fill unset values from the environment, the gate and the defaults, then
 * check and parse them.  Returns 0, or -1 after reporting which setting is
 * wrong and where it came from. */
int settings_resolve(struct settings *s, const struct gate *g);

/* Only the relay settings, as `run` resolves them but without flags (the
 * relay baseline store; `what` names the caller in messages): the relay
 * URL (GREENLIGHT_RELAY > decision.relay), the variable holding the token
 * (GREENLIGHT_RELAY_TOKEN_ENV > decision.relay_token_env > default), which
 * must be set, and the same https-or-loopback rule.  Returns 0 (*s filled;
 * other settings stay unset), or -1 after one line naming what to set. */
int settings_relay(struct settings *s, const struct gate *g, const char *what);

#endif
