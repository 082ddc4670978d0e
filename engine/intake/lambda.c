/* lambda.c — the Lambda custom-runtime loop (lambda.h). */
#include "autoconfig.h"
#include "intake/lambda.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intake/expect.h"
#include "intake/intake.h"
#include "intake/lambda_runtime.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/procid.h"
#include "util/signals.h"
#include "util/strbuf.h"

#define ERR_CONFIG "Sluice.ConfigError"
#define ERR_PLUGIN "Sluice.PluginError"
#define ERR_STORAGE "Sluice.StorageError"
#define ERR_INVALID_EVENT "Sluice.InvalidEvent"
#define ERR_JOB_FAILED "Sluice.JobFailed"
#define ERR_EXPECT_FAILED "Sluice.ExpectFailed"
/* The CloudWatch namespace of the EMF lines (docs/metrics.md). */
#define EMF_NAMESPACE "sluice"

/* --- stopping ------------------------------------------------------------ */

/* While the loop only waits for the next invocation nothing is in flight,
 * so a stop signal ends the process there and then (from the signal
 * thread's hook); during an invocation the loop stops after it. */
typedef struct stop_state {
    pthread_mutex_t lock;
    int busy; /* init or an invocation in progress */
} stop_state;

static void on_signal(int sig, void *ud)
{
    stop_state *s = ud;
    if (sig == SIGHUP)
        return;
    pthread_mutex_lock(&s->lock);
    if (!s->busy) {
        log_msg(NULL, SL_LOG_INFO, "%s while waiting for an invocation: stopping",
                signals_stop_name());
        fflush(stdout);
        _exit(SL_EXIT_OK);
    }
    log_msg(NULL, SL_LOG_INFO, "%s: stopping after the current invocation", signals_stop_name());
    pthread_mutex_unlock(&s->lock);
}

/* Marks the loop idle (about to wait) or busy; returns 1 when it should
 * stop instead. */
static int set_busy(stop_state *s, int busy)
{
    pthread_mutex_lock(&s->lock);
    s->busy = busy;
    int stop = signals_stopping();
    pthread_mutex_unlock(&s->lock);
    return stop;
}

/* --- one invocation ------------------------------------------------------- */

typedef struct lambda_ctx {
    intake *in;
    lambda_runtime *rt;
    int workers;
} lambda_ctx;

static char *summary_json(const intake_outcome *o)
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

/* An EventBridge schedule ("Scheduled Event" from aws.events): the
 * function's cron, which checks the expected arrivals. */
static int is_schedule(const lambda_invocation *inv)
{
    json_t *doc = json_loadb(sb_str(&inv->event), inv->event.len, 0, NULL);
    const char *source = json_string_value(json_object_get(doc, "source"));
    const char *type = json_string_value(json_object_get(doc, "detail-type"));
    int yes = source && type && !strcmp(source, "aws.events") && !strcmp(type, "Scheduled Event");
    json_decref(doc);
    return yes;
}

static int handle_schedule(lambda_ctx *lc, lambda_invocation *inv)
{
    sl_error err = {0};
    expect_summary s = {0};
    expect_checker *ec = expect_checker_new(lc->in->cfg, lc->in->storage, lc->in->metrics, &err);
    if (ec) {
        expect_check(ec, clock_schedule_now_ms(), NULL, &s);
        expect_checker_free(ec);
    }
    int rc;
    if (!ec || s.failures) {
        char msg[sizeof err.msg];
        snprintf(msg, sizeof msg, "%s", ec ? "some MISSING alarms or verdicts could not be "
                                             "delivered or written (see the log)" : err.msg);
        rc = lambda_runtime_fail(lc->rt, inv->request_id, ERR_EXPECT_FAILED, msg, &err);
    } else {
        json_t *doc = json_pack("{s:{s:I, s:I, s:I}}", "expect", "arrived", (json_int_t)s.arrived,
                                "missing_new", (json_int_t)s.missing_new, "missing_before",
                                (json_int_t)s.missing_before);
        char *body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        rc = lambda_runtime_respond(lc->rt, inv->request_id, body, strlen(body), &err);
        free(body);
    }
    if (rc != LAMBDA_POST_OK)
        log_msg(NULL, SL_LOG_ERROR, "%s", err.msg);
    log_msg(NULL, SL_LOG_INFO, "invocation %s: expected arrivals checked: %zu arrived, %zu "
            "missing (%zu new)", inv->request_id, s.arrived, s.missing_new + s.missing_before,
            s.missing_new);
    return rc;
}

/* --- SQS-triggered invocations: batchItemFailures ------------------------- */

/* Jobs are cut off this long before the invocation's deadline, so that the
 * answer still reaches the Runtime API in time. */
#define DEADLINE_MARGIN_MS 1000

static long long jobs_deadline(const lambda_invocation *inv)
{
    return inv->deadline_ms > 0 ? inv->deadline_ms - DEADLINE_MARGIN_MS : 0;
}

/* The Records of an SQS trigger (every record from aws:sqs with a
 * messageId and a body), or NULL for any other event. Borrowed from doc. */
static json_t *sqs_records(json_t *doc)
{
    json_t *recs = json_object_get(doc, "Records"), *r;
    size_t i;
    if (!json_is_array(recs) || json_array_size(recs) == 0)
        return NULL;
    json_array_foreach(recs, i, r) {
        const char *src = json_string_value(json_object_get(r, "eventSource"));
        if (!src || strcmp(src, "aws:sqs") != 0 ||
            !json_is_string(json_object_get(r, "messageId")) ||
            !json_is_string(json_object_get(r, "body")))
            return NULL;
    }
    return recs;
}

/* Runs one message's event; 0 when the message is done with (its jobs
 * succeeded, were skipped, or failed only on objects gone since), -1 when
 * SQS should deliver it again. */
static int run_message(lambda_ctx *lc, const lambda_invocation *inv, json_t *rec)
{
    const char *id = json_string_value(json_object_get(rec, "messageId"));
    const char *body = json_string_value(json_object_get(rec, "body"));
    long long cut = jobs_deadline(inv);
    if (cut && clock_now_ms() >= cut) {
        log_msg(NULL, SL_LOG_WARN, "invocation %s: message %s not started: the invocation's "
                "deadline is near", inv->request_id, id);
        return -1;
    }
    intake_run how = {.workers = lc->workers, .origin = id, .deadline_ms = cut};
    intake_outcome o;
    sl_error err = {0};
    int rc = intake_run_event(lc->in, body, strlen(body), &how, &o, &err);
    if (rc != 0)
        log_msg(NULL, SL_LOG_ERROR, "invocation %s: message %s: invalid event: %s",
                inv->request_id, id, err.msg);
    else if (o.failed_to_retry > 0)
        log_msg(NULL, SL_LOG_ERROR, "invocation %s: message %s: %zu job(s) failed: %s",
                inv->request_id, id, o.failed, sb_str(&o.failures));
    int failed = rc != 0 || o.failed_to_retry > 0;
    intake_outcome_free(&o);
    return failed ? -1 : 0;
}

/* An SQS batch: every message runs on its own, and only the failed ones
 * are returned (batchItemFailures; the event source mapping needs
 * FunctionResponseTypes ReportBatchItemFailures), so one bad object does
 * not bring the whole batch back. */
static int handle_sqs_batch(lambda_ctx *lc, lambda_invocation *inv, json_t *recs)
{
    json_t *failures = json_array(), *rec;
    size_t i;
    json_array_foreach(recs, i, rec) {
        if (run_message(lc, inv, rec) != 0)
            json_array_append_new(failures, json_pack("{s:O}", "itemIdentifier",
                                                      json_object_get(rec, "messageId")));
    }
    size_t n_failed = json_array_size(failures);
    json_t *doc = json_pack("{s:o}", "batchItemFailures", failures);
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!body)
        abort(); /* allocation failure */
    sl_error err = {0};
    int rc = lambda_runtime_respond(lc->rt, inv->request_id, body, strlen(body), &err);
    free(body);
    if (rc != LAMBDA_POST_OK)
        log_msg(NULL, SL_LOG_ERROR, "%s", err.msg);
    else
        log_msg(NULL, SL_LOG_INFO, "invocation %s: %zu SQS message(s), %zu to retry",
                inv->request_id, json_array_size(recs), n_failed);
    return rc;
}

/* Posts the result of an invocation. Returns the LAMBDA_POST_* code. */
static int handle_invocation(lambda_ctx *lc, lambda_invocation *inv)
{
    sl_error err = {0};
    int rc;

    set_trace_env(inv);
    if (is_schedule(inv))
        return handle_schedule(lc, inv);
    log_msg(NULL, SL_LOG_INFO, "invocation %s: %zu bytes, %lld ms left, trace %s", inv->request_id,
            inv->event.len, inv->deadline_ms ? inv->deadline_ms - clock_now_ms() : -1LL,
            inv->trace_id ? inv->trace_id : "-");

    json_t *doc = json_loadb(sb_str(&inv->event), inv->event.len, 0, NULL);
    json_t *recs = sqs_records(doc);
    if (recs) {
        rc = handle_sqs_batch(lc, inv, recs);
        json_decref(doc);
        return rc;
    }
    json_decref(doc);
    intake_run how = {.workers = lc->workers, .collect_outputs = 1, .origin = inv->request_id,
                      .deadline_ms = jobs_deadline(inv)};
    intake_outcome o;
    if (intake_run_event(lc->in, sb_str(&inv->event), inv->event.len, &how, &o, &err) != 0) {
        log_msg(NULL, SL_LOG_ERROR, "invocation %s: invalid event: %s", inv->request_id, err.msg);
        sl_error perr = {0};
        rc = lambda_runtime_fail(lc->rt, inv->request_id, ERR_INVALID_EVENT, err.msg, &perr);
        if (rc != LAMBDA_POST_OK)
            log_msg(NULL, SL_LOG_ERROR, "%s", perr.msg);
        intake_outcome_free(&o);
        return rc;
    }
    if (o.failed > 0) {
        strbuf msg = STRBUF_INIT;
        size_t total = o.succeeded + o.failed + o.skipped;
        sb_addf(&msg, "%zu of %zu jobs failed: %s", o.failed, total, sb_str(&o.failures));
        if (o.failed > INTAKE_NAMED_FAILURES)
            sb_addf(&msg, "; and %zu more", o.failed - INTAKE_NAMED_FAILURES);
        rc = lambda_runtime_fail(lc->rt, inv->request_id, ERR_JOB_FAILED, sb_str(&msg), &err);
        sb_free(&msg);
    } else {
        char *body = summary_json(&o);
        rc = lambda_runtime_respond(lc->rt, inv->request_id, body, strlen(body), &err);
        free(body);
    }
    if (rc != LAMBDA_POST_OK)
        log_msg(NULL, SL_LOG_ERROR, "%s", err.msg);
    else
        log_msg(NULL, SL_LOG_INFO, "invocation %s: %zu succeeded, %zu failed, %zu skipped",
                inv->request_id, o.succeeded, o.failed, o.skipped);
    intake_outcome_free(&o);
    return rc;
}

/* --- the loop ------------------------------------------------------------ */

static int serve_invocations(lambda_ctx *lc, stop_state *stop)
{
    for (;;) {
        if (set_busy(stop, 0))
            return SL_EXIT_OK;
        lambda_invocation inv;
        sl_error err = {0};
        if (lambda_runtime_next(lc->rt, &inv, &err) != 0) {
            log_msg(NULL, SL_LOG_ERROR, "Runtime API: %s", err.msg);
            return SL_EXIT_JOB_FAILED;
        }
        set_busy(stop, 1);
        int rc = handle_invocation(lc, &inv);
        lambda_runtime_invocation_free(&inv);
        if (rc == LAMBDA_POST_FATAL)
            return SL_EXIT_JOB_FAILED;
    }
}

static const char *init_error_type(intake_stage s)
{
    switch (s) {
    case INTAKE_FAILED_PLUGINS: return ERR_PLUGIN;
    case INTAKE_FAILED_STORAGE: return ERR_STORAGE;
    default: return ERR_CONFIG;
    }
}

/* Opens the intake; on failure posts the init error and returns -1
 * (diagnostics are also printed to stderr, which is the function's log). */
static int init_engine(lambda_ctx *lc, const lambda_options *o)
{
    /* Execution environments may share a host name (and run in VMs of
     * their own): a record's host must name one environment, or cleaning
     * up after a killed one could abandon another's live jobs */
    const char *stream = getenv("AWS_LAMBDA_LOG_STREAM_NAME");
    if (stream && *stream && procid_use_host(stream) != 0)
        log_msg(NULL, SL_LOG_WARN, "cannot name this process's host after its log stream");
    intake_report rep;
    lc->in = intake_open(o->config_path, INTAKE_JOBS | INTAKE_RECOVER, &rep);
    if (lc->in) {
        intake_report_free(&rep);
        return 0;
    }
    diag_print(&rep.diags, stderr);
    strbuf msg = STRBUF_INIT;
    intake_report_summary(&rep, &msg);
    if (!msg.len)
        sb_addf(&msg, "%s: the configuration could not be loaded", o->config_path);
    const char *etype = init_error_type(rep.failed);
    log_msg(NULL, SL_LOG_ERROR, "init failed (%s): %s", etype, sb_str(&msg));
    sl_error err = {0};
    if (lambda_runtime_init_error(lc->rt, etype, sb_str(&msg), &err) != LAMBDA_POST_OK)
        log_msg(NULL, SL_LOG_ERROR, "%s", err.msg);
    sb_free(&msg);
    intake_report_free(&rep);
    return -1;
}

int lambda_run(const lambda_options *o)
{
    lambda_ctx lc = {.workers = o->workers};
    sl_error err = {0};
    lc.rt = lambda_runtime_new(o->runtime_api, &err);
    if (!lc.rt) {
        fprintf(stderr, "sluice lambda: %s\n", err.msg);
        return SL_EXIT_USAGE;
    }
    /* The state is the signal hook's, which lives as long as the process:
     * it is never freed. */
    stop_state *stop = xcalloc(1, sizeof *stop);
    stop->busy = 1;
    pthread_mutex_init(&stop->lock, NULL);
    if (signals_start(on_signal, stop) != 0) {
        fprintf(stderr, "sluice lambda: cannot set up signal handling\n");
        lambda_runtime_free(lc.rt);
        return SL_EXIT_USAGE;
    }
    int rc = SL_EXIT_USAGE;
    if (init_engine(&lc, o) == 0) {
        /* Lambda's way to publish metrics without API calls: EMF lines on
         * stdout, which is the function's log */
        metrics_emf_start(lc.in->metrics, stdout, EMF_NAMESPACE);
        log_msg(NULL, SL_LOG_INFO, "lambda runtime ready: %zu rules, %d workers",
                lc.in->cfg->n_rules, lc.workers);
        rc = serve_invocations(&lc, stop);
    }
    /* Stay busy: the signal hook must not _exit while we tear down. */
    set_busy(stop, 1);
    intake_close(lc.in);
    lambda_runtime_free(lc.rt);
    return rc;
}
