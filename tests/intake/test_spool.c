/* test_spool.c — the durable spool: entries on disk with their exact
 * bytes before spool_put() returns, arrival order, one process per spool,
 * leftovers queued again on open, temporaries dropped, deletion after the
 * handler, a stop that finishes the running entry and keeps the rest; the
 * count of starts on disk, naming each process that started the entry, and
 * the quarantine of an entry started max_attempts times without an end
 * (moved aside, handed to the quarantine callback, never to the handler).
 *
 * No step waits a fixed time: the stop test holds its handler in the
 * middle of an entry until spool_stop() is under way (see gate below). */
#include "autoconfig.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intake/spool.h"
#include "util/alloc.h"
#include "util/procid.h"
#include "util/strbuf.h"
#include "tap.h"

/* The gate of the stop test. The handler announces that it started and
 * waits until it is released. spool_stop() sets its stop flag under the
 * spool's lock and then joins the workers; this test is linked with
 * -Wl,--wrap=pthread_join, so the join is the observable moment at which
 * the stop has been requested: the held handler is released from there,
 * never earlier, whatever the machine's speed. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int armed, started, released;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

int __real_pthread_join(pthread_t t, void **ret);
int __wrap_pthread_join(pthread_t t, void **ret);
int __wrap_pthread_join(pthread_t t, void **ret)
{
    pthread_mutex_lock(&gate.lock);
    gate.released = 1;
    pthread_cond_broadcast(&gate.cond);
    pthread_mutex_unlock(&gate.lock);
    return __real_pthread_join(t, ret);
}

/* Waits up to 60 s for the handler to start; 1 when it did. */
static int gate_wait_started(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&gate.lock);
    while (!gate.started)
        if (pthread_cond_timedwait(&gate.cond, &gate.lock, &deadline) != 0)
            break;
    int started = gate.started;
    pthread_mutex_unlock(&gate.lock);
    return started;
}

typedef struct seen {
    pthread_mutex_t lock;
    char data[8][64];
    int n;
} seen;

static void record(void *ud, const char *id, const char *data, size_t len)
{
    seen *s = ud;
    (void)id;
    pthread_mutex_lock(&gate.lock);
    if (gate.armed) {
        gate.started++;
        pthread_cond_broadcast(&gate.cond);
        while (!gate.released)
            pthread_cond_wait(&gate.cond, &gate.lock);
    }
    pthread_mutex_unlock(&gate.lock);
    pthread_mutex_lock(&s->lock);
    if (s->n < 8)
        snprintf(s->data[s->n++], sizeof s->data[0], "%.*s", (int)len, data);
    pthread_mutex_unlock(&s->lock);
}

static size_t count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (de->d_name[0] != '.' && l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* Polls until `pending` entries are left; gives up after max_ms. */
static int wait_until(spool *sp, size_t pending, int max_ms)
{
    for (int i = 0; i < max_ms / 10; i++) {
        if (spool_pending(sp) == pending)
            return 1;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return spool_pending(sp) == pending;
}

static void read_entry(const char *dir, const char *id, strbuf *out)
{
    char *path = xasprintf("%s/%s.json", dir, id);
    sb_reset(out);
    sb_read_file(out, path);
    free(path);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* A spool entry ID in dir as a crash left it: its event, and its attempts
 * file when `attempts` is not NULL. */
static void put_entry(const char *dir, const char *id, const char *event, const char *attempts)
{
    char *p = xasprintf("%s/%s.json", dir, id);
    write_file(p, event);
    free(p);
    if (attempts) {
        p = xasprintf("%s/%s.attempts", dir, id);
        write_file(p, attempts);
        free(p);
    }
}

/* A handler that keeps what the attempts file said while it ran. */
static struct {
    const char *dir;
    char attempts[8][512];
    int n;
} peek;

static void peek_attempts(void *ud, const char *id, const char *data, size_t len)
{
    (void)ud, (void)data, (void)len;
    char *path = xasprintf("%s/%s.attempts", peek.dir, id);
    strbuf sb = STRBUF_INIT;
    sb_read_file(&sb, path);
    if (peek.n < 8)
        snprintf(peek.attempts[peek.n++], sizeof peek.attempts[0], "%s", sb_str(&sb));
    sb_free(&sb);
    free(path);
}

/* What the quarantine callback was told. */
static struct {
    int calls, attempts, max_attempts;
    char id[SPOOL_ID_MAX], path[1024], data[256], procs[4][128];
    size_t n_procs;
} quar;

static void on_quarantine(void *ud, const spool_quarantined *q)
{
    (void)ud;
    quar.calls++;
    snprintf(quar.id, sizeof quar.id, "%s", q->id);
    snprintf(quar.path, sizeof quar.path, "%s", q->path);
    snprintf(quar.data, sizeof quar.data, "%s", q->data ? q->data : "(null)");
    quar.attempts = q->attempts;
    quar.max_attempts = q->max_attempts;
    quar.n_procs = q->n_processes;
    for (size_t i = 0; i < q->n_processes && i < 4; i++)
        snprintf(quar.procs[i], sizeof quar.procs[0], "%s", q->processes[i]);
}

/* Starts are counted with the process that made them; an entry at
 * max_attempts goes to quarantine/ and to the callback. */
static void test_attempts_and_quarantine(const char *base)
{
    char *dir = xasprintf("%s/q/spool", base);
    char me[PROCID_TAG_MAX];
    procid_format(procid_self(), me);
    sl_error err = {0};
    spool *sp = spool_open(dir, &err);
    ok(sp != NULL, "open a spool for the quarantine: %s", err.msg);
    spool_close(sp);

    const char *gone1 = "4242-100-0badc0de@etl-1", *gone2 = "4343-200-0badc0de@etl-1";
    /* started twice before, by two processes that died: at the limit */
    char *text = xasprintf("2\n%s\n%s\n", gone1, gone2);
    put_entry(dir, "1764000000000-000001-aaaaaaaa", "{\"n\":\"crashes\"}", text);
    free(text);
    /* started once by a process that died: runs again, counted */
    text = xasprintf("1\n%s\n", gone1);
    put_entry(dir, "1764000000000-000002-bbbbbbbb", "{\"n\":\"again\"}", text);
    free(text);
    /* counted by an older sluice, which kept the number only */
    put_entry(dir, "1764000000000-000003-cccccccc", "{\"n\":\"old\"}", "1\n");
    /* never started */
    put_entry(dir, "1764000000000-000004-dddddddd", "{\"n\":\"new\"}", NULL);

    peek.dir = dir;
    sp = spool_open(dir, &err);
    spool_set_max_attempts(sp, 2);
    spool_on_quarantine(sp, on_quarantine, NULL);
    is_int(spool_start(sp, 1, peek_attempts, NULL), 1, "one worker starts");
    ok(wait_until(sp, 0, 60000), "the worker empties the spool");
    spool_close(sp);

    is_int(quar.calls, 1, "one entry quarantined");
    is_str(quar.id, "1764000000000-000001-aaaaaaaa", "the one at the limit");
    is_int(quar.attempts, 2, "its starts");
    is_int(quar.max_attempts, 2, "and the limit");
    ok(quar.path[0] == '/' && strstr(quar.path, "/q/spool/quarantine/"
                                                "1764000000000-000001-aaaaaaaa.json") != NULL,
       "the callback gets where it lies now, absolute: %s", quar.path);
    is_str(quar.data, "{\"n\":\"crashes\"}", "and its bytes");
    is_int((int64_t)quar.n_procs, 2, "and the processes that started it");
    is_str(quar.procs[0], gone1, "oldest first (1)");
    is_str(quar.procs[1], gone2, "(2)");
    struct stat st;
    ok(stat(quar.path, &st) == 0, "the entry is in quarantine/");
    char *p = xasprintf("%s/1764000000000-000001-aaaaaaaa.attempts", dir);
    ok(stat(p, &st) != 0, "its attempts file is gone");
    free(p);

    is_int(peek.n, 3, "the handler ran the three others, never the quarantined one");
    char *want = xasprintf("2\n%s\n%s\n", gone1, me);
    is_str(peek.attempts[0], want, "a start is counted with this process after the earlier ones");
    free(want);
    want = xasprintf("2\n%s\n", me);
    is_str(peek.attempts[1], want, "an older count file goes on from its number");
    free(want);
    want = xasprintf("1\n%s\n", me);
    is_str(peek.attempts[2], want, "a first start names this process");
    free(want);
    is_int((int64_t)count_files(dir, ".attempts"), 0, "handled entries leave no count behind");
    free(dir);
}

int main(void)
{
    char tmpl[] = "/tmp/sluice-spool-test.XXXXXX";
    char *base = mkdtemp(tmpl);
    char *dir = xasprintf("%s/a/spool", base); /* parents are created too */
    sl_error err = {0};
    seen s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    strbuf buf = STRBUF_INIT;
    char id1[SPOOL_ID_MAX], id2[SPOOL_ID_MAX], id3[SPOOL_ID_MAX];

    spool *sp = spool_open(dir, &err);
    ok(sp != NULL, "open creates the spool directory: %s", err.msg);
    is_int(spool_pending(sp), 0, "a new spool is empty");
    is_int(spool_put(sp, "{\"n\":1}", 7, id1, &err), 0, "put 1");
    is_int(spool_put(sp, "{\"n\":2}", 7, id2, &err), 0, "put 2");
    is_int(spool_put(sp, "{\"n\":3}", 7, id3, &err), 0, "put 3");
    ok(strcmp(id1, id2) < 0 && strcmp(id2, id3) < 0, "ids sort in arrival order: %s %s %s", id1,
       id2, id3);
    read_entry(dir, id2, &buf);
    is_str(sb_str(&buf), "{\"n\":2}", "the entry holds the exact bytes once put returned");
    is_int((int64_t)count_files(dir, ".json"), 3, "three entries on disk");
    char *tmpdir = xasprintf("%s/tmp", dir);
    is_int((int64_t)count_files(tmpdir, ".json"), 0, "nothing left in tmp/");
    is_int(spool_pending(sp), 3, "three pending (no workers)");

    sl_error e2 = {0};
    ok(spool_open(dir, &e2) == NULL, "a second process cannot open the same spool");
    ok(strstr(e2.msg, "in use") != NULL, "and is told why: %s", e2.msg);
    spool_close(sp); /* as after a crash: the entries stay */

    /* A temporary from an interrupted put is dropped on open. */
    char *stale = xasprintf("%s/0000000000000-000000-00000000.json", tmpdir);
    FILE *fp = fopen(stale, "w");
    fputs("{\"half", fp);
    fclose(fp);
    sp = spool_open(dir, &err);
    ok(sp != NULL, "reopen");
    is_int(spool_pending(sp), 3, "leftovers queued again on open");
    is_int((int64_t)count_files(tmpdir, ".json"), 0, "a stale temporary is removed on open");
    is_int(spool_start(sp, 1, record, &s), 1, "one worker starts");
    ok(wait_until(sp, 0, 60000), "the worker empties the spool");
    is_int(s.n, 3, "the handler ran three times");
    is_str(s.data[0], "{\"n\":1}", "oldest first (1)");
    is_str(s.data[1], "{\"n\":2}", "then 2");
    is_str(s.data[2], "{\"n\":3}", "then 3");
    is_int((int64_t)count_files(dir, ".json"), 0, "handled entries are deleted");
    is_int(spool_put(sp, "{\"n\":4}", 7, id1, &err), 0, "put while running");
    ok(wait_until(sp, 0, 60000), "a new entry is handled");
    is_str(s.data[3], "{\"n\":4}", "the new entry's bytes");
    spool_close(sp);

    /* Stop while busy: the running entry finishes, the others stay. The
     * handler holds entry 5 until spool_stop() joins the worker. */
    s.n = 0;
    gate.armed = 1;
    gate.released = 0;
    sp = spool_open(dir, &err);
    spool_put(sp, "{\"n\":5}", 7, id1, &err);
    spool_put(sp, "{\"n\":6}", 7, id2, &err);
    spool_put(sp, "{\"n\":7}", 7, id3, &err);
    spool_start(sp, 1, record, &s);
    ok(gate_wait_started(), "the worker is in the middle of the first entry");
    is_int(spool_running(sp), 1, "one entry running");
    spool_stop(sp);
    is_int(s.n, 1, "stop waited for the running entry only");
    is_str(s.data[0], "{\"n\":5}", "the running entry was finished");
    is_int((int64_t)count_files(dir, ".json"), 2, "the two not started stay on disk");
    spool_close(sp);
    sp = spool_open(dir, &err);
    is_int(spool_pending(sp), 2, "and are queued at the next start");
    spool_close(sp);

    sl_error e3 = {0};
    ok(spool_open("/proc/no-such-spool", &e3) == NULL, "an uncreatable directory is an error");

    test_attempts_and_quarantine(base);

    sb_free(&buf);
    free(stale);
    free(tmpdir);
    free(dir);
    char *cmd = xasprintf("rm -rf '%s'", base);
    if (system(cmd) != 0)
        diag_note("cleanup failed");
    free(cmd);
    return done_testing();
}
