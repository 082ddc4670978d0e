/* runner.c — a job and what follows it, one at a time or in batches
 * (runner.h). */
#include "autoconfig.h"
#include "intake/runner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/runstore.h"
#include "notify/notifier.h"
#include "notify/notify.h"
#include "util/alloc.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/workers.h"

struct runner {
    const config *cfg;
    notifier *notifier;
    metrics *metrics;     /* borrowed, may be NULL */
    runstore *runs;       /* NULL: records off, or broken */
    int runs_broken;      /* records are on but cannot be written */
    pthread_mutex_t lock; /* guards the totals callers hand in */
};

runner *runner_new(const config *cfg, storage *st, metrics *m)
{
    runner *r = xcalloc(1, sizeof *r);
    r->cfg = cfg;
    r->metrics = m;
    r->notifier = notifier_new(cfg);
    pthread_mutex_init(&r->lock, NULL);
    int disabled = 0;
    sl_error err = {0};
    r->runs = runstore_open(cfg, st, &disabled, &err);
    if (!r->runs && !disabled) {
        r->runs_broken = 1;
        log_msg(NULL, SL_LOG_ERROR, "run records cannot be written: %s", err.msg);
    }
    return r;
}

void runner_free(runner *r)
{
    if (!r)
        return;
    runstore_close(r->runs);
    notifier_free(r->notifier);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* One job on its way through the runner. */
typedef struct runner_run {
    runner *r;
    const job_spec *spec;
    int started; /* its RUNNING record was written */
} runner_run;

/* The output template whose duplicate marker a successful job of rule
 * `rule_name` writes: only a run that writes its rule's output makes later
 * ones duplicates. NULL for none. */
static const char *done_output_of(const runner *r, const job_spec *spec, const char *rule_name)
{
    const rule *ru = rule_name ? config_find_rule(r->cfg, rule_name) : NULL;
    return !spec->output_override && ru ? template_source(ru->output) : NULL;
}

/* job_spec.on_start: the RUNNING record, so that a job killed from now on
 * still leaves one (core/runstore.h). */
static void record_start(void *ud, const job_result *res)
{
    runner_run *run = ud;
    json_t *event = notify_running_event(res);
    sl_error err = {0};
    if (runstore_start(run->r->runs, event, done_output_of(run->r, run->spec, res->rule),
                       &err) == 0) {
        run->started = 1;
    } else {
        /* not a record failure: the final record is what must exist */
        log_ctx ctx = {.run_id = res->run_id, .input = res->input, .rule = res->rule};
        log_msg(&ctx, SL_LOG_ERROR, "RUNNING record not written to %s: %s",
                runstore_where(run->r->runs), err.msg);
    }
    json_decref(event);
}

/* Returns 1 when the record could not be written (the event is logged). */
static int write_record(runner_run *run, const job_spec *spec, const job_result *res,
                        json_t *event)
{
    runner *r = run->r;
    if (!r->runs)
        return r->runs_broken;
    sl_error err = {0};
    const char *done_output =
        res->state == JOB_SUCCEEDED ? done_output_of(r, spec, res->rule) : NULL;
    int rc = run->started ? runstore_finish(r->runs, event, done_output, &err)
                          : runstore_write(r->runs, event, done_output, &err);
    if (rc == 0)
        return 0;
    log_ctx ctx = {.run_id = res->run_id, .input = res->input, .rule = res->rule};
    json_t *f = json_pack("{s:O}", "event", event);
    log_fields(&ctx, SL_LOG_ERROR, f, "run record not written to %s: %s; the event is attached",
               runstore_where(r->runs), err.msg);
    json_decref(f);
    return 1;
}

static const char *outcome_name(job_state s)
{
    switch (s) {
    case JOB_SUCCEEDED: return "succeeded";
    case JOB_FAILED: return "failed";
    case JOB_SKIPPED: return "skipped";
    }
    return "failed";
}

/* The record (replacing its RUNNING one when run->started), the
 * notifications, the metrics and the totals of one finished job. */
static void report(runner_run *run, const job_spec *spec, const job_result *res,
                   runner_totals *totals)
{
    runner *r = run->r;
    json_t *event = notify_job_event(res);
    int rf = write_record(run, spec, res, event);
    int nf = notifier_job(r->notifier, res, event);
    json_decref(event);
    if (r->metrics) {
        double seconds =
            res->ended_ms > res->started_ms ? (res->ended_ms - res->started_ms) / 1000.0 : 0;
        metrics_job mj = {.rule = res->rule, .outcome = outcome_name(res->state),
                          .bytes_in = res->bytes_in, .bytes_out = res->bytes_out,
                          .seconds = seconds, .ended_ms = res->ended_ms,
                          .notify_failures = (unsigned)nf, .record_failures = (unsigned)rf};
        metrics_job_done(r->metrics, &mj);
    }
    if (!totals)
        return;
    pthread_mutex_lock(&r->lock);
    totals->notify_failures += (size_t)nf;
    totals->record_failures += (size_t)rf;
    switch (res->state) {
    case JOB_SUCCEEDED: totals->succeeded++; break;
    case JOB_FAILED: totals->failed++; break;
    case JOB_SKIPPED: totals->skipped++; break;
    }
    pthread_mutex_unlock(&r->lock);
}

typedef struct part_report {
    runner *runner;
    const job_spec *spec;
    runner_totals *totals;
} part_report;

/* An archive member's job (members_as: jobs) is reported as it ends; the
 * archive's job goes on in flight until its last member. */
static void report_part(void *ctx, const job_result *part)
{
    part_report *pr = ctx;
    runner_run run = {.r = pr->runner, .spec = pr->spec}; /* a member's job has no RUNNING record */
    report(&run, pr->spec, part, pr->totals);
    if (pr->runner->metrics)
        metrics_job_started(pr->runner->metrics);
}

int runner_job(runner *r, const job_spec *spec, job_result *res, runner_totals *totals)
{
    part_report pr = {r, spec, totals};
    runner_run run = {.r = r, .spec = spec};
    job_spec s = *spec;
    s.runs = r->runs;
    s.part_done = report_part;
    s.part_ctx = &pr;
    if (r->runs) {
        s.on_start = record_start;
        s.on_start_ud = &run;
    }
    if (r->metrics)
        metrics_job_started(r->metrics);
    int rc = job_execute(&s, res);
    if (!res->parts)
        report(&run, spec, res, totals);
    else if (r->metrics)
        metrics_job_split(r->metrics); /* its parts were reported */
    return rc;
}

int runner_alarm(runner *r, const char *rule_name, json_t *event, const char *what)
{
    int rf = r->runs_broken;
    sl_error err = {0};
    if (r->runs && runstore_write(r->runs, event, NULL, &err) != 0) {
        const json_t *d = json_object_get(event, "detail");
        log_ctx ctx = {.run_id = json_string_value(json_object_get(d, "run_id")),
                       .rule = rule_name};
        json_t *f = json_pack("{s:O}", "event", event);
        log_fields(&ctx, SL_LOG_ERROR, f,
                   "run record not written to %s: %s; the event is attached",
                   runstore_where(r->runs), err.msg);
        json_decref(f);
        rf = 1;
    }
    int nf = notifier_alarm(r->notifier, rule_name, event, what);
    if (r->metrics && (nf || rf))
        metrics_report_failures(r->metrics, (unsigned)nf, (unsigned)rf);
    return nf + rf;
}

/* --- batches ------------------------------------------------------------ */

typedef struct batch {
    runner *runner;
    const job_spec *specs;
    job_result *results;   /* NULL: print outputs and free each result */
    runner_totals *totals;
    int nthreads;          /* jobs at once */
    pthread_mutex_t lock;  /* guards stdout */
} batch;

typedef struct batch_item {
    batch *b;
    size_t i;
} batch_item;

static void run_one(batch *b, size_t i)
{
    job_spec spec = b->specs[i];
    if (spec.concurrency < b->nthreads)
        spec.concurrency = b->nthreads; /* the jobs share the cores */
    if (b->results) {
        runner_job(b->runner, &spec, &b->results[i], b->totals);
        return;
    }
    job_result res;
    runner_job(b->runner, &spec, &res, b->totals);
    pthread_mutex_lock(&b->lock);
    runner_print_outputs(&res, stdout);
    pthread_mutex_unlock(&b->lock);
    job_result_free(&res);
}

static void run_item(void *arg)
{
    batch_item *it = arg;
    run_one(it->b, it->i);
}

static void report_unreported(const runner_totals *before, const runner_totals *after)
{
    size_t nf = after->notify_failures - before->notify_failures;
    size_t rf = after->record_failures - before->record_failures;
    if (nf)
        log_msg(NULL, SL_LOG_ERROR,
                "%zu notification%s could not be delivered: the events are in the log", nf,
                nf == 1 ? "" : "s");
    if (rf)
        log_msg(NULL, SL_LOG_ERROR,
                "%zu run record%s could not be written: the events are in the log", rf,
                rf == 1 ? "" : "s");
}

void runner_batch(runner *r, const job_spec *specs, size_t n, int workers,
                  job_result *results, runner_totals *totals)
{
    runner_totals scratch = {0};
    if (!totals)
        totals = &scratch;
    runner_totals before = *totals;
    batch b = {.runner = r, .specs = specs, .results = results, .totals = totals};
    pthread_mutex_init(&b.lock, NULL);
    int nthreads = workers < 1 ? 1 : workers;
    if ((size_t)nthreads > n)
        nthreads = (int)n;
    b.nthreads = nthreads;
    workers_pool *pool = nthreads > 1 ? workers_new(nthreads) : NULL;
    if (pool) {
        batch_item *items = xcalloc(n, sizeof *items);
        for (size_t i = 0; i < n; i++) {
            items[i] = (batch_item){&b, i};
            workers_submit(pool, run_item, NULL, &items[i]);
        }
        workers_free(pool); /* runs every item, then joins */
        free(items);
    } else {
        for (size_t i = 0; i < n; i++)
            run_one(&b, i);
    }
    pthread_mutex_destroy(&b.lock);
    report_unreported(&before, totals);
}

void runner_print_outputs(const job_result *res, FILE *out)
{
    for (size_t i = 0; i < job_result_jobs(res); i++) {
        const job_result *j = job_result_job(res, i);
        if (j->state == JOB_SUCCEEDED && j->output)
            fprintf(out, "%s\n", j->output);
    }
    fflush(out);
}

int runner_exit_code(const runner_totals *totals)
{
    if (totals->failed > 0)
        return SL_EXIT_JOB_FAILED;
    if (totals->notify_failures > 0 || totals->record_failures > 0)
        return SL_EXIT_NOT_REPORTED;
    return SL_EXIT_OK;
}
