/* http.h — the engine's HTTP client: a thin layer over one libcurl easy
 * handle, so every AWS call (S3, STS, SQS, SNS, EventBridge, IMDS) shares
 * keep-alive, timeouts, TLS settings and error reporting.
 *
 * A client is NOT thread-safe: use one per worker thread (connections are
 * reused across requests on the same client). */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

typedef struct http_client http_client;

typedef struct http_tls {
    const char *ca_bundle;   /* NULL: the system store */
    int insecure;            /* skip verification (explicit config only) */
} http_tls;

/* Request headers are "Name: value" lines. */
typedef struct http_headers {
    char **lines;
    size_t count;
} http_headers;

void http_headers_add(http_headers *h, const char *name, const char *value);
void http_headers_addf(http_headers *h, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void http_headers_free(http_headers *h);

/* Streams the response body; return non-zero to abort the transfer. */
typedef int (*http_body_fn)(void *ud, const char *data, size_t len);
/* Supplies the request body; returns bytes written to buf, 0 at end. */
typedef size_t (*http_upload_fn)(void *ud, char *buf, size_t cap);

typedef struct http_request {
    const char *method;           /* "GET", "PUT", "POST", "HEAD", "DELETE" */
    const char *url;
    const http_headers *headers;  /* may be NULL */
    const void *body;             /* request body from memory, or */
    size_t body_len;
    http_upload_fn upload;        /* ... streamed (with upload_len known) */
    void *upload_ud;
    int64_t upload_len;
    http_body_fn on_body;         /* NULL: collect into response.body */
    void *on_body_ud;
    long timeout_ms;              /* whole request; 0: none */
    long connect_timeout_ms;      /* 0: 10 s */
    long low_speed_time_s;        /* abort when below 1 byte/s this long; 0: off */
    int (*should_abort)(void *ud); /* polled during the transfer; non-zero stops it */
    void *abort_ud;
} http_request;

typedef struct http_response {
    long status;                  /* 0 when no HTTP response arrived */
    strbuf body;                  /* when on_body is NULL */
    http_headers headers;         /* response headers, "name: value", names lower-cased */
    int transport_error;          /* non-zero: connection/timeout failure */
    int timed_out;
    int aborted;                  /* stopped by should_abort */
    char error[256];              /* libcurl's message for transport errors */
} http_response;

http_client *http_client_new(const http_tls *tls);
void http_client_free(http_client *c);

/* Performs the request. Returns 0 when an HTTP response arrived (any
 * status), -1 on a transport failure (details in resp->error). */
int http_perform(http_client *c, const http_request *req, http_response *resp);
/* A response header's value (name compared case-insensitively), or NULL. */
const char *http_response_header(const http_response *resp, const char *name);
void http_response_free(http_response *resp);

#endif
