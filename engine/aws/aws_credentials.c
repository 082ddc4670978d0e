/* aws_credentials.c — the AWS credential chain (see aws_credentials.h and
 * docs/credentials.md).
 *
 * The first source that is *configured* wins, as in the SDKs: when the
 * environment names keys, a broken environment is an error, not a reason
 * to go looking on the instance's metadata service. Only when nothing is
 * configured do we end at IMDS, and then the error lists every source.
 *
 * Secrets: messages are built only from variable names, file paths,
 * hosts, HTTP statuses and AWS error codes/messages. Buffers that held a
 * secret are wiped before they are freed. */
#include "autoconfig.h"
#include "aws/aws_credentials.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_config_files.h"
#include "aws/aws_region.h"
#include "aws/aws_request.h"
#include "aws/aws_util.h"
#include "aws/aws_xml.h"
#include "net/http.h"
#include "net/url.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/urlcodec.h"

#define REFRESH_MARGIN_S 300       /* refresh when less than this remains */
#define FAILED_REFRESH_BACKOFF_S 10 /* keep serving still-valid keys this long */
#define DEFAULT_TIMEOUT_MS 2000L
#define METADATA_CONNECT_TIMEOUT_MS 1000L
#define IMDS_TOKEN_TTL "21600"
#define MAX_PROFILE_CHAIN 5
#define STS_VERSION "2011-06-15"
#define FORM_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define ECS_HOST "http://169.254.170.2"
#define IMDS_ENDPOINT_V4 "http://169.254.169.254"
#define IMDS_ENDPOINT_V6 "http://[fd00:ec2::254]"
#define IMDS_CREDS_PATH "/latest/meta-data/iam/security-credentials/"
#define HOP_LIMIT_HINT                                                                          \
    "outside EC2 this is expected; on EC2 inside a container it usually means the instance's " \
    "metadata hop limit is 1: raise it with `aws ec2 modify-instance-metadata-options "        \
    "--instance-id <id> --http-put-response-hop-limit 2`"

/* A source answers one of these. */
enum { SRC_FAIL = -1, SRC_NONE = 0, SRC_OK = 1 };

/* ---------------------------------------------------------------- helpers */

static void response_wipe_free(http_response *r)
{
    aws_util_sb_wipe_free(&r->body);
    http_response_free(r);
}


static void creds_fill(aws_credentials *c, const char *akid, const char *secret,
                       const char *token, long long expiration, const char *source)
{
    memset(c, 0, sizeof *c);
    c->access_key_id = xstrdup(akid);
    c->secret_access_key = xstrdup(secret);
    c->session_token = token && *token ? xstrdup(token) : NULL;
    c->expiration = expiration;
    snprintf(c->source, sizeof c->source, "%s", source);
}


/* A secret-bearing file (web identity token, container auth token), trimmed.
 * Returns a new string, or NULL with err set. */
static char *read_token_file(const char *path, const char *var, sl_error *err)
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



/* ISO 8601 UTC ("2026-11-25T16:07:21Z", fractions and offsets allowed;
 * moto sometimes omits the zone: UTC then) to epoch seconds. */
static int parse_iso8601(const char *s, long long *out)
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


/* ----------------------------------------------------------- credentials */

void aws_credentials_clear(aws_credentials *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    aws_util_wipe_free(c->secret_access_key);
    aws_util_wipe_free(c->session_token); /* a bearer credential too */
    memset(c, 0, sizeof *c);
}

void aws_credentials_copy(aws_credentials *dst, const aws_credentials *src)
{
    if (dst == src)
        return;
    aws_credentials tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.access_key_id = src->access_key_id ? xstrdup(src->access_key_id) : NULL;
    tmp.secret_access_key = src->secret_access_key ? xstrdup(src->secret_access_key) : NULL;
    tmp.session_token = src->session_token ? xstrdup(src->session_token) : NULL;
    tmp.expiration = src->expiration;
    memcpy(tmp.source, src->source, sizeof tmp.source);
    tmp.source[sizeof tmp.source - 1] = '\0';
    *dst = tmp;
}

/* ------------------------------------------------------- fetch context */

typedef struct fetch_ctx {
    const char *profile;   /* resolved name */
    int profile_explicit;  /* named by the options or $AWS_PROFILE */
    int profile_from_opts; /* named by the options: environment keys are skipped */
    long timeout_ms;
    http_client *http;     /* made on first use */
} fetch_ctx;

static http_client *ctx_http(fetch_ctx *ctx, sl_error *err)
{
    if (!ctx->http) {
        http_tls tls = {.ca_bundle = aws_util_env("AWS_CA_BUNDLE"), .insecure = 0};
        ctx->http = http_client_new(&tls);
        if (!ctx->http)
            sl_error_set(err, SL_ERR_INTERNAL, "cannot create an HTTP client (libcurl)");
    }
    return ctx->http;
}

static int fetch(fetch_ctx *ctx, const char *method, const char *url, const http_headers *h,
                 const char *body, long connect_ms, http_response *resp, sl_error *err)
{
    memset(resp, 0, sizeof *resp);
    http_client *c = ctx_http(ctx, err);
    if (!c)
        return -1;
    http_request req = {
        .method = method, .url = url, .headers = h,
        .body = body, .body_len = body ? strlen(body) : 0,
        .timeout_ms = ctx->timeout_ms, .connect_timeout_ms = connect_ms,
    };
    return http_perform(c, &req, resp);
}

/* ------------------------------------------------------------------ STS */

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
    else if (parse_iso8601(exp, &expiration) != 0)
        sl_error_set(err, SL_ERR_STORAGE, "%s: unreadable Expiration \"%.40s\"", what, exp);
    else {
        creds_fill(out, akid, secret, token, expiration, source);
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

static char *sts_region(const fetch_ctx *ctx)
{
    return aws_region_pick(NULL, NULL, ctx->profile);
}

/* AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile, else the regional
 * endpoint. No trailing '/'. */
static char *sts_endpoint(const fetch_ctx *ctx, const char *region)
{
    return aws_region_endpoint(NULL, "STS", "sts", region, ctx->profile);
}

/* An STS answer: <Credentials> from a 200, the error otherwise. */
static int sts_answer(const http_response *resp, const char *what, const char *source,
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
static int sts_post(fetch_ctx *ctx, const char *endpoint, const char *action,
                    http_headers *h, const char *body, const char *source, aws_credentials *out,
                    sl_error *err)
{
    char *where = url_for_message(endpoint);
    char *what = xasprintf("STS %s at %s", action, where);
    char *url = xasprintf("%s/", endpoint);
    http_response resp;
    int rc = -1;
    if (fetch(ctx, "POST", url, h, body, 0, &resp, err) != 0) {
        if (resp.transport_error)
            sl_error_set(err, resp.timed_out ? SL_ERR_TIMEOUT : SL_ERR_STORAGE, "%s: %s", what,
                         resp.error);
    } else {
        rc = sts_answer(&resp, what, source, out, err);
    }
    response_wipe_free(&resp);
    free(url);
    free(what);
    free(where);
    return rc;
}

static char *default_session_name(void)
{
    return xasprintf("sluice-%lld", (long long)time(NULL));
}

/* AssumeRoleWithWebIdentity is unsigned: the token is the proof. */
static int web_identity(fetch_ctx *ctx, const char *token_file, const char *token_var,
                        const char *role_arn, const char *session, const char *source,
                        aws_credentials *out, sl_error *err)
{
    char *token = read_token_file(token_file, token_var, err);
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
static int assume_role_send(fetch_ctx *ctx, const aws_credentials *src, const char *endpoint,
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
    http_client *c = ctx_http(ctx, err);
    int rc = c ? aws_request_send(c, src, &req, &resp, err) : -2;
    if (rc == -1)
        sl_error_set(err, resp.timed_out ? SL_ERR_TIMEOUT : SL_ERR_STORAGE, "%s: %s", what,
                     resp.error);
    rc = rc == 0 ? sts_answer(&resp, what, source, out, err) : -1;
    if (c)
        response_wipe_free(&resp);
    free(url);
    free(what);
    free(where);
    return rc;
}

/* AssumeRole, signed with the source credentials. */
static int assume_role(fetch_ctx *ctx, const aws_credentials *src, const char *role_arn,
                       const char *session, const char *external_id, const char *duration,
                       const char *source, aws_credentials *out, sl_error *err)
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

/* ------------------------------------------------- JSON-shaped answers */

/* ECS, IMDS and credential_process answer with the same keys, except for
 * the session token's name. */
static int creds_from_json(json_t *o, const char *token_key, int need_expiration,
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
    if (exp && parse_iso8601(exp, &expiration) != 0) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: unreadable Expiration \"%.40s\"", what, exp);
        return -1;
    }
    creds_fill(out, akid, secret, token, expiration, source);
    return 0;
}

/* Parses body as a JSON object; the parser's message may quote the text,
 * so only the position is reported. */
static json_t *json_body(const char *text, size_t len, const char *what, sl_error *err)
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

/* ------------------------------------------------------------- sources */

static int source_env(aws_credentials *out, sl_error *err)
{
    const char *akid = aws_util_env("AWS_ACCESS_KEY_ID");
    const char *secret = aws_util_env("AWS_SECRET_ACCESS_KEY");
    if (!akid && !secret)
        return SRC_NONE;
    if (!akid || !secret) {
        sl_error_set(err, SL_ERR_CONFIG, "%s is set but %s is not",
                     akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                     akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return SRC_FAIL;
    }
    creds_fill(out, akid, secret, aws_util_env("AWS_SESSION_TOKEN"), 0, "environment");
    return SRC_OK;
}

static int source_web_identity_env(fetch_ctx *ctx, aws_credentials *out, sl_error *err)
{
    const char *file = aws_util_env("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!file)
        return SRC_NONE;
    const char *role = aws_util_env("AWS_ROLE_ARN");
    if (!role) {
        sl_error_set(err, SL_ERR_CONFIG, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
        return SRC_FAIL;
    }
    char *session = aws_util_env("AWS_ROLE_SESSION_NAME")
                        ? xstrdup(aws_util_env("AWS_ROLE_SESSION_NAME"))
                        : default_session_name();
    int rc = web_identity(ctx, file, "AWS_WEB_IDENTITY_TOKEN_FILE", role, session, "web-identity",
                          out, err);
    free(session);
    return rc == 0 ? SRC_OK : SRC_FAIL;
}

static int source_container(fetch_ctx *ctx, aws_credentials *out, sl_error *err);
static int source_imds(fetch_ctx *ctx, aws_credentials *out, sl_error *err);

/* credential_process: its stdout is JSON Version 1. Run through the shell,
 * like the Go and Java SDKs do. */
static int run_credential_process(const char *profile, const char *command, aws_credentials *out,
                                  sl_error *err)
{
    char what[256], source[48];
    snprintf(what, sizeof what, "credential_process of profile \"%s\"", profile);
    snprintf(source, sizeof source, "process:%s", profile);
    fflush(NULL);
    FILE *p = popen(command, "re");
    if (!p) {
        sl_error_set(err, SL_ERR_CONFIG, "%s: cannot start: %s", what, strerror(errno));
        return -1;
    }
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        sb_add(&sb, buf, n);
    explicit_bzero(buf, sizeof buf);
    int status = pclose(p);
    int rc = -1;
    json_t *o = NULL;
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (status != -1 && WIFEXITED(status))
            sl_error_set(err, SL_ERR_CONFIG, "%s exited with status %d", what, WEXITSTATUS(status));
        else
            sl_error_set(err, SL_ERR_CONFIG, "%s did not exit normally", what);
    } else if ((o = json_body(sb.buf, sb.len, what, err)) != NULL) {
        json_t *v = json_object_get(o, "Version");
        if (!json_is_integer(v) || json_integer_value(v) != 1)
            sl_error_set(err, SL_ERR_CONFIG, "%s: the output's Version must be 1", what);
        else
            rc = creds_from_json(o, "SessionToken", 0, source, what, out, err);
    }
    json_decref(o);
    aws_util_sb_wipe_free(&sb);
    return rc;
}

static int profile_credentials(fetch_ctx *ctx, const aws_config_files *fs, const char *name,
                               int depth, aws_credentials *out, sl_error *err);

static int static_keys(const aws_config_files_ini *f, const char *name, const char *akid,
                       const char *secret, const char *token, aws_credentials *out,
                       sl_error *err)
{
    if (!akid && !secret)
        return SRC_NONE;
    if (!akid || !secret) {
        sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\" in %s has %s but no %s", name, f->path,
                     akid ? "aws_access_key_id" : "aws_secret_access_key",
                     akid ? "aws_secret_access_key" : "aws_access_key_id");
        return SRC_FAIL;
    }
    char source[48];
    snprintf(source, sizeof source, "profile:%s", name);
    creds_fill(out, akid, secret, token, 0, source);
    return SRC_OK;
}

/* credential_source = Environment | Ec2InstanceMetadata | EcsContainer */
static int named_credential_source(fetch_ctx *ctx, const char *name, const char *cs,
                                   aws_credentials *out, sl_error *err)
{
    int r;
    if (strcmp(cs, "Environment") == 0)
        r = source_env(out, err);
    else if (strcmp(cs, "EcsContainer") == 0)
        r = source_container(ctx, out, err);
    else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
        r = source_imds(ctx, out, err);
    else {
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\": credential_source \"%s\" is not one of Environment, "
                     "Ec2InstanceMetadata, EcsContainer", name, cs);
        return SRC_FAIL;
    }
    if (r == SRC_NONE)
        sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\": credential_source %s is not configured",
                     name, cs);
    return r == SRC_OK ? SRC_OK : SRC_FAIL;
}

static int profile_role(fetch_ctx *ctx, const aws_config_files *fs, const char *name, int depth,
                        const char *role_arn, aws_credentials *out, sl_error *err)
{
    const char *sp = aws_config_files_get(fs, name, "source_profile");
    const char *cs = aws_config_files_get(fs, name, "credential_source");
    const char *wif = aws_config_files_get(fs, name, "web_identity_token_file");
    const char *sn = aws_config_files_get(fs, name, "role_session_name");
    char *session = sn ? xstrdup(sn) : default_session_name();
    char source[48];
    int r = SRC_FAIL;

    if (wif && !sp && !cs) {
        snprintf(source, sizeof source, "web-identity:%s", name);
        r = web_identity(ctx, wif, "web_identity_token_file", role_arn, session, source, out,
                         err) == 0 ? SRC_OK : SRC_FAIL;
        free(session);
        return r;
    }
    aws_credentials src = {0};
    if (sp && cs)
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\" has both source_profile and credential_source", name);
    else if (!sp && !cs)
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\" has role_arn but no source_profile, credential_source or "
                     "web_identity_token_file", name);
    else if (cs)
        r = named_credential_source(ctx, name, cs, &src, err);
    else if (strcmp(sp, name) == 0) /* a role assumed with the profile's own keys */
        r = static_keys(&fs->creds, name, aws_config_files_cred_get(fs, name, "aws_access_key_id"),
                        aws_config_files_cred_get(fs, name, "aws_secret_access_key"),
                        aws_config_files_cred_get(fs, name, "aws_session_token"), &src, err);
    else if (!aws_config_files_profile_exists(fs, sp))
        sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\": source_profile \"%s\" not found in %s or %s",
                     name, sp, fs->creds.path, fs->config.path);
    else
        r = profile_credentials(ctx, fs, sp, depth + 1, &src, err);
    if (r == SRC_NONE) {
        sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\": source_profile \"%s\" has no credentials",
                     name, sp);
        r = SRC_FAIL;
    }
    if (r == SRC_OK) {
        snprintf(source, sizeof source, "assume-role:%s", name);
        r = assume_role(ctx, &src, role_arn, session, aws_config_files_get(fs, name, "external_id"),
                        aws_config_files_get(fs, name, "duration_seconds"), source, out, err) == 0
                ? SRC_OK : SRC_FAIL;
    }
    aws_credentials_clear(&src);
    free(session);
    return r;
}

/* One profile, in botocore's order: role_arn, static keys in the
 * credentials file, credential_process, static keys in the config file. */
static int profile_credentials(fetch_ctx *ctx, const aws_config_files *fs, const char *name,
                               int depth, aws_credentials *out, sl_error *err)
{
    if (depth >= MAX_PROFILE_CHAIN) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\": source_profile chain longer than %d (a cycle?)", name,
                     MAX_PROFILE_CHAIN);
        return SRC_FAIL;
    }
    const char *role_arn = aws_config_files_get(fs, name, "role_arn");
    if (role_arn)
        return profile_role(ctx, fs, name, depth, role_arn, out, err);
    int r = static_keys(&fs->creds, name, aws_config_files_cred_get(fs, name, "aws_access_key_id"),
                        aws_config_files_cred_get(fs, name, "aws_secret_access_key"),
                        aws_config_files_cred_get(fs, name, "aws_session_token"), out, err);
    if (r != SRC_NONE)
        return r;
    const char *process = aws_config_files_get(fs, name, "credential_process");
    if (process)
        return run_credential_process(name, process, out, err) == 0 ? SRC_OK : SRC_FAIL;
    r = static_keys(&fs->config, name, aws_config_files_conf_get(fs, name, "aws_access_key_id"),
                    aws_config_files_conf_get(fs, name, "aws_secret_access_key"),
                    aws_config_files_conf_get(fs, name, "aws_session_token"), out, err);
    if (r != SRC_NONE)
        return r;
    if (aws_config_files_get(fs, name, "sso_session") ||
        aws_config_files_get(fs, name, "sso_start_url")) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\" uses IAM Identity Center (sso_*), which sluice does not "
                     "read; add `credential_process = aws configure export-credentials "
                     "--profile %s --format process` to a profile", name, name);
        return SRC_FAIL;
    }
    return SRC_NONE;
}

static int source_profile(fetch_ctx *ctx, aws_credentials *out, sl_error *err, strbuf *why)
{
    aws_config_files fs;
    if (aws_config_files_load(&fs, err) != 0)
        return SRC_FAIL;
    int r;
    if (!aws_config_files_profile_exists(&fs, ctx->profile)) {
        if (ctx->profile_explicit) {
            sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\" not found in %s or %s", ctx->profile,
                         fs.creds.path, fs.config.path);
            r = SRC_FAIL;
        } else {
            sb_addf(why, "; shared files: no profile \"%s\" in %s or %s", ctx->profile,
                    fs.creds.path, fs.config.path);
            r = SRC_NONE;
        }
    } else {
        r = profile_credentials(ctx, &fs, ctx->profile, 0, out, err);
        if (r == SRC_NONE)
            sb_addf(why, "; shared files: profile \"%s\" holds no credentials", ctx->profile);
    }
    aws_config_files_free(&fs);
    return r;
}

/* ----------------------------------------------------------- container */

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
        *token = read_token_file(file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", err);
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

static int source_container(fetch_ctx *ctx, aws_credentials *out, sl_error *err)
{
    if (!aws_util_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") &&
        !aws_util_env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        return SRC_NONE;
    char *url = NULL, *where = NULL, *token = NULL;
    if (container_url(&url, &where, err) != 0 || container_auth(&token, err) != 0) {
        free(url);
        free(where);
        return SRC_FAIL;
    }
    http_headers h = {0};
    if (token) {
        http_headers_add(&h, "Authorization", token);
        aws_util_wipe_free(token);
    }
    char *what = xasprintf("container credentials endpoint %s", where);
    http_response resp;
    int r = SRC_FAIL;
    if (fetch(ctx, "GET", url, &h, NULL, METADATA_CONNECT_TIMEOUT_MS, &resp, err) != 0) {
        if (resp.transport_error)
            sl_error_set(err, resp.timed_out ? SL_ERR_TIMEOUT : SL_ERR_STORAGE, "%s: %s", what,
                         resp.error);
    } else if (resp.status != 200) {
        char *e = json_error_text(&resp);
        sl_error_set(err, SL_ERR_STORAGE, "%s: HTTP %ld%s", what, resp.status, e);
        free(e);
    } else {
        json_t *o = json_body(resp.body.buf, resp.body.len, what, err);
        if (o && creds_from_json(o, "Token", 1, "container", what, out, err) == 0)
            r = SRC_OK;
        json_decref(o);
    }
    response_wipe_free(&resp);
    for (size_t i = 0; i < h.count; i++)
        explicit_bzero(h.lines[i], strlen(h.lines[i]));
    http_headers_free(&h);
    free(what);
    free(where);
    free(url);
    return r;
}

/* ----------------------------------------------------------------- IMDS */

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
static int imds_call(fetch_ctx *ctx, const char *base, const char *method, const char *path,
                     const char *token, char **body, long *status, sl_error *err)
{
    char *url = xasprintf("%s%s", base, path);
    http_headers h = {0};
    if (token)
        http_headers_add(&h, "X-aws-ec2-metadata-token", token);
    else
        http_headers_add(&h, "X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL);
    http_response resp;
    int rc = fetch(ctx, method, url, &h, token ? NULL : "", METADATA_CONNECT_TIMEOUT_MS, &resp, err);
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
    response_wipe_free(&resp);
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

static int imds_credentials(fetch_ctx *ctx, const char *base, const char *token,
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
        json_t *o = json_body(body, strlen(body), what, err);
        const char *code = o ? json_string_value(json_object_get(o, "Code")) : NULL;
        if (o && (!code || strcmp(code, "Success") != 0))
            sl_error_set(err, SL_ERR_STORAGE, "%s: Code %.80s", what, code ? code : "(none)");
        else if (o)
            rc = creds_from_json(o, "Token", 1, "imds", what, out, err);
        json_decref(o);
    }
    aws_util_wipe_free(body);
    free(what);
    free(path);
    free(role);
    return rc;
}

static int source_imds(fetch_ctx *ctx, aws_credentials *out, sl_error *err)
{
    if (aws_util_env_true("AWS_EC2_METADATA_DISABLED"))
        return SRC_NONE;
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
    return rc == 0 ? SRC_OK : SRC_FAIL;
}

/* ----------------------------------------------------------------- chain */

static int resolve_chain(fetch_ctx *ctx, aws_credentials *out, sl_error *err)
{
    strbuf why = STRBUF_INIT;
    sl_error e = {0};
    const char *label = NULL;
    int r = SRC_NONE;

    if (ctx->profile_from_opts) {
        sb_addf(&why, "environment: skipped (profile \"%s\" named in the configuration)",
                ctx->profile);
    } else if ((r = source_env(out, &e)) != SRC_NONE) {
        label = "environment";
        goto done;
    } else {
        sb_adds(&why, "environment: AWS_ACCESS_KEY_ID not set");
    }
    if ((r = source_web_identity_env(ctx, out, &e)) != SRC_NONE) {
        label = "web identity";
        goto done;
    }
    sb_adds(&why, "; web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set");
    if ((r = source_profile(ctx, out, &e, &why)) != SRC_NONE) {
        label = "shared files";
        goto done;
    }
    if ((r = source_container(ctx, out, &e)) != SRC_NONE) {
        label = "container endpoint";
        goto done;
    }
    sb_adds(&why, "; container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
    if ((r = source_imds(ctx, out, &e)) == SRC_NONE)
        sb_adds(&why, "; EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
    if (r != SRC_OK)
        sl_error_set(err, e.kind ? e.kind : SL_ERR_CONFIG, "no AWS credentials found (%s%s%s)",
                     sb_str(&why), r == SRC_FAIL ? "; " : "", r == SRC_FAIL ? e.msg : "");
    sb_free(&why);
    return r == SRC_OK ? 0 : -1;
done:
    if (r == SRC_FAIL)
        sl_error_set(err, e.kind, "AWS credentials (%s): %s", label, e.msg);
    sb_free(&why);
    return r == SRC_OK ? 0 : -1;
}

/* -------------------------------------------------------------- provider */

struct aws_credential_provider {
    pthread_mutex_t mu;
    pthread_cond_t done;       /* a refresh finished */
    char *profile;             /* from the options; NULL: $AWS_PROFILE or "default" */
    long timeout_ms;
    aws_credentials cur;       /* valid when have */
    int have;
    int refreshing;            /* one refresh at a time */
    unsigned long refreshes;   /* completed refreshes */
    int last_failed;
    sl_error last_err;
    long long retry_after;     /* after a failed refresh, serve cur until then */
};

aws_credential_provider *aws_credential_provider_new(const aws_provider_options *opts)
{
    xmlInitParser();
    aws_credential_provider *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->done, NULL);
    if (opts && opts->profile && *opts->profile)
        p->profile = xstrdup(opts->profile);
    p->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    return p;
}

void aws_credential_provider_free(aws_credential_provider *p)
{
    if (!p)
        return;
    aws_credentials_clear(&p->cur);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->profile);
    free(p);
}

void aws_credentials_invalidate(aws_credential_provider *p)
{
    pthread_mutex_lock(&p->mu);
    aws_credentials_clear(&p->cur);
    p->have = 0;
    p->retry_after = 0;
    pthread_mutex_unlock(&p->mu);
}

static int fresh(const aws_credentials *c, long long now)
{
    return c->expiration == 0 || c->expiration - now > REFRESH_MARGIN_S;
}

static int unexpired(const aws_credentials *c, long long now)
{
    return c->expiration == 0 || c->expiration > now;
}

static int fetch_credentials(const aws_credential_provider *p, aws_credentials *out,
                             sl_error *err)
{
    fetch_ctx ctx = {.timeout_ms = p->timeout_ms};
    if (p->profile) {
        ctx.profile = p->profile;
        ctx.profile_explicit = ctx.profile_from_opts = 1;
    } else if (aws_util_env("AWS_PROFILE")) {
        ctx.profile = aws_util_env("AWS_PROFILE");
        ctx.profile_explicit = 1;
    } else {
        ctx.profile = "default";
    }
    int rc = resolve_chain(&ctx, out, err);
    http_client_free(ctx.http);
    return rc;
}

/* Called with the lock held; returns 1 when *out was served from cache. */
static int serve_cached(aws_credential_provider *p, aws_credentials *out, long long now)
{
    if (!p->have)
        return 0;
    if (fresh(&p->cur, now) || (now < p->retry_after && unexpired(&p->cur, now))) {
        aws_credentials_copy(out, &p->cur);
        return 1;
    }
    return 0;
}

int aws_credentials_get(aws_credential_provider *p, aws_credentials *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->mu);
    while (p->refreshing) {
        if (serve_cached(p, out, time(NULL))) {
            pthread_mutex_unlock(&p->mu);
            return 0;
        }
        /* someone is already asking: wait for that answer and share it */
        unsigned long seen = p->refreshes;
        while (p->refreshing && p->refreshes == seen)
            pthread_cond_wait(&p->done, &p->mu);
        if (p->have && unexpired(&p->cur, time(NULL))) {
            aws_credentials_copy(out, &p->cur);
            pthread_mutex_unlock(&p->mu);
            return 0;
        }
        if (p->last_failed) {
            sl_error_set(err, p->last_err.kind, "%s", p->last_err.msg);
            pthread_mutex_unlock(&p->mu);
            return -1;
        }
    }
    long long now = time(NULL);
    if (serve_cached(p, out, now)) {
        pthread_mutex_unlock(&p->mu);
        return 0;
    }
    p->refreshing = 1;
    pthread_mutex_unlock(&p->mu);

    aws_credentials got = {0};
    sl_error e = {0};
    int rc = fetch_credentials(p, &got, &e);

    pthread_mutex_lock(&p->mu);
    now = time(NULL);
    p->refreshing = 0;
    p->refreshes++;
    if (rc == 0) {
        aws_credentials_clear(&p->cur);
        p->cur = got; /* moved */
        p->have = 1;
        p->last_failed = 0;
        p->retry_after = 0;
        aws_credentials_copy(out, &p->cur);
    } else {
        p->last_failed = 1;
        p->last_err = e;
        if (p->have && unexpired(&p->cur, now)) {
            /* keys that still work beat an error; ask again a little later */
            p->retry_after = now + FAILED_REFRESH_BACKOFF_S;
            aws_credentials_copy(out, &p->cur);
            rc = 0;
        } else {
            sl_error_set(err, e.kind, "%s", e.msg);
        }
    }
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->mu);
    return rc;
}
