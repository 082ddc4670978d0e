/* cmd_watch.c — `sluice watch DIR --to s3://bucket/prefix/`: the options
 * and usage of the directory gateway (intake/watch.h). */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "intake/watch.h"
#include "util/signals.h"
#include "util/workers.h"

static void watch_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice watch [OPTIONS] DIR --to s3://BUCKET/PREFIX/\n"
            "\n"
            "Uploads every file completed in DIR (and the directories below it) to\n"
            "BUCKET under PREFIX + its path relative to DIR, through the configured\n"
            "storage, then marks it done. A file counts as complete once its writer\n"
            "closed it or it was renamed into DIR, and only while no process has it\n"
            "open for writing; files found by a scan (at start, after SIGHUP or an\n"
            "event overflow) must also be unchanged for --settle seconds. Names\n"
            "starting with '.' are ignored: write to a hidden name and rename it.\n"
            "\n"
            "Options:\n"
            "      --to URL           destination: s3://bucket/prefix/ (required)\n"
            "      --on-done MODE     move (default: into the sent tree) or delete\n"
            "      --sent-dir DIR     the sent tree (default: DIR/.sent; same filesystem)\n"
            "      --settle SECONDS   quiet time for scanned files (default 2)\n"
            "      --include-hidden   upload names starting with '.' too\n"
            "      --run              also run the routing rules on each uploaded object\n"
            "  -w, --workers N        uploads at once (default: the number of CPUs)\n"
            CLI_OPS_USAGE_METRICS CLI_OPS_USAGE_EXPECT
            "  -h, --help             this help\n"
            "\n"
            "SIGTERM or SIGINT stops it: uploads in progress are abandoned (nothing\n"
            "partial is published) and redone at the next start. SIGHUP rescans DIR.\n"
            "Exit status: 0 stopped by a signal, 1 watching failed, 2 usage or\n"
            "configuration error. See docs/watch.md.\n");
}

/* --- options ------------------------------------------------------------- */

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, watch_options *o, cli_ops_options *ops)
{
    enum { OPT_TO = 256, OPT_ON_DONE, OPT_SENT, OPT_SETTLE, OPT_HIDDEN, OPT_RUN, OPT_METRICS,
           OPT_EXPECT };
    static const struct option opts[] = {
        {"to", required_argument, NULL, OPT_TO},
        {"on-done", required_argument, NULL, OPT_ON_DONE},
        {"sent-dir", required_argument, NULL, OPT_SENT},
        {"settle", required_argument, NULL, OPT_SETTLE},
        {"include-hidden", no_argument, NULL, OPT_HIDDEN},
        {"run", no_argument, NULL, OPT_RUN},
        {"metrics-listen", required_argument, NULL, OPT_METRICS},
        {"expect-interval", required_argument, NULL, OPT_EXPECT},
        {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_TO: o->to = optarg; break;
        case OPT_ON_DONE:
            if (strcmp(optarg, "move") != 0 && strcmp(optarg, "delete") != 0)
                return cli_usage_error("watch", "--on-done must be move or delete, not \"%s\"",
                                       optarg);
            o->on_done_delete = strcmp(optarg, "delete") == 0;
            break;
        case OPT_SENT: o->sent_dir = optarg; break;
        case OPT_SETTLE:
            if (cli_parse_seconds("watch", "--settle", optarg, 0, 86400, &o->settle_s) != 0)
                return SL_EXIT_USAGE;
            break;
        case OPT_HIDDEN: o->include_hidden = 1; break;
        case OPT_RUN: o->run_jobs = 1; break;
        case OPT_METRICS: ops->metrics_listen = optarg; break;
        case OPT_EXPECT:
            if (cli_parse_int("watch", "--expect-interval", optarg, 0, 86400,
                              &ops->expect_interval_s) != 0)
                return SL_EXIT_USAGE;
            break;
        case 'w':
            if (cli_parse_workers("watch", "--workers", optarg, &o->workers) != 0)
                return SL_EXIT_USAGE;
            break;
        case 'h': watch_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("watch", "unknown option");
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("watch", "expected one directory, got %d", argc - optind);
    o->dir = argv[optind];
    if (!o->to)
        return cli_usage_error("watch", "--to s3://bucket/prefix/ is required");
    if (o->on_done_delete && o->sent_dir)
        return cli_usage_error("watch", "--sent-dir goes with --on-done move");
    return -1;
}

int cmd_watch(int argc, char **argv, const cli_globals *cg)
{
    watch_options o = {.settle_s = 2.0, .workers = workers_default_count()};
    cli_ops_options oo = {.expect_interval_s = CLI_EXPECT_INTERVAL_DEFAULT};
    cli_ops ops = {0};
    int rc = parse_options(argc, argv, &o, &oo);
    if (rc >= 0)
        return rc;

    /* The real path: the tree is watched without following links, but
     * DIR itself may well be one (/srv/inbound -> /mnt/share). */
    char *dir = realpath(o.dir, NULL);
    struct stat st;
    if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sluice watch: %s: %s\n", o.dir,
                dir ? "not a directory" : strerror(errno));
        free(dir);
        return SL_EXIT_USAGE;
    }
    o.dir = dir;
    /* before any thread exists, so that every thread inherits the mask;
     * the signals stay blocked to the end: a second one during teardown
     * must not kill the process halfway */
    if (signals_start(NULL, NULL) != 0) {
        fprintf(stderr, "sluice watch: cannot set up signal handling\n");
        free(dir);
        return SL_EXIT_USAGE;
    }
    intake *in =
        cli_open(cg, "watch", (o.run_jobs ? INTAKE_JOBS : INTAKE_STORAGE) | INTAKE_RECOVER);
    rc = !in ? SL_EXIT_USAGE : cli_ops_start(&oo, "watch", in, &ops);
    if (rc == 0)
        rc = watch_run(in, &o);
    cli_ops_stop(&ops);
    intake_close(in);
    free(dir);
    return rc;
}
