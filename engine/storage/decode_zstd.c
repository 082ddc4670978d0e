/* decode_zstd.c — zstd through libzstd's streaming decoder. Skippable
 * frames are passed over by libzstd; every frame's checksum, when it has
 * one, is checked. */
#include "autoconfig.h"

#include <stdio.h>
#include <zstd.h>

#include "storage/decode_internal.h"

/* Frames whose window needs more than 2^27 bytes (128 MiB, zstd's own
 * default limit) are refused: the decoder's memory stays bounded. */
#define ZSTD_WINDOW_LOG_MAX 27

static void *zstd_create(char *why, size_t why_len)
{
    ZSTD_DStream *d = ZSTD_createDStream();
    if (!d) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX);
    return d;
}

static int zstd_step(void *p, const uint8_t *in, size_t in_len, size_t *used, uint8_t *out,
                     size_t out_cap, size_t *made, char *why, size_t why_len)
{
    ZSTD_inBuffer ib = {in, in_len, 0};
    ZSTD_outBuffer ob = {out, out_cap, 0};
    size_t rc = ZSTD_decompressStream(p, &ob, &ib);
    *used = ib.pos;
    *made = ob.pos;
    if (ZSTD_isError(rc)) {
        snprintf(why, why_len, "corrupt zstd data (%s)", ZSTD_getErrorName(rc));
        return DECODE_STEP_ERROR;
    }
    return rc == 0 ? DECODE_STEP_END : DECODE_STEP_MORE;
}

static int zstd_reset(void *p, char *why, size_t why_len)
{
    size_t rc = ZSTD_DCtx_reset(p, ZSTD_reset_session_only);
    if (ZSTD_isError(rc)) {
        snprintf(why, why_len, "zstd: %s", ZSTD_getErrorName(rc));
        return -1;
    }
    return 0;
}

static void zstd_destroy(void *p)
{
    ZSTD_freeDStream(p);
}

/* A zstd frame, or a skippable frame (0x184D2A5?). */
static int zstd_sniff(const uint8_t *b, size_t len)
{
    if (len < 4)
        return 0;
    if (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
        return 1;
    return (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18;
}

const decode_codec_ops decode_zstd_ops = {
    .name = "zstd",
    .id = DECODE_ZSTD,
    .create = zstd_create,
    .step = zstd_step,
    .reset = zstd_reset,
    .destroy = zstd_destroy,
    .sniff = zstd_sniff,
};
