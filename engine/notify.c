#include "autoconfig.h"
#include "notify.h"

#include <string.h>
#include <unistd.h>

#include "log.h"
#include "runid.h"
#include "strbuf.h"

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *iso_time(long long ms)
{
    char buf[32];
    format_iso_utc_ms(ms, buf);
    return json_string(buf);
}

static json_t *event_detail(const job_result *res)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    json_t *d = json_object();
    json_object_set_new(d, "rule", string_or_null(res->rule));
    json_object_set_new(d, "state", json_string(job_state_name(res->state)));
    json_object_set_new(d, "run_id", json_string(res->run_id));
    json_object_set_new(d, "input", json_pack("{s:o, s:o, s:o, s:o}",
                                              "location", string_or_null(res->input),
                                              "etag", string_or_null(res->etag),
                                              "version_id", string_or_null(res->version_id),
                                              "event_time", string_or_null(res->event_time)));
    json_object_set_new(d, "output", json_pack("{s:o}", "location", string_or_null(res->output)));
    json_object_set_new(d, "plugin", json_pack("{s:o, s:o}", "name", string_or_null(res->plugin),
                                               "version", string_or_null(res->plugin_version)));
    if (res->state == JOB_FAILED)
        json_object_set_new(d, "error", json_pack("{s:s, s:s}", "kind",
                                                  sl_error_kind_name(res->error.kind), "message",
                                                  res->error.msg));
    else
        json_object_set_new(d, "error", json_null());
    if (res->state == JOB_SKIPPED)
        json_object_set_new(d, "skip_reason", string_or_null(res->skip_reason));
    json_object_set_new(d, "started_at", iso_time(res->started_ms));
    json_object_set_new(d, "ended_at", iso_time(res->ended_ms));
    json_object_set_new(d, "duration_ms", json_integer(res->ended_ms - res->started_ms));
    json_object_set_new(d, "attempt", json_integer(1));
    json_object_set_new(d, "host", json_string(host));
    json_object_set_new(d, "bytes_in", json_integer(res->bytes_in));
    json_object_set_new(d, "bytes_out", json_integer(res->bytes_out));
    json_object_set_new(d, "stats", json_deep_copy(res->counters));
    return d;
}

json_t *notify_job_event(const job_result *res)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "version", json_string("0"));
    json_object_set_new(ev, "id", json_string(res->run_id));
    json_object_set_new(ev, "detail-type", json_string("Sluice Job State Change"));
    json_object_set_new(ev, "source", json_string("sluice"));
    json_object_set_new(ev, "time", iso_time(res->ended_ms));
    json_object_set_new(ev, "detail", event_detail(res));
    return ev;
}

/* Target names for this job: the rule's list, else the top-level default. */
static void targets_for(const config *cfg, const job_result *res, char ***names, size_t *n)
{
    const rule *r = res->rule ? config_find_rule(cfg, res->rule) : NULL;
    int failed = res->state == JOB_FAILED;
    if (failed) {
        *names = r && r->on_failure ? r->on_failure : cfg->on_failure;
        *n = r && r->on_failure ? r->n_on_failure : cfg->n_on_failure;
    } else {
        *names = r && r->on_success ? r->on_success : cfg->on_success;
        *n = r && r->on_success ? r->n_on_success : cfg->n_on_success;
    }
}

static int deliver(const notify_target *t, json_t *event, const log_ctx *ctx)
{
    if (strcmp(t->type, "log") == 0) {
        json_t *f = json_pack("{s:s, s:O}", "target", t->name, "event", event);
        log_fields(ctx, LOG_INFO, f, "notification");
        json_decref(f);
        return 0;
    }
    log_msg(ctx, LOG_WARN,
            "notification target \"%s\": delivery to %s targets is not available in this "
            "build; the event is in the log",
            t->name, t->type);
    return 1;
}

int notify_job(const config *cfg, const job_result *res)
{
    log_ctx ctx = {.run_id = res->run_id, .input = res->input, .rule = res->rule};
    json_t *event = notify_job_event(res);
    int failures = 0;

    /* the built-in log target: a failure is always written in full */
    if (res->state == JOB_FAILED) {
        json_t *f = json_pack("{s:s, s:O}", "target", "log", "event", event);
        log_fields(&ctx, LOG_ERROR, f, "job failure notification");
        json_decref(f);
    }
    char **names;
    size_t n;
    targets_for(cfg, res, &names, &n);
    for (size_t i = 0; i < n; i++) {
        const notify_target *t = config_find_target(cfg, names[i]);
        if (t)
            failures += deliver(t, event, &ctx);
    }
    json_decref(event);
    return failures;
}
