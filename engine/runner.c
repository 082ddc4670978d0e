#include "autoconfig.h"
#include "runner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "notify.h"
#include "runrecord.h"
#include "strbuf.h"

struct runner {
    const config *cfg;
    notifier *notifier;
    runstore *runs;       /* NULL: records off, or broken */
    int runs_broken;      /* records are on but cannot be written */
    pthread_mutex_t lock; /* guards the totals callers hand in */
};

runner *runner_new(const config *cfg, storage *st)
{
    runner *r = xcalloc(1, sizeof *r);
    r->cfg = cfg;
    r->notifier = notifier_new(cfg);
    pthread_mutex_init(&r->lock, NULL);
    int disabled = 0;
    sl_error err = {0};
    r->runs = runstore_open(cfg, st, &disabled, &err);
    if (!r->runs && !disabled) {
        r->runs_broken = 1;
        log_msg(NULL, LOG_ERROR, "run records cannot be written: %s", err.msg);
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

/* Returns 1 when the record could not be written (the event is logged). */
static int write_record(runner *r, const job_spec *spec, const job_result *res, json_t *event)
{
    if (!r->runs)
        return r->runs_broken;
    sl_error err = {0};
    /* only a run that wrote its rule's output makes later ones duplicates */
    const rule *ru = res->rule ? config_find_rule(r->cfg, res->rule) : NULL;
    const char *done_output = res->state == JOB_SUCCEEDED && !spec->output_override && ru
                                  ? template_source(ru->output)
                                  : NULL;
    if (runstore_write(r->runs, event, done_output, &err) == 0)
        return 0;
    log_ctx ctx = {.run_id = res->run_id, .input = res->input, .rule = res->rule};
    json_t *f = json_pack("{s:O}", "event", event);
    log_fields(&ctx, LOG_ERROR, f, "run record not written to %s: %s; the event is attached",
               runstore_where(r->runs), err.msg);
    json_decref(f);
    return 1;
}

int runner_job(runner *r, const job_spec *spec, job_result *res, runner_totals *totals)
{
    job_spec s = *spec;
    s.runs = r->runs;
    int rc = job_execute(&s, res);
    json_t *event = notify_job_event(res);
    int rf = write_record(r, spec, res, event);
    int nf = notifier_job(r->notifier, res, event);
    json_decref(event);
    if (!totals)
        return rc;
    pthread_mutex_lock(&r->lock);
    totals->notify_failures += (size_t)nf;
    totals->record_failures += (size_t)rf;
    switch (res->state) {
    case JOB_SUCCEEDED: totals->succeeded++; break;
    case JOB_FAILED: totals->failed++; break;
    case JOB_SKIPPED: totals->skipped++; break;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* --- batches ------------------------------------------------------------ */

typedef struct batch {
    runner *runner;
    const job_spec *specs;
    job_result *results;   /* NULL: print outputs and free each result */
    size_t n, next;
    runner_totals *totals;
    pthread_mutex_t lock;  /* guards next and stdout */
} batch;

static void *worker(void *arg)
{
    batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->next < b->n ? b->next++ : b->n;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->n)
            return NULL;
        if (b->results) {
            runner_job(b->runner, &b->specs[i], &b->results[i], b->totals);
            continue;
        }
        job_result res;
        runner_job(b->runner, &b->specs[i], &res, b->totals);
        if (res.state == JOB_SUCCEEDED && res.output) {
            pthread_mutex_lock(&b->lock);
            printf("%s\n", res.output);
            fflush(stdout);
            pthread_mutex_unlock(&b->lock);
        }
        job_result_free(&res);
    }
}

static void report_unreported(const runner_totals *before, const runner_totals *after)
{
    size_t nf = after->notify_failures - before->notify_failures;
    size_t rf = after->record_failures - before->record_failures;
    if (nf)
        log_msg(NULL, LOG_ERROR,
                "%zu notification%s could not be delivered: the events are in the log", nf,
                nf == 1 ? "" : "s");
    if (rf)
        log_msg(NULL, LOG_ERROR,
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
    batch b = {.runner = r, .specs = specs, .results = results, .n = n, .totals = totals};
    pthread_mutex_init(&b.lock, NULL);
    size_t nthreads = workers < 1 ? 1 : (size_t)workers;
    if (nthreads > n)
        nthreads = n;
    /* this thread works too, so one fewer is started */
    pthread_t *tids = nthreads > 1 ? xcalloc(nthreads - 1, sizeof *tids) : NULL;
    size_t started = 0;
    for (size_t i = 0; i + 1 < nthreads; i++) {
        if (pthread_create(&tids[i], NULL, worker, &b) != 0)
            break;
        started++;
    }
    worker(&b);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    pthread_mutex_destroy(&b.lock);
    report_unreported(&before, totals);
}

void runner_run(const config *cfg, const job_spec *specs, size_t n, int workers,
                runner_totals *totals)
{
    if (n == 0)
        return;
    runner *r = runner_new(cfg, specs[0].storage);
    runner_batch(r, specs, n, workers, NULL, totals);
    runner_free(r);
}

int runner_exit_code(const runner_totals *totals)
{
    if (totals->failed > 0)
        return 1;
    if (totals->notify_failures > 0 || totals->record_failures > 0)
        return RUNNER_EXIT_NOT_REPORTED;
    return 0;
}
