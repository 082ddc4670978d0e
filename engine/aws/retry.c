#include "autoconfig.h"
#include "aws/retry.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"

void retry_policy_default(retry_policy *p)
{
    p->max_attempts = RETRY_DEFAULT_ATTEMPTS;
    p->base_ms = RETRY_DEFAULT_BASE_MS;
    p->cap_ms = RETRY_DEFAULT_CAP_MS;
    p->max_total_ms = RETRY_DEFAULT_TOTAL_MS;
}

/* Codes that mean "busy or broken for a moment" whatever the status. */
static int transient_code(const char *code)
{
    static const char *const codes[] = {
        "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
        "RequestTimeoutException", "PriorRequestNotComplete", "TooManyRequestsException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "EC2ThrottledException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", NULL,
    };
    if (!code || !*code)
        return 0;
    /* Throttling, ThrottlingException, ThrottledException, ... */
    if (strncmp(code, "Throttl", 7) == 0)
        return 1;
    for (size_t i = 0; codes[i]; i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}

static int expired_credentials_code(const char *code)
{
    return code && (strcmp(code, "ExpiredToken") == 0 || strcmp(code, "InvalidToken") == 0 ||
                    strcmp(code, "ExpiredTokenException") == 0 ||
                    strcmp(code, "TokenRefreshRequired") == 0);
}

retry_verdict retry_classify(int transport_error, long status, const char *code)
{
    if (transport_error)
        return RETRY_BACKOFF;
    if (status == 403 || status == 400) {
        if (expired_credentials_code(code))
            return RETRY_REFRESH_CREDS;
    }
    if (transient_code(code))
        return RETRY_BACKOFF;
    switch (status) {
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
        return RETRY_BACKOFF;
    default:
        return RETRY_NEVER;
    }
}

/* splitmix64: enough to spread waits apart, one state per operation so
 * threads never share it. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t random_seed(const void *salt)
{
    uint64_t seed = 0;
    if (getentropy(&seed, sizeof seed) != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)salt ^
               ((uint64_t)getpid() << 16);
    }
    return seed;
}

void retry_start(retry_state *st, const retry_policy *p)
{
    memset(st, 0, sizeof *st);
    st->policy = p;
    st->started_ms = clock_mono_ms();
    st->rng = random_seed(st);
}

long retry_backoff_ms(const retry_policy *p, int failed, uint64_t *rng)
{
    long ceiling = p->base_ms > 0 ? p->base_ms : 1;
    for (int i = 1; i < failed && ceiling < p->cap_ms; i++)
        ceiling *= 2;
    if (ceiling > p->cap_ms)
        ceiling = p->cap_ms;
    if (ceiling <= 0)
        return 0;
    return (long)(next_random(rng) % (uint64_t)(ceiling + 1));
}

long retry_next_delay(retry_state *st)
{
    const retry_policy *p = st->policy;
    st->attempts++;
    st->total_attempts++;
    if (st->attempts >= p->max_attempts)
        return -1;
    long wait = retry_backoff_ms(p, st->attempts, &st->rng);
    if (p->max_total_ms > 0 && clock_mono_ms() + wait - st->started_ms > p->max_total_ms)
        return -1;
    return wait;
}

void retry_progress(retry_state *st)
{
    st->attempts = 0;
    st->started_ms = clock_mono_ms();
}

