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
#include "rev_url.h"

enum { ROLE_TIME, ROLE_IP, ROLE_UA, ROLE_EVENTS, ROLE_PRODUCTS, ROLE_REFERRER, ROLE_COUNT };

static const char *const role_names[ROLE_COUNT] = {
    "hit_time_gmt", "ip", "user_agent", "event_list", "product_list", "referrer",
};

#define HEADER_FIELD "hit_time_gmt"
#define HOST_MAX 255          /* longer hosts are not search engines */
#define RING 1024             /* time buckets of visitors, see evict_idle() */
#define RING_SPAN 512         /* visit_timeout covers at most this many */
#define ARENA_BLOCK ((size_t)64 << 10)

static const char utf8_bom[3] = {'\xEF', '\xBB', '\xBF'};

typedef struct slice {
    const char *p;
    size_t n;
} slice;

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

typedef struct visitor_key {
    slice ip;
    const slice *ua; /* NULL unless visitor: ip_ua */
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
    size_t pending;   /* bytes of an unfinished line at buf[0] */
    int at_start;     /* nothing processed yet: a UTF-8 BOM may come */
    int skipping;     /* inside a line longer than REV_MAX_LINE */

    int header_known;
    size_t ncols;
    signed char *roles; /* per column: ROLE_* or -1 */

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
        a->cfg.warn(a->cfg.warn_ctx, kind, a->st.lines_read, what, text, len);
}

static int slice_is(slice s, const char *z)
{
    size_t n = strlen(z);
    return s.n == n && memcmp(s.p, z, n) == 0;
}

static int role_needed(int role, int visitor_ip_ua)
{
    return role != ROLE_UA || visitor_ip_ua;
}

const char *rev_columns_missing(const char *const *names, size_t n, int visitor_ip_ua)
{
    for (int r = 0; r < ROLE_COUNT; r++) {
        if (!role_needed(r, visitor_ip_ua))
            continue;
        size_t i = 0;
        while (i < n && strcmp(names[i], role_names[r]) != 0)
            i++;
        if (i == n)
            return role_names[r];
    }
    return NULL;
}

/* ---- columns ------------------------------------------------------------ */

/* Map column positions to roles; on a duplicate name the first one counts. */
static int set_columns(rev_attrib *a, const slice *names, size_t n, int from_header)
{
    int found[ROLE_COUNT] = {0};
    signed char *roles = malloc(n ? n : 1);
    if (!roles) {
        fail(a, REV_ERR_NOMEM, "out of memory");
        return -1;
    }
    memset(roles, -1, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        for (int r = 0; r < ROLE_COUNT; r++) {
            if (!found[r] && role_needed(r, a->cfg.visitor_ip_ua) && slice_is(names[i], role_names[r])) {
                roles[i] = (signed char)r;
                found[r] = 1;
                break;
            }
        }
    }
    for (int r = 0; r < ROLE_COUNT; r++) {
        if (found[r] || !role_needed(r, a->cfg.visitor_ip_ua))
            continue;
        free(roles);
        if (from_header)
            fail(a, REV_ERR_INPUT, "the input's header line has no column '%s'", role_names[r]);
        else
            fail(a, REV_ERR_CONFIG, "the option 'columns' has no column '%s'", role_names[r]);
        return -1;
    }
    a->roles = roles;
    a->ncols = n;
    a->header_known = 1;
    return 0;
}

static size_t count_fields(const char *p, size_t n)
{
    size_t k = 1;
    const char *end = p + n;
    while ((p = memchr(p, '\t', (size_t)(end - p))) != NULL) {
        k++;
        p++;
    }
    return k;
}

/* The first non-empty line decides: a header when one of its fields is
 * "hit_time_gmt", else data described by the `columns` option. Returns 1
 * when the line was the header, 0 when it is data, -1 on a fatal error. */
static int decide_header(rev_attrib *a, const char *p, size_t n)
{
    size_t nf = count_fields(p, n);
    slice *names = malloc(nf * sizeof *names);
    if (!names) {
        fail(a, REV_ERR_NOMEM, "out of memory");
        return -1;
    }
    int is_header = 0;
    const char *s = p, *end = p + n;
    for (size_t i = 0; i < nf; i++) {
        const char *tab = memchr(s, '\t', (size_t)(end - s));
        const char *fe = tab ? tab : end;
        names[i].p = s;
        names[i].n = (size_t)(fe - s);
        is_header |= slice_is(names[i], HEADER_FIELD);
        if (tab)
            s = tab + 1;
    }
    int r;
    if (is_header) {
        r = set_columns(a, names, nf, 1) == 0 ? 1 : -1;
    } else if (a->cfg.columns) {
        free(names);
        names = malloc((a->cfg.ncolumns ? a->cfg.ncolumns : 1) * sizeof *names);
        if (!names) {
            fail(a, REV_ERR_NOMEM, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < a->cfg.ncolumns; i++) {
            names[i].p = a->cfg.columns[i];
            names[i].n = strlen(a->cfg.columns[i]);
        }
        r = set_columns(a, names, a->cfg.ncolumns, 0) == 0 ? 0 : -1;
    } else {
        fail(a, REV_ERR_INPUT,
             "the input has no header line (no field '" HEADER_FIELD "' on its first line) "
             "and the option 'columns' is not set; give headerless data feeds their column "
             "names with 'columns' (a list, or the path of column_headers.tsv)");
        r = -1;
    }
    free(names);
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

static void apply_hit(rev_attrib *a, int64_t t, const slice *f)
{
    if (t > a->now)
        a->now = t;
    evict_idle(a);

    /* The visitor lookup is the one cache miss of nearly every line: start
     * loading its slot, then do the work that does not need it. */
    visitor_key key = {f[ROLE_IP], a->cfg.visitor_ip_ua ? &f[ROLE_UA] : NULL};
    uint64_t h = visitor_hash(a, &key);
    __builtin_prefetch(&a->visitors.slots[(size_t)h & a->visitors.mask]);

    rev_pair *pair = search_pair(a, f[ROLE_REFERRER]);
    /* revenue of hits without the purchase event is ignored */
    int purchase = rev_is_purchase(f[ROLE_EVENTS].p, f[ROLE_EVENTS].n);
    int64_t cents = 0;
    if (purchase)
        cents = rev_product_revenue(f[ROLE_PRODUCTS].p, f[ROLE_PRODUCTS].n, &a->st.warnings,
                                    on_bad_amount, a);
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

/* ---- lines -------------------------------------------------------------- */

static size_t split_fields(const rev_attrib *a, const char *p, size_t n, slice *f)
{
    const char *end = p + n;
    const signed char *roles = a->roles;
    size_t col = 0, ncols = a->ncols;
    for (;;) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *fe = tab ? tab : end;
        if (col < ncols && roles[col] >= 0) {
            f[roles[col]].p = p;
            f[roles[col]].n = (size_t)(fe - p);
        }
        col++;
        if (!tab)
            return col;
        p = tab + 1;
    }
}

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

    slice f[ROLE_COUNT] = {{NULL, 0}};
    size_t nf = split_fields(a, p, n, f);
    if (nf != a->ncols) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "%zu fields, the header has %zu", nf, a->ncols);
        malformed(a, "wrong number of fields", msg, (size_t)len);
        return;
    }
    int64_t t;
    if (parse_time(f[ROLE_TIME], &t) != 0) {
        malformed(a, "hit_time_gmt is not a non-negative integer", f[ROLE_TIME].p, f[ROLE_TIME].n);
        return;
    }
    if (f[ROLE_IP].n == 0) {
        malformed(a, "empty ip", NULL, 0);
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
    free(a->roles);
    free(a->kw);
    free(a->buf);
    free(a);
}

char *rev_attrib_space(rev_attrib *a, size_t *cap)
{
    *cap = REV_CHUNK;
    return a->buf + a->pending;
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
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            a->pending = 0;
            return 0;
        }
        a->skipping = 0;
        p = nl + 1;
    }
    for (char *nl; (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1) {
        process_line(a, p, (size_t)(nl - p));
        if (a->err_kind)
            return -1;
    }

    size_t rest = (size_t)(end - p);
    if (rest > REV_MAX_LINE) {
        /* Counted now as one malformed data line, its bytes dropped until
         * its end: memory stays bounded whatever the input. */
        a->st.lines_read++;
        a->st.data_lines++;
        malformed(a, "line longer than 4 MiB", NULL, 0);
        a->skipping = 1;
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
    else if (a->pending)
        process_line(a, a->buf, a->pending);
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
