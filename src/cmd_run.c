/* cmd_run.c - `greenlight run`: evaluate, notify, wait for a decision.
 *
 * pass and fail finish at once (0, 1).  A review creates (or re-attaches
 * to) a durable request keyed by the commit, the gate and the evidence
 * (evidence.h), serves the
 * review page (listen mode), emails each reviewer a personal link, and
 * waits until the request is approved (0), rejected (1) or expires (3).
 * Mail that cannot be delivered after retries ends the run with 4.  SIGINT
 * or SIGTERM end the wait cleanly; the request stays pending (5) and a
 * re-run re-attaches without mailing again.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "ci.h"
#include "backend.h"
#include "chat.h"
#include "cmd.h"
#include "evaluate.h"
#include "evidence.h"
#include "gitinfo.h"
#include "notify.h"
#include "remind.h"
#include "report.h"
#include "review.h"
#include "settings.h"
#include "store.h"
#include "token.h"
#include "util.h"

struct run {
	struct settings set;
	struct eval_opts eo;
	const char *output;
	const char *junit;
	int resend;
	int detach;		/* register and mail, then exit 5 */
	const char *resume;	/* --resume: the collect job / input step the
				 * relay resumes when the request is settled */
	int collect;		/* never mail: another run did (--collect) */
	struct evaluation e;
	struct gitinfo git;
	struct backend be;
	struct store_request req;
	struct notify_recipient *rcpt;
	size_t nrcpt;
	char *public_url;
	struct ci_info ci;
	struct evidence_key key;
	char not_approvers[STORE_MAX_AUTHORS + 1];
	struct quorum_team *qteams;	/* the gate's quorum, for the backend */
	struct review rv;		/* what reviewers are told */
	struct chat *chat;		/* chat webhooks being posted to */
	struct remind *remind;		/* reminders, escalation, follow-ups */
	int created;			/* this run created the request */
	char *resume_json;		/* the registration's "resume" target */
};

static int wake_fd[2] = { -1, -1 };
static volatile sig_atomic_t interrupted;

static void wake(void)
{
	int saved = errno;
	ssize_t n = write(wake_fd[1], "x", 1);

	(void)n;
	errno = saved;
}

static void on_signal(int sig)
{
	interrupted = sig;
	wake();
}

void usage_run(FILE *out)
{
	fputs("usage: greenlight run [-g GATE] [-r RESULTS|-] [-o FILE] [options]\n"
	      "\n"
	      "Evaluate the gate.  If rules route the release to teams, email each\n"
	      "member a personal review link, serve the review page and wait for the\n"
	      "decision.\n"
	      "\n"
	      "  -g, --gate FILE             gate file (default greenlight.json)\n"
	      "  -r, --results FILE|-        results JSON (default: the gate's \"results\")\n"
	      "  -o, --output FILE           write the decision record (decision.json)\n"
	      "      --junit FILE            write a JUnit XML report ($GREENLIGHT_JUNIT)\n"
	      "      --max-results-bytes N   refuse larger results (default 64M)\n"
	      "      --resend                mail new links even if the request exists\n"
	      "      --detach                relay or mail mode: register and mail, then exit 5;\n"
	      "                              a later run collects the decision\n"
	      "      --resume NAME           relay mode with --detach: the relay resumes this\n"
	      "                              pipeline when the request is settled: GitLab\n"
	      "                              plays the manual job NAME, Jenkins submits or\n"
	      "                              aborts the input step with id NAME, GitHub\n"
	      "                              reviews environment NAME's protection rule\n"
	      "      --collect               relay or mail mode: wait for the decision on a\n"
	      "                              request another run mailed; never mails (mail\n"
	      "                              mode: works on a fresh runner with the secret)\n"
	      "  -h, --help                  show this help\n"
	      "Settings (flag > GREENLIGHT_* variable > gate file > default):\n"
	      "      --smtp URL              notify.smtp       smtp://localhost:587\n"
	      "      --smtp-tls MODE         notify.tls        starttls (or none)\n"
	      "      --from ADDR             notify.from       greenlight@localhost\n"
	      "      --smtp-user-env NAME    notify.username_env  GREENLIGHT_SMTP_USER\n"
	      "      --smtp-password-env NAME notify.password_env GREENLIGHT_SMTP_PASSWORD\n"
	      "      --smtp-ca-file FILE     notify.ca_file    system store\n"
	      "      --send-timeout DUR      notify.send_timeout 2m\n"
	      "      --listen ADDR           decision.listen   127.0.0.1:8080\n"
	      "      --public-url URL        decision.public_url http://<listen>\n"
	      "      --timeout DUR           decision.timeout  24h\n"
	      "      --on-timeout fail       decision.on_timeout fail (the only value)\n"
	      "      --progress DUR          decision.progress 60s\n"
	      "      --state FILE            decision.state    .greenlight/state.db\n"
	      "      --allow-self-approval B decision.allow_self_approval false\n"
	      "      --plus-tags MODE        decision.plus_tags ignore (name+tag@d is\n"
	      "                              name@d for self-approval) or keep\n"
	      "      --gate-secret-env NAME  decision.secret_env GREENLIGHT_GATE_SECRET\n"
	      "                              (review tokens any run can verify)\n"
	      "      --via MODE              decision.via      listen (or relay, mail)\n"
	      "      --relay URL[,URL]       decision.relay    the relay's https:// URL, or up\n"
	      "                              to 8 relays of one database (failover)\n"
	      "      --relay-token-env NAME  decision.relay_token_env GREENLIGHT_RELAY_TOKEN\n"
	      "      --allow-insecure-relay B decision.allow_insecure_relay false\n"
	      "      --imap URL              decision.imap     imaps://host/INBOX (mail mode; or\n"
	      "                              replies beside the link in listen, relay)\n"
	      "      --imap-tls MODE         decision.imap_tls starttls (or none; imap://)\n"
	      "      --imap-user-env NAME    decision.imap_user_env GREENLIGHT_IMAP_USER\n"
	      "      --imap-password-env NAME decision.imap_password_env GREENLIGHT_IMAP_PASSWORD\n"
	      "      --imap-ca-file FILE     decision.imap_ca_file system store\n"
	      "      --poll DUR              decision.poll     5s\n"
	      "      --reply-to ADDR         decision.reply_to the mailbox's address\n"
	      "      --trusted-authserv-id ID decision.trusted_authserv_id (required)\n"
	      "      --require-auth-results B decision.require_auth_results true\n"
	      "      --processed MODE        decision.processed flag (or move:FOLDER)\n"
	      "      --run-url URL           link to the CI run, shown to reviewers\n"
	      "                              (default: detected from the CI's variables)\n"
	      "Variables: GREENLIGHT_SMTP, GREENLIGHT_SMTP_TLS, GREENLIGHT_FROM, ...\n"
	      "(see docs/run.md for the full table).\n"
	      "\n"
	      "Exit: 0 passed or approved, 1 failed or rejected, 2 bad input,\n"
	      "      3 timed out, 4 mail or storage failed, 5 interrupted while\n"
	      "      waiting (the request stays pending).\n", out);
}

/* An environment variable that stands for a flag: unset, "" or a false
 * value leaves it off; a value that is neither is refused rather than
 * read as off (a job meant to detach would hold its runner). */
static int env_switch(const char *name, const char *flag, int *on)
{
	const char *v = getenv(name);

	if (v && parse_bool(v, on))
		return error("%s='%.40s' (acts as %s) is not true or false; set it"
			     " to 1, true or yes, or to 0, false or no, or unset it",
			     name, v, flag);
	return 0;
}

static int parse_args(struct run *r, int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_MAX, OPT_RESEND, OPT_DETACH, OPT_RESUME, OPT_COLLECT,
	       OPT_JUNIT, OPT_SETTING };
	struct option longopts[11 + SET_COUNT + 1];
	int n = 0, c, idx;

	longopts[n++] = (struct option){ "gate", required_argument, NULL, 'g' };
	longopts[n++] = (struct option){ "results", required_argument, NULL, 'r' };
	longopts[n++] = (struct option){ "output", required_argument, NULL, 'o' };
	longopts[n++] = (struct option){ "max-results-bytes", required_argument, NULL, OPT_MAX };
	longopts[n++] = (struct option){ "resend", no_argument, NULL, OPT_RESEND };
	longopts[n++] = (struct option){ "detach", no_argument, NULL, OPT_DETACH };
	longopts[n++] = (struct option){ "resume", required_argument, NULL, OPT_RESUME };
	longopts[n++] = (struct option){ "collect", no_argument, NULL, OPT_COLLECT };
	longopts[n++] = (struct option){ "junit", required_argument, NULL, OPT_JUNIT };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	for (int i = 0; i < SET_COUNT; i++)
		longopts[n++] = (struct option){ setting_option(i), required_argument, NULL, OPT_SETTING + i };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	r->output = getenv("GREENLIGHT_OUTPUT");
	if (env_switch("GREENLIGHT_DETACH", "--detach", &r->detach) ||
	    env_switch("GREENLIGHT_COLLECT", "--collect", &r->collect))
		return -1;
	r->resume = getenv("GREENLIGHT_RESUME") && *getenv("GREENLIGHT_RESUME") ?
		    getenv("GREENLIGHT_RESUME") : NULL;
	while ((c = getopt_long(argc, argv, "g:r:o:h", longopts, &idx)) != -1) {
		if (c >= OPT_SETTING && c < OPT_SETTING + SET_COUNT) {
			settings_set_flag(&r->set, (enum setting_id)(c - OPT_SETTING), optarg);
			continue;
		}
		switch (c) {
		case 'g': r->eo.gate = optarg; break;
		case 'r': r->eo.results = optarg; break;
		case 'o': r->output = optarg; break;
		case OPT_RESEND: r->resend = 1; break;
		case OPT_DETACH: r->detach = 1; break;
		case OPT_RESUME: r->resume = optarg; break;
		case OPT_COLLECT: r->collect = 1; break;
		case OPT_JUNIT: r->junit = optarg; break;
		case OPT_MAX:
			if (eval_opts_max_results(&r->eo, optarg))
				return -1;
			break;
		case 'h': usage_run(stdout); return 1;
		default: usage_run(stderr); return -1;
		}
	}
	if (optind < argc)
		return error("run: unexpected argument '%s'; see 'greenlight help run'", argv[optind]);
	return 0;
}

/* The request key (evidence.h): repository, commit, gate name, and digests
 * of the gate's rules and teams and of the evidence. */
static int request_key(struct run *r)
{
	char cwd[4096];
	const char *repo = r->git.repo;

	if (!repo)
		repo = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	if (evidence_key(&r->key, &r->e.gate, &r->e.verdict, repo, r->git.sha))
		return error("cannot compute the request key: hashing failed");
	return 0;
}

static const char *repository(const struct run *r)
{
	return r->git.repo && strlen(r->git.repo) <= STORE_MAX_REPO ?
	       r->git.repo : NULL;
}

/* The review every reviewer is shown (src/review.h), built once per
 * request: the mail renders it, the store and the relay keep it as the
 * facts of docs/review-page.md. */
static void build_review(struct run *r, time_t deadline)
{
	struct review_source src = { 0 };

	src.context = r->e.context;
	src.repository = r->ci.repository ? r->ci.repository : r->git.repo;
	if (r->git.found) {
		src.sha = r->git.sha;
		src.author = r->git.author_name;
		src.author_email = r->git.author_email;
		src.subject = r->git.subject;
		src.branch = r->git.branch;
	}
	src.commit_url_base = r->ci.commit_url_base;
	src.run_url = *r->set.value[SET_RUN_URL] ? r->set.value[SET_RUN_URL] : NULL;
	src.started_by = r->ci.actors;
	src.deadline = deadline;
	review_release(&r->rv);
	review_build(&r->rv, &r->e.gate, &r->e.verdict, &src);
}

/* The review as the JSON text the store and the relay keep (a detached
 * request also asks the relay for its reminders and follow-ups). */
static char *facts_json(const struct run *r)
{
	cJSON *o = review_to_json(&r->rv);

	if (r->detach)
		cJSON_AddItemToObject(o, "notifications", remind_relay_config(&r->e.gate, &r->rv));
	char *s = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	return s;
}

/* A fresh review token: derived from the gate secret when there is one,
 * so any later run of this gate can check it without this run's state. */
static int new_token(const struct run *r, struct notify_recipient *x)
{
	if (!r->set.secret.len)
		return token_new(x->token);
	return token_derive(x->token, &r->set.secret, r->key.key, x->team,
			    x->email);
}

/* One recipient per (team, address), each with a fresh token. */
static int make_recipients(struct run *r)
{
	const struct verdict *v = &r->e.verdict;
	size_t n = 0;

	for (size_t i = 0; i < v->nteams; i++)
		n += gate_team(&r->e.gate, v->teams[i])->nemail;
	r->rcpt = xcalloc(n, sizeof(*r->rcpt));
	for (size_t i = 0; i < v->nteams; i++) {
		const struct team *t = gate_team(&r->e.gate, v->teams[i]);

		for (size_t k = 0; k < t->nemail; k++) {
			struct notify_recipient *x = &r->rcpt[r->nrcpt++];

			x->team = t->name;
			x->email = t->email[k];
			if (new_token(r, x) || token_hash(x->token_hash, x->token))
				return error("cannot generate a review token: the system random generator failed");
		}
	}
	return 0;
}

static struct store_recipient *store_recipients(const struct run *r)
{
	struct store_recipient *sr = xcalloc(r->nrcpt, sizeof(*sr));

	for (size_t i = 0; i < r->nrcpt; i++) {
		sr[i].email = r->rcpt[i].email;
		sr[i].team = r->rcpt[i].team;
		memcpy(sr[i].token_hash, r->rcpt[i].token_hash, sizeof(sr[i].token_hash));
	}
	return sr;
}

/* Decide what an existing request needs: a pending one whose reviewers
 * were never all mailed (or --resend) gets new links; an expired one is
 * reopened with a new deadline only on --resend.  *mail says whether to
 * send; r->req is re-read after any change. */
static int renew(struct run *r, int created, const struct store_recipient *sr,
		 time_t deadline, int *mail)
{
	char id[sizeof(r->req.id)];

	*mail = created;
	if (created)
		return 0;
	memcpy(id, r->req.id, sizeof(id));
	if (r->req.state == REQ_PENDING && (r->resend || !r->req.notified)) {
		*mail = 1;
		return r->be.ops->rekey(&r->be, id, sr, r->nrcpt, &r->req);
	}
	if (r->req.state == REQ_EXPIRED && r->resend) {
		*mail = 1;
		return r->be.ops->reopen(&r->be, id, deadline, sr, r->nrcpt, &r->req);
	}
	return 0;
}

/* --collect: another run mailed the request; this one never mails.  A
 * request the relay did not have was never mailed (nothing to collect);
 * in mail mode a fresh state file has no copy of it, and the new copy is
 * marked mailed (a later plain run must not mail again). */
static int collect_checks(struct run *r, int *mail)
{
	*mail = 0;
	if (!r->created)
		return 0;
	if (!strcmp(r->set.value[SET_VIA], "relay"))
		return error("--collect: the relay had no request for this evidence, so none was mailed (did the detaching run see other results or another commit?); request %s is registered but nobody was asked: run without --collect to mail it",
			     r->req.id);
	if (r->be.ops->notified(&r->be, r->req.id))
		return -1;
	notice("collecting request %s (mailed by another run): its replies are read from %s",
	       r->req.id, r->set.value[SET_IMAP]);
	return 0;
}

/* Who may not approve: the commit author and the person who started the
 * CI run (when the CI says their address), comma-separated, or NULL. */
static const char *not_approvers(struct run *r)
{
	char *out = r->not_approvers;
	size_t n = sizeof(r->not_approvers);
	const char *a = r->git.author_email, *b = r->ci.actor_email;

	if (a && strlen(a) > STORE_MAX_EMAIL)
		a = NULL;
	if (b && (strlen(b) > STORE_MAX_EMAIL || strchr(b, ',')))
		b = NULL;
	if (a && b && strcasecmp(a, b))
		snprintf(out, n, "%s,%s", a, b);
	else if (a || b)
		snprintf(out, n, "%s", a ? a : b);
	else
		return NULL;
	return out;
}

/* One line on why this run made a new request when an earlier one for the
 * same commit and gate exists: what changed in the evidence. */
static void say_why_new(const struct run *r, const struct store_request *prev)
{
	cJSON *before = cJSON_Parse(prev->facts_json ? prev->facts_json : "{}");
	cJSON *now = review_to_json(&r->rv);
	struct buf b = BUF_INIT(4096);
	char when[32];

	format_rfc3339(prev->created, when, sizeof(when));
	evidence_diff(&b, before, now);
	notice("results changed since request %s of %s: %s; this is a new"
	       " request (%s)", prev->id, when, b.data ? b.data : "", r->req.id);
	buf_release(&b);
	cJSON_Delete(before);
	cJSON_Delete(now);
}

/* In mail mode with the gate secret, the request id (and so the request
 * emails' Message-IDs, which replies are searched by) is derived from the
 * secret and the key, so a run on another machine without this run's
 * state names it the same way (--collect).  Else "" (random). */
static int request_id(const struct run *r, char id[33])
{
	id[0] = '\0';
	if (strcmp(r->set.value[SET_VIA], "mail") || !r->set.secret.len)
		return 0;
	if (token_request_id(id, &r->set.secret, r->key.key))
		return error("cannot derive the request id: hashing failed");
	return 0;
}

/* Create the request or find the one this commit already has.  *mail says
 * whether reviewers must be mailed (new request, or --resend). */
static int open_request(struct run *r, int *mail)
{
	const struct verdict *v = &r->e.verdict;
	struct store_team *teams = xcalloc(v->nteams, sizeof(*teams));
	struct store_recipient *sr = NULL;
	struct store_new_request nr = { 0 };
	struct store_request prev = { 0 };
	time_t now = time(NULL);
	char nr_id[33] = "";
	int ret = -1;

	if (make_recipients(r))
		goto out;
	for (size_t i = 0; i < v->nteams; i++) {
		teams[i].name = v->teams[i];
		teams[i].approvals = gate_team(&r->e.gate, v->teams[i])->approvals;
	}
	sr = store_recipients(r);
	if (request_id(r, nr_id))
		goto out;
	nr.id = *nr_id ? nr_id : NULL;
	nr.key = r->key.key;
	nr.subject = r->key.subject;
	nr.repository = repository(r);
	nr.gate = r->e.gate.name;
	nr.author_email = r->be.policy.not_approvers;
	nr.allow_self_approval = r->set.allow_self;
	nr.keep_tags = r->set.keep_tags;
	nr.created = now;
	nr.deadline = now + (time_t)r->set.timeout;
	build_review(r, nr.deadline);
	nr.facts_json = facts_json(r);
	nr.teams = teams;
	nr.nteams = v->nteams;
	nr.recipients = sr;
	nr.nrecipients = r->nrcpt;
	nr.resume_json = r->resume_json;
	if (r->be.ops->put(&r->be, &nr, &r->req, &r->created, &prev))
		goto out;
	if (r->created && *prev.id)
		say_why_new(r, &prev);
	if (r->collect)
		ret = collect_checks(r, mail);
	else
		ret = renew(r, r->created, sr, nr.deadline, mail);
out:
	store_request_release(&prev);
	free((char *)nr.facts_json);
	free(teams);
	free(sr);
	return ret;
}

static void trim_slashes(char *url)
{
	size_t n = strlen(url);

	while (n && url[n - 1] == '/')
		url[--n] = '\0';
}

static int install_signals(void)
{
	struct sigaction sa;

	if (pipe(wake_fd))
		return error("cannot create a pipe: %s", strerror(errno));
	for (int i = 0; i < 2; i++)
		fcntl(wake_fd[i], F_SETFL, fcntl(wake_fd[i], F_GETFL) | O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Distinct approvers of `team` so far. */
/* Distinct approvers of `team` so far, as the store (or relay) counted. */
static int approvals_of(const struct store_request *req, const char *team)
{
	for (size_t i = 0; i < req->nteams; i++)
		if (!strcmp(req->teams[i].name, team))
			return req->teams[i].approved;
	return 0;
}

static void progress(const struct run *r, time_t now)
{
	const struct verdict *v = &r->e.verdict;
	long left = (long)(r->req.deadline - now);

	fprintf(stderr, "greenlight: waiting for a decision on request %s:", r->req.id);
	for (size_t i = 0; i < v->nteams; i++) {
		const struct team *t = gate_team(&r->e.gate, v->teams[i]);

		fprintf(stderr, "%s %s %d/%d approvals (asked", i ? ";" : "", t->name,
			approvals_of(&r->req, t->name), t->approvals);
		for (size_t k = 0; k < t->nemail; k++)
			fprintf(stderr, " %s", t->email[k]);
		fputc(')', stderr);
	}
	fprintf(stderr, "; %ldh%02ldm%02lds left\n", left / 3600, left / 60 % 60, left % 60);
}

/* Wait until the request is decided or expires, or a signal arrives. */
static int wait_decision(struct run *r)
{
	time_t now, next_progress = time(NULL);
	char id[sizeof(r->req.id)];

	memcpy(id, r->req.id, sizeof(id));
	while (r->req.state == REQ_PENDING && !interrupted) {
		time_t until;

		now = time(NULL);
		if (now >= next_progress) {
			progress(r, now);
			next_progress = now + (time_t)r->set.progress;
		}
		until = next_progress < r->req.deadline ? next_progress : r->req.deadline;
		if (r->remind) {
			time_t due = remind_tick(r->remind, &r->req, now);

			if (due && due < until)
				until = due;
			if (r->req.state != REQ_PENDING)
				break;
		}
		if (r->be.ops->wait(&r->be, id, until, &r->req))
			return interrupted ? 0 : -1;
	}
	return 0;
}

static const char *run_outcome(const struct run *r, int *code)
{
	switch (r->req.state) {
	case REQ_APPROVED: *code = GL_EXIT_PASS; return "approved";
	case REQ_REJECTED: *code = GL_EXIT_FAIL; return "rejected";
	case REQ_EXPIRED: *code = GL_EXIT_TIMEOUT; return "timed_out";
	default: *code = GL_EXIT_REVIEW; return "pending";
	}
}

static cJSON *request_json(const struct store_request *req)
{
	cJSON *o = cJSON_CreateObject(), *list, *approvers;
	char when[32];

	cJSON_AddStringToObject(o, "id", req->id);
	cJSON_AddStringToObject(o, "state", req_state_name(req->state));
	format_rfc3339(req->created, when, sizeof(when));
	cJSON_AddStringToObject(o, "created", when);
	format_rfc3339(req->deadline, when, sizeof(when));
	cJSON_AddStringToObject(o, "deadline", when);
	if (req->decided_at) {
		format_rfc3339(req->decided_at, when, sizeof(when));
		cJSON_AddStringToObject(o, "decided_at", when);
	}
	list = cJSON_AddArrayToObject(o, "decisions");
	approvers = cJSON_CreateArray();
	for (size_t i = 0; i < req->ndecisions; i++) {
		const struct store_decision *d = &req->decisions[i];
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "email", d->email);
		cJSON_AddStringToObject(x, "team", d->team);
		cJSON_AddStringToObject(x, "decision", d->approve ? "approve" : "reject");
		cJSON_AddStringToObject(x, "reason", d->reason);
		format_rfc3339(d->at, when, sizeof(when));
		cJSON_AddStringToObject(x, "at", when);
		cJSON_AddStringToObject(x, "remote_addr", d->remote_addr);
		cJSON_AddStringToObject(x, "user_agent", d->user_agent);
		cJSON_AddItemToArray(list, x);
		if (d->approve)
			cJSON_AddItemToArray(approvers, cJSON_CreateString(d->email));
	}
	cJSON_AddItemToObject(o, "approvers", approvers);
	return o;
}

/* Print the table, the final line, and write the decision record. */
static int finish(struct run *r, int reviewed)
{
	struct report_baseline rb;
	const struct report_baseline *b = evaluation_baseline(&r->e, &rb);
	cJSON *rec = report_json(&r->e.gate, r->e.results_file, &r->e.verdict, time(NULL), b);
	int code = outcome_exit_code(r->e.verdict.outcome);
	char *text;

	report_text(stdout, &r->e.gate, r->e.results_file, &r->e.verdict, b);
	if (reviewed) {
		const char *what = run_outcome(r, &code);

		cJSON_ReplaceItemInObjectCaseSensitive(rec, "outcome", cJSON_CreateString(what));
		cJSON_ReplaceItemInObjectCaseSensitive(rec, "exit_code", cJSON_CreateNumber(code));
		cJSON_AddItemToObject(rec, "request", request_json(&r->req));
		printf("decision: %s (request %s)\n", what, r->req.id);
		for (size_t i = 0; i < r->req.ndecisions; i++)
			printf("  %s %s for %s%s%s\n", r->req.decisions[i].email,
			       r->req.decisions[i].approve ? "approved" : "rejected",
			       r->req.decisions[i].team, *r->req.decisions[i].reason ? ": " : "",
			       r->req.decisions[i].reason);
	}
	text = cJSON_Print(rec);
	if (r->output && *r->output && write_record(r->output, text))
		code = GL_EXIT_INFRA;
	if (code == GL_EXIT_PASS && r->e.gate.baseline.present &&
	    r->e.gate.baseline.record_on_pass &&
	    record_outcome(&r->e, reviewed ? "approved" : "pass", stdout))
		code = GL_EXIT_INFRA;
	if (ci_write_outputs(rec, r->output, r->junit))
		code = GL_EXIT_INFRA;
	if (reviewed && chat_decided(&r->chat, &r->req, code))
		code = GL_EXIT_INFRA;
	free(text);
	cJSON_Delete(rec);
	return code;
}

/* What the backend checks decisions with: this gate's key, its teams
 * and quorum, and who may not approve. */
static void set_trust(struct run *r)
{
	const struct verdict *v = &r->e.verdict;

	r->qteams = xcalloc(v->nteams ? v->nteams : 1, sizeof(*r->qteams));
	for (size_t i = 0; i < v->nteams; i++) {
		r->qteams[i].name = v->teams[i];
		r->qteams[i].approvals = gate_team(&r->e.gate, v->teams[i])->approvals;
	}
	r->be.set = &r->set;
	r->be.stop = &interrupted;
	r->be.wake_fd = wake_fd[0];
	r->be.wake = wake;
	r->be.key = r->key.key;
	r->be.collect = r->collect;
	r->be.teams = r->qteams;
	r->be.nteams = v->nteams;
	r->be.policy.not_approvers = not_approvers(r);
	r->be.policy.allow_self = r->set.allow_self;
	r->be.policy.keep_tags = r->set.keep_tags;
}

/* A relay request this run neither created nor re-linked, without the
 * gate secret: no decision on it could be verified, so waiting is pointless
 * and counting one would trust the relay. */
static int unverifiable(const struct run *r)
{
	if (strcmp(r->set.value[SET_VIA], "relay") || r->created ||
	    r->set.secret.len || r->req.state != REQ_PENDING)
		return 0;
	if (r->resend || !r->req.notified)
		return 0;	/* renew() gave it new links this run knows */
	return error("request %s was registered by an earlier run and no gate secret is set (%s): this run cannot verify its reviewers' decisions; set the same secret in every run, or re-run with --resend to mail new links",
		     r->req.id, r->set.value[SET_SECRET_ENV]);
}

/* Reminders, escalation and follow-ups for the request being waited on
 * (src/remind.h); without them the gate still waits. */
static void open_reminders(struct run *r, int mail)
{
	struct remind_ctx c = { 0 };

	c.g = &r->e.gate;
	c.rv = &r->rv;
	c.set = &r->set;
	c.key = r->key.key;
	c.request_id = r->req.id;
	c.public_url = r->public_url;
	c.not_approvers = r->be.policy.not_approvers;
	c.be = &r->be;
	c.rcpt = r->rcpt;
	c.nrcpt = r->nrcpt;
	c.escalate_only = !strcmp(r->set.value[SET_VIA], "relay") && !r->created && !mail;
	r->remind = remind_open(&c);
}

/* GitHub: NAME is the environment the deploy job waits for, protected by
 * the relay's App; the run and commit find the webhook's event. */
static int github_target(struct run *r)
{
	const char *repo = getenv("GITHUB_REPOSITORY"), *run = getenv("GITHUB_RUN_ID");
	const char *sha = getenv("GITHUB_SHA");
	cJSON *o;

	if (!repo || !*repo || !run || !*run || !sha || !*sha)
		return error("--resume: GITHUB_REPOSITORY, GITHUB_RUN_ID and GITHUB_SHA are not set; run this in a GitHub Actions job");
	if (strlen(r->resume) > 255 || strlen(repo) > 200 || strlen(run) > 20 || strlen(sha) > 64)
		return error("--resume: the environment name is at most 255 bytes");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ci", "github");
	cJSON_AddStringToObject(o, "repository", repo);
	cJSON_AddStringToObject(o, "run", run);
	cJSON_AddStringToObject(o, "sha", sha);
	cJSON_AddStringToObject(o, "environment", r->resume);
	r->resume_json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return 0;
}

/* --resume NAME: where this pipeline waits, from the CI's variables, as
 * the relay's "resume" target (docs/relay-protocol.md). */
static int resume_target(struct run *r)
{
	const char *ci = r->ci.provider, *a, *b, *why;
	cJSON *o;

	if (!r->detach || strcmp(r->set.value[SET_VIA], "relay"))
		return error("--resume needs --detach in relay mode (--via relay): the relay resumes the pipeline");
	if (!strcmp(ci, "gitlab")) {
		a = getenv("CI_PROJECT_ID");
		b = getenv("CI_PIPELINE_ID");
		why = "CI_PROJECT_ID and CI_PIPELINE_ID";
	} else if (!strcmp(ci, "jenkins")) {
		a = getenv("JOB_NAME");
		b = getenv("BUILD_NUMBER");
		why = "JOB_NAME and BUILD_NUMBER";
	} else if (!strcmp(ci, "github")) {
		return github_target(r);
	} else {
		return error("--resume works on GitHub, GitLab and Jenkins (this CI is %s)", ci);
	}
	if (!a || !*a || !b || !*b)
		return error("--resume: %s are not set; run this in a %s job", why, ci);
	if (strlen(r->resume) > 255 || strlen(a) > 255 || strlen(b) > 255)
		return error("--resume: the job name and the CI's ids are at most 255 bytes each");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ci", ci);
	cJSON_AddStringToObject(o, !strcmp(ci, "gitlab") ? "project" : "job", a);
	cJSON_AddStringToObject(o, !strcmp(ci, "gitlab") ? "pipeline" : "build", b);
	cJSON_AddStringToObject(o, !strcmp(ci, "gitlab") ? "job" : "input", r->resume);
	r->resume_json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return 0;
}

/* The review half: request, server, mail, wait. */
static int review(struct run *r)
{
	struct notify_request nr = { 0 };
	int mail = 0, code;

	if (settings_resolve(&r->set, &r->e.gate))
		return GL_EXIT_USAGE;
	if (r->detach && !strcmp(r->set.value[SET_VIA], "listen")) {
		error("--detach needs relay or mail mode (--via relay, --via mail): in listen mode nobody would serve the review page once the gate exits");
		return GL_EXIT_USAGE;
	}
	if (r->collect && (r->detach || !strcmp(r->set.value[SET_VIA], "listen"))) {
		error(r->detach ? "--collect and --detach exclude each other: one run mails and exits, a later one collects"
				: "--collect needs relay or mail mode (--via relay, --via mail): in listen mode the run that mailed serves the review page");
		return GL_EXIT_USAGE;
	}
	if (r->collect && !r->set.secret.len) {
		error("--collect needs the gate secret in %s (the same as the run that mailed): without it the reviewers' reply codes and links cannot be verified",
		      r->set.value[SET_SECRET_ENV]);
		return GL_EXIT_USAGE;
	}
	if (r->detach && !r->set.secret.len && !strcmp(r->set.value[SET_VIA], "relay")) {
		error("--detach needs the gate secret in %s (the same in every run): the run that collects the decision must be able to verify the reviewers' links; make one with: openssl rand -base64 48",
		      r->set.value[SET_SECRET_ENV]);
		return GL_EXIT_USAGE;
	}
	gitinfo_discover(&r->git, ".");
	ci_info_detect(&r->ci);		/* the CI knows the run and the branch */
	if (r->resume && resume_target(r))
		return GL_EXIT_USAGE;
	if (!*r->set.value[SET_RUN_URL] && r->ci.run_url) {
		r->set.value[SET_RUN_URL] = r->ci.run_url;
		r->set.origin[SET_RUN_URL] = r->ci.provider;
	}
	if (r->git.found && !r->git.branch && r->ci.branch)
		r->git.branch = xstrdup(r->ci.branch);	/* CI checkouts are detached */
	if (install_signals())
		return GL_EXIT_INFRA;
	if (request_key(r))
		return GL_EXIT_INFRA;
	set_trust(r);
	if (backend_open(&r->be) || open_request(r, &mail))
		return interrupted ? GL_EXIT_REVIEW : GL_EXIT_INFRA;
	if (unverifiable(r))
		return GL_EXIT_INFRA;
	if (r->req.state != REQ_PENDING)
		return finish(r, 1);
	if (r->be.ops->serve(&r->be, &r->public_url))
		return GL_EXIT_INFRA;
	trim_slashes(r->public_url);
	if (!r->detach)
		open_reminders(r, mail);	/* forks its mail helper: before any thread */
	if (mail) {
		r->rv.deadline = r->req.deadline;	/* a re-attached request keeps its own */
		nr.rv = &r->rv;
		nr.set = &r->set;
		nr.request_id = r->req.id;
		nr.public_url = r->public_url;
		nr.stop = &interrupted;
		nr.not_approvers = r->be.policy.not_approvers;
		if (*r->set.value[SET_IMAP])
			nr.reply_to = r->set.value[SET_REPLY_TO];	/* decide by reply */
		if (!strcmp(r->set.value[SET_VIA], "mail"))
			nr.public_url = NULL;	/* ... only */
		if (notify_send(&nr, r->rcpt, r->nrcpt)) {
			error("request %s is pending but not every team could be notified; fix mail and re-run: it mails again",
			      r->req.id);
			return GL_EXIT_INFRA;
		}
		if (r->be.ops->notified(&r->be, r->req.id))
			return GL_EXIT_INFRA;
		chat_announce(&r->chat, &r->e.gate, &r->rv, &interrupted);
	} else if (!r->collect) {
		fprintf(stderr, "greenlight: re-attached to pending request %s; no mail sent (use --resend to mail new links)\n",
			r->req.id);
	}
	if (r->detach) {
		if (!strcmp(r->set.value[SET_VIA], "mail") && r->set.secret.len)
			fprintf(stderr, "greenlight: request %s is pending; replies go to %s; run again with --collect (on any runner, with the same gate secret) to collect the decision\n",
				r->req.id, r->set.value[SET_IMAP]);
		else if (!strcmp(r->set.value[SET_VIA], "mail"))
			fprintf(stderr, "greenlight: request %s is pending; replies go to %s; run again (without --detach, with the same state file %s) to collect the decision, or set the gate secret (%s) to collect on another runner\n",
				r->req.id, r->set.value[SET_IMAP], r->set.value[SET_STATE], r->set.value[SET_SECRET_ENV]);
		else if (r->resume_json)
			fprintf(stderr, "greenlight: request %s is pending at %s; the relay resumes this pipeline (%s) when it is decided or expires\n",
				r->req.id, r->public_url, r->resume);
		else
			fprintf(stderr, "greenlight: request %s is pending at %s; run again (without --detach) to collect the decision\n",
				r->req.id, r->public_url);
		return finish(r, 1);
	}
	if (r->be.ops->start(&r->be))
		return GL_EXIT_INFRA;
	if (!strcmp(r->set.value[SET_VIA], "mail"))
		fprintf(stderr, "greenlight: polling %s every %us for replies (reply codes were mailed)\n",
			r->set.value[SET_IMAP], (unsigned)r->set.poll);
	else
		fprintf(stderr, "greenlight: review page at %s/r/<token> (links were mailed)%s%s%s\n", r->public_url,
			*r->set.value[SET_IMAP] ? "; replies are read from " : "", r->set.value[SET_IMAP],
			*r->set.value[SET_IMAP] ? " too" : "");
	if (wait_decision(r))
		return GL_EXIT_INFRA;
	if (interrupted)
		fprintf(stderr, "greenlight: interrupted by signal %d; request %s stays pending, re-run to re-attach\n",
			(int)interrupted, r->req.id);
	code = finish(r, 1);
	remind_followup(r->remind, &r->req, code);	/* after decision.json */
	return code;
}

static void run_release(struct run *r)
{
	chat_release(&r->chat);
	remind_close(r->remind);
	if (r->be.ops)
		r->be.ops->close(&r->be);
	store_request_release(&r->req);
	for (size_t i = 0; i < r->nrcpt; i++)
		OPENSSL_cleanse(r->rcpt[i].token, sizeof(r->rcpt[i].token));
	free(r->rcpt);
	free(r->public_url);
	free(r->resume_json);
	free(r->qteams);
	gitinfo_release(&r->git);
	ci_info_release(&r->ci);
	review_release(&r->rv);
	evaluation_release(&r->e);
	for (int i = 0; i < 2; i++)
		if (wake_fd[i] >= 0) {
			close(wake_fd[i]);
			wake_fd[i] = -1;
		}
}

int cmd_run(int argc, char **argv)
{
	struct run r;
	int code, rc;

	memset(&r, 0, sizeof(r));
	rc = parse_args(&r, argc, argv);
	if (rc)
		return rc > 0 ? GL_EXIT_PASS : GL_EXIT_USAGE;
	if (evaluate(&r.e, &r.eo))
		return GL_EXIT_USAGE;
	if (r.e.verdict.outcome == OUTCOME_REVIEW)
		code = review(&r);
	else
		code = finish(&r, 0);
	run_release(&r);
	return code;
}
