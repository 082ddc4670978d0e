#include "autoconfig.h"
#include "core/runid.h"

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
