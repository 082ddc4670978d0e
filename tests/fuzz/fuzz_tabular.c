/* fuzz_tabular.c — the tabular plugin's readers (plugins/tabular: CSV per
 * RFC 4180, TSV with and without Adobe's backslash escapes, latin-1, JSON
 * Lines with and without picked paths), its conversions to typed values,
 * and its writers (CSV, TSV, JSON Lines, Parquet) into a counting sink, as
 * the plugin's run loop does; bad rows go through the rejects' JSON text.
 * Input: byte 0 reads (bits 0-1 CSV, CSV with ';' and '\'', TSV, JSON
 * Lines; bit 2 a header line, for JSON Lines picked paths; bit 3 latin-1;
 * bit 4 TSV escapes; bits 5-6 the output format; bit 7 typed columns),
 * byte 1 the rest (bits 0-3 shift which column gets which type; bits 4-5
 * the Parquet codec; bits 6-7 how the input is cut into reads); then the
 * table.
 * Differential: a converted value's text (what the writers print) must
 * convert back to the same value.
 * Reaches: tab_reader_open, tab_reader_next, tab_jsonl_next,
 * tab_value_convert, tab_value_text, tab_obuf_json_string, tab_writer_row,
 * tab_writer_close, pq_writer_end_row, pq_writer_close. */
#include "autoconfig.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tab_read.h"
#include "tab_value.h"
#include "tab_write.h"

/* Column i of a typed table gets types[(i + first) % N_TYPES]. */
#define N_TYPES 11
static tab_coltype types[N_TYPES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const specs[N_TYPES] = {
        "string", "bool", "int32", "int64", "double", "decimal(18,4)", "decimal(4,2)",
        "date", "timestamp", "date", "timestamp"};
    char err[256];
    for (size_t i = 0; i < N_TYPES; i++)
        if (tab_value_type_parse(specs[i], &types[i], err, sizeof err) != 0)
            abort();
    types[9].format = "%d/%m/%Y";            /* through strptime */
    types[10].format = "%Y-%m-%d %H:%M:%S"; /* the common form, without it */
    return 0;
}

typedef struct feed {
    const uint8_t *p;
    size_t len, pos, k;
    int cut; /* 0 whole, 1 pieces of 1..13 bytes, 2 single bytes, 3 4 KiB */
} feed;

static ssize_t pull(void *ctx, void *buf, size_t cap)
{
    feed *f = ctx;
    size_t want = f->cut == 0 ? cap : f->cut == 1 ? f->k++ % 13 + 1 : f->cut == 2 ? 1 : 4096;
    size_t n = f->len - f->pos;
    if (n > want)
        n = want;
    if (n > cap)
        n = cap;
    memcpy(buf, f->p + f->pos, n);
    f->pos += n;
    return (ssize_t)n;
}

static int sink(void *ctx, const void *buf, size_t len)
{
    (void)buf;
    *(size_t *)ctx += len;
    return 0;
}

/* The text a writer prints for a typed value reads back as that value
 * (dates and times as ISO 8601, whatever format they were read with). */
static void check_text(const tab_coltype *t, const tab_value *v)
{
    if (t->type == TAB_STRING || v->null)
        return;
    char text[TAB_TEXT_MAX], why[160];
    size_t n = tab_value_text(t, v, text);
    tab_coltype iso = *t;
    iso.format = NULL;
    tab_value back;
    if (tab_value_convert(&iso, text, n, &back, why, sizeof why) != 0)
        abort();
    int same = t->type == TAB_DOUBLE ? back.d == v->d || (isnan(back.d) && isnan(v->d))
                                     : back.i == v->i;
    if (!same || back.null)
        abort();
}

/* A bad row as the rejects object holds it: its JSON text. The buffer
 * (1 MiB) is opened at the first bad row only, as the plugin does. */
static void reject(tab_obuf *b, size_t *out, const tab_record *rec)
{
    if (!b->data && tab_obuf_init(b, sink, out) != 0)
        abort();
    if (rec->raw)
        tab_obuf_json_string(b, rec->raw, strlen(rec->raw));
    for (size_t i = 0; !rec->raw && i < rec->n; i++)
        tab_obuf_json_string(b, rec->f[i].p, rec->f[i].len);
}

/* Converts one record into vals; 0, or -1 when a field does not convert. */
static int convert(const tab_out_col *cols, size_t n, const tab_record *rec, tab_value *vals)
{
    for (size_t i = 0; i < n; i++) {
        char why[160];
        if (rec->f[i].null) {
            memset(&vals[i], 0, sizeof vals[i]);
            vals[i].null = 1;
        } else if (tab_value_convert(&cols[i].type, rec->f[i].p, rec->f[i].len, &vals[i], why,
                                     sizeof why) != 0) {
            return -1;
        }
        check_text(&cols[i].type, &vals[i]);
    }
    return 0;
}

/* Every record through the writer, as the plugin's loop does. */
static void copy_rows(tab_reader *r, tab_writer *w, const tab_out_col *cols, size_t n, int jsonl)
{
    tab_value *vals = calloc(n ? n : 1, sizeof *vals);
    if (!vals)
        abort();
    tab_obuf rejects = {0};
    size_t rejected = 0;
    tab_record rec;
    tab_bad bad;
    int rc;
    while ((rc = tab_reader_next(r, &rec, &bad)) != TAB_EOF && rc != TAB_FAIL) {
        if (rc == TAB_BAD_RECORD || (!jsonl && rec.n != n) || convert(cols, n, &rec, vals) != 0)
            reject(&rejects, &rejected, &rec);
        else if (tab_writer_row(w, vals) != 0)
            break;
    }
    if (rejects.data)
        tab_obuf_flush(&rejects);
    tab_obuf_free(&rejects);
    free(vals);
}

static void run(const tab_read_opts *ro, const tab_write_opts *wo, int typed, feed *in)
{
    char err[256];
    int bad_input;
    tab_reader *r = tab_reader_open(ro, pull, in, &bad_input, err, sizeof err);
    if (!r)
        return;
    size_t n;
    const char *const *names = tab_reader_columns(r, &n);
    tab_out_col *cols = calloc(n ? n : 1, sizeof *cols);
    if (!cols)
        abort();
    for (size_t i = 0; i < n; i++)
        cols[i] = (tab_out_col){names[i], typed ? types[(i + (size_t)typed) % N_TYPES]
                                                : types[0]};
    size_t out = 0;
    tab_writer *w = tab_writer_open(wo, cols, n, sink, &out, err, sizeof err);
    if (w) {
        copy_rows(r, w, cols, n, ro->format == TAB_JSONL);
        tab_writer_close(w);
        tab_writer_free(w);
    }
    free(cols);
    tab_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char *const want[] = {"id", "a.b", "name", "a", "a.b.c"};
    static const pq_codec codecs[] = {PQ_CODEC_NONE, PQ_CODEC_GZIP, PQ_CODEC_ZSTD, PQ_CODEC_ZSTD};
    uint8_t o = data[0], p = data[1];
    int kind = o & 3, header = (o >> 2) & 1;
    tab_read_opts ro = {.format = kind == 3 ? TAB_JSONL : kind == 2 ? TAB_TSV : TAB_CSV,
                        .delimiter = kind == 1 ? ';' : kind == 2 ? '\t' : ',',
                        .quote = kind == 1 ? '\'' : '"',
                        .header = header,
                        .latin1 = (o >> 3) & 1,
                        .tsv_escapes = (o >> 4) & 1,
                        .want = kind == 3 && header ? want : NULL,
                        .nwant = kind == 3 && header ? sizeof want / sizeof *want : 0};
    /* small row groups, pages and dictionaries: several of each */
    tab_write_opts wo = {.format = (tab_out_format)((o >> 5) & 3),
                         .parquet = {.codec = codecs[(p >> 4) & 3], .row_group_bytes = 1024,
                                     .page_bytes = 256, .dict_bytes = 256}};
    int typed = o >> 7 ? (p & 15) + 1 : 0;
    feed in = {.p = data + 2, .len = size - 2, .cut = p >> 6};
    run(&ro, &wo, typed, &in);
    return 0;
}
