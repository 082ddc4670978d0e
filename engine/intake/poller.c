/* poller.c — SQS long-polling workers (poller.h). */
#include "autoconfig.h"
#include "intake/poller.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_credentials.h"
#include "aws/retry.h"
#include "aws/sqs.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/workers.h"

typedef struct inflight {
    char *receipt;
    double next_extend;
} inflight;

typedef struct poller {
    const poller_options *o;
    intake *in;
    aws_credentials_provider *creds;
    sqs_queue queue;
    atomic_int receivers;       /* receive loops still running */
    atomic_int workers_done;    /* the receive loops ended: the heartbeat ends */
    pthread_mutex_t lock;       /* guards everything below */
    inflight *flying;
    size_t n_flying, cap_flying;
    size_t received, deleted, kept;
    int failed_jobs;
} poller;

/* --- heartbeat ---------------------------------------------------------- */

static void flying_add(poller *p, const char *receipt)
{
    pthread_mutex_lock(&p->lock);
    if (p->n_flying == p->cap_flying) {
        p->cap_flying = p->cap_flying ? 2 * p->cap_flying : 16;
        p->flying = xrealloc(p->flying, p->cap_flying * sizeof *p->flying);
    }
    p->flying[p->n_flying++] =
        (inflight){xstrdup(receipt), clock_mono_seconds() + p->o->visibility_s / 2.0};
    pthread_mutex_unlock(&p->lock);
}

static void flying_remove(poller *p, const char *receipt)
{
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_flying; i++) {
        if (strcmp(p->flying[i].receipt, receipt) == 0) {
            free(p->flying[i].receipt);
            p->flying[i] = p->flying[--p->n_flying];
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

/* An extension that failed is tried again soon (HEARTBEAT_RETRY_S), not at
 * the next half-timeout: by then the message would be visible again, and
 * another worker could run the same job beside this one. */
#define HEARTBEAT_RETRY_S 0.5

static void flying_retry_soon(poller *p, const char *receipt)
{
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_flying; i++)
        if (strcmp(p->flying[i].receipt, receipt) == 0)
            p->flying[i].next_extend = clock_mono_seconds() + HEARTBEAT_RETRY_S;
    pthread_mutex_unlock(&p->lock);
}

/* Receipts due for a visibility extension, copied out so the calls to SQS
 * happen without holding the lock. */
static char **flying_due(poller *p, size_t *n)
{
    double now = clock_mono_seconds();
    char **due = NULL;
    *n = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_flying; i++) {
        if (p->flying[i].next_extend > now)
            continue;
        due = xrealloc(due, (*n + 1) * sizeof *due);
        due[(*n)++] = xstrdup(p->flying[i].receipt);
        p->flying[i].next_extend = now + p->o->visibility_s / 2.0;
    }
    pthread_mutex_unlock(&p->lock);
    return due;
}

static void heartbeat_main(void *arg)
{
    poller *p = arg;
    http_client *c = http_client_new(NULL);
    while (!atomic_load(&p->workers_done)) {
        size_t n;
        char **due = flying_due(p, &n);
        for (size_t i = 0; i < n; i++) {
            sl_error err = {0};
            if (sqs_change_visibility(c, p->creds, &p->queue, due[i], p->o->visibility_s,
                                      &err) != 0) {
                log_msg(NULL, SL_LOG_WARN, "heartbeat: %s (trying again in %.1f s)", err.msg,
                        HEARTBEAT_RETRY_S);
                flying_retry_soon(p, due[i]);
            } else {
                metrics_queue_add(p->in->metrics, METRICS_QUEUE_VISIBILITY_EXTENSIONS, 1);
                log_msg(NULL, SL_LOG_DEBUG, "heartbeat: visibility extended by %d s",
                        p->o->visibility_s);
            }
            free(due[i]);
        }
        free(due);
        clock_sleep_ms(200, &p->workers_done);
    }
    http_client_free(c);
}

/* --- one message -------------------------------------------------------- */

/* Runs the message's jobs; returns 1 when the message may be deleted. */
static int handle_message(poller *p, const sqs_message *m)
{
    intake_run how = {.workers = 1, .origin = m->id};
    intake_outcome out;
    sl_error err = {0};
    log_ctx ctx = {.input = m->id};
    if (intake_run_event(p->in, m->body, strlen(m->body), &how, &out, &err) != 0) {
        log_msg(&ctx, SL_LOG_ERROR,
                "message %s is not an event we understand, leaving it for the dead-letter "
                "queue: %s",
                m->id ? m->id : "?", err.msg);
        intake_outcome_free(&out);
        return 0;
    }
    int deletable = out.failed_to_retry == 0;
    if (!deletable) {
        pthread_mutex_lock(&p->lock);
        p->failed_jobs++;
        pthread_mutex_unlock(&p->lock);
    }
    intake_outcome_free(&out);
    return deletable;
}

static void settle_message(poller *p, http_client *c, const sqs_message *m, int deletable)
{
    sl_error err = {0};
    log_ctx ctx = {.input = m->id};
    if (!deletable) {
        log_msg(&ctx, SL_LOG_WARN,
                "message left on the queue (receive %d): it returns after the visibility "
                "timeout",
                m->receive_count);
        pthread_mutex_lock(&p->lock);
        p->kept++;
        pthread_mutex_unlock(&p->lock);
        metrics_queue_add(p->in->metrics, METRICS_QUEUE_MESSAGES_LEFT, 1);
        return;
    }
    if (sqs_delete(c, p->creds, &p->queue, m->receipt, &err) != 0) {
        log_msg(&ctx, SL_LOG_ERROR, "cannot delete the message (it will be redelivered): %s",
                err.msg);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->deleted++;
    pthread_mutex_unlock(&p->lock);
    metrics_queue_add(p->in->metrics, METRICS_QUEUE_MESSAGES_DELETED, 1);
}

/* A message received but not started when a stop came: make it visible
 * again at once, so another worker need not wait out the timeout. */
static void release_message(poller *p, http_client *c, const sqs_message *m)
{
    sl_error err = {0};
    if (sqs_change_visibility(c, p->creds, &p->queue, m->receipt, 0, &err) != 0)
        log_msg(NULL, SL_LOG_WARN, "cannot release message %s: %s", m->id ? m->id : "?", err.msg);
    pthread_mutex_lock(&p->lock);
    p->kept++;
    pthread_mutex_unlock(&p->lock);
    metrics_queue_add(p->in->metrics, METRICS_QUEUE_MESSAGES_LEFT, 1);
}

/* --- workers ------------------------------------------------------------ */

static int stop_requested(void *ud)
{
    (void)ud;
    return signals_stopping();
}

/* Receive failures back off with full jitter, from 1 s up to a minute. */
static const retry_policy receive_backoff = {.max_attempts = 1, .base_ms = 1000, .cap_ms = 60000};

static void worker_main(poller *p)
{
    http_client *c = http_client_new(NULL);
    int errors = 0, idle = 0;
    retry_state rs;
    retry_start(&rs, &receive_backoff);
    while (!signals_stopping()) {
        sqs_message *msgs;
        size_t n;
        int retryable;
        sl_error err = {0};
        if (sqs_receive(c, p->creds, &p->queue, p->o->batch, p->o->wait_s, p->o->visibility_s,
                        stop_requested, NULL, &msgs, &n, &retryable, &err) != 0) {
            if (signals_stopping())
                break;
            metrics_queue_add(p->in->metrics, METRICS_QUEUE_RECEIVE_ERRORS, 1);
            long wait = 500 + retry_backoff_ms(&receive_backoff, ++errors, &rs.rng);
            log_msg(NULL, SL_LOG_ERROR, "receive failed: %s; retrying in %.1f s", err.msg,
                    wait / 1000.0);
            signals_wait(wait);
            continue;
        }
        errors = 0;
        metrics_queue_add(p->in->metrics, METRICS_QUEUE_RECEIVES, 1);
        metrics_queue_add(p->in->metrics, METRICS_QUEUE_MESSAGES_RECEIVED, (unsigned)n);
        idle = n == 0 ? idle + 1 : 0;
        if (p->o->max_idle && idle >= p->o->max_idle)
            break;
        pthread_mutex_lock(&p->lock);
        p->received += n;
        pthread_mutex_unlock(&p->lock);
        /* every message of a batch is already invisible: keep them all so */
        for (size_t i = 0; i < n; i++)
            flying_add(p, msgs[i].receipt);
        for (size_t i = 0; i < n; i++) {
            if (signals_stopping())
                release_message(p, c, &msgs[i]);
            else
                settle_message(p, c, &msgs[i], handle_message(p, &msgs[i]));
            flying_remove(p, msgs[i].receipt);
        }
        sqs_messages_free(msgs, n);
    }
    http_client_free(c);
}

/* The receive loops and the heartbeat are tasks of one pool; the last
 * loop to end tells the heartbeat to end. */
static void receiver_main(void *arg)
{
    poller *p = arg;
    worker_main(p);
    if (atomic_fetch_sub(&p->receivers, 1) == 1)
        atomic_store(&p->workers_done, 1);
}

static int run_workers(poller *p)
{
    workers_pool *pool = workers_new(p->o->workers + 1);
    /* the heartbeat holds one thread for as long as the loops run */
    int loops = pool ? workers_count(pool) - 1 : 0;
    if (loops < 1) {
        workers_free(pool);
        log_msg(NULL, SL_LOG_ERROR, "cannot start worker threads");
        return SL_EXIT_JOB_FAILED;
    }
    atomic_store(&p->receivers, loops);
    workers_submit(pool, heartbeat_main, NULL, p);
    for (int i = 0; i < loops; i++)
        workers_submit(pool, receiver_main, NULL, p);
    workers_free(pool);
    log_msg(NULL, SL_LOG_INFO, "poll stopped: %zu messages received, %zu deleted, %zu left on the queue",
            p->received, p->deleted, p->kept);
    return p->failed_jobs ? SL_EXIT_JOB_FAILED : SL_EXIT_OK;
}

int poller_run(intake *in, const poller_options *o)
{
    poller p = {.o = o, .in = in};
    sl_error err = {0};
    if (sqs_queue_init(&p.queue, o->queue_url, o->region, &err) != 0) {
        fprintf(stderr, "sluice poll: %s\n", err.msg);
        return SL_EXIT_USAGE;
    }
    aws_credentials_options popts = {.profile = o->profile};
    p.creds = aws_credentials_provider_new(&popts);
    atomic_init(&p.workers_done, 0);
    pthread_mutex_init(&p.lock, NULL);
    log_msg(NULL, SL_LOG_INFO, "polling %s with %d workers (batch %d, wait %d s, visibility %d s)",
            o->queue_url, o->workers, o->batch, o->wait_s, o->visibility_s);
    int rc = run_workers(&p);
    pthread_mutex_destroy(&p.lock);
    for (size_t i = 0; i < p.n_flying; i++)
        free(p.flying[i].receipt);
    free(p.flying);
    aws_credentials_provider_free(p.creds);
    sqs_queue_free(&p.queue);
    return rc;
}
