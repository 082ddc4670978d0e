/* aws_json.h — calls to AWS JSON-protocol APIs (SQS, EventBridge, ...):
 * POST / with X-Amz-Target, signed with SigV4 for the service. */
#ifndef SLUICE_AWS_JSON_H
#define SLUICE_AWS_JSON_H

#include <jansson.h>

#include "aws/aws_credentials.h"
#include "net/http.h"
#include "util/error.h"

typedef struct aws_endpoint {
    const char *url;        /* "https://sqs.us-east-1.amazonaws.com" (no path) */
    const char *region;
    const char *service;    /* signing name: "sqs", "events" */
    const char *json_version; /* "1.0" (SQS) or "1.1" (EventBridge) */
} aws_endpoint;

typedef struct aws_json_result {
    long status;            /* HTTP status, 0 on a transport failure */
    json_t *body;           /* parsed response (NULL when not JSON) */
    char error_code[96];    /* "QueueDoesNotExist" from __type, or "" */
    int retryable;          /* transport failure, 5xx, throttling */
} aws_json_result;

/* Calls `target` ("AmazonSQS.ReceiveMessage") with `request` (borrowed).
 * Returns 0 on HTTP 200 with a JSON body; -1 otherwise with err set to
 * "AmazonSQS.ReceiveMessage: QueueDoesNotExist: <message> (HTTP 400)". */
int aws_json_call(http_client *c, aws_credentials_provider *creds, const aws_endpoint *ep,
                  const char *target, json_t *request, long timeout_ms,
                  int (*should_abort)(void *), void *abort_ud, aws_json_result *out,
                  sl_error *err);
void aws_json_result_free(aws_json_result *r);

#endif
