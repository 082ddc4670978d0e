/* notify_sns.c — the `sns` target: Publish over the query API, signed
 * with SigV4.
 *
 * What a subscriber gets (documented in docs/notifications.md):
 *   Subject  at most 99 printable ASCII characters saying what happened to
 *            what: "[prefix] sluice FAILED (input): revenue s3://b/k.tsv";
 *   Message  a plain-text e-mail for a person: rule, input, error, run id,
 *            and how to retry;
 *   MessageAttributes
 *            sluice_event (String): the full job-state event as JSON, for
 *            programs (SQS, Lambda, HTTP subscribers); state, rule and
 *            error_kind (String) for subscription filter policies.
 * The attribute, not MessageStructure=json, carries the JSON so that every
 * protocol gets both the readable text and the machine-readable event. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "aws/aws_xml.h"
#include "notify/notify_backend.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/urlcodec.h"

#define SNS_SIZE_MARGIN 4096 /* names, types and the other attributes */

static const json_t *detail_of(const json_t *event)
{
    return json_object_get(event, "detail");
}

static const char *str_at(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* --- the subject -------------------------------------------------------- */

/* Printable ASCII only: a control character becomes a space, every
 * non-ASCII character (a UTF-8 sequence) one '?'. */
static void add_ascii(strbuf *sb, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p >= 0x20 && *p < 0x7f)
            sb_addc(sb, (char)*p);
        else if (*p < 0x20 || *p == 0x7f)
            sb_addc(sb, ' ');
        else if ((*p & 0xC0) != 0x80)
            sb_addc(sb, '?');
    }
}

char *notify_sns_subject(const json_t *event, const char *prefix)
{
    const json_t *d = detail_of(event);
    const char *state = str_at(d, "state");
    const char *kind = str_at(json_object_get(d, "error"), "kind");
    const char *rule_name = str_at(d, "rule");
    strbuf head = STRBUF_INIT, tail = STRBUF_INIT;
    while (prefix && *prefix == ' ')
        prefix++;
    if (prefix && *prefix) {
        add_ascii(&head, prefix);
        sb_addc(&head, ' ');
    }
    sb_adds(&head, "sluice ");
    add_ascii(&head, state ? state : "?");
    if (kind)
        sb_addf(&head, " (%s)", kind);
    sb_adds(&head, ": ");
    add_ascii(&head, rule_name ? rule_name : "(no rule)");
    sb_addc(&head, ' ');
    add_ascii(&tail, str_at(json_object_get(d, "input"), "location"));

    strbuf out = STRBUF_INIT;
    if (head.len + tail.len <= SNS_SUBJECT_MAX) {
        sb_add(&out, head.buf, head.len);
        sb_add(&out, tail.buf ? tail.buf : "", tail.len);
    } else if (head.len + 3 < SNS_SUBJECT_MAX) {
        /* the end of a key names the file: keep it */
        size_t room = SNS_SUBJECT_MAX - head.len - 3;
        sb_add(&out, head.buf, head.len);
        sb_adds(&out, "...");
        sb_add(&out, tail.buf + tail.len - room, room);
    } else {
        sb_add(&out, head.buf, SNS_SUBJECT_MAX - 3);
        sb_adds(&out, "...");
    }
    /* a trailing space reads as a cut: trim it */
    while (out.len && out.buf[out.len - 1] == ' ')
        out.buf[--out.len] = '\0';
    sb_free(&head);
    sb_free(&tail);
    return sb_steal(&out);
}

/* --- the e-mail text ---------------------------------------------------- */

static void add_line(strbuf *sb, const char *label, const char *value)
{
    if (value && *value)
        sb_addf(sb, "  %-10s %s\n", label, value);
}

static void add_input(strbuf *sb, const json_t *d)
{
    const json_t *in = json_object_get(d, "input");
    add_line(sb, "Input:", str_at(in, "location"));
    const char *etag = str_at(in, "etag"), *ver = str_at(in, "version_id");
    if (etag || ver) {
        strbuf x = STRBUF_INIT;
        if (etag)
            sb_addf(&x, "etag %s", etag);
        if (ver)
            sb_addf(&x, "%sversion %s", etag ? ", " : "", ver);
        add_line(sb, "", sb_str(&x));
        sb_free(&x);
    }
    add_line(sb, "Event at:", str_at(in, "event_time"));
}

static void add_stats(strbuf *sb, const json_t *d)
{
    const json_t *stats = json_object_get(d, "stats");
    if (!json_is_object(stats) || json_object_size(stats) == 0)
        return;
    strbuf x = STRBUF_INIT;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)stats, k, v) {
        sb_addf(&x, "%s%s=%" JSON_INTEGER_FORMAT, x.len ? ", " : "", k, json_integer_value(v));
    }
    add_line(sb, "Stats:", sb_str(&x));
    sb_free(&x);
}

static void add_run(strbuf *sb, const json_t *d)
{
    const char *run_id = str_at(d, "run_id");
    json_int_t attempt = json_integer_value(json_object_get(d, "attempt"));
    const char *retry_of = str_at(d, "retry_of");
    strbuf x = STRBUF_INIT;
    sb_addf(&x, "%s (attempt %" JSON_INTEGER_FORMAT "%s%s)", run_id ? run_id : "?",
            attempt ? attempt : 1, retry_of ? ", retry of " : "", retry_of ? retry_of : "");
    add_line(sb, "Run id:", sb_str(&x));
    sb_reset(&x);
    if (json_is_object(json_object_get(d, "quarantine"))) {
        /* no job ran: the time is the quarantine's */
        add_line(sb, "At:", str_at(d, "started_at"));
    } else {
        sb_addf(&x, "%s, took %" JSON_INTEGER_FORMAT " ms", str_at(d, "started_at"),
                json_integer_value(json_object_get(d, "duration_ms")));
        add_line(sb, "Started:", sb_str(&x));
    }
    sb_reset(&x);
    const json_t *plugin = json_object_get(d, "plugin");
    if (str_at(plugin, "name"))
        sb_addf(&x, "%s %s", str_at(plugin, "name"),
                str_at(plugin, "version") ? str_at(plugin, "version") : "");
    add_line(sb, "Plugin:", sb_str(&x));
    add_line(sb, "Host:", str_at(d, "host"));
    sb_free(&x);
}

/* A QUARANTINED event: where the spooled event lies and how to run it
 * again. */
static void add_quarantine(strbuf *sb, const json_t *d, const char *run_id)
{
    const json_t *q = json_object_get(d, "quarantine");
    const char *path = str_at(q, "path");
    add_line(sb, "Spool id:", str_at(q, "spool_id"));
    add_line(sb, "Now at:", path);
    strbuf x = STRBUF_INIT;
    sb_addf(&x, "%" JSON_INTEGER_FORMAT " starts, each ended by the process dying "
                "(--max-attempts %" JSON_INTEGER_FORMAT ")",
            json_integer_value(json_object_get(q, "attempts")),
            json_integer_value(json_object_get(q, "max_attempts")));
    add_line(sb, "Attempts:", sb_str(&x));
    sb_free(&x);
    /* the spool directory: PATH is SPOOL/quarantine/ID.json */
    size_t len = path ? strlen(path) : 0;
    int slashes = 0;
    while (len > 0 && slashes < 2)
        if (path[--len] == '/')
            slashes++;
    sb_addf(sb, "\n`sluice serve` stopped running this event: its jobs killed the process at "
                "every start.\n"
                "\nTo run it again once the cause is fixed (isolation: process on the rule, a "
                "fixed plugin):\n"
                "  sluice runs retry %s\n"
                "or move the event back into the spool, for serve's next start:\n"
                "  mv %s %.*s/\n",
            run_id, path ? path : "?", slashes == 2 ? (int)len : 1, slashes == 2 ? path : ".");
}

char *notify_sns_message(const json_t *event)
{
    const json_t *d = detail_of(event);
    const char *state = str_at(d, "state");
    const char *run_id = str_at(d, "run_id");
    const json_t *error = json_object_get(d, "error");
    int failed = state && !strcmp(state, "FAILED");
    int quarantined = state && !strcmp(state, "QUARANTINED");
    strbuf sb = STRBUF_INIT;

    if (quarantined)
        sb_adds(&sb, "A spooled event was QUARANTINED.\n\n");
    else
        sb_addf(&sb, "A sluice job %s.\n\n", state ? state : "ended");
    add_line(&sb, "Rule:", str_at(d, "rule") ? str_at(d, "rule") : "(none: no rule was chosen)");
    add_input(&sb, d);
    if (json_is_object(error)) {
        strbuf x = STRBUF_INIT;
        sb_addf(&x, "%s: %s", str_at(error, "kind"), str_at(error, "message"));
        add_line(&sb, "Error:", sb_str(&x));
        sb_free(&x);
    }
    add_line(&sb, "Skipped:", str_at(d, "skip_reason"));
    add_line(&sb, "Output:", str_at(json_object_get(d, "output"), "location"));
    add_run(&sb, d);
    add_stats(&sb, d);
    if (quarantined)
        add_quarantine(&sb, d, run_id);
    if (failed) {
        sb_adds(&sb, "\nNothing was published: sluice writes the output only when the whole "
                     "job succeeds.\n");
        sb_addf(&sb, "\nTo retry this run once the cause is fixed:\n"
                     "  sluice runs retry %s\n"
                     "or every failed run at once:\n"
                     "  sluice runs retry --failed\n",
                run_id);
    }
    sb_addf(&sb, "\nDetails: sluice runs show %s\n", run_id);
    sb_adds(&sb, "The full job-state event (JSON) is in the message attribute \""
                 SNS_EVENT_ATTRIBUTE "\".\n");
    return sb_steal(&sb);
}

/* --- the request -------------------------------------------------------- */

/* application/x-www-form-urlencoded as the AWS SDKs write it (space as
 * '+'): servers that re-encode the parsed form to check the signature
 * (moto does) then see the very bytes that were signed. */
static void add_form_value(strbuf *sb, const char *value)
{
    char *v = urlcodec_encode_dup(value, strlen(value), 0);
    for (const char *p = v; *p; p++) {
        if (p[0] == '%' && p[1] == '2' && p[2] == '0') {
            sb_addc(sb, '+');
            p += 2;
        } else {
            sb_addc(sb, *p);
        }
    }
    free(v);
}

static void add_param(strbuf *sb, const char *name, const char *value)
{
    if (sb->len)
        sb_addc(sb, '&');
    add_form_value(sb, name);
    sb_addc(sb, '=');
    add_form_value(sb, value);
}

static void add_attribute(strbuf *sb, int n, const char *name, const char *value)
{
    char key[64];
    snprintf(key, sizeof key, "MessageAttributes.entry.%d.Name", n);
    add_param(sb, key, name);
    snprintf(key, sizeof key, "MessageAttributes.entry.%d.Value.DataType", n);
    add_param(sb, key, "String");
    snprintf(key, sizeof key, "MessageAttributes.entry.%d.Value.StringValue", n);
    add_param(sb, key, value);
}

/* SNS counts the message and every attribute's name, type and value. */
static size_t sns_size(const json_t *event, void *ud)
{
    (void)ud;
    char *text = notify_sns_message(event);
    char *js = json_dumps(event, JSON_COMPACT);
    size_t n = strlen(text) + strlen(js) + SNS_SIZE_MARGIN;
    free(text);
    free(js);
    return n;
}

static int is_fifo(const char *arn)
{
    size_t len = arn ? strlen(arn) : 0;
    return len > 5 && !strcmp(arn + len - 5, ".fifo");
}

char *notify_sns_request(const notify_target *t, const json_t *event)
{
    json_t *ev = json_deep_copy(event);
    if (notify_fit_event(ev, sns_size, NULL, SNS_MESSAGE_MAX) != 0) {
        json_decref(ev);
        return NULL;
    }
    const json_t *d = detail_of(ev);
    const char *arn = t->topic_arn;
    char *subject = notify_sns_subject(ev, t->subject_prefix);
    char *message = notify_sns_message(ev);
    char *js = json_dumps(ev, JSON_COMPACT);
    strbuf sb = STRBUF_INIT;
    add_param(&sb, "Action", "Publish");
    add_param(&sb, "Version", "2010-03-31");
    add_param(&sb, "TopicArn", arn);
    add_param(&sb, "Subject", subject);
    add_param(&sb, "Message", message);
    int n = 0;
    add_attribute(&sb, ++n, SNS_EVENT_ATTRIBUTE, js);
    add_attribute(&sb, ++n, "state", str_at(d, "state"));
    if (str_at(d, "rule"))
        add_attribute(&sb, ++n, "rule", str_at(d, "rule"));
    if (str_at(json_object_get(d, "error"), "kind"))
        add_attribute(&sb, ++n, "error_kind", str_at(json_object_get(d, "error"), "kind"));
    if (is_fifo(arn)) {
        add_param(&sb, "MessageGroupId", str_at(d, "rule") ? str_at(d, "rule") : "sluice");
        add_param(&sb, "MessageDeduplicationId", str_at(d, "run_id"));
    }
    free(subject);
    free(message);
    free(js);
    json_decref(ev);
    return sb_steal(&sb);
}

/* arn:aws:sns:REGION:ACCOUNT:NAME -> REGION (caller frees), or NULL. */
static char *arn_region(const char *arn)
{
    const char *p = arn;
    for (int i = 0; i < 3 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    const char *end = p ? strchr(p, ':') : NULL;
    return end && end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
}

static notify_status sns_send(notify_delivery *d)
{
    const char *arn = d->target->topic_arn;
    char *body = notify_sns_request(d->target, d->event);
    if (!body) {
        snprintf(d->error, sizeof d->error,
                 "SNS Publish to %s: the event cannot be made to fit 256 KB", arn);
        return NOTIFY_FAILED;
    }
    char *region = arn_region(arn);
    notify_aws_call call = {
        .service = "sns",
        .env_suffix = "SNS",
        .region_hint = region,
        .content_type = "application/x-www-form-urlencoded; charset=utf-8",
        .body = body,
        .body_len = strlen(body),
    };
    http_response resp;
    notify_status s = NOTIFY_SENT;
    if (notify_aws_post(d, &call, &resp, &s) == 0) {
        const char *xml = sb_str(&resp.body);
        char *mid = aws_xml_find_text(xml, resp.body.len, "MessageId");
        if (resp.status == 200 && mid) {
            snprintf(d->id, sizeof d->id, "MessageId %s", mid);
        } else {
            char *code = aws_xml_find_text(xml, resp.body.len, "Code");
            char *msg = aws_xml_find_text(xml, resp.body.len, "Message");
            snprintf(d->error, sizeof d->error, "SNS Publish to %s: HTTP %ld %s: %s", arn,
                     resp.status, code ? code : "(no error code)", msg ? msg : xml);
            s = resp.status == 200 ? NOTIFY_FAILED : notify_classify(0, resp.status, code);
            free(code);
            free(msg);
        }
        free(mid);
        http_response_free(&resp);
    }
    free(region);
    free(body);
    return s;
}

const notify_backend notify_sns_backend = {"sns", sns_send};
