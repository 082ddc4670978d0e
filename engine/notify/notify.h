/* notify.h — what happens after a job: the job-state event (an
 * EventBridge-shaped JSON document, schemas/job-state-change.schema.json,
 * docs/notifications.md); its delivery to the rule's targets is
 * notifier.h's. Besides a job's end the same event shape says that an
 * expected arrival is MISSING (intake/expect.h) and that `serve`
 * QUARANTINED a spooled event (intake/spool.h).
 *
 * The `log` target is built in and always on: every FAILED job's event is
 * written to the log in full. Remote targets — sns (Publish, query API,
 * SigV4), eventbridge (PutEvents, JSON 1.1, SigV4) and webhook (POST,
 * optional HMAC signature) — live in notify_sns.c, notify_eventbridge.c
 * and notify_webhook.c behind notify_backend.h. Each delivery is retried
 * with backoff; one that still fails is written to the log with the full
 * event, so nothing is lost, and counted as a notification failure (the
 * job's state does not change). */
#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H

#include <jansson.h>

#include "config/config.h"
#include "core/job.h"
#include "util/log.h"

#define NOTIFY_SOURCE "sluice"
#define NOTIFY_DETAIL_TYPE "Sluice Job State Change"

/* The job-state event for a finished job (new reference). */
json_t *notify_job_event(const job_result *res);
/* The record of a job that has started (new reference; kept in the run
 * store, never sent): state RUNNING, `time` its start, ended_at and
 * duration_ms null, and the process that runs it (detail.pid,
 * detail.process) like every event. */
json_t *notify_running_event(const job_result *res);

/* An expected arrival that did not come (intake/expect.h): the fields of
 * its `state: MISSING` event. Strings are borrowed. */
typedef struct notify_missing {
    const char *rule;
    const char *plugin;            /* the rule's plugin */
    const char *run_id;            /* a new run id for the alarm */
    const char *expected_location; /* where the rule's objects come from */
    const char *every, *by, *grace;
    const char *period;            /* "2026-12-06" (day), "2026-12-06T14Z" (hour) */
    long long window_start_ms;     /* a SUCCEEDED run ending in [start, deadline) */
    long long deadline_ms;         /* `by` + `grace` */
    long long checked_ms;          /* when the check found it missing */
} notify_missing;

/* The job-state-style event of a missing arrival: state MISSING, the
 * error (kind timeout) saying what was expected when, and `expected`
 * (new reference). */
json_t *notify_missing_event(const notify_missing *m);

/* A spooled event `sluice serve` quarantined (intake/spool.h): its jobs
 * killed the process at every one of `attempts` starts. One event per
 * object of the spooled event; strings are borrowed. */
typedef struct notify_quarantine {
    const char *run_id;            /* a new run id for the record */
    const char *rule;              /* the rule the object routes to; NULL: none */
    const char *plugin;            /* that rule's plugin */
    const char *plugin_version;    /* NULL: unknown */
    const char *input;             /* s3://bucket/key, or the file when the
                                      event cannot be read any more */
    const char *etag, *version_id, *event_time; /* as the event gave them */
    const char *spool_id;
    const char *path;              /* where the spooled event lies now */
    int attempts, max_attempts;
    const char *const *processes;  /* tags of the processes that died running it */
    size_t n_processes;
    const char *const *objects;    /* every object of the spooled event */
    size_t n_objects;
    long long quarantined_ms;
} notify_quarantine;

/* The job-state-style event of a quarantined object: state QUARANTINED,
 * the error (kind internal) saying what happened, and `quarantine` (new
 * reference). */
json_t *notify_quarantined_event(const notify_quarantine *q);

/* Fills `res` with a sample FAILED job, for `sluice notify-test`. */
void notify_sample_result(job_result *res);

#endif
