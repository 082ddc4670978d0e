/* pq_writer.h — a streaming Parquet file writer.
 *
 * Writes one flat schema of OPTIONAL columns: data pages v1, PLAIN and
 * dictionary (RLE_DICTIONARY) encodings, RLE definition levels for nulls,
 * min/max/null-count statistics per column chunk, page compression zstd,
 * gzip or none. Rows are buffered until the row group reaches
 * `row_group_bytes` (PLAIN size of its values), then written out: memory is
 * bounded by one row group, never by the file. Output goes to a sink
 * callback in order; nothing is ever rewritten (a pipe or an upload works).
 *
 *     pq_writer *w = pq_writer_open(cols, n, &opt, sink, ctx, err, sizeof err);
 *     for each row: pq_writer_put_*(w, col, ...) for every column, pq_writer_end_row(w)
 *     pq_writer_close(w);   -- writes the last row group and the footer
 *     pq_writer_free(w);
 *
 * Every column gets exactly one pq_writer_put_* per row (pq_writer_put_null for null).
 * Functions return 0 or -1; after -1 pq_writer_error() says why and the
 * writer only accepts pq_writer_free().
 *
 * Ownership: the writer copies column names and owns all its buffers. Not
 * thread-safe: one writer per thread (per job). */
#ifndef PQ_WRITER_H
#define PQ_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef enum pq_type {
    PQ_BOOL,      /* BOOLEAN */
    PQ_INT32,     /* INT32 */
    PQ_INT64,     /* INT64 */
    PQ_DOUBLE,    /* DOUBLE */
    PQ_STRING,    /* BYTE_ARRAY, logical STRING (UTF-8) */
    PQ_DECIMAL,   /* INT32 (precision <= 9) or INT64 (<= 18), scaled integer */
    PQ_DATE,      /* INT32 days since 1970-01-01 */
    PQ_TIMESTAMP  /* INT64 microseconds since the epoch, UTC */
} pq_type;

typedef struct pq_column_def {
    const char *name;
    pq_type type;
    int precision, scale; /* PQ_DECIMAL only: 1..18, 0..precision */
} pq_column_def;

typedef enum pq_codec { PQ_CODEC_NONE = 0, PQ_CODEC_GZIP = 2, PQ_CODEC_ZSTD = 6 } pq_codec;

typedef struct pq_options {
    pq_codec codec;
    int level;              /* compression level; 0: the codec's default */
    size_t row_group_bytes; /* 0: 64 MiB */
    size_t page_bytes;      /* 0: 1 MiB (uncompressed values per page) */
    size_t dict_bytes;      /* 0: 1 MiB; a larger dictionary falls back to PLAIN */
    const char *created_by; /* NULL: "sluice tabular" */
} pq_options;

/* Receives the file's bytes in order; returns 0, or -1 to abort. */
typedef int (*pq_sink)(void *ctx, const void *buf, size_t len);

typedef struct pq_writer pq_writer;

pq_writer *pq_writer_open(const pq_column_def *cols, size_t ncols, const pq_options *opt,
                          pq_sink sink, void *ctx, char *err, size_t errlen);
int pq_writer_put_null(pq_writer *w, size_t col);
int pq_writer_put_bool(pq_writer *w, size_t col, int v);
/* INT32, INT64, DECIMAL (the unscaled value), DATE (days), TIMESTAMP (us). */
int pq_writer_put_int(pq_writer *w, size_t col, int64_t v);
int pq_writer_put_double(pq_writer *w, size_t col, double v);
int pq_writer_put_bytes(pq_writer *w, size_t col, const void *p, size_t len);
int pq_writer_end_row(pq_writer *w);
/* Writes what is buffered and the footer. */
int pq_writer_close(pq_writer *w);
void pq_writer_free(pq_writer *w);
const char *pq_writer_error(const pq_writer *w);
/* Rows written so far; row groups flushed so far. */
int64_t pq_writer_rows(const pq_writer *w);
size_t pq_writer_row_groups(const pq_writer *w);

#endif
