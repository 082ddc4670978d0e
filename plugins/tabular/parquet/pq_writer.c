/* pq_writer.c — the streaming Parquet writer (pq_writer.h): row groups,
 * pages, compression and the Thrift footer. Column chunks are collected by
 * pq_column.c, encoded by pq_rle.c, headers written by pq_thrift.c. */
#include "pq_writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "pq_column.h"
#include "pq_rle.h"
#include "pq_thrift.h"

/* Parquet enums (parquet.thrift) */
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };
enum { CONV_UTF8 = 0, CONV_DECIMAL = 5, CONV_DATE = 6, CONV_TIMESTAMP_MICROS = 10 };
enum { REP_OPTIONAL = 1 };

/* What the footer says about one column chunk. */
typedef struct chunk_meta {
    int64_t file_offset, data_page_offset, dict_page_offset; /* -1: no dictionary */
    int64_t num_values, uncompressed, compressed, nulls;
    int dict;
    uint8_t *min, *max; /* PLAIN statistics, NULL when none */
    size_t min_len, max_len;
} chunk_meta;

typedef struct row_group_meta {
    chunk_meta *chunks;
    int64_t rows, file_offset, uncompressed, compressed;
} row_group_meta;

struct pq_writer {
    pq_column *cols;
    size_t ncols;
    pq_options opt;
    pq_sink sink;
    void *ctx;
    int64_t offset;     /* bytes written so far */
    int64_t rows;       /* all rows */
    size_t rg_rows;     /* rows of the open row group */
    row_group_meta *rgs;
    size_t nrgs, caprgs;
    pq_buf page, packed, header; /* scratch, reused */
    ZSTD_CCtx *zstd;
    z_stream *gz;
    int failed;
    char err[256];
};

static int fail(pq_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(pq_writer *w, const char *fmt, ...)
{
    if (!w->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err, sizeof w->err, fmt, ap);
        va_end(ap);
    }
    w->failed = 1;
    return -1;
}

static int emit(pq_writer *w, const void *p, size_t n)
{
    if (n && w->sink(w->ctx, p, n) != 0)
        return fail(w, "writing the Parquet output failed");
    w->offset += (int64_t)n;
    return 0;
}

static int check_defs(const pq_column_def *cols, size_t ncols, char *err, size_t errlen)
{
    if (ncols == 0) {
        snprintf(err, errlen, "a Parquet file needs at least one column");
        return -1;
    }
    for (size_t i = 0; i < ncols; i++) {
        if (!cols[i].name || !*cols[i].name) {
            snprintf(err, errlen, "column %zu has no name", i + 1);
            return -1;
        }
        if (cols[i].type == PQ_DECIMAL &&
            (cols[i].precision < 1 || cols[i].precision > 18 || cols[i].scale < 0 ||
             cols[i].scale > cols[i].precision)) {
            snprintf(err, errlen,
                     "column %s: decimal(%d,%d) is not supported (precision 1..18, scale "
                     "0..precision)",
                     cols[i].name, cols[i].precision, cols[i].scale);
            return -1;
        }
    }
    return 0;
}

pq_writer *pq_writer_open(const pq_column_def *cols, size_t ncols, const pq_options *opt,
                          pq_sink sink, void *ctx, char *err, size_t errlen)
{
    if (check_defs(cols, ncols, err, errlen) != 0)
        return NULL;
    pq_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->cols = calloc(ncols, sizeof *w->cols)))
        goto oom;
    w->ncols = ncols;
    for (size_t i = 0; i < ncols; i++)
        if (pq_column_init(&w->cols[i], &cols[i]) != 0)
            goto oom;
    w->opt = *opt;
    if (!w->opt.row_group_bytes)
        w->opt.row_group_bytes = 64u << 20;
    if (!w->opt.page_bytes)
        w->opt.page_bytes = 1u << 20;
    if (!w->opt.dict_bytes)
        w->opt.dict_bytes = 1u << 20;
    if (!w->opt.created_by)
        w->opt.created_by = "sluice tabular";
    w->sink = sink;
    w->ctx = ctx;
    if (w->opt.codec == PQ_CODEC_ZSTD && !(w->zstd = ZSTD_createCCtx()))
        goto oom;
    if (w->opt.codec == PQ_CODEC_GZIP) {
        if (!(w->gz = calloc(1, sizeof *w->gz)))
            goto oom;
        int level = w->opt.level ? w->opt.level : Z_DEFAULT_COMPRESSION;
        if (deflateInit2(w->gz, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            free(w->gz);
            w->gz = NULL;
            goto oom;
        }
    }
    if (emit(w, "PAR1", 4) != 0) {
        snprintf(err, errlen, "%s", w->err);
        pq_writer_free(w);
        return NULL;
    }
    return w;
oom:
    snprintf(err, errlen, "out of memory");
    pq_writer_free(w);
    return NULL;
}

static pq_column *column(pq_writer *w, size_t col)
{
    if (w->failed || col >= w->ncols) {
        fail(w, "column %zu does not exist", col);
        return NULL;
    }
    return &w->cols[col];
}

int pq_writer_put_null(pq_writer *w, size_t col)
{
    pq_column *c = column(w, col);
    if (!c)
        return -1;
    return pq_column_put_null(c) == 0 ? 0 : fail(w, "out of memory");
}

int pq_writer_put_bool(pq_writer *w, size_t col, int v)
{
    pq_column *c = column(w, col);
    if (!c)
        return -1;
    if (c->phys != PQ_PHYS_BOOLEAN)
        return fail(w, "column %s: a boolean given for a non-boolean column", c->name);
    uint8_t b = v ? 1 : 0;
    return pq_column_put_fixed(c, &b, b, 0) == 0 ? 0 : fail(w, "out of memory");
}

int pq_writer_put_int(pq_writer *w, size_t col, int64_t v)
{
    pq_column *c = column(w, col);
    if (!c)
        return -1;
    uint8_t le[8];
    if (c->phys == PQ_PHYS_INT32) {
        if (v < INT32_MIN || v > INT32_MAX)
            return fail(w, "column %s: %lld does not fit INT32", c->name, (long long)v);
    } else if (c->phys != PQ_PHYS_INT64) {
        return fail(w, "column %s: an integer given for a non-integer column", c->name);
    }
    for (int i = 0; i < c->width; i++)
        le[i] = (uint8_t)((uint64_t)v >> (8 * i));
    return pq_column_put_fixed(c, le, v, 0) == 0 ? 0 : fail(w, "out of memory");
}

int pq_writer_put_double(pq_writer *w, size_t col, double v)
{
    pq_column *c = column(w, col);
    if (!c)
        return -1;
    if (c->phys != PQ_PHYS_DOUBLE)
        return fail(w, "column %s: a double given for a non-double column", c->name);
    uint8_t le[8];
    uint64_t u;
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(u >> (8 * i));
    return pq_column_put_fixed(c, le, 0, v) == 0 ? 0 : fail(w, "out of memory");
}

int pq_writer_put_bytes(pq_writer *w, size_t col, const void *p, size_t len)
{
    pq_column *c = column(w, col);
    if (!c)
        return -1;
    if (c->phys != PQ_PHYS_BYTE_ARRAY)
        return fail(w, "column %s: bytes given for a non-string column", c->name);
    return pq_column_put_bytes(c, p, len) == 0 ? 0 : fail(w, "out of memory or value too long");
}

/* --- compression and pages --------------------------------------------- */

/* Compresses `in` into w->packed; sets *out to what the page carries. */
static int compress_page(pq_writer *w, const pq_buf *in, const uint8_t **out, size_t *outlen)
{
    if (w->opt.codec == PQ_CODEC_NONE) {
        *out = in->data;
        *outlen = in->len;
        return 0;
    }
    w->packed.len = 0;
    if (w->opt.codec == PQ_CODEC_ZSTD) {
        size_t bound = ZSTD_compressBound(in->len);
        if (pq_buf_reserve(&w->packed, bound) != 0)
            return fail(w, "out of memory");
        size_t n = ZSTD_compressCCtx(w->zstd, w->packed.data, bound, in->data, in->len,
                                     w->opt.level ? w->opt.level : 3);
        if (ZSTD_isError(n))
            return fail(w, "zstd: %s", ZSTD_getErrorName(n));
        w->packed.len = n;
    } else {
        if (deflateReset(w->gz) != Z_OK)
            return fail(w, "gzip: deflateReset failed");
        w->gz->next_in = in->data;
        w->gz->avail_in = (uInt)in->len;
        size_t cap = deflateBound(w->gz, in->len) + 64;
        int zrc;
        do { /* the bound is a promise; grow anyway if it is not kept */
            if (pq_buf_reserve(&w->packed, cap - w->packed.len) != 0)
                return fail(w, "out of memory");
            w->gz->next_out = w->packed.data + w->packed.len;
            w->gz->avail_out = (uInt)(w->packed.cap - w->packed.len);
            zrc = deflate(w->gz, Z_FINISH);
            w->packed.len = w->packed.cap - w->gz->avail_out;
            cap = w->packed.cap * 2;
        } while (zrc == Z_OK || zrc == Z_BUF_ERROR);
        if (zrc != Z_STREAM_END)
            return fail(w, "gzip: deflate failed on a page of %zu bytes (%d)", in->len, zrc);
    }
    *out = w->packed.data;
    *outlen = w->packed.len;
    return 0;
}

/* Writes header + compressed body of one page; adds its sizes to `m`. */
static int write_page(pq_writer *w, chunk_meta *m, int type, size_t num_values, int encoding)
{
    const uint8_t *body = NULL;
    size_t body_len = 0;
    if (w->page.len > INT32_MAX || compress_page(w, &w->page, &body, &body_len) != 0)
        return fail(w, "a page is too large or could not be compressed");
    w->header.len = 0;
    pq_thrift tc;
    pq_thrift_init(&tc, &w->header);
    pq_thrift_struct_begin(&tc);
    pq_thrift_field_i32(&tc, 1, type);
    pq_thrift_field_i32(&tc, 2, (int32_t)w->page.len);
    pq_thrift_field_i32(&tc, 3, (int32_t)body_len);
    if (type == PAGE_DATA) {
        pq_thrift_field_struct_begin(&tc, 5);
        pq_thrift_field_i32(&tc, 1, (int32_t)num_values);
        pq_thrift_field_i32(&tc, 2, encoding);
        pq_thrift_field_i32(&tc, 3, ENC_RLE);
        pq_thrift_field_i32(&tc, 4, ENC_RLE);
        pq_thrift_struct_end(&tc);
    } else {
        pq_thrift_field_struct_begin(&tc, 7);
        pq_thrift_field_i32(&tc, 1, (int32_t)num_values);
        pq_thrift_field_i32(&tc, 2, ENC_PLAIN);
        pq_thrift_struct_end(&tc);
    }
    pq_thrift_struct_end(&tc);
    if (tc.failed)
        return fail(w, "out of memory");
    m->uncompressed += (int64_t)(w->header.len + w->page.len);
    m->compressed += (int64_t)(w->header.len + body_len);
    if (emit(w, w->header.data, w->header.len) != 0 || emit(w, body, body_len) != 0)
        return -1;
    return 0;
}

/* The body of data page `p` of column `c`: definition levels, values. */
static int build_data_page(pq_writer *w, const pq_column *c, size_t p, int dict)
{
    const pq_page_mark *m = &c->marks[p];
    size_t row_end = p + 1 < c->nmarks ? c->marks[p + 1].row : c->rows;
    size_t val_end = p + 1 < c->nmarks ? c->marks[p + 1].value : c->values;
    size_t off_end = p + 1 < c->nmarks ? c->marks[p + 1].plain_off : c->plain.len;
    pq_buf *b = &w->page;
    b->len = 0;
    if (pq_buf_add_le32(b, 0) != 0)
        return -1;
    size_t at = b->len;
    if (pq_rle_encode_u8(b, c->defs.data + m->row, row_end - m->row, 1) != 0)
        return -1;
    uint32_t dlen = (uint32_t)(b->len - at);
    for (int i = 0; i < 4; i++)
        b->data[at - 4 + i] = (uint8_t)(dlen >> (8 * i));
    if (dict) {
        int bw = pq_rle_bit_width(c->ndict ? (uint32_t)c->ndict - 1 : 0);
        if (bw == 0)
            bw = 1;
        if (pq_buf_addc(b, (uint8_t)bw) != 0 ||
            pq_rle_encode_u32(b, c->idx + m->value, val_end - m->value, bw) != 0)
            return -1;
    } else if (c->phys == PQ_PHYS_BOOLEAN) {
        if (pq_rle_pack_bools(b, pq_buf_at(&c->plain, m->plain_off), val_end - m->value) != 0)
            return -1;
    } else if (pq_buf_add(b, pq_buf_at(&c->plain, m->plain_off), off_end - m->plain_off) != 0) {
        return -1;
    }
    return 0;
}

static uint8_t *copy_bytes(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static int write_chunk(pq_writer *w, pq_column *c, chunk_meta *m)
{
    memset(m, 0, sizeof *m);
    m->dict_page_offset = -1;
    m->file_offset = w->offset;
    m->num_values = (int64_t)c->rows;
    m->nulls = c->nulls;
    pq_column_dict_limit(c, w->opt.dict_bytes);
    m->dict = c->dict_on && c->ndict > 0;
    if (m->dict) {
        m->dict_page_offset = w->offset;
        w->page.len = 0;
        if (pq_buf_add(&w->page, c->dict.data, c->dict.len) != 0)
            return fail(w, "out of memory");
        if (write_page(w, m, PAGE_DICTIONARY, c->ndict, ENC_PLAIN) != 0)
            return -1;
    }
    m->data_page_offset = w->offset;
    for (size_t p = 0; p < c->nmarks; p++) {
        size_t row_end = p + 1 < c->nmarks ? c->marks[p + 1].row : c->rows;
        if (row_end == c->marks[p].row)
            continue; /* a page was marked just before the row group ended */
        if (build_data_page(w, c, p, m->dict) != 0)
            return fail(w, "out of memory");
        if (write_page(w, m, PAGE_DATA, row_end - c->marks[p].row,
                       m->dict ? ENC_RLE_DICTIONARY : ENC_PLAIN) != 0)
            return -1;
    }
    uint8_t tmp[8];
    const void *p;
    size_t len;
    if (pq_column_stat(c, 0, &p, &len, tmp)) {
        m->min = copy_bytes(p, len);
        m->min_len = len;
        pq_column_stat(c, 1, &p, &len, tmp);
        m->max = copy_bytes(p, len);
        m->max_len = len;
        if (!m->min || !m->max)
            return fail(w, "out of memory");
    }
    return 0;
}

static int flush_row_group(pq_writer *w)
{
    if (w->rg_rows == 0)
        return 0;
    if (w->nrgs == w->caprgs) {
        size_t cap = w->caprgs ? w->caprgs * 2 : 8;
        row_group_meta *r = realloc(w->rgs, cap * sizeof *r);
        if (!r)
            return fail(w, "out of memory");
        w->rgs = r;
        w->caprgs = cap;
    }
    row_group_meta *rg = &w->rgs[w->nrgs];
    memset(rg, 0, sizeof *rg);
    if (!(rg->chunks = calloc(w->ncols, sizeof *rg->chunks)))
        return fail(w, "out of memory");
    w->nrgs++;
    rg->rows = (int64_t)w->rg_rows;
    rg->file_offset = w->offset;
    for (size_t i = 0; i < w->ncols; i++) {
        if (write_chunk(w, &w->cols[i], &rg->chunks[i]) != 0)
            return -1;
        rg->uncompressed += rg->chunks[i].uncompressed;
        rg->compressed += rg->chunks[i].compressed;
        pq_column_reset(&w->cols[i]);
    }
    w->rg_rows = 0;
    return 0;
}

int pq_writer_end_row(pq_writer *w)
{
    if (w->failed)
        return -1;
    size_t bytes = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        pq_column *c = &w->cols[i];
        if (c->rows != w->rg_rows + 1)
            return fail(w, "row %lld: column %s was given %s value", (long long)w->rows + 1,
                        c->name, c->rows <= w->rg_rows ? "no" : "more than one");
        if (pq_column_maybe_mark(c, w->opt.page_bytes) != 0)
            return fail(w, "out of memory");
        if ((c->values & 4095) == 0)
            pq_column_dict_limit(c, w->opt.dict_bytes);
        bytes += pq_column_bytes(c);
    }
    w->rg_rows++;
    w->rows++;
    if (bytes >= w->opt.row_group_bytes)
        return flush_row_group(w);
    return 0;
}

/* --- footer ------------------------------------------------------------ */

static void schema_element(pq_thrift *tc, const pq_column *c)
{
    pq_thrift_struct_begin(tc);
    pq_thrift_field_i32(tc, 1, c->phys);
    pq_thrift_field_i32(tc, 3, REP_OPTIONAL);
    pq_thrift_field_string(tc, 4, c->name);
    switch (c->type) {
    case PQ_STRING:
        pq_thrift_field_i32(tc, 6, CONV_UTF8);
        pq_thrift_field_struct_begin(tc, 10);
        pq_thrift_field_struct_begin(tc, 1); /* STRING */
        pq_thrift_struct_end(tc);
        pq_thrift_struct_end(tc);
        break;
    case PQ_DECIMAL:
        pq_thrift_field_i32(tc, 6, CONV_DECIMAL);
        pq_thrift_field_i32(tc, 7, c->scale);
        pq_thrift_field_i32(tc, 8, c->precision);
        pq_thrift_field_struct_begin(tc, 10);
        pq_thrift_field_struct_begin(tc, 5); /* DECIMAL */
        pq_thrift_field_i32(tc, 1, c->scale);
        pq_thrift_field_i32(tc, 2, c->precision);
        pq_thrift_struct_end(tc);
        pq_thrift_struct_end(tc);
        break;
    case PQ_DATE:
        pq_thrift_field_i32(tc, 6, CONV_DATE);
        pq_thrift_field_struct_begin(tc, 10);
        pq_thrift_field_struct_begin(tc, 6); /* DATE */
        pq_thrift_struct_end(tc);
        pq_thrift_struct_end(tc);
        break;
    case PQ_TIMESTAMP:
        pq_thrift_field_i32(tc, 6, CONV_TIMESTAMP_MICROS);
        pq_thrift_field_struct_begin(tc, 10);
        pq_thrift_field_struct_begin(tc, 8); /* TIMESTAMP */
        pq_thrift_field_bool(tc, 1, 1);      /* isAdjustedToUTC */
        pq_thrift_field_struct_begin(tc, 2); /* unit */
        pq_thrift_field_struct_begin(tc, 2); /* MICROS */
        pq_thrift_struct_end(tc);
        pq_thrift_struct_end(tc);
        pq_thrift_struct_end(tc);
        pq_thrift_struct_end(tc);
        break;
    default: break;
    }
    pq_thrift_struct_end(tc);
}

static void column_chunk(pq_thrift *tc, const pq_writer *w, const pq_column *c, const chunk_meta *m)
{
    pq_thrift_struct_begin(tc);
    pq_thrift_field_i64(tc, 2, m->file_offset);
    pq_thrift_field_struct_begin(tc, 3); /* ColumnMetaData */
    pq_thrift_field_i32(tc, 1, c->phys);
    pq_thrift_field_list(tc, 2, PQ_TC_I32, m->dict ? 3 : 2);
    pq_thrift_elem_i32(tc, ENC_PLAIN);
    pq_thrift_elem_i32(tc, ENC_RLE);
    if (m->dict)
        pq_thrift_elem_i32(tc, ENC_RLE_DICTIONARY);
    pq_thrift_field_list(tc, 3, PQ_TC_BINARY, 1);
    pq_thrift_elem_string(tc, c->name);
    pq_thrift_field_i32(tc, 4, (int32_t)w->opt.codec);
    pq_thrift_field_i64(tc, 5, m->num_values);
    pq_thrift_field_i64(tc, 6, m->uncompressed);
    pq_thrift_field_i64(tc, 7, m->compressed);
    pq_thrift_field_i64(tc, 9, m->data_page_offset);
    if (m->dict)
        pq_thrift_field_i64(tc, 11, m->dict_page_offset);
    pq_thrift_field_struct_begin(tc, 12); /* Statistics */
    pq_thrift_field_i64(tc, 3, m->nulls);
    if (m->min) {
        pq_thrift_field_binary(tc, 5, m->max, m->max_len);
        pq_thrift_field_binary(tc, 6, m->min, m->min_len);
    }
    pq_thrift_struct_end(tc);
    pq_thrift_struct_end(tc);
    pq_thrift_struct_end(tc);
}

static int write_footer(pq_writer *w)
{
    pq_buf f = PQ_BUF_INIT;
    pq_thrift tc;
    pq_thrift_init(&tc, &f);
    pq_thrift_struct_begin(&tc);
    pq_thrift_field_i32(&tc, 1, 1);
    pq_thrift_field_list(&tc, 2, PQ_TC_STRUCT, w->ncols + 1);
    pq_thrift_struct_begin(&tc); /* the root */
    pq_thrift_field_string(&tc, 4, "schema");
    pq_thrift_field_i32(&tc, 5, (int32_t)w->ncols);
    pq_thrift_struct_end(&tc);
    for (size_t i = 0; i < w->ncols; i++)
        schema_element(&tc, &w->cols[i]);
    pq_thrift_field_i64(&tc, 3, w->rows);
    pq_thrift_field_list(&tc, 4, PQ_TC_STRUCT, w->nrgs);
    for (size_t r = 0; r < w->nrgs; r++) {
        const row_group_meta *rg = &w->rgs[r];
        pq_thrift_struct_begin(&tc);
        pq_thrift_field_list(&tc, 1, PQ_TC_STRUCT, w->ncols);
        for (size_t i = 0; i < w->ncols; i++)
            column_chunk(&tc, w, &w->cols[i], &rg->chunks[i]);
        pq_thrift_field_i64(&tc, 2, rg->uncompressed);
        pq_thrift_field_i64(&tc, 3, rg->rows);
        pq_thrift_field_i64(&tc, 5, rg->file_offset);
        pq_thrift_field_i64(&tc, 6, rg->compressed);
        pq_thrift_struct_end(&tc);
    }
    pq_thrift_field_string(&tc, 6, w->opt.created_by);
    pq_thrift_field_list(&tc, 7, PQ_TC_STRUCT, w->ncols); /* column_orders */
    for (size_t i = 0; i < w->ncols; i++) {
        pq_thrift_struct_begin(&tc);
        pq_thrift_field_struct_begin(&tc, 1); /* TYPE_ORDER */
        pq_thrift_struct_end(&tc);
        pq_thrift_struct_end(&tc);
    }
    pq_thrift_struct_end(&tc);
    int rc = -1;
    if (tc.failed || f.len > UINT32_MAX || pq_buf_add_le32(&f, (uint32_t)f.len) != 0 ||
        pq_buf_add(&f, "PAR1", 4) != 0)
        fail(w, "out of memory");
    else
        rc = emit(w, f.data, f.len);
    pq_buf_free(&f);
    return rc;
}

int pq_writer_close(pq_writer *w)
{
    if (w->failed)
        return -1;
    for (size_t i = 0; i < w->ncols; i++)
        if (w->cols[i].rows != w->rg_rows)
            return fail(w, "the last row was not ended (pq_writer_end_row)");
    if (flush_row_group(w) != 0 || write_footer(w) != 0)
        return -1;
    return 0;
}

void pq_writer_free(pq_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; w->cols && i < w->ncols; i++)
        pq_column_free(&w->cols[i]);
    free(w->cols);
    for (size_t r = 0; r < w->nrgs; r++) {
        for (size_t i = 0; i < w->ncols; i++) {
            free(w->rgs[r].chunks[i].min);
            free(w->rgs[r].chunks[i].max);
        }
        free(w->rgs[r].chunks);
    }
    free(w->rgs);
    pq_buf_free(&w->page);
    pq_buf_free(&w->packed);
    pq_buf_free(&w->header);
    ZSTD_freeCCtx(w->zstd);
    if (w->gz) {
        deflateEnd(w->gz);
        free(w->gz);
    }
    free(w);
}

const char *pq_writer_error(const pq_writer *w)
{
    return w->failed ? w->err : "";
}

int64_t pq_writer_rows(const pq_writer *w)
{
    return w->rows;
}

size_t pq_writer_row_groups(const pq_writer *w)
{
    return w->nrgs;
}
