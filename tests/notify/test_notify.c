/* test_notify.c — the job-state event, what each target would send (SNS
 * subject, e-mail text and Publish body; EventBridge PutEvents entries
 * kept under 256 KB; the webhook signature), and the run-record store
 * (records, duplicate markers, listing, location templates; jobs in flight
 * reconciled to ABANDONED; marks of open uploads). */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "notify/notify.h"
#include "aws/aws_xml.h"
#include "notify/notify_backend.h"
#include "core/runstore.h"
#include "util/alloc.h"
#include "util/procid.h"
#include "util/strbuf.h"
#include "tap.h"

static char tmpdir[256];

/* --- helpers ------------------------------------------------------------ */

static void sample_failure(job_result *res)
{
    memset(res, 0, sizeof *res);
    snprintf(res->run_id, sizeof res->run_id, "20261125T143715Z-9f2c4a1b");
    res->state = JOB_FAILED;
    res->rule = xstrdup("revenue");
    res->plugin = xstrdup("revenue");
    res->plugin_version = xstrdup("1.0.0");
    res->input = xstrdup("s3://client-inbound/hit-data/2026/11/x.tsv");
    res->etag = xstrdup("4f1bdeadbeef");
    res->event_time = xstrdup("2026-11-20T09:15:42.118Z");
    res->started_ms = 1795617435880LL;
    res->ended_ms = 1795617436021LL;
    res->attempt = 2;
    res->retry_of = xstrdup("20261124T101010Z-0badc0de");
    res->bytes_in = 6259;
    sl_error_set(&res->error, SL_ERR_INPUT, "12 of 40 data lines are malformed");
    res->counters = json_pack("{s:i, s:i}", "lines_read", 41, "malformed_lines", 12);
}

static const json_t *detail(const json_t *ev)
{
    return json_object_get(ev, "detail");
}

static const char *dstr(const json_t *ev, const char *key)
{
    return json_string_value(json_object_get(detail(ev), key));
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - 'a' + 10;
}

/* The decoded value of one field of an x-www-form-urlencoded body. */
static char *form_value(const char *body, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, nl) != 0 || p[nl] != '=')
            continue;
        strbuf sb = STRBUF_INIT;
        for (const char *v = p + nl + 1; *v && *v != '&'; v++) {
            if (*v == '%' && v[1] && v[2]) {
                sb_addc(&sb, (char)(hexval(v[1]) * 16 + hexval(v[2])));
                v += 2;
            } else {
                sb_addc(&sb, *v == '+' ? ' ' : *v);
            }
        }
        return sb_steal(&sb);
    }
    return NULL;
}

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

static char *param(const json_t *params, const char *key)
{
    const char *v = json_string_value(json_object_get(params, key));
    return v ? xstrdup(v) : NULL;
}

/* A target as the configuration would fill it from these keys. */
static notify_target make_target(const char *type, const char *params_json)
{
    notify_target t = {.name = xstrdup("t"), .type = xstrdup(type), .timeout_ms = 10000,
                       .max_attempts = 4};
    json_t *p = json_loads(params_json, 0, NULL);
    t.region = param(p, "region");
    t.endpoint = param(p, "endpoint");
    t.profile = param(p, "profile");
    t.topic_arn = param(p, "topic_arn");
    t.subject_prefix = param(p, "subject_prefix");
    t.event_bus = param(p, "event_bus");
    t.source = param(p, "source");
    t.detail_type = param(p, "detail_type");
    t.url = param(p, "url");
    t.secret_env = param(p, "secret_env");
    json_decref(p);
    return t;
}

static void free_target(notify_target *t)
{
    char **fields[] = {&t->name, &t->type, &t->region, &t->endpoint, &t->profile, &t->topic_arn,
                       &t->subject_prefix, &t->event_bus, &t->source, &t->detail_type, &t->url,
                       &t->secret_env};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        free(*fields[i]);
}

/* --- the event ---------------------------------------------------------- */

static void test_event(void)
{
    job_result res;
    sample_failure(&res);
    json_t *ev = notify_job_event(&res);
    is_str(json_string_value(json_object_get(ev, "source")), "sluice", "source");
    is_str(json_string_value(json_object_get(ev, "detail-type")), "Sluice Job State Change",
           "detail-type");
    is_str(json_string_value(json_object_get(ev, "id")), res.run_id, "id is the run id");
    is_str(json_string_value(json_object_get(ev, "time")), "2026-11-25T14:37:16.021Z",
           "time is the end of the job");
    is_str(dstr(ev, "state"), "FAILED", "state");
    is_int(json_integer_value(json_object_get(detail(ev), "attempt")), 2, "attempt");
    is_str(dstr(ev, "retry_of"), "20261124T101010Z-0badc0de", "retry_of");
    is_str(dstr(ev, "sluice_version"), PACKAGE_VERSION, "sluice version");
    ok(dstr(ev, "host") != NULL, "host named");
    is_int(json_integer_value(json_object_get(detail(ev), "duration_ms")), 141, "duration");
    const json_t *err = json_object_get(detail(ev), "error");
    is_str(json_string_value(json_object_get(err, "kind")), "input", "error kind");
    is_str(json_string_value(json_object_get(err, "message")),
           "12 of 40 data lines are malformed", "error message");
    is_int(json_integer_value(json_object_get(json_object_get(detail(ev), "stats"),
                                              "malformed_lines")),
           12, "stats carried");
    ok(json_object_get(detail(ev), "duplicate_of") == NULL, "no duplicate_of on a failure");
    json_decref(ev);

    free(res.retry_of);
    res.retry_of = NULL;
    res.attempt = 0;
    res.state = JOB_SKIPPED;
    res.skip_reason = xstrdup("duplicate");
    res.duplicate_of = xstrdup("20261125T000000Z-00000000");
    ev = notify_job_event(&res);
    ok(json_is_null(json_object_get(detail(ev), "retry_of")), "retry_of null on a first run");
    is_int(json_integer_value(json_object_get(detail(ev), "attempt")), 1, "attempt 1");
    ok(json_is_null(json_object_get(detail(ev), "error")), "a skip has no error");
    is_str(dstr(ev, "duplicate_of"), "20261125T000000Z-00000000", "duplicate_of");
    json_decref(ev);
    job_result_free(&res);
}

/* A spooled event serve quarantined: state QUARANTINED, its own fields,
 * an error a person can act on, and what SNS makes of it. */
static void test_quarantined_event(void)
{
    const char *procs[] = {"4242-100-0badc0de@etl-1", "4343-200-0badc0de@etl-1"};
    const char *objects[] = {"s3://in/inproc/a.txt", "s3://in/inproc/b.txt"};
    notify_quarantine q = {.run_id = "20261206T101010Z-0a0b0c0d",
                           .rule = "inproc",
                           .plugin = "crashy",
                           .plugin_version = "0.0.1",
                           .input = objects[0],
                           .etag = "abc",
                           .event_time = "2026-11-20T09:15:42.118Z",
                           .spool_id = "1764000000000-000001-aaaaaaaa",
                           .path = "/var/lib/sluice/spool/quarantine/"
                                   "1764000000000-000001-aaaaaaaa.json",
                           .attempts = 2,
                           .max_attempts = 2,
                           .processes = procs,
                           .n_processes = 2,
                           .objects = objects,
                           .n_objects = 2,
                           .quarantined_ms = 1796551810123LL};
    json_t *ev = notify_quarantined_event(&q);
    is_str(json_string_value(json_object_get(ev, "id")), q.run_id, "quarantined: id is its run id");
    is_str(json_string_value(json_object_get(ev, "detail-type")), "Sluice Job State Change",
           "quarantined: the same detail-type");
    is_str(json_string_value(json_object_get(ev, "time")), "2026-12-06T10:10:10.123Z",
           "quarantined: time is when it was quarantined");
    is_str(dstr(ev, "state"), "QUARANTINED", "state QUARANTINED");
    is_str(dstr(ev, "rule"), "inproc", "the object's rule");
    const json_t *in = json_object_get(detail(ev), "input");
    is_str(json_string_value(json_object_get(in, "location")), "s3://in/inproc/a.txt", "input");
    is_str(json_string_value(json_object_get(in, "etag")), "abc", "the event's etag");
    ok(json_is_null(json_object_get(json_object_get(detail(ev), "output"), "location")),
       "nothing published");
    const json_t *err = json_object_get(detail(ev), "error");
    is_str(json_string_value(json_object_get(err, "kind")), "internal", "error kind internal");
    is_str(json_string_value(json_object_get(err, "message")),
           "the process died 2 times while running the jobs of spool event "
           "1764000000000-000001-aaaaaaaa (--max-attempts 2; pids 4242, 4343, see the service "
           "manager's log for the signal): quarantined to "
           "/var/lib/sluice/spool/quarantine/1764000000000-000001-aaaaaaaa.json",
           "the message says what happened and names the pids");
    is_int(json_integer_value(json_object_get(detail(ev), "duration_ms")), 0, "duration 0");
    ok(json_integer_value(json_object_get(detail(ev), "pid")) > 0 && dstr(ev, "process"),
       "the process that quarantined it");
    const json_t *qd = json_object_get(detail(ev), "quarantine");
    is_str(json_string_value(json_object_get(qd, "spool_id")), q.spool_id, "quarantine.spool_id");
    is_int(json_integer_value(json_object_get(qd, "attempts")), 2, "quarantine.attempts");
    is_int(json_integer_value(json_object_get(qd, "max_attempts")), 2, "quarantine.max_attempts");
    is_str(json_string_value(json_object_get(qd, "path")), q.path, "quarantine.path");
    is_str(json_string_value(json_array_get(json_object_get(qd, "processes"), 1)), procs[1],
           "quarantine.processes");
    is_int((int64_t)json_array_size(json_object_get(qd, "objects")), 2,
           "quarantine.objects: every object of the event");

    char *s = notify_sns_subject(ev, "[etl]");
    is_str(s, "[etl] sluice QUARANTINED (internal): inproc s3://in/inproc/a.txt",
           "the SNS subject says it");
    free(s);
    char *m = notify_sns_message(ev);
    ok(strstr(m, "A spooled event was QUARANTINED.\n") == m, "the e-mail opens with it");
    ok(strstr(m, "  Spool id:  1764000000000-000001-aaaaaaaa\n") != NULL, "spool id line");
    ok(strstr(m, "  Now at:    /var/lib/sluice/spool/quarantine/1764000000000-000001-"
                 "aaaaaaaa.json\n") != NULL,
       "where the file is");
    ok(strstr(m, "  sluice runs retry 20261206T101010Z-0a0b0c0d\n") != NULL, "how to retry it");
    ok(strstr(m, "  mv /var/lib/sluice/spool/quarantine/1764000000000-000001-aaaaaaaa.json "
                 "/var/lib/sluice/spool/\n") != NULL,
       "or to move it back");
    ok(strstr(m, "retry --failed") == NULL, "not --failed, which leaves it alone");
    free(m);
    json_decref(ev);
}

/* --- SNS ---------------------------------------------------------------- */

static void test_sns_subject(void)
{
    job_result res;
    sample_failure(&res);
    json_t *ev = notify_job_event(&res);
    char *s = notify_sns_subject(ev, "[etl]");
    is_str(s, "[etl] sluice FAILED (input): revenue s3://client-inbound/hit-data/2026/11/x.tsv",
           "subject says what failed");
    free(s);

    free(res.input);
    res.input = xstrdup("s3://client-inbound/a-very-long-prefix/that-goes-on-and-on/and-on-"
                        "and-on/for-ever/café-report-2026-11-25.tsv");
    json_decref(ev);
    ev = notify_job_event(&res);
    s = notify_sns_subject(ev, NULL);
    ok(strlen(s) <= SNS_SUBJECT_MAX, "long subject capped (%zu chars)", strlen(s));
    ok(printable_ascii(s), "subject is printable ASCII: %s", s);
    ok(strncmp(s, "sluice FAILED (input): revenue ...", 34) == 0, "head kept, input cut: %s", s);
    size_t len = strlen(s);
    ok(len > 20 && strcmp(s + len - 20, "-report-2026-11-25.tsv" + 2) == 0,
       "the file name at the end is kept");
    ok(strstr(s, "caf?-report") != NULL, "non-ASCII becomes '?'");
    free(s);

    char longprefix[200];
    memset(longprefix, 'P', sizeof longprefix - 1);
    longprefix[sizeof longprefix - 1] = '\0';
    s = notify_sns_subject(ev, longprefix);
    is_int((int64_t)strlen(s), SNS_SUBJECT_MAX, "a huge prefix is cut to the limit");
    ok(strcmp(s + strlen(s) - 3, "...") == 0, "and marked");
    free(s);
    s = notify_sns_subject(ev, "multi\nline\tprefix");
    ok(printable_ascii(s) && strncmp(s, "multi line prefix sluice", 24) == 0,
       "control characters in the prefix become spaces: %s", s);
    free(s);
    json_decref(ev);
    job_result_free(&res);
}

static void test_sns_message(void)
{
    job_result res;
    sample_failure(&res);
    json_t *ev = notify_job_event(&res);
    char *m = notify_sns_message(ev);
    ok(strstr(m, "A sluice job FAILED.") == m, "opens with the state");
    ok(strstr(m, "  Rule:      revenue\n") != NULL, "rule line");
    ok(strstr(m, "  Input:     s3://client-inbound/hit-data/2026/11/x.tsv\n") != NULL, "input");
    ok(strstr(m, "  Error:     input: 12 of 40 data lines are malformed\n") != NULL, "error");
    ok(strstr(m, "  Run id:    20261125T143715Z-9f2c4a1b (attempt 2, retry of "
                 "20261124T101010Z-0badc0de)\n") != NULL,
       "run id, attempt, retry_of");
    ok(strstr(m, "  sluice runs retry 20261125T143715Z-9f2c4a1b\n") != NULL, "how to retry");
    ok(strstr(m, "sluice runs retry --failed") != NULL, "how to retry them all");
    ok(strstr(m, "Stats:     lines_read=41, malformed_lines=12") != NULL, "stats");
    ok(strstr(m, "message attribute \"sluice_event\"") != NULL, "points to the JSON");
    free(m);
    json_decref(ev);
    job_result_free(&res);
}

static void test_sns_request(void)
{
    job_result res;
    sample_failure(&res);
    json_t *ev = notify_job_event(&res);
    notify_target t = make_target(
        "sns", "{\"type\":\"sns\",\"topic_arn\":\"arn:aws:sns:eu-west-1:123456789012:ops\"}");
    char *body = notify_sns_request(&t, ev);
    char *v;
    is_str(v = form_value(body, "Action"), "Publish", "Action");
    free(v);
    is_str(v = form_value(body, "Version"), "2010-03-31", "Version");
    free(v);
    is_str(v = form_value(body, "TopicArn"), "arn:aws:sns:eu-west-1:123456789012:ops", "TopicArn");
    free(v);
    is_str(v = form_value(body, "Subject"),
           "sluice FAILED (input): revenue s3://client-inbound/hit-data/2026/11/x.tsv",
           "Subject encoded and decoded");
    free(v);
    char *msg = notify_sns_message(ev);
    is_str(v = form_value(body, "Message"), msg, "Message is the e-mail text");
    free(v);
    free(msg);
    is_str(v = form_value(body, "MessageAttributes.entry.1.Name"), "sluice_event", "attribute");
    free(v);
    is_str(v = form_value(body, "MessageAttributes.entry.1.Value.DataType"), "String", "type");
    free(v);
    v = form_value(body, "MessageAttributes.entry.1.Value.StringValue");
    json_t *back = v ? json_loads(v, 0, NULL) : NULL;
    ok(back && json_equal(back, ev), "the attribute holds the whole event");
    json_decref(back);
    free(v);
    is_str(v = form_value(body, "MessageAttributes.entry.2.Value.StringValue"), "FAILED",
           "state attribute for filter policies");
    free(v);
    is_str(v = form_value(body, "MessageAttributes.entry.4.Name"), "error_kind", "error_kind");
    free(v);
    ok(!strstr(body, "MessageGroupId"), "no group id on a standard topic");
    free(body);
    free_target(&t);

    t = make_target("sns", "{\"type\":\"sns\","
                           "\"topic_arn\":\"arn:aws:sns:eu-west-1:123456789012:o.fifo\"}");
    body = notify_sns_request(&t, ev);
    is_str(v = form_value(body, "MessageGroupId"), "revenue", "FIFO: group by rule");
    free(v);
    is_str(v = form_value(body, "MessageDeduplicationId"), res.run_id, "FIFO: dedup by run id");
    free(v);
    free(body);
    free_target(&t);
    json_decref(ev);
    job_result_free(&res);
}

/* --- EventBridge and size limits ----------------------------------------- */

static void test_eventbridge_request(void)
{
    job_result res;
    sample_failure(&res);
    json_t *ev = notify_job_event(&res);
    notify_target t = make_target("eventbridge", "{\"type\":\"eventbridge\"}");
    char *body = notify_eventbridge_request(&t, ev);
    json_t *doc = json_loads(body, 0, NULL);
    json_t *entry = json_array_get(json_object_get(doc, "Entries"), 0);
    is_int((int64_t)json_array_size(json_object_get(doc, "Entries")), 1, "one entry");
    is_str(json_string_value(json_object_get(entry, "Source")), "sluice", "default Source");
    is_str(json_string_value(json_object_get(entry, "DetailType")), "Sluice Job State Change",
           "default DetailType");
    is_str(json_string_value(json_object_get(entry, "EventBusName")), "default", "default bus");
    is_int(json_integer_value(json_object_get(entry, "Time")), 1795617436, "Time: job end");
    json_t *d = json_loads(json_string_value(json_object_get(entry, "Detail")), 0, NULL);
    ok(d && json_equal(d, detail(ev)), "Detail is the event's detail");
    json_decref(d);
    json_decref(doc);
    free(body);
    free_target(&t);

    t = make_target("eventbridge", "{\"type\":\"eventbridge\",\"source\":\"acme.etl\","
                                   "\"detail_type\":\"Job\",\"event_bus\":\"ops\"}");
    body = notify_eventbridge_request(&t, ev);
    doc = json_loads(body, 0, NULL);
    entry = json_array_get(json_object_get(doc, "Entries"), 0);
    is_str(json_string_value(json_object_get(entry, "Source")), "acme.etl", "source key");
    is_str(json_string_value(json_object_get(entry, "DetailType")), "Job", "detail_type key");
    is_str(json_string_value(json_object_get(entry, "EventBusName")), "ops", "event_bus key");
    json_decref(doc);
    free(body);

    /* an error text far over 256 KB, with quotes and multi-byte characters
     * that escaping makes bigger still */
    strbuf big = STRBUF_INIT;
    for (int i = 0; i < 40000; i++)
        sb_adds(&big, "\"bad\" é\n");
    json_object_set_new(json_object_get(json_object_get(ev, "detail"), "error"), "message",
                        json_string(sb_str(&big)));
    sb_free(&big);
    body = notify_eventbridge_request(&t, ev);
    ok(body && strlen(body) <= EVENTBRIDGE_ENTRY_MAX, "shortened under 256 KB (%zu bytes)",
       body ? strlen(body) : 0);
    doc = body ? json_loads(body, 0, NULL) : NULL;
    entry = json_array_get(json_object_get(doc, "Entries"), 0);
    d = json_loads(json_string_value(json_object_get(entry, "Detail")), 0, NULL);
    ok(d != NULL, "the Detail is still valid JSON");
    const char *m = json_string_value(json_object_get(json_object_get(d, "error"), "message"));
    size_t ml = m ? strlen(m) : 0;
    ok(ml > 100000 && !strcmp(m + ml - 16, " [... truncated]"), "error text cut and marked (%zu)",
       ml);
    ok(strncmp(m, "\"bad\" é\n\"bad\"", 14) == 0, "from its end");
    json_t *tr = json_object_get(d, "truncated");
    ok(json_array_size(tr) == 1 && !strcmp(json_string_value(json_array_get(tr, 0)),
                                           "error.message"),
       "truncated names the field");
    is_int(json_integer_value(json_object_get(json_object_get(d, "stats"), "lines_read")), 41,
           "the rest is untouched");
    json_decref(d);
    json_decref(doc);
    free(body);

    /* the SNS body obeys the same limit */
    free_target(&t);
    t = make_target("sns",
                    "{\"type\":\"sns\",\"topic_arn\":\"arn:aws:sns:eu-west-1:123456789012:ops\"}");
    body = notify_sns_request(&t, ev);
    char *msg = body ? form_value(body, "Message") : NULL;
    char *js = body ? form_value(body, "MessageAttributes.entry.1.Value.StringValue") : NULL;
    ok(msg && js && strlen(msg) + strlen(js) < SNS_MESSAGE_MAX,
       "SNS: message and attribute under 256 KB (%zu)",
       msg && js ? strlen(msg) + strlen(js) : 0);
    json_t *back = js ? json_loads(js, 0, NULL) : NULL;
    ok(back && json_object_get(detail(back), "truncated"), "SNS: the event says it was cut");
    json_decref(back);
    free(msg);
    free(js);
    free(body);
    free_target(&t);
    json_decref(ev);
    job_result_free(&res);
}

static size_t dumped_size(const json_t *ev, void *ud)
{
    (void)ud;
    char *s = json_dumps(ev, JSON_COMPACT);
    size_t n = strlen(s);
    free(s);
    return n;
}

static void test_fit_stats(void)
{
    job_result res;
    sample_failure(&res);
    for (int i = 0; i < 5000; i++) {
        char k[32];
        snprintf(k, sizeof k, "counter_%d", i);
        json_object_set_new(res.counters, k, json_integer(i));
    }
    json_t *ev = notify_job_event(&res);
    ok(notify_fit_event(ev, dumped_size, NULL, 4096) == 0, "stats dropped to fit");
    ok(dumped_size(ev, NULL) <= 4096, "fits");
    is_int((int64_t)json_object_size(json_object_get(detail(ev), "stats")), 0, "stats emptied");
    const json_t *tr = json_object_get(detail(ev), "truncated");
    ok(json_array_size(tr) == 1 && !strcmp(json_string_value(json_array_get(tr, 0)), "stats"),
       "truncated: [stats] (the short error was left alone)");
    ok(notify_fit_event(ev, dumped_size, NULL, 100) != 0, "an impossible limit is refused");
    json_decref(ev);
    job_result_free(&res);
}

/* --- webhook, XML, run ids ------------------------------------------------ */

static void test_small_helpers(void)
{
    char sig[72];
    /* RFC 4231 test case 2 */
    const char *data = "what do ya want for nothing?";
    notify_webhook_signature("Jefe", data, strlen(data), sig);
    is_str(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
           "webhook signature is HMAC-SHA256 (RFC 4231 case 2)");
    const char *xml = "<R><Error><Code>Throttling</Code><Message>a &lt;b&gt; &amp; "
                      "c</Message></Error></R>";
    char *x = aws_xml_find_text(xml, strlen(xml), "Message");
    is_str(x, "a <b> & c", "XML text unescaped");
    free(x);
    ok(aws_xml_find_text("<a/>", 4, "Code") == NULL, "missing element");
    is_int(runid_time_ms("20261125T143715Z-9f2c4a1b"), 1795617435000LL, "run id time");
    is_int(runid_time_ms("20261125T143715Z-9f2c4a1"), -1, "short run id refused");
    is_int(runid_time_ms("not-a-run-id-at-all-xxxxx"), -1, "garbage refused");
    is_int(notify_classify(1, 0, NULL), NOTIFY_RETRY, "connection failure: retry");
    is_int(notify_classify(0, 400, "Throttling"), NOTIFY_RETRY, "throttling: retry");
    is_int(notify_classify(0, 403, "ExpiredToken"), NOTIFY_REFRESH, "expired token: refresh");
    is_int(notify_classify(0, 404, "NotFound"), NOTIFY_FAILED, "not found: final");
}

/* --- run records ---------------------------------------------------------- */

static config *load_config(const char *yaml)
{
    char *path = xasprintf("%s/sluice.yaml", tmpdir);
    FILE *fp = fopen(path, "w");
    fputs(yaml, fp);
    fclose(fp);
    diag_list dl = {0};
    config *cfg = config_load(path, &dl);
    if (!cfg)
        diag_print(&dl, stdout);
    diag_free(&dl);
    free(path);
    return cfg;
}

static json_t *event_for(const char *run_id, job_state state, const char *rule_name,
                         const char *input, const char *etag)
{
    job_result res;
    sample_failure(&res);
    snprintf(res.run_id, sizeof res.run_id, "%s", run_id);
    res.state = state;
    if (state != JOB_FAILED)
        memset(&res.error, 0, sizeof res.error);
    free(res.rule);
    res.rule = rule_name ? xstrdup(rule_name) : NULL;
    free(res.input);
    res.input = xstrdup(input);
    free(res.etag);
    res.etag = etag ? xstrdup(etag) : NULL;
    json_t *ev = notify_job_event(&res);
    job_result_free(&res);
    return ev;
}

typedef struct seen {
    char ids[8][RUNID_MAX];
    int n;
} seen;

static int remember(void *ud, json_t *rec)
{
    seen *s = ud;
    if (s->n < 8)
        snprintf(s->ids[s->n++], RUNID_MAX, "%s", dstr(rec, "run_id"));
    return 0;
}

static void test_runstore_dir(void)
{
    config *cfg = load_config("storage: {type: local, root: data}\n"
                              "rules:\n  - name: r\n    match: {bucket: b}\n"
                              "    plugin: linecount\n    output: \"s3://o/{key}\"\n");
    int disabled = 1;
    sl_error err = {0};
    runstore *rs = runstore_open(cfg, NULL, &disabled, &err);
    char *want = xasprintf("%s/runs", tmpdir);
    ok(rs && !disabled, "default store opens: %s", err.msg);
    is_str(runstore_where(rs), want, "default: runs/ beside the storage root");
    free(want);

    seen s = {0};
    ok(runstore_list(rs, 0, remember, NULL, &s, &err) == 0 && s.n == 0,
       "no directory yet: no runs");
    char prev[RUNID_MAX] = "";
    is_int(runstore_find_done(rs, "r", "s3://o/{key}", "s3://b/k", NULL, "e1", prev, &err), 0,
           "no marker yet");

    json_t *a = event_for("20261125T100000Z-aaaaaaaa", JOB_FAILED, "r", "s3://b/k", "e1");
    json_t *b = event_for("20261126T100000Z-bbbbbbbb", JOB_SUCCEEDED, "r", "s3://b/k", "e1");
    ok(runstore_write(rs, a, NULL, &err) == 0, "failed record written");
    ok(runstore_write(rs, b, "s3://o/{key}", &err) == 0, "succeeded record and marker written");
    char *path = xasprintf("%s/runs/2026-11-26/20261126T100000Z-bbbbbbbb.json", tmpdir);
    ok(access(path, F_OK) == 0, "layout: runs/DATE/RUN_ID.json");
    free(path);

    is_int(runstore_find_done(rs, "r", "s3://o/{key}", "s3://b/k", NULL, "e1", prev, &err), 1,
           "marker found");
    is_str(prev, "20261126T100000Z-bbbbbbbb", "marker names the run");
    is_int(runstore_find_done(rs, "r", "s3://o/{key}", "s3://b/k", NULL, "e2", prev, &err), 0,
           "other etag: none");
    is_int(runstore_find_done(rs, "other", "s3://o/{key}", "s3://b/k", NULL, "e1", prev, &err), 0,
           "other rule: none");
    is_int(runstore_find_done(rs, "r", "s3://elsewhere/{key}", "s3://b/k", NULL, "e1", prev, &err), 0,
           "the rule's output moved: none");

    /* members_as: jobs: one marker per member of the archive */
    json_t *m = event_for("20261126T110000Z-cccccccc", JOB_SUCCEEDED, "r", "s3://b/z.tar", "e3");
    json_object_set_new(json_object_get(json_object_get(m, "detail"), "input"), "member",
                        json_string("d/a.tsv"));
    ok(runstore_write(rs, m, "s3://o/{key}", &err) == 0, "a member's record and marker written");
    is_int(runstore_find_done(rs, "r", "s3://o/{key}", "s3://b/z.tar", "d/a.tsv", "e3", prev,
                              &err),
           1, "the member's marker found");
    is_str(prev, "20261126T110000Z-cccccccc", "... naming its run");
    is_int(runstore_find_done(rs, "r", "s3://o/{key}", "s3://b/z.tar", "d/b.tsv", "e3", prev,
                              &err),
           0, "another member of the archive: none");
    is_int(runstore_find_done(rs, "r", "s3://o/{key}", "s3://b/z.tar", NULL, "e3", prev, &err),
           0, "the whole archive: none");
    is_int(runstore_find_done(rs, "r", "s3://o/{key}", "s3://b/k", "d/a.tsv", "e1", prev, &err),
           0, "a member of an object processed whole: none");
    json_decref(m);

    json_t *got = NULL;
    ok(runstore_get(rs, "20261125T100000Z-aaaaaaaa", &got, &err) == 0 && json_equal(got, a),
       "get returns the record as written");
    json_decref(got);
    ok(runstore_get(rs, "20261125T100000Z-cccccccc", &got, &err) != 0 &&
           err.kind == SL_ERR_INPUT,
       "unknown run: %s", err.msg);
    memset(&err, 0, sizeof err);

    s.n = 0;
    ok(runstore_list(rs, 0, remember, NULL, &s, &err) == 0 && s.n == 3, "three records (%d)",
       s.n);
    is_str(s.ids[0], "20261125T100000Z-aaaaaaaa", "oldest first");
    s.n = 0;
    runstore_list(rs, runid_time_ms("20261126T000000Z-00000000"), remember, NULL, &s, &err);
    ok(s.n == 2 && !strcmp(s.ids[0], "20261126T100000Z-bbbbbbbb"), "since filters (%d)", s.n);
    json_decref(a);
    json_decref(b);
    runstore_close(rs);
    config_free(cfg);
}

static void test_runstore_location(void)
{
    char *root = xasprintf("%s/data", tmpdir);
    mkdir(root, 0777);
    free(root);
    config *cfg = load_config(
        "storage: {type: local, root: data}\n"
        "runs: {location: \"s3://ops/sluice/runs/{rule}/{date}/{run_id}.json\"}\n"
        "rules:\n  - name: r\n    match: {bucket: b}\n"
        "    plugin: linecount\n    output: \"s3://o/{key}\"\n");
    int disabled = 0;
    sl_error err = {0};
    runstore *rs = runstore_open(cfg, NULL, &disabled, &err);
    ok(rs != NULL, "location store opens: %s", err.msg);
    is_str(runstore_where(rs), "s3://ops/sluice/runs/", "where");
    json_t *a = event_for("20261125T100000Z-aaaaaaaa", JOB_SUCCEEDED, "r", "s3://b/k", "e1");
    json_t *b = event_for("20261125T110000Z-bbbbbbbb", JOB_FAILED, NULL, "s3://b/j", NULL);
    ok(runstore_write(rs, a, "s3://o/{key}", &err) == 0 && runstore_write(rs, b, NULL, &err) == 0,
       "written through the storage backend: %s", err.msg);
    char *path = xasprintf("%s/data/ops/sluice/runs/r/2026-11-25/20261125T100000Z-aaaaaaaa.json",
                           tmpdir);
    ok(access(path, F_OK) == 0, "template expanded with {rule} and {date}");
    free(path);
    path = xasprintf("%s/data/ops/sluice/runs/_none_/2026-11-25/20261125T110000Z-bbbbbbbb.json",
                     tmpdir);
    ok(access(path, F_OK) == 0, "no rule: _none_");
    free(path);
    seen s = {0};
    ok(runstore_list(rs, 0, remember, NULL, &s, &err) == 0 && s.n == 2,
       "markers are not listed as runs (%d)", s.n);
    json_t *got = NULL;
    ok(runstore_get(rs, "20261125T110000Z-bbbbbbbb", &got, &err) == 0 && json_equal(got, b),
       "get finds a record under {rule}");
    json_decref(got);
    char prev[RUNID_MAX];
    is_int(runstore_find_done(rs, "r", "s3://o/{key}", "s3://b/k", NULL, "e1", prev, &err), 1,
           "marker via storage");
    json_decref(a);
    json_decref(b);
    runstore_close(rs);
    config_free(cfg);

    cfg = load_config("runs: {enabled: false}\n"
                      "rules:\n  - name: r\n    match: {bucket: b}\n"
                      "    plugin: linecount\n    output: \"s3://o/{key}\"\n");
    rs = runstore_open(cfg, NULL, &disabled, &err);
    ok(!rs && disabled, "enabled: false switches records off");
    config_free(cfg);
}

/* --- jobs in flight --------------------------------------------------------- */

static const char inflight_yaml[] = "storage: {type: local, root: data}\n"
                                    "runs: {dir: inflight}\n"
                                    "rules:\n  - name: r\n    match: {bucket: b}\n"
                                    "    plugin: linecount\n    output: \"s3://o/{key}\"\n";

/* A RUNNING record of `run_id` as if process PID-START-BOOT@HOST ran it. */
static json_t *running_as(const char *run_id, long pid, unsigned long long start,
                          const char *host)
{
    job_result res;
    sample_failure(&res);
    memset(&res.error, 0, sizeof res.error);
    snprintf(res.run_id, sizeof res.run_id, "%s", run_id);
    json_t *ev = notify_running_event(&res);
    job_result_free(&res);
    procid p = *procid_self();
    p.pid = pid;
    p.start = start;
    snprintf(p.host, sizeof p.host, "%s", host);
    char tag[PROCID_TAG_MAX];
    json_t *d = json_object_get(ev, "detail");
    json_object_set_new(d, "pid", json_integer(pid));
    json_object_set_new(d, "process", json_string(procid_format(&p, tag)));
    return ev;
}

static int exists(const char *rel)
{
    char *path = xasprintf("%s/inflight/%s", tmpdir, rel);
    int e = access(path, F_OK) == 0;
    free(path);
    return e;
}

static char *mark_of(const char *run_id)
{
    return xasprintf("_running/%s/%s.json", procid_self()->host, run_id);
}

/* The state of a record as stored ("" when it cannot be read). */
static const char *state_of(runstore *rs, const char *run_id, json_t **keep)
{
    sl_error err = {0};
    *keep = NULL;
    if (runstore_get(rs, run_id, keep, &err) != 0)
        return "";
    return dstr(*keep, "state");
}

static void collect_abandoned(void *ud, const json_t *rec)
{
    seen *s = ud;
    if (s->n < 8)
        snprintf(s->ids[s->n++], RUNID_MAX, "%s", dstr(rec, "run_id"));
}

static long dead_pid(void)
{
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    return (long)child;
}

enum { LIVE, DEAD, REUSED, FOREIGN, NO_RECORD, ENDED, KILLED_AFTER_MARKER, N_RUNS };
static const char *const ids[N_RUNS] = {
    "20261125T100000Z-00000001", "20261125T100000Z-00000002", "20261125T100000Z-00000003",
    "20261125T100000Z-00000004", "20261125T100000Z-00000005", "20261125T100000Z-00000006",
    "20261125T100000Z-00000007",
};

/* The process of KILLED_AFTER_MARKER succeeds and dies after writing its
 * duplicate marker, before its final record: the record's path is a
 * directory while it ends, so that write fails and only the marker's is
 * done; then the RUNNING record is put back, as the crash leaves it. */
static json_t *killed_succeeded; /* the event it was ending with */

static void die_after_marker(runstore *rs)
{
    char *rel = xasprintf("%s/inflight/2026-11-25/%s.json", tmpdir, ids[KILLED_AFTER_MARKER]);
    char *aside = xasprintf("%s.aside", rel);
    ok(rename(rel, aside) == 0 && mkdir(rel, 0700) == 0, "the killed job's record set aside");
    json_t *rec;
    sl_error err = {0};
    ok(runstore_get(rs, ids[KILLED_AFTER_MARKER], &rec, &err) != 0, "  (so it is unreadable)");
    killed_succeeded = running_as(ids[KILLED_AFTER_MARKER], dead_pid(), 0, procid_self()->host);
    json_t *d = json_object_get(killed_succeeded, "detail");
    json_object_set_new(d, "state", json_string("SUCCEEDED"));
    json_object_set_new(d, "ended_at", json_string("2026-11-25T10:00:02.000Z"));
    ok(runstore_finish(rs, killed_succeeded, "s3://o/{key}", &err) != 0,
       "  its final record cannot be written");
    ok(rmdir(rel) == 0 && rename(aside, rel) == 0, "  the RUNNING record is back");
    char prev[RUNID_MAX] = "";
    is_int(runstore_find_done(rs, "revenue", "s3://o/{key}",
                              "s3://client-inbound/hit-data/2026/11/x.tsv", NULL,
                              "4f1bdeadbeef", prev, &err),
           1, "  but its marker was written first: a redelivery is a duplicate");
    is_str(prev, ids[KILLED_AFTER_MARKER], "  of that run");
    free(aside);
    free(rel);
}

/* One record of each kind the reconcile meets, each started as a job. */
static void start_each(runstore *rs)
{
    const procid *me = procid_self();
    json_t *ev[N_RUNS] = {
        running_as(ids[LIVE], me->pid, me->start, me->host),
        running_as(ids[DEAD], dead_pid(), 0, me->host),
        running_as(ids[REUSED], me->pid, me->start + 1, me->host),
        running_as(ids[FOREIGN], me->pid, me->start, "elsewhere.example"),
        running_as(ids[NO_RECORD], 4242, 0, me->host),
        running_as(ids[ENDED], me->pid, me->start, me->host),
        running_as(ids[KILLED_AFTER_MARKER], dead_pid(), 0, me->host),
    };
    for (int i = 0; i < N_RUNS; i++) {
        sl_error err = {0};
        const char *done_output = i == KILLED_AFTER_MARKER ? "s3://o/{key}" : NULL;
        ok(runstore_start(rs, ev[i], done_output, &err) == 0, "started %s: %s", ids[i], err.msg);
        json_decref(ev[i]);
    }
    die_after_marker(rs);
    char *rel = xasprintf("%s/inflight/2026-11-25/%s.json", tmpdir, ids[NO_RECORD]);
    unlink(rel); /* as if the process died between its mark and its record */
    free(rel);
    json_t *done = event_for(ids[ENDED], JOB_SUCCEEDED, "revenue", "s3://b/k", "e1");
    sl_error err = {0};
    ok(runstore_write(rs, done, NULL, &err) == 0, "one ends, its mark left behind");
    json_decref(done);
}

static void check_reconciled(runstore *rs)
{
    json_t *rec;
    is_str(state_of(rs, ids[DEAD], &rec), "ABANDONED", "an ended process: ABANDONED");
    const json_t *d = json_object_get(rec, "detail");
    const json_t *ab = json_object_get(d, "abandoned");
    ok(strstr(json_string_value(json_object_get(ab, "reason")), "has ended") != NULL,
       "  the reason: %s", json_string_value(json_object_get(ab, "reason")));
    char me[PROCID_TAG_MAX];
    is_str(json_string_value(json_object_get(ab, "by")), procid_format(procid_self(), me),
           "  found by this process");
    ok(json_string_value(json_object_get(ab, "at")) != NULL, "  with when");
    is_str(dstr(rec, "rule"), "revenue", "  its fields kept: rule");
    is_str(json_string_value(json_object_get(json_object_get(d, "input"), "location")),
           "s3://client-inbound/hit-data/2026/11/x.tsv", "  input");
    ok(json_is_null(json_object_get(d, "ended_at")), "  ended_at stays null");
    json_decref(rec);
    is_str(state_of(rs, ids[REUSED], &rec), "ABANDONED", "a pid reused since: ABANDONED");
    json_decref(rec);
    is_str(state_of(rs, ids[LIVE], &rec), "RUNNING", "a live process: left RUNNING");
    json_decref(rec);
    is_str(state_of(rs, ids[FOREIGN], &rec), "RUNNING", "another host's: left RUNNING");
    json_decref(rec);
    char *m;
    ok(exists(m = mark_of(ids[LIVE])), "  marks kept: the live one");
    free(m);
    ok(exists(m = mark_of(ids[FOREIGN])), "  and the other host's");
    free(m);
    ok(!exists(m = mark_of(ids[DEAD])), "  the abandoned one's removed");
    free(m);
    ok(!exists(m = mark_of(ids[NO_RECORD])), "  a mark without a record removed");
    free(m);
    ok(!exists(m = mark_of(ids[ENDED])), "  a mark of an ended job removed");
    free(m);
    is_str(state_of(rs, ids[KILLED_AFTER_MARKER], &rec), "SUCCEEDED",
           "killed after its marker: SUCCEEDED, not ABANDONED");
    ok(json_equal(rec, killed_succeeded), "  the record is the event it ended with");
    json_decref(rec);
    ok(!exists(m = mark_of(ids[KILLED_AFTER_MARKER])), "  its mark removed");
    free(m);
    json_decref(killed_succeeded);
}

static void test_runstore_inflight(void)
{
    config *cfg = load_config(inflight_yaml);
    int disabled = 0;
    sl_error err = {0};
    runstore *rs = runstore_open(cfg, NULL, &disabled, &err);
    ok(rs != NULL, "store opens: %s", err.msg);
    is_int(runstore_reconcile(rs, 0, NULL, NULL, &err), 0, "nothing yet: nothing abandoned");
    start_each(rs);
    char *m = mark_of(ids[LIVE]);
    ok(exists(m) && exists("2026-11-25/20261125T100000Z-00000001.json"),
       "a start writes the mark and the record");
    free(m);
    seen s = {0};
    ok(runstore_list(rs, 0, remember, NULL, &s, &err) == 0 && s.n == 6,
       "marks are not listed as runs (%d records)", s.n);

    s.n = 0;
    is_int(runstore_reconcile(rs, 1, collect_abandoned, &s, &err), 2, "dry run: two to abandon");
    json_t *rec;
    is_str(state_of(rs, ids[DEAD], &rec), "RUNNING", "  and nothing changed");
    json_decref(rec);
    ok(exists(m = mark_of(ids[NO_RECORD])), "  not even a mark");
    free(m);

    s.n = 0;
    is_int(runstore_reconcile(rs, 0, collect_abandoned, &s, &err), 2, "two abandoned");
    ok(s.n == 2 && !strcmp(s.ids[0], ids[DEAD]) && !strcmp(s.ids[1], ids[REUSED]),
       "  each reported");
    check_reconciled(rs);
    is_int(runstore_reconcile(rs, 0, NULL, NULL, &err), 0, "again: nothing more");

    json_t *end = event_for(ids[LIVE], JOB_SUCCEEDED, "revenue", "s3://b/k", "e1");
    ok(runstore_finish(rs, end, NULL, &err) == 0, "the live job finishes");
    json_decref(end);
    is_str(state_of(rs, ids[LIVE], &rec), "SUCCEEDED", "  its record replaced");
    json_decref(rec);
    ok(!exists(m = mark_of(ids[LIVE])), "  its mark gone");
    free(m);
    runstore_close(rs);
    config_free(cfg);
}

static void test_runstore_uploads(void)
{
    config *cfg = load_config(inflight_yaml);
    int disabled = 0;
    sl_error err = {0};
    runstore *rs = runstore_open(cfg, NULL, &disabled, &err);
    json_t *m = NULL;
    is_int(runstore_upload_find(rs, "o", "k", "U1", &m, &err), 0, "no mark yet");
    ok(runstore_upload_mark(rs, "o", "k", "U1", "20261125T100000Z-00000001", &err) == 0,
       "an upload marked: %s", err.msg);
    is_int(runstore_upload_find(rs, "o", "k", "U1", &m, &err), 1, "found");
    is_str(json_string_value(json_object_get(m, "run_id")), "20261125T100000Z-00000001",
           "  it names the run");
    char me[PROCID_TAG_MAX];
    is_str(json_string_value(json_object_get(m, "process")), procid_format(procid_self(), me),
           "  and the process");
    json_decref(m);
    is_int(runstore_upload_find(rs, "o", "k", "U2", &m, &err), 0, "another upload id: none");
    is_int(runstore_upload_find(rs, "o", "k2", "U1", &m, &err), 0, "another key: none");
    seen s = {0};
    runstore_list(rs, 0, remember, NULL, &s, &err);
    is_int(s.n, 6, "upload marks are not listed as runs");
    ok(runstore_upload_unmark(rs, "o", "k", "U1", &err) == 0, "unmarked");
    is_int(runstore_upload_find(rs, "o", "k", "U1", &m, &err), 0, "  gone");
    ok(runstore_upload_unmark(rs, "o", "k", "U1", &err) == 0, "unmarking again is no error");
    runstore_close(rs);
    config_free(cfg);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sluice-notify-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 99;
    }
    test_event();
    test_quarantined_event();
    test_sns_subject();
    test_sns_message();
    test_sns_request();
    test_eventbridge_request();
    test_fit_stats();
    test_small_helpers();
    test_runstore_dir();
    test_runstore_location();
    test_runstore_inflight();
    test_runstore_uploads();
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    free(cmd);
    return done_testing();
}
