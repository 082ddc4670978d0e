/* pq_buf.h — a growable byte buffer, the Parquet writer's only container.
 *
 * Ownership: the buffer owns `data`; pq_buf_free() releases it. Not
 * thread-safe: one buffer belongs to one writer. Every append reports
 * allocation failure (-1) and leaves the buffer as it was. */
#ifndef PQ_BUF_H
#define PQ_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct pq_buf {
    uint8_t *data;
    size_t len, cap;
} pq_buf;

#define PQ_BUF_INIT {NULL, 0, 0}

int pq_buf_grow(pq_buf *b, size_t extra);
/* Room for `extra` more bytes; 0, or -1 when out of memory. */
static inline int pq_buf_reserve(pq_buf *b, size_t extra)
{
    return b->cap - b->len >= extra ? 0 : pq_buf_grow(b, extra);
}
/* The bytes from `off` on. NULL for a buffer nothing was ever added to
 * (a column chunk of nulls only): NULL + 0 is undefined behaviour in C,
 * even where nothing is read. */
static inline const uint8_t *pq_buf_at(const pq_buf *b, size_t off)
{
    return b->data ? b->data + off : NULL;
}
int pq_buf_add(pq_buf *b, const void *p, size_t n);
int pq_buf_addc(pq_buf *b, uint8_t c);
int pq_buf_add_le32(pq_buf *b, uint32_t v);
int pq_buf_add_uvarint(pq_buf *b, uint64_t v);
void pq_buf_free(pq_buf *b);

#endif
