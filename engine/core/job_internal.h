/* job_internal.h — the job's own state, shared by job.c (one object, one
 * job) and job_members.c (`members_as: jobs`: each archive member a job of
 * its own). Private to those two files; everyone else sees job.h.
 *
 * Threading: a sluice_job belongs to the thread running it. */
#ifndef SLUICE_JOB_INTERNAL_H
#define SLUICE_JOB_INTERNAL_H

#include "core/delivery.h"
#include "core/job.h"
#include "core/progress.h"
#include "core/router.h"
#include "storage/storage_map.h"
#include "util/log.h"

#define JOB_MAX_SIDES 8

/* Everything the host hands a plugin for one job. The host owns all of it
 * and releases it in job_finish() whatever the plugin did. */
struct sluice_job {
    const job_spec *spec;
    job_result *res;
    const rule *rule;
    const plugin_instance *plugin; /* the rule's, once chosen */
    route_match match;       /* a member's job borrows its archive's */
    log_ctx log;

    storage_reader *reader;  /* decoded (storage/decode.h) */
    storage_map map;         /* the input mapped for the plugin (input_map) */
    int read_any;            /* the plugin called read(): too late to map */
    object_info info;
    delivery *delivery;      /* the rule's delivery set, when it has one */
    int decoded;             /* the object was compressed or archived */
    char *member;            /* members_as: jobs: the archive member read */

    char *output_name;       /* proposed by the plugin */
    storage_writer *writer;  /* opened at the first write */
    storage_upload_hooks uploads; /* the writers' multipart uploads, marked */
    int output_refused;      /* resolving the output failed: stop writing */
    struct job_side {        /* side objects (plugin.h section 6) */
        char *name;
        storage_writer *writer;
    } sides[JOB_MAX_SIDES];
    size_t nsides;

    char date[11], run_date[11];
    char cpu_share[24];      /* online cores / spec->concurrency, at least 1 */
    char *bucket, *key;      /* of the input; key is the path for files */
    progress progress;
    sl_error error;          /* first error of the job */
};

/* --- job.c, for job_members.c ------------------------------------------ */
/* A new result (fresh run id, the spec's input and event) and its job. */
void job_start(sluice_job *job, const job_spec *spec, job_result *res);
/* The object's bytes as stored; 0, or -1 with job->error set. */
int job_open_raw(sluice_job *job, storage_reader **raw);
/* Does --output (spec->output_override) name a directory? */
int job_override_is_directory(const job_spec *spec);
/* The storage's etag (of the bytes actually read) replaces the event's. */
void job_adopt_storage_etag(sluice_job *job);
/* Past the spec's deadline: sets the job's error (once) and returns 1. */
int job_past_deadline(sluice_job *job);
/* A duplicate is SKIPPED; anything else runs the plugin on job->reader and
 * publishes its output when everything worked. */
void job_process(sluice_job *job);
/* The result's state, error and end; releases the job and logs its
 * summary line. */
void job_finish(sluice_job *job);

/* --- job_members.c ------------------------------------------------------- */
/* Runs each chosen member of the job's archive as its own job (job.h:
 * job_result.parts), reporting each through spec->part_done as it ends.
 * Errors before any member ran (the object unreadable, not an archive, no
 * member chosen) are the job's own (job->error, no parts). */
void job_members_run(sluice_job *job);

#endif
