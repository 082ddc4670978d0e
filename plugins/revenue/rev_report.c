/* rev_report.c — see rev_report.h. */
#include "autoconfig.h"

#include "rev_report.h"

#include <stdlib.h>
#include <string.h>

#include "rev_money.h"

#define OUT_BUF ((size_t)64 << 10)

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static int pair_order(const void *x, const void *y)
{
    const rev_pair *a = *(rev_pair *const *)x, *b = *(rev_pair *const *)y;
    if (a->cents != b->cents)
        return a->cents > b->cents ? -1 : 1;
    int c = bytes_cmp(a->key, a->dlen, b->key, b->dlen);
    if (c)
        return c;
    return bytes_cmp(a->key + a->dlen, a->klen, b->key + b->dlen, b->klen);
}

void rev_report_sort(rev_pair **pairs, size_t n)
{
    if (n > 1)
        qsort(pairs, n, sizeof *pairs, pair_order);
}

typedef struct out {
    char *buf;
    size_t len;
    rev_write_fn write;
    void *ctx;
} out;

static int out_flush(out *o)
{
    int r = o->len ? o->write(o->ctx, o->buf, o->len) : 0;
    o->len = 0;
    return r;
}

/* Buffered; a piece larger than the buffer goes straight through. */
static int out_add(out *o, const void *p, size_t n)
{
    if (n > OUT_BUF - o->len && out_flush(o) != 0)
        return -1;
    if (n >= OUT_BUF)
        return o->write(o->ctx, p, n);
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

static int write_row(out *o, const rev_pair *p)
{
    char amount[32];
    size_t an = rev_format_cents(p->cents, amount + 1);
    amount[0] = '\t';
    amount[an + 1] = '\n';
    if (out_add(o, p->key, p->dlen) != 0 || out_add(o, "\t", 1) != 0 ||
        out_add(o, p->key + p->dlen, p->klen) != 0)
        return -1;
    return out_add(o, amount, an + 2);
}

int rev_report_write(rev_pair **pairs, size_t n, int include_zero, rev_write_fn write,
                     void *ctx)
{
    out o = {malloc(OUT_BUF), 0, write, ctx};
    if (!o.buf)
        return -1;
    rev_report_sort(pairs, n);
    int r = out_add(&o, REV_REPORT_HEADER, strlen(REV_REPORT_HEADER));
    for (size_t i = 0; r == 0 && i < n; i++)
        if (include_zero || pairs[i]->cents != 0)
            r = write_row(&o, pairs[i]);
    if (r == 0)
        r = out_flush(&o);
    free(o.buf);
    return r;
}
