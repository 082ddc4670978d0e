/* job_isolate.h — a job's plugin run() in a child process (a rule's
 * `isolation: process`, docs/plugins.md#isolation), so that a crash,
 * abort(), exit(), a run past the rule's `timeout` or memory past its
 * `max_memory` fails that job only, never the engine.
 *
 * The job is set up in the parent as for an in-process run (plugin
 * loaded and initialised, input opened, lookups and metadata in memory).
 * job_isolate_run() then forks, without exec: the child inherits the
 * plugin's state and the job read-only and calls run(); every host
 * service that touches storage, the log or the job's result (read, write,
 * set_output_name, side_write, lookups, log, counter_add, error) becomes a
 * request over a socketpair that the parent serves on the job's thread
 * with the ordinary job services, so the output goes through the job's
 * own writer and is published (or aborted) by the parent as always. The
 * bytes of the input and output streams pass through memory shared
 * across the fork (copied once, no socket copies); the parent reads the
 * next input chunk ahead while the plugin works on the last one. A plain
 * local file is not copied at all: the child reads its inherited copy of
 * the reader, and only the byte counts go to the parent.
 * Services answered from memory (meta, input_name, input_size, option
 * values) are served in the child. The child never takes a lock another
 * thread may have held at fork: no logging mutex, no curl, no storage.
 *
 * Ownership: the child process is the caller's for the duration of the
 * call; it is always reaped (killed first when it must be) before the
 * call returns.
 *
 * Threading: job_isolate_run() is called on the job's thread and serves
 * only that job; any number of jobs may be isolated at once. In the
 * child, the job_isolate_child_* services may be called from any thread
 * of the plugin (they are serialised). */
#ifndef SLUICE_JOB_ISOLATE_H
#define SLUICE_JOB_ISOLATE_H

#include <stddef.h>
#include <sys/types.h>

#include "sluice/plugin.h"
#include "storage/storage.h"

typedef struct job_isolate_limits {
    long long timeout_ms;  /* 0: none; past it the child is SIGKILLed */
    const char *timeout;   /* as written ("2s"), for the message */
    long long max_memory;  /* bytes the child may add to its address space
                              (RLIMIT_AS); 0: none */
    const char *max_memory_text; /* as written ("64M") */
    long long deadline_ms; /* epoch ms: the job spec's (a Lambda invocation's)
                              deadline, 0: none; past it the child is
                              SIGKILLed and the job cut off */
} job_isolate_limits;

/* Runs d->run(state, job) in a child process. `own_input`, when not NULL,
 * is the job's input reader, forkable (storage_reader_forkable()): the
 * child then reads its copy itself and reports the byte counts (and a
 * read error) back, and the caller must not read it again; NULL: the
 * parent reads the input for the child. Returns what run() returned, or
 * SLUICE_ERROR when the child did not finish the job (crashed, exited,
 * killed at the timeout, the protocol broke), with the job's error naming
 * the signal, the status or the limit. */
int job_isolate_run(sluice_job *job, const sluice_plugin *d, void *state,
                    const job_isolate_limits *lim, storage_reader *own_input);

/* True in an isolated child: the host services then go through the
 * functions below (job_services.c dispatches). */
int job_isolate_in_child(void);
ssize_t job_isolate_child_read(void *buf, size_t cap);
/* sluice/plugin.h's input_map and input_release, for a child reading its
 * input itself (own_input): 1 when mapped, else 0. */
int job_isolate_child_input_map(const void **data, size_t *len);
void job_isolate_child_input_release(size_t upto);
int job_isolate_child_set_output_name(const char *name);
int job_isolate_child_write(const void *buf, size_t len);
int job_isolate_child_side_write(const char *name, const void *buf, size_t len);
void job_isolate_child_log(sluice_log_level level, const char *text);
void job_isolate_child_counter_add(const char *name, int64_t delta);
void job_isolate_child_error(sluice_error_kind kind, const char *text);
sluice_lookup *job_isolate_child_lookup_open(const char *name);
ssize_t job_isolate_child_lookup_read(sluice_lookup *lookup, void *buf, size_t cap);
void job_isolate_child_lookup_close(sluice_lookup *lookup);

#endif
