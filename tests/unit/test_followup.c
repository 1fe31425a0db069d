/* test_followup.c - unit tests for src/followup.c.
 *
 * Covered: who is pending (decided, team with quorum, settled request);
 * when reminders are due (the first one interval after the request, the
 * latest only after a gap, none at or past the deadline) and the next due
 * time; when a team escalates; the Message-IDs of notifications (stable,
 * distinct from the request email's); and the threaded message itself,
 * parsed back: In-Reply-To and References name the request email, the
 * Subject is "Re: ", CRLF only, a display-name From, header injection
 * refused, controls cleaned out of the body.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "followup.h"
#include "util.h"

static struct store_decision dec[2];
static struct store_team_state teams[2];

static void request(struct store_request *r, enum req_state st)
{
	memset(r, 0, sizeof(*r));
	memset(dec, 0, sizeof(dec));
	memset(teams, 0, sizeof(teams));
	r->state = st;
	strcpy(teams[0].name, "eng");
	teams[0].approvals = 2;
	teams[0].approved = 1;
	strcpy(teams[1].name, "research");
	teams[1].approvals = 1;
	teams[1].approved = 1;
	r->teams = teams;
	r->nteams = 2;
	strcpy(dec[0].email, "Ann@Example.com");
	strcpy(dec[0].team, "eng");
	dec[0].approve = 1;
	strcpy(dec[1].email, "rob@example.com");
	strcpy(dec[1].team, "research");
	dec[1].approve = 1;
	r->decisions = dec;
	r->ndecisions = 2;
}

static void test_pending(void **state)
{
	struct store_request r;

	(void)state;
	request(&r, REQ_PENDING);
	assert_true(followup_pending(&r, "eng", "bob@example.com"));
	assert_false(followup_pending(&r, "eng", "ann@example.com"));	/* decided (case folded) */
	assert_false(followup_pending(&r, "research", "rita@example.com"));	/* quorum met */
	assert_true(followup_team_met(&r, "research"));
	assert_false(followup_team_met(&r, "eng"));
	assert_false(followup_team_met(&r, "nope"));
	assert_true(followup_decided(&r, "eng", "ANN@example.com"));
	assert_false(followup_decided(&r, "research", "ann@example.com"));	/* other team */
	request(&r, REQ_EXPIRED);
	assert_false(followup_pending(&r, "eng", "bob@example.com"));
}

static void test_reminder_seq(void **state)
{
	const time_t c = 1000, d = 1000 + 10 * 3600;	/* ten hours */
	const uint64_t every = 4 * 3600;

	(void)state;
	assert_int_equal(followup_reminder_seq(c, d, every, c), 0);
	assert_int_equal(followup_reminder_seq(c, d, every, c + every - 1), 0);
	assert_int_equal(followup_reminder_seq(c, d, every, c + every), 1);
	assert_int_equal(followup_reminder_seq(c, d, every, c + 2 * every + 5), 2);	/* the latest only */
	assert_int_equal(followup_reminder_seq(c, d, every, d + 100), 2);	/* the third would be past it */
	assert_int_equal(followup_reminder_seq(c, d, 0, c + every), 0);	/* no remind_every */
	assert_int_equal(followup_reminder_seq(c, c + every, every, c + every), 0);	/* at the deadline: none */
	assert_int_equal(followup_reminder_seq(c, d, every, c - 5), 0);	/* clock before creation */
}

static void test_reminder_next(void **state)
{
	const time_t c = 1000, d = 1000 + 10 * 3600;
	const uint64_t every = 4 * 3600;

	(void)state;
	assert_int_equal(followup_reminder_next(c, d, every, c), c + every);
	assert_int_equal(followup_reminder_next(c, d, every, c + every), c + 2 * every);
	assert_int_equal(followup_reminder_next(c, d, every, c + 2 * every), 0);	/* 12h >= 10h */
	assert_int_equal(followup_reminder_next(c, d, 0, c), 0);
	assert_int_equal(followup_reminder_next(c, d, every, c - 50), c + every);
	assert_int_equal(followup_reminder_next(c, d, 2, c + 3), c + 4);	/* short test intervals */
}

static void test_escalation_at(void **state)
{
	(void)state;
	assert_int_equal(followup_escalation_at(1000, 9000, 2000), 3000);
	assert_int_equal(followup_escalation_at(1000, 9000, 0), 0);
	assert_int_equal(followup_escalation_at(1000, 3000, 2000), 0);	/* at the deadline: never */
	assert_int_equal(followup_escalation_at(1000, 3001, 2000), 3000);
}

static void test_message_ids(void **state)
{
	char a[MIME_MSGID_SIZE], b[MIME_MSGID_SIZE], c[MIME_MSGID_SIZE], req[MIME_MSGID_SIZE];

	(void)state;
	assert_int_equal(followup_message_id(a, "r1", "remind", 1, "x@example.com"), 0);
	assert_int_equal(followup_message_id(b, "r1", "remind", 1, "x@example.com"), 0);
	assert_string_equal(a, b);	/* stable */
	assert_int_equal(followup_message_id(c, "r1", "remind", 2, "x@example.com"), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(followup_message_id(c, "r1", "followup", 0, "x@example.com"), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(mime_message_id(req, "r1", "x@example.com"), 0);
	assert_string_not_equal(a, req);
	assert_string_not_equal(c, req);
	assert_true(strlen(a) > 20 && a[0] == '<' && strstr(a, "@greenlight>"));
}

static void mail(struct followup_mail *m, const char *parent, const char *msgid)
{
	memset(m, 0, sizeof(*m));
	m->from = "Release Gate <gate@example.com>";
	m->to = "bob@example.com";
	m->subject = "acme/model: latencyMs 225 > 80 \xe2\x80\x94 review";
	m->in_reply_to = parent;
	m->message_id = msgid;
	m->date = "Tue, 02 Jan 2024 15:04:05 +0000";
	m->body = "Approved: gate\n\nann approved\x1b[31m for eng\nCI continues (exit 0).\n";
}

/* The header value of `name` (unfolded), or NULL. */
static const char *header(const char *msg, const char *name, char *out, size_t n)
{
	size_t k = strlen(name);
	const char *p = msg;

	while (*p && strncmp(p, "\r\n", 2)) {
		if (!strncmp(p, name, k) && p[k] == ':') {
			size_t o = 0;

			p += k + 1;
			while (*p == ' ')
				p++;
			while (*p && o + 1 < n) {
				if (!strncmp(p, "\r\n ", 3)) {
					p += 2;
					continue;
				}
				if (!strncmp(p, "\r\n", 2))
					break;
				out[o++] = *p++;
			}
			out[o] = '\0';
			return out;
		}
		p = strstr(p, "\r\n");
		if (!p)
			return NULL;
		p += 2;
	}
	return NULL;
}

static void test_compose_threaded(void **state)
{
	struct buf out = BUF_INIT(MIME_MAX_MESSAGE);
	struct followup_mail m;
	char parent[MIME_MSGID_SIZE], id[MIME_MSGID_SIZE], err[128], v[512];
	const char *body;

	(void)state;
	mime_message_id(parent, "r1", "bob@example.com");
	followup_message_id(id, "r1", "followup", 0, "bob@example.com");
	mail(&m, parent, id);
	assert_int_equal(followup_compose(&out, &m, err, sizeof(err)), 0);
	for (size_t i = 0; i < out.len; i++)
		if (out.data[i] == '\n')
			assert_true(i > 0 && out.data[i - 1] == '\r');
	assert_string_equal(header(out.data, "In-Reply-To", v, sizeof(v)), parent);
	assert_string_equal(header(out.data, "References", v, sizeof(v)), parent);
	assert_string_equal(header(out.data, "Message-ID", v, sizeof(v)), id);
	assert_string_equal(header(out.data, "To", v, sizeof(v)), "bob@example.com");
	assert_non_null(header(out.data, "Subject", v, sizeof(v)));
	assert_non_null(strstr(v, "=?UTF-8?"));	/* encoded: "Re: ..." with a dash */
	assert_non_null(header(out.data, "From", v, sizeof(v)));
	assert_non_null(strstr(v, "<gate@example.com>"));
	assert_non_null(strstr(out.data, "Content-Type: text/plain; charset=UTF-8\r\n"));
	assert_non_null(strstr(out.data, "Auto-Submitted: auto-generated\r\n"));
	body = strstr(out.data, "\r\n\r\n");
	assert_non_null(body);
	assert_null(strchr(body, 0x1b));	/* the escape is cleaned out */
	assert_non_null(strstr(body, "CI continues (exit 0)."));
	buf_release(&out);
}

static void test_compose_refuses(void **state)
{
	struct buf out = BUF_INIT(MIME_MAX_MESSAGE);
	struct followup_mail m;
	char parent[MIME_MSGID_SIZE], id[MIME_MSGID_SIZE], err[128];

	(void)state;
	mime_message_id(parent, "r1", "bob@example.com");
	followup_message_id(id, "r1", "remind", 1, "bob@example.com");
	mail(&m, parent, id);
	m.to = "bob@example.com\r\nBcc: eve@example.com";
	assert_int_equal(followup_compose(&out, &m, err, sizeof(err)), -1);
	assert_null(out.data);
	mail(&m, "<a\r\nBcc: x@y>", id);
	assert_int_equal(followup_compose(&out, &m, err, sizeof(err)), -1);
	mail(&m, parent, id);
	m.from = "gate@example.com\r\nBcc: eve@example.com";
	assert_int_equal(followup_compose(&out, &m, err, sizeof(err)), -1);
	mail(&m, parent, id);
	m.subject = "s\r\nBcc: eve@example.com";	/* cleaned, not refused */
	assert_int_equal(followup_compose(&out, &m, err, sizeof(err)), 0);
	assert_null(strstr(out.data, "\r\nBcc:"));
	buf_release(&out);
}

static void test_ci_words(void **state)
{
	(void)state;
	assert_string_equal(followup_ci_did(GL_EXIT_PASS), "CI continues (exit 0)");
	assert_string_equal(followup_ci_did(GL_EXIT_TIMEOUT), "CI stops: nobody decided in time (exit 3)");
	assert_string_equal(followup_outcome(REQ_REJECTED), "Rejected");
	assert_string_equal(followup_outcome(REQ_EXPIRED), "Timed out");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_reminder_seq),
		cmocka_unit_test(test_reminder_next),
		cmocka_unit_test(test_escalation_at),
		cmocka_unit_test(test_message_ids),
		cmocka_unit_test(test_compose_threaded),
		cmocka_unit_test(test_compose_refuses),
		cmocka_unit_test(test_ci_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
