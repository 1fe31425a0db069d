/* baseline_store.c - the git-notes and dir stores, the history walk and
 * recording (see baseline_store.h); the relay store's calls are in
 * baseline_relay.c, the walk that feeds them is here. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>

#include "baseline_relay.h"
#include "baseline_store.h"
#include "buf.h"
#include "ci.h"
#include "fileio.h"
#include "util.h"

#define FETCH_NOTES "git fetch origin %s:%s"

static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown error";
}

static int open_repo(git_repository **repo)
{
	git_buf path = { 0 };
	int rc;

	*repo = NULL;
	git_libgit2_init();
	if (git_repository_discover(&path, ".", 0, NULL))
		return error("baseline: not inside a git repository; baselines are kept per commit, so run greenlight in the repository's work tree");
	rc = git_repository_open(repo, path.ptr);
	if (rc)
		error("baseline: cannot open the git repository at '%s': %s", path.ptr, git_msg());
	git_buf_dispose(&path);
	return rc ? -1 : 0;
}

/* dir:PATH relative to the gate file's directory. */
static char *store_dir(const struct gate *g)
{
	char *copy, *dir, *out;
	size_t n;

	if (g->baseline.dir[0] == '/')
		return xstrdup(g->baseline.dir);
	copy = xstrdup(g->file);
	dir = dirname(copy);
	n = strlen(dir) + strlen(g->baseline.dir) + 2;
	out = xmalloc(n);
	snprintf(out, n, "%s/%s", dir, g->baseline.dir);
	free(copy);
	return out;
}

static char *dir_file(const char *dir, const char *sha)
{
	size_t n = strlen(dir) + strlen(sha) + 8;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s.json", dir, sha);
	return p;
}

/* The notes of the ref's tip, read once for a whole walk.  git_note_read
 * resolves the ref, looks up its commit and re-reads the notes tree (from
 * the pack: inflated and hashed again) for every commit it is asked about;
 * over a 1000-commit walk that was nearly all of the time.  Here the root
 * tree is read once, and so is each first-level fanout directory ("ab/")
 * the walk goes through. */
struct notes_reader {
	git_repository *repo;
	git_tree *root;
	git_tree *fan[256];	/* by the directory's 2 hex digits */
};

static int notes_open(struct notes_reader *nr, git_repository *repo, const char *ref,
		      const git_oid *tip)
{
	git_commit *c = NULL;
	int rc;

	memset(nr, 0, sizeof(*nr));
	nr->repo = repo;
	rc = git_commit_lookup(&c, repo, tip);
	if (!rc)
		rc = git_commit_tree(&nr->root, c);
	git_commit_free(c);
	if (rc)
		return error("baseline: cannot read the notes on %s: %s", ref, git_msg());
	return 0;
}

static void notes_close(struct notes_reader *nr)
{
	for (size_t i = 0; i < sizeof(nr->fan) / sizeof(nr->fan[0]); i++)
		git_tree_free(nr->fan[i]);
	git_tree_free(nr->root);
	memset(nr, 0, sizeof(*nr));
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The note blob for the rest `hex` of a commit's id under tree t, at
 * fanout depth `depth`: a blob named `hex`, else the directory named by
 * its first 2 digits (as git and libgit2 write notes, "ab/cdef..." or
 * "ab/cd/ef...").  1 found (*blob set), 0 none, -1 error. */
static int note_blob(struct notes_reader *nr, const git_tree *t, const char *hex, int depth,
		     git_oid *blob)
{
	const git_tree_entry *e = git_tree_entry_byname(t, hex);
	char dir[3] = { hex[0], hex[1], 0 };
	git_tree *sub = NULL, **keep = &sub;
	int rc;

	if (e && git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		git_oid_cpy(blob, git_tree_entry_id(e));
		return 1;
	}
	if (strlen(hex) <= 2 || hexval(dir[0]) < 0 || hexval(dir[1]) < 0)
		return 0;
	e = git_tree_entry_byname(t, dir);
	if (!e || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return 0;
	if (depth == 0)
		keep = &nr->fan[hexval(dir[0]) * 16 + hexval(dir[1])];
	if (!*keep && git_tree_lookup(keep, nr->repo, git_tree_entry_id(e)))
		return -1;
	rc = note_blob(nr, *keep, hex + 2, depth + 1, blob);
	git_tree_free(sub);
	return rc;
}

/* The note text for `oid`: 1 found (*text owned), 0 none, -1 error. */
static int read_entry(const struct gate *g, struct notes_reader *nr, const char *dir,
		      const git_oid *oid, char **text, size_t *len)
{
	char sha[GIT_OID_HEXSZ + 1];
	git_blob *blob = NULL;
	git_oid id;
	size_t n;
	int rc;

	*text = NULL;
	git_oid_tostr(sha, sizeof(sha), oid);
	if (g->baseline.store == BASELINE_STORE_DIR) {
		struct buf b = BUF_INIT(BASELINE_NOTE_MAX_BYTES);
		char *path = dir_file(dir, sha);

		rc = buf_read_file(&b, path);
		if (rc == BUF_TOOBIG) {
			warning("baseline: %s is larger than %d bytes; ignored", path, BASELINE_NOTE_MAX_BYTES);
			rc = 0;
		} else if (rc && errno == ENOENT) {
			rc = 0;
		} else if (rc) {
			error("baseline: cannot read %s: %s", path, strerror(errno));
			rc = -1;
		} else {
			*len = b.len;
			*text = buf_detach(&b, NULL);
			rc = 1;
		}
		buf_release(&b);
		free(path);
		return rc;
	}
	rc = note_blob(nr, nr->root, sha, 0, &id);
	if (rc == 1 && git_blob_lookup(&blob, nr->repo, &id))
		rc = -1;
	if (rc < 0)
		return error("baseline: cannot read the note of %.12s on %s: %s", sha, g->baseline.ref, git_msg());
	if (rc == 0)
		return 0;
	/* one byte over the limit is enough for the parser to refuse it */
	n = (size_t)git_blob_rawsize(blob);
	if (n > BASELINE_NOTE_MAX_BYTES + 1)
		n = BASELINE_NOTE_MAX_BYTES + 1;
	*text = xmalloc(n + 1);
	memcpy(*text, git_blob_rawcontent(blob), n);
	(*text)[n] = '\0';
	*len = n;
	git_blob_free(blob);
	return 1;
}

void baseline_docs_release(struct baseline_doc *docs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		baseline_doc_release(&docs[i]);
	free(docs);
}

static int shallow_error(const struct gate *g, const char *what)
{
	if (g->baseline.store == BASELINE_STORE_RELAY)
		return error("baseline: this is a shallow clone and %s; fetch the history: git fetch --unshallow (actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0)",
			     what);
	return error("baseline: this is a shallow clone and %s; fetch the history and the notes: git fetch --unshallow && git fetch origin %s:%s (actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0)",
		     what, g->baseline.ref, g->baseline.ref);
}

/* The branch's commit: refs/heads/B, else refs/remotes/origin/B. */
static int base_branch(git_repository *repo, const char *b, git_oid *out)
{
	char name[256];

	snprintf(name, sizeof(name), "refs/heads/%s", b);
	if (!git_reference_name_to_id(out, repo, name))
		return 0;
	snprintf(name, sizeof(name), "refs/remotes/origin/%s", b);
	return git_reference_name_to_id(out, repo, name) ? -1 : 0;
}

/* The repository's default branch: what refs/remotes/origin/HEAD points
 * at.  1 with *out set, 0 when the clone does not know it. */
static int default_branch(git_repository *repo, git_oid *out, char *name, size_t size)
{
	git_reference *ref = NULL, *resolved = NULL;
	const char *target;
	int found = 0;

	if (git_reference_lookup(&ref, repo, "refs/remotes/origin/HEAD"))
		return 0;
	target = git_reference_symbolic_target(ref);
	if (target && !git_reference_resolve(&resolved, ref)) {
		*out = *git_reference_target(resolved);
		if (!strncmp(target, "refs/remotes/origin/", 20))
			target += 20;
		snprintf(name, size, "%s", target);
		found = 1;
	}
	git_reference_free(resolved);
	git_reference_free(ref);
	return found;
}

/* The base branch's commit (docs/baselines.md, "Choosing the baseline"):
 * the gate's "branch", else the CI's target branch (a pull or merge
 * request), which must be in the clone; else the repository's default
 * branch when the clone knows it.  1 found, 0 none, -1 reported. */
static int base_commit(const struct gate *g, git_repository *repo, git_oid *out,
		       char *name, size_t size)
{
	struct ci_info ci;
	int rc = 0;

	ci_info_detect(&ci);
	if (g->baseline.branch || ci.target_branch) {
		const char *b = g->baseline.branch ? g->baseline.branch : ci.target_branch;

		snprintf(name, size, "%s", b);
		rc = base_branch(repo, b, out) ? -1 : 1;
		if (rc < 0)
			error("baseline: base branch \"%s\" is not in this clone; fetch it: git fetch origin %s:refs/remotes/origin/%s (actions/checkout: fetch-depth: 0)%s",
			      b, b, b, g->baseline.branch ? "" : "; it is the target branch the CI named");
	} else {
		rc = default_branch(repo, out, name, size);
	}
	ci_info_release(&ci);
	return rc;
}

/* Where the walk starts; 1 with *start set, 0 none (root commit), -1 error. */
static int walk_start(const struct gate *g, git_repository *repo, git_oid *start)
{
	git_oid head, base, mb;
	git_commit *c = NULL;
	char name[256];
	int rc;

	if (git_reference_name_to_id(&head, repo, "HEAD"))
		return error("baseline: the repository has no HEAD commit: %s", git_msg());
	rc = base_commit(g, repo, &base, name, sizeof(name));
	if (rc < 0)
		return -1;
	if (rc) {
		rc = git_merge_base(&mb, repo, &head, &base);
		if (rc) {
			if (git_repository_is_shallow(repo))
				return shallow_error(g, "HEAD and the base branch have no common commit here");
			return error("baseline: HEAD and base branch \"%s\" have no common ancestor", name);
		}
		if (!git_oid_equal(&mb, &head)) {
			*start = mb;
			return 1;
		}
	}
	if (git_commit_lookup(&c, repo, &head))
		return error("baseline: cannot read HEAD: %s", git_msg());
	if (!git_commit_parentcount(c)) {
		git_commit_free(c);
		return 0;
	}
	*start = *git_commit_parent_id(c, 0);
	git_commit_free(c);
	return 1;
}

/* The record of commit `cur` (sha) in the notes or dir store, validated,
 * appended to docs.  0, or -1 on a read error (reported). */
static int take_entry(const struct gate *g, struct notes_reader *nr, const char *dir,
		      const git_oid *cur, const char *sha,
		      struct baseline_doc *docs, size_t *n)
{
	struct baseline_doc *d = &docs[*n];
	char *text, err[256];
	size_t len = 0;
	int found, has;

	found = read_entry(g, nr, dir, cur, &text, &len);
	if (found <= 0)
		return found;
	if (baseline_note_parse(text, len, g->name, d, &has, err, sizeof(err)))
		warning("baseline: the record of commit %.12s is ignored: %s", sha, err);
	else if (has && strcmp(d->commit, sha)) {
		warning("baseline: the record of commit %.12s names commit %.12s; ignored", sha, d->commit);
		baseline_doc_release(d);
	} else if (has) {
		(*n)++;
	}
	free(text);
	return 0;
}

/* The walk's end: what a shallow clone, a missing notes ref or if_missing
 * "error" mean for n records found.  0, or -1 reported. */
static int walk_verdict(const struct gate *g, git_repository *repo, size_t n,
			int truncated, int have_ref)
{
	const struct baseline_cfg *cfg = &g->baseline;

	if (truncated && !n && git_repository_is_shallow(repo))
		return shallow_error(g, "no recorded commit is in the fetched history");
	if (truncated && n < (size_t)cfg->window && git_repository_is_shallow(repo))
		warning("baseline: shallow clone; only %zu of %d recorded commits found (git fetch --unshallow, or fetch-depth: 0)",
			n, cfg->window);
	if (!n && !have_ref)
		warning("baseline: no %s here, so no baseline; if CI records baselines, fetch them first: " FETCH_NOTES,
			cfg->ref, cfg->ref, cfg->ref);
	if (!n && cfg->if_missing == BASELINE_MISSING_ERROR)
		return error("baseline: no recorded commit for gate \"%s\" in the first-parent history (if_missing is \"error\"); record one with greenlight record",
			     g->name);
	return 0;
}

int baseline_find(const struct gate *g, struct baseline_doc **docs, size_t *n)
{
	const struct baseline_cfg *cfg = &g->baseline;
	int relay = cfg->store == BASELINE_STORE_RELAY;
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_oid cur, ref_tip;
	char *dir = NULL, sha[GIT_OID_HEXSZ + 1], **shas = NULL;
	size_t walked = 0, nshas = 0;
	int rc, truncated = 0, have_ref = 1, ret = -1;
	struct notes_reader nr = { 0 };

	*docs = xcalloc((size_t)cfg->window, sizeof(**docs));
	*n = 0;
	if (open_repo(&repo))
		goto out;
	if (cfg->store == BASELINE_STORE_DIR)
		dir = store_dir(g);
	else if (!relay)
		have_ref = !git_reference_name_to_id(&ref_tip, repo, cfg->ref);
	if (relay)
		shas = xcalloc(BASELINE_WALK_MAX, sizeof(*shas));
	rc = walk_start(g, repo, &cur);
	if (rc < 0)
		goto out;
	if (rc == 1 && git_commit_lookup(&c, repo, &cur)) {
		truncated = 1;
		rc = 0;
	}
	if (rc == 1 && have_ref && cfg->store == BASELINE_STORE_NOTES &&
	    notes_open(&nr, repo, cfg->ref, &ref_tip))
		goto out;
	while (rc == 1 && *n < (size_t)cfg->window && walked++ < BASELINE_WALK_MAX) {
		git_oid_tostr(sha, sizeof(sha), &cur);
		if (relay)
			shas[nshas++] = xstrdup(sha);
		else if (have_ref && take_entry(g, &nr, dir, &cur, sha, *docs, n))
			goto out;
		if (!git_commit_parentcount(c))
			break;
		cur = *git_commit_parent_id(c, 0);
		git_commit_free(c);
		c = NULL;
		if (git_commit_lookup(&c, repo, &cur)) {
			truncated = 1;
			break;
		}
	}
	/* the relay store: the walked commits, looked up in one call */
	if (relay && baseline_relay_find(g, (const char *const *)shas, nshas, *docs, n))
		goto out;
	ret = walk_verdict(g, repo, *n, truncated, have_ref);
out:
	if (ret) {
		baseline_docs_release(*docs, *n);
		*docs = NULL;
		*n = 0;
	}
	for (size_t i = 0; i < nshas; i++)
		free(shas[i]);
	free(shas);
	notes_close(&nr);
	git_commit_free(c);
	git_repository_free(repo);
	free(dir);
	return ret;
}

static cJSON *values_json(const struct gate *g, const cJSON *const *values)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < g->choices.npaths; i++) {
		const struct jpath *p = &g->choices.paths[i];

		if (p->root == JPATH_INPUT && values[i] &&
		    !cJSON_GetObjectItemCaseSensitive(o, p->text))
			cJSON_AddItemToObject(o, p->text, cJSON_Duplicate(values[i], 1));
	}
	return o;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int write_notes(const struct gate *g, git_repository *repo, const git_oid *head,
		       const struct baseline_doc *doc)
{
	git_signature *sig = NULL;
	int ret = -1;

	if (git_signature_default(&sig, repo) &&
	    git_signature_now(&sig, "greenlight", "greenlight@localhost"))
		return error("baseline: cannot make a signature: %s", git_msg());
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	for (int attempt = 0; attempt < BASELINE_WRITE_TRIES; attempt++) {
		git_oid tip, blob, commit;
		git_commit *parent = NULL;
		git_note *old = NULL;
		git_reference *ref = NULL;
		const char *msg = NULL;
		char *text, err[256];
		int have_tip, rc;

		have_tip = !git_reference_name_to_id(&tip, repo, g->baseline.ref);
		if (have_tip && git_commit_lookup(&parent, repo, &tip)) {
			error("baseline: %s does not point at a commit: %s", g->baseline.ref, git_msg());
			break;
		}
		if (parent && !git_note_commit_read(&old, repo, parent, head))
			msg = git_note_message(old);
		text = baseline_note_merge(msg, msg ? strlen(msg) : 0, doc, err, sizeof(err));
		if (err[0] && attempt == 0)
			warning("baseline: the existing note of %.12s is replaced: %s", doc->commit, err);
		git_note_free(old);
		rc = git_note_commit_create(&commit, &blob, repo, parent, sig, sig, head, text, 1);
		free(text);
		git_commit_free(parent);
		if (rc) {
			error("baseline: cannot write the note: %s", git_msg());
			break;
		}
		if (have_tip)
			rc = git_reference_create_matching(&ref, repo, g->baseline.ref, &commit, 1,
							   &tip, "greenlight record");
		else
			rc = git_reference_create(&ref, repo, g->baseline.ref, &commit, 0,
						  "greenlight record");
		git_reference_free(ref);
		if (!rc) {
			ret = 0;
			break;
		}
		if (rc != GIT_EMODIFIED && rc != GIT_ELOCKED && rc != GIT_EEXISTS) {
			error("baseline: cannot update %s: %s", g->baseline.ref, git_msg());
			break;
		}
		sleep_ms(5 + rand() % 40);	/* another writer moved the ref: again */
	}
	git_signature_free(sig);
	return ret;
}

static int write_dir(const struct gate *g, const struct baseline_doc *doc)
{
	char *dir = store_dir(g), *path = dir_file(dir, doc->commit), *lock, *text;
	struct buf b = BUF_INIT(BASELINE_NOTE_MAX_BYTES);
	char err[256];
	size_t n;
	int fd, ret = -1;

	if (mkdir(dir, 0777) && errno != EEXIST) {
		error("baseline: cannot create directory '%s': %s", dir, strerror(errno));
		goto out;
	}
	n = strlen(dir) + 32;
	lock = xmalloc(n);
	snprintf(lock, n, "%s/.greenlight.lock", dir);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	free(lock);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		error("baseline: cannot lock '%s': %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	(void)buf_read_file(&b, path);	/* none or unreadable: a new file */
	text = baseline_note_merge(b.data, b.data ? b.len : 0, doc, err, sizeof(err));
	if (err[0])
		warning("baseline: %s is replaced: %s", path, err);
	n = strlen(text);
	text = xrealloc(text, n + 2);
	text[n] = '\n';
	ret = write_file_atomic(path, text, n + 1);
	free(text);
	close(fd);
out:
	buf_release(&b);
	free(path);
	free(dir);
	return ret;
}

/* What is recorded must be readable: the parser's limits, and a quarter
 * of a note at most so that several gates fit on one commit. */
static int check_doc(const struct baseline_doc *doc)
{
	cJSON *j = baseline_doc_json(doc);
	char *text = cJSON_PrintUnformatted(j), err[256];
	struct baseline_doc back;
	int ret = 0;

	if (strlen(text) > BASELINE_NOTE_MAX_BYTES / 4)
		ret = error("baseline: the values gate %s reads take %zu bytes; a record holds at most %d",
			    doc->gate, strlen(text), BASELINE_NOTE_MAX_BYTES / 4);
	else if (baseline_doc_from_json(&back, j, doc->gate, err, sizeof(err)))
		ret = error("baseline: cannot record gate %s: %s", doc->gate, err);
	else
		baseline_doc_release(&back);
	free(text);
	cJSON_Delete(j);
	return ret;
}

int baseline_record(const struct gate *g, const cJSON *const *values,
		    const char *outcome, FILE *log)
{
	git_repository *repo = NULL;
	struct baseline_doc doc;
	struct ci_info ci;
	git_oid head;
	char sha[GIT_OID_HEXSZ + 1], now[64];
	int ret = -1;

	memset(&doc, 0, sizeof(doc));
	if (open_repo(&repo))
		return -1;
	if (git_reference_name_to_id(&head, repo, "HEAD")) {
		error("baseline: the repository has no HEAD commit to record: %s", git_msg());
		goto out;
	}
	git_oid_tostr(sha, sizeof(sha), &head);
	format_rfc3339(time(NULL), now, sizeof(now));
	ci_info_detect(&ci);
	doc.gate = xstrdup(g->name);
	doc.commit = xstrdup(sha);
	doc.recorded = xstrdup(now);
	doc.outcome = xstrdup(outcome);
	doc.run_url = ci.run_url ? xstrdup(ci.run_url) : NULL;
	ci_info_release(&ci);
	doc.values = values_json(g, values);
	if (check_doc(&doc))
		goto out;
	if (g->baseline.store == BASELINE_STORE_RELAY)
		ret = baseline_relay_record(g, &doc);
	else if (g->baseline.store == BASELINE_STORE_DIR)
		ret = write_dir(g, &doc);
	else
		ret = write_notes(g, repo, &head, &doc);
	if (!ret && log)
		fprintf(log, "baseline: recorded %d value(s) of gate %s for %.12s (%s)\n",
			cJSON_GetArraySize(doc.values), g->name, sha,
			g->baseline.store == BASELINE_STORE_RELAY ? "relay" :
			g->baseline.store == BASELINE_STORE_DIR ? "dir store" : g->baseline.ref);
out:
	baseline_doc_release(&doc);
	git_repository_free(repo);
	return ret;
}
