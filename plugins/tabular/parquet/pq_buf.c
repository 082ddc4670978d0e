/* pq_buf.c — growable byte buffer (pq_buf.h). */
#include "pq_buf.h"

#include <stdlib.h>
#include <string.h>

int pq_buf_grow(pq_buf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    uint8_t *d = realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

int pq_buf_add(pq_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (pq_buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int pq_buf_addc(pq_buf *b, uint8_t c)
{
    if (b->len == b->cap && pq_buf_reserve(b, 1) != 0)
        return -1;
    b->data[b->len++] = c;
    return 0;
}

int pq_buf_add_le32(pq_buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return pq_buf_add(b, le, 4);
}

int pq_buf_add_uvarint(pq_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    return pq_buf_add(b, tmp, n);
}

void pq_buf_free(pq_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
