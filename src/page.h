/* page.h - the review page and the short pages around it, as HTML (pure).
 *
 * Every page is one self-contained document: a single inline stylesheet
 * (page_style(), hashed into the CSP by web.c), no scripts or external
 * assets, readable on a 375 px wide phone.  Every interpolated value is
 * cleaned (mime_clean), capped and HTML-escaped; only http(s) URLs become
 * links.  Facts come from facts_json (docs/review-page.md); malformed facts
 * leave their sections out.  No I/O, no clocks (`now` is passed in).  On
 * failure every function returns -1 with out released, as buf.h does.
 */
#ifndef GREENLIGHT_PAGE_H
#define GREENLIGHT_PAGE_H

#include <time.h>

#include "buf.h"
#include "store.h"

#define PAGE_MAX (1024 * 1024)	/* a good struct buf max for any page */

/* The review page for a pending request, made to decide on the first
 * screen: the reviewer's state when there is one (decided already, the
 * team's quorum met, the commit's author) as a banner with id="state", the
 * headline (review_headline()), one line with the team's progress and the
 * deadline, then, unless this reviewer decided already, the form (hidden
 * nonce, optional reason, two submit buttons name=decision
 * value=approve|reject; Approve disabled for the author and when the
 * team's quorum is met), then the details: rules, commit, progress. */
int page_review(struct buf *out, const struct store_review *rv, time_t now);

/* After a POST that was recorded (or repeated): "Recorded: approved",
 * what CI does now (continues, fails, keeps waiting for whom), a link back
 * to the CI run.  repeat says it had been recorded before. */
int page_recorded(struct buf *out, const struct store_review *rv,
		  int approve, int repeat);

/* A decided or expired request (410): what happened, when, by whom and
 * what CI did, as a banner first; how to ask again when it expired; then
 * the evidence as the review page shows it. */
int page_closed(struct buf *out, const struct store_review *rv);

/* A short page with a title and one paragraph (both plain text). */
int page_message(struct buf *out, const char *title, const char *text);

/* The stylesheet every page embeds, byte for byte (for a CSP hash). */
const char *page_style(void);

#endif
