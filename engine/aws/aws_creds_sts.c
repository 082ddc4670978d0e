/* aws_creds_sts.c — credentials from AWS STS: source 2 of the chain (web
 * identity from the environment) and the role assumptions of the profile
 * source.
 *
 *   - AssumeRoleWithWebIdentity: AWS_WEB_IDENTITY_TOKEN_FILE (an OIDC
 *     token: EKS IRSA, GitHub Actions, ...) with AWS_ROLE_ARN (required
 *     once the file is set) and AWS_ROLE_SESSION_NAME (default
 *     "sluice-<epoch seconds>"); or a profile's web_identity_token_file.
 *     Unsigned: the token is the proof. The token file is read again at
 *     every refresh, so a rotated token is picked up.
 *   - AssumeRole: a profile's role_arn, signed with the source profile's
 *     or credential_source's credentials through aws_request.c (the one
 *     signed-request path); external_id and duration_seconds honoured.
 *
 * Endpoint and region as the SDKs pick them (aws_region.h):
 * AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint, else
 * https://sts.<region>.amazonaws.com with the region from AWS_REGION,
 * AWS_DEFAULT_REGION, the profile, else us-east-1. AWS_CA_BUNDLE applies.
 * Answers are read with aws_xml.h; errors say "HTTP <status> <Code>:
 * <Message>" from STS's error body.
 *
 * No state between calls; a call uses only its fetch context's HTTP
 * client. The web identity token and the returned secrets are wiped. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws_creds_source.h"
#include "aws/aws_region.h"
#include "aws/aws_request.h"
#include "aws/aws_xml.h"
#include "net/url.h"
#include "util/alloc.h"

#define STS_VERSION "2011-06-15"
#define FORM_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* The trimmed text of parent's child element `name`, or NULL. */
static char *xml_child_text(xmlNode *parent, const char *name)
{
    char *raw = aws_xml_child_text(parent, name);
    if (!raw)
        return NULL;
    char *s = xstrdup(aws_util_trim(raw));
    aws_util_wipe_free(raw);
    return s;
}

static xmlDoc *xml_parse(const strbuf *body)
{
    return body->len > (size_t)1 << 24 ? NULL : aws_xml_parse(body->buf, body->len);
}

/* "HTTP 403 AccessDenied: message" from an STS error body. */
static char *sts_error_text(const http_response *resp)
{
    xmlDoc *doc = xml_parse(&resp->body);
    xmlNode *e = doc ? aws_xml_find(xmlDocGetRootElement(doc), "Error") : NULL;
    char *code = xml_child_text(e, "Code"), *msg = xml_child_text(e, "Message");
    char *s = xasprintf("HTTP %ld%s%s%s%.300s", resp->status, code ? " " : "", code ? code : "",
                        msg ? ": " : "", msg ? msg : "");
    free(code);
    free(msg);
    if (doc)
        xmlFreeDoc(doc);
    return s;
}

static int sts_credentials(const http_response *resp, const char *source, aws_credentials *out,
                           const char *what, sl_error *err)
{
    xmlDoc *doc = xml_parse(&resp->body);
    xmlNode *c = doc ? aws_xml_find(xmlDocGetRootElement(doc), "Credentials") : NULL;
    char *akid = xml_child_text(c, "AccessKeyId"), *secret = xml_child_text(c, "SecretAccessKey");
    char *token = xml_child_text(c, "SessionToken"), *exp = xml_child_text(c, "Expiration");
    long long expiration = 0;
    int rc = -1;
    if (!c)
        sl_error_set(err, SL_ERR_STORAGE, "%s: the response holds no <Credentials>", what);
    else if (!akid || !secret || !token || !exp)
        sl_error_set(err, SL_ERR_STORAGE, "%s: the response lacks %s", what,
                     !akid ? "AccessKeyId" : !secret ? "SecretAccessKey"
                     : !token ? "SessionToken" : "Expiration");
    else if (aws_creds_util_iso8601(exp, &expiration) != 0)
        sl_error_set(err, SL_ERR_STORAGE, "%s: unreadable Expiration \"%.40s\"", what, exp);
    else {
        aws_creds_util_fill(out, akid, secret, token, expiration, source);
        rc = 0;
    }
    free(akid);
    aws_util_wipe_free(secret);
    aws_util_wipe_free(token);
    free(exp);
    if (doc)
        xmlFreeDoc(doc);
    return rc;
}

static char *sts_region(const aws_creds_ctx *ctx)
{
    return aws_region_pick(NULL, NULL, ctx->profile);
}

/* AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile, else the regional
 * endpoint. No trailing '/'. */
static char *sts_endpoint(const aws_creds_ctx *ctx, const char *region)
{
    return aws_region_endpoint(NULL, "STS", "sts", region, ctx->profile);
}

/* An STS answer: <Credentials> from a 200, the error otherwise. */
int aws_creds_sts_answer(const http_response *resp, const char *what, const char *source,
                      aws_credentials *out, sl_error *err)
{
    if (resp->status == 200)
        return sts_credentials(resp, source, out, what, err);
    char *e = sts_error_text(resp);
    sl_error_set(err, SL_ERR_STORAGE, "%s: %s", what, e);
    free(e);
    return -1;
}

/* POSTs an unsigned query-API form to STS and reads <Credentials>. */
static int sts_post(aws_creds_ctx *ctx, const char *endpoint, const char *action,
                    http_headers *h, const char *body, const char *source, aws_credentials *out,
                    sl_error *err)
{
    char *where = url_for_message(endpoint);
    char *what = xasprintf("STS %s at %s", action, where);
    char *url = xasprintf("%s/", endpoint);
    http_response resp;
    int rc = -1;
    if (aws_creds_util_fetch(ctx, "POST", url, h, body, 0, &resp, err) != 0) {
        if (resp.transport_error)
            sl_error_set(err, resp.timed_out ? SL_ERR_TIMEOUT : SL_ERR_STORAGE, "%s: %s", what,
                         resp.error);
    } else {
        rc = aws_creds_sts_answer(&resp, what, source, out, err);
    }
    aws_creds_util_response_wipe_free(&resp);
    free(url);
    free(what);
    free(where);
    return rc;
}

char *aws_creds_sts_session_name(void)
{
    return xasprintf("sluice-%lld", (long long)time(NULL));
}

/* AssumeRoleWithWebIdentity is unsigned: the token is the proof. */
int aws_creds_sts_web_identity(aws_creds_ctx *ctx, const char *token_file,
                               const char *token_var, const char *role_arn, const char *session,
                               const char *source, aws_credentials *out, sl_error *err)
{
    char *token = aws_creds_util_token_file(token_file, token_var, err);
    if (!token)
        return -1;
    strbuf body = STRBUF_INIT;
    aws_request_form_add(&body, "Action", "AssumeRoleWithWebIdentity");
    aws_request_form_add(&body, "Version", STS_VERSION);
    aws_request_form_add(&body, "RoleArn", role_arn);
    aws_request_form_add(&body, "RoleSessionName", session);
    aws_request_form_add(&body, "WebIdentityToken", token);
    aws_util_wipe_free(token);

    char *region = sts_region(ctx);
    char *endpoint = sts_endpoint(ctx, region);
    http_headers h = {0};
    http_headers_add(&h, "Content-Type", FORM_CONTENT_TYPE);
    int rc = sts_post(ctx, endpoint, "AssumeRoleWithWebIdentity", &h, body.buf, source, out, err);
    http_headers_free(&h);
    aws_util_sb_wipe_free(&body);
    free(endpoint);
    free(region);
    return rc;
}

/* Signs the form with the source credentials and posts it. */
static int assume_role_send(aws_creds_ctx *ctx, const aws_credentials *src, const char *endpoint,
                            const char *region, const strbuf *body, const char *source,
                            aws_credentials *out, sl_error *err)
{
    char *where = url_for_message(endpoint);
    char *what = xasprintf("STS AssumeRole at %s", where);
    char *url = xasprintf("%s/", endpoint);
    sigv4_header sh[] = {{"content-type", FORM_CONTENT_TYPE}};
    aws_request req = {.method = "POST", .url = url, .headers = sh, .n_headers = 1,
                       .service = "sts", .region = region, .body = body->buf,
                       .body_len = body->len, .timeout_ms = ctx->timeout_ms};
    http_response resp;
    http_client *c = aws_creds_util_http(ctx, err);
    int rc = c ? aws_request_send(c, src, &req, &resp, err) : -2;
    if (rc == -1)
        sl_error_set(err, resp.timed_out ? SL_ERR_TIMEOUT : SL_ERR_STORAGE, "%s: %s", what,
                     resp.error);
    rc = rc == 0 ? aws_creds_sts_answer(&resp, what, source, out, err) : -1;
    if (c)
        aws_creds_util_response_wipe_free(&resp);
    free(url);
    free(what);
    free(where);
    return rc;
}

/* AssumeRole, signed with the source credentials. */
int aws_creds_sts_assume_role(aws_creds_ctx *ctx, const aws_credentials *src,
                              const char *role_arn, const char *session, const char *external_id,
                              const char *duration, const char *source, aws_credentials *out,
                              sl_error *err)
{
    strbuf body = STRBUF_INIT;
    aws_request_form_add(&body, "Action", "AssumeRole");
    aws_request_form_add(&body, "Version", STS_VERSION);
    aws_request_form_add(&body, "RoleArn", role_arn);
    aws_request_form_add(&body, "RoleSessionName", session);
    if (external_id)
        aws_request_form_add(&body, "ExternalId", external_id);
    if (duration)
        aws_request_form_add(&body, "DurationSeconds", duration);

    char *region = sts_region(ctx);
    char *endpoint = sts_endpoint(ctx, region);
    int rc = assume_role_send(ctx, src, endpoint, region, &body, source, out, err);
    aws_util_sb_wipe_free(&body);
    free(endpoint);
    free(region);
    return rc;
}

/* ------------------------------------------- source 2: the environment */

int aws_creds_sts_web_identity_source(aws_creds_ctx *ctx, aws_credentials *out, sl_error *err)
{
    const char *file = aws_util_env("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!file)
        return AWS_CREDS_NONE;
    const char *role = aws_util_env("AWS_ROLE_ARN");
    if (!role) {
        sl_error_set(err, SL_ERR_CONFIG, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
        return AWS_CREDS_FAIL;
    }
    char *session = aws_util_env("AWS_ROLE_SESSION_NAME")
                        ? xstrdup(aws_util_env("AWS_ROLE_SESSION_NAME"))
                        : aws_creds_sts_session_name();
    int rc = aws_creds_sts_web_identity(ctx, file, "AWS_WEB_IDENTITY_TOKEN_FILE", role, session,
                                        "web-identity", out, err);
    free(session);
    return rc == 0 ? AWS_CREDS_OK : AWS_CREDS_FAIL;
}
