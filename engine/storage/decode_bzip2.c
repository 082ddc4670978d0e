/* decode_bzip2.c — bzip2 through libbz2. Every block's CRC and the
 * stream's combined CRC are checked by libbz2. */
#include "autoconfig.h"

#include <bzlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/decode_internal.h"

static void *bzip2_create(char *why, size_t why_len)
{
    bz_stream *s = calloc(1, sizeof *s);
    if (!s || BZ2_bzDecompressInit(s, 0, 0) != BZ_OK) {
        free(s);
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    return s;
}

static const char *bzip2_error(int rc)
{
    switch (rc) {
    case BZ_DATA_ERROR: return "corrupt bzip2 data (CRC mismatch or bad block)";
    case BZ_DATA_ERROR_MAGIC: return "corrupt bzip2 header";
    case BZ_MEM_ERROR: return "out of memory";
    }
    return "corrupt bzip2 data";
}

static int bzip2_step(void *p, const uint8_t *in, size_t in_len, size_t *used, uint8_t *out,
                      size_t out_cap, size_t *made, char *why, size_t why_len)
{
    bz_stream *s = p;
    unsigned in_n = in_len > 1u << 30 ? 1u << 30 : (unsigned)in_len;
    unsigned out_n = out_cap > 1u << 30 ? 1u << 30 : (unsigned)out_cap;
    s->next_in = (char *)in;
    s->avail_in = in_n;
    s->next_out = (char *)out;
    s->avail_out = out_n;
    int rc = BZ2_bzDecompress(s);
    *used = in_n - s->avail_in;
    *made = out_n - s->avail_out;
    if (rc == BZ_STREAM_END)
        return DECODE_STEP_END;
    if (rc != BZ_OK) {
        snprintf(why, why_len, "%s", bzip2_error(rc));
        return DECODE_STEP_ERROR;
    }
    return DECODE_STEP_MORE;
}

static int bzip2_reset(void *p, char *why, size_t why_len)
{
    bz_stream *s = p;
    BZ2_bzDecompressEnd(s);
    memset(s, 0, sizeof *s);
    if (BZ2_bzDecompressInit(s, 0, 0) != BZ_OK) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    return 0;
}

static void bzip2_destroy(void *p)
{
    BZ2_bzDecompressEnd(p);
    free(p);
}

/* "BZh" and a block size digit, then a block or end-of-stream magic. */
static int bzip2_sniff(const uint8_t *b, size_t len)
{
    return len >= 4 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' && b[3] <= '9';
}

const decode_codec_ops decode_bzip2_ops = {
    .name = "bzip2",
    .id = DECODE_BZIP2,
    .create = bzip2_create,
    .step = bzip2_step,
    .reset = bzip2_reset,
    .destroy = bzip2_destroy,
    .sniff = bzip2_sniff,
};
