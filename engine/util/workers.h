/* workers.h — the engine's one worker pool: N threads taking tasks from a
 * FIFO queue. Every place that runs work on several threads uses it: the
 * job batches, the serve spool, the SQS pollers and their heartbeat, the
 * watch uploads, the S3 multipart parts and read-ahead.
 *
 * A task is fn(arg). The submitter owns `arg` until the pool calls fn(arg)
 * or, when the pool is stopped before the task started, discard(arg)
 * (discard may be NULL): exactly one of the two is called, once.
 *
 * Threading: every function may be called from any thread, tasks
 * included (a task may submit more tasks); workers_free() must not be
 * called from a task of the same pool. */
#ifndef SLUICE_WORKERS_H
#define SLUICE_WORKERS_H

#include <stddef.h>

typedef struct workers_pool workers_pool;
typedef void (*workers_fn)(void *arg);

/* The default number of workers everywhere one is not configured: the
 * cores online, at least 1 and at most WORKERS_MAX. */
#define WORKERS_MAX 256
int workers_default_count(void);

/* Starts `n` threads (1..WORKERS_MAX). NULL when not even one thread could
 * be started. The threads block the signals the calling thread blocks (see
 * signals.h: create pools after signals_start()). */
workers_pool *workers_new(int n);
/* The number of threads actually running. */
int workers_count(const workers_pool *w);

/* Queues fn(arg). After workers_stop() the task is discarded at once. */
void workers_submit(workers_pool *w, workers_fn fn, workers_fn discard, void *arg);
/* Tasks queued and not yet started, and tasks running. */
size_t workers_pending(workers_pool *w);
/* Blocks until no task is queued or running. */
void workers_wait(workers_pool *w);
/* Discards every task not yet started (calling its discard) and refuses
 * new ones; running tasks go on. Idempotent. */
void workers_stop(workers_pool *w);
/* Waits for the queue to empty (unless stopped) and the running tasks to
 * end, then joins the threads and frees. NULL is fine. */
void workers_free(workers_pool *w);

#endif
