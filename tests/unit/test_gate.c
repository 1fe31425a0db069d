/* test_gate.c - unit tests for src/gate.c.
 *
 * Valid gate files become the struct gate they describe (defaults filled:
 * match "first", approvals 1, no results, no sections).  Every validation
 * error is checked as the exact line stderr gets - "file:line:col: what is
 * wrong; what would be valid" - with the position worked out by hand from
 * the literal gate text, and the gate left empty.  Also: team and address
 * rules, the limits (teams, addresses, name length, file size), the
 * unused-team warning, and loading from a file.
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

static struct gate gate;

static int teardown(void **state)
{
	(void)state;
	capture_reset();
	gate_release(&gate);
	return 0;
}

/* Load text as "t.json"; must succeed.  Returns what went to stderr. */
static const char *load_ok(const char *text)
{
	int rc;

	capture_begin();
	rc = gate_load_text(&gate, "t.json", text, strlen(text));
	capture_end();
	if (rc)
		fail_msg("gate did not load: %s\n%s", text, captured);
	return captured;
}

/* Load text as "t.json"; must fail with exactly one line, `want`. */
static void load_bad(const char *text, const char *want)
{
	struct gate empty;
	char line[2048];
	int rc;

	capture_begin();
	rc = gate_load_text(&gate, "t.json", text, strlen(text));
	capture_end();
	if (rc != -1)
		fail_msg("gate loaded but should not: %s", text);
	snprintf(line, sizeof(line), "%s\n", want);
	if (strcmp(captured, line))
		fail_msg("want: %sgot:  %sfor gate: %.300s", line, captured, text);
	memset(&empty, 0, sizeof(empty));
	assert_memory_equal(&gate, &empty, sizeof(gate));
}

/* A gate whose third line is L3 (lines 1-2 are fixed, line 4 is "}").
 *   1 {"version": 1, "name": "g", "default": "pass",
 *   2 "choices": [{"Variable": "$.a", "NumericGreaterThan": 1, "Next": "fail"}],
 *   3 L3
 *   4 }                                                                     */
#define G3(l3) "{\"version\": 1, \"name\": \"g\", \"default\": \"pass\",\n" \
	"\"choices\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}],\n" \
	l3 "\n}"

/* --- valid gates --------------------------------------------------------- */

static void test_valid_full(void **state)
{
	const struct team *t;

	(void)state;
	assert_string_equal(load_ok(
		"{\"version\": 1, \"name\": \"model-release\", \"results\": \"out/results.json\",\n"
		" \"match\": \"all\", \"default\": \"research\",\n"
		" \"choices\": [\n"
		"  {\"Variable\": \"$.accuracypct\", \"NumericLessThan\": 96, \"Next\": \"research\"},\n"
		"  {\"Variable\": \"$.latencyMs\", \"NumericGreaterThan\": 80, \"Next\": \"eng\"},\n"
		"  {\"Variable\": \"$.broken\", \"BooleanEquals\": true, \"Next\": \"fail\"}],\n"
		" \"teams\": {\n"
		"  \"research\": {\"email\": [\"r1@example.com\", \"R2@Example.org\", \"r3@example.com\"], \"approvals\": 2},\n"
		"  \"eng\": {\"email\": [\"eng@example.com\"]}},\n"
		" \"notify\": {\"smtp\": \"smtp://mail:25\", \"tls\": \"none\", \"from\": \"gl@example.com\",\n"
		"            \"username_env\": \"SMTP_USER\", \"password_env\": \"SMTP_PASS\",\n"
		"            \"ca_file\": \"ca.pem\", \"send_timeout\": \"30s\"},\n"
		" \"decision\": {\"via\": \"relay\", \"listen\": \"0.0.0.0:9000\", \"public_url\": \"https://gl\",\n"
		"              \"timeout\": \"2h\", \"on_timeout\": \"fail\", \"state\": \"s.db\",\n"
		"              \"progress\": \"5m\", \"allow_self_approval\": true,\n"
		"              \"relay\": \"https://relay\", \"relay_token_env\": \"RELAY_TOKEN\"}}"),
		"");
	assert_string_equal(gate.file, "t.json");
	assert_int_equal(gate.version, 1);
	assert_string_equal(gate.name, "model-release");
	assert_string_equal(gate.results, "out/results.json");
	assert_int_equal(gate.match, GATE_MATCH_ALL);
	assert_string_equal(gate.default_next, "research");
	assert_int_equal(gate.choices.nrules, 3);
	assert_string_equal(choice_next(&gate.choices, 1), "eng");
	assert_int_equal(gate.nteams, 2);
	/* teams in file order, addresses as written */
	assert_string_equal(gate.teams[0].name, "research");
	assert_int_equal(gate.teams[0].nemail, 3);
	assert_string_equal(gate.teams[0].email[0], "r1@example.com");
	assert_string_equal(gate.teams[0].email[1], "R2@Example.org");
	assert_string_equal(gate.teams[0].email[2], "r3@example.com");
	assert_int_equal(gate.teams[0].approvals, 2);
	/* approvals defaults to 1 */
	assert_string_equal(gate.teams[1].name, "eng");
	assert_int_equal(gate.teams[1].nemail, 1);
	assert_int_equal(gate.teams[1].approvals, 1);
	t = gate_team(&gate, "eng");
	assert_ptr_equal(t, &gate.teams[1]);
	assert_ptr_equal(gate_team(&gate, "research"), &gate.teams[0]);
	assert_null(gate_team(&gate, "Eng"));
	assert_null(gate_team(&gate, "pass"));
	/* the sections are the gate's own nodes */
	assert_ptr_equal(gate.notify, cJSON_GetObjectItemCaseSensitive(gate.doc.root, "notify"));
	assert_ptr_equal(gate.decision, cJSON_GetObjectItemCaseSensitive(gate.doc.root, "decision"));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(gate.notify, "tls")->valuestring, "none");
}

static void test_valid_minimal(void **state)
{
	(void)state;
	assert_string_equal(load_ok("{\"version\": 1, \"name\": \"g\", \"choices\": "
				    "[{\"Variable\": \"$.a\", \"IsPresent\": false, \"Next\": \"fail\"}]}"),
			    "");
	assert_string_equal(gate.name, "g");
	assert_null(gate.results);
	assert_int_equal(gate.match, GATE_MATCH_FIRST);
	assert_null(gate.default_next);
	assert_int_equal(gate.nteams, 0);
	assert_null(gate.teams);
	assert_null(gate.notify);
	assert_null(gate.decision);
	assert_int_equal(gate.choices.nrules, 1);
	teardown(state);

	/* match "first" spelled out; an empty teams object */
	assert_string_equal(load_ok(G3("\"match\": \"first\", \"teams\": {}")), "");
	assert_int_equal(gate.match, GATE_MATCH_FIRST);
	assert_int_equal(gate.nteams, 0);
	assert_string_equal(gate.default_next, "pass");
}

static void test_approvals(void **state)
{
	(void)state;
	/* default 1; explicit values up to the number of addresses; 3.0 is a
	 * whole number */
	load_ok("{\"version\": 1, \"name\": \"g\", \"default\": \"a\", \"choices\": ["
		"{\"Variable\": \"$.x\", \"IsPresent\": true, \"Next\": \"b\"},"
		"{\"Variable\": \"$.x\", \"IsPresent\": false, \"Next\": \"c\"}],"
		"\"teams\": {\"a\": {\"email\": [\"a@x.io\", \"b@x.io\"]},"
		"\"b\": {\"email\": [\"a@x.io\", \"b@x.io\", \"c@x.io\"], \"approvals\": 3.0},"
		"\"c\": {\"approvals\": 1, \"email\": [\"a@x.io\"]}}}");
	assert_int_equal(gate.nteams, 3);
	assert_int_equal(gate_team(&gate, "a")->approvals, 1);
	assert_int_equal(gate_team(&gate, "b")->approvals, 3);
	assert_int_equal(gate_team(&gate, "c")->approvals, 1);
	/* the same address may serve several teams */
	assert_string_equal(gate_team(&gate, "c")->email[0], "a@x.io");
}

static void test_unused_team_warning(void **state)
{
	(void)state;
	/* a team nobody names is a warning with its position, not an error */
	assert_string_equal(load_ok(G3("\"teams\": {\"ops\": {\"email\": [\"o@example.com\"]},\n"
				       "  \"qa\": {\"email\": [\"q@example.com\"]}}")),
			    "t.json:3:11: warning: team \"ops\" is never named by a rule's Next or by default; it will never be notified\n"
			    "t.json:4:3: warning: team \"qa\" is never named by a rule's Next or by default; it will never be notified\n");
	assert_int_equal(gate.nteams, 2);
	teardown(state);

	/* named by default only: no warning */
	assert_string_equal(load_ok("{\"version\": 1, \"name\": \"g\", \"default\": \"ops\", \"choices\": ["
				    "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}],"
				    "\"teams\": {\"ops\": {\"email\": [\"o@example.com\"]}}}"), "");
	assert_string_equal(gate.default_next, "ops");
}

/* --- errors -------------------------------------------------------------- */

static void test_errors_document(void **state)
{
	(void)state;
	load_bad("[1]", "t.json:1:1: a gate file is a JSON object; see examples/seed/greenlight.json");
	load_bad("{\"version\": 1,\n \"name\": \"g\",,}",
		 "t.json:2:14: unexpected ','; expected a member name in double quotes");
	load_bad(G3("\"default\": \"fail\""),
		 "t.json:3:1: duplicate key \"default\"; each member name may appear only once in an object");
	load_bad(G3("\"choice\": []"),
		 "t.json:3:1: unknown key \"choice\" in the gate; did you mean \"choices\"? (keys are case-sensitive)");
	load_bad(G3("\"Match\": \"all\""),
		 "t.json:3:1: unknown key \"Match\" in the gate; did you mean \"match\"? (keys are case-sensitive)");
	load_bad(G3("\"colour\": 1"),
		 "t.json:3:1: unknown key \"colour\" in the gate; valid keys: $schema, version, name, results, match, choices, default, teams, notify, decision, baseline");
}

static void test_errors_header(void **state)
{
	char text[512], name[GATE_NAME_MAX + 2];

	(void)state;
	load_bad("{\"name\": \"g\"}", "t.json:1:1: no \"version\"; add \"version\": 1");
	load_bad("{\"version\": 2}", "t.json:1:13: unsupported version; this greenlight reads \"version\": 1");
	load_bad("{\"version\": \"1\"}", "t.json:1:13: unsupported version; this greenlight reads \"version\": 1");
	load_bad("{\"version\": 1}", "t.json:1:1: the gate has no \"name\"; add it");
	load_bad("{\"version\": 1, \"name\": 5}", "t.json:1:24: the gate.name must be a string, not a number");
	load_bad("{\"version\": 1, \"name\": null}", "t.json:1:24: the gate.name must be a string, not null");
	load_bad("{\"version\": 1, \"name\": [\"g\"]}", "t.json:1:24: the gate.name must be a string, not an array");
	load_bad("{\"version\": 1, \"name\": \"\"}", "t.json:1:24: the gate.name must not be empty");
	load_bad("{\"version\": 1, \"name\": \"a\\u0001b\"}",
		 "t.json:1:24: name contains a control character; use printable text");
	load_bad("{\"version\": 1, \"name\": \"a\\u007fb\"}",
		 "t.json:1:24: name contains a control character; use printable text");
	/* 128 bytes is the limit */
	memset(name, 'n', GATE_NAME_MAX + 1);
	name[GATE_NAME_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "{\"version\": 1, \"name\": \"%s\"}", name);
	load_bad(text, "t.json:1:24: name is longer than 128 bytes");
	name[GATE_NAME_MAX] = '\0';
	snprintf(text, sizeof(text), "{\"version\": 1, \"name\": \"%s\", \"choices\": "
		 "[{\"Variable\": \"$.a\", \"IsNull\": true, \"Next\": \"pass\"}]}", name);
	load_ok(text);
	assert_int_equal(strlen(gate.name), GATE_NAME_MAX);
	teardown(state);

	load_bad(G3("\"results\": 5"), "t.json:3:12: the gate.results must be a string, not a number");
	load_bad(G3("\"results\": \"\""), "t.json:3:12: the gate.results must not be empty");
	load_bad(G3("\"match\": \"any\""), "t.json:3:10: the gate.match is \"any\"; valid values: first, all");
	load_bad(G3("\"match\": true"), "t.json:3:10: the gate.match must be a string, not a boolean");

	/* "$schema" (for editors) is accepted and ignored, but must be a string */
	assert_string_equal(load_ok(G3("\"$schema\": \"https://example.com/greenlight.schema.json\"")), "");
	assert_string_equal(gate.name, "g");
	assert_int_equal(gate.choices.nrules, 1);
	teardown(state);
	load_bad(G3("\"$schema\": 1"), "t.json:3:12: the gate.$schema must be a string, not a number");
	load_bad(G3("\"$schema\": \"\""), "t.json:3:12: the gate.$schema must not be empty");
	load_bad(G3("\"schema\": \"x\""),
		 "t.json:3:1: unknown key \"schema\" in the gate; did you mean \"$schema\"? (keys are case-sensitive)");
}

static void test_errors_choices(void **state)
{
	(void)state;
	load_bad("{\"version\": 1, \"name\": \"g\"}",
		 "t.json:1:1: no \"choices\"; add an array of Choice rules, like "
		 "[{\"Variable\": \"$.latencyMs\", \"NumericGreaterThan\": 80, \"Next\": \"fail\"}]");
	load_bad("{\"version\": 1, \"name\": \"g\", \"choices\": []}",
		 "t.json:1:40: choices must be a non-empty array of Choice rules");
	load_bad("{\"version\": 1, \"name\": \"g\", \"choices\": {}}",
		 "t.json:1:40: choices must be a non-empty array of Choice rules");
	/* rule syntax errors come from the Choice compiler, at the rule */
	load_bad("{\"version\": 1, \"name\": \"g\", \"choices\": [\n"
		 "  {\"Variable\": \"$.a\", \"NumericGreaterThan\": 1}]}",
		 "t.json:2:3: choices[0]: rule has no \"Next\"; add one naming the outcome, e.g. \"Next\": \"fail\"");
	/* Next must name pass, fail or a team */
	load_bad("{\"version\": 1, \"name\": \"g\", \"choices\": [\n"
		 "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"faill\"}]}",
		 "t.json:2:54: choices[0].Next names unknown outcome \"faill\"; did you mean \"fail\"? (valid: pass, fail)");
	/* a transposition is two edits: no hint for a four-letter word */
	load_bad("{\"version\": 1, \"name\": \"g\", \"choices\": [\n"
		 "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fial\"}]}",
		 "t.json:2:54: choices[0].Next names unknown outcome \"fial\"; use pass, fail or a team from \"teams\" (valid: pass, fail)");
	load_bad("{\"version\": 1, \"name\": \"g\", \"choices\": [\n"
		 "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"pass\"},\n"
		 "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"zzz\"}],\n"
		 "\"teams\": {\"ops\": {\"email\": [\"o@example.com\"]}}}",
		 "t.json:3:54: choices[1].Next names unknown outcome \"zzz\"; use pass, fail or a team from \"teams\" (valid: pass, fail, ops)");
	/* team names are case-sensitive */
	load_bad("{\"version\": 1, \"name\": \"g\", \"choices\": [\n"
		 "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"Ops\"}],\n"
		 "\"teams\": {\"ops\": {\"email\": [\"o@example.com\"]}}}",
		 "t.json:2:54: choices[0].Next names unknown outcome \"Ops\"; did you mean \"ops\"? (valid: pass, fail, ops)");
	/* and so must default */
	load_bad("{\"version\": 1, \"name\": \"g\", \"default\": \"reserch\",\n"
		 "\"choices\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"research\"}],\n"
		 "\"teams\": {\"research\": {\"email\": [\"r@example.com\"]}}}",
		 "t.json:1:40: default names unknown outcome \"reserch\"; did you mean \"research\"? (valid: pass, fail, research)");
	load_bad("{\"version\": 1, \"name\": \"g\", \"default\": 1,\n"
		 "\"choices\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}]}",
		 "t.json:1:40: the gate.default must be a string, not a number");
}

static void test_errors_teams(void **state)
{
	(void)state;
	load_bad(G3("\"teams\": []"),
		 "t.json:3:10: teams must be an object mapping team names to {\"email\": [...]}");
	load_bad(G3("\"teams\": {\"bad name\": {\"email\": [\"a@example.com\"]}}"),
		 "t.json:3:11: invalid team name \"bad name\"; use 1-64 letters, digits, '_', '-' or '.', and not \"pass\" or \"fail\"");
	load_bad(G3("\"teams\": {\"pass\": {\"email\": [\"a@example.com\"]}}"),
		 "t.json:3:11: invalid team name \"pass\"; use 1-64 letters, digits, '_', '-' or '.', and not \"pass\" or \"fail\"");
	load_bad(G3("\"teams\": {\"\": {\"email\": [\"a@example.com\"]}}"),
		 "t.json:3:11: invalid team name \"\"; use 1-64 letters, digits, '_', '-' or '.', and not \"pass\" or \"fail\"");
	load_bad(G3("\"teams\": {\"ops\": 5}"),
		 "t.json:3:18: teams.ops must be an object like {\"email\": [\"a@example.com\"], \"approvals\": 1}");
	load_bad(G3("\"teams\": {\"ops\": {\"emails\": []}}"),
		 "t.json:3:19: unknown key \"emails\" in teams.ops; did you mean \"email\"? (keys are case-sensitive)");
	load_bad(G3("\"teams\": {\"ops\": {\"approvals\": 1}}"),
		 "t.json:3:18: teams.ops.email must be a non-empty array of addresses, like [\"research@example.com\"]");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": []}}"),
		 "t.json:3:28: teams.ops.email must be a non-empty array of addresses, like [\"research@example.com\"]");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": \"o@example.com\"}}"),
		 "t.json:3:28: teams.ops.email must be a non-empty array of addresses, like [\"research@example.com\"]");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": [\"not-an-address\"]}}"),
		 "t.json:3:29: teams.ops.email[0] is not a valid address; write a plain address like \"name@example.com\"");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": [\"a@example.com\", 7]}}"),
		 "t.json:3:46: teams.ops.email[1] is not a valid address; write a plain address like \"name@example.com\"");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": [\"a@example.com\", \"A@Example.COM\"]}}"),
		 "t.json:3:46: teams.ops.email[1] repeats \"A@Example.COM\"; list each address once");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": [\"a@example.com\"], \"approvals\": 0}}"),
		 "t.json:3:60: teams.ops.approvals must be a whole number >= 1");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": [\"a@example.com\"], \"approvals\": 1.5}}"),
		 "t.json:3:60: teams.ops.approvals must be a whole number >= 1");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": [\"a@example.com\"], \"approvals\": \"1\"}}"),
		 "t.json:3:60: teams.ops.approvals must be a whole number >= 1");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": [\"a@example.com\"], \"approvals\": -2}}"),
		 "t.json:3:60: teams.ops.approvals must be a whole number >= 1");
	load_bad(G3("\"teams\": {\"ops\": {\"email\": [\"a@example.com\"], \"approvals\": 2}}"),
		 "t.json:3:60: teams.ops.approvals is 2 but the team lists only 1 address(es); the quorum could never be met");
}

static void test_addresses(void **state)
{
	static const char *const good[] = {
		"a@b", "first.last+tag@sub.example-domain.com", "x_y%z@EXAMPLE.org",
		"1@2.3",
	};
	static const char *const bad[] = {
		"", "@example.com", "a@", "a@@example.com", "a@b@c.com",
		"a b@example.com", "a,b@example.com", "<a@example.com>",
		"\\\"a\\\"@example.com", ".a@example.com", "a.@example.com",
		"a..b@example.com", "a@example..com", "a@.example.com",
		"a@example.com.", "a@exa_mple.com", "a@exa mple.com",
		"caf\\u00e9@example.com",
	};
	char text[1024], want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), G3("\"teams\": {\"ops\": {\"email\": [\"%s\"]}}"), good[i]);
		load_ok(text);
		assert_string_equal(gate.teams[0].email[0], good[i]);
		teardown(state);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), G3("\"teams\": {\"ops\": {\"email\": [\"%s\"]}}"), bad[i]);
		snprintf(want, sizeof(want), "t.json:3:29: teams.ops.email[0] is not a valid address; write a plain address like \"name@example.com\"");
		load_bad(text, want);
	}
}

static void test_errors_notify(void **state)
{
	(void)state;
	load_bad(G3("\"notify\": []"), "t.json:3:11: notify must be an object");
	load_bad(G3("\"notify\": {\"smtp_host\": \"x\"}"),
		 "t.json:3:12: unknown key \"smtp_host\" in notify; valid keys: smtp, tls, from, username_env, password_env, ca_file, send_timeout");
	load_bad(G3("\"notify\": {\"tls\": \"ssl\"}"),
		 "t.json:3:19: notify.tls is \"ssl\"; valid values: starttls, none");
	load_bad(G3("\"notify\": {\"password_env\": \"hunter2\"}"),
		 "t.json:3:28: notify.password_env must name an environment variable (like GREENLIGHT_SMTP_PASSWORD), not hold a secret");
	load_bad(G3("\"notify\": {\"username_env\": \"9LIVES\"}"),
		 "t.json:3:28: notify.username_env must name an environment variable (like GREENLIGHT_SMTP_PASSWORD), not hold a secret");
	load_bad(G3("\"notify\": {\"send_timeout\": \"soon\"}"),
		 "t.json:3:28: notify.send_timeout is \"soon\"; write a duration like \"90s\", \"15m\", \"2h\" or \"7d\"");
	load_bad(G3("\"notify\": {\"send_timeout\": 30}"),
		 "t.json:3:28: notify.send_timeout must be a string, not a number");
	load_bad(G3("\"notify\": {\"from\": \"nobody\"}"),
		 "t.json:3:20: notify.from: not an address; write addr@domain or Name <addr@domain>");
	load_bad(G3("\"notify\": {\"smtp\": 25}"),
		 "t.json:3:20: notify.smtp must be a string, not a number");
	load_bad(G3("\"notify\": {\"ca_file\": \"\"}"),
		 "t.json:3:23: notify.ca_file must not be empty");
	/* a display name is accepted (last: the teardown releases the gate) */
	load_ok(G3("\"notify\": {\"from\": \"Release Gate <gate@example.com>\"}"));
}

static void test_errors_decision(void **state)
{
	(void)state;
	load_bad(G3("\"decision\": 1"), "t.json:3:13: decision must be an object");
	load_bad(G3("\"decision\": {\"timeOut\": \"1h\"}"),
		 "t.json:3:14: unknown key \"timeOut\" in decision; did you mean \"timeout\"? (keys are case-sensitive)");
	load_bad(G3("\"decision\": {\"via\": \"email\"}"),
		 "t.json:3:21: decision.via is \"email\"; valid values: listen, relay, mail");
	load_bad(G3("\"decision\": {\"on_timeout\": \"pass\"}"),
		 "t.json:3:28: decision.on_timeout is \"pass\"; valid values: fail");
	load_bad(G3("\"decision\": {\"timeout\": \"1day\"}"),
		 "t.json:3:25: decision.timeout is \"1day\"; write a duration like \"90s\", \"15m\", \"2h\" or \"7d\"");
	load_bad(G3("\"decision\": {\"progress\": \"0s\"}"),
		 "t.json:3:26: decision.progress is \"0s\"; write a duration like \"90s\", \"15m\", \"2h\" or \"7d\"");
	load_bad(G3("\"decision\": {\"relay_token_env\": \"token\"}"),
		 "t.json:3:33: decision.relay_token_env must name an environment variable (like GREENLIGHT_SMTP_PASSWORD), not hold a secret");
	load_bad(G3("\"decision\": {\"allow_self_approval\": \"yes\"}"),
		 "t.json:3:37: decision.allow_self_approval must be true or false");
	load_bad(G3("\"decision\": {\"state\": 0}"),
		 "t.json:3:23: decision.state must be a string, not a number");
}

/* decision.relay: one URL, or an array of 1..8 (relays of one database),
 * kept joined by commas for the settings. */
static void test_relay_list(void **state)
{
	(void)state;
	load_ok(G3("\"decision\": {\"relay\": \"https://a.example.com\"}"));
	assert_string_equal(gate.relay_list, "https://a.example.com");
	gate_release(&gate);
	load_ok(G3("\"decision\": {\"relay\": [\"https://a.example.com\", \"https://b.example.com\"]}"));
	assert_string_equal(gate.relay_list, "https://a.example.com,https://b.example.com");
	gate_release(&gate);
	load_bad(G3("\"decision\": {\"relay\": 1}"),
		 "t.json:3:23: decision.relay must be a URL or an array of 1 to 8 URLs of relays on one database, not a number");
	load_bad(G3("\"decision\": {\"relay\": \"\"}"),
		 "t.json:3:23: decision.relay must not be empty");
	load_bad(G3("\"decision\": {\"relay\": []}"),
		 "t.json:3:23: decision.relay has 0 URLs; list 1 to 8 relays of one database");
	load_bad(G3("\"decision\": {\"relay\": [\"https://1\",\"https://2\",\"https://3\",\"https://4\",\"https://5\",\"https://6\",\"https://7\",\"https://8\",\"https://9\"]}"),
		 "t.json:3:23: decision.relay has 9 URLs; list 1 to 8 relays of one database");
	load_bad(G3("\"decision\": {\"relay\": [\"https://a.example.com\", 2]}"),
		 "t.json:3:49: decision.relay[1] must be one relay URL (a non-empty string without commas)");
	load_bad(G3("\"decision\": {\"relay\": [\"https://a,https://b\"]}"),
		 "t.json:3:24: decision.relay[0] must be one relay URL (a non-empty string without commas)");
}

static void test_errors_baseline(void **state)
{
	(void)state;
	load_bad(G3("\"baseline\": 1"), "t.json:3:13: baseline must be an object like {\"store\": \"git-notes\"}");
	load_bad(G3("\"baseline\": {\"windows\": 3}"),
		 "t.json:3:14: unknown key \"windows\" in baseline; did you mean \"window\"? (keys are case-sensitive)");
	load_bad(G3("\"baseline\": {\"store\": \"dir:\"}"),
		 "t.json:3:23: baseline.store is \"dir:\"; write \"git-notes\", \"dir:PATH\" or \"relay\"");
	load_bad(G3("\"baseline\": {\"store\": \"relay:x\"}"),
		 "t.json:3:23: baseline.store is \"relay:x\"; write \"git-notes\", \"dir:PATH\" or \"relay\"");
	load_bad(G3("\"baseline\": {\"ref\": \"refs/heads/main\"}"),
		 "t.json:3:21: baseline.ref is \"refs/heads/main\"; write a notes ref like \"refs/notes/greenlight\"");
	load_bad(G3("\"baseline\": {\"ref\": \"refs/notes/a..b\"}"),
		 "t.json:3:21: baseline.ref is \"refs/notes/a..b\"; write a notes ref like \"refs/notes/greenlight\"");
	load_bad(G3("\"baseline\": {\"record\": \"always\"}"),
		 "t.json:3:24: baseline.record is \"always\"; valid values: on_pass, never");
	load_bad(G3("\"baseline\": {\"aggregate\": \"average\"}"),
		 "t.json:3:27: baseline.aggregate is \"average\"; valid values: median, mean, last, min, max");
	load_bad(G3("\"baseline\": {\"if_missing\": \"pass\"}"),
		 "t.json:3:28: baseline.if_missing is \"pass\"; valid values: evaluate, error");
	load_bad(G3("\"baseline\": {\"window\": 101}"),
		 "t.json:3:24: baseline.window must be a whole number from 1 to 100");
	load_bad(G3("\"baseline\": {\"window\": 2.5}"),
		 "t.json:3:24: baseline.window must be a whole number from 1 to 100");
	load_bad(G3("\"baseline\": {\"branch\": \"a b\"}"),
		 "t.json:3:24: baseline.branch is not a branch name; write one like \"main\"");
}

static void test_baseline_defaults(void **state)
{
	struct gate g;
	const char *plain = "{\"version\": 1, \"name\": \"g\", \"default\": \"pass\", \"choices\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}]}";
	const char *full = "{\"version\": 1, \"name\": \"g\", \"default\": \"pass\", \"choices\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}],"
		"\"baseline\": {\"store\": \"dir:b\", \"ref\": \"refs/notes/x\", \"record\": \"never\", \"window\": 9, \"aggregate\": \"max\", \"branch\": \"main\", \"if_missing\": \"error\"}}";

	(void)state;
	assert_int_equal(gate_load_text(&g, "t.json", plain, strlen(plain)), 0);
	assert_int_equal(g.baseline.present, 0);
	assert_int_equal(g.baseline.store, BASELINE_STORE_NOTES);
	assert_string_equal(g.baseline.ref, "refs/notes/greenlight");
	assert_int_equal(g.baseline.window, 5);
	assert_int_equal(g.baseline.aggregate, AGG_MEDIAN);
	assert_int_equal(g.baseline.record_on_pass, 1);
	assert_int_equal(g.baseline.if_missing, BASELINE_MISSING_EVALUATE);
	assert_null(g.baseline.branch);
	gate_release(&g);
	assert_int_equal(gate_load_text(&g, "t.json", full, strlen(full)), 0);
	assert_int_equal(g.baseline.present, 1);
	assert_int_equal(g.baseline.store, BASELINE_STORE_DIR);
	assert_string_equal(g.baseline.dir, "b");
	assert_string_equal(g.baseline.ref, "refs/notes/x");
	assert_int_equal(g.baseline.record_on_pass, 0);
	assert_int_equal(g.baseline.window, 9);
	assert_int_equal(g.baseline.aggregate, AGG_MAX);
	assert_string_equal(g.baseline.branch, "main");
	assert_int_equal(g.baseline.if_missing, BASELINE_MISSING_ERROR);
	gate_release(&g);
	{
		const char *relay = "{\"version\": 1, \"name\": \"g\", \"default\": \"pass\", \"choices\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}],"
			"\"baseline\": {\"store\": \"relay\"}}";

		assert_int_equal(gate_load_text(&g, "t.json", relay, strlen(relay)), 0);
		assert_int_equal(g.baseline.store, BASELINE_STORE_RELAY);
		assert_null(g.baseline.dir);
		gate_release(&g);
	}
}

/* --- limits -------------------------------------------------------------- */

/* A gate with n teams t0..t(n-1), each named by the default or a rule. */
static char *many_teams(size_t n)
{
	size_t size = 256 + n * 160, len;
	char *s = malloc(size);

	assert_non_null(s);
	len = (size_t)snprintf(s, size, "{\"version\": 1, \"name\": \"g\", \"default\": \"t0\",\n"
			       "\"choices\": [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, size - len,
					"%s{\"Variable\": \"$.a\", \"NumericEquals\": %zu, \"Next\": \"t%zu\"}",
					i ? "," : "", i, i);
	len += (size_t)snprintf(s + len, size - len, "],\n\"teams\": {");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, size - len, "%s\"t%zu\": {\"email\": [\"t%zu@example.com\"]}",
					i ? "," : "", i, i);
	snprintf(s + len, size - len, "}}");
	return s;
}

/* A gate with one team of n addresses. */
static char *many_addresses(size_t n, int approvals)
{
	size_t size = 256 + n * 32, len;
	char *s = malloc(size);

	assert_non_null(s);
	len = (size_t)snprintf(s, size, G3("\"teams\": {\"ops\": {\"approvals\": %d, \"email\": ["), approvals);
	/* G3 ends in "\n}": drop it and continue the team */
	len -= 2;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, size - len, "%s\"u%zu@example.com\"", i ? ", " : "", i);
	snprintf(s + len, size - len, "]}}\n}");
	return s;
}

static void test_limits(void **state)
{
	char *s;

	(void)state;
	s = many_teams(GATE_MAX_TEAMS);
	assert_string_equal(load_ok(s), "");
	assert_int_equal(gate.nteams, GATE_MAX_TEAMS);
	assert_string_equal(gate.teams[63].name, "t63");
	teardown(state);
	free(s);
	s = many_teams(GATE_MAX_TEAMS + 1);
	load_bad(s, "t.json:3:10: 65 teams; at most 64 are allowed");
	free(s);

	s = many_addresses(GATE_MAX_EMAILS, GATE_MAX_EMAILS);
	load_ok(s);
	assert_int_equal(gate.teams[0].nemail, GATE_MAX_EMAILS);
	assert_int_equal(gate.teams[0].approvals, GATE_MAX_EMAILS);
	assert_string_equal(gate.teams[0].email[99], "u99@example.com");
	teardown(state);
	free(s);
	s = many_addresses(GATE_MAX_EMAILS + 1, 1);
	load_bad(s, "t.json:3:44: teams.ops.email has 101 addresses; at most 100 are allowed");
	free(s);
}

static void test_size_limit(void **state)
{
	char *big = malloc(GATE_MAX_BYTES + 2);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', GATE_MAX_BYTES + 1);
	big[GATE_MAX_BYTES + 1] = '\0';
	load_bad(big, "greenlight: t.json: gate file is larger than 1048576 bytes; a gate file holds rules, not data");
	free(big);
}

/* --- files and messages -------------------------------------------------- */

static void test_load_file(void **state)
{
	char dir[] = "/tmp/gl-test-gate-XXXXXX", path[128], want[512];
	const char *text = "{\"version\": 1, \"name\": \"from-file\", \"choices\": [\n"
			   "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"faill\"}]}";
	struct gate empty;
	FILE *f;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/greenlight.json", dir);

	/* missing file: the reason and a hint */
	capture_begin();
	rc = gate_load(&gate, path);
	capture_end();
	assert_int_equal(rc, -1);
	snprintf(want, sizeof(want), "greenlight: cannot read gate file '%s': No such file or directory "
		 "(use -g FILE or create greenlight.json; see examples/seed/)\n", path);
	assert_string_equal(captured, want);
	memset(&empty, 0, sizeof(empty));
	assert_memory_equal(&gate, &empty, sizeof(gate));

	/* errors name the path as given */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	capture_begin();
	rc = gate_load(&gate, path);
	capture_end();
	assert_int_equal(rc, -1);
	snprintf(want, sizeof(want), "%s:2:54: choices[0].Next names unknown outcome \"faill\"; did you mean \"fail\"? (valid: pass, fail)\n", path);
	assert_string_equal(captured, want);

	/* fixed, it loads */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"version\": 1, \"name\": \"from-file\", \"choices\": [\n"
	      "{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}]}\n", f);
	fclose(f);
	assert_int_equal(gate_load(&gate, path), 0);
	assert_string_equal(gate.file, path);
	assert_string_equal(gate.name, "from-file");
	gate_release(&gate);

	/* over 1 MiB */
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i <= GATE_MAX_BYTES / 64; i++)
		fputs("                                                               \n", f);
	fclose(f);
	capture_begin();
	rc = gate_load(&gate, path);
	capture_end();
	assert_int_equal(rc, -1);
	snprintf(want, sizeof(want), "greenlight: %s: gate file is larger than 1048576 bytes; a gate file holds rules, not data\n", path);
	assert_string_equal(captured, want);

	assert_int_equal(remove(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_gate_error(void **state)
{
	const cJSON *name;
	cJSON *stray = cJSON_CreateNumber(1);
	int rc;

	(void)state;
	load_ok("{\"version\": 1,\n  \"name\": \"g\", \"choices\": "
		"[{\"Variable\": \"$.a\", \"IsNull\": true, \"Next\": \"pass\"}]}");
	name = cJSON_GetObjectItemCaseSensitive(gate.doc.root, "name");
	capture_begin();
	rc = gate_error(&gate, name, 0, "value %d", 7);
	rc += gate_error(&gate, name, 1, "key %s", "x");
	rc += gate_error(&gate, NULL, 0, "no node");
	rc += gate_error(&gate, stray, 0, "not in the file");
	capture_end();
	cJSON_Delete(stray);
	assert_int_equal(rc, -4);
	assert_string_equal(captured, "t.json:2:11: value 7\n"
			    "t.json:2:3: key x\n"
			    "t.json: no node\n"
			    "t.json: not in the file\n");
}

/* --- chat webhooks (docs/notifications.md) ----------------------------- */

/* A gate whose team "t" has chat `CHAT` on line 3. */
#define GCHAT(chat) G3("\"teams\": {\"t\": {\"email\": [\"a@example.com\"], \"chat\": " chat "}}")

static void test_chat(void **state)
{
	const struct team *t;

	(void)state;
	load_ok("{\"version\": 1, \"name\": \"g\", \"default\": \"t\",\n"
		"\"choices\": [{\"Variable\": \"$.a\", \"NumericGreaterThan\": 1, \"Next\": \"fail\"}],\n"
		"\"teams\": {\"t\": {\"email\": [\"a@example.com\"], \"chat\": ["
		"{\"service\": \"slack\", \"url_env\": \"GREENLIGHT_SLACK_URL\"},"
		"{\"service\": \"teams\", \"url_env\": \"TEAMS_HOOK\", \"required\": true},"
		"{\"service\": \"mattermost\", \"url_env\": \"MM\", \"required\": false},"
		"{\"service\": \"google-chat\", \"url_env\": \"GCHAT_1\"}]}}\n}");
	t = gate_team(&gate, "t");
	assert_non_null(t);
	assert_int_equal(t->nchat, 4);
	assert_string_equal(t->chat[0].service, "slack");
	assert_string_equal(t->chat[0].url_env, "GREENLIGHT_SLACK_URL");
	assert_int_equal(t->chat[0].required, 0);
	assert_string_equal(t->chat[1].service, "teams");
	assert_int_equal(t->chat[1].required, 1);
	assert_int_equal(t->chat[2].required, 0);
	assert_string_equal(t->chat[3].service, "google-chat");
	gate_release(&gate);

	load_bad(GCHAT("{\"service\": \"slack\"}"),
		 "t.json:3:53: teams.t.chat must be a non-empty array like [{\"service\": \"slack\", \"url_env\": \"GREENLIGHT_SLACK_URL\"}]");
	load_bad(GCHAT("[]"),
		 "t.json:3:53: teams.t.chat must be a non-empty array like [{\"service\": \"slack\", \"url_env\": \"GREENLIGHT_SLACK_URL\"}]");
	load_bad(GCHAT("[\"https://hooks.slack.com/x\"]"),
		 "t.json:3:54: teams.t.chat[0] must be an object like {\"service\": \"slack\", \"url_env\": \"GREENLIGHT_SLACK_URL\"}");
	load_bad(GCHAT("[{\"service\": \"discord\", \"url_env\": \"X\"}]"),
		 "t.json:3:66: teams.t.chat[0].service is \"discord\"; valid values: slack, teams, mattermost, google-chat");
	load_bad(GCHAT("[{\"url_env\": \"X\"}]"),
		 "t.json:3:54: teams.t.chat[0] has no \"service\"; add it");
	load_bad(GCHAT("[{\"service\": \"slack\"}]"),
		 "t.json:3:54: teams.t.chat[0] has no \"url_env\"; add it");
	load_bad(GCHAT("[{\"service\": \"slack\", \"url_env\": \"https://hooks.slack.com/services/T/B/x\"}]"),
		 "t.json:3:86: teams.t.chat[0].url_env must name an environment variable (like GREENLIGHT_SMTP_PASSWORD), not hold a secret");
	load_bad(GCHAT("[{\"service\": \"slack\", \"url\": \"X\"}]"),
		 "t.json:3:75: unknown key \"url\" in teams.t.chat[0]; valid keys: service, url_env, required");
	load_bad(GCHAT("[{\"service\": \"slack\", \"url_env\": \"X\", \"required\": \"yes\"}]"),
		 "t.json:3:103: teams.t.chat[0].required must be true or false");
	load_bad(GCHAT("[{\"service\": \"slack\", \"url_env\": \"A\"},{\"service\": \"slack\", \"url_env\": \"A\"},"
		       "{\"service\": \"slack\", \"url_env\": \"A\"},{\"service\": \"slack\", \"url_env\": \"A\"},"
		       "{\"service\": \"slack\", \"url_env\": \"A\"},{\"service\": \"slack\", \"url_env\": \"A\"},"
		       "{\"service\": \"slack\", \"url_env\": \"A\"},{\"service\": \"slack\", \"url_env\": \"A\"},"
		       "{\"service\": \"slack\", \"url_env\": \"A\"}]"),
		 "t.json:3:53: teams.t.chat has 9 entries; at most 8 are allowed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_valid_full, teardown),
		cmocka_unit_test_teardown(test_valid_minimal, teardown),
		cmocka_unit_test_teardown(test_approvals, teardown),
		cmocka_unit_test_teardown(test_unused_team_warning, teardown),
		cmocka_unit_test_teardown(test_errors_document, teardown),
		cmocka_unit_test_teardown(test_errors_header, teardown),
		cmocka_unit_test_teardown(test_errors_choices, teardown),
		cmocka_unit_test_teardown(test_errors_teams, teardown),
		cmocka_unit_test_teardown(test_addresses, teardown),
		cmocka_unit_test_teardown(test_errors_notify, teardown),
		cmocka_unit_test_teardown(test_errors_decision, teardown),
		cmocka_unit_test_teardown(test_relay_list, teardown),
		cmocka_unit_test_teardown(test_errors_baseline, teardown),
		cmocka_unit_test(test_baseline_defaults),
		cmocka_unit_test_teardown(test_limits, teardown),
		cmocka_unit_test_teardown(test_size_limit, teardown),
		cmocka_unit_test_teardown(test_load_file, teardown),
		cmocka_unit_test_teardown(test_gate_error, teardown),
		cmocka_unit_test_teardown(test_chat, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
