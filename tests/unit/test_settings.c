/* test_settings.c - unit tests for src/settings.c.
 *
 * Precedence flag > GREENLIGHT_* environment > gate file > default, for
 * strings, durations and booleans, with the origin each value remembers;
 * the parsed forms (durations in seconds, booleans, tls); and every check
 * with the message it prints, which names where the bad value came from.
 * The GREENLIGHT_* variables are cleared before each test and restored
 * afterwards, so the tests neither see nor leave anything in the caller's
 * environment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture.h"
#include "gate.h"
#include "settings.h"

static const char *const env_names[] = {
	"GREENLIGHT_SMTP", "GREENLIGHT_SMTP_TLS", "GREENLIGHT_FROM",
	"GREENLIGHT_SMTP_USER_ENV", "GREENLIGHT_SMTP_PASSWORD_ENV",
	"GREENLIGHT_SMTP_CA_FILE", "GREENLIGHT_SEND_TIMEOUT", "GREENLIGHT_VIA",
	"GREENLIGHT_LISTEN", "GREENLIGHT_PUBLIC_URL", "GREENLIGHT_TIMEOUT",
	"GREENLIGHT_ON_TIMEOUT", "GREENLIGHT_STATE", "GREENLIGHT_PROGRESS",
	"GREENLIGHT_ALLOW_SELF_APPROVAL", "GREENLIGHT_RUN_URL", "GREENLIGHT_RELAY",
	"GREENLIGHT_RELAY_TOKEN_ENV", "GREENLIGHT_RELAY_TOKEN", "GL_TEST_TOKEN",
	"GREENLIGHT_GATE_SECRET", "GREENLIGHT_GATE_SECRET_ENV", "GREENLIGHT_ALLOW_INSECURE_RELAY",
	"GREENLIGHT_PLUS_TAGS", "GREENLIGHT_SMTP_USER", "GREENLIGHT_SMTP_PASSWORD",
	"GL_TEST_USER", "GL_TEST_PASSWORD",
};
#define NENV (sizeof(env_names) / sizeof(env_names[0]))

static char *saved_env[NENV];
static struct gate gate;
static struct settings set;

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < NENV; i++) {
		const char *v = getenv(env_names[i]);

		saved_env[i] = v ? strdup(v) : NULL;
		unsetenv(env_names[i]);
	}
	memset(&set, 0, sizeof(set));
	memset(&gate, 0, sizeof(gate));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	capture_reset();
	for (size_t i = 0; i < NENV; i++) {
		if (saved_env[i])
			setenv(env_names[i], saved_env[i], 1);
		else
			unsetenv(env_names[i]);
		free(saved_env[i]);
		saved_env[i] = NULL;
	}
	gate_release(&gate);
	return 0;
}

#define RULES "\"choices\": [{\"Variable\": \"$.a\", \"IsPresent\": true, \"Next\": \"pass\"}]"

/* Load a gate with the given extra members (e.g. "\"notify\": {...}"). */
static void load_gate(const char *members)
{
	char text[2048];

	gate_release(&gate);
	snprintf(text, sizeof(text), "{\"version\": 1, \"name\": \"g\", " RULES "%s%s}",
		 *members ? ", " : "", members);
	if (gate_load_text(&gate, "t.json", text, strlen(text)))
		fail_msg("gate did not load: %s", text);
}

/* settings_resolve() that must succeed, quietly. */
static void resolve_ok(void)
{
	int rc;

	capture_begin();
	rc = settings_resolve(&set, &gate);
	capture_end();
	if (rc)
		fail_msg("settings_resolve failed: %s", captured);
	assert_string_equal(captured, "");
}

/* settings_resolve() that must fail with exactly the one line `want`. */
static void resolve_bad(const char *want)
{
	char line[1024];
	int rc;

	capture_begin();
	rc = settings_resolve(&set, &gate);
	capture_end();
	assert_int_equal(rc, -1);
	snprintf(line, sizeof(line), "greenlight: %s\n", want);
	assert_string_equal(captured, line);
}

/* The same for a message reported at a gate file position (no prefix). */
static void resolve_bad_at(const char *want)
{
	char line[1024];
	int rc;

	capture_begin();
	rc = settings_resolve(&set, &gate);
	capture_end();
	assert_int_equal(rc, -1);
	snprintf(line, sizeof(line), "%s\n", want);
	assert_string_equal(captured, line);
}

/* Start again from no flags. */
static void reset(void)
{
	memset(&set, 0, sizeof(set));
}

static void test_option_names(void **state)
{
	static const struct {
		enum setting_id id;
		const char *option;
	} names[] = {
		{ SET_SMTP, "smtp" }, { SET_TLS, "smtp-tls" }, { SET_FROM, "from" },
		{ SET_USER_ENV, "smtp-user-env" }, { SET_PASSWORD_ENV, "smtp-password-env" },
		{ SET_CA_FILE, "smtp-ca-file" }, { SET_SEND_TIMEOUT, "send-timeout" },
		{ SET_VIA, "via" }, { SET_LISTEN, "listen" }, { SET_PUBLIC_URL, "public-url" },
		{ SET_TIMEOUT, "timeout" }, { SET_ON_TIMEOUT, "on-timeout" },
		{ SET_STATE, "state" }, { SET_PROGRESS, "progress" },
		{ SET_ALLOW_SELF, "allow-self-approval" }, { SET_RUN_URL, "run-url" },
		{ SET_RELAY, "relay" }, { SET_RELAY_TOKEN_ENV, "relay-token-env" },
		{ SET_SECRET_ENV, "gate-secret-env" },
		{ SET_INSECURE_RELAY, "allow-insecure-relay" },
		{ SET_PLUS_TAGS, "plus-tags" },
		{ SET_IMAP, "imap" }, { SET_IMAP_TLS, "imap-tls" },
		{ SET_IMAP_USER_ENV, "imap-user-env" },
		{ SET_IMAP_PASSWORD_ENV, "imap-password-env" },
		{ SET_IMAP_CA_FILE, "imap-ca-file" }, { SET_POLL, "poll" },
		{ SET_REPLY_TO, "reply-to" }, { SET_AUTHSERV_ID, "trusted-authserv-id" },
		{ SET_REQUIRE_AUTH, "require-auth-results" }, { SET_PROCESSED, "processed" },
	};

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), SET_COUNT);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(setting_option(names[i].id), names[i].option);
}

static void test_defaults(void **state)
{
	static const char *const want[SET_COUNT] = {
		[SET_SMTP] = "smtp://localhost:587", [SET_TLS] = "starttls",
		[SET_FROM] = "greenlight@localhost", [SET_USER_ENV] = "GREENLIGHT_SMTP_USER",
		[SET_PASSWORD_ENV] = "GREENLIGHT_SMTP_PASSWORD", [SET_CA_FILE] = "",
		[SET_SEND_TIMEOUT] = "2m", [SET_VIA] = "listen",
		[SET_LISTEN] = "127.0.0.1:8080", [SET_PUBLIC_URL] = "",
		[SET_TIMEOUT] = "24h", [SET_ON_TIMEOUT] = "fail",
		[SET_STATE] = ".greenlight/state.db", [SET_PROGRESS] = "60s",
		[SET_ALLOW_SELF] = "false", [SET_RUN_URL] = "", [SET_RELAY] = "",
		[SET_RELAY_TOKEN_ENV] = "GREENLIGHT_RELAY_TOKEN",
		[SET_SECRET_ENV] = "GREENLIGHT_GATE_SECRET",
		[SET_INSECURE_RELAY] = "false", [SET_PLUS_TAGS] = "ignore",
		[SET_IMAP] = "", [SET_IMAP_TLS] = "starttls",
		[SET_IMAP_USER_ENV] = "GREENLIGHT_IMAP_USER",
		[SET_IMAP_PASSWORD_ENV] = "GREENLIGHT_IMAP_PASSWORD",
		[SET_IMAP_CA_FILE] = "", [SET_POLL] = "5s", [SET_REPLY_TO] = "",
		[SET_AUTHSERV_ID] = "", [SET_REQUIRE_AUTH] = "true", [SET_PROCESSED] = "flag",
	};

	(void)state;
	load_gate("");
	resolve_ok();
	for (int i = 0; i < SET_COUNT; i++) {
		assert_non_null(set.value[i]);
		assert_string_equal(set.value[i], want[i]);
		assert_string_equal(set.origin[i], "default");
	}
	assert_int_equal(set.send_timeout, 120);
	assert_int_equal(set.timeout, 86400);
	assert_int_equal(set.progress, 60);
	assert_int_equal(set.tls_none, 0);
	assert_int_equal(set.allow_self, 0);
	assert_int_equal(set.poll, 5);
	assert_int_equal(set.require_auth, 1);
}

static void test_precedence(void **state)
{
	(void)state;
	load_gate("\"decision\": {\"timeout\": \"2h\", \"listen\": \"10.0.0.1:1\"},"
		  "\"notify\": {\"smtp\": \"smtp://gate:25\"}");
	setenv("GREENLIGHT_TIMEOUT", "3h", 1);
	setenv("GREENLIGHT_SMTP", "smtp://env:25", 1);

	/* flag beats everything */
	settings_set_flag(&set, SET_TIMEOUT, "4h");
	settings_set_flag(&set, SET_SMTP, "smtp://flag:25");
	resolve_ok();
	assert_string_equal(set.value[SET_TIMEOUT], "4h");
	assert_string_equal(set.origin[SET_TIMEOUT], "timeout");
	assert_int_equal(set.timeout, 4 * 3600);
	assert_string_equal(set.value[SET_SMTP], "smtp://flag:25");
	assert_string_equal(set.origin[SET_SMTP], "smtp");
	/* the gate file still fills what nothing else sets */
	assert_string_equal(set.value[SET_LISTEN], "10.0.0.1:1");
	assert_string_equal(set.origin[SET_LISTEN], "gate");

	/* then the environment */
	reset();
	resolve_ok();
	assert_string_equal(set.value[SET_TIMEOUT], "3h");
	assert_string_equal(set.origin[SET_TIMEOUT], "GREENLIGHT_TIMEOUT");
	assert_int_equal(set.timeout, 3 * 3600);
	assert_string_equal(set.value[SET_SMTP], "smtp://env:25");
	assert_string_equal(set.origin[SET_SMTP], "GREENLIGHT_SMTP");

	/* an empty variable counts as unset: the gate file */
	setenv("GREENLIGHT_TIMEOUT", "", 1);
	unsetenv("GREENLIGHT_SMTP");
	reset();
	resolve_ok();
	assert_string_equal(set.value[SET_TIMEOUT], "2h");
	assert_string_equal(set.origin[SET_TIMEOUT], "gate");
	assert_int_equal(set.timeout, 2 * 3600);
	assert_string_equal(set.value[SET_SMTP], "smtp://gate:25");
	assert_string_equal(set.origin[SET_SMTP], "gate");

	/* then the default */
	load_gate("");
	reset();
	resolve_ok();
	assert_string_equal(set.value[SET_TIMEOUT], "24h");
	assert_string_equal(set.origin[SET_TIMEOUT], "default");
	assert_string_equal(set.value[SET_LISTEN], "127.0.0.1:8080");
}

static void test_flag_empty_and_run_url(void **state)
{
	(void)state;
	load_gate("\"notify\": {\"ca_file\": \"gate-ca.pem\"}");
	/* an empty flag is a value: it overrides the gate file */
	settings_set_flag(&set, SET_CA_FILE, "");
	setenv("GREENLIGHT_RUN_URL", "https://ci.example.com/run/7", 1);
	resolve_ok();
	assert_string_equal(set.value[SET_CA_FILE], "");
	assert_string_equal(set.origin[SET_CA_FILE], "smtp-ca-file");
	/* run-url has no place in the gate file; the environment sets it */
	assert_string_equal(set.value[SET_RUN_URL], "https://ci.example.com/run/7");
	assert_string_equal(set.origin[SET_RUN_URL], "GREENLIGHT_RUN_URL");
}

static void test_gate_values(void **state)
{
	(void)state;
	load_gate("\"notify\": {\"smtp\": \"smtps://m:465\", \"tls\": \"none\", \"from\": \"gl@example.com\","
		  " \"username_env\": \"U\", \"password_env\": \"P\", \"ca_file\": \"ca.pem\","
		  " \"send_timeout\": \"45s\"},"
		  "\"decision\": {\"via\": \"listen\", \"listen\": \"0.0.0.0:9\", \"public_url\": \"https://gl\","
		  " \"timeout\": \"7d\", \"on_timeout\": \"fail\", \"state\": \"s.db\", \"progress\": \"5m\","
		  " \"allow_self_approval\": true, \"relay\": \"https://relay\", \"relay_token_env\": \"T\","
		  " \"secret_env\": \"S\", \"allow_insecure_relay\": false, \"plus_tags\": \"keep\","
		  " \"imap\": \"imaps://imap.example.com/INBOX\", \"imap_tls\": \"none\","
		  " \"imap_user_env\": \"IU\", \"imap_password_env\": \"IP\", \"imap_ca_file\": \"i.pem\","
		  " \"poll\": \"10s\", \"reply_to\": \"gate@example.com\","
		  " \"trusted_authserv_id\": \"mx.example.com\", \"require_auth_results\": false,"
		  " \"processed\": \"move:Done\"}");
	setenv("IU", "gate", 1);	/* a mailbox in listen mode: its login must be set */
	setenv("IP", "secret", 1);
	resolve_ok();
	unsetenv("IU");
	unsetenv("IP");
	assert_int_equal(set.poll, 10);
	assert_int_equal(set.require_auth, 0);
	assert_int_equal(set.imap_tls_none, 1);
	assert_string_equal(set.value[SET_PROCESSED], "move:Done");
	for (int i = 0; i < SET_COUNT; i++)
		if (i != SET_RUN_URL)
			assert_string_equal(set.origin[i], "gate");
	assert_string_equal(set.value[SET_SMTP], "smtps://m:465");
	assert_string_equal(set.value[SET_FROM], "gl@example.com");
	assert_string_equal(set.value[SET_USER_ENV], "U");
	assert_string_equal(set.value[SET_PASSWORD_ENV], "P");
	assert_string_equal(set.value[SET_STATE], "s.db");
	assert_string_equal(set.value[SET_RELAY_TOKEN_ENV], "T");
	assert_string_equal(set.value[SET_SECRET_ENV], "S");
	assert_int_equal(set.keep_tags, 1);
	/* booleans from the file read as text */
	assert_string_equal(set.value[SET_ALLOW_SELF], "true");
	assert_int_equal(set.allow_self, 1);
	assert_int_equal(set.tls_none, 1);
	assert_int_equal(set.send_timeout, 45);
	assert_int_equal(set.timeout, 7 * 86400);
	assert_int_equal(set.progress, 300);

	load_gate("\"decision\": {\"allow_self_approval\": false}");
	reset();
	setenv("GREENLIGHT_ALLOW_SELF_APPROVAL", "", 1);
	resolve_ok();
	assert_string_equal(set.value[SET_ALLOW_SELF], "false");
	assert_string_equal(set.origin[SET_ALLOW_SELF], "gate");
	assert_int_equal(set.allow_self, 0);
}

static void test_booleans(void **state)
{
	static const struct {
		const char *text;
		int value;
	} good[] = {
		{ "true", 1 }, { "1", 1 }, { "yes", 1 },
		{ "false", 0 }, { "0", 0 }, { "no", 0 }, { "", 0 },
	};
	static const char *const bad[] = { "TRUE", "True", "on", "off", "2", "y", " true" };
	char want[256];

	(void)state;
	load_gate("\"decision\": {\"allow_self_approval\": true}");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		reset();
		settings_set_flag(&set, SET_ALLOW_SELF, good[i].text);
		resolve_ok();
		assert_int_equal(set.allow_self, good[i].value);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!*good[i].text)
			continue;	/* empty means unset: the gate's true */
		reset();
		setenv("GREENLIGHT_ALLOW_SELF_APPROVAL", good[i].text, 1);
		resolve_ok();
		assert_string_equal(set.origin[SET_ALLOW_SELF], "GREENLIGHT_ALLOW_SELF_APPROVAL");
		assert_int_equal(set.allow_self, good[i].value);
	}
	unsetenv("GREENLIGHT_ALLOW_SELF_APPROVAL");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reset();
		settings_set_flag(&set, SET_ALLOW_SELF, bad[i]);
		snprintf(want, sizeof(want), "--allow-self-approval \"%s\": write true or false", bad[i]);
		resolve_bad(want);
	}
	reset();
	setenv("GREENLIGHT_ALLOW_SELF_APPROVAL", "maybe", 1);
	resolve_bad("allow-self-approval \"maybe\" (from GREENLIGHT_ALLOW_SELF_APPROVAL): write true or false");
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		uint64_t secs;
	} good[] = {
		{ "1s", 1 }, { "90s", 90 }, { "15m", 900 }, { "2h", 7200 },
		{ "7d", 604800 }, { "999999999s", 999999999 },
	};
	static const char *const bad[] = {
		"", "0s", "0m", "10", "s", "1day", "1.5h", "-5m", "+5m", "5 m",
		"5M", "5ms", " 5m", "1w", "99999999999s",
	};
	char want[256];

	(void)state;
	load_gate("");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		reset();
		settings_set_flag(&set, SET_TIMEOUT, good[i].text);
		settings_set_flag(&set, SET_PROGRESS, good[i].text);
		settings_set_flag(&set, SET_SEND_TIMEOUT, good[i].text);
		resolve_ok();
		assert_int_equal(set.timeout, good[i].secs);
		assert_int_equal(set.progress, good[i].secs);
		assert_int_equal(set.send_timeout, good[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reset();
		settings_set_flag(&set, SET_TIMEOUT, bad[i]);
		snprintf(want, sizeof(want), "--timeout \"%s\": write a duration like 90s, 15m, 2h or 7d", bad[i]);
		resolve_bad(want);
		reset();
		settings_set_flag(&set, SET_PROGRESS, bad[i]);
		snprintf(want, sizeof(want), "--progress \"%s\": write a duration like 30s or 5m", bad[i]);
		resolve_bad(want);
		reset();
		settings_set_flag(&set, SET_SEND_TIMEOUT, bad[i]);
		snprintf(want, sizeof(want), "--send-timeout \"%s\": write a duration like 30s or 2m", bad[i]);
		resolve_bad(want);
	}
	reset();
	setenv("GREENLIGHT_TIMEOUT", "forever", 1);
	resolve_bad("timeout \"forever\" (from GREENLIGHT_TIMEOUT): write a duration like 90s, 15m, 2h or 7d");
}

static void test_checks(void **state)
{
	(void)state;
	load_gate("");
	settings_set_flag(&set, SET_TLS, "ssl");
	resolve_bad("--smtp-tls \"ssl\": valid values: starttls, none");
	reset();
	setenv("GREENLIGHT_SMTP_TLS", "STARTTLS", 1);
	resolve_bad("smtp-tls \"STARTTLS\" (from GREENLIGHT_SMTP_TLS): valid values: starttls, none");
	unsetenv("GREENLIGHT_SMTP_TLS");

	reset();
	settings_set_flag(&set, SET_VIA, "email");
	resolve_bad("--via \"email\": valid values: listen, relay, mail");
	reset();
	setenv("GREENLIGHT_ON_TIMEOUT", "pass", 1);
	resolve_bad("on-timeout \"pass\" (from GREENLIGHT_ON_TIMEOUT): the only valid value is fail (a gate fails closed)");
	unsetenv("GREENLIGHT_ON_TIMEOUT");
	reset();
	settings_set_flag(&set, SET_STATE, "");
	resolve_bad("--state \"\": name a database file, like .greenlight/state.db");

	/* the first bad setting is the one reported */
	reset();
	settings_set_flag(&set, SET_TIMEOUT, "soon");
	settings_set_flag(&set, SET_TLS, "ssl");
	resolve_bad("--smtp-tls \"ssl\": valid values: starttls, none");
}

/* From: an address, or a display name and an address; anything else is
 * refused with one line when the settings are read, not when mail is due. */
static void test_from(void **state)
{
	(void)state;
	load_gate("");
	settings_set_flag(&set, SET_FROM, "Release Gate <gate@example.com>");
	resolve_ok();
	reset();
	settings_set_flag(&set, SET_FROM, "\"Acme, Inc.\" <gate@example.com>");
	resolve_ok();
	reset();
	setenv("GREENLIGHT_FROM", "D\xc3\xa9ploiement <gate@example.com>", 1);
	resolve_ok();
	unsetenv("GREENLIGHT_FROM");

	reset();
	settings_set_flag(&set, SET_FROM, "a@example.com, b@example.com");
	resolve_bad("--from \"a@example.com, b@example.com\": name one address: addr@domain or Name <addr@domain>");
	reset();
	settings_set_flag(&set, SET_FROM, "Gate <a@example.com> <b@example.com>");
	resolve_bad("--from \"Gate <a@example.com> <b@example.com>\": name one address: Name <addr@domain>");
	reset();
	settings_set_flag(&set, SET_FROM, "Release Gate <gate@example.com");
	resolve_bad("--from \"Release Gate <gate@example.com\": unbalanced < >; write Name <addr@domain>");
	reset();
	settings_set_flag(&set, SET_FROM, "Release Gate gate@example.com>");
	resolve_bad("--from \"Release Gate gate@example.com>\": unbalanced < >; write Name <addr@domain>");
	reset();
	setenv("GREENLIGHT_FROM", "Gate <gate@example.com>\r\nBcc: x@evil", 1);
	resolve_bad("from \"Gate <gate@example.com>\\x0d\\x0aBcc: x@evil\" (from GREENLIGHT_FROM): control characters (CR, LF, tab) are not allowed; write one line: Name <addr@domain>");
	unsetenv("GREENLIGHT_FROM");
	reset();
	settings_set_flag(&set, SET_FROM, "release gate");
	resolve_bad("--from \"release gate\": name one address: addr@domain or Name <addr@domain>");
}

/* SMTP credentials: both variables or neither, named by username_env /
 * password_env; the message names the missing variable and never a value. */
static void test_credentials(void **state)
{
	(void)state;
	load_gate("");
	resolve_ok();				/* neither: no AUTH */
	reset();
	setenv("GREENLIGHT_SMTP_USER", "greenlight", 1);
	setenv("GREENLIGHT_SMTP_PASSWORD", "hunter2", 1);
	resolve_ok();				/* both */

	reset();
	unsetenv("GREENLIGHT_SMTP_USER");
	resolve_bad("smtp-user-env \"GREENLIGHT_SMTP_USER\" (from default): this variable holds the SMTP username and is not set, but GREENLIGHT_SMTP_PASSWORD (the password) is; set both to log in to the SMTP server, or neither");
	assert_null(strstr(captured, "hunter2"));
	reset();
	setenv("GREENLIGHT_SMTP_USER", "", 1);	/* empty is not set */
	resolve_bad("smtp-user-env \"GREENLIGHT_SMTP_USER\" (from default): this variable holds the SMTP username and is not set, but GREENLIGHT_SMTP_PASSWORD (the password) is; set both to log in to the SMTP server, or neither");

	/* the names come from the gate file, the environment or a flag */
	reset();
	load_gate("\"notify\": {\"username_env\": \"GL_TEST_USER\", \"password_env\": \"GL_TEST_PASSWORD\"}");
	setenv("GREENLIGHT_SMTP_USER", "greenlight", 1);	/* not the named one */
	setenv("GL_TEST_PASSWORD", "hunter2", 1);
	resolve_bad("notify.username_env \"GL_TEST_USER\" in the gate file: this variable holds the SMTP username and is not set, but GL_TEST_PASSWORD (the password) is; set both to log in to the SMTP server, or neither");
	reset();
	setenv("GL_TEST_USER", "greenlight", 1);
	resolve_ok();
	reset();
	settings_set_flag(&set, SET_USER_ENV, "NO_SUCH_VARIABLE_FOR_GL");
	resolve_bad("--smtp-user-env \"NO_SUCH_VARIABLE_FOR_GL\": this variable holds the SMTP username and is not set, but GL_TEST_PASSWORD (the password) is; set both to log in to the SMTP server, or neither");

	/* a username without a password cannot log in either */
	reset();
	unsetenv("GL_TEST_PASSWORD");
	resolve_bad("notify.password_env \"GL_TEST_PASSWORD\" in the gate file: this variable holds the SMTP password and is not set, but GL_TEST_USER (the username) is; set both to log in to the SMTP server, or neither");
}

static void test_relay_mode(void **state)
{
	(void)state;
	/* relay mode needs a URL; the message names where "relay" came from */
	load_gate("\"decision\": {\"via\": \"relay\"}");
	resolve_bad("decision.via \"relay\" in the gate file: relay mode needs the relay's URL: set decision.relay, --relay or GREENLIGHT_RELAY");
	reset();
	settings_set_flag(&set, SET_VIA, "relay");
	resolve_bad("--via \"relay\": relay mode needs the relay's URL: set decision.relay, --relay or GREENLIGHT_RELAY");

	/* ... and its token variable set */
	reset();
	setenv("GREENLIGHT_RELAY", "https://relay.example.com", 1);
	resolve_bad("relay-token-env \"GREENLIGHT_RELAY_TOKEN\" (from default): this variable holds the relay's bearer token and is not set");
	reset();
	settings_set_flag(&set, SET_RELAY_TOKEN_ENV, "GL_TEST_TOKEN");
	resolve_bad("--relay-token-env \"GL_TEST_TOKEN\": this variable holds the relay's bearer token and is not set");

	/* with both it resolves; the token itself is never a setting */
	setenv("GL_TEST_TOKEN", "secret", 1);
	reset();
	settings_set_flag(&set, SET_RELAY_TOKEN_ENV, "GL_TEST_TOKEN");
	resolve_ok();
	assert_string_equal(set.value[SET_VIA], "relay");
	assert_string_equal(set.origin[SET_VIA], "gate");
	assert_string_equal(set.value[SET_RELAY], "https://relay.example.com");
	assert_string_equal(set.origin[SET_RELAY], "GREENLIGHT_RELAY");
	for (int i = 0; i < SET_COUNT; i++)
		assert_null(strstr(set.value[i], "secret"));

	/* plain http:// only to this machine, unless allowed */
	setenv("GL_TEST_TOKEN", "secret", 1);
	{
		static const char *const local[] = {
			"http://127.0.0.1:8080", "http://127.0.0.2:1/", "http://localhost:80",
			"http://LOCALHOST", "http://[::1]:8080/", "http://127.0.0.1#@x",
		};
		static const char *const remote[] = {
			"http://relay.example.com:8080", "http://127.0.0.1.example.com/",
			"http://localhost.example.com",
			/* user information: libcurl connects to the host after '@' */
			"http://127.0.0.1:1@relay.example.com:8080", "http://localhost:x@relay.example.com",
			"http://[::1]@relay.example.com/", "http://127.0.0.1@relay.example.com",
			"http://127.0.0.1\\@relay.example.com",
		};
		char want[512];

		for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
			reset();
			settings_set_flag(&set, SET_VIA, "relay");
			settings_set_flag(&set, SET_RELAY_TOKEN_ENV, "GL_TEST_TOKEN");
			settings_set_flag(&set, SET_RELAY, local[i]);
			resolve_ok();
		}
		for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
			reset();
			settings_set_flag(&set, SET_VIA, "relay");
			settings_set_flag(&set, SET_RELAY_TOKEN_ENV, "GL_TEST_TOKEN");
			settings_set_flag(&set, SET_RELAY, remote[i]);
			snprintf(want, sizeof(want), "--relay \"%s\": plain http to another"
				 " host lets anyone on the path read review links and forge"
				 " answers; use https://, or pass --allow-insecure-relay if"
				 " the network is trusted", remote[i]);
			resolve_bad(want);
			settings_set_flag(&set, SET_INSECURE_RELAY, "true");
			if (!strchr(remote[i], '@')) {
				resolve_ok();
				continue;
			}
			/* user information would be printed with the URL */
			snprintf(want, sizeof(want), "--relay \"%s\": user information"
				 " in a relay URL (it would be printed in messages); the"
				 " bearer token authenticates the gate", remote[i]);
			resolve_bad(want);
		}
	}
	unsetenv("GL_TEST_TOKEN");

	/* listen mode needs neither */
	unsetenv("GREENLIGHT_RELAY");
	unsetenv("GL_TEST_TOKEN");
	load_gate("");
	reset();
	resolve_ok();
	assert_string_equal(set.value[SET_VIA], "listen");
}

/* Several relay URLs: from the gate file (an array), a flag or the
 * environment (comma-separated); each bad entry named, gate file entries
 * at their position. */
static void test_relay_list(void **state)
{
	(void)state;
	setenv("GL_TEST_TOKEN", "secret", 1);
	load_gate("\"decision\": {\"via\": \"relay\", \"relay_token_env\": \"GL_TEST_TOKEN\",\n"
		  "\"relay\": [\"https://a.example.com\", \"http://127.0.0.1:9\"]}");
	reset();
	resolve_ok();
	assert_string_equal(set.value[SET_RELAY], "https://a.example.com,http://127.0.0.1:9");
	assert_string_equal(set.origin[SET_RELAY], "gate");
	load_gate("\"decision\": {\"via\": \"relay\", \"relay_token_env\": \"GL_TEST_TOKEN\",\n"
		  "\"relay\": [\"https://a.example.com\", \"http://b.example.com\"]}");
	reset();
	resolve_bad_at("t.json:2:36: decision.relay[1] \"http://b.example.com\": plain http to another host lets anyone on the path read review links and forge answers; use https://, or pass --allow-insecure-relay if the network is trusted");
	settings_set_flag(&set, SET_INSECURE_RELAY, "true");
	resolve_ok();
	load_gate("\"decision\": {\"via\": \"relay\", \"relay_token_env\": \"GL_TEST_TOKEN\",\n"
		  "\"relay\": [\"https://a.example.com\", \"https://a.example.com/\"]}");
	reset();
	resolve_bad_at("t.json:2:36: decision.relay[1] \"https://a.example.com/\": listed twice");
	load_gate("\"decision\": {\"via\": \"relay\", \"relay_token_env\": \"GL_TEST_TOKEN\",\n"
		  "\"relay\": \"ftp://a.example.com\"}");
	reset();
	resolve_bad_at("t.json:2:10: decision.relay \"ftp://a.example.com\": write an https:// URL");
	/* the flag and the environment take a comma-separated list */
	load_gate("\"decision\": {\"via\": \"relay\", \"relay_token_env\": \"GL_TEST_TOKEN\"}");
	reset();
	settings_set_flag(&set, SET_RELAY, "https://a.example.com, https://b.example.com");
	resolve_ok();
	reset();
	settings_set_flag(&set, SET_RELAY, "https://a.example.com,ftp://b");
	resolve_bad("--relay \"https://a.example.com,ftp://b\": entry 2 \"ftp://b\": write an https:// URL");
	reset();
	setenv("GREENLIGHT_RELAY", "https://a.example.com,,https://c.example.com", 1);
	resolve_bad("relay \"https://a.example.com,,https://c.example.com\" (from GREENLIGHT_RELAY): entry 2 \"\": an empty entry (two commas, or a comma at an end)");
	reset();
	setenv("GREENLIGHT_RELAY", "https://1,https://2,https://3,https://4,https://5,https://6,https://7,https://8,https://9", 1);
	resolve_bad("relay \"https://1,https://2,https://3,https://4,https://5,https://6,https://7,https://8,https://9\" (from GREENLIGHT_RELAY): more than 8 relay URLs");
	unsetenv("GREENLIGHT_RELAY");
	unsetenv("GL_TEST_TOKEN");
}

/* settings_relay() that must fail with exactly the one line `want`. */
static void relay_bad(const char *want)
{
	char line[1024];
	int rc;

	capture_begin();
	rc = settings_relay(&set, &gate, "baseline store \"relay\"");
	capture_end();
	assert_int_equal(rc, -1);
	snprintf(line, sizeof(line), "greenlight: %s\n", want);
	assert_string_equal(captured, line);
}

/* The relay baseline store resolves the relay settings as run does. */
static void test_relay_only(void **state)
{
	(void)state;
	load_gate("");
	relay_bad("baseline store \"relay\" needs the relay's URL: set GREENLIGHT_RELAY or decision.relay in the gate file");
	load_gate("\"decision\": {\"relay\": \"https://gate.example.com\", \"relay_token_env\": \"GL_TEST_TOKEN\"}");
	relay_bad("baseline store \"relay\" needs the relay's bearer token: set GL_TEST_TOKEN (the variable named by GREENLIGHT_RELAY_TOKEN_ENV or decision.relay_token_env)");
	setenv("GL_TEST_TOKEN", "tok-0123456789abcdef", 1);
	assert_int_equal(settings_relay(&set, &gate, "x"), 0);
	assert_string_equal(set.value[SET_RELAY], "https://gate.example.com");
	assert_string_equal(set.origin[SET_RELAY], "gate");
	assert_string_equal(set.value[SET_RELAY_TOKEN_ENV], "GL_TEST_TOKEN");
	/* the environment wins over the gate file */
	setenv("GREENLIGHT_RELAY", "http://127.0.0.1:9", 1);
	setenv("GREENLIGHT_RELAY_TOKEN_ENV", "GREENLIGHT_RELAY_TOKEN", 1);
	relay_bad("baseline store \"relay\" needs the relay's bearer token: set GREENLIGHT_RELAY_TOKEN (the variable named by GREENLIGHT_RELAY_TOKEN_ENV or decision.relay_token_env)");
	setenv("GREENLIGHT_RELAY_TOKEN", "tok-0123456789abcdef", 1);
	assert_int_equal(settings_relay(&set, &gate, "x"), 0);
	assert_string_equal(set.value[SET_RELAY], "http://127.0.0.1:9");
	/* plain http off this host needs the opt-in */
	setenv("GREENLIGHT_RELAY", "http://relay.example.com", 1);
	relay_bad("relay \"http://relay.example.com\" (from GREENLIGHT_RELAY): plain http to another host lets anyone on the path read review links and forge answers; use https://, or pass --allow-insecure-relay if the network is trusted");
	setenv("GREENLIGHT_ALLOW_INSECURE_RELAY", "true", 1);
	assert_int_equal(settings_relay(&set, &gate, "x"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_option_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_empty_and_run_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_booleans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_list, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
