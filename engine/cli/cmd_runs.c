/* cmd_runs.c — `sluice runs list|show|retry`: the run records (see
 * runrecord.h and docs/notifications.md). */
#include "autoconfig.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "config/location.h"
#include "core/event.h"
#include "core/runstore.h"
#include "intake/runner.h"
#include "util/alloc.h"
#include "util/diag.h"
#include "util/log.h"
#include "util/strbuf.h"

static void runs_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice runs list [--state STATE] [--since WHEN] [--rule NAME] [--json]\n"
            "       sluice runs show RUN_ID\n"
            "       sluice runs retry RUN_ID... | --failed [OPTIONS]\n"
            "\n"
            "Every job leaves a run record: its job-state event (docs/notifications.md),\n"
            "kept where `runs:` in the configuration says (default: the directory runs/\n"
            "beside the local storage root, one RUN_ID.json per run below a DATE folder).\n"
            "\n"
            "  list    one line per run, oldest first: run id, state, rule, input (and its\n"
            "          archive member), and the error of a failed run (or the record\n"
            "          itself with --json, one per line). A job in progress is RUNNING;\n"
            "          one whose process was killed turns ABANDONED when the next sluice\n"
            "          starts on its host, or `sluice janitor` runs there. An object of\n"
            "          an event `sluice serve` quarantined (its jobs killed the process\n"
            "          --max-attempts times) is QUARANTINED, with the spool file's path.\n"
            "  show    the whole record of one run (JSON)\n"
            "  retry   run the same input again under the same rule (a member's run: that\n"
            "          member of the archive only); the new record names the old one in\n"
            "          retry_of and counts the attempt on. A QUARANTINED run is retried\n"
            "          by id only, in this process, once the cause is fixed (or move its\n"
            "          spool file back for serve's next start)\n"
            "\n"
            "Options for list (and retry --failed):\n"
            "  -s, --state STATE  succeeded, failed, skipped, running, abandoned or\n"
            "                     quarantined\n"
            "      --since WHEN   runs started at or after WHEN: 2026-11-25,\n"
            "                     2026-11-25T14:00:00Z, or an age such as 30m, 12h, 7d\n"
            "  -r, --rule NAME    runs of this rule only\n"
            "      --json         list: print each record as one line of JSON\n"
            "Options for retry:\n"
            "      --failed       retry every FAILED or ABANDONED run not already retried\n"
            "                     or followed by a success of the same rule on the same\n"
            "                     input, nor by its QUARANTINED run\n"
            "      --force        process objects even when a SUCCEEDED record exists for\n"
            "                     their etag under the same rule (else they are SKIPPED)\n"
            "  -j, --jobs N       run up to N jobs at once (default 1)\n"
            "  -n, --dry-run      print what would be retried, run nothing\n"
            "  -h, --help         this help\n"
            "\n"
            "Exit status: 0 ok, 1 a retried job failed, 2 usage or configuration error or\n"
            "unknown run, 3 retried jobs succeeded but a notification or record failed.\n");
}

typedef struct runs_opts {
    const char *state, *rule;
    long long since_ms;
    int json, failed, force, dry_run, jobs;
} runs_opts;

/* --- options -------------------------------------------------------------- */

/* "2026-11-25", an ISO time, or an age ("90s", "30m", "12h", "7d"). */
static int parse_since(const char *s, long long *out)
{
    char *end;
    double n = strtod(s, &end);
    if (end != s && isdigit((unsigned char)s[0]) && end[0] && !end[1] && strchr("smhd", end[0])) {
        double unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 86400;
        double now = (double)time(NULL), age = n * unit;
        /* an age reaching back before 1970 (or overflowing to inf) is
         * "everything"; converting it to an integer would be undefined */
        *out = age < now ? (long long)((now - age) * 1000.0) : 0;
        return 0;
    }
    time_t t;
    char *iso = strlen(s) == 10 ? xasprintf("%sT00:00:00Z", s) : xstrdup(s);
    int rc = event_parse_time(iso, &t);
    free(iso);
    if (rc != 0)
        return -1;
    *out = (long long)t * 1000;
    return 0;
}

static const char *const states[] = {"succeeded", "failed",    "skipped",
                                     "running",   "abandoned", "quarantined"};

static int parse_state(const char *s)
{
    for (size_t i = 0; i < sizeof states / sizeof *states; i++)
        if (!strcasecmp(s, states[i]))
            return 1;
    return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_runs_opts(const char *cmd, int argc, char **argv, runs_opts *o)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},  {"since", required_argument, NULL, 'S'},
        {"rule", required_argument, NULL, 'r'},   {"json", no_argument, NULL, 'J'},
        {"failed", no_argument, NULL, 'f'},       {"force", no_argument, NULL, 'F'},
        {"jobs", required_argument, NULL, 'j'},   {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *o = (runs_opts){.jobs = 1};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:r:j:nh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (!parse_state(optarg))
                return cli_usage_error(cmd, "--state must be succeeded, failed, skipped, running, "
                                            "abandoned or quarantined");
            o->state = optarg;
            break;
        case 'S':
            if (parse_since(optarg, &o->since_ms) != 0)
                return cli_usage_error(cmd, "--since: \"%s\" is not a date, a time or an age "
                                            "such as 12h", optarg);
            break;
        case 'r': o->rule = optarg; break;
        case 'J': o->json = 1; break;
        case 'f': o->failed = 1; break;
        case 'F': o->force = 1; break;
        case 'j':
            if (cli_parse_workers(cmd, "--jobs", optarg, &o->jobs) != 0)
                return SL_EXIT_USAGE;
            break;
        case 'n': o->dry_run = 1; break;
        case 'h': runs_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    return -1;
}

/* --- records -------------------------------------------------------------- */

static const json_t *detail(const json_t *rec)
{
    return json_object_get(rec, "detail");
}

static const char *field(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(detail(rec), key));
}

static const char *input_of(const json_t *rec)
{
    return json_string_value(json_object_get(json_object_get(detail(rec), "input"), "location"));
}

/* The archive member a `members_as: jobs` run read, else NULL. */
static const char *member_of(const json_t *rec)
{
    return json_string_value(json_object_get(json_object_get(detail(rec), "input"), "member"));
}

typedef struct record_list {
    json_t **items;
    size_t count, cap;
    const runs_opts *filter;
    size_t unreadable;
} record_list;

static int keep_record(const runs_opts *f, const json_t *rec)
{
    const char *state = field(rec, "state"), *rule_name = field(rec, "rule");
    const char *id = field(rec, "run_id");
    if (!id || !state)
        return 0;
    if (f->state && strcasecmp(f->state, state) != 0)
        return 0;
    if (f->rule && (!rule_name || strcmp(f->rule, rule_name) != 0))
        return 0;
    if (f->since_ms > 0 && runid_time_ms(id) >= 0 && runid_time_ms(id) < f->since_ms - 999)
        return 0;
    return 1;
}

static int collect(void *ud, json_t *rec)
{
    record_list *l = ud;
    if (!keep_record(l->filter, rec))
        return 0;
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = json_incref(rec);
    return 0;
}

static void report_bad(void *ud, const char *key, const char *why)
{
    record_list *l = ud;
    l->unreadable++;
    log_msg(NULL, SL_LOG_WARN, "run record %s skipped: %s", key, why);
}

/* Oldest first: run ids only have whole seconds, started_at has ms. */
static int by_start(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *sx = field(x, "started_at"), *sy = field(y, "started_at");
    int c = sx && sy ? strcmp(sx, sy) : 0;
    return c ? c : strcmp(field(x, "run_id"), field(y, "run_id"));
}

static void record_list_free(record_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        json_decref(l->items[i]);
    free(l->items);
}

static int load_records(runstore *rs, const runs_opts *filter, record_list *out)
{
    sl_error err = {0};
    *out = (record_list){.filter = filter};
    if (runstore_list(rs, filter->since_ms, collect, report_bad, out, &err) != 0) {
        fprintf(stderr, "sluice runs: %s\n", err.msg);
        return -1;
    }
    if (out->count > 1)
        qsort(out->items, out->count, sizeof *out->items, by_start);
    return 0;
}

/* --- configuration -------------------------------------------------------- */

static runstore *open_store(const config *cfg, storage *st)
{
    int disabled = 0;
    sl_error err = {0};
    runstore *rs = runstore_open(cfg, st, &disabled, &err);
    if (!rs && disabled)
        fprintf(stderr, "sluice runs: run records are switched off (runs.enabled: false in %s)\n",
                cfg->path);
    else if (!rs)
        fprintf(stderr, "sluice runs: %s\n", err.msg);
    return rs;
}

/* --- list and show -------------------------------------------------------- */

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

static void print_line(const json_t *rec)
{
    const json_t *d = detail(rec);
    printf("%-25s  %-11s  %-20s  %s", or_dash(field(rec, "run_id")), or_dash(field(rec, "state")),
           or_dash(field(rec, "rule")), or_dash(input_of(rec)));
    if (member_of(rec))
        printf(" member \"%s\"", member_of(rec));
    json_int_t attempt = json_integer_value(json_object_get(d, "attempt"));
    if (attempt > 1)
        printf("  (attempt %" JSON_INTEGER_FORMAT ", retry of %s)", attempt,
               field(rec, "retry_of") ? field(rec, "retry_of") : "?");
    const json_t *error = json_object_get(d, "error");
    const json_t *quarantine = json_object_get(d, "quarantine");
    if (json_is_object(quarantine)) {
        /* where the spooled event lies says more than the long message */
        printf("  spool %s, %" JSON_INTEGER_FORMAT " starts: quarantined to %s",
               or_dash(json_string_value(json_object_get(quarantine, "spool_id"))),
               json_integer_value(json_object_get(quarantine, "attempts")),
               or_dash(json_string_value(json_object_get(quarantine, "path"))));
    } else if (json_is_object(error)) {
        const char *msg = json_string_value(json_object_get(error, "message"));
        printf("  %s: %.160s%s", or_dash(json_string_value(json_object_get(error, "kind"))),
               or_dash(msg), msg && strlen(msg) > 160 ? "..." : "");
    } else if (field(rec, "skip_reason")) {
        printf("  %.160s", field(rec, "skip_reason"));
    } else if (json_is_object(json_object_get(d, "abandoned"))) {
        const char *why =
            json_string_value(json_object_get(json_object_get(d, "abandoned"), "reason"));
        printf("  abandoned: %.160s", or_dash(why));
    }
    printf("\n");
}

static int runs_list(const cli_globals *g, const runs_opts *o)
{
    intake *in = cli_open(g, "runs list", 0);
    if (!in)
        return SL_EXIT_USAGE;
    runstore *rs = open_store(in->cfg, NULL);
    int rc = SL_EXIT_USAGE;
    record_list l;
    if (rs && load_records(rs, o, &l) == 0) {
        if (!o->json && l.count)
            printf("%-25s  %-11s  %-20s  %s\n", "RUN_ID", "STATE", "RULE", "INPUT");
        for (size_t i = 0; i < l.count; i++) {
            if (o->json) {
                char *s = json_dumps(l.items[i], JSON_COMPACT);
                printf("%s\n", s);
                free(s);
            } else {
                print_line(l.items[i]);
            }
        }
        record_list_free(&l);
        rc = SL_EXIT_OK;
    }
    runstore_close(rs);
    intake_close(in);
    return rc;
}

static int runs_show(const cli_globals *g, int argc, char **argv)
{
    if (argc - optind != 1)
        return cli_usage_error("runs show", "expected one RUN_ID, got %d", argc - optind);
    intake *in = cli_open(g, "runs show", 0);
    if (!in)
        return SL_EXIT_USAGE;
    runstore *rs = open_store(in->cfg, NULL);
    int rc = SL_EXIT_USAGE;
    json_t *rec = NULL;
    sl_error err = {0};
    if (rs && runstore_get(rs, argv[optind], &rec, &err) == 0) {
        char *s = json_dumps(rec, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(rec);
        rc = SL_EXIT_OK;
    } else if (rs) {
        fprintf(stderr, "sluice runs show: %s\n", err.msg);
    }
    runstore_close(rs);
    intake_close(in);
    return rc;
}

/* --- retry ---------------------------------------------------------------- */

static int same(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* The same archive member, or both runs read the whole object. */
static int same_member(const char *a, const char *b)
{
    return a ? same(a, b) : !b;
}

/* A later run of the same rule on the same input (and member) in state
 * `state`. */
static int followed_by(const record_list *all, size_t i, size_t j, const char *state)
{
    const json_t *rec = all->items[i], *other = all->items[j];
    return j > i && !strcmp(or_dash(field(other, "state")), state) &&
           same(input_of(rec), input_of(other)) && same(field(rec, "rule"), field(other, "rule")) &&
           same_member(member_of(rec), member_of(other));
}

/* A failed run is still open unless a later record retried it, or a later
 * run of the same rule on the same input (and member) succeeded, or was
 * QUARANTINED: the ABANDONED runs of a spooled event whose jobs killed
 * `serve` are what got it quarantined, and stay for a person to retry by
 * id once the cause is fixed. */
static int still_failed(const record_list *all, size_t i)
{
    const char *id = field(all->items[i], "run_id");
    for (size_t j = 0; j < all->count; j++) {
        const char *retry_of = field(all->items[j], "retry_of");
        if (retry_of && !strcmp(retry_of, id))
            return 0;
        if (followed_by(all, i, j, "SUCCEEDED") || followed_by(all, i, j, "QUARANTINED"))
            return 0;
    }
    return 1;
}

/* --failed: FAILED runs, and ABANDONED ones (their process was killed:
 * they never finished, so they are retried like failures). */
static int select_failed(runstore *rs, const runs_opts *o, record_list *out)
{
    runs_opts all_filter = {.since_ms = o->since_ms};
    record_list all;
    if (load_records(rs, &all_filter, &all) != 0)
        return -1;
    runs_opts failed = {.state = "failed", .rule = o->rule, .since_ms = o->since_ms};
    runs_opts abandoned = {.state = "abandoned", .rule = o->rule, .since_ms = o->since_ms};
    runs_opts any = {0};
    *out = (record_list){.filter = &any};
    for (size_t i = 0; i < all.count; i++)
        if ((keep_record(&failed, all.items[i]) || keep_record(&abandoned, all.items[i])) &&
            still_failed(&all, i))
            collect(out, all.items[i]);
    out->filter = NULL;
    record_list_free(&all);
    return 0;
}

static int select_ids(runstore *rs, int argc, char **argv, record_list *out)
{
    *out = (record_list){0};
    for (int i = optind; i < argc; i++) {
        json_t *rec = NULL;
        sl_error err = {0};
        if (runstore_get(rs, argv[i], &rec, &err) != 0) {
            fprintf(stderr, "sluice runs retry: %s\n", err.msg);
            return -1;
        }
        runs_opts any = {0};
        out->filter = &any;
        collect(out, rec);
        out->filter = NULL;
        json_decref(rec);
    }
    return 0;
}

/* What a retry needs from the record: the input and the original event's
 * etag, version and time (so {date} in the output means the same day). */
typedef struct retry_job {
    location input;
    event_record event;
    char *rule;
    char *member;  /* a member's run: only that member of the archive runs */
    char *retry_of;
    int attempt;
} retry_job;

static int retry_job_init(retry_job *rj, const json_t *rec, sl_error *err)
{
    memset(rj, 0, sizeof *rj);
    const json_t *in = json_object_get(detail(rec), "input");
    const char *loc = input_of(rec);
    const char *state = field(rec, "state");
    if (state && !strcmp(state, "MISSING")) {
        /* an alarm, not a job: there is no object to run again */
        sl_error_set(err, SL_ERR_INPUT,
                     "run %s is a MISSING alarm (an expected arrival), not a job: nothing to "
                     "retry",
                     field(rec, "run_id"));
        return -1;
    }
    if (state && !strcmp(state, "RUNNING")) {
        /* its process may still be at it: two jobs would race for one output */
        sl_error_set(err, SL_ERR_INPUT,
                     "run %s is RUNNING (process %s): retry it once it has ended, or once "
                     "sluice found it ABANDONED",
                     field(rec, "run_id"), or_dash(field(rec, "process")));
        return -1;
    }
    const json_t *quarantine = json_object_get(detail(rec), "quarantine");
    if (json_is_object(quarantine) && !json_array_size(json_object_get(quarantine, "objects"))) {
        /* the spooled file was no event any more: its path is no input */
        sl_error_set(err, SL_ERR_INPUT,
                     "run %s is a quarantined spool entry that names no object: read %s, and "
                     "move it back into the spool to run it",
                     field(rec, "run_id"), or_dash(input_of(rec)));
        return -1;
    }
    if (!loc) {
        sl_error_set(err, SL_ERR_INPUT, "run %s names no input", field(rec, "run_id"));
        return -1;
    }
    if (location_parse(loc, &rj->input, err) != 0)
        return -1;
    event_record *ev = &rj->event;
    ev->kind = EVENT_OBJECT_CREATED;
    ev->size = -1;
    ev->bucket = rj->input.bucket ? xstrdup(rj->input.bucket) : NULL;
    ev->key = rj->input.key ? xstrdup(rj->input.key) : NULL;
    const char *s;
    if ((s = json_string_value(json_object_get(in, "etag"))))
        ev->etag = xstrdup(s);
    if ((s = json_string_value(json_object_get(in, "version_id"))))
        ev->version_id = xstrdup(s);
    if ((s = json_string_value(json_object_get(in, "event_time"))) &&
        event_parse_time(s, &ev->event_time) == 0)
        ev->event_time_iso = xstrdup(s);
    rj->rule = field(rec, "rule") ? xstrdup(field(rec, "rule")) : NULL;
    rj->member = member_of(rec) ? xstrdup(member_of(rec)) : NULL;
    rj->retry_of = xstrdup(field(rec, "run_id"));
    json_int_t attempt = json_integer_value(json_object_get(detail(rec), "attempt"));
    rj->attempt = (attempt > 0 ? (int)attempt : 1) + 1;
    return 0;
}

static void retry_job_free(retry_job *rj)
{
    location_free(&rj->input);
    event_record *ev = &rj->event;
    free(ev->bucket);
    free(ev->key);
    free(ev->etag);
    free(ev->version_id);
    free(ev->event_time_iso);
    free(rj->rule);
    free(rj->member);
    free(rj->retry_of);
}

static int run_retries(const runs_opts *o, intake *in, const record_list *sel)
{
    const config *cfg = in->cfg;
    retry_job *rjs = xcalloc(sel->count, sizeof *rjs);
    job_spec *specs = xcalloc(sel->count, sizeof *specs);
    size_t n = 0;
    int rc = SL_EXIT_OK;
    for (size_t i = 0; i < sel->count; i++) {
        sl_error err = {0};
        if (retry_job_init(&rjs[n], sel->items[i], &err) != 0) {
            fprintf(stderr, "sluice runs retry: %s\n", err.msg);
            retry_job_free(&rjs[n]);
            rc = SL_EXIT_USAGE;
            continue;
        }
        if (rjs[n].rule && !config_find_rule(cfg, rjs[n].rule)) {
            fprintf(stderr, "sluice runs retry: run %s: rule \"%s\" is no longer in %s\n",
                    rjs[n].retry_of, rjs[n].rule, cfg->path);
            retry_job_free(&rjs[n]);
            rc = SL_EXIT_USAGE;
            continue;
        }
        specs[n] = intake_spec(in);
        specs[n].input = rjs[n].input;
        specs[n].event = &rjs[n].event;
        specs[n].rule_name = rjs[n].rule;
        specs[n].member = rjs[n].member;
        specs[n].force = o->force;
        specs[n].attempt = rjs[n].attempt;
        specs[n].retry_of = rjs[n].retry_of;
        n++;
    }
    if (rc == SL_EXIT_OK) {
        runner_totals totals = {0};
        runner_batch(in->runner, specs, n, o->jobs, NULL, &totals);
        log_msg(NULL, SL_LOG_INFO, "retried %zu run%s: %zu succeeded, %zu failed, %zu skipped", n,
                n == 1 ? "" : "s", totals.succeeded, totals.failed, totals.skipped);
        rc = runner_exit_code(&totals);
    }
    for (size_t i = 0; i < n; i++)
        retry_job_free(&rjs[i]);
    free(rjs);
    free(specs);
    return rc;
}

static int runs_retry(const cli_globals *g, const runs_opts *o, int argc, char **argv)
{
    if (o->failed == (argc - optind > 0))
        return cli_usage_error("runs retry", o->failed ? "give RUN_IDs or --failed, not both"
                                                       : "give RUN_IDs or --failed");
    intake *in =
        cli_open(g, "runs retry", o->dry_run ? INTAKE_STORAGE : INTAKE_JOBS | INTAKE_RECOVER);
    if (!in)
        return SL_EXIT_USAGE;
    runstore *rs = open_store(in->cfg, in->storage);
    record_list sel = {0};
    int rc = SL_EXIT_USAGE;
    if (rs && (o->failed ? select_failed(rs, o, &sel) : select_ids(rs, argc, argv, &sel)) == 0)
        rc = SL_EXIT_OK;
    runstore_close(rs);
    if (rc == SL_EXIT_OK && sel.count == 0) {
        log_msg(NULL, SL_LOG_INFO, "no failed runs to retry");
    } else if (rc == SL_EXIT_OK && o->dry_run) {
        for (size_t i = 0; i < sel.count; i++) {
            printf("would retry ");
            print_line(sel.items[i]);
        }
    } else if (rc == SL_EXIT_OK) {
        rc = run_retries(o, in, &sel);
    }
    record_list_free(&sel);
    intake_close(in);
    return rc;
}

int cmd_runs(int argc, char **argv, const cli_globals *g)
{
    if (argc < 2)
        return cli_usage_error("runs", "expected list, show or retry");
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        runs_usage(stdout);
        return SL_EXIT_OK;
    }
    if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "retry"))
        return cli_usage_error("runs", "unknown command \"%s\" (expected list, show or retry)",
                               sub);
    char *cmd = xasprintf("runs %s", sub);
    runs_opts o;
    int rc = parse_runs_opts(cmd, argc - 1, argv + 1, &o);
    if (rc < 0) {
        if (!strcmp(sub, "list") && argc - 1 > optind)
            rc = cli_usage_error(cmd, "unexpected argument \"%s\"", argv[1 + optind]);
        else if (!strcmp(sub, "list"))
            rc = runs_list(g, &o);
        else if (!strcmp(sub, "show"))
            rc = runs_show(g, argc - 1, argv + 1);
        else
            rc = runs_retry(g, &o, argc - 1, argv + 1);
    }
    free(cmd);
    return rc;
}
