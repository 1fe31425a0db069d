/* test_resume.c - unit tests for the resume providers and outbox:
 * src/resume.c (the CI file, targets and scopes, backoff, status classes),
 * src/resume_gitlab.c and src/resume_jenkins.c (the HTTP calls they build,
 * against a scripted fake instead of a network), src/store_resume.c and
 * src/relay_resume.c's sweep against a real SQLite file (claimed once, also
 * from a second connection; retried later; one outcome per request) and
 * its lanes (a tenant's CI called by one worker at a time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture.h"
#include "relay_resume.h"
#include "resume.h"
#include "store.h"
#include "token.h"

#define T0 1700000000

/* ---- a scripted HTTP fake ---- */
struct fake {
	int n;				/* calls made */
	char method[8][8], url[8][512], hdr[8][2][256], userpwd[8][128];
	long status[8];			/* answer of call i (0: no answer) */
	const char *body[8];
};

static int fake_http(void *ud, const struct resume_http_req *rq, struct resume_http_resp *rs)
{
	struct fake *f = ud;
	int i = f->n++;

	assert_true(i < 8);
	snprintf(f->method[i], sizeof(f->method[i]), "%s", rq->method);
	snprintf(f->url[i], sizeof(f->url[i]), "%s", rq->url);
	for (int h = 0; h < 2; h++)
		snprintf(f->hdr[i][h], sizeof(f->hdr[i][h]), "%s", rq->headers[h] ? rq->headers[h] : "");
	snprintf(f->userpwd[i], sizeof(f->userpwd[i]), "%s", rq->userpwd ? rq->userpwd : "");
	rs->status = f->status[i];
	if (!rs->status) {
		snprintf(rs->err, sizeof(rs->err), "Timeout was reached");
		return -1;
	}
	if (f->body[i])
		buf_adds(&rs->body, f->body[i]);
	return 0;
}

static struct resume_config cfg;

static int load_cfg(void **state)
{
	(void)state;
	setenv("T_GL", "glpat-unit-secret", 1);
	setenv("T_JK", "relay:jenkins-api-token", 1);
	assert_int_equal(resume_config_parse(&cfg,
		"# comment\n"
		"ci acme gitlab https://gitlab.example.com/api/v4/ T_GL 42 acme/*\n"
		"\n"
		"ci acme jenkins http://127.0.0.1:8081/jenkins T_JK team/*\n", "ci.txt"), 0);
	return 0;
}

static int free_cfg(void **state)
{
	(void)state;
	resume_config_release(&cfg);
	return 0;
}

static void test_config(void **state)
{
	static const char *const bad[] = {
		"ci acme gitlab https://g/api/v4 T_UNSET 42\n",		/* variable unset */
		"ci acme gitlab http://gitlab.example.com/api T_GL 42\n",	/* plain http, not loopback */
		"ci acme gitlab https://u:p@g/api T_GL 42\n",		/* credentials in the URL */
		"ci acme travis https://g T_GL 42\n",			/* unknown CI */
		"ci acme gitlab https://g T_GL\n",			/* no pattern */
		"ci ac/me gitlab https://g T_GL 42\n",			/* tenant name */
		"ci acme gitlab https://g glpat-xyz 42\n",		/* a secret, not a name */
		"tenant acme gitlab https://g T_GL 42\n",		/* not a ci line */
		"ci acme gitlab https://g T_GL 42\nci acme gitlab https://h T_GL 1\n",	/* twice */
	};
	struct resume_config c;
	const struct resume_cred *cr = resume_config_find(&cfg, "acme", "gitlab");

	(void)state;
	assert_non_null(cr);
	assert_string_equal(cr->api, "https://gitlab.example.com/api/v4");	/* slash trimmed */
	assert_string_equal(cr->secret, "glpat-unit-secret");
	assert_null(resume_config_find(&cfg, "other", "gitlab"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		capture_begin();
		int rc = resume_config_parse(&c, bad[i], "ci.txt");
		capture_end();
		assert_int_equal(rc, -1);
		assert_int_equal(c.n, 0);
		assert_non_null(strstr(captured, "ci.txt:"));
		assert_null(strstr(captured, "glpat-unit-secret"));
	}
}

static unsigned check_text(const char *tenant, const char *json, char *why)
{
	cJSON *t = cJSON_Parse(json);
	unsigned st = resume_check_target(&cfg, tenant, t, why, 200);

	cJSON_Delete(t);
	return st;
}

static void test_targets(void **state)
{
	char why[200];

	(void)state;
	assert_int_equal(check_text("acme", "{\"ci\":\"gitlab\",\"project\":\"42\",\"pipeline\":\"9\",\"job\":\"collect\"}", why), 0);
	assert_int_equal(check_text("acme", "{\"ci\":\"gitlab\",\"project\":\"acme/app\",\"pipeline\":\"9\",\"job\":\"c\"}", why), 0);
	assert_int_equal(check_text("acme", "{\"ci\":\"gitlab\",\"project\":\"43\",\"pipeline\":\"9\",\"job\":\"c\"}", why), 403);
	assert_int_equal(check_text("other", "{\"ci\":\"gitlab\",\"project\":\"42\",\"pipeline\":\"9\",\"job\":\"c\"}", why), 403);
	assert_non_null(strstr(why, "credential"));
	assert_int_equal(check_text("acme", "{\"ci\":\"gitlab\",\"project\":\"42\",\"pipeline\":\"9a\",\"job\":\"c\"}", why), 400);
	assert_int_equal(check_text("acme", "{\"ci\":\"gitlab\",\"project\":\"42\",\"pipeline\":\"9\"}", why), 400);
	assert_int_equal(check_text("acme", "{\"ci\":\"gitlab\",\"project\":\"4\\n2\",\"pipeline\":\"9\",\"job\":\"c\"}", why), 400);
	assert_int_equal(check_text("acme", "{\"ci\":\"jenkins\",\"job\":\"team/app\",\"build\":\"3\",\"input\":\"go\"}", why), 0);
	assert_int_equal(check_text("acme", "{\"ci\":\"jenkins\",\"job\":\"team/../x\",\"build\":\"3\",\"input\":\"go\"}", why), 400);
	assert_int_equal(check_text("acme", "{\"ci\":\"jenkins\",\"job\":\"team//x\",\"build\":\"3\",\"input\":\"go\"}", why), 400);
	assert_int_equal(check_text("acme", "{\"ci\":\"jenkins\",\"job\":\"team/app\",\"build\":\"3\",\"input\":\"a/b\"}", why), 400);
	assert_int_equal(check_text("acme", "{\"ci\":\"jenkins\",\"job\":\"ops/app\",\"build\":\"3\",\"input\":\"go\"}", why), 403);
	assert_int_equal(check_text("acme", "{\"ci\":\"circle\"}", why), 400);
	assert_int_equal(check_text("acme", "[1]", why), 400);
}

static void test_backoff_and_status(void **state)
{
	(void)state;
	assert_int_equal(resume_backoff(1), 1);
	assert_int_equal(resume_backoff(2), 2);
	assert_int_equal(resume_backoff(5), 16);
	assert_int_equal(resume_backoff(9), 256);
	assert_int_equal(resume_backoff(10), RESUME_BACKOFF_MAX);
	assert_int_equal(resume_backoff(1000), RESUME_BACKOFF_MAX);
	assert_int_equal(resume_status_result(200), RESUME_DONE);
	assert_int_equal(resume_status_result(204), RESUME_DONE);
	assert_int_equal(resume_status_result(0), RESUME_RETRY);
	assert_int_equal(resume_status_result(429), RESUME_RETRY);
	assert_int_equal(resume_status_result(503), RESUME_RETRY);
	assert_int_equal(resume_status_result(401), RESUME_FAILED);
	assert_int_equal(resume_status_result(404), RESUME_FAILED);
}

static enum resume_result run_ops(const char *target, enum req_state outcome, struct fake *f)
{
	struct resume_call c = { 0 };
	cJSON *t = cJSON_Parse(target);
	enum resume_result res;

	c.target = t;
	c.cred = resume_config_find(&cfg, "acme", cJSON_GetStringValue(cJSON_GetObjectItem(t, "ci")));
	c.outcome = outcome;
	c.http = fake_http;
	c.ud = f;
	res = c.cred->ci[0] == 'g' ? resume_gitlab.resume(&c) : resume_jenkins.resume(&c);
	cJSON_Delete(t);
	return res;
}

#define GL_TARGET "{\"ci\":\"gitlab\",\"project\":\"acme/app\",\"pipeline\":\"77\",\"job\":\"greenlight collect\"}"
#define GL_JOBS "[{\"id\":5,\"name\":\"gate\",\"status\":\"success\"}," \
		"{\"id\":6,\"name\":\"greenlight collect\",\"status\":\"manual\"}]"

static void test_gitlab(void **state)
{
	struct fake f = { .status = { 200, 200 }, .body = { GL_JOBS, "{}" } };

	(void)state;
	assert_int_equal(run_ops(GL_TARGET, REQ_REJECTED, &f), RESUME_DONE);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.method[0], "GET");
	assert_string_equal(f.url[0], "https://gitlab.example.com/api/v4/projects/acme%2Fapp/pipelines/77/jobs?per_page=100");
	assert_string_equal(f.hdr[0][0], "PRIVATE-TOKEN: glpat-unit-secret");
	assert_string_equal(f.method[1], "POST");
	assert_string_equal(f.url[1], "https://gitlab.example.com/api/v4/projects/acme%2Fapp/jobs/6/play");
	assert_string_equal(f.hdr[1][0], "PRIVATE-TOKEN: glpat-unit-secret");
	assert_string_equal(f.userpwd[1], "");

	f = (struct fake){ .status = { 503 } };
	assert_int_equal(run_ops(GL_TARGET, REQ_APPROVED, &f), RESUME_RETRY);
	f = (struct fake){ .status = { 200, 0 }, .body = { GL_JOBS } };
	assert_int_equal(run_ops(GL_TARGET, REQ_APPROVED, &f), RESUME_RETRY);	/* timeout */
	f = (struct fake){ .status = { 401 } };
	assert_int_equal(run_ops(GL_TARGET, REQ_APPROVED, &f), RESUME_FAILED);
	f = (struct fake){ .status = { 200 }, .body = { "[{\"id\":5,\"name\":\"gate\"}]" } };
	assert_int_equal(run_ops(GL_TARGET, REQ_APPROVED, &f), RESUME_FAILED);	/* no such job */
	assert_int_equal(f.n, 1);
	f = (struct fake){ .status = { 200 }, .body = { "[{\"id\":6,\"name\":\"greenlight collect\",\"status\":\"running\"}]" } };
	assert_int_equal(run_ops(GL_TARGET, REQ_APPROVED, &f), RESUME_DONE);	/* played already */
	assert_int_equal(f.n, 1);
	f = (struct fake){ .status = { 200 }, .body = { "not json" } };
	assert_int_equal(run_ops(GL_TARGET, REQ_APPROVED, &f), RESUME_FAILED);
}

#define JK_TARGET(out) "{\"ci\":\"jenkins\",\"job\":\"team/my app\",\"build\":\"17\",\"input\":\"greenlight\"}"

static void test_jenkins(void **state)
{
	struct fake f = { .status = { 200, 200 },
			  .body = { "{\"crumb\":\"abc\",\"crumbRequestField\":\"Jenkins-Crumb\"}" } };

	(void)state;
	assert_int_equal(run_ops(JK_TARGET(), REQ_APPROVED, &f), RESUME_DONE);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.url[0], "http://127.0.0.1:8081/jenkins/crumbIssuer/api/json");
	assert_string_equal(f.url[1], "http://127.0.0.1:8081/jenkins/job/team/job/my%20app/17/input/Greenlight/proceedEmpty");
	assert_string_equal(f.method[1], "POST");
	assert_string_equal(f.hdr[1][0], "Jenkins-Crumb: abc");
	assert_string_equal(f.userpwd[0], "relay:jenkins-api-token");
	assert_string_equal(f.userpwd[1], "relay:jenkins-api-token");

	for (enum req_state st = REQ_REJECTED; st <= REQ_EXPIRED; st++) {
		f = (struct fake){ .status = { 404, 200 } };	/* no crumb issuer */
		assert_int_equal(run_ops(JK_TARGET(), st, &f), RESUME_DONE);
		assert_string_equal(f.url[1], "http://127.0.0.1:8081/jenkins/job/team/job/my%20app/17/input/Greenlight/abort");
		assert_string_equal(f.hdr[1][0], "");
	}
	f = (struct fake){ .status = { 200 }, .body = { "{\"crumb\":\"a\\r\\nX: y\",\"crumbRequestField\":\"C\"}" } };
	assert_int_equal(run_ops(JK_TARGET(), REQ_APPROVED, &f), RESUME_FAILED);	/* header injection */
	assert_int_equal(f.n, 1);
	f = (struct fake){ .status = { 404, 502 } };
	assert_int_equal(run_ops(JK_TARGET(), REQ_APPROVED, &f), RESUME_RETRY);
}

/* ---- the outbox and the sweep, on a real database ---- */
struct db {
	char dir[64], path[128];
	struct store *s;
	char id[33], tok[TOKEN_SIZE];
};

static void new_request(struct db *d, const char *key, time_t deadline)
{
	struct store_recipient r = { "a@example.com", "eng", "" };
	struct store_team t = { "eng", 1 };
	struct store_new_request nr = { 0 };
	struct store_request out;
	int created;

	assert_int_equal(token_new(d->tok), 0);
	assert_int_equal(token_hash(r.token_hash, d->tok), 0);
	nr.key = key;
	nr.gate = "g";
	nr.facts_json = "{}";
	nr.tenant = "acme";
	nr.created = T0;
	nr.deadline = deadline;
	nr.teams = &t;
	nr.nteams = 1;
	nr.recipients = &r;
	nr.nrecipients = 1;
	assert_int_equal(store_request_put(d->s, &nr, &out, &created), STORE_OK);
	strcpy(d->id, out.id);
	store_request_release(&out);
}

static void db_open(struct db *d)
{
	strcpy(d->dir, "/tmp/gl-test-resume-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->path, sizeof(d->path), "%s/relay.db", d->dir);
	d->s = store_open(d->path);
	assert_non_null(d->s);
}

static void db_remove(struct db *d)
{
	char cmd[160];

	store_close(d->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	assert_int_equal(system(cmd), 0);
}

static void approve(struct db *d, time_t at)
{
	struct store_review rv;

	assert_int_equal(store_review_get(d->s, d->tok, at, &rv), STORE_OK);
	assert_int_equal(store_decide(d->s, d->tok, rv.nonce, 1, "", "127.0.0.1", "t", at), STORE_OK);
	store_review_release(&rv);
}

static void test_outbox(void **state)
{
	struct db d = { 0 };
	struct store *s2;
	struct fake f = { .status = { 200, 503, 200, 200 }, .body = { GL_JOBS, NULL, GL_JOBS, "{}" } };
	char st[16];
	int attempts;

	(void)state;
	db_open(&d);
	s2 = store_open(d.path);
	new_request(&d, "k1", T0 + 3600);
	assert_int_equal(store_resume_add(d.s, d.id, "acme", "gitlab", GL_TARGET, NULL, T0), STORE_OK);
	assert_int_equal(store_resume_add(d.s, d.id, "acme", "gitlab", GL_TARGET, NULL, T0), STORE_OK);
	/* pending: nothing due */
	assert_int_equal(relay_resume_sweep(d.s, &cfg, NULL, fake_http, &f, T0 + 1), 0);
	assert_int_equal(f.n, 0);
	approve(&d, T0 + 2);
	/* 503 on the play: waiting again, next try a second later */
	capture_begin();
	assert_int_equal(relay_resume_sweep(d.s, &cfg, NULL, fake_http, &f, T0 + 3), 1);
	capture_end();
	assert_non_null(strstr(captured, "retrying in 1s"));
	assert_int_equal(store_resume_state(d.s, d.id, st, &attempts), STORE_OK);
	assert_string_equal(st, "waiting");
	assert_int_equal(attempts, 1);
	assert_int_equal(relay_resume_sweep(s2, &cfg, NULL, fake_http, &f, T0 + 3), 0);	/* not yet */
	assert_int_equal(f.n, 2);
	capture_begin();
	assert_int_equal(relay_resume_sweep(s2, &cfg, NULL, fake_http, &f, T0 + 4), 1);	/* another connection */
	capture_end();
	assert_non_null(strstr(captured, "(gitlab, approved)"));
	assert_null(strstr(captured, "glpat-unit-secret"));
	assert_int_equal(f.n, 4);
	assert_int_equal(store_resume_state(d.s, d.id, st, &attempts), STORE_OK);
	assert_string_equal(st, "done");
	assert_int_equal(relay_resume_sweep(d.s, &cfg, NULL, fake_http, &f, T0 + 100), 0);	/* once */
	assert_int_equal(store_resume_add(d.s, d.id, "acme", "gitlab", GL_TARGET, NULL, T0), STORE_OK);
	assert_int_equal(relay_resume_sweep(d.s, &cfg, NULL, fake_http, &f, T0 + 100), 0);	/* still once */

	/* a claim is taken once: the second connection finds it gone */
	new_request(&d, "k2", T0 + 10);
	assert_int_equal(store_resume_add(d.s, d.id, "acme", "jenkins", JK_TARGET(), NULL, T0), STORE_OK);
	assert_int_equal(store_settle_expired(d.s, T0 + 10, NULL), STORE_OK);
	assert_int_equal(store_resume_claim(d.s, d.id, REQ_EXPIRED, T0 + 11), 1);
	assert_int_equal(store_resume_claim(s2, d.id, REQ_EXPIRED, T0 + 11), 0);
	assert_int_equal(relay_resume_sweep(s2, &cfg, NULL, fake_http, &f, T0 + 12), 0);
	assert_int_equal(store_resume_state(d.s, d.id, st, &attempts), STORE_OK);
	assert_string_equal(st, "calling");	/* a relay killed here never calls again */

	/* retention deletes a resume with its request */
	assert_int_equal(store_prune(d.s, T0 + 1000, 100, NULL), STORE_OK);
	assert_int_equal(store_resume_state(d.s, d.id, st, &attempts), STORE_NOT_FOUND);
	store_close(s2);
	db_remove(&d);
}

/* A tenant's CI is called by one worker at a time: a resume whose lane
 * ("tenant ci") another worker holds is left waiting, untouched, and a
 * resume of another lane goes on; a sweep gives back every lane it took. */
static void test_lanes(void **state)
{
	struct db d = { 0 };
	struct resume_lanes lanes = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct fake f = { .status = { 200, 200, 200, 200 },
			  .body = { "{\"crumb\":\"abc\",\"crumbRequestField\":\"Jenkins-Crumb\"}",
				    NULL, GL_JOBS, "{}" } };
	char gl_id[33], st[16];
	int attempts;

	(void)state;
	db_open(&d);
	new_request(&d, "gl", T0 + 3600);
	strcpy(gl_id, d.id);
	assert_int_equal(store_resume_add(d.s, d.id, "acme", "gitlab", GL_TARGET, NULL, T0), STORE_OK);
	approve(&d, T0 + 1);
	new_request(&d, "jk", T0 + 3600);
	assert_int_equal(store_resume_add(d.s, d.id, "acme", "jenkins", JK_TARGET(), NULL, T0), STORE_OK);
	approve(&d, T0 + 1);

	strcpy(lanes.busy[RESUME_WORKERS - 1], "acme gitlab");	/* another worker calls GitLab for acme */
	capture_begin();
	assert_int_equal(relay_resume_sweep(d.s, &cfg, &lanes, fake_http, &f, T0 + 2), 1);
	capture_end();
	assert_int_equal(f.n, 2);			/* crumb, proceed: Jenkins only */
	assert_non_null(strstr(f.url[1], "/input/Greenlight/proceedEmpty"));
	assert_int_equal(store_resume_state(d.s, d.id, st, &attempts), STORE_OK);
	assert_string_equal(st, "done");
	assert_int_equal(store_resume_state(d.s, gl_id, st, &attempts), STORE_OK);
	assert_string_equal(st, "waiting");
	assert_int_equal(attempts, 0);
	assert_string_equal(lanes.busy[RESUME_WORKERS - 1], "acme gitlab");
	for (int i = 0; i < RESUME_WORKERS; i++)
		if (i != RESUME_WORKERS - 1)
			assert_string_equal(lanes.busy[i], "");

	lanes.busy[RESUME_WORKERS - 1][0] = '\0';			/* that call ended */
	capture_begin();
	assert_int_equal(relay_resume_sweep(d.s, &cfg, &lanes, fake_http, &f, T0 + 3), 1);
	capture_end();
	assert_int_equal(f.n, 4);
	assert_int_equal(store_resume_state(d.s, gl_id, st, &attempts), STORE_OK);
	assert_string_equal(st, "done");
	for (int i = 0; i < RESUME_WORKERS; i++)
		assert_string_equal(lanes.busy[i], "");
	db_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_backoff_and_status),
		cmocka_unit_test(test_gitlab),
		cmocka_unit_test(test_jenkins),
		cmocka_unit_test(test_outbox),
		cmocka_unit_test(test_lanes),
	};

	return cmocka_run_group_tests(tests, load_cfg, free_cfg);
}
