/* gitinfo.h - facts about the commit being gated, from libgit2.
 *
 * The repository is discovered from a directory (normally the working
 * directory) the way git does.  No repository is not an error: the facts
 * are simply absent and messages leave those lines out.  Every string is
 * valid UTF-8: bytes that are not become U+FFFD.
 */
#ifndef GREENLIGHT_GITINFO_H
#define GREENLIGHT_GITINFO_H

#include <time.h>
#include <cjson/cJSON.h>

struct gitinfo {
	int found;		/* 0: no repository; every field below is NULL */
	char *repo;		/* identity: remote "origin" URL without credentials,
				 * else the work tree path */
	char *sha;		/* full hex id of HEAD */
	char *author_name;
	char *author_email;
	char *subject;		/* first line of the message */
	char *branch;		/* short branch name, NULL when HEAD is detached */
	time_t time;		/* commit time */
};

/* Discover the repository at or above `dir`.  Returns 0 (gi->found says
 * whether one was found; a repository that cannot be read is reported as a
 * warning and treated as absent). */
int gitinfo_discover(struct gitinfo *gi, const char *dir);

void gitinfo_release(struct gitinfo *gi);

/* Drop the user information of a URL in place:
 * "https://gitlab-ci-token:SECRET@host/x.git" → "https://host/x.git".
 * scp-like addresses ("git@host:x.git") are left as they are. */
void gitinfo_strip_credentials(char *url);

/* The facts as the $$.Git context object: {"Commit", "Branch", "Author",
 * "AuthorEmail", "Subject", "Repository"}, members absent when unknown. */
cJSON *gitinfo_json(const struct gitinfo *gi);

#endif
