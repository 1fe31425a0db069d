/* capture.h - collect what library code writes to stderr, for unit tests.
 *
 * greenlight reports problems as one line on stderr (util.h).  Tests that
 * check a message wrap the call in capture_begin()/capture_end(): fd 2 is
 * pointed at a temporary file and the text is read back into `captured`.
 * Keep assertions outside the window so a failure message is not swallowed.
 */
#ifndef GREENLIGHT_TEST_CAPTURE_H
#define GREENLIGHT_TEST_CAPTURE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char captured[8192];
static FILE *capture_file;
static int capture_saved_fd = -1;

static inline void capture_begin(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	if (!capture_file)
		fail_msg("tmpfile failed");
	capture_saved_fd = dup(2);
	if (capture_saved_fd < 0 || dup2(fileno(capture_file), 2) < 0)
		fail_msg("cannot redirect stderr");
}

/* Restore stderr; returns the captured text (also in `captured`). */
static inline const char *capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(capture_saved_fd, 2);
	close(capture_saved_fd);
	capture_saved_fd = -1;
	rewind(capture_file);
	n = fread(captured, 1, sizeof(captured) - 1, capture_file);
	captured[n] = '\0';
	fclose(capture_file);
	capture_file = NULL;
	return captured;
}

/* Restore stderr if a test stopped inside a window (call from teardown). */
static inline void capture_reset(void)
{
	if (capture_saved_fd >= 0)
		capture_end();
}

/* Number of '\n'-terminated lines in s. */
static inline int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#endif
