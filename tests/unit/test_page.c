/* test_page.c - unit tests for src/page.c.
 *
 * Each state of the review page with its own words at the top (before the
 * headline): already decided (with the time), the team's quorum met (no
 * enabled Approve, Reject still offered), the commit's author; the
 * pending page's order (headline, then team progress and deadline, then
 * the buttons, then the details); the closed pages (approved, rejected by
 * whom and why, expired with how to ask again) keep the evidence; the
 * recorded page says what CI does now and links back to the run; hostile
 * facts and decisions are escaped, and a javascript: run URL is no link.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "page.h"
#include "util.h"

#define NOW ((time_t)1795000000)	/* 2026-11-18 ... UTC */

static const char facts[] =
	"{\"gate\":\"model-release\",\"repository\":\"acme/model\","
	"\"quorum\":[{\"name\":\"engineering\",\"approvals\":1,"
	"\"asked\":[\"eng@example.com\"],\"why\":\"$.latencyMs > 80\"}],"
	"\"rules\":[{\"metric\":\"$.latencyMs\",\"name\":\"latencyMs\","
	"\"value\":\"225\",\"op\":\">\",\"threshold\":\"80\",\"over\":\"+181%\","
	"\"baseline\":\"180\",\"change\":\"+45 (+25%)\","
	"\"why\":\"$.latencyMs > 80\",\"next\":\"engineering\"},"
	"{\"metric\":\"$.p99\",\"name\":\"p99\",\"value\":\"900\",\"op\":\">\","
	"\"threshold\":\"300\",\"over\":\"+200%\",\"next\":\"engineering\"}],"
	"\"commit\":{\"sha\":\"3f2a9c1e\",\"author\":\"Ann Example\","
	"\"email\":\"ann@example.com\",\"subject\":\"Speed up\","
	"\"branch\":\"main\","
	"\"url\":\"https://github.com/acme/model/commit/3f2a9c1e\"},"
	"\"run_url\":\"https://ci.example.com/run/123\"}";

static struct store_team_state teams[2];
static struct store_decision decisions[3];
static struct store_asked asked[2];
static struct store_review rv;
static struct buf out;

static int setup(void **state)
{
	(void)state;
	memset(&rv, 0, sizeof(rv));
	memset(teams, 0, sizeof(teams));
	memset(decisions, 0, sizeof(decisions));
	strlcpy_gl(rv.req.gate, "model-release", sizeof(rv.req.gate));
	rv.req.state = REQ_PENDING;
	rv.req.created = NOW - 3600;
	rv.req.deadline = NOW + 3 * 3600 + 20 * 60;
	rv.req.facts_json = (char *)facts;
	strlcpy_gl(teams[0].name, "engineering", sizeof(teams[0].name));
	teams[0].approvals = 1;
	strlcpy_gl(teams[1].name, "research", sizeof(teams[1].name));
	teams[1].approvals = 1;
	rv.req.teams = teams;
	rv.req.nteams = 1;
	rv.req.decisions = decisions;
	strlcpy_gl(asked[0].email, "eng@example.com", sizeof(asked[0].email));
	strlcpy_gl(asked[0].team, "engineering", sizeof(asked[0].team));
	strlcpy_gl(asked[1].email, "eng2@example.com", sizeof(asked[1].email));
	strlcpy_gl(asked[1].team, "engineering", sizeof(asked[1].team));
	rv.req.asked = asked;
	rv.req.nasked = 2;
	strlcpy_gl(rv.email, "eng@example.com", sizeof(rv.email));
	strlcpy_gl(rv.team, "engineering", sizeof(rv.team));
	memset(rv.nonce, 'a', 64);
	out = (struct buf)BUF_INIT(PAGE_MAX);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	buf_release(&out);
	return 0;
}

static void add_decision(const char *email, const char *team, int approve,
			 const char *reason, time_t at)
{
	struct store_decision *d = &decisions[rv.req.ndecisions++];

	strlcpy_gl(d->email, email, sizeof(d->email));
	strlcpy_gl(d->team, team, sizeof(d->team));
	strlcpy_gl(d->reason, reason, sizeof(d->reason));
	d->approve = approve;
	d->at = at;
}

/* Where needle starts in the page; fails when absent. */
static size_t at(const char *needle)
{
	const char *p = strstr(out.data, needle);

	if (!p)
		fail_msg("page lacks \"%s\":\n%s", needle, out.data);
	return (size_t)(p - out.data);
}

static void absent(const char *needle)
{
	if (strstr(out.data, needle))
		fail_msg("page has \"%s\":\n%s", needle, out.data);
}

static void review(void)
{
	assert_int_equal(page_review(&out, &rv, NOW), 0);
	assert_non_null(out.data);
}

/* ---- pending ------------------------------------------------------------- */

static void test_pending_order(void **state)
{
	(void)state;
	review();
	absent("id=\"state\"");		/* nothing to warn about */
	/* the headline: the first rule, how far over, the baseline */
	size_t h1 = at("<h1>latencyMs 225 &gt; 80 (+181%), baseline 180: +45 (+25%)</h1>");
	size_t sum = at("<b>engineering</b>: 0 of 1 approval ");
	size_t deadline = at("decide by 2026-");
	size_t left = at("(in 3 h 20 min)");
	size_t reason = at("<textarea id=\"reason\" name=\"reason\" rows=\"2\"");
	size_t approve = at("value=\"approve\" class=\"approve\">Approve</button>");
	size_t reject = at("value=\"reject\" class=\"reject\">Reject</button>");
	size_t details = at("<div class=\"details\">");
	size_t rules = at("Why a review is needed");

	assert_true(h1 < sum && sum < deadline && deadline < left);
	assert_true(left < reason && reason < approve && approve < reject);
	assert_true(reject < details && details < rules);
	/* the details: every rule, why this team, the commit, who was asked */
	assert_true(at("<code>latencyMs</code> is <b>225</b>, baseline 180 (+45 (+25%))") > details);
	assert_true(at("<code>p99</code> is <b>900</b>") > details);
	assert_true(at("Why <b>engineering</b> is asked: $.latencyMs &gt; 80") > details);
	assert_true(at("<dt>Repository</dt><dd>acme/model</dd>") > details);
	assert_true(at("<a href=\"https://github.com/acme/model/commit/3f2a9c1e\"") > details);
	assert_true(at("Ann Example &lt;ann@example.com&gt;") > details);
	assert_true(at("<a href=\"https://ci.example.com/run/123\"") > details);
	assert_true(at("Asked: eng@example.com (engineering), eng2@example.com") > details);
	absent("<script");
}

static void test_pending_without_facts(void **state)
{
	(void)state;
	rv.req.facts_json = (char *)"not json";
	review();
	size_t h1 = at("<h1>Review needed: model-release</h1>");
	assert_true(h1 < at("value=\"approve\""));
	at("cannot be shown");
	rv.req.facts_json = NULL;
	buf_release(&out);
	out = (struct buf)BUF_INIT(PAGE_MAX);
	review();
	at("<h1>Review needed: model-release</h1>");
}

static void test_already_decided(void **state)
{
	(void)state;
	teams[0].approvals = 2;
	teams[0].approved = 1;
	add_decision("eng@example.com", "engineering", 1, "fine by me",
		     NOW - 600);
	rv.already = 1;
	rv.already_approve = 1;
	review();
	size_t banner = at("<p class=\"banner ok\" id=\"state\" data-state=\"decided\">"
			   "You approved at 2026-");
	at("UTC (&ldquo;fine by me&rdquo;). A decision cannot be changed;"
	   " the request is waiting for 1 more approval from <b>engineering</b>.");
	assert_true(banner < at("<h1>"));
	absent("<form");
	absent("<button");
}

static void test_already_rejected_keeps_time(void **state)
{
	(void)state;
	add_decision("eng@example.com", "engineering", 0, "", NOW - 60);
	rv.already = 1;
	rv.already_approve = 0;
	review();
	at("<p class=\"banner bad\" id=\"state\" data-state=\"decided\">You rejected at 2026-");
}

static void test_quorum_met(void **state)
{
	(void)state;
	rv.req.nteams = 2;
	teams[0].approved = 1;	/* engineering has its approval */
	add_decision("eng2@example.com", "engineering", 1, "", NOW - 60);
	review();
	size_t banner = at("<p class=\"banner ok\" id=\"state\" data-state=\"quorum-met\">"
			   "engineering&rsquo;s quorum is met &mdash; your vote is not"
			   " needed. The request is waiting for 1 more approval from"
			   " <b>research</b>.");
	assert_true(banner < at("<h1>"));
	/* the server would record an approve that changes nothing; a reject
	 * still rejects, so only Reject is offered */
	at("class=\"approve\" disabled>Approve</button>");
	absent("class=\"approve\">");
	at("class=\"reject\">Reject</button>");
}

static void test_author(void **state)
{
	(void)state;
	rv.self = 1;
	review();
	size_t banner = at("data-state=\"author\">You are the author of this commit,"
			   " so you cannot approve it.");
	assert_true(banner < at("<h1>"));
	at("class=\"approve\" disabled");
	buf_release(&out);
	out = (struct buf)BUF_INIT(PAGE_MAX);
	rv.allow_self_approval = 1;
	review();
	absent("class=\"approve\" disabled");
	absent("id=\"state\"");
}

/* ---- closed -------------------------------------------------------------- */

static void closed(void)
{
	assert_int_equal(page_closed(&out, &rv), 0);
	assert_non_null(out.data);
	absent("<form");
	absent("<button");
}

static void test_closed_rejected(void **state)
{
	(void)state;
	rv.req.state = REQ_REJECTED;
	rv.req.decided_at = NOW - 60;
	add_decision("eng2@example.com", "engineering", 0, "too slow", NOW - 60);
	closed();
	size_t banner = at("<p class=\"banner bad\" id=\"state\" data-state=\"rejected\">"
			   "Rejected by eng2@example.com: &ldquo;too slow&rdquo; &mdash;"
			   " CI fails");
	size_t h1 = at("<h1>latencyMs 225 &gt; 80");
	assert_true(banner < h1);
	/* the evidence stays */
	assert_true(at("Why a review is needed") > h1);
	at("<a href=\"https://ci.example.com/run/123\" rel=\"noopener noreferrer\">Back to the CI run</a>");
}

static void test_closed_approved_by_me(void **state)
{
	(void)state;
	rv.req.state = REQ_APPROVED;
	rv.req.decided_at = NOW - 60;
	add_decision("eng@example.com", "engineering", 1, "", NOW - 120);
	rv.already = 1;
	rv.already_approve = 1;
	closed();
	size_t banner = at("data-state=\"approved\">Approved on 2026-");
	at("CI continues (greenlight exits 0).<br>You approved at 2026-");
	assert_true(banner < at("<h1>"));
}

static void test_closed_expired(void **state)
{
	(void)state;
	rv.req.state = REQ_EXPIRED;
	rv.req.decided_at = rv.req.deadline;
	closed();
	size_t banner = at("<p class=\"banner warn\" id=\"state\" data-state=\"expired\">"
			   "Expired at 2026-");
	at("without a decision");
	at("To ask again, re-run the CI job with <code>greenlight run --resend</code>");
	assert_true(banner < at("<h1>"));
	at("Why a review is needed");
}

/* ---- recorded ------------------------------------------------------------ */

static void recorded(int approve)
{
	assert_int_equal(page_recorded(&out, &rv, approve, 0), 0);
	assert_non_null(out.data);
	at(approve ? "<h1>Recorded: approved</h1>" : "<h1>Recorded: rejected</h1>");
	at("is stored.");
	at("Back to the CI run</a>");
}

static void test_recorded_approved(void **state)
{
	(void)state;
	rv.req.state = REQ_APPROVED;
	teams[0].approved = 1;
	add_decision("eng@example.com", "engineering", 1, "", NOW);
	recorded(1);
	at("data-state=\"approved\">Every team&rsquo;s quorum is met &mdash;"
	   " CI continues: greenlight exits 0.");
}

static void test_recorded_waiting(void **state)
{
	(void)state;
	rv.req.nteams = 2;
	teams[0].approvals = 3;
	teams[0].approved = 1;
	add_decision("eng@example.com", "engineering", 1, "", NOW);
	recorded(1);
	at("data-state=\"waiting\">CI keeps waiting for 2 more approvals from"
	   " <b>engineering</b> and 1 more approval from <b>research</b>, until 2026-");
}

static void test_recorded_rejected(void **state)
{
	(void)state;
	rv.req.state = REQ_REJECTED;
	add_decision("eng@example.com", "engineering", 0, "no", NOW);
	recorded(0);
	at("data-state=\"rejected\">Rejected by eng@example.com: &ldquo;no&rdquo;"
	   " &mdash; CI fails (greenlight exits 1).");
}

/* ---- hostile data --------------------------------------------------------- */

static void test_escaping(void **state)
{
	(void)state;
	rv.req.facts_json = (char *)
		"{\"rules\":[{\"metric\":\"<script>x</script>\",\"name\":\"<b>n</b>\","
		"\"value\":\"\\\"><img src=x>\",\"op\":\">\",\"threshold\":80}],"
		"\"quorum\":[{\"name\":\"engineering\",\"why\":\"a & b 'c'\"}],"
		"\"commit\":{\"sha\":\"abc\",\"url\":\"javascript:alert(1)\"},"
		"\"run_url\":\"javascript:alert(1)\"}";
	strlcpy_gl(rv.team, "engineering", sizeof(rv.team));
	rv.req.nteams = 1;
	teams[0].approved = 0;
	add_decision("x@example.com", "<i>t</i>", 0, "</p><script>y</script>", NOW);
	review();
	absent("<script");
	absent("<img");
	absent("<b>n</b>");
	absent("<i>");
	absent("href=\"javascript");
	at("<h1>&lt;b&gt;n&lt;/b&gt; &quot;&gt;&lt;img src=x&gt; &gt; 80</h1>");
	at("a &amp; b &#39;c&#39;");
	at("&lt;/p&gt;&lt;script&gt;y&lt;/script&gt;");
	/* closed and recorded pages too: no link to a javascript: run */
	rv.req.state = REQ_REJECTED;
	buf_release(&out);
	out = (struct buf)BUF_INIT(PAGE_MAX);
	closed();
	absent("<script");
	absent("Back to the CI run");
	at("Rejected by x@example.com: &ldquo;&lt;/p&gt;&lt;script&gt;");
	buf_release(&out);
	out = (struct buf)BUF_INIT(PAGE_MAX);
	assert_int_equal(page_recorded(&out, &rv, 0, 1), 0);
	absent("<script");
	absent("Back to the CI run");
	at("had already been recorded");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pending_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_without_facts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_already_decided, setup, teardown),
		cmocka_unit_test_setup_teardown(test_already_rejected_keeps_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quorum_met, setup, teardown),
		cmocka_unit_test_setup_teardown(test_author, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_approved_by_me, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorded_approved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorded_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorded_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
