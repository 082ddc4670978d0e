/* Retry policy: which failures are retried, the full-jitter backoff's
 * bounds, the attempt and time budgets, cancellable sleeps. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdatomic.h>

#include "aws/retry.h"
#include "util/clock.h"
#include "tap.h"

static void test_classification(void)
{
    static const struct {
        int transport;
        long status;
        const char *code;
        retry_verdict want;
    } cases[] = {
        {1, 0, NULL, RETRY_BACKOFF},                         /* refused, reset, timed out */
        {1, 200, NULL, RETRY_BACKOFF},                       /* body cut short */
        {0, 500, "InternalError", RETRY_BACKOFF},
        {0, 500, NULL, RETRY_BACKOFF},
        {0, 502, NULL, RETRY_BACKOFF},
        {0, 503, "SlowDown", RETRY_BACKOFF},
        {0, 503, "ServiceUnavailable", RETRY_BACKOFF},
        {0, 504, NULL, RETRY_BACKOFF},
        {0, 429, NULL, RETRY_BACKOFF},
        {0, 400, "RequestTimeout", RETRY_BACKOFF},
        {0, 400, "Throttling", RETRY_BACKOFF},
        {0, 400, "ThrottlingException", RETRY_BACKOFF},
        {0, 400, "ThrottledException", RETRY_BACKOFF},
        {0, 400, "RequestLimitExceeded", RETRY_BACKOFF},
        {0, 200, "InternalError", RETRY_BACKOFF},            /* CompleteMultipartUpload */
        {0, 403, "ExpiredToken", RETRY_REFRESH_CREDS},
        {0, 400, "ExpiredToken", RETRY_REFRESH_CREDS},
        {0, 403, "InvalidToken", RETRY_REFRESH_CREDS},
        {0, 403, "AccessDenied", RETRY_NEVER},
        {0, 403, "SignatureDoesNotMatch", RETRY_NEVER},
        {0, 403, "InvalidAccessKeyId", RETRY_NEVER},
        {0, 403, NULL, RETRY_NEVER},
        {0, 404, "NoSuchKey", RETRY_NEVER},
        {0, 404, "NoSuchBucket", RETRY_NEVER},
        {0, 404, NULL, RETRY_NEVER},
        {0, 400, "InvalidArgument", RETRY_NEVER},
        {0, 400, "EntityTooSmall", RETRY_NEVER},
        {0, 400, NULL, RETRY_NEVER},
        {0, 412, "PreconditionFailed", RETRY_NEVER},
        {0, 416, "InvalidRange", RETRY_NEVER},
        {0, 501, "NotImplemented", RETRY_NEVER},
        {0, 409, "OperationAborted", RETRY_NEVER},
        {0, 200, "AccessDenied", RETRY_NEVER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        is_int(retry_classify(cases[i].transport, cases[i].status, cases[i].code), cases[i].want,
               "classify %s %ld %s", cases[i].transport ? "transport" : "http", cases[i].status,
               cases[i].code ? cases[i].code : "(no code)");
}

static void test_backoff_bounds(void)
{
    retry_policy p = {.max_attempts = 10, .base_ms = 100, .cap_ms = 2000, .max_total_ms = 0};
    uint64_t rng = 42;
    for (int failed = 1; failed <= 8; failed++) {
        long ceiling = 100L << (failed - 1);
        if (ceiling > 2000)
            ceiling = 2000;
        long lo = ceiling, hi = 0;
        int in_range = 1;
        for (int i = 0; i < 2000; i++) {
            long w = retry_backoff_ms(&p, failed, &rng);
            in_range &= w >= 0 && w <= ceiling;
            if (w < lo)
                lo = w;
            if (w > hi)
                hi = w;
        }
        ok(in_range, "after %d failures every wait is in [0, %ld] ms", failed, ceiling);
        /* full jitter spreads over the whole range, not around the ceiling */
        ok(lo < ceiling / 10 && hi > ceiling * 9 / 10,
           "after %d failures waits span the range (%ld..%ld of %ld)", failed, lo, hi, ceiling);
    }
    retry_policy zero = {.max_attempts = 3, .base_ms = 0, .cap_ms = 0};
    is_int(retry_backoff_ms(&zero, 3, &rng), 0, "a zero cap means no wait");
}

static void test_attempt_budget(void)
{
    retry_policy p = {.max_attempts = 3, .base_ms = 1, .cap_ms = 1, .max_total_ms = 0};
    retry_state st;
    retry_start(&st, &p);
    ok(retry_next_delay(&st) >= 0, "after attempt 1: another");
    ok(retry_next_delay(&st) >= 0, "after attempt 2: another");
    is_int(retry_next_delay(&st), -1, "after attempt 3 of 3: give up");
    is_int(st.total_attempts, 3, "three attempts counted");

    retry_start(&st, &p);
    retry_next_delay(&st);
    retry_next_delay(&st);
    retry_progress(&st);
    ok(retry_next_delay(&st) >= 0, "progress starts the count again");
    ok(retry_next_delay(&st) >= 0, "... and again");
    is_int(retry_next_delay(&st), -1, "until the budget is spent without progress");
    is_int(st.total_attempts, 5, "all attempts are still counted for messages");

    retry_policy once = {.max_attempts = 1, .base_ms = 100, .cap_ms = 100};
    retry_start(&st, &once);
    is_int(retry_next_delay(&st), -1, "max_attempts 1: never retried");
}

/* The time budget, checked against what retry_next_delay() promises and
 * not against how long the machine took: a wait is granted only when it
 * ends within max_total_ms of the start, measured when it is granted.
 * Elapsed time is steered by moving started_ms (the clock is monotonic, so
 * "at least this long ago" stays true however slow the machine is). */
static void test_time_budget(void)
{
    retry_policy p = {.max_attempts = 100, .base_ms = 20, .cap_ms = 20, .max_total_ms = 50};
    retry_state st;
    retry_start(&st, &p);
    int granted = 0, overrun = 0;
    long w;
    for (;;) {
        long long before = clock_mono_ms();
        if ((w = retry_next_delay(&st)) < 0)
            break;
        granted++;
        /* the wait ends within the budget, counted from before the call */
        if (before - st.started_ms + w > p.max_total_ms)
            overrun++;
        clock_sleep_ms(w, NULL);
        if (granted > 100)
            break;
    }
    ok(granted < 100, "the time budget stops retries before the attempts run out (%d granted)",
       granted);
    is_int(overrun, 0, "no granted wait ends past the budget");

    /* a budget already spent: nothing more, whatever the wait */
    retry_policy roomy = {.max_attempts = 100, .base_ms = 0, .cap_ms = 0, .max_total_ms = 50};
    retry_start(&st, &roomy);
    st.started_ms = clock_mono_ms() - 51;
    is_int(retry_next_delay(&st), -1, "51 ms after the start of a 50 ms budget: no more attempts");
    /* a wait well inside the budget is granted (60 s of room for a 20 ms wait) */
    retry_policy ample = {.max_attempts = 100, .base_ms = 20, .cap_ms = 20, .max_total_ms = 60000};
    retry_start(&st, &ample);
    w = retry_next_delay(&st);
    ok(w >= 0 && w <= 20, "inside the budget: a wait is granted (%ld ms)", w);
    /* retry_progress() starts the budget again */
    st.started_ms = clock_mono_ms() - 120000;
    is_int(retry_next_delay(&st), -1, "budget spent: refused");
    retry_progress(&st);
    ok(retry_next_delay(&st) >= 0, "after progress: the budget starts again");

    retry_policy quick = {.max_attempts = 5, .base_ms = 1000, .cap_ms = 1000, .max_total_ms = 10};
    retry_start(&st, &quick);
    uint64_t big = 0;
    /* a wait that would end after the budget is refused up front */
    int refused = 0;
    for (int i = 0; i < 20 && !refused; i++) {
        retry_start(&st, &quick);
        st.rng = big++;
        refused = retry_next_delay(&st) == -1;
    }
    ok(refused, "a wait ending past max_total_ms is refused");
}

static atomic_int cancel_later;

static void *set_cancel(void *ud)
{
    (void)ud;
    clock_sleep_ms(20, NULL); /* not synchronisation: the result is the same either way */
    atomic_store(&cancel_later, 1);
    return NULL;
}

/* A sleep lasts at least its time (a lower bound: never too short on a
 * slow machine); a cancelled one ends long before its time (60 s asked,
 * less than half of that allowed). */
static void test_sleep(void)
{
    atomic_int cancel = 0;
    long long t0 = clock_mono_ms();
    is_int(clock_sleep_ms(30, &cancel), 0, "an uncancelled sleep completes");
    ok(clock_mono_ms() - t0 >= 30, "and lasts its time");
    atomic_store(&cancel, 1);
    t0 = clock_mono_ms();
    is_int(clock_sleep_ms(60000, &cancel), -1, "a cancelled sleep returns -1");
    long long took = clock_mono_ms() - t0;
    ok(took < 30000, "without sleeping its 60 s (%lld ms)", took);

    /* cancelled while it sleeps, from another thread */
    pthread_t t;
    pthread_create(&t, NULL, set_cancel, NULL);
    t0 = clock_mono_ms();
    is_int(clock_sleep_ms(60000, &cancel_later), -1, "cancelled during the sleep: returns -1");
    took = clock_mono_ms() - t0;
    ok(took < 30000, "and wakes up long before its 60 s (%lld ms)", took);
    pthread_join(t, NULL);
}

static void test_defaults(void)
{
    retry_policy p;
    retry_policy_default(&p);
    is_int(p.max_attempts, 5, "default: 5 attempts");
    is_int(p.base_ms, 100, "default: 100 ms first ceiling");
    is_int(p.cap_ms, 20000, "default: 20 s largest wait");
    is_int(p.max_total_ms, 120000, "default: 120 s in all");
}

int main(void)
{
    test_classification();
    test_backoff_bounds();
    test_attempt_budget();
    test_time_budget();
    test_sleep();
    test_defaults();
    return done_testing();
}
