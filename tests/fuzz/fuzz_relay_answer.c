/* fuzz_relay_answer.c - fuzz the gate's reading of a relay's answer.
 *
 * A relay (or anyone between the gate and an http:// relay) can answer
 * anything.  Arbitrary bytes are parsed as relay_client.c does
 * (cJSON_ParseWithLength) and read with relay_answer_read() and
 * relay_answer_previous() under a fixed trust context: a request key, a
 * gate secret, one reviewer whose token hash this run generated, two teams
 * with quorum and a list of people who may not approve; then again
 * without the secret (a run that has none: derived tokens are unverifiable).
 *
 * Checked besides memory safety: a refusal always says why, and an answer
 * read as approved has every team's quorum met by verified decisions.
 * Seeds (tests/fuzz/corpus/relay_answer/) are made by
 * tests/fuzz/relay_answer_seeds.py with the same key, secret and token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "relay_answer.h"

#define KEY "6b1f0c3a9e2d4f5b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
#define SECRET "fuzz-gate-secret-0123456789abcdefghijklmnop"

/* SHA-256 of the review token "Q2hlY2tlZC1yZXZpZXctdG9rZW4tZm9yLWFsaWNlLQA"
 * (alice@example.com, team security), as this run would have stored it. */
#define ALICE_HASH "b9bb5bf9d2bdb35337dae655480f41eea1aedeb961ad5fd1b26fcacf4ad287ed"

/* Read j under t; abort on a broken promise of relay_answer.h. */
static void read_one(const cJSON *j, const struct relay_trust *t)
{
	struct store_request r;
	char why[512];

	memset(&r, 0, sizeof(r));
	why[0] = '\0';
	if (relay_answer_read(j, t, &r, why, sizeof(why))) {
		if (!why[0])
			abort();		/* a refusal must say why */
	} else if (r.state == REQ_APPROVED) {
		if (r.nteams != t->nteams)
			abort();
		for (size_t i = 0; i < r.nteams; i++)
			if (r.teams[i].approved < r.teams[i].approvals)
				abort();	/* approved without quorum */
	}
	store_request_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct token_secret secret = {
		(const unsigned char *)SECRET, sizeof(SECRET) - 1,
	};
	static const struct store_recipient known[] = {
		{ "alice@example.com", "security", ALICE_HASH },
	};
	static const struct quorum_team teams[] = {
		{ "security", 1, 0 },
		{ "release", 2, 0 },
	};
	struct relay_trust t = {
		.key = KEY,
		.secret = &secret,
		.known = known,
		.nknown = sizeof(known) / sizeof(known[0]),
		.teams = teams,
		.nteams = sizeof(teams) / sizeof(teams[0]),
		.policy = { "author@example.com,ci-bot@example.com", 0, 0 },
	};
	struct store_request prev;
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);

	read_one(j, &t);
	t.secret = NULL;
	read_one(j, &t);

	if (!relay_answer_previous(j, &prev) && !prev.facts_json)
		abort();
	store_request_release(&prev);
	cJSON_Delete(j);
	return 0;
}
