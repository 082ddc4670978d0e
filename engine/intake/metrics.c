/* metrics.c — thread-safe counters rendered as Prometheus text. One mutex
 * guards everything: updates are a handful per job or request, far from
 * contended. */
#include "autoconfig.h"
#include "intake/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

enum { OUTCOME_SUCCEEDED, OUTCOME_FAILED, OUTCOME_SKIPPED, N_OUTCOMES };
static const char *const outcome_names[N_OUTCOMES] = {"succeeded", "failed", "skipped"};

/* Job durations run from sub-second (a small file) to many minutes. */
static const double duration_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
#define N_BOUNDS (sizeof duration_bounds / sizeof *duration_bounds)

#define HTTP_MIN_CODE 100
#define HTTP_MAX_CODE 599

typedef struct rule_counts {
    char *rule;
    uint64_t jobs[N_OUTCOMES];
} rule_counts;

struct metrics {
    pthread_mutex_t lock;
    rule_counts *rules;
    size_t n_rules;
    uint64_t buckets[N_BOUNDS + 1]; /* per bucket, not cumulative; last is +Inf */
    double duration_sum;
    uint64_t duration_count;
    uint64_t bytes_in, bytes_out;
    long in_flight;
    uint64_t notify_failures;
    uint64_t record_failures;
    uint64_t events_accepted;
    uint64_t http[HTTP_MAX_CODE - HTTP_MIN_CODE + 1];
};

/* The label used for jobs no rule matched. */
#define NO_RULE "none"

metrics *metrics_new(void)
{
    metrics *m = xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void metrics_free(metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_rules; i++)
        free(m->rules[i].rule);
    free(m->rules);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int outcome_index(const char *outcome)
{
    for (int i = 0; i < N_OUTCOMES; i++)
        if (strcmp(outcome, outcome_names[i]) == 0)
            return i;
    return OUTCOME_FAILED; /* an unknown outcome is not a success */
}

/* Called with the lock held. */
static rule_counts *rule_slot(metrics *m, const char *rule)
{
    for (size_t i = 0; i < m->n_rules; i++)
        if (strcmp(m->rules[i].rule, rule) == 0)
            return &m->rules[i];
    m->rules = xrealloc(m->rules, (m->n_rules + 1) * sizeof *m->rules);
    rule_counts *rc = &m->rules[m->n_rules++];
    memset(rc, 0, sizeof *rc);
    rc->rule = xstrdup(rule);
    return rc;
}

void metrics_job_started(metrics *m)
{
    pthread_mutex_lock(&m->lock);
    m->in_flight++;
    pthread_mutex_unlock(&m->lock);
}

void metrics_job_finished(metrics *m, const char *rule, const char *outcome, int64_t bytes_in,
                          int64_t bytes_out, double seconds)
{
    size_t b = 0;
    if (seconds < 0)
        seconds = 0;
    while (b < N_BOUNDS && seconds > duration_bounds[b])
        b++;

    pthread_mutex_lock(&m->lock);
    m->in_flight--;
    rule_slot(m, rule ? rule : NO_RULE)->jobs[outcome_index(outcome)]++;
    m->buckets[b]++;
    m->duration_sum += seconds;
    m->duration_count++;
    if (bytes_in > 0)
        m->bytes_in += (uint64_t)bytes_in;
    if (bytes_out > 0)
        m->bytes_out += (uint64_t)bytes_out;
    pthread_mutex_unlock(&m->lock);
}

void metrics_report_failures(metrics *m, unsigned notify_failures, unsigned record_failures)
{
    if (!notify_failures && !record_failures)
        return;
    pthread_mutex_lock(&m->lock);
    m->notify_failures += notify_failures;
    m->record_failures += record_failures;
    pthread_mutex_unlock(&m->lock);
}

void metrics_http_request(metrics *m, int status)
{
    if (status < HTTP_MIN_CODE || status > HTTP_MAX_CODE)
        return;
    pthread_mutex_lock(&m->lock);
    m->http[status - HTTP_MIN_CODE]++;
    pthread_mutex_unlock(&m->lock);
}

void metrics_events_accepted(metrics *m, unsigned n)
{
    pthread_mutex_lock(&m->lock);
    m->events_accepted += n;
    pthread_mutex_unlock(&m->lock);
}

/* Label values escape backslash, double quote and newline. */
static void add_label_value(strbuf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            sb_adds(out, "\\\\");
        else if (*v == '"')
            sb_adds(out, "\\\"");
        else if (*v == '\n')
            sb_adds(out, "\\n");
        else
            sb_addc(out, *v);
    }
}

static void header(strbuf *out, const char *name, const char *type, const char *help)
{
    sb_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_jobs(const metrics *m, strbuf *out)
{
    header(out, "sluice_jobs_total", "counter", "Jobs finished, by rule and outcome.");
    for (size_t i = 0; i < m->n_rules; i++)
        for (int o = 0; o < N_OUTCOMES; o++) {
            sb_adds(out, "sluice_jobs_total{rule=\"");
            add_label_value(out, m->rules[i].rule);
            sb_addf(out, "\",outcome=\"%s\"} %" PRIu64 "\n", outcome_names[o],
                    m->rules[i].jobs[o]);
        }
}

static void render_duration(const metrics *m, strbuf *out)
{
    uint64_t cumulative = 0;
    header(out, "sluice_job_duration_seconds", "histogram", "Job wall-clock duration.");
    for (size_t b = 0; b < N_BOUNDS; b++) {
        cumulative += m->buckets[b];
        sb_addf(out, "sluice_job_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                duration_bounds[b], cumulative);
    }
    cumulative += m->buckets[N_BOUNDS];
    sb_addf(out, "sluice_job_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cumulative);
    sb_addf(out, "sluice_job_duration_seconds_sum %.6f\n", m->duration_sum);
    sb_addf(out, "sluice_job_duration_seconds_count %" PRIu64 "\n", m->duration_count);
}

static void render_http(const metrics *m, strbuf *out)
{
    header(out, "sluice_http_requests_total", "counter", "HTTP requests answered, by status.");
    for (int c = HTTP_MIN_CODE; c <= HTTP_MAX_CODE; c++)
        if (m->http[c - HTTP_MIN_CODE])
            sb_addf(out, "sluice_http_requests_total{code=\"%d\"} %" PRIu64 "\n", c,
                    m->http[c - HTTP_MIN_CODE]);
}

void metrics_render(metrics *m, long spool_pending, strbuf *out)
{
    pthread_mutex_lock(&m->lock);
    render_jobs(m, out);
    render_duration(m, out);
    header(out, "sluice_bytes_in_total", "counter", "Bytes read from inputs by jobs.");
    sb_addf(out, "sluice_bytes_in_total %" PRIu64 "\n", m->bytes_in);
    header(out, "sluice_bytes_out_total", "counter", "Bytes written to outputs by jobs.");
    sb_addf(out, "sluice_bytes_out_total %" PRIu64 "\n", m->bytes_out);
    header(out, "sluice_jobs_in_flight", "gauge", "Jobs running now.");
    sb_addf(out, "sluice_jobs_in_flight %ld\n", m->in_flight);
    header(out, "sluice_notification_failures_total", "counter",
           "Notifications that could not be delivered.");
    sb_addf(out, "sluice_notification_failures_total %" PRIu64 "\n", m->notify_failures);
    header(out, "sluice_run_record_failures_total", "counter",
           "Run records that could not be written.");
    sb_addf(out, "sluice_run_record_failures_total %" PRIu64 "\n", m->record_failures);
    header(out, "sluice_events_accepted_total", "counter",
           "Event documents accepted (spooled or processed).");
    sb_addf(out, "sluice_events_accepted_total %" PRIu64 "\n", m->events_accepted);
    render_http(m, out);
    pthread_mutex_unlock(&m->lock);
    if (spool_pending >= 0) {
        header(out, "sluice_spool_pending", "gauge",
               "Accepted events in the spool, waiting or running.");
        sb_addf(out, "sluice_spool_pending %ld\n", spool_pending);
    }
}
