/* test_workers.c — the worker pool (engine/util/workers.h): every task
 * runs exactly once, on as many threads as asked; a stop discards exactly
 * the tasks that had not started, each once; wait and free wait.
 *
 * Concurrency is built in with a gate the test holds, never hoped for: no
 * assertion depends on how fast the machine is. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tap.h"
#include "util/workers.h"

/* A gate: tasks block on it until the test opens it. */
typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int open;
    int waiting; /* tasks blocked at the gate */
} gate;

static gate G = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void gate_pass(void)
{
    pthread_mutex_lock(&G.lock);
    G.waiting++;
    pthread_cond_broadcast(&G.cond);
    while (!G.open)
        pthread_cond_wait(&G.cond, &G.lock);
    G.waiting--;
    pthread_mutex_unlock(&G.lock);
}

/* Blocks until `n` tasks wait at the gate (they are then running). */
static void gate_await(int n)
{
    pthread_mutex_lock(&G.lock);
    while (G.waiting < n)
        pthread_cond_wait(&G.cond, &G.lock);
    pthread_mutex_unlock(&G.lock);
}

static void gate_set(int open)
{
    pthread_mutex_lock(&G.lock);
    G.open = open;
    pthread_cond_broadcast(&G.cond);
    pthread_mutex_unlock(&G.lock);
}

#define N 200
static atomic_int ran[N], dropped[N];

static void count_run(void *arg)
{
    atomic_fetch_add(&ran[(int)(intptr_t)arg], 1);
}

static void gated_run(void *arg)
{
    gate_pass();
    count_run(arg);
}

static void count_drop(void *arg)
{
    atomic_fetch_add(&dropped[(int)(intptr_t)arg], 1);
}

static void reset(void)
{
    for (int i = 0; i < N; i++) {
        atomic_store(&ran[i], 0);
        atomic_store(&dropped[i], 0);
    }
}

static void test_each_once(void)
{
    reset();
    workers_pool *w = workers_new(4);
    ok(w != NULL, "a pool of 4 starts");
    is_int(workers_count(w), 4, "with 4 threads");
    for (int i = 0; i < N; i++)
        workers_submit(w, count_run, count_drop, (void *)(intptr_t)i);
    workers_wait(w);
    is_int((int64_t)workers_pending(w), 0, "nothing pending after wait");
    int once = 1, none_dropped = 1;
    for (int i = 0; i < N; i++) {
        once &= atomic_load(&ran[i]) == 1;
        none_dropped &= atomic_load(&dropped[i]) == 0;
    }
    ok(once, "every one of %d tasks ran exactly once", N);
    ok(none_dropped, "and none was discarded");
    workers_free(w);
}

static void test_concurrency(void)
{
    reset();
    gate_set(0);
    workers_pool *w = workers_new(3);
    for (int i = 0; i < 3; i++)
        workers_submit(w, gated_run, count_drop, (void *)(intptr_t)i);
    /* returns only if three tasks are inside at once */
    gate_await(3);
    ok(1, "three tasks run at the same time on three threads");
    is_int((int64_t)workers_pending(w), 3, "three pending while they run");
    gate_set(1);
    workers_free(w);
    ok(atomic_load(&ran[0]) + atomic_load(&ran[1]) + atomic_load(&ran[2]) == 3,
       "free waited for them");
}

static void test_stop(void)
{
    reset();
    gate_set(0);
    workers_pool *w = workers_new(2);
    /* two tasks hold both threads; the rest queue behind them */
    for (int i = 0; i < 10; i++)
        workers_submit(w, gated_run, count_drop, (void *)(intptr_t)i);
    gate_await(2);
    workers_stop(w);
    int started = 0, discarded = 0, both = 0;
    for (int i = 0; i < 10; i++)
        discarded += atomic_load(&dropped[i]);
    is_int(discarded, 8, "stop discards the 8 tasks that had not started");
    workers_submit(w, count_run, count_drop, (void *)(intptr_t)10);
    is_int(atomic_load(&dropped[10]), 1, "a task submitted after a stop is discarded at once");
    gate_set(1);
    workers_free(w);
    for (int i = 0; i < 10; i++) {
        started += atomic_load(&ran[i]);
        both |= atomic_load(&ran[i]) && atomic_load(&dropped[i]);
    }
    is_int(started, 2, "the two running ones finished");
    ok(!both, "no task both ran and was discarded");
    is_int(atomic_load(&ran[10]), 0, "the late task never ran");
}

/* A task that submits another: the pool takes tasks from tasks. */
static workers_pool *nested_pool;

static void submit_more(void *arg)
{
    int i = (int)(intptr_t)arg;
    count_run(arg);
    if (i + 1 < 50)
        workers_submit(nested_pool, submit_more, count_drop, (void *)(intptr_t)(i + 1));
}

static void test_nested(void)
{
    reset();
    nested_pool = workers_new(2);
    workers_submit(nested_pool, submit_more, count_drop, (void *)(intptr_t)0);
    workers_free(nested_pool); /* waits for the chain to end */
    int all = 1;
    for (int i = 0; i < 50; i++)
        all &= atomic_load(&ran[i]) == 1;
    ok(all, "a chain of 50 tasks, each submitted by the one before, all ran once");
}

int main(void)
{
    int n = workers_default_count();
    ok(n >= 1 && n <= WORKERS_MAX, "the default count is 1..%d (%d)", WORKERS_MAX, n);
    workers_pool *w = workers_new(0);
    is_int(w ? workers_count(w) : -1, 1, "asking for 0 threads gives 1");
    workers_free(w);
    workers_free(NULL);
    ok(1, "freeing NULL is fine");
    test_each_once();
    test_concurrency();
    test_stop();
    test_nested();
    return done_testing();
}
