#include "autoconfig.h"
#include "core/event.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/urlcodec.h"

/* Wrappers may only nest in one direction, SQS > SNS > event, so the
 * recursion is at most three documents deep whatever the input says. */
enum {
    LAYER_SQS = 1,
    LAYER_SNS = 2,
    LAYER_EVENT = 4,
    LAYERS_ALL = LAYER_SQS | LAYER_SNS | LAYER_EVENT
};

#define UNRECOGNISED                                                                   \
    "not a recognised event: expected Records, an EventBridge event, an SNS envelope " \
    "or an SQS message"

typedef struct parse_ctx {
    event_batch *out;
    size_t cap;
    sl_error *err;
    strbuf where; /* "Messages[0].Body: Message: " while inside wrappers */
} parse_ctx;

static void fail(parse_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every message starts with the wrapper path, so a problem deep inside an
 * SQS body still says where it is. */
static void fail(parse_ctx *ctx, const char *fmt, ...)
{
    strbuf msg = STRBUF_INIT;
    va_list ap;

    sb_adds(&msg, sb_str(&ctx->where));
    va_start(ap, fmt);
    sb_vaddf(&msg, fmt, ap);
    va_end(ap);
    sl_error_set(ctx->err, SL_ERR_INPUT, "%s", sb_str(&msg));
    sb_free(&msg);
}

/* --- field access with paths for messages ------------------------------- */

static char *join_path(const char *base, const char *name)
{
    return *base ? xasprintf("%s.%s", base, name) : xstrdup(name);
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

/* Required object member. Returns NULL after reporting the problem. */
static json_t *need_object(parse_ctx *ctx, json_t *obj, const char *base, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_object(v))
        return v;
    char *path = join_path(base, name);
    if (v)
        fail(ctx, "%s: expected an object, got %s", path, json_kind(v));
    else
        fail(ctx, "%s: missing", path);
    free(path);
    return NULL;
}

/* A string member. Returns 1 and *out when present, 0 when absent and not
 * required, -1 after reporting a problem. Strings with a NUL byte are
 * refused: every consumer of these fields treats them as C strings. */
static int get_string(parse_ctx *ctx, json_t *obj, const char *base, const char *name,
                      int required, const char **out)
{
    json_t *v = json_object_get(obj, name);
    char *path = NULL;
    int rc = 1;

    *out = NULL;
    if (!v || (json_is_null(v) && !required)) {
        if (!required)
            return 0;
        path = join_path(base, name);
        fail(ctx, "%s: missing", path);
        rc = -1;
    } else if (!json_is_string(v)) {
        path = join_path(base, name);
        fail(ctx, "%s: expected a string, got %s", path, json_kind(v));
        rc = -1;
    } else if (strlen(json_string_value(v)) != json_string_length(v)) {
        path = join_path(base, name);
        fail(ctx, "%s: contains a NUL byte", path);
        rc = -1;
    } else {
        *out = json_string_value(v);
    }
    free(path);
    return rc;
}

/* A required, non-empty string. */
static int need_string(parse_ctx *ctx, json_t *obj, const char *base, const char *name,
                       const char **out)
{
    if (get_string(ctx, obj, base, name, 1, out) < 0)
        return -1;
    if (**out == '\0') {
        char *path = join_path(base, name);
        fail(ctx, "%s: empty", path);
        free(path);
        return -1;
    }
    return 0;
}

/* Optional string copied into *dst (left NULL when absent). */
static int copy_string(parse_ctx *ctx, json_t *obj, const char *base, const char *name,
                       char **dst)
{
    const char *s;
    int rc = get_string(ctx, obj, base, name, 0, &s);
    if (rc > 0)
        *dst = xstrdup(s);
    return rc < 0 ? -1 : 0;
}

static int get_size(parse_ctx *ctx, json_t *obj, const char *base, int64_t *out)
{
    json_t *v = json_object_get(obj, "size");
    *out = -1;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    char *path = join_path(base, "size");
    fail(ctx, "%s: expected a non-negative integer, got %s", path, json_kind(v));
    free(path);
    return -1;
}

/* S3 notifications say "eTag", EventBridge "etag" (moto: "eTag"); either
 * may come with the quotes S3 puts around ETags elsewhere. */
static int get_etag(parse_ctx *ctx, json_t *obj, const char *base, char **dst)
{
    const char *name = json_object_get(obj, "eTag") ? "eTag" : "etag";
    const char *s;
    int rc = get_string(ctx, obj, base, name, 0, &s);
    if (rc <= 0)
        return rc;
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"')
        *dst = xstrndup(s + 1, len - 2);
    else
        *dst = xstrdup(s);
    return 0;
}

/* "null" is the version ID of an object written while versioning was
 * off (moto reports it for unversioned buckets): the same as none. */
static int get_version(parse_ctx *ctx, json_t *obj, const char *base, const char *name,
                       char **dst)
{
    const char *s;
    int rc = get_string(ctx, obj, base, name, 0, &s);
    if (rc > 0 && strcmp(s, "null") != 0)
        *dst = xstrdup(s);
    return rc < 0 ? -1 : 0;
}

static int get_time(parse_ctx *ctx, json_t *obj, const char *base, const char *name,
                    event_record *rec)
{
    const char *s;
    int rc = get_string(ctx, obj, base, name, 0, &s);
    if (rc <= 0)
        return rc;
    if (event_parse_time(s, &rec->event_time) != 0) {
        char *path = join_path(base, name);
        fail(ctx, "%s: not an ISO 8601 UTC time: \"%s\"", path, s);
        free(path);
        return -1;
    }
    rec->event_time_iso = xstrdup(s);
    return 0;
}

/* Times on acknowledgements are informative only: a bad one is dropped. */
static void get_time_lenient(json_t *obj, const char *name, event_record *rec)
{
    json_t *v = json_object_get(obj, name);
    const char *s = json_string_value(v);
    if (s && strlen(s) == json_string_length(v) && event_parse_time(s, &rec->event_time) == 0)
        rec->event_time_iso = xstrdup(s);
}

/* --- records ------------------------------------------------------------- */

static void record_init(event_record *rec, event_kind kind, const char *source)
{
    memset(rec, 0, sizeof *rec);
    rec->kind = kind;
    rec->source = xstrdup(source);
    rec->size = -1;
}

static void record_free(event_record *rec)
{
    free(rec->skip_reason);
    free(rec->source);
    free(rec->bucket);
    free(rec->key);
    free(rec->etag);
    free(rec->version_id);
    free(rec->sequencer);
    free(rec->event_name);
    free(rec->event_time_iso);
    memset(rec, 0, sizeof *rec);
}

/* The batch takes the record's contents over. */
static void emit(parse_ctx *ctx, event_record *rec)
{
    event_batch *b = ctx->out;
    if (b->count == ctx->cap) {
        ctx->cap = ctx->cap ? ctx->cap * 2 : 4;
        b->records = xrealloc(b->records, ctx->cap * sizeof *b->records);
    }
    b->records[b->count++] = *rec;
    memset(rec, 0, sizeof *rec);
}

static void emit_skip(parse_ctx *ctx, const char *source, const char *reason,
                      const char *bucket, json_t *obj, const char *time_field)
{
    event_record rec;
    record_init(&rec, EVENT_SKIP, source);
    rec.skip_reason = xstrdup(reason);
    rec.event_name = xstrdup(reason);
    if (bucket)
        rec.bucket = xstrdup(bucket);
    if (time_field)
        get_time_lenient(obj, time_field, &rec);
    emit(ctx, &rec);
}

/* --- S3 event notifications ---------------------------------------------- */

static int check_event_version(parse_ctx *ctx, json_t *r, const char *base)
{
    const char *v;
    if (get_string(ctx, r, base, "eventVersion", 1, &v) < 0)
        return -1;
    /* "2", "2.1", "2.3", ...: any 2.x */
    int ok = v[0] == '2' && (v[1] == '\0' || (v[1] == '.' && v[2] != '\0'));
    for (size_t i = 2; ok && v[1] && v[i]; i++)
        ok = v[i] >= '0' && v[i] <= '9';
    if (ok)
        return 0;
    fail(ctx, "%s.eventVersion: unsupported version \"%s\" (expected 2.x)", base, v);
    return -1;
}

static int check_event_source(parse_ctx *ctx, json_t *r, const char *base)
{
    const char *src;
    int rc = get_string(ctx, r, base, "eventSource", 0, &src);
    if (rc <= 0)
        return rc;
    if (strcmp(src, "aws:s3") == 0)
        return 0;
    fail(ctx, "%s.eventSource: expected \"aws:s3\", got \"%s\"", base, src);
    return -1;
}

/* Keys in S3 notifications are form-encoded ('+' is a space, then %XX). */
static int decode_s3_key(parse_ctx *ctx, const char *raw, const char *path, char **out)
{
    size_t len;
    char *key = urlcodec_form_decode(raw, strlen(raw), &len);
    if (strlen(key) != len) {
        fail(ctx, "%s: contains a NUL byte after decoding (\"%s\")", path, raw);
        free(key);
        return -1;
    }
    *out = key;
    return 0;
}

static int parse_s3_object(parse_ctx *ctx, json_t *r, const char *base, event_record *rec)
{
    char *s3_path = xasprintf("%s.s3", base);
    char *bucket_path = xasprintf("%s.s3.bucket", base);
    char *object_path = xasprintf("%s.s3.object", base);
    char *key_path = xasprintf("%s.s3.object.key", base);
    json_t *s3, *bucket = NULL, *object = NULL;
    const char *name, *raw_key;
    int rc = -1;

    s3 = need_object(ctx, r, base, "s3");
    if (s3)
        bucket = need_object(ctx, s3, s3_path, "bucket");
    if (bucket && need_string(ctx, bucket, bucket_path, "name", &name) == 0)
        object = need_object(ctx, s3, s3_path, "object");
    if (!object || need_string(ctx, object, object_path, "key", &raw_key) < 0)
        goto done;
    rec->bucket = xstrdup(name);
    if (decode_s3_key(ctx, raw_key, key_path, &rec->key) < 0 ||
        get_size(ctx, object, object_path, &rec->size) < 0 ||
        get_etag(ctx, object, object_path, &rec->etag) < 0 ||
        get_version(ctx, object, object_path, "versionId", &rec->version_id) < 0 ||
        copy_string(ctx, object, object_path, "sequencer", &rec->sequencer) < 0)
        goto done;
    rc = 0;
done:
    free(s3_path);
    free(bucket_path);
    free(object_path);
    free(key_path);
    return rc;
}

static int parse_s3_record(parse_ctx *ctx, json_t *r, size_t index)
{
    char base[48];
    const char *name;
    event_record rec;

    snprintf(base, sizeof base, "Records[%zu]", index);
    if (!json_is_object(r)) {
        fail(ctx, "%s: expected an object, got %s", base, json_kind(r));
        return -1;
    }
    if (check_event_version(ctx, r, base) < 0 || check_event_source(ctx, r, base) < 0 ||
        need_string(ctx, r, base, "eventName", &name) < 0)
        return -1;
    if (strncmp(name, "s3:", 3) == 0)
        name += 3;
    int created = strncmp(name, "ObjectCreated:", 14) == 0;
    record_init(&rec, created ? EVENT_OBJECT_CREATED : EVENT_SKIP, "s3");
    rec.event_name = xstrdup(name);
    if (!created)
        rec.skip_reason = xstrdup(name);
    if (get_time(ctx, r, base, "eventTime", &rec) < 0 ||
        parse_s3_object(ctx, r, base, &rec) < 0) {
        record_free(&rec);
        return -1;
    }
    emit(ctx, &rec);
    return 0;
}

static int parse_lambda_record(parse_ctx *ctx, json_t *r, size_t index, int allowed,
                               const char *inside);

static int parse_records(parse_ctx *ctx, json_t *doc, int allowed, const char *inside)
{
    json_t *records = json_object_get(doc, "Records");
    if (!json_is_array(records)) {
        fail(ctx, "Records: expected an array, got %s", json_kind(records));
        return -1;
    }
    for (size_t i = 0; i < json_array_size(records); i++) {
        int rc = parse_lambda_record(ctx, json_array_get(records, i), i, allowed, inside);
        if (rc == 0)
            rc = parse_s3_record(ctx, json_array_get(records, i), i);
        else if (rc > 0)
            rc = 0;
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* {"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":...}: S3 saying
 * hello when a notification configuration is saved. */
static int parse_s3_service_event(parse_ctx *ctx, json_t *doc)
{
    const char *event, *bucket = NULL;
    if (get_string(ctx, doc, "", "Event", 1, &event) < 0)
        return -1;
    if (strcmp(event, "s3:TestEvent") != 0) {
        fail(ctx, "Event: unknown S3 service event \"%s\" (expected s3:TestEvent)", event);
        return -1;
    }
    json_t *b = json_object_get(doc, "Bucket");
    if (json_is_string(b) && strlen(json_string_value(b)) == json_string_length(b))
        bucket = json_string_value(b);
    emit_skip(ctx, "s3", "s3:TestEvent", bucket, doc, "Time");
    return 0;
}

/* --- EventBridge --------------------------------------------------------- */

static const char *eventbridge_event_name(const char *reason)
{
    static const struct {
        const char *reason, *name;
    } map[] = {
        {"PutObject", "ObjectCreated:Put"},
        {"CopyObject", "ObjectCreated:Copy"},
        {"POST Object", "ObjectCreated:Post"},
        {"PostObject", "ObjectCreated:Post"},
        {"CompleteMultipartUpload", "ObjectCreated:CompleteMultipartUpload"},
    };
    for (size_t i = 0; reason && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(reason, map[i].reason) == 0)
            return map[i].name;
    /* moto says "ObjectCreated"; an unknown future reason is still a
     * creation. */
    return "ObjectCreated:Put";
}

static int parse_eventbridge_object(parse_ctx *ctx, json_t *detail, event_record *rec)
{
    json_t *bucket, *object;
    const char *name, *key;

    if (!(bucket = need_object(ctx, detail, "detail", "bucket")) ||
        need_string(ctx, bucket, "detail.bucket", "name", &name) < 0 ||
        !(object = need_object(ctx, detail, "detail", "object")) ||
        need_string(ctx, object, "detail.object", "key", &key) < 0)
        return -1;
    rec->bucket = xstrdup(name);
    rec->key = xstrdup(key); /* not encoded: the key as stored */
    if (get_size(ctx, object, "detail.object", &rec->size) < 0 ||
        get_etag(ctx, object, "detail.object", &rec->etag) < 0 ||
        get_version(ctx, object, "detail.object", "version-id", &rec->version_id) < 0 ||
        copy_string(ctx, object, "detail.object", "sequencer", &rec->sequencer) < 0)
        return -1;
    return 0;
}

static int parse_eventbridge(parse_ctx *ctx, json_t *doc)
{
    const char *source, *type, *reason = NULL;
    json_t *detail;
    event_record rec;

    if (get_string(ctx, doc, "", "source", 1, &source) < 0 ||
        get_string(ctx, doc, "", "detail-type", 1, &type) < 0)
        return -1;
    if (strcmp(source, "aws.s3") != 0) {
        fail(ctx, "source: expected \"aws.s3\", got \"%s\" (detail-type \"%s\")", source, type);
        return -1;
    }
    if (!(detail = need_object(ctx, doc, "", "detail")))
        return -1;
    int created = strcmp(type, "Object Created") == 0;
    record_init(&rec, created ? EVENT_OBJECT_CREATED : EVENT_SKIP, "eventbridge");
    if (get_string(ctx, detail, "detail", "reason", 0, &reason) < 0)
        goto fail;
    if (created) {
        rec.event_name = xstrdup(eventbridge_event_name(reason));
    } else {
        rec.event_name = xstrdup(type);
        rec.skip_reason = xstrdup(type);
    }
    if (get_time(ctx, doc, "", "time", &rec) < 0 || parse_eventbridge_object(ctx, detail, &rec) < 0)
        goto fail;
    emit(ctx, &rec);
    return 0;
fail:
    record_free(&rec);
    return -1;
}

/* --- wrappers: SNS and SQS ----------------------------------------------- */

static int parse_object(parse_ctx *ctx, json_t *doc, int allowed, const char *inside);

/* Parses the JSON text held by a wrapper's string field. `where` names the
 * field ("Message", "Messages[0].Body") and prefixes every message from
 * inside it. */
static int parse_nested(parse_ctx *ctx, const char *text, size_t len, const char *where,
                        int allowed, const char *inside)
{
    size_t mark = ctx->where.len;
    json_error_t jerr;
    int rc = -1;

    sb_addf(&ctx->where, "%s: ", where);
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!doc)
        fail(ctx, "not valid JSON (line %d column %d: %s)", jerr.line, jerr.column, jerr.text);
    else
        rc = parse_object(ctx, doc, allowed, inside);
    json_decref(doc);
    ctx->where.len = mark;
    ctx->where.buf[mark] = '\0';
    return rc;
}

static int parse_sns(parse_ctx *ctx, json_t *doc)
{
    const char *type, *message;

    if (get_string(ctx, doc, "", "Type", 1, &type) < 0)
        return -1;
    if (strcmp(type, "SubscriptionConfirmation") == 0 ||
        strcmp(type, "UnsubscribeConfirmation") == 0) {
        emit_skip(ctx, "sns", type, NULL, doc, "Timestamp");
        return 0;
    }
    if (strcmp(type, "Notification") != 0) {
        fail(ctx, "Type: unknown SNS message type \"%s\"", type);
        return -1;
    }
    json_t *m = json_object_get(doc, "Message");
    if (get_string(ctx, doc, "", "Message", 1, &message) < 0)
        return -1;
    return parse_nested(ctx, message, json_string_length(m), "Message", LAYER_EVENT,
                        "an SNS envelope");
}

static int parse_sqs_message(parse_ctx *ctx, json_t *msg, const char *base)
{
    const char *body;
    char *where;

    if (!json_is_object(msg)) {
        fail(ctx, "%s: expected an object, got %s", base, json_kind(msg));
        return -1;
    }
    if (get_string(ctx, msg, base, "Body", 1, &body) < 0)
        return -1;
    where = join_path(base, "Body");
    int rc = parse_nested(ctx, body, strlen(body), where, LAYER_SNS | LAYER_EVENT,
                          "an SQS message");
    free(where);
    return rc;
}

static int parse_sqs_result(parse_ctx *ctx, json_t *doc)
{
    json_t *messages = json_object_get(doc, "Messages");
    if (!json_is_array(messages)) {
        fail(ctx, "Messages: expected an array, got %s", json_kind(messages));
        return -1;
    }
    for (size_t i = 0; i < json_array_size(messages); i++) {
        char base[48];
        snprintf(base, sizeof base, "Messages[%zu]", i);
        if (parse_sqs_message(ctx, json_array_get(messages, i), base) < 0)
            return -1;
    }
    return 0;
}

/* --- Lambda trigger records ---------------------------------------------- */

/* Lambda hands SQS and SNS deliveries to a function as Records too:
 *   {"Records":[{"eventSource":"aws:sqs","body":"<json>",...}]}
 *   {"Records":[{"EventSource":"aws:sns","Sns":{<SNS envelope>}}]}
 * An SQS record has no eventVersion (an S3 record must have one, so a
 * record with both is an S3 record from the wrong source). Such a record
 * is one wrapper layer (SQS or SNS), unwrapped under the same nesting rule
 * as the plain shapes, so the depth stays bounded. Returns 0 when `r` is
 * not such a record (the caller parses it as an S3 record), 1 when it was
 * unwrapped, -1 after reporting a problem. */
static int parse_lambda_record(parse_ctx *ctx, json_t *r, size_t index, int allowed,
                               const char *inside)
{
    const char *sqs = json_string_value(json_object_get(r, "eventSource"));
    const char *sns = json_string_value(json_object_get(r, "EventSource"));
    int layer = sqs && strcmp(sqs, "aws:sqs") == 0 && !json_object_get(r, "eventVersion")
                    ? LAYER_SQS
                : sns && strcmp(sns, "aws:sns") == 0 ? LAYER_SNS
                                                     : 0;
    char base[48], *where;
    const char *body;
    json_t *envelope;
    int rc;

    if (!layer)
        return 0;
    snprintf(base, sizeof base, "Records[%zu]", index);
    if (!(layer & allowed)) {
        fail(ctx, "%s: nested too deeply: %s inside %s (accepted nesting: SQS > SNS > event)",
             base, layer == LAYER_SNS ? "an SNS envelope" : "an SQS message", inside);
        return -1;
    }
    if (layer == LAYER_SQS) {
        if (get_string(ctx, r, base, "body", 1, &body) < 0)
            return -1;
        where = join_path(base, "body");
        rc = parse_nested(ctx, body, strlen(body), where, LAYER_SNS | LAYER_EVENT,
                          "an SQS message");
        free(where);
        return rc < 0 ? -1 : 1;
    }
    if (!(envelope = need_object(ctx, r, base, "Sns")))
        return -1;
    size_t mark = ctx->where.len;
    sb_addf(&ctx->where, "%s.Sns: ", base);
    rc = parse_sns(ctx, envelope);
    ctx->where.len = mark;
    ctx->where.buf[mark] = '\0';
    return rc < 0 ? -1 : 1;
}

/* --- dispatch ------------------------------------------------------------ */

typedef enum shape {
    SHAPE_UNKNOWN = 0,
    SHAPE_S3_RECORDS,
    SHAPE_S3_SERVICE,
    SHAPE_EVENTBRIDGE,
    SHAPE_SNS,
    SHAPE_SQS_RESULT,
    SHAPE_SQS_MESSAGE
} shape;

static shape detect_shape(json_t *doc)
{
    if (json_object_get(doc, "Records"))
        return SHAPE_S3_RECORDS;
    if (json_object_get(doc, "Event") && json_object_get(doc, "Service"))
        return SHAPE_S3_SERVICE;
    if (json_object_get(doc, "detail-type") && json_object_get(doc, "source"))
        return SHAPE_EVENTBRIDGE;
    if (json_object_get(doc, "Type") &&
        (json_object_get(doc, "Message") || json_object_get(doc, "TopicArn")))
        return SHAPE_SNS;
    if (json_object_get(doc, "Messages"))
        return SHAPE_SQS_RESULT;
    if (json_object_get(doc, "Body"))
        return SHAPE_SQS_MESSAGE;
    return SHAPE_UNKNOWN;
}

static int shape_layer(shape s)
{
    switch (s) {
    case SHAPE_SNS: return LAYER_SNS;
    case SHAPE_SQS_RESULT:
    case SHAPE_SQS_MESSAGE: return LAYER_SQS;
    default: return LAYER_EVENT;
    }
}

static int parse_object(parse_ctx *ctx, json_t *doc, int allowed, const char *inside)
{
    if (!json_is_object(doc)) {
        fail(ctx, "not a recognised event: expected a JSON object, got %s", json_kind(doc));
        return -1;
    }
    shape s = detect_shape(doc);
    if (s == SHAPE_UNKNOWN) {
        fail(ctx, UNRECOGNISED);
        return -1;
    }
    if (!(shape_layer(s) & allowed)) {
        fail(ctx, "nested too deeply: %s inside %s (accepted nesting: SQS > SNS > event)",
             shape_layer(s) == LAYER_SNS ? "an SNS envelope" : "an SQS message", inside);
        return -1;
    }
    switch (s) {
    case SHAPE_S3_RECORDS: return parse_records(ctx, doc, allowed, inside);
    case SHAPE_S3_SERVICE: return parse_s3_service_event(ctx, doc);
    case SHAPE_EVENTBRIDGE: return parse_eventbridge(ctx, doc);
    case SHAPE_SNS: return parse_sns(ctx, doc);
    case SHAPE_SQS_RESULT: return parse_sqs_result(ctx, doc);
    case SHAPE_SQS_MESSAGE: return parse_sqs_message(ctx, doc, "");
    case SHAPE_UNKNOWN: break;
    }
    return -1;
}

int event_parse(const char *json, size_t len, event_batch *out, sl_error *err)
{
    parse_ctx ctx = {out, 0, err, STRBUF_INIT};
    json_error_t jerr;
    int rc = -1;

    out->records = NULL;
    out->count = 0;
    json_t *doc = json ? json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr)
                       : NULL;
    if (!doc) {
        if (json)
            fail(&ctx, "not valid JSON (line %d column %d: %s)", jerr.line, jerr.column,
                 jerr.text);
        else
            fail(&ctx, "not valid JSON (no input)");
    } else {
        rc = parse_object(&ctx, doc, LAYERS_ALL, "the top level");
    }
    json_decref(doc);
    sb_free(&ctx.where);
    if (rc != 0)
        event_batch_free(out);
    return rc;
}

void event_batch_free(event_batch *batch)
{
    if (!batch)
        return;
    for (size_t i = 0; i < batch->count; i++)
        record_free(&batch->records[i]);
    free(batch->records);
    batch->records = NULL;
    batch->count = 0;
}

/* --- time ---------------------------------------------------------------- */

static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int expect_char(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so no timegm() and no time zone state. */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153LL * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int event_parse_time(const char *iso, time_t *out)
{
    const char *p = iso;
    int y, mo, d, h, mi, s;

    if (!iso || read_digits(&p, 4, &y) || expect_char(&p, '-') || read_digits(&p, 2, &mo) ||
        expect_char(&p, '-') || read_digits(&p, 2, &d) || expect_char(&p, 'T') ||
        read_digits(&p, 2, &h) || expect_char(&p, ':') || read_digits(&p, 2, &mi) ||
        expect_char(&p, ':') || read_digits(&p, 2, &s))
        return -1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z')
        p++;
    if (*p != '\0')
        return -1;
    /* 60 is a leap second: it counts as the next minute's first. */
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60)
        return -1;
    *out = (time_t)(days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + s);
    return 0;
}

/* MinIO ("minio:s3") and Ceph RGW ("ceph:s3") send S3-shaped Records under
 * their own eventSource; Ceph writes the size as a string and an empty
 * versionId. Rewrites those records into the AWS shape. Returns 1 when
 * something changed. */
int event_normalise_compatible(json_t *doc)
{
    json_t *records = json_object_get(doc, "Records");
    int changed = 0;
    size_t i;
    json_t *r;
    if (!json_is_array(records))
        return 0;
    json_array_foreach(records, i, r) {
        const char *src = json_string_value(json_object_get(r, "eventSource"));
        if (!src || (strcmp(src, "minio:s3") != 0 && strcmp(src, "ceph:s3") != 0))
            continue;
        json_object_set_new(r, "eventSource", json_string("aws:s3"));
        changed = 1;
        json_t *object = json_object_get(json_object_get(r, "s3"), "object");
        const char *size = json_string_value(json_object_get(object, "size"));
        char *end;
        if (size && *size) {
            long long n = strtoll(size, &end, 10);
            if (*end == '\0' && n >= 0)
                json_object_set_new(object, "size", json_integer(n));
        }
        const char *version = json_string_value(json_object_get(object, "versionId"));
        if (version && !*version)
            json_object_del(object, "versionId");
    }
    return changed;
}
