/* cmd_deliveries.c — `sluice deliveries [--prefix LOC]`: the delivery sets
 * that arrived under a prefix and their state, the operator's view of a
 * data-feed bucket (core/delivery_scan.h; docs/delivery-sets.md). */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/location.h"
#include "core/delivery_scan.h"
#include "core/router.h"
#include "core/runstore.h"
#include "util/alloc.h"

static void deliveries_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice deliveries [--prefix s3://BUCKET/PREFIX] [--json]\n"
            "\n"
            "Lists the delivery sets (Adobe Analytics data feeds: RSID_YYYY-MM-DD.txt\n"
            "manifests, .fin markers and their data files) found under the prefix, read\n"
            "through the configured storage, one line per set:\n"
            "\n"
            "  processed    a rule with `delivery:` already processed this manifest\n"
            "               (the run id of its SUCCEEDED run is shown)\n"
            "  complete     every listed file is there with its size: ready to run\n"
            "  incomplete   files the manifest lists are missing or of another size\n"
            "  bad-manifest the manifest cannot be read or parsed (why is shown)\n"
            "  waiting      data files whose manifest has not arrived\n"
            "\n"
            "Without --prefix, the bucket and prefix of every rule with `delivery:` are\n"
            "listed (rules matching any bucket need --prefix).\n"
            "\n"
            "Options:\n"
            "  -p, --prefix LOC  s3://BUCKET/ or s3://BUCKET/PREFIX to look under\n"
            "      --json        one JSON object per set instead of text\n"
            "  -h, --help        this help\n"
            "\n"
            "Exit status: 0 listed, 1 the storage could not be listed, 2 usage or\n"
            "configuration error.\n");
}

typedef struct scan_ctx {
    const config *cfg;
    runstore *runs; /* NULL: no run records, so nothing shows as processed */
    const char *bucket;
    int json;
} scan_ctx;

/* The run that already processed this set, if any: its rule is the one a
 * manifest routes to, its identity the set's digest (core/job.c). */
static int find_processed(const scan_ctx *c, const delivery_scan_set *set, char run[RUNID_MAX])
{
    route_match m = {0};
    char why[256];
    int found = 0;
    if (!c->runs || !set->digest ||
        route_object(c->cfg, c->bucket, set->key, NULL, &m, NULL, why, sizeof why) != 0)
        return 0;
    if (m.rule && m.rule->delivery) {
        char *input = xasprintf("s3://%s/%s", c->bucket, set->key);
        sl_error err = {0};
        found = runstore_find_done(c->runs, m.rule->name, template_source(m.rule->output), input,
                                   NULL, set->digest, run, &err) == 1;
        free(input);
    }
    route_match_free(&m);
    return found;
}

static const char *state_word(const delivery_scan_set *set, int processed)
{
    if (processed)
        return "processed";
    switch (set->state) {
    case DELIVERY_COMPLETE: return "complete";
    case DELIVERY_INCOMPLETE: return "incomplete";
    case DELIVERY_BAD_MANIFEST: return "bad-manifest";
    case DELIVERY_NO_MANIFEST: return "waiting";
    }
    return "incomplete";
}

static void print_json(const scan_ctx *c, const delivery_scan_set *set, const char *state,
                       const char *run)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "state", state, "bucket", c->bucket,
                          "key", set->key, "rsid", set->rsid, "feed_date", set->feed_date,
                          "data_files", (json_int_t)set->n_data);
    if (set->feed_hour[0])
        json_object_set_new(o, "feed_hour", json_string(set->feed_hour));
    if (run)
        json_object_set_new(o, "run_id", json_string(run));
    if (set->problems[0])
        json_object_set_new(o, "problems", json_string(set->problems));
    char *text = json_dumps(o, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(o);
}

static int print_set(void *ud, const delivery_scan_set *set)
{
    const scan_ctx *c = ud;
    char run[RUNID_MAX];
    int processed = set->state == DELIVERY_COMPLETE && find_processed(c, set, run);
    const char *state = state_word(set, processed);
    if (c->json) {
        print_json(c, set, state, processed ? run : NULL);
        return 0;
    }
    printf("%-12s  s3://%s/%s", state, c->bucket, set->key);
    if (processed)
        printf("  run %s", run);
    else if (set->state == DELIVERY_COMPLETE)
        printf("  %zu data file%s", set->n_data, set->n_data == 1 ? "" : "s");
    else
        printf("  %s", set->problems);
    printf("\n");
    return 0;
}

static int scan_one(scan_ctx *c, storage *st, const char *where)
{
    location loc = {0};
    sl_error err = {0};
    int rc = SL_EXIT_OK;
    if (location_parse(where, &loc, &err) != 0 || loc.kind != LOC_OBJECT) {
        rc = cli_usage_error("deliveries", "--prefix %s: give s3://BUCKET/ or s3://BUCKET/PREFIX",
                             where);
    } else {
        c->bucket = loc.bucket;
        if (delivery_scan_list(st, loc.bucket, loc.key ? loc.key : "", print_set, c, &err) != 0) {
            fprintf(stderr, "sluice deliveries: %s\n", err.msg);
            rc = SL_EXIT_JOB_FAILED;
        }
    }
    location_free(&loc);
    return rc;
}

/* Every rule with `delivery:` and a bucket of its own. */
static int scan_rules(scan_ctx *c, storage *st)
{
    int rc = SL_EXIT_OK, any = 0;
    for (size_t i = 0; i < c->cfg->n_rules && rc == SL_EXIT_OK; i++) {
        const rule *r = &c->cfg->rules[i];
        if (!r->delivery || !strcmp(r->bucket, "*"))
            continue;
        char *where = xasprintf("s3://%s/%s", r->bucket, r->prefix ? r->prefix : "");
        rc = scan_one(c, st, where);
        free(where);
        any = 1;
    }
    if (!any)
        return cli_usage_error("deliveries", "no rule with `delivery:` names a bucket in %s: "
                                             "give --prefix",
                               c->cfg->path);
    return rc;
}

int cmd_deliveries(int argc, char **argv, const cli_globals *g)
{
    static const struct option opts[] = {
        {"prefix", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *prefix = NULL;
    scan_ctx c = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p': prefix = optarg; break;
        case 'J': c.json = 1; break;
        case 'h': deliveries_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("deliveries", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("deliveries", "unexpected argument \"%s\"", argv[optind]);
    intake *in = cli_open(g, "deliveries", INTAKE_STORAGE);
    if (!in)
        return SL_EXIT_USAGE;
    int disabled = 0;
    sl_error err = {0};
    c.cfg = in->cfg;
    c.runs = runstore_open(in->cfg, in->storage, &disabled, &err);
    if (!c.runs && !disabled)
        fprintf(stderr, "sluice deliveries: run records cannot be read (%s): no set shows as "
                        "processed\n",
                err.msg);
    int rc = prefix ? scan_one(&c, in->storage, prefix) : scan_rules(&c, in->storage);
    runstore_close(c.runs);
    intake_close(in);
    return rc;
}
