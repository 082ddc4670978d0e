/* test_mapguard.c — guarded file mappings (engine/util/mapguard.h).
 *
 * A guarded mapping whose file is truncated reads zeros past the new end
 * and is marked lost, from any thread, and the bytes before the end keep
 * their values; any other SIGBUS still ends the process as it did (the
 * default action, or the handler that was there first), including one
 * sent with kill(2); a handler installed after the guard is put behind it
 * again at the next mapguard_add(); the slots run out and come back.
 * Whatever may kill its process runs in a forked child, judged by how that
 * child ended. */
#include "autoconfig.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util/mapguard.h"

static size_t page;

/* A file of `pages` pages, each page filled with its number + 1. */
static int make_file(int pages, char *path)
{
    strcpy(path, "/tmp/sluice-mapguard.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    char *buf = malloc(page);
    for (int i = 0; i < pages; i++) {
        memset(buf, i + 1, page);
        if (write(fd, buf, page) != (ssize_t)page) {
            free(buf);
            close(fd);
            return -1;
        }
    }
    free(buf);
    return fd;
}

/* A mapping of a fresh `pages`-page file: its descriptor in *fd. */
static const volatile char *map_file(int pages, int *fd)
{
    char path[64];
    *fd = make_file(pages, path);
    if (*fd < 0)
        return NULL;
    void *m = mmap(NULL, (size_t)pages * page, PROT_READ, MAP_PRIVATE, *fd, 0);
    return m == MAP_FAILED ? NULL : m;
}

static void test_truncated(void)
{
    int fd;
    const volatile char *m = map_file(4, &fd);
    ok(m != NULL, "a 4-page file mapped");
    int g = mapguard_add((const void *)m, 4 * page);
    ok(g >= 0, "guarded (slot %d)", g);
    is_int(m[2 * page], 3, "page 2 reads its byte before the truncation");
    is_int(mapguard_lost(g), 0, "nothing lost yet");
    ok(ftruncate(fd, (off_t)page) == 0, "file cut to one page");
    is_int(m[2 * page + 5], 0, "a byte of page 2 now reads 0, no SIGBUS");
    is_int(mapguard_lost(g), 1, "... and the region is marked lost");
    is_int(m[4 * page - 1], 0, "the last byte of the region reads 0 too");
    is_int(m[page - 1], 1, "page 0, still in the file, keeps its bytes");
    mapguard_remove(g);
    munmap((void *)m, 4 * page);
    close(fd);
}

typedef struct toucher {
    const volatile char *m;
    size_t at;
    int got;
} toucher;

static void *touch(void *arg)
{
    toucher *t = arg;
    t->got = t->m[t->at];
    return NULL;
}

/* Each thread faults in its own guarded region at the same time. */
static void test_threads(void)
{
    enum { N = 4 };
    int fds[N], gs[N];
    const volatile char *ms[N];
    toucher ts[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        ms[i] = map_file(3, &fds[i]);
        gs[i] = mapguard_add((const void *)ms[i], 3 * page);
        ftruncate(fds[i], 0);
        ts[i] = (toucher){ms[i], page + (size_t)i, -1};
    }
    for (int i = 0; i < N; i++)
        pthread_create(&th[i], NULL, touch, &ts[i]);
    int zeros = 0, lost = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        zeros += ts[i].got == 0;
        lost += mapguard_lost(gs[i]);
        mapguard_remove(gs[i]);
        munmap((void *)ms[i], 3 * page);
        close(fds[i]);
    }
    is_int(zeros, N, "%d threads each read 0 from their own truncated region", N);
    is_int(lost, N, "... and each region is marked lost");
}

static void test_slots(void)
{
    static char buf[1];
    int gs[MAPGUARD_SLOTS], all = 1;
    for (int i = 0; i < MAPGUARD_SLOTS; i++)
        all &= (gs[i] = mapguard_add(buf, 1)) >= 0;
    ok(all, "%d regions guarded at once", MAPGUARD_SLOTS);
    is_int(mapguard_add(buf, 1), -1, "one more is refused");
    mapguard_remove(gs[7]);
    int again = mapguard_add(buf, 1);
    is_int(again, gs[7], "a slot removed is taken again");
    for (int i = 0; i < MAPGUARD_SLOTS; i++)
        mapguard_remove(i == 7 ? again : gs[i]);
    is_int(mapguard_lost(-1), 0, "slot -1 (a refused add) is never lost");
    mapguard_remove(-1);
}

/* ---- in a child: how it ends ------------------------------------------ */

static void on_bus_exit(int sig)
{
    (void)sig;
    _exit(42);
}

/* A fault in an unguarded mapping while a guard is installed. */
static void fault_unguarded(void)
{
    int fd, gfd;
    const volatile char *guarded = map_file(2, &gfd);
    mapguard_add((const void *)guarded, 2 * page);
    const volatile char *m = map_file(2, &fd);
    ftruncate(fd, 0);
    (void)m[page];
}

typedef enum { DEFAULT_ACTION, PREVIOUS_HANDLER, KILLED, REPLACED_THEN_READDED } scene;

static void child(scene s)
{
    signal(SIGBUS, SIG_DFL); /* a sanitizer's own handler is not the point */
    switch (s) {
    case DEFAULT_ACTION:
        fault_unguarded();
        break;
    case PREVIOUS_HANDLER:
        signal(SIGBUS, on_bus_exit);
        fault_unguarded();
        break;
    case KILLED: {
        static char buf[1];
        mapguard_add(buf, 1);
        kill(getpid(), SIGBUS);
        break;
    }
    case REPLACED_THEN_READDED: {
        int fd;
        const volatile char *m = map_file(2, &fd);
        int g = mapguard_add((const void *)m, 2 * page);
        signal(SIGBUS, on_bus_exit); /* replaces the guard */
        static char buf[1];
        mapguard_add(buf, 1);        /* the guard in front again */
        ftruncate(fd, 0);
        if (m[page] != 0 || !mapguard_lost(g))
            _exit(2);
        fault_unguarded();           /* chained to on_bus_exit */
        break;
    }
    }
    _exit(0);
}

static int run_child(scene s)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        child(s);
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

static void test_others(void)
{
    int st = run_child(DEFAULT_ACTION);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS,
       "a fault outside every guarded region still ends the process by SIGBUS (status %#x)", st);
    st = run_child(PREVIOUS_HANDLER);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 42,
       "... or goes to the handler that was there before the guard (status %#x)", st);
    st = run_child(KILLED);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS,
       "a SIGBUS sent with kill(2) is not swallowed (status %#x)", st);
    st = run_child(REPLACED_THEN_READDED);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 42,
       "a handler installed after the guard is put behind it by the next add: "
       "the guarded fault reads 0, the other one reaches that handler (status %#x)", st);
}

int main(void)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    test_truncated();
    test_threads();
    test_slots();
    test_others();
    return done_testing();
}
