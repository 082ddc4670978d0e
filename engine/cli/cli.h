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
/* A duration: whole seconds, or a number with s, m, h or d ("90s", "30m",
 * "24h", "7d"); at most hi seconds. */
int cli_parse_duration(const char *cmd, const char *opt, const char *text, long long hi,
                       long long *out);
/* --jobs/--workers: 1..WORKERS_MAX (util/workers.h). */
int cli_parse_workers(const char *cmd, const char *opt, const char *text, int *out);

/* --- what every long-running mode runs beside its intake -----------------
 * --metrics-listen ADDR:PORT (poll, watch: serve answers /metrics on its own
 * listener) and --expect-interval SECONDS (poll, watch, serve). */
#define CLI_EXPECT_INTERVAL_DEFAULT 60
#define CLI_OPS_USAGE_METRICS                                                          \
    "      --metrics-listen ADDR:PORT  serve GET /metrics (Prometheus text) and\n"       \
    "                         GET /healthz there (port 0 picks one; it is logged)\n"
#define CLI_OPS_USAGE_EXPECT                                                           \
    "      --expect-interval S  check the expect: block every S seconds (default 60;\n" \
    "                         0: never; see docs/expect.md)\n"
typedef struct cli_ops_options {
    const char *metrics_listen; /* NULL: no listener */
    int expect_interval_s;      /* 0: no timer */
} cli_ops_options;
typedef struct cli_ops {
    struct metrics_server *metrics;
    struct expect_timer *expect;
} cli_ops;
/* Starts them for `in` (after signals_start(), so their threads block the
 * signals). 0, or SL_EXIT_USAGE after printing why. */
int cli_ops_start(const cli_ops_options *o, const char *cmd, intake *in, cli_ops *ops);
void cli_ops_stop(cli_ops *ops);

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
int cmd_expect(int argc, char **argv, const cli_globals *g);
int cmd_janitor(int argc, char **argv, const cli_globals *g);

#endif
