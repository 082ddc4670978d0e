/* rev_parse.c — see rev_parse.h. */
#include "autoconfig.h"

#include "rev_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rev_hash.h"
#include "rev_keyword.h"
#include "rev_money.h"
#include "rev_url.h"

typedef rev_slice slice;

static int slice_is(slice s, const char *z)
{
    size_t n = strlen(z);
    return s.n == n && memcmp(s.p, z, n) == 0;
}

/* Grows *buf to at least n bytes. 0, or -1 when memory runs out. */
static int reserve(char **buf, size_t *cap, size_t n)
{
    if (n <= *cap)
        return 0;
    size_t want = *cap ? *cap : 256;
    while (want < n)
        want *= 2;
    char *b = realloc(*buf, want);
    if (!b)
        return -1;
    *buf = b;
    *cap = want;
    return 0;
}

/* Eight ASCII digits at p as their value, or -1 when one is not a digit.
 * In a word the first digit is the low byte; pairs, then quads, then the
 * halves are combined with one multiply each, instead of a chain of eight
 * dependent steps (it was a third of parse_split's time). */
static int64_t digits8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    /* every byte 0x30..0x39: its high nibble 3, and adding 6 keeps it so */
    if (((w & 0xF0F0F0F0F0F0F0F0ULL) | ((w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4) !=
        0x3333333333333333ULL)
        return -1;
    w -= 0x3030303030303030ULL;
    w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFULL;
    w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFULL;
    w = (w * 10000 + (w >> 32)) & 0xFFFFFFFFULL;
    return (int64_t)w;
}

static int parse_time(slice s, int64_t *t)
{
    int64_t v = 0;
    if (s.n == 0 || s.n > 18)
        return -1;
    size_t head = s.n >= 8 ? s.n - 8 : s.n; /* digits before the last eight */
    for (size_t i = 0; i < head; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    if (s.n >= 8) {
        int64_t low = digits8(s.p + head);
        if (low < 0)
            return -1;
        v = v * 100000000 + low;
    }
    *t = v;
    return 0;
}

/* Adobe's rule for rows that are not hits: exclude_hit neither empty nor
 * "0", or hit_source 5, 7, 8 or 9 (data-source uploads). */
static int excluded(const rev_layout *l, const slice *f)
{
    if (!l->exclude)
        return 0;
    slice x = f[REV_ROLE_EXCLUDE], src = f[REV_ROLE_SOURCE];
    if (l->col[REV_ROLE_EXCLUDE] != REV_COL_NONE && x.n && !slice_is(x, "0"))
        return 1;
    return l->col[REV_ROLE_SOURCE] != REV_COL_NONE && src.n == 1 &&
           (src.p[0] == '5' || src.p[0] == '7' || src.p[0] == '8' || src.p[0] == '9');
}

/* Why the hit's visitor is unusable, or NULL. */
static const char *visitor_missing(const rev_layout *l, const slice *f)
{
    if (l->visitor == REV_VISITOR_VISID)
        return f[REV_ROLE_VISID_HIGH].n && f[REV_ROLE_VISID_LOW].n
                   ? NULL
                   : "empty post_visid_high or post_visid_low";
    return f[REV_ROLE_IP].n ? NULL : "empty ip";
}

uint64_t rev_visitor_hash(uint64_t seed, const rev_slice *k0, const rev_slice *k1)
{
    uint64_t h = rev_hash(k0->p, k0->n, seed);
    return k1->p ? rev_hash(k1->p, k1->n, h) : h;
}

/* Visitor key parts of a hit (rev_columns.h: the resolved visitor). */
static void hit_visitor(const rev_layout *l, const slice *f, rev_hit *hit)
{
    switch (l->visitor) {
    case REV_VISITOR_VISID:
        hit->vkey[0] = f[REV_ROLE_VISID_HIGH];
        hit->vkey[1] = f[REV_ROLE_VISID_LOW];
        break;
    case REV_VISITOR_IP_UA:
        hit->vkey[0] = f[REV_ROLE_IP];
        hit->vkey[1] = f[REV_ROLE_UA];
        break;
    default:
        hit->vkey[0] = f[REV_ROLE_IP];
        hit->vkey[1] = (slice){NULL, 0};
        break;
    }
    if (hit->vkey[1].p == NULL && l->visitor != REV_VISITOR_IP)
        hit->vkey[1].p = ""; /* a second part, empty: not "no second part" */
}

/* The search engine of a referrer's authority, or NULL; its host,
 * lowercased, in ps->host (*hl bytes, -1 when it is no host). The last
 * authority's answer is kept: most hits share their predecessor's
 * referrer host (the site's own pages), and the answer depends on the
 * authority's bytes alone. */
static const rev_engine *engine_of(rev_parser *ps, const char *auth, size_t n, long *hl)
{
    if (n && n == ps->auth_len && memcmp(auth, ps->auth, n) == 0) {
        *hl = ps->auth_host_len;
        return ps->auth_engine;
    }
    *hl = rev_url_host(auth, n, ps->host, sizeof ps->host);
    const rev_engine *e = *hl < 0 ? NULL : rev_engines_match(ps->engines, ps->host, (size_t)*hl);
    ps->auth_len = n <= sizeof ps->auth ? n : 0;
    memcpy(ps->auth, auth, ps->auth_len);
    ps->auth_host_len = *hl;
    ps->auth_engine = e;
    return e;
}

/* The (domain, keyword) of an external search hit, into hit; 0 none,
 * 1 found, -1 out of memory. */
static int search_of(rev_parser *ps, slice ref, rev_hit *hit)
{
    rev_url u;
    if (rev_url_split(ref.p, ref.n, &u) != 0 || !u.query)
        return 0; /* no query, no keyword: the host does not matter */
    long hl;
    const rev_engine *e = engine_of(ps, u.authority, u.authority_len, &hl);
    if (!e)
        return 0;
    if (reserve(&ps->kw, &ps->kw_cap, u.query_len) != 0)
        return -1;
    size_t kl = rev_query_keyword(u.query, u.query_len, e->param, e->param_len, ps->kw);
    if (!kl)
        return 0;
    size_t off = rev_domain_shorten(ps->host, (size_t)hl);
    hit->domain = (slice){ps->host + off, (size_t)hl - off};
    hit->keyword = (slice){ps->kw, kl};
    hit->phash = rev_hash(ps->kw, kl, rev_hash(hit->domain.p, hit->domain.n, ps->seed_pair));
    return 1;
}

static rev_outcome malformed(rev_parser *ps, rev_hit *hit, const char *what, slice text)
{
    ps->st->malformed_lines++;
    hit->what = what;
    hit->text = text;
    return REV_REC_MALFORMED;
}

/* A data record split into ps->f (nf fields): the hit, or why not. */
static rev_outcome parse_split(rev_parser *ps, size_t nf, rev_hit *hit)
{
    const rev_layout *l = ps->layout;
    slice *f = ps->f;
    if (nf != l->ncols) {
        int len = snprintf(ps->msg, sizeof ps->msg, "%zu fields, the header has %zu", nf,
                           l->ncols);
        return malformed(ps, hit, "wrong number of fields", (slice){ps->msg, (size_t)len});
    }
    if (excluded(l, f)) {
        ps->st->excluded_rows++; /* not a hit: no time, no visitor, no purchase */
        return REV_REC_EXCLUDED;
    }
    if (parse_time(f[REV_ROLE_TIME], &hit->t) != 0)
        return malformed(ps, hit, "hit_time_gmt is not a non-negative integer",
                         f[REV_ROLE_TIME]);
    const char *why = visitor_missing(l, f);
    if (why)
        return malformed(ps, hit, why, (slice){NULL, 0});

    hit_visitor(l, f, hit);
    hit->vhash = rev_visitor_hash(ps->seed_visitor, &hit->vkey[0], &hit->vkey[1]);
    int s = search_of(ps, f[REV_ROLE_REFERRER], hit);
    if (s < 0)
        return REV_REC_NOMEM;
    hit->search = s;
    /* revenue of hits without the purchase event is ignored */
    hit->purchase = rev_is_purchase(f[REV_ROLE_EVENTS].p, f[REV_ROLE_EVENTS].n);
    if (hit->purchase && slice_is(f[REV_ROLE_DUPLICATE], "1")) {
        ps->st->duplicate_purchases++; /* Adobe saw this purchase already */
        hit->purchase = 0;
    }
    hit->cents = hit->purchase ? rev_product_revenue(f[REV_ROLE_PRODUCTS].p,
                                                     f[REV_ROLE_PRODUCTS].n, &ps->st->warnings,
                                                     ps->on_amount, ps->amount_ctx)
                               : 0;
    return REV_REC_HIT;
}

/* Counts the line; 1 when it is empty (n without the CR). */
static int count_line(rev_parser *ps, size_t n)
{
    ps->st->lines_read++;
    if (n == 0) {
        ps->st->empty_lines++;
        return 1;
    }
    ps->st->data_lines++;
    return 0;
}

rev_outcome rev_parse_record(rev_parser *ps, const char *p, size_t n, rev_hit *hit)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (count_line(ps, n))
        return REV_REC_EMPTY;
    if (ps->escapes && reserve(&ps->scratch, &ps->scratch_cap, n) != 0)
        return REV_REC_NOMEM;
    /* The scanner sets every role of the layout on a whole record; roles
     * the layout lacks stay as zeroed once (no per-record clearing). */
    return parse_split(ps, rev_scan_fields(ps->layout, p, n, ps->escapes, ps->scratch, ps->f),
                       hit);
}

rev_outcome rev_parse_next(rev_parser *ps, const char *p, const char *end, rev_hit *hit,
                           const char **nl, size_t *inner)
{
    size_t nf = rev_scan_line(ps->layout, p, end, ps->escapes, ps->f, nl);
    if (!nf) { /* two passes: the record's end, then its fields */
        *nl = rev_scan_record_end(p, end, ps->escapes, inner);
        if (!*nl)
            *nl = end;
        return rev_parse_record(ps, p, (size_t)(*nl - p), hit);
    }
    *inner = 0; /* one pass saw no backslash: no escaped LF */
    size_t n = (size_t)(*nl - p);
    if (count_line(ps, n && p[n - 1] == '\r' ? n - 1 : n))
        return REV_REC_EMPTY;
    return parse_split(ps, nf, hit);
}

void rev_parser_clear(rev_parser *ps)
{
    free(ps->scratch);
    free(ps->kw);
    ps->scratch = ps->kw = NULL;
    ps->scratch_cap = ps->kw_cap = 0;
    ps->auth_len = 0;
}
