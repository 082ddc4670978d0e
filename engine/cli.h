/* cli.h — what the subcommands share: global options, configuration
 * loading, usage errors. Exit codes: 0 ok, 1 a job failed, 2 usage or
 * configuration error, 3 every job succeeded or was skipped but a
 * notification or run record could not be delivered
 * (RUNNER_EXIT_NOT_REPORTED in runner.h). */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include "config.h"
#include "plugin_host.h"

#define EXIT_OK 0
#define EXIT_JOB_FAILED 1
#define EXIT_USAGE 2

typedef struct cli_globals {
    const char *config_path; /* --config, or NULL */
} cli_globals;

/* The configuration file to use: --config, $SLUICE_CONFIG, ./sluice.yaml. */
const char *cli_config_path(const cli_globals *g);

/* Loads the configuration, creates the plugin host and binds every rule's
 * plugin. Prints all diagnostics to stderr. Returns NULL on any error. */
config *cli_load_config(const cli_globals *g, plugin_host **host_out);

/* "sluice CMD: message" on stderr, plus a hint to --help. Returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

int cmd_run(int argc, char **argv, const cli_globals *g);
int cmd_process(int argc, char **argv, const cli_globals *g);
int cmd_route(int argc, char **argv, const cli_globals *g);
int cmd_validate(int argc, char **argv, const cli_globals *g);
int cmd_plugins(int argc, char **argv, const cli_globals *g);
int cmd_runs(int argc, char **argv, const cli_globals *g);
int cmd_notify_test(int argc, char **argv, const cli_globals *g);
int cmd_lambda(int argc, char **argv, const cli_globals *g);
int cmd_watch(int argc, char **argv, const cli_globals *g);
int cmd_serve(int argc, char **argv, const cli_globals *g);
int cmd_poll(int argc, char **argv, const cli_globals *g);

#endif
