/* event.h — intake events parsed into one normalised record per object.
 *
 * Accepted shapes (real S3 and moto 5.2 both; see docs/events.md):
 *   - S3 event notification {"Records":[...]}, keys form-URL-encoded;
 *   - EventBridge {"source":"aws.s3","detail-type":"Object Created"...},
 *     keys as stored;
 *   - an SNS envelope {"Type":"Notification","Message":"<json>"} holding
 *     either of the above;
 *   - an SQS ReceiveMessage result or one SQS message {"Body":"<json>"}
 *     holding any of the above.
 * s3:TestEvent and removals are acknowledged: they parse without error
 * and come back as records of kind EVENT_SKIP with a reason. */
#ifndef SLUICE_EVENT_H
#define SLUICE_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/error.h"

typedef enum event_kind {
    EVENT_OBJECT_CREATED = 0, /* something to process */
    EVENT_SKIP                /* acknowledged, nothing to do (see reason) */
} event_kind;

typedef struct event_record {
    event_kind kind;
    char *skip_reason;  /* EVENT_SKIP: "s3:TestEvent", "ObjectRemoved:Delete", ... */
    char *source;       /* "s3", "eventbridge" (after unwrapping SNS/SQS) */
    char *bucket;       /* plain */
    char *key;          /* decoded: the key as stored */
    int64_t size;       /* -1 when absent */
    char *etag;         /* NULL when absent; surrounding quotes removed */
    char *version_id;   /* NULL when absent */
    char *sequencer;    /* NULL when absent */
    char *event_name;   /* normalised S3 style, "ObjectCreated:Put" */
    time_t event_time;  /* seconds since the epoch, UTC; 0 when absent */
    char *event_time_iso; /* as received, NULL when absent */
} event_record;

typedef struct event_batch {
    event_record *records;
    size_t count;
} event_batch;

/* Parse one event document. On error fills `err` (kind SL_ERR_INPUT) with a
 * message naming the offending field, e.g.
 *   "Records[0].s3.object.key: missing" and returns -1; `out` is then empty.
 * `out` must be freed with event_batch_free() in every case. */
int event_parse(const char *json, size_t len, event_batch *out, sl_error *err);
void event_batch_free(event_batch *batch);

/* MinIO ("minio:s3") and Ceph RGW ("ceph:s3") webhooks send S3-shaped
 * Records under their own eventSource; Ceph writes the size as a string
 * and an empty versionId. Rewrites such records of a parsed document into
 * the AWS shape, in place. Returns 1 when something changed. */
int event_normalise_compatible(json_t *doc);

/* Parse ISO 8601 UTC "2026-11-20T09:15:42.118Z" (fraction and Z optional,
 * as moto omits the Z). Returns 0 and sets *out, or -1. */
int event_parse_time(const char *iso, time_t *out);

#endif
