/*
 * tabular — converts tables between CSV, TSV, JSON Lines and Parquet,
 * selecting, renaming, typing and filtering columns (docs/tabular.md).
 *
 * This file is the ABI glue and the per-job loop: read a record, filter,
 * convert each column, write; a record that cannot be read or converted is
 * a bad row, handled by `on_bad_row` (fail the job, skip it, or reject it
 * into the side object "<stem>.rejects.jsonl" beside the output). The
 * modules: tab_config (options), tab_read/tab_jsonl (readers), tab_value
 * (types), tab_write (writers), parquet/ (the Parquet writer).
 *
 * run() may be called concurrently for different jobs: the tab_config is
 * read-only, everything of a job lives in a tab_job on run()'s stack.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

#include "tab_config.h"

#define LOG_BAD_ROWS 5 /* skipped rows logged one by one, then only counted */

typedef struct tab_job {
    const tab_config *cfg;
    const sluice_host *h;
    sluice_job *job;
    char stem[256];
    char rejects[300];        /* side object name */
    tab_reader *reader;
    tab_writer *writer;
    tab_out_col *out;         /* output columns */
    size_t *src;              /* output column -> reader column */
    size_t nout;
    long where_src;           /* reader column of the filter, -1 none */
    pcre2_match_data *md;
    tab_value *vals;
    size_t nsrc;              /* reader columns (CSV/TSV: fields expected) */
    const char *const *src_names;
    tab_obuf rej;
    int rej_open;
    int64_t rows_in, rows_out, filtered, skipped, rejected;
} tab_job;

static int tabular_init(const sluice_host *host, const sluice_value *options, void **state,
                        char *err, size_t errlen)
{
    tab_config *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return SLUICE_ERROR;
    }
    if (tab_config_load(host, options, c, err, errlen) != 0) {
        tab_config_free(c);
        free(c);
        return SLUICE_ERROR;
    }
    *state = c;
    return SLUICE_OK;
}

static void tabular_destroy(void *state)
{
    if (state)
        tab_config_free(state);
    free(state);
}

static ssize_t pull(void *ctx, void *buf, size_t cap)
{
    tab_job *j = ctx;
    return j->h->read(j->job, buf, cap);
}

static int sink(void *ctx, const void *buf, size_t len)
{
    tab_job *j = ctx;
    return j->h->write(j->job, buf, len);
}

static int sink_rejects(void *ctx, const void *buf, size_t len)
{
    tab_job *j = ctx;
    return j->h->side_write(j->job, j->rejects, buf, len);
}

/* Output "<stem><ext>"; rejects "<stem>.rejects.jsonl". */
static void name_outputs(tab_job *j)
{
    const char *in = j->h->input_name(j->job);
    const char *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n >= sizeof j->stem)
        n = sizeof j->stem - 1;
    memcpy(j->stem, base, n);
    j->stem[n] = '\0';
    if (!*j->stem)
        snprintf(j->stem, sizeof j->stem, "output");
    char name[300];
    snprintf(name, sizeof name, "%s%s", j->stem, j->cfg->ext);
    j->h->set_output_name(j->job, name);
    snprintf(j->rejects, sizeof j->rejects, "%s.rejects.jsonl", j->stem);
}

static long find_source(const tab_job *j, const char *name)
{
    for (size_t i = 0; i < j->nsrc; i++)
        if (strcmp(j->src_names[i], name) == 0)
            return (long)i;
    return -1;
}

static int missing_column(tab_job *j, const char *what, const char *name)
{
    char have[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < j->nsrc && off < sizeof have - 8; i++)
        off += (size_t)snprintf(have + off, sizeof have - off, "%s\"%s\"", i ? ", " : "",
                                j->src_names[i]);
    j->h->error(j->job, SLUICE_ERR_INPUT,
                "%s: %s \"%s\" is not a column of the input (its columns: %s)",
                j->h->input_name(j->job), what, name, j->nsrc ? have : "none");
    return -1;
}

/* Maps the configured columns (or all) onto the reader's. */
static int map_columns(tab_job *j)
{
    const tab_config *c = j->cfg;
    j->src_names = tab_reader_columns(j->reader, &j->nsrc);
    j->nout = c->ncols ? c->ncols : j->nsrc;
    j->out = calloc(j->nout ? j->nout : 1, sizeof *j->out);
    j->src = calloc(j->nout ? j->nout : 1, sizeof *j->src);
    j->vals = calloc(j->nout ? j->nout : 1, sizeof *j->vals);
    if (!j->out || !j->src || !j->vals) {
        j->h->error(j->job, SLUICE_ERR_PLUGIN, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < j->nout; i++) {
        if (!c->ncols) {
            j->out[i] = (tab_out_col){j->src_names[i], {TAB_STRING, 0, 0, NULL}};
            j->src[i] = i;
            continue;
        }
        long s = find_source(j, c->cols[i].from);
        if (s < 0)
            return missing_column(j, "column", c->cols[i].from);
        j->out[i] = (tab_out_col){c->cols[i].name, c->cols[i].type};
        j->src[i] = (size_t)s;
    }
    j->where_src = -1;
    if (c->where_column && (j->where_src = find_source(j, c->where_column)) < 0)
        return missing_column(j, "where.column", c->where_column);
    if (c->where_re && !(j->md = pcre2_match_data_create_from_pattern(c->where_re, NULL))) {
        j->h->error(j->job, SLUICE_ERR_PLUGIN, "out of memory");
        return -1;
    }
    return 0;
}

/* One rejected row as a JSON line in the side object. */
static int write_reject(tab_job *j, int64_t line, const char *column, const char *msg,
                        const tab_record *rec)
{
    if (!j->rej_open) {
        if (tab_obuf_init(&j->rej, sink_rejects, j) != 0)
            return -1;
        j->rej_open = 1;
    }
    char head[64];
    int n = snprintf(head, sizeof head, "{\"line\":%lld,\"column\":", (long long)line);
    tab_obuf *b = &j->rej;
    if (tab_obuf_add(b, head, (size_t)n) != 0 ||
        (column ? tab_obuf_json_string(b, column, strlen(column)) : tab_obuf_add(b, "null", 4)) != 0 ||
        tab_obuf_add(b, ",\"error\":", 9) != 0 || tab_obuf_json_string(b, msg, strlen(msg)) != 0)
        return -1;
    if (rec->raw) {
        if (tab_obuf_add(b, ",\"record\":", 10) != 0 ||
            tab_obuf_json_string(b, rec->raw, strlen(rec->raw)) != 0)
            return -1;
    } else {
        if (tab_obuf_add(b, ",\"fields\":[", 11) != 0)
            return -1;
        for (size_t i = 0; i < rec->n; i++)
            if ((i && tab_obuf_add(b, ",", 1) != 0) ||
                tab_obuf_json_string(b, rec->f[i].p, rec->f[i].len) != 0)
                return -1;
        if (tab_obuf_add(b, "]", 1) != 0)
            return -1;
    }
    return tab_obuf_add(b, "}\n", 2);
}

/* A row that cannot be read or converted, by on_bad_row. */
static int bad_row(tab_job *j, int64_t line, const char *column, const char *msg,
                   const tab_record *rec)
{
    const sluice_host *h = j->h;
    char where[300];
    if (column)
        snprintf(where, sizeof where, "line %lld, column \"%s\"", (long long)line, column);
    else
        snprintf(where, sizeof where, "line %lld", (long long)line);
    switch (j->cfg->policy) {
    case TAB_BAD_FAIL:
        h->error(j->job, SLUICE_ERR_INPUT, "%s: %s: %s (on_bad_row: fail)", h->input_name(j->job),
                 where, msg);
        return -1;
    case TAB_BAD_SKIP:
        if (j->skipped++ < LOG_BAD_ROWS)
            h->log(j->job, SLUICE_LOG_WARN, "skipped bad row: %s: %s", where, msg);
        return 0;
    case TAB_BAD_REJECT:
        j->rejected++;
        return write_reject(j, line, column, msg, rec);
    }
    return -1;
}

static const char *column_of_field(const tab_job *j, long field)
{
    if (field < 0)
        return NULL;
    for (size_t i = 0; i < j->nout; i++)
        if (j->src[i] == (size_t)field)
            return j->out[i].name;
    return (size_t)field < j->nsrc ? j->src_names[field] : NULL;
}

static int keep_row(tab_job *j, const tab_record *rec)
{
    if (j->where_src < 0)
        return 1;
    const tab_field *f = &rec->f[j->where_src];
    if (f->null)
        return 0;
    return pcre2_match(j->cfg->where_re, (PCRE2_SPTR)f->p, f->len, 0, 0, j->md, NULL) >= 0;
}

/* Converts and writes one record; 0 also when the row was bad but handled. */
static int one_row(tab_job *j, const tab_record *rec)
{
    if (j->cfg->read.format != TAB_JSONL && rec->n != j->nsrc) {
        char msg[128];
        snprintf(msg, sizeof msg, "%zu fields, but the %s has %zu (a ragged row)", rec->n,
                 j->cfg->read.header ? "header" : "first line", j->nsrc);
        return bad_row(j, rec->line, NULL, msg, rec);
    }
    if (!keep_row(j, rec)) {
        j->filtered++;
        return 0;
    }
    for (size_t i = 0; i < j->nout; i++) {
        const tab_field *f = &rec->f[j->src[i]];
        char why[160];
        if (f->null) {
            memset(&j->vals[i], 0, sizeof j->vals[i]);
            j->vals[i].null = 1;
        } else if (tab_value_convert(&j->out[i].type, f->p, f->len, &j->vals[i], why,
                                     sizeof why) != 0) {
            char tname[32], msg[300];
            tab_value_type_name(&j->out[i].type, tname, sizeof tname);
            snprintf(msg, sizeof msg, "\"%.*s%s\" %s (type %s)", (int)(f->len > 40 ? 40 : f->len),
                     f->p, f->len > 40 ? "..." : "", why, tname);
            return bad_row(j, rec->line, j->out[i].name, msg, rec);
        }
    }
    if (tab_writer_row(j->writer, j->vals) != 0) {
        const char *e = tab_writer_error(j->writer);
        if (*e)
            j->h->error(j->job, SLUICE_ERR_PLUGIN, "%s: line %lld: %s", j->h->input_name(j->job),
                        (long long)rec->line, e);
        return -1;
    }
    j->rows_out++;
    return 0;
}

static int convert(tab_job *j)
{
    const sluice_host *h = j->h;
    char err[300];
    int bad_input = 0;
    j->reader = tab_reader_open(&j->cfg->read, pull, j, &bad_input, err, sizeof err);
    if (!j->reader) {
        h->error(j->job, bad_input ? SLUICE_ERR_INPUT : SLUICE_ERR_PLUGIN, "%s: %s",
                 h->input_name(j->job), err);
        return -1;
    }
    if (map_columns(j) != 0)
        return -1;
    j->writer = tab_writer_open(&j->cfg->write, j->out, j->nout, sink, j, err, sizeof err);
    if (!j->writer) {
        h->error(j->job, SLUICE_ERR_CONFIG, "%s: %s", h->input_name(j->job), err);
        return -1;
    }
    tab_record rec;
    tab_bad bad;
    int rc;
    while ((rc = tab_reader_next(j->reader, &rec, &bad)) != TAB_EOF) {
        if (rc == TAB_FAIL)
            return -1; /* the host recorded the read error */
        j->rows_in++;
        if (rc == TAB_BAD_RECORD) {
            if (bad_row(j, bad.line, column_of_field(j, bad.field), bad.msg, &rec) != 0)
                return -1;
            continue;
        }
        if (one_row(j, &rec) != 0)
            return -1;
    }
    if (tab_writer_close(j->writer) != 0) {
        const char *e = tab_writer_error(j->writer);
        if (*e)
            h->error(j->job, SLUICE_ERR_PLUGIN, "%s: %s", h->input_name(j->job), e);
        return -1;
    }
    if (j->rej_open && tab_obuf_flush(&j->rej) != 0)
        return -1;
    return 0;
}

static int tabular_run(void *state, sluice_job *job)
{
    tab_job j;
    memset(&j, 0, sizeof j);
    j.cfg = state;
    j.h = j.cfg->host;
    j.job = job;
    name_outputs(&j);
    int rc = convert(&j);
    const sluice_host *h = j.h;
    h->counter_add(job, "rows_in", j.rows_in);
    h->counter_add(job, "rows_out", j.rows_out);
    if (j.cfg->where_re)
        h->counter_add(job, "rows_filtered", j.filtered);
    if (j.cfg->policy == TAB_BAD_SKIP)
        h->counter_add(job, "rows_skipped", j.skipped);
    if (j.cfg->policy == TAB_BAD_REJECT)
        h->counter_add(job, "rows_rejected", j.rejected);
    if (rc == 0 && j.rejected)
        h->log(job, SLUICE_LOG_WARN, "%lld rows rejected into %s", (long long)j.rejected,
               j.rejects);
    if (rc == 0 && j.skipped > LOG_BAD_ROWS)
        h->log(job, SLUICE_LOG_WARN, "%lld bad rows skipped in all", (long long)j.skipped);
    tab_writer_free(j.writer);
    tab_reader_free(j.reader);
    if (j.rej_open)
        tab_obuf_free(&j.rej);
    pcre2_match_data_free(j.md);
    free(j.out);
    free(j.src);
    free(j.vals);
    return rc == 0 ? SLUICE_OK : SLUICE_ERROR;
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "tabular",
    .version = "1.0.0",
    .description = "Converts tables between CSV, TSV, JSON Lines and Parquet; selects, types "
                   "and filters columns",
    .options_schema = tab_config_schema,
    .init = tabular_init,
    .run = tabular_run,
    .destroy = tabular_destroy,
};
