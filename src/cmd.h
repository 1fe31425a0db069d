/* cmd.h - the commands greenlight dispatches to (one file each). */
#ifndef GREENLIGHT_CMD_H
#define GREENLIGHT_CMD_H

#include <stdio.h>

/* Each command gets argv with argv[0] = command name and returns an exit
 * code from enum gl_exit.  Only commands decide exit codes. */
int cmd_check(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_import_sfn(int argc, char **argv);
int cmd_record(int argc, char **argv);

void usage_check(FILE *out);
void usage_validate(FILE *out);
void usage_run(FILE *out);
void usage_relay(FILE *out);
void usage_import_sfn(FILE *out);
void usage_record(FILE *out);

/* Write a decision record (JSON) to `path` atomically; -1 on error. */
int write_record(const char *path, const char *json);

/* Record the evaluation's values for HEAD with `outcome` in the gate's
 * baseline store; -1 reported. */
struct evaluation;
int record_outcome(const struct evaluation *e, const char *outcome, FILE *log);

#endif
