/* clock.c — wall and monotonic time (clock.h). */
#include "autoconfig.h"
#include "util/clock.h"

#include <errno.h>
#include <stdio.h>

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
