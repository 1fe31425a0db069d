/* quorum.c - settle a request from verified decisions (see quorum.h). */
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "quorum.h"

static struct quorum_team *team_of(struct quorum_team *t, size_t n,
				   const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

/* Whether votes[i]'s address approved for the same team before it
 * (addresses compared as the store does: ASCII case-insensitively). */
static int counted_before(const struct quorum_vote *votes, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (votes[j].approve && !strcmp(votes[j].team, votes[i].team) &&
		    !strcasecmp(votes[j].email, votes[i].email))
			return 1;
	return 0;
}

static int all_met(const struct quorum_team *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].approved < t[i].approvals)
			return 0;
	return n > 0;
}

enum req_state quorum_settle(struct quorum_team *teams, size_t nteams,
			     const struct quorum_vote *votes, size_t n,
			     const struct quorum_policy *p)
{
	for (size_t i = 0; i < nteams; i++)
		teams[i].approved = 0;
	for (size_t i = 0; i < n; i++) {
		const struct quorum_vote *v = &votes[i];
		struct quorum_team *t = team_of(teams, nteams, v->team);

		if (!t)
			continue;
		if (!v->approve)
			return REQ_REJECTED;
		if (!p->allow_self &&
		    addr_in_list(p->not_approvers, v->email, p->keep_tags))
			continue;
		if (counted_before(votes, i))
			continue;
		t->approved++;
		if (all_met(teams, nteams))
			return REQ_APPROVED;
	}
	return REQ_PENDING;
}
