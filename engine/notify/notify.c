/* notify.c — the job-state event (notify.h): building it from a job's
 * result, fitting it into a service's size limit, and what a failed
 * delivery means. Delivery itself is notifier.c's. */
#include "autoconfig.h"
#include "notify/notify.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws_credentials.h"
#include "aws/retry.h"
#include "core/runid.h"
#include "notify/notify_backend.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/procid.h"
#include "util/strbuf.h"

/* --- the job-state event ------------------------------------------------ */

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *iso_time(long long ms)
{
    char buf[32];
    clock_format_iso_ms(ms, buf);
    return json_string(buf);
}

static json_t *event_error(const job_result *res)
{
    if (res->state != JOB_FAILED)
        return json_null();
    const char *msg = res->error.msg[0] ? res->error.msg : "unknown error";
    return json_pack("{s:s, s:s}", "kind", sl_error_kind_name(res->error.kind), "message", msg);
}

/* Which process ran the job: what tells a RUNNING record's live process
 * from a dead one (core/runstore.h). */
static void add_process(json_t *d)
{
    char tag[PROCID_TAG_MAX];
    const procid *me = procid_self();
    json_object_set_new(d, "pid", json_integer(me->pid));
    json_object_set_new(d, "process", json_string(procid_format(me, tag)));
}

static json_t *event_detail(const job_result *res)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    json_t *d = json_object();
    json_object_set_new(d, "rule", string_or_null(res->rule));
    json_object_set_new(d, "state", json_string(job_state_name(res->state)));
    json_object_set_new(d, "run_id", json_string(res->run_id));
    json_t *input = json_pack("{s:o, s:o, s:o, s:o}", "location", string_or_null(res->input),
                              "etag", string_or_null(res->etag), "version_id",
                              string_or_null(res->version_id), "event_time",
                              string_or_null(res->event_time));
    if (res->member) /* only a members_as: jobs job has one */
        json_object_set_new(input, "member", json_string(res->member));
    json_object_set_new(d, "input", input);
    json_object_set_new(d, "output", json_pack("{s:o}", "location", string_or_null(res->output)));
    json_object_set_new(d, "plugin", json_pack("{s:o, s:o}", "name", string_or_null(res->plugin),
                                               "version", string_or_null(res->plugin_version)));
    json_object_set_new(d, "error", event_error(res));
    if (res->state == JOB_SKIPPED)
        json_object_set_new(d, "skip_reason", string_or_null(res->skip_reason));
    if (res->duplicate_of)
        json_object_set_new(d, "duplicate_of", json_string(res->duplicate_of));
    json_object_set_new(d, "started_at", iso_time(res->started_ms));
    json_object_set_new(d, "ended_at", iso_time(res->ended_ms));
    json_object_set_new(d, "duration_ms", json_integer(res->ended_ms - res->started_ms));
    json_object_set_new(d, "attempt", json_integer(res->attempt > 1 ? res->attempt : 1));
    json_object_set_new(d, "retry_of", string_or_null(res->retry_of));
    json_object_set_new(d, "host", json_string(host));
    add_process(d);
    json_object_set_new(d, "sluice_version", json_string(PACKAGE_VERSION));
    json_object_set_new(d, "bytes_in", json_integer(res->bytes_in));
    json_object_set_new(d, "bytes_out", json_integer(res->bytes_out));
    json_object_set_new(d, "stats", res->counters ? json_deep_copy(res->counters) : json_object());
    return d;
}

/* The EventBridge envelope every job-state event shares; takes `detail`. */
static json_t *envelope(const char *run_id, long long ms, json_t *detail)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "version", json_string("0"));
    json_object_set_new(ev, "id", json_string(run_id));
    json_object_set_new(ev, "detail-type", json_string(NOTIFY_DETAIL_TYPE));
    json_object_set_new(ev, "source", json_string(NOTIFY_SOURCE));
    json_object_set_new(ev, "time", iso_time(ms));
    json_object_set_new(ev, "detail", detail);
    return ev;
}

json_t *notify_job_event(const job_result *res)
{
    return envelope(res->run_id, res->ended_ms, event_detail(res));
}

json_t *notify_running_event(const job_result *res)
{
    json_t *ev = notify_job_event(res);
    json_t *d = json_object_get(ev, "detail");
    json_object_set_new(d, "state", json_string("RUNNING"));
    json_object_set_new(d, "error", json_null());
    json_object_set_new(d, "ended_at", json_null());
    json_object_set_new(d, "duration_ms", json_null());
    json_object_set_new(ev, "time", iso_time(res->started_ms));
    return ev;
}

static json_t *missing_detail(const notify_missing *m)
{
    char host[256] = "", from[32], due[32];
    gethostname(host, sizeof host - 1);
    clock_format_iso_ms(m->window_start_ms, from);
    clock_format_iso_ms(m->deadline_ms, due);
    json_t *d = json_object();
    json_object_set_new(d, "rule", json_string(m->rule));
    json_object_set_new(d, "state", json_string("MISSING"));
    json_object_set_new(d, "run_id", json_string(m->run_id));
    json_object_set_new(d, "input", json_pack("{s:s, s:n, s:n, s:n}", "location",
                                              m->expected_location ? m->expected_location : "",
                                              "etag", "version_id", "event_time"));
    json_object_set_new(d, "output", json_pack("{s:n}", "location"));
    json_object_set_new(d, "plugin", json_pack("{s:o, s:n}", "name", string_or_null(m->plugin),
                                               "version"));
    char *msg = xasprintf("no SUCCEEDED run of rule %s between %s and %s (expected every %s by "
                          "%s, grace %s)",
                          m->rule, from, due, m->every, m->by, m->grace);
    json_object_set_new(d, "error", json_pack("{s:s, s:s}", "kind", "timeout", "message", msg));
    free(msg);
    json_object_set_new(d, "started_at", iso_time(m->checked_ms));
    json_object_set_new(d, "ended_at", iso_time(m->checked_ms));
    json_object_set_new(d, "duration_ms", json_integer(0));
    json_object_set_new(d, "attempt", json_integer(1));
    json_object_set_new(d, "retry_of", json_null());
    json_object_set_new(d, "host", json_string(host));
    json_object_set_new(d, "sluice_version", json_string(PACKAGE_VERSION));
    json_object_set_new(d, "bytes_in", json_integer(0));
    json_object_set_new(d, "bytes_out", json_integer(0));
    json_object_set_new(d, "stats", json_object());
    json_object_set_new(d, "expected",
                        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "every", m->every, "by",
                                  m->by, "grace", m->grace, "period", m->period, "window_start",
                                  from, "deadline", due));
    return d;
}

json_t *notify_missing_event(const notify_missing *m)
{
    return envelope(m->run_id, m->checked_ms, missing_detail(m));
}

static json_t *string_list(const char *const *items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(items[i]));
    return a;
}

/* What happened, for a person: the pids let the service manager's log or
 * the core dumps say by which signal each process died, which the process
 * itself could not record. */
static char *quarantine_message(const notify_quarantine *q)
{
    strbuf pids = STRBUF_INIT;
    size_t n = 0;
    for (size_t i = 0; i < q->n_processes; i++) {
        procid p;
        if (procid_parse(q->processes[i], &p) == 0)
            sb_addf(&pids, "%s%ld", n++ ? ", " : "", p.pid);
    }
    char *msg = xasprintf("the process died %d time%s while running the jobs of spool event %s "
                          "(--max-attempts %d%s%s%s): quarantined to %s",
                          q->attempts, q->attempts == 1 ? "" : "s", q->spool_id,
                          q->max_attempts, !n ? "" : n == 1 ? "; pid " : "; pids ", sb_str(&pids),
                          pids.len ? ", see the service manager's log for the signal" : "",
                          q->path);
    sb_free(&pids);
    return msg;
}

static json_t *quarantine_detail(const notify_quarantine *q)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    json_t *d = json_object();
    json_object_set_new(d, "rule", string_or_null(q->rule));
    json_object_set_new(d, "state", json_string("QUARANTINED"));
    json_object_set_new(d, "run_id", json_string(q->run_id));
    json_object_set_new(d, "input",
                        json_pack("{s:s, s:o, s:o, s:o}", "location", q->input ? q->input : "",
                                  "etag", string_or_null(q->etag), "version_id",
                                  string_or_null(q->version_id), "event_time",
                                  string_or_null(q->event_time)));
    json_object_set_new(d, "output", json_pack("{s:n}", "location"));
    json_object_set_new(d, "plugin", json_pack("{s:o, s:o}", "name", string_or_null(q->plugin),
                                               "version", string_or_null(q->plugin_version)));
    char *msg = quarantine_message(q);
    json_object_set_new(d, "error", json_pack("{s:s, s:s}", "kind", "internal", "message", msg));
    free(msg);
    json_object_set_new(d, "started_at", iso_time(q->quarantined_ms));
    json_object_set_new(d, "ended_at", iso_time(q->quarantined_ms));
    json_object_set_new(d, "duration_ms", json_integer(0));
    json_object_set_new(d, "attempt", json_integer(1));
    json_object_set_new(d, "retry_of", json_null());
    json_object_set_new(d, "host", json_string(host));
    add_process(d);
    json_object_set_new(d, "sluice_version", json_string(PACKAGE_VERSION));
    json_object_set_new(d, "bytes_in", json_integer(0));
    json_object_set_new(d, "bytes_out", json_integer(0));
    json_object_set_new(d, "stats", json_object());
    json_object_set_new(
        d, "quarantine",
        json_pack("{s:s, s:i, s:i, s:s, s:o, s:o}", "spool_id", q->spool_id, "attempts",
                  q->attempts, "max_attempts", q->max_attempts, "path", q->path, "processes",
                  string_list(q->processes, q->n_processes), "objects",
                  string_list(q->objects, q->n_objects)));
    return d;
}

json_t *notify_quarantined_event(const notify_quarantine *q)
{
    return envelope(q->run_id, q->quarantined_ms, quarantine_detail(q));
}

void notify_sample_result(job_result *res)
{
    memset(res, 0, sizeof *res);
    res->ended_ms = clock_now_ms();
    res->started_ms = res->ended_ms - 1234;
    runid_make((time_t)(res->started_ms / 1000), res->run_id);
    res->state = JOB_FAILED;
    res->attempt = 1;
    res->rule = xstrdup("sluice-notify-test");
    res->plugin = xstrdup("sample");
    res->plugin_version = xstrdup(PACKAGE_VERSION);
    res->input = xstrdup("s3://example-bucket/incoming/notify-test.tsv");
    res->etag = xstrdup("0123456789abcdef0123456789abcdef");
    res->bytes_in = 6259;
    sl_error_set(&res->error, SL_ERR_INPUT,
                 "this is a test notification sent by `sluice notify-test`: no job failed");
    res->counters = json_pack("{s:i, s:i}", "lines_read", 41, "malformed_lines", 12);
}

/* --- shared helpers for the backends ------------------------------------ */

notify_status notify_classify(int transport_error, long status, const char *code)
{
    switch (retry_classify(transport_error, status, code)) {
    case RETRY_BACKOFF: return NOTIFY_RETRY;
    case RETRY_REFRESH_CREDS: return NOTIFY_REFRESH;
    case RETRY_NEVER: break;
    }
    return NOTIFY_FAILED;
}

/* --- fitting an event into a size limit ---------------------------------- */

#define TRUNCATION_MARK " [... truncated]"
#define TEXT_FLOOR 256 /* bytes of a text kept before anything else goes */

static void mark_truncated(json_t *detail, const char *field)
{
    json_t *list = json_object_get(detail, "truncated");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(detail, "truncated", list);
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (!strcmp(json_string_value(v), field))
            return;
    }
    json_array_append_new(list, json_string(field));
}

/* obj.key cut to its first `keep` bytes (at a character boundary) and
 * marked. */
static void set_cut(json_t *obj, const char *key, const char *orig, size_t keep)
{
    while (keep > 0 && ((unsigned char)orig[keep] & 0xC0) == 0x80)
        keep--;
    char *shorter = xasprintf("%.*s%s", (int)keep, orig, TRUNCATION_MARK);
    json_object_set_new(obj, key, json_string(shorter));
    free(shorter);
}

/* Shortens obj.key to the longest head (at least `floor` bytes) with which
 * the event fits; escaping makes the wire size no simple function of the
 * length, so the cut is found by bisection. Returns 1 when it cut. */
static int shorten_to_fit(json_t *event, json_t *obj, const char *key, size_t floor,
                          const char *field, notify_measure_fn measure, void *ud, size_t limit)
{
    const char *cur = json_string_value(json_object_get(obj, key));
    if (!cur || strlen(cur) <= floor + sizeof TRUNCATION_MARK)
        return 0;
    char *orig = xstrdup(cur);
    size_t lo = floor, hi = strlen(orig) - 1;
    mark_truncated(json_object_get(event, "detail"), field);
    set_cut(obj, key, orig, lo);
    if (measure(event, ud) <= limit) {
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            set_cut(obj, key, orig, mid);
            if (measure(event, ud) <= limit)
                lo = mid;
            else
                hi = mid - 1;
        }
        set_cut(obj, key, orig, lo);
    }
    free(orig);
    return 1;
}

int notify_fit_event(json_t *event, notify_measure_fn measure, void *ud, size_t limit)
{
    json_t *detail = json_object_get(event, "detail");
    if (measure(event, ud) <= limit)
        return 0;
    if (!json_is_object(detail))
        return -1;
    /* the error text first (keeping its start, which says what went wrong) */
    shorten_to_fit(event, json_object_get(detail, "error"), "message", TEXT_FLOOR,
                   "error.message", measure, ud, limit);
    if (measure(event, ud) <= limit)
        return 0;
    shorten_to_fit(event, detail, "skip_reason", TEXT_FLOOR, "skip_reason", measure, ud, limit);
    if (measure(event, ud) <= limit)
        return 0;
    json_t *stats = json_object_get(detail, "stats");
    if (json_is_object(stats) && json_object_size(stats) > 0) {
        json_object_clear(stats);
        mark_truncated(detail, "stats");
    }
    return measure(event, ud) <= limit ? 0 : -1;
}
