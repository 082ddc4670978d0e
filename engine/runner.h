/* runner.h — runs a batch of jobs on N worker threads, notifies after each
 * job and prints each output location on stdout (one per line, so scripts
 * can pick them up). Shared by every intake mode. */
#ifndef SLUICE_RUNNER_H
#define SLUICE_RUNNER_H

#include <stddef.h>

#include "job.h"

typedef struct runner_totals {
    size_t succeeded, failed, skipped;
    size_t notify_failures;
} runner_totals;

/* Executes specs[0..n) with `workers` threads (1 = in this thread). */
void runner_run(const config *cfg, const job_spec *specs, size_t n, int workers,
                runner_totals *totals);
/* The exit status for a batch: 1 when any job failed, else 0. */
int runner_exit_code(const runner_totals *totals);

#endif
