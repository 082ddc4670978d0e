/* metrics.c — thread-safe counters rendered as Prometheus text. One mutex
 * guards everything: updates are a handful per job or request, far from
 * contended. */
#include "autoconfig.h"
#include "intake/metrics.h"

#include <inttypes.h>
#include <jansson.h>
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
    long long last_success_ms; /* 0: none yet */
    uint64_t missing;          /* MISSING alarms */
} rule_counts;

static const char *const queue_names[METRICS_QUEUE_N] = {
    "sluice_queue_receives_total", "sluice_queue_receive_errors_total",
    "sluice_queue_messages_received_total", "sluice_queue_messages_deleted_total",
    "sluice_queue_messages_left_total", "sluice_queue_visibility_extensions_total",
    "sluice_queue_visibility_lapses_total"};
static const char *const queue_help[METRICS_QUEUE_N] = {
    "SQS ReceiveMessage calls that answered.", "SQS ReceiveMessage calls that failed.",
    "SQS messages received.", "SQS messages deleted after their jobs.",
    "SQS messages left on the queue for redelivery (or released at a stop).",
    "SQS visibility extensions of messages whose jobs run.",
    "SQS messages whose visibility timeout passed while their jobs ran."};
static const char *const watch_names[METRICS_WATCH_N] = {"uploaded", "already", "failed"};

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
    uint64_t queue[METRICS_QUEUE_N];
    uint64_t watch[METRICS_WATCH_N];
    uint64_t expect_checks;
    uint64_t quarantined; /* spool entries serve gave up on */
    FILE *emf;      /* NULL: no EMF lines */
    char *emf_ns;
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
    free(m->emf_ns);
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

void metrics_job_split(metrics *m)
{
    pthread_mutex_lock(&m->lock);
    m->in_flight--;
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

void metrics_job_done(metrics *m, const metrics_job *j)
{
    metrics_job_finished(m, j->rule, j->outcome, j->bytes_in, j->bytes_out, j->seconds);
    metrics_report_failures(m, j->notify_failures, j->record_failures);
    pthread_mutex_lock(&m->lock);
    if (outcome_index(j->outcome) == OUTCOME_SUCCEEDED && j->rule) {
        rule_counts *rc = rule_slot(m, j->rule);
        if (j->ended_ms > rc->last_success_ms)
            rc->last_success_ms = j->ended_ms;
    }
    if (m->emf) {
        /* under the lock: lines of parallel jobs never interleave */
        char *line = metrics_emf_line(m->emf_ns, j, m->in_flight, j->ended_ms);
        fprintf(m->emf, "%s\n", line);
        fflush(m->emf);
        free(line);
    }
    pthread_mutex_unlock(&m->lock);
}

void metrics_queue_add(metrics *m, metrics_queue_counter c, unsigned n)
{
    if ((unsigned)c >= METRICS_QUEUE_N || n == 0)
        return;
    pthread_mutex_lock(&m->lock);
    m->queue[c] += n;
    pthread_mutex_unlock(&m->lock);
}

void metrics_spool_quarantined(metrics *m)
{
    pthread_mutex_lock(&m->lock);
    m->quarantined++;
    pthread_mutex_unlock(&m->lock);
}

void metrics_watch_file(metrics *m, metrics_watch_outcome o)
{
    if ((unsigned)o >= METRICS_WATCH_N)
        return;
    pthread_mutex_lock(&m->lock);
    m->watch[o]++;
    pthread_mutex_unlock(&m->lock);
}

void metrics_expect_checked(metrics *m)
{
    pthread_mutex_lock(&m->lock);
    m->expect_checks++;
    pthread_mutex_unlock(&m->lock);
}

void metrics_expect_missing(metrics *m, const char *rule)
{
    pthread_mutex_lock(&m->lock);
    rule_slot(m, rule)->missing++;
    pthread_mutex_unlock(&m->lock);
}

void metrics_emf_start(metrics *m, FILE *out, const char *ns)
{
    pthread_mutex_lock(&m->lock);
    free(m->emf_ns);
    m->emf_ns = xstrdup(ns);
    m->emf = out;
    pthread_mutex_unlock(&m->lock);
}

/* --- Embedded Metric Format ---------------------------------------------- */

static void emf_metric(json_t *defs, json_t *root, const char *name, const char *unit,
                       json_t *value)
{
    json_array_append_new(defs, json_pack("{s:s, s:s}", "Name", name, "Unit", unit));
    json_object_set_new(root, name, value);
}

char *metrics_emf_line(const char *ns, const metrics_job *j, long in_flight,
                       long long timestamp_ms)
{
    json_t *defs = json_array();
    json_t *root = json_object();
    int oi = outcome_index(j->outcome);
    json_object_set_new(root, "rule", json_string(j->rule ? j->rule : NO_RULE));
    json_object_set_new(root, "outcome", json_string(outcome_names[oi]));
    emf_metric(defs, root, "sluice_jobs_total", "Count", json_integer(1));
    emf_metric(defs, root, "sluice_job_duration_seconds", "Seconds",
               json_real(j->seconds > 0 ? j->seconds : 0));
    emf_metric(defs, root, "sluice_bytes_in_total", "Bytes",
               json_integer(j->bytes_in > 0 ? j->bytes_in : 0));
    emf_metric(defs, root, "sluice_bytes_out_total", "Bytes",
               json_integer(j->bytes_out > 0 ? j->bytes_out : 0));
    emf_metric(defs, root, "sluice_jobs_in_flight", "Count", json_integer(in_flight));
    emf_metric(defs, root, "sluice_notification_failures_total", "Count",
               json_integer(j->notify_failures));
    emf_metric(defs, root, "sluice_run_record_failures_total", "Count",
               json_integer(j->record_failures));
    if (oi == OUTCOME_SUCCEEDED && j->rule)
        emf_metric(defs, root, "sluice_last_success_timestamp_seconds", "Seconds",
                   json_real((double)j->ended_ms / 1000.0));
    json_t *directive = json_pack("{s:s, s:[[s,s]], s:o}", "Namespace", ns, "Dimensions",
                                  "rule", "outcome", "Metrics", defs);
    json_object_set_new(root, "_aws", json_pack("{s:I, s:[o]}", "Timestamp",
                                                (json_int_t)timestamp_ms, "CloudWatchMetrics",
                                                directive));
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text)
        abort(); /* allocation failure */
    return text;
}

/* --- rendering ------------------------------------------------------------ */

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

static void render_rule_gauges(const metrics *m, strbuf *out)
{
    header(out, "sluice_last_success_timestamp_seconds", "gauge",
           "When a job of the rule last succeeded (seconds since the epoch).");
    for (size_t i = 0; i < m->n_rules; i++) {
        if (!m->rules[i].last_success_ms)
            continue;
        sb_adds(out, "sluice_last_success_timestamp_seconds{rule=\"");
        add_label_value(out, m->rules[i].rule);
        sb_addf(out, "\"} %.3f\n", (double)m->rules[i].last_success_ms / 1000.0);
    }
    header(out, "sluice_expect_checks_total", "counter", "Runs of the expected-arrival check.");
    sb_addf(out, "sluice_expect_checks_total %" PRIu64 "\n", m->expect_checks);
    header(out, "sluice_expect_missing_total", "counter",
           "MISSING alarms sent: an expected arrival of the rule was late.");
    for (size_t i = 0; i < m->n_rules; i++) {
        if (!m->rules[i].missing)
            continue;
        sb_adds(out, "sluice_expect_missing_total{rule=\"");
        add_label_value(out, m->rules[i].rule);
        sb_addf(out, "\"} %" PRIu64 "\n", m->rules[i].missing);
    }
}

static void render_intake(const metrics *m, strbuf *out)
{
    for (int c = 0; c < METRICS_QUEUE_N; c++) {
        header(out, queue_names[c], "counter", queue_help[c]);
        sb_addf(out, "%s %" PRIu64 "\n", queue_names[c], m->queue[c]);
    }
    header(out, "sluice_watch_files_total", "counter",
           "Files of sluice watch, by outcome (uploaded, already, failed).");
    for (int o = 0; o < METRICS_WATCH_N; o++)
        sb_addf(out, "sluice_watch_files_total{outcome=\"%s\"} %" PRIu64 "\n", watch_names[o],
                m->watch[o]);
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
    render_rule_gauges(m, out);
    render_intake(m, out);
    uint64_t quarantined = m->quarantined;
    pthread_mutex_unlock(&m->lock);
    if (spool_pending >= 0) {
        header(out, "sluice_spool_pending", "gauge",
               "Accepted events in the spool, waiting or running.");
        sb_addf(out, "sluice_spool_pending %ld\n", spool_pending);
        header(out, "sluice_spool_quarantined_total", "counter",
               "Spooled events given up on after max_attempts starts, moved to quarantine.");
        sb_addf(out, "sluice_spool_quarantined_total %" PRIu64 "\n", quarantined);
    }
}
