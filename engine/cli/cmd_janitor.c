/* cmd_janitor.c — `sluice janitor`: clean up after killed sluice processes
 * (intake/janitor.h, docs/janitor.md), for cron or a systemd timer. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "intake/janitor.h"

#define DEFAULT_OLDER_THAN_S (24 * 3600)
#define MAX_OLDER_THAN_S (100LL * 365 * 86400)

static void janitor_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice janitor [--dry-run] [--older-than DURATION]\n"
            "\n"
            "Cleans up what killed sluice processes left behind, for the configuration:\n"
            "  - run records: RUNNING records of this host whose process is gone become\n"
            "    ABANDONED (`sluice runs retry --failed` runs them again);\n"
            "  - temporary files (.sluice-tmp.*) in the directories the rules' outputs\n"
            "    and the run records are written to: those of a process of this host\n"
            "    that is gone; those of another host, or named by an older sluice (no\n"
            "    writer in the name), once older than DURATION;\n"
            "  - S3 multipart uploads under the rules' S3 output prefixes that a sluice\n"
            "    job started (the run records hold a mark of each) and left open longer\n"
            "    than DURATION, unless their process still runs on this host. Uploads\n"
            "    sluice did not start are never touched.\n"
            "Every mode that runs jobs does the certain part (records, temporaries of\n"
            "dead processes of this host) when it starts.\n"
            "Prints one line per thing cleaned (or kept, and why):\n"
            "  abandoned|removed|aborted|kept|FAILED  KIND  NAME  why\n"
            "\n"
            "Options:\n"
            "  -n, --dry-run          change nothing, print what would be done\n"
            "      --older-than D     the age past which what cannot be judged by its\n"
            "                         process goes: 90s, 30m, 24h (default), 7d\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit status: 0 ok, 1 something could not be removed or aborted, or a place\n"
            "could not be looked at, 2 usage or configuration error. See docs/janitor.md.\n");
}

static int parse_options(int argc, char **argv, janitor_options *o)
{
    enum { OPT_OLDER = 256 };
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'n'},
        {"older-than", required_argument, NULL, OPT_OLDER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o->dry_run = 1; break;
        case OPT_OLDER:
            if (cli_parse_duration("janitor", "--older-than", optarg, MAX_OLDER_THAN_S,
                                   &o->older_than_s) != 0)
                return SL_EXIT_USAGE;
            break;
        case 'h': janitor_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("janitor", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("janitor", "unexpected argument \"%s\"", argv[optind]);
    return -1;
}

static const char *verb(const janitor_item *it, int dry_run)
{
    if (it->verdict == JANITOR_KEPT)
        return "kept";
    if (it->verdict == JANITOR_FAILED)
        return "FAILED";
    switch (it->kind) {
    case JANITOR_RECORD: return dry_run ? "would-abandon" : "abandoned";
    case JANITOR_TEMP: return dry_run ? "would-remove" : "removed";
    case JANITOR_UPLOAD: return dry_run ? "would-abort" : "aborted";
    }
    return "?";
}

static void print_item(void *ud, const janitor_item *it)
{
    const janitor_options *o = ud;
    static const char *const kinds[] = {"run", "temp", "upload"};
    printf("%-13s  %-6s  %s", verb(it, o->dry_run), kinds[it->kind], it->name);
    if (it->upload_id)
        printf(" (upload %s)", it->upload_id);
    printf("  %s\n", it->why ? it->why : "");
}

int cmd_janitor(int argc, char **argv, const cli_globals *g)
{
    janitor_options o = {.by_age = 1, .older_than_s = DEFAULT_OLDER_THAN_S, .uploads = 1};
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    o.report = print_item;
    o.ud = &o;
    intake *in = cli_open(g, "janitor", INTAKE_STORAGE);
    if (!in)
        return SL_EXIT_USAGE;
    janitor_totals t = {0};
    janitor_run(in, &o, &t);
    fflush(stdout);
    intake_close(in);
    return t.failed || t.unreadable ? SL_EXIT_JOB_FAILED : SL_EXIT_OK;
}
