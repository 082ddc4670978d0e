/* cmd_poll.c — `sluice poll --queue URL`: SQS long-polling workers.
 *
 * Each worker thread receives a batch, runs every job its messages name,
 * and deletes a message only when all of them succeeded or were skipped on
 * purpose; anything else stays for the queue's redrive policy. While a job
 * runs, a heartbeat thread keeps the message invisible to other workers. */
#include "autoconfig.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "aws_credentials.h"
#include "cli.h"
#include "event.h"
#include "job.h"
#include "log.h"
#include "runner.h"
#include "runid.h"
#include "sqs.h"
#include "strbuf.h"

/* Set by SIGTERM/SIGINT: the only way a signal handler can talk to the
 * workers. Process-wide by nature. */
static volatile sig_atomic_t g_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct poll_opts {
    const char *queue_url, *region, *profile;
    int batch, wait_s, workers, visibility_s, max_idle;
} poll_opts;

typedef struct inflight {
    char *receipt;
    double next_extend;
} inflight;

typedef struct poller {
    const poll_opts *o;
    const config *cfg;
    storage *st;
    runner *jobs;               /* run records, duplicates, notifications */
    aws_credential_provider *creds;
    sqs_queue queue;
    pthread_mutex_t lock;       /* guards everything below */
    inflight *flying;
    size_t n_flying, cap_flying;
    size_t received, deleted, kept, idle_workers;
    int failed_jobs;
} poller;

static void poll_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice poll --queue URL [OPTIONS]\n"
            "\n"
            "Long-polls an SQS queue for S3 event notifications (direct, through SNS, or\n"
            "EventBridge events) and runs their jobs. A message is deleted only after all\n"
            "its jobs succeeded or were skipped on purpose (test events, removals, an object\n"
            "deleted since); otherwise it stays, comes back after the visibility timeout and\n"
            "lands in the queue's dead-letter queue after maxReceiveCount receives.\n"
            "Run many `sluice poll` processes on many machines against one queue to scale out.\n"
            "\n"
            "Options:\n"
            "  -q, --queue URL        the queue URL (required)\n"
            "  -b, --batch N          messages per receive, 1..10 (default 10)\n"
            "  -w, --wait S           long-poll wait, 0..20 seconds (default 20)\n"
            "  -n, --workers N        worker threads (default: the number of cores)\n"
            "      --visibility S     visibility timeout asked for each message and renewed\n"
            "                         by the heartbeat while its jobs run (default 60)\n"
            "      --region R         signing region (default: AWS_REGION, the profile, or\n"
            "                         the one in the queue URL)\n"
            "      --profile NAME     AWS profile for credentials\n"
            "      --max-idle N       exit after N empty receives in a row per worker\n"
            "                         (drain the queue, then stop; default: run forever)\n"
            "  -h, --help             this help\n"
            "\n"
            "Stops on SIGTERM or SIGINT: in-flight jobs finish, their messages are deleted\n"
            "or left as above, nothing else is received. Exit status: 0 clean stop, 1 some\n"
            "job failed (its message was left for redelivery), 2 usage or configuration error.\n");
}

static int parse_int_opt(const char *name, const char *v, int lo, int hi, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi)
        return cli_usage_error("poll", "%s must be an integer from %d to %d", name, lo, hi);
    *out = (int)n;
    return -1;
}

static int parse_poll_opts(int argc, char **argv, poll_opts *o)
{
    static const struct option opts[] = {
        {"queue", required_argument, NULL, 'q'},   {"batch", required_argument, NULL, 'b'},
        {"wait", required_argument, NULL, 'w'},    {"workers", required_argument, NULL, 'n'},
        {"visibility", required_argument, NULL, 'V'}, {"region", required_argument, NULL, 'r'},
        {"profile", required_argument, NULL, 'p'}, {"max-idle", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (poll_opts){.batch = 10, .wait_s = 20, .workers = cores > 0 ? (int)cores : 1,
                     .visibility_s = 60};
    int c, rc = -1;
    optind = 1;
    while (rc < 0 && (c = getopt_long(argc, argv, "q:b:w:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'q': o->queue_url = optarg; break;
        case 'b': rc = parse_int_opt("--batch", optarg, 1, 10, &o->batch); break;
        case 'w': rc = parse_int_opt("--wait", optarg, 0, 20, &o->wait_s); break;
        case 'n': rc = parse_int_opt("--workers", optarg, 1, 256, &o->workers); break;
        case 'V': rc = parse_int_opt("--visibility", optarg, 2, 43200, &o->visibility_s); break;
        case 'I': rc = parse_int_opt("--max-idle", optarg, 1, 1000000, &o->max_idle); break;
        case 'r': o->region = optarg; break;
        case 'p': o->profile = optarg; break;
        case 'h': poll_usage(stdout); return EXIT_OK;
        default: return cli_usage_error("poll", "unknown option");
        }
    }
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error("poll", "unexpected argument \"%s\"", argv[optind]);
    if (!o->queue_url)
        return cli_usage_error("poll", "--queue URL is required");
    return -1;
}

/* --- heartbeat ---------------------------------------------------------- */

static void flying_add(poller *p, const char *receipt)
{
    pthread_mutex_lock(&p->lock);
    if (p->n_flying == p->cap_flying) {
        p->cap_flying = p->cap_flying ? 2 * p->cap_flying : 16;
        p->flying = xrealloc(p->flying, p->cap_flying * sizeof *p->flying);
    }
    p->flying[p->n_flying++] =
        (inflight){xstrdup(receipt), mono_seconds() + p->o->visibility_s / 2.0};
    pthread_mutex_unlock(&p->lock);
}

static void flying_remove(poller *p, const char *receipt)
{
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_flying; i++) {
        if (strcmp(p->flying[i].receipt, receipt) == 0) {
            free(p->flying[i].receipt);
            p->flying[i] = p->flying[--p->n_flying];
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

/* Receipts due for a visibility extension, copied out so the calls to SQS
 * happen without holding the lock. */
static char **flying_due(poller *p, size_t *n)
{
    double now = mono_seconds();
    char **due = NULL;
    *n = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_flying; i++) {
        if (p->flying[i].next_extend > now)
            continue;
        due = xrealloc(due, (*n + 1) * sizeof *due);
        due[(*n)++] = xstrdup(p->flying[i].receipt);
        p->flying[i].next_extend = now + p->o->visibility_s / 2.0;
    }
    pthread_mutex_unlock(&p->lock);
    return due;
}

typedef struct heartbeat {
    poller *p;
    volatile int done;
} heartbeat;

static void *heartbeat_main(void *arg)
{
    heartbeat *hb = arg;
    poller *p = hb->p;
    http_client *c = http_client_new(NULL);
    while (!hb->done) {
        size_t n;
        char **due = flying_due(p, &n);
        for (size_t i = 0; i < n; i++) {
            sl_error err = {0};
            if (sqs_change_visibility(c, p->creds, &p->queue, due[i], p->o->visibility_s,
                                      &err) != 0)
                log_msg(NULL, LOG_WARN, "heartbeat: %s", err.msg);
            else
                log_msg(NULL, LOG_DEBUG, "heartbeat: visibility extended by %d s",
                        p->o->visibility_s);
            free(due[i]);
        }
        free(due);
        usleep(200 * 1000);
    }
    http_client_free(c);
    return NULL;
}

/* --- one message -------------------------------------------------------- */

/* A job that failed only because its object is gone (deleted after the
 * event was sent) has nothing left to do: the message can go. */
static int object_gone(const job_result *r)
{
    return r->state == JOB_FAILED && r->error.kind == SL_ERR_INPUT &&
           (strstr(r->error.msg, "no such object") || strstr(r->error.msg, "NoSuchKey"));
}

/* Runs the message's jobs; returns 1 when the message may be deleted. */
static int handle_message(poller *p, const sqs_message *m)
{
    event_batch batch = {0};
    sl_error err = {0};
    log_ctx ctx = {.input = m->id};
    if (event_parse(m->body, strlen(m->body), &batch, &err) != 0) {
        log_msg(&ctx, LOG_ERROR,
                "message %s is not an event we understand, leaving it for the dead-letter "
                "queue: %s",
                m->id ? m->id : "?", err.msg);
        event_batch_free(&batch);
        return 0;
    }
    int deletable = 1;
    for (size_t i = 0; i < batch.count; i++) {
        const event_record *ev = &batch.records[i];
        if (ev->kind == EVENT_SKIP) {
            log_msg(&ctx, LOG_INFO, "event acknowledged and skipped: %s", ev->skip_reason);
            continue;
        }
        job_spec spec = {
            .cfg = p->cfg,
            .storage = p->st,
            .input = {.kind = LOC_OBJECT, .bucket = ev->bucket, .key = ev->key},
            .event = ev,
        };
        job_result res;
        runner_job(p->jobs, &spec, &res, NULL);
        if (res.state == JOB_FAILED && !object_gone(&res)) {
            deletable = 0;
            pthread_mutex_lock(&p->lock);
            p->failed_jobs++;
            pthread_mutex_unlock(&p->lock);
        }
        job_result_free(&res);
    }
    event_batch_free(&batch);
    return deletable;
}

static void settle_message(poller *p, http_client *c, const sqs_message *m, int deletable)
{
    sl_error err = {0};
    log_ctx ctx = {.input = m->id};
    if (!deletable) {
        log_msg(&ctx, LOG_WARN,
                "message left on the queue (receive %d): it returns after the visibility "
                "timeout",
                m->receive_count);
        pthread_mutex_lock(&p->lock);
        p->kept++;
        pthread_mutex_unlock(&p->lock);
        return;
    }
    if (sqs_delete(c, p->creds, &p->queue, m->receipt, &err) != 0) {
        log_msg(&ctx, LOG_ERROR, "cannot delete the message (it will be redelivered): %s",
                err.msg);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->deleted++;
    pthread_mutex_unlock(&p->lock);
}

/* A message received but not started when a stop came: make it visible
 * again at once, so another worker need not wait out the timeout. */
static void release_message(poller *p, http_client *c, const sqs_message *m)
{
    sl_error err = {0};
    if (sqs_change_visibility(c, p->creds, &p->queue, m->receipt, 0, &err) != 0)
        log_msg(NULL, LOG_WARN, "cannot release message %s: %s", m->id ? m->id : "?", err.msg);
    pthread_mutex_lock(&p->lock);
    p->kept++;
    pthread_mutex_unlock(&p->lock);
}

/* --- workers ------------------------------------------------------------ */

static int stop_requested(void *ud)
{
    (void)ud;
    return g_stop != 0;
}

/* Sleeps up to `seconds`, waking early on a stop request. */
static void pause_unless_stopped(double seconds)
{
    double end = mono_seconds() + seconds;
    while (!g_stop && mono_seconds() < end)
        usleep(100 * 1000);
}

/* Full jitter: a random time in [0, min(cap, base * 2^attempt)]. */
static double backoff_seconds(int attempt)
{
    double ceiling = 1.0;
    for (int i = 0; i < attempt && ceiling < 60.0; i++)
        ceiling *= 2;
    if (ceiling > 60.0)
        ceiling = 60.0;
    unsigned int r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (unsigned int)time(NULL);
    return 0.5 + ceiling * (r / (double)0xffffffffu);
}

static void *worker_main(void *arg)
{
    poller *p = arg;
    http_client *c = http_client_new(NULL);
    int errors = 0, idle = 0;
    while (!g_stop) {
        sqs_message *msgs;
        size_t n;
        int retryable;
        sl_error err = {0};
        if (sqs_receive(c, p->creds, &p->queue, p->o->batch, p->o->wait_s, p->o->visibility_s,
                        stop_requested, NULL, &msgs, &n, &retryable, &err) != 0) {
            if (g_stop)
                break;
            double wait = backoff_seconds(errors++);
            log_msg(NULL, LOG_ERROR, "receive failed: %s; retrying in %.1f s", err.msg, wait);
            pause_unless_stopped(wait);
            continue;
        }
        errors = 0;
        idle = n == 0 ? idle + 1 : 0;
        if (p->o->max_idle && idle >= p->o->max_idle)
            break;
        pthread_mutex_lock(&p->lock);
        p->received += n;
        pthread_mutex_unlock(&p->lock);
        /* every message of a batch is already invisible: keep them all so */
        for (size_t i = 0; i < n; i++)
            flying_add(p, msgs[i].receipt);
        for (size_t i = 0; i < n; i++) {
            if (g_stop)
                release_message(p, c, &msgs[i]);
            else
                settle_message(p, c, &msgs[i], handle_message(p, &msgs[i]));
            flying_remove(p, msgs[i].receipt);
        }
        sqs_messages_free(msgs, n);
    }
    http_client_free(c);
    return NULL;
}

static int run_workers(poller *p)
{
    heartbeat hb = {.p = p};
    pthread_t hb_thread, *tids = xcalloc((size_t)p->o->workers, sizeof *tids);
    int started = 0;
    if (pthread_create(&hb_thread, NULL, heartbeat_main, &hb) != 0) {
        free(tids);
        fprintf(stderr, "sluice poll: cannot start the heartbeat thread\n");
        return EXIT_USAGE;
    }
    for (int i = 0; i < p->o->workers; i++)
        if (pthread_create(&tids[started], NULL, worker_main, p) == 0)
            started++;
    if (started == 0)
        worker_main(p);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    hb.done = 1;
    pthread_join(hb_thread, NULL);
    free(tids);
    log_msg(NULL, LOG_INFO, "poll stopped: %zu messages received, %zu deleted, %zu left on the queue",
            p->received, p->deleted, p->kept);
    return p->failed_jobs ? EXIT_JOB_FAILED : EXIT_OK;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int cmd_poll(int argc, char **argv, const cli_globals *g)
{
    poll_opts o;
    int rc = parse_poll_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    poller p = {.o = &o};
    sl_error err = {0};
    if (sqs_queue_init(&p.queue, o.queue_url, o.region, &err) != 0) {
        fprintf(stderr, "sluice poll: %s\n", err.msg);
        return EXIT_USAGE;
    }
    plugin_host *host = NULL;
    p.cfg = cli_load_config(g, &host);
    if (!p.cfg) {
        sqs_queue_free(&p.queue);
        return EXIT_USAGE;
    }
    rc = EXIT_USAGE;
    p.st = storage_open(&p.cfg->storage, &err);
    aws_provider_options popts = {.profile = o.profile};
    p.creds = aws_credential_provider_new(&popts);
    if (!p.st) {
        fprintf(stderr, "sluice poll: %s\n", err.msg);
    } else {
        p.jobs = runner_new(p.cfg, p.st);
        pthread_mutex_init(&p.lock, NULL);
        install_signals();
        log_msg(NULL, LOG_INFO, "polling %s with %d workers (batch %d, wait %d s, visibility %d s)",
                o.queue_url, o.workers, o.batch, o.wait_s, o.visibility_s);
        rc = run_workers(&p);
        pthread_mutex_destroy(&p.lock);
        runner_free(p.jobs);
    }
    for (size_t i = 0; i < p.n_flying; i++)
        free(p.flying[i].receipt);
    free(p.flying);
    aws_credential_provider_free(p.creds);
    if (p.st)
        storage_destroy(p.st);
    config_free((config *)p.cfg);
    plugin_host_free(host);
    sqs_queue_free(&p.queue);
    return rc;
}
