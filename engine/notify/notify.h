/* notify.h — what happens after a job: the job-state event (an
 * EventBridge-shaped JSON document, schemas/job-state-change.schema.json,
 * docs/notifications.md) and its delivery to the rule's targets.
 *
 * The `log` target is built in and always on: every FAILED job's event is
 * written to the log in full. Remote targets — sns (Publish, query API,
 * SigV4), eventbridge (PutEvents, JSON 1.1, SigV4) and webhook (POST,
 * optional HMAC signature) — live in notify_sns.c, notify_eventbridge.c
 * and notify_webhook.c behind notify_backend.h. Each delivery is retried
 * with backoff; one that still fails is written to the log with the full
 * event, so nothing is lost, and counted as a notification failure (the
 * job's state does not change). */
#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H

#include <jansson.h>

#include "config/config.h"
#include "core/job.h"
#include "util/log.h"

#define NOTIFY_SOURCE "sluice"
#define NOTIFY_DETAIL_TYPE "Sluice Job State Change"

/* The job-state event for a finished job (new reference). */
json_t *notify_job_event(const job_result *res);

/* Delivery for one batch of jobs: holds what targets share (credential
 * providers). Thread-safe; every call uses its own HTTP connection. */
typedef struct notifier notifier;

notifier *notifier_new(const config *cfg);
void notifier_free(notifier *nf);

/* Delivers `event` (of `res`) to the targets its rule asks for (the rule's
 * on_failure/on_success, else the top-level ones) and writes a FAILED
 * job's event to the log. Returns the number of deliveries that failed. */
int notifier_job(notifier *nf, const job_result *res, json_t *event);

/* Delivers `event` to one target, with retries. On success returns 0 and
 * copies the service's id for the message (SNS MessageId, EventBridge
 * EventId, webhook HTTP status) to id; on failure logs the full event and
 * returns -1 with the reason in why. */
int notifier_send(notifier *nf, const notify_target *t, json_t *event, const log_ctx *ctx,
                  char *id, size_t idlen, char *why, size_t whylen);

/* One-shot form of notifier_job for callers without a batch. */
int notify_job(const config *cfg, const job_result *res);

/* Fills `res` with a sample FAILED job, for `sluice notify-test`. */
void notify_sample_result(job_result *res);

#endif
