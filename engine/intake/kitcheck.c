/* kitcheck.c — a plugin file against its contract (kitcheck.h). */
#include "autoconfig.h"
#include "intake/kitcheck.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/jsonschema.h"
#include "core/job_services.h"
#include "intake/adhoc.h"
#include "plugin/plugin_host.h"
#include "plugin/plugin_symbols.h"
#include "storage/storage.h"
#include "util/alloc.h"
#include "util/strbuf.h"

typedef struct check {
    const kitcheck_opts *o;
    kitcheck_report_fn fn;
    void *ud;
    int violations;
    json_t *options; /* the options used (owned) */
} check;

static void step(check *c, int ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void step(check *c, int ok, const char *name, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    c->fn(c->ud, ok, name, sb_str(&sb) ? sb_str(&sb) : "");
    sb_free(&sb);
    if (!ok)
        c->violations++;
}

/* The shared object a libtool NAME.la stands for: its dlname in .libs/
 * beside it (built, not installed) or beside it (installed). Caller frees;
 * NULL when the .la names none that exists. */
static char *la_library(const char *la)
{
    strbuf text = STRBUF_INIT;
    char *found = NULL;
    const char *line = sb_read_file(&text, la) == 0 && text.buf ? strstr(text.buf, "\ndlname='")
                                                               : NULL;
    if (line) {
        const char *name = line + 9, *end = strchr(name, '\'');
        const char *slash = strrchr(la, '/');
        int dirlen = slash ? (int)(slash - la) : 1;
        const char *dir = slash ? la : ".";
        for (int libs = 1; end && end > name && libs >= 0 && !found; libs--) {
            char *p = xasprintf("%.*s%s/%.*s", dirlen, dir, libs ? "/.libs" : "",
                                (int)(end - name), name);
            if (access(p, F_OK) == 0)
                found = p;
            else
                free(p);
        }
    }
    sb_free(&text);
    return found;
}

static void check_exports(check *c)
{
    plugin_symbols syms;
    sl_error err = {0};
    size_t n = strlen(c->o->path);
    char *la_so = n > 3 && !strcmp(c->o->path + n - 3, ".la") ? la_library(c->o->path) : NULL;
    const char *file = la_so ? la_so : c->o->path;
    int rc = plugin_symbols_read(file, &syms, &err);
    free(la_so);
    if (rc != 0) {
        step(c, 0, "exports", "%s", err.msg);
        return;
    }
    strbuf extra = STRBUF_INIT;
    int has = 0;
    for (size_t i = 0; i < syms.count; i++) {
        if (!strcmp(syms.names[i], SLUICE_PLUGIN_SYMBOL)) {
            has = 1;
            continue;
        }
        sb_addf(&extra, "%s%s", extra.len ? ", " : "", syms.names[i]);
    }
    if (!has)
        step(c, 0, "exports", "%s is not exported", SLUICE_PLUGIN_SYMBOL);
    else if (extra.len)
        step(c, 0, "exports",
             "%s also exports %s: make them static, or link with -export-symbols-regex "
             "'^%s$'",
             c->o->path, sb_str(&extra), SLUICE_PLUGIN_SYMBOL);
    else
        step(c, 1, "exports", "%s only", SLUICE_PLUGIN_SYMBOL);
    sb_free(&extra);
    plugin_symbols_free(&syms);
}

/* The options to try: given, else the schema's first example, else {}. */
static json_t *example_options(const check *c, const json_t *schema, const char **from)
{
    if (c->o->options) {
        *from = "given";
        return json_deep_copy(c->o->options);
    }
    json_t *ex = json_array_get(json_object_get(schema, "examples"), 0);
    if (ex) {
        *from = "the schema's examples[0]";
        return json_deep_copy(ex);
    }
    *from = "none given and no examples in the schema: {}";
    return json_object();
}

static void check_options(check *c, const loaded_plugin *p)
{
    const char *from = "";
    c->options = example_options(c, p->schema, &from);
    char *text = json_dumps(c->options, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
    jsonschema_errors se = {0};
    if (!json_is_object(c->options)) {
        step(c, 0, "options", "%s (%s) is not a JSON object", text, from);
    } else if (jsonschema_validate(p->schema, c->options, &se) > 0) {
        strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < se.count; i++)
            sb_addf(&sb, "%s%s: %s", i ? "; " : "", *se.items[i].pointer ? se.items[i].pointer
                                                                           : "(options)",
                    se.items[i].message);
        step(c, 0, "options", "%s (%s) do not fit the schema: %s", text, from, sb_str(&sb));
        sb_free(&sb);
    } else {
        step(c, 1, "options", "%s (%s)", text, from);
    }
    jsonschema_errors_free(&se);
    free(text);
}

/* Load, descriptor, schema and options on a host of their own; returns 0
 * when the job steps can go on. */
static int check_load(check *c)
{
    int before = c->violations;
    sl_error err = {0};
    plugin_host *h = plugin_host_new(NULL, 0, job_services_table(), &err);
    if (!h) {
        step(c, 0, "load", "%s", err.msg);
        return -1;
    }
    const loaded_plugin *p = plugin_host_load_file(h, c->o->path, &err);
    int rc = -1;
    if (!p) {
        step(c, 0, "load", "%s", err.msg);
    } else {
        step(c, 1, "load", "%s %s, plugin ABI version %u, from %s", p->name, p->desc->version,
             (unsigned)p->desc->abi_version, p->path);
        char msg[512] = "";
        if (jsonschema_check(p->schema, msg, sizeof msg) != 0) {
            step(c, 0, "options schema", "not usable: %s", msg);
        } else {
            step(c, 1, "options schema", "valid");
            check_options(c, p);
        }
        rc = c->violations == before ? 0 : -1;
    }
    plugin_host_free(h);
    return rc;
}

/* The job's error rules, one line; empty when kept. */
static void rule_breaches(const job_result *r, strbuf *sb)
{
    if (r->writes_after_error)
        sb_addf(sb, "%swrote %d time(s) after the job had failed", sb->len ? "; " : "",
                r->writes_after_error);
    if (r->ok_after_error)
        sb_addf(sb, "%sreturned SLUICE_OK after host->error()", sb->len ? "; " : "");
    if (r->failed_silently)
        sb_addf(sb, "%sreturned SLUICE_ERROR without calling host->error()",
                sb->len ? "; " : "");
}

/* One job; a failure is a violation only when `must_succeed`. */
static void check_job(check *c, adhoc *a, const char *name, const char *input, int must_succeed)
{
    job_spec spec = adhoc_spec(a, input, NULL);
    job_result res;
    runner_job(a->in->runner, &spec, &res, NULL);
    strbuf br = STRBUF_INIT;
    rule_breaches(&res, &br);
    if (br.len)
        step(c, 0, name, "%s", sb_str(&br));
    else if (res.state == JOB_FAILED && must_succeed)
        step(c, 0, name, "the job failed (%s): %s", sl_error_kind_name(res.error.kind),
             res.error.msg);
    else if (res.state == JOB_FAILED)
        step(c, 1, name, "failed cleanly (%s): %s", sl_error_kind_name(res.error.kind),
             res.error.msg);
    else
        step(c, 1, name, "%s, %lld bytes in, %lld bytes out", job_state_name(res.state),
             (long long)res.bytes_in, (long long)res.bytes_out);
    sb_free(&br);
    job_result_free(&res);
}

static int same_file(const char *x, const char *y)
{
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    int same = sb_read_file(&a, x) == 0 && sb_read_file(&b, y) == 0 && a.len == b.len &&
               (a.len == 0 || memcmp(a.buf, b.buf, a.len) == 0);
    sb_free(&a);
    sb_free(&b);
    return same;
}

/* How two results of the same job differ, or NULL. */
static const char *difference(const job_result *r)
{
    if (r[0].state != r[1].state)
        return "one run succeeded, the other failed";
    if (r[0].state == JOB_FAILED)
        return strcmp(r[0].error.msg, r[1].error.msg) ? "they failed with different errors"
                                                       : NULL;
    if (!json_equal(r[0].counters, r[1].counters))
        return "their run statistics differ";
    if (!r[0].output || !r[1].output || !same_file(r[0].output, r[1].output))
        return "their outputs differ";
    return NULL;
}

/* --- the gate: both concurrent runs inside run() at once ----------------
 * The concurrent jobs read their input through this storage. A reader's
 * first read() waits until the other job has read too (or has ended
 * without reading), so both run() calls are in flight together whatever
 * the scheduler does. The wait has a generous deadline only as a guard. */
#define GATE_DEADLINE_S 60

typedef struct gate {
    storage st;
    const char *input;      /* the file both jobs read */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int arrived, departed;  /* readers at their first read, closed unread */
    int met;                /* both runs were inside run() at once */
} gate;

typedef struct gate_reader {
    storage_reader base;
    storage_reader *inner;
    gate *g;
    int passed;
} gate_reader;

static void gate_pass(gate *g)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GATE_DEADLINE_S;
    pthread_mutex_lock(&g->lock);
    g->arrived++;
    pthread_cond_broadcast(&g->cond);
    while (g->arrived + g->departed < 2)
        if (pthread_cond_timedwait(&g->cond, &g->lock, &until) != 0)
            break;
    if (g->arrived == 2)
        g->met = 1;
    pthread_mutex_unlock(&g->lock);
}

static ssize_t gate_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    gate_reader *gr = (gate_reader *)r;
    if (!gr->passed) {
        gr->passed = 1;
        gate_pass(gr->g);
    }
    return storage_read(gr->inner, buf, cap, err);
}

static void gate_close(storage_reader *r)
{
    gate_reader *gr = (gate_reader *)r;
    if (!gr->passed) {
        pthread_mutex_lock(&gr->g->lock);
        gr->g->departed++;
        pthread_cond_broadcast(&gr->g->cond);
        pthread_mutex_unlock(&gr->g->lock);
    }
    storage_reader_close(gr->inner);
    free(gr);
}

static const storage_reader_ops gate_reader_ops = {.read = gate_read, .close = gate_close};

static int gate_open_read(storage *st, const char *bucket, const char *key,
                          storage_reader **out, object_info *info, sl_error *err)
{
    (void)bucket, (void)key;
    gate *g = st->impl;
    storage_reader *inner;
    if (storage_local_read_file(g->input, &inner, info, err) != 0)
        return -1;
    gate_reader *gr = xcalloc(1, sizeof *gr);
    gr->base.ops = &gate_reader_ops;
    gr->inner = inner;
    gr->g = g;
    *out = &gr->base;
    return 0;
}

static const storage_ops gate_ops = {.type = "local", .open_read = gate_open_read};

static void check_concurrent(check *c, adhoc *a, const char *input)
{
    gate g = {.st = {.ops = &gate_ops}, .input = input};
    g.st.impl = &g;
    pthread_mutex_init(&g.lock, NULL);
    pthread_cond_init(&g.cond, NULL);
    job_spec specs[2] = {adhoc_spec(a, input, NULL), adhoc_spec(a, input, NULL)};
    for (int i = 0; i < 2; i++) {
        specs[i].storage = &g.st;
        specs[i].input = (location){.kind = LOC_OBJECT, .bucket = "check", .key = "input"};
    }
    job_result res[2];
    runner_batch(a->in->runner, specs, 2, 2, res, NULL);
    pthread_cond_destroy(&g.cond);
    pthread_mutex_destroy(&g.lock);
    strbuf br = STRBUF_INIT;
    rule_breaches(&res[0], &br);
    rule_breaches(&res[1], &br);
    const char *diff = difference(res);
    if (br.len)
        step(c, 0, "concurrent", "%s", sb_str(&br));
    else if (diff)
        step(c, 0, "concurrent",
             "two runs at once on the same input with the one state: %s; run() must treat "
             "its state as read-only (sluice/plugin.h, section 2)",
             diff);
    else
        step(c, 1, "concurrent", "two runs at once on the same input: the same %s%s",
             res[0].state == JOB_FAILED ? "failure" : "output",
             g.met ? " (both were reading at once)" : " (one did not read its input)");
    sb_free(&br);
    job_result_free(&res[0]);
    job_result_free(&res[1]);
}

static void check_jobs(check *c)
{
    adhoc a;
    strbuf why = STRBUF_INIT;
    if (adhoc_open(&a, c->o->path, c->options, &why) != 0) {
        step(c, 0, "init", "%s", sb_str(&why));
        sb_free(&why);
        adhoc_close(&a);
        return;
    }
    sb_free(&why);
    step(c, 1, "init", "accepted the options");
    char *empty = adhoc_path(&a, "empty");
    FILE *fp = fopen(empty, "w");
    if (fp)
        fclose(fp);
    check_job(c, &a, "empty input", empty, 0);
    if (c->o->input)
        check_job(c, &a, "input", c->o->input, 1);
    check_concurrent(c, &a, c->o->input ? c->o->input : empty);
    free(empty);
    adhoc_close(&a);
}

int kitcheck_run(const kitcheck_opts *o, kitcheck_report_fn fn, void *ud)
{
    check c = {.o = o, .fn = fn, .ud = ud};
    check_exports(&c);
    if (check_load(&c) == 0)
        check_jobs(&c);
    json_decref(c.options);
    return c.violations;
}
