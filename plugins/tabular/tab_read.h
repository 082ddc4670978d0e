/* tab_read.h — record readers for the tabular plugin: CSV (RFC 4180),
 * TSV (optionally with the backslash escapes of Adobe data feeds) and JSON
 * Lines. A reader pulls bytes through a callback and returns one record at
 * a time as fields of UTF-8 text.
 *
 *     tab_reader *r = tab_reader_open(&opt, pull, ctx, err, sizeof err);
 *     names = tab_reader_columns(r, &n);   -- the source columns
 *     while ((rc = tab_reader_next(r, &rec, &bad)) != TAB_EOF) ...
 *
 * CSV/TSV: the columns are the header line's (or column1..N without a
 * header); a record has the fields of one line, however many. JSON Lines:
 * the columns are `want` (paths like "a.b" pick nested members) or, when
 * none are wanted, the first object's keys; a record has exactly one field
 * per column, null when the object lacks it; nested values come as JSON.
 *
 * Ownership: fields point into the reader and stay valid until the next
 * call. One reader belongs to one job (thread). */
#ifndef TAB_READ_H
#define TAB_READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum tab_format { TAB_CSV, TAB_TSV, TAB_JSONL } tab_format;

typedef struct tab_read_opts {
    tab_format format;
    char delimiter, quote; /* CSV */
    int header;            /* CSV/TSV: the first line names the columns */
    int latin1;            /* CSV/TSV: the input is ISO-8859-1 */
    int tsv_escapes;       /* TSV: backslash escapes tab, newline, backslash */
    const char *const *want; /* JSONL: the columns to pick, or NULL */
    size_t nwant;
} tab_read_opts;

typedef struct tab_field {
    const char *p;
    size_t len;
    int null; /* JSON null or a missing member */
} tab_field;

typedef struct tab_record {
    tab_field *f;
    size_t n;
    int64_t line; /* the line the record starts on, 1-based */
    const char *raw; /* JSONL: the line as read (NUL-terminated); else NULL */
} tab_record;

/* What was wrong with a record that could not be read. */
typedef struct tab_bad {
    int64_t line;
    long field; /* 0-based field/column it concerns, -1 for the record */
    char msg[256];
} tab_bad;

enum { TAB_EOF = 0, TAB_RECORD = 1, TAB_BAD_RECORD = 2, TAB_FAIL = -1 };

/* Fills up to `cap` bytes; 0 at end, -1 on error (the caller reports it). */
typedef ssize_t (*tab_pull)(void *ctx, void *buf, size_t cap);

typedef struct tab_reader tab_reader;

/* Opens and reads up to the columns (the header, the first object).
 * NULL with a message on failure (`*bad_input` set when the input's fault). */
tab_reader *tab_reader_open(const tab_read_opts *o, tab_pull pull, void *ctx, int *bad_input,
                            char *err, size_t errlen);
const char *const *tab_reader_columns(const tab_reader *r, size_t *n);
/* TAB_RECORD, TAB_EOF, TAB_BAD_RECORD (details in `bad`; the reader
 * continues with the next record), TAB_FAIL (the pull failed). */
int tab_reader_next(tab_reader *r, tab_record *rec, tab_bad *bad);
void tab_reader_free(tab_reader *r);

/* Checks UTF-8; returns the offset of the first invalid byte or `len`. */
size_t tab_read_utf8_check(const char *s, size_t len);

#endif
