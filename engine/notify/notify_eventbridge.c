/* notify_eventbridge.c — the `eventbridge` target: PutEvents (JSON 1.1,
 * X-Amz-Target AWSEvents.PutEvents, SigV4 service "events") with one
 * entry: Source (default "sluice"), DetailType (default "Sluice Job State
 * Change"), Detail (the event's detail as a JSON string), EventBusName
 * (default "default") and Time (the job's end).
 *
 * An entry must stay under 256 KB: the error text (then the skip reason,
 * then the stats) is shortened until the whole request fits, never the
 * JSON itself. A 200 response whose FailedEntryCount is above 0 is a
 * failed delivery (retried for InternalFailure and throttling only). */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "aws/aws_xml.h"
#include "core/event.h"
#include "notify/notify_backend.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#define EVENTBRIDGE_SIZE_MARGIN 1024

typedef struct entry_names {
    const char *source, *detail_type, *bus;
} entry_names;

static entry_names names_of(const notify_target *t)
{
    entry_names n = {t->source, t->detail_type, t->event_bus};
    if (!n.source)
        n.source = NOTIFY_SOURCE;
    if (!n.detail_type)
        n.detail_type = NOTIFY_DETAIL_TYPE;
    if (!n.bus)
        n.bus = "default";
    return n;
}

static char *request_body(const entry_names *n, const json_t *event)
{
    char *detail = json_dumps(json_object_get(event, "detail"), JSON_COMPACT);
    json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "Source", n->source, "DetailType",
                              n->detail_type, "Detail", detail ? detail : "{}", "EventBusName",
                              n->bus, "Resources");
    time_t t = 0;
    const char *iso = json_string_value(json_object_get(event, "time"));
    if (iso && event_parse_time(iso, &t) == 0)
        json_object_set_new(entry, "Time", json_integer((json_int_t)t));
    json_t *body = json_pack("{s:[o]}", "Entries", entry);
    char *out = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    free(detail);
    return out;
}

/* The whole request body: a bound on the entry's size as AWS counts it. */
static size_t entry_size(const json_t *event, void *ud)
{
    char *body = request_body(ud, event);
    size_t n = strlen(body) + EVENTBRIDGE_SIZE_MARGIN;
    free(body);
    return n;
}

char *notify_eventbridge_request(const notify_target *t, const json_t *event)
{
    entry_names n = names_of(t);
    json_t *ev = json_deep_copy(event);
    char *out = NULL;
    if (notify_fit_event(ev, entry_size, &n, EVENTBRIDGE_ENTRY_MAX) == 0)
        out = request_body(&n, ev);
    json_decref(ev);
    return out;
}

/* arn:aws:events:REGION:ACCOUNT:event-bus/NAME -> REGION, or NULL. */
static char *bus_region(const char *bus)
{
    if (strncmp(bus, "arn:", 4) != 0)
        return NULL;
    const char *p = bus;
    for (int i = 0; i < 3 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    const char *end = p ? strchr(p, ':') : NULL;
    return end && end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
}

/* "com.amazonaws.events#ResourceNotFoundException" -> the part after '#'. */
static const char *error_code(const json_t *doc)
{
    const char *type = json_string_value(json_object_get(doc, "__type"));
    const char *hash = type ? strrchr(type, '#') : NULL;
    return hash ? hash + 1 : type;
}

static notify_status check_entries(notify_delivery *d, const json_t *doc)
{
    json_int_t failed = json_integer_value(json_object_get(doc, "FailedEntryCount"));
    const json_t *entry = json_array_get(json_object_get(doc, "Entries"), 0);
    const char *code = json_string_value(json_object_get(entry, "ErrorCode"));
    if (failed == 0 && json_string_value(json_object_get(entry, "EventId"))) {
        snprintf(d->id, sizeof d->id, "EventId %s",
                 json_string_value(json_object_get(entry, "EventId")));
        return NOTIFY_SENT;
    }
    const char *msg = json_string_value(json_object_get(entry, "ErrorMessage"));
    snprintf(d->error, sizeof d->error,
             "EventBridge PutEvents: %" JSON_INTEGER_FORMAT " failed entr%s: %s: %s", failed,
             failed == 1 ? "y" : "ies", code ? code : "(no error code)", msg ? msg : "");
    if (code && (!strcmp(code, "InternalFailure") || !strncmp(code, "Throttl", 7)))
        return NOTIFY_RETRY;
    return NOTIFY_FAILED;
}

/* A JSON error ({"__type": "…#Code", "message"}), or the XML some front
 * ends answer with (an authentication failure, for one). */
static notify_status report_error(notify_delivery *d, const entry_names *n,
                                  const http_response *resp, const json_t *doc)
{
    const char *body = sb_str(&resp->body);
    char *xcode = doc ? NULL : aws_xml_find_text(body, resp->body.len, "Code");
    char *xmsg = doc ? NULL : aws_xml_find_text(body, resp->body.len, "Message");
    const char *code = doc ? error_code(doc) : xcode;
    const char *msg = json_string_value(json_object_get(doc, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(doc, "Message"));
    if (!msg)
        msg = xmsg ? xmsg : body;
    snprintf(d->error, sizeof d->error, "EventBridge PutEvents to bus %s: HTTP %ld %s: %s",
             n->bus, resp->status, code ? code : "(no error code)", msg);
    notify_status s = resp->status == 200 ? NOTIFY_FAILED : notify_classify(0, resp->status, code);
    free(xcode);
    free(xmsg);
    return s;
}

static notify_status eventbridge_send(notify_delivery *d)
{
    entry_names n = names_of(d->target);
    char *body = notify_eventbridge_request(d->target, d->event);
    if (!body) {
        snprintf(d->error, sizeof d->error,
                 "EventBridge PutEvents: the event cannot be made to fit 256 KB");
        return NOTIFY_FAILED;
    }
    char *region = bus_region(n.bus);
    notify_aws_call call = {
        .service = "events",
        .env_suffix = "EVENTBRIDGE",
        .region_hint = region,
        .content_type = "application/x-amz-json-1.1",
        .amz_target = "AWSEvents.PutEvents",
        .body = body,
        .body_len = strlen(body),
    };
    http_response resp;
    notify_status s = NOTIFY_SENT;
    if (notify_aws_post(d, &call, &resp, &s) == 0) {
        json_t *doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
        if (resp.status == 200 && json_is_object(doc)) {
            s = check_entries(d, doc);
        } else {
            s = report_error(d, &n, &resp, doc);
        }
        json_decref(doc);
        http_response_free(&resp);
    }
    free(region);
    free(body);
    return s;
}

const notify_backend notify_eventbridge_backend = {"eventbridge", eventbridge_send};
