/* main.c — the `sluice` command: global options, then a subcommand. */
#include "autoconfig.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/log.h"
#include "util/signals.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv, const cli_globals *g);
    const char *summary;
} command;

static const command commands[] = {
    {"run", cmd_run, "process the objects named by an event (S3, EventBridge, SNS, SQS)"},
    {"process", cmd_process, "process objects or files directly (backfills, ad-hoc runs)"},
    {"route", cmd_route, "show which rule an object would take, and why"},
    {"validate", cmd_validate, "check the configuration and report every problem"},
    {"plugins", cmd_plugins, "list the plugins found; new, check, run: the plugin kit"},
    {"runs", cmd_runs, "list, show and retry recorded runs"},
    {"notify-test", cmd_notify_test, "send a sample failure event to a notification target"},
    {"lambda", cmd_lambda, "serve as an AWS Lambda custom runtime (Runtime API loop)"},
    {"poll", cmd_poll, "process S3 events from an SQS queue (long polling workers)"},
    {"serve", cmd_serve, "accept events over HTTP (S3-compatible webhooks, SNS, EventBridge)"},
    {"watch", cmd_watch, "upload files completed in a directory, then mark them done"},
    {"deliveries", cmd_deliveries, "list delivery sets (data feeds) under a prefix and their state"},
    {"expect", cmd_expect, "check expected arrivals now and alarm the late ones (cron, schedules)"},
    {"janitor", cmd_janitor, "clean up after killed processes: records, temporaries, uploads"},
};

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice [GLOBAL OPTIONS] COMMAND [ARGS]\n"
            "\n"
            "sluice runs the right transform plugin on each object an event names and\n"
            "writes the result where the routing rules say.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp,
            "\n"
            "Global options (accepted before or after the command):\n"
            "  -c, --config FILE     configuration (default: $SLUICE_CONFIG, else ./sluice.yaml)\n"
            "      --log-format FMT  text (default) or json; logs go to stderr\n"
            "      --log-level LVL   debug, info (default), warn or error\n"
            "  -q, --quiet           same as --log-level warn\n"
            "  -h, --help            this help; 'sluice COMMAND --help' for a command\n"
            "  -V, --version         print the version\n"
            "\n"
            "Exit status: 0 ok, 1 a job failed, 2 usage or configuration error,\n"
            "3 the jobs succeeded but a notification or run record was not delivered.\n");
}

/* Takes the global options out of argv wherever they stand (before "--"),
 * so `sluice process --config x.yaml f` works like `sluice -c x.yaml process f`.
 * Returns -1 after printing an error. */
static int take_globals(int *argc, char **argv, cli_globals *g, log_format *fmt, log_level *lvl)
{
    int out = 1;
    int i;
    for (i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--") == 0)
            break;
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
            strcmp(a, "--log-format") == 0 || strcmp(a, "--log-level") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "sluice: %s needs a value\n", a);
                return -1;
            }
            val = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            a = "--config", val = argv[i] + 9;
        } else if (strncmp(a, "--log-format=", 13) == 0) {
            a = "--log-format", val = argv[i] + 13;
        } else if (strncmp(a, "--log-level=", 12) == 0) {
            a = "--log-level", val = argv[i] + 12;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            *lvl = SL_LOG_WARN;
            continue;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            g->config_path = val;
        } else if (strcmp(a, "--log-format") == 0 && log_parse_format(val, fmt) != 0) {
            fprintf(stderr, "sluice: --log-format must be text or json, not \"%s\"\n", val);
            return -1;
        } else if (strcmp(a, "--log-level") == 0 && log_parse_level(val, lvl) != 0) {
            fprintf(stderr, "sluice: --log-level must be debug, info, warn or error, not \"%s\"\n",
                    val);
            return -1;
        }
    }
    for (; i < *argc; i++)
        argv[out++] = argv[i];
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int main(int argc, char **argv)
{
    cli_globals g = {0};
    log_format fmt = SL_LOG_FORMAT_TEXT;
    log_level lvl = SL_LOG_INFO;

    signals_ignore_write_faults();
    if (take_globals(&argc, argv, &g, &fmt, &lvl) != 0)
        return SL_EXIT_USAGE;
    if (argc < 2) {
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return SL_EXIT_OK;
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
        printf("sluice %s (plugin ABI %d)\n", PACKAGE_VERSION, SLUICE_PLUGIN_ABI_VERSION);
        return SL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(name, commands[i].name) != 0)
            continue;
        log_configure(fmt, lvl);
        /* library-wide setup happens once, before any worker thread */
        xmlInitParser();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
            fprintf(stderr, "sluice: cannot initialise libcurl\n");
            return SL_EXIT_USAGE;
        }
        int rc = commands[i].fn(argc - 1, argv + 1, &g);
        curl_global_cleanup();
        xmlCleanupParser();
        return rc;
    }
    fprintf(stderr, "sluice: unknown command \"%s\"\nTry 'sluice --help'.\n", name);
    return SL_EXIT_USAGE;
}
