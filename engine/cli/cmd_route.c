/* cmd_route.c — `sluice route s3://bucket/key`: which rule matches, why
 * the earlier ones did not, and where the output would go. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "config/location.h"
#include "core/router.h"
#include "core/runid.h"
#include "core/job_decode.h"
#include "util/clock.h"
#include "util/strbuf.h"

static void route_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice route [OPTIONS] s3://bucket/key\n"
            "\n"
            "Shows, rule by rule, whether the object matches and why not, then the rule\n"
            "that wins and the output location it would write. {name} stays as is: it is\n"
            "the file name the plugin proposes when it runs. Then what the job would decode\n"
            "(the rule's decompress:, members: and limits) and how it would compress\n"
            "the output (compress:).\n"
            "\n"
            "Options:\n"
            "  -e, --event NAME   the event to route (default ObjectCreated:Put)\n"
            "  -h, --help         this help\n"
            "\n"
            "Exit status: 0 a rule matches, 1 no rule matches, 2 usage or configuration error.\n");
}

static void print_output(const rule *r, const route_match *m, const location *loc)
{
    char today[11];
    char run_id[RUNID_MAX];
    time_t now = time(NULL);
    clock_format_date(now, today);
    runid_make(now, run_id);
    template_vars vars = {
        .bucket = loc->bucket,
        .key = loc->key,
        .date = today,
        .run_date = today,
        .run_id = run_id,
        .name = "{name}",
        .capture_names = (const char *const *)r->capture_names,
        .capture_values = (const char *const *)m->capture_values,
        .n_captures = m->capture_values ? r->n_captures : 0,
    };
    sl_error err = {0};
    char *out = template_expand(r->output, &vars, &err);
    if (out)
        printf("output: %s\n", out);
    else
        printf("output: refused: %s\n", err.msg);
    for (size_t i = 0; m->capture_values && i < r->n_captures; i++)
        printf("  capture %s = \"%s\"\n", r->capture_names[i],
               m->capture_values[i] ? m->capture_values[i] : "");
    free(out);
}

/* What the job would decode and how it would compress (docs/compression.md).
 * The object is not read: `auto` is decided by its magic bytes when the
 * job runs; the key's suffix is only a hint. */
static void print_decode(const rule *r, const char *key)
{
    const char *mode = r->decompress ? r->decompress : "auto";
    char *plain = job_decode_plain_name(key ? key : "");
    const char *hint = key && strlen(plain) != strlen(key) ? key + strlen(plain) : NULL;
    if (strcmp(mode, "auto") == 0)
        printf("decode: auto (gzip, zstd, bzip2, zip, tar by magic bytes when read%s%s%s)\n",
               hint ? "; the key suggests " : "", hint ? hint : "", hint ? "" : "; plain bytes pass");
    else if (strcmp(mode, "none") == 0)
        printf("decode: none (the plugin reads the raw bytes)\n");
    else
        printf("decode: %s (forced; other content fails the job), then zip/tar by magic bytes\n",
               mode);
    free(plain);
    int jobs = job_decode_member_jobs(r);
    if (r->members) {
        printf("members:");
        for (size_t i = 0; i < r->n_members; i++)
            printf(" \"%s\"", r->members[i]);
        printf(" (%s)\n", jobs ? "each its own job, output by {member}"
                                : "in archive order, as one stream");
    } else if (jobs) {
        printf("members: none given (each regular file of an archive its own job, output by "
               "{member})\n");
    } else {
        printf("members: none given (an archive must hold exactly one regular file)\n");
    }
    printf("limits: max_expanded_bytes %lld, max_ratio %lld\n", r->max_expanded_bytes,
           r->max_ratio);
    encode_codec c = job_decode_output_codec(r);
    if (c != ENCODE_NONE)
        printf("compress: %s (level %d%s): %s added to {name}, Content-Encoding %s on S3\n",
               encode_codec_name(c), r->compress_level,
               r->compress_level ? "" : ", the codec's default", encode_suffix(c),
               encode_content_encoding(c));
}

int cmd_route(int argc, char **argv, const cli_globals *g)
{
    static const struct option opts[] = {
        {"event", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *event_name = "ObjectCreated:Put";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "e:h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': event_name = optarg; break;
        case 'h': route_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("route", "unknown option");
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("route", "expected one s3://bucket/key");
    location loc = {0};
    sl_error err = {0};
    if (location_parse(argv[optind], &loc, &err) != 0 || loc.kind != LOC_OBJECT) {
        location_free(&loc);
        return cli_usage_error("route", "%s: expected s3://bucket/key", argv[optind]);
    }
    intake *in = cli_open(g, "route", INTAKE_PLUGINS);
    if (!in) {
        location_free(&loc);
        return SL_EXIT_USAGE;
    }
    const config *cfg = in->cfg;
    route_match m = {0};
    route_trace trace = {0};
    char msg[512] = "";
    int rc = SL_EXIT_USAGE;
    if (route_object(cfg, loc.bucket, loc.key, event_name, &m, &trace, msg, sizeof msg) != 0) {
        fprintf(stderr, "sluice route: %s\n", msg);
        goto out;
    }
    for (size_t i = 0; i < trace.count; i++) {
        const route_step *s = &trace.steps[i];
        printf("rule %-20s (%s:%d) %s%s%s\n", s->rule->name, cfg->path, s->rule->line,
               s->matched ? "MATCH" : "no", s->matched ? "" : ": ", s->matched ? "" : s->reason);
    }
    if (!m.rule) {
        printf("no rule matches: the object would be logged and skipped\n");
        rc = SL_EXIT_JOB_FAILED;
        goto out;
    }
    printf("rule: %s (plugin %s)\n", m.rule->name, m.rule->plugin_name);
    print_output(m.rule, &m, &loc);
    print_decode(m.rule, loc.key);
    rc = SL_EXIT_OK;
out:
    route_match_free(&m);
    route_trace_free(&trace);
    location_free(&loc);
    intake_close(in);
    return rc;
}
