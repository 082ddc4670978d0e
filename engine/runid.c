#include "autoconfig.h"
#include "runid.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>

void runid_make(time_t t, char buf[RUNID_MAX])
{
    struct tm tm;
    unsigned char rnd[4] = {0};
    gmtime_r(&t, &tm);
    /* getrandom() cannot fail for 4 bytes once the pool is ready; should it,
     * the clock still makes the id unique enough to read, just not to trust. */
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        memcpy(rnd, &tv.tv_usec, sizeof rnd);
    }
    size_t n = strftime(buf, RUNID_MAX, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(buf + n, RUNID_MAX - n, "-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
}

void format_date_utc(time_t t, char buf[11])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
}

void format_iso_utc_ms(long long epoch_ms, char buf[32])
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 32 - n, ".%03dZ", (int)(epoch_ms % 1000));
}

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
