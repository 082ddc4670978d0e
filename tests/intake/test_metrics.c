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
    "# HELP sluice_last_success_timestamp_seconds When a job of the rule last succeeded "
    "(seconds since the epoch).\n"
    "# TYPE sluice_last_success_timestamp_seconds gauge\n"
    "# HELP sluice_expect_checks_total Runs of the expected-arrival check.\n"
    "# TYPE sluice_expect_checks_total counter\n"
    "sluice_expect_checks_total 2\n"
    "# HELP sluice_expect_missing_total MISSING alarms sent: an expected arrival of the rule "
    "was late.\n"
    "# TYPE sluice_expect_missing_total counter\n"
    "sluice_expect_missing_total{rule=\"revenue\"} 1\n"
    "# HELP sluice_queue_receives_total SQS ReceiveMessage calls that answered.\n"
    "# TYPE sluice_queue_receives_total counter\n"
    "sluice_queue_receives_total 3\n"
    "# HELP sluice_queue_receive_errors_total SQS ReceiveMessage calls that failed.\n"
    "# TYPE sluice_queue_receive_errors_total counter\n"
    "sluice_queue_receive_errors_total 1\n"
    "# HELP sluice_queue_messages_received_total SQS messages received.\n"
    "# TYPE sluice_queue_messages_received_total counter\n"
    "sluice_queue_messages_received_total 12\n"
    "# HELP sluice_queue_messages_deleted_total SQS messages deleted after their jobs.\n"
    "# TYPE sluice_queue_messages_deleted_total counter\n"
    "sluice_queue_messages_deleted_total 11\n"
    "# HELP sluice_queue_messages_left_total SQS messages left on the queue for redelivery (or "
    "released at a stop).\n"
    "# TYPE sluice_queue_messages_left_total counter\n"
    "sluice_queue_messages_left_total 1\n"
    "# HELP sluice_queue_visibility_extensions_total SQS visibility extensions of messages "
    "whose jobs run.\n"
    "# TYPE sluice_queue_visibility_extensions_total counter\n"
    "sluice_queue_visibility_extensions_total 4\n"
    "# HELP sluice_queue_visibility_lapses_total SQS messages whose visibility timeout passed "
    "while their jobs ran.\n"
    "# TYPE sluice_queue_visibility_lapses_total counter\n"
    "sluice_queue_visibility_lapses_total 1\n"
    "# HELP sluice_watch_files_total Files of sluice watch, by outcome (uploaded, already, "
    "failed).\n"
    "# TYPE sluice_watch_files_total counter\n"
    "sluice_watch_files_total{outcome=\"uploaded\"} 2\n"
    "sluice_watch_files_total{outcome=\"already\"} 0\n"
    "sluice_watch_files_total{outcome=\"failed\"} 1\n"
    "# HELP sluice_spool_pending Accepted events in the spool, waiting or running.\n"
    "# TYPE sluice_spool_pending gauge\n"
    "sluice_spool_pending 4\n"
    "# HELP sluice_spool_quarantined_total Spooled events given up on after max_attempts "
    "starts, moved to quarantine.\n"
    "# TYPE sluice_spool_quarantined_total counter\n"
    "sluice_spool_quarantined_total 2\n";

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

/* The whole job at once: counts, failures, the last success per rule, and
 * its EMF line with the same names. */
static void test_job_done_and_emf(void)
{
    metrics *m = metrics_new();
    char *path = NULL;
    size_t len = 0;
    FILE *emf = open_memstream(&path, &len);
    metrics_emf_start(m, emf, "sluice-test");
    metrics_job_started(m);
    metrics_job_done(m, &(metrics_job){.rule = "daily", .outcome = "succeeded", .bytes_in = 10,
                                       .bytes_out = 4, .seconds = 0.5,
                                       .ended_ms = 1765022400250LL});
    metrics_job_started(m);
    metrics_job_done(m, &(metrics_job){.rule = "daily", .outcome = "failed", .seconds = 2,
                                       .ended_ms = 1765026000000LL, .notify_failures = 2,
                                       .record_failures = 1});
    fclose(emf);
    strbuf out = STRBUF_INIT;
    metrics_render(m, -1, &out);
    ok(strstr(sb_str(&out), "sluice_last_success_timestamp_seconds{rule=\"daily\"} "
                            "1765022400.250\n") != NULL,
       "the last success of the rule (a later failure does not move it)");
    ok(strstr(sb_str(&out), "sluice_jobs_total{rule=\"daily\",outcome=\"failed\"} 1\n") &&
           strstr(sb_str(&out), "sluice_notification_failures_total 2\n") &&
           strstr(sb_str(&out), "sluice_run_record_failures_total 1\n"),
       "metrics_job_done counts the job and its failures");
    const char *first_end = strchr(path, '\n');
    ok(first_end && strchr(first_end + 1, '\n') && !strchr(strchr(first_end + 1, '\n') + 1, '\n'),
       "one EMF line per job");
    char *line = metrics_emf_line("sluice-test", &(metrics_job){.rule = "daily",
                                  .outcome = "succeeded", .bytes_in = 10, .bytes_out = 4,
                                  .seconds = 0.5, .ended_ms = 1765022400250LL}, 0,
                                  1765022400250LL);
    ok(strncmp(path, line, strlen(line)) == 0, "the line written is metrics_emf_line's");
    is_str(line,
           "{\"rule\":\"daily\",\"outcome\":\"succeeded\",\"sluice_jobs_total\":1,"
           "\"sluice_job_duration_seconds\":0.5,\"sluice_bytes_in_total\":10,"
           "\"sluice_bytes_out_total\":4,\"sluice_jobs_in_flight\":0,"
           "\"sluice_notification_failures_total\":0,\"sluice_run_record_failures_total\":0,"
           "\"sluice_last_success_timestamp_seconds\":1765022400.25,\"_aws\":{\"Timestamp\":"
           "1765022400250,\"CloudWatchMetrics\":[{\"Namespace\":\"sluice-test\","
           "\"Dimensions\":[[\"rule\",\"outcome\"]],\"Metrics\":[{\"Name\":"
           "\"sluice_jobs_total\",\"Unit\":\"Count\"},{\"Name\":"
           "\"sluice_job_duration_seconds\",\"Unit\":\"Seconds\"},{\"Name\":"
           "\"sluice_bytes_in_total\",\"Unit\":\"Bytes\"},{\"Name\":"
           "\"sluice_bytes_out_total\",\"Unit\":\"Bytes\"},{\"Name\":"
           "\"sluice_jobs_in_flight\",\"Unit\":\"Count\"},{\"Name\":"
           "\"sluice_notification_failures_total\",\"Unit\":\"Count\"},{\"Name\":"
           "\"sluice_run_record_failures_total\",\"Unit\":\"Count\"},{\"Name\":"
           "\"sluice_last_success_timestamp_seconds\",\"Unit\":\"Seconds\"}]}]}}",
           "an EMF line: the values and the _aws block, under the Prometheus names");
    free(line);
    free(path);
    sb_free(&out);
    metrics_free(m);
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
    metrics_queue_add(m, METRICS_QUEUE_RECEIVES, 3);
    metrics_queue_add(m, METRICS_QUEUE_RECEIVE_ERRORS, 1);
    metrics_queue_add(m, METRICS_QUEUE_MESSAGES_RECEIVED, 12);
    metrics_queue_add(m, METRICS_QUEUE_MESSAGES_DELETED, 11);
    metrics_queue_add(m, METRICS_QUEUE_MESSAGES_LEFT, 1);
    metrics_queue_add(m, METRICS_QUEUE_VISIBILITY_EXTENSIONS, 4);
    metrics_queue_add(m, METRICS_QUEUE_VISIBILITY_LAPSES, 1);
    metrics_queue_add(m, METRICS_QUEUE_N, 9); /* not a counter: ignored */
    metrics_watch_file(m, METRICS_WATCH_UPLOADED);
    metrics_watch_file(m, METRICS_WATCH_UPLOADED);
    metrics_watch_file(m, METRICS_WATCH_FAILED);
    metrics_expect_checked(m);
    metrics_expect_checked(m);
    metrics_expect_missing(m, "revenue");
    metrics_spool_quarantined(m);
    metrics_spool_quarantined(m);

    strbuf out = STRBUF_INIT;
    metrics_render(m, 4, &out);
    is_str(sb_str(&out), expected, "exposition text of a known sequence");
    sb_reset(&out);
    metrics_render(m, -1, &out);
    ok(strstr(sb_str(&out), "sluice_spool_pending") == NULL, "no spool gauge when not given");
    ok(strstr(sb_str(&out), "sluice_spool_quarantined") == NULL, "  nor the quarantine count");
    metrics_free(m);

    test_job_done_and_emf();

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
