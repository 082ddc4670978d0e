/* notify_backend.h — the small interface behind each remote notification
 * target type, and what the backends share. Internal to notify*.c (and
 * their unit tests).
 *
 * A backend sends one event once; notify.c owns the retries, the backoff
 * and the logging of what could not be delivered. */
#ifndef SLUICE_NOTIFY_BACKEND_H
#define SLUICE_NOTIFY_BACKEND_H

#include <jansson.h>
#include <stddef.h>

#include "aws/sigv4.h"
#include "config/config.h"
#include "net/http.h"
#include "notify/notifier.h"
#include "notify/notify.h"
#include "util/error.h"

typedef enum notify_status {
    NOTIFY_SENT = 0,
    NOTIFY_RETRY,   /* transient: try again after a backoff */
    NOTIFY_REFRESH, /* the credentials expired: refresh them, then try again */
    NOTIFY_FAILED   /* final */
} notify_status;

typedef struct notify_delivery {
    notifier *nf;
    http_client *http;           /* one per delivery, reused by its retries */
    const notify_target *target;
    const json_t *event;         /* the job-state event (borrowed) */
    char id[160];                /* out: MessageId, EventId, "HTTP 200" */
    char error[1200];            /* out: why it failed */
} notify_delivery;

typedef struct notify_backend {
    const char *type;
    notify_status (*send)(notify_delivery *d);
} notify_backend;

extern const notify_backend notify_sns_backend;
extern const notify_backend notify_eventbridge_backend;
extern const notify_backend notify_webhook_backend;

/* --- shared helpers (notify.c) ------------------------------------------ */

/* The status for a failed HTTP exchange, AWS style (retry.h). */
notify_status notify_classify(int transport_error, long status, const char *code);

/* Measures how big an event would be on the wire for a target. */
typedef size_t (*notify_measure_fn)(const json_t *event, void *ud);
/* Shortens `event` (in place) until measure(event) <= limit: first
 * detail.error.message (its head is kept, at least 256 bytes), then
 * detail.skip_reason, then detail.stats (emptied), recording each field
 * it shortened in detail.truncated. Never breaks the JSON. Returns 0 when
 * it fits, -1 when it cannot be made to fit. */
int notify_fit_event(json_t *event, notify_measure_fn measure, void *ud, size_t limit);

/* Current credentials for a target's profile (NULL: the default chain),
 * from a provider the notifier keeps. Returns 0 or -1 with err set. */
int notifier_credentials(notifier *nf, const char *profile, aws_credentials *out, sl_error *err);
void notifier_invalidate_credentials(notifier *nf, const char *profile);

/* --- AWS calls (notify_aws.c) ------------------------------------------- */

typedef struct notify_aws_call {
    const char *service;      /* SigV4 name: "sns", "events" */
    const char *env_suffix;   /* AWS_ENDPOINT_URL_<suffix>: "SNS", "EVENTBRIDGE" */
    const char *region_hint;  /* from an ARN, used before the environment; or NULL */
    const char *content_type;
    const char *amz_target;   /* X-Amz-Target, or NULL */
    const char *body;
    size_t body_len;
} notify_aws_call;

/* Resolves region, endpoint and credentials for d->target, signs and POSTs
 * `call`. Returns 0 when a response arrived (any status), or the status to
 * report (with d->error set) when none did. */
int notify_aws_post(notify_delivery *d, const notify_aws_call *call, http_response *resp,
                    notify_status *fail);
/* --- SNS (notify_sns.c), exposed for tests -------------------------------- */

#define SNS_SUBJECT_MAX 99   /* AWS: "less than 100 characters" */
#define SNS_MESSAGE_MAX (256 * 1024)
#define SNS_EVENT_ATTRIBUTE "sluice_event"

/* The Subject: printable ASCII, at most SNS_SUBJECT_MAX characters, saying
 * what happened to what ("sluice FAILED (input): revenue s3://b/k").
 * `prefix` may be NULL. Caller frees. */
char *notify_sns_subject(const json_t *event, const char *prefix);
/* The Message: a plain-text e-mail for a person. Caller frees. */
char *notify_sns_message(const json_t *event);
/* The Publish request body (application/x-www-form-urlencoded), with the
 * event shortened to fit SNS's 256 KB. NULL when it cannot fit. */
char *notify_sns_request(const notify_target *t, const json_t *event);

/* --- EventBridge (notify_eventbridge.c), exposed for tests ------------------ */

#define EVENTBRIDGE_ENTRY_MAX (256 * 1024)

/* The PutEvents request body: one entry, under 256 KB. NULL when it
 * cannot fit. */
char *notify_eventbridge_request(const notify_target *t, const json_t *event);

/* --- webhook (notify_webhook.c), exposed for tests --------------------------- */

/* "sha256=<hex HMAC-SHA256 of body keyed by secret>" into out (72 bytes). */
void notify_webhook_signature(const char *secret, const void *body, size_t len, char out[72]);

#endif
