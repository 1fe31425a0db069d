/* test_chat.c - unit tests for src/chat.c and the service renderers
 * (src/chat_slack.c, chat_teams.c, chat_mattermost.c, chat_google_chat.c).
 *
 * Text made fit for a service (escapes, control characters, cuts on
 * character boundaries with "…"), the webhook URL rules, the review and
 * decision messages (the team's fired rules, the facts, the one button:
 * the CI run, else the commit, never a review link), and each service's
 * JSON: the documented shape, hostile metric names ("<!channel>", "@here",
 * "*bold*", "[x](javascript:…)", "<b>") arriving as text and never as
 * markup, and the documented length limits.  The integration test
 * i0120-chat.sh checks the same bodies against a stand-in server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chat.h"
#include "util.h"

#define HOSTILE "<!channel> @here *bold* [x](javascript:alert(1)) <b>"
#define RUN_URL "https://ci.example.com/acme/model/runs/42"
#define COMMIT_URL "https://github.com/acme/model/commit/0123456789abcdef0123456789abcdef01234567"

static struct review_test tests[3];
static struct review_team teams[2];
static struct review rv;

static void make_review(const char *metric)
{
	static char *e[] = { "eng@example.com" };

	memset(&rv, 0, sizeof(rv));
	tests[0] = (struct review_test){ "$.latencyMs", "latencyMs", "225", ">", "80", "+181%",
					 "180", "+45 (+25%)", "$.latencyMs > 80", "engineering" };
	tests[1] = (struct review_test){ "$.x", (char *)metric, "7", ">", "1", "+600%",
					 "", "", "$.x > 1", "engineering" };
	tests[2] = (struct review_test){ "$.acc", "accuracypct", "90", "<", "96", "-6.3%",
					 "", "", "$.acc < 96", "research" };
	teams[0] = (struct review_team){ "engineering", 1, e, 1, "$.latencyMs > 80" };
	teams[1] = (struct review_team){ "research", 2, e, 1, "$.acc < 96" };
	rv.gate = "model-release";
	rv.repository = "acme/model";
	rv.tests = tests;
	rv.ntests = 3;
	rv.teams = teams;
	rv.nteams = 2;
	rv.sha = "0123456789abcdef0123456789abcdef01234567";
	rv.author = "Ada Dev";
	rv.subject = "Speed up the model";
	rv.branch = "main";
	rv.commit_url = COMMIT_URL;
	rv.run_url = RUN_URL;
	rv.deadline = 1767225600;	/* 2026-01-01T00:00:00Z */
}

/* Every string in a JSON tree, joined by newlines. */
static void all_text(const cJSON *o, char *out, size_t size)
{
	for (const cJSON *c = o->child; c; c = c->next) {
		if (cJSON_IsString(c)) {
			strncat(out, c->valuestring, size - strlen(out) - 1);
			strncat(out, "\n", size - strlen(out) - 1);
		}
		all_text(c, out, size);
	}
}

static cJSON *render(const struct chat_service *svc, int decision)
{
	struct chat_msg m;
	struct store_request req;
	struct store_decision d;
	cJSON *o;

	if (decision) {
		memset(&req, 0, sizeof(req));
		memset(&d, 0, sizeof(d));
		req.state = REQ_APPROVED;
		strcpy(d.email, "eng@example.com");
		strcpy(d.team, "engineering");
		d.approve = 1;
		strcpy(d.reason, "fine <!here>");
		req.decisions = &d;
		req.ndecisions = 1;
		chat_msg_decision(&m, &rv, "model-release", &req, GL_EXIT_PASS);
	} else {
		chat_msg_review(&m, &rv, "model-release", "engineering");
	}
	o = svc->render(&m);
	chat_msg_release(&m);
	assert_non_null(o);
	return o;
}

static const cJSON *get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!v)
		fail_msg("no member \"%s\"", k);
	return v;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* ---- text ------------------------------------------------------------------ */

static const char *amp(uint32_t cp)
{
	return cp == '&' ? "&amp;" : NULL;
}

static void test_text(void **state)
{
	char *t;

	(void)state;
	t = chat_text("a\tb\nc\x1b[31m\xe2\x80\xae", 100, NULL, 0);
	assert_string_equal(t, "a b c [31m ");
	free(t);
	t = chat_text("a\nb", 100, NULL, 1);
	assert_string_equal(t, "a\nb");
	free(t);
	t = chat_text("bad \xff byte", 100, NULL, 0);
	assert_string_equal(t, "bad \xef\xbf\xbd byte");
	free(t);
	t = chat_text("abcdef", 4, NULL, 0);
	assert_string_equal(t, "abc\xe2\x80\xa6");
	free(t);
	t = chat_text("abcd", 4, NULL, 0);
	assert_string_equal(t, "abcd");
	free(t);
	/* never inside a UTF-8 sequence, never inside an escape */
	t = chat_text("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, NULL, 0);
	assert_string_equal(t, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	free(t);
	t = chat_text("a&b", 6, amp, 0);
	assert_string_equal(t, "a\xe2\x80\xa6");
	free(t);
	t = chat_text("a&b", 7, amp, 0);
	assert_string_equal(t, "a&amp;b");
	free(t);
	t = chat_text(NULL, 10, NULL, 0);
	assert_string_equal(t, "");
	free(t);
}

/* ---- URLs --------------------------------------------------------------------- */

static void test_url(void **state)
{
	static const char *const good[] = {
		"https://hooks.slack.com/services/T000/B000/XXXX",
		"https://example.webhook.office.com/workflows/abc?sig=x",
		"http://127.0.0.1:8065/hooks/abc",
		"http://localhost/hooks/abc",
		"http://[::1]:9/x",
		"HTTPS://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t",
	};
	static const char *const bad[][2] = {
		{ "", "it is empty" },
		{ "http://mattermost.example.com/hooks/x", "plain http:// is allowed only to this machine" },
		{ "http://127.0.0.1@evil.example/x", "user information" },
		{ "https://user:pw@hooks.slack.com/x", "user information" },
		{ "http://127.0.0.1.evil.example/x", "plain http://" },
		{ "ftp://example.com/x", "must start with https://" },
		{ "javascript:alert(1)", "must start with https://" },
		{ "https://hooks.slack.com/x y", "a space" },
		{ "https://hooks.slack.com/x\n", "a space, a control" },
		{ "https:///path", "no host" },
	};
	char why[256], *longurl;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (chat_url_check(good[i], why, sizeof(why)))
			fail_msg("%s refused: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chat_url_check(bad[i][0], why, sizeof(why)), -1);
		if (!strstr(why, bad[i][1]))
			fail_msg("%s: %s", bad[i][0], why);
		assert_null(strstr(why, "evil"));	/* the URL is never quoted */
	}
	longurl = xmalloc(CHAT_URL_MAX + 2);
	memcpy(longurl, "https://", 8);
	memset(longurl + 8, 'a', CHAT_URL_MAX - 6);
	longurl[CHAT_URL_MAX + 1] = '\0';
	assert_int_equal(chat_url_check(longurl, why, sizeof(why)), -1);
	free(longurl);
}

static void test_services(void **state)
{
	(void)state;
	assert_ptr_equal(chat_service_find("slack"), &chat_slack);
	assert_ptr_equal(chat_service_find("teams"), &chat_teams);
	assert_ptr_equal(chat_service_find("mattermost"), &chat_mattermost);
	assert_ptr_equal(chat_service_find("google-chat"), &chat_google_chat);
	assert_null(chat_service_find("Slack"));
	assert_null(chat_service_find("discord"));
}

/* ---- the messages --------------------------------------------------------------- */

static void test_msg_review(void **state)
{
	struct chat_msg m;

	(void)state;
	make_review("latency p99");
	chat_msg_review(&m, &rv, "model-release", "engineering");
	assert_string_equal(m.title, "Review needed: model-release");
	assert_string_equal(m.summary, "latencyMs 225 > 80 (+181%), baseline 180: +45 (+25%)");
	assert_string_equal(m.items_title, "Fired rules routed to engineering");
	assert_int_equal(m.nitems, 2);		/* research's rule is not here */
	assert_string_equal(m.items[0], "latencyMs 225 > 80 (+181%), baseline 180: +45 (+25%)");
	assert_string_equal(m.items[1], "latency p99 7 > 1 (+600%)");
	assert_string_equal(m.facts[0].label, "Repository");
	assert_string_equal(m.facts[1].value, "0123456 Speed up the model by Ada Dev");
	assert_string_equal(m.facts[1].url, COMMIT_URL);
	assert_string_equal(m.facts[2].value, "main");
	assert_string_equal(m.facts[3].value, "2026-01-01T00:00:00Z");
	assert_string_equal(m.button_label, "Open CI run");
	assert_string_equal(m.button_url, RUN_URL);
	assert_non_null(strstr(m.note, "personal review link"));
	assert_non_null(strstr(m.note, "1 approval needed"));
	chat_msg_release(&m);

	/* research: 2 approvals; no CI run: the button opens the commit */
	rv.run_url = NULL;
	chat_msg_review(&m, &rv, "model-release", "research");
	assert_int_equal(m.nitems, 1);
	assert_non_null(strstr(m.note, "2 approvals needed"));
	assert_string_equal(m.button_label, "Open commit");
	assert_string_equal(m.button_url, COMMIT_URL);
	chat_msg_release(&m);

	/* a link that is not http(s) is never offered; nor a character that
	 * would end a link in chat markup */
	rv.run_url = "javascript:alert(1)";
	rv.commit_url = "https://forge.example/c/1>|x)";
	chat_msg_review(&m, &rv, "model-release", "research");
	assert_string_equal(m.button_label, "Open commit");
	assert_string_equal(m.button_url, "https://forge.example/c/1%3E%7Cx%29");
	chat_msg_release(&m);
	rv.run_url = NULL;
	rv.commit_url = NULL;
	chat_msg_review(&m, &rv, "model-release", "research");
	assert_string_equal(m.button_url, "");
	chat_msg_release(&m);
}

static void test_msg_decision(void **state)
{
	struct store_request req;
	struct store_decision d[2];
	struct chat_msg m;

	(void)state;
	make_review("m");
	memset(&req, 0, sizeof(req));
	memset(d, 0, sizeof(d));
	req.state = REQ_REJECTED;
	strcpy(d[0].email, "a@example.com");
	strcpy(d[0].team, "engineering");
	d[0].approve = 1;
	strcpy(d[1].email, "b@example.com");
	strcpy(d[1].team, "research");
	strcpy(d[1].reason, "accuracy\nregressed");
	req.decisions = d;
	req.ndecisions = 2;
	chat_msg_decision(&m, &rv, "model-release", &req, GL_EXIT_FAIL);
	assert_string_equal(m.title, "Rejected: model-release");
	assert_int_equal(m.tone, CHAT_TONE_BAD);
	assert_int_equal(m.nitems, 2);
	assert_string_equal(m.items[0], "a@example.com approved for engineering");
	assert_string_equal(m.items[1], "b@example.com rejected for research: accuracy regressed");
	assert_string_equal(m.facts[m.nfacts - 1].label, "CI");
	assert_string_equal(m.facts[m.nfacts - 1].value, "CI stops: the gate failed (exit 1)");
	chat_msg_release(&m);

	req.state = REQ_EXPIRED;
	req.ndecisions = 0;
	chat_msg_decision(&m, &rv, "model-release", &req, GL_EXIT_TIMEOUT);
	assert_string_equal(m.title, "Timed out: model-release");
	assert_string_equal(m.items_title, "Nobody decided");
	assert_string_equal(m.facts[m.nfacts - 1].value, "CI stops: nobody decided in time (exit 3)");
	chat_msg_release(&m);
}

/* ---- the services' JSON ---------------------------------------------------------- */

static void no_token_or_review_link(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	assert_null(strstr(s, "/r/"));
	free(s);
}

static void test_slack(void **state)
{
	char text[16384] = "";
	const cJSON *blocks, *b, *btn;
	cJSON *o;
	int header = 0, actions = 0;

	(void)state;
	make_review(HOSTILE);
	o = render(&chat_slack, 0);
	/* the fallback text: mrkdwn, escaped */
	assert_null(strstr(str(o, "text"), "<"));
	assert_non_null(strstr(str(o, "text"), "Review needed: model-release"));
	blocks = get(o, "blocks");
	assert_true(cJSON_IsArray(blocks) && cJSON_GetArraySize(blocks) <= 50);
	cJSON_ArrayForEach(b, blocks) {
		const char *type = str(b, "type");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "text"), *f;

		if (t && !strcmp(str(t, "type"), "mrkdwn"))
			assert_null(strstr(str(t, "text"), "<!"));
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(b, "fields")) {
			/* "<" only opens a link */
			const char *lt = strchr(str(f, "text"), '<');

			assert_true(!lt || !strncmp(lt, "<https://", 9));
		}
		if (!strcmp(type, "header")) {
			header++;
			assert_string_equal(str(t, "type"), "plain_text");
		}
		if (!strcmp(type, "actions")) {
			actions++;
			btn = cJSON_GetArrayItem(get(b, "elements"), 0);
			assert_string_equal(str(btn, "type"), "button");
			assert_string_equal(str(btn, "url"), RUN_URL);
			assert_string_equal(str(get(btn, "text"), "text"), "Open CI run");
		}
	}
	assert_int_equal(header, 1);
	assert_int_equal(actions, 1);
	all_text(get(o, "blocks"), text, sizeof(text));
	/* in plain_text the hostile name is shown as written */
	assert_non_null(strstr(text, "\xe2\x80\xa2 " HOSTILE " 7 > 1 (+600%)"));
	assert_non_null(strstr(text, "*Commit*\n<" COMMIT_URL "|0123456 Speed up the model by Ada Dev>"));
	no_token_or_review_link(o);
	cJSON_Delete(o);
}

static void test_teams(void **state)
{
	const cJSON *att, *card, *b, *acts;
	char text[16384] = "";
	cJSON *o;

	(void)state;
	make_review(HOSTILE);
	o = render(&chat_teams, 0);
	assert_string_equal(str(o, "type"), "message");
	assert_int_equal(cJSON_GetArraySize(get(o, "attachments")), 1);
	att = cJSON_GetArrayItem(get(o, "attachments"), 0);
	assert_string_equal(str(att, "contentType"), "application/vnd.microsoft.card.adaptive");
	card = get(att, "content");
	assert_string_equal(str(card, "type"), "AdaptiveCard");
	assert_string_equal(str(card, "version"), "1.4");
	assert_string_equal(str(card, "$schema"), "http://adaptivecards.io/schemas/adaptive-card.json");
	cJSON_ArrayForEach(b, get(card, "body")) {
		const char *type = str(b, "type");

		assert_true(!strcmp(type, "TextBlock") || !strcmp(type, "RichTextBlock"));
		if (!strcmp(type, "TextBlock"))	/* markdown: nothing from outside */
			assert_null(strstr(str(b, "text"), HOSTILE));
	}
	acts = get(card, "actions");
	assert_int_equal(cJSON_GetArraySize(acts), 1);
	assert_string_equal(str(cJSON_GetArrayItem(acts, 0), "type"), "Action.OpenUrl");
	assert_string_equal(str(cJSON_GetArrayItem(acts, 0), "url"), RUN_URL);
	all_text(get(card, "body"), text, sizeof(text));
	assert_non_null(strstr(text, HOSTILE " 7 > 1"));	/* a TextRun: never markdown */
	no_token_or_review_link(o);
	cJSON_Delete(o);
}

static void test_mattermost(void **state)
{
	const cJSON *a, *f;
	const char *t;
	cJSON *o;

	(void)state;
	make_review(HOSTILE);
	o = render(&chat_mattermost, 0);
	a = cJSON_GetArrayItem(get(o, "attachments"), 0);
	assert_non_null(strstr(str(a, "fallback"), "Review needed"));
	assert_string_equal(str(a, "color"), "#E8A317");
	assert_string_equal(str(a, "title"), "Review needed: model-release");
	assert_string_equal(str(a, "title_link"), RUN_URL);
	t = str(a, "text");
	assert_non_null(strstr(t, "\\<\\!channel\\> @\xe2\x80\x8bhere \\*bold\\* \\[x\\](javascript:alert(1)) \\<b\\>"));
	assert_null(strstr(t, "@here"));
	assert_null(strstr(t, "[x]("));
	cJSON_ArrayForEach(f, get(a, "fields")) {
		assert_true(cJSON_IsTrue(get(f, "short")));
		if (!strcmp(str(f, "title"), "Commit"))
			assert_string_equal(str(f, "value"), "[0123456 Speed up the model by Ada Dev](" COMMIT_URL ")");
	}
	no_token_or_review_link(o);
	cJSON_Delete(o);
}

static void test_google_chat(void **state)
{
	const cJSON *c, *card, *sec, *w, *btn;
	char text[16384] = "";
	cJSON *o;
	int buttons = 0;

	(void)state;
	make_review(HOSTILE);
	o = render(&chat_google_chat, 0);
	assert_null(strstr(str(o, "text"), "<"));
	c = cJSON_GetArrayItem(get(o, "cardsV2"), 0);
	assert_string_equal(str(c, "cardId"), "greenlight-review");
	card = get(c, "card");
	assert_string_equal(str(get(card, "header"), "title"), "Review needed: model-release");
	cJSON_ArrayForEach(sec, get(card, "sections")) {
		cJSON_ArrayForEach(w, get(sec, "widgets")) {
			const cJSON *tp = cJSON_GetObjectItemCaseSensitive(w, "textParagraph");
			const cJSON *bl = cJSON_GetObjectItemCaseSensitive(w, "buttonList");

			assert_int_equal(cJSON_GetArraySize(w), 1);	/* one widget each */
			if (tp)
				assert_null(strstr(str(tp, "text"), "<!"));
			if (bl) {
				btn = cJSON_GetArrayItem(get(bl, "buttons"), 0);
				assert_string_equal(str(btn, "text"), "Open CI run");
				assert_string_equal(str(get(get(btn, "onClick"), "openLink"), "url"), RUN_URL);
				buttons++;
			}
		}
	}
	assert_int_equal(buttons, 1);
	all_text(get(card, "sections"), text, sizeof(text));
	assert_non_null(strstr(text, "&lt;!channel&gt; @here *bold* [x](javascript:alert(1)) &lt;b&gt;"));
	assert_non_null(strstr(text, "<a href=\"" COMMIT_URL "\">0123456 Speed up the model by Ada Dev</a>"));
	no_token_or_review_link(o);
	cJSON_Delete(o);
}

/* The documented limits hold for a metric name of 5000 characters. */
static void test_limits(void **state)
{
	char *longname = xmalloc(5001);
	const cJSON *b;
	cJSON *o;

	(void)state;
	memset(longname, 'x', 5000);
	longname[5000] = '\0';
	make_review(longname);
	rv.gate = longname;
	o = render(&chat_slack, 0);
	assert_true(chars(str(o, "text")) <= 3000);
	cJSON_ArrayForEach(b, get(o, "blocks")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "text");

		if (!strcmp(str(b, "type"), "header"))
			assert_true(chars(str(t, "text")) <= 150);
		else if (t)
			assert_true(chars(str(t, "text")) <= 3000);
	}
	cJSON_Delete(o);
	for (size_t i = 0; i < 4; i++) {
		const struct chat_service *svc[] = { &chat_slack, &chat_teams, &chat_mattermost, &chat_google_chat };
		char *s;

		o = render(svc[i], 0);
		s = cJSON_PrintUnformatted(o);
		assert_true(strlen(s) < 28 * 1024);	/* Teams' card limit, the smallest */
		free(s);
		cJSON_Delete(o);
	}
	free(longname);
}

/* The follow-up in each service: outcome, who, reason, CI; the reason as
 * plain text where the service has it (Slack plain_text, a Teams
 * TextRun), escaped where it is markup. */
static void test_followups(void **state)
{
	const struct chat_service *svc[] = { &chat_slack, &chat_teams, &chat_mattermost, &chat_google_chat };

	static const char *const reason[] = {
		"fine <!here>", "fine <!here>", "fine \\<\\!here\\>", "fine &lt;!here&gt;",
	};

	(void)state;
	make_review("m");
	for (size_t i = 0; i < 4; i++) {
		cJSON *o = render(svc[i], 1);
		char text[16384] = "";

		all_text(o, text, sizeof(text));
		assert_non_null(strstr(text, "Approved: model-release"));
		assert_non_null(strstr(text, "CI continues (exit 0)"));
		assert_non_null(strstr(text, "approved for engineering: "));
		if (!strstr(text, reason[i]))
			fail_msg("%s: no \"%s\" in %s", svc[i]->name, reason[i], text);
		cJSON_Delete(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests_[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_msg_review),
		cmocka_unit_test(test_msg_decision),
		cmocka_unit_test(test_slack),
		cmocka_unit_test(test_teams),
		cmocka_unit_test(test_mattermost),
		cmocka_unit_test(test_google_chat),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_followups),
	};

	return cmocka_run_group_tests(tests_, NULL, NULL);
}
