/* test_rev_scan.c — the scanner's paths (rev_scan.h) against each other.
 * The portable path is the reference (test_revenue checks it against a
 * naive split); every SIMD path this CPU has must give the very same
 * results: field count, each needed value (same offset into the record, or
 * same bytes in scratch), record end and inner LFs. Inputs are random and
 * hostile: every start alignment in a block, lengths across block edges,
 * TAB / LF / backslash as the bytes just outside the record (an over-read
 * changes the answer), layouts reading the first, middle, last, missing or
 * no columns. A path the CPU lacks is a TAP skip.
 *
 *   test_rev_scan            the tests
 *   test_rev_scan --impl     print rev_scan_impl() (the environment test) */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rev_scan.h"
#include "tap.h"

enum { MAX_LEN = 300, ALIGNS = 64, NCOLS = 400, BUF = 512 /* 64 + ALIGNS + MAX_LEN + 64, rounded */ };

static uint64_t prng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- layouts -------------------------------------------------------------- */

typedef struct layout_case {
    const char *name;
    size_t n;
    uint32_t cols[REV_ROLE_COUNT]; /* ascending, as rev_layout_build makes them */
} layout_case;

/* Records have up to MAX_LEN + 1 fields, most a few dozen. */
static const layout_case layouts[] = {
    {"start", 3, {0, 1, 2}},
    {"middle", 4, {5, 17, 18, 40}},
    {"spread", 8, {3, 30, 64, 100, 150, 200, 250, 300}},
    {"dense", 11, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
    {"end", 2, {NCOLS - 2, NCOLS - 1}},
    {"beyond", 2, {350, 399}},
    {"none", 0, {0}},
};
enum { NLAYOUTS = sizeof layouts / sizeof layouts[0] };

/* Role j reads column cols[j]; the rest are skipped. */
static void layout_make(rev_layout *l, const layout_case *c)
{
    memset(l, 0, sizeof *l);
    l->ncols = NCOLS;
    l->roles = malloc(NCOLS);
    if (!l->roles)
        abort();
    memset(l->roles, -1, NCOLS);
    for (size_t j = 0; j < c->n; j++) {
        l->need[j].col = c->cols[j];
        l->need[j].role = (uint8_t)j;
        l->roles[c->cols[j]] = (signed char)j;
    }
    l->nneed = c->n;
}

/* ---- records -------------------------------------------------------------- */

/* A random record: TAB density and the presence of backslashes vary per
 * record, so both long skipped runs and the escaped path are common. */
static size_t record_fill(char *p, uint64_t *seed)
{
    size_t n = prng(seed) % (MAX_LEN + 1);
    unsigned tabs = (unsigned)(prng(seed) % 4) * 12 + 1; /* per 100 bytes: 1..37 */
    unsigned bs = prng(seed) % 2 ? 4 : 0;
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)(prng(seed) % 100);
        uint64_t x = prng(seed);
        if (r < tabs)
            p[i] = '\t';
        else if ((r -= tabs) < 5)
            p[i] = '\n';
        else if ((r -= 5) < bs)
            p[i] = '\\';
        else if ((r -= bs) < 3)
            p[i] = '\r';
        else if ((r -= 3) < 6)
            p[i] = (char)(0x80 | (x & 0x7f)); /* high bytes: signed char traps */
        else if ((r -= 6) < 1)
            p[i] = '\0'; /* the SIMD tail pads with NUL */
        else
            p[i] = 'a';
    }
    return n;
}

/* ---- one comparison ------------------------------------------------------- */

typedef struct scan_result {
    size_t nfields;
    rev_slice f[REV_ROLE_COUNT];
    long end; /* offset of the record end, -1 for NULL */
    size_t inner;
} scan_result;

static const char UNSET[] = "unset";

static void scan(const rev_layout *l, const char *p, size_t n, int escapes, char *scratch,
                 scan_result *r)
{
    for (size_t j = 0; j < REV_ROLE_COUNT; j++)
        r->f[j] = (rev_slice){UNSET, 1234};
    r->nfields = rev_scan_fields(l, p, n, escapes, scratch, r->f);
    const char *e = rev_scan_record_end(p, p + n, escapes, &r->inner);
    r->end = e ? (long)(e - p) : -1;
}

/* A value as (where, offset): 0 untouched, 1 in the record, 2 in scratch. */
static int slice_where(rev_slice s, const char *p, size_t n, const char *scratch, size_t *off)
{
    if (s.p == UNSET && s.n == 1234)
        return 0;
    if (s.p >= p && s.p + s.n <= p + n) {
        *off = (size_t)(s.p - p);
        return 1;
    }
    if (s.p >= scratch && s.p + s.n <= scratch + MAX_LEN) {
        *off = (size_t)(s.p - scratch);
        return 2;
    }
    return 3; /* anywhere else is a bug */
}

/* Why a and b differ (NULL when they don't). */
static const char *result_diff(const scan_result *a, const char *sa, const scan_result *b,
                               const char *sb, const char *p, size_t n)
{
    if (a->nfields != b->nfields)
        return "field count";
    if (a->end != b->end)
        return "record end";
    if (a->inner != b->inner)
        return "inner LF count";
    for (size_t j = 0; j < REV_ROLE_COUNT; j++) {
        size_t oa = 0, ob = 0;
        int wa = slice_where(a->f[j], p, n, sa, &oa), wb = slice_where(b->f[j], p, n, sb, &ob);
        if (wa == 3 || wa != wb || oa != ob || a->f[j].n != b->f[j].n)
            return "a needed value's place or length";
        if (wa == 2 && memcmp(a->f[j].p, b->f[j].p, a->f[j].n) != 0)
            return "an unescaped value's bytes";
    }
    return NULL;
}

static void dump_record(const char *p, size_t n)
{
    printf("#   record (%zu bytes):", n);
    for (size_t i = 0; i < n; i++)
        printf(" %02x", (unsigned char)p[i]);
    printf("\n");
}

/* ---- the random comparison ------------------------------------------------ */

typedef struct tally {
    size_t records, escaped, long_records, many_fields, one_pass;
} tally;

/* rev_scan_line on `path` against the two passes on portable (the record's
 * end, then its fields without the LF and a CR before it): where the one
 * pass answers, the same end, no escaped LF, the same fields. 0, or 1
 * when they differ (printed). */
static int compare_line(const char *path, const rev_layout *l, int escapes, const char *p,
                        size_t n, char *scratch, tally *t)
{
    scan_result one, two;
    for (size_t j = 0; j < REV_ROLE_COUNT; j++)
        one.f[j] = two.f[j] = (rev_slice){UNSET, 1234};
    const char *nl = NULL;
    one.nfields = rev_scan_line(l, p, p + n, escapes, one.f, &nl);
    if (!one.nfields)
        return 0;
    t->one_pass++;
    rev_scan_use("portable");
    const char *e = rev_scan_record_end(p, p + n, escapes, &two.inner);
    size_t m = e ? (size_t)(e - p) : 0;
    if (m && p[m - 1] == '\r')
        m--;
    two.nfields = e ? rev_scan_fields(l, p, m, escapes, scratch, two.f) : 0;
    rev_scan_use(path);
    one.end = nl ? (long)(nl - p) : -1;
    one.inner = 0;
    two.end = e ? (long)(e - p) : -1;
    const char *why = result_diff(&two, scratch, &one, scratch, p, n);
    if (!why)
        return 0;
    printf("# %s: one pass and two differ: %s (one: %zu fields, end %ld; two: %zu, end %ld)\n",
           path, why, one.nfields, one.end, two.nfields, two.end);
    dump_record(p, n);
    return 1;
}

/* Records at every alignment, the bytes around them poisoned; `path` and
 * portable must agree on all. Returns the first difference (printed). */
static int compare_path(const char *path, const rev_layout *l, const char *lname, int escapes,
                        uint64_t seed, int per_align, tally *t)
{
    static const char poison[] = "\t\n\\a";
    char *buf = aligned_alloc(64, BUF);
    char *s0 = malloc(MAX_LEN), *s1 = malloc(MAX_LEN);
    if (!buf || !s0 || !s1)
        abort();
    int bad = 0;
    for (size_t a = 0; a < ALIGNS && !bad; a++) {
        for (int it = 0; it < per_align && !bad; it++) {
            memset(buf, poison[prng(&seed) % 4], BUF);
            char *p = buf + 64 + a;
            size_t n = record_fill(p, &seed);
            scan_result r0, r1;
            rev_scan_use("portable");
            scan(l, p, n, escapes, s0, &r0);
            if (rev_scan_use(path) != 0)
                abort();
            scan(l, p, n, escapes, s1, &r1);
            const char *why = result_diff(&r0, s0, &r1, s1, p, n);
            if (!why && compare_line(path, l, escapes, p, n, s0, t))
                why = "one pass";
            if (why) {
                bad = 1;
                printf("# %s, layout %s, escapes %d, alignment %zu: %s differs\n", path, lname,
                       escapes, a, why);
                printf("#   portable: %zu fields, end %ld, inner %zu; %s: %zu fields, end %ld, "
                       "inner %zu\n", r0.nfields, r0.end, r0.inner, path, r1.nfields, r1.end,
                       r1.inner);
                dump_record(p, n);
            }
            t->records++;
            t->escaped += escapes && memchr(p, '\\', n) != NULL;
            t->long_records += n >= 128;
            t->many_fields += r0.nfields > 64;
        }
    }
    free(buf);
    free(s0);
    free(s1);
    return bad;
}

static void test_path(const char *path, int available)
{
    if (!available) {
        tap_skip("%s: this CPU or build lacks it", path);
        return;
    }
    tally t = {0};
    for (int escapes = 0; escapes <= 1; escapes++) {
        for (size_t k = 0; k < NLAYOUTS; k++) {
            rev_layout l;
            layout_make(&l, &layouts[k]);
            uint64_t seed = 0x9e3779b97f4a7c15ULL + k * 7919 + (uint64_t)escapes;
            int bad = compare_path(path, &l, layouts[k].name, escapes, seed, 30, &t);
            ok(!bad, "%s = portable: layout %s, escapes %s, %d records", path, layouts[k].name,
               escapes ? "on" : "off", ALIGNS * 30);
            rev_layout_clear(&l);
        }
    }
    /* the random inputs did reach the cases that matter */
    ok(t.escaped > t.records / 8 && t.long_records > t.records / 4 &&
           t.many_fields > t.records / 20,
       "%s: %zu records, %zu escaped, %zu of 128+ bytes, %zu with 64+ fields", path, t.records,
       t.escaped, t.long_records, t.many_fields);
    ok(t.one_pass > t.records / 20, "%s: the one-pass scan answered for %zu records (each equal "
       "to the two passes)", path, t.one_pass);
}

/* Hand-made records on block edges: a TAB, backslash or escaped LF as the
 * last byte of a block, the first of the next, the last of the record. */
static void test_edges(const char *path, int available)
{
    if (!available) {
        tap_skip("%s: block edges: this CPU or build lacks it", path);
        return;
    }
    static const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200};
    static const char *const pats[] = {"\t", "\\", "\\\t", "\\\n", "\\\\\n", "\n", "\t\t"};
    rev_layout l[NLAYOUTS];
    for (size_t k = 0; k < NLAYOUTS; k++)
        layout_make(&l[k], &layouts[k]);
    char *buf = aligned_alloc(64, BUF), s0[MAX_LEN], s1[MAX_LEN];
    if (!buf)
        abort();
    int bad = 0;
    size_t cases = 0;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (size_t pi = 0; pi < sizeof pats / sizeof pats[0]; pi++)
            for (size_t at = 0; at + strlen(pats[pi]) <= lens[li]; at++)
                for (size_t a = 0; a < 2; a++)
                    for (size_t k = 0; k < NLAYOUTS; k++)
                        for (int esc = 0; esc <= 1 && !bad; esc++) {
                            char *p = buf + 64 + a * 31;
                            memset(buf, '\t', BUF);
                            memset(p, 'x', lens[li]);
                            memcpy(p + at, pats[pi], strlen(pats[pi]));
                            scan_result r0, r1;
                            rev_scan_use("portable");
                            scan(&l[k], p, lens[li], esc, s0, &r0);
                            rev_scan_use(path);
                            scan(&l[k], p, lens[li], esc, s1, &r1);
                            const char *why = result_diff(&r0, s0, &r1, s1, p, lens[li]);
                            cases++;
                            if (why) {
                                bad = 1;
                                printf("# %s: %s differs (layout %s, escapes %d)\n", path, why,
                                       layouts[k].name, esc);
                                dump_record(p, lens[li]);
                            }
                        }
    ok(!bad, "%s = portable on %zu block-edge records", path, cases);
    free(buf);
    for (size_t k = 0; k < NLAYOUTS; k++)
        rev_layout_clear(&l[k]);
}

/* ---- selection ------------------------------------------------------------ */

/* rev_scan_impl() of a fresh process with SLUICE_REVENUE_SCANNER = value
 * (NULL: unset): this program re-run with --impl. */
static const char *impl_in_child(const char *self, const char *value, char *out, size_t cap)
{
    int fd[2];
    if (pipe(fd) != 0)
        return "pipe failed";
    pid_t pid = fork();
    if (pid < 0)
        return "fork failed";
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        if (value)
            setenv("SLUICE_REVENUE_SCANNER", value, 1);
        else
            unsetenv("SLUICE_REVENUE_SCANNER");
        execl(self, self, "--impl", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd[0], out + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = '\0';
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return out;
}

static void test_selection(const char *self, const char *best, int has_sse2, int has_avx2)
{
    is_int(rev_scan_use("no-such-path"), -1, "an unknown name is refused");
    is_int(rev_scan_use("auto"), 0, "auto is always there");
    is_str(rev_scan_impl(), best, "auto picks %s", best);
    is_int(rev_scan_use("portable"), 0, "portable is always there");
    is_str(rev_scan_impl(), "portable", "rev_scan_use(portable) switches");
    is_int(rev_scan_use("avx2"), has_avx2 ? 0 : -1, "avx2 %s", has_avx2 ? "usable" : "refused");
    is_str(rev_scan_impl(), has_avx2 ? "avx2" : "portable", "a refused path changes nothing");

    static const struct {
        const char *value;
        int need; /* 0: any CPU, 1: needs sse2, 2: needs avx2 */
        const char *want; /* NULL: the best */
    } env[] = {{NULL, 0, NULL},      {"auto", 0, NULL},    {"portable", 0, "portable"},
               {"sse2", 1, "sse2"},  {"avx2", 2, "avx2"},  {"AVX512", 0, NULL},
               {"", 0, NULL}};
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
        int have = env[i].need == 0 || (env[i].need == 1 ? has_sse2 : has_avx2);
        const char *want = env[i].want && have ? env[i].want : best;
        char out[64];
        is_str(impl_in_child(self, env[i].value, out, sizeof out), want,
               "SLUICE_REVENUE_SCANNER=%s%s: %s", env[i].value ? env[i].value : "(unset)",
               have ? "" : " (not on this CPU)", want);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--impl") == 0) {
        printf("%s", rev_scan_impl());
        return 0;
    }
    /* the first use in this process: the environment decides */
    setenv("SLUICE_REVENUE_SCANNER", "portable", 1);
    is_str(rev_scan_impl(), "portable", "SLUICE_REVENUE_SCANNER=portable selects portable");

    int has_sse2 = rev_scan_use("sse2") == 0, has_avx2 = rev_scan_use("avx2") == 0;
    const char *best = has_avx2 ? "avx2" : has_sse2 ? "sse2" : "portable";
    printf("# paths on this CPU: portable%s%s\n", has_sse2 ? " sse2" : "", has_avx2 ? " avx2" : "");

    test_selection(argv[0], best, has_sse2, has_avx2);
    test_path("sse2", has_sse2);
    test_path("avx2", has_avx2);
    test_edges("sse2", has_sse2);
    test_edges("avx2", has_avx2);
    return done_testing();
}
