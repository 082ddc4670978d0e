/* rev_attrib.c — see rev_attrib.h. */
#include "autoconfig.h"

#include "rev_attrib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rev_hash.h"
#include "rev_money.h"
#include "rev_parse.h"
#include "rev_pipe.h"
#include "rev_scan.h"

#define HEADER_FIELD "hit_time_gmt"
#define MAX_THREADS 64
#define RING 1024             /* time buckets of visitors, see evict_idle() */
#define RING_SPAN 512         /* visit_timeout covers at most this many */
#define ARENA_BLOCK ((size_t)64 << 10)

static const char utf8_bom[3] = {'\xEF', '\xBB', '\xBF'};

typedef rev_slice slice;

/* A visitor seen within one visit_timeout of `now`. Even one without a
 * current search must be kept: when times step back, its last(v) decides
 * whether a later search hit's visit survives. Visitors are also linked in
 * a time bucket no later than their `last`'s (see evict_idle()). */
typedef struct rev_visitor {
    uint64_t hash;
    int64_t last;     /* largest hit_time_gmt of the visitor's hits */
    rev_pair *search; /* current search of the visit, or NULL */
    uint32_t iplen;   /* key = ip, or ip "\t" user_agent */
    uint32_t keylen;
    uint32_t dead;    /* forgotten (not in the table); freed by the sweep */
    char key[];
} rev_visitor;

/* The visitors of the time buckets that share one place on the ring
 * (see evict_idle()): an array, so a sweep can load them ahead. */
typedef struct ring_bucket {
    rev_visitor **v;
    uint32_t n, cap;
} ring_bucket;

/* ip; ip TAB user_agent; or post_visid_high TAB post_visid_low
 * (rev_hit.vkey: part[1].p NULL when there is no second part). */
typedef struct visitor_key {
    slice part[2];
} visitor_key;

typedef struct pair_key {
    slice domain, keyword;
} pair_key;

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

struct rev_attrib {
    rev_config cfg;
    rev_stats st;

    char *buf;        /* REV_MAX_LINE + REV_CHUNK bytes */
    size_t pending;   /* bytes of an unfinished record at buf[0] */
    size_t clean;     /* of those, how many are known to hold no record end */
    int at_start;     /* nothing processed yet: a UTF-8 BOM may come */
    int skipping;     /* inside a record longer than REV_MAX_LINE */
    int skip_odd;     /* skipping, and the bytes so far end in an odd run of '\\' */
    uint64_t line;    /* physical line where the current record starts */
    uint64_t next_line;

    int header_known;
    int header_seen;  /* the layout came from a header line of the input */
    rev_layout layout;

    int64_t now;        /* largest hit_time_gmt so far, -1 before any */
    rev_table visitors;
    ring_bucket ring[RING];
    int64_t width;      /* seconds per time bucket */
    int64_t low;        /* buckets below this one are empty; -1: none yet */

    rev_table pairs;
    rev_pair **pairv;
    size_t pairv_cap;
    arena_block *arena;

    rev_parser ps;      /* the parse stage on this thread */
    rev_pipe *pipe;     /* the parse stage on cfg.threads threads, or NULL */
    int no_pipe;        /* the threads could not be started: this thread parses */

    /* Hash seeds, different for every job so crafted input cannot aim at
     * collisions. Only speed depends on them, never the report. */
    uint64_t seed_visitor, seed_pair;

    rev_err_kind err_kind;
    char err[512];
};

static void fail(rev_attrib *a, rev_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(rev_attrib *a, rev_err_kind kind, const char *fmt, ...)
{
    if (a->err_kind)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->err, sizeof a->err, fmt, ap);
    va_end(ap);
    a->err_kind = kind;
}

static void warn(rev_attrib *a, rev_warn_kind kind, const char *what, const char *text,
                 size_t len)
{
    if (a->cfg.warn)
        a->cfg.warn(a->cfg.warn_ctx, kind, a->line, what, text, len);
}

static int slice_is(slice s, const char *z)
{
    size_t n = strlen(z);
    return s.n == n && memcmp(s.p, z, n) == 0;
}

/* ---- columns ------------------------------------------------------------ */

static int set_layout(rev_attrib *a, const char *const *names, const size_t *lens, size_t n,
                      const char *what, rev_err_kind kind)
{
    char err[256];
    if (rev_layout_build(&a->layout, names, lens, n, a->cfg.visitor, a->cfg.exclude, what, err,
                         sizeof err) != 0) {
        fail(a, kind, "%s", err);
        return -1;
    }
    a->header_known = 1;
    return 0;
}

/* The first non-empty line decides: a header when one of its fields is
 * "hit_time_gmt", else data described by the `columns` (the option, or
 * the delivery's column_headers.tsv). Returns 1 when the line was the
 * header, 0 when it is data, -1 on a fatal error. */
static int decide_header(rev_attrib *a, const char *p, size_t n)
{
    size_t nf = 1;
    for (const char *q = p, *end = p + n; (q = memchr(q, '\t', (size_t)(end - q))); q++)
        nf++;
    const char **names = malloc(nf * sizeof *names);
    size_t *lens = malloc(nf * sizeof *lens);
    if (!names || !lens) {
        free(names);
        free(lens);
        fail(a, REV_ERR_NOMEM, "out of memory");
        return -1;
    }
    int is_header = 0;
    const char *s = p, *end = p + n;
    for (size_t i = 0; i < nf; i++) {
        const char *tab = memchr(s, '\t', (size_t)(end - s));
        names[i] = s;
        lens[i] = (size_t)((tab ? tab : end) - s);
        is_header |= slice_is((slice){s, lens[i]}, HEADER_FIELD);
        s = tab ? tab + 1 : end;
    }
    int r;
    if (is_header) {
        r = set_layout(a, names, lens, nf, "the input's header line", REV_ERR_INPUT) == 0 ? 1 : -1;
        a->header_seen = 1;
    } else if (a->cfg.columns) {
        r = set_layout(a, a->cfg.columns, NULL, a->cfg.ncolumns,
                       a->cfg.columns_what ? a->cfg.columns_what : "the option 'columns'",
                       a->cfg.columns_from_input ? REV_ERR_INPUT : REV_ERR_CONFIG) == 0 ? 0 : -1;
    } else {
        fail(a, REV_ERR_INPUT,
             "the input has no header line (no field '" HEADER_FIELD "' on its first line), "
             "the job has no column_headers.tsv lookup file and the option 'columns' is not "
             "set%s; give headerless data feeds their column names with 'columns' (a list, "
             "or the path of column_headers.tsv)",
             a->cfg.no_columns_hint ? a->cfg.no_columns_hint : "");
        r = -1;
    }
    free(names);
    free(lens);
    return r;
}

/* ---- pairs -------------------------------------------------------------- */

static void *arena_alloc(rev_attrib *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    arena_block *b = a->arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->arena;
        a->arena = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static int pair_eq(const void *item, const void *key)
{
    const rev_pair *p = item;
    const pair_key *k = key;
    return p->dlen == k->domain.n && p->klen == k->keyword.n &&
           memcmp(p->key, k->domain.p, k->domain.n) == 0 &&
           memcmp(p->key + p->dlen, k->keyword.p, k->keyword.n) == 0;
}

static rev_pair *pair_get(rev_attrib *a, uint64_t h, const char *d, size_t dlen, const char *k,
                          size_t klen)
{
    pair_key key = {{d, dlen}, {k, klen}};
    size_t slot = rev_table_find(&a->pairs, h, pair_eq, &key);
    if (a->pairs.slots[slot].item)
        return a->pairs.slots[slot].item;

    if (a->st.keywords == a->pairv_cap) {
        size_t cap = a->pairv_cap ? a->pairv_cap * 2 : 256;
        rev_pair **v = realloc(a->pairv, cap * sizeof *v);
        if (!v)
            goto oom;
        a->pairv = v;
        a->pairv_cap = cap;
    }
    rev_pair *p = arena_alloc(a, sizeof *p + dlen + klen);
    if (!p)
        goto oom;
    p->hash = h;
    p->cents = 0;
    p->dlen = (uint32_t)dlen;
    p->klen = (uint32_t)klen;
    memcpy(p->key, d, dlen);
    memcpy(p->key + dlen, k, klen);
    a->pairv[a->st.keywords++] = p;
    if (rev_table_insert_at(&a->pairs, slot, h, p) != 0)
        goto oom;
    return p;
oom:
    fail(a, REV_ERR_NOMEM, "out of memory");
    return NULL;
}

/* ---- visitors ----------------------------------------------------------- */

static int visitor_eq(const void *item, const void *key)
{
    const rev_visitor *v = item;
    const visitor_key *k = key;
    const slice *ip = &k->part[0], *ua = &k->part[1];
    if (v->iplen != ip->n || memcmp(v->key, ip->p, ip->n) != 0)
        return 0;
    if (!ua->p)
        return 1;
    return v->keylen == ip->n + 1 + ua->n && memcmp(v->key + ip->n + 1, ua->p, ua->n) == 0;
}

/* Visitors sit in time buckets of `width` seconds, on a ring of RING
 * arrays (ring_bucket). Non-idle visitors have last in [now - timeout,
 * now], which spans at most RING_SPAN + 1 buckets, so the ring never wraps
 * onto a live bucket, and whole buckets of idle visitors are dropped as
 * `now` moves on: O(1) per hit whatever order the times come in, and
 * memory is the visitors of the last visit_timeout + width seconds.
 *
 * A visitor is put in the bucket of its `last` when it is created, and
 * stays there when a later hit moves `last` on: the sweep of an old bucket
 * (evict_idle()) moves the visitors still live to their present bucket.
 * Relinking on every hit instead (a doubly linked list) touched two other
 * visitors per hit, two cache misses no prefetch could foresee. */
static int64_t bucket_of(const rev_attrib *a, int64_t last)
{
    return last / a->width;
}

static ring_bucket *ring_at(rev_attrib *a, int64_t last)
{
    return &a->ring[(size_t)bucket_of(a, last) & (RING - 1)];
}

static int ring_push(rev_attrib *a, rev_visitor *v)
{
    ring_bucket *b = ring_at(a, v->last);
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? 2 * b->cap : 16;
        rev_visitor **nv = realloc(b->v, cap * sizeof *nv);
        if (!nv) {
            fail(a, REV_ERR_NOMEM, "out of memory");
            return -1;
        }
        b->v = nv;
        b->cap = cap;
    }
    b->v[b->n++] = v;
    return 0;
}

/* Out of the table and the counts; its memory goes with its bucket. */
static void visitor_forget(rev_attrib *a, rev_visitor *v)
{
    rev_table_remove(&a->visitors, v, v->hash);
    v->dead = 1;
    a->st.visitors_evicted++;
    a->st.visitors_live = a->visitors.count;
}

/* A visitor idle right after its hit: forgotten, and freed at once when it
 * is the last one its bucket got (a visitor just created is), so that
 * input whose times never move `now` on cannot pile up dead visitors. */
static void visitor_drop(rev_attrib *a, rev_visitor *v)
{
    visitor_forget(a, v);
    ring_bucket *b = ring_at(a, v->last);
    if (b->n && b->v[b->n - 1] == v) {
        b->n--;
        free(v);
    }
}

/* How far ahead a sweep loads the visitors of a bucket; the largest
 * array a swept place keeps (at most RING * 8 KiB kept in all). */
#define SWEEP_AHEAD 8
#define SWEEP_KEEP 1024

/* Forget visitors idle for more than visit_timeout: their next hit would
 * start a new visit anyway, so this changes no result and bounds memory.
 * Every bucket whose newest possible time is idle is swept: its idle
 * visitors go, the others move to the bucket of their `last` (later). */
static void evict_idle(rev_attrib *a)
{
    int64_t timeout = a->cfg.visit_timeout;
    int64_t low = a->now > timeout ? bucket_of(a, a->now - timeout) : 0;
    if (a->low < 0 || a->visitors.count == 0 || low <= a->low) {
        if (a->low < low)
            a->low = low;
        return;
    }
    int64_t end = low - a->low > RING ? a->low + RING : low;
    for (int64_t k = a->low; k < end; k++) {
        ring_bucket *slot = &a->ring[(size_t)k & (RING - 1)];
        ring_bucket b = *slot;
        *slot = (ring_bucket){0}; /* detached: a visitor may move back to this place */
        for (uint32_t i = 0; i < b.n; i++) {
            if (i + SWEEP_AHEAD < b.n)
                __builtin_prefetch(b.v[i + SWEEP_AHEAD]);
            rev_visitor *v = b.v[i];
            if (v->dead) {
                free(v);
            } else if (bucket_of(a, v->last) < low) {
                visitor_forget(a, v);
                free(v);
            } else if (ring_push(a, v) != 0) {
                visitor_forget(a, v); /* out of memory: the job fails */
                free(v);
            }
        }
        /* its storage, for the next time, unless it is big: a burst of
         * visitors at one time must not leave every place its size */
        if (!slot->v && b.cap <= SWEEP_KEEP)
            *slot = (ring_bucket){b.v, 0, b.cap};
        else
            free(b.v);
    }
    a->low = low;
}

static rev_visitor *visitor_new(rev_attrib *a, size_t slot, uint64_t h, const visitor_key *k,
                                int64_t t)
{
    const slice *ip = &k->part[0], *ua = k->part[1].p ? &k->part[1] : NULL;
    size_t keylen = ip->n + (ua ? 1 + ua->n : 0);
    rev_visitor *v = malloc(sizeof *v + keylen);
    if (!v) {
        fail(a, REV_ERR_NOMEM, "out of memory");
        return NULL;
    }
    v->hash = h;
    v->last = t;
    v->search = NULL;
    v->iplen = (uint32_t)ip->n;
    v->keylen = (uint32_t)keylen;
    v->dead = 0;
    memcpy(v->key, ip->p, ip->n);
    if (ua) {
        v->key[ip->n] = '\t';
        memcpy(v->key + ip->n + 1, ua->p, ua->n);
    }
    if (ring_push(a, v) != 0) {
        free(v);
        return NULL;
    }
    if (rev_table_insert_at(&a->visitors, slot, h, v) != 0)
        fail(a, REV_ERR_NOMEM, "out of memory");
    a->st.visitors_live = a->visitors.count;
    if (a->visitors.count > a->st.visitors_peak)
        a->st.visitors_peak = a->visitors.count;
    return v;
}

/* ---- hits --------------------------------------------------------------- */

#define BAD_AMOUNT "product revenue is not a plain decimal amount; counted as 0"

static void on_bad_amount(void *ctx, const char *amount, size_t len)
{
    warn(ctx, REV_WARN_AMOUNT, BAD_AMOUNT, amount, len);
}

static void add_revenue(rev_attrib *a, int64_t *acc, int64_t cents)
{
    if (rev_cents_add(acc, cents) != 0) {
        a->st.warnings++;
        warn(a, REV_WARN_AMOUNT, "revenue total overflows; capped", NULL, 0);
    }
}

static void attribute_purchase(rev_attrib *a, const rev_visitor *v, int64_t cents)
{
    if (v->search) {
        add_revenue(a, &v->search->cents, cents);
        add_revenue(a, &a->st.revenue_attributed_cents, cents);
    } else {
        add_revenue(a, &a->st.revenue_unattributed_cents, cents);
    }
}

/* The visitor of a hit, created when unknown, its visit ended when idle. */
static rev_visitor *visitor_touch(rev_attrib *a, uint64_t h, const visitor_key *key, int64_t t)
{
    size_t slot = rev_table_find(&a->visitors, h, visitor_eq, key);
    rev_visitor *v = a->visitors.slots[slot].item;
    if (!v)
        return visitor_new(a, slot, h, key, t);
    if (a->now - v->last > a->cfg.visit_timeout)
        v->search = NULL; /* a new visit begins with this hit */
    if (t > v->last)
        v->last = t; /* its bucket stays: see evict_idle() */
    return v;
}

/* Attribution of one parsed hit (rev_parse.h), in input order. */
static void apply_hit(rev_attrib *a, const rev_hit *hit)
{
    if (hit->t > a->now) {
        a->now = hit->t;
        evict_idle(a); /* nothing turns idle while now stands still */
    }

    /* The visitor lookup is the one cache miss of nearly every line: start
     * loading its slot, then do the work that does not need it. */
    __builtin_prefetch(&a->visitors.slots[(size_t)hit->vhash & a->visitors.mask]);
    rev_pair *pair = NULL;
    if (hit->search && !(pair = pair_get(a, hit->phash, hit->domain.p, hit->domain.n,
                                         hit->keyword.p, hit->keyword.n)))
        return; /* out of memory */

    visitor_key key = {{hit->vkey[0], hit->vkey[1]}};
    rev_visitor *v = visitor_touch(a, hit->vhash, &key, hit->t);
    if (!v)
        return;
    if (pair) {
        a->st.search_hits++;
        if (!v->search || !a->cfg.attribution_first)
            v->search = pair;
    }
    if (hit->purchase) {
        a->st.purchases++;
        attribute_purchase(a, v, hit->cents);
    }
    if (a->now - v->last > a->cfg.visit_timeout)
        visitor_drop(a, v); /* idle already (its times lie far back) */
}

/* The outcome of one parsed record. */
static void apply_record(rev_attrib *a, rev_outcome o, const rev_hit *hit)
{
    switch (o) {
    case REV_REC_HIT: apply_hit(a, hit); break;
    case REV_REC_MALFORMED: warn(a, REV_WARN_MALFORMED, hit->what, hit->text.p, hit->text.n); break;
    case REV_REC_NOMEM: fail(a, REV_ERR_NOMEM, "out of memory"); break;
    default: break;
    }
}

/* One record on this thread: the header decision, then parse and apply. */
static void process_line(rev_attrib *a, const char *p, size_t n)
{
    if (!a->header_known) {
        size_t m = n && p[n - 1] == '\r' ? n - 1 : n;
        int r = m ? decide_header(a, p, m) : 0;
        if (r != 0) { /* the header itself, or a fatal error */
            a->st.lines_read++;
            return;
        }
    }
    rev_hit hit;
    apply_record(a, rev_parse_record(&a->ps, p, n, &hit), &hit);
}

/* ---- the parallel parse stage (rev_pipe.h) -------------------------------- */

static void add_stats(rev_stats *to, const rev_stats *from)
{
    to->lines_read += from->lines_read;
    to->data_lines += from->data_lines;
    to->malformed_lines += from->malformed_lines;
    to->empty_lines += from->empty_lines;
    to->excluded_rows += from->excluded_rows;
    to->duplicate_purchases += from->duplicate_purchases;
    to->warnings += from->warnings;
}

/* How far ahead apply_chunk prefetches: the slot of the hit PREFETCH_FAR
 * ops on, the visitor of the one PREFETCH_NEAR on (its slot loaded by
 * then). The visitor lookup is two cache misses per hit otherwise, and
 * this thread's time is the limit of the parallel parse. */
#define PREFETCH_FAR 16
#define PREFETCH_NEAR 8

static void prefetch_visitor(const rev_attrib *a, const rev_chunk *c, size_t i, int deref)
{
    if (i >= c->nops || c->ops[i].kind != REV_OP_HIT)
        return;
    const rev_slot *slot = &a->visitors.slots[(size_t)c->ops[i].vhash & a->visitors.mask];
    if (!deref) {
        __builtin_prefetch(slot);
    } else if (slot->item) {
        /* the struct and the start of its key: malloc aligns to 16 bytes
         * only, so they may lie on the next cache line */
        __builtin_prefetch(slot->item);
        __builtin_prefetch((const char *)slot->item + 64);
    }
}

/* A parsed chunk, applied as process_line would have, record by record. */
static void apply_chunk(rev_attrib *a, const rev_chunk *c)
{
    uint64_t base = a->next_line;
    for (size_t i = 0; i < PREFETCH_FAR && i < c->nops; i++)
        prefetch_visitor(a, c, i, 0);
    for (size_t i = 0; i < c->nops && !a->err_kind; i++) {
        const rev_op *op = &c->ops[i];
        prefetch_visitor(a, c, i + PREFETCH_FAR, 0);
        prefetch_visitor(a, c, i + PREFETCH_NEAR, 1);
        /* no bytes at all when every op so far had empty text */
        const char *b = c->bytes ? c->bytes + op->off : "";
        a->line = base + op->line;
        if (op->kind == REV_OP_AMOUNT) {
            warn(a, REV_WARN_AMOUNT, BAD_AMOUNT, b, op->len0);
            continue;
        }
        if (op->kind == REV_OP_MALFORMED) {
            warn(a, REV_WARN_MALFORMED, op->what, b, op->len0);
            continue;
        }
        rev_hit hit = {.t = op->t, .vhash = op->vhash, .search = op->search,
                       .phash = op->phash, .purchase = op->purchase, .cents = op->cents};
        hit.vkey[0] = (slice){b, op->len0};
        hit.vkey[1] = (slice){op->has_k1 ? b + op->len0 : NULL, op->len1};
        hit.domain = (slice){b + op->len0 + op->len1, op->dlen};
        hit.keyword = (slice){hit.domain.p + op->dlen, op->klen};
        apply_hit(a, &hit);
    }
    add_stats(&a->st, &c->st);
    a->next_line = base + c->lines;
    if (c->nomem)
        fail(a, REV_ERR_NOMEM, "out of memory");
}

/* Applies the oldest chunk in flight (waiting for its parse); 0 when none. */
static int take_chunk(rev_attrib *a)
{
    const rev_chunk *c = rev_pipe_next(a->pipe);
    if (!c)
        return 0;
    apply_chunk(a, c);
    rev_pipe_release(a->pipe);
    return 1;
}

/* Every chunk in flight applied: this thread's state is the input's so far. */
static void drain(rev_attrib *a)
{
    while (a->pipe && take_chunk(a))
        ;
}

static int use_pipe(rev_attrib *a)
{
    if (a->pipe)
        return 1;
    if (a->cfg.threads == 0 || a->no_pipe || !a->header_known)
        return 0;
    /* one thread: the same pipe parsed inline, see INLINE_CHUNK */
    size_t threads = a->cfg.threads;
    rev_pipe_config pc = {.threads = threads > MAX_THREADS ? MAX_THREADS : threads,
                          .layout = &a->layout, .engines = a->cfg.engines,
                          .escapes = a->cfg.escapes, .seed_visitor = a->seed_visitor,
                          .seed_pair = a->seed_pair};
    a->pipe = rev_pipe_new(&pc);
    a->no_pipe = !a->pipe; /* then this thread parses: slower, same result */
    return a->pipe != NULL;
}

/* The last record end (unescaped LF) in [from, end), or NULL; records
 * start at p <= from. */
static const char *last_record_end(const char *p, const char *from, const char *end, int escapes)
{
    for (const char *q = end; q > from;) {
        if (*--q == '\n' && (!escapes || !rev_scan_lf_escaped(p, q)))
            return q;
    }
    return NULL;
}

/* The first record end at or after `from` (p <= from <= last, last being
 * one): a chunk is cut there. */
static const char *record_end_from(const char *p, const char *from, const char *last,
                                   int escapes)
{
    for (const char *q = from;; q++) {
        q = memchr(q, '\n', (size_t)(last + 1 - q));
        if (!escapes || !rev_scan_lf_escaped(p, q))
            return q;
    }
}

/* With one thread, records are still parsed a batch at a time before they
 * are applied (the pipe, inline): apply_chunk then knows the visitors of
 * the next hits and loads them ahead, where one record at a time would
 * wait for each visitor's cache misses in turn. A batch this size keeps
 * its parsed hits in the core's cache. */
#define INLINE_CHUNK ((size_t)32 << 10)

/* Waits for room in the pipe; 0, or -1 after a fatal error. */
static int pipe_room(rev_attrib *a)
{
    while (rev_pipe_full(a->pipe) && !a->err_kind)
        take_chunk(a);
    return a->err_kind ? -1 : 0;
}

/* Every whole record of the buffer as one chunk, the buffer itself handed
 * over (rev_pipe_submit_buffer): the bulk of the input is never copied on
 * this thread, whose time bounds the whole job. The unfinished record is
 * copied to the start of the buffer received; *p and *end move there. */
static void submit_buffer(rev_attrib *a, char **p, char **end, const char *last)
{
    if (pipe_room(a) != 0)
        return;
    char *old = a->buf;
    size_t rest = (size_t)(*end - (last + 1));
    if (rev_pipe_submit_buffer(a->pipe, &a->buf, REV_MAX_LINE + REV_CHUNK,
                               (size_t)(*p - old), (size_t)(last + 1 - *p)) != 0) {
        fail(a, REV_ERR_NOMEM, "out of memory");
        return;
    }
    memcpy(a->buf, last + 1, rest);
    *p = a->buf;
    *end = a->buf + rest;
    while (rev_pipe_ready(a->pipe) && !a->err_kind)
        take_chunk(a); /* keeps the results few and the clock current */
}

/* The size the records are cut into for the pipe: the tests' forced
 * chunk, else a batch for one thread (INLINE_CHUNK), else REV_CHUNK. */
static size_t pipe_chunk(const rev_attrib *a)
{
    return a->cfg.chunk ? a->cfg.chunk : a->cfg.threads == 1 ? INLINE_CHUNK : REV_CHUNK;
}

/* Whole records [p, last] (p at a record's start) to the pipe in chunks of
 * about `chunk` bytes, copied, or lent as they are (`borrow`: a mapped
 * input). Returns the bytes that went: last + 1 - p when all did. */
static size_t submit_chunks(rev_attrib *a, const char *p, const char *last, size_t chunk,
                            int borrow)
{
    const char *start = p;
    while (p <= last && !a->err_kind) {
        const char *cut = (size_t)(last - p) < chunk
                        ? last
                        : record_end_from(p, p + chunk - 1, last, a->cfg.escapes);
        if (pipe_room(a) != 0)
            break;
        size_t n = (size_t)(cut + 1 - p);
        if ((borrow ? rev_pipe_submit_borrowed(a->pipe, p, n) : rev_pipe_submit(a->pipe, p, n)) !=
            0) {
            fail(a, REV_ERR_NOMEM, "out of memory");
            break;
        }
        p = cut + 1;
        while (rev_pipe_ready(a->pipe) && !a->err_kind)
            take_chunk(a); /* keeps the results few and the clock current */
    }
    return (size_t)(p - start);
}

/* Hands the whole records of [p, end) to the parse threads in chunks of
 * about cfg.chunk bytes, or all at once without a copy (cfg.chunk 0);
 * *pp and *endp end at the unfinished record. */
static void submit_records(rev_attrib *a, char **pp, char **endp)
{
    char *p = *pp, *end = *endp;
    /* the unfinished record kept from earlier input holds no record end:
     * not searched again (a long record arriving in small reads) */
    char *from = a->buf + a->clean > p ? a->buf + a->clean : p;
    const char *last = last_record_end(p, from, end, a->cfg.escapes);
    int inline_parse = a->cfg.threads == 1;
    if (last && !a->cfg.chunk && !inline_parse) {
        submit_buffer(a, pp, endp, last);
        return;
    }
    if (last)
        p += submit_chunks(a, p, last, pipe_chunk(a), 0);
    *pp = p;
}

/* ---- buffer ------------------------------------------------------------- */

rev_attrib *rev_attrib_new(const rev_config *cfg)
{
    rev_attrib *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = *cfg;
    a->now = -1;
    a->low = -1;
    a->width = cfg->visit_timeout / RING_SPAN + 1;
    a->at_start = 1;
    uint64_t entropy = (uint64_t)(uintptr_t)a ^ ((uint64_t)time(NULL) << 20);
    a->seed_visitor = rev_hash(&entropy, sizeof entropy, 0x5bd1e9955bd1e995ULL);
    a->seed_pair = rev_hash(&entropy, sizeof entropy, 0x27d4eb2f165667c5ULL);
    a->next_line = 1;
    a->ps = (rev_parser){.layout = &a->layout, .engines = cfg->engines, .escapes = cfg->escapes,
                         .seed_visitor = a->seed_visitor, .seed_pair = a->seed_pair,
                         .st = &a->st, .on_amount = on_bad_amount, .amount_ctx = a};
    a->buf = malloc(REV_MAX_LINE + REV_CHUNK);
    if (!a->buf || rev_table_init(&a->visitors, 0) != 0 || rev_table_init(&a->pairs, 0) != 0) {
        rev_attrib_free(a);
        return NULL;
    }
    return a;
}

void rev_attrib_free(rev_attrib *a)
{
    if (!a)
        return;
    rev_pipe_free(a->pipe); /* first: its threads read the layout */
    for (size_t i = 0; i < RING; i++) {
        for (uint32_t j = 0; j < a->ring[i].n; j++)
            free(a->ring[i].v[j]);
        free(a->ring[i].v);
    }
    for (arena_block *b = a->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    rev_table_free(&a->visitors);
    rev_table_free(&a->pairs);
    free(a->pairv);
    rev_layout_clear(&a->layout);
    rev_parser_clear(&a->ps);
    free(a->buf);
    free(a);
}

char *rev_attrib_space(rev_attrib *a, size_t *cap)
{
    *cap = REV_CHUNK;
    return a->buf + a->pending;
}

/* Backslashes right before `at`, not before p; plus `carry` (those of
 * earlier input) when the run reaches p. */
static size_t backslash_run(const char *p, const char *at, size_t carry)
{
    const char *q = at;
    while (q > p && q[-1] == '\\')
        q--;
    return (size_t)(at - q) + (q == p ? carry : 0);
}

/* Inside a record too long to keep: its unescaped LF in [p, end), or NULL
 * (then skip_odd carries the escape state to the next input). */
static char *skip_to_end(rev_attrib *a, char *p, char *end)
{
    for (char *s = p;;) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) {
            a->skip_odd = a->cfg.escapes && (backslash_run(p, end, (size_t)a->skip_odd) & 1);
            return NULL;
        }
        if (!a->cfg.escapes || !(backslash_run(p, nl, (size_t)a->skip_odd) & 1)) {
            a->skip_odd = 0;
            return nl;
        }
        a->next_line++; /* an escaped LF: the record goes on */
        s = nl + 1;
    }
}

int rev_attrib_commit(rev_attrib *a, size_t n)
{
    if (a->err_kind)
        return -1;
    char *p = a->buf, *end = a->buf + a->pending + n;

    if (a->at_start) {
        size_t have = (size_t)(end - p);
        if (have < sizeof utf8_bom && memcmp(p, utf8_bom, have) == 0) {
            a->pending = have; /* maybe the start of a BOM: wait for more */
            a->clean = 0;
            return 0;
        }
        a->at_start = 0;
        if (memcmp(p, utf8_bom, sizeof utf8_bom) == 0)
            p += sizeof utf8_bom;
    }
    if (a->skipping) {
        char *nl = skip_to_end(a, p, end);
        if (!nl) {
            a->pending = 0;
            a->clean = 0;
            return 0;
        }
        a->skipping = 0;
        p = nl + 1;
    }
    size_t inner;
    /* This thread parses until the layout is known (the header decides it),
     * then the parse threads take the whole records, if there are any. */
    for (char *nl; !use_pipe(a) &&
                   (nl = (char *)rev_scan_record_end(p, end, a->cfg.escapes, &inner)) != NULL;
         p = nl + 1) {
        a->line = a->next_line;
        a->next_line += 1 + inner;
        process_line(a, p, (size_t)(nl - p));
        if (a->err_kind)
            return -1;
    }
    if (a->pipe)
        submit_records(a, &p, &end);
    if (a->err_kind)
        return -1;

    size_t rest = (size_t)(end - p);
    if (rest > REV_MAX_LINE) {
        /* Counted now as one malformed data record, its bytes dropped until
         * its end: memory stays bounded whatever the input. The records
         * before it are applied first (their lines, their warnings). */
        drain(a);
        if (a->err_kind)
            return -1;
        rev_scan_record_end(p, end, a->cfg.escapes, &inner); /* its escaped LFs */
        a->line = a->next_line;
        a->next_line += inner;
        a->st.lines_read++;
        a->st.data_lines++;
        a->st.malformed_lines++;
        warn(a, REV_WARN_MALFORMED, "line longer than 4 MiB", NULL, 0);
        a->skipping = 1;
        a->skip_odd = a->cfg.escapes && (backslash_run(p, end, 0) & 1);
        a->pending = 0;
        a->clean = 0;
        return 0;
    }
    memmove(a->buf, p, rest);
    a->pending = rest;
    a->clean = rest; /* no record end in it, or the loop above had cut there */
    return 0;
}

int rev_attrib_feed(rev_attrib *a, const void *data, size_t n)
{
    const char *d = data;
    while (n) {
        size_t cap;
        char *space = rev_attrib_space(a, &cap);
        size_t k = n < cap ? n : cap;
        memcpy(space, d, k);
        if (rev_attrib_commit(a, k) != 0)
            return -1;
        d += k;
        n -= k;
    }
    return a->err_kind ? -1 : 0;
}

/* ---- mapped input ------------------------------------------------------- */

/* Can records go to the pipe straight from the mapping? Not before the
 * header is decided (use_pipe), nor while the copying path holds part of
 * a record or skips an overlong one. */
static int borrowing(rev_attrib *a)
{
    return !a->pending && !a->skipping && use_pipe(a);
}

/* How far behind the cut the pipe may still read the mapping: a chunk of
 * at most one window in each slot, and the window being cut. */
static size_t in_flight_bound(const rev_attrib *a)
{
    size_t t = a->cfg.threads > MAX_THREADS ? MAX_THREADS : a->cfg.threads;
    return (2 * t + 2) * REV_CHUNK;
}

int rev_attrib_feed_mapped(rev_attrib *a, const char *data, size_t len, rev_release_fn release,
                           void *ctx)
{
    const char *p = data, *end = data + len;
    size_t lag = in_flight_bound(a), released = 0;
    /* tests force tiny chunks: then tiny windows too, so that records
     * longer than a window and the way back to borrowing are hit often */
    size_t window = a->cfg.chunk ? 5 * a->cfg.chunk : REV_CHUNK;
    while (p < end && !a->err_kind) {
        const char *lim = (size_t)(end - p) > window ? p + window : end;
        const char *last = last_record_end(p, p, lim, a->cfg.escapes);
        const char *to = last ? last + 1 : lim;
        /* borrowing() holds only where the copying path has taken whole
         * records up to p, so p is a record's start; anything else (the
         * header, a record longer than the window) goes the copying way,
         * which bounds and counts it as it always does */
        if (last && borrowing(a))
            submit_chunks(a, p, last, pipe_chunk(a), 1);
        else
            rev_attrib_feed(a, p, (size_t)(to - p));
        p = to;
        size_t done = (size_t)(p - data);
        if (release && done > lag && done - lag >= released + REV_RELEASE_STEP) {
            released = done - lag;
            release(ctx, released);
        }
    }
    return a->err_kind ? -1 : 0;
}

int rev_attrib_finish(rev_attrib *a)
{
    if (a->err_kind)
        return -1;
    drain(a);
    if (a->err_kind)
        return -1;
    a->at_start = 0;
    if (a->skipping)
        a->skipping = 0;
    else if (a->pending) {
        a->line = a->next_line;
        process_line(a, a->buf, a->pending);
    }
    a->pending = 0;
    a->clean = 0;
    return a->err_kind ? -1 : 0;
}

const char *rev_attrib_error(const rev_attrib *a, rev_err_kind *kind)
{
    if (kind)
        *kind = a->err_kind;
    return a->err_kind ? a->err : NULL;
}

const rev_stats *rev_attrib_stats(const rev_attrib *a)
{
    return &a->st;
}

const rev_layout *rev_attrib_layout(const rev_attrib *a)
{
    return a->header_known ? &a->layout : NULL;
}

int rev_attrib_header_seen(const rev_attrib *a)
{
    return a->header_seen;
}

rev_pair **rev_attrib_pairs(rev_attrib *a, size_t *n)
{
    *n = (size_t)a->st.keywords;
    return a->pairv;
}

int rev_bad_ratio_exceeded(uint64_t malformed_lines, uint64_t data, double max_ratio)
{
    if (data == 0)
        return 0;
    return (double)malformed_lines / (double)data > max_ratio;
}
