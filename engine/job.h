/* job.h — one job: one input object through one rule's plugin to one
 * output, all or nothing. Intake modes (run, process, and later poll,
 * serve, lambda, watch) build a job_spec and call job_execute(); what
 * happened comes back as a job_result, which notification and run records
 * consume. */
#ifndef SLUICE_JOB_H
#define SLUICE_JOB_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "event.h"
#include "location.h"
#include "runid.h"
#include "storage.h"

struct runstore;

typedef enum job_state { JOB_SUCCEEDED = 0, JOB_FAILED, JOB_SKIPPED } job_state;

typedef struct job_spec {
    const config *cfg;
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
} job_spec;

typedef struct job_result {
    job_state state;
    char run_id[RUNID_MAX];
    char *rule;          /* NULL when no rule was chosen */
    char *plugin;        /* name */
    char *plugin_version;
    char *input;         /* "s3://bucket/key" or the path */
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
} job_result;

/* Runs the job; always fills `res` (free it with job_result_free).
 * With spec->runs set and neither force nor output_override, an object
 * whose etag already has a SUCCEEDED record under the chosen rule is not
 * processed again: the job is SKIPPED with duplicate_of set.
 * Returns 0 when the job SUCCEEDED or was SKIPPED, -1 when it FAILED. */
int job_execute(const job_spec *spec, job_result *res);
void job_result_free(job_result *res);
const char *job_state_name(job_state s);

#endif
