/* rev_attrib.h — the streaming heart of the revenue report: cuts the
 * input into records and their needed fields (through the parsing core,
 * rev_columns.h and rev_scan.h), tells data from header, excluded and
 * malformed records, follows each visitor's current search and attributes
 * purchase revenue to (search engine domain, keyword) pairs.
 *
 * Use:
 *     rev_attrib *a = rev_attrib_new(&cfg);
 *     while ((p = rev_attrib_space(a, &cap)) && (n = read(p, cap)) > 0)
 *         if (rev_attrib_commit(a, n) != 0) break;     // fatal error
 *     rev_attrib_finish(a);                            // unterminated last line
 *     pairs = rev_attrib_pairs(a, &npairs);            // for rev_report
 *     rev_attrib_free(a);
 *
 * Memory is bounded by the longest record (REV_MAX_LINE, twice: the record
 * and its unescaped values), the visitors seen
 * within one visit_timeout of `now` (plus one time bucket of
 * visit_timeout / 512 + 1 seconds; and up to 1024 arrays of at most 8 KiB
 * listing them by time), and the distinct (domain, keyword) pairs; with threads, 2 * threads + 1 chunks in flight (rev_pipe.h).
 * Not thread-safe: one per job, called from one thread; with cfg.threads
 * N > 1 it runs N - 1 parse threads of its own, and the caller's thread
 * parses too. */
#ifndef REV_ATTRIB_H
#define REV_ATTRIB_H

#include <stddef.h>
#include <stdint.h>

#include "rev_columns.h"
#include "rev_engines.h"

/* Read granularity and the longest record kept; longer ones are malformed. */
#define REV_CHUNK ((size_t)1 << 20)
#define REV_MAX_LINE ((size_t)4 << 20)

typedef enum rev_warn_kind {
    REV_WARN_MALFORMED = 1, /* a skipped data line */
    REV_WARN_AMOUNT = 2     /* a product amount counted as 0 */
} rev_warn_kind;

/* Diagnostics callback: `line` is the 1-based line number where the record
 * starts, `what` a short
 * reason, text[0..len) the offending value (may be empty). */
typedef void (*rev_warn_fn)(void *ctx, rev_warn_kind kind, uint64_t line, const char *what,
                            const char *text, size_t len);

typedef struct rev_config {
    const rev_engines *engines;
    int64_t visit_timeout;       /* seconds, > 0 */
    int attribution_first;       /* 0: last search wins; 1: first of the visit */
    rev_visitor_mode visitor;    /* AUTO: visid when the columns have it, else ip */
    int escapes;                 /* backslash escapes in records (rev_scan.h) */
    int exclude;                 /* skip exclude_hit / hit_source 5,7,8,9 rows */
    const char *const *columns;  /* names for headerless input, or NULL */
    size_t ncolumns;
    /* Where `columns` came from, for messages ("the option 'columns'"),
     * and whether a missing column there is the input's fault (a delivery's
     * column_headers.tsv) rather than the configuration's. */
    const char *columns_what;
    int columns_from_input;
    const char *no_columns_hint; /* appended to the headerless error, or NULL */
    rev_warn_fn warn;            /* optional; called on the caller's thread */
    void *warn_ctx;
    /* Parse threads (rev_pipe.h). 0: each record parsed and applied in
     * turn on the caller's thread (the reference path). 1: on the caller's
     * thread too, but records are parsed a batch at a time and then
     * applied, so the visitors of the next hits are loaded ahead. More:
     * whole records are parsed on that many threads, the caller's one of
     * them, which also attributes them in order. The result is the same. */
    size_t threads;
    size_t chunk;                /* bytes per parallel chunk, copied; 0: the whole
                                    records of each read, handed over without a
                                    copy (tests use a few bytes to hit every edge) */
} rev_config;

typedef struct rev_stats {
    uint64_t lines_read;      /* every record, header and empty ones included
                                 (a record may span lines with escaped LFs) */
    uint64_t data_lines;      /* neither header nor empty */
    uint64_t malformed_lines;
    uint64_t empty_lines;
    uint64_t excluded_rows;   /* exclude_hit, hit_source 5/7/8/9: not hits */
    uint64_t search_hits;
    uint64_t purchases;
    uint64_t duplicate_purchases; /* purchase events ignored: duplicate_purchase 1 */
    uint64_t warnings;        /* amounts counted as 0 */
    uint64_t visitors_evicted;
    uint64_t keywords;        /* distinct (domain, keyword) pairs */
    uint64_t visitors_live;   /* visitors remembered right now */
    uint64_t visitors_peak;
    int64_t revenue_attributed_cents;
    int64_t revenue_unattributed_cents;
} rev_stats;

typedef enum rev_err_kind {
    REV_ERR_NONE = 0,
    REV_ERR_INPUT,  /* no usable header, missing column */
    REV_ERR_CONFIG, /* the `columns` option lacks a needed column */
    REV_ERR_NOMEM
} rev_err_kind;

/* One row of the report; key = domain bytes followed by keyword bytes. */
typedef struct rev_pair {
    uint64_t hash;
    int64_t cents;
    uint32_t dlen, klen;
    char key[];
} rev_pair;

typedef struct rev_attrib rev_attrib;

/* NULL when memory is exhausted. `cfg` is copied; what it points to must
 * outlive the rev_attrib. */
rev_attrib *rev_attrib_new(const rev_config *cfg);
void rev_attrib_free(rev_attrib *a);

/* Where to put the next input bytes (room for *cap = REV_CHUNK bytes). */
char *rev_attrib_space(rev_attrib *a, size_t *cap);
/* Process the n bytes just put there. 0, or -1 after a fatal error. */
int rev_attrib_commit(rev_attrib *a, size_t n);
/* Copying convenience over space/commit, any size. 0 or -1. */
int rev_attrib_feed(rev_attrib *a, const void *data, size_t n);
/* The whole input data[0, len) in memory (a mapped file), instead of
 * space/commit or feed: whole records go to the parse threads as they
 * are, with no copy; the bytes must stay readable until
 * rev_attrib_finish(). `release` (may be NULL) is told, every
 * REV_RELEASE_STEP bytes or so, up to where nothing will read them again.
 * 0 or -1, as rev_attrib_feed. */
typedef void (*rev_release_fn)(void *ctx, size_t upto);
/* Each release drops pages, and dropping pages the other threads mapped
 * interrupts them (a TLB shootdown): 16 MiB steps were 4 % faster than 4
 * MiB on 1 GB, for 12 MB more resident (40 MB in all). */
#define REV_RELEASE_STEP ((size_t)16 << 20)
int rev_attrib_feed_mapped(rev_attrib *a, const char *data, size_t len, rev_release_fn release,
                           void *ctx);
/* End of input: processes a last line without terminator. 0 or -1. */
int rev_attrib_finish(rev_attrib *a);

/* The fatal error, or NULL (kind REV_ERR_NONE). */
const char *rev_attrib_error(const rev_attrib *a, rev_err_kind *kind);
const rev_stats *rev_attrib_stats(const rev_attrib *a);
/* Every pair seen, in first-seen order; the array may be reordered. */
rev_pair **rev_attrib_pairs(rev_attrib *a, size_t *n);

/* The layout in use once the header or first record was seen, else NULL. */
const rev_layout *rev_attrib_layout(const rev_attrib *a);
/* Whether that layout came from a header line of the input. */
int rev_attrib_header_seen(const rev_attrib *a);

/* malformed / data > max_ratio (0 data lines never exceed). */
int rev_bad_ratio_exceeded(uint64_t malformed, uint64_t data, double max_ratio);

#endif
