/* cmd_process.c — `sluice process LOCATION...`: run jobs on objects or files
 * named directly, for backfills and ad-hoc runs. */
#include "autoconfig.h"

#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "location.h"
#include "log.h"
#include "runner.h"
#include "strbuf.h"

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

typedef struct input_list {
    location *items;
    size_t count, cap;
} input_list;

static void inputs_add(input_list *l, location loc)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = loc;
}

static void inputs_free(input_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        location_free(&l->items[i]);
    free(l->items);
}

typedef struct list_ctx {
    input_list *inputs;
    const char *bucket;
} list_ctx;

static int add_listed_key(void *ud, const char *key, const object_info *info)
{
    list_ctx *c = ud;
    location loc = {.kind = LOC_OBJECT, .bucket = xstrdup(c->bucket), .key = xstrdup(key)};
    inputs_add(c->inputs, loc);
    return 0;
}

/* nftw has no user pointer; this is the one walk in flight (the CLI's main
 * thread, before any job starts). */
static input_list *walk_target;

static int add_walked_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type == FTW_F && S_ISREG(st->st_mode))
        inputs_add(walk_target, (location){.kind = LOC_FILE, .path = xstrdup(path)});
    return 0;
}

static int cmp_location(const void *a, const void *b)
{
    const location *x = a, *y = b;
    return strcmp(x->path, y->path);
}

static int expand_location(const char *text, int recursive, storage *st, input_list *out)
{
    location loc = {0};
    sl_error err = {0};
    if (location_parse(text, &loc, &err) != 0) {
        fprintf(stderr, "sluice process: %s\n", err.msg);
        return -1;
    }
    if (loc.kind == LOC_OBJECT) {
        int is_prefix = !*loc.key || loc.key[strlen(loc.key) - 1] == '/';
        if (!recursive) {
            if (is_prefix) {
                fprintf(stderr, "sluice process: %s names a prefix, not an object: add --recursive\n",
                        text);
                location_free(&loc);
                return -1;
            }
            inputs_add(out, loc);
            return 0;
        }
        list_ctx c = {.inputs = out, .bucket = loc.bucket};
        int rc = st->ops->list(st, loc.bucket, loc.key, add_listed_key, &c, &err);
        location_free(&loc);
        if (rc < 0) {
            fprintf(stderr, "sluice process: %s\n", err.msg);
            return -1;
        }
        return 0;
    }
    struct stat sb;
    if (stat(loc.path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        if (!recursive) {
            fprintf(stderr, "sluice process: %s is a directory: add --recursive\n", loc.path);
            location_free(&loc);
            return -1;
        }
        size_t first = out->count;
        walk_target = out;
        int rc = nftw(loc.path, add_walked_file, 16, FTW_PHYS);
        walk_target = NULL;
        qsort(out->items + first, out->count - first, sizeof *out->items, cmp_location);
        location_free(&loc);
        if (rc != 0) {
            fprintf(stderr, "sluice process: cannot walk %s\n", text);
            return -1;
        }
        return 0;
    }
    inputs_add(out, loc);
    return 0;
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
            o->jobs = atoi(optarg);
            if (o->jobs < 1 || o->jobs > 256)
                return cli_usage_error("process", "--jobs must be between 1 and 256");
            break;
        case 'P': o->progress = 0; break;
        case 'F': o->force = 1; break;
        case 'h': process_usage(stdout); return EXIT_OK;
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

    plugin_host *host = NULL;
    config *cfg = cli_load_config(g, &host);
    if (!cfg)
        return EXIT_USAGE;
    rc = EXIT_USAGE;
    sl_error err = {0};
    input_list inputs = {0};
    job_spec *specs = NULL;
    storage *st = storage_open(&cfg->storage, &err);
    if (!st) {
        fprintf(stderr, "sluice process: %s\n", err.msg);
        goto out;
    }
    if (o.rule && !config_find_rule(cfg, o.rule)) {
        fprintf(stderr, "sluice process: no rule named \"%s\" in %s\n", o.rule, cfg->path);
        goto out;
    }
    for (int i = optind; i < argc; i++)
        if (expand_location(argv[i], o.recursive, st, &inputs) != 0)
            goto out;
    if (!output_fits(o.output, inputs.count)) {
        rc = cli_usage_error("process",
                             "--output %s would receive %zu outputs: give a directory or a "
                             "template with {name}",
                             o.output, inputs.count);
        goto out;
    }
    if (inputs.count == 0)
        log_msg(NULL, LOG_WARN, "nothing to process: no objects found");
    specs = xcalloc(inputs.count ? inputs.count : 1, sizeof *specs);
    for (size_t i = 0; i < inputs.count; i++)
        specs[i] = (job_spec){
            .cfg = cfg,
            .storage = st,
            .input = inputs.items[i],
            .rule_name = o.rule,
            .output_override = o.output,
            .show_progress = o.progress && o.jobs == 1,
            .force = o.force,
        };
    runner_totals totals = {0};
    runner_run(cfg, specs, inputs.count, o.jobs, &totals);
    if (inputs.count > 1)
        log_msg(NULL, LOG_INFO, "%zu jobs: %zu succeeded, %zu failed, %zu skipped",
                inputs.count, totals.succeeded, totals.failed, totals.skipped);
    rc = runner_exit_code(&totals);
out:
    free(specs);
    inputs_free(&inputs);
    if (st)
        storage_destroy(st);
    config_free(cfg);
    plugin_host_free(host);
    return rc;
}
