/* notify.h — what happens after a job: the job-state event (an
 * EventBridge-shaped JSON document, see docs/notifications.md) and its
 * delivery to the rule's notification targets.
 *
 * The `log` target is built in and always on: every FAILED job's event is
 * written to the log in full. Remote targets (sns, eventbridge, webhook)
 * are parsed and validated by the configuration; their delivery is the
 * notifier backends' job (see docs/notifications.md for the state). */
#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H

#include <jansson.h>

#include "config.h"
#include "job.h"

/* The job-state event for a finished job (new reference). */
json_t *notify_job_event(const job_result *res);
/* Delivers the event of `res` to the targets its rule asks for. Returns the
 * number of deliveries that failed (0 when all went out). */
int notify_job(const config *cfg, const job_result *res);

#endif
