/* job.h — one job: one input object through one rule's plugin to one
 * output, all or nothing. The intake layer builds a job_spec and calls
 * job_execute(); what happened comes back as a job_result, which
 * notification and run records consume.
 *
 * An archive read by a rule with `members_as: jobs` is several jobs: each
 * chosen member runs as a job of its own (its own plugin run, output, run
 * id, record and notification), one after another in one pass over the
 * archive; the archive's result then only gathers theirs (`parts`).
 *
 * Threading: any number of jobs may run at once, each on its own thread;
 * a spec's pointers are borrowed and read-only for the job's lifetime. */
#ifndef SLUICE_JOB_H
#define SLUICE_JOB_H

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "config/location.h"
#include "core/event.h"
#include "core/runid.h"
#include "plugin/plugin_bindings.h"
#include "storage/storage.h"
#include "util/error.h"

#include "sluice/plugin.h"

struct runstore;
struct job_result;

typedef enum job_state { JOB_SUCCEEDED = 0, JOB_FAILED, JOB_SKIPPED } job_state;

typedef struct job_spec {
    const config *cfg;
    const plugin_bindings *plugins; /* the rules' plugin instances */
    storage *storage;              /* the configured backend */
    location input;                /* object or plain file (borrowed) */
    const event_record *event;     /* triggering event, NULL for a direct run */
    const char *rule_name;         /* force this rule (--rule), or NULL to route */
    const char *output_override;   /* --output: location template, or NULL */
    int show_progress;             /* draw progress on a terminal */
    int force;                     /* run even when the object is a duplicate (--force) */
    int attempt;                   /* 1 (or 0) for a first run; a retry's is one more */
    const char *retry_of;          /* the run id this job retries, or NULL */
    struct runstore *runs;         /* run records, for duplicate detection; set by the
                                      runner (NULL: no detection) */
    long long deadline_ms;         /* epoch ms after which the job's reads and writes
                                      fail (SL_ERR_TIMEOUT) and nothing is published;
                                      0: none (a Lambda invocation's deadline) */
    int concurrency;               /* jobs this process may run at once (0: 1); a
                                      plugin sees its share of the cores as the meta
                                      key "cpu_share" */
    const char *member;            /* members_as: jobs: run this member of the
                                      archive only (a retry of its run), or NULL */
    /* members_as: jobs: called on the job's thread as each part (see
     * job_result.parts) ends, before the next member is read, so that its
     * record and notification do not wait for the whole archive. `part`
     * is borrowed for the call. NULL: none. */
    void (*part_done)(void *ctx, const struct job_result *part);
    void *part_ctx;
    /* Called once, on the job's thread, when the job has its rule and is
     * about to open its input (res holds the run id, rule, plugin, input
     * and the event's etag): where the runner writes the RUNNING record.
     * Not called for a job that ends before (no rule matches, the rule has
     * no plugin). NULL: nothing. */
    void (*on_start)(void *ud, const struct job_result *res);
    void *on_start_ud;
} job_spec;

typedef struct job_result {
    job_state state;
    char run_id[RUNID_MAX];
    char *rule;          /* NULL when no rule was chosen */
    char *plugin;        /* name */
    char *plugin_version;
    char *input;         /* "s3://bucket/key" or the path */
    char *member;        /* members_as: jobs: the archive member this job read */
    char *etag;          /* of the object as read, else as the event gave it */
    char *version_id;
    char *event_time;    /* ISO, when an event triggered the job */
    char *output;        /* where the output was written (SUCCEEDED) */
    char *skip_reason;   /* SKIPPED */
    char *duplicate_of;  /* SKIPPED as a duplicate: the SUCCEEDED run's id */
    int attempt;         /* 1, 2, ... */
    char *retry_of;      /* the run id this job retried, or NULL */
    sl_error error;      /* FAILED */
    int64_t bytes_in, bytes_out;
    long long started_ms, ended_ms; /* epoch milliseconds */
    json_t *counters;    /* {"name": integer, ...}, never NULL after execute */
    /* the plugin against sluice/plugin.h's rules (`sluice plugins check`) */
    int writes_after_error; /* write() calls once the job had failed */
    int ok_after_error;     /* run() returned SLUICE_OK after the job had failed */
    int failed_silently;    /* run() returned SLUICE_ERROR without host->error() */
    /* members_as: jobs, once a member ran: the jobs this result stands
     * for, in archive order — one per member, and last, when the archive
     * could not be read to its end, a FAILED one for the archive itself
     * (no member; its error says after which member it broke). Its own
     * state is then FAILED when any part failed, SKIPPED when all were,
     * else SUCCEEDED; its run id, output and counters belong to no job. */
    struct job_result *parts;
    size_t n_parts;
} job_result;

/* Runs the job; always fills `res` (free it with job_result_free).
 * With spec->runs set and neither force nor output_override, an object
 * whose etag already has a SUCCEEDED record under the chosen rule is not
 * processed again: the job is SKIPPED with duplicate_of set (a member's
 * job: that member of an archive with that etag). With spec->runs set,
 * every S3 multipart upload the job starts is marked in the store while it
 * is open (runstore_upload_mark), so that `sluice janitor` can abort it
 * when the process dies.
 * Returns 0 when the job SUCCEEDED or was SKIPPED, -1 when it FAILED (for
 * an archive read as member jobs: when any of them failed). */
int job_execute(const job_spec *spec, job_result *res);
void job_result_free(job_result *res);
const char *job_state_name(job_state s);
/* The jobs a result reports — records, notifications, counts, outputs:
 * its parts when it has them, else the result itself. */
size_t job_result_jobs(const job_result *res);
const job_result *job_result_job(const job_result *res, size_t i);

/* The job's side of the services a plugin calls through its sluice_host
 * table (see sluice/plugin.h for what each promises; job_services.c
 * assembles the table). Called only from the plugin's run(), on the job's
 * thread. */
ssize_t job_read(sluice_job *job, void *buf, size_t cap);
int job_input_map(sluice_job *job, const void **data, size_t *len);
void job_input_release(sluice_job *job, size_t upto);
const char *job_input_name(sluice_job *job);
int64_t job_input_size(sluice_job *job);
const char *job_meta(sluice_job *job, const char *key);
int job_set_output_name(sluice_job *job, const char *name);
int job_write(sluice_job *job, const void *buf, size_t len);
void job_vlog(sluice_job *job, sluice_log_level level, const char *fmt, va_list ap);
void job_counter_add(sluice_job *job, const char *name, int64_t delta);
void job_verror(sluice_job *job, sluice_error_kind kind, const char *fmt, va_list ap);
sluice_lookup *job_lookup_open(sluice_job *job, const char *name);
ssize_t job_lookup_read(sluice_lookup *lookup, void *buf, size_t cap);
void job_lookup_close(sluice_lookup *lookup);
int job_side_write(sluice_job *job, const char *name, const void *buf, size_t len);
/* The job's error (first one wins), for core/job_isolate.c, which names
 * how an isolated plugin's process ended. */
sl_error *job_error(sluice_job *job);
/* `n` bytes of the input were read outside job_read(): by an isolated
 * plugin's process reading its own copy of a forkable reader
 * (core/job_isolate.c). Counted and shown as job_read() counts them. */
void job_count_input(sluice_job *job, int64_t n);

#endif
