/* pq_column.c — a column chunk being collected (pq_column.h). */
#include "pq_column.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DICT_MIN_SLOTS 1024

int pq_column_init(pq_column *c, const pq_column_def *def)
{
    memset(c, 0, sizeof *c);
    size_t n = strlen(def->name) + 1;
    if (!(c->name = malloc(n)))
        return -1;
    memcpy(c->name, def->name, n);
    c->type = def->type;
    c->precision = def->precision;
    c->scale = def->scale;
    switch (def->type) {
    case PQ_BOOL: c->phys = PQ_PHYS_BOOLEAN; c->width = 1; break;
    case PQ_INT32:
    case PQ_DATE: c->phys = PQ_PHYS_INT32; c->width = 4; break;
    case PQ_DECIMAL:
        c->phys = def->precision <= 9 ? PQ_PHYS_INT32 : PQ_PHYS_INT64;
        c->width = def->precision <= 9 ? 4 : 8;
        break;
    case PQ_INT64:
    case PQ_TIMESTAMP: c->phys = PQ_PHYS_INT64; c->width = 8; break;
    case PQ_DOUBLE: c->phys = PQ_PHYS_DOUBLE; c->width = 8; break;
    case PQ_STRING: c->phys = PQ_PHYS_BYTE_ARRAY; c->width = 0; break;
    }
    pq_column_reset(c);
    return 0;
}

static void dict_drop(pq_column *c)
{
    c->dict_on = 0;
    pq_buf_free(&c->dict);
    free(c->dict_off);
    free(c->slots);
    free(c->idx);
    c->dict_off = NULL;
    c->slots = c->idx = NULL;
    c->nslots = c->ndict = c->capdict = c->capidx = 0;
}

void pq_column_reset(pq_column *c)
{
    dict_drop(c);
    c->dict_on = c->phys != PQ_PHYS_BOOLEAN;
    c->rows = c->values = 0;
    c->plain.len = 0;
    c->defs.len = 0;
    c->nmarks = 0;
    c->nulls = 0;
    c->has_minmax = 0;
}

void pq_column_free(pq_column *c)
{
    dict_drop(c);
    pq_buf_free(&c->plain);
    pq_buf_free(&c->defs);
    free(c->marks);
    free(c->name);
    memset(c, 0, sizeof *c);
}

static int mark_page(pq_column *c)
{
    if (c->nmarks == c->capmarks) {
        size_t cap = c->capmarks ? c->capmarks * 2 : 16;
        pq_page_mark *m = realloc(c->marks, cap * sizeof *m);
        if (!m)
            return -1;
        c->marks = m;
        c->capmarks = cap;
    }
    c->marks[c->nmarks++] = (pq_page_mark){c->rows, c->values, c->plain.len};
    return 0;
}

int pq_column_maybe_mark(pq_column *c, size_t page_bytes)
{
    size_t start = c->nmarks ? c->marks[c->nmarks - 1].plain_off : 0;
    size_t rows = c->nmarks ? c->rows - c->marks[c->nmarks - 1].row : c->rows;
    if (c->plain.len - start >= page_bytes || rows >= 1000000)
        return mark_page(c);
    return 0;
}

size_t pq_column_bytes(const pq_column *c)
{
    return c->plain.len + c->defs.len + (c->dict_on ? c->values * 4 + c->dict.len : 0);
}

static int put_def(pq_column *c, uint8_t d)
{
    if (c->rows == 0 && c->nmarks == 0 && mark_page(c) != 0)
        return -1;
    if (pq_buf_addc(&c->defs, d) != 0)
        return -1;
    c->rows++;
    return 0;
}

int pq_column_put_null(pq_column *c)
{
    if (put_def(c, 0) != 0)
        return -1;
    c->nulls++;
    return 0;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        h = (h ^ (k * 0xff51afd7ed558ccdull)) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k |= (uint64_t)p[i] << (8 * i);
    h = (h ^ (k * 0xff51afd7ed558ccdull)) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 32);
}

/* The entry's value bytes (BYTE_ARRAY: without the length prefix). */
static const uint8_t *dict_entry(const pq_column *c, size_t e, size_t *len)
{
    if (c->width) {
        *len = (size_t)c->width;
        return c->dict.data + e * (size_t)c->width;
    }
    const uint8_t *p = c->dict.data + c->dict_off[e];
    *len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
    return p + 4;
}

static int dict_grow_slots(pq_column *c)
{
    size_t n = c->nslots ? c->nslots * 2 : DICT_MIN_SLOTS;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t e = 0; e < c->ndict; e++) {
        size_t len;
        const uint8_t *v = dict_entry(c, e, &len);
        size_t i = hash_bytes(v, len) & (n - 1);
        while (s[i])
            i = (i + 1) & (n - 1);
        s[i] = (uint32_t)e + 1;
    }
    free(c->slots);
    c->slots = s;
    c->nslots = n;
    return 0;
}

/* The entry of a value, added when new; -1 when out of memory. */
static int64_t dict_find_or_add(pq_column *c, const void *v, size_t len)
{
    if (c->ndict * 2 >= c->nslots && dict_grow_slots(c) != 0)
        return -1;
    size_t i = hash_bytes(v, len) & (c->nslots - 1);
    if (c->width == 8 || c->width == 4) { /* fixed width: compare words */
        uint64_t want = 0;
        memcpy(&want, v, (size_t)c->width);
        while (c->slots[i]) {
            size_t e = c->slots[i] - 1;
            uint64_t have = 0;
            memcpy(&have, c->dict.data + e * (size_t)c->width, (size_t)c->width);
            if (have == want)
                return (int64_t)e;
            i = (i + 1) & (c->nslots - 1);
        }
    } else {
        while (c->slots[i]) {
            size_t e = c->slots[i] - 1, elen;
            const uint8_t *ev = dict_entry(c, e, &elen);
            if (elen == len && memcmp(ev, v, len) == 0)
                return (int64_t)e;
            i = (i + 1) & (c->nslots - 1);
        }
    }
    if (!c->width) {
        if (c->ndict == c->capdict) {
            size_t cap = c->capdict ? c->capdict * 2 : 256;
            size_t *o = realloc(c->dict_off, cap * sizeof *o);
            if (!o)
                return -1;
            c->dict_off = o;
            c->capdict = cap;
        }
        c->dict_off[c->ndict] = c->dict.len;
        if (pq_buf_add_le32(&c->dict, (uint32_t)len) != 0)
            return -1;
    }
    if (pq_buf_add(&c->dict, v, len) != 0)
        return -1;
    c->slots[i] = (uint32_t)c->ndict + 1;
    return (int64_t)c->ndict++;
}

void pq_column_dict_limit(pq_column *c, size_t dict_bytes)
{
    if (!c->dict_on)
        return;
    /* too big, or nearly every value distinct: PLAIN is as small */
    if (c->dict.len > dict_bytes || (c->values >= 4096 && c->ndict * 4 > c->values * 3))
        dict_drop(c);
}

static int dict_put(pq_column *c, const void *v, size_t len)
{
    int64_t e = dict_find_or_add(c, v, len);
    if (e < 0)
        return -1;
    if (c->values == c->capidx) {
        size_t cap = c->capidx ? c->capidx * 2 : 1024;
        uint32_t *x = realloc(c->idx, cap * sizeof *x);
        if (!x)
            return -1;
        c->idx = x;
        c->capidx = cap;
    }
    c->idx[c->values] = (uint32_t)e;
    return 0;
}

int pq_column_put_fixed(pq_column *c, const void *le, int64_t ival, double dval)
{
    if (put_def(c, 1) != 0 || (c->dict_on && dict_put(c, le, (size_t)c->width) != 0) ||
        pq_buf_reserve(&c->plain, 8) != 0)
        return -1;
    if (c->width == 8) /* constant sizes: no call to memcpy */
        memcpy(c->plain.data + c->plain.len, le, 8);
    else if (c->width == 4)
        memcpy(c->plain.data + c->plain.len, le, 4);
    else
        c->plain.data[c->plain.len] = *(const uint8_t *)le;
    c->plain.len += (size_t)c->width;
    c->values++;
    if (c->phys == PQ_PHYS_DOUBLE) {
        if (isnan(dval))
            return 0; /* NaN has no place in an order */
        if (!c->has_minmax || dval < c->dmin)
            c->dmin = dval;
        if (!c->has_minmax || dval > c->dmax)
            c->dmax = dval;
    } else {
        if (!c->has_minmax || ival < c->imin)
            c->imin = ival;
        if (!c->has_minmax || ival > c->imax)
            c->imax = ival;
    }
    c->has_minmax = 1;
    return 0;
}

static int bytes_less(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    return r < 0 || (r == 0 && alen < blen);
}

int pq_column_put_bytes(pq_column *c, const void *p, size_t len)
{
    if (len > UINT32_MAX)
        return -1;
    if (put_def(c, 1) != 0 || (c->dict_on && dict_put(c, p, len) != 0))
        return -1;
    size_t off = c->plain.len + 4;
    if (pq_buf_add_le32(&c->plain, (uint32_t)len) != 0 || pq_buf_add(&c->plain, p, len) != 0)
        return -1;
    c->values++;
    const uint8_t *v = c->plain.data + off;
    if (!c->has_minmax || bytes_less(v, len, c->plain.data + c->smin_off, c->smin_len)) {
        c->smin_off = off;
        c->smin_len = len;
    }
    if (!c->has_minmax || bytes_less(c->plain.data + c->smax_off, c->smax_len, v, len)) {
        c->smax_off = off;
        c->smax_len = len;
    }
    c->has_minmax = 1;
    return 0;
}

int pq_column_stat(const pq_column *c, int max, const void **p, size_t *len, uint8_t tmp[8])
{
    if (!c->has_minmax)
        return 0;
    if (c->phys == PQ_PHYS_BYTE_ARRAY) {
        *p = c->plain.data + (max ? c->smax_off : c->smin_off);
        *len = max ? c->smax_len : c->smin_len;
        return 1;
    }
    uint64_t u;
    if (c->phys == PQ_PHYS_DOUBLE) {
        double d = max ? c->dmax : c->dmin;
        memcpy(&u, &d, 8);
    } else {
        u = (uint64_t)(max ? c->imax : c->imin);
    }
    for (int i = 0; i < 8; i++)
        tmp[i] = (uint8_t)(u >> (8 * i));
    *p = tmp;
    *len = (size_t)c->width;
    return 1;
}
