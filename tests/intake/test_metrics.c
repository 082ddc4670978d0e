/* test_metrics.c — the Prometheus text of a known sequence of events,
 * byte for byte, and counts that stay exact under concurrent updates. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake/metrics.h"
#include "util/strbuf.h"
#include "tap.h"

static const char expected[] =
    "# HELP sluice_jobs_total Jobs finished, by rule and outcome.\n"
    "# TYPE sluice_jobs_total counter\n"
    "sluice_jobs_total{rule=\"revenue\",outcome=\"succeeded\"} 2\n"
    "sluice_jobs_total{rule=\"revenue\",outcome=\"failed\"} 1\n"
    "sluice_jobs_total{rule=\"revenue\",outcome=\"skipped\"} 0\n"
    "sluice_jobs_total{rule=\"none\",outcome=\"succeeded\"} 0\n"
    "sluice_jobs_total{rule=\"none\",outcome=\"failed\"} 0\n"
    "sluice_jobs_total{rule=\"none\",outcome=\"skipped\"} 1\n"
    "sluice_jobs_total{rule=\"q\\\"\\\\\\n\",outcome=\"succeeded\"} 1\n"
    "sluice_jobs_total{rule=\"q\\\"\\\\\\n\",outcome=\"failed\"} 0\n"
    "sluice_jobs_total{rule=\"q\\\"\\\\\\n\",outcome=\"skipped\"} 0\n"
    "# HELP sluice_job_duration_seconds Job wall-clock duration.\n"
    "# TYPE sluice_job_duration_seconds histogram\n"
    "sluice_job_duration_seconds_bucket{le=\"0.05\"} 1\n"
    "sluice_job_duration_seconds_bucket{le=\"0.1\"} 2\n"
    "sluice_job_duration_seconds_bucket{le=\"0.25\"} 2\n"
    "sluice_job_duration_seconds_bucket{le=\"0.5\"} 2\n"
    "sluice_job_duration_seconds_bucket{le=\"1\"} 3\n"
    "sluice_job_duration_seconds_bucket{le=\"2.5\"} 3\n"
    "sluice_job_duration_seconds_bucket{le=\"5\"} 3\n"
    "sluice_job_duration_seconds_bucket{le=\"10\"} 3\n"
    "sluice_job_duration_seconds_bucket{le=\"30\"} 3\n"
    "sluice_job_duration_seconds_bucket{le=\"60\"} 3\n"
    "sluice_job_duration_seconds_bucket{le=\"120\"} 3\n"
    "sluice_job_duration_seconds_bucket{le=\"300\"} 3\n"
    "sluice_job_duration_seconds_bucket{le=\"600\"} 4\n"
    "sluice_job_duration_seconds_bucket{le=\"+Inf\"} 5\n"
    "sluice_job_duration_seconds_sum 1001.150000\n"
    "sluice_job_duration_seconds_count 5\n"
    "# HELP sluice_bytes_in_total Bytes read from inputs by jobs.\n"
    "# TYPE sluice_bytes_in_total counter\n"
    "sluice_bytes_in_total 6359\n"
    "# HELP sluice_bytes_out_total Bytes written to outputs by jobs.\n"
    "# TYPE sluice_bytes_out_total counter\n"
    "sluice_bytes_out_total 106\n"
    "# HELP sluice_jobs_in_flight Jobs running now.\n"
    "# TYPE sluice_jobs_in_flight gauge\n"
    "sluice_jobs_in_flight 1\n"
    "# HELP sluice_notification_failures_total Notifications that could not be delivered.\n"
    "# TYPE sluice_notification_failures_total counter\n"
    "sluice_notification_failures_total 2\n"
    "# HELP sluice_run_record_failures_total Run records that could not be written.\n"
    "# TYPE sluice_run_record_failures_total counter\n"
    "sluice_run_record_failures_total 1\n"
    "# HELP sluice_events_accepted_total Event documents accepted (spooled or processed).\n"
    "# TYPE sluice_events_accepted_total counter\n"
    "sluice_events_accepted_total 3\n"
    "# HELP sluice_http_requests_total HTTP requests answered, by status.\n"
    "# TYPE sluice_http_requests_total counter\n"
    "sluice_http_requests_total{code=\"202\"} 2\n"
    "sluice_http_requests_total{code=\"403\"} 1\n"
    "# HELP sluice_spool_pending Accepted events in the spool, waiting or running.\n"
    "# TYPE sluice_spool_pending gauge\n"
    "sluice_spool_pending 4\n";

static void *hammer(void *arg)
{
    metrics *m = arg;
    for (int i = 0; i < 1000; i++) {
        metrics_job_started(m);
        metrics_job_finished(m, "r", "succeeded", 1, 2, 0.01);
        metrics_http_request(m, 200);
    }
    return NULL;
}

int main(void)
{
    metrics *m = metrics_new();
    for (int i = 0; i < 6; i++)
        metrics_job_started(m);
    metrics_job_finished(m, "revenue", "succeeded", 6259, 100, 0.02);
    metrics_job_finished(m, "revenue", "succeeded", 100, 6, 0.1);
    metrics_job_finished(m, "revenue", "failed", 0, -1, 0.7);
    metrics_job_finished(m, NULL, "skipped", -1, 0, 0.33 + 299.67 + 100);
    metrics_job_finished(m, "q\"\\\n", "succeeded", 0, 0, 600.33);
    metrics_report_failures(m, 2, 0);
    metrics_report_failures(m, 0, 1);
    metrics_events_accepted(m, 3);
    metrics_http_request(m, 202);
    metrics_http_request(m, 202);
    metrics_http_request(m, 403);
    metrics_http_request(m, 99); /* out of range: ignored */

    strbuf out = STRBUF_INIT;
    metrics_render(m, 4, &out);
    is_str(sb_str(&out), expected, "exposition text of a known sequence");
    sb_reset(&out);
    metrics_render(m, -1, &out);
    ok(strstr(sb_str(&out), "sluice_spool_pending") == NULL, "no spool gauge when not given");
    metrics_free(m);

    m = metrics_new();
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, m);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    sb_reset(&out);
    metrics_render(m, -1, &out);
    ok(strstr(sb_str(&out), "sluice_jobs_total{rule=\"r\",outcome=\"succeeded\"} 4000\n") != NULL,
       "4 threads x 1000 jobs counted exactly");
    ok(strstr(sb_str(&out), "sluice_jobs_in_flight 0\n") != NULL, "in-flight back to 0");
    ok(strstr(sb_str(&out), "sluice_bytes_out_total 8000\n") != NULL, "bytes out exact");
    ok(strstr(sb_str(&out), "sluice_http_requests_total{code=\"200\"} 4000\n") != NULL,
       "HTTP count exact");
    metrics_free(m);
    sb_free(&out);
    return done_testing();
}
