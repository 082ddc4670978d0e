/* watch.h — `sluice watch DIR --to s3://bucket/prefix/`: the directory
 * gateway. Files completed in DIR are uploaded through the configured
 * storage, keyed by their path below DIR, then marked done (moved into
 * the sent tree, or deleted); with `run_jobs`, each uploaded object then
 * runs its rule's job through the runner.
 *
 * Guarantees (docs/watch.md):
 *   - a file is uploaded once a writer closed it or it was renamed in, and
 *     only while no process (that /proc shows) has it open for writing;
 *     files found by a scan must also have been left alone for `settle_s`;
 *   - uploads are atomic (the storage's writer: commit or abort), and the
 *     file is marked done only after its upload committed;
 *   - after a crash, a file still in DIR whose object already exists with
 *     the same bytes is only marked done, not uploaded again.
 *
 * Threads: the calling thread owns inotify (intake/watch_tree.h) and
 * takes the signals (util/signals.h, started by the caller: SIGTERM and
 * SIGINT stop, SIGHUP rescans); uploads are tasks of a worker pool. A path
 * is queued at most once: a report for a path being uploaded is kept and
 * looked at after that upload. */
#ifndef SLUICE_WATCH_H
#define SLUICE_WATCH_H

#include "intake/intake.h"

typedef struct watch_options {
    const char *dir;        /* the real path of the watched directory */
    const char *to;         /* s3://bucket/prefix/ */
    const char *sent_dir;   /* NULL: DIR/.sent (ignored with on_done_delete) */
    int on_done_delete;
    double settle_s;
    int include_hidden;
    int run_jobs;           /* `in` must then be opened with INTAKE_JOBS */
    int workers;
} watch_options;

/* Watches until a stop signal. Returns SL_EXIT_OK when stopped by a
 * signal, SL_EXIT_JOB_FAILED when watching failed, SL_EXIT_USAGE when it
 * could not start (the reason printed). */
int watch_run(intake *in, const watch_options *o);

#endif
