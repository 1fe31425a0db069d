/* sfn.c - Step Functions definition to gate file (see sfn.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "choice.h"
#include "gate.h"
#include "json.h"
#include "sfn.h"
#include "utf8.h"
#include "util.h"

#define SFN_MAX_STATES 10000
#define PLACEHOLDER_DOMAIN "example.invalid"

struct out_team {
	char *name;
	char *alias;		/* address the definition names, or NULL */
	const char *state;	/* first state that maps to it */
};

struct ctx {
	const char *file;
	struct json_doc doc;
	const cJSON *states;
	const cJSON **seen;	/* states used or already reported */
	size_t nseen;
	struct out_team *teams;
	size_t nteams;
	struct buf notes;	/* warnings, printed only when the import succeeds */
	size_t nstates;
};

static void note(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A warning line, held back so that a failed import prints only its error. */
static void note(struct ctx *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_adds(&c->notes, line);
	buf_adds(&c->notes, "\n");
}

static void print_notes(struct ctx *c)
{
	for (const char *p = c->notes.data, *nl; p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		warning("%.*s", (int)(nl - p), p);
	}
}

static int at(struct ctx *c, const cJSON *node, int at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "file:line:col: message" for a node of the definition; returns -1. */
static int at(struct ctx *c, const cJSON *node, int at_key, const char *fmt, ...)
{
	char msg[512];
	unsigned line = 1, col = 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_doc_pos(&c->doc, node, at_key, &line, &col);
	return error_at("%s:%u:%u: %s", c->file, line, col, msg);
}

static int seen(struct ctx *c, const cJSON *st)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i] == st)
			return 1;
	return 0;
}

static void mark(struct ctx *c, const cJSON *st)
{
	if (!seen(c, st))
		c->seen[c->nseen++] = st;
}

static int is_true(const cJSON *obj, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* A short printable copy of a name for messages. */
static const char *shown(const char *s, char *tmp, size_t n)
{
	char *e = utf8_escape_dup(s, NULL);
	snprintf(tmp, n, "%.64s%s", e, strlen(e) > 64 ? "..." : "");
	free(e);
	return tmp;
}

/* The state called `name`, which `ref` (a Next, Default or StartAt) names. */
static const cJSON *state(struct ctx *c, const char *name, const cJSON *ref)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(c->states, name);
	char t[80];

	if (!st) {
		at(c, ref, 0, "\"%s\" names no state in States", shown(name, t, sizeof(t)));
		return NULL;
	}
	if (!cJSON_IsObject(st) || !json_str(st, "Type")) {
		at(c, st, 1, "state \"%s\" must be an object with a \"Type\"", shown(name, t, sizeof(t)));
		return NULL;
	}
	return st;
}

/* A Pass or Wait that only passes through on the way to an outcome. */
static int pass_through(const char *type)
{
	return !strcmp(type, "Pass") || !strcmp(type, "Wait");
}

static void note_skipped(struct ctx *c, const cJSON *st, const char *type)
{
	char t[80];

	if (seen(c, st))
		return;
	mark(c, st);
	note(c, "%s: state \"%s\" (%s) is skipped: the gate goes straight to what it leads to%s",
		c->file, shown(st->string, t, sizeof(t)), type,
		!strcmp(type, "Wait") ? " without waiting" : "");
}

/* Follow Pass and Wait states from `name` to Succeed ("pass") or Fail
 * ("fail").  NULL, without a message, when the path leads anywhere else;
 * *last is then the state where it stopped (or NULL if a name was bad,
 * already reported). */
static const char *terminal(struct ctx *c, const char *name, const cJSON *ref, const cJSON **last)
{
	char t[80];

	*last = NULL;
	for (int steps = 0; steps <= SFN_MAX_STATES; steps++) {
		const cJSON *st = state(c, name, ref);
		const char *type;

		if (!st)
			return NULL;
		*last = st;
		type = json_str(st, "Type");
		if (!strcmp(type, "Succeed"))
			return mark(c, st), "pass";
		if (!strcmp(type, "Fail"))
			return mark(c, st), "fail";
		if (!pass_through(type))
			return NULL;
		if (steps >= (int)c->nstates) {
			at(c, st, 1, "the states from \"%s\" loop without reaching Succeed or Fail", shown(st->string, t, sizeof(t)));
			*last = NULL;
			return NULL;
		}
		note_skipped(c, st, type);
		if (is_true(st, "End"))
			return "pass";
		ref = cJSON_GetObjectItemCaseSensitive(st, "Next");
		if (!cJSON_IsString(ref))
			return NULL;
		name = ref->valuestring;
	}
	return NULL;	/* a loop of Pass/Wait states */
}

static int is_placeholder_safe(const char *name)
{
	return name[0] != '.' && name[strlen(name) - 1] != '.' && !strstr(name, "..");
}

/* A team name from a state name or an address's local part: invalid
 * characters become '-', at most 64 bytes. */
static char *team_name_from(const char *s, size_t n)
{
	char *out;

	if (n > 64)
		n = 64;
	out = xstrndup(s, n);
	for (char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			*p = '-';
	return out;
}

/* The team field in a task's Parameters (or its Payload), or NULL. */
static const cJSON *team_field(const cJSON *st)
{
	static const char *const keys[] = { "team_alias", "team" };
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(st, "Parameters");
	const cJSON *payload = cJSON_GetObjectItemCaseSensitive(params, "Payload");

	for (size_t i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, keys[i]);
		if (!v)
			v = cJSON_GetObjectItemCaseSensitive(params, keys[i]);
		if (v)
			return v;
	}
	return NULL;
}

static const char *add_team(struct ctx *c, char *name, const char *alias, const cJSON *st)
{
	struct out_team *t;

	for (size_t i = 0; i < c->nteams; i++) {
		t = &c->teams[i];
		if (strcmp(t->name, name))
			continue;
		free(name);
		if (alias && t->alias && strcasecmp(alias, t->alias)) {
			char a[80], b[80];
			at(c, st, 1, "states \"%s\" and \"%s\" both map to team \"%s\" with different addresses; set the team's addresses with --team",
			   shown(t->state, a, sizeof(a)), shown(st->string, b, sizeof(b)), t->name);
			return NULL;
		}
		if (alias && !t->alias)
			t->alias = xstrdup(alias);
		return t->name;
	}
	c->teams = xrealloc(c->teams, (c->nteams + 1) * sizeof(*c->teams));
	t = &c->teams[c->nteams++];
	t->name = name;
	t->alias = alias ? xstrdup(alias) : NULL;
	t->state = st->string;
	return name;
}

/* A waitForTaskToken task: the team it stands for.  Approving (the task's
 * success path) must end in Succeed, rejecting (each Catch) in Fail. */
static const char *approval_task(struct ctx *c, const cJSON *st)
{
	const cJSON *field = team_field(st), *next, *catch, *last;
	const char *alias = NULL, *outcome;
	char *name;
	char t[80];

	mark(c, st);
	if (is_true(st, "End"))
		outcome = "pass";
	else if (cJSON_IsString(next = cJSON_GetObjectItemCaseSensitive(st, "Next")))
		outcome = terminal(c, next->valuestring, next, &last);
	else
		return at(c, st, 1, "state \"%s\" has neither Next nor End", shown(st->string, t, sizeof(t))), NULL;
	if (!outcome || strcmp(outcome, "pass")) {
		if (outcome || last)
			at(c, st, 1, "approving in state \"%s\" does not lead to a Succeed state; a gate's review ends in pass on approval: point its Next at a Succeed state",
			   shown(st->string, t, sizeof(t)));
		return NULL;
	}
	catch = cJSON_GetObjectItemCaseSensitive(st, "Catch");
	for (const cJSON *k = cJSON_IsArray(catch) ? catch->child : NULL; k; k = k->next) {
		next = cJSON_GetObjectItemCaseSensitive(k, "Next");
		if (!cJSON_IsString(next))
			return at(c, k, 0, "a Catch of state \"%s\" has no Next", shown(st->string, t, sizeof(t))), NULL;
		outcome = terminal(c, next->valuestring, next, &last);
		if (!outcome || strcmp(outcome, "fail")) {
			if (outcome || last)
				at(c, next, 0, "a Catch of state \"%s\" does not lead to a Fail state; a gate's review ends in fail on rejection: point it at a Fail state",
				   shown(st->string, t, sizeof(t)));
			return NULL;
		}
	}
	if (cJSON_IsString(field)) {
		const char *v = field->valuestring;
		const char *atsign = strchr(v, '@');
		if (atsign && gate_valid_email(v)) {
			alias = v;
			name = team_name_from(v, (size_t)(atsign - v));
		} else if (gate_valid_team_name(v)) {
			name = xstrdup(v);
		} else {
			note(c, "%s: %s of state \"%s\" is neither a team name nor an address; the team is named after the state",
				c->file, field->string, shown(st->string, t, sizeof(t)));
			name = team_name_from(st->string, strlen(st->string));
		}
	} else {
		name = team_name_from(st->string, strlen(st->string));
	}
	if (!name[0] || !strcmp(name, "pass") || !strcmp(name, "fail")) {
		at(c, st, 1, "state \"%s\" would be team \"%s\", which is not a valid team name; rename the state",
		   shown(st->string, t, sizeof(t)), name);
		free(name);
		return NULL;
	}
	return add_team(c, name, alias, st);
}

/* The outcome a Choice target `ref` (a string node) maps to, or NULL after
 * reporting why it cannot be mapped. */
static const char *map_target(struct ctx *c, const cJSON *ref, const char *choice)
{
	const cJSON *last;
	const char *name = ref->valuestring, *outcome, *type, *res;
	char t[80], ch[80];

	outcome = terminal(c, name, ref, &last);
	if (outcome || !last)
		return outcome;
	type = json_str(last, "Type");
	shown(last->string, t, sizeof(t));
	if (!strcmp(type, "Task")) {
		res = json_str(last, "Resource");
		if (res && strstr(res, "waitForTaskToken"))
			return approval_task(c, last);
		at(c, last, 1, "state \"%s\" is a Task that does not wait for a decision (Resource %s); greenlight runs no tasks: point the Choice at a .waitForTaskToken task, a Succeed or a Fail state",
		   t, res ? res : "missing");
		return NULL;
	}
	if (!strcmp(type, "Choice")) {
		at(c, last, 1, "state \"%s\" is a nested Choice, which a gate cannot express directly; merge its rules into \"%s\" (combine conditions with And)",
		   t, shown(choice, ch, sizeof(ch)));
		return NULL;
	}
	if (!strcmp(type, "Parallel") || !strcmp(type, "Map")) {
		at(c, last, 1, "state \"%s\" is a %s state; a gate has no branches or iterations: route the Choice to a Succeed, a Fail or a .waitForTaskToken task",
		   t, type);
		return NULL;
	}
	if (pass_through(type)) {
		at(c, last, 1, "state \"%s\" (%s) has neither Next nor End", t, type);
		return NULL;
	}
	at(c, last, 1, "state \"%s\" has unknown Type \"%s\"", t, type);
	return NULL;
}

/* Follow StartAt to the first Choice state. */
static const cJSON *find_choice(struct ctx *c, const cJSON *start)
{
	static const char *const changes_input[] = {
		"InputPath", "Parameters", "Result", "ResultPath", "ResultSelector",
		"OutputPath", "Arguments", "Output", "Assign",
	};
	const cJSON *ref = start;
	char t[80];

	for (int steps = 0; steps <= SFN_MAX_STATES; steps++) {
		const cJSON *st = state(c, ref->valuestring, ref);
		const char *type;

		if (!st)
			return NULL;
		type = json_str(st, "Type");
		if (!strcmp(type, "Choice"))
			return st;
		shown(st->string, t, sizeof(t));
		if (!strcmp(type, "Succeed") || !strcmp(type, "Fail")) {
			at(c, start, 0, "no Choice state is reachable from StartAt (\"%s\" is a %s state); greenlight imports a Choice and the states it leads to",
			   t, type);
			return NULL;
		}
		if (!pass_through(type)) {
			at(c, st, 1, "state \"%s\" (%s) comes before the first Choice; the gate reads the results file as the Choice's input, so start the definition at the Choice",
			   t, type);
			return NULL;
		}
		for (size_t i = 0; i < sizeof(changes_input) / sizeof(*changes_input); i++)
			if (cJSON_GetObjectItemCaseSensitive(st, changes_input[i])) {
				at(c, st, 1, "state \"%s\" (%s) before the Choice changes its input with %s; the gate reads the results file as it is: remove %s or start at the Choice",
				   t, type, changes_input[i], changes_input[i]);
				return NULL;
			}
		note_skipped(c, st, type);
		ref = cJSON_GetObjectItemCaseSensitive(st, "Next");
		if (!cJSON_IsString(ref)) {
			at(c, st, 1, "no Choice state is reachable from StartAt; greenlight imports a Choice and the states it leads to");
			return NULL;
		}
	}
	at(c, start, 0, "the states from StartAt loop without reaching a Choice");
	return NULL;
}

/* Serialise with a 2-space indent, keys in document order. */
static void emit(struct buf *b, const cJSON *v, int indent)
{
	const cJSON *k;
	char *s;
	int obj = cJSON_IsObject(v);

	if (obj || cJSON_IsArray(v)) {
		if (!v->child) {
			buf_adds(b, obj ? "{}" : "[]");
			return;
		}
		buf_adds(b, obj ? "{\n" : "[\n");
		for (k = v->child; k; k = k->next) {
			buf_addf(b, "%*s", indent + 2, "");
			if (obj) {
				cJSON *key = cJSON_CreateString(k->string);
				s = cJSON_PrintUnformatted(key);
				buf_adds(b, s);
				buf_adds(b, ": ");
				free(s);
				cJSON_Delete(key);
			}
			emit(b, k, indent + 2);
			buf_adds(b, k->next ? ",\n" : "\n");
		}
		buf_addf(b, "%*s%s", indent, "", obj ? "}" : "]");
		return;
	}
	s = cJSON_PrintUnformatted(v);
	buf_adds(b, s ? s : "null");
	free(s);
}

static const char *default_name(const char *file, char *tmp, size_t n)
{
	const char *base = strrchr(file, '/');
	size_t len;

	if (!strcmp(file, "-"))
		return "state-machine";
	base = base ? base + 1 : file;
	len = strlen(base);
	if (len > 9 && !strcmp(base + len - 9, ".asl.json"))
		len -= 9;
	else if (len > 5 && !strcmp(base + len - 5, ".json"))
		len -= 5;
	if (len == 0)
		return "state-machine";
	snprintf(tmp, n, "%.*s", (int)(len < GATE_NAME_MAX ? len : GATE_NAME_MAX), base);
	for (char *p = tmp; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '-';
	return tmp;
}

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static const char *gate_name(struct ctx *c, const struct sfn_opts *o, char *tmp, size_t n)
{
	const char *comment = json_str(c->doc.root, "Comment");

	if (o->name)
		return o->name;
	if (comment && comment[0] && strlen(comment) <= GATE_NAME_MAX && printable(comment))
		return comment;
	return default_name(c->file, tmp, n);
}

static int build(struct ctx *c, const struct sfn_opts *o, char **out, size_t *placeholders)
{
	const cJSON *root = c->doc.root, *start, *choice, *rules, *def;
	cJSON *gate = NULL, *arr, *teams;
	const char *outcome, *cname;
	char tmp[GATE_NAME_MAX + 1], t[80];
	struct buf b = BUF_INIT(4 * (size_t)SFN_MAX_BYTES);
	struct gate check;
	struct choice_set set;
	struct choice_error cerr;
	int failed = 0;

	if (!cJSON_IsObject(root))
		return at(c, root, 0, "a state machine definition is a JSON object with StartAt and States");
	c->states = cJSON_GetObjectItemCaseSensitive(root, "States");
	start = cJSON_GetObjectItemCaseSensitive(root, "StartAt");
	if (!cJSON_IsObject(c->states))
		return at(c, c->states ? c->states : root, 0, "the definition has no \"States\" object; is this an Amazon States Language definition?");
	if (!cJSON_IsString(start))
		return at(c, start ? start : root, 0, "the definition has no \"StartAt\" string; add \"StartAt\" naming its first state");
	if (cJSON_GetArraySize(c->states) > SFN_MAX_STATES)
		return at(c, c->states, 0, "more than %d states", SFN_MAX_STATES);
	if ((cname = json_str(root, "QueryLanguage")) && strcmp(cname, "JSONPath"))
		return at(c, cJSON_GetObjectItemCaseSensitive(root, "QueryLanguage"), 0,
			  "QueryLanguage %s is not supported; a gate's rules use JSONPath Choice rules", cname);
	c->nstates = (size_t)cJSON_GetArraySize(c->states);
	c->seen = xcalloc((size_t)cJSON_GetArraySize(c->states) + 1, sizeof(*c->seen));
	choice = find_choice(c, start);
	if (!choice)
		return -1;
	mark(c, choice);
	cname = choice->string;
	shown(cname, t, sizeof(t));
	if (cJSON_GetObjectItemCaseSensitive(choice, "QueryLanguage") &&
	    strcmp(json_str(choice, "QueryLanguage") ? json_str(choice, "QueryLanguage") : "", "JSONPath"))
		return at(c, choice, 1, "Choice \"%s\" does not use JSONPath; a gate's rules use JSONPath Choice rules", t);
	if (cJSON_GetObjectItemCaseSensitive(choice, "InputPath") &&
	    strcmp(json_str(choice, "InputPath") ? json_str(choice, "InputPath") : "", "$"))
		return at(c, cJSON_GetObjectItemCaseSensitive(choice, "InputPath"), 1,
			  "Choice \"%s\" has an InputPath; the gate's rules read the results file from its root: put the path into each Variable", t);
	rules = cJSON_GetObjectItemCaseSensitive(choice, "Choices");
	if (!cJSON_IsArray(rules) || !rules->child)
		return at(c, rules ? rules : choice, rules ? 0 : 1, "Choice \"%s\" needs a non-empty Choices array", t);
	/* the rules as the gate will compile them, with positions in the definition */
	if (choice_compile(&set, rules, "Choices", &cerr))
		return at(c, cerr.node, 0, "Choice \"%s\": %s: %s", t, cerr.where, cerr.msg);
	choice_release(&set);

	gate = cJSON_CreateObject();
	cJSON_AddNumberToObject(gate, "version", 1);
	cJSON_AddStringToObject(gate, "name", gate_name(c, o, tmp, sizeof(tmp)));
	cJSON_AddStringToObject(gate, "match", "first");
	arr = cJSON_AddArrayToObject(gate, "choices");
	for (const cJSON *r = rules->child; r; r = r->next) {
		const cJSON *next = cJSON_GetObjectItemCaseSensitive(r, "Next");
		cJSON *copy;

		if (!cJSON_IsObject(r) || !cJSON_IsString(next)) {
			failed = at(c, r, 0, "every rule of Choice \"%s\" needs a \"Next\" string", t);
			goto out;
		}
		if (!(outcome = map_target(c, next, cname))) {
			failed = -1;
			goto out;
		}
		copy = cJSON_Duplicate(r, 1);
		cJSON_ReplaceItemInObjectCaseSensitive(copy, "Next", cJSON_CreateString(outcome));
		cJSON_AddItemToArray(arr, copy);
	}
	def = cJSON_GetObjectItemCaseSensitive(choice, "Default");
	if (def) {
		if (!cJSON_IsString(def)) {
			failed = at(c, def, 0, "Default of Choice \"%s\" must be a state name", t);
			goto out;
		}
		if (!(outcome = map_target(c, def, cname))) {
			failed = -1;
			goto out;
		}
		cJSON_AddStringToObject(gate, "default", outcome);
	}

	for (size_t i = 0; i < o->nteams; i++) {
		size_t k;
		for (k = 0; k < c->nteams && strcmp(c->teams[k].name, o->teams[i].name); k++)
			;
		if (k == c->nteams) {
			const char **names = xcalloc(c->nteams + 1, sizeof(*names));
			const char *hint;
			for (k = 0; k < c->nteams; k++)
				names[k] = c->teams[k].name;
			hint = suggest(o->teams[i].name, names, c->nteams);
			error("--team %s: no state of %s maps to team \"%s\"%s%s%s", o->teams[i].name, c->file,
			      o->teams[i].name, hint ? "; did you mean \"" : "", hint ? hint : "", hint ? "\"?" : "");
			free(names);
			failed = -1;
			goto out;
		}
	}
	teams = cJSON_AddObjectToObject(gate, "teams");
	*placeholders = 0;
	for (size_t i = 0; i < c->nteams; i++) {
		const struct out_team *ot = &c->teams[i];
		const struct sfn_team *given = NULL;
		cJSON *team = cJSON_AddObjectToObject(teams, ot->name), *email;

		for (size_t k = 0; k < o->nteams; k++)
			if (!strcmp(o->teams[k].name, ot->name))
				given = &o->teams[k];
		email = cJSON_AddArrayToObject(team, "email");
		if (given) {
			for (size_t k = 0; k < given->nemail; k++)
				cJSON_AddItemToArray(email, cJSON_CreateString(given->email[k]));
		} else if (ot->alias) {
			cJSON_AddItemToArray(email, cJSON_CreateString(ot->alias));
		} else {
			char ph[128];
			snprintf(ph, sizeof(ph), "%s@" PLACEHOLDER_DOMAIN,
				 is_placeholder_safe(ot->name) ? ot->name : "reviewers");
			cJSON_AddItemToArray(email, cJSON_CreateString(ph));
			note(c, "team \"%s\" has no address; wrote the placeholder %s: give it with --team %s=ADDR[,ADDR...]",
				ot->name, ph, ot->name);
			++*placeholders;
		}
		cJSON_AddNumberToObject(team, "approvals", 1);
	}
	if (!c->nteams)
		cJSON_DeleteItemFromObjectCaseSensitive(gate, "teams");

	for (const cJSON *st = c->states->child; st; st = st->next)
		if (!seen(c, st))
			note(c, "%s: state \"%s\" (%s) is not imported: nothing the Choice leads to uses it; remove it, or route the Choice to it",
				c->file, shown(st->string, t, sizeof(t)),
				cJSON_IsObject(st) && json_str(st, "Type") ? json_str(st, "Type") : "no Type");

	emit(&b, gate, 0);
	buf_adds(&b, "\n");
	if (!b.data) {
		failed = error("%s: the gate would be too large", c->file);
		goto out;
	}
	/* The gate must load exactly as `greenlight validate` loads it. */
	snprintf(tmp, sizeof(tmp), "%.100s (imported gate)", c->file);
	if (gate_load_text(&check, tmp, b.data, b.len)) {
		failed = -1;
		goto out;
	}
	gate_release(&check);
	*out = buf_detach(&b, NULL);
	print_notes(c);
out:
	buf_release(&b);
	cJSON_Delete(gate);
	return failed;
}

int sfn_import(const char *file, const char *text, size_t len,
	       const struct sfn_opts *o, char **out, size_t *placeholders)
{
	struct ctx c;
	struct json_err jerr;
	int ret;

	*out = NULL;
	*placeholders = 0;
	struct buf notes = BUF_INIT(SFN_MAX_BYTES);

	memset(&c, 0, sizeof(c));
	c.file = file;
	c.notes = notes;
	if (len > SFN_MAX_BYTES)
		return error("%s: the definition is larger than %d bytes (Step Functions' own limit)",
			     file, SFN_MAX_BYTES);
	if (json_doc_parse(&c.doc, text, len, &jerr))
		return error_at("%s:%u:%u: %s", file, jerr.line, jerr.col, jerr.msg);
	ret = build(&c, o, out, placeholders);
	for (size_t i = 0; i < c.nteams; i++) {
		free(c.teams[i].name);
		free(c.teams[i].alias);
	}
	free(c.teams);
	free(c.seen);
	buf_release(&c.notes);
	json_doc_release(&c.doc);
	return ret;
}

void sfn_team_release(struct sfn_team *t)
{
	for (size_t i = 0; i < t->nemail; i++)
		free(t->email[i]);
	free(t->email);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

int sfn_parse_team(const char *arg, struct sfn_team *t)
{
	const char *eq = strchr(arg, '='), *p, *comma;

	memset(t, 0, sizeof(*t));
	if (!eq || eq == arg)
		return error("--team %s: write NAME=ADDR[,ADDR...], like research=research@example.com", arg);
	t->name = xstrndup(arg, (size_t)(eq - arg));
	if (!gate_valid_team_name(t->name) || !strcmp(t->name, "pass") || !strcmp(t->name, "fail")) {
		error("--team: invalid team name \"%.64s\"; use 1-64 letters, digits, '_', '-' or '.', and not \"pass\" or \"fail\"", t->name);
		sfn_team_release(t);
		return -1;
	}
	for (p = eq + 1;; p = comma + 1) {
		char *addr;

		comma = strchr(p, ',');
		addr = comma ? xstrndup(p, (size_t)(comma - p)) : xstrdup(p);
		if (!gate_valid_email(addr) || t->nemail >= GATE_MAX_EMAILS) {
			if (t->nemail >= GATE_MAX_EMAILS)
				error("--team %s: more than %d addresses", t->name, GATE_MAX_EMAILS);
			else
				error("--team %s: \"%.64s\" is not a valid address; write plain addresses separated by commas, like a@example.com,b@example.com",
				      t->name, addr);
			free(addr);
			sfn_team_release(t);
			return -1;
		}
		for (size_t k = 0; k < t->nemail; k++)
			if (!strcasecmp(t->email[k], addr)) {
				error("--team %s: \"%s\" is listed twice", t->name, addr);
				free(addr);
				sfn_team_release(t);
				return -1;
			}
		t->email = xrealloc(t->email, (t->nemail + 1) * sizeof(*t->email));
		t->email[t->nemail++] = addr;
		if (!comma)
			break;
	}
	return 0;
}
