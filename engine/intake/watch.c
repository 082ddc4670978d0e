/* watch.c — the directory gateway (watch.h). */
#include "autoconfig.h"
#include "intake/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/location.h"
#include "intake/watch_tree.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/exitcode.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/workers.h"

#define CHUNK (1024 * 1024)
#define MAX_RETRY_MS (5 * 60 * 1000)

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
    struct item *hnext; /* hash chain */
    struct gateway *g;
} item;

typedef struct gateway {
    /* set up before the workers start, read-only after */
    const char *dir;
    char *sent_dir;   /* NULL with --on-done delete */
    char *bucket;
    char *prefix;     /* "" or ending in '/' */
    long long settle_ms;
    intake *in;
    storage *st;
    int run_jobs;     /* each uploaded object runs its rule's job */
    int workers;      /* uploads (and their jobs) at once */
    workers_pool *pool;    /* the uploads */
    /* shared, under lock */
    pthread_mutex_t lock;
    item **table;
    size_t nbuckets, nitems;
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
    it->g = g;
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

static void upload_task(void *arg);

/* Queues an upload of the item: a task of the pool. A task the pool drops
 * at a stop leaves its item in the table, freed with the gateway. */
static void queue_push(gateway *g, item *it)
{
    if (it->state == ITEM_DEFERRED)
        g->ndeferred--;
    it->state = ITEM_QUEUED;
    workers_submit(g->pool, upload_task, NULL, it);
}

/* A report from inotify or a scan (main thread). */
static void gateway_report(void *ud, const char *rel, watch_tree_origin origin)
{
    gateway *g = ud;
    int settle = origin == WATCH_TREE_FOUND, verify = origin == WATCH_TREE_FOUND;

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
    long long now = clock_now_ms(), next = -1;
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
    return fsutil_mkdirs(path, 0777, NULL, 0) == 0 ? 0 : -1;
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
        log_msg(NULL, SL_LOG_INFO, "%s was replaced after its upload: the new file stays", rel);
        return 0;
    }
    if (!g->sent_dir) {
        if (unlink(path) == 0 || errno == ENOENT)
            return 0;
        log_msg(NULL, SL_LOG_ERROR, "cannot delete %s after its upload: %s", path, strerror(errno));
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
        log_msg(NULL, SL_LOG_ERROR, "cannot move %s to %s after its upload: %s", path, dest,
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
    storage_object_info_free(&info);
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
        log_msg(NULL, SL_LOG_ERROR, "cannot upload %s: %s", path, err.msg);
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
            log_msg(NULL, SL_LOG_ERROR, "reading %s: %s", path, strerror(errno));
            rc = UP_FAILED;
            break;
        }
        if (n == 0)
            break;
        if (storage_write(w, buf, (size_t)n, &err) != 0) {
            log_msg(NULL, SL_LOG_ERROR, "uploading %s: %s", path, err.msg);
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
        log_msg(NULL, SL_LOG_ERROR, "uploading %s: %s", path, err.msg);
        return UP_FAILED;
    }
    return UP_OK;
}

/* --run: the object's job, as a direct run would do it; its output
 * location goes to stdout like `sluice process` prints it. */
static void run_rules(gateway *g, const char *key)
{
    job_spec spec = intake_spec(g->in);
    spec.input = (location){.kind = LOC_OBJECT, .bucket = g->bucket, .key = (char *)key};
    spec.concurrency = g->workers;
    job_result res;
    runner_job(g->in->runner, &spec, &res, NULL);
    pthread_mutex_lock(&g->lock);
    runner_print_outputs(&res, stdout);
    pthread_mutex_unlock(&g->lock);
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
        log_msg(NULL, SL_LOG_INFO, "%s is already at s3://%s/%s: marking it done", rel, g->bucket,
                key);
        out = mark_done(g, path, rel, &before) == 0 ? OUT_DONE : OUT_RETRY;
        pthread_mutex_lock(&g->lock);
        g->already++;
        pthread_mutex_unlock(&g->lock);
        metrics_watch_file(g->in->metrics, METRICS_WATCH_ALREADY);
    } else if (lseek(fd, 0, SEEK_SET) != 0) {
        out = OUT_RETRY;
    } else {
        switch (stream_upload(g, fd, path, key, &before)) {
        case UP_OK:
            log_msg(NULL, SL_LOG_INFO, "uploaded %s to s3://%s/%s (%lld bytes)", rel, g->bucket,
                    key, (long long)before.st_size);
            pthread_mutex_lock(&g->lock);
            g->uploaded++;
            pthread_mutex_unlock(&g->lock);
            metrics_watch_file(g->in->metrics, METRICS_WATCH_UPLOADED);
            out = mark_done(g, path, rel, &before) == 0 ? OUT_DONE : OUT_RETRY;
            if (g->run_jobs)
                run_rules(g, key);
            break;
        case UP_CHANGED:
            /* Its writer's close (or rename) reports it again; the deferral
             * covers a change that reports nothing (utime). */
            log_msg(NULL, SL_LOG_INFO, "%s changed while it was uploaded: nothing published, "
                    "trying again once it is quiet", rel);
            *due_ms = clock_now_ms() + (g->settle_ms > 1000 ? g->settle_ms : 1000);
            out = OUT_DEFER;
            break;
        case UP_ABANDONED:
            log_msg(NULL, SL_LOG_INFO, "upload of %s abandoned (stopping): nothing published, "
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

    long long now = clock_now_ms();
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        /* gone (done by an earlier report) or not a regular file */
    } else if (settle && g->settle_ms > 0 && now - mtime_ms(&st, now) < g->settle_ms) {
        *due_ms = mtime_ms(&st, now) + g->settle_ms;
        out = OUT_DEFER;
    } else if (watch_tree_open_for_writing(path) == 1) {
        /* its writer's close reports it again: the watch is in place */
        log_msg(NULL, SL_LOG_DEBUG, "%s is open for writing: waiting for its close", rel);
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
        metrics_watch_file(g->in->metrics, METRICS_WATCH_FAILED);
        due_ms = clock_now_ms() + retry_delay_ms(it->attempts);
        log_msg(NULL, SL_LOG_WARN, "%s stays in place; retrying in %lld s", it->rel,
                (due_ms - clock_now_ms() + 999) / 1000);
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

static void upload_task(void *arg)
{
    item *it = arg;
    gateway *g = it->g;
    pthread_mutex_lock(&g->lock);
    if (atomic_load(&g->stopping)) {
        pthread_mutex_unlock(&g->lock);
        return;
    }
    it->state = ITEM_RUNNING;
    int settle = it->settle, verify = it->verify;
    it->verify = 0;
    pthread_mutex_unlock(&g->lock);

    long long due_ms = 0;
    outcome out = process_file(g, it->rel, settle, verify, &due_ms);

    pthread_mutex_lock(&g->lock);
    /* a file put off (too young, or changed while read) has not been
     * compared yet: a scan's "compare first" must still hold next time */
    if (out == OUT_DEFER && verify)
        it->verify = 1;
    if (out != OUT_ABANDONED)
        settle_item(g, it, out, due_ms);
    pthread_mutex_unlock(&g->lock);
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
}

/* --- setup --------------------------------------------------------------- */

static int parse_destination(const char *to, gateway *g)
{
    location loc = {0};
    sl_error err = {0};
    if (location_parse(to, &loc, &err) != 0 || loc.kind != LOC_OBJECT) {
        location_free(&loc);
        fprintf(stderr, "sluice watch: --to must be s3://bucket/prefix/, not \"%s\"\n", to);
        return SL_EXIT_USAGE;
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
static int prepare_sent_dir(const watch_options *o, gateway *g)
{
    if (o->on_done_delete)
        return -1;
    g->sent_dir = o->sent_dir ? xstrdup(o->sent_dir) : xasprintf("%s/.sent", o->dir);
    struct stat d, s;
    if (mkdirs(g->sent_dir) != 0 || stat(g->sent_dir, &s) != 0 || !S_ISDIR(s.st_mode)) {
        fprintf(stderr, "sluice watch: cannot create %s: %s\n", g->sent_dir, strerror(errno));
        return SL_EXIT_USAGE;
    }
    if (stat(o->dir, &d) == 0 && d.st_dev != s.st_dev) {
        fprintf(stderr, "sluice watch: %s must be on the same filesystem as %s (files are "
                        "renamed into it)\n",
                g->sent_dir, o->dir);
        return SL_EXIT_USAGE;
    }
    return -1;
}

/* --- the loop ------------------------------------------------------------ */

/* Returns the exit status once a signal or a fatal error ends watching. */
static int watch_loop(gateway *g, watch_tree *wt)
{
    sl_error err = {0};
    unsigned hangups = signals_hangups();
    for (;;) {
        long long wait = gateway_due(g);
        struct pollfd fds[3] = {
            {watch_tree_fd(wt), POLLIN, 0}, {signals_fd(), POLLIN, 0}, {g->wake_fd, POLLIN, 0}};
        int n = poll(fds, 3, wait < 0 || wait > 1000 ? 1000 : (int)wait + 1);
        if (n < 0 && errno != EINTR) {
            log_msg(NULL, SL_LOG_ERROR, "poll: %s", strerror(errno));
            return SL_EXIT_JOB_FAILED;
        }
        if (n > 0 && (fds[1].revents & POLLIN))
            signals_fd_drain();
        if (signals_stopping()) {
            log_msg(NULL, SL_LOG_INFO, "%s: stopping", signals_stop_name());
            return SL_EXIT_OK;
        }
        if (signals_hangups() != hangups) {
            hangups = signals_hangups();
            long found = watch_tree_rescan(wt, gateway_report, g, &err);
            if (found < 0)
                break;
            log_msg(NULL, SL_LOG_INFO, "SIGHUP: rescanned %s (%ld files)", g->dir, found);
        }
        uint64_t count;
        if (n > 0 && (fds[2].revents & POLLIN) && read(g->wake_fd, &count, sizeof count) < 0)
            log_msg(NULL, SL_LOG_DEBUG, "eventfd: %s", strerror(errno));
        if (n > 0 && (fds[0].revents & POLLIN) &&
            watch_tree_process(wt, gateway_report, g, &err) != 0)
            break;
    }
    log_msg(NULL, SL_LOG_ERROR, "watching %s failed: %s", g->dir, err.msg);
    return SL_EXIT_JOB_FAILED;
}

static int run_gateway(gateway *g, const watch_options *o)
{
    watch_tree_opts wo = {.include_hidden = o->include_hidden, .exclude_dir = g->sent_dir};
    sl_error err = {0};
    watch_tree *wt = watch_tree_new(o->dir, &wo, &err);
    if (!wt) {
        fprintf(stderr, "sluice watch: %s\n", err.msg);
        return SL_EXIT_USAGE;
    }
    int rc = SL_EXIT_JOB_FAILED;
    g->workers = o->workers;
    g->pool = workers_new(o->workers);
    if (!g->pool) {
        log_msg(NULL, SL_LOG_ERROR, "cannot start upload threads");
    } else {
        long found = watch_tree_rescan(wt, gateway_report, g, &err);
        if (found < 0) {
            log_msg(NULL, SL_LOG_ERROR, "cannot watch %s: %s", o->dir, err.msg);
        } else {
            log_msg(NULL, SL_LOG_INFO,
                    "watching %s (%zu directories, %ld files found) -> s3://%s/%s, done: %s",
                    o->dir, watch_tree_dirs(wt), found, g->bucket, g->prefix,
                    g->sent_dir ? g->sent_dir : "delete");
            rc = watch_loop(g, wt);
        }
        /* uploads in progress see `stopping` and abandon; queued ones are
         * dropped (their files stay for the next start) */
        atomic_store(&g->stopping, 1);
        workers_stop(g->pool);
        workers_free(g->pool);
        g->pool = NULL;
    }
    watch_tree_free(wt);
    log_msg(NULL, SL_LOG_INFO, "stopped: %zu uploaded, %zu already uploaded, %zu failures",
            g->uploaded, g->already, g->failed);
    return rc;
}

int watch_run(intake *in, const watch_options *o)
{
    int rc;
    gateway g = {.dir = o->dir, .in = in, .st = in->storage, .run_jobs = o->run_jobs};
    g.settle_ms = (long long)(o->settle_s * 1000.0 + 0.5);
    pthread_mutex_init(&g.lock, NULL);
    atomic_init(&g.stopping, 0);
    g.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (g.wake_fd < 0) {
        fprintf(stderr, "sluice watch: eventfd: %s\n", strerror(errno));
        gateway_free(&g);
        return SL_EXIT_USAGE;
    }
    if ((rc = parse_destination(o->to, &g)) >= 0 || (rc = prepare_sent_dir(o, &g)) >= 0) {
        gateway_free(&g);
        return rc;
    }
    rc = run_gateway(&g, o);
    gateway_free(&g);
    return rc;
}
