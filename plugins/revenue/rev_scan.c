/* rev_scan.c — see rev_scan.h.
 *
 * A real feed has hundreds of columns, most empty or short: a TAB every few
 * bytes. Fields are not split one by one: the record is read eight bytes at
 * a time, the TABs of a word found at once (SWAR), and a word whose TABs all
 * lie before the next needed column only adds their count. Only the words
 * around needed columns look at single TABs. A record with a backslash
 * (escapes on) takes the byte-wise path that unescapes. */
#include "autoconfig.h"

#include "rev_scan.h"

#include <stdint.h>
#include <string.h>

#define ONES UINT64_C(0x0101010101010101)
#define LOW7 UINT64_C(0x7f7f7f7f7f7f7f7f)

static inline uint64_t load_word(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w; /* byte i of the text is bits 8i..8i+7 */
}

/* 0x80 in every byte of w equal to the byte c (exact: no false hits). */
static inline uint64_t bytes_equal(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (ONES * c);
    return ~(((x & LOW7) + LOW7) | x | LOW7);
}

/* Number of 0x80 bytes of a bytes_equal() mask, without a popcount
 * instruction (not in the x86-64 baseline): one multiply. */
static inline size_t mask_count(uint64_t m)
{
    return (size_t)(((m >> 7) * ONES) >> 56);
}

/* TABs of p[i..n) past the last needed column: only counted, eight bytes
 * at a time into byte counters (flushed before they can overflow). Sets
 * *escape when escapes are on and a backslash shows up (the count is then
 * meaningless). Returns the TABs of the whole words; *end gets the index
 * where the byte-wise tail starts. */
static size_t count_tabs(const char *p, size_t i, size_t n, int escapes, int *escape, size_t *end)
{
    size_t total = 0;
    uint64_t bs = 0;
    while (i + 8 <= n) {
        uint64_t acc = 0;
        for (int k = 0; k < 255 && i + 8 <= n; k++, i += 8) {
            uint64_t w = load_word(p + i);
            acc += bytes_equal(w, '\t') >> 7;
            if (escapes)
                bs |= bytes_equal(w, '\\');
        }
        /* bytes to 16-bit lanes, then their sum (up to 8 * 255) */
        uint64_t lanes = (acc & UINT64_C(0x00ff00ff00ff00ff)) + ((acc >> 8) & UINT64_C(0x00ff00ff00ff00ff));
        total += (size_t)((lanes * UINT64_C(0x0001000100010001)) >> 48);
    }
    *escape = bs != 0;
    *end = i;
    return total;
}

int rev_scan_lf_escaped(const char *p, const char *nl)
{
    size_t run = 0;
    while (nl > p && nl[-1] == '\\') {
        nl--;
        run++;
    }
    return run & 1;
}

const char *rev_scan_record_end(const char *p, const char *end, int escapes, size_t *inner)
{
    const char *s = p;
    *inner = 0;
    for (;;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl || !escapes || nl == p || nl[-1] != '\\' || !rev_scan_lf_escaped(p, nl))
            return nl;
        ++*inner;
        s = nl + 1;
    }
}

static int escapable(char c)
{
    return c == '\t' || c == '\n' || c == '\\';
}

/* Byte-wise, with unescaping; only the rare records holding a backslash. */
static size_t scan_escaped(const rev_layout *l, const char *p, size_t n, char *scratch,
                           rev_slice *f)
{
    size_t col = 0;
    char *out = scratch, *start = scratch;
    int role = l->ncols ? l->roles[0] : -1;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < n && escapable(p[i + 1])) {
            c = p[++i];
        } else if (c == '\t') {
            if (role >= 0) {
                f[role].p = start;
                f[role].n = (size_t)(out - start);
            }
            col++;
            role = col < l->ncols ? l->roles[col] : -1;
            start = out;
            continue;
        }
        if (role >= 0)
            *out++ = c;
    }
    if (role >= 0) {
        f[role].p = start;
        f[role].n = (size_t)(out - start);
    }
    return col + 1;
}

size_t rev_scan_fields(const rev_layout *l, const char *p, size_t n, int escapes,
                       char *scratch, rev_slice *f)
{
    size_t col = 0, k = 0, i = 0;
    size_t next = l->nneed ? l->need[0].col : SIZE_MAX; /* next needed column */
    const char *start = p;                               /* of field `col` */

    for (; i + 8 <= n; i += 8) {
        if (k == l->nneed) { /* every needed field found: count the rest */
            int escape;
            col += count_tabs(p, i, n, escapes, &escape, &i);
            if (escape)
                return scan_escaped(l, p, n, scratch, f);
            break;
        }
        uint64_t w = load_word(p + i);
        if (escapes && bytes_equal(w, '\\'))
            return scan_escaped(l, p, n, scratch, f);
        uint64_t tabs = bytes_equal(w, '\t');
        if (!tabs)
            continue;
        size_t c = mask_count(tabs);
        if (col + c < next) { /* no TAB here ends or starts a needed field */
            col += c;
            continue;
        }
        for (; tabs; tabs &= tabs - 1) {
            const char *tab = p + i + (size_t)(__builtin_ctzll(tabs) >> 3);
            if (col == next) {
                f[l->need[k].role].p = start;
                f[l->need[k].role].n = (size_t)(tab - start);
                next = ++k < l->nneed ? l->need[k].col : SIZE_MAX;
            }
            col++;
            start = tab + 1;
        }
    }
    for (; i < n; i++) {
        if (escapes && p[i] == '\\')
            return scan_escaped(l, p, n, scratch, f);
        if (p[i] != '\t')
            continue;
        if (col == next) {
            f[l->need[k].role].p = start;
            f[l->need[k].role].n = (size_t)(p + i - start);
            next = ++k < l->nneed ? l->need[k].col : SIZE_MAX;
        }
        col++;
        start = p + i + 1;
    }
    if (col == next) {
        f[l->need[k].role].p = start;
        f[l->need[k].role].n = (size_t)(p + n - start);
    }
    return col + 1;
}
