/* test_event.c — intake event parsing: every fixture with exact fields,
 * keys, skips, malformed events (each naming the field), wrappers and
 * their nesting limit, times, and a mutation test that only asks for "no
 * crash, and either records or an error". */
#include "autoconfig.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"
#include "testdata.h"

/* --- fixtures ------------------------------------------------------------ */

typedef struct want_rec {
    event_kind kind;
    const char *reason, *source, *bucket, *key;
    int64_t size;
    const char *etag, *version, *sequencer, *event_name;
    long long time;
    const char *time_iso;
} want_rec;

typedef struct fixture_case {
    const char *file; /* relative to tests/data/events */
    const char *error; /* NULL: parses */
    size_t n;
    want_rec recs[4];
} fixture_case;

#define CAFE_KEY "hit data/2009 09/a+b caf\xc3\xa9.tsv"
#define MOTO_KEY "hit data/2009 09/caf\xe2\x82\xac a+b.tsv"
#define PUT_ETAG "4f1b3c0c9c3f5a1e7d0a2b6c8e9f1a2b"
#define PUT_VERSION "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
#define MOTO_ETAG "401b30e3b8b5d629635a5c613cdb7919"

/* The real-S3 put, however it is wrapped. */
#define S3_PUT_RECORD                                                                       \
    {EVENT_OBJECT_CREATED, NULL, "s3", "client-inbound", CAFE_KEY, 6259, PUT_ETAG,          \
     PUT_VERSION, "0067A1B2C3D4E5F601", "ObjectCreated:Put", 1795166142,                     \
     "2026-11-20T09:15:42.118Z"}

static const fixture_case fixtures[] = {
    {"s3-put.json", NULL, 1, {S3_PUT_RECORD}},
    {"sns-envelope-s3.json", NULL, 1, {S3_PUT_RECORD}},
    {"sqs-receive-message-s3.json", NULL, 1, {S3_PUT_RECORD}},
    {"sqs-receive-message-sns-wrapped.json", NULL, 1, {S3_PUT_RECORD}},
    {"s3-multipart.json",
     NULL,
     2,
     {{EVENT_OBJECT_CREATED, NULL, "s3", "client-inbound", "hit-data/2026-11-20/part-0001.tsv",
       1073741824, "d41d8cd98f00b204e9800998ecf8427e-205", NULL, "0067A1B2C3D4E5F6A0",
       "ObjectCreated:CompleteMultipartUpload", 1795166142, "2026-11-20T09:15:42.118Z"},
      {EVENT_OBJECT_CREATED, NULL, "s3", "client-inbound", "hit-data/2026-11-20/part-0002.tsv",
       734003200, "9e107d9d372bb6826bd81d3542a419d6-140", NULL, "0067A1B2C3D4E5F6A1",
       "ObjectCreated:CompleteMultipartUpload", 1795166142, "2026-11-20T09:15:42.118Z"}}},
    {"s3-removed.json",
     NULL,
     1,
     {{EVENT_SKIP, "ObjectRemoved:Delete", "s3", "client-inbound", "hit-data/old.tsv", -1, NULL,
       NULL, "0067A1B2C3D4E5F6B0", "ObjectRemoved:Delete", 1795166142,
       "2026-11-20T09:15:42.118Z"}}},
    {"s3-test-event.json",
     NULL,
     1,
     {{EVENT_SKIP, "s3:TestEvent", "s3", "client-inbound", NULL, -1, NULL, NULL, NULL,
       "s3:TestEvent", 1795165203, "2026-11-20T09:00:03.123Z"}}},
    {"sns-subscription-confirmation.json",
     NULL,
     1,
     {{EVENT_SKIP, "SubscriptionConfirmation", "sns", NULL, NULL, -1, NULL, NULL, NULL,
       "SubscriptionConfirmation", 1795165152, "2026-11-20T08:59:12.579Z"}}},
    {"eventbridge-object-created.json",
     NULL,
     1,
     {{EVENT_OBJECT_CREATED, NULL, "eventbridge", "client-inbound", CAFE_KEY, 6259, PUT_ETAG,
       PUT_VERSION, "0067A1B2C3D4E5F601", "ObjectCreated:Put", 1795166142,
       "2026-11-20T09:15:42Z"}}},
    {"glue-job-state-change-failed.json",
     "source: expected \"aws.s3\", got \"aws.glue\" (detail-type \"Glue Job State Change\")",
     0,
     {{0}}},
    /* added for these tests */
    {"s3-keys-and-names.json",
     NULL,
     4,
     {{EVENT_OBJECT_CREATED, NULL, "s3", "client-inbound",
       "100% done/x+y z/\xe2\x82\xac\xf0\x9f\x93\x88.tsv", 0, "d41d8cd98f00b204e9800998ecf8427e",
       NULL, "0067A1B2C3D4E5F6C0", "ObjectCreated:Copy", 1795166142, "2026-11-20T09:15:42Z"},
      {EVENT_OBJECT_CREATED, NULL, "s3", "client-inbound", "literal%/50% off%2", 12,
       "0cc175b9c0f1b6a831c399e269772661", NULL, NULL, "ObjectCreated:Post", 1795166143,
       "2026-11-20T09:15:43.5Z"},
      {EVENT_SKIP, "ObjectRemoved:DeleteMarkerCreated", "s3", "client-inbound",
       "hit-data/old.tsv", -1, NULL, "9wA3pTQ0L0fGd2hUqPjkl0pcm5GjN4tN", "0067A1B2C3D4E5F6C2",
       "ObjectRemoved:DeleteMarkerCreated", 1795166144, "2026-11-20T09:15:44.000Z"},
      {EVENT_SKIP, "ObjectRestore:Completed", "s3", "client-inbound", "archive/2009.tsv", 6259,
       PUT_ETAG, NULL, "0067A1B2C3D4E5F6C3", "ObjectRestore:Completed", 1795166145,
       "2026-11-20T09:15:45.000Z"}}},
    {"eventbridge-object-deleted.json",
     NULL,
     1,
     {{EVENT_SKIP, "Object Deleted", "eventbridge", "client-inbound", "hit-data/old.tsv", -1,
       NULL, NULL, "0067A1B2C3D4E5F6D0", "Object Deleted", 1795166400,
       "2026-11-20T09:20:00Z"}}},
    {"sqs-message-eventbridge-multipart.json",
     NULL,
     1,
     {{EVENT_OBJECT_CREATED, NULL, "eventbridge", "client-inbound",
       "hit-data/2026-11-20/big part+1.tsv", 1073741824, "d41d8cd98f00b204e9800998ecf8427e-205",
       NULL, "0067A1B2C3D4E5F6E0", "ObjectCreated:CompleteMultipartUpload", 1795167000,
       "2026-11-20T09:30:00Z"}}},
    /* moto 5.2 */
    {"moto/sqs-body-s3-put.json",
     NULL,
     1,
     {{EVENT_OBJECT_CREATED, NULL, "s3", "inbound", MOTO_KEY, 2, MOTO_ETAG, NULL, NULL,
       "ObjectCreated:Put", 1795566042, "2026-11-25T00:20:42.609410"}}},
    {"moto/sqs-body-sns-s3-put.json",
     NULL,
     1,
     {{EVENT_OBJECT_CREATED, NULL, "s3", "inbound-sns", MOTO_KEY, 2, MOTO_ETAG, NULL, NULL,
       "ObjectCreated:Put", 1795566043, "2026-11-25T00:20:43.623333"}}},
    {"moto/sqs-body-eventbridge-object-created.json",
     NULL,
     1,
     {{EVENT_OBJECT_CREATED, NULL, "eventbridge", "inbound-eb", MOTO_KEY, 2, MOTO_ETAG, NULL,
       "617f08299329d189", "ObjectCreated:Put", 1795566044, "2026-11-25T00:20:44Z"}}},
    {"moto/sqs-body-s3-test-event.json",
     NULL,
     1,
     {{EVENT_SKIP, "s3:TestEvent", "s3", "inbound", NULL, -1, NULL, NULL, NULL, "s3:TestEvent",
       1795566036, "2026-11-25T00:20:36.889678"}}},
    {"moto/sqs-body-sns-test-event.json",
     NULL,
     1,
     {{EVENT_SKIP, "s3:TestEvent", "s3", "inbound-sns", NULL, -1, NULL, NULL, NULL,
       "s3:TestEvent", 1795566037, "2026-11-25T00:20:37.872026"}}},
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

static void check_record(const event_record *got, const want_rec *w, const char *name, size_t i)
{
    is_int(got->kind, w->kind, "%s[%zu]: kind", name, i);
    is_str(got->skip_reason, w->reason, "%s[%zu]: skip_reason", name, i);
    is_str(got->source, w->source, "%s[%zu]: source", name, i);
    is_str(got->bucket, w->bucket, "%s[%zu]: bucket", name, i);
    is_str(got->key, w->key, "%s[%zu]: key", name, i);
    is_int(got->size, w->size, "%s[%zu]: size", name, i);
    is_str(got->etag, w->etag, "%s[%zu]: etag", name, i);
    is_str(got->version_id, w->version, "%s[%zu]: version_id", name, i);
    is_str(got->sequencer, w->sequencer, "%s[%zu]: sequencer", name, i);
    is_str(got->event_name, w->event_name, "%s[%zu]: event_name", name, i);
    is_int((int64_t)got->event_time, w->time, "%s[%zu]: event_time", name, i);
    is_str(got->event_time_iso, w->time_iso, "%s[%zu]: event_time_iso", name, i);
}

static void check_result(const char *json, size_t len, const char *want_error, size_t n,
                         const want_rec *recs, const char *name)
{
    event_batch b;
    sl_error err = {0};
    int rc = event_parse(json, len, &b, &err);
    if (want_error) {
        is_int(rc, -1, "%s: refused", name);
        is_int(err.kind, SL_ERR_INPUT, "%s: an input error", name);
        is_str(err.msg, want_error, "%s: message", name);
        ok(b.count == 0 && b.records == NULL, "%s: no records", name);
    } else {
        is_int(rc, 0, "%s: parses", name);
        if (rc != 0)
            diag_note(err.msg);
        is_int((int64_t)b.count, (int64_t)n, "%s: record count", name);
        for (size_t i = 0; i < n && i < b.count; i++)
            check_record(&b.records[i], &recs[i], name, i);
    }
    event_batch_free(&b);
    ok(b.count == 0 && b.records == NULL, "%s: batch emptied by free", name);
}

static const fixture_case *find_fixture(const char *rel)
{
    for (size_t i = 0; i < N_FIXTURES; i++)
        if (strcmp(fixtures[i].file, rel) == 0)
            return &fixtures[i];
    return NULL;
}

/* Lists *.json in events/ and events/moto/, relative names. */
static size_t list_fixture_files(const char *events_dir, char ***out)
{
    static const char *subdirs[] = {"", "moto/"};
    size_t n = 0;
    *out = NULL;
    for (size_t s = 0; s < 2; s++) {
        char *dir = xasprintf("%s/%s", events_dir, subdirs[s]);
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l < 5 || strcmp(de->d_name + l - 5, ".json") != 0)
                continue;
            *out = xrealloc(*out, (n + 1) * sizeof **out);
            (*out)[n++] = xasprintf("%s%s", subdirs[s], de->d_name);
        }
        if (d)
            closedir(d);
        free(dir);
    }
    return n;
}

static void test_fixtures(const char *events_dir, char **files, size_t n_files)
{
    ok(n_files >= N_FIXTURES, "found %zu fixture files in %s", n_files, events_dir);
    for (size_t i = 0; i < N_FIXTURES; i++) {
        int present = 0;
        for (size_t j = 0; j < n_files; j++)
            present |= strcmp(files[j], fixtures[i].file) == 0;
        ok(present, "fixture %s exists", fixtures[i].file);
    }
    for (size_t j = 0; j < n_files; j++) {
        const fixture_case *fc = find_fixture(files[j]);
        char *path = xasprintf("%s/%s", events_dir, files[j]);
        size_t len = 0;
        char *json = test_slurp(path, &len);
        ok(json != NULL, "read %s", path);
        if (!fc) {
            /* Someone else's new fixture: the mutation test still covers it. */
            char *note = xasprintf("%s has no exact expectations here", files[j]);
            diag_note(note);
            free(note);
        } else if (json) {
            check_result(json, len, fc->error, fc->n, fc->recs, fc->file);
        }
        free(json);
        free(path);
    }
}

/* --- inline cases --------------------------------------------------------- */

static void parses(const char *json, size_t n, const want_rec *recs, const char *name)
{
    check_result(json, strlen(json), NULL, n, recs, name);
}

static void refused(const char *json, const char *msg, const char *name)
{
    check_result(json, json ? strlen(json) : 0, msg, 0, NULL, name);
}

/* A message starting with `prefix` (for texts that come from jansson). */
static void refused_prefix(const char *json, const char *prefix, const char *name)
{
    event_batch b;
    sl_error err = {0};
    int rc = event_parse(json, strlen(json), &b, &err);
    is_int(rc, -1, "%s: refused", name);
    ok(strncmp(err.msg, prefix, strlen(prefix)) == 0, "%s: message \"%s\"", name, err.msg);
    ok(b.count == 0, "%s: no records", name);
    event_batch_free(&b);
}

/* An S3 record with the given eventName, key and extra object fields. */
static char *s3_event(const char *version, const char *name, const char *key, const char *extra)
{
    return xasprintf("{\"Records\":[{\"eventVersion\":\"%s\",\"eventSource\":\"aws:s3\","
                     "\"eventTime\":\"2026-11-20T09:15:42Z\",\"eventName\":\"%s\","
                     "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"%s\"%s}}}]}",
                     version, name, key, extra);
}

static char *json_string_of(const char *text)
{
    json_t *s = json_string(text);
    char *out = json_dumps(s, JSON_ENCODE_ANY);
    json_decref(s);
    return out;
}

static void test_keys(void)
{
    static const struct {
        const char *raw, *decoded;
    } keys[] = {
        {"plain.tsv", "plain.tsv"},
        {"with+space", "with space"},
        {"a%2Bb", "a+b"},
        {"a%2bb+%2B+", "a+b + "},
        {"caf%C3%A9", "caf\xc3\xa9"},
        {"%E2%82%AC%F0%9F%93%88", "\xe2\x82\xac\xf0\x9f\x93\x88"},
        {"dir%2Fsub%2Ffile", "dir/sub/file"},
        {"real/s3/keeps/slashes", "real/s3/keeps/slashes"},
        {"50%", "50%"},
        {"%zz", "%zz"},
        {"%252F", "%2F"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *doc = s3_event("2.1", "ObjectCreated:Put", keys[i].raw, "");
        event_batch b;
        sl_error err = {0};
        int rc = event_parse(doc, strlen(doc), &b, &err);
        is_int(rc, 0, "S3 key \"%s\" parses", keys[i].raw);
        is_str(rc == 0 ? b.records[0].key : NULL, keys[i].decoded, "  decoded");
        event_batch_free(&b);
        free(doc);
    }

    /* EventBridge keys are not encoded: '+' and '%' stay. */
    const char *eb = "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{"
                     "\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"a+b%2Fc d\"}}}";
    const want_rec w = {EVENT_OBJECT_CREATED, NULL, "eventbridge", "b", "a+b%2Fc d", -1, NULL,
                        NULL, NULL, "ObjectCreated:Put", 0, NULL};
    parses(eb, 1, &w, "EventBridge key not decoded, no reason, no time");

    char *nul = s3_event("2.1", "ObjectCreated:Put", "a%00b", "");
    refused(nul, "Records[0].s3.object.key: contains a NUL byte after decoding (\"a%00b\")",
            "S3 key decoding to a NUL byte");
    free(nul);
    refused("{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{"
            "\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"a\\u0000b\"}}}",
            "detail.object.key: contains a NUL byte", "EventBridge key with a NUL byte");
}

static void test_skips_and_names(void)
{
    static const struct {
        const char *name;
        event_kind kind;
        const char *normalised;
    } names[] = {
        {"ObjectCreated:Put", EVENT_OBJECT_CREATED, "ObjectCreated:Put"},
        {"ObjectCreated:Post", EVENT_OBJECT_CREATED, "ObjectCreated:Post"},
        {"ObjectCreated:Copy", EVENT_OBJECT_CREATED, "ObjectCreated:Copy"},
        {"ObjectCreated:CompleteMultipartUpload", EVENT_OBJECT_CREATED,
         "ObjectCreated:CompleteMultipartUpload"},
        {"s3:ObjectCreated:Put", EVENT_OBJECT_CREATED, "ObjectCreated:Put"},
        {"ObjectRemoved:Delete", EVENT_SKIP, "ObjectRemoved:Delete"},
        {"ObjectRemoved:DeleteMarkerCreated", EVENT_SKIP, "ObjectRemoved:DeleteMarkerCreated"},
        {"ObjectRestore:Post", EVENT_SKIP, "ObjectRestore:Post"},
        {"ObjectTagging:Put", EVENT_SKIP, "ObjectTagging:Put"},
        {"LifecycleExpiration:Delete", EVENT_SKIP, "LifecycleExpiration:Delete"},
        {"ObjectCreatedPut", EVENT_SKIP, "ObjectCreatedPut"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *doc = s3_event("2.1", names[i].name, "k", "");
        event_batch b;
        sl_error err = {0};
        int rc = event_parse(doc, strlen(doc), &b, &err);
        is_int(rc, 0, "eventName %s parses", names[i].name);
        if (rc == 0) {
            is_int(b.records[0].kind, names[i].kind, "  kind");
            is_str(b.records[0].event_name, names[i].normalised, "  event_name");
            is_str(b.records[0].skip_reason,
                   names[i].kind == EVENT_SKIP ? names[i].normalised : NULL, "  skip_reason");
        }
        event_batch_free(&b);
        free(doc);
    }

    static const struct {
        const char *reason, *name;
    } reasons[] = {
        {"\"PutObject\"", "ObjectCreated:Put"},
        {"\"CopyObject\"", "ObjectCreated:Copy"},
        {"\"POST Object\"", "ObjectCreated:Post"},
        {"\"PostObject\"", "ObjectCreated:Post"},
        {"\"CompleteMultipartUpload\"", "ObjectCreated:CompleteMultipartUpload"},
        {"\"ObjectCreated\"", "ObjectCreated:Put"},
        {"\"SomethingNew\"", "ObjectCreated:Put"},
        {"null", "ObjectCreated:Put"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        char *doc = xasprintf("{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\","
                              "\"detail\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":"
                              "\"k\"},\"reason\":%s}}",
                              reasons[i].reason);
        event_batch b;
        sl_error err = {0};
        int rc = event_parse(doc, strlen(doc), &b, &err);
        is_int(rc, 0, "EventBridge reason %s parses", reasons[i].reason);
        is_str(rc == 0 ? b.records[0].event_name : NULL, reasons[i].name, "  event_name");
        event_batch_free(&b);
        free(doc);
    }

    const want_rec restore = {EVENT_SKIP, "Object Restore Completed", "eventbridge", "b", "k",
                              -1, NULL, NULL, NULL, "Object Restore Completed", 0, NULL};
    parses("{\"source\":\"aws.s3\",\"detail-type\":\"Object Restore Completed\",\"detail\":{"
           "\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}",
           1, &restore, "EventBridge other detail-type skipped");

    const want_rec unsub = {EVENT_SKIP, "UnsubscribeConfirmation", "sns", NULL, NULL, -1, NULL,
                            NULL, NULL, "UnsubscribeConfirmation", 0, NULL};
    parses("{\"Type\":\"UnsubscribeConfirmation\",\"TopicArn\":\"arn:aws:sns:x\","
           "\"Message\":\"bye\",\"Timestamp\":\"not a time\"}",
           1, &unsub, "SNS UnsubscribeConfirmation skipped (bad Timestamp ignored)");

    const want_rec test_no_bucket = {EVENT_SKIP, "s3:TestEvent", "s3", NULL, NULL, -1, NULL,
                                     NULL, NULL, "s3:TestEvent", 0, NULL};
    parses("{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\"}", 1, &test_no_bucket,
           "TestEvent without Bucket or Time");
    parses("{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Bucket\":7}", 1,
           &test_no_bucket, "TestEvent with a non-string Bucket");

    /* eTag quotes, versionId "null"/null, eventVersion 2.x */
    char *quoted = s3_event("2", "ObjectCreated:Put", "k",
                            ",\"eTag\":\"\\\"abc\\\"\",\"versionId\":null,\"size\":0");
    const want_rec qw = {EVENT_OBJECT_CREATED, NULL, "s3", "b", "k", 0, "abc", NULL, NULL,
                         "ObjectCreated:Put", 1795166142, "2026-11-20T09:15:42Z"};
    parses(quoted, 1, &qw, "eventVersion 2, quoted eTag, null versionId, size 0");
    free(quoted);
    char *lone = s3_event("2.9", "ObjectCreated:Put", "k", ",\"eTag\":\"\\\"\"");
    const want_rec lw = {EVENT_OBJECT_CREATED, NULL, "s3", "b", "k", -1, "\"", NULL, NULL,
                         "ObjectCreated:Put", 1795166142, "2026-11-20T09:15:42Z"};
    parses(lone, 1, &lw, "a lone quote is not a pair");
    free(lone);

    parses("{\"Records\":[]}", 0, NULL, "empty Records");
    parses("{\"Messages\":[]}", 0, NULL, "empty ReceiveMessage result");
}

static void test_wrappers(void)
{
    /* SQS ReceiveMessage result holding SNS(S3 put), a TestEvent and an
     * EventBridge event: records in order. */
    char *s3 = s3_event("2.1", "ObjectCreated:Put", "a+b", "");
    char *s3_str = json_string_of(s3);
    char *sns = xasprintf("{\"Type\":\"Notification\",\"TopicArn\":\"t\",\"Message\":%s}", s3_str);
    char *sns_str = json_string_of(sns);
    char *test_str = json_string_of("{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\","
                                    "\"Bucket\":\"tb\"}");
    char *eb_str = json_string_of("{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\","
                                  "\"detail\":{\"bucket\":{\"name\":\"eb\"},\"object\":{\"key\":"
                                  "\"a+b\",\"size\":5}}}");
    char *result = xasprintf("{\"Messages\":[{\"ReceiptHandle\":\"r1\",\"Body\":%s},"
                             "{\"Body\":%s},{\"Body\":%s}]}",
                             sns_str, test_str, eb_str);
    const want_rec three[] = {
        {EVENT_OBJECT_CREATED, NULL, "s3", "b", "a b", -1, NULL, NULL, NULL,
         "ObjectCreated:Put", 1795166142, "2026-11-20T09:15:42Z"},
        {EVENT_SKIP, "s3:TestEvent", "s3", "tb", NULL, -1, NULL, NULL, NULL, "s3:TestEvent", 0,
         NULL},
        {EVENT_OBJECT_CREATED, NULL, "eventbridge", "eb", "a+b", 5, NULL, NULL, NULL,
         "ObjectCreated:Put", 0, NULL},
    };
    parses(result, 3, three, "SQS result: SNS(S3), TestEvent, EventBridge");

    /* A single SQS message holding an SNS confirmation. */
    char *conf_str = json_string_of("{\"Type\":\"SubscriptionConfirmation\",\"TopicArn\":\"t\","
                                    "\"Message\":\"hi\",\"Token\":\"x\"}");
    char *single = xasprintf("{\"MessageId\":\"m\",\"ReceiptHandle\":\"r\",\"Body\":%s}",
                             conf_str);
    const want_rec conf = {EVENT_SKIP, "SubscriptionConfirmation", "sns", NULL, NULL, -1, NULL,
                           NULL, NULL, "SubscriptionConfirmation", 0, NULL};
    parses(single, 1, &conf, "single SQS message holding an SNS confirmation");

    /* errors deep inside name the whole path */
    char *bad_s3 = json_string_of("{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":"
                                  "\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
                                  "\"object\":{}}}]}");
    char *bad_sns = xasprintf("{\"Type\":\"Notification\",\"Message\":%s}", bad_s3);
    char *bad_sns_str = json_string_of(bad_sns);
    char *bad_result = xasprintf("{\"Messages\":[{\"Body\":%s},{\"Body\":%s}]}", sns_str,
                                 bad_sns_str);
    refused(bad_result, "Messages[1].Body: Message: Records[0].s3.object.key: missing",
            "SQS > SNS > S3 error names the path (and drops the good records)");
    char *bad_single = xasprintf("{\"Body\":%s}", bad_sns_str);
    refused(bad_single, "Body: Message: Records[0].s3.object.key: missing",
            "single SQS message > SNS > S3 error");

    /* nesting is bounded: SQS > SNS > event only */
    char *sqs_in_sqs = xasprintf("{\"Body\":%s}", single);
    char *sqs_in_sqs_str = json_string_of(single);
    free(sqs_in_sqs);
    sqs_in_sqs = xasprintf("{\"Body\":%s}", sqs_in_sqs_str);
    refused(sqs_in_sqs,
            "Body: nested too deeply: an SQS message inside an SQS message (accepted nesting: "
            "SQS > SNS > event)",
            "SQS inside SQS refused");
    char *sns_in_sns = xasprintf("{\"Type\":\"Notification\",\"Message\":%s}", sns_str);
    refused(sns_in_sns,
            "Message: nested too deeply: an SNS envelope inside an SNS envelope (accepted "
            "nesting: SQS > SNS > event)",
            "SNS inside SNS refused");
    char *sqs_in_sns = xasprintf("{\"Type\":\"Notification\",\"Message\":%s}", sqs_in_sqs_str);
    refused(sqs_in_sns,
            "Message: nested too deeply: an SQS message inside an SNS envelope (accepted "
            "nesting: SQS > SNS > event)",
            "SQS inside SNS refused");
    char *result_in_sqs_str = json_string_of(result);
    char *result_in_sqs = xasprintf("{\"Body\":%s}", result_in_sqs_str);
    refused(result_in_sqs,
            "Body: nested too deeply: an SQS message inside an SQS message (accepted nesting: "
            "SQS > SNS > event)",
            "ReceiveMessage result inside SQS refused");

    free(s3);
    free(s3_str);
    free(sns);
    free(sns_str);
    free(test_str);
    free(eb_str);
    free(result);
    free(conf_str);
    free(single);
    free(bad_s3);
    free(bad_sns);
    free(bad_sns_str);
    free(bad_result);
    free(bad_single);
    free(sqs_in_sqs);
    free(sqs_in_sqs_str);
    free(sns_in_sns);
    free(sqs_in_sns);
    free(result_in_sqs_str);
    free(result_in_sqs);
}

#define UNRECOGNISED                                                                   \
    "not a recognised event: expected Records, an EventBridge event, an SNS envelope " \
    "or an SQS message"

static void test_malformed(void)
{
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{}", UNRECOGNISED},
        {"{\"hello\":\"world\"}", UNRECOGNISED},
        {"[]", "not a recognised event: expected a JSON object, got an array"},
        {"{\"Records\":{}}", "Records: expected an array, got an object"},
        {"{\"Records\":null}", "Records: expected an array, got null"},
        {"{\"Records\":[{}]}", "Records[0].eventVersion: missing"},
        {"{\"Records\":[7]}", "Records[0]: expected an object, got an integer"},
        {"{\"Records\":[{\"eventVersion\":2.1}]}",
         "Records[0].eventVersion: expected a string, got a number"},
        {"{\"Records\":[{\"eventVersion\":\"1.0\"}]}",
         "Records[0].eventVersion: unsupported version \"1.0\" (expected 2.x)"},
        {"{\"Records\":[{\"eventVersion\":\"2.\"}]}",
         "Records[0].eventVersion: unsupported version \"2.\" (expected 2.x)"},
        {"{\"Records\":[{\"eventVersion\":\"20\"}]}",
         "Records[0].eventVersion: unsupported version \"20\" (expected 2.x)"},
        {"{\"Records\":[{\"eventVersion\":\"2.1b\"}]}",
         "Records[0].eventVersion: unsupported version \"2.1b\" (expected 2.x)"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:sqs\"}]}",
         "Records[0].eventSource: expected \"aws:s3\", got \"aws:sqs\""},
        {"{\"Records\":[{\"eventVersion\":\"2.1\"}]}", "Records[0].eventName: missing"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"\"}]}",
         "Records[0].eventName: empty"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\"}]}",
         "Records[0].s3: missing"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"eventTime\":\"yesterday\",\"s3\":{}}]}",
         "Records[0].eventTime: not an ISO 8601 UTC time: \"yesterday\""},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":[]}]}",
         "Records[0].s3: expected an object, got an array"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{}}]}",
         "Records[0].s3.bucket: missing"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{}}}]}",
         "Records[0].s3.bucket.name: missing"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"\"}}}]}",
         "Records[0].s3.bucket.name: empty"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"}}}]}",
         "Records[0].s3.object: missing"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":[]}}]}",
         "Records[0].s3.object: expected an object, got an array"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{}}}]}",
         "Records[0].s3.object.key: missing"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":null}}}]}",
         "Records[0].s3.object.key: expected a string, got null"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":42}}}]}",
         "Records[0].s3.object.key: expected a string, got an integer"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"\"}}}]}",
         "Records[0].s3.object.key: empty"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"size\":-1}}}]}",
         "Records[0].s3.object.size: expected a non-negative integer, got an integer"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"size\":\"2\"}}}]}",
         "Records[0].s3.object.size: expected a non-negative integer, got a string"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"eTag\":1}}}]}",
         "Records[0].s3.object.eTag: expected a string, got an integer"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"versionId\":[]}}}]}",
         "Records[0].s3.object.versionId: expected a string, got an array"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"sequencer\":true}}}]}",
         "Records[0].s3.object.sequencer: expected a string, got a boolean"},
        {"{\"Records\":[{\"eventVersion\":\"2.1\",\"eventName\":\"ObjectCreated:Put\","
         "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}},\"x\"]}",
         "Records[1]: expected an object, got a string"},
        /* EventBridge */
        {"{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\"}", "detail: missing"},
        {"{\"source\":\"aws.s3\",\"detail-type\":7,\"detail\":{}}",
         "detail-type: expected a string, got an integer"},
        {"{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{}}",
         "detail.bucket: missing"},
        {"{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{\"bucket\":"
         "{\"name\":5}}}",
         "detail.bucket.name: expected a string, got an integer"},
        {"{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{\"bucket\":"
         "{\"name\":\"b\"},\"object\":{}}}",
         "detail.object.key: missing"},
        {"{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"time\":\"x\",\"detail\":"
         "{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}",
         "time: not an ISO 8601 UTC time: \"x\""},
        {"{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{\"bucket\":"
         "{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"size\":1.5}}}",
         "detail.object.size: expected a non-negative integer, got a number"},
        {"{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{\"bucket\":"
         "{\"name\":\"b\"},\"object\":{\"key\":\"k\"},\"reason\":[]}}",
         "detail.reason: expected a string, got an array"},
        /* S3 service events */
        {"{\"Service\":\"Amazon S3\",\"Event\":\"s3:Other\"}",
         "Event: unknown S3 service event \"s3:Other\" (expected s3:TestEvent)"},
        {"{\"Service\":\"Amazon S3\",\"Event\":1}", "Event: expected a string, got an integer"},
        /* SNS */
        {"{\"Type\":\"Weird\",\"TopicArn\":\"t\"}", "Type: unknown SNS message type \"Weird\""},
        {"{\"Type\":\"Notification\",\"TopicArn\":\"t\"}", "Message: missing"},
        {"{\"Type\":\"Notification\",\"Message\":{}}",
         "Message: expected a string, got an object"},
        {"{\"Type\":null,\"Message\":\"x\"}", "Type: expected a string, got null"},
        {"{\"Type\":\"Notification\",\"Message\":\"{}\"}", "Message: " UNRECOGNISED},
        {"{\"Type\":\"Notification\",\"Message\":\"[1]\"}",
         "Message: not a recognised event: expected a JSON object, got an array"},
        /* SQS */
        {"{\"Messages\":\"x\"}", "Messages: expected an array, got a string"},
        {"{\"Messages\":[{\"MessageId\":\"m\"}]}", "Messages[0].Body: missing"},
        {"{\"Messages\":[[]]}", "Messages[0]: expected an object, got an array"},
        {"{\"Messages\":[{\"Body\":{}}]}", "Messages[0].Body: expected a string, got an object"},
        {"{\"Messages\":[{\"Body\":\"{\\\"Records\\\":[{}]}\"}]}",
         "Messages[0].Body: Records[0].eventVersion: missing"},
        {"{\"Body\":5}", "Body: expected a string, got an integer"},
        {"{\"Body\":\"{}\"}", "Body: " UNRECOGNISED},
        {"{\"Body\":\"a\\u0000b\"}", "Body: contains a NUL byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused(cases[i].json, cases[i].msg, cases[i].json);

    refused(NULL, "not valid JSON (no input)", "NULL input");
    refused_prefix("", "not valid JSON (line 1 column 0: ", "empty input");
    refused_prefix("{\"Records\":[", "not valid JSON (line 1 column 12: ", "truncated");
    refused_prefix("{\"Records\":[]} x", "not valid JSON (line 1 column ", "trailing garbage");
    refused_prefix("{\"Records\":[],\"Records\":[]}", "not valid JSON (line 1 column ",
                   "duplicate keys");
    refused_prefix("\"just a string\"", "not valid JSON (line 1 column ", "a bare string");
    refused_prefix("{\"Type\":\"Notification\",\"Message\":\"hello\"}",
                   "Message: not valid JSON (line 1 column ", "SNS Message not JSON");
    refused_prefix("{\"Messages\":[{\"Body\":\"{\\\"Rec\"}]}",
                   "Messages[0].Body: not valid JSON (line 1 column ", "SQS Body truncated");

    /* length is honoured: the same text cut short is invalid */
    const char *doc = "{\"Records\":[]}";
    event_batch b;
    sl_error err = {0};
    is_int(event_parse(doc, strlen(doc) - 1, &b, &err), -1, "len shorter than the text");
    event_batch_free(&b);
}

static void test_times(void)
{
    static const struct {
        const char *iso;
        int ok;
        long long t;
    } times[] = {
        {"2026-11-20T09:15:42.118Z", 1, 1795166142},
        {"2026-11-20T09:15:42Z", 1, 1795166142},
        {"2026-11-20T09:15:42", 1, 1795166142},
        {"2026-11-25T00:20:42.609410", 1, 1795566042},
        {"1970-01-01T00:00:00Z", 1, 0},
        {"1969-12-31T23:59:59Z", 1, -1},
        {"2000-02-29T00:00:00Z", 1, 951782400},
        {"2016-12-31T23:59:60Z", 1, 1483228800},
        {"9999-12-31T23:59:59Z", 1, 253402300799LL},
        {"1900-02-29T00:00:00Z", 0, 0},
        {"2026-02-29T00:00:00Z", 0, 0},
        {"2026-13-01T00:00:00Z", 0, 0},
        {"2026-00-01T00:00:00Z", 0, 0},
        {"2026-11-31T00:00:00Z", 0, 0},
        {"2026-11-00T00:00:00Z", 0, 0},
        {"2026-11-20T24:00:00Z", 0, 0},
        {"2026-11-20T23:60:00Z", 0, 0},
        {"2026-11-20T23:59:61Z", 0, 0},
        {"2026-11-20 09:15:42Z", 0, 0},
        {"2026-11-20t09:15:42z", 0, 0},
        {"2026-11-20T09:15:42.Z", 0, 0},
        {"2026-11-20T09:15:42ZZ", 0, 0},
        {"2026-11-20T09:15:42+00:00", 0, 0},
        {"2026-11-20T09:15", 0, 0},
        {"2026-11-20", 0, 0},
        {"26-11-20T09:15:42Z", 0, 0},
        {"+026-11-20T09:15:42Z", 0, 0},
        {"", 0, 0},
    };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        time_t t = 12345;
        int rc = event_parse_time(times[i].iso, &t);
        is_int(rc, times[i].ok ? 0 : -1, "time \"%s\" %s", times[i].iso,
               times[i].ok ? "accepted" : "refused");
        if (times[i].ok)
            is_int((int64_t)t, times[i].t, "  value");
        else
            is_int((int64_t)t, 12345, "  output untouched");
    }
    time_t t;
    is_int(event_parse_time(NULL, &t), -1, "NULL time refused");
}

/* --- mutations: no crash, and either records or an error -------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next_rand(rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static size_t rand_below(rng *r, size_t n)
{
    return n ? (size_t)(next_rand(r) % n) : 0;
}

typedef struct tally {
    size_t runs, parsed, refused, bad;
    char first_bad[1400];
} tally;

/* The only promises: rc is 0 or -1; 0 means no error and well-formed
 * records; -1 means an input error with a message and an empty batch. */
static void run_one(tally *t, const char *json, size_t len)
{
    event_batch b;
    sl_error err = {0};
    int rc = event_parse(json, len, &b, &err);
    int good;

    t->runs++;
    if (rc == 0) {
        good = err.kind == SL_ERR_NONE && (b.count == 0 || b.records != NULL);
        for (size_t i = 0; good && i < b.count; i++) {
            const event_record *r = &b.records[i];
            good = r->source && r->event_name &&
                   (r->kind == EVENT_SKIP ? r->skip_reason != NULL
                                          : (r->kind == EVENT_OBJECT_CREATED && r->bucket &&
                                             r->key && *r->key && !r->skip_reason)) &&
                   r->size >= -1 && (r->event_time_iso != NULL || r->event_time == 0);
        }
        t->parsed++;
    } else {
        good = rc == -1 && err.kind == SL_ERR_INPUT && err.msg[0] && b.count == 0 &&
               b.records == NULL;
        t->refused++;
    }
    if (!good && t->bad++ == 0)
        snprintf(t->first_bad, sizeof t->first_bad, "rc=%d msg=%.1024s input=%.120s", rc, err.msg,
                 json);
    event_batch_free(&b);
}

static const char *const interesting[] = {
    "", "{", "}", "[", "]", "\"", ",", ":", "\\", "\\u0000", "null", "true", "-1", "0",
    "1e999", "99999999999999999999", "%00", "%", "+", "{}", "[]", "\"\"", "\"ObjectRemoved:x\"",
    "\"2.1\"", "\"aws.s3\"", "\"Notification\"", "\"s3:TestEvent\"", "\"Object Created\"",
};
#define N_INTERESTING (sizeof interesting / sizeof interesting[0])

static void byte_mutations(tally *t, rng *r, const char *json, size_t len, int rounds)
{
    strbuf sb = STRBUF_INIT;
    /* every truncation */
    for (size_t cut = 0; cut < len; cut++)
        run_one(t, json, cut);
    for (int i = 0; i < rounds; i++) {
        sb_reset(&sb);
        sb_add(&sb, json, len);
        int edits = 1 + (int)rand_below(r, 4);
        for (int e = 0; e < edits && sb.len > 0; e++) {
            size_t at = rand_below(r, sb.len);
            switch (rand_below(r, 4)) {
            case 0: /* overwrite a byte */
                sb.buf[at] = (char)rand_below(r, 256);
                break;
            case 1: { /* delete a run */
                size_t n = 1 + rand_below(r, 16);
                if (n > sb.len - at)
                    n = sb.len - at;
                memmove(sb.buf + at, sb.buf + at + n, sb.len - at - n);
                sb.len -= n;
                sb.buf[sb.len] = '\0';
                break;
            }
            case 2: { /* insert a token */
                const char *tok = interesting[rand_below(r, N_INTERESTING)];
                strbuf nb = STRBUF_INIT;
                sb_add(&nb, sb.buf, at);
                sb_adds(&nb, tok);
                sb_add(&nb, sb.buf + at, sb.len - at);
                sb_free(&sb);
                sb = nb;
                break;
            }
            default: { /* duplicate a chunk */
                size_t n = 1 + rand_below(r, 32);
                if (n > sb.len - at)
                    n = sb.len - at;
                char *chunk = xstrndup(sb.buf + at, n);
                strbuf nb = STRBUF_INIT;
                sb_add(&nb, sb.buf, at);
                sb_add(&nb, chunk, n);
                sb_add(&nb, sb.buf + at, sb.len - at);
                free(chunk);
                sb_free(&sb);
                sb = nb;
                break;
            }
            }
        }
        run_one(t, sb.len ? sb.buf : "", sb.len);
    }
    sb_free(&sb);
}

static json_t *random_value(rng *r)
{
    switch (rand_below(r, 12)) {
    case 0: return json_null();
    case 1: return json_true();
    case 2: return json_integer(-1);
    case 3: return json_integer((json_int_t)rand_below(r, 1000000));
    case 4: return json_real(2.5);
    case 5: return json_string("");
    case 6: return json_string("%00");
    case 7: return json_stringn("a\0b", 3);
    case 8: return json_array();
    case 9: return json_object();
    case 10: return json_string(interesting[rand_below(r, N_INTERESTING)]);
    default: {
        /* a deep array */
        json_t *v = json_array();
        for (int i = 0; i < 200; i++) {
            json_t *outer = json_array();
            json_array_append_new(outer, v);
            v = outer;
        }
        return v;
    }
    }
}

static json_t *mutate_tree(rng *r, json_t *v, int depth);

/* Strings holding JSON (SNS Message, SQS Body) are mutated inside. */
static json_t *mutate_string(rng *r, json_t *v, int depth)
{
    json_t *inner = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
    if (!inner)
        return json_incref(v);
    json_t *m = mutate_tree(r, inner, depth + 1);
    json_decref(inner);
    char *text = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(m);
    json_t *out = json_string(text ? text : "");
    free(text);
    return out;
}

/* Returns a new reference: a copy of v with one random change somewhere
 * (replaced value, removed member or element), decided on the way down. */
static json_t *mutate_tree(rng *r, json_t *v, int depth)
{
    if (depth > 12 || rand_below(r, 6) == 0)
        return random_value(r);
    if (json_is_string(v))
        return mutate_string(r, v, depth);
    if (json_is_object(v) && json_object_size(v) > 0) {
        json_t *copy = json_copy(v);
        size_t pick = rand_below(r, json_object_size(v)), i = 0;
        const char *k;
        json_t *child;
        json_object_foreach(v, k, child) {
            if (i++ != pick)
                continue;
            if (rand_below(r, 5) == 0)
                json_object_del(copy, k);
            else
                json_object_set_new(copy, k, mutate_tree(r, child, depth + 1));
            break;
        }
        return copy;
    }
    if (json_is_array(v) && json_array_size(v) > 0) {
        json_t *copy = json_copy(v);
        size_t pick = rand_below(r, json_array_size(v));
        if (rand_below(r, 5) == 0)
            json_array_remove(copy, pick);
        else
            json_array_set_new(copy, pick, mutate_tree(r, json_array_get(v, pick), depth + 1));
        return copy;
    }
    return random_value(r);
}

static void tree_mutations(tally *t, rng *r, const char *json, size_t len, int rounds)
{
    json_t *doc = json_loadb(json, len, 0, NULL);
    if (!doc)
        return;
    for (int i = 0; i < rounds; i++) {
        json_t *m = mutate_tree(r, doc, 0);
        char *text = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY);
        if (text)
            run_one(t, text, strlen(text));
        free(text);
        json_decref(m);
    }
    json_decref(doc);
}

static void test_mutations(const char *events_dir, char **files, size_t n_files)
{
    rng r = {0x5eed5eed1234abcdULL};
    size_t total = 0;
    for (size_t j = 0; j < n_files; j++) {
        char *path = xasprintf("%s/%s", events_dir, files[j]);
        size_t len = 0;
        char *json = test_slurp(path, &len);
        free(path);
        if (!json)
            continue;
        tally bt = {0}, tt = {0};
        byte_mutations(&bt, &r, json, len, 2000);
        ok(bt.bad == 0, "%s: %zu byte mutations (%zu parsed, %zu refused), none misbehaved",
           files[j], bt.runs, bt.parsed, bt.refused);
        if (bt.bad)
            diag_note(bt.first_bad);
        tree_mutations(&tt, &r, json, len, 2000);
        ok(tt.bad == 0, "%s: %zu tree mutations (%zu parsed, %zu refused), none misbehaved",
           files[j], tt.runs, tt.parsed, tt.refused);
        if (tt.bad)
            diag_note(tt.first_bad);
        /* A fixture that parses must also yield parsable mutants; one that
         * is refused (glue) may never. */
        event_batch b;
        sl_error err = {0};
        int parses_as_is = event_parse(json, len, &b, &err) == 0;
        event_batch_free(&b);
        ok(tt.refused > 0 && (tt.parsed > 0 || !parses_as_is),
           "%s: tree mutations reach the expected outcomes", files[j]);
        total += bt.runs + tt.runs;
        free(json);
    }
    ok(total > 50000, "%zu mutated documents in all", total);
}

int main(void)
{
    char *data = test_data_path(__FILE__, "");
    char *events_dir = xasprintf("%s/events", data);
    char **files = NULL;
    size_t n_files = list_fixture_files(events_dir, &files);

    test_fixtures(events_dir, files, n_files);
    test_keys();
    test_skips_and_names();
    test_wrappers();
    test_malformed();
    test_times();
    test_mutations(events_dir, files, n_files);

    event_batch_free(NULL);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    free(events_dir);
    free(data);
    return done_testing();
}
