#include "autoconfig.h"
#include "core/runid.h"

#include <ctype.h>
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

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

long long runid_time_ms(const char *id)
{
    if (!id || strlen(id) != 25 || id[8] != 'T' || id[15] != 'Z' || id[16] != '-')
        return -1;
    for (int i = 0; i < 25; i++) {
        if (i == 8 || i == 15 || i == 16)
            continue;
        if (i < 16 ? !isdigit((unsigned char)id[i]) : !isxdigit((unsigned char)id[i]))
            return -1;
    }
    struct tm tm = {0};
    tm.tm_year = digits(id, 4) - 1900;
    tm.tm_mon = digits(id + 4, 2) - 1;
    tm.tm_mday = digits(id + 6, 2);
    tm.tm_hour = digits(id + 9, 2);
    tm.tm_min = digits(id + 11, 2);
    tm.tm_sec = digits(id + 13, 2);
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    return (long long)timegm(&tm) * 1000;
}
