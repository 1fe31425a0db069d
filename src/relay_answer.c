/* relay_answer.c - the gate's reading of a relay's answer (see
 * relay_answer.h).  Nothing here trusts the answer's types or sizes: every
 * member is checked before it is copied, and strings are cleaned as the
 * store cleans what a reviewer sends (no control or bidi character, valid
 * UTF-8) and cut to the fields' sizes: the token does not cover a
 * decision's text, and the gate prints it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "json.h"
#include "mime.h"
#include "relay_answer.h"
#include "util.h"

#define MAX_DECISIONS 1024	/* a request has at most 256 reviewers */

enum check { VERIFIED, FORGED, UNVERIFIABLE };

/* A string member, or "" (absent and wrong types read as empty). */
static const char *str(const cJSON *o, const char *k)
{
	const char *s = json_str(o, k);

	return s ? s : "";
}

static time_t num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15)
		return 0;
	return (time_t)v->valuedouble;
}

static enum req_state state_of(const char *s)
{
	if (!strcmp(s, "approved"))
		return REQ_APPROVED;
	if (!strcmp(s, "rejected"))
		return REQ_REJECTED;
	if (!strcmp(s, "expired"))
		return REQ_EXPIRED;
	return REQ_PENDING;
}

/* Whether the decision's token is the one issued to (email, team). */
static enum check check_token(const struct relay_trust *t,
			      const struct store_decision *d)
{
	char hash[TOKEN_HEX_SIZE];

	for (size_t i = 0; i < t->nknown; i++) {
		const struct store_recipient *k = &t->known[i];

		if (strcasecmp(k->email, d->email) || strcmp(k->team, d->team))
			continue;
		if (!token_syntax_ok(d->token, strnlen(d->token, TOKEN_SIZE)) ||
		    token_hash(hash, d->token))
			return FORGED;
		return token_hex_equal(k->token_hash, hash) ? VERIFIED : FORGED;
	}
	if (!t->secret)
		return UNVERIFIABLE;
	return token_derived_ok(t->secret, t->key, d->team, d->email,
				d->token) ? VERIFIED : FORGED;
}

/* Copy src cleaned (mime_clean) and cut to size-1 bytes into dst. */
static void clean_into(char *dst, size_t size, const char *src)
{
	struct buf b = BUF_INIT(size + 8);

	dst[0] = '\0';
	if (!mime_clean(&b, src, size - 1) && b.data)
		strlcpy_gl(dst, b.data, size);
	buf_release(&b);
}

static void read_decision(const cJSON *o, struct store_decision *x)
{
	clean_into(x->email, sizeof(x->email), str(o, "email"));
	clean_into(x->team, sizeof(x->team), str(o, "team"));
	x->approve = !strcmp(str(o, "decision"), "approve");
	clean_into(x->reason, sizeof(x->reason), str(o, "reason"));
	x->at = num(o, "at");
	clean_into(x->remote_addr, sizeof(x->remote_addr), str(o, "remote_addr"));
	clean_into(x->user_agent, sizeof(x->user_agent), str(o, "user_agent"));
	if (strlen(str(o, "token")) < sizeof(x->token))
		strlcpy_gl(x->token, str(o, "token"), sizeof(x->token));
}

/* Read and check every decision; votes[] gets the verified ones. */
static int read_decisions(const cJSON *arr, const struct relay_trust *t,
			  struct store_request *r, struct quorum_vote *votes,
			  size_t *nvotes, size_t *unverifiable, char *why,
			  size_t wl)
{
	const cJSON *d;

	r->decisions = xcalloc(r->ndecisions ? r->ndecisions : 1,
			       sizeof(*r->decisions));
	r->ndecisions = 0;
	cJSON_ArrayForEach(d, arr) {
		struct store_decision *x = &r->decisions[r->ndecisions++];
		enum check c;

		memset(x, 0, sizeof(*x));
		read_decision(d, x);
		c = check_token(t, x);
		if (c == FORGED)
			return fail_into(why, wl, "relay reported a decision by %s (team %s)"
				   " whose review token was not issued for this"
				   " request; refusing it", x->email, x->team);
		if (c == UNVERIFIABLE) {	/* not counted, not reported */
			(*unverifiable)++;
			r->ndecisions--;
			continue;
		}
		votes[(*nvotes)++] = (struct quorum_vote){ x->email, x->team,
							   x->approve };
	}
	return 0;
}

/* out->teams: the gate's teams with the approvals counted. */
static void set_teams(struct store_request *r, const struct quorum_team *q,
		      size_t n)
{
	r->teams = xcalloc(n ? n : 1, sizeof(*r->teams));
	r->nteams = n;
	for (size_t i = 0; i < n; i++) {
		strlcpy_gl(r->teams[i].name, q[i].name, sizeof(r->teams[i].name));
		r->teams[i].approvals = q[i].approvals;
		r->teams[i].approved = q[i].approved;
	}
}

/* The state to act on: the verified one when it is decided; else the
 * relay's hint when that decides nothing. */
static int settle(struct store_request *r, enum req_state claimed,
		  enum req_state verified, size_t unverifiable, char *why,
		  size_t wl)
{
	if (verified != REQ_PENDING) {
		r->state = verified;
		return 0;
	}
	if (claimed == REQ_PENDING || claimed == REQ_EXPIRED) {
		r->state = claimed;
		return 0;
	}
	if (unverifiable)
		return fail_into(why, wl, "relay says request %s was %s, but %zu"
			   " decision%s cannot be verified by this run (it did not"
			   " issue their links and no gate secret is set); set the"
			   " gate secret (GREENLIGHT_GATE_SECRET) in every run, or"
			   " re-run with --resend", r->id, req_state_name(claimed),
			   unverifiable, unverifiable == 1 ? "" : "s");
	return fail_into(why, wl, "relay says request %s was %s, but the decisions it"
		   " shows do not make it so; refusing to believe it", r->id,
		   req_state_name(claimed));
}

int relay_answer_read(const cJSON *j, const struct relay_trust *t,
		      struct store_request *out, char *why, size_t whylen)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "decisions");
	struct quorum_team *teams = NULL;
	struct quorum_vote *votes = NULL;
	size_t nvotes = 0, unverifiable = 0;
	enum req_state verified;
	int rc = -1;

	store_request_release(out);
	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(j) || strlen(str(j, "id")) != 32 ||
	    !token_is_hex(str(j, "id"), 32))
		return fail_into(why, whylen, "relay: the answer has no request id");
	if (arr && !cJSON_IsArray(arr))
		return fail_into(why, whylen, "relay: \"decisions\" is not an array");
	strlcpy_gl(out->id, str(j, "id"), sizeof(out->id));
	strlcpy_gl(out->gate, str(j, "gate"), sizeof(out->gate));
	out->created = num(j, "created");
	out->deadline = num(j, "deadline");
	out->decided_at = num(j, "decided_at");
	out->notified = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "notified"));
	out->facts_json = xstrdup("{}");
	out->ndecisions = (size_t)cJSON_GetArraySize(arr);
	if (out->ndecisions > MAX_DECISIONS)
		return fail_into(why, whylen, "relay: over %d decisions", MAX_DECISIONS);
	votes = xcalloc(out->ndecisions ? out->ndecisions : 1, sizeof(*votes));
	teams = xcalloc(t->nteams ? t->nteams : 1, sizeof(*teams));
	memcpy(teams, t->teams, t->nteams * sizeof(*teams));
	if (read_decisions(arr, t, out, votes, &nvotes, &unverifiable, why, whylen))
		goto done;
	verified = quorum_settle(teams, t->nteams, votes, nvotes, &t->policy);
	set_teams(out, teams, t->nteams);
	rc = settle(out, state_of(str(j, "state")), verified, unverifiable, why,
		    whylen);
done:
	free(votes);
	free(teams);
	return rc;
}

static int by_time(const void *a, const void *b)
{
	const struct store_decision *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/* Whether d repeats a decision of list[0..n) (same reviewer, same way). */
static int repeats(const struct store_decision *list, size_t n, const struct store_decision *d)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(list[i].email, d->email) && !strcmp(list[i].team, d->team) &&
		    list[i].approve == d->approve)
			return 1;
	return 0;
}

int relay_answer_merge(struct store_request *out, const struct store_decision *extra,
		       size_t nextra, const struct relay_trust *t)
{
	size_t n = out->ndecisions, nvotes = 0;
	struct store_decision *all = xcalloc(n + nextra + 1, sizeof(*all));
	struct quorum_team *teams = xcalloc(t->nteams ? t->nteams : 1, sizeof(*teams));
	struct quorum_vote *votes;
	enum req_state verified;

	memcpy(all, out->decisions, n * sizeof(*all));
	for (size_t i = 0; i < nextra; i++)
		if (!repeats(all, n, &extra[i]))
			all[n++] = extra[i];
	/* stable enough: equal times keep the relay's before the mailbox's */
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && by_time(&all[k - 1], &all[k]) > 0; k--) {
			struct store_decision tmp = all[k];

			all[k] = all[k - 1];
			all[k - 1] = tmp;
		}
	votes = xcalloc(n + 1, sizeof(*votes));
	for (size_t i = 0; i < n; i++)
		votes[nvotes++] = (struct quorum_vote){ all[i].email, all[i].team, all[i].approve };
	memcpy(teams, t->teams, t->nteams * sizeof(*teams));
	verified = quorum_settle(teams, t->nteams, votes, nvotes, &t->policy);
	free(out->decisions);
	out->decisions = all;
	out->ndecisions = n;
	free(out->teams);
	set_teams(out, teams, t->nteams);
	if (verified != REQ_PENDING && out->state != verified) {
		/* the replies decided it: when the deciding vote came */
		for (size_t k = 1; k <= n; k++) {
			memcpy(teams, t->teams, t->nteams * sizeof(*teams));
			if (quorum_settle(teams, t->nteams, votes, k, &t->policy) != REQ_PENDING) {
				out->decided_at = all[k - 1].at;
				break;
			}
		}
	}
	if (verified != REQ_PENDING)
		out->state = verified;
	free(votes);
	free(teams);
	return 0;
}

int relay_answer_previous(const cJSON *j, struct store_request *prev)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "previous");
	const cJSON *facts = cJSON_GetObjectItemCaseSensitive(p, "facts");

	memset(prev, 0, sizeof(*prev));
	if (!cJSON_IsObject(p) || !token_is_hex(str(p, "id"), 32) ||
	    !cJSON_IsObject(facts))
		return -1;
	strlcpy_gl(prev->id, str(p, "id"), sizeof(prev->id));
	prev->created = num(p, "created");
	prev->facts_json = cJSON_PrintUnformatted(facts);
	return prev->facts_json ? 0 : -1;
}
