/* quorum.h - what a list of decisions settles, computed by the gate itself.
 *
 * Pure.  The store settles quorum in SQL for the requests it keeps; a gate
 * waiting on a relay must not take the relay's word for it, so it counts
 * the decisions it verified with the same rules: each team needs
 * `approvals` distinct approvers (distinct addresses, ASCII
 * case-insensitive, as the store counts them); the
 * first reject rejects; an approval by someone who may not approve (the
 * commit author, the person who started the run) counts for nothing
 * unless self-approval is allowed.  Decisions are taken in the order the
 * relay recorded them; nothing after the request settled counts.
 */
#ifndef GREENLIGHT_QUORUM_H
#define GREENLIGHT_QUORUM_H

#include <stddef.h>
#include "store.h"

struct quorum_team {
	const char *name;
	int approvals;			/* distinct approvers needed */
	int approved;			/* out: distinct approvers counted */
};

struct quorum_vote {
	const char *email;
	const char *team;
	int approve;
};

struct quorum_policy {
	const char *not_approvers;	/* comma-separated, or NULL */
	int allow_self;
	int keep_tags;			/* "+tag" addresses are their own mailbox */
};

/* Settle votes[0..n) for teams[0..nteams): REQ_REJECTED at the first
 * reject by someone asked for one of the teams, REQ_APPROVED once every
 * team has its approvals, else REQ_PENDING.  Votes for a team not listed
 * count for nothing.  teams[].approved is filled. */
enum req_state quorum_settle(struct quorum_team *teams, size_t nteams,
			     const struct quorum_vote *votes, size_t n,
			     const struct quorum_policy *p);

#endif
