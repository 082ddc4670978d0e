/* cmd_lambda.c — `sluice lambda`: the options and usage of the Lambda
 * custom-runtime loop (intake/lambda.h). */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "intake/lambda.h"
#include "util/workers.h"

static void lambda_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice lambda [OPTIONS]\n"
            "\n"
            "Serves as an AWS Lambda custom runtime (provided.al2023): loads the\n"
            "configuration and plugins once, then takes invocations from the Runtime API\n"
            "at $AWS_LAMBDA_RUNTIME_API and runs a job for every object each event names\n"
            "(S3 notifications, EventBridge, SNS and SQS deliveries, Lambda's SQS and SNS\n"
            "trigger records). The response is a JSON summary:\n"
            "  {\"succeeded\":N,\"failed\":0,\"skipped\":N,\"outputs\":[\"s3://...\"]}\n"
            "A failed job makes the invocation fail with errorType Sluice.JobFailed; an\n"
            "event sluice does not understand with Sluice.InvalidEvent. Configuration\n"
            "errors go to the init-error path (Sluice.ConfigError) and end the process.\n"
            "\n"
            "Options:\n"
            "  -w, --workers N  run up to N jobs of one invocation at once\n"
            "                   (default: the number of CPUs)\n"
            "  -h, --help       this help\n"
            "\n"
            "Stops on SIGTERM or SIGINT: at once while waiting for an invocation, else\n"
            "after the current invocation's result is posted. See docs/lambda.md.\n");
}

/* --- the loop ------------------------------------------------------------ */

static int parse_options(int argc, char **argv, int *workers)
{
    static const struct option opts[] = {
        {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
            if (cli_parse_workers("lambda", "--workers", optarg, workers) != 0)
                return SL_EXIT_USAGE;
            break;
        case 'h': lambda_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("lambda", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("lambda", "unexpected argument \"%s\"", argv[optind]);
    return -1; /* go on */
}

int cmd_lambda(int argc, char **argv, const cli_globals *g)
{
    lambda_options o = {.config_path = cli_config_path(g),
                        .runtime_api = getenv("AWS_LAMBDA_RUNTIME_API"),
                        .workers = workers_default_count()};
    int rc = parse_options(argc, argv, &o.workers);
    if (rc >= 0)
        return rc;
    return lambda_run(&o);
}
