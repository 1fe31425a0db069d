/* gate.h - the gate file (greenlight.json) as a validated struct.
 *
 * gate_load() reads, strictly validates and compiles a gate file.  The cJSON
 * tree and the file text stay inside struct gate (for positions in later
 * messages); everything else is plain C data.  Every problem is reported as
 * "file:line:col: what is wrong; what would be valid".
 */
#ifndef GREENLIGHT_GATE_H
#define GREENLIGHT_GATE_H

#include <stdint.h>
#include "baseline.h"
#include "buf.h"
#include "choice.h"
#include "json.h"

#define GATE_MAX_BYTES (1024 * 1024)	/* a gate file is configuration */
#define GATE_MAX_TEAMS 64
#define GATE_MAX_EMAILS 100		/* addresses per team */
#define GATE_NAME_MAX 128
#define GATE_MAX_CHATS 8		/* chat webhooks per team */
#define GATE_RELAY_MAX 8		/* URLs in decision.relay */

enum gate_match {
	GATE_MATCH_FIRST,	/* ASL: the first matching rule decides */
	GATE_MATCH_ALL,		/* every rule is evaluated */
};

/* A team's chat webhook (docs/notifications.md).  The URL is a secret:
 * the gate names the variable that holds it, never the URL. */
struct team_chat {
	char *service;		/* "slack", "teams", "mattermost", "google-chat" */
	char *url_env;		/* the environment variable with the URL */
	int required;		/* an undelivered message ends the run with 4 */
};

struct team {
	char *name;
	char **email;
	size_t nemail;
	int approvals;		/* distinct approvers needed, >= 1 */
	struct team_chat *chat;	/* optional chat notifications */
	size_t nchat;
	uint64_t remind_every;	/* seconds between reminders, 0: none */
	uint64_t escalate_after;	/* seconds until escalation, 0: none */
	char **escalate_to;	/* addresses mailed at escalation */
	size_t nescalate;
};

/* The shortest "remind_every" a gate may ask for, in seconds, unless
 * GATE_SHORT_REMINDERS_ENV is "1" (a test-only override: then 1s). */
#define GATE_MIN_REMIND 60
#define GATE_SHORT_REMINDERS_ENV "GREENLIGHT_TEST_SHORT_REMINDERS"

enum baseline_store_kind { BASELINE_STORE_NOTES, BASELINE_STORE_DIR, BASELINE_STORE_RELAY };
enum baseline_missing { BASELINE_MISSING_EVALUATE, BASELINE_MISSING_ERROR };

#define BASELINE_DEFAULT_REF "refs/notes/greenlight"
#define BASELINE_MAX_WINDOW 100

/* The "baseline" section (docs/baselines.md); defaults when absent. */
struct baseline_cfg {
	int present;			/* the gate has a "baseline" section */
	enum baseline_store_kind store;
	char *dir;			/* dir store: directory (relative paths
					 * resolved against the gate file's) */
	char *ref;			/* notes ref */
	int record_on_pass;		/* check/run record passing outcomes */
	int window;			/* recorded commits aggregated, 1..100 */
	enum baseline_agg aggregate;
	char *branch;			/* base branch, or NULL */
	enum baseline_missing if_missing;
};

struct gate {
	char *file;		/* path as given */
	struct buf text;
	struct json_doc doc;
	int version;
	char *name;
	char *results;		/* default results file, or NULL */
	enum gate_match match;
	struct choice_set choices;
	char *default_next;	/* "pass", "fail", a team, or NULL (none) */
	struct team *teams;
	size_t nteams;
	const cJSON *notify;	/* sections for `run`, validated here */
	const cJSON *decision;
	char *relay_list;	/* decision.relay, several URLs joined by
				 * commas, or NULL */
	struct baseline_cfg baseline;
};

/* Load and validate `path`.  Warnings (an unused team) go to stderr.
 * Returns 0, or -1 after reporting one error; *g is then empty. */
int gate_load(struct gate *g, const char *path);

/* The same for a gate file already in memory; `name` is used in messages. */
int gate_load_text(struct gate *g, const char *name, const char *text, size_t len);

/* Free everything the gate owns. */
void gate_release(struct gate *g);

/* The team called `name`, or NULL. */
const struct team *gate_team(const struct gate *g, const char *name);

/* Report "file:line:col: msg" for a node of the gate (0 returns -1). */
int gate_error(const struct gate *g, const cJSON *node, int at_key,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* 1 when `s` is a valid team name (1-64 of [A-Za-z0-9_.-]; "pass" and
 * "fail" are checked separately), else 0. */
int gate_valid_team_name(const char *s);

/* 1 when `s` is a plain address a team may list (local@domain), else 0. */
int gate_valid_email(const char *s);

#endif
