/* intake.c — the shared context and the event-to-jobs path (intake.h). */
#include "autoconfig.h"
#include "intake/intake.h"

#include <stdlib.h>
#include <string.h>

#include "core/job_services.h"
#include "core/router.h"
#include "util/alloc.h"
#include "util/jsonutil.h"
#include "util/log.h"

/* --- the context -------------------------------------------------------- */

static intake *fail(intake *in, intake_report *r, intake_stage stage)
{
    r->failed = stage;
    intake_close(in);
    return NULL;
}

/* Opens the parts `what` asks for around `in->cfg`; `plugin_file`, when
 * not NULL, is loaded before the rules are bound. */
static intake *open_parts(intake *in, const char *plugin_file, unsigned what, intake_report *r)
{
    if (what & INTAKE_SHADOWING)
        route_check_shadowing(in->cfg, &r->diags);
    if (what & INTAKE_PLUGINS) {
        in->host = plugin_host_new((const char *const *)in->cfg->plugin_paths,
                                   in->cfg->n_plugin_paths, job_services_table(), &r->err);
        if (!in->host)
            return fail(in, r, INTAKE_FAILED_PLUGINS);
        if (plugin_file && !plugin_host_load_file(in->host, plugin_file, &r->err))
            return fail(in, r, INTAKE_FAILED_PLUGINS);
        size_t errors = r->diags.errors;
        in->plugins = plugin_bindings_new(in->host, in->cfg, &r->diags);
        /* a rule whose plugin is missing or refuses its options is a
         * mistake in the file, reported where it is written */
        if (r->diags.errors > errors)
            return fail(in, r, INTAKE_FAILED_CONFIG);
    }
    if (what & INTAKE_STORAGE) {
        in->storage = storage_open(&in->cfg->storage, &r->err);
        if (!in->storage)
            return fail(in, r, INTAKE_FAILED_STORAGE);
    }
    if ((what & INTAKE_JOBS) == INTAKE_JOBS)
        in->runner = runner_new(in->cfg, in->storage, in->metrics);
    return in;
}

intake *intake_open(const char *config_path, unsigned what, intake_report *r)
{
    memset(r, 0, sizeof *r);
    intake *in = xcalloc(1, sizeof *in);
    in->metrics = metrics_new();
    in->cfg = config_load(config_path, &r->diags);
    if (!in->cfg)
        return fail(in, r, INTAKE_FAILED_CONFIG);
    return open_parts(in, NULL, what, r);
}

intake *intake_open_text(const char *name, const char *dir, const char *text,
                         const char *plugin_file, unsigned what, intake_report *r)
{
    memset(r, 0, sizeof *r);
    intake *in = xcalloc(1, sizeof *in);
    in->metrics = metrics_new();
    in->cfg = config_load_text(name, dir, text, &r->diags);
    if (!in->cfg)
        return fail(in, r, INTAKE_FAILED_CONFIG);
    return open_parts(in, plugin_file, what, r);
}

void intake_report_summary(const intake_report *r, strbuf *out)
{
    for (size_t i = 0; i < r->diags.count; i++) {
        const diag *d = &r->diags.items[i];
        if (d->severity != DIAG_ERROR)
            continue;
        if (out->len)
            sb_adds(out, "; ");
        sb_addf(out, "%s:%d:%d: %s", d->file ? d->file : "", d->line, d->column, d->message);
    }
    if (r->err.kind != SL_ERR_NONE) {
        if (out->len)
            sb_adds(out, "; ");
        sb_adds(out, r->err.msg);
    }
}

void intake_report_free(intake_report *r)
{
    diag_free(&r->diags);
}

void intake_close(intake *in)
{
    if (!in)
        return;
    /* the runner writes records through the storage; instances before the
     * libraries holding their code; the configuration last */
    runner_free(in->runner);
    if (in->storage)
        storage_destroy(in->storage);
    plugin_bindings_free(in->plugins);
    plugin_host_free(in->host);
    config_free(in->cfg);
    metrics_free(in->metrics);
    free(in);
}

job_spec intake_spec(const intake *in)
{
    return (job_spec){.cfg = in->cfg, .plugins = in->plugins, .storage = in->storage};
}

/* --- event -> jobs ------------------------------------------------------ */

void intake_count_records(const event_batch *batch, size_t *jobs, size_t *acknowledged)
{
    *jobs = *acknowledged = 0;
    for (size_t i = 0; i < batch->count; i++) {
        const event_record *ev = &batch->records[i];
        if (ev->kind != EVENT_SKIP) {
            ++*jobs;
            continue;
        }
        ++*acknowledged;
        log_msg(NULL, SL_LOG_INFO, "event acknowledged and skipped: %s%s%s", ev->skip_reason,
                ev->bucket ? " bucket=" : "", ev->bucket ? ev->bucket : "");
    }
}

/* A job that failed only because its object is gone (deleted after the
 * event was sent) has nothing left to do: redelivering it cannot help. */
static int object_gone(const job_result *r)
{
    return r->state == JOB_FAILED && r->error.kind == SL_ERR_INPUT &&
           (strstr(r->error.msg, "no such object") || strstr(r->error.msg, "NoSuchKey"));
}

static void tally(intake_outcome *o, const job_result *res)
{
    switch (res->state) {
    case JOB_SUCCEEDED:
        o->succeeded++;
        if (o->outputs && res->output)
            json_array_append_new(o->outputs, jsonutil_text(res->output));
        break;
    case JOB_SKIPPED: o->skipped++; break;
    case JOB_FAILED:
        if (!object_gone(res))
            o->failed_to_retry++;
        if (o->failed++ < INTAKE_NAMED_FAILURES) {
            if (o->failures.len)
                sb_adds(&o->failures, "; ");
            sb_addf(&o->failures, "%s%s%s%s: %s", res->input ? res->input : "?",
                    res->member ? " (member \"" : "", res->member ? res->member : "",
                    res->member ? "\")" : "", res->error.msg);
        }
        break;
    }
}

int intake_run_event(intake *in, const char *text, size_t len, const intake_run *how,
                     intake_outcome *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    if (how->collect_outputs)
        out->outputs = json_array();
    event_batch batch = {0};
    if (event_parse(text, len, &batch, err) != 0) {
        event_batch_free(&batch);
        return -1;
    }
    size_t jobs, acknowledged;
    intake_count_records(&batch, &jobs, &acknowledged);
    out->skipped = acknowledged;
    job_spec *specs = xcalloc(jobs ? jobs : 1, sizeof *specs);
    size_t n = 0;
    for (size_t i = 0; i < batch.count; i++) {
        const event_record *ev = &batch.records[i];
        if (ev->kind == EVENT_SKIP)
            continue;
        specs[n] = intake_spec(in);
        specs[n].input = (location){.kind = LOC_OBJECT, .bucket = ev->bucket, .key = ev->key};
        specs[n].event = ev;
        specs[n].force = how->force;
        specs[n].deadline_ms = how->deadline_ms;
        specs[n].show_progress = how->show_progress && how->workers <= 1;
        n++;
    }
    job_result *results = xcalloc(n ? n : 1, sizeof *results);
    runner_batch(in->runner, specs, n, how->workers, results, &out->totals);
    for (size_t i = 0; i < n; i++) {
        if (how->print_outputs)
            runner_print_outputs(&results[i], stdout);
        for (size_t j = 0; j < job_result_jobs(&results[i]); j++)
            tally(out, job_result_job(&results[i], j));
        job_result_free(&results[i]);
    }
    free(results);
    free(specs);
    event_batch_free(&batch);
    return 0;
}

void intake_outcome_free(intake_outcome *out)
{
    json_decref(out->outputs);
    sb_free(&out->failures);
    memset(out, 0, sizeof *out);
}
