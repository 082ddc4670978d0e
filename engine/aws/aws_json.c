#include "autoconfig.h"
#include "aws/aws_json.h"

#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aws/aws_request.h"
#include "aws/sigv4.h"
#include "util/alloc.h"
#include "util/strbuf.h"

/* "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist" */
static void error_code_from(json_t *body, char *out, size_t len)
{
    const char *t = json_string_value(json_object_get(body, "__type"));
    if (!t)
        t = json_string_value(json_object_get(body, "code"));
    if (!t)
        return;
    const char *hash = strrchr(t, '#');
    snprintf(out, len, "%s", hash ? hash + 1 : t);
}

static const char *error_message_from(json_t *body)
{
    const char *m = json_string_value(json_object_get(body, "message"));
    return m ? m : json_string_value(json_object_get(body, "Message"));
}

static int is_retryable(long status, const char *code)
{
    return status == 0 || status >= 500 || status == 429 || strstr(code, "Throttl") ||
           strcmp(code, "RequestTimeout") == 0 || strcmp(code, "ServiceUnavailable") == 0;
}

int aws_json_call(http_client *c, aws_credentials_provider *creds, const aws_endpoint *ep,
                  const char *target, json_t *request, long timeout_ms,
                  int (*should_abort)(void *), void *abort_ud, aws_json_result *out,
                  sl_error *err)
{
    memset(out, 0, sizeof *out);
    aws_credentials cred = {0};
    if (aws_credentials_get(creds, &cred, err) != 0)
        return -1;
    char content_type[48];
    snprintf(content_type, sizeof content_type, "application/x-amz-json-%s", ep->json_version);
    sigv4_header sh[] = {{"content-type", content_type}, {"x-amz-target", target}};
    char *body = json_dumps(request, JSON_COMPACT);
    char *url = xasprintf("%s/", ep->url);
    aws_request req = {
        .method = "POST",
        .url = url,
        .headers = sh,
        .n_headers = sizeof sh / sizeof *sh,
        .service = ep->service,
        .region = ep->region,
        .body = body,
        .body_len = strlen(body),
        .timeout_ms = timeout_ms,
        .should_abort = should_abort,
        .abort_ud = abort_ud,
    };
    http_response resp;
    int rc = aws_request_send(c, &cred, &req, &resp, err);
    aws_credentials_clear(&cred);
    free(url);
    free(body);
    if (rc == -2) {
        http_response_free(&resp);
        return -1;
    }
    if (rc != 0) {
        out->retryable = !resp.aborted;
        sl_error_set(err, resp.timed_out ? SL_ERR_TIMEOUT : SL_ERR_STORAGE, "%s: %s (%s)", target,
                     resp.aborted ? "stopped" : "connection failed", resp.error);
        http_response_free(&resp);
        return -1;
    }
    out->status = resp.status;
    out->body = json_loadb(sb_str(&resp.body), resp.body.len, 0, NULL);
    http_response_free(&resp);
    if (out->status == 200 && out->body)
        return 0;
    error_code_from(out->body, out->error_code, sizeof out->error_code);
    out->retryable = is_retryable(out->status, out->error_code);
    const char *msg = error_message_from(out->body);
    if (out->status == 403 || strstr(out->error_code, "ExpiredToken") ||
        strstr(out->error_code, "InvalidClientTokenId"))
        aws_credentials_invalidate(creds); /* maybe expired: refresh next time */
    sl_error_set(err, SL_ERR_STORAGE, "%s: %s%s%s (HTTP %ld)", target,
                 out->error_code[0] ? out->error_code : "error", msg ? ": " : "", msg ? msg : "",
                 out->status);
    return -1;
}

void aws_json_result_free(aws_json_result *r)
{
    json_decref(r->body);
    r->body = NULL;
}
