/* aws_creds_imds.c — source 5 of the credential chain, the last: EC2
 * instance metadata, IMDSv2 only. Also the `credential_source =
 * Ec2InstanceMetadata` of a role profile.
 *
 *   1. PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
 *      -> a session token;
 *   2. GET /latest/meta-data/iam/security-credentials/ with
 *      X-aws-ec2-metadata-token -> the instance role's name (first line);
 *   3. GET .../security-credentials/<role> -> JSON with Code "Success",
 *      AccessKeyId, SecretAccessKey, Token, Expiration.
 * Endpoint http://169.254.169.254, http://[fd00:ec2::254] with
 * AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6, or
 * AWS_EC2_METADATA_SERVICE_ENDPOINT. AWS_EC2_METADATA_DISABLED=true skips
 * the source. Timeouts are short (1 s to connect, the provider's
 * timeout_ms per request); a timed-out token request explains the
 * metadata hop limit, the usual cause inside a container on EC2.
 *
 * No state between calls: the session token is fetched per resolution, used
 * on one thread and wiped, as are the answers. */
#include "autoconfig.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws_creds_source.h"
#include "util/alloc.h"

#define IMDS_TOKEN_TTL "21600"
#define IMDS_ENDPOINT_V4 "http://169.254.169.254"
#define IMDS_ENDPOINT_V6 "http://[fd00:ec2::254]"
#define IMDS_CREDS_PATH "/latest/meta-data/iam/security-credentials/"
#define HOP_LIMIT_HINT                                                                          \
    "outside EC2 this is expected; on EC2 inside a container it usually means the instance's " \
    "metadata hop limit is 1: raise it with `aws ec2 modify-instance-metadata-options "        \
    "--instance-id <id> --http-put-response-hop-limit 2`"

static char *imds_base(void)
{
    const char *e = aws_util_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = aws_util_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    char *base = xstrdup(e ? e : mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_ENDPOINT_V6
                                                                       : IMDS_ENDPOINT_V4);
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        base[--n] = '\0';
    return base;
}

/* One IMDS request. On success (HTTP 200) returns 0 with *body set
 * (trimmed, caller wipes and frees). */
static int imds_call(aws_creds_ctx *ctx, const char *base, const char *method, const char *path,
                     const char *token, char **body, long *status, sl_error *err)
{
    char *url = xasprintf("%s%s", base, path);
    http_headers h = {0};
    if (token)
        http_headers_add(&h, "X-aws-ec2-metadata-token", token);
    else
        http_headers_add(&h, "X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL);
    http_response resp;
    int rc = aws_creds_util_fetch(ctx, method, url, &h, token ? NULL : "",
                                  AWS_CREDS_METADATA_CONNECT_TIMEOUT_MS, &resp, err);
    *status = resp.status;
    *body = NULL;
    if (rc != 0 && resp.transport_error) {
        if (!token && resp.timed_out)
            sl_error_set(err, SL_ERR_TIMEOUT,
                         "EC2 instance metadata at %s: the token request (PUT /latest/api/token) "
                         "timed out (%s); " HOP_LIMIT_HINT, base, resp.error);
        else
            sl_error_set(err, resp.timed_out ? SL_ERR_TIMEOUT : SL_ERR_STORAGE,
                         "EC2 instance metadata at %s: %s %s: %s%s", base, method, path,
                         resp.error, token ? "" : " (not running on EC2?)");
    } else if (rc == 0 && resp.status == 200) {
        *body = xstrdup(aws_util_trim((char *)sb_str(&resp.body)));
    } else {
        rc = -1;
    }
    aws_creds_util_response_wipe_free(&resp);
    for (size_t i = 0; i < h.count; i++)
        explicit_bzero(h.lines[i], strlen(h.lines[i]));
    http_headers_free(&h);
    free(url);
    return rc;
}

static int role_name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("+=,.@_-", *s))
            return 0;
    return 1;
}

static int imds_credentials(aws_creds_ctx *ctx, const char *base, const char *token,
                            aws_credentials *out, sl_error *err)
{
    char *list = NULL, *body = NULL;
    long status;
    if (imds_call(ctx, base, "GET", IMDS_CREDS_PATH, token, &list, &status, err) != 0) {
        if (status == 404)
            sl_error_set(err, SL_ERR_CONFIG,
                         "EC2 instance metadata at %s: no IAM role is attached to this instance "
                         "(instance profile)", base);
        else
            sl_error_set(err, SL_ERR_STORAGE, "EC2 instance metadata at %s: GET %s: HTTP %ld",
                         base, IMDS_CREDS_PATH, status);
        return -1;
    }
    list[strcspn(list, "\r\n")] = '\0';
    char *role = xstrdup(aws_util_trim(list));
    free(list);
    int rc = -1;
    if (!role_name_ok(role)) {
        sl_error_set(err, SL_ERR_STORAGE,
                     "EC2 instance metadata at %s: %s names no usable IAM role", base,
                     IMDS_CREDS_PATH);
        free(role);
        return -1;
    }
    char *path = xasprintf(IMDS_CREDS_PATH "%s", role);
    char *what = xasprintf("EC2 instance metadata at %s: GET %s", base, path);
    if (imds_call(ctx, base, "GET", path, token, &body, &status, err) != 0) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: HTTP %ld", what, status);
    } else {
        json_t *o = aws_creds_util_json_object(body, strlen(body), what, err);
        const char *code = o ? json_string_value(json_object_get(o, "Code")) : NULL;
        if (o && (!code || strcmp(code, "Success") != 0))
            sl_error_set(err, SL_ERR_STORAGE, "%s: Code %.80s", what, code ? code : "(none)");
        else if (o)
            rc = aws_creds_util_from_json(o, "Token", 1, "imds", what, out, err);
        json_decref(o);
    }
    aws_util_wipe_free(body);
    free(what);
    free(path);
    free(role);
    return rc;
}

int aws_creds_imds_source(aws_creds_ctx *ctx, aws_credentials *out, sl_error *err)
{
    if (aws_util_env_true("AWS_EC2_METADATA_DISABLED"))
        return AWS_CREDS_NONE;
    char *base = imds_base();
    char *token = NULL;
    long status;
    int rc = -1;
    if (imds_call(ctx, base, "PUT", "/latest/api/token", NULL, &token, &status, err) != 0)
        sl_error_set(err, SL_ERR_STORAGE,
                     "EC2 instance metadata at %s: the token request (PUT /latest/api/token) got "
                     "HTTP %ld", base, status);
    else if (!*token)
        sl_error_set(err, SL_ERR_STORAGE, "EC2 instance metadata at %s: empty session token",
                     base);
    else
        rc = imds_credentials(ctx, base, token, out, err);
    aws_util_wipe_free(token);
    free(base);
    return rc == 0 ? AWS_CREDS_OK : AWS_CREDS_FAIL;
}
