/* pq_rle.c — RLE / bit-packed hybrid encoder (pq_rle.h). */
#include "pq_rle.h"

int pq_rle_bit_width(uint32_t max)
{
    int w = 0;
    while (max) {
        w++;
        max >>= 1;
    }
    return w;
}

static int put_rle_run(pq_buf *out, uint32_t value, size_t count, int bit_width)
{
    if (pq_buf_add_uvarint(out, (uint64_t)count << 1) != 0)
        return -1;
    int bytes = (bit_width + 7) / 8;
    for (int i = 0; i < bytes; i++)
        if (pq_buf_addc(out, (uint8_t)(value >> (8 * i))) != 0)
            return -1;
    return 0;
}

/* The encoder, written once for both element types. `n` values from `v`
 * at `start`: bit-packed in groups of 8, the last group zero-padded. */
#define PQ_DEFINE_RLE(SUFFIX, T)                                                              \
    static int put_packed_##SUFFIX(pq_buf *out, const T *v, size_t n, int bit_width)          \
    {                                                                                         \
        size_t groups = (n + 7) / 8;                                                          \
        if (pq_buf_add_uvarint(out, ((uint64_t)groups << 1) | 1) != 0 ||                      \
            pq_buf_reserve(out, groups * (size_t)bit_width + 8) != 0)                         \
            return -1;                                                                        \
        uint64_t acc = 0;                                                                     \
        int bits = 0;                                                                         \
        for (size_t i = 0; i < groups * 8; i++) {                                             \
            uint64_t x = i < n ? (uint64_t)v[i] : 0;                                          \
            acc |= x << bits;                                                                 \
            bits += bit_width;                                                                \
            while (bits >= 8) {                                                               \
                out->data[out->len++] = (uint8_t)acc;                                         \
                acc >>= 8;                                                                    \
                bits -= 8;                                                                    \
            }                                                                                 \
        }                                                                                     \
        return 0;                                                                             \
    }                                                                                         \
    int pq_rle_encode_##SUFFIX(pq_buf *out, const T *v, size_t n, int bit_width)              \
    {                                                                                         \
        size_t pend = 0; /* start of values waiting to be bit-packed */                       \
        size_t i = 0;                                                                         \
        while (i < n) {                                                                       \
            size_t run = 1;                                                                   \
            while (i + run < n && v[i + run] == v[i])                                         \
                run++;                                                                        \
            size_t fill = (8 - (i - pend) % 8) % 8;                                           \
            if (run >= fill + 8) {                                                            \
                i += fill; /* the pending values become whole groups */                       \
                run -= fill;                                                                  \
                if (i > pend && put_packed_##SUFFIX(out, v + pend, i - pend, bit_width) != 0) \
                    return -1;                                                                \
                if (put_rle_run(out, (uint32_t)v[i], run, bit_width) != 0)                    \
                    return -1;                                                                \
                i += run;                                                                     \
                pend = i;                                                                     \
            } else {                                                                          \
                i += run;                                                                     \
            }                                                                                 \
        }                                                                                     \
        if (n > pend && put_packed_##SUFFIX(out, v + pend, n - pend, bit_width) != 0)         \
            return -1;                                                                        \
        return 0;                                                                             \
    }

PQ_DEFINE_RLE(u32, uint32_t)
PQ_DEFINE_RLE(u8, uint8_t)

int pq_rle_pack_bools(pq_buf *out, const uint8_t *v, size_t n)
{
    if (pq_buf_reserve(out, (n + 7) / 8) != 0)
        return -1;
    for (size_t i = 0; i < n; i += 8) {
        uint8_t byte = 0;
        for (size_t j = 0; j < 8 && i + j < n; j++)
            byte |= (uint8_t)((v[i + j] & 1) << j);
        out->data[out->len++] = byte;
    }
    return 0;
}
