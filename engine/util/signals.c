/* signals.c — one thread takes SIGTERM, SIGINT and SIGHUP (signals.h). */
#include "autoconfig.h"
#include "util/signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Process-wide by nature: signals are delivered to the process. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int started;
    atomic_int stopping;
    atomic_int stop_sig;
    atomic_uint hangups;
    int fd;
    signals_hook hook;
    void *hook_ud;
    sigset_t set;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER, .fd = -1};

static void wake_fd(void)
{
    uint64_t one = 1;
    if (write(S.fd, &one, sizeof one) < 0) {
        /* a full counter is readable already */
    }
}

static void take(int sig)
{
    pthread_mutex_lock(&S.lock);
    if (sig == SIGHUP) {
        atomic_fetch_add(&S.hangups, 1);
    } else {
        atomic_store(&S.stop_sig, sig);
        atomic_store(&S.stopping, 1);
    }
    signals_hook hook = S.hook;
    void *ud = S.hook_ud;
    pthread_cond_broadcast(&S.changed);
    pthread_mutex_unlock(&S.lock);
    wake_fd();
    if (hook)
        hook(sig, ud);
}

static void *signal_thread(void *arg)
{
    (void)arg;
    for (;;) {
        int sig;
        if (sigwait(&S.set, &sig) == 0)
            take(sig);
    }
    return NULL;
}

void signals_ignore_write_faults(void)
{
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
}

int signals_start(signals_hook hook, void *ud)
{
    pthread_mutex_lock(&S.lock);
    S.hook = hook;
    S.hook_ud = ud;
    if (S.started) {
        pthread_mutex_unlock(&S.lock);
        return 0;
    }
    S.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (S.fd < 0) {
        pthread_mutex_unlock(&S.lock);
        return -1;
    }
    sigemptyset(&S.set);
    sigaddset(&S.set, SIGTERM);
    sigaddset(&S.set, SIGINT);
    sigaddset(&S.set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &S.set, NULL);
    signals_ignore_write_faults();
    pthread_t tid;
    int rc = pthread_create(&tid, NULL, signal_thread, NULL);
    if (rc != 0) {
        pthread_sigmask(SIG_UNBLOCK, &S.set, NULL);
        close(S.fd);
        S.fd = -1;
        pthread_mutex_unlock(&S.lock);
        errno = rc;
        return -1;
    }
    /* it lives as long as the process */
    pthread_detach(tid);
    S.started = 1;
    pthread_mutex_unlock(&S.lock);
    return 0;
}

int signals_stopping(void)
{
    return atomic_load(&S.stopping);
}

void signals_request_stop(void)
{
    pthread_mutex_lock(&S.lock);
    atomic_store(&S.stopping, 1);
    pthread_cond_broadcast(&S.changed);
    pthread_mutex_unlock(&S.lock);
    if (S.fd >= 0)
        wake_fd();
}

int signals_wait(long timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    if (timeout_ms >= 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&S.lock);
    while (!atomic_load(&S.stopping)) {
        if (timeout_ms < 0)
            pthread_cond_wait(&S.changed, &S.lock);
        else if (pthread_cond_timedwait(&S.changed, &S.lock, &deadline) == ETIMEDOUT)
            break;
    }
    int stopping = atomic_load(&S.stopping);
    pthread_mutex_unlock(&S.lock);
    return stopping;
}

int signals_fd(void)
{
    return S.fd;
}

void signals_fd_drain(void)
{
    uint64_t n;
    if (S.fd >= 0 && read(S.fd, &n, sizeof n) < 0) {
        /* EAGAIN: nothing to drain */
    }
}

unsigned signals_hangups(void)
{
    return atomic_load(&S.hangups);
}

const char *signals_stop_name(void)
{
    int sig = atomic_load(&S.stop_sig);
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "stop";
}
