/* buf.c - bounded growable buffers (see buf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

static int grow(struct buf *b, size_t need)
{
	size_t want;
	char *p;

	if (need > b->max || need == (size_t)-1) {
		buf_release(b);
		return BUF_TOOBIG;
	}
	if (need + 1 <= b->alloc)
		return BUF_OK;
	want = b->alloc ? b->alloc : 256;
	while (want < need + 1)
		want = want > ((size_t)-1) / 2 ? need + 1 : want * 2;
	p = realloc(b->data, want);
	if (!p) {
		buf_release(b);
		return BUF_NOMEM;
	}
	b->data = p;
	b->alloc = want;
	return BUF_OK;
}

int buf_add(struct buf *b, const void *data, size_t n)
{
	int ret;

	if (n > ((size_t)-1) - b->len - 1) {
		buf_release(b);
		return BUF_TOOBIG;
	}
	ret = grow(b, b->len + n);
	if (ret)
		return ret;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return BUF_OK;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;
	int ret;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		buf_release(b);
		return BUF_IOERR;
	}
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	ret = grow(b, b->len + (size_t)n);
	if (ret)
		return ret;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return BUF_OK;
}

int buf_read_stream(struct buf *b, FILE *f)
{
	char chunk[65536];
	size_t n;
	int ret;

	for (;;) {
		n = fread(chunk, 1, sizeof(chunk), f);
		if (n) {
			ret = buf_add(b, chunk, n);
			if (ret)
				return ret;
		}
		if (n < sizeof(chunk)) {
			if (ferror(f)) {
				buf_release(b);
				return BUF_IOERR;
			}
			break;
		}
	}
	/* an empty stream still yields a valid empty string */
	return buf_add(b, "", 0);
}

int buf_read_file(struct buf *b, const char *path)
{
	FILE *f;
	int ret;
	int saved;

	if (!strcmp(path, "-"))
		return buf_read_stream(b, stdin);
	f = fopen(path, "rb");
	if (!f) {
		buf_release(b);
		return BUF_IOERR;
	}
	ret = buf_read_stream(b, f);
	saved = errno;
	fclose(f);
	errno = saved;
	return ret;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (!b->data && buf_add(b, "", 0))
		return NULL;
	p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
