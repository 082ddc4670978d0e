/* cli.h — what the commands share: global options, opening the intake
 * context with its errors printed, usage errors and option parsing. Exit
 * statuses are util/exitcode.h's.
 *
 * Each command lives in cmd_<name>.c and holds only its options, its
 * usage text and its output; what it does lives in the layers below. */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stddef.h>

#include "intake/intake.h"
#include "util/exitcode.h"

typedef struct cli_globals {
    const char *config_path; /* --config, or NULL */
} cli_globals;

/* The configuration file to use: --config, $SLUICE_CONFIG, ./sluice.yaml. */
const char *cli_config_path(const cli_globals *g);

/* Opens the intake context (intake.h's `what`) for command `cmd`. Prints
 * every diagnostic and failure to stderr; warnings only when `warnings`.
 * Returns NULL on failure. */
intake *cli_open(const cli_globals *g, const char *cmd, unsigned what);

/* "sluice CMD: message" on stderr, plus a hint to --help. Returns
 * SL_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

/* --- option values -------------------------------------------------------
 * Each parses the whole text or fails with a usage error naming the
 * option and the accepted range: they return 0, or SL_EXIT_USAGE after
 * printing. */
int cli_parse_int(const char *cmd, const char *opt, const char *text, long lo, long hi,
                  int *out);
/* Seconds, fractions allowed ("2", "0.5"). */
int cli_parse_seconds(const char *cmd, const char *opt, const char *text, double lo, double hi,
                      double *out);
/* A size in bytes with an optional k/K or m/M suffix (1024-based). */
int cli_parse_bytes(const char *cmd, const char *opt, const char *text, size_t lo, size_t hi,
                    size_t *out);
/* --jobs/--workers: 1..WORKERS_MAX (util/workers.h). */
int cli_parse_workers(const char *cmd, const char *opt, const char *text, int *out);

int cmd_run(int argc, char **argv, const cli_globals *g);
int cmd_process(int argc, char **argv, const cli_globals *g);
int cmd_route(int argc, char **argv, const cli_globals *g);
int cmd_validate(int argc, char **argv, const cli_globals *g);
int cmd_plugins(int argc, char **argv, const cli_globals *g);
int cmd_plugins_new(int argc, char **argv, const cli_globals *g);
int cmd_plugins_check(int argc, char **argv, const cli_globals *g);
int cmd_plugins_run(int argc, char **argv, const cli_globals *g);
/* --options of `plugins check` and `run`: a JSON object, or @FILE holding
 * one. Returns 0 and *out (a new reference), or SL_EXIT_USAGE after
 * printing what is wrong. */
int cmd_plugins_options(const char *cmd, const char *text, json_t **out);
int cmd_runs(int argc, char **argv, const cli_globals *g);
int cmd_notify_test(int argc, char **argv, const cli_globals *g);
int cmd_lambda(int argc, char **argv, const cli_globals *g);
int cmd_watch(int argc, char **argv, const cli_globals *g);
int cmd_serve(int argc, char **argv, const cli_globals *g);
int cmd_poll(int argc, char **argv, const cli_globals *g);
int cmd_deliveries(int argc, char **argv, const cli_globals *g);

#endif
