/* serve_auth.h — who may post events to `sluice serve`, for senders other
 * than SNS (SNS messages carry a signature instead: aws/sns_verify.h):
 * a bearer token, an HMAC-SHA256 signature of the body, or both.
 * Secrets are compared in constant time and never logged.
 *
 * Immutable once made: thread-safe. */
#ifndef SLUICE_SERVE_AUTH_H
#define SLUICE_SERVE_AUTH_H

#include <stddef.h>

#include "net/http_server.h"

#define SERVE_AUTH_SIGNATURE_HEADER "X-Sluice-Signature"

typedef struct serve_auth {
    const char *bearer_token; /* NULL: no token required */
    const char *hmac_secret;  /* NULL: no signature required */
} serve_auth;

/* 0 when the request may go on; else the HTTP status to answer (401: the
 * credential is missing, 403: it is wrong) with the reason in `why`, and
 * *challenge set when a WWW-Authenticate header should go with it. */
int serve_auth_check(const serve_auth *a, const http_server_request *req, char *why,
                     size_t whylen, int *challenge);

#endif
