/* retry.h — whether an AWS request that failed is worth another try, and
 * how long to wait first: exponential backoff with full jitter, bounded by
 * a number of attempts and by the total time spent.
 *
 * Worth retrying: connection failures and timeouts, 500, 502, 503 (SlowDown,
 * ServiceUnavailable), 504, 429, 400 RequestTimeout and throttling codes.
 * 403 ExpiredToken / InvalidToken ask for fresh credentials (once). Every
 * other 4xx is final. */
#ifndef SLUICE_RETRY_H
#define SLUICE_RETRY_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct retry_policy {
    int max_attempts;  /* attempts in all, first included (>= 1) */
    long base_ms;      /* ceiling of the first wait */
    long cap_ms;       /* ceiling of any single wait */
    long max_total_ms; /* no new attempt once this long has passed since the first; 0: no limit */
} retry_policy;

#define RETRY_DEFAULT_ATTEMPTS 5
#define RETRY_DEFAULT_BASE_MS 100
#define RETRY_DEFAULT_CAP_MS 20000
#define RETRY_DEFAULT_TOTAL_MS 120000

/* The defaults above. */
void retry_policy_default(retry_policy *p);

typedef enum retry_verdict {
    RETRY_NEVER = 0,       /* final: report it */
    RETRY_BACKOFF,         /* transient: wait, then try again */
    RETRY_REFRESH_CREDS    /* the credentials expired: refresh, then try again once */
} retry_verdict;

/* Classifies one failed attempt: transport_error is non-zero when no HTTP
 * response arrived (connection refused or reset, timeout, truncated body);
 * otherwise status is the HTTP status and code the S3 error code from the
 * body (NULL when there was none). A 2xx carrying an <Error> (S3's
 * CompleteMultipartUpload) is classified by its code. */
retry_verdict retry_classify(int transport_error, long status, const char *code);

/* The state of one operation's attempts. */
typedef struct retry_state {
    const retry_policy *policy;
    int attempts;          /* failed attempts since the start or the last progress */
    int total_attempts;    /* all attempts, for messages */
    long long started_ms;  /* monotonic */
    uint64_t rng;
    int refreshed;         /* credentials were refreshed once already */
} retry_state;

void retry_start(retry_state *st, const retry_policy *p);
/* Records a failed attempt. Returns how long to wait (ms, >= 0) before the
 * next one, or -1 when the attempts or the time are used up. */
long retry_next_delay(retry_state *st);
/* A streamed transfer that moved bytes before failing starts its count
 * and its time budget again: resuming it is progress, not a repeated
 * failure. */
void retry_progress(retry_state *st);
/* Full jitter: a uniform draw in [0, min(cap, base * 2^(failed - 1))] for
 * the wait after `failed` failed attempts (>= 1). */
long retry_backoff_ms(const retry_policy *p, int failed, uint64_t *rng);

#endif
