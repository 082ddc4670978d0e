/* cmd_lambda.c — `sluice lambda`: the AWS Lambda custom-runtime loop.
 *
 * Init (once per sandbox): configuration, plugins, storage. A failure is
 * reported on the init-error path and the process exits; Lambda then
 * reports the function as failed to initialise.
 * Then, for ever: next invocation -> its event -> one job per object ->
 * a JSON summary as the response, or an invocation error when the event is
 * not one sluice understands (Sluice.InvalidEvent) or a job failed
 * (Sluice.JobFailed). See docs/lambda.md. */
#include "autoconfig.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jsonutil.h"
#include "diag.h"
#include "event.h"
#include "job.h"
#include "lambda_runtime.h"
#include "log.h"
#include "runid.h"
#include "runner.h"
#include "storage.h"
#include "strbuf.h"

#define ERR_CONFIG "Sluice.ConfigError"
#define ERR_PLUGIN "Sluice.PluginError"
#define ERR_STORAGE "Sluice.StorageError"
#define ERR_INVALID_EVENT "Sluice.InvalidEvent"
#define ERR_JOB_FAILED "Sluice.JobFailed"
/* How many failed jobs errorMessage names (the rest are counted). */
#define MAX_NAMED_FAILURES 3

static void lambda_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice lambda [OPTIONS]\n"
            "\n"
            "Serves as an AWS Lambda custom runtime (provided.al2023): loads the\n"
            "configuration and plugins once, then takes invocations from the Runtime API\n"
            "at $AWS_LAMBDA_RUNTIME_API and runs a job for every object each event names\n"
            "(S3 notifications, EventBridge, SNS and SQS deliveries, Lambda's SQS and SNS\n"
            "trigger records). The response is a JSON summary:\n"
            "  {\"succeeded\":N,\"failed\":0,\"skipped\":N,\"outputs\":[\"s3://...\"]}\n"
            "A failed job makes the invocation fail with errorType Sluice.JobFailed; an\n"
            "event sluice does not understand with Sluice.InvalidEvent. Configuration\n"
            "errors go to the init-error path (Sluice.ConfigError) and end the process.\n"
            "\n"
            "Options:\n"
            "  -w, --workers N  run up to N jobs of one invocation at once\n"
            "                   (default: the number of CPUs)\n"
            "  -h, --help       this help\n"
            "\n"
            "Stops on SIGTERM or SIGINT: at once while waiting for an invocation, else\n"
            "after the current invocation's result is posted. See docs/lambda.md.\n");
}

/* --- stopping ------------------------------------------------------------ */

/* Signals are taken by a thread of their own (sigwait). While the loop only
 * waits for the next invocation nothing is in flight, so the process ends
 * there and then; during an invocation the loop is told to stop after it. */
typedef struct stop_state {
    pthread_mutex_t lock;
    int busy;     /* init or an invocation in progress */
    int stopping; /* a signal came while busy */
    sigset_t set;
} stop_state;

static void *signal_thread(void *arg)
{
    stop_state *s = arg;
    for (;;) {
        int sig;
        if (sigwait(&s->set, &sig) != 0)
            continue;
        pthread_mutex_lock(&s->lock);
        if (!s->busy) {
            log_msg(NULL, LOG_INFO, "%s while waiting for an invocation: stopping",
                    sig == SIGTERM ? "SIGTERM" : "SIGINT");
            fflush(stdout);
            _exit(EXIT_OK);
        }
        s->stopping = 1;
        log_msg(NULL, LOG_INFO, "%s: stopping after the current invocation",
                sig == SIGTERM ? "SIGTERM" : "SIGINT");
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

/* Marks the loop idle (about to wait) or busy; returns 1 when it should
 * stop instead. */
static int set_busy(stop_state *s, int busy)
{
    pthread_mutex_lock(&s->lock);
    s->busy = busy;
    int stop = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

/* --- init ---------------------------------------------------------------- */

typedef struct lambda_ctx {
    config *cfg;
    plugin_host *host;
    storage *st;
    runner *runner; /* run records, duplicate detection, notifications */
    lambda_runtime *rt;
    int workers;
} lambda_ctx;

/* "file:line:col: message" of every error, joined with "; ". */
static void diag_errors(const diag_list *dl, strbuf *out)
{
    for (size_t i = 0; i < dl->count; i++) {
        const diag *d = &dl->items[i];
        if (d->severity != DIAG_ERROR)
            continue;
        if (out->len)
            sb_adds(out, "; ");
        sb_addf(out, "%s:%d:%d: %s", d->file ? d->file : "", d->line, d->column, d->message);
    }
}

/* Loads configuration, plugins and storage. On failure sets *etype and the
 * message and returns -1 (diagnostics are also printed to stderr, which is
 * the function's log). */
static int init_engine(const cli_globals *g, lambda_ctx *lc, const char **etype, strbuf *msg)
{
    const char *path = cli_config_path(g);
    diag_list diags = {0};
    sl_error err = {0};

    lc->cfg = config_load(path, &diags);
    if (!lc->cfg) {
        *etype = ERR_CONFIG;
        goto diag_failure;
    }
    lc->host = plugin_host_new((const char *const *)lc->cfg->plugin_paths,
                               lc->cfg->n_plugin_paths, &err);
    if (!lc->host) {
        *etype = ERR_PLUGIN;
        sb_adds(msg, err.msg);
        goto failure;
    }
    if (config_bind_plugins(lc->cfg, lc->host, &diags) > 0) {
        *etype = ERR_CONFIG;
        goto diag_failure;
    }
    diag_free(&diags);
    lc->st = storage_open(&lc->cfg->storage, &err);
    if (!lc->st) {
        *etype = ERR_STORAGE;
        sb_adds(msg, err.msg);
        goto failure;
    }
    lc->runner = runner_new(lc->cfg, lc->st);
    return 0;

diag_failure:
    diag_print(&diags, stderr);
    diag_errors(&diags, msg);
    if (!msg->len)
        sb_addf(msg, "%s: the configuration could not be loaded", path);
failure:
    diag_free(&diags);
    return -1;
}

static void release_engine(lambda_ctx *lc)
{
    runner_free(lc->runner);
    storage_destroy(lc->st);
    config_free(lc->cfg);
    plugin_host_free(lc->host);
    lambda_runtime_free(lc->rt);
}

/* --- running one invocation's jobs --------------------------------------- */

typedef struct outcome {
    size_t succeeded, failed, skipped;
    json_t *outputs;   /* array of locations, in the event's order */
    strbuf failures;   /* "input: message; ..." */
} outcome;

static void tally(outcome *o, const job_result *res)
{
    switch (res->state) {
    case JOB_SUCCEEDED:
        o->succeeded++;
        if (res->output)
            json_array_append_new(o->outputs, json_text(res->output));
        break;
    case JOB_SKIPPED: o->skipped++; break;
    case JOB_FAILED:
        if (o->failed++ < MAX_NAMED_FAILURES) {
            if (o->failures.len)
                sb_adds(&o->failures, "; ");
            sb_addf(&o->failures, "%s: %s", res->input ? res->input : "?", res->error.msg);
        }
        break;
    }
}

/* The jobs of every object the event names; acknowledged records (test
 * events, removals) count as skipped. */
static void run_event(lambda_ctx *lc, const event_batch *batch, outcome *o)
{
    job_spec *specs = xcalloc(batch->count ? batch->count : 1, sizeof *specs);
    size_t n = 0;
    for (size_t i = 0; i < batch->count; i++) {
        const event_record *ev = &batch->records[i];
        if (ev->kind == EVENT_SKIP) {
            log_msg(NULL, LOG_INFO, "event acknowledged and skipped: %s%s%s", ev->skip_reason,
                    ev->bucket ? " bucket=" : "", ev->bucket ? ev->bucket : "");
            o->skipped++;
            continue;
        }
        specs[n++] = (job_spec){
            .cfg = lc->cfg,
            .storage = lc->st,
            .input = {.kind = LOC_OBJECT, .bucket = ev->bucket, .key = ev->key},
            .event = ev,
        };
    }
    job_result *results = xcalloc(n ? n : 1, sizeof *results);
    runner_batch(lc->runner, specs, n, lc->workers, results, NULL);
    for (size_t i = 0; i < n; i++) {
        tally(o, &results[i]);
        job_result_free(&results[i]);
    }
    free(results);
    free(specs);
}

static char *summary_json(const outcome *o)
{
    json_t *doc = json_pack("{s:I, s:I, s:I, s:O}", "succeeded", (json_int_t)o->succeeded,
                            "failed", (json_int_t)o->failed, "skipped", (json_int_t)o->skipped,
                            "outputs", o->outputs);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        abort(); /* allocation failure */
    return text;
}

/* Makes the invocation's trace visible to anything the jobs call (the AWS
 * SDKs and X-Ray read it from the environment). Called between
 * invocations only, while no job thread runs. */
static void set_trace_env(const lambda_invocation *inv)
{
    if (inv->trace_id)
        setenv("_X_AMZN_TRACE_ID", inv->trace_id, 1);
    else
        unsetenv("_X_AMZN_TRACE_ID");
}

/* Posts the result of an invocation. Returns the LAMBDA_POST_* code. */
static int handle_invocation(lambda_ctx *lc, lambda_invocation *inv)
{
    event_batch batch = {0};
    sl_error err = {0};
    int rc;

    set_trace_env(inv);
    log_msg(NULL, LOG_INFO, "invocation %s: %zu bytes, %lld ms left, trace %s", inv->request_id,
            inv->event.len, inv->deadline_ms ? inv->deadline_ms - now_ms() : -1LL,
            inv->trace_id ? inv->trace_id : "-");

    if (event_parse(sb_str(&inv->event), inv->event.len, &batch, &err) != 0) {
        log_msg(NULL, LOG_ERROR, "invocation %s: invalid event: %s", inv->request_id, err.msg);
        sl_error perr = {0};
        rc = lambda_runtime_fail(lc->rt, inv->request_id, ERR_INVALID_EVENT, err.msg, &perr);
        if (rc != LAMBDA_POST_OK)
            log_msg(NULL, LOG_ERROR, "%s", perr.msg);
        event_batch_free(&batch);
        return rc;
    }

    outcome o = {.outputs = json_array()};
    run_event(lc, &batch, &o);
    event_batch_free(&batch);

    if (o.failed > 0) {
        strbuf msg = STRBUF_INIT;
        size_t total = o.succeeded + o.failed + o.skipped;
        sb_addf(&msg, "%zu of %zu jobs failed: %s", o.failed, total, sb_str(&o.failures));
        if (o.failed > MAX_NAMED_FAILURES)
            sb_addf(&msg, "; and %zu more", o.failed - MAX_NAMED_FAILURES);
        rc = lambda_runtime_fail(lc->rt, inv->request_id, ERR_JOB_FAILED, sb_str(&msg), &err);
        sb_free(&msg);
    } else {
        char *body = summary_json(&o);
        rc = lambda_runtime_respond(lc->rt, inv->request_id, body, strlen(body), &err);
        free(body);
    }
    if (rc != LAMBDA_POST_OK)
        log_msg(NULL, LOG_ERROR, "%s", err.msg);
    else
        log_msg(NULL, LOG_INFO, "invocation %s: %zu succeeded, %zu failed, %zu skipped",
                inv->request_id, o.succeeded, o.failed, o.skipped);
    json_decref(o.outputs);
    sb_free(&o.failures);
    return rc;
}

/* --- the loop ------------------------------------------------------------ */

static int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

static int parse_options(int argc, char **argv, int *workers)
{
    static const struct option opts[] = {
        {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'w': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256)
                return cli_usage_error("lambda", "--workers must be between 1 and 256");
            *workers = (int)n;
            break;
        }
        case 'h': lambda_usage(stdout); return EXIT_OK;
        default: return cli_usage_error("lambda", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("lambda", "unexpected argument \"%s\"", argv[optind]);
    return -1; /* go on */
}

static int serve_invocations(lambda_ctx *lc, stop_state *stop)
{
    for (;;) {
        if (set_busy(stop, 0))
            return EXIT_OK;
        lambda_invocation inv;
        sl_error err = {0};
        if (lambda_runtime_next(lc->rt, &inv, &err) != 0) {
            log_msg(NULL, LOG_ERROR, "Runtime API: %s", err.msg);
            return EXIT_JOB_FAILED;
        }
        set_busy(stop, 1);
        int rc = handle_invocation(lc, &inv);
        lambda_invocation_free(&inv);
        if (rc == LAMBDA_POST_FATAL)
            return EXIT_JOB_FAILED;
    }
}

int cmd_lambda(int argc, char **argv, const cli_globals *g)
{
    lambda_ctx lc = {.workers = default_workers()};
    int rc = parse_options(argc, argv, &lc.workers);
    if (rc >= 0)
        return rc;

    sl_error err = {0};
    lc.rt = lambda_runtime_new(getenv("AWS_LAMBDA_RUNTIME_API"), &err);
    if (!lc.rt) {
        fprintf(stderr, "sluice lambda: %s\n", err.msg);
        return EXIT_USAGE;
    }

    /* Every thread started from here on inherits the blocked signals, so
     * only the signal thread ever sees them. */
    /* The state belongs to the signal thread, which lives as long as the
     * process: it is never freed. */
    stop_state *stop = xcalloc(1, sizeof *stop);
    stop->busy = 1;
    pthread_mutex_init(&stop->lock, NULL);
    sigemptyset(&stop->set);
    sigaddset(&stop->set, SIGTERM);
    sigaddset(&stop->set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop->set, NULL);
    pthread_t sig_tid;
    if (pthread_create(&sig_tid, NULL, signal_thread, stop) != 0) {
        fprintf(stderr, "sluice lambda: cannot start the signal thread\n");
        lambda_runtime_free(lc.rt);
        return EXIT_USAGE;
    }
    pthread_detach(sig_tid);

    const char *etype = NULL;
    strbuf msg = STRBUF_INIT;
    if (init_engine(g, &lc, &etype, &msg) != 0) {
        log_msg(NULL, LOG_ERROR, "init failed (%s): %s", etype, sb_str(&msg));
        if (lambda_runtime_init_error(lc.rt, etype, sb_str(&msg), &err) != LAMBDA_POST_OK)
            log_msg(NULL, LOG_ERROR, "%s", err.msg);
        sb_free(&msg);
        release_engine(&lc);
        return EXIT_USAGE;
    }
    sb_free(&msg);
    log_msg(NULL, LOG_INFO, "lambda runtime ready: %zu rules, %d workers", lc.cfg->n_rules,
            lc.workers);

    rc = serve_invocations(&lc, stop);
    /* Stay busy: the signal thread must not _exit while we tear down. */
    set_busy(stop, 1);
    release_engine(&lc);
    return rc;
}
