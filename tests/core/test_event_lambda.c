/* test_event_lambda.c — the Records shapes Lambda hands a function for
 * its SQS and SNS triggers: unwrapped to the S3 records inside, with the
 * same field paths in messages and the same bound on nesting as the plain
 * SQS and SNS shapes. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"

#define CAFE_KEY "hit data/2009 09/a+b caf\xc3\xa9.tsv"

static char *data_path(const char *rel)
{
    const char *top = getenv("top_srcdir");
    if (top && *top)
        return xasprintf("%s/tests/data/%s", top, rel);
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    if (!slash)
        return xasprintf("../data/%s", rel);
    return xasprintf("%.*s/../data/%s", (int)(slash - file), file, rel);
}

static char *slurp_data(const char *rel, size_t *len)
{
    char *path = data_path(rel);
    strbuf sb = STRBUF_INIT;
    int rc = sb_read_file(&sb, path);
    free(path);
    if (rc != 0) {
        sb_free(&sb);
        *len = 0;
        return NULL;
    }
    *len = sb.len;
    return sb_steal(&sb);
}

/* The real-S3 put of tests/data/events/s3-put.json, however wrapped. */
static void is_s3_put(const event_record *r, const char *name)
{
    is_int(r->kind, EVENT_OBJECT_CREATED, "%s: kind", name);
    is_str(r->source, "s3", "%s: source", name);
    is_str(r->bucket, "client-inbound", "%s: bucket", name);
    is_str(r->key, CAFE_KEY, "%s: key decoded", name);
    is_int(r->size, 6259, "%s: size", name);
    is_str(r->etag, "4f1b3c0c9c3f5a1e7d0a2b6c8e9f1a2b", "%s: etag", name);
    is_str(r->version_id, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", "%s: version", name);
    is_str(r->sequencer, "0067A1B2C3D4E5F601", "%s: sequencer", name);
    is_str(r->event_name, "ObjectCreated:Put", "%s: event name", name);
    is_int((long long)r->event_time, 1795166142, "%s: time", name);
}

static void test_fixtures(void)
{
    size_t len;
    event_batch b = {0};
    sl_error err = {0};

    char *json = slurp_data("lambda/lambda-sqs-trigger.json", &len);
    ok(json != NULL, "SQS trigger fixture readable");
    is_int(event_parse(json, len, &b, &err), 0, "SQS trigger parses");
    is_str(err.msg, "", "no error");
    is_int((long long)b.count, 2, "one record per message");
    if (b.count == 2) {
        is_s3_put(&b.records[0], "sqs body = S3 event");
        is_s3_put(&b.records[1], "sqs body = SNS envelope");
    }
    event_batch_free(&b);
    free(json);

    json = slurp_data("lambda/lambda-sns-trigger.json", &len);
    ok(json != NULL, "SNS trigger fixture readable");
    is_int(event_parse(json, len, &b, &err), 0, "SNS trigger parses");
    is_int((long long)b.count, 1, "one record");
    if (b.count == 1)
        is_s3_put(&b.records[0], "Sns.Message = S3 event");
    event_batch_free(&b);
    free(json);
}

/* JSON text as a JSON string literal (for bodies and messages). */
static char *quoted(const char *text)
{
    strbuf sb = STRBUF_INIT;
    sb_addc(&sb, '"');
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_addc(&sb, '\\');
        sb_addc(&sb, *p);
    }
    sb_addc(&sb, '"');
    return sb_steal(&sb);
}

static char *sqs_trigger(const char *body_json)
{
    char *q = quoted(body_json);
    char *s = xasprintf("{\"Records\":[{\"messageId\":\"m1\",\"eventSource\":\"aws:sqs\","
                        "\"body\":%s}]}",
                        q);
    free(q);
    return s;
}

static char *sns_trigger(const char *message_json)
{
    char *q = quoted(message_json);
    char *s = xasprintf("{\"Records\":[{\"EventSource\":\"aws:sns\",\"EventVersion\":\"1.0\","
                        "\"Sns\":{\"Type\":\"Notification\",\"Message\":%s}}]}",
                        q);
    free(q);
    return s;
}

#define S3_EVENT(key)                                                                         \
    "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"eventName\":"       \
    "\"ObjectCreated:Put\",\"eventTime\":\"2026-11-20T09:15:42Z\",\"s3\":{\"bucket\":{\"name\"" \
    ":\"in\"},\"object\":{\"key\":\"" key "\",\"size\":3}}}]}"

/* Parses `json` (taken over) and returns the batch; *rc the result. */
static int parse_owned(char *json, event_batch *b, sl_error *err)
{
    memset(err, 0, sizeof *err);
    int rc = event_parse(json, strlen(json), b, err);
    free(json);
    return rc;
}

static void refused(char *json, const char *want, const char *name)
{
    event_batch b = {0};
    sl_error err;
    is_int(parse_owned(json, &b, &err), -1, "%s: refused", name);
    is_str(err.msg, want, "%s: message", name);
    is_int((long long)b.count, 0, "%s: no records", name);
    event_batch_free(&b);
}

/* Only the start of the message is asserted (jansson's own wording
 * follows). */
static void refused_prefix(char *json, const char *prefix, const char *name)
{
    event_batch b = {0};
    sl_error err;
    is_int(parse_owned(json, &b, &err), -1, "%s: refused", name);
    ok(strncmp(err.msg, prefix, strlen(prefix)) == 0, "%s: message starts \"%s\" (got \"%s\")",
       name, prefix, err.msg);
    event_batch_free(&b);
}

static void test_unwrapping(void)
{
    event_batch b = {0};
    sl_error err;

    is_int(parse_owned(sqs_trigger(S3_EVENT("a+b%2Fc.tsv")), &b, &err), 0, "SQS > S3");
    is_int((long long)b.count, 1, "SQS > S3: one record");
    if (b.count == 1) {
        is_str(b.records[0].key, "a b/c.tsv", "SQS > S3: key decoded once");
        is_str(b.records[0].source, "s3", "SQS > S3: source");
    }
    event_batch_free(&b);

    /* SQS > SNS(Lambda shape) > S3: the full accepted depth */
    char *inner = sns_trigger(S3_EVENT("deep.tsv"));
    is_int(parse_owned(sqs_trigger(inner), &b, &err), 0, "SQS > Lambda SNS > S3");
    free(inner);
    is_int((long long)b.count, 1, "SQS > Lambda SNS > S3: one record");
    if (b.count == 1)
        is_str(b.records[0].key, "deep.tsv", "SQS > Lambda SNS > S3: key");
    event_batch_free(&b);

    /* an S3 record and an SQS record side by side, order kept */
    char *q = quoted(S3_EVENT("second.tsv"));
    char *mixed = xasprintf("{\"Records\":[%s,{\"eventSource\":\"aws:sqs\",\"body\":%s}]}",
                            "{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"eventName\":"
                            "\"ObjectCreated:Post\",\"s3\":{\"bucket\":{\"name\":\"in\"},"
                            "\"object\":{\"key\":\"first.tsv\"}}}",
                            q);
    free(q);
    is_int(parse_owned(mixed, &b, &err), 0, "mixed records");
    is_int((long long)b.count, 2, "mixed records: two");
    if (b.count == 2) {
        is_str(b.records[0].key, "first.tsv", "mixed: first in order");
        is_str(b.records[1].key, "second.tsv", "mixed: second in order");
    }
    event_batch_free(&b);

    /* acknowledgements inside keep their meaning */
    is_int(parse_owned(sqs_trigger("{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\","
                                   "\"Bucket\":\"in\"}"),
                       &b, &err),
           0, "SQS > s3:TestEvent");
    is_int((long long)b.count, 1, "SQS > s3:TestEvent: one record");
    if (b.count == 1) {
        is_int(b.records[0].kind, EVENT_SKIP, "SQS > s3:TestEvent: skipped");
        is_str(b.records[0].skip_reason, "s3:TestEvent", "SQS > s3:TestEvent: reason");
    }
    event_batch_free(&b);

    is_int(parse_owned(xstrdup("{\"Records\":[{\"EventSource\":\"aws:sns\",\"Sns\":{\"Type\":"
                               "\"SubscriptionConfirmation\",\"Message\":\"hi\"}}]}"),
                       &b, &err),
           0, "Lambda SNS confirmation");
    if (b.count == 1)
        is_str(b.records[0].skip_reason, "SubscriptionConfirmation", "confirmation skipped");
    else
        ok(0, "confirmation skipped");
    event_batch_free(&b);

    is_int(parse_owned(xstrdup("{\"Records\":[]}"), &b, &err), 0, "empty Records");
    is_int((long long)b.count, 0, "empty Records: nothing to do");
    event_batch_free(&b);
}

static void test_malformed(void)
{
    refused(xstrdup("{\"Records\":[{\"eventSource\":\"aws:sqs\",\"messageId\":\"m\"}]}"),
            "Records[0].body: missing", "SQS record without body");
    refused(xstrdup("{\"Records\":[{\"eventSource\":\"aws:sqs\",\"body\":7}]}"),
            "Records[0].body: expected a string, got an integer", "SQS body not a string");
    refused_prefix(sqs_trigger("not json"), "Records[0].body: not valid JSON (line 1 column",
                   "SQS body not JSON");
    refused(sqs_trigger("{\"hello\":1}"),
            "Records[0].body: not a recognised event: expected Records, an EventBridge event, "
            "an SNS envelope or an SQS message",
            "SQS body unrecognised");
    refused(sqs_trigger("{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\","
                        "\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
                        "\"object\":{}}}]}"),
            "Records[0].body: Records[0].s3.object.key: missing",
            "field path through the SQS body");
    refused(xstrdup("{\"Records\":[{\"EventSource\":\"aws:sns\"}]}"), "Records[0].Sns: missing",
            "SNS record without Sns");
    refused(xstrdup("{\"Records\":[{\"EventSource\":\"aws:sns\",\"Sns\":\"x\"}]}"),
            "Records[0].Sns: expected an object, got a string", "Sns not an object");
    refused(xstrdup("{\"Records\":[{\"EventSource\":\"aws:sns\",\"Sns\":{\"Type\":\"Other\","
                    "\"Message\":\"{}\"}}]}"),
            "Records[0].Sns: Type: unknown SNS message type \"Other\"", "Sns of unknown type");
    refused(sns_trigger("{\"Records\":[{\"eventVersion\":\"3.0\"}]}"),
            "Records[0].Sns: Message: Records[0].eventVersion: unsupported version \"3.0\" "
            "(expected 2.x)",
            "field path through the SNS message");
    /* the second record's problem names its index */
    char *q = quoted(S3_EVENT("ok.tsv"));
    char *two = xasprintf("{\"Records\":[{\"eventSource\":\"aws:sqs\",\"body\":%s},"
                          "{\"eventSource\":\"aws:sqs\"}]}",
                          q);
    free(q);
    refused(two, "Records[1].body: missing", "second record's index");
    /* not Lambda shapes: the S3 record checks still apply */
    refused(xstrdup("{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:sqs\","
                    "\"body\":\"{}\"}]}"),
            "Records[0].eventSource: expected \"aws:s3\", got \"aws:sqs\"",
            "an eventVersion makes it an S3 record from the wrong source");
    refused(xstrdup("{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:dynamodb\"}]}"),
            "Records[0].eventSource: expected \"aws:s3\", got \"aws:dynamodb\"",
            "other event sources refused as before");
}

static void test_nesting(void)
{
    /* SQS inside SQS */
    char *inner = sqs_trigger(S3_EVENT("x"));
    refused(sqs_trigger(inner),
            "Records[0].body: Records[0]: nested too deeply: an SQS message inside an SQS "
            "message (accepted nesting: SQS > SNS > event)",
            "Lambda SQS in a Lambda SQS body");
    free(inner);

    /* a Lambda SQS record inside a plain SQS message body */
    inner = sqs_trigger(S3_EVENT("x"));
    char *q = quoted(inner);
    char *msg = xasprintf("{\"Body\":%s}", q);
    free(q);
    free(inner);
    refused(msg,
            "Body: Records[0]: nested too deeply: an SQS message inside an SQS message "
            "(accepted nesting: SQS > SNS > event)",
            "Lambda SQS in a plain SQS body");

    /* SNS inside SNS */
    inner = sns_trigger(S3_EVENT("x"));
    refused(sns_trigger(inner),
            "Records[0].Sns: Message: Records[0]: nested too deeply: an SNS envelope inside an "
            "SNS envelope (accepted nesting: SQS > SNS > event)",
            "Lambda SNS in a Lambda SNS message");
    free(inner);

    /* SQS inside SNS */
    inner = sqs_trigger(S3_EVENT("x"));
    refused(sns_trigger(inner),
            "Records[0].Sns: Message: Records[0]: nested too deeply: an SQS message inside an "
            "SNS envelope (accepted nesting: SQS > SNS > event)",
            "Lambda SQS in an SNS message");
    free(inner);
}

int main(void)
{
    test_fixtures();
    test_unwrapping();
    test_malformed();
    test_nesting();
    return done_testing();
}
