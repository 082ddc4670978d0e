/* cmd_expect.c — `sluice expect check`: judge the expected arrivals of the
 * configuration now (intake/expect.h), for cron or an EventBridge
 * schedule. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "intake/expect.h"
#include "util/clock.h"

static void expect_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice expect check [--now TIME]\n"
            "\n"
            "Judges the expected arrivals of the configuration's `expect:` block: for\n"
            "each item, the latest `lookback` periods whose deadline (`by` + `grace`)\n"
            "has passed. A period without a SUCCEEDED run of the rule gets a MISSING\n"
            "event, sent to the rule's on_failure targets and written as a run record,\n"
            "once: the verdict on each period is kept in the run records, so running\n"
            "this again (or a long-running mode's timer) alarms no period twice.\n"
            "Prints one line per judged period:\n"
            "  RULE every PERIOD: ARRIVED (run ID) | MISSING (...) | ERROR: why\n"
            "\n"
            "Options:\n"
            "      --now TIME   judge as of TIME (YYYY-MM-DDTHH:MM[:SS]Z) instead of now\n"
            "  -h, --help       this help\n"
            "\n"
            "Exit status: 0 nothing newly missing, 1 this check sent a MISSING alarm,\n"
            "2 usage or configuration error, 3 an alarm could not be delivered or a\n"
            "verdict or record not written, or the run records could not be read.\n"
            "See docs/expect.md.\n");
}

static int parse_options(int argc, char **argv, long long *now_ms)
{
    enum { OPT_NOW = 256 };
    static const struct option opts[] = {
        {"now", required_argument, NULL, OPT_NOW},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_NOW:
            if (clock_parse_iso(optarg, now_ms) != 0)
                return cli_usage_error("expect check",
                                       "--now \"%s\": expected YYYY-MM-DDTHH:MM[:SS]Z", optarg);
            break;
        case 'h': expect_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("expect check", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("expect check", "unexpected argument \"%s\"", argv[optind]);
    return -1;
}

int cmd_expect(int argc, char **argv, const cli_globals *g)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        expect_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SL_EXIT_USAGE : SL_EXIT_OK;
    }
    if (strcmp(argv[1], "check") != 0)
        return cli_usage_error("expect", "unknown subcommand \"%s\" (there is: check)", argv[1]);
    long long now_ms = clock_schedule_now_ms();
    int rc = parse_options(argc - 1, argv + 1, &now_ms);
    if (rc >= 0)
        return rc;
    intake *in = cli_open(g, "expect check", INTAKE_STORAGE);
    if (!in)
        return SL_EXIT_USAGE;
    sl_error err = {0};
    expect_checker *ec = expect_checker_new(in->cfg, in->storage, in->metrics, &err);
    if (!ec) {
        fprintf(stderr, "sluice expect check: %s\n", err.msg);
        intake_close(in);
        return SL_EXIT_USAGE;
    }
    expect_summary s;
    if (in->cfg->n_expects == 0)
        fprintf(stderr, "sluice expect check: %s expects nothing (no expect: block)\n",
                in->cfg->path);
    expect_check(ec, now_ms, stdout, &s);
    fflush(stdout);
    expect_checker_free(ec);
    intake_close(in);
    if (s.failures)
        return SL_EXIT_NOT_REPORTED;
    return s.missing_new ? SL_EXIT_JOB_FAILED : SL_EXIT_OK;
}
