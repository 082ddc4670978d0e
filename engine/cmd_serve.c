/* cmd_serve.c — `sluice serve`: accept events over HTTP and run their jobs.
 *
 * POST / or /events takes what S3-compatible stores (MinIO, Ceph RGW),
 * SNS HTTP(S) subscriptions and EventBridge API destinations send. An
 * accepted event is written durably to the spool before the 202, then run
 * by the spool's workers; with --sync it runs inside the request and the
 * answer says how it went. See docs/serve.md. */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "event.h"
#include "http.h"
#include "http_server.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "runner.h"
#include "sns_verify.h"
#include "spool.h"
#include "storage.h"
#include "strbuf.h"
#include "urlcodec.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_MAX_BODY (1024 * 1024)
#define SNS_TYPE_HEADER "x-amz-sns-message-type"
#define SIGNATURE_HEADER "X-Sluice-Signature"

typedef struct serve_opts {
    const char *listen;
    int workers;
    const char *spool_dir; /* NULL: the default */
    size_t max_body;
    int sync;
    int paused;
    char *auth_token;  /* from --auth-token-env */
    char *hmac_secret; /* from --hmac-secret-env */
    char **topics;     /* --sns-topic-arn allow list */
    size_t n_topics;
    const char *sns_test_ca;
    char **url_map;
    size_t n_url_map;
} serve_opts;

typedef struct server {
    const serve_opts *o;
    config *cfg;
    storage *st;
    runner *runner;
    spool *sp;
    metrics *m;
    sns_verifier *sns;
} server;

typedef struct run_totals {
    unsigned succeeded, failed, skipped;
    json_t *outputs; /* array, or NULL when not wanted */
} run_totals;

/* --- usage and options ------------------------------------------------------ */

static void serve_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice serve [OPTIONS]\n"
            "\n"
            "Accepts events over HTTP and runs a job for every object they name:\n"
            "  POST / or /events  S3 event notifications (also MinIO and Ceph RGW webhooks),\n"
            "                     SNS HTTP(S) deliveries (signatures verified; subscriptions\n"
            "                     confirmed), EventBridge events (API destinations)\n"
            "  GET /healthz       200 \"ok\"\n"
            "  GET /metrics       Prometheus text format\n"
            "\n"
            "A 202 answer means the event is written to the spool on disk (fsync'ed) and\n"
            "will run even after a crash or restart; with --sync a 200 means its jobs ran.\n"
            "\n"
            "Options:\n"
            "      --listen ADDR        HOST:PORT or [IPV6]:PORT (default " DEFAULT_LISTEN ")\n"
            "  -w, --workers N          job workers and HTTP threads (default: the cores)\n"
            "      --spool DIR          spool directory (default: spool/ beside the local\n"
            "                           storage root, else $STATE_DIRECTORY/spool)\n"
            "      --max-body BYTES     largest request body, k/M suffixes (default 1M)\n"
            "      --sync               run the jobs before answering (200, or 500 on failure)\n"
            "      --paused             accept and spool events but run none (maintenance)\n"
            "      --auth-token-env VAR require \"Authorization: Bearer $VAR\" (non-SNS senders)\n"
            "      --hmac-secret-env VAR require \"" SIGNATURE_HEADER ": sha256=<hex HMAC of the\n"
            "                           body keyed by $VAR>\" (non-SNS senders)\n"
            "      --sns-topic-arn ARN  accept SNS messages from this topic only (repeatable)\n"
            "  -h, --help               this help\n"
            "\n"
            "Test-only options (they weaken SNS verification; never use them in production):\n"
            "      --sns-test-ca FILE   trust this CA for SNS signing certificates instead of\n"
            "                           the system store\n"
            "      --sns-test-cert-url-map PREFIX=URL\n"
            "                           fetch SNS certificate URLs starting with PREFIX from\n"
            "                           URL instead (after the URL rule was checked)\n"
            "\n"
            "Stops on SIGTERM or SIGINT: no new requests, running jobs finish, events not yet\n"
            "started stay in the spool for the next start. Exit status 0 after a clean stop,\n"
            "2 on a usage or configuration error.\n");
}

static int parse_bytes(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (end == s || errno)
        return -1;
    if (*end == 'k' || *end == 'K')
        n *= 1024, end++;
    else if (*end == 'm' || *end == 'M')
        n *= 1024 * 1024, end++;
    if (*end != '\0' || n == 0 || n > (1ull << 30))
        return -1;
    *out = (size_t)n;
    return 0;
}

static int secret_from_env(const char *opt, const char *var, char **out)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return cli_usage_error("serve", "%s %s: the environment variable %s is not set or empty",
                               opt, var, var);
    free(*out);
    *out = xstrdup(v);
    return 0;
}

static void opts_free(serve_opts *o)
{
    free(o->auth_token);
    free(o->hmac_secret);
    free(o->topics);
    free(o->url_map);
}

static int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

enum {
    OPT_LISTEN = 256, OPT_SPOOL, OPT_MAX_BODY, OPT_SYNC, OPT_PAUSED, OPT_AUTH_ENV, OPT_HMAC_ENV,
    OPT_TOPIC, OPT_TEST_CA, OPT_TEST_MAP
};

/* Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, serve_opts *o)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"workers", required_argument, NULL, 'w'},
        {"spool", required_argument, NULL, OPT_SPOOL},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"sync", no_argument, NULL, OPT_SYNC},
        {"paused", no_argument, NULL, OPT_PAUSED},
        {"auth-token-env", required_argument, NULL, OPT_AUTH_ENV},
        {"hmac-secret-env", required_argument, NULL, OPT_HMAC_ENV},
        {"sns-topic-arn", required_argument, NULL, OPT_TOPIC},
        {"sns-test-ca", required_argument, NULL, OPT_TEST_CA},
        {"sns-test-cert-url-map", required_argument, NULL, OPT_TEST_MAP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: o->listen = optarg; break;
        case 'w':
            o->workers = atoi(optarg);
            if (o->workers < 1 || o->workers > 256)
                return cli_usage_error("serve", "--workers must be between 1 and 256");
            break;
        case OPT_SPOOL: o->spool_dir = optarg; break;
        case OPT_MAX_BODY:
            if (parse_bytes(optarg, &o->max_body) != 0)
                return cli_usage_error("serve", "--max-body: expected a size like 65536, 64k "
                                                "or 1M (at most 1G), got \"%s\"", optarg);
            break;
        case OPT_SYNC: o->sync = 1; break;
        case OPT_PAUSED: o->paused = 1; break;
        case OPT_AUTH_ENV:
            if (secret_from_env("--auth-token-env", optarg, &o->auth_token) != 0)
                return EXIT_USAGE;
            break;
        case OPT_HMAC_ENV:
            if (secret_from_env("--hmac-secret-env", optarg, &o->hmac_secret) != 0)
                return EXIT_USAGE;
            break;
        case OPT_TOPIC:
            o->topics = xrealloc(o->topics, (o->n_topics + 1) * sizeof *o->topics);
            o->topics[o->n_topics++] = optarg;
            break;
        case OPT_TEST_CA: o->sns_test_ca = optarg; break;
        case OPT_TEST_MAP:
            o->url_map = xrealloc(o->url_map, (o->n_url_map + 1) * sizeof *o->url_map);
            o->url_map[o->n_url_map++] = optarg;
            break;
        case 'h': serve_usage(stdout); return EXIT_OK;
        default: return cli_usage_error("serve", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);
    if (o->sync && o->paused)
        return cli_usage_error("serve", "--sync and --paused exclude each other");
    return -1;
}

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
    log_msg(NULL, status >= 500 ? LOG_ERROR : LOG_WARN, "%s %s from %s: %d %s", req->method,
            req->path, req->peer, status, sb_str(&msg));
    reply_json(rep, status, json_pack("{s:s}", "error", sb_str(&msg)));
    sb_free(&msg);
}

/* --- jobs -------------------------------------------------------------------- */

static const char *outcome_name(job_state s)
{
    switch (s) {
    case JOB_SUCCEEDED: return "succeeded";
    case JOB_FAILED: return "failed";
    case JOB_SKIPPED: return "skipped";
    }
    return "failed";
}

/* One job through the shared runner (duplicate check, run record,
 * notifications), counted in the metrics. */
static void run_job(server *s, const job_spec *spec, run_totals *t)
{
    job_result res;
    runner_totals reported = {0};
    metrics_job_started(s->m);
    runner_job(s->runner, spec, &res, &reported);
    double seconds = res.ended_ms > res.started_ms ? (res.ended_ms - res.started_ms) / 1000.0 : 0;
    metrics_job_finished(s->m, res.rule, outcome_name(res.state), res.bytes_in, res.bytes_out,
                         seconds);
    metrics_report_failures(s->m, (unsigned)reported.notify_failures,
                            (unsigned)reported.record_failures);
    switch (res.state) {
    case JOB_SUCCEEDED:
        t->succeeded++;
        if (t->outputs && res.output)
            json_array_append_new(t->outputs, json_string(res.output));
        break;
    case JOB_FAILED: t->failed++; break;
    case JOB_SKIPPED: t->skipped++; break;
    }
    job_result_free(&res);
}

/* Runs every job of an event document that was accepted earlier. */
static void run_event(server *s, const char *text, size_t len, const char *origin, run_totals *t)
{
    event_batch batch = {0};
    sl_error err = {0};
    if (event_parse(text, len, &batch, &err) != 0) {
        /* Checked before it was accepted: only a hand-edited spool gets here. */
        log_msg(NULL, LOG_ERROR, "%s: not an event any more: %s (dropped)", origin, err.msg);
        event_batch_free(&batch);
        return;
    }
    for (size_t i = 0; i < batch.count; i++) {
        const event_record *ev = &batch.records[i];
        if (ev->kind == EVENT_SKIP) {
            t->skipped++;
            continue;
        }
        job_spec spec = {
            .cfg = s->cfg,
            .storage = s->st,
            .input = {.kind = LOC_OBJECT, .bucket = ev->bucket, .key = ev->key},
            .event = ev,
        };
        run_job(s, &spec, t);
    }
    event_batch_free(&batch);
}

static void run_spooled(void *ud, const char *id, const char *data, size_t len)
{
    server *s = ud;
    run_totals t = {0};
    char origin[SPOOL_ID_MAX + 8];
    snprintf(origin, sizeof origin, "spool %s", id);
    run_event(s, data, len, origin, &t);
    log_msg(NULL, LOG_INFO, "spool %s done: %u succeeded, %u failed, %u skipped", id,
            t.succeeded, t.failed, t.skipped);
}

/* --- authentication of non-SNS senders ----------------------------------------- */

/* Equal strings of any length, in time independent of where they differ. */
static int secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char da[32], db[32];
    unsigned int n;
    EVP_Digest(a, alen, da, &n, EVP_sha256(), NULL);
    EVP_Digest(b, blen, db, &n, EVP_sha256(), NULL);
    return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

static int check_bearer(const server *s, const http_server_request *req, http_server_reply *rep)
{
    const char *h = http_server_header(req, "Authorization");
    if (!h) {
        http_server_reply_header(rep, "WWW-Authenticate", "Bearer realm=\"sluice\"");
        reply_error(rep, req, 401, "Authorization: missing (a bearer token is required)");
        return -1;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0 ||
        !secret_equal(h + 7, strlen(h + 7), s->o->auth_token, strlen(s->o->auth_token))) {
        reply_error(rep, req, 403, "Authorization: wrong bearer token");
        return -1;
    }
    return 0;
}

static int check_hmac(const server *s, const http_server_request *req, http_server_reply *rep)
{
    const char *h = http_server_header(req, SIGNATURE_HEADER);
    unsigned char want[32], got[32];
    unsigned int n = 0;
    if (!h) {
        reply_error(rep, req, 401, SIGNATURE_HEADER ": missing (an HMAC signature is required)");
        return -1;
    }
    int ok = strncmp(h, "sha256=", 7) == 0 && strlen(h + 7) == 64;
    for (size_t i = 0; ok && i < 32; i++) {
        int hi = hex_digit_value(h[7 + 2 * i]), lo = hex_digit_value(h[8 + 2 * i]);
        ok = hi >= 0 && lo >= 0;
        if (ok)
            got[i] = (unsigned char)(hi << 4 | lo);
    }
    if (ok)
        ok = HMAC(EVP_sha256(), s->o->hmac_secret, (int)strlen(s->o->hmac_secret),
                  (const unsigned char *)req->body, req->body_len, want, &n) != NULL &&
             n == sizeof want && CRYPTO_memcmp(want, got, sizeof want) == 0;
    if (!ok) {
        reply_error(rep, req, 403, SIGNATURE_HEADER ": does not match the body");
        return -1;
    }
    return 0;
}

static int authenticate(const server *s, const http_server_request *req, http_server_reply *rep)
{
    if (s->o->auth_token && check_bearer(s, req, rep) != 0)
        return -1;
    if (s->o->hmac_secret && check_hmac(s, req, rep) != 0)
        return -1;
    return 0;
}

/* --- S3-compatible stores ------------------------------------------------------- */

/* MinIO ("minio:s3") and Ceph RGW ("ceph:s3") send S3-shaped Records under
 * their own eventSource; Ceph writes the size as a string and an empty
 * versionId. Rewrites those records into the AWS shape. Returns 1 when
 * something changed. */
static int normalise_s3_compatible(json_t *doc)
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

/* --- intake ------------------------------------------------------------------- */

static void count_records(const event_batch *b, unsigned *jobs, unsigned *skipped)
{
    *jobs = *skipped = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (b->records[i].kind == EVENT_SKIP) {
            ++*skipped;
            log_msg(NULL, LOG_INFO, "event acknowledged and skipped: %s%s%s",
                    b->records[i].skip_reason, b->records[i].bucket ? " bucket=" : "",
                    b->records[i].bucket ? b->records[i].bucket : "");
        } else {
            ++*jobs;
        }
    }
}

static void accept_sync(server *s, const char *text, size_t len, unsigned jobs,
                        http_server_reply *rep)
{
    run_totals t = {.outputs = json_array()};
    run_event(s, text, len, "request", &t);
    json_t *doc = json_pack("{s:I, s:I, s:I, s:I, s:o}", "accepted", (json_int_t)jobs,
                            "succeeded", (json_int_t)t.succeeded, "failed", (json_int_t)t.failed,
                            "skipped", (json_int_t)t.skipped, "outputs", t.outputs);
    reply_json(rep, t.failed ? 500 : 200, doc);
}

/* Checks an event document, then spools it (202) or runs it (--sync). */
static void accept_event(server *s, const http_server_request *req, const char *text,
                         size_t len, http_server_reply *rep)
{
    event_batch batch = {0};
    sl_error err = {0};
    unsigned jobs, skipped;
    if (event_parse(text, len, &batch, &err) != 0) {
        reply_error(rep, req, 400, "%s", err.msg);
        event_batch_free(&batch);
        return;
    }
    count_records(&batch, &jobs, &skipped);
    event_batch_free(&batch);
    metrics_events_accepted(s->m, 1);
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
    log_msg(NULL, LOG_INFO, "accepted %u job(s) from %s as spool %s", jobs, req->peer, id);
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

static void confirm_subscription(const http_server_request *req, json_t *msg,
                                 http_server_reply *rep)
{
    const char *url = json_string_value(json_object_get(msg, "SubscribeURL"));
    const char *topic = json_string_value(json_object_get(msg, "TopicArn"));
    http_client *c = http_client_new(NULL);
    http_response resp = {0};
    http_request hr = {.method = "GET", .url = url, .timeout_ms = 15000};
    if (!c || http_perform(c, &hr, &resp) != 0 || resp.status != 200) {
        reply_error(rep, req, 502, "cannot confirm the subscription to %s: %s", topic,
                    !c ? "no HTTP client" : resp.status ? "the confirmation was refused"
                                                        : resp.error);
    } else {
        log_msg(NULL, LOG_INFO, "SNS subscription to %s confirmed", topic);
        reply_json(rep, 200, json_pack("{s:b, s:s}", "confirmed", 1, "topic", topic));
    }
    http_response_free(&resp);
    http_client_free(c);
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
        confirm_subscription(req, msg, rep);
    } else if (strcmp(type, "UnsubscribeConfirmation") == 0) {
        log_msg(NULL, LOG_WARN, "SNS: the subscription to %s was removed", topic);
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
    } else if (normalise_s3_compatible(doc)) {
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
    rep->content_type = "text/plain; charset=utf-8";
    sb_adds(&rep->body, "ok\n");
}

static void handle_metrics(void *ud, const http_server_request *req, http_server_reply *rep)
{
    server *s = ud;
    (void)req;
    rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
    metrics_render(s->m, (long)spool_pending(s->sp), &rep->body);
}

static void observe(void *ud, const http_server_request *req, int status)
{
    server *s = ud;
    metrics_http_request(s->m, status);
    if (log_enabled(LOG_DEBUG))
        log_msg(NULL, LOG_DEBUG, "%s %s from %s: %d", req->method, req->path, req->peer, status);
}

static const http_route routes[] = {
    {"POST", "/", handle_events},
    {"POST", "/events", handle_events},
    {"GET", "/healthz", handle_healthz},
    {"GET", "/metrics", handle_metrics},
};

/* --- setup -------------------------------------------------------------------- */

/* spool/ beside the local storage root; else under systemd's StateDirectory. */
static char *default_spool_dir(const config *cfg)
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

static int open_parts(server *s, const cli_globals *g, plugin_host **host)
{
    sl_error err = {0};
    if (!(s->cfg = cli_load_config(g, host)))
        return -1;
    if (!(s->st = storage_open(&s->cfg->storage, &err))) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        return -1;
    }
    s->runner = runner_new(s->cfg, s->st);
    char *dir = s->o->spool_dir ? xstrdup(s->o->spool_dir) : default_spool_dir(s->cfg);
    if (!dir) {
        fprintf(stderr, "sluice serve: --spool DIR is needed with storage type %s\n",
                s->cfg->storage.type);
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
    s->m = metrics_new();
    return 0;
}

static void close_parts(server *s, plugin_host *host)
{
    spool_close(s->sp);
    sns_verifier_free(s->sns);
    metrics_free(s->m);
    runner_free(s->runner);
    if (s->st)
        storage_destroy(s->st);
    config_free(s->cfg);
    plugin_host_free(host);
}

/* Blocks until SIGTERM or SIGINT (blocked in every thread beforehand). */
static int wait_for_stop(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0)
        ;
    return sig;
}

static int serve(server *s, const sigset_t *stop_signals)
{
    sl_error err = {0};
    http_server_options ho = {.listen = s->o->listen,
                              .threads = s->o->workers,
                              .max_body = s->o->max_body,
                              .routes = routes,
                              .n_routes = sizeof routes / sizeof *routes,
                              .ud = s,
                              .observer = observe};
    if (!s->o->paused && spool_start(s->sp, s->o->workers, run_spooled, s) == 0) {
        fprintf(stderr, "sluice serve: cannot start worker threads\n");
        return EXIT_USAGE;
    }
    http_server *srv = http_server_start(&ho, &err);
    if (!srv) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        spool_stop(s->sp);
        return EXIT_USAGE;
    }
    log_msg(NULL, LOG_INFO, "listening on %s (port %u), %d worker(s), spool %s%s%s",
            s->o->listen, http_server_port(srv), s->o->workers, spool_dir(s->sp),
            s->o->sync ? ", synchronous" : "", s->o->paused ? ", PAUSED: jobs are not run" : "");

    int sig = wait_for_stop(stop_signals);
    log_msg(NULL, LOG_INFO, "%s received: stopping (running jobs finish first)",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_server_drain(srv);
    spool_stop(s->sp);
    http_server_stop(srv);
    size_t left = spool_pending(s->sp);
    log_msg(NULL, LOG_INFO, "stopped; %zu event(s) left in the spool for the next start", left);
    return EXIT_OK;
}

int cmd_serve(int argc, char **argv, const cli_globals *g)
{
    serve_opts o = {.listen = DEFAULT_LISTEN, .workers = default_workers(),
                    .max_body = DEFAULT_MAX_BODY};
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) {
        opts_free(&o);
        return rc;
    }
    /* Signals are taken by sigwait() in this thread only: block them before
     * any other thread exists so every thread inherits the mask. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    server s = {.o = &o};
    plugin_host *host = NULL;
    rc = open_parts(&s, g, &host) == 0 ? serve(&s, &stop_signals) : EXIT_USAGE;
    close_parts(&s, host);
    opts_free(&o);
    return rc;
}
