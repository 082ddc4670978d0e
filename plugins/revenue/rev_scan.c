/* rev_scan.c — see rev_scan.h.
 *
 * A real feed has hundreds of columns, most empty or short: a TAB every few
 * bytes. Fields are not split one by one: the record is read eight bytes at
 * a time, the TABs of a word found at once (SWAR), and a word whose TABs all
 * lie before the next needed column only adds their count. Only the words
 * around needed columns look at single TABs. A record with a backslash
 * (escapes on) takes the byte-wise path that unescapes.
 *
 * That word-wise code is the portable path. On x86-64 the same split runs
 * on SSE2 or AVX2 masks (below); one path is chosen once per process and
 * every path gives byte-identical results (test_rev_scan checks). */
#include "autoconfig.h"

#include "rev_scan.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
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

/* The portable search, from s on for the record that starts at p; *inner
 * is only added to (a SIMD path hands its tail over mid-record). */
static const char *record_end_from(const char *p, const char *s, const char *end, int escapes,
                                   size_t *inner)
{
    for (;;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl || !escapes || nl == p || nl[-1] != '\\' || !rev_scan_lf_escaped(p, nl))
            return nl;
        ++*inner;
        s = nl + 1;
    }
}

static const char *record_end_portable(const char *p, const char *end, int escapes,
                                       size_t *inner)
{
    *inner = 0;
    return record_end_from(p, p, end, escapes, inner);
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

static size_t fields_portable(const rev_layout *l, const char *p, size_t n, int escapes,
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

/* ---- SIMD paths (x86-64) ---------------------------------------------------
 *
 * A record is read in 64-byte blocks: a block's TABs and backslashes become
 * two 64-bit masks (bit i = byte i), from four SSE2 or two AVX2 compares.
 * One popcount tells whether a block can be skipped whole; ctz walks the
 * TABs of the blocks around needed columns. The split itself (split_*) is
 * the same code for both widths, so the paths differ only in how masks are
 * made. Nothing is read past the record: the last, partial block is the
 * record's last 64 bytes with the bits already seen shifted out, or, in a
 * record shorter than a block, a copy in a zeroed buffer (a NUL is never a
 * TAB or backslash). */

/* Where a split stands: field `col` starts at `start`; `next` is the column
 * of need[k], the next needed one (SIZE_MAX when all are found). */
typedef struct split {
    size_t col, k, next;
    const char *start;
} split;

static inline void split_init(split *s, const rev_layout *l, const char *p)
{
    s->col = 0;
    s->k = 0;
    s->next = l->nneed ? l->need[0].col : SIZE_MAX;
    s->start = p;
}

/* The TAB at `tab` ends field s->col. */
static inline void split_tab(split *s, const rev_layout *l, rev_slice *f, const char *tab)
{
    if (s->col == s->next) {
        f[l->need[s->k].role].p = s->start;
        f[l->need[s->k].role].n = (size_t)(tab - s->start);
        s->next = ++s->k < l->nneed ? l->need[s->k].col : SIZE_MAX;
    }
    s->col++;
    s->start = tab + 1;
}

/* The `count` TABs of mask `tabs` of the block at `base`: counted only when
 * none ends or starts a needed field, else walked one by one. */
static inline void split_block(split *s, const rev_layout *l, rev_slice *f, const char *base,
                               uint64_t tabs, size_t count)
{
    if (s->col + count < s->next) {
        s->col += count;
        return;
    }
    for (; tabs; tabs &= tabs - 1)
        split_tab(s, l, f, base + __builtin_ctzll(tabs));
}

/* The record ends at `end`: the last field, and the field count. */
static inline size_t split_end(split *s, const rev_layout *l, rev_slice *f, const char *end)
{
    if (s->col == s->next) {
        f[l->need[s->k].role].p = s->start;
        f[l->need[s->k].role].n = (size_t)(end - s->start);
    }
    return s->col + 1;
}

/* TAB mask of the 64 bytes at b; *bs the backslash mask (0 unless escapes). */
typedef uint64_t (*block_masks_fn)(const char *b, int escapes, uint64_t *bs);
typedef size_t (*popcount_fn)(uint64_t m);
/* LF mask of one native block (16 or 32 bytes) at b. */
typedef uint32_t (*lf_mask_fn)(const char *b);

/* rev_scan_fields over 64-byte blocks. Always inlined into each target
 * function, so `masks` and `count` become direct, inlined calls compiled
 * for that target. */
static inline __attribute__((always_inline)) size_t
fields_blocks(const rev_layout *l, const char *p, size_t n, int escapes, char *scratch,
              rev_slice *f, block_masks_fn masks, popcount_fn count)
{
    split s;
    split_init(&s, l, p);
    size_t i = 0;
    uint64_t tabs, bs;
    for (; i + 64 <= n; i += 64) {
        tabs = masks(p + i, escapes, &bs);
        if (bs)
            return scan_escaped(l, p, n, scratch, f);
        if (tabs)
            split_block(&s, l, f, p + i, tabs, count(tabs));
    }
    if (i < n) {
        if (n >= 64) { /* the last 64 bytes, overlapping: drop the bits before i */
            unsigned seen = (unsigned)(64 - (n - i));
            tabs = masks(p + n - 64, escapes, &bs) >> seen;
            bs >>= seen;
        } else {
            _Alignas(64) char tail[64] = {0};
            memcpy(tail, p, n);
            tabs = masks(tail, escapes, &bs);
        }
        if (bs)
            return scan_escaped(l, p, n, scratch, f);
        if (tabs)
            split_block(&s, l, f, p + i, tabs, count(tabs)); /* pointers into p, not tail */
    }
    return split_end(&s, l, f, p + n);
}

/* TAB mask of the 64 bytes at b; *bs the backslash mask (0 unless
 * escapes), *lf the LF mask. */
typedef uint64_t (*line_masks_fn)(const char *b, int escapes, uint64_t *bs, uint64_t *lf);

/* rev_scan_line over 64-byte blocks (inlined per target, as above): TABs
 * and the record's LF in one pass. Gives up (0) on a backslash (escapes),
 * or with less than a block left before `end` and no LF yet. */
static inline __attribute__((always_inline)) size_t
line_blocks(const rev_layout *l, const char *p, const char *end, int escapes, rev_slice *f,
            const char **nl_out, line_masks_fn masks, popcount_fn count)
{
    split s;
    split_init(&s, l, p);
    size_t avail = (size_t)(end - p);
    for (size_t i = 0; i + 64 <= avail; i += 64) {
        uint64_t bs, lf, tabs = masks(p + i, escapes, &bs, &lf);
        if (lf) {
            uint64_t before = (lf & (0 - lf)) - 1; /* the bits before the first LF */
            if (bs & before)
                return 0;
            const char *nl = p + i + __builtin_ctzll(lf);
            tabs &= before;
            if (tabs)
                split_block(&s, l, f, p + i, tabs, count(tabs));
            *nl_out = nl;
            return split_end(&s, l, f, nl > p && nl[-1] == '\r' ? nl - 1 : nl);
        }
        if (bs)
            return 0;
        if (tabs)
            split_block(&s, l, f, p + i, tabs, count(tabs));
    }
    return 0;
}

/* rev_scan_record_end over native blocks of `width` bytes; the tail (less
 * than a block) goes to the portable memchr loop. */
static inline __attribute__((always_inline)) const char *
record_end_blocks(const char *p, const char *end, int escapes, size_t *inner, lf_mask_fn lfs,
                  size_t width)
{
    const char *s = p;
    *inner = 0;
    for (; (size_t)(end - s) >= width; s += width) {
        for (uint32_t m = lfs(s); m; m &= m - 1) {
            const char *nl = s + __builtin_ctz(m);
            if (!escapes || nl == p || nl[-1] != '\\' || !rev_scan_lf_escaped(p, nl))
                return nl;
            ++*inner;
        }
    }
    return record_end_from(p, s, end, escapes, inner);
}

#if defined(__x86_64__) && defined(__SSE2__) && defined(__GNUC__)
#define REV_SCAN_X86 1
#include <immintrin.h>

/* Bits set in m, without the popcnt instruction (not in the SSE2 baseline;
 * __builtin_popcountll would be a libgcc call). */
static inline size_t popcount_swar(uint64_t m)
{
    m -= (m >> 1) & UINT64_C(0x5555555555555555);
    m = (m & UINT64_C(0x3333333333333333)) + ((m >> 2) & UINT64_C(0x3333333333333333));
    m = (m + (m >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (size_t)((m * ONES) >> 56);
}

static inline uint64_t sse2_eq(__m128i a, __m128i b, __m128i c, __m128i d, char ch)
{
    __m128i v = _mm_set1_epi8(ch);
    uint64_t m0 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, v));
    uint64_t m1 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, v));
    uint64_t m2 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(c, v));
    uint64_t m3 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(d, v));
    return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}

static inline uint32_t sse2_lfs(const char *b)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
}

static inline uint64_t sse2_line_masks(const char *b, int escapes, uint64_t *bs, uint64_t *lf)
{
    __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)b);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(b + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(b + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(b + 48));
    *bs = escapes ? sse2_eq(x0, x1, x2, x3, '\\') : 0;
    *lf = sse2_eq(x0, x1, x2, x3, '\n');
    return sse2_eq(x0, x1, x2, x3, '\t');
}

/* The TAB and backslash masks alone: inlined, the LF compare nobody reads
 * is dropped. */
static inline uint64_t sse2_masks(const char *b, int escapes, uint64_t *bs)
{
    uint64_t lf;
    return sse2_line_masks(b, escapes, bs, &lf);
}

static size_t line_sse2(const rev_layout *l, const char *p, const char *end, int escapes,
                        rev_slice *f, const char **nl)
{
    return line_blocks(l, p, end, escapes, f, nl, sse2_line_masks, popcount_swar);
}

static size_t fields_sse2(const rev_layout *l, const char *p, size_t n, int escapes,
                          char *scratch, rev_slice *f)
{
    return fields_blocks(l, p, n, escapes, scratch, f, sse2_masks, popcount_swar);
}

static const char *record_end_sse2(const char *p, const char *end, int escapes, size_t *inner)
{
    return record_end_blocks(p, end, escapes, inner, sse2_lfs, 16);
}

/* AVX2: compiled for that target only here (the build stays baseline) and
 * called only when the CPU has it; popcnt comes with every AVX2 CPU. */
#define AVX2_TARGET __attribute__((target("avx2,popcnt")))

static inline AVX2_TARGET size_t popcount_hw(uint64_t m)
{
    return (size_t)__builtin_popcountll(m);
}

static inline AVX2_TARGET uint64_t avx2_eq(__m256i a, __m256i b, char ch)
{
    __m256i v = _mm256_set1_epi8(ch);
    uint64_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, v));
    uint64_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, v));
    return lo | hi << 32;
}

static inline AVX2_TARGET uint32_t avx2_lfs(const char *b)
{
    __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)b);
    return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(y, _mm256_set1_epi8('\n')));
}

static inline AVX2_TARGET uint64_t avx2_line_masks(const char *b, int escapes, uint64_t *bs,
                                                   uint64_t *lf)
{
    __m256i y0 = _mm256_loadu_si256((const __m256i *)(const void *)b);
    __m256i y1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + 32));
    *bs = escapes ? avx2_eq(y0, y1, '\\') : 0;
    *lf = avx2_eq(y0, y1, '\n');
    return avx2_eq(y0, y1, '\t');
}

static inline AVX2_TARGET uint64_t avx2_masks(const char *b, int escapes, uint64_t *bs)
{
    uint64_t lf;
    return avx2_line_masks(b, escapes, bs, &lf);
}

static AVX2_TARGET size_t line_avx2(const rev_layout *l, const char *p, const char *end,
                                    int escapes, rev_slice *f, const char **nl)
{
    return line_blocks(l, p, end, escapes, f, nl, avx2_line_masks, popcount_hw);
}

static AVX2_TARGET size_t fields_avx2(const rev_layout *l, const char *p, size_t n, int escapes,
                                      char *scratch, rev_slice *f)
{
    return fields_blocks(l, p, n, escapes, scratch, f, avx2_masks, popcount_hw);
}

static AVX2_TARGET const char *record_end_avx2(const char *p, const char *end, int escapes,
                                               size_t *inner)
{
    return record_end_blocks(p, end, escapes, inner, avx2_lfs, 32);
}
#endif /* x86-64 */

/* ---- selection ---------------------------------------------------------- */

typedef struct scan_impl {
    const char *name;
    size_t (*fields)(const rev_layout *, const char *, size_t, int, char *, rev_slice *);
    const char *(*record_end)(const char *, const char *, int, size_t *);
    /* rev_scan_line; NULL: the path has none (two passes) */
    size_t (*line)(const rev_layout *, const char *, const char *, int, rev_slice *,
                   const char **);
} scan_impl;

enum { IMPL_PORTABLE, IMPL_SSE2, IMPL_AVX2, IMPL_COUNT };

static const scan_impl impls[IMPL_COUNT] = {
    [IMPL_PORTABLE] = {"portable", fields_portable, record_end_portable, NULL},
#ifdef REV_SCAN_X86
    [IMPL_SSE2] = {"sse2", fields_sse2, record_end_sse2, line_sse2},
    [IMPL_AVX2] = {"avx2", fields_avx2, record_end_avx2, line_avx2},
#else
    [IMPL_SSE2] = {"sse2", NULL, NULL, NULL},
    [IMPL_AVX2] = {"avx2", NULL, NULL, NULL},
#endif
};

/* The path in use, or -1 before the first call. An int, not a pointer to
 * the table, so a plain atomic load suffices: every thread that finds -1
 * computes the same choice from the same environment, and the first store
 * wins (a rev_scan_use() before it is not overwritten). */
static atomic_int chosen = -1;

static int impl_available(int i)
{
#ifdef REV_SCAN_X86
    __builtin_cpu_init(); /* idempotent; needed if we run before constructors */
    if (i == IMPL_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#endif
    return impls[i].fields != NULL;
}

static int impl_best(void)
{
    int i = IMPL_COUNT - 1;
    while (!impl_available(i))
        i--;
    return i; /* portable is always available */
}

static int impl_named(const char *name)
{
    for (int i = 0; i < IMPL_COUNT; i++)
        if (strcmp(name, impls[i].name) == 0)
            return i;
    return -1;
}

/* SLUICE_REVENUE_SCANNER, or the best path when unset, "auto", unknown or
 * naming a path this CPU or build lacks: a config mistake must not crash. */
static int impl_from_env(void)
{
    const char *v = getenv("SLUICE_REVENUE_SCANNER");
    int i = v ? impl_named(v) : -1;
    return i >= 0 && impl_available(i) ? i : impl_best();
}

static const scan_impl *impl(void)
{
    int i = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (i < 0) {
        int none = -1;
        i = impl_from_env();
        if (!atomic_compare_exchange_strong(&chosen, &none, i))
            i = none; /* another thread chose first */
    }
    return &impls[i];
}

const char *rev_scan_impl(void)
{
    return impl()->name;
}

int rev_scan_use(const char *name)
{
    int i = strcmp(name, "auto") == 0 ? impl_best() : impl_named(name);
    if (i < 0 || !impl_available(i))
        return -1;
    atomic_store(&chosen, i);
    return 0;
}

const char *rev_scan_record_end(const char *p, const char *end, int escapes, size_t *inner)
{
    return impl()->record_end(p, end, escapes, inner);
}

size_t rev_scan_fields(const rev_layout *l, const char *p, size_t n, int escapes,
                       char *scratch, rev_slice *f)
{
    return impl()->fields(l, p, n, escapes, scratch, f);
}

size_t rev_scan_line(const rev_layout *l, const char *p, const char *end, int escapes,
                     rev_slice *f, const char **nl)
{
    const scan_impl *i = impl();
    return i->line ? i->line(l, p, end, escapes, f, nl) : 0;
}
