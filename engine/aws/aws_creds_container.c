/* aws_creds_container.c — source 4 of the credential chain: the ECS/EKS
 * container credentials endpoint. Also the `credential_source =
 * EcsContainer` of a role profile.
 *
 *   - AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: GET http://169.254.170.2<URI>
 *     (ECS tasks); it wins over the full URI.
 *   - AWS_CONTAINER_CREDENTIALS_FULL_URI: GET that URL (EKS Pod Identity,
 *     Greengrass, ...). As in the SDKs, its host must be a loopback
 *     address, localhost, 169.254.170.2, 169.254.170.23 or fd00:ec2::23.
 *   - Authorization: the contents of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 *     (read again at every refresh), else AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *     a token holding a line break is refused.
 * The answer is JSON: AccessKeyId, SecretAccessKey, Token, Expiration.
 * Errors name the host and the variable, never the relative path (it
 * identifies the task's credentials) nor the token.
 *
 * No state between calls; a call uses only its fetch context's HTTP
 * client. The token, the header holding it and the answer are wiped. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws_creds_source.h"
#include "net/url.h"
#include "util/alloc.h"

#define ECS_HOST "http://169.254.170.2"

/* The SDKs' rule: a full URI may only point at the container agent. */
static int container_host_allowed(const char *host)
{
    static const char *const allowed[] = {"169.254.170.2", "169.254.170.23", "fd00:ec2::23"};
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
        return 1;
    struct in6_addr a6, b6;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (memcmp(&a6, &in6addr_loopback, sizeof a6) == 0)
            return 1;
        return inet_pton(AF_INET6, allowed[2], &b6) == 1 && memcmp(&a6, &b6, sizeof a6) == 0;
    }
    return strcmp(host, allowed[0]) == 0 || strcmp(host, allowed[1]) == 0;
}

/* Authorization: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE wins over
 * AWS_CONTAINER_AUTHORIZATION_TOKEN. Returns 0 (token may stay NULL). */
static int container_auth(char **token, sl_error *err)
{
    *token = NULL;
    const char *file = aws_util_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (file) {
        *token = aws_creds_util_token_file(file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", err);
        if (!*token)
            return -1;
    } else if (aws_util_env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
        *token = xstrdup(aws_util_env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
    }
    if (*token && strpbrk(*token, "\r\n")) {
        sl_error_set(err, SL_ERR_CONFIG, "the container authorization token (%s) holds a line break",
                     file ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
                          : "AWS_CONTAINER_AUTHORIZATION_TOKEN");
        aws_util_wipe_free(*token);
        *token = NULL;
        return -1;
    }
    return 0;
}

static int container_url(char **url, char **where, sl_error *err)
{
    const char *rel = aws_util_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (rel) {
        /* the path is a per-task secret of sorts: name the variable, not it */
        *url = xasprintf("%s%s%s", ECS_HOST, rel[0] == '/' ? "" : "/", rel);
        *where = xstrdup(ECS_HOST " (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)");
        return 0;
    }
    const char *full = aws_util_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    url_parts u;
    if (url_parse(full, &u) != 0) {
        sl_error_set(err, SL_ERR_CONFIG, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL");
        return -1;
    }
    if (!container_host_allowed(u.host)) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI host \"%.200s\" is not allowed: it must be "
                     "a loopback address, localhost, 169.254.170.2, 169.254.170.23 or "
                     "fd00:ec2::23", u.host);
        url_parts_free(&u);
        return -1;
    }
    url_parts_free(&u);
    *url = xstrdup(full);
    char *m = url_for_message(full);
    *where = xasprintf("%s (AWS_CONTAINER_CREDENTIALS_FULL_URI)", m);
    free(m);
    return 0;
}

/* " (Code: Message)" from a JSON error answer, or "". */
static char *json_error_text(const http_response *resp)
{
    json_t *o = json_loadb(sb_str(&resp->body), resp->body.len, 0, NULL);
    const char *code = NULL, *msg = NULL;
    static const char *const code_keys[] = {"Code", "code", "ErrorCode"};
    static const char *const msg_keys[] = {"Message", "message", "ErrorMessage"};
    for (size_t i = 0; o && json_is_object(o) && i < 3; i++) {
        if (!code)
            code = json_string_value(json_object_get(o, code_keys[i]));
        if (!msg)
            msg = json_string_value(json_object_get(o, msg_keys[i]));
    }
    char *s = code || msg ? xasprintf(" (%s%s%.300s)", code ? code : "", code && msg ? ": " : "",
                                      msg ? msg : "")
                          : xstrdup("");
    json_decref(o);
    return s;
}

int aws_creds_container_source(aws_creds_ctx *ctx, aws_credentials *out, sl_error *err)
{
    if (!aws_util_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") &&
        !aws_util_env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        return AWS_CREDS_NONE;
    char *url = NULL, *where = NULL, *token = NULL;
    if (container_url(&url, &where, err) != 0 || container_auth(&token, err) != 0) {
        free(url);
        free(where);
        return AWS_CREDS_FAIL;
    }
    http_headers h = {0};
    if (token) {
        http_headers_add(&h, "Authorization", token);
        aws_util_wipe_free(token);
    }
    char *what = xasprintf("container credentials endpoint %s", where);
    http_response resp;
    int r = AWS_CREDS_FAIL;
    if (aws_creds_util_fetch(ctx, "GET", url, &h, NULL, AWS_CREDS_METADATA_CONNECT_TIMEOUT_MS,
                             &resp, err) != 0) {
        if (resp.transport_error)
            sl_error_set(err, resp.timed_out ? SL_ERR_TIMEOUT : SL_ERR_STORAGE, "%s: %s", what,
                         resp.error);
    } else if (resp.status != 200) {
        char *e = json_error_text(&resp);
        sl_error_set(err, SL_ERR_STORAGE, "%s: HTTP %ld%s", what, resp.status, e);
        free(e);
    } else {
        json_t *o = aws_creds_util_json_object(resp.body.buf, resp.body.len, what, err);
        if (o && aws_creds_util_from_json(o, "Token", 1, "container", what, out, err) == 0)
            r = AWS_CREDS_OK;
        json_decref(o);
    }
    aws_creds_util_response_wipe_free(&resp);
    for (size_t i = 0; i < h.count; i++)
        explicit_bzero(h.lines[i], strlen(h.lines[i]));
    http_headers_free(&h);
    free(what);
    free(where);
    free(url);
    return r;
}
