/* notify_aws.c — what the SNS and EventBridge targets share: region,
 * endpoint and credentials for a target, and one SigV4-signed POST. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws_credentials.h"
#include "notify/notify_backend.h"
#include "util/alloc.h"
#include "util/strbuf.h"


char *notify_aws_region(const notify_target *t, const char *hint)
{
    const char *r = t->region;
    if (r && *r)
        return xstrdup(r);
    if (hint && *hint)
        return xstrdup(hint);
    char *env = aws_resolve_region(t->profile);
    if (env && *env)
        return env;
    free(env);
    return xstrdup("us-east-1");
}

static char *without_trailing_slash(const char *url)
{
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    return xstrndup(url, len);
}

char *notify_aws_endpoint(const notify_target *t, const char *service, const char *env_suffix,
                          const char *region)
{
    const char *e = t->endpoint;
    if (e && *e)
        return without_trailing_slash(e);
    char *env = aws_resolve_endpoint(env_suffix, t->profile);
    if (env && *env) {
        char *out = without_trailing_slash(env);
        free(env);
        return out;
    }
    free(env);
    const char *domain = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    return xasprintf("https://%s.%s.%s", service, region, domain);
}

/* "http://h:1/p" -> host "h:1", path "/p" ("/" when none). */
static void split_url(const char *url, char **host, char **path)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t hlen = strcspn(h, "/?#");
    *host = xstrndup(h, hlen);
    const char *p = h + hlen;
    *path = *p == '/' ? xstrndup(p, strcspn(p, "?#")) : xstrdup("/");
}

static void xml_unescape(strbuf *out, const char *s, size_t len)
{
    static const struct {
        const char *ent;
        char ch;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t i = 0; i < len;) {
        int matched = 0;
        for (size_t j = 0; s[i] == '&' && !matched && j < sizeof ents / sizeof *ents; j++) {
            size_t el = strlen(ents[j].ent);
            if (i + el <= len && !strncmp(s + i, ents[j].ent, el)) {
                sb_addc(out, ents[j].ch);
                i += el;
                matched = 1;
            }
        }
        if (!matched)
            sb_addc(out, s[i++]);
    }
}

char *notify_xml_text(const char *xml, const char *element)
{
    if (!xml)
        return NULL;
    char *open = xasprintf("<%s>", element);
    char *close = xasprintf("</%s>", element);
    const char *a = strstr(xml, open);
    const char *b = a ? strstr(a, close) : NULL;
    char *out = NULL;
    if (a && b) {
        a += strlen(open);
        strbuf sb = STRBUF_INIT;
        xml_unescape(&sb, a, (size_t)(b - a));
        out = sb_steal(&sb);
    }
    free(open);
    free(close);
    return out;
}

static void add_signed_headers(http_headers *h, const sigv4_result *sig,
                               const aws_credentials *cred, const notify_aws_call *call)
{
    http_headers_add(h, "Authorization", sig->authorization);
    http_headers_add(h, "X-Amz-Date", sig->amz_date);
    http_headers_add(h, "Content-Type", call->content_type);
    if (call->amz_target)
        http_headers_add(h, "X-Amz-Target", call->amz_target);
    if (cred->session_token)
        http_headers_add(h, "X-Amz-Security-Token", cred->session_token);
    http_headers_addf(h, "User-Agent", "sluice/%s", PACKAGE_VERSION);
}

int notify_aws_post(notify_delivery *d, const notify_aws_call *call, http_response *resp,
                    notify_status *fail)
{
    const notify_target *t = d->target;
    memset(resp, 0, sizeof *resp);
    aws_credentials cred = {0};
    sl_error err = {0};
    if (notifier_credentials(d->nf, t->profile, &cred, &err) != 0) {
        snprintf(d->error, sizeof d->error, "no AWS credentials: %s", err.msg);
        *fail = NOTIFY_FAILED;
        return -1;
    }
    char *region = notify_aws_region(t, call->region_hint);
    char *endpoint = notify_aws_endpoint(t, call->service, call->env_suffix, region);
    char *host, *path;
    split_url(endpoint, &host, &path);
    char *url = strcmp(path, "/") == 0 ? xasprintf("%s/", endpoint) : xstrdup(endpoint);

    char hash[65];
    sigv4_sha256_hex(call->body, call->body_len, hash);
    sigv4_header sh[3] = {{"host", host}, {"content-type", call->content_type}};
    size_t nsh = 2;
    if (call->amz_target)
        sh[nsh++] = (sigv4_header){"x-amz-target", call->amz_target};
    sigv4_request sreq = {.method = "POST", .path = path, .headers = sh, .n_headers = nsh,
                          .payload_hash = hash, .region = region, .service = call->service,
                          .now = time(NULL)};
    sigv4_result sig = {0};
    sigv4_sign(&sreq, &cred, &sig);

    http_headers h = {0};
    add_signed_headers(&h, &sig, &cred, call);
    http_request req = {.method = "POST", .url = url, .headers = &h, .body = call->body,
                        .body_len = call->body_len,
                        .timeout_ms = t->timeout_ms,
                        .connect_timeout_ms = 5000};
    int rc = http_perform(d->http, &req, resp);
    if (rc != 0) {
        snprintf(d->error, sizeof d->error, "POST %s: %s", url, resp->error);
        *fail = NOTIFY_RETRY;
        http_response_free(resp);
    }
    http_headers_free(&h);
    sigv4_result_free(&sig);
    aws_credentials_clear(&cred);
    free(url);
    free(host);
    free(path);
    free(endpoint);
    free(region);
    return rc == 0 ? 0 : -1;
}
