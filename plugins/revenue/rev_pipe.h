/* rev_pipe.h — the parallel front of rev_attrib: runs of complete records
 * are parsed (rev_parse.h) by N parsers, N - 1 threads and the caller,
 * into compact parsed hits handed back in input order, for attribution on
 * the caller's thread. The caller parses while it would otherwise wait
 * for a result (rev_pipe_next).
 *
 * Attribution is sequential by nature (visits, the running clock, first or
 * last search) but parsing is not: the per-record work of rev_parse — the
 * fields, the URL and keyword of the referrer, the product revenue, the
 * hashes — is most of the cost and needs no shared state.
 *
 * Use (one caller thread, the job's):
 *     rev_pipe *p = rev_pipe_new(&cfg);
 *     while (input) {
 *         while (rev_pipe_full(p)) { c = rev_pipe_next(p); apply(c); rev_pipe_release(p); }
 *         rev_pipe_submit(p, records, n);   // complete records only
 *     }
 *     while ((c = rev_pipe_next(p))) { apply(c); rev_pipe_release(p); }
 *     rev_pipe_free(p);
 *
 * Memory: 2 * threads + 1 slots, each the submitted bytes (a copy) and
 * their parsed ops; bounded by the chunk size the caller submits.
 * threads 0 or 1: no thread; rev_pipe_submit parses on the caller's
 * thread before it returns, without copying, into one slot (a batch of
 * parsed hits, for rev_attrib's one-thread mode).
 * Threads: created by rev_pipe_new, joined by rev_pipe_free; the layout,
 * engines and seeds of the config are read by them and must stay
 * unchanged until rev_pipe_free. */
#ifndef REV_PIPE_H
#define REV_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "rev_attrib.h"
#include "rev_columns.h"
#include "rev_engines.h"

/* What a parsed record left for attribution; the bytes it names are in
 * the chunk's `bytes`. */
typedef enum rev_op_kind {
    REV_OP_HIT,
    REV_OP_MALFORMED, /* what; text = bytes[off, off + len0) */
    REV_OP_AMOUNT     /* a product amount counted as 0; text as above */
} rev_op_kind;

typedef struct rev_op {
    uint8_t kind;       /* rev_op_kind */
    uint8_t has_k1;     /* the visitor key has a second part */
    uint8_t search, purchase;
    uint32_t len0, len1; /* visitor key parts (or the text: len0) */
    uint32_t dlen, klen; /* search domain and keyword */
    uint64_t line;      /* of the record, from the chunk's first (0) */
    size_t off;         /* key parts, domain, keyword, one after another */
    int64_t t, cents;
    uint64_t vhash, phash;
    const char *what;   /* REV_OP_MALFORMED: static text */
} rev_op;

typedef struct rev_chunk {
    const rev_op *ops;
    size_t nops;
    const char *bytes;
    uint64_t lines;     /* physical lines of the chunk (escaped LFs included) */
    rev_stats st;       /* the parse stage's counters (rev_parse.h) */
    int nomem;          /* parsing stopped after ops[nops - 1]: out of memory */
} rev_chunk;

typedef struct rev_pipe_config {
    size_t threads;     /* parsers, the caller included; <= 1: inline */
    const rev_layout *layout;
    const rev_engines *engines;
    int escapes;
    uint64_t seed_visitor, seed_pair;
} rev_pipe_config;

typedef struct rev_pipe rev_pipe;

/* NULL when memory or threads are not to be had. */
rev_pipe *rev_pipe_new(const rev_pipe_config *cfg);
/* Stops and joins the threads, frees everything (results not taken too). */
void rev_pipe_free(rev_pipe *p);

/* Every slot is submitted and not yet released: take a result first. */
int rev_pipe_full(const rev_pipe *p);
/* Queues a copy of data[0..n): whole records, the last ending in its LF.
 * 0, or -1 when full or out of memory. */
int rev_pipe_submit(rev_pipe *p, const char *data, size_t n);
/* Queues data[0..n) (whole records, as above) without copying it: the
 * caller keeps those bytes unchanged and readable until the chunk is
 * released (a mapped input). 0, or -1 when full. */
int rev_pipe_submit_borrowed(rev_pipe *p, const char *data, size_t n);
/* Queues (*buf)[off, off + n) without copying it: the slot takes the
 * caller's buffer (cap bytes, malloc'd) and the caller gets the slot's
 * previous one, or a new one, of the same capacity. The caller may still
 * read its old buffer past off + n (an unfinished record to carry over)
 * until its next call here. 0, or -1 when full or out of memory (then
 * nothing changed hands). Inline (threads <= 1) nothing changes hands: the
 * records are parsed before the call returns. */
int rev_pipe_submit_buffer(rev_pipe *p, char **buf, size_t cap, size_t off, size_t n);
/* The oldest chunk submitted and not released, once parsed (waits for
 * it); NULL when none is in flight. Valid until rev_pipe_release. */
const rev_chunk *rev_pipe_next(rev_pipe *p);
/* Is the oldest chunk parsed already (rev_pipe_next would not wait)? */
int rev_pipe_ready(rev_pipe *p);
void rev_pipe_release(rev_pipe *p);

#endif
