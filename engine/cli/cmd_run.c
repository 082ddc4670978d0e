/* cmd_run.c — `sluice run [EVENT.json | -]`: process the objects an event
 * names, as a Lambda handler would. */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/event.h"
#include "intake/runner.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/strbuf.h"

static void run_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice run [OPTIONS] [EVENT.json | -]\n"
            "\n"
            "Reads one event (a file, or standard input when omitted or '-') and runs a job\n"
            "for every object it names. Accepted: S3 event notifications, EventBridge\n"
            "\"Object Created\" events, SNS envelopes and SQS messages holding either.\n"
            "s3:TestEvent and ObjectRemoved events are acknowledged and skipped; an object\n"
            "no rule matches is logged and skipped.\n"
            "\n"
            "Options:\n"
            "  -j, --jobs N    run up to N jobs at once (default 1)\n"
            "      --force     process objects again even when their etag already has a\n"
            "                  SUCCEEDED run record under the same rule (duplicates are\n"
            "                  otherwise SKIPPED)\n"
            "      --no-progress  never draw progress\n"
            "  -h, --help      this help\n"
            "\n"
            "Prints each output location on stdout. Exit status: 0 all jobs succeeded or\n"
            "were skipped, 1 a job failed, 2 usage, configuration or event error, 3 the\n"
            "jobs succeeded but a notification or run record could not be delivered.\n");
}

int cmd_run(int argc, char **argv, const cli_globals *g)
{
    static const struct option opts[] = {
        {"jobs", required_argument, NULL, 'j'},
        {"no-progress", no_argument, NULL, 'P'},
        {"force", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    intake_run how = {.workers = 1, .show_progress = 1, .print_outputs = 1};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            if (cli_parse_workers("run", "--jobs", optarg, &how.workers) != 0)
                return SL_EXIT_USAGE;
            break;
        case 'P': how.show_progress = 0; break;
        case 'F': how.force = 1; break;
        case 'h': run_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("run", "unknown option");
        }
    }
    if (argc - optind > 1)
        return cli_usage_error("run", "expected one event file, got %d", argc - optind);
    const char *path = optind < argc ? argv[optind] : "-";
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;

    strbuf text = STRBUF_INIT;
    int rc = strcmp(path, "-") == 0 ? sb_read_stream(&text, stdin) : sb_read_file(&text, path);
    if (rc != 0) {
        fprintf(stderr, "sluice run: %s: cannot read: %s\n", name, strerror(rc));
        sb_free(&text);
        return SL_EXIT_USAGE;
    }
    /* the event is checked before anything is loaded: a bad event is a
     * usage error, whatever the configuration */
    event_batch batch = {0};
    sl_error err = {0};
    rc = event_parse(sb_str(&text), text.len, &batch, &err);
    event_batch_free(&batch);
    if (rc != 0) {
        fprintf(stderr, "sluice run: %s: %s\n", name, err.msg);
        sb_free(&text);
        return SL_EXIT_USAGE;
    }
    intake *in = cli_open(g, "run", INTAKE_JOBS | INTAKE_RECOVER);
    if (!in) {
        sb_free(&text);
        return SL_EXIT_USAGE;
    }
    intake_outcome out;
    intake_run_event(in, sb_str(&text), text.len, &how, &out, &err);
    rc = runner_exit_code(&out.totals);
    intake_outcome_free(&out);
    intake_close(in);
    sb_free(&text);
    return rc;
}
