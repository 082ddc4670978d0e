/* clock.c — wall and monotonic time (clock.h). */
#include "autoconfig.h"
#include "util/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long long clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double clock_mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int clock_parse_iso(const char *text, long long *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(text, "%Y-%m-%dT%H:%M", &tm);
    if (end && *end == ':')
        end = strptime(end, ":%S", &tm);
    int frac = 0;
    if (end && *end == '.') {
        int digits = 0;
        for (end++; *end >= '0' && *end <= '9'; end++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*end - '0');
        for (; digits > 0 && digits < 3; digits++)
            frac *= 10;
    }
    if (!end || strcmp(end, "Z") != 0)
        return -1;
    *ms = (long long)timegm(&tm) * 1000 + frac;
    return 0;
}

/* SLUICE_FAKE_NOW: a time, or a file holding one (tests only). */
static int fake_now(long long *ms)
{
    const char *v = getenv("SLUICE_FAKE_NOW");
    if (!v || !*v)
        return -1;
    if (v[0] != '/')
        return clock_parse_iso(v, ms);
    char buf[64] = "";
    FILE *f = fopen(v, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    return clock_parse_iso(buf, ms);
}

long long clock_schedule_now_ms(void)
{
    long long ms;
    return fake_now(&ms) == 0 ? ms : clock_now_ms();
}

void clock_format_date(time_t t, char buf[11])
{
    struct tm tm;
    /* %Y does not pad years before 1000; dates here always have 4 digits */
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        snprintf(buf, 11, "0000-00-00");
        return;
    }
    snprintf(buf, 11, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}

void clock_format_iso_ms(long long epoch_ms, char buf[32])
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 32 - n, ".%03dZ", (int)(epoch_ms % 1000));
}

int clock_sleep_ms(long ms, const atomic_int *cancel)
{
    long long end = clock_mono_ms() + ms;
    for (;;) {
        if (cancel && atomic_load(cancel))
            return -1;
        long long left = end - clock_mono_ms();
        if (left <= 0)
            return 0;
        /* short slices, so a cancelled job does not wait out a long backoff */
        long slice = left > 50 ? 50 : (long)left;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}
