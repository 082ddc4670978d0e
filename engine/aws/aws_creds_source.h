/* aws_creds_source.h — PRIVATE to the credential chain: aws_credentials.c
 * (the chain order, the cache) and the sources aws_creds_*.c. Nothing
 * outside engine/aws/aws_cred* may include it (but the fuzz harness of the
 * STS answer, tests/fuzz/fuzz_xml.c); the public interface is
 * aws_credentials.h.
 *
 * What the chain and its sources share: the fetch context of one
 * resolution, the answer codes of a source, the sources themselves, and
 * the small helpers they have in common (aws_creds_util.c: filling a
 * credentials struct, token files, ISO-8601 times, the JSON-credentials
 * reader, the HTTP fetch). The environment lookup ("" is unset), wiping
 * and trimming are aws_util.h's, shared with aws_config_files.c and
 * aws_region.c.
 *
 * A source answers AWS_CREDS_OK (out filled), AWS_CREDS_NONE (not
 * configured: the chain moves on) or AWS_CREDS_FAIL (configured but
 * broken, err set: the chain stops there, as in the SDKs).
 *
 * Threading: a fetch context belongs to one resolution on one thread; the
 * sources keep no state between calls. Secrets: messages are built only
 * from variable names, file paths, hosts, HTTP statuses and AWS error
 * codes/messages; buffers that held a secret are wiped before they are
 * freed. */
#ifndef SLUICE_AWS_CREDS_SOURCE_H
#define SLUICE_AWS_CREDS_SOURCE_H

#include <jansson.h>

#include "aws/aws_credentials.h"
#include "aws/aws_util.h"
#include "net/http.h"
#include "util/error.h"
#include "util/strbuf.h"

/* What a source answers. */
enum { AWS_CREDS_FAIL = -1, AWS_CREDS_NONE = 0, AWS_CREDS_OK = 1 };

/* Connect timeout of the container endpoint and IMDS: both are local. */
#define AWS_CREDS_METADATA_CONNECT_TIMEOUT_MS 1000L

/* One resolution of the chain (aws_credentials.c makes it, frees http). */
typedef struct aws_creds_ctx {
    const char *profile;   /* resolved name */
    int profile_explicit;  /* named by the options or $AWS_PROFILE */
    int profile_from_opts; /* named by the options: environment keys are skipped */
    long timeout_ms;       /* per HTTP call */
    http_client *http;     /* made on first use (aws_creds_util_http) */
} aws_creds_ctx;

/* --- the sources, in the chain's order -------------------------------- */

/* 1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *    (aws_creds_env.c). */
int aws_creds_env_source(aws_credentials *out, sl_error *err);
/* 2. AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME)
 *    through STS AssumeRoleWithWebIdentity (aws_creds_sts.c). */
int aws_creds_sts_web_identity_source(aws_creds_ctx *ctx, aws_credentials *out, sl_error *err);
/* 3. The shared files' profile (aws_creds_profile.c). When the profile
 *    holds nothing (AWS_CREDS_NONE), why is told, as "; shared files: ...". */
int aws_creds_profile_source(aws_creds_ctx *ctx, aws_credentials *out, sl_error *err,
                             strbuf *why);
/* 4. The ECS/EKS container endpoint (aws_creds_container.c). */
int aws_creds_container_source(aws_creds_ctx *ctx, aws_credentials *out, sl_error *err);
/* 5. EC2 instance metadata, IMDSv2 (aws_creds_imds.c). */
int aws_creds_imds_source(aws_creds_ctx *ctx, aws_credentials *out, sl_error *err);

/* --- STS, for the profile source (aws_creds_sts.c) -------------------- */

/* AssumeRoleWithWebIdentity with the token in token_file (token_var names
 * where that came from, for messages). Returns 0, or -1 with err set. */
int aws_creds_sts_web_identity(aws_creds_ctx *ctx, const char *token_file,
                               const char *token_var, const char *role_arn, const char *session,
                               const char *source, aws_credentials *out, sl_error *err);
/* AssumeRole, signed with src; external_id and duration may be NULL.
 * Returns 0, or -1 with err set. */
int aws_creds_sts_assume_role(aws_creds_ctx *ctx, const aws_credentials *src,
                              const char *role_arn, const char *session, const char *external_id,
                              const char *duration, const char *source, aws_credentials *out,
                              sl_error *err);
/* An STS answer: the <Credentials> of a 200 into *out (source names the
 * credential source), else "what: HTTP <status> <Code>: <Message>" in err.
 * Returns 0 or -1. Used by both STS calls, and by the fuzzer. */
int aws_creds_sts_answer(const http_response *resp, const char *what, const char *source,
                         aws_credentials *out, sl_error *err);
/* "sluice-<epoch seconds>", the session name when none is configured. New
 * string. */
char *aws_creds_sts_session_name(void);

/* --- helpers (aws_creds_util.c) ---------------------------------------- */

/* Fills *c with copies (token "" or NULL: none). */
void aws_creds_util_fill(aws_credentials *c, const char *akid, const char *secret,
                         const char *token, long long expiration, const char *source);
/* A secret-bearing file (web identity token, container auth token), read
 * again at every call, trimmed. Returns a new string, or NULL with err set
 * (var names the setting the path came from). */
char *aws_creds_util_token_file(const char *path, const char *var, sl_error *err);
/* ISO 8601 UTC ("2026-11-25T16:07:21Z", fractions and offsets allowed; no
 * zone: UTC) to epoch seconds. Returns 0 or -1. */
int aws_creds_util_iso8601(const char *s, long long *out);

/* The context's HTTP client (AWS_CA_BUNDLE honoured), made on first use;
 * NULL with err set when libcurl cannot make one. */
http_client *aws_creds_util_http(aws_creds_ctx *ctx, sl_error *err);
/* One unsigned request with the context's timeout. Returns http_perform's
 * answer (resp filled in every case; free it with
 * aws_creds_util_response_wipe_free). */
int aws_creds_util_fetch(aws_creds_ctx *ctx, const char *method, const char *url,
                         const http_headers *h, const char *body, long connect_ms,
                         http_response *resp, sl_error *err);
/* http_response_free, the body wiped first. */
void aws_creds_util_response_wipe_free(http_response *r);

/* The JSON object in text; else NULL with err set ("<what>: the answer is
 * not a JSON object (line N)": the parser's message may quote the text,
 * so only the position is told). */
json_t *aws_creds_util_json_object(const char *text, size_t len, const char *what,
                                   sl_error *err);
/* Credentials from the JSON ECS, IMDS and credential_process answer with:
 * AccessKeyId, SecretAccessKey, token_key ("Token" or "SessionToken"),
 * Expiration (required when need_expiration). Returns 0, or -1 with err
 * set. */
int aws_creds_util_from_json(json_t *o, const char *token_key, int need_expiration,
                             const char *source, const char *what, aws_credentials *out,
                             sl_error *err);

#endif
