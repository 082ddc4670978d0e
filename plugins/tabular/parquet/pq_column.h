/* pq_column.h — one column chunk being collected (internal to the Parquet
 * writer): its values PLAIN-encoded, its definition levels, page
 * boundaries, the dictionary while it pays, and statistics.
 *
 * Ownership: a pq_column owns every buffer; pq_column_reset() empties it
 * for the next row group, pq_column_free() releases it. Not thread-safe. */
#ifndef PQ_COLUMN_H
#define PQ_COLUMN_H

#include "pq_buf.h"
#include "pq_writer.h"

/* Parquet physical types */
enum { PQ_PHYS_BOOLEAN = 0, PQ_PHYS_INT32 = 1, PQ_PHYS_INT64 = 2, PQ_PHYS_DOUBLE = 5,
       PQ_PHYS_BYTE_ARRAY = 6 };

/* Where a page starts: its first row, first non-null value, PLAIN offset. */
typedef struct pq_page_mark {
    size_t row, value, plain_off;
} pq_page_mark;

typedef struct pq_column {
    char *name;
    pq_type type;
    int precision, scale;
    int phys;   /* PQ_PHYS_* */
    int width;  /* bytes of a fixed-width value; 0 for BYTE_ARRAY */

    size_t rows, values; /* in this row group: all, non-null */
    pq_buf plain;        /* PLAIN values (booleans: one byte each) */
    pq_buf defs;         /* one byte per row: 1 value, 0 null */
    pq_page_mark *marks; /* page starts; marks[0] is row 0 */
    size_t nmarks, capmarks;

    /* dictionary: on until it grows past the limit or does not pay */
    int dict_on;
    pq_buf dict;         /* PLAIN values of the entries, in index order */
    size_t *dict_off;    /* entry -> offset in `dict` */
    uint32_t *slots;     /* open addressing: entry + 1, 0 empty */
    size_t nslots, ndict, capdict;
    uint32_t *idx;       /* per non-null value: its entry */
    size_t capidx;

    /* statistics of the chunk */
    int64_t nulls;
    int has_minmax;
    int64_t imin, imax;
    double dmin, dmax;
    size_t smin_off, smin_len, smax_off, smax_len; /* into `plain` */
} pq_column;

int pq_column_init(pq_column *c, const pq_column_def *def);
void pq_column_reset(pq_column *c);
void pq_column_free(pq_column *c);
int pq_column_put_null(pq_column *c);
int pq_column_put_fixed(pq_column *c, const void *le, int64_t ival, double dval);
int pq_column_put_bytes(pq_column *c, const void *p, size_t len);
/* Starts a new page at the next row when the current one is big enough. */
int pq_column_maybe_mark(pq_column *c, size_t page_bytes);
void pq_column_dict_limit(pq_column *c, size_t dict_bytes);
/* Bytes held for this row group (what the row group limit counts). */
size_t pq_column_bytes(const pq_column *c);
/* min/max as PLAIN statistics bytes; 0 when the chunk has none. */
int pq_column_stat(const pq_column *c, int max, const void **p, size_t *len, uint8_t tmp[8]);

#endif
