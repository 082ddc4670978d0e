/* notify_webhook.c — the `webhook` target: POST of the job-state event
 * (compact JSON, Content-Type application/json) to `url`, with the
 * target's extra `headers` and a `timeout` (seconds, default 10).
 *
 * With `secret_env`, the body is signed:
 *   X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>
 * keyed by the value of that environment variable. A receiver recomputes
 * it over the raw body and compares in constant time. When the variable
 * is unset or empty the delivery fails rather than go out unsigned.
 *
 * 2xx is delivered; 408, 429, 5xx and connection failures are retried;
 * any other status is final. */
#include "autoconfig.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notify/notify_backend.h"
#include "util/strbuf.h"

void notify_webhook_signature(const char *secret, const void *body, size_t len, char out[72])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    memcpy(out, "sha256=", 7);
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, md, &md_len) ||
        md_len != 32) {
        out[7] = '\0'; /* cannot happen with a working libcrypto */
        return;
    }
    for (unsigned int i = 0; i < md_len; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[71] = '\0';
}

/* Headers the target may not replace: the body's type and its signature. */
static int reserved_header(const char *name)
{
    return !strcasecmp(name, "Content-Type") || !strcasecmp(name, "X-Sluice-Signature") ||
           !strcasecmp(name, "Content-Length");
}

static void add_headers(http_headers *h, const notify_delivery *d)
{
    const json_t *detail = json_object_get(d->event, "detail");
    const char *run_id = json_string_value(json_object_get(detail, "run_id"));
    const char *state = json_string_value(json_object_get(detail, "state"));
    http_headers_add(h, "Content-Type", "application/json");
    http_headers_addf(h, "User-Agent", "sluice/%s", PACKAGE_VERSION);
    http_headers_add(h, "X-Sluice-Event", NOTIFY_DETAIL_TYPE);
    if (run_id)
        http_headers_add(h, "X-Sluice-Run-Id", run_id);
    if (state)
        http_headers_add(h, "X-Sluice-State", state);
    for (size_t i = 0; i < d->target->n_headers; i++) {
        const config_header *ch = &d->target->headers[i];
        if (!reserved_header(ch->name))
            http_headers_add(h, ch->name, ch->value);
    }
}

static notify_status classify_status(long status)
{
    if (status >= 200 && status < 300)
        return NOTIFY_SENT;
    if (status == 408 || status == 429 || status >= 500)
        return NOTIFY_RETRY;
    return NOTIFY_FAILED;
}

static notify_status webhook_send(notify_delivery *d)
{
    const notify_target *t = d->target;
    const char *url = t->url;
    const char *secret_env = t->secret_env;
    const char *secret = secret_env ? getenv(secret_env) : NULL;
    if (secret_env && (!secret || !*secret)) {
        snprintf(d->error, sizeof d->error,
                 "webhook %s: the signing secret's variable %s is not set (not sending unsigned)",
                 url, secret_env);
        return NOTIFY_FAILED;
    }
    char *body = json_dumps(d->event, JSON_COMPACT);
    http_headers h = {0};
    add_headers(&h, d);
    if (secret) {
        char sig[72];
        notify_webhook_signature(secret, body, strlen(body), sig);
        http_headers_add(&h, "X-Sluice-Signature", sig);
    }
    http_request req = {.method = "POST", .url = url, .headers = &h, .body = body,
                        .body_len = strlen(body),
                        .timeout_ms = t->timeout_ms,
                        .connect_timeout_ms = 5000};
    http_response resp;
    notify_status s;
    if (http_perform(d->http, &req, &resp) != 0) {
        snprintf(d->error, sizeof d->error, "webhook POST %s: %s%s", url, resp.error,
                 resp.timed_out ? " (timeout)" : "");
        s = NOTIFY_RETRY;
    } else {
        s = classify_status(resp.status);
        if (s == NOTIFY_SENT)
            snprintf(d->id, sizeof d->id, "HTTP %ld", resp.status);
        else
            snprintf(d->error, sizeof d->error, "webhook POST %s: HTTP %ld: %.200s", url,
                     resp.status, sb_str(&resp.body));
    }
    http_response_free(&resp);
    http_headers_free(&h);
    free(body);
    return s;
}

const notify_backend notify_webhook_backend = {"webhook", webhook_send};
