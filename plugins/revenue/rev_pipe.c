/* rev_pipe.c — see rev_pipe.h.
 *
 * Slots form a ring filled in order (head), parsed in order of submission
 * by whichever thread is free (next), and taken back in order (tail):
 * tail <= next <= head <= tail + nslots. One mutex guards the counters
 * and states; a slot's buffers belong to the submitter while it is FREE,
 * to its parser while PARSING, to the taker while DONE.
 *
 * The caller is one of the parsers (workers[0]): rev_pipe_next() parses
 * the next chunk no thread has taken rather than wait for the oldest. So
 * `threads` parsers are threads - 1 threads and the caller, never more
 * threads than the cores they were counted from. With a thread more than
 * cores (the caller waiting only), the scheduler's fair share left the
 * caller, whose applying bounds the job, two thirds of a core on two:
 * 1 GB mapped took 0.55 s, against 0.44 s with the caller parsing. */
#include "autoconfig.h"

#include "rev_pipe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rev_parse.h"
#include "rev_scan.h"

enum slot_state { SLOT_FREE, SLOT_FILLED, SLOT_PARSING, SLOT_DONE };

/* A parse's output. While a thread parses, it is that thread's own copy
 * (in struct worker): written per record, it must share no cache line
 * with what other threads touch, or every record pays a line transfer. */
typedef struct out {
    rev_op *ops;
    size_t nops, ops_cap;
    char *bytes;
    size_t nbytes, bytes_cap;
    int nomem;
} out;

/* Slots and workers are aligned to cache lines for the same reason. */
typedef struct slot {
    enum slot_state state;
    char *in;            /* the submitted records' copy or buffer (owned) */
    const char *src;     /* the records: in + an offset, or the caller's
                            (inline, or lent: a mapped input) */
    size_t len, in_cap;
    out o;               /* the buffers, between parses */
    rev_chunk view;
} __attribute__((aligned(64))) slot;

typedef struct worker {
    rev_pipe *pipe;
    pthread_t tid;
    int started;
    rev_parser ps;
    out o;               /* the output being written */
    rev_stats st;        /* the counters being moved */
    uint64_t line;       /* of the record being parsed */
} __attribute__((aligned(64))) worker;

struct rev_pipe {
    rev_pipe_config cfg;
    size_t nthreads;     /* parse threads besides the caller: workers[1..];
                            0 (cfg.threads 0 or 1): the caller parses each
                            chunk as it is submitted (inline) */
    /* The threads' own copy of the layout: the caller's sits beside state
     * it writes on every hit, and a read of a line another core keeps
     * writing costs a transfer each time. */
    rev_layout *layout;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    int stop;
    size_t nslots;
    slot *slots;
    size_t head, next, tail;
    worker *workers;
};

/* ---- a chunk's output ---------------------------------------------------- */

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t want = *cap ? *cap : 1024;
    while (want < need)
        want *= 2;
    void *b = realloc(*buf, want * elem);
    if (!b)
        return -1;
    *buf = b;
    *cap = want;
    return 0;
}

static rev_op *op_add(out *s)
{
    if (s->nomem || grow((void **)&s->ops, &s->ops_cap, s->nops + 1, sizeof *s->ops) != 0) {
        s->nomem = 1;
        return NULL;
    }
    rev_op *op = &s->ops[s->nops++];
    memset(op, 0, sizeof *op);
    return op;
}

/* Appends p[0..n) to the slot's bytes; its offset, or SIZE_MAX. */
static size_t bytes_add(out *s, const char *p, size_t n)
{
    if (s->nomem || grow((void **)&s->bytes, &s->bytes_cap, s->nbytes + n, 1) != 0) {
        s->nomem = 1;
        return SIZE_MAX;
    }
    size_t off = s->nbytes;
    if (n)
        memcpy(s->bytes + off, p, n);
    s->nbytes += n;
    return off;
}

static void add_text(worker *w, rev_op_kind kind, const char *what, const char *p, size_t n)
{
    out *s = &w->o;
    size_t off = bytes_add(s, p, n);
    rev_op *op = op_add(s);
    if (!op || off == SIZE_MAX)
        return;
    op->kind = (uint8_t)kind;
    op->line = w->line;
    op->what = what;
    op->off = off;
    op->len0 = (uint32_t)n;
}

static void on_amount(void *ctx, const char *text, size_t len)
{
    add_text(ctx, REV_OP_AMOUNT, NULL, text, len);
}

static void add_hit(worker *w, const rev_hit *h)
{
    out *s = &w->o;
    size_t off = bytes_add(s, h->vkey[0].p, h->vkey[0].n);
    bytes_add(s, h->vkey[1].p, h->vkey[1].n);
    if (h->search) {
        bytes_add(s, h->domain.p, h->domain.n);
        bytes_add(s, h->keyword.p, h->keyword.n);
    }
    rev_op *op = op_add(s);
    if (!op)
        return;
    op->kind = REV_OP_HIT;
    op->line = w->line;
    op->off = off;
    op->len0 = (uint32_t)h->vkey[0].n;
    op->has_k1 = h->vkey[1].p != NULL;
    op->len1 = (uint32_t)h->vkey[1].n;
    op->search = (uint8_t)h->search;
    op->dlen = (uint32_t)h->domain.n;
    op->klen = (uint32_t)h->keyword.n;
    op->purchase = (uint8_t)h->purchase;
    op->t = h->t;
    op->cents = h->cents;
    op->vhash = h->vhash;
    op->phash = h->phash;
}

/* The records are read once, in order, and a mapped input's page is
 * first touched here; the hardware prefetchers do not cross a 4 KiB page.
 * So when the byte PREFETCH_AHEAD past a record lies in another page than
 * the record, that page's first PREFETCH_LINES cache lines are asked for
 * (the streamer takes the rest of the page), and the scan does not stall
 * on them. On 1 GB mapped: threads 1, 1.02 -> 0.83 s; threads 2, 0.57 ->
 * 0.54 s (a whole page, 64 lines, was slower than none). */
#define PREFETCH_AHEAD 4096
#define PREFETCH_LINES 16

static inline void prefetch_ahead(const char *p, const char *end)
{
    if ((size_t)(end - p) <= PREFETCH_AHEAD)
        return;
    uintptr_t at = (uintptr_t)p, ahead = at + PREFETCH_AHEAD;
    if ((ahead ^ at) >> 12 == 0)
        return;
    uintptr_t page = ahead & ~(uintptr_t)4095; /* as integers: may pass `end` */
    for (int k = 0; k < PREFETCH_LINES; k++)
        __builtin_prefetch((const void *)(page + 64 * (uintptr_t)k));
}

static void parse_slot(worker *w, slot *s)
{
    w->o = s->o; /* its buffers, reused */
    w->o.nops = w->o.nbytes = 0;
    w->o.nomem = 0;
    memset(&w->st, 0, sizeof w->st);
    w->ps.st = &w->st;
    uint64_t lines = 0;
    const char *p = s->src, *end = p + s->len;
    while (p < end && !w->o.nomem) {
        prefetch_ahead(p, end);
        size_t inner;
        const char *nl;
        rev_hit hit;
        w->line = lines; /* for the amount warnings the parse gives */
        rev_outcome o = rev_parse_next(&w->ps, p, end, &hit, &nl, &inner);
        lines += 1 + inner;
        switch (o) {
        case REV_REC_HIT: add_hit(w, &hit); break;
        case REV_REC_MALFORMED:
            add_text(w, REV_OP_MALFORMED, hit.what, hit.text.p, hit.text.n);
            break;
        case REV_REC_NOMEM: w->o.nomem = 1; break;
        default: break;
        }
        p = nl + 1;
    }
    s->o = w->o;
    s->view = (rev_chunk){.ops = s->o.ops, .nops = s->o.nops, .bytes = s->o.bytes,
                          .lines = lines, .st = w->st, .nomem = s->o.nomem};
}

/* ---- threads -------------------------------------------------------------- */

/* With p->mu held and a chunk no thread has taken (next < head): takes
 * it, parses it on `w` with the lock released, and marks it done. The
 * parse threads and the caller (rev_pipe_next) take chunks this one way. */
static void parse_next_locked(rev_pipe *p, worker *w)
{
    slot *s = &p->slots[p->next++ % p->nslots];
    s->state = SLOT_PARSING;
    pthread_mutex_unlock(&p->mu);
    parse_slot(w, s);
    pthread_mutex_lock(&p->mu);
    s->state = SLOT_DONE;
    pthread_cond_broadcast(&p->done);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    rev_pipe *p = w->pipe;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->next == p->head)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        parse_next_locked(p, w);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

rev_pipe *rev_pipe_new(const rev_pipe_config *cfg)
{
    rev_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cfg = *cfg;
    p->nthreads = cfg->threads > 1 ? cfg->threads - 1 : 0;
    size_t nworkers = p->nthreads + 1;
    p->nslots = p->nthreads ? 2 * cfg->threads + 1 : 1;
    p->slots = aligned_alloc(64, p->nslots * sizeof *p->slots);
    p->workers = aligned_alloc(64, nworkers * sizeof *p->workers);
    if (p->slots)
        memset(p->slots, 0, p->nslots * sizeof *p->slots);
    if (p->workers)
        memset(p->workers, 0, nworkers * sizeof *p->workers);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    size_t lsize = (sizeof *p->layout + 63) / 64 * 64;
    p->layout = aligned_alloc(64, lsize);
    if (!p->slots || !p->workers || !p->layout) {
        rev_pipe_free(p);
        return NULL;
    }
    *p->layout = *cfg->layout; /* its roles array is only read */
    for (size_t i = 0; i < nworkers; i++) {
        worker *w = &p->workers[i];
        w->pipe = p;
        w->ps.layout = p->layout;
        w->ps.engines = cfg->engines;
        w->ps.escapes = cfg->escapes;
        w->ps.seed_visitor = cfg->seed_visitor;
        w->ps.seed_pair = cfg->seed_pair;
        w->ps.on_amount = on_amount;
        w->ps.amount_ctx = w;
        if (i == 0)
            continue; /* the caller's */
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            rev_pipe_free(p);
            return NULL;
        }
        w->started = 1;
    }
    return p;
}

void rev_pipe_free(rev_pipe *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; p->workers && i < p->nthreads + 1; i++) {
        if (p->workers[i].started)
            pthread_join(p->workers[i].tid, NULL);
        rev_parser_clear(&p->workers[i].ps);
    }
    for (size_t i = 0; p->slots && i < p->nslots; i++) {
        free(p->slots[i].in);
        free(p->slots[i].o.ops);
        free(p->slots[i].o.bytes);
    }
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p->layout);
    free(p->workers);
    free(p->slots);
    free(p);
}

/* ---- the caller's side ------------------------------------------------- */

int rev_pipe_full(const rev_pipe *p)
{
    return p->head - p->tail == p->nslots; /* head and tail move on this thread only */
}

/* The slot at head holds src[0, len): hand it to a thread. */
static int queue_src(rev_pipe *p, slot *s, const char *src, size_t len)
{
    s->src = src;
    s->len = len;
    pthread_mutex_lock(&p->mu);
    s->state = SLOT_FILLED;
    p->head++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

/* Inline: data[0..n) parsed here and now, not copied; done at once. */
static int parse_here(rev_pipe *p, const char *data, size_t n)
{
    slot *s = &p->slots[p->head % p->nslots];
    s->src = data;
    s->len = n;
    parse_slot(&p->workers[0], s);
    s->state = SLOT_DONE;
    p->head++;
    return 0;
}

int rev_pipe_submit(rev_pipe *p, const char *data, size_t n)
{
    if (rev_pipe_full(p))
        return -1;
    if (!p->nthreads) /* inline */
        return parse_here(p, data, n);
    slot *s = &p->slots[p->head % p->nslots];
    if (grow((void **)&s->in, &s->in_cap, n, 1) != 0)
        return -1;
    memcpy(s->in, data, n);
    return queue_src(p, s, s->in, n);
}

int rev_pipe_submit_borrowed(rev_pipe *p, const char *data, size_t n)
{
    if (rev_pipe_full(p))
        return -1;
    if (!p->nthreads) /* inline */
        return parse_here(p, data, n);
    return queue_src(p, &p->slots[p->head % p->nslots], data, n);
}

int rev_pipe_submit_buffer(rev_pipe *p, char **buf, size_t cap, size_t off, size_t n)
{
    if (rev_pipe_full(p))
        return -1;
    if (!p->nthreads) /* inline */
        return parse_here(p, *buf + off, n); /* the caller keeps its buffer */
    slot *s = &p->slots[p->head % p->nslots];
    char *give = s->in;
    if (!give || s->in_cap != cap) {
        give = malloc(cap);
        if (!give)
            return -1;
        free(s->in);
    }
    s->in = *buf;
    s->in_cap = cap;
    *buf = give;
    return queue_src(p, s, s->in + off, n);
}

const rev_chunk *rev_pipe_next(rev_pipe *p)
{
    if (p->tail == p->head)
        return NULL;
    slot *s = &p->slots[p->tail % p->nslots];
    if (!p->nthreads) /* inline */
        return &s->view;
    pthread_mutex_lock(&p->mu);
    while (s->state != SLOT_DONE) {
        if (p->next == p->head) {
            pthread_cond_wait(&p->done, &p->mu);
            continue;
        }
        /* a chunk no thread has taken (the oldest, or one after it):
         * parsed here rather than waited for */
        parse_next_locked(p, &p->workers[0]);
    }
    pthread_mutex_unlock(&p->mu);
    return &s->view;
}

int rev_pipe_ready(rev_pipe *p)
{
    if (p->tail == p->head)
        return 0;
    pthread_mutex_lock(&p->mu);
    int r = p->slots[p->tail % p->nslots].state == SLOT_DONE;
    pthread_mutex_unlock(&p->mu);
    return r;
}

void rev_pipe_release(rev_pipe *p)
{
    if (p->tail == p->head)
        return;
    slot *s = &p->slots[p->tail % p->nslots];
    pthread_mutex_lock(&p->mu);
    s->state = SLOT_FREE;
    p->tail++;
    pthread_mutex_unlock(&p->mu);
}
