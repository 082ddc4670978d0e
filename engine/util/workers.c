/* workers.c — the worker pool (workers.h). */
#include "autoconfig.h"
#include "util/workers.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/alloc.h"

typedef struct task {
    workers_fn fn, discard;
    void *arg;
    struct task *next;
} task;

struct workers_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;  /* a task was queued, or the pool is ending */
    pthread_cond_t idle;  /* the queue emptied and nothing runs */
    task *head, *tail;
    size_t queued, running;
    int stopped;          /* workers_stop(): discard, refuse */
    int ending;           /* workers_free(): exit once the queue is empty */
    pthread_t *threads;
    int n_threads;
};

int workers_default_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > WORKERS_MAX ? WORKERS_MAX : (int)n;
}

static void *worker_main(void *arg)
{
    workers_pool *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->ending)
            pthread_cond_wait(&w->work, &w->lock);
        task *t = w->head;
        if (!t)
            break; /* ending, and nothing left to do */
        w->head = t->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
        w->running++;
        pthread_mutex_unlock(&w->lock);
        t->fn(t->arg);
        free(t);
        pthread_mutex_lock(&w->lock);
        w->running--;
        if (!w->head && w->running == 0)
            pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

workers_pool *workers_new(int n)
{
    if (n < 1)
        n = 1;
    if (n > WORKERS_MAX)
        n = WORKERS_MAX;
    workers_pool *w = xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->idle, NULL);
    w->threads = xcalloc((size_t)n, sizeof *w->threads);
    for (int i = 0; i < n; i++)
        if (pthread_create(&w->threads[w->n_threads], NULL, worker_main, w) == 0)
            w->n_threads++;
    if (w->n_threads == 0) {
        workers_free(w);
        return NULL;
    }
    return w;
}

int workers_count(const workers_pool *w)
{
    return w->n_threads;
}

void workers_submit(workers_pool *w, workers_fn fn, workers_fn discard, void *arg)
{
    pthread_mutex_lock(&w->lock);
    if (w->stopped) {
        pthread_mutex_unlock(&w->lock);
        if (discard)
            discard(arg);
        return;
    }
    task *t = xmalloc(sizeof *t);
    *t = (task){.fn = fn, .discard = discard, .arg = arg};
    if (w->tail)
        w->tail->next = t;
    else
        w->head = t;
    w->tail = t;
    w->queued++;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
}

size_t workers_pending(workers_pool *w)
{
    pthread_mutex_lock(&w->lock);
    size_t n = w->queued + w->running;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void workers_wait(workers_pool *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->head || w->running > 0)
        pthread_cond_wait(&w->idle, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

void workers_stop(workers_pool *w)
{
    pthread_mutex_lock(&w->lock);
    w->stopped = 1;
    task *t = w->head;
    w->head = w->tail = NULL;
    w->queued = 0;
    if (w->running == 0)
        pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->lock);
    /* discards run outside the lock: they may take locks of their own */
    while (t) {
        task *next = t->next;
        if (t->discard)
            t->discard(t->arg);
        free(t);
        t = next;
    }
}

void workers_free(workers_pool *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->ending = 1;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->n_threads; i++)
        pthread_join(w->threads[i], NULL);
    free(w->threads);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
