/* decode_pipe.c — a reader moved onto a worker thread: the thread reads
 * (decodes) ahead into a bounded ring buffer, the job reads out of it, so
 * decompression and the plugin run on two cores at once.
 *
 * The thread is the one task of a pool of one (util/workers.c) that the
 * reader owns: no job ever waits for a pool another job fills. One
 * producer (the task), one consumer (the reader's user): the producer
 * writes only into free space, the consumer reads only filled space, and
 * both move the indices under the mutex. Closing cancels the task, waits
 * for it, and closes the inner reader. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storage/decode_internal.h"
#include "util/alloc.h"
#include "util/workers.h"

typedef struct decode_pipe {
    storage_reader base;
    storage_reader *inner; /* used by the task only, until it ends */
    workers_pool *pool;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint8_t *ring;
    size_t cap, head, len;
    int eof, failed, cancel, ended;
    sl_error err; /* the producer's, handed over once failed is set */
} decode_pipe;

/* Waits for free space; returns where and how much may be written, 0 when
 * cancelled. Called with the mutex held. */
static size_t pipe_wait_space(decode_pipe *p, uint8_t **at)
{
    while (p->len == p->cap && !p->cancel)
        pthread_cond_wait(&p->cond, &p->mu);
    if (p->cancel)
        return 0;
    size_t tail = (p->head + p->len) % p->cap;
    size_t room = p->cap - p->len;
    if (room > p->cap - tail)
        room = p->cap - tail;
    *at = p->ring + tail;
    return room;
}

static void pipe_produce(void *arg)
{
    decode_pipe *p = arg;
    sl_error err = {0};
    pthread_mutex_lock(&p->mu);
    for (;;) {
        uint8_t *at;
        size_t room = pipe_wait_space(p, &at);
        if (room == 0)
            break;
        pthread_mutex_unlock(&p->mu);
        ssize_t n = storage_read(p->inner, at, room, &err);
        pthread_mutex_lock(&p->mu);
        if (n < 0) {
            p->err = err;
            p->failed = 1;
            break;
        }
        if (n == 0) {
            p->eof = 1;
            break;
        }
        p->len += (size_t)n;
        pthread_cond_broadcast(&p->cond);
    }
    p->ended = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

static ssize_t pipe_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    decode_pipe *p = (decode_pipe *)r;
    pthread_mutex_lock(&p->mu);
    while (p->len == 0 && !p->ended)
        pthread_cond_wait(&p->cond, &p->mu);
    ssize_t out = 0;
    if (p->len > 0) {
        size_t n = p->len;
        if (n > p->cap - p->head)
            n = p->cap - p->head;
        if (n > cap)
            n = cap;
        memcpy(buf, p->ring + p->head, n);
        p->head = (p->head + n) % p->cap;
        p->len -= n;
        out = (ssize_t)n;
        pthread_cond_broadcast(&p->cond);
    } else if (p->failed) {
        sl_error_set(err, p->err.kind, "%s", p->err.msg);
        out = -1;
    }
    pthread_mutex_unlock(&p->mu);
    return out;
}

static void pipe_close(storage_reader *r)
{
    decode_pipe *p = (decode_pipe *)r;
    pthread_mutex_lock(&p->mu);
    p->cancel = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    workers_free(p->pool); /* waits for the task */
    storage_reader_close(p->inner);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p->ring);
    free(p);
}

static const storage_reader_ops pipe_ops = {.read = pipe_read, .close = pipe_close};

storage_reader *decode_pipe_new(storage_reader *inner, size_t cap, sl_error *err)
{
    workers_pool *pool = workers_new(1);
    if (!pool) {
        sl_error_set(err, SL_ERR_INTERNAL, "cannot start a decompression thread");
        storage_reader_close(inner);
        return NULL;
    }
    decode_pipe *p = xcalloc(1, sizeof *p);
    p->base.ops = &pipe_ops;
    p->inner = inner;
    p->pool = pool;
    p->cap = cap;
    p->ring = xmalloc(cap);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    workers_submit(pool, pipe_produce, NULL, p);
    return &p->base;
}
