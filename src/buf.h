/* buf.h - bounded, growable byte buffers for everything read from outside.
 *
 * A buffer carries a hard maximum chosen by its owner (BUF_INIT(max)).  An
 * append that would exceed the maximum, or that fails to allocate, frees the
 * contents and leaves the buffer empty, so a caller never sees half a value.
 * The data is always NUL-terminated (not counted in len) once anything was
 * appended, so text can be handed to C string functions.
 */
#ifndef GREENLIGHT_BUF_H
#define GREENLIGHT_BUF_H

#include <stddef.h>
#include <stdio.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;	/* hard cap on len */
};

#define BUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

enum buf_status {
	BUF_OK = 0,
	BUF_NOMEM = -1,
	BUF_TOOBIG = -2,
	BUF_IOERR = -3,
};

/* Append n bytes.  On failure the buffer is released (empty) and a negative
 * buf_status is returned. */
int buf_add(struct buf *b, const void *data, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Read a whole stream or file (path "-" is stdin).  On failure the buffer is
 * released and errno describes I/O errors (BUF_IOERR). */
int buf_read_stream(struct buf *b, FILE *f);
int buf_read_file(struct buf *b, const char *path);

/* Free the contents; the buffer can be reused with the same maximum. */
void buf_release(struct buf *b);

/* Hand the data to the caller (NUL-terminated, never NULL) and reset. */
char *buf_detach(struct buf *b, size_t *len);

#endif
