/* decode_gzip.c — gzip through ISA-L's igzip (faster than zlib's inflate
 * on the same input: bench/codec_bench.c, figures in docs/compression.md).
 * igzip parses the gzip header and checks the trailer's CRC-32 and size. */
#include "autoconfig.h"

#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <stdlib.h>

#include "storage/decode_internal.h"

static void *gzip_create(char *why, size_t why_len)
{
    struct inflate_state *st = malloc(sizeof *st);
    if (!st) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    isal_inflate_init(st);
    st->crc_flag = ISAL_GZIP;
    return st;
}

static const char *gzip_error(int rc)
{
    switch (rc) {
    case ISAL_INVALID_BLOCK: return "corrupt data (invalid deflate block)";
    case ISAL_INVALID_SYMBOL: return "corrupt data (invalid deflate symbol)";
    case ISAL_INVALID_LOOKBACK: return "corrupt data (invalid back-reference distance)";
    case ISAL_INVALID_WRAPPER: return "corrupt gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported gzip compression method";
    case ISAL_INCORRECT_CHECKSUM: return "CRC or size mismatch in the gzip trailer";
    case ISAL_NEED_DICT: return "the stream needs a preset dictionary";
    }
    return "corrupt data";
}

static int gzip_step(void *p, const uint8_t *in, size_t in_len, size_t *used, uint8_t *out,
                     size_t out_cap, size_t *made, char *why, size_t why_len)
{
    struct inflate_state *st = p;
    /* isal counts in 32 bits */
    uint32_t in_n = in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)in_len;
    uint32_t out_n = out_cap > UINT32_MAX ? UINT32_MAX : (uint32_t)out_cap;
    st->next_in = (uint8_t *)in;
    st->avail_in = in_n;
    st->next_out = out;
    st->avail_out = out_n;
    int rc = isal_inflate(st);
    *used = in_n - st->avail_in;
    *made = out_n - st->avail_out;
    if (rc < 0 || rc == ISAL_NEED_DICT) {
        snprintf(why, why_len, "%s", gzip_error(rc));
        return DECODE_STEP_ERROR;
    }
    return st->block_state == ISAL_BLOCK_FINISH ? DECODE_STEP_END : DECODE_STEP_MORE;
}

static int gzip_reset(void *p, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    struct inflate_state *st = p;
    isal_inflate_reset(st);
    st->crc_flag = ISAL_GZIP;
    return 0;
}

static int gzip_sniff(const uint8_t *b, size_t len)
{
    return len >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8;
}

const decode_codec_ops decode_gzip_ops = {
    .name = "gzip",
    .id = DECODE_GZIP,
    .create = gzip_create,
    .step = gzip_step,
    .reset = gzip_reset,
    .destroy = free,
    .sniff = gzip_sniff,
};
