/* metrics.h — the counters `sluice serve` exposes on GET /metrics, in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * All functions are thread-safe: HTTP threads and job workers update the
 * same set. Names (see docs/serve.md):
 *   sluice_jobs_total{rule,outcome}        counter
 *   sluice_job_duration_seconds            histogram
 *   sluice_bytes_in_total / _out_total     counters
 *   sluice_jobs_in_flight                  gauge
 *   sluice_notification_failures_total     counter
 *   sluice_run_record_failures_total       counter
 *   sluice_http_requests_total{code}       counter
 *   sluice_events_accepted_total           counter
 *   sluice_spool_pending                   gauge (supplied at render time) */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stddef.h>
#include <stdint.h>

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
void metrics_events_accepted(metrics *m, unsigned n);

/* Appends the exposition text. `spool_pending` < 0 leaves that gauge out. */
void metrics_render(metrics *m, long spool_pending, strbuf *out);

#endif
