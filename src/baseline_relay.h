/* baseline_relay.h - the "relay" baseline store: baseline documents kept
 * by `greenlight relay` per tenant (docs/baselines.md, "The relay store";
 * the protocol is docs/relay-protocol.md, "Baselines").
 *
 * For runners that cannot push git notes.  The history walk stays local
 * (baseline_store.c); only the candidate commits are sent, in one lookup.
 * Everything the relay answers is untrusted: each record is validated with
 * the strict parser of baseline.h, and a record for a commit that was not
 * asked for, or of another gate, is dropped with one warning line.  The
 * relay URL and token come from where `greenlight run` finds them
 * (settings_relay).
 */
#ifndef GREENLIGHT_BASELINE_RELAY_H
#define GREENLIGHT_BASELINE_RELAY_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "baseline.h"
#include "gate.h"

#define BASELINE_RELAY_GIVE_UP 10	/* seconds of retries per call */

/* The records of gate g for commits[0..n) (40 hex each, nearest first):
 * the nearest g->baseline.window found go to docs[0..*found) (docs holds
 * window entries), nearest first.  Returns 0, or -1 after one error line
 * (no relay URL or token, relay unreachable, refused, or a malformed
 * answer): never an empty result in place of an error. */
int baseline_relay_find(const struct gate *g, const char *const *commits,
			size_t n, struct baseline_doc *docs, size_t *found);

/* Store doc with the relay (replacing the gate's record for its commit).
 * Returns 0, or -1 reported. */
int baseline_relay_record(const struct gate *g, const struct baseline_doc *doc);

/* Pure: the valid records of a lookup answer, as baseline_relay_find
 * takes them.  Records that do not parse, name another gate, or a commit
 * not in commits[0..n), or repeat one, are dropped; *dropped counts them
 * and why holds the first reason.  Returns how many went to docs (at most
 * window), or -1 when the answer has no "records" array. */
long baseline_relay_take(const cJSON *answer, const char *gate,
			 const char *const *commits, size_t n,
			 struct baseline_doc *docs, size_t window,
			 size_t *dropped, char *why, size_t whysize);

#endif
