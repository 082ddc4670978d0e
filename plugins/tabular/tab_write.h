/* tab_write.h — the tabular plugin's writers: CSV, TSV, JSON Lines and
 * Parquet (through parquet/pq_writer.h), behind one row interface.
 *
 * Text writers buffer 1 MiB and pass it to the sink; the Parquet writer
 * holds one row group. Nothing is written on open except a header the
 * format has (CSV/TSV names, Parquet magic); a failed job simply drops
 * what the sink got (the host publishes nothing).
 *
 * Ownership: the writer copies nothing from `cols` it needs after open
 * except through the caller, who keeps `cols` alive until free. One
 * writer per job (thread). */
#ifndef TAB_WRITE_H
#define TAB_WRITE_H

#include <stddef.h>

#include "parquet/pq_writer.h"
#include "tab_value.h"

typedef enum tab_out_format { TAB_OUT_CSV, TAB_OUT_TSV, TAB_OUT_JSONL, TAB_OUT_PARQUET } tab_out_format;

typedef struct tab_out_col {
    const char *name;
    tab_coltype type;
} tab_out_col;

typedef struct tab_write_opts {
    tab_out_format format;
    pq_options parquet;
} tab_write_opts;

typedef int (*tab_sink)(void *ctx, const void *buf, size_t len);

/* An output buffer flushed to a sink at 1 MiB (also used for rejects). */
typedef struct tab_obuf {
    char *data;
    size_t len, cap;
    tab_sink sink;
    void *ctx;
    int failed;
} tab_obuf;

int tab_obuf_init(tab_obuf *b, tab_sink sink, void *ctx);
int tab_obuf_add(tab_obuf *b, const void *p, size_t n);
int tab_obuf_flush(tab_obuf *b);
void tab_obuf_free(tab_obuf *b);
/* A JSON string literal; bytes that are not UTF-8 become \u00XX. */
int tab_obuf_json_string(tab_obuf *b, const char *s, size_t len);

typedef struct tab_writer tab_writer;

tab_writer *tab_writer_open(const tab_write_opts *o, const tab_out_col *cols, size_t n,
                            tab_sink sink, void *ctx, char *err, size_t errlen);
int tab_writer_row(tab_writer *w, const tab_value *vals);
int tab_writer_close(tab_writer *w);
void tab_writer_free(tab_writer *w);
/* Why the last call failed ("" when the sink failed: the host knows). */
const char *tab_writer_error(const tab_writer *w);

#endif
