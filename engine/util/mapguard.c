/* mapguard.c — guarded file mappings (mapguard.h). */
#include "autoconfig.h"
#include "util/mapguard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A slot is free while `start` is 0. Registering writes `end` first and
 * `start` last, so a handler that sees a start sees its end; a handler
 * re-reads start after end to skip a slot being rewritten meanwhile. */
typedef struct slot {
    _Atomic uintptr_t start, end;
    atomic_int lost;
} slot;

static slot slots[MAPGUARD_SLOTS];
static int taken[MAPGUARD_SLOTS]; /* under `lock`: claimed by an owner */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous; /* written under `lock` before install */
static uintptr_t page_mask;

/* Any SIGBUS that is not ours: the previous handler's, else the default
 * action, raised again so that a kill(2)ed SIGBUS is not swallowed. */
static void chain(int sig, siginfo_t *si, void *uc)
{
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction) {
            previous.sa_sigaction(sig, si, uc);
            return;
        }
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
        return;
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig); /* blocked until we return; a fault would fault again anyway */
}

/* The rest of the region from the lost page on becomes zero pages: one
 * call, however much of the file went, and the mapping is never left
 * with a hole another mmap() could take. */
static int zero_from(const slot *s, uintptr_t addr)
{
    uintptr_t end = atomic_load(&s->end), page = addr & page_mask;
    void *m = mmap((void *)page, end - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                   -1, 0);
    return m == MAP_FAILED ? -1 : 0;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    uintptr_t addr = (uintptr_t)si->si_addr;
    for (size_t i = 0; si->si_code > 0 && i < MAPGUARD_SLOTS; i++) {
        slot *s = &slots[i];
        uintptr_t start = atomic_load(&s->start);
        if (!start || addr < start || addr >= atomic_load(&s->end) ||
            atomic_load(&s->start) != start)
            continue;
        if (zero_from(s, addr) == 0) {
            atomic_store(&s->lost, 1);
            errno = saved;
            return; /* the touch is retried and reads 0 */
        }
        break;
    }
    chain(sig, si, uc);
    errno = saved;
}

/* Under `lock`: puts on_sigbus in front unless it is there. */
static int install(void)
{
    struct sigaction now;
    if (sigaction(SIGBUS, NULL, &now) != 0)
        return -1;
    if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_sigbus)
        return 0;
    if (!page_mask)
        page_mask = ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
    previous = now;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, NULL);
}

int mapguard_add(const void *addr, size_t len)
{
    int id = -1;
    pthread_mutex_lock(&lock);
    if (install() == 0) {
        for (int i = 0; i < MAPGUARD_SLOTS && id < 0; i++)
            if (!taken[i])
                id = i;
    }
    if (id >= 0) {
        taken[id] = 1;
        uintptr_t start = (uintptr_t)addr, page = ~page_mask;
        atomic_store(&slots[id].lost, 0);
        atomic_store(&slots[id].end, (start + len + page) & page_mask);
        atomic_store(&slots[id].start, start);
    }
    pthread_mutex_unlock(&lock);
    return id;
}

int mapguard_lost(int id)
{
    return id >= 0 && id < MAPGUARD_SLOTS && atomic_load(&slots[id].lost);
}

void mapguard_remove(int id)
{
    if (id < 0 || id >= MAPGUARD_SLOTS)
        return;
    pthread_mutex_lock(&lock);
    atomic_store(&slots[id].start, 0);
    atomic_store(&slots[id].end, 0);
    taken[id] = 0;
    pthread_mutex_unlock(&lock);
}
