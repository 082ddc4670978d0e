/* notifier.h — delivering job-state events (notify.h) to the targets a
 * rule asks for: the built-in log target, and the remote ones behind
 * notify_backend.h, each with retries and backoff. A delivery that still
 * fails is written to the log with the full event, so nothing is lost.
 */
#ifndef SLUICE_NOTIFIER_H
#define SLUICE_NOTIFIER_H

#include <jansson.h>
#include <stddef.h>

#include "config/config.h"
#include "core/job.h"
#include "util/log.h"

/* Delivery for one batch of jobs: holds what targets share (credential
 * providers). Thread-safe; every call uses its own HTTP connection. */
typedef struct notifier notifier;

notifier *notifier_new(const config *cfg);
void notifier_free(notifier *nf);

/* Delivers `event` (of `res`) to the targets its rule asks for (the rule's
 * on_failure/on_success, else the top-level ones) and writes a FAILED
 * job's event to the log. Returns the number of deliveries that failed. */
int notifier_job(notifier *nf, const job_result *res, json_t *event);

/* Delivers an alarm — an event that is not a job's end: the MISSING event
 * of an expected arrival, the QUARANTINED event of a spooled event — of
 * rule `rule_name` (NULL: none) to its on_failure targets (else the
 * top-level ones) and writes it to the log in full, level error, with the
 * message `what`. Returns the number of deliveries that failed. */
int notifier_alarm(notifier *nf, const char *rule_name, json_t *event, const char *what);

/* Delivers `event` to one target, with retries. On success returns 0 and
 * copies the service's id for the message (SNS MessageId, EventBridge
 * EventId, webhook HTTP status) to id; on failure logs the full event and
 * returns -1 with the reason in why. */
int notifier_send(notifier *nf, const notify_target *t, json_t *event, const log_ctx *ctx,
                  char *id, size_t idlen, char *why, size_t whylen);

#endif
