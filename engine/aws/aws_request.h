/* aws_request.h — the one signed-request path. Every call sluice makes to
 * an AWS API (S3, SQS, SNS, EventBridge, STS) is built, signed with SigV4
 * and sent here: the caller says what (method, URL, query, headers, body,
 * service and region) and with which credentials; this module takes the
 * URL apart (net/url.h), signs exactly what it sends, adds the signing
 * headers (X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-SHA256 for S3,
 * Authorization) and a User-Agent, and performs the request on the
 * caller's HTTP client.
 *
 * What the services' answers mean (errors, retries) stays with the caller:
 * S3's XML (storage/s3_client.c), the JSON protocol (aws_json.c), the
 * query API (notify, STS).
 *
 * Threading: a request uses only the http_client it is given, which must
 * not be used by another thread meanwhile. Secrets are never logged. */
#ifndef SLUICE_AWS_REQUEST_H
#define SLUICE_AWS_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "aws/sigv4.h"
#include "net/http.h"
#include "util/error.h"

typedef struct aws_request {
    const char *method;            /* "GET", "PUT", "POST", "HEAD", "DELETE" */
    const char *url;               /* scheme://host[:port]/path, the path percent-encoded
                                      as it is to be sent; no query */
    const sigv4_param *query;      /* decoded names and values, sent in canonical order */
    size_t n_query;
    const sigv4_header *headers;   /* sent and signed: content-type, x-amz-target, range... */
    size_t n_headers;
    const char *service;           /* SigV4 name: "s3", "sqs", "sns", "events", "sts" */
    const char *region;
    int s3;                        /* S3's rules: the path signed as sent, and
                                      x-amz-content-sha256 sent */
    const void *body;              /* request body from memory, or */
    size_t body_len;
    http_upload_fn upload;         /* ... streamed (upload_len bytes) */
    void *upload_ud;
    int64_t upload_len;
    const char *payload_sha256;    /* hex SHA-256 of the body; NULL: computed from body */
    http_body_fn on_body;          /* streams the response body; NULL: collected */
    void *on_body_ud;
    long timeout_ms;               /* whole request; 0: none */
    long connect_timeout_ms;       /* 0: http.h's default */
    int (*should_abort)(void *ud); /* polled during the transfer */
    void *abort_ud;
} aws_request;

/* Signs `req` with `cred` at the current time and performs it. Returns 0
 * when a response arrived (any status; resp filled), -1 on a transport
 * failure (resp->error says why), -2 when the request could not be built
 * (err set: the URL is not an http(s) URL). resp is to be freed with
 * http_response_free in every case. */
int aws_request_send(http_client *h, const aws_credentials *cred, const aws_request *req,
                     http_response *resp, sl_error *err);

/* Appends "name=value" (both percent-encoded, '&'-joined) to a query-API
 * form body (SNS, STS). */
void aws_request_form_add(strbuf *body, const char *name, const char *value);

#endif
