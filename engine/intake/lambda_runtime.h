/* lambda_runtime.h — a client for the AWS Lambda Runtime API (custom
 * runtimes), version 2018-06-01, as seen from the bootstrap process:
 *
 *   GET  /2018-06-01/runtime/invocation/next          blocks for the next event
 *   POST /2018-06-01/runtime/invocation/{id}/response  the result
 *   POST /2018-06-01/runtime/invocation/{id}/error     a failed invocation
 *   POST /2018-06-01/runtime/init/error                initialisation failed
 *
 * Error posts carry {"errorMessage","errorType"(,"stackTrace":[])} and the
 * header Lambda-Runtime-Function-Error-Type. One client per process: the
 * Runtime API serves one invocation at a time. */
#ifndef SLUICE_LAMBDA_RUNTIME_H
#define SLUICE_LAMBDA_RUNTIME_H

#include <jansson.h>
#include <stddef.h>

#include "util/error.h"
#include "util/strbuf.h"

typedef struct lambda_runtime lambda_runtime;

typedef struct lambda_invocation {
    char *request_id;       /* Lambda-Runtime-Aws-Request-Id */
    long long deadline_ms;  /* Lambda-Runtime-Deadline-Ms (epoch ms), 0 when absent */
    char *trace_id;         /* Lambda-Runtime-Trace-Id, NULL when absent */
    char *function_arn;     /* Lambda-Runtime-Invoked-Function-Arn, NULL when absent */
    strbuf event;           /* the body: the event JSON */
} lambda_invocation;

/* Results of the posts. */
enum {
    LAMBDA_POST_OK = 0,        /* accepted (2xx) */
    LAMBDA_POST_REJECTED = 1,  /* 4xx: this request was refused; the loop goes on */
    LAMBDA_POST_FATAL = -1     /* transport failure or 5xx: the runtime must exit */
};

/* `api` is AWS_LAMBDA_RUNTIME_API, "host:port". NULL with err set when it
 * is missing or malformed. */
lambda_runtime *lambda_runtime_new(const char *api, sl_error *err);
void lambda_runtime_free(lambda_runtime *rt);

/* Waits (without a timeout) for the next invocation. 0 and *inv filled, or
 * -1 with err set: the Runtime API is unusable and the runtime must exit. */
int lambda_runtime_next(lambda_runtime *rt, lambda_invocation *inv, sl_error *err);
void lambda_runtime_invocation_free(lambda_invocation *inv);

/* POSTs the invocation's result (Content-Type: application/json). */
int lambda_runtime_respond(lambda_runtime *rt, const char *request_id, const char *body,
                           size_t len, sl_error *err);
/* POSTs an invocation error: {"errorMessage","errorType","stackTrace":[]}. */
int lambda_runtime_fail(lambda_runtime *rt, const char *request_id, const char *error_type,
                        const char *message, sl_error *err);
/* POSTs an initialisation error: {"errorMessage","errorType"}. */
int lambda_runtime_init_error(lambda_runtime *rt, const char *error_type, const char *message,
                              sl_error *err);

/* The error document, compact JSON in that key order (caller frees). With
 * `with_stack`, an empty "stackTrace" array is added. */
char *lambda_runtime_error_body(const char *error_type, const char *message, int with_stack);

#endif
