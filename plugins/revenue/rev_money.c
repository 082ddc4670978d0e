/* rev_money.c — see rev_money.h. */
#include "autoconfig.h"

#include "rev_money.h"

#include <string.h>

static void trim_spaces(const char **s, size_t *n)
{
    while (*n && **s == ' ') {
        (*s)++;
        (*n)--;
    }
    while (*n && (*s)[*n - 1] == ' ')
        (*n)--;
}

/* Is an event id, spaces around it aside, "1"? */
static int id_is_purchase(const char *s, size_t n)
{
    trim_spaces(&s, &n);
    return n == 1 && s[0] == '1';
}

/* One item of an event list: "1", " 1 ", "1=5", "1:abc" are the event id
 * "1"; "11", "event1" are not. */
static int item_is_purchase(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' || s[i] == ':') {
            n = i;
            break;
        }
    }
    return id_is_purchase(s, n);
}

/* ---- carets ----------------------------------------------------------------
 * In event and product lists a caret makes the next ',' ';' '=' or '^'
 * literal: lists split only on unescaped separators, then the escaping
 * carets are dropped. Lists without a caret take the plain paths. */

static int caret_escapes(const char *s, const char *end)
{
    return s + 1 < end && s[0] == '^' &&
           (s[1] == ',' || s[1] == ';' || s[1] == '=' || s[1] == '^');
}

/* The first unescaped byte of s[..end) among seps, or end. */
static const char *caret_find(const char *s, const char *end, const char *seps)
{
    while (s < end) {
        if (caret_escapes(s, end))
            s += 2;
        else if (strchr(seps, *s))
            return s;
        else
            s++;
    }
    return end;
}

/* s[0..n) without its escaping carets into out (cap bytes); the length,
 * or cap + 1 when it does not fit. */
static size_t caret_drop(const char *s, size_t n, char *out, size_t cap)
{
    const char *end = s + n;
    size_t k = 0;
    while (s < end) {
        if (caret_escapes(s, end))
            s++;
        if (k == cap)
            return cap + 1;
        out[k++] = *s++;
    }
    return k;
}

static int item_is_purchase_caret(const char *s, size_t n)
{
    char id[8];
    const char *end = s + n;
    size_t k = caret_drop(s, (size_t)(caret_find(s, end, "=:") - s), id, sizeof id);
    return k <= sizeof id && id_is_purchase(id, k);
}

int rev_is_purchase(const char *s, size_t n)
{
    if (n == 0)
        return 0; /* most hits: no event at all */
    const char *end = s + n;
    int caret = memchr(s, '^', n) != NULL;
    for (;;) {
        const char *comma = caret ? caret_find(s, end, ",") : memchr(s, ',', (size_t)(end - s));
        const char *ie = comma && comma < end ? comma : end;
        if (caret ? item_is_purchase_caret(s, (size_t)(ie - s))
                  : item_is_purchase(s, (size_t)(ie - s)))
            return 1;
        if (ie == end)
            return 0;
        s = ie + 1;
    }
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Works on the decimal text only: no floating point anywhere, so 0.005 is
 * exactly half a cent and rounds up, and sums are exact. */
rev_amount_status rev_amount_cents(const char *s, size_t n, int64_t *cents)
{
    *cents = 0;
    trim_spaces(&s, &n);
    if (n == 0)
        return REV_AMOUNT_EMPTY;

    size_t i = 0, digits = 0, significant = 0;
    int64_t whole = 0;
    for (; i < n && is_digit(s[i]); i++, digits++) {
        if (significant == 0 && s[i] == '0')
            continue;
        if (++significant > REV_AMOUNT_MAX_DIGITS)
            return REV_AMOUNT_BAD;
        whole = whole * 10 + (s[i] - '0');
    }
    int frac[3] = {0, 0, 0};
    if (i < n && s[i] == '.') {
        i++;
        for (size_t f = 0; i < n && is_digit(s[i]); i++, f++, digits++)
            if (f < 3)
                frac[f] = s[i] - '0';
    }
    if (i != n || digits == 0)
        return REV_AMOUNT_BAD;
    /* Amounts are never negative here (no sign allowed), so half away from
     * zero is half up: the third decimal decides, the rest cannot matter. */
    *cents = whole * 100 + frac[0] * 10 + frac[1] + (frac[2] >= 5);
    return REV_AMOUNT_OK;
}

int rev_cents_add(int64_t *acc, int64_t v)
{
    if (__builtin_add_overflow(*acc, v, acc)) {
        *acc = INT64_MAX;
        return -1;
    }
    return 0;
}

/* The 4th ';'-field of a product, or an empty slice when missing. */
static void fourth_field(const char *s, size_t n, int caret, const char **f, size_t *fn)
{
    const char *end = s + n;
    for (int k = 0; k < 4; k++) {
        const char *semi = caret ? caret_find(s, end, ";") : memchr(s, ';', (size_t)(end - s));
        if (!semi)
            semi = end;
        if (k == 3 || semi == end) {
            *f = k == 3 ? s : end;
            *fn = k == 3 ? (size_t)(semi - s) : 0;
            return;
        }
        s = semi + 1;
    }
}

static void bad_amount(uint64_t *bad, void (*on_bad)(void *, const char *, size_t), void *ctx,
                       const char *f, size_t fn)
{
    (*bad)++;
    if (on_bad)
        on_bad(ctx, f, fn);
}

int64_t rev_product_revenue(const char *s, size_t n, uint64_t *bad,
                            void (*on_bad)(void *ctx, const char *amount, size_t len),
                            void *ctx)
{
    int64_t sum = 0;
    const char *end = s + n;
    int caret = memchr(s, '^', n) != NULL;
    char plain[64];
    for (;;) {
        const char *comma = caret ? caret_find(s, end, ",") : memchr(s, ',', (size_t)(end - s));
        const char *pe = comma ? comma : end;
        const char *f;
        size_t fn, an;
        int64_t c;
        fourth_field(s, (size_t)(pe - s), caret, &f, &fn);
        const char *amount = f;
        an = fn;
        if (caret && memchr(f, '^', fn)) {
            amount = plain;
            an = caret_drop(f, fn, plain, sizeof plain);
        }
        if (an > sizeof plain && amount == plain)
            bad_amount(bad, on_bad, ctx, f, fn);
        else if (rev_amount_cents(amount, an, &c) == REV_AMOUNT_BAD)
            bad_amount(bad, on_bad, ctx, f, fn);
        else if (rev_cents_add(&sum, c) != 0)
            bad_amount(bad, on_bad, ctx, f, fn);
        if (pe == end)
            return sum;
        s = pe + 1;
    }
}

size_t rev_format_cents(int64_t cents, char *buf)
{
    char tmp[24];
    size_t k = 0, n = 0;
    uint64_t u = cents < 0 ? 0 - (uint64_t)cents : (uint64_t)cents;
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u || k < 3); /* at least "0.0X" digits */
    if (cents < 0)
        buf[n++] = '-';
    while (k > 2)
        buf[n++] = tmp[--k];
    buf[n++] = '.';
    buf[n++] = tmp[1];
    buf[n++] = tmp[0];
    buf[n] = '\0';
    return n;
}
