#include "autoconfig.h"
#include "runner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "strbuf.h"

#include "notify.h"

typedef struct batch {
    const config *cfg;
    const job_spec *specs;
    size_t n, next;
    runner_totals *totals;
    pthread_mutex_t lock; /* guards next, totals and stdout */
} batch;

static void run_one(batch *b, const job_spec *spec)
{
    job_result res;
    job_execute(spec, &res);
    int nf = notify_job(b->cfg, &res);

    pthread_mutex_lock(&b->lock);
    b->totals->notify_failures += (size_t)nf;
    switch (res.state) {
    case JOB_SUCCEEDED:
        b->totals->succeeded++;
        if (res.output) {
            printf("%s\n", res.output);
            fflush(stdout);
        }
        break;
    case JOB_FAILED: b->totals->failed++; break;
    case JOB_SKIPPED: b->totals->skipped++; break;
    }
    pthread_mutex_unlock(&b->lock);
    job_result_free(&res);
}

static void *worker(void *arg)
{
    batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->next < b->n ? b->next++ : b->n;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->n)
            return NULL;
        run_one(b, &b->specs[i]);
    }
}

void runner_run(const config *cfg, const job_spec *specs, size_t n, int workers,
                runner_totals *totals)
{
    batch b = {.cfg = cfg, .specs = specs, .n = n, .totals = totals};
    pthread_mutex_init(&b.lock, NULL);
    if (workers < 1)
        workers = 1;
    if ((size_t)workers > n)
        workers = (int)(n ? n : 1);

    if (workers == 1) {
        worker(&b);
    } else {
        pthread_t *tids = xcalloc((size_t)workers, sizeof *tids);
        int started = 0;
        for (int i = 0; i < workers; i++)
            if (pthread_create(&tids[i], NULL, worker, &b) == 0)
                started++;
            else
                break;
        if (started == 0)
            worker(&b); /* no threads to be had: do the work here */
        for (int i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
        free(tids);
    }
    pthread_mutex_destroy(&b.lock);
}

int runner_exit_code(const runner_totals *totals)
{
    return totals->failed > 0 ? 1 : 0;
}
