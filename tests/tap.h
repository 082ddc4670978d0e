/* tap.h — a minimal TAP producer for the C unit tests (header only).
 *
 *   plan_lazy();                       // or nothing: done_testing() prints the plan
 *   ok(cond, "name %d", i);
 *   is_int(got, want, "name");  is_str(got, want, "name");
 *   is_mem(got, gotlen, want, wantlen, "name");
 *   tap_skip("why: not run here");
 *   return done_testing();
 *
 * Each test program is run by automake's tap-driver.sh; every assertion is
 * one counted test. A failure prints got/want as TAP diagnostics. */
#ifndef SLUICE_TAP_H
#define SLUICE_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n_ = 0, tap_failed_ = 0;

static inline int tap_report_(int pass, const char *fmt, va_list ap)
{
    ++tap_n_;
    if (!pass)
        ++tap_failed_;
    printf("%s %d - ", pass ? "ok" : "not ok", tap_n_);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    return pass;
}

static inline __attribute__((format(printf, 2, 3))) int ok(int pass, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = tap_report_(pass, fmt, ap);
    va_end(ap);
    return r;
}

static inline __attribute__((format(printf, 3, 4))) int is_int(int64_t got, int64_t want,
                                                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = tap_report_(got == want, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got:  %" PRId64 "\n#   want: %" PRId64 "\n", got, want);
    return r;
}

static inline __attribute__((format(printf, 3, 4))) int is_str(const char *got, const char *want,
                                                               const char *fmt, ...)
{
    int pass = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);
    va_list ap;
    va_start(ap, fmt);
    int r = tap_report_(pass, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got:  \"%s\"\n#   want: \"%s\"\n", got ? got : "(null)", want ? want : "(null)");
    return r;
}

static inline __attribute__((format(printf, 5, 6))) int is_mem(const void *got, size_t gotlen,
                                                               const void *want, size_t wantlen,
                                                               const char *fmt, ...)
{
    int pass = gotlen == wantlen && (gotlen == 0 || memcmp(got, want, gotlen) == 0);
    va_list ap;
    va_start(ap, fmt);
    int r = tap_report_(pass, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got:  %zu bytes \"%.*s\"\n#   want: %zu bytes \"%.*s\"\n", gotlen,
               (int)gotlen, (const char *)got, wantlen, (int)wantlen, (const char *)want);
    return r;
}

/* A test not run here (e.g. the CPU lacks a feature): TAP `# SKIP`, counted
 * as passed. */
static inline __attribute__((format(printf, 1, 2))) void tap_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("ok %d # SKIP ", ++tap_n_);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

static inline void diag_note(const char *msg)
{
    printf("# %s\n", msg);
}

static inline int done_testing(void)
{
    printf("1..%d\n", tap_n_);
    return tap_failed_ ? 1 : 0;
}

#endif
