/* metrics.h — the one metrics registry of every mode: `serve`, `poll` and
 * `watch` expose it on GET /metrics in the Prometheus text exposition
 * format (version 0.0.4); `lambda` writes each job as a CloudWatch
 * Embedded Metric Format line on stdout under the same names.
 *
 * All functions are thread-safe: HTTP threads, job workers, receive loops
 * and the expect timer update the same set. Names (docs/metrics.md):
 *   sluice_jobs_total{rule,outcome}            counter
 *   sluice_job_duration_seconds                histogram
 *   sluice_bytes_in_total / _out_total         counters
 *   sluice_jobs_in_flight                      gauge
 *   sluice_last_success_timestamp_seconds{rule} gauge
 *   sluice_notification_failures_total         counter
 *   sluice_run_record_failures_total           counter
 *   sluice_queue_*_total                       counters (poll)
 *   sluice_watch_files_total{outcome}          counter (watch)
 *   sluice_expect_checks_total                 counter
 *   sluice_expect_missing_total{rule}          counter
 *   sluice_http_requests_total{code}           counter (serve)
 *   sluice_events_accepted_total               counter
 *   sluice_spool_pending                       gauge (serve; at render time) */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/strbuf.h"

typedef struct metrics metrics;

metrics *metrics_new(void);
void metrics_free(metrics *m);

/* A job is about to run / has finished. `rule` may be NULL (no rule
 * matched); `outcome` is "succeeded", "failed" or "skipped". */
void metrics_job_started(metrics *m);
void metrics_job_finished(metrics *m, const char *rule, const char *outcome, int64_t bytes_in,
                          int64_t bytes_out, double seconds);
/* Notifications that could not be delivered and run records that could
 * not be written, after their retries. */
void metrics_report_failures(metrics *m, unsigned notify_failures, unsigned record_failures);
void metrics_http_request(metrics *m, int status);

/* Everything about one finished job at once (what the runner reports). */
typedef struct metrics_job {
    const char *rule;          /* NULL: no rule matched */
    const char *outcome;       /* "succeeded", "failed" or "skipped" */
    int64_t bytes_in, bytes_out;
    double seconds;
    long long ended_ms;        /* epoch ms: a success sets the rule's last success */
    unsigned notify_failures;  /* deliveries that failed after their retries */
    unsigned record_failures;  /* 0 or 1 */
} metrics_job;
/* metrics_job_finished + metrics_report_failures + the last success, and
 * with EMF on, the job's line. */
void metrics_job_done(metrics *m, const metrics_job *j);
/* A started job that ran as the jobs of an archive's members (each
 * reported with metrics_job_done) leaves the in-flight gauge, counted
 * nowhere else. */
void metrics_job_split(metrics *m);

/* The SQS counters of `sluice poll`. */
typedef enum metrics_queue_counter {
    METRICS_QUEUE_RECEIVES,             /* ReceiveMessage calls that answered */
    METRICS_QUEUE_RECEIVE_ERRORS,       /* ReceiveMessage calls that failed */
    METRICS_QUEUE_MESSAGES_RECEIVED,
    METRICS_QUEUE_MESSAGES_DELETED,
    METRICS_QUEUE_MESSAGES_LEFT,        /* left for redelivery or released */
    METRICS_QUEUE_VISIBILITY_EXTENSIONS,
    METRICS_QUEUE_VISIBILITY_LAPSES,    /* messages visible again while their jobs ran */
    METRICS_QUEUE_N
} metrics_queue_counter;
void metrics_queue_add(metrics *m, metrics_queue_counter c, unsigned n);

/* The files of `sluice watch`. */
typedef enum metrics_watch_outcome {
    METRICS_WATCH_UPLOADED,   /* uploaded and marked done */
    METRICS_WATCH_ALREADY,    /* already uploaded before a restart: marked done */
    METRICS_WATCH_FAILED,     /* an upload that failed (retried later) */
    METRICS_WATCH_N
} metrics_watch_outcome;
void metrics_watch_file(metrics *m, metrics_watch_outcome o);

/* A spooled event `serve` gave up on (moved to quarantine). Rendered with
 * the spool gauge (spool_pending >= 0 in metrics_render). */
void metrics_spool_quarantined(metrics *m);

/* One run of the expectation check; a MISSING alarm for `rule`. */
void metrics_expect_checked(metrics *m);
void metrics_expect_missing(metrics *m, const char *rule);

/* Embedded Metric Format: from now on every metrics_job_done writes one
 * JSON line to `out` (borrowed; stdout in Lambda) with the `_aws`
 * CloudWatchMetrics block, namespace `ns` (copied), dimensions rule and
 * outcome. */
void metrics_emf_start(metrics *m, FILE *out, const char *ns);
/* The EMF line of `j` (no newline), as metrics_job_done writes it, with
 * `in_flight` and `timestamp_ms`; the caller frees it. */
char *metrics_emf_line(const char *ns, const metrics_job *j, long in_flight,
                       long long timestamp_ms);
void metrics_events_accepted(metrics *m, unsigned n);

/* Appends the exposition text. `spool_pending` < 0 leaves that gauge out. */
void metrics_render(metrics *m, long spool_pending, strbuf *out);

#endif
