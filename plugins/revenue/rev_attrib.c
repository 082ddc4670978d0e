/* rev_attrib.c — see rev_attrib.h. */
#include "autoconfig.h"

#include "rev_attrib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rev_hash.h"
#include "rev_keyword.h"
#include "rev_money.h"
#include "rev_scan.h"
#include "rev_url.h"

#define HEADER_FIELD "hit_time_gmt"
#define HOST_MAX 255          /* longer hosts are not search engines */
#define RING 1024             /* time buckets of visitors, see evict_idle() */
#define RING_SPAN 512         /* visit_timeout covers at most this many */
#define ARENA_BLOCK ((size_t)64 << 10)

static const char utf8_bom[3] = {'\xEF', '\xBB', '\xBF'};

typedef rev_slice slice;

/* A visitor seen within one visit_timeout of `now`. Even one without a
 * current search must be kept: when times step back, its last(v) decides
 * whether a later search hit's visit survives. Visitors are also linked in
 * the time bucket of their `last` (see evict_idle()). */
typedef struct rev_visitor {
    struct rev_visitor *prev, *next; /* in ring[bucket(last) % RING] */
    uint64_t hash;
    int64_t last;     /* largest hit_time_gmt of the visitor's hits */
    rev_pair *search; /* current search of the visit, or NULL */
    uint32_t iplen;   /* key = ip, or ip "\t" user_agent */
    uint32_t keylen;
    char key[];
} rev_visitor;

/* ip; ip TAB user_agent; or post_visid_high TAB post_visid_low. */
typedef struct visitor_key {
    slice ip;        /* the first part */
    const slice *ua; /* the second part, or NULL */
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
    int at_start;     /* nothing processed yet: a UTF-8 BOM may come */
    int skipping;     /* inside a record longer than REV_MAX_LINE */
    int skip_odd;     /* skipping, and the bytes so far end in an odd run of '\\' */
    uint64_t line;    /* physical line where the current record starts */
    uint64_t next_line;
    char *scratch;    /* unescaped values of one record (REV_MAX_LINE) */

    int header_known;
    int header_seen;  /* the layout came from a header line of the input */
    rev_layout layout;

    int64_t now;        /* largest hit_time_gmt so far, -1 before any */
    rev_table visitors;
    rev_visitor *ring[RING];
    int64_t width;      /* seconds per time bucket */
    int64_t low;        /* buckets below this one are empty; -1: none yet */

    rev_table pairs;
    rev_pair **pairv;
    size_t pairv_cap;
    arena_block *arena;

    char *kw;          /* scratch for decoding keywords */
    size_t kw_cap;

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

static rev_pair *pair_get(rev_attrib *a, const char *d, size_t dlen, const char *k, size_t klen)
{
    pair_key key = {{d, dlen}, {k, klen}};
    uint64_t h = rev_hash(k, klen, rev_hash(d, dlen, a->seed_pair));
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

/* The (domain, keyword) of an external search hit, or NULL. */
static rev_pair *search_pair(rev_attrib *a, slice ref)
{
    rev_url u;
    char host[HOST_MAX];
    if (rev_url_split(ref.p, ref.n, &u) != 0)
        return NULL;
    long hl = rev_url_host(u.authority, u.authority_len, host, sizeof host);
    if (hl < 0 || !u.query)
        return NULL;
    const rev_engine *e = rev_engines_match(a->cfg.engines, host, (size_t)hl);
    if (!e)
        return NULL;
    if (u.query_len > a->kw_cap) {
        char *kw = realloc(a->kw, u.query_len);
        if (!kw) {
            fail(a, REV_ERR_NOMEM, "out of memory");
            return NULL;
        }
        a->kw = kw;
        a->kw_cap = u.query_len;
    }
    size_t kl = rev_query_keyword(u.query, u.query_len, e->param, e->param_len, a->kw);
    if (!kl)
        return NULL;
    size_t off = rev_domain_shorten(host, (size_t)hl);
    return pair_get(a, host + off, (size_t)hl - off, a->kw, kl);
}

/* ---- visitors ----------------------------------------------------------- */

static int visitor_eq(const void *item, const void *key)
{
    const rev_visitor *v = item;
    const visitor_key *k = key;
    if (v->iplen != k->ip.n || memcmp(v->key, k->ip.p, k->ip.n) != 0)
        return 0;
    if (!k->ua)
        return 1;
    return v->keylen == k->ip.n + 1 + k->ua->n &&
           memcmp(v->key + k->ip.n + 1, k->ua->p, k->ua->n) == 0;
}

static uint64_t visitor_hash(const rev_attrib *a, const visitor_key *k)
{
    uint64_t h = rev_hash(k->ip.p, k->ip.n, a->seed_visitor);
    return k->ua ? rev_hash(k->ua->p, k->ua->n, h) : h;
}

/* Visitors sit in time buckets of `width` seconds by their `last`, on a
 * ring of RING lists. Non-idle visitors have last in [now - timeout, now],
 * which spans at most RING_SPAN + 1 buckets, so the ring never wraps onto
 * a live bucket, and whole buckets of idle visitors are dropped as `now`
 * moves on: O(1) per hit whatever order the times come in, and memory is
 * the visitors of the last visit_timeout + width seconds. */
static int64_t bucket_of(const rev_attrib *a, int64_t last)
{
    return last / a->width;
}

static rev_visitor **ring_head(rev_attrib *a, int64_t last)
{
    return &a->ring[(size_t)bucket_of(a, last) & (RING - 1)];
}

static void ring_unlink(rev_attrib *a, rev_visitor *v)
{
    if (v->prev)
        v->prev->next = v->next;
    else
        *ring_head(a, v->last) = v->next;
    if (v->next)
        v->next->prev = v->prev;
    v->prev = v->next = NULL;
}

static void ring_link(rev_attrib *a, rev_visitor *v)
{
    rev_visitor **head = ring_head(a, v->last);
    v->prev = NULL;
    v->next = *head;
    if (*head)
        (*head)->prev = v;
    *head = v;
}

static void visitor_drop(rev_attrib *a, rev_visitor *v)
{
    ring_unlink(a, v);
    rev_table_remove(&a->visitors, v, v->hash);
    free(v);
    a->st.visitors_evicted++;
    a->st.visitors_live = a->visitors.count;
}

/* Forget visitors idle for more than visit_timeout: their next hit would
 * start a new visit anyway, so this changes no result and bounds memory.
 * Every bucket whose newest possible time is idle goes. */
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
        rev_visitor *v = a->ring[(size_t)k & (RING - 1)], *next;
        for (; v; v = next) {
            next = v->next;
            if (bucket_of(a, v->last) < low)
                visitor_drop(a, v);
        }
    }
    a->low = low;
}

static rev_visitor *visitor_new(rev_attrib *a, size_t slot, uint64_t h, const visitor_key *k,
                                int64_t t)
{
    size_t keylen = k->ip.n + (k->ua ? 1 + k->ua->n : 0);
    rev_visitor *v = malloc(sizeof *v + keylen);
    if (!v) {
        fail(a, REV_ERR_NOMEM, "out of memory");
        return NULL;
    }
    v->hash = h;
    v->last = t;
    v->search = NULL;
    v->iplen = (uint32_t)k->ip.n;
    v->keylen = (uint32_t)keylen;
    memcpy(v->key, k->ip.p, k->ip.n);
    if (k->ua) {
        v->key[k->ip.n] = '\t';
        memcpy(v->key + k->ip.n + 1, k->ua->p, k->ua->n);
    }
    ring_link(a, v);
    if (rev_table_insert_at(&a->visitors, slot, h, v) != 0)
        fail(a, REV_ERR_NOMEM, "out of memory");
    a->st.visitors_live = a->visitors.count;
    if (a->visitors.count > a->st.visitors_peak)
        a->st.visitors_peak = a->visitors.count;
    return v;
}

/* ---- hits --------------------------------------------------------------- */

static void on_bad_amount(void *ctx, const char *amount, size_t len)
{
    warn(ctx, REV_WARN_AMOUNT, "product revenue is not a plain decimal amount; counted as 0",
         amount, len);
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
    if (t > v->last) {
        if (bucket_of(a, t) == bucket_of(a, v->last)) {
            v->last = t;
        } else {
            ring_unlink(a, v);
            v->last = t;
            ring_link(a, v);
        }
    }
    return v;
}

/* Visitor key parts of a hit (rev_columns.h: the resolved visitor). */
static visitor_key hit_visitor(const rev_attrib *a, const slice *f)
{
    switch (a->layout.visitor) {
    case REV_VISITOR_VISID: return (visitor_key){f[REV_ROLE_VISID_HIGH], &f[REV_ROLE_VISID_LOW]};
    case REV_VISITOR_IP_UA: return (visitor_key){f[REV_ROLE_IP], &f[REV_ROLE_UA]};
    default: return (visitor_key){f[REV_ROLE_IP], NULL};
    }
}

static void apply_hit(rev_attrib *a, int64_t t, const slice *f)
{
    if (t > a->now)
        a->now = t;
    evict_idle(a);

    /* The visitor lookup is the one cache miss of nearly every line: start
     * loading its slot, then do the work that does not need it. */
    visitor_key key = hit_visitor(a, f);
    uint64_t h = visitor_hash(a, &key);
    __builtin_prefetch(&a->visitors.slots[(size_t)h & a->visitors.mask]);

    rev_pair *pair = search_pair(a, f[REV_ROLE_REFERRER]);
    /* revenue of hits without the purchase event is ignored */
    int purchase = rev_is_purchase(f[REV_ROLE_EVENTS].p, f[REV_ROLE_EVENTS].n);
    if (purchase && slice_is(f[REV_ROLE_DUPLICATE], "1")) {
        a->st.duplicate_purchases++; /* Adobe saw this purchase already */
        purchase = 0;
    }
    int64_t cents = 0;
    if (purchase)
        cents = rev_product_revenue(f[REV_ROLE_PRODUCTS].p, f[REV_ROLE_PRODUCTS].n,
                                    &a->st.warnings, on_bad_amount, a);
    if (a->err_kind)
        return;

    rev_visitor *v = visitor_touch(a, h, &key, t);
    if (!v)
        return;
    if (pair) {
        a->st.search_hits++;
        if (!v->search || !a->cfg.attribution_first)
            v->search = pair;
    }
    if (purchase) {
        a->st.purchases++;
        attribute_purchase(a, v, cents);
    }
    if (a->now - v->last > a->cfg.visit_timeout)
        visitor_drop(a, v); /* idle already (its times lie far back) */
}

/* ---- records ------------------------------------------------------------ */

static int parse_time(slice s, int64_t *t)
{
    int64_t v = 0;
    if (s.n == 0 || s.n > 18)
        return -1;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    *t = v;
    return 0;
}

static void malformed(rev_attrib *a, const char *what, const char *text, size_t len)
{
    a->st.malformed_lines++;
    warn(a, REV_WARN_MALFORMED, what, text, len);
}

/* Adobe's rule for rows that are not hits: exclude_hit neither empty nor
 * "0", or hit_source 5, 7, 8 or 9 (data-source uploads). */
static int excluded(const rev_attrib *a, const slice *f)
{
    if (!a->layout.exclude)
        return 0;
    slice x = f[REV_ROLE_EXCLUDE], src = f[REV_ROLE_SOURCE];
    if (a->layout.col[REV_ROLE_EXCLUDE] != REV_COL_NONE && x.n && !slice_is(x, "0"))
        return 1;
    return a->layout.col[REV_ROLE_SOURCE] != REV_COL_NONE && src.n == 1 &&
           (src.p[0] == '5' || src.p[0] == '7' || src.p[0] == '8' || src.p[0] == '9');
}

/* Why the hit's visitor is unusable, or NULL. */
static const char *visitor_missing(const rev_attrib *a, const slice *f)
{
    if (a->layout.visitor == REV_VISITOR_VISID)
        return f[REV_ROLE_VISID_HIGH].n && f[REV_ROLE_VISID_LOW].n
                   ? NULL
                   : "empty post_visid_high or post_visid_low";
    return f[REV_ROLE_IP].n ? NULL : "empty ip";
}

static void process_line(rev_attrib *a, const char *p, size_t n)
{
    a->st.lines_read++;
    if (n && p[n - 1] == '\r')
        n--;
    if (n == 0) {
        a->st.empty_lines++;
        return;
    }
    if (!a->header_known && decide_header(a, p, n) != 0)
        return; /* the header itself, or a fatal error */
    a->st.data_lines++;

    slice f[REV_ROLE_COUNT] = {{NULL, 0}};
    size_t nf = rev_scan_fields(&a->layout, p, n, a->cfg.escapes, a->scratch, f);
    if (nf != a->layout.ncols) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "%zu fields, the header has %zu", nf,
                           a->layout.ncols);
        malformed(a, "wrong number of fields", msg, (size_t)len);
        return;
    }
    if (excluded(a, f)) {
        a->st.excluded_rows++; /* not a hit: no time, no visitor, no purchase */
        return;
    }
    int64_t t;
    if (parse_time(f[REV_ROLE_TIME], &t) != 0) {
        malformed(a, "hit_time_gmt is not a non-negative integer", f[REV_ROLE_TIME].p,
                  f[REV_ROLE_TIME].n);
        return;
    }
    const char *why = visitor_missing(a, f);
    if (why) {
        malformed(a, why, NULL, 0);
        return;
    }
    apply_hit(a, t, f);
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
    a->buf = malloc(REV_MAX_LINE + REV_CHUNK);
    a->scratch = malloc(REV_MAX_LINE + REV_CHUNK);
    if (!a->buf || !a->scratch || rev_table_init(&a->visitors, 0) != 0 || rev_table_init(&a->pairs, 0) != 0) {
        rev_attrib_free(a);
        return NULL;
    }
    return a;
}

void rev_attrib_free(rev_attrib *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < RING; i++) {
        for (rev_visitor *v = a->ring[i], *next; v; v = next) {
            next = v->next;
            free(v);
        }
    }
    for (arena_block *b = a->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    rev_table_free(&a->visitors);
    rev_table_free(&a->pairs);
    free(a->pairv);
    rev_layout_clear(&a->layout);
    free(a->kw);
    free(a->scratch);
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
            return 0;
        }
        a->skipping = 0;
        p = nl + 1;
    }
    size_t inner;
    for (char *nl; (nl = (char *)rev_scan_record_end(p, end, a->cfg.escapes, &inner)) != NULL;
         p = nl + 1) {
        a->line = a->next_line;
        a->next_line += 1 + inner;
        process_line(a, p, (size_t)(nl - p));
        if (a->err_kind)
            return -1;
    }

    size_t rest = (size_t)(end - p);
    if (rest > REV_MAX_LINE) {
        /* Counted now as one malformed data record, its bytes dropped until
         * its end: memory stays bounded whatever the input. */
        a->line = a->next_line;
        a->next_line += inner;
        a->st.lines_read++;
        a->st.data_lines++;
        malformed(a, "line longer than 4 MiB", NULL, 0);
        a->skipping = 1;
        a->skip_odd = a->cfg.escapes && (backslash_run(p, end, 0) & 1);
        a->pending = 0;
        return 0;
    }
    memmove(a->buf, p, rest);
    a->pending = rest;
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

int rev_attrib_finish(rev_attrib *a)
{
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
