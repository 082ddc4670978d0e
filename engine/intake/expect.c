/* expect.c — expected arrivals: periods, verdicts, MISSING alarms and the
 * timer of the long-running modes (expect.h). */
#include "autoconfig.h"
#include "intake/expect.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/runid.h"
#include "core/runstore.h"
#include "notify/notifier.h"
#include "notify/notify.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/workers.h"

/* A job that ended in the window may have started this long before it. */
#define LONGEST_JOB_MS (24LL * 3600 * 1000)

struct expect_checker {
    const config *cfg;
    metrics *metrics;   /* borrowed */
    runstore *runs;
    notifier *notifier;
};

/* --- periods --------------------------------------------------------------- */

static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void expect_period_due(const expect_config *e, long long now_ms, int back, expect_period *p)
{
    long long period = (long long)e->period_s * 1000;
    long long offset = ((long long)e->by_s + e->grace_s) * 1000;
    p->start_ms = (floor_div(now_ms - offset, period) - back) * period;
    p->deadline_ms = p->start_ms + offset;
    long long tiled = p->deadline_ms - period;
    p->window_start_ms = tiled > p->start_ms ? tiled : p->start_ms;
    time_t t = (time_t)(p->start_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(p->id, sizeof p->id, e->period_s == 3600 ? "%Y-%m-%dT%HZ" : "%Y-%m-%d", &tm);
}

/* --- the checker ----------------------------------------------------------- */

expect_checker *expect_checker_new(const config *cfg, storage *st, metrics *m, sl_error *err)
{
    int disabled = 0;
    runstore *rs = runstore_open(cfg, st, &disabled, err);
    if (!rs) {
        if (disabled)
            sl_error_set(err, SL_ERR_CONFIG,
                         "expected arrivals need run records (runs: {enabled: false} in %s)",
                         cfg->path);
        return NULL;
    }
    expect_checker *ec = xcalloc(1, sizeof *ec);
    ec->cfg = cfg;
    ec->metrics = m;
    ec->runs = rs;
    ec->notifier = notifier_new(cfg);
    return ec;
}

void expect_checker_free(expect_checker *ec)
{
    if (!ec)
        return;
    notifier_free(ec->notifier);
    runstore_close(ec->runs);
    free(ec);
}

/* Looks for a SUCCEEDED run of the rule that ended in the window. */
typedef struct arrival_search {
    const char *rule;
    const expect_period *p;
    char run_id[RUNID_MAX];
} arrival_search;

static int match_arrival(void *ud, json_t *record)
{
    arrival_search *a = ud;
    const json_t *d = json_object_get(record, "detail");
    const char *rule_name = json_string_value(json_object_get(d, "rule"));
    const char *state = json_string_value(json_object_get(d, "state"));
    const char *ended = json_string_value(json_object_get(d, "ended_at"));
    const char *id = json_string_value(json_object_get(d, "run_id"));
    long long t;
    if (!rule_name || !state || !ended || !id || strcmp(rule_name, a->rule) != 0 ||
        strcmp(state, "SUCCEEDED") != 0 || clock_parse_iso(ended, &t) != 0 ||
        t < a->p->window_start_ms || t >= a->p->deadline_ms)
        return 0;
    snprintf(a->run_id, sizeof a->run_id, "%s", id);
    return 1;
}

static char *expected_location(const config *cfg, const char *rule_name)
{
    const rule *r = config_find_rule(cfg, rule_name);
    if (!r)
        return xstrdup("");
    return xasprintf("s3://%s/%s%s%s", r->bucket, r->prefix ? r->prefix : "",
                     r->suffix ? "*" : "", r->suffix ? r->suffix : "");
}

static json_t *verdict(const expect_config *e, const expect_period *p, const char *state,
                       const char *run_id, long long now_ms)
{
    char due[32], at[32];
    clock_format_iso_ms(p->deadline_ms, due);
    clock_format_iso_ms(now_ms, at);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "rule", e->rule, "every", e->every,
                     "period", p->id, "deadline", due, "state", state, "run_id", run_id,
                     "checked_at", at);
}

/* Sends and records the alarm; returns the failures. */
static size_t alarm_missing(expect_checker *ec, const expect_config *e, const expect_period *p,
                            long long now_ms, char run_id[RUNID_MAX])
{
    const rule *r = config_find_rule(ec->cfg, e->rule);
    char *where = expected_location(ec->cfg, e->rule);
    runid_make((time_t)(now_ms / 1000), run_id);
    notify_missing m = {.rule = e->rule, .plugin = r ? r->plugin_name : NULL,
                        .run_id = run_id, .expected_location = where,
                        .every = e->every, .by = e->by, .grace = e->grace, .period = p->id,
                        .window_start_ms = p->window_start_ms, .deadline_ms = p->deadline_ms,
                        .checked_ms = now_ms};
    json_t *event = notify_missing_event(&m);
    size_t failures =
        (size_t)notifier_alarm(ec->notifier, e->rule, event, "expected arrival MISSING");
    sl_error err = {0};
    if (runstore_write(ec->runs, event, NULL, &err) != 0) {
        log_ctx ctx = {.run_id = run_id, .rule = e->rule};
        log_msg(&ctx, SL_LOG_ERROR, "MISSING run record not written to %s: %s",
                runstore_where(ec->runs), err.msg);
        failures++;
    }
    if (ec->metrics)
        metrics_expect_missing(ec->metrics, e->rule);
    json_decref(event);
    free(where);
    return failures;
}

static void report_line(FILE *report, const expect_config *e, const expect_period *p,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report_line(FILE *report, const expect_config *e, const expect_period *p,
                        const char *fmt, ...)
{
    if (!report)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(report, "%s every %s %s: ", e->rule, e->every, p->id);
    vfprintf(report, fmt, ap);
    fputc('\n', report);
    va_end(ap);
}

/* Judges one period (once: its verdict is kept). */
static void judge(expect_checker *ec, const expect_config *e, const expect_period *p,
                  long long now_ms, FILE *report, expect_summary *out)
{
    char *name = xasprintf("%s/%s-%s", e->rule, e->every, p->id);
    log_ctx ctx = {.rule = e->rule};
    json_t *old = NULL;
    sl_error err = {0};
    int found = runstore_expect_get(ec->runs, name, &old, &err);
    arrival_search a = {.rule = e->rule, .p = p};
    if (found < 0 || (found == 0 && runstore_list(ec->runs, p->window_start_ms - LONGEST_JOB_MS,
                                                  match_arrival, NULL, &a, &err) != 0)) {
        log_msg(&ctx, SL_LOG_ERROR, "expect %s: cannot read the run records: %s", name, err.msg);
        report_line(report, e, p, "ERROR: %s", err.msg);
        out->failures++;
    } else if (found) {
        const char *state = json_string_value(json_object_get(old, "state"));
        const char *id = json_string_value(json_object_get(old, "run_id"));
        int missing = state && !strcmp(state, "MISSING");
        missing ? out->missing_before++ : out->arrived++;
        report_line(report, e, p, "%s (%s %s)", missing ? "MISSING" : "ARRIVED",
                    missing ? "alarmed before, run" : "run", id ? id : "?");
    } else {
        const char *state = a.run_id[0] ? "ARRIVED" : "MISSING";
        if (a.run_id[0]) {
            out->arrived++;
            log_msg(&ctx, SL_LOG_INFO, "expect %s: ARRIVED (run %s)", name, a.run_id);
            report_line(report, e, p, "ARRIVED (run %s)", a.run_id);
        } else {
            out->failures += alarm_missing(ec, e, p, now_ms, a.run_id);
            out->missing_new++;
            report_line(report, e, p, "MISSING (alarm sent, run %s)", a.run_id);
        }
        json_t *v = verdict(e, p, state, a.run_id, now_ms);
        if (runstore_expect_put(ec->runs, name, v, &err) != 0) {
            log_msg(&ctx, SL_LOG_ERROR, "expect %s: verdict not written to %s: %s", name,
                    runstore_where(ec->runs), err.msg);
            out->failures++;
        }
        json_decref(v);
    }
    json_decref(old);
    free(name);
}

void expect_check(expect_checker *ec, long long now_ms, FILE *report, expect_summary *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < ec->cfg->n_expects; i++) {
        const expect_config *e = &ec->cfg->expects[i];
        for (int back = 0; back < e->lookback; back++) {
            expect_period p;
            expect_period_due(e, now_ms, back, &p);
            judge(ec, e, &p, now_ms, report, out);
        }
    }
    if (ec->metrics)
        metrics_expect_checked(ec->metrics);
    char at[32];
    clock_format_iso_ms(now_ms, at);
    log_msg(NULL, SL_LOG_DEBUG, "expect: checked at %s: %zu arrived, %zu missing (%zu new), "
            "%zu failures", at, out->arrived, out->missing_new + out->missing_before,
            out->missing_new, out->failures);
}

/* --- the timer --------------------------------------------------------------- */

struct expect_timer {
    expect_checker *ec;
    workers_pool *pool;
    long interval_ms;
    atomic_int stop;
};

static void timer_main(void *arg)
{
    expect_timer *t = arg;
    while (!atomic_load(&t->stop)) {
        expect_summary s;
        expect_check(t->ec, clock_schedule_now_ms(), NULL, &s);
        clock_sleep_ms(t->interval_ms, &t->stop);
    }
}

expect_timer *expect_timer_start(intake *in, int interval_s)
{
    if (in->cfg->n_expects == 0 || interval_s <= 0)
        return NULL;
    sl_error err = {0};
    expect_checker *ec = expect_checker_new(in->cfg, in->storage, in->metrics, &err);
    if (!ec) {
        log_msg(NULL, SL_LOG_ERROR, "expected arrivals are not checked: %s", err.msg);
        return NULL;
    }
    expect_timer *t = xcalloc(1, sizeof *t);
    t->ec = ec;
    t->interval_ms = interval_s * 1000L;
    atomic_init(&t->stop, 0);
    t->pool = workers_new(1);
    if (!t->pool) {
        log_msg(NULL, SL_LOG_ERROR, "expected arrivals are not checked: no thread");
        expect_checker_free(ec);
        free(t);
        return NULL;
    }
    log_msg(NULL, SL_LOG_INFO, "checking %zu expected arrival(s) every %d s", in->cfg->n_expects,
            interval_s);
    workers_submit(t->pool, timer_main, NULL, t);
    return t;
}

void expect_timer_stop(expect_timer *t)
{
    if (!t)
        return;
    atomic_store(&t->stop, 1);
    workers_free(t->pool);
    expect_checker_free(t->ec);
    free(t);
}
