/* spool.c — durable queue of accepted events (see spool.h).
 *
 * Durability follows the usual recipe: write to a temporary name, fsync
 * the file, rename it into place, fsync the directory. A crash at any
 * point leaves either nothing under DIR/ID.json (and the sender got no
 * 2xx) or the complete entry. */
#include "autoconfig.h"
#include "intake/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/procid.h"
#include "util/strbuf.h"
#include "util/workers.h"

/* One queued entry: a task of the pool once started, else on the list. */
typedef struct entry {
    struct spool *sp;
    struct entry *next;
    char id[SPOOL_ID_MAX];
} entry;

struct spool {
    char *dir;
    char *tmp;
    int dirfd, tmpfd, lockfd;

    pthread_mutex_t lock; /* guards everything below */
    entry *head, *tail;   /* waiting for spool_start */
    size_t waiting, running;
    unsigned seq;

    spool_handler handler;
    void *ud;
    workers_pool *pool;        /* NULL until started, and after a stop */
    int stopped;
    int max_attempts;          /* starts without an end before quarantine */
    spool_quarantine_fn on_quarantine; /* may be NULL */
    void *quarantine_ud;
};

/* --- directories ----------------------------------------------------------- */

static int mkdir_p(const char *path, sl_error *err)
{
    char failed[4096];
    int e = fsutil_mkdirs(path, 0700, failed, sizeof failed);
    if (e == 0)
        return 0;
    sl_error_set(err, SL_ERR_CONFIG, "spool: cannot create %s: %s", failed, strerror(e));
    return -1;
}

static int open_dir(const char *path, sl_error *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        sl_error_set(err, SL_ERR_CONFIG, "spool: cannot open %s: %s", path, strerror(errno));
    return fd;
}

static int is_entry_name(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && len > 5 && len < SPOOL_ID_MAX + 5 &&
           strcmp(name + len - 5, ".json") == 0;
}

/* Anything in tmp/ was never acknowledged: drop it. */
static void clear_tmp(spool *sp)
{
    DIR *d = fdopendir(dup(sp->tmpfd));
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && unlinkat(sp->tmpfd, de->d_name, 0) != 0)
            log_msg(NULL, SL_LOG_WARN, "spool: cannot remove %s/%s: %s", sp->tmp, de->d_name,
                    strerror(errno));
    closedir(d);
}

/* --- the queue (lock held) ------------------------------------------------- */

static void run_entry(void *arg);
static void drop_entry(void *arg);

static void push_locked(spool *sp, const char *id)
{
    entry *e = xcalloc(1, sizeof *e);
    e->sp = sp;
    snprintf(e->id, sizeof e->id, "%s", id);
    sp->waiting++;
    if (sp->pool) {
        workers_submit(sp->pool, run_entry, drop_entry, e);
        return;
    }
    if (sp->tail)
        sp->tail->next = e;
    else
        sp->head = e;
    sp->tail = e;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Queues the entries a previous process left, oldest first. */
static int scan_leftovers(spool *sp, sl_error *err)
{
    DIR *d = fdopendir(dup(sp->dirfd));
    if (!d) {
        sl_error_set(err, SL_ERR_CONFIG, "spool: cannot list %s: %s", sp->dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_entry_name(de->d_name))
            continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = xstrndup(de->d_name, strlen(de->d_name) - 5);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        push_locked(sp, names[i]);
        free(names[i]);
    }
    free(names);
    if (n)
        log_msg(NULL, SL_LOG_INFO, "spool: %zu event(s) left by a previous run queued again", n);
    return 0;
}

/* --- open / close -------------------------------------------------------- */

static int take_lock(spool *sp, sl_error *err)
{
    char *path = xasprintf("%s/.lock", sp->dir);
    sp->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (sp->lockfd < 0) {
        sl_error_set(err, SL_ERR_CONFIG, "spool: cannot create %s/.lock: %s", sp->dir,
                     strerror(errno));
        return -1;
    }
    if (flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "spool: %s is in use by another process (each sluice serve needs its own "
                     "--spool directory)",
                     sp->dir);
        return -1;
    }
    return 0;
}

spool *spool_open(const char *dir, sl_error *err)
{
    spool *sp = xcalloc(1, sizeof *sp);
    sp->dir = xstrdup(dir);
    sp->tmp = xasprintf("%s/tmp", dir);
    sp->dirfd = sp->tmpfd = sp->lockfd = -1;
    sp->max_attempts = SPOOL_MAX_ATTEMPTS;
    pthread_mutex_init(&sp->lock, NULL);

    if (mkdir_p(sp->tmp, err) != 0 || (sp->dirfd = open_dir(sp->dir, err)) < 0 ||
        (sp->tmpfd = open_dir(sp->tmp, err)) < 0 || take_lock(sp, err) != 0) {
        spool_close(sp);
        return NULL;
    }
    clear_tmp(sp);
    if (scan_leftovers(sp, err) != 0) {
        spool_close(sp);
        return NULL;
    }
    return sp;
}

void spool_close(spool *sp)
{
    if (!sp)
        return;
    spool_stop(sp);
    for (entry *e = sp->head, *next; e; e = next) {
        next = e->next;
        free(e);
    }
    if (sp->dirfd >= 0)
        close(sp->dirfd);
    if (sp->tmpfd >= 0)
        close(sp->tmpfd);
    if (sp->lockfd >= 0)
        close(sp->lockfd); /* releases the flock */
    pthread_mutex_destroy(&sp->lock);
    free(sp->tmp);
    free(sp->dir);
    free(sp);
}

const char *spool_dir(const spool *sp)
{
    return sp->dir;
}

/* --- put ----------------------------------------------------------------- */

static void make_id(spool *sp, char id[SPOOL_ID_MAX])
{
    struct timespec ts;
    unsigned rnd = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
        rnd = (unsigned)getpid();
    pthread_mutex_lock(&sp->lock);
    unsigned seq = sp->seq++;
    pthread_mutex_unlock(&sp->lock);
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    snprintf(id, SPOOL_ID_MAX, "%013lld-%06u-%08x", ms, seq % 1000000u, rnd);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int spool_put(spool *sp, const void *data, size_t len, char id[SPOOL_ID_MAX], sl_error *err)
{
    char name[SPOOL_ID_MAX + 8];
    make_id(sp, id);
    snprintf(name, sizeof name, "%s.json", id);

    int fd = openat(sp->tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sl_error_set(err, SL_ERR_INTERNAL, "spool: cannot create %s/%s: %s", sp->tmp, name,
                     strerror(errno));
        return -1;
    }
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        sl_error_set(err, SL_ERR_INTERNAL, "spool: cannot write %s/%s: %s", sp->tmp, name,
                     strerror(errno));
        close(fd);
        unlinkat(sp->tmpfd, name, 0);
        return -1;
    }
    close(fd);
    if (renameat(sp->tmpfd, name, sp->dirfd, name) != 0 || fsync(sp->dirfd) != 0) {
        sl_error_set(err, SL_ERR_INTERNAL, "spool: cannot move %s into %s: %s", name, sp->dir,
                     strerror(errno));
        unlinkat(sp->tmpfd, name, 0);
        return -1;
    }
    pthread_mutex_lock(&sp->lock);
    push_locked(sp, id);
    pthread_mutex_unlock(&sp->lock);
    return 0;
}

/* --- workers ------------------------------------------------------------- */

/* How often the entry was started without its handler returning: the
 * process died while running it (a crash in an in-process plugin, a kill).
 * The file is "N\n" and then the tag of each process that started the
 * entry, one a line (a file of an older sluice has the count only): those
 * lines go to `tags` when not NULL. */
static int attempts_of(spool *sp, const char *id, strbuf *tags)
{
    char *path = xasprintf("%s/%s.attempts", sp->dir, id);
    strbuf text = STRBUF_INIT;
    int n = 0;
    if (sb_read_file(&text, path) == 0 && text.len > 0) {
        n = atoi(sb_str(&text));
        const char *nl = strchr(sb_str(&text), '\n');
        if (tags && nl && nl[1])
            sb_adds(tags, nl + 1);
    }
    sb_free(&text);
    free(path);
    return n;
}

/* Written and fsync'ed before the handler runs, so a death is counted;
 * names this process after the ones before (`tags`, lines). */
static void count_attempt(spool *sp, const char *id, int n, const strbuf *tags)
{
    char name[SPOOL_ID_MAX + 16], me[PROCID_TAG_MAX];
    snprintf(name, sizeof name, "%s.attempts", id);
    strbuf text = STRBUF_INIT;
    sb_addf(&text, "%d\n", n);
    if (tags->len) {
        sb_adds(&text, sb_str(tags));
        if (text.buf[text.len - 1] != '\n')
            sb_addc(&text, '\n');
    }
    sb_addf(&text, "%s\n", procid_format(procid_self(), me));
    int fd = openat(sp->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, text.buf, text.len) != 0 || fsync(fd) != 0)
        log_msg(NULL, SL_LOG_WARN, "spool: cannot count the start of %s/%s.json: %s", sp->dir,
                id, strerror(errno));
    if (fd >= 0)
        close(fd);
    sb_free(&text);
}

static void forget_attempts(spool *sp, const char *id)
{
    char name[SPOOL_ID_MAX + 16];
    snprintf(name, sizeof name, "%s.attempts", id);
    unlinkat(sp->dirfd, name, 0);
}

/* The non-empty lines of `text`, split in place (a new array). */
static const char **split_lines(char *text, size_t *n)
{
    const char **out = NULL;
    *n = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (*line) {
            out = xrealloc(out, (*n + 1) * sizeof *out);
            out[(*n)++] = line;
        }
        line = nl ? nl + 1 : NULL;
    }
    return out;
}

/* Tells the callback, with the entry as it now lies in quarantine/. */
static void report_quarantined(spool *sp, const char *id, int n, const char *to, strbuf *tags)
{
    char *dir = realpath(sp->dir, NULL);
    char *path = xasprintf("%s/%s", dir ? dir : sp->dir, to);
    strbuf data = STRBUF_INIT;
    int rc = sb_read_file(&data, path);
    if (rc != 0)
        log_msg(NULL, SL_LOG_WARN, "spool: cannot read %s back: %s", path, strerror(rc));
    size_t np;
    const char **procs = split_lines(tags->buf, &np);
    spool_quarantined q = {.id = id, .attempts = n, .max_attempts = sp->max_attempts,
                           .path = path, .data = rc == 0 ? sb_str(&data) : NULL,
                           .len = data.len, .processes = procs, .n_processes = np};
    sp->on_quarantine(sp->quarantine_ud, &q);
    free(procs);
    sb_free(&data);
    free(path);
    free(dir);
}

/* An entry whose runs killed the process max_attempts times is moved to
 * quarantine/ instead of killing it again (and again, ahead of the events
 * behind it, on every restart). */
static void quarantine(spool *sp, const char *id, int n, strbuf *tags)
{
    char from[SPOOL_ID_MAX + 8], to[SPOOL_ID_MAX + 24];
    snprintf(from, sizeof from, "%s.json", id);
    snprintf(to, sizeof to, SPOOL_QUARANTINE "/%s.json", id);
    if ((mkdirat(sp->dirfd, SPOOL_QUARANTINE, 0755) != 0 && errno != EEXIST) ||
        renameat(sp->dirfd, from, sp->dirfd, to) != 0) {
        log_msg(NULL, SL_LOG_ERROR, "spool: cannot quarantine %s/%s: %s (it stays, skipped)",
                sp->dir, from, strerror(errno));
        return;
    }
    forget_attempts(sp, id);
    log_msg(NULL, SL_LOG_ERROR,
            "spool: event %s was started %d times and each time the process died before its "
            "jobs ended (a crash in an in-process plugin? isolation: process fails such a job "
            "only): quarantined to %s/%s; move it back to run it again",
            id, n, sp->dir, to);
    if (sp->on_quarantine)
        report_quarantined(sp, id, n, to, tags);
}

static void handle_entry(spool *sp, const char *id)
{
    strbuf tags = STRBUF_INIT;
    int n = attempts_of(sp, id, &tags);
    if (n >= sp->max_attempts) {
        quarantine(sp, id, n, &tags);
        sb_free(&tags);
        return;
    }
    char *path = xasprintf("%s/%s.json", sp->dir, id);
    strbuf data = STRBUF_INIT;
    int rc = sb_read_file(&data, path);
    if (rc != 0) {
        log_msg(NULL, SL_LOG_WARN, "spool: cannot read %s: %s (skipped)", path, strerror(rc));
    } else {
        count_attempt(sp, id, n + 1, &tags);
        sp->handler(sp->ud, id, sb_str(&data), data.len);
        if (unlink(path) != 0)
            log_msg(NULL, SL_LOG_ERROR, "spool: cannot remove %s: %s (it will run again)", path,
                    strerror(errno));
        forget_attempts(sp, id);
    }
    sb_free(&data);
    sb_free(&tags);
    free(path);
}

void spool_set_max_attempts(spool *sp, int n)
{
    sp->max_attempts = n > 0 ? n : SPOOL_MAX_ATTEMPTS;
}

void spool_on_quarantine(spool *sp, spool_quarantine_fn fn, void *ud)
{
    sp->on_quarantine = fn;
    sp->quarantine_ud = ud;
}

/* A task of the pool: one entry, start to end. */
static void run_entry(void *arg)
{
    entry *e = arg;
    spool *sp = e->sp;
    pthread_mutex_lock(&sp->lock);
    sp->waiting--;
    sp->running++;
    pthread_mutex_unlock(&sp->lock);
    handle_entry(sp, e->id);
    pthread_mutex_lock(&sp->lock);
    sp->running--;
    pthread_mutex_unlock(&sp->lock);
    free(e);
}

/* Not started before the stop: the entry stays on disk, still pending,
 * for the next start. */
static void drop_entry(void *arg)
{
    free(arg);
}

int spool_start(spool *sp, int workers, spool_handler fn, void *ud)
{
    pthread_mutex_lock(&sp->lock);
    if (sp->pool || sp->stopped || workers < 1) {
        pthread_mutex_unlock(&sp->lock);
        return 0;
    }
    sp->handler = fn;
    sp->ud = ud;
    sp->pool = workers_new(workers);
    int started = sp->pool ? workers_count(sp->pool) : 0;
    entry *e = sp->pool ? sp->head : NULL;
    if (sp->pool)
        sp->head = sp->tail = NULL;
    while (e) {
        entry *next = e->next;
        e->next = NULL;
        workers_submit(sp->pool, run_entry, drop_entry, e);
        e = next;
    }
    pthread_mutex_unlock(&sp->lock);
    return started;
}

size_t spool_pending(spool *sp)
{
    pthread_mutex_lock(&sp->lock);
    size_t n = sp->waiting + sp->running;
    pthread_mutex_unlock(&sp->lock);
    return n;
}

size_t spool_running(spool *sp)
{
    pthread_mutex_lock(&sp->lock);
    size_t n = sp->running;
    pthread_mutex_unlock(&sp->lock);
    return n;
}

void spool_stop(spool *sp)
{
    pthread_mutex_lock(&sp->lock);
    workers_pool *pool = sp->pool;
    sp->pool = NULL;
    sp->stopped = 1;
    pthread_mutex_unlock(&sp->lock);
    if (pool) {
        workers_stop(pool); /* what has not started stays on disk */
        workers_free(pool); /* and what has finishes */
    }
}
