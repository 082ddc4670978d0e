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

/* One item of an event list: "1", " 1 ", "1=5", "1:abc" are the event id
 * "1"; "11", "event1" are not. */
static int item_is_purchase(const char *s, size_t n)
{
    trim_spaces(&s, &n);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' || s[i] == ':') {
            n = i;
            break;
        }
    }
    while (n && s[n - 1] == ' ')
        n--;
    return n == 1 && s[0] == '1';
}

int rev_is_purchase(const char *s, size_t n)
{
    const char *end = s + n;
    for (;;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *ie = comma ? comma : end;
        if (item_is_purchase(s, (size_t)(ie - s)))
            return 1;
        if (!comma)
            return 0;
        s = comma + 1;
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
static void fourth_field(const char *s, size_t n, const char **f, size_t *fn)
{
    const char *end = s + n;
    for (int k = 0; k < 3; k++) {
        const char *semi = memchr(s, ';', (size_t)(end - s));
        if (!semi) {
            *f = end;
            *fn = 0;
            return;
        }
        s = semi + 1;
    }
    const char *semi = memchr(s, ';', (size_t)(end - s));
    *f = s;
    *fn = (size_t)((semi ? semi : end) - s);
}

int64_t rev_product_revenue(const char *s, size_t n, uint64_t *bad,
                            void (*on_bad)(void *ctx, const char *amount, size_t len),
                            void *ctx)
{
    int64_t sum = 0;
    const char *end = s + n;
    for (;;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *pe = comma ? comma : end;
        const char *f;
        size_t fn;
        int64_t c;
        fourth_field(s, (size_t)(pe - s), &f, &fn);
        if (rev_amount_cents(f, fn, &c) == REV_AMOUNT_BAD) {
            (*bad)++;
            if (on_bad)
                on_bad(ctx, f, fn);
        } else if (rev_cents_add(&sum, c) != 0) {
            (*bad)++;
            if (on_bad)
                on_bad(ctx, f, fn);
        }
        if (!comma)
            return sum;
        s = comma + 1;
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
