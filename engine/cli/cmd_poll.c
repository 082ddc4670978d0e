/* cmd_poll.c — `sluice poll --queue URL`: the options and usage of the SQS
 * workers (intake/poller.h). */
#include "autoconfig.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "cli/cli.h"
#include "intake/poller.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/workers.h"

/* On the signal thread: what a stop does to the work in hand, said when
 * it comes, not only when the running jobs have ended. */
static void on_signal(int sig, void *ud)
{
    (void)ud;
    if (sig != SIGHUP)
        log_msg(NULL, SL_LOG_INFO,
                "%s received: stopping (running jobs finish first; messages received and not "
                "started are made visible again)",
                signals_stop_name());
}

static void poll_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice poll --queue URL [OPTIONS]\n"
            "\n"
            "Long-polls an SQS queue for S3 event notifications (direct, through SNS, or\n"
            "EventBridge events) and runs their jobs. A message is deleted only after all\n"
            "its jobs succeeded or were skipped on purpose (test events, removals, an object\n"
            "deleted since); otherwise it stays, comes back after the visibility timeout and\n"
            "lands in the queue's dead-letter queue after maxReceiveCount receives.\n"
            "Run many `sluice poll` processes on many machines against one queue to scale out.\n"
            "\n"
            "Options:\n"
            "  -q, --queue URL        the queue URL (required)\n"
            "  -b, --batch N          messages per receive, 1..10 (default 10)\n"
            "  -w, --wait S           long-poll wait, 0..20 seconds (default 20)\n"
            "  -n, --workers N        worker threads (default: the number of cores)\n"
            "      --visibility S     visibility timeout asked for each message and renewed\n"
            "                         by the heartbeat while its jobs run (default 60)\n"
            "      --region R         signing region (default: AWS_REGION, the profile, or\n"
            "                         the one in the queue URL)\n"
            "      --profile NAME     AWS profile for credentials\n"
            "      --max-idle N       exit after N empty receives in a row per worker\n"
            "                         (drain the queue, then stop; default: run forever)\n"
            CLI_OPS_USAGE_METRICS CLI_OPS_USAGE_EXPECT
            "  -h, --help             this help\n"
            "\n"
            "Stops on SIGTERM or SIGINT: in-flight jobs finish, their messages are deleted\n"
            "or left as above, nothing else is received. Exit status: 0 clean stop, 1 some\n"
            "job failed (its message was left for redelivery), 2 usage or configuration error.\n");
}

static int parse_poll_opts(int argc, char **argv, poller_options *o, cli_ops_options *ops)
{
    enum { OPT_METRICS = 256, OPT_EXPECT };
    static const struct option opts[] = {
        {"queue", required_argument, NULL, 'q'},   {"batch", required_argument, NULL, 'b'},
        {"wait", required_argument, NULL, 'w'},    {"workers", required_argument, NULL, 'n'},
        {"visibility", required_argument, NULL, 'V'}, {"region", required_argument, NULL, 'r'},
        {"profile", required_argument, NULL, 'p'}, {"max-idle", required_argument, NULL, 'I'},
        {"metrics-listen", required_argument, NULL, OPT_METRICS},
        {"expect-interval", required_argument, NULL, OPT_EXPECT},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    *o = (poller_options){.batch = 10, .wait_s = 20, .workers = workers_default_count(),
                          .visibility_s = 60};
    int c, bad = 0;
    optind = 1;
    while (!bad && (c = getopt_long(argc, argv, "q:b:w:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'q': o->queue_url = optarg; break;
        case 'b': bad = cli_parse_int("poll", "--batch", optarg, 1, 10, &o->batch); break;
        case 'w': bad = cli_parse_int("poll", "--wait", optarg, 0, 20, &o->wait_s); break;
        case 'n': bad = cli_parse_workers("poll", "--workers", optarg, &o->workers); break;
        case 'V':
            bad = cli_parse_int("poll", "--visibility", optarg, 2, 43200, &o->visibility_s);
            break;
        case 'I':
            bad = cli_parse_int("poll", "--max-idle", optarg, 1, 1000000, &o->max_idle);
            break;
        case 'r': o->region = optarg; break;
        case 'p': o->profile = optarg; break;
        case OPT_METRICS: ops->metrics_listen = optarg; break;
        case OPT_EXPECT:
            bad = cli_parse_int("poll", "--expect-interval", optarg, 0, 86400,
                                &ops->expect_interval_s);
            break;
        case 'h': poll_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("poll", "unknown option");
        }
    }
    if (bad)
        return SL_EXIT_USAGE;
    if (optind < argc)
        return cli_usage_error("poll", "unexpected argument \"%s\"", argv[optind]);
    if (!o->queue_url)
        return cli_usage_error("poll", "--queue URL is required");
    return -1;
}

int cmd_poll(int argc, char **argv, const cli_globals *g)
{
    poller_options o;
    cli_ops_options oo = {.expect_interval_s = CLI_EXPECT_INTERVAL_DEFAULT};
    cli_ops ops;
    int rc = parse_poll_opts(argc, argv, &o, &oo);
    if (rc >= 0)
        return rc;
    /* before any thread exists, so that every thread inherits the mask */
    if (signals_start(on_signal, NULL) != 0) {
        fprintf(stderr, "sluice poll: cannot set up signal handling\n");
        return SL_EXIT_USAGE;
    }
    intake *in = cli_open(g, "poll", INTAKE_JOBS | INTAKE_RECOVER);
    if (!in)
        return SL_EXIT_USAGE;
    if ((rc = cli_ops_start(&oo, "poll", in, &ops)) != 0) {
        intake_close(in);
        return rc;
    }
    rc = poller_run(in, &o);
    cli_ops_stop(&ops);
    intake_close(in);
    return rc;
}
