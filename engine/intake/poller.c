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

/* A received message whose jobs have not ended. Times are of the
 * monotonic clock, in seconds. */
typedef struct inflight {
    char *receipt;
    double next_extend; /* when the heartbeat extends its visibility next */
    double deadline;    /* when its visibility ends at the latest */
    double lapsed;      /* > 0: its visibility ended that long before an extension */
    int refused;        /* SQS refused an extension for good: no more are tried */
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

/* The heartbeat extends a message's visibility every third of the timeout:
 * an extension that fails, or that waits behind a slow answer, still has
 * two thirds of the timeout to get through before the message could go to
 * another worker and run twice. */
static double extend_period(const poller *p)
{
    return p->o->visibility_s / 3.0;
}

/* Called with the lock held. */
static inflight *flying_find(poller *p, const char *receipt)
{
    for (size_t i = 0; i < p->n_flying; i++)
        if (strcmp(p->flying[i].receipt, receipt) == 0)
            return &p->flying[i];
    return NULL;
}

/* Called once a receive has answered: the message became invisible before
 * now, so now + timeout is the latest its visibility can end. */
static void flying_add(poller *p, const char *receipt)
{
    double now = clock_mono_seconds();
    pthread_mutex_lock(&p->lock);
    if (p->n_flying == p->cap_flying) {
        p->cap_flying = p->cap_flying ? 2 * p->cap_flying : 16;
        p->flying = xrealloc(p->flying, p->cap_flying * sizeof *p->flying);
    }
    p->flying[p->n_flying++] =
        (inflight){xstrdup(receipt), now + extend_period(p), now + p->o->visibility_s, 0, 0};
    pthread_mutex_unlock(&p->lock);
}

/* Ends the message's watch, when its jobs have ended. Returns how many
 * seconds its visibility had lapsed while they ran (0: it never did), and
 * sets *refused when SQS refused an extension for good, so the caller can
 * say that another worker may have run them too. */
static double flying_remove(poller *p, const char *receipt, int *refused)
{
    double now = clock_mono_seconds(), lapsed = 0;
    *refused = 0;
    pthread_mutex_lock(&p->lock);
    inflight *f = flying_find(p, receipt);
    if (f) {
        lapsed = f->lapsed > now - f->deadline ? f->lapsed : now - f->deadline;
        *refused = f->refused;
        free(f->receipt);
        *f = p->flying[--p->n_flying];
    }
    pthread_mutex_unlock(&p->lock);
    return lapsed > 0 ? lapsed : 0;
}

/* An extension SQS made: the request went out at `sent`; a message whose
 * deadline was already past by then was visible to other workers for a
 * while. The new deadline is at most timeout seconds from now. */
static void flying_extended(poller *p, const char *receipt, double sent)
{
    pthread_mutex_lock(&p->lock);
    inflight *f = flying_find(p, receipt);
    if (f) {
        if (sent - f->deadline > f->lapsed)
            f->lapsed = sent - f->deadline;
        f->deadline = clock_mono_seconds() + p->o->visibility_s;
    }
    pthread_mutex_unlock(&p->lock);
}

/* An extension that failed is tried again soon (HEARTBEAT_RETRY_S), not at
 * the next period: by then the message may be visible again, and another
 * worker could run the same job beside this one. One SQS refused for good
 * (its receipt is no longer valid: the message was received again, or
 * deleted by whoever ran it) is not tried again: that cannot help.
 * Returns 0 when the message is no longer in flight here (its jobs ended
 * while the request was out: the failure does not matter), else 1. */
#define HEARTBEAT_RETRY_S 0.5

static int flying_failed(poller *p, const char *receipt, int for_good)
{
    pthread_mutex_lock(&p->lock);
    inflight *f = flying_find(p, receipt);
    if (f && for_good)
        f->refused = 1;
    else if (f)
        f->next_extend = clock_mono_seconds() + HEARTBEAT_RETRY_S;
    pthread_mutex_unlock(&p->lock);
    return f != NULL;
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
        if (p->flying[i].refused || p->flying[i].next_extend > now)
            continue;
        due = xrealloc(due, (*n + 1) * sizeof *due);
        due[(*n)++] = xstrdup(p->flying[i].receipt);
        p->flying[i].next_extend = now + extend_period(p);
    }
    pthread_mutex_unlock(&p->lock);
    return due;
}

/* Extends up to SQS_BATCH_MAX receipts with one request: with one request
 * per receipt, a poller's 20 in-flight messages took 20 round trips in a
 * row, and on a loaded machine the last ones came after the timeout.
 * Entries SQS did not change, or all when the call failed, are tried
 * again soon. */
static void extend_batch(poller *p, http_client *c, char **receipts, size_t n)
{
    int changed[SQS_BATCH_MAX];
    sl_error err = {0};
    double sent = clock_mono_seconds();
    int rc = sqs_change_visibility_batch(c, p->creds, &p->queue, receipts, n,
                                         p->o->visibility_s, changed, &err);
    unsigned extended = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc >= 0 && changed[i] == 1) {
            flying_extended(p, receipts[i], sent);
            extended++;
        } else {
            failed += flying_failed(p, receipts[i], rc >= 0 && changed[i] < 0);
        }
    }
    if (failed)
        log_msg(NULL, SL_LOG_WARN, "heartbeat: %s (trying again in %.1f s unless refused for good)",
                err.msg, HEARTBEAT_RETRY_S);
    if (extended) {
        metrics_queue_add(p->in->metrics, METRICS_QUEUE_VISIBILITY_EXTENSIONS, extended);
        log_msg(NULL, SL_LOG_DEBUG, "heartbeat: visibility of %u message(s) extended by %d s",
                extended, p->o->visibility_s);
    }
}

static void heartbeat_main(void *arg)
{
    poller *p = arg;
    http_client *c = http_client_new(NULL);
    while (!atomic_load(&p->workers_done)) {
        size_t n;
        char **due = flying_due(p, &n);
        for (size_t i = 0; i < n; i += SQS_BATCH_MAX)
            extend_batch(p, c, due + i, n - i < SQS_BATCH_MAX ? n - i : SQS_BATCH_MAX);
        for (size_t i = 0; i < n; i++)
            free(due[i]);
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

/* The n messages received but not started when a stop came: visible
 * again at once, so another worker need not wait out the timeout; one
 * request for a receive's batch (at most SQS_BATCH_MAX, as received). They
 * leave the heartbeat's watch first: an extension after this would undo
 * it. */
static void release_messages(poller *p, http_client *c, const sqs_message *m, size_t n)
{
    for (size_t done = 0; done < n;) {
        size_t k = n - done < SQS_BATCH_MAX ? n - done : SQS_BATCH_MAX;
        char *receipts[SQS_BATCH_MAX];
        int changed[SQS_BATCH_MAX], refused;
        for (size_t i = 0; i < k; i++) {
            receipts[i] = m[done + i].receipt;
            flying_remove(p, receipts[i], &refused);
        }
        sl_error err = {0};
        int rc = sqs_change_visibility_batch(c, p->creds, &p->queue, receipts, k, 0, changed, &err);
        if (rc != 0)
            log_msg(NULL, SL_LOG_WARN,
                    "cannot release %s of %zu message(s) received before the stop: %s "
                    "(visible again after the visibility timeout)",
                    rc < 0 ? "any" : "some", k, err.msg);
        done += k;
    }
    pthread_mutex_lock(&p->lock);
    p->kept += n;
    pthread_mutex_unlock(&p->lock);
    metrics_queue_add(p->in->metrics, METRICS_QUEUE_MESSAGES_LEFT, (unsigned)n);
}

/* Ends the message's watch once its jobs have ended. A message whose
 * visibility ended while they ran may have been received by another
 * worker, which then ran the same jobs beside these: the duplicate check
 * cannot catch two runs at once. Said loudly, and counted, for it means
 * --visibility is too short for this machine. */
static void end_watch(poller *p, const sqs_message *m)
{
    int refused;
    double lapsed = flying_remove(p, m->receipt, &refused);
    if (lapsed == 0 && !refused)
        return;
    log_ctx ctx = {.input = m->id};
    if (lapsed > 0)
        log_msg(&ctx, SL_LOG_WARN,
                "message %s was visible again for %.1f s while its jobs ran (the heartbeat did "
                "not extend it in time): another worker may have run them too; raise "
                "--visibility",
                m->id ? m->id : "?", lapsed);
    else
        log_msg(&ctx, SL_LOG_WARN,
                "message %s: SQS refused to extend its visibility while its jobs ran (its "
                "receipt no longer valid): another worker may have run them too; raise "
                "--visibility",
                m->id ? m->id : "?");
    metrics_queue_add(p->in->metrics, METRICS_QUEUE_VISIBILITY_LAPSES, 1);
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
        /* a message leaves the heartbeat's watch before it is deleted or
         * released: an extension after that would be refused, and look
         * like a lapse */
        for (size_t i = 0; i < n; i++) {
            if (signals_stopping()) {
                release_messages(p, c, msgs + i, n - i);
                break;
            }
            int deletable = handle_message(p, &msgs[i]);
            end_watch(p, &msgs[i]);
            settle_message(p, c, &msgs[i], deletable);
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
