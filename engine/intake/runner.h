/* runner.h — what every intake mode does with a job: execute it (with
 * duplicate detection), write its run record, notify its targets, count
 * it in the metrics; and a batch runner on the worker pool that also
 * prints each output location on stdout (one per line, so scripts can pick
 * them up). */
#ifndef SLUICE_RUNNER_H
#define SLUICE_RUNNER_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "config/config.h"
#include "core/job.h"
#include "intake/metrics.h"
#include "storage/storage.h"

typedef struct runner_totals {
    size_t succeeded, failed, skipped;
    size_t notify_failures;  /* deliveries that failed after their retries */
    size_t record_failures;  /* run records that could not be written */
} runner_totals;

/* A long-lived job runner: the run-record store and the notifier (with its
 * cached AWS credentials) for one configuration. Thread-safe. `st` is the
 * configured storage (borrowed; used for s3:// run-record locations);
 * `m` (borrowed, may be NULL) counts every job. */
typedef struct runner runner;

runner *runner_new(const config *cfg, storage *st, metrics *m);
void runner_free(runner *r);
/* Runs one job and reports it: duplicate detection (spec->runs is set
 * from the runner), the run record, the notifications. Fills `res` (free
 * it with job_result_free) and adds to *totals when not NULL. Returns
 * what job_execute returned. An archive read with `members_as: jobs` is
 * reported member job by member job as each ends (job_result.parts), each
 * counted in *totals as a job of its own. */
int runner_job(runner *r, const job_spec *spec, job_result *res, runner_totals *totals);

/* Reports an alarm — an event that is not a job's end, such as the
 * QUARANTINED event of a spooled event `serve` gave up on (notify.h): its
 * run record (runstore_write), and its delivery as a failure of rule
 * `rule_name` (NULL: none) to the on_failure targets (notifier_alarm: the
 * log in full, level error, with the message `what`). Failed deliveries
 * and records are counted in the metrics and returned (0: all reported). */
int runner_alarm(runner *r, const char *rule_name, json_t *event, const char *what);

/* Executes specs[0..n) through `r`: one at a time in this thread when
 * workers <= 1 or n <= 1, else on a pool of up to `workers` threads. With
 * `results`, results[i] is specs[i]'s (the caller frees each); without,
 * each output location is printed on stdout. Adds to *totals (may be NULL)
 * and logs a summary of anything not reported. */
void runner_batch(runner *r, const job_spec *specs, size_t n, int workers,
                  job_result *results, runner_totals *totals);
/* Prints the output location of every job `res` stands for that
 * SUCCEEDED (job_result_jobs), one per line, and flushes. */
void runner_print_outputs(const job_result *res, FILE *out);
/* The exit status for a batch: 1 when any job failed, else
 * SL_EXIT_NOT_REPORTED when a notification or record failed, else 0. */
int runner_exit_code(const runner_totals *totals);

#endif
