/* runner.h — what every intake mode does with a job: execute it (with
 * duplicate detection), write its run record, notify its targets; and a
 * batch runner on N worker threads that also prints each output location
 * on stdout (one per line, so scripts can pick them up). */
#ifndef SLUICE_RUNNER_H
#define SLUICE_RUNNER_H

#include <stddef.h>

#include "job.h"

/* Exit status when every job succeeded (or was skipped) but a notification
 * could not be delivered or a run record not written. A failed job (1) and
 * a usage error (2) take precedence. */
#define RUNNER_EXIT_NOT_REPORTED 3

typedef struct runner_totals {
    size_t succeeded, failed, skipped;
    size_t notify_failures;  /* deliveries that failed after their retries */
    size_t record_failures;  /* run records that could not be written */
} runner_totals;

/* A long-lived job runner: the run-record store and the notifier (with its
 * cached AWS credentials) for one configuration. Thread-safe. `st` is the
 * configured storage (borrowed; used for s3:// run-record locations). */
typedef struct runner runner;

runner *runner_new(const config *cfg, storage *st);
void runner_free(runner *r);
/* Runs one job and reports it: duplicate detection (spec->runs is set
 * from the runner), the run record, the notifications. Fills `res` (free
 * it with job_result_free) and adds to *totals when not NULL. Returns
 * what job_execute returned. */
int runner_job(runner *r, const job_spec *spec, job_result *res, runner_totals *totals);

/* Executes specs[0..n) through `r` on up to `workers` threads (this one
 * included). With `results`, results[i] is specs[i]'s (the caller frees
 * each); without, each output location is printed on stdout. Adds to
 * *totals (may be NULL) and logs a summary of anything not reported. */
void runner_batch(runner *r, const job_spec *specs, size_t n, int workers,
                  job_result *results, runner_totals *totals);
/* Executes specs[0..n) with `workers` threads (1 = in this thread) through
 * a runner of its own. Adds to *totals and, when something could not be reported,
 * logs a summary saying so. */
void runner_run(const config *cfg, const job_spec *specs, size_t n, int workers,
                runner_totals *totals);
/* The exit status for a batch: 1 when any job failed, else
 * RUNNER_EXIT_NOT_REPORTED when a notification or record failed, else 0. */
int runner_exit_code(const runner_totals *totals);

#endif
