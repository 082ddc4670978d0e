/* cmd_run.c — `sluice run [EVENT.json | -]`: process the objects an event
 * names, as a Lambda handler would. */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "event.h"
#include "log.h"
#include "runner.h"
#include "strbuf.h"

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

static int read_all(const char *path, strbuf *out, char *err, size_t errlen)
{
    int rc = strcmp(path, "-") == 0 ? sb_read_stream(out, stdin) : sb_read_file(out, path);
    if (rc != 0)
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(rc));
    return rc ? -1 : 0;
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
    int jobs = 1, progress = 1, force = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            jobs = atoi(optarg);
            if (jobs < 1 || jobs > 256)
                return cli_usage_error("run", "--jobs must be between 1 and 256");
            break;
        case 'P': progress = 0; break;
        case 'F': force = 1; break;
        case 'h': run_usage(stdout); return EXIT_OK;
        default: return cli_usage_error("run", "unknown option");
        }
    }
    if (argc - optind > 1)
        return cli_usage_error("run", "expected one event file, got %d", argc - optind);
    const char *path = optind < argc ? argv[optind] : "-";

    strbuf text = STRBUF_INIT;
    char msg[512];
    if (read_all(path, &text, msg, sizeof msg) != 0) {
        fprintf(stderr, "sluice run: %s\n", msg);
        sb_free(&text);
        return EXIT_USAGE;
    }
    event_batch batch = {0};
    sl_error err = {0};
    if (event_parse(sb_str(&text), text.len, &batch, &err) != 0) {
        fprintf(stderr, "sluice run: %s: %s\n", strcmp(path, "-") == 0 ? "<stdin>" : path,
                err.msg);
        event_batch_free(&batch);
        sb_free(&text);
        return EXIT_USAGE;
    }
    sb_free(&text);

    plugin_host *host = NULL;
    config *cfg = cli_load_config(g, &host);
    if (!cfg) {
        event_batch_free(&batch);
        return EXIT_USAGE;
    }
    storage *st = storage_open(&cfg->storage, &err);
    if (!st) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        config_free(cfg);
        plugin_host_free(host);
        event_batch_free(&batch);
        return EXIT_USAGE;
    }

    job_spec *specs = xcalloc(batch.count ? batch.count : 1, sizeof *specs);
    size_t n = 0;
    for (size_t i = 0; i < batch.count; i++) {
        const event_record *ev = &batch.records[i];
        if (ev->kind == EVENT_SKIP) {
            log_msg(NULL, LOG_INFO, "event acknowledged and skipped: %s%s%s", ev->skip_reason,
                    ev->bucket ? " bucket=" : "", ev->bucket ? ev->bucket : "");
            continue;
        }
        specs[n] = (job_spec){
            .cfg = cfg,
            .storage = st,
            .input = {.kind = LOC_OBJECT, .bucket = ev->bucket, .key = ev->key},
            .event = ev,
            .show_progress = progress && jobs == 1,
            .force = force,
        };
        n++;
    }
    runner_totals totals = {0};
    runner_run(cfg, specs, n, jobs, &totals);
    free(specs);
    storage_destroy(st);
    config_free(cfg);
    plugin_host_free(host);
    event_batch_free(&batch);
    return runner_exit_code(&totals);
}
