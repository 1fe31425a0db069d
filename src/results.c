/* results.c - bounded, strict loading of results documents (see results.h).
 *
 * Regular files are mapped read-only (no copy); stdin and other streams are
 * read into a bounded buffer.  Either way the size cap is enforced before
 * anything is parsed, and the text is dropped as soon as the values the
 * rules read have been projected out of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "results.h"
#include "util.h"

struct text {
	const char *data;
	size_t len;
	void *map;
	struct buf buf;
};

static int too_big(const char *path, uint64_t max)
{
	return error("%s: results are larger than %llu bytes; raise the limit with --max-results-bytes",
		     path, (unsigned long long)max);
}

static int read_stream(struct text *t, const char *path, FILE *f, uint64_t max)
{
	struct buf b = BUF_INIT(max > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)max);
	int rc = buf_read_stream(&b, f);

	if (rc == BUF_TOOBIG)
		return too_big(path, max);
	if (rc)
		return error("cannot read results '%s': %s", path, strerror(errno));
	t->buf = b;
	t->data = b.data;
	t->len = b.len;
	return 0;
}

static int read_text(struct text *t, const char *path, uint64_t max)
{
	struct stat st;
	FILE *f;
	int fd, ret;

	memset(t, 0, sizeof(*t));
	if (!strcmp(path, "-"))
		return read_stream(t, "stdin", stdin, max);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error("cannot read results '%s': %s%s", path, strerror(errno),
			     errno == ENOENT ? " (pass -r FILE, or set \"results\" in the gate file)" : "");
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max) {
			close(fd);
			return too_big(path, max);
		}
		t->len = (size_t)st.st_size;
		if (t->len) {
			t->map = mmap(NULL, t->len, PROT_READ, MAP_PRIVATE, fd, 0);
			if (t->map == MAP_FAILED) {
				t->map = NULL;
				close(fd);
				return error("cannot map results '%s': %s", path, strerror(errno));
			}
			posix_madvise(t->map, t->len, POSIX_MADV_SEQUENTIAL);
		}
		t->data = t->map ? t->map : "";
		close(fd);
		return 0;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return error("cannot read results '%s': %s", path, strerror(errno));
	}
	ret = read_stream(t, path, f, max);
	fclose(f);
	return ret;
}

static void drop_text(struct text *t)
{
	if (t->map)
		munmap(t->map, t->len);
	buf_release(&t->buf);
	memset(t, 0, sizeof(*t));
}

int results_bind(struct results *r, const char *name, const char *text,
		 size_t len, const struct choice_set *set, const cJSON *context)
{
	struct json_err err;

	memset(r, 0, sizeof(*r));
	r->file = xstrdup(name);
	r->n = set->npaths;
	r->owned = xcalloc(r->n, sizeof(*r->owned));
	r->values = xcalloc(r->n, sizeof(*r->values));
	if (json_project(text, len, set->paths, set->npaths, r->owned, &err)) {
		error_at("%s:%u:%u: %s", name, err.line, err.col, err.msg);
		results_release(r);
		return -1;
	}
	for (size_t i = 0; i < r->n; i++)
		r->values[i] = set->paths[i].root == JPATH_CONTEXT
			? (context ? jpath_resolve(&set->paths[i], context) : NULL)
			: r->owned[i];
	return 0;
}

int results_load(struct results *r, const char *path, uint64_t max,
		 const struct choice_set *set, const cJSON *context)
{
	struct text t;
	int ret;

	memset(r, 0, sizeof(*r));
	if (read_text(&t, path, max))
		return -1;
	ret = results_bind(r, strcmp(path, "-") ? path : "stdin", t.data, t.len,
			   set, context);
	drop_text(&t);
	return ret;
}

void results_release(struct results *r)
{
	for (size_t i = 0; r->owned && i < r->n; i++)
		cJSON_Delete(r->owned[i]);
	free(r->owned);
	free(r->values);
	free(r->file);
	memset(r, 0, sizeof(*r));
}
