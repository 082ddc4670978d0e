/* aws_creds_util.c — the helpers the credential sources share (declared
 * in aws_creds_source.h, private to the chain): filling a credentials
 * struct, token files, ISO-8601 times, the HTTP fetch of the container
 * endpoint, IMDS and STS, and the JSON credentials the container
 * endpoint, IMDS and credential_process answer with. No state; secrets
 * are wiped before their buffers are freed and never put in a message. */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws_creds_source.h"
#include "util/alloc.h"

void aws_creds_util_fill(aws_credentials *c, const char *akid, const char *secret,
                         const char *token, long long expiration, const char *source)
{
    memset(c, 0, sizeof *c);
    c->access_key_id = xstrdup(akid);
    c->secret_access_key = xstrdup(secret);
    c->session_token = token && *token ? xstrdup(token) : NULL;
    c->expiration = expiration;
    snprintf(c->source, sizeof c->source, "%s", source);
}

char *aws_creds_util_token_file(const char *path, const char *var, sl_error *err)
{
    strbuf sb = STRBUF_INIT;
    if (aws_util_read_file(path, &sb) != 0) {
        sl_error_set(err, SL_ERR_CONFIG, "cannot read %s (%s): %s", path, var, strerror(errno));
        sb_free(&sb);
        return NULL;
    }
    char *token = xstrdup(aws_util_trim(sb.buf));
    aws_util_sb_wipe_free(&sb);
    if (!*token) {
        sl_error_set(err, SL_ERR_CONFIG, "%s (%s) is empty", path, var);
        free(token);
        return NULL;
    }
    return token;
}

/* moto sometimes omits the zone: UTC then. */
int aws_creds_util_iso8601(const char *s, long long *out)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n == 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
        return -1;
    const char *p = s + n;
    if (*p == '.' || *p == ',') {
        p++;
        while (isdigit((unsigned char)*p))
            p++;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') { /* +hh, +hhmm, +hh:mm */
        int sign = *p++ == '-' ? -1 : 1;
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
            return -1;
        long oh = (p[0] - '0') * 10 + (p[1] - '0'), om = 0;
        p += 2;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
            om = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
        }
        offset = sign * (oh * 3600L + om * 60L);
    }
    if (*p != '\0')
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    *out = (long long)timegm(&tm) - offset;
    return 0;
}

/* ---------------------------------------------------------------- HTTP */

http_client *aws_creds_util_http(aws_creds_ctx *ctx, sl_error *err)
{
    if (!ctx->http) {
        http_tls tls = {.ca_bundle = aws_util_env("AWS_CA_BUNDLE"), .insecure = 0};
        ctx->http = http_client_new(&tls);
        if (!ctx->http)
            sl_error_set(err, SL_ERR_INTERNAL, "cannot create an HTTP client (libcurl)");
    }
    return ctx->http;
}

int aws_creds_util_fetch(aws_creds_ctx *ctx, const char *method, const char *url,
                         const http_headers *h, const char *body, long connect_ms,
                         http_response *resp, sl_error *err)
{
    memset(resp, 0, sizeof *resp);
    http_client *c = aws_creds_util_http(ctx, err);
    if (!c)
        return -1;
    http_request req = {
        .method = method, .url = url, .headers = h,
        .body = body, .body_len = body ? strlen(body) : 0,
        .timeout_ms = ctx->timeout_ms, .connect_timeout_ms = connect_ms,
    };
    return http_perform(c, &req, resp);
}

void aws_creds_util_response_wipe_free(http_response *r)
{
    aws_util_sb_wipe_free(&r->body);
    http_response_free(r);
}

/* ------------------------------------------------- JSON-shaped answers */

json_t *aws_creds_util_json_object(const char *text, size_t len, const char *what,
                                   sl_error *err)
{
    json_error_t je;
    json_t *o = json_loadb(text ? text : "", len, 0, &je);
    if (!o || !json_is_object(o)) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: the answer is not a JSON object (line %d)", what,
                     o ? 1 : je.line);
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ECS, IMDS and credential_process answer with the same keys, except for
 * the session token's name. */
int aws_creds_util_from_json(json_t *o, const char *token_key, int need_expiration,
                             const char *source, const char *what, aws_credentials *out,
                             sl_error *err)
{
    const char *akid = json_string_value(json_object_get(o, "AccessKeyId"));
    const char *secret = json_string_value(json_object_get(o, "SecretAccessKey"));
    const char *token = json_string_value(json_object_get(o, token_key));
    const char *exp = json_string_value(json_object_get(o, "Expiration"));
    long long expiration = 0;
    if (!akid || !*akid || !secret || !*secret) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: the answer lacks %s", what,
                     !akid || !*akid ? "AccessKeyId" : "SecretAccessKey");
        return -1;
    }
    if (!exp && need_expiration) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: the answer lacks Expiration", what);
        return -1;
    }
    if (exp && aws_creds_util_iso8601(exp, &expiration) != 0) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: unreadable Expiration \"%.40s\"", what, exp);
        return -1;
    }
    aws_creds_util_fill(out, akid, secret, token, expiration, source);
    return 0;
}
