/* pq_rle.h — Parquet's RLE / bit-packed hybrid encoding (definition
 * levels and dictionary indices), and the bit width a maximum needs.
 * Pure functions over caller-owned buffers; thread-safe. */
#ifndef PQ_RLE_H
#define PQ_RLE_H

#include "pq_buf.h"

/* Bits needed to store `max` (0 for 0). */
int pq_rle_bit_width(uint32_t max);
/* Appends `n` values of `bit_width` bits (0..32) to `out`. Runs of 8 or
 * more equal values become RLE runs, the rest bit-packed groups of 8.
 * Returns 0, or -1 when out of memory. */
int pq_rle_encode_u32(pq_buf *out, const uint32_t *v, size_t n, int bit_width);
int pq_rle_encode_u8(pq_buf *out, const uint8_t *v, size_t n, int bit_width);
/* Packs `n` booleans (one byte each, 0 or 1) LSB first: PLAIN booleans. */
int pq_rle_pack_bools(pq_buf *out, const uint8_t *v, size_t n);

#endif
