/* cmd_watch.c — `sluice watch DIR --to s3://bucket/prefix/`: the directory
 * gateway. Files completed in DIR are uploaded through the configured
 * storage, keyed by their path below DIR, then marked done (moved into
 * the .sent tree, or deleted).
 *
 * Guarantees (docs/watch.md):
 *   - a file is uploaded once a writer closed it or it was renamed in, and
 *     only while no process (that /proc shows) has it open for writing;
 *     files found by a scan must also have been left alone for --settle;
 *   - uploads are atomic (the storage's writer: commit or abort), and the
 *     file is marked done only after its upload committed;
 *   - after a crash, a file still in DIR whose object already exists with
 *     the same bytes is only marked done, not uploaded again.
 *
 * Threads: the main thread owns inotify and the signals; workers take
 * files from one queue. The queue holds each path at most once: a report
 * for a path being uploaded is kept and looked at after that upload. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fsutil.h"
#include "location.h"
#include "log.h"
#include "runid.h"
#include "runner.h"
#include "storage.h"
#include "strbuf.h"
#include "watch.h"

#define CHUNK (1024 * 1024)
#define MAX_RETRY_MS (5 * 60 * 1000)

static void watch_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice watch [OPTIONS] DIR --to s3://BUCKET/PREFIX/\n"
            "\n"
            "Uploads every file completed in DIR (and the directories below it) to\n"
            "BUCKET under PREFIX + its path relative to DIR, through the configured\n"
            "storage, then marks it done. A file counts as complete once its writer\n"
            "closed it or it was renamed into DIR, and only while no process has it\n"
            "open for writing; files found by a scan (at start, after SIGHUP or an\n"
            "event overflow) must also be unchanged for --settle seconds. Names\n"
            "starting with '.' are ignored: write to a hidden name and rename it.\n"
            "\n"
            "Options:\n"
            "      --to URL           destination: s3://bucket/prefix/ (required)\n"
            "      --on-done MODE     move (default: into the sent tree) or delete\n"
            "      --sent-dir DIR     the sent tree (default: DIR/.sent; same filesystem)\n"
            "      --settle SECONDS   quiet time for scanned files (default 2)\n"
            "      --include-hidden   upload names starting with '.' too\n"
            "      --run              also run the routing rules on each uploaded object\n"
            "  -w, --workers N        uploads at once (default: the number of CPUs)\n"
            "  -h, --help             this help\n"
            "\n"
            "SIGTERM or SIGINT stops it: uploads in progress are abandoned (nothing\n"
            "partial is published) and redone at the next start. SIGHUP rescans DIR.\n"
            "Exit status: 0 stopped by a signal, 1 watching failed, 2 usage or\n"
            "configuration error. See docs/watch.md.\n");
}

/* --- options ------------------------------------------------------------- */

typedef struct watch_opts_cli {
    const char *dir;
    const char *to;
    const char *sent_dir;
    int on_done_delete;
    double settle_s;
    int include_hidden;
    int run_jobs;
    int workers;
} watch_opts_cli;

static int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, watch_opts_cli *o)
{
    enum { OPT_TO = 256, OPT_ON_DONE, OPT_SENT, OPT_SETTLE, OPT_HIDDEN, OPT_RUN };
    static const struct option opts[] = {
        {"to", required_argument, NULL, OPT_TO},
        {"on-done", required_argument, NULL, OPT_ON_DONE},
        {"sent-dir", required_argument, NULL, OPT_SENT},
        {"settle", required_argument, NULL, OPT_SETTLE},
        {"include-hidden", no_argument, NULL, OPT_HIDDEN},
        {"run", no_argument, NULL, OPT_RUN},
        {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_TO: o->to = optarg; break;
        case OPT_ON_DONE:
            if (strcmp(optarg, "move") != 0 && strcmp(optarg, "delete") != 0)
                return cli_usage_error("watch", "--on-done must be move or delete, not \"%s\"",
                                       optarg);
            o->on_done_delete = strcmp(optarg, "delete") == 0;
            break;
        case OPT_SENT: o->sent_dir = optarg; break;
        case OPT_SETTLE:
            o->settle_s = strtod(optarg, &end);
            if (end == optarg || *end || !(o->settle_s >= 0 && o->settle_s <= 86400))
                return cli_usage_error("watch", "--settle must be 0 to 86400 seconds");
            break;
        case OPT_HIDDEN: o->include_hidden = 1; break;
        case OPT_RUN: o->run_jobs = 1; break;
        case 'w': {
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256)
                return cli_usage_error("watch", "--workers must be between 1 and 256");
            o->workers = (int)n;
            break;
        }
        case 'h': watch_usage(stdout); return EXIT_OK;
        default: return cli_usage_error("watch", "unknown option");
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("watch", "expected one directory, got %d", argc - optind);
    o->dir = argv[optind];
    if (!o->to)
        return cli_usage_error("watch", "--to s3://bucket/prefix/ is required");
    if (o->on_done_delete && o->sent_dir)
        return cli_usage_error("watch", "--sent-dir goes with --on-done move");
    return -1;
}

/* --- the gateway --------------------------------------------------------- */

typedef enum item_state { ITEM_QUEUED = 0, ITEM_RUNNING, ITEM_DEFERRED } item_state;

typedef struct item {
    char *rel;
    item_state state;
    int settle;       /* only scans reported it: wait for the quiet time */
    int verify;       /* an object may exist from before a crash: compare first */
    int again;        /* reported again while RUNNING: look once more after */
    int again_settle, again_verify;
    int attempts;     /* failed uploads so far */
    long long due_ms; /* DEFERRED: when to look again */
    struct item *qnext; /* the FIFO of QUEUED items */
    struct item *hnext; /* hash chain */
} item;

typedef struct gateway {
    /* set up before the workers start, read-only after */
    const char *dir;
    char *sent_dir;   /* NULL with --on-done delete */
    char *bucket;
    char *prefix;     /* "" or ending in '/' */
    long long settle_ms;
    const config *cfg;
    storage *st;
    runner *runner; /* --run: jobs with run records and notifications */
    /* shared, under lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    item **table;
    size_t nbuckets, nitems;
    item *qhead, *qtail;
    size_t ndeferred; /* items waiting for their due time */
    size_t uploaded, already, failed;
    atomic_int stopping;
    int wake_fd; /* eventfd: a worker deferred an item, the main loop's timeout changed */
} gateway;

static size_t hash_rel(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static item **slot_of(gateway *g, const char *rel)
{
    item **p = &g->table[hash_rel(rel) & (g->nbuckets - 1)];
    while (*p && strcmp((*p)->rel, rel) != 0)
        p = &(*p)->hnext;
    return p;
}

static void table_grow(gateway *g)
{
    size_t old = g->nbuckets;
    item **old_table = g->table;
    g->nbuckets = old ? old * 2 : 64;
    g->table = xcalloc(g->nbuckets, sizeof *g->table);
    for (size_t i = 0; i < old; i++) {
        for (item *it = old_table[i], *next; it; it = next) {
            next = it->hnext;
            item **slot = &g->table[hash_rel(it->rel) & (g->nbuckets - 1)];
            it->hnext = *slot;
            *slot = it;
        }
    }
    free(old_table);
}

static item *table_add(gateway *g, const char *rel)
{
    if (g->nitems + 1 > g->nbuckets)
        table_grow(g);
    item *it = xcalloc(1, sizeof *it);
    it->rel = xstrdup(rel);
    item **slot = &g->table[hash_rel(rel) & (g->nbuckets - 1)];
    it->hnext = *slot;
    *slot = it;
    g->nitems++;
    return it;
}

static void table_remove(gateway *g, item *it)
{
    item **p = slot_of(g, it->rel);
    *p = it->hnext;
    g->nitems--;
    free(it->rel);
    free(it);
}

static void queue_push(gateway *g, item *it)
{
    if (it->state == ITEM_DEFERRED)
        g->ndeferred--;
    it->state = ITEM_QUEUED;
    it->qnext = NULL;
    if (g->qtail)
        g->qtail->qnext = it;
    else
        g->qhead = it;
    g->qtail = it;
    pthread_cond_signal(&g->cond);
}

static item *queue_pop(gateway *g)
{
    item *it = g->qhead;
    if (it) {
        g->qhead = it->qnext;
        if (!g->qhead)
            g->qtail = NULL;
        it->state = ITEM_RUNNING;
    }
    return it;
}

/* A report from inotify or a scan (main thread). */
static void gateway_report(void *ud, const char *rel, watch_origin origin)
{
    gateway *g = ud;
    int settle = origin == WATCH_FOUND, verify = origin == WATCH_FOUND;

    pthread_mutex_lock(&g->lock);
    item **slot = g->nbuckets ? slot_of(g, rel) : NULL;
    item *it = slot ? *slot : NULL;
    if (!it) {
        it = table_add(g, rel);
        it->settle = settle;
        it->verify = verify;
        queue_push(g, it);
    } else if (it->state == ITEM_RUNNING) {
        it->again_settle = it->again ? it->again_settle && settle : settle;
        it->again_verify |= verify;
        it->again = 1;
    } else {
        it->settle = it->state == ITEM_DEFERRED ? settle : it->settle && settle;
        it->verify |= verify;
        if (it->state == ITEM_DEFERRED)
            queue_push(g, it);
    }
    pthread_mutex_unlock(&g->lock);
}

/* Queues the deferred items that are due; returns the milliseconds until
 * the next one (-1: none). Main thread. */
static long long gateway_due(gateway *g)
{
    long long now = now_ms(), next = -1;
    pthread_mutex_lock(&g->lock);
    for (size_t b = 0; g->ndeferred && b < g->nbuckets; b++) {
        for (item *it = g->table[b]; it; it = it->hnext) {
            if (it->state != ITEM_DEFERRED)
                continue;
            if (it->due_ms <= now)
                queue_push(g, it);
            else if (next < 0 || it->due_ms - now < next)
                next = it->due_ms - now;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return next;
}

/* --- one file ------------------------------------------------------------ */

typedef enum outcome {
    OUT_DONE = 0,  /* uploaded and marked done, or nothing to do */
    OUT_DEFER,     /* look again at *due_ms */
    OUT_RETRY,     /* failed: retry with back-off */
    OUT_ABANDONED  /* stopping */
} outcome;

static int mkdirs(const char *path)
{
    return make_directories(path, 0777, NULL, 0) == 0 ? 0 : -1;
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int unchanged(const struct stat *a, const struct stat *b)
{
    return same_file(a, b) && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Moves the file into the sent tree, or deletes it, unless the path now
 * names another file (a new version renamed over it stays for upload). */
static int mark_done(gateway *g, const char *path, const char *rel, const struct stat *uploaded)
{
    struct stat now;
    if (lstat(path, &now) != 0 || !same_file(&now, uploaded)) {
        log_msg(NULL, LOG_INFO, "%s was replaced after its upload: the new file stays", rel);
        return 0;
    }
    if (!g->sent_dir) {
        if (unlink(path) == 0 || errno == ENOENT)
            return 0;
        log_msg(NULL, LOG_ERROR, "cannot delete %s after its upload: %s", path, strerror(errno));
        return -1;
    }
    char *dest = xasprintf("%s/%s", g->sent_dir, rel);
    char *slash = strrchr(dest, '/');
    *slash = '\0';
    int rc = mkdirs(dest);
    *slash = '/';
    if (rc == 0)
        rc = rename(path, dest);
    if (rc != 0)
        log_msg(NULL, LOG_ERROR, "cannot move %s to %s after its upload: %s", path, dest,
                strerror(errno));
    free(dest);
    return rc;
}

/* 1 when the object holds exactly the file's bytes (fd at offset 0). */
static int object_matches(gateway *g, const char *key, int fd, const struct stat *st)
{
    storage_reader *r = NULL;
    object_info info = {0};
    sl_error err = {0};
    if (g->st->ops->open_read(g->st, g->bucket, key, &r, &info, &err) != 0)
        return 0;
    int same = info.size < 0 || info.size == (int64_t)st->st_size;
    char *a = xmalloc(CHUNK), *b = xmalloc(CHUNK);
    int64_t total = 0;
    while (same) {
        ssize_t n = storage_read(r, a, CHUNK, &err);
        if (n <= 0) {
            same = n == 0 && total == (int64_t)st->st_size;
            break;
        }
        ssize_t m = 0;
        while (m < n) {
            ssize_t k = read(fd, b + m, (size_t)(n - m));
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            m += k;
        }
        same = m == n && memcmp(a, b, (size_t)n) == 0;
        total += n;
    }
    free(a);
    free(b);
    storage_reader_close(r);
    object_info_free(&info);
    return same;
}

typedef enum upload_rc { UP_OK = 0, UP_FAILED, UP_CHANGED, UP_ABANDONED } upload_rc;

/* Streams the file into a new object; commits only when the whole file was
 * read and it did not change meanwhile. */
static upload_rc stream_upload(gateway *g, int fd, const char *path, const char *key,
                               const struct stat *before)
{
    storage_writer *w = NULL;
    sl_error err = {0};
    if (g->st->ops->open_write(g->st, g->bucket, key, &w, &err) != 0) {
        log_msg(NULL, LOG_ERROR, "cannot upload %s: %s", path, err.msg);
        return UP_FAILED;
    }
    char *buf = xmalloc(CHUNK);
    int64_t total = 0;
    upload_rc rc = UP_OK;
    for (;;) {
        if (atomic_load(&g->stopping)) {
            rc = UP_ABANDONED;
            break;
        }
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_msg(NULL, LOG_ERROR, "reading %s: %s", path, strerror(errno));
            rc = UP_FAILED;
            break;
        }
        if (n == 0)
            break;
        if (storage_write(w, buf, (size_t)n, &err) != 0) {
            log_msg(NULL, LOG_ERROR, "uploading %s: %s", path, err.msg);
            rc = UP_FAILED;
            break;
        }
        total += n;
    }
    free(buf);
    struct stat after, now;
    if (rc == UP_OK && (fstat(fd, &after) != 0 || lstat(path, &now) != 0 ||
                        !unchanged(before, &after) || !unchanged(before, &now) ||
                        total != (int64_t)before->st_size))
        rc = UP_CHANGED;
    if (rc != UP_OK) {
        storage_writer_abort(w);
        return rc;
    }
    if (storage_writer_commit(w, &err) != 0) {
        log_msg(NULL, LOG_ERROR, "uploading %s: %s", path, err.msg);
        return UP_FAILED;
    }
    return UP_OK;
}

/* --run: the object's job, as a direct run would do it; its output
 * location goes to stdout like `sluice process` prints it. */
static void run_rules(gateway *g, const char *key)
{
    job_spec spec = {
        .cfg = g->cfg,
        .storage = g->st,
        .input = {.kind = LOC_OBJECT, .bucket = g->bucket, .key = (char *)key},
    };
    job_result res;
    runner_job(g->runner, &spec, &res, NULL);
    if (res.state == JOB_SUCCEEDED && res.output) {
        pthread_mutex_lock(&g->lock);
        printf("%s\n", res.output);
        fflush(stdout);
        pthread_mutex_unlock(&g->lock);
    }
    job_result_free(&res);
}

static outcome upload_file(gateway *g, const char *path, const char *rel, int verify,
                           long long *due_ms)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ELOOP ? OUT_DONE : OUT_RETRY;
    struct stat before;
    if (fstat(fd, &before) != 0 || !S_ISREG(before.st_mode)) {
        close(fd);
        return OUT_DONE;
    }
    char *key = xasprintf("%s%s", g->prefix, rel);
    outcome out = OUT_DONE;
    if (verify && object_matches(g, key, fd, &before)) {
        log_msg(NULL, LOG_INFO, "%s is already at s3://%s/%s: marking it done", rel, g->bucket,
                key);
        out = mark_done(g, path, rel, &before) == 0 ? OUT_DONE : OUT_RETRY;
        pthread_mutex_lock(&g->lock);
        g->already++;
        pthread_mutex_unlock(&g->lock);
    } else if (lseek(fd, 0, SEEK_SET) != 0) {
        out = OUT_RETRY;
    } else {
        switch (stream_upload(g, fd, path, key, &before)) {
        case UP_OK:
            log_msg(NULL, LOG_INFO, "uploaded %s to s3://%s/%s (%lld bytes)", rel, g->bucket,
                    key, (long long)before.st_size);
            pthread_mutex_lock(&g->lock);
            g->uploaded++;
            pthread_mutex_unlock(&g->lock);
            out = mark_done(g, path, rel, &before) == 0 ? OUT_DONE : OUT_RETRY;
            if (g->runner)
                run_rules(g, key);
            break;
        case UP_CHANGED:
            /* Its writer's close (or rename) reports it again; the deferral
             * covers a change that reports nothing (utime). */
            log_msg(NULL, LOG_INFO, "%s changed while it was uploaded: nothing published, "
                    "trying again once it is quiet", rel);
            *due_ms = now_ms() + (g->settle_ms > 1000 ? g->settle_ms : 1000);
            out = OUT_DEFER;
            break;
        case UP_ABANDONED:
            log_msg(NULL, LOG_INFO, "upload of %s abandoned (stopping): nothing published, "
                    "it is uploaded at the next start", rel);
            out = OUT_ABANDONED;
            break;
        case UP_FAILED: out = OUT_RETRY; break;
        }
    }
    free(key);
    close(fd);
    return out;
}

/* The modification time in epoch ms; one in the future (a skewed clock
 * on a network filesystem) counts as now, so the wait stays bounded. */
static long long mtime_ms(const struct stat *st, long long now)
{
    long long ms = st->st_mtim.tv_sec * 1000LL + st->st_mtim.tv_nsec / 1000000;
    return ms > now ? now : ms;
}

/* Decides whether the file is complete, and uploads it if so. */
static outcome process_file(gateway *g, const char *rel, int settle, int verify,
                            long long *due_ms)
{
    char *path = xasprintf("%s/%s", g->dir, rel);
    struct stat st;
    outcome out = OUT_DONE;

    long long now = now_ms();
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        /* gone (done by an earlier report) or not a regular file */
    } else if (settle && g->settle_ms > 0 && now - mtime_ms(&st, now) < g->settle_ms) {
        *due_ms = mtime_ms(&st, now) + g->settle_ms;
        out = OUT_DEFER;
    } else if (watch_open_for_writing(path) == 1) {
        /* its writer's close reports it again: the watch is in place */
        log_msg(NULL, LOG_DEBUG, "%s is open for writing: waiting for its close", rel);
    } else {
        out = upload_file(g, path, rel, verify, due_ms);
    }
    free(path);
    return out;
}

static long long retry_delay_ms(int attempts)
{
    long long ms = 1000;
    for (int i = 1; i < attempts && ms < MAX_RETRY_MS; i++)
        ms *= 2;
    return ms < MAX_RETRY_MS ? ms : MAX_RETRY_MS;
}

/* After a file: forget it, look at it again, or wait. Under the lock. */
static void settle_item(gateway *g, item *it, outcome out, long long due_ms)
{
    if (out == OUT_RETRY) {
        it->attempts++;
        g->failed++;
        due_ms = now_ms() + retry_delay_ms(it->attempts);
        log_msg(NULL, LOG_WARN, "%s stays in place; retrying in %lld s", it->rel,
                (due_ms - now_ms() + 999) / 1000);
        it->settle = 0;
        it->verify = 1; /* it may have been published before the failure */
    }
    if (it->again) {
        it->again = 0;
        it->settle = it->again_settle;
        it->verify = it->verify || it->again_verify;
        it->again_verify = 0;
        queue_push(g, it);
    } else if (out == OUT_DEFER || out == OUT_RETRY) {
        it->state = ITEM_DEFERRED;
        it->due_ms = due_ms;
        g->ndeferred++;
        uint64_t one = 1;
        if (write(g->wake_fd, &one, sizeof one) < 0) {
            /* a full counter already wakes the loop */
        }
    } else {
        table_remove(g, it);
    }
}

static void *upload_worker(void *arg)
{
    gateway *g = arg;
    pthread_mutex_lock(&g->lock);
    for (;;) {
        while (!atomic_load(&g->stopping) && !g->qhead)
            pthread_cond_wait(&g->cond, &g->lock);
        if (atomic_load(&g->stopping))
            break;
        item *it = queue_pop(g);
        int settle = it->settle, verify = it->verify;
        it->verify = 0;
        pthread_mutex_unlock(&g->lock);

        long long due_ms = 0;
        outcome out = process_file(g, it->rel, settle, verify, &due_ms);

        pthread_mutex_lock(&g->lock);
        if (out == OUT_ABANDONED)
            break;
        settle_item(g, it, out, due_ms);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

static void gateway_free(gateway *g)
{
    for (size_t b = 0; b < g->nbuckets; b++) {
        for (item *it = g->table[b], *next; it; it = next) {
            next = it->hnext;
            free(it->rel);
            free(it);
        }
    }
    free(g->table);
    free(g->sent_dir);
    free(g->bucket);
    free(g->prefix);
    if (g->wake_fd >= 0)
        close(g->wake_fd);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
}

/* --- setup --------------------------------------------------------------- */

static int parse_destination(const char *to, gateway *g)
{
    location loc = {0};
    sl_error err = {0};
    if (location_parse(to, &loc, &err) != 0 || loc.kind != LOC_OBJECT) {
        location_free(&loc);
        return cli_usage_error("watch", "--to must be s3://bucket/prefix/, not \"%s\"", to);
    }
    size_t len = loc.key ? strlen(loc.key) : 0;
    g->bucket = xstrdup(loc.bucket);
    /* a prefix names a folder: "in" means "in/" */
    g->prefix = len && loc.key[len - 1] != '/' ? xasprintf("%s/", loc.key)
                                               : xstrdup(len ? loc.key : "");
    location_free(&loc);
    return -1;
}

/* The sent tree exists before the first scan (so the scan can leave it
 * out) and shares DIR's filesystem (files are renamed into it). */
static int prepare_sent_dir(const watch_opts_cli *o, gateway *g)
{
    if (o->on_done_delete)
        return -1;
    g->sent_dir = o->sent_dir ? xstrdup(o->sent_dir) : xasprintf("%s/.sent", o->dir);
    struct stat d, s;
    if (mkdirs(g->sent_dir) != 0 || stat(g->sent_dir, &s) != 0 || !S_ISDIR(s.st_mode)) {
        fprintf(stderr, "sluice watch: cannot create %s: %s\n", g->sent_dir, strerror(errno));
        return EXIT_USAGE;
    }
    if (stat(o->dir, &d) == 0 && d.st_dev != s.st_dev)
        return cli_usage_error("watch", "%s must be on the same filesystem as %s (files are "
                                        "renamed into it)",
                               g->sent_dir, o->dir);
    return -1;
}

/* --- the loop ------------------------------------------------------------ */

static int open_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    /* blocked before any thread starts, so every thread inherits it */
    pthread_sigmask(SIG_BLOCK, set, NULL);
    return signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Returns the exit status once a signal or a fatal error ends watching. */
static int watch_loop(gateway *g, watch_tree *wt, int sigfd)
{
    sl_error err = {0};
    for (;;) {
        long long wait = gateway_due(g);
        struct pollfd fds[3] = {
            {watch_tree_fd(wt), POLLIN, 0}, {sigfd, POLLIN, 0}, {g->wake_fd, POLLIN, 0}};
        int n = poll(fds, 3, wait < 0 || wait > 1000 ? 1000 : (int)wait + 1);
        if (n < 0 && errno != EINTR) {
            log_msg(NULL, LOG_ERROR, "poll: %s", strerror(errno));
            return EXIT_JOB_FAILED;
        }
        if (n > 0 && (fds[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo != SIGHUP) {
                    log_msg(NULL, LOG_INFO, "%s: stopping",
                            si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                    return EXIT_OK;
                }
                long found = watch_tree_rescan(wt, gateway_report, g, &err);
                if (found < 0)
                    break;
                log_msg(NULL, LOG_INFO, "SIGHUP: rescanned %s (%ld files)", g->dir, found);
            }
        }
        uint64_t count;
        if (n > 0 && (fds[2].revents & POLLIN) && read(g->wake_fd, &count, sizeof count) < 0)
            log_msg(NULL, LOG_DEBUG, "eventfd: %s", strerror(errno));
        if (n > 0 && (fds[0].revents & POLLIN) &&
            watch_tree_process(wt, gateway_report, g, &err) != 0)
            break;
    }
    log_msg(NULL, LOG_ERROR, "watching %s failed: %s", g->dir, err.msg);
    return EXIT_JOB_FAILED;
}

static int run_gateway(gateway *g, const watch_opts_cli *o, int sigfd)
{
    watch_opts wo = {.include_hidden = o->include_hidden, .exclude_dir = g->sent_dir};
    sl_error err = {0};
    watch_tree *wt = watch_tree_new(o->dir, &wo, &err);
    if (!wt) {
        fprintf(stderr, "sluice watch: %s\n", err.msg);
        return EXIT_USAGE;
    }
    pthread_t *tids = xcalloc((size_t)o->workers, sizeof *tids);
    int started = 0;
    while (started < o->workers &&
           pthread_create(&tids[started], NULL, upload_worker, g) == 0)
        started++;
    int rc = EXIT_JOB_FAILED;
    if (started == 0) {
        log_msg(NULL, LOG_ERROR, "cannot start upload threads");
    } else {
        long found = watch_tree_rescan(wt, gateway_report, g, &err);
        if (found < 0) {
            log_msg(NULL, LOG_ERROR, "cannot watch %s: %s", o->dir, err.msg);
        } else {
            log_msg(NULL, LOG_INFO,
                    "watching %s (%zu directories, %ld files found) -> s3://%s/%s, done: %s",
                    o->dir, watch_tree_dirs(wt), found, g->bucket, g->prefix,
                    g->sent_dir ? g->sent_dir : "delete");
            rc = watch_loop(g, wt, sigfd);
        }
    }
    pthread_mutex_lock(&g->lock);
    atomic_store(&g->stopping, 1);
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    watch_tree_free(wt);
    log_msg(NULL, LOG_INFO, "stopped: %zu uploaded, %zu already uploaded, %zu failures",
            g->uploaded, g->already, g->failed);
    return rc;
}

/* Everything after the options: the gateway from setup to stop. */
static int run_watch(const watch_opts_cli *op, const cli_globals *cg)
{
    const watch_opts_cli o = *op;
    int rc;
    gateway g = {.dir = o.dir};
    g.settle_ms = (long long)(o.settle_s * 1000.0 + 0.5);
    pthread_mutex_init(&g.lock, NULL);
    pthread_cond_init(&g.cond, NULL);
    atomic_init(&g.stopping, 0);
    g.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (g.wake_fd < 0) {
        fprintf(stderr, "sluice watch: eventfd: %s\n", strerror(errno));
        gateway_free(&g);
        return EXIT_USAGE;
    }
    if ((rc = parse_destination(o.to, &g)) >= 0 || (rc = prepare_sent_dir(&o, &g)) >= 0) {
        gateway_free(&g);
        return rc;
    }

    plugin_host *host = NULL;
    config *cfg = cli_load_config(cg, &host);
    sl_error err = {0};
    if (!cfg) {
        gateway_free(&g);
        return EXIT_USAGE;
    }
    g.cfg = cfg;
    g.st = storage_open(&cfg->storage, &err);
    if (!g.st) {
        fprintf(stderr, "sluice watch: %s\n", err.msg);
        rc = EXIT_USAGE;
    } else {
        sigset_t set;
        int sigfd = open_signals(&set);
        if (sigfd < 0) {
            fprintf(stderr, "sluice watch: signalfd: %s\n", strerror(errno));
            rc = EXIT_USAGE;
        } else {
            if (o.run_jobs)
                g.runner = runner_new(cfg, g.st);
            rc = run_gateway(&g, &o, sigfd);
            runner_free(g.runner);
            close(sigfd);
        }
        /* The signals stay blocked: a second one during teardown must not
         * kill the process halfway. */
        storage_destroy(g.st);
    }
    config_free(cfg);
    plugin_host_free(host);
    gateway_free(&g);
    return rc;
}

int cmd_watch(int argc, char **argv, const cli_globals *cg)
{
    watch_opts_cli o = {.settle_s = 2.0, .workers = default_workers()};
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;

    /* The real path: the tree is watched without following links, but
     * DIR itself may well be one (/srv/inbound -> /mnt/share). */
    char *dir = realpath(o.dir, NULL);
    struct stat st;
    if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sluice watch: %s: %s\n", o.dir,
                dir ? "not a directory" : strerror(errno));
        free(dir);
        return EXIT_USAGE;
    }
    o.dir = dir;
    rc = run_watch(&o, cg);
    free(dir);
    return rc;
}
