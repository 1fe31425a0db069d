/* gitinfo.c - commit facts through libgit2 (see gitinfo.h).
 *
 * libgit2 is initialised on first use and never shut down (a CLI exits).
 * Every libgit2 object is freed before returning.  Git stores text as
 * bytes; every string read here is repaired to valid UTF-8 (a bad byte
 * becomes U+FFFD) so the mail, the review page, the relay and the records
 * can all carry it.
 */
#include <stdlib.h>
#include <string.h>
#include <git2.h>

#include "gitinfo.h"
#include "utf8.h"
#include "util.h"

static char *first_line(const char *msg)
{
	char *line, *repaired;

	if (!msg)
		return NULL;
	line = xstrndup(msg, strcspn(msg, "\r\n"));
	repaired = utf8_repair(line);
	free(line);
	return repaired;
}

void gitinfo_strip_credentials(char *url)
{
	char *start = strstr(url, "://"), *end, *at;

	if (!start)
		return;	/* scp-like "git@host:path": a user name, no secret */
	start += 3;
	end = start + strcspn(start, "/?#");
	at = NULL;
	for (char *p = start; p < end; p++)
		if (*p == '@')
			at = p;
	if (at)
		memmove(start, at + 1, strlen(at + 1) + 1);
}

/* remote.origin.url from a snapshot of the configuration (read directly:
 * git_remote_lookup in libgit2 1.5 leaks on every call), else the work
 * tree path.  Credentials in the URL (CI checkouts put job tokens there)
 * are dropped: reviewers, relays and records never see them, and the
 * request key stays the same from one job to the next. */
static void read_identity(struct gitinfo *gi, git_repository *repo)
{
	git_config *cfg = NULL;
	const char *url = NULL, *wd;

	if (!git_repository_config_snapshot(&cfg, repo) &&
	    !git_config_get_string(&url, cfg, "remote.origin.url") && *url) {
		gi->repo = utf8_repair(url);
		gitinfo_strip_credentials(gi->repo);
	} else {
		wd = git_repository_workdir(repo);
		gi->repo = utf8_repair(wd ? wd : git_repository_path(repo));
	}
	git_config_free(cfg);
}

static int read_head(struct gitinfo *gi, git_repository *repo)
{
	git_reference *head = NULL;
	git_commit *commit = NULL;
	const git_signature *author;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = -1;

	if (git_repository_head(&head, repo) ||
	    git_commit_lookup(&commit, repo, git_reference_target(head)))
		goto out;
	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	gi->sha = xstrdup(hex);
	author = git_commit_author(commit);
	gi->author_name = utf8_repair(author ? author->name : NULL);
	gi->author_email = utf8_repair(author ? author->email : NULL);
	gi->subject = first_line(git_commit_message(commit));
	gi->time = (time_t)git_commit_time(commit);
	if (!git_repository_head_detached(repo))
		gi->branch = utf8_repair(git_reference_shorthand(head));
	ret = 0;
out:
	git_commit_free(commit);
	git_reference_free(head);
	return ret;
}

int gitinfo_discover(struct gitinfo *gi, const char *dir)
{
	git_buf path = { 0 };
	git_repository *repo = NULL;
	const git_error *e;

	memset(gi, 0, sizeof(*gi));
	git_libgit2_init();
	if (git_repository_discover(&path, dir, 0, NULL))
		return 0;
	if (git_repository_open(&repo, path.ptr) || read_head(gi, repo)) {
		e = git_error_last();
		warning("cannot read the git repository at '%s': %s; commit facts are left out",
			path.ptr, e && e->message ? e->message : "unknown error");
		gitinfo_release(gi);
		goto out;
	}
	read_identity(gi, repo);
	gi->found = 1;
out:
	git_repository_free(repo);
	git_buf_dispose(&path);
	return 0;
}

void gitinfo_release(struct gitinfo *gi)
{
	free(gi->repo);
	free(gi->sha);
	free(gi->author_name);
	free(gi->author_email);
	free(gi->subject);
	free(gi->branch);
	memset(gi, 0, sizeof(*gi));
}

static void add(cJSON *o, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(o, key, value);
}

cJSON *gitinfo_json(const struct gitinfo *gi)
{
	cJSON *o = cJSON_CreateObject();

	add(o, "Commit", gi->sha);
	add(o, "Branch", gi->branch);
	add(o, "Author", gi->author_name);
	add(o, "AuthorEmail", gi->author_email);
	add(o, "Subject", gi->subject);
	add(o, "Repository", gi->repo);
	return o;
}
