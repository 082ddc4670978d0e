/* sigv4.h — AWS Signature Version 4 (HMAC-SHA256 via OpenSSL).
 *
 * S3 and the other services differ (see docs/s3.md): S3 encodes the URI
 * path once and keeps '/', and requires x-amz-content-sha256; others
 * encode each path segment twice and normalise the path. */
#ifndef SLUICE_SIGV4_H
#define SLUICE_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "aws/aws_credentials.h" /* aws_credentials, what a request is signed with */

typedef struct sigv4_param {
    const char *name;   /* decoded */
    const char *value;  /* decoded; "" for a bare name */
} sigv4_param;

typedef struct sigv4_header {
    const char *name;   /* any case; duplicates are joined with ',' */
    const char *value;  /* trimmed, inner runs of spaces folded */
} sigv4_header;

typedef struct sigv4_request {
    const char *method;
    const char *path;           /* decoded path, e.g. "/bucket/a b+c.tsv" */
    const sigv4_param *query;   /* decoded names/values, any order */
    size_t n_query;
    const sigv4_header *headers;/* must include host; x-amz-date is added */
    size_t n_headers;
    const char *payload_hash;   /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
    const char *region;
    const char *service;        /* "s3", "sqs", "sns", "events", "sts", ... */
    time_t now;                 /* signing time (UTC) */
    int s3_path_rules;          /* 1: S3's single encoding, no normalisation */
} sigv4_request;

typedef struct sigv4_result {
    char *canonical_request;
    char *string_to_sign;
    char *authorization;        /* the Authorization header value */
    char amz_date[17];          /* "20261125T143715Z" */
    char *signed_headers;       /* "host;x-amz-content-sha256;x-amz-date" */
} sigv4_result;

/* Signs. The caller must send x-amz-date (res->amz_date) and, when given,
 * x-amz-security-token and x-amz-content-sha256 exactly as signed: this
 * function adds x-amz-date and x-amz-security-token (when the credentials
 * have a session token) to the signed headers itself. Returns 0. */
int sigv4_sign(const sigv4_request *req, const aws_credentials *cred, sigv4_result *res);
void sigv4_result_free(sigv4_result *res);

/* Hex SHA-256 of data into out (65 bytes). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);
/* The empty-body hash. */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Like sigv4_sign, but req->path is the path exactly as it appears in the
 * request line (already percent-encoded; or raw, as in AWS's test suite):
 * S3 rules sign it verbatim, other services normalise it and encode it
 * once more. */
int sigv4_sign_wire_path(const sigv4_request *req, const aws_credentials *cred,
                         sigv4_result *res);

/* The canonical query string: names and values encoded, sorted by name then
 * value, "name=" for empty values; "" for none. It is also a valid URL
 * query, so sending it as is keeps the sent and the signed query equal.
 * Caller frees. */
char *sigv4_canonical_query(const sigv4_param *query, size_t n);

/* The credential scope "20261125/us-east-1/s3/aws4_request". Caller frees. */
char *sigv4_scope(time_t now, const char *region, const char *service);

#endif
