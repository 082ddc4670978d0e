/* cmd_process.c — `sluice process LOCATION...`: run jobs on objects or files
 * named directly, for backfills and ad-hoc runs. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "config/location.h"
#include "intake/direct.h"
#include "intake/runner.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/strbuf.h"

static void process_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice process [OPTIONS] LOCATION...\n"
            "\n"
            "Runs a job for each LOCATION: s3://bucket/key (read through the configured\n"
            "storage) or a plain file path. The rule is chosen by routing, as for an event\n"
            "(a plain file routes with an empty bucket, so only rules with bucket \"*\"\n"
            "match it), unless --rule names one.\n"
            "\n"
            "Options:\n"
            "  -r, --rule NAME       use this rule instead of routing\n"
            "  -o, --output LOC      write here instead of the rule's output: s3://bucket/key,\n"
            "                        a file path, or a directory (ending in '/' or existing);\n"
            "                        placeholders such as {name} or {stem} are expanded\n"
            "  -R, --recursive       LOCATION is a prefix (s3://bucket/prefix/) or a directory:\n"
            "                        process every object or file below it\n"
            "  -j, --jobs N          run up to N jobs at once (default 1)\n"
            "      --no-progress     never draw progress (drawn on a terminal otherwise)\n"
            "      --force           process objects again even when their etag already has\n"
            "                        a SUCCEEDED run record under the same rule (duplicates\n"
            "                        are otherwise SKIPPED; --output runs never are)\n"
            "  -h, --help            this help\n"
            "\n"
            "Prints each output location on stdout. Exit status: 0 all jobs succeeded or\n"
            "were skipped, 1 a job failed, 2 usage or configuration error, 3 the jobs\n"
            "succeeded but a notification or run record could not be delivered.\n");
}

/* A literal --output can take one input only; more need a directory or a
 * template that tells the outputs apart. */
static int output_fits(const char *output, size_t n_inputs)
{
    if (!output || n_inputs <= 1 || strchr(output, '{'))
        return 1;
    size_t len = strlen(output);
    struct stat sb;
    return output[len - 1] == '/' || (stat(output, &sb) == 0 && S_ISDIR(sb.st_mode));
}

typedef struct process_opts {
    const char *rule, *output;
    int recursive, jobs, progress, force;
} process_opts;

static int parse_process_opts(int argc, char **argv, process_opts *o)
{
    static const struct option opts[] = {
        {"rule", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"recursive", no_argument, NULL, 'R'},
        {"jobs", required_argument, NULL, 'j'},
        {"no-progress", no_argument, NULL, 'P'},
        {"force", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *o = (process_opts){.jobs = 1, .progress = 1};
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:o:Rj:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o->rule = optarg; break;
        case 'o': o->output = optarg; break;
        case 'R': o->recursive = 1; break;
        case 'j':
            if (cli_parse_workers("process", "--jobs", optarg, &o->jobs) != 0)
                return SL_EXIT_USAGE;
            break;
        case 'P': o->progress = 0; break;
        case 'F': o->force = 1; break;
        case 'h': process_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("process", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("process", "no LOCATION given");
    if (o->output && !*o->output)
        return cli_usage_error("process", "--output is empty");
    return -1; /* go on */
}

int cmd_process(int argc, char **argv, const cli_globals *g)
{
    process_opts o;
    int rc = parse_process_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;

    intake *in = cli_open(g, "process", INTAKE_JOBS | INTAKE_RECOVER);
    if (!in)
        return SL_EXIT_USAGE;
    rc = SL_EXIT_USAGE;
    sl_error err = {0};
    direct_inputs inputs = {0};
    job_spec *specs = NULL;
    if (o.rule && !config_find_rule(in->cfg, o.rule)) {
        fprintf(stderr, "sluice process: no rule named \"%s\" in %s\n", o.rule, in->cfg->path);
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        if (direct_expand(in->storage, argv[i], o.recursive, &inputs, &err) != 0) {
            fprintf(stderr, "sluice process: %s\n", err.msg);
            goto out;
        }
    }
    if (!output_fits(o.output, inputs.count)) {
        rc = cli_usage_error("process",
                             "--output %s would receive %zu outputs: give a directory or a "
                             "template with {name}",
                             o.output, inputs.count);
        goto out;
    }
    if (inputs.count == 0)
        log_msg(NULL, SL_LOG_WARN, "nothing to process: no objects found");
    specs = xcalloc(inputs.count ? inputs.count : 1, sizeof *specs);
    for (size_t i = 0; i < inputs.count; i++) {
        specs[i] = intake_spec(in);
        specs[i].input = inputs.items[i];
        specs[i].rule_name = o.rule;
        specs[i].output_override = o.output;
        specs[i].show_progress = o.progress && o.jobs == 1;
        specs[i].force = o.force;
    }
    runner_totals totals = {0};
    runner_batch(in->runner, specs, inputs.count, o.jobs, NULL, &totals);
    if (inputs.count > 1)
        log_msg(NULL, SL_LOG_INFO, "%zu jobs: %zu succeeded, %zu failed, %zu skipped",
                inputs.count, totals.succeeded, totals.failed, totals.skipped);
    rc = runner_exit_code(&totals);
out:
    free(specs);
    direct_inputs_free(&inputs);
    intake_close(in);
    return rc;
}
