/* evidence.h - what a review request covers, as a key.
 *
 * Pure.  An approval must count only for what the reviewer saw, so a
 * request's key covers, besides the commit, the gate's rules and teams and
 * the evidence the rules fired on (docs/run.md, "The request key"):
 *
 *   subject  = SHA-256("greenlight subject v1" LF repository LF commit LF
 *              gate name)
 *   gate     = SHA-256(canonical JSON of {"choices", "default", "match",
 *              "teams"}), teams with their addresses and approvals
 *   evidence = SHA-256(canonical JSON of {"fired": [{"rule", "next",
 *              "values": [{"path", "value"}...]}...], "teams": [...]})
 *   key      = SHA-256("greenlight request v2" LF subject LF gate LF
 *              evidence)
 *
 * Canonical JSON: object members sorted by key (byte order), no blanks,
 * numbers as cJSON prints them (shortest text that reads back the same).
 * The same evidence gives the same key, so a CI retry re-attaches; any
 * change in a value that fired, a threshold, a team or a reviewer is a new
 * request.
 */
#ifndef GREENLIGHT_EVIDENCE_H
#define GREENLIGHT_EVIDENCE_H

#include <cjson/cJSON.h>
#include "buf.h"
#include "gate.h"
#include "token.h"
#include "verdict.h"

struct evidence_key {
	char subject[TOKEN_HEX_SIZE];
	char gate[TOKEN_HEX_SIZE];
	char evidence[TOKEN_HEX_SIZE];
	char key[TOKEN_HEX_SIZE];
};

/* A deep copy of v with every object's members sorted by key (caller
 * deletes), or NULL when out of memory. */
cJSON *evidence_canonical(const cJSON *v);

/* The canonical texts the digests are taken of (malloc'd; NULL when out of
 * memory). */
char *evidence_gate_text(const struct gate *g);
char *evidence_text(const struct verdict *v);

/* Fill *k.  repo and commit may be NULL (outside git: ""). Returns 0, or
 * -1 when hashing failed. */
int evidence_key(struct evidence_key *k, const struct gate *g,
		 const struct verdict *v, const char *repo, const char *commit);

/* What changed between the review facts of an earlier request and these
 * (docs/review-page.md "rules": metric and value), one line into out:
 * "$.latencyMs 225 → 5000", "; "-separated; a metric that fired only on
 * one side shows "(not fired)" there.  When no value differs: "the gate's
 * rules or teams changed". */
void evidence_diff(struct buf *out, const cJSON *before, const cJSON *now);

#endif
