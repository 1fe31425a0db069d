/* relay_answer.h - the gate's reading of a relay's answer (untrusted).
 *
 * Pure.  A relay, or anyone between the gate and an http:// relay, can
 * answer anything.  relay_answer_read() turns the relay's request object
 * (docs/relay-protocol.md) into a struct store_request and decides the
 * request's state itself:
 *   - every decision's review token is checked: against the SHA-256 this
 *     run generated for that reviewer, or, when it generated none, as a
 *     token derived from the gate secret for this request key, team and
 *     address (token.h); a decision that fails the check is a forgery;
 *   - a decision neither check can reach (no hash, no secret) is
 *     unverifiable and counts for nothing;
 *   - the state is settled from the verified decisions alone, with the
 *     gate's own teams, quorum and self-approval rules (quorum.h); the
 *     relay's "state" is a hint: "expired" and "pending" are believed
 *     (neither passes anything), "approved" or "rejected" that the
 *     verified decisions do not support is an error.
 */
#ifndef GREENLIGHT_RELAY_ANSWER_H
#define GREENLIGHT_RELAY_ANSWER_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "quorum.h"
#include "store.h"
#include "token.h"

/* What the gate knows to check an answer with. */
struct relay_trust {
	const char *key;			/* this gate's request key */
	const struct token_secret *secret;	/* or NULL */
	const struct store_recipient *known;	/* hashes this run generated */
	size_t nknown;
	const struct quorum_team *teams;	/* the gate's teams and quorum */
	size_t nteams;
	struct quorum_policy policy;
};

/* Read answer j into *out (released first; release it with
 * store_request_release) and settle out->state from verified decisions;
 * out->decisions holds the verified decisions only, out->teams the gate's
 * teams with their verified approvals.
 * Returns 0, or -1 with one line in why: the answer is malformed, a
 * decision is forged, or the relay claims a decision the verified
 * decisions do not support. */
int relay_answer_read(const cJSON *j, const struct relay_trust *t,
		      struct store_request *out, char *why, size_t whylen);

/* Add decisions the gate verified itself (replies by mail, relay mode
 * with decision.imap) to a request read by relay_answer_read() and settle
 * it again from both: a reviewer who decided the same way on both
 * channels is one decision (the earlier is kept); all decisions are taken
 * in time order, so the first reject on either channel rejects, and
 * quorum counts distinct approvers across both.  out->teams and
 * out->decisions are replaced; a request neither list decides keeps its
 * state (pending or expired).  Returns 0. */
int relay_answer_merge(struct store_request *out, const struct store_decision *extra,
		       size_t nextra, const struct relay_trust *t);

/* The "previous" member of a registration answer (the request a new one
 * succeeds): its id, creation time and review facts (malloc'd JSON text)
 * into *prev.  Returns 0, or -1 when there is none or it is malformed. */
int relay_answer_previous(const cJSON *j, struct store_request *prev);

#endif
