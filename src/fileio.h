/* fileio.h - durable file writes, done in one place.
 *
 * write_file_atomic() never leaves a partial file behind: it writes a
 * temporary file beside the target (O_EXCL), flushes and fsyncs it, renames
 * it over the target and fsyncs the directory.  Readers see the old content
 * or the new, never a mix.
 */
#ifndef GREENLIGHT_FILEIO_H
#define GREENLIGHT_FILEIO_H

#include <stddef.h>

/* Returns 0, or -1 after reporting the error; the target is then unchanged
 * and no temporary file remains. */
int write_file_atomic(const char *path, const void *data, size_t len);

#endif
