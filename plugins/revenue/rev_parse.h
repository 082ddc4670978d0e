/* rev_parse.h — one record of hit data to one parsed hit: the per-record
 * work that needs no attribution state. Fields (rev_scan), Adobe's
 * exclusion rule, hit_time_gmt, the visitor's key and its hash, the
 * external search (domain, keyword) and its hash, the purchase and its
 * product revenue. What is left for attribution (rev_attrib) is the
 * running clock, the visitors and the (domain, keyword) table.
 *
 * The single-threaded path and the parallel parsers (rev_pipe.h) run this
 * same code, so they agree by construction: rev_attrib applies a rev_hit
 * the same way whichever thread parsed it.
 *
 * Ownership: a rev_parser owns its scratch buffers; a rev_hit points into
 * the record or into its parser's buffers, valid until the parser's next
 * call. The layout, engines and stats it points to are borrowed. One
 * thread at a time per rev_parser; any number of parsers may share one
 * layout and one engine table (both read-only here). */
#ifndef REV_PARSE_H
#define REV_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "rev_attrib.h"
#include "rev_columns.h"
#include "rev_engines.h"
#include "rev_scan.h"

#define REV_HOST_MAX 255 /* longer hosts are not search engines */

typedef enum rev_outcome {
    REV_REC_EMPTY,     /* an empty line (counted) */
    REV_REC_MALFORMED, /* skipped: hit.what says why, hit.text shows it */
    REV_REC_EXCLUDED,  /* not a hit (exclude_hit, hit_source 5/7/8/9) */
    REV_REC_HIT,
    REV_REC_NOMEM      /* a scratch buffer could not grow */
} rev_outcome;

typedef struct rev_hit {
    int64_t t;              /* hit_time_gmt */
    uint64_t vhash;         /* of the visitor key, with the parser's seed */
    rev_slice vkey[2];      /* ip / post_visid_high, then user_agent /
                               post_visid_low (vkey[1].p NULL: no second part) */
    int search;             /* an external search: domain, keyword, phash */
    uint64_t phash;
    rev_slice domain, keyword;
    int purchase;           /* the purchase event, not a duplicate */
    int64_t cents;          /* its product revenue */
    const char *what;       /* REV_REC_MALFORMED: the reason */
    rev_slice text;         /* REV_REC_MALFORMED: the offending value, or empty */
} rev_hit;

/* Called for each product amount counted as 0, in input order. */
typedef void (*rev_amount_fn)(void *ctx, const char *text, size_t len);

typedef struct rev_parser {
    /* set by the owner */
    const rev_layout *layout;
    const rev_engines *engines;
    int escapes;
    uint64_t seed_visitor, seed_pair;
    rev_stats *st;          /* counters of the parse stage go here */
    rev_amount_fn on_amount;
    void *amount_ctx;
    /* owned */
    char *scratch;          /* unescaped values of one record */
    size_t scratch_cap;
    char *kw;               /* a decoded keyword */
    size_t kw_cap;
    char host[REV_HOST_MAX];
    /* the last referrer authority seen, and what it gave (host in `host`,
     * its length, the engine): consecutive hits mostly share it */
    char auth[REV_HOST_MAX];
    size_t auth_len;        /* 0: nothing kept */
    long auth_host_len;
    const rev_engine *auth_engine;
    char msg[64];
    rev_slice f[REV_ROLE_COUNT]; /* the record's fields; zero before the first */
} rev_parser;

/* Parse record p[0..n) (its LF excluded; a CR before it is dropped). The
 * layout must be known. Counts lines_read, empty_lines, data_lines,
 * malformed_lines, excluded_rows, duplicate_purchases and (amount)
 * warnings in *st; search hits and purchases are counted when applied. */
rev_outcome rev_parse_record(rev_parser *ps, const char *p, size_t n, rev_hit *hit);

/* The next record of [p, end), p at its start: as rev_parse_record, and
 * *nl is set to the LF that ends it (`end` when none does: the caller
 * sends whole records) and *inner to the escaped LFs inside it. Fields
 * and end are found in one pass where the scanner can (rev_scan_line). */
rev_outcome rev_parse_next(rev_parser *ps, const char *p, const char *end, rev_hit *hit,
                           const char **nl, size_t *inner);

/* Frees the parser's buffers (the parser itself is the caller's). */
void rev_parser_clear(rev_parser *ps);

/* The visitor hash of a key (as rev_parse_record computes it). */
uint64_t rev_visitor_hash(uint64_t seed, const rev_slice *k0, const rev_slice *k1);

#endif
