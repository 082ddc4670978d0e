/* job_isolate.c — a job's plugin in a child process (job_isolate.h). */
#include "autoconfig.h"
#include "core/job_isolate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/job.h"
#include "storage/storage_map.h"
#include "util/alloc.h"
#include "util/clock.h"

/* Bounds every payload, so a broken child cannot make the parent allocate
 * without limit; reads and writes larger than this are split. */
#define ISO_CHUNK (4u << 20)
#define ISO_NAME_MAX 4096u
#define ISO_LOOKUPS 16
/* How often the parent looks whether the child is gone although its end of
 * the socket is still open (another job's child forked while it existed
 * holds a copy of it). */
#define ISO_TICK_MS 500
/* A child reading its input itself reports the bytes read at least this
 * often (and every ISO_CHUNK), so the progress line moves as it would. */
#define ISO_REPORT_MS 200

/* The streams' bytes do not go through the socket: they are copied once,
 * through memory shared across the fork. Slots 0 and 1 hold input (the
 * parent reads the next chunk into one while the plugin copies from the
 * other), slot 2 the output being written. */
#define ISO_SHM_SLOTS 3
#define ISO_OUT_SLOT 2

enum req {
    REQ_READ = 1, /* b: cap                      -> reply rc bytes at off */
    REQ_WRITE,    /* b: bytes in the output slot -> reply rc */
    REQ_SETNAME,  /* p1: name                    -> reply rc */
    REQ_SIDE,     /* p1: name, p2: data          -> reply rc */
    REQ_LOG,      /* a: level, p1: text */
    REQ_COUNTER,  /* b: delta, p1: name */
    REQ_ERROR,    /* a: kind, p1: text */
    REQ_LK_OPEN,  /* p1: name                    -> reply rc: id, 0 none */
    REQ_LK_READ,  /* a: id, b: cap               -> reply data */
    REQ_LK_CLOSE, /* a: id */
    REQ_INPUT,    /* b: input bytes the child read itself since the last;
                     a: INPUT_*, c: the error's kind, p1: its message
                                              -> reply rc: -1 the job failed */
    REQ_DONE,     /* b: run()'s rc, c: 1 when memory came near max_memory */
};

/* REQ_INPUT's a: how the input failed, if it did. */
enum {
    INPUT_OK = 0,
    INPUT_READ_FAILED = 1, /* a read's error: the job's unless it has one */
    INPUT_MAP_LOST = 2     /* the mapped file shrank: the cause of whatever
                              the plugin did after, so it replaces the job's */
};

typedef struct frame {
    uint32_t type, a;
    int64_t b, c;
    uint32_t len1, len2;
} frame;

typedef struct reply {
    int64_t rc;   /* the call's result; for a read, its byte count */
    uint64_t off; /* REQ_READ: where in the shared memory those bytes are */
    uint32_t len; /* bytes of data that follow on the socket */
    uint32_t pad;
} reply;

static int needs_reply(uint32_t type)
{
    return type == REQ_READ || type == REQ_WRITE || type == REQ_SETNAME || type == REQ_SIDE ||
           type == REQ_LK_OPEN || type == REQ_LK_READ || type == REQ_INPUT;
}

/* ===== the child ======================================================= */

/* Process-wide by nature: a child serves exactly one job. */
static struct {
    int active;
    int fd;      /* the socket to the parent */
    int note_fd; /* a pipe for the crash handler's one atomic note */
    long page;
    long long vm_limit; /* RLIMIT_AS set, 0: none */
    long long slack;    /* "near the limit" within this many bytes */
    char *shm;          /* ISO_SHM_SLOTS chunks shared with the parent */
    pthread_mutex_t lock;
    /* The input, when the child reads it itself (a forkable reader). */
    storage_reader *input;
    pthread_mutex_t in_lock; /* taken before `lock`, never after */
    int64_t in_unreported;   /* bytes read and not yet reported */
    long long in_reported_at; /* clock_mono_ms() of the last report */
    int in_ended;            /* 1 end of input, -1 a read error or the job failed */
    int in_read;             /* read() was called: too late to map */
    storage_map map;         /* the input mapped (input_map) */
} C;

int job_isolate_in_child(void)
{
    return C.active;
}

/* The parent is gone or broke the protocol: nothing left to do. */
static void child_lost(void)
{
    _exit(125);
}

static void child_send(const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(C.fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            child_lost();
        c += w;
        n -= (size_t)w;
    }
}

static void child_recv(void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = recv(C.fd, c, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            child_lost();
        c += r;
        n -= (size_t)r;
    }
}

/* One request; with a reply, its data (at most `cap` bytes) lands in
 * `out`. Serialised: a plugin may call from threads of its own. */
static int64_t child_call(frame f, const void *p1, const void *p2, void *out, size_t cap)
{
    pthread_mutex_lock(&C.lock);
    if (f.type == REQ_WRITE) /* the output slot is the caller's under the lock */
        memcpy(C.shm + (size_t)ISO_OUT_SLOT * ISO_CHUNK, p1, (size_t)f.b);
    child_send(&f, sizeof f);
    if (f.len1)
        child_send(p1, f.len1);
    if (f.len2)
        child_send(p2, f.len2);
    int64_t rc = 0;
    if (needs_reply(f.type)) {
        reply r;
        child_recv(&r, sizeof r);
        if (r.len > cap)
            child_lost();
        if (r.len)
            child_recv(out, r.len);
        rc = r.rc;
        if (f.type == REQ_READ && rc > 0) {
            if (rc > f.b || r.off > (uint64_t)ISO_OUT_SLOT * ISO_CHUNK - (uint64_t)rc)
                child_lost();
            memcpy(out, C.shm + r.off, (size_t)rc);
        }
    }
    pthread_mutex_unlock(&C.lock);
    return rc;
}

static uint32_t name_len(const char *s)
{
    size_t n = s ? strnlen(s, ISO_NAME_MAX) : 0;
    return (uint32_t)n;
}

/* The parent counts the input the child reads itself (bytes_in, the
 * progress line) as it would its own reads, a chunk's worth at a time.
 * Its answer says whether the job has failed meanwhile (a write refused,
 * the plugin's error()): reading then stops, as job_read() would. */
static void child_report_input(const sl_error *err, uint32_t how)
{
    int failed = err && err->kind != SL_ERR_NONE;
    if (!C.in_unreported && !failed)
        return;
    frame f = {.type = REQ_INPUT, .b = C.in_unreported, .a = failed ? how : 0,
               .c = failed ? err->kind : 0, .len1 = failed ? name_len(err->msg) : 0};
    if (child_call(f, failed ? err->msg : NULL, NULL, NULL, 0) < 0)
        C.in_ended = -1;
    C.in_unreported = 0;
}

static int child_report_due(void)
{
    long long now = clock_mono_ms();
    if (C.in_unreported < (int64_t)ISO_CHUNK && now - C.in_reported_at < ISO_REPORT_MS)
        return 0;
    C.in_reported_at = now;
    return 1;
}

static ssize_t child_read_own(void *buf, size_t cap)
{
    pthread_mutex_lock(&C.in_lock);
    C.in_read = 1;
    ssize_t n = -1;
    if (C.in_ended) {
        n = C.in_ended > 0 ? 0 : -1;
    } else {
        sl_error err = {0};
        n = storage_read(C.input, buf, cap, &err);
        if (n > 0)
            C.in_unreported += n;
        if (n <= 0)
            C.in_ended = n == 0 ? 1 : -1;
        if (n <= 0 || child_report_due())
            child_report_input(n < 0 ? &err : NULL, INPUT_READ_FAILED);
        if (C.in_ended < 0)
            n = -1;
    }
    pthread_mutex_unlock(&C.in_lock);
    return n;
}

int job_isolate_child_input_map(const void **data, size_t *len)
{
    pthread_mutex_lock(&C.in_lock);
    if (!C.map.data && C.input && !C.in_read && !C.in_ended &&
        storage_map_open(&C.map, C.input) == 0)
        C.in_ended = 1; /* read() now returns 0: the input is the mapping */
    int mapped = C.map.data != NULL;
    if (mapped) {
        *data = C.map.data;
        *len = C.map.len;
    }
    pthread_mutex_unlock(&C.in_lock);
    return mapped;
}

void job_isolate_child_input_release(size_t upto)
{
    pthread_mutex_lock(&C.in_lock);
    if (C.map.data) {
        C.in_unreported += (int64_t)storage_map_release(&C.map, upto);
        if (child_report_due())
            child_report_input(NULL, 0);
    }
    pthread_mutex_unlock(&C.in_lock);
}

/* After run(): the rest of a mapping was the plugin's to read. A file that
 * shrank under it is reported as the cause of whatever the plugin did
 * after (REQ_INPUT a: 2, which replaces the job's error). */
static void child_end_input(const char *name)
{
    pthread_mutex_lock(&C.in_lock);
    sl_error lost = {0};
    if (C.map.data) {
        C.in_unreported += (int64_t)storage_map_release(&C.map, C.map.len);
        storage_map_check(&C.map, name, &lost);
    }
    child_report_input(&lost, INPUT_MAP_LOST);
    pthread_mutex_unlock(&C.in_lock);
}

/* The job failed (the plugin said so, a write was refused): reading stops
 * at once, as job_read() stops in the engine's process. */
static void child_job_failed(void)
{
    pthread_mutex_lock(&C.in_lock);
    C.in_ended = -1;
    pthread_mutex_unlock(&C.in_lock);
}

ssize_t job_isolate_child_read(void *buf, size_t cap)
{
    if (C.input)
        return child_read_own(buf, cap);
    size_t n = cap < ISO_CHUNK ? cap : ISO_CHUNK;
    frame f = {.type = REQ_READ, .b = (int64_t)n};
    return (ssize_t)child_call(f, NULL, NULL, buf, n);
}

int job_isolate_child_set_output_name(const char *name)
{
    frame f = {.type = REQ_SETNAME, .len1 = name_len(name)};
    return (int)child_call(f, name, NULL, NULL, 0);
}

/* Writes go in chunks the parent accepts; the first failure ends it. */
static int child_put(uint32_t type, const char *name, const void *buf, size_t len)
{
    const char *p = buf;
    do {
        size_t n = len < ISO_CHUNK ? len : ISO_CHUNK;
        frame f = {.type = type, .b = (int64_t)n, .len1 = type == REQ_SIDE ? name_len(name) : 0,
                   .len2 = type == REQ_SIDE ? (uint32_t)n : 0};
        int64_t rc = type == REQ_SIDE ? child_call(f, name, p, NULL, 0)
                                      : child_call(f, p, NULL, NULL, 0);
        if (rc != 0) {
            child_job_failed();
            return -1;
        }
        p += n;
        len -= n;
    } while (len);
    return 0;
}

int job_isolate_child_write(const void *buf, size_t len)
{
    return child_put(REQ_WRITE, NULL, buf, len);
}

int job_isolate_child_side_write(const char *name, const void *buf, size_t len)
{
    return child_put(REQ_SIDE, name, buf, len);
}

void job_isolate_child_log(sluice_log_level level, const char *text)
{
    frame f = {.type = REQ_LOG, .a = (uint32_t)level, .len1 = name_len(text)};
    child_call(f, text, NULL, NULL, 0);
}

void job_isolate_child_counter_add(const char *name, int64_t delta)
{
    frame f = {.type = REQ_COUNTER, .b = delta, .len1 = name_len(name)};
    child_call(f, name, NULL, NULL, 0);
}

void job_isolate_child_error(sluice_error_kind kind, const char *text)
{
    frame f = {.type = REQ_ERROR, .a = (uint32_t)kind, .len1 = name_len(text)};
    child_call(f, text, NULL, NULL, 0);
    child_job_failed();
}

/* In the child a lookup is the parent's slot number. */
struct child_lookup {
    uint32_t id;
};

sluice_lookup *job_isolate_child_lookup_open(const char *name)
{
    frame f = {.type = REQ_LK_OPEN, .len1 = name_len(name)};
    int64_t id = child_call(f, name, NULL, NULL, 0);
    if (id <= 0)
        return NULL;
    struct child_lookup *l = malloc(sizeof *l);
    if (!l)
        return NULL;
    l->id = (uint32_t)id;
    return (sluice_lookup *)l;
}

ssize_t job_isolate_child_lookup_read(sluice_lookup *lookup, void *buf, size_t cap)
{
    if (!lookup)
        return -1;
    size_t n = cap < ISO_CHUNK ? cap : ISO_CHUNK;
    frame f = {.type = REQ_LK_READ, .a = ((struct child_lookup *)lookup)->id, .b = (int64_t)n};
    return (ssize_t)child_call(f, NULL, NULL, buf, n);
}

void job_isolate_child_lookup_close(sluice_lookup *lookup)
{
    if (!lookup)
        return;
    frame f = {.type = REQ_LK_CLOSE, .a = ((struct child_lookup *)lookup)->id};
    child_call(f, NULL, NULL, NULL, 0);
    free(lookup);
}

/* The address space now, from /proc/self/statm: async-signal-safe. */
static long long vm_now(void)
{
    char b[64];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    long long pages = 0;
    for (ssize_t i = 0; i < n && b[i] >= '0' && b[i] <= '9'; i++)
        pages = pages * 10 + (b[i] - '0');
    return pages * C.page;
}

static int vm_near_limit(long long vm)
{
    return C.vm_limit && vm >= C.vm_limit - C.slack;
}

/* A fatal signal: one note (whether memory was at max_memory) for the
 * parent, then the default action, so the parent sees the signal. */
static void on_fatal(int sig)
{
    char near = (char)vm_near_limit(vm_now());
    if (write(C.note_fd, &near, 1) < 0) {
        /* the parent then names only the signal */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void child_signals(void)
{
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    sigset_t unblock;
    sigemptyset(&unblock);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        signal(fatal[i], on_fatal);
        sigaddset(&unblock, fatal[i]);
    }
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}

/* max_memory: RLIMIT_AS at what the child has mapped now (the engine's
 * inherited mappings) plus what the rule allows the plugin. */
static void child_limit(const job_isolate_limits *lim)
{
    if (!lim->max_memory)
        return;
    C.vm_limit = vm_now() + lim->max_memory;
    C.slack = lim->max_memory / 4;
    struct rlimit rl = {(rlim_t)C.vm_limit, (rlim_t)C.vm_limit};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        child_lost();
}

/* The peak address space, from /proc/self/status (not in a handler). */
static long long vm_peak(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    long long kb = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmPeak: %lld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

/* The engine's listening sockets (serve's port, the metrics port): a child
 * holding a copy would keep accepting connections into a backlog nobody
 * serves once the engine closes its own, as during a stop. Other inherited
 * descriptors stay: the plugin may hold files from init(). */
static void close_listeners(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        int fd = atoi(de->d_name), on = 0;
        socklen_t len = sizeof on;
        if (fd > 2 && fd != dirfd(d) &&
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
            close(fd);
    }
    if (d)
        closedir(d);
}

static void child_main(sluice_job *job, const sluice_plugin *d, void *state, int fd,
                       int note_fd, char *shm, pid_t parent, const job_isolate_limits *lim,
                       storage_reader *own_input)
{
    setpgid(0, 0); /* the timeout kills the whole group */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(125);
    C.fd = fd;
    C.note_fd = note_fd;
    C.shm = shm;
    C.page = sysconf(_SC_PAGESIZE);
    pthread_mutex_init(&C.lock, NULL);
    pthread_mutex_init(&C.in_lock, NULL);
    C.input = own_input;
    C.in_reported_at = clock_mono_ms();
    C.active = 1;
    child_signals();
    close_listeners();
    child_limit(lim);
    int rc = d->run(state, job);
    child_end_input(job_input_name(job)); /* and the bytes since the last report */
    frame f = {.type = REQ_DONE, .b = rc, .c = vm_near_limit(vm_peak())};
    child_call(f, NULL, NULL, NULL, 0);
    _exit(0);
}

/* ===== the parent ====================================================== */

typedef struct server {
    sluice_job *job;
    const char *plugin;
    const job_isolate_limits *lim;
    int fd;
    pid_t pid;
    long long deadline; /* monotonic ms; 0: none */
    int cut_off;        /* the deadline is the spec's, not the rule's timeout */
    int timed_out, reaped, status;
    char *msg;          /* why serving stopped, besides the child's end */
    char *shm;          /* ISO_SHM_SLOTS chunks shared with the child */
    /* input: two slots of shm, one the plugin copies from, the other read
     * ahead while the plugin works */
    struct in_slot {
        size_t off, len;
        int end;  /* 1 end of input, -1 error */
        int full; /* filled and not yet used up */
    } in[2];
    int cur;    /* the slot being handed out */
    int own_input; /* the child reads the input itself: no slot is used */
    char *buf;  /* a request's payload */
    sluice_lookup *lookups[ISO_LOOKUPS + 1];
} server;

static void reap(server *s, int flags)
{
    if (s->reaped)
        return;
    pid_t r;
    while ((r = waitpid(s->pid, &s->status, flags)) < 0 && errno == EINTR)
        ;
    if (r == s->pid)
        s->reaped = 1;
}

static void kill_child(server *s)
{
    if (s->reaped)
        return;
    kill(-s->pid, SIGKILL);
    kill(s->pid, SIGKILL);
}

/* Waits until the socket is ready for `events`. -1 when the timeout
 * passed (the child is killed) or the child is gone. */
static int wait_ready(server *s, short events)
{
    struct pollfd p = {.fd = s->fd, .events = events};
    for (;;) {
        int ms = ISO_TICK_MS;
        if (s->deadline) {
            long long left = s->deadline - clock_mono_ms();
            if (left <= 0) {
                s->timed_out = 1;
                kill_child(s);
                return -1;
            }
            if (left < ms)
                ms = (int)left;
        }
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
        if (r == 0) {
            reap(s, WNOHANG);
            if (s->reaped)
                return -1;
        }
    }
}

static int recv_all(server *s, void *p, size_t n)
{
    char *c = p;
    while (n) {
        if (wait_ready(s, POLLIN) != 0)
            return -1;
        ssize_t r = recv(s->fd, c, n, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static int send_all(server *s, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        if (wait_ready(s, POLLOUT) != 0)
            return -1;
        ssize_t w = send(s->fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int answer_at(server *s, int64_t rc, uint64_t off)
{
    reply r = {.rc = rc, .off = off};
    return send_all(s, &r, sizeof r);
}

static int answer(server *s, int64_t rc, const void *data, uint32_t len)
{
    reply r = {.rc = rc, .len = len};
    if (send_all(s, &r, sizeof r) != 0)
        return -1;
    return len ? send_all(s, data, len) : 0;
}

/* The next input chunk from the job's reader into slot i. */
static void fill(server *s, int i)
{
    struct in_slot *c = &s->in[i];
    ssize_t n = job_read(s->job, s->shm + (size_t)i * ISO_CHUNK, ISO_CHUNK);
    c->off = 0;
    c->len = n > 0 ? (size_t)n : 0;
    c->end = n > 0 ? 0 : n == 0 ? 1 : -1;
    c->full = 1;
}

static int serve_read(server *s, size_t cap)
{
    struct in_slot *c = &s->in[s->cur];
    if (c->off == c->len && !c->end) { /* used up: on to the other slot */
        c->full = 0;
        s->cur ^= 1;
        c = &s->in[s->cur];
        if (!c->full)
            fill(s, s->cur);
    }
    size_t n = c->len - c->off < cap ? c->len - c->off : cap;
    int rc = n ? answer_at(s, (int64_t)n, (uint64_t)s->cur * ISO_CHUNK + c->off)
               : answer(s, c->end < 0 ? -1 : 0, NULL, 0);
    c->off += n;
    if (rc == 0 && !c->end && !s->in[s->cur ^ 1].full)
        fill(s, s->cur ^ 1); /* read ahead while the plugin works on this chunk */
    return rc;
}

static void job_log_text(sluice_job *job, sluice_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job_vlog(job, level, fmt, ap);
    va_end(ap);
}

static void job_error_text(sluice_job *job, sluice_error_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job_verror(job, kind, fmt, ap);
    va_end(ap);
}

static int serve_lookup_open(server *s, const char *name)
{
    for (uint32_t id = 1; id <= ISO_LOOKUPS; id++) {
        if (s->lookups[id])
            continue;
        s->lookups[id] = job_lookup_open(s->job, name);
        return answer(s, s->lookups[id] ? id : 0, NULL, 0);
    }
    job_log_text(s->job, SLUICE_LOG_WARN, "isolated plugin opened more than %d lookup files "
                 "at once: lookup \"%s\" refused", ISO_LOOKUPS, name);
    return answer(s, 0, NULL, 0);
}

static sluice_lookup *lookup_slot(server *s, uint32_t id)
{
    return id >= 1 && id <= ISO_LOOKUPS ? s->lookups[id] : NULL;
}

static int serve_lookup_read(server *s, uint32_t id, size_t cap)
{
    sluice_lookup *l = lookup_slot(s, id);
    ssize_t n = l ? job_lookup_read(l, s->buf, cap) : -1;
    return answer(s, n, s->buf, n > 0 ? (uint32_t)n : 0);
}

/* The child holds the input reader: the parent's copy is stale. */
static int refuse_read(server *s)
{
    s->msg = xasprintf("the isolated plugin asked the engine for input it reads itself");
    return -1;
}

/* The child read input itself: count it, and take its read error as the
 * job's (as job_read() would have). */
static int serve_input(server *s, const frame *f, const char *msg)
{
    if (!s->own_input || f->b < 0) {
        s->msg = xasprintf("the isolated plugin reported input it was not given to read");
        return -1;
    }
    if (f->b)
        job_count_input(s->job, f->b);
    if (f->a != INPUT_OK) {
        sl_error_kind kind = f->c > SL_ERR_NONE && f->c <= SL_ERR_INTERNAL ? (sl_error_kind)f->c
                                                                           : SL_ERR_STORAGE;
        if (f->a == INPUT_MAP_LOST)
            sl_error_reset(job_error(s->job));
        sl_error_set(job_error(s->job), kind, "%s", msg);
    }
    return answer(s, job_error(s->job)->kind != SL_ERR_NONE ? -1 : 0, NULL, 0);
}

/* One request; its payload is in s->buf (p1, NUL, p2). */
static int serve_one(server *s, const frame *f)
{
    char *p1 = s->buf, *p2 = s->buf + f->len1 + 1;
    switch (f->type) {
    case REQ_READ:
        return s->own_input ? refuse_read(s) : serve_read(s, (size_t)f->b);
    case REQ_WRITE:
        return answer(s, job_write(s->job, s->shm + (size_t)ISO_OUT_SLOT * ISO_CHUNK,
                                   (size_t)f->b), NULL, 0);
    case REQ_SETNAME: return answer(s, job_set_output_name(s->job, p1), NULL, 0);
    case REQ_SIDE: return answer(s, job_side_write(s->job, p1, p2, f->len2), NULL, 0);
    case REQ_LOG: job_log_text(s->job, (sluice_log_level)f->a, "%s", p1); return 0;
    case REQ_COUNTER: job_counter_add(s->job, p1, f->b); return 0;
    case REQ_ERROR: job_error_text(s->job, (sluice_error_kind)f->a, "%s", p1); return 0;
    case REQ_INPUT: return serve_input(s, f, p1);
    case REQ_LK_OPEN: return serve_lookup_open(s, p1);
    case REQ_LK_READ: return serve_lookup_read(s, f->a, (size_t)f->b);
    case REQ_LK_CLOSE:
        if (lookup_slot(s, f->a)) {
            job_lookup_close(s->lookups[f->a]);
            s->lookups[f->a] = NULL;
        }
        return 0;
    }
    s->msg = xasprintf("the isolated plugin sent an unknown request %u", f->type);
    return -1;
}

static int payload_ok(const frame *f)
{
    int sized = f->type == REQ_READ || f->type == REQ_LK_READ || f->type == REQ_WRITE;
    return f->len1 <= ISO_NAME_MAX && f->len2 <= (f->type == REQ_SIDE ? ISO_CHUNK : 0) &&
           (!sized || (f->b >= 0 && f->b <= ISO_CHUNK));
}

/* Serves the child until it reports run()'s end: 0 with *rc and *near_mem
 * set, or -1 when the child ended otherwise (or the timeout passed). */
static int serve(server *s, int *rc, int *near_mem)
{
    for (;;) {
        frame f;
        if (recv_all(s, &f, sizeof f) != 0)
            return -1;
        if (!payload_ok(&f)) {
            s->msg = xasprintf("the isolated plugin sent a malformed request (type %u)", f.type);
            return -1;
        }
        if (recv_all(s, s->buf, f.len1) != 0)
            return -1;
        s->buf[f.len1] = '\0';
        if (recv_all(s, s->buf + f.len1 + 1, f.len2) != 0)
            return -1;
        if (f.type == REQ_DONE) {
            *rc = (int)f.b;
            *near_mem = f.c != 0;
            return 0;
        }
        if (serve_one(s, &f) != 0)
            return -1;
    }
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGABRT: return "SIGABRT";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGXCPU: return "SIGXCPU";
    case SIGPIPE: return "SIGPIPE";
    }
    return "signal";
}

/* Sets or, when the plugin had already failed the job, extends its error:
 * the first message stays first, the child's end is still named. */
static void fail_job(sluice_job *job, sl_error_kind kind, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    sl_error *e = job_error(job);
    if (e->kind == SL_ERR_NONE) {
        sl_error_set(e, kind, "%s", what);
        return;
    }
    size_t n = strlen(e->msg);
    snprintf(e->msg + n, sizeof e->msg - n, "; then %s", what);
}

/* The child ended without reporting run()'s end: say how. */
static void explain_end(server *s, int near_mem)
{
    const char *name = s->plugin;
    char mem[160] = "";
    if (near_mem)
        snprintf(mem, sizeof mem, "exceeded max_memory %s: ", s->lim->max_memory_text);
    if (s->timed_out && s->cut_off)
        fail_job(s->job, SL_ERR_TIMEOUT,
                 "cut off: the invocation's deadline came before the job finished");
    else if (s->timed_out)
        fail_job(s->job, SL_ERR_TIMEOUT, "plugin %s exceeded timeout %s: killed", name,
                 s->lim->timeout);
    else if (s->msg)
        fail_job(s->job, SL_ERR_PLUGIN, "plugin %s: %s", name, s->msg);
    else if (WIFSIGNALED(s->status))
        fail_job(s->job, SL_ERR_PLUGIN, "plugin %s %scrashed: %s (signal %d)", name, mem,
                 signal_name(WTERMSIG(s->status)), WTERMSIG(s->status));
    else if (WIFEXITED(s->status))
        fail_job(s->job, SL_ERR_PLUGIN,
                 "plugin %s %sexited with status %d without finishing the job", name, mem,
                 WEXITSTATUS(s->status));
    else
        fail_job(s->job, SL_ERR_PLUGIN, "plugin %s ended without finishing the job", name);
}

static int read_note(int fd)
{
    char near = 0;
    return read(fd, &near, 1) == 1 && near;
}

/* The earlier of the rule's timeout and the spec's deadline, on the
 * monotonic clock. */
static void set_deadline(server *s)
{
    long long now = clock_mono_ms();
    s->deadline = s->lim->timeout_ms ? now + s->lim->timeout_ms : 0;
    if (!s->lim->deadline_ms)
        return;
    long long cut = now + (s->lim->deadline_ms - clock_now_ms());
    if (!s->deadline || cut < s->deadline) {
        s->deadline = cut;
        s->cut_off = 1;
    }
}

static pid_t start_child(sluice_job *job, const sluice_plugin *d, void *state, int sv[2],
                         int note[2], char *shm, const job_isolate_limits *lim,
                         storage_reader *own_input)
{
    pid_t parent = getpid();
    fflush(NULL); /* nothing buffered is written twice by an exit() in the child */
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        close(note[0]);
        child_main(job, d, state, sv[1], note[1], shm, parent, lim, own_input);
    }
    if (pid > 0)
        setpgid(pid, pid); /* also here: whichever runs first */
    close(sv[1]);
    close(note[1]);
    return pid;
}

int job_isolate_run(sluice_job *job, const sluice_plugin *d, void *state,
                    const job_isolate_limits *lim, storage_reader *own_input)
{
    int sv[2], note[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        goto no_child;
    if (pipe2(note, O_CLOEXEC | O_NONBLOCK) != 0) {
        close(sv[0]);
        close(sv[1]);
        goto no_child;
    }
    size_t shm_size = (size_t)ISO_SHM_SLOTS * ISO_CHUNK;
    char *shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) {
        close(sv[0]);
        close(sv[1]);
        close(note[0]);
        close(note[1]);
        goto no_child;
    }
    server s = {.job = job, .plugin = d->name, .lim = lim, .fd = sv[0], .shm = shm,
                .own_input = own_input != NULL};
    s.pid = start_child(job, d, state, sv, note, shm, lim, own_input);
    if (s.pid < 0) {
        close(sv[0]);
        close(note[0]);
        munmap(shm, shm_size);
        goto no_child;
    }
    set_deadline(&s);
    s.buf = xmalloc(ISO_CHUNK + ISO_NAME_MAX + 2);
    int rc = SLUICE_ERROR, near_mem = 0;
    int done = serve(&s, &rc, &near_mem) == 0;
    if (!done)
        kill_child(&s); /* it may still run: a broken protocol, a timeout */
    close(s.fd);
    reap(&s, 0);
    if (!done)
        explain_end(&s, read_note(note[0]));
    else if (near_mem && rc != SLUICE_OK)
        fail_job(job, SL_ERR_PLUGIN, "plugin %s exceeded max_memory %s", d->name,
                 lim->max_memory_text);
    close(note[0]);
    munmap(shm, shm_size);
    free(s.buf);
    free(s.msg);
    return done ? rc : SLUICE_ERROR;
no_child:
    fail_job(job, SL_ERR_INTERNAL, "cannot start the isolated process for plugin %s: %s",
             d->name, strerror(errno));
    return SLUICE_ERROR;
}
