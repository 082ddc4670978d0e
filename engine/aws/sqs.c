#include "autoconfig.h"
#include "aws/sqs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_region.h"
#include "net/url.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#define SQS_TIMEOUT_MS 10000L

/* "sqs.eu-west-1.amazonaws.com" (or the legacy
 * "eu-west-1.queue.amazonaws.com") -> "eu-west-1" */
static char *region_from_host(const char *h)
{
    if (strncmp(h, "sqs.", 4) == 0) {
        const char *dot = strchr(h + 4, '.');
        if (dot && strstr(dot, ".amazonaws.com"))
            return xstrndup(h + 4, (size_t)(dot - (h + 4)));
    }
    const char *q = strstr(h, ".queue.amazonaws.com");
    if (q && q > h)
        return xstrndup(h, (size_t)(q - h));
    return NULL;
}

int sqs_queue_init(sqs_queue *q, const char *queue_url, const char *region, sl_error *err)
{
    memset(q, 0, sizeof *q);
    url_parts u;
    if (url_parse(queue_url, &u) != 0) {
        sl_error_set(err, SL_ERR_CONFIG, "--queue %s: expected an https:// queue URL", queue_url);
        return -1;
    }
    if (strcmp(u.path, "/") == 0 || u.query || u.userinfo) {
        url_parts_free(&u);
        sl_error_set(err, SL_ERR_CONFIG,
                     "--queue %s: expected a queue URL like https://sqs.REGION.amazonaws.com/ACCOUNT/NAME",
                     queue_url);
        return -1;
    }
    q->url = xstrdup(queue_url);
    q->endpoint = url_origin(&u);
    /* the queue's own region first: a request signed for another fails */
    char *host_region = region_from_host(u.host);
    q->region = aws_region_pick(region, host_region, NULL);
    free(host_region);
    url_parts_free(&u);
    q->ep = (aws_endpoint){
        .url = q->endpoint, .region = q->region, .service = "sqs", .json_version = "1.0"};
    return 0;
}

void sqs_queue_free(sqs_queue *q)
{
    free(q->url);
    free(q->endpoint);
    free(q->region);
    memset(q, 0, sizeof *q);
}

static char *string_member(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? xstrdup(v) : NULL;
}

int sqs_parse_messages(json_t *body, sqs_message **msgs, size_t *n)
{
    json_t *list = json_object_get(body, "Messages"); /* absent when empty */
    size_t count = json_is_array(list) ? json_array_size(list) : 0;
    *msgs = count ? xcalloc(count, sizeof **msgs) : NULL;
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        json_t *m = json_array_get(list, i);
        sqs_message *out = &(*msgs)[*n];
        out->id = string_member(m, "MessageId");
        out->receipt = string_member(m, "ReceiptHandle");
        out->body = string_member(m, "Body");
        const char *rc = json_string_value(
            json_object_get(json_object_get(m, "Attributes"), "ApproximateReceiveCount"));
        out->receive_count = rc ? atoi(rc) : 0;
        if (!out->receipt || !out->body) {
            free(out->id);
            free(out->receipt);
            free(out->body);
            continue; /* not a message we can act on; SQS will redeliver or redrive it */
        }
        (*n)++;
    }
    return 0;
}

int sqs_receive(http_client *c, aws_credentials_provider *cr, const sqs_queue *q, int max,
                int wait_s, int visibility_s, int (*should_abort)(void *), void *ud,
                sqs_message **msgs, size_t *n, int *retryable, sl_error *err)
{
    *msgs = NULL;
    *n = 0;
    *retryable = 0;
    json_t *req = json_pack("{s:s, s:i, s:i, s:[s]}", "QueueUrl", q->url, "MaxNumberOfMessages",
                            max, "WaitTimeSeconds", wait_s, "MessageSystemAttributeNames",
                            "ApproximateReceiveCount");
    if (visibility_s > 0)
        json_object_set_new(req, "VisibilityTimeout", json_integer(visibility_s));
    aws_json_result res;
    int rc = aws_json_call(c, cr, &q->ep, "AmazonSQS.ReceiveMessage", req,
                           (wait_s + 10) * 1000L, should_abort, ud, &res, err);
    json_decref(req);
    if (rc == 0)
        sqs_parse_messages(res.body, msgs, n);
    else
        *retryable = res.retryable || res.status == 0;
    aws_json_result_free(&res);
    return rc;
}

int sqs_delete(http_client *c, aws_credentials_provider *cr, const sqs_queue *q,
               const char *receipt, sl_error *err)
{
    json_t *req = json_pack("{s:s, s:s}", "QueueUrl", q->url, "ReceiptHandle", receipt);
    aws_json_result res;
    int rc = aws_json_call(c, cr, &q->ep, "AmazonSQS.DeleteMessage", req, SQS_TIMEOUT_MS, NULL,
                           NULL, &res, err);
    json_decref(req);
    aws_json_result_free(&res);
    return rc;
}

/* The entry ids of a batch are the receipts' indexes: "0".."9". */
static long batch_index(json_t *entry, size_t n)
{
    const char *id = json_string_value(json_object_get(entry, "Id"));
    if (!id || !*id)
        return -1;
    char *end;
    long i = strtol(id, &end, 10);
    return *end == '\0' && i >= 0 && (size_t)i < n ? i : -1;
}

/* "ChangeMessageVisibilityBatch: 2 of 10 entries not changed: Code: Message" */
static void set_batch_failure(sl_error *err, json_t *first, int failed, size_t n)
{
    const char *code = json_string_value(json_object_get(first, "Code"));
    const char *msg = json_string_value(json_object_get(first, "Message"));
    sl_error_set(err, SL_ERR_STORAGE,
                 "ChangeMessageVisibilityBatch: %d of %zu entries not changed%s%s%s%s", failed, n,
                 code ? ": " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
}

int sqs_change_visibility_batch(http_client *c, aws_credentials_provider *cr,
                                const sqs_queue *q, char *const *receipts, size_t n,
                                int seconds, int *changed, sl_error *err)
{
    if (n == 0 || n > SQS_BATCH_MAX) {
        sl_error_set(err, SL_ERR_INTERNAL, "ChangeMessageVisibilityBatch: %zu entries (1 to %d)",
                     n, SQS_BATCH_MAX);
        return -1;
    }
    json_t *entries = json_array();
    for (size_t i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%zu", i);
        json_array_append_new(entries, json_pack("{s:s, s:s, s:i}", "Id", id, "ReceiptHandle",
                                                 receipts[i], "VisibilityTimeout", seconds));
        changed[i] = 0;
    }
    json_t *req = json_pack("{s:s, s:o}", "QueueUrl", q->url, "Entries", entries);
    aws_json_result res;
    int rc = aws_json_call(c, cr, &q->ep, "AmazonSQS.ChangeMessageVisibilityBatch", req,
                           SQS_TIMEOUT_MS, NULL, NULL, &res, err);
    json_decref(req);
    if (rc == 0) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(res.body, "Successful"), i, e) {
            long k = batch_index(e, n);
            if (k >= 0)
                changed[k] = 1;
        }
        json_array_foreach(json_object_get(res.body, "Failed"), i, e) {
            long k = batch_index(e, n);
            if (k >= 0 && json_is_true(json_object_get(e, "SenderFault")))
                changed[k] = -1;
        }
        for (i = 0; i < n; i++)
            rc += changed[i] != 1;
        if (rc > 0) /* a failure, or an entry the answer left out */
            set_batch_failure(err, json_array_get(json_object_get(res.body, "Failed"), 0), rc, n);
    }
    aws_json_result_free(&res);
    return rc;
}

void sqs_messages_free(sqs_message *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(msgs[i].id);
        free(msgs[i].receipt);
        free(msgs[i].body);
    }
    free(msgs);
}
