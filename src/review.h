/* review.h - the review: what every reviewer is told, built once.
 *
 * A gate that needs a review turns its verdict, the commit and the CI
 * facts into one struct review (review_build).  The email, the chat
 * messages and the terminal render it directly; the store and the relay
 * keep it as JSON (review_to_json, the "facts" of docs/review-page.md),
 * and the review page reads that JSON back into the same struct
 * (review_from_json), so every surface says the same thing in the same
 * words.  Pure: no I/O.
 */
#ifndef GREENLIGHT_REVIEW_H
#define GREENLIGHT_REVIEW_H

#include <stddef.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "gate.h"
#include "verdict.h"

#define REVIEW_MAX_TESTS 50	/* fired tests kept; more are counted */
#define REVIEW_MAX_TEAMS 32
#define REVIEW_MAX_ASKED 100	/* addresses kept per team (GATE_MAX_EMAILS) */
#define REVIEW_TEXT_MAX 128	/* bytes of a value, threshold or baseline */
#define REVIEW_SUBJECT_MAX 60	/* characters of review_subject() */

/* One test of a fired rule.  Every string is owned and never NULL ("" when
 * unknown or not applicable). */
struct review_test {
	char *variable;		/* the Variable as written: "$.latencyMs" */
	char *metric;		/* what a reader calls it: "latencyMs" */
	char *value;		/* "225" */
	char *op;		/* ">", "<=", "matches", or the operator name */
	char *threshold;	/* "80", or the ...Path as written */
	char *over;		/* how far past the threshold: "+181%", or "" */
	char *baseline;		/* "180", or "" */
	char *change;		/* against the baseline: "+45 (+25%)", or "" */
	char *why;		/* the whole rule: "$.latencyMs > 80" */
	char *next;		/* where the rule routes: a team, "pass", "fail" */
};

/* A team asked to review. */
struct review_team {
	char *name;
	int approvals;		/* the quorum */
	char **asked;		/* addresses asked */
	size_t nasked;
	char *why;		/* the rule(s) that routed the release here, or
				 * "the gate's default names this team" */
};

struct review {
	char *gate;
	char *repository;	/* "acme/model", or NULL */
	struct review_test *tests;	/* fired tests, in rule order */
	size_t ntests;
	size_t more;		/* fired tests not kept (over REVIEW_MAX_TESTS) */
	struct review_team *teams;
	size_t nteams;
	/* the commit; each NULL when unknown */
	char *sha, *author, *author_email, *subject, *branch;
	char *commit_url;	/* on the forge (GitHub, GitLab), or NULL */
	char *run_url;		/* the CI run, or NULL */
	char *started_by;	/* who started the CI run, or NULL */
	time_t deadline;	/* 0 when unknown */
};

/* What review_build() reads besides the verdict.  Every member may be
 * NULL. */
struct review_source {
	const cJSON *context;		/* holds $$.Baseline / Delta / DeltaPct */
	const char *repository;		/* "owner/name" or a URL */
	const char *sha, *author, *author_email, *subject, *branch;
	const char *commit_url_base;	/* e.g. "https://github.com/o/r/commit/" */
	const char *run_url;
	const char *started_by;
	time_t deadline;
};

/* The review of a verdict that names teams.  Never fails. */
void review_build(struct review *rv, const struct gate *g, const struct verdict *v,
		  const struct review_source *src);

/* The facts JSON (docs/review-page.md); a new object. */
cJSON *review_to_json(const struct review *rv);

/* Read facts JSON back (from the store or a relay: untrusted).  Members
 * that are missing or of the wrong type are left out, strings are capped,
 * arrays are bounded; never fails.  `o` may be NULL (an empty review). */
void review_from_json(struct review *rv, const cJSON *o);

void review_release(struct review *rv);

/* The headline: the first fired test, value against threshold and how far
 * past it, and the baseline when there is one:
 * "latencyMs 225 > 80 (+181%), baseline 180 (+25%)".  "" when nothing
 * fired.  Returns out. */
char *review_headline(const struct review *rv, char *out, size_t size);

/* A mail subject of at most REVIEW_SUBJECT_MAX characters, metric first:
 * "acme/model: latencyMs 225 > 80 — review".  The parts are cut (with
 * "…") to fit; never cut inside a UTF-8 sequence.  Returns out (size
 * should be at least 4 * REVIEW_SUBJECT_MAX + 1). */
char *review_subject(const struct review *rv, char *out, size_t size);

/* The team named `name`, or NULL. */
const struct review_team *review_team(const struct review *rv, const char *name);

/* "acme/model" for "https://github.com/acme/model.git",
 * "git@host:acme/model.git" or "acme/model"; the last two path steps of
 * anything else.  NULL for NULL or a bare path with no steps.  New
 * string. */
char *review_repo_name(const char *repository);

#endif
