/* serve.c — events over HTTP (serve.h). */
#include "autoconfig.h"
#include "intake/serve.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sns_verify.h"
#include "config/location.h"
#include "core/router.h"
#include "core/runid.h"
#include "intake/metrics_server.h"
#include "intake/spool.h"
#include "net/http.h"
#include "net/http_server.h"
#include "notify/notify.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/strbuf.h"

#define SNS_TYPE_HEADER "x-amz-sns-message-type"

typedef struct server {
    const serve_options *o;
    intake *in;
    spool *sp;
    sns_verifier *sns;
} server;

/* --- replies -------------------------------------------------------------- */

static void reply_json(http_server_reply *rep, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    rep->status = status;
    rep->content_type = "application/json";
    sb_reset(&rep->body);
    sb_adds(&rep->body, text);
    sb_addc(&rep->body, '\n');
    free(text);
    json_decref(doc);
}

/* An error answer; the reason goes to the sender and to the log. */
static void reply_error(http_server_reply *rep, const http_server_request *req, int status,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void reply_error(http_server_reply *rep, const http_server_request *req, int status,
                        const char *fmt, ...)
{
    strbuf msg = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&msg, fmt, ap);
    va_end(ap);
    log_msg(NULL, status >= 500 ? SL_LOG_ERROR : SL_LOG_WARN, "%s %s from %s: %d %s", req->method,
            req->path, req->peer, status, sb_str(&msg));
    reply_json(rep, status, json_pack("{s:s}", "error", sb_str(&msg)));
    sb_free(&msg);
}

/* --- jobs -------------------------------------------------------------------- */

/* Runs every job of an event document that was accepted earlier. */
static void run_event(server *s, const char *text, size_t len, const char *origin,
                      intake_outcome *out, int collect)
{
    intake_run how = {.workers = 1, .collect_outputs = collect, .origin = origin};
    sl_error err = {0};
    if (intake_run_event(s->in, text, len, &how, out, &err) != 0)
        /* Checked before it was accepted: only a hand-edited spool gets here. */
        log_msg(NULL, SL_LOG_ERROR, "%s: not an event any more: %s (dropped)", origin, err.msg);
}

static void run_spooled(void *ud, const char *id, const char *data, size_t len)
{
    server *s = ud;
    intake_outcome out;
    char origin[SPOOL_ID_MAX + 8];
    snprintf(origin, sizeof origin, "spool %s", id);
    run_event(s, data, len, origin, &out, 0);
    log_msg(NULL, SL_LOG_INFO, "spool %s done: %zu succeeded, %zu failed, %zu skipped", id,
            out.succeeded, out.failed, out.skipped);
    intake_outcome_free(&out);
}

/* --- quarantine ------------------------------------------------------------- */

/* One QUARANTINED event (notified and recorded) for the object `ev` of a
 * quarantined spool entry; ev NULL: the entry is no event any more (edited
 * by hand), reported as its file. */
static void report_quarantined(server *s, const spool_quarantined *q, const event_record *ev,
                               const char *const *objects, size_t n_objects)
{
    const config *cfg = s->in->cfg;
    route_match m = {0};
    char why[256] = "";
    if (ev && route_object(cfg, ev->bucket, ev->key, ev->event_name, &m, NULL, why,
                           sizeof why) != 0)
        log_msg(NULL, SL_LOG_WARN, "spool %s: s3://%s/%s: %s", q->id, ev->bucket, ev->key, why);
    const plugin_instance *pi = m.rule ? plugin_bindings_get(s->in->plugins, m.rule) : NULL;
    char run_id[RUNID_MAX];
    long long now = clock_now_ms();
    runid_make((time_t)(now / 1000), run_id);
    char *input = ev ? location_format(&(location){.kind = LOC_OBJECT, .bucket = ev->bucket,
                                                   .key = ev->key})
                     : xstrdup(q->path);
    notify_quarantine nq = {.run_id = run_id,
                            .rule = m.rule ? m.rule->name : NULL,
                            .plugin = m.rule ? m.rule->plugin_name : NULL,
                            .plugin_version = pi ? pi->plugin->desc->version : NULL,
                            .input = input,
                            .etag = ev ? ev->etag : NULL,
                            .version_id = ev ? ev->version_id : NULL,
                            .event_time = ev ? ev->event_time_iso : NULL,
                            .spool_id = q->id,
                            .path = q->path,
                            .attempts = q->attempts,
                            .max_attempts = q->max_attempts,
                            .processes = q->processes,
                            .n_processes = q->n_processes,
                            .objects = objects,
                            .n_objects = n_objects,
                            .quarantined_ms = now};
    json_t *event = notify_quarantined_event(&nq);
    int failures = runner_alarm(s->in->runner, nq.rule, event, "spooled event QUARANTINED");
    log_msg(NULL, failures ? SL_LOG_ERROR : SL_LOG_INFO,
            "spool %s: %s QUARANTINED as run %s%s", q->id, input, run_id,
            failures ? " (not every notification or record went out: see above)" : "");
    json_decref(event);
    free(input);
    route_match_free(&m);
}

/* spool_quarantine_fn: each object of the entry that would have run a job
 * gets its QUARANTINED event, so that `sluice runs` lists it with its rule
 * and `runs retry` can run it again. */
static void on_quarantine(void *ud, const spool_quarantined *q)
{
    server *s = ud;
    event_batch batch = {0};
    sl_error err = {0};
    size_t n = 0;
    char **objects = NULL;
    metrics_spool_quarantined(s->in->metrics);
    if (q->data && event_parse(q->data, q->len, &batch, &err) == 0) {
        objects = xcalloc(batch.count ? batch.count : 1, sizeof *objects);
        for (size_t i = 0; i < batch.count; i++)
            if (batch.records[i].kind != EVENT_SKIP)
                objects[n++] = location_format(&(location){.kind = LOC_OBJECT,
                                                           .bucket = batch.records[i].bucket,
                                                           .key = batch.records[i].key});
    }
    if (n == 0) {
        log_msg(NULL, SL_LOG_WARN, "spool %s: the quarantined entry names no object%s%s",
                q->id, err.msg[0] ? ": " : "", err.msg);
        report_quarantined(s, q, NULL, NULL, 0);
    }
    for (size_t i = 0; i < batch.count && n > 0; i++)
        if (batch.records[i].kind != EVENT_SKIP)
            report_quarantined(s, q, &batch.records[i], (const char *const *)objects, n);
    for (size_t i = 0; i < n; i++)
        free(objects[i]);
    free(objects);
    event_batch_free(&batch);
}

static int authenticate(const server *s, const http_server_request *req, http_server_reply *rep)
{
    char why[256];
    int challenge;
    int status = serve_auth_check(&s->o->auth, req, why, sizeof why, &challenge);
    if (!status)
        return 0;
    if (challenge)
        http_server_reply_header(rep, "WWW-Authenticate", "Bearer realm=\"sluice\"");
    reply_error(rep, req, status, "%s", why);
    return -1;
}

/* --- intake ------------------------------------------------------------------- */

static void accept_sync(server *s, const char *text, size_t len, size_t jobs,
                        http_server_reply *rep)
{
    intake_outcome t;
    run_event(s, text, len, "request", &t, 1);
    json_t *doc = json_pack("{s:I, s:I, s:I, s:I, s:O}", "accepted", (json_int_t)jobs,
                            "succeeded", (json_int_t)t.succeeded, "failed", (json_int_t)t.failed,
                            "skipped", (json_int_t)t.skipped, "outputs", t.outputs);
    reply_json(rep, t.failed ? 500 : 200, doc);
    intake_outcome_free(&t);
}

/* Checks an event document, then spools it (202) or runs it (--sync). */
static void accept_event(server *s, const http_server_request *req, const char *text,
                         size_t len, http_server_reply *rep)
{
    event_batch batch = {0};
    sl_error err = {0};
    size_t jobs, skipped;
    if (event_parse(text, len, &batch, &err) != 0) {
        reply_error(rep, req, 400, "%s", err.msg);
        event_batch_free(&batch);
        return;
    }
    intake_count_records(&batch, &jobs, &skipped);
    event_batch_free(&batch);
    metrics_events_accepted(s->in->metrics, 1);
    if (jobs == 0) {
        reply_json(rep, 200, json_pack("{s:i, s:I}", "accepted", 0, "skipped",
                                       (json_int_t)skipped));
        return;
    }
    if (s->o->sync) {
        accept_sync(s, text, len, jobs, rep);
        return;
    }
    char id[SPOOL_ID_MAX];
    if (spool_put(s->sp, text, len, id, &err) != 0) {
        reply_error(rep, req, 503, "cannot spool the event: %s", err.msg);
        return;
    }
    log_msg(NULL, SL_LOG_INFO, "accepted %zu job(s) from %s as spool %s", jobs, req->peer, id);
    reply_json(rep, 202, json_pack("{s:I, s:I, s:s}", "accepted", (json_int_t)jobs, "skipped",
                                   (json_int_t)skipped, "spool_id", id));
}

/* --- SNS ----------------------------------------------------------------------- */

static int topic_allowed(const server *s, const char *topic)
{
    if (s->o->n_topics == 0)
        return 1;
    for (size_t i = 0; i < s->o->n_topics; i++)
        if (topic && strcmp(s->o->topics[i], topic) == 0)
            return 1;
    return 0;
}

/* Only SNS's own confirmation URL is fetched: the message verified, but a
 * GET elsewhere would let whoever can get a message signed (any topic
 * owner, without --sns-topic-arn) make the server request any URL. */
static void confirm_subscription(server *s, const http_server_request *req, json_t *msg,
                                 http_server_reply *rep)
{
    const char *url = json_string_value(json_object_get(msg, "SubscribeURL"));
    const char *topic = json_string_value(json_object_get(msg, "TopicArn"));
    if (!sns_subscribe_url_allowed(url)) {
        reply_error(rep, req, 403,
                    "SubscribeURL: \"%s\" is not https://sns.<region>.amazonaws.com/"
                    "?Action=ConfirmSubscription&...: not confirmed",
                    url ? url : "(missing)");
        return;
    }
    char *target = sns_fetch_url(s->sns, url);
    http_client *c = http_client_new(NULL);
    http_response resp = {0};
    http_request hr = {.method = "GET", .url = target, .timeout_ms = 15000};
    if (!c || http_perform(c, &hr, &resp) != 0 || resp.status != 200) {
        reply_error(rep, req, 502, "cannot confirm the subscription to %s: %s", topic,
                    !c ? "no HTTP client" : resp.status ? "the confirmation was refused"
                                                        : resp.error);
    } else {
        log_msg(NULL, SL_LOG_INFO, "SNS subscription to %s confirmed", topic);
        reply_json(rep, 200, json_pack("{s:b, s:s}", "confirmed", 1, "topic", topic));
    }
    http_response_free(&resp);
    http_client_free(c);
    free(target);
}

static void handle_sns(server *s, const http_server_request *req, json_t *msg, const char *text,
                       size_t len, http_server_reply *rep)
{
    const char *header = http_server_header(req, SNS_TYPE_HEADER);
    const char *type = json_string_value(json_object_get(msg, "Type"));
    char why[512];

    if (header && !json_object_get(msg, "Signature")) {
        reply_error(rep, req, 403, "not a signed SNS message: raw message delivery is not "
                                   "supported (turn RawMessageDelivery off)");
        return;
    }
    if (!type) {
        reply_error(rep, req, 400, "Type: missing or not a string");
        return;
    }
    if (header && strcmp(header, type) != 0) {
        reply_error(rep, req, 400, SNS_TYPE_HEADER ": \"%s\" but the message Type is \"%s\"",
                    header, type);
        return;
    }
    switch (sns_verify(s->sns, msg, why, sizeof why)) {
    case SNS_VALID: break;
    case SNS_MALFORMED: reply_error(rep, req, 400, "%s", why); return;
    case SNS_REJECTED: reply_error(rep, req, 403, "SNS message refused: %s", why); return;
    case SNS_UNAVAILABLE: reply_error(rep, req, 503, "SNS message not verified now: %s", why);
        return;
    }
    const char *topic = json_string_value(json_object_get(msg, "TopicArn"));
    if (!topic_allowed(s, topic)) {
        reply_error(rep, req, 403, "TopicArn: %s is not an accepted topic (--sns-topic-arn)",
                    topic);
        return;
    }
    if (strcmp(type, "SubscriptionConfirmation") == 0) {
        confirm_subscription(s, req, msg, rep);
    } else if (strcmp(type, "UnsubscribeConfirmation") == 0) {
        log_msg(NULL, SL_LOG_WARN, "SNS: the subscription to %s was removed", topic);
        reply_json(rep, 200, json_pack("{s:s}", "acknowledged", type));
    } else {
        accept_event(s, req, text, len, rep);
    }
}

/* An SNS delivery: the SNS header, or a body shaped like an envelope (such
 * a body is never taken without its signature, whoever sends it). */
static int is_sns(const http_server_request *req, json_t *doc)
{
    if (http_server_header(req, SNS_TYPE_HEADER))
        return 1;
    return json_is_object(doc) && json_object_get(doc, "Type") &&
           (json_object_get(doc, "TopicArn") || json_object_get(doc, "Message")) &&
           !json_object_get(doc, "Records") && !json_object_get(doc, "detail-type");
}

static void handle_events(void *ud, const http_server_request *req, http_server_reply *rep)
{
    server *s = ud;
    int sns_header = http_server_header(req, SNS_TYPE_HEADER) != NULL;
    /* SNS cannot send our credentials: its messages carry a signature. */
    if (!sns_header && authenticate(s, req, rep) != 0)
        return;

    json_error_t jerr;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        reply_error(rep, req, 400, "body: not valid JSON (line %d column %d: %s)", jerr.line,
                    jerr.column, jerr.text);
        return;
    }
    if (is_sns(req, doc)) {
        handle_sns(s, req, doc, req->body, req->body_len, rep);
    } else if (event_normalise_compatible(doc)) {
        char *text = json_dumps(doc, JSON_COMPACT);
        accept_event(s, req, text, strlen(text), rep);
        free(text);
    } else {
        accept_event(s, req, req->body, req->body_len, rep);
    }
    json_decref(doc);
}

static void handle_healthz(void *ud, const http_server_request *req, http_server_reply *rep)
{
    (void)ud;
    (void)req;
    metrics_server_reply_healthz(rep);
}

static void handle_metrics(void *ud, const http_server_request *req, http_server_reply *rep)
{
    server *s = ud;
    (void)req;
    metrics_server_reply_metrics(s->in->metrics, (long)spool_pending(s->sp), rep);
}

static void observe(void *ud, const http_server_request *req, int status)
{
    server *s = ud;
    metrics_http_request(s->in->metrics, status);
    if (log_enabled(SL_LOG_DEBUG))
        log_msg(NULL, SL_LOG_DEBUG, "%s %s from %s: %d", req->method, req->path, req->peer, status);
}

static const http_route routes[] = {
    {"POST", "/", handle_events},
    {"POST", "/events", handle_events},
    {"GET", "/healthz", handle_healthz},
    {"GET", "/metrics", handle_metrics},
};

/* --- setup -------------------------------------------------------------------- */

char *serve_default_spool_dir(const config *cfg)
{
    const char *root = cfg->storage.root;
    if (root && strcmp(cfg->storage.type, "local") == 0) {
        size_t len = strlen(root);
        while (len > 1 && root[len - 1] == '/')
            len--;
        while (len > 0 && root[len - 1] != '/')
            len--;
        while (len > 1 && root[len - 1] == '/')
            len--;
        return len == 0 ? xstrdup("spool") : xasprintf("%.*s/spool", (int)len, root);
    }
    const char *state = getenv("STATE_DIRECTORY");
    if (state && *state) {
        size_t n = strcspn(state, ":");
        return xasprintf("%.*s/spool", (int)n, state);
    }
    return NULL;
}

static int open_parts(server *s)
{
    sl_error err = {0};
    char *dir = s->o->spool_dir ? xstrdup(s->o->spool_dir) : serve_default_spool_dir(s->in->cfg);
    if (!dir) {
        fprintf(stderr, "sluice serve: --spool DIR is needed with storage type %s\n",
                s->in->cfg->storage.type);
        return -1;
    }
    s->sp = spool_open(dir, &err);
    free(dir);
    if (!s->sp) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        return -1;
    }
    sns_verify_options so = {.test_ca_file = s->o->sns_test_ca,
                             .test_url_map = s->o->url_map,
                             .n_test_url_map = s->o->n_url_map};
    if (!(s->sns = sns_verifier_new(&so, &err))) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void close_parts(server *s)
{
    spool_close(s->sp);
    sns_verifier_free(s->sns);
}

static int serve(server *s)
{
    sl_error err = {0};
    http_server_options ho = {.listen = s->o->listen,
                              .threads = s->o->workers,
                              .max_body = s->o->max_body,
                              .max_connections = s->o->max_connections,
                              .max_per_client = s->o->max_per_client,
                              .request_timeout_s = s->o->request_timeout_s,
                              .routes = routes,
                              .n_routes = sizeof routes / sizeof *routes,
                              .ud = s,
                              .observer = observe};
    spool_set_max_attempts(s->sp, s->o->max_attempts);
    spool_on_quarantine(s->sp, on_quarantine, s);
    if (!s->o->paused && spool_start(s->sp, s->o->workers, run_spooled, s) == 0) {
        fprintf(stderr, "sluice serve: cannot start worker threads\n");
        return SL_EXIT_USAGE;
    }
    http_server *srv = http_server_start(&ho, &err);
    if (!srv) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        spool_stop(s->sp);
        return SL_EXIT_USAGE;
    }
    unsigned max_conn, per_client;
    double deadline;
    http_server_limits(srv, &max_conn, &per_client, &deadline);
    log_msg(NULL, SL_LOG_INFO, "listening on %s (port %u), %d worker(s), spool %s%s%s",
            s->o->listen, http_server_port(srv), s->o->workers, spool_dir(s->sp),
            s->o->sync ? ", synchronous" : "", s->o->paused ? ", PAUSED: jobs are not run" : "");
    log_msg(NULL, SL_LOG_INFO,
            "limits: %u connections, %u per client address, a request must arrive within %g s",
            max_conn, per_client, deadline);

    signals_wait(-1);
    log_msg(NULL, SL_LOG_INFO, "%s received: stopping (running jobs finish first)",
            signals_stop_name());
    http_server_drain(srv);
    spool_stop(s->sp);
    http_server_stop(srv);
    size_t left = spool_pending(s->sp);
    log_msg(NULL, SL_LOG_INFO, "stopped; %zu event(s) left in the spool for the next start", left);
    return SL_EXIT_OK;
}

int serve_run(intake *in, const serve_options *o)
{
    server s = {.o = o, .in = in};
    int rc = open_parts(&s) == 0 ? serve(&s) : SL_EXIT_USAGE;
    close_parts(&s);
    return rc;
}
