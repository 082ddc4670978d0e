/* poller.h — `sluice poll`: SQS long-polling workers.
 *
 * Each worker receives a batch, runs every job its messages name through
 * the intake path, and deletes a message only when all of them succeeded
 * or were skipped on purpose (or failed only because the object is gone);
 * anything else stays for the queue's redrive policy. A heartbeat keeps
 * the messages of running jobs invisible to other workers. Workers and the
 * heartbeat are tasks of one worker pool (util/workers.h); they stop on a
 * signal (util/signals.h, started by the caller). */
#ifndef SLUICE_POLLER_H
#define SLUICE_POLLER_H

#include "intake/intake.h"

typedef struct poller_options {
    const char *queue_url;
    const char *region;   /* NULL: the environment, profile or queue URL */
    const char *profile;  /* NULL: the default credential chain */
    int batch;            /* messages per receive, 1..10 */
    int wait_s;           /* long-poll wait, 0..20 */
    int workers;          /* receive loops */
    int visibility_s;     /* asked for each message, renewed by the heartbeat */
    int max_idle;         /* stop after this many empty receives per worker; 0: never */
} poller_options;

/* Polls until a stop signal (or max_idle). `in` must be opened with
 * INTAKE_JOBS. Returns SL_EXIT_OK after a clean stop, SL_EXIT_JOB_FAILED
 * when some job failed (its message was left for redelivery), or
 * SL_EXIT_USAGE when the queue URL is unusable (the message printed). */
int poller_run(intake *in, const poller_options *o);

#endif
