/* test_relay_answer.c - unit tests for src/relay_answer.c.
 *
 * A relay's answer is untrusted.  Answers are literal JSON built here with
 * real review tokens: random ones whose hashes the run "generated"
 * (relay_trust.known), or ones derived from a gate secret.  Covered: a
 * verified approval; a token not issued for the request, or derived for
 * another key, team, address or secret (a forgery: an error); nothing to
 * verify with (unverifiable: counts for nothing); the relay's state as a
 * hint (pending and expired believed, approved or rejected without the
 * decisions to show for it refused); malformed answers; self-approval in
 * its spellings; relay_answer_previous(); relay_answer_merge() of the
 * decisions verified from replies (relay mode with a mailbox): quorum
 * across both channels, one reviewer on both counts once, a reject on
 * either rejects, self-approval by reply counts for nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "relay_answer.h"
#include "token.h"

#define ID "0123456789abcdef0123456789abcdef"
#define KEY "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define OTHER_KEY "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SECRET "gate-secret-0123456789abcdefghijklmnop"
#define ENG0 "eng0+x@example.com"
#define ENG1 "eng1@example.com"

static const struct token_secret secret = {
	(const unsigned char *)SECRET, sizeof(SECRET) - 1 };
static const struct token_secret other_secret = {
	(const unsigned char *)"another-secret-0123456789abcdefghijk", 36 };

/* The run: team engineering (1 approval) of ENG0 and ENG1, tokens with
 * their hashes known; the commit author is eng0@example.com. */
static char tok[2][TOKEN_SIZE];
static struct store_recipient known[2];
static struct quorum_team team = { "engineering", 1, 0 };
static struct relay_trust trust;
static struct store_request out;
static char why[512];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(token_new(tok[i]), 0);
		known[i].email = i ? ENG1 : ENG0;
		known[i].team = "engineering";
		assert_int_equal(token_hash(known[i].token_hash, tok[i]), 0);
	}
	memset(&trust, 0, sizeof(trust));
	trust.key = KEY;
	trust.known = known;
	trust.nknown = 2;
	trust.teams = &team;
	trust.nteams = 1;
	trust.policy.not_approvers = "eng0@example.com";
	memset(&out, 0, sizeof(out));
	why[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_request_release(&out);
	return 0;
}

/* One decision as a JSON text (appended to *b with a leading comma when
 * it is not the first). */
static void add_decision(struct buf *b, const char *email, const char *team_name,
			 const char *decision, const char *token)
{
	buf_addf(b, "%s{\"email\":\"%s\",\"team\":\"%s\",\"decision\":\"%s\","
		 "\"reason\":\"ok\",\"at\":1700000100,\"remote_addr\":\"::1\","
		 "\"user_agent\":\"test\",\"token\":\"%s\"}",
		 b->len && b->data[b->len - 1] != '[' ? "," : "", email,
		 team_name, decision, token);
}

/* Read an answer {"id", "state", "decisions": [decisions]}. */
static int read_answer(const char *state_name, const char *decisions)
{
	struct buf b = BUF_INIT(1 << 20);
	cJSON *j;
	int rc;

	buf_addf(&b, "{\"id\":\"" ID "\",\"gate\":\"model-release\","
		 "\"state\":\"%s\",\"created\":1700000000,\"deadline\":1700003600,"
		 "\"decided_at\":1700000100,\"notified\":true,\"decisions\":[%s]}",
		 state_name, decisions);
	j = cJSON_Parse(b.data);
	assert_non_null(j);
	why[0] = '\0';
	rc = relay_answer_read(j, &trust, &out, why, sizeof(why));
	cJSON_Delete(j);
	buf_release(&b);
	return rc;
}

/* A single decision's answer. */
static int read_one(const char *state_name, const char *email,
		    const char *team_name, const char *decision,
		    const char *token)
{
	struct buf d = BUF_INIT(4096);
	int rc;

	buf_adds(&d, "");
	add_decision(&d, email, team_name, decision, token);
	rc = read_answer(state_name, d.data);
	buf_release(&d);
	return rc;
}

static void why_has(const char *part)
{
	if (!strstr(why, part))
		fail_msg("\"%s\" not in \"%s\"", part, why);
}

/* ---- verified by hash ------------------------------------------------------- */

static void test_known_hash_approves(void **state)
{
	(void)state;
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve",
				  tok[1]), 0);
	assert_int_equal(out.state, REQ_APPROVED);
	assert_string_equal(out.id, ID);
	assert_string_equal(out.gate, "model-release");
	assert_int_equal(out.created, 1700000000);
	assert_int_equal(out.deadline, 1700003600);
	assert_int_equal(out.notified, 1);
	assert_int_equal(out.ndecisions, 1);
	assert_string_equal(out.decisions[0].email, ENG1);
	assert_string_equal(out.decisions[0].team, "engineering");
	assert_int_equal(out.decisions[0].approve, 1);
	assert_int_equal(out.decisions[0].at, 1700000100);
	assert_string_equal(out.decisions[0].token, tok[1]);
	assert_int_equal(out.nteams, 1);
	assert_string_equal(out.teams[0].name, "engineering");
	assert_int_equal(out.teams[0].approvals, 1);
	assert_int_equal(out.teams[0].approved, 1);
	/* the caller's teams are not written */
	assert_int_equal(team.approved, 0);
	/* the address as the relay spells it in another case still matches */
	assert_int_equal(read_one("approved", "ENG1@Example.com", "engineering",
				  "approve", tok[1]), 0);
	assert_int_equal(out.state, REQ_APPROVED);
	/* a verified reject rejects */
	assert_int_equal(read_one("rejected", ENG1, "engineering", "reject",
				  tok[1]), 0);
	assert_int_equal(out.state, REQ_REJECTED);
	assert_int_equal(out.decisions[0].approve, 0);
}

static void test_wrong_token_is_forged(void **state)
{
	char other[TOKEN_SIZE];
	(void)state;

	/* a real token, but not the one issued to eng1 */
	assert_int_equal(token_new(other), 0);
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve",
				  other), -1);
	why_has("not issued for this request");
	why_has(ENG1);
	/* eng0's token presented as eng1's */
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve",
				  tok[0]), -1);
	why_has("not issued for this request");
	/* not a token at all, empty, too long */
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve",
				  "not-a-token"), -1);
	why_has("not issued for this request");
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve", ""),
			 -1);
	{
		char longer[TOKEN_SIZE + 1];

		snprintf(longer, sizeof(longer), "%sA", tok[1]);
		assert_int_equal(read_one("approved", ENG1, "engineering",
					  "approve", longer), -1);
		why_has("not issued for this request");
	}
	/* a forged decision among good ones spoils the answer, even a reject */
	{
		struct buf d = BUF_INIT(4096);

		buf_adds(&d, "");
		add_decision(&d, ENG1, "engineering", "approve", tok[1]);
		add_decision(&d, ENG0, "engineering", "reject", other);
		assert_int_equal(read_answer("approved", d.data), -1);
		why_has("not issued for this request");
		why_has(ENG0);
		buf_release(&d);
	}
}

/* ---- derived from the gate secret --------------------------------------------- */

static void test_derived_token(void **state)
{
	char t[TOKEN_SIZE];
	(void)state;

	trust.nknown = 0;
	trust.secret = &secret;
	assert_int_equal(token_derive(t, &secret, KEY, "engineering", ENG1), 0);
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve", t),
			 0);
	assert_int_equal(out.state, REQ_APPROVED);
	assert_int_equal(out.teams[0].approved, 1);
	/* the relay's "pending" does not hide a verified approval */
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve", t), 0);
	assert_int_equal(out.state, REQ_APPROVED);

	/* with hashes known for others, an address without one is derived */
	trust.known = known;
	trust.nknown = 1;		/* only eng0 */
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve", t),
			 0);
	assert_int_equal(out.state, REQ_APPROVED);
}

static void test_derived_elsewhere_is_forged(void **state)
{
	char t[TOKEN_SIZE];
	(void)state;

	trust.nknown = 0;
	trust.secret = &secret;
	/* for another request key */
	assert_int_equal(token_derive(t, &secret, OTHER_KEY, "engineering", ENG1), 0);
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve", t), -1);
	why_has("not issued for this request");
	/* for another team */
	assert_int_equal(token_derive(t, &secret, KEY, "research", ENG1), 0);
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve", t), -1);
	why_has("not issued for this request");
	/* for another address */
	assert_int_equal(token_derive(t, &secret, KEY, "engineering",
				      "eng2@example.com"), 0);
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve", t), -1);
	why_has("not issued for this request");
	/* under another secret */
	assert_int_equal(token_derive(t, &other_secret, KEY, "engineering", ENG1), 0);
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve", t), -1);
	why_has("not issued for this request");
	/* a random token */
	assert_int_equal(token_new(t), 0);
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve", t), -1);
	why_has("not issued for this request");
	/* a known hash wins over the secret: a derived token for an address
	 * this run issued a random token to is not it */
	trust.nknown = 2;
	assert_int_equal(token_derive(t, &secret, KEY, "engineering", ENG1), 0);
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve", t), -1);
	why_has("not issued for this request");
}

/* ---- unverifiable ------------------------------------------------------------- */

static void test_unverifiable(void **state)
{
	(void)state;
	trust.nknown = 0;
	trust.secret = NULL;
	/* the relay claims approved: refused, saying why */
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve",
				  tok[1]), -1);
	why_has("cannot be verified");
	why_has("GREENLIGHT_GATE_SECRET");
	why_has(ID);
	/* pending stays pending; the decision is neither counted nor reported */
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve",
				  tok[1]), 0);
	assert_int_equal(out.state, REQ_PENDING);
	assert_int_equal(out.ndecisions, 0);
	assert_int_equal(out.teams[0].approved, 0);
	/* an unverifiable reject rejects nothing either */
	assert_int_equal(read_one("rejected", ENG1, "engineering", "reject",
				  tok[1]), -1);
	why_has("cannot be verified");
	assert_int_equal(read_one("expired", ENG1, "engineering", "reject",
				  tok[1]), 0);
	assert_int_equal(out.state, REQ_EXPIRED);
}

/* ---- the relay's state ------------------------------------------------------- */

static void test_state_is_a_hint(void **state)
{
	(void)state;
	/* approved or rejected with nothing to show for it */
	assert_int_equal(read_answer("approved", ""), -1);
	why_has("do not make it so");
	why_has(ID);
	assert_int_equal(read_answer("rejected", ""), -1);
	why_has("do not make it so");
	/* the decisions list missing altogether */
	{
		cJSON *j = cJSON_Parse("{\"id\":\"" ID "\",\"state\":\"approved\"}");

		assert_int_equal(relay_answer_read(j, &trust, &out, why,
						   sizeof(why)), -1);
		why_has("do not make it so");
		cJSON_Delete(j);
	}
	/* expired and pending are believed */
	assert_int_equal(read_answer("expired", ""), 0);
	assert_int_equal(out.state, REQ_EXPIRED);
	assert_int_equal(read_answer("pending", ""), 0);
	assert_int_equal(out.state, REQ_PENDING);
	/* an unknown state is no decision */
	assert_int_equal(read_answer("APPROVED", ""), 0);
	assert_int_equal(out.state, REQ_PENDING);
	/* a verified approval is an approval whatever the relay says */
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve",
				  tok[1]), 0);
	assert_int_equal(out.state, REQ_APPROVED);
	assert_int_equal(read_one("rejected", ENG1, "engineering", "approve",
				  tok[1]), 0);
	assert_int_equal(out.state, REQ_APPROVED);
	/* and a verified reject a reject */
	assert_int_equal(read_one("approved", ENG1, "engineering", "reject",
				  tok[1]), 0);
	assert_int_equal(out.state, REQ_REJECTED);
	/* two approvals needed, one shown: approved is refused */
	team.approvals = 2;
	assert_int_equal(read_one("approved", ENG1, "engineering", "approve",
				  tok[1]), -1);
	why_has("do not make it so");
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve",
				  tok[1]), 0);
	assert_int_equal(out.state, REQ_PENDING);
	assert_int_equal(out.teams[0].approved, 1);
	assert_int_equal(out.teams[0].approvals, 2);
	team.approvals = 1;
}

static void test_unknown_team_counts_nothing(void **state)
{
	char t[TOKEN_SIZE];
	(void)state;

	/* a decision for a team the gate lacks, with a genuine derived token */
	trust.nknown = 0;
	trust.secret = &secret;
	assert_int_equal(token_derive(t, &secret, KEY, "ops", ENG1), 0);
	assert_int_equal(read_one("approved", ENG1, "ops", "approve", t), -1);
	why_has("do not make it so");
	assert_int_equal(read_one("pending", ENG1, "ops", "reject", t), 0);
	assert_int_equal(out.state, REQ_PENDING);
}

/* ---- self-approval ------------------------------------------------------------- */

static void test_self_approval(void **state)
{
	static const char *const author[] = {
		"eng0@example.com", " ENG0@example.com", "<eng0@example.com>",
		"Eng Zero <eng0+ci@Example.com>",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(author) / sizeof(author[0]); i++) {
		trust.policy.not_approvers = author[i];
		trust.policy.keep_tags = 0;
		/* eng0+x's genuine approval does not count */
		assert_int_equal(read_one("approved", ENG0, "engineering",
					  "approve", tok[0]), -1);
		why_has("do not make it so");
		assert_int_equal(read_one("pending", ENG0, "engineering",
					  "approve", tok[0]), 0);
		assert_int_equal(out.state, REQ_PENDING);
		assert_int_equal(out.teams[0].approved, 0);
		/* eng1's does */
		{
			struct buf d = BUF_INIT(4096);

			buf_adds(&d, "");
			add_decision(&d, ENG0, "engineering", "approve", tok[0]);
			add_decision(&d, ENG1, "engineering", "approve", tok[1]);
			assert_int_equal(read_answer("approved", d.data), 0);
			assert_int_equal(out.state, REQ_APPROVED);
			assert_int_equal(out.teams[0].approved, 1);
			assert_int_equal(out.ndecisions, 2);
			buf_release(&d);
		}
		/* with allow_self it counts */
		trust.policy.allow_self = 1;
		assert_int_equal(read_one("approved", ENG0, "engineering",
					  "approve", tok[0]), 0);
		assert_int_equal(out.state, REQ_APPROVED);
		trust.policy.allow_self = 0;
		/* with keep_tags, eng0+x is neither eng0 nor eng0+ci */
		trust.policy.keep_tags = 1;
		assert_int_equal(read_one("pending", ENG0, "engineering",
					  "approve", tok[0]), 0);
		assert_int_equal(out.state, REQ_APPROVED);
	}
	/* the author's tag is the reviewer's: never counted without allow_self */
	trust.policy.not_approvers = "someone@example.com, EnG0+X@example.com";
	trust.policy.keep_tags = 1;
	assert_int_equal(read_one("pending", ENG0, "engineering", "approve",
				  tok[0]), 0);
	assert_int_equal(out.state, REQ_PENDING);
}

/* ---- malformed answers ------------------------------------------------------- */

static int read_text(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	int rc;

	if (!j)
		fail_msg("bad test JSON: %s", text);
	why[0] = '\0';
	rc = relay_answer_read(j, &trust, &out, why, sizeof(why));
	cJSON_Delete(j);
	return rc;
}

static void test_malformed(void **state)
{
	(void)state;
	assert_int_equal(read_text("[]"), -1);
	why_has("no request id");
	assert_int_equal(read_text("\"" ID "\""), -1);
	why_has("no request id");
	assert_int_equal(read_text("{\"state\":\"approved\",\"decisions\":[]}"), -1);
	why_has("no request id");
	assert_int_equal(read_text("{\"id\":12345,\"decisions\":[]}"), -1);
	why_has("no request id");
	assert_int_equal(read_text("{\"id\":\"0123\",\"decisions\":[]}"), -1);
	why_has("no request id");
	assert_int_equal(read_text("{\"id\":\"0123456789ABCDEF0123456789ABCDEF\"}"),
			 -1);
	why_has("no request id");
	assert_int_equal(read_text("{\"id\":\"0123456789abcdef0123456789abcdeg\"}"),
			 -1);
	assert_int_equal(read_text("{\"id\":\"" ID "0\"}"), -1);
	why_has("no request id");
	assert_int_equal(read_text("{\"id\":\"" ID "\",\"decisions\":{}}"), -1);
	why_has("not an array");
	assert_int_equal(read_text("{\"id\":\"" ID "\",\"decisions\":\"x\"}"), -1);
	why_has("not an array");
	assert_int_equal(read_text("{\"id\":\"" ID "\",\"decisions\":null}"), -1);
	why_has("not an array");
	assert_int_equal(read_text("{\"id\":\"" ID "\",\"decisions\":7}"), -1);
	why_has("not an array");
}

static void test_wrong_types(void **state)
{
	(void)state;
	/* huge, negative and fractional numbers are no times */
	assert_int_equal(read_text("{\"id\":\"" ID "\",\"state\":\"pending\","
				   "\"created\":1e300,\"deadline\":-5,"
				   "\"decided_at\":\"soon\",\"notified\":\"yes\","
				   "\"decisions\":[]}"), 0);
	assert_int_equal(out.created, 0);
	assert_int_equal(out.deadline, 0);
	assert_int_equal(out.decided_at, 0);
	assert_int_equal(out.notified, 0);
	assert_int_equal(out.state, REQ_PENDING);
	/* the state, gate and decision members of the wrong types */
	assert_int_equal(read_text("{\"id\":\"" ID "\",\"state\":[\"approved\"],"
				   "\"gate\":{},\"decisions\":[]}"), 0);
	assert_int_equal(out.state, REQ_PENDING);
	assert_string_equal(out.gate, "");
	/* a decision that is no object, or whose members are numbers: no
	 * token was issued to nobody, so with a secret it is a forgery ... */
	trust.secret = &secret;
	assert_int_equal(read_text("{\"id\":\"" ID "\",\"state\":\"approved\","
				   "\"decisions\":[\"approve\"]}"), -1);
	why_has("not issued for this request");
	assert_int_equal(read_text("{\"id\":\"" ID "\",\"state\":\"pending\","
				   "\"decisions\":[{\"email\":1,\"team\":2,"
				   "\"decision\":true,\"token\":3,\"at\":1e308}]}"),
			 -1);
	why_has("not issued for this request");
	/* ... and without one it is unverifiable and counts for nothing */
	trust.secret = NULL;
	assert_int_equal(read_text("{\"id\":\"" ID "\",\"state\":\"pending\","
				   "\"decisions\":[null,[],{\"email\":[\"x\"]}]}"), 0);
	assert_int_equal(out.state, REQ_PENDING);
	assert_int_equal(out.ndecisions, 0);
	/* a decision whose "decision" is not "approve" is no approval */
	assert_int_equal(read_one("approved", ENG1, "engineering", "Approve",
				  tok[1]), 0);
	assert_int_equal(out.state, REQ_REJECTED);
}

static void test_long_strings_cut(void **state)
{
	char *big = malloc(100001);
	struct buf d = BUF_INIT(1 << 20);
	(void)state;

	assert_non_null(big);
	memset(big, 'x', 100000);
	big[100000] = '\0';
	buf_adds(&d, "");
	/* every member over its field: cut, never overrun; still no match */
	add_decision(&d, big, big, "approve", big);
	trust.secret = NULL;
	assert_int_equal(read_answer("pending", d.data), 0);
	assert_int_equal(out.state, REQ_PENDING);
	assert_int_equal(strlen(out.decisions[0].email),
			 sizeof(out.decisions[0].email) - 1);
	assert_int_equal(strlen(out.decisions[0].team),
			 sizeof(out.decisions[0].team) - 1);
	assert_string_equal(out.decisions[0].token, "");
	trust.secret = &secret;
	assert_int_equal(read_answer("pending", d.data), -1);
	why_has("not issued for this request");
	buf_release(&d);
	free(big);
}

static void test_too_many_decisions(void **state)
{
	struct buf d = BUF_INIT(1 << 22);
	(void)state;

	buf_adds(&d, "");
	for (int i = 0; i < 2000; i++)
		add_decision(&d, ENG1, "engineering", "approve", tok[1]);
	assert_int_equal(read_answer("approved", d.data), -1);
	why_has("over 1024 decisions");
	buf_release(&d);
	/* 1024 of them are read (and count once) */
	d = (struct buf)BUF_INIT(1 << 22);
	buf_adds(&d, "");
	for (int i = 0; i < 1024; i++)
		add_decision(&d, ENG1, "engineering", "approve", tok[1]);
	assert_int_equal(read_answer("pending", d.data), 0);
	assert_int_equal(out.state, REQ_APPROVED);
	assert_int_equal(out.ndecisions, 1024);
	assert_int_equal(out.teams[0].approved, 1);
	buf_release(&d);
}

/* ---- the previous request ------------------------------------------------------ */

static void test_previous(void **state)
{
	struct store_request prev;
	cJSON *j;
	(void)state;

	j = cJSON_Parse("{\"id\":\"" ID "\",\"previous\":{\"id\":"
			"\"fedcba9876543210fedcba9876543210\",\"created\":1699990000,"
			"\"facts\":{\"rules\":[{\"metric\":\"$.x\",\"value\":\"1\"}]}}}");
	assert_int_equal(relay_answer_previous(j, &prev), 0);
	assert_string_equal(prev.id, "fedcba9876543210fedcba9876543210");
	assert_int_equal(prev.created, 1699990000);
	assert_string_equal(prev.facts_json,
			    "{\"rules\":[{\"metric\":\"$.x\",\"value\":\"1\"}]}");
	store_request_release(&prev);
	cJSON_Delete(j);

	static const char *const bad[] = {
		"{\"id\":\"" ID "\"}",
		"{\"previous\":null}",
		"{\"previous\":{\"id\":\"fedcba9876543210fedcba9876543210\"}}",
		"{\"previous\":{\"id\":\"fedcba9876543210fedcba9876543210\",\"facts\":[]}}",
		"{\"previous\":{\"id\":\"nothex\",\"facts\":{}}}",
		"{\"previous\":{\"id\":7,\"facts\":{}}}",
		"{\"previous\":[1,2]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = cJSON_Parse(bad[i]);
		assert_non_null(j);
		assert_int_equal(relay_answer_previous(j, &prev), -1);
		assert_null(prev.facts_json);
		cJSON_Delete(j);
	}
}

/* ---- merging replies -------------------------------------------------------- */

static struct store_decision reply_decision(const char *email, int approve, time_t at)
{
	struct store_decision d;

	memset(&d, 0, sizeof(d));
	snprintf(d.email, sizeof(d.email), "%s", email);
	snprintf(d.team, sizeof(d.team), "engineering");
	d.approve = approve;
	d.at = at;
	snprintf(d.remote_addr, sizeof(d.remote_addr), "imap");
	return d;
}

static void test_merge_replies(void **state)
{
	struct quorum_team two = { "engineering", 2, 0 };
	struct store_decision r[2];
	(void)state;

	trust.teams = &two;
	trust.policy.not_approvers = NULL;
	/* link by ENG1 + reply by ENG0: quorum 2 */
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve", tok[1]), 0);
	assert_int_equal(out.state, REQ_PENDING);
	r[0] = reply_decision(ENG0, 1, 1700000200);
	assert_int_equal(relay_answer_merge(&out, r, 1, &trust), 0);
	assert_int_equal(out.state, REQ_APPROVED);
	assert_int_equal(out.ndecisions, 2);
	assert_int_equal(out.teams[0].approved, 2);
	assert_string_equal(out.decisions[1].remote_addr, "imap");
	assert_int_equal(out.decided_at, 1700000200);
	/* ENG1 on both channels, another spelling: one decision, one approver */
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve", tok[1]), 0);
	r[0] = reply_decision("Eng1@Example.com", 1, 1700000200);
	assert_int_equal(relay_answer_merge(&out, r, 1, &trust), 0);
	assert_int_equal(out.state, REQ_PENDING);
	assert_int_equal(out.ndecisions, 1);
	assert_int_equal(out.teams[0].approved, 1);
	/* a reject by reply, earlier or later than an approval by link, rejects */
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve", tok[1]), 0);
	r[0] = reply_decision(ENG0, 0, 1700000050);
	assert_int_equal(relay_answer_merge(&out, r, 1, &trust), 0);
	assert_int_equal(out.state, REQ_REJECTED);
	assert_int_equal(out.decisions[0].approve, 0);	/* in time order */
	assert_int_equal(out.decided_at, 1700000050);	/* when the reject came */
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve", tok[1]), 0);
	r[0] = reply_decision(ENG1, 0, 1700000300);	/* the same reviewer, the other way */
	assert_int_equal(relay_answer_merge(&out, r, 1, &trust), 0);
	assert_int_equal(out.state, REQ_REJECTED);
	/* nothing to add: the relay's reading stands */
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve", tok[1]), 0);
	assert_int_equal(relay_answer_merge(&out, NULL, 0, &trust), 0);
	assert_int_equal(out.state, REQ_PENDING);
	assert_int_equal(out.teams[0].approved, 1);
	/* self-approval by reply counts for nothing */
	trust.policy.not_approvers = "eng0@example.com";
	assert_int_equal(read_one("pending", ENG1, "engineering", "approve", tok[1]), 0);
	r[0] = reply_decision(ENG0, 1, 1700000200);
	r[1] = reply_decision("eng0@EXAMPLE.com", 1, 1700000201);
	assert_int_equal(relay_answer_merge(&out, r, 2, &trust), 0);
	assert_int_equal(out.state, REQ_PENDING);
	assert_int_equal(out.teams[0].approved, 1);
	/* an expired request stays expired unless the replies decide it */
	assert_int_equal(read_one("expired", ENG1, "engineering", "approve", tok[1]), 0);
	assert_int_equal(relay_answer_merge(&out, NULL, 0, &trust), 0);
	assert_int_equal(out.state, REQ_EXPIRED);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_known_hash_approves),
		T(test_wrong_token_is_forged),
		T(test_derived_token),
		T(test_derived_elsewhere_is_forged),
		T(test_unverifiable),
		T(test_state_is_a_hint),
		T(test_unknown_team_counts_nothing),
		T(test_self_approval),
		T(test_malformed),
		T(test_wrong_types),
		T(test_long_strings_cut),
		T(test_too_many_decisions),
		T(test_previous),
		T(test_merge_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
