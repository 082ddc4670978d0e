/* notify_aws.c — what the SNS and EventBridge targets share: region,
 * endpoint and credentials for a target, and one SigV4-signed POST. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_credentials.h"
#include "aws/aws_region.h"
#include "aws/aws_request.h"
#include "net/url.h"
#include "notify/notify_backend.h"
#include "util/alloc.h"
#include "util/strbuf.h"

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
    char *region = aws_region_pick(t->region, call->region_hint, t->profile);
    char *endpoint =
        aws_region_endpoint(t->endpoint, call->env_suffix, call->service, region, t->profile);
    url_parts u;
    int has_path = url_parse(endpoint, &u) == 0 && strcmp(u.path, "/") != 0;
    if (u.scheme)
        url_parts_free(&u);
    char *url = has_path ? xstrdup(endpoint) : xasprintf("%s/", endpoint);
    sigv4_header sh[2] = {{"content-type", call->content_type}};
    size_t nsh = 1;
    if (call->amz_target)
        sh[nsh++] = (sigv4_header){"x-amz-target", call->amz_target};
    aws_request req = {.method = "POST", .url = url, .headers = sh, .n_headers = nsh,
                       .service = call->service, .region = region, .body = call->body,
                       .body_len = call->body_len, .timeout_ms = t->timeout_ms,
                       .connect_timeout_ms = 5000};
    int rc = aws_request_send(d->http, &cred, &req, resp, &err);
    if (rc != 0) {
        char *where = url_for_message(url);
        snprintf(d->error, sizeof d->error, "POST %s: %s", where,
                 rc == -2 ? err.msg : resp->error);
        free(where);
        *fail = rc == -2 ? NOTIFY_FAILED : NOTIFY_RETRY;
        http_response_free(resp);
    }
    aws_credentials_clear(&cred);
    free(url);
    free(endpoint);
    free(region);
    return rc == 0 ? 0 : -1;
}
