/* encode.c — the compressing storage_writer: a table of two encoders
 * (gzip through ISA-L, zstd through libzstd), as decode*.c has for
 * decoders. */
#include "autoconfig.h"
#include "storage/encode.h"

#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "util/alloc.h"

#define ENCODE_BUF_SIZE (128 * 1024)

typedef struct encoder_ops {
    encode_codec id;
    const char *name, *suffix;
    void *(*create)(int level);
    /* Compresses in (finishing the stream when `end`), handing out every
     * full buffer through emit. 0, or -1 with err set. */
    int (*step)(void *st, const uint8_t *in, size_t len, int end, storage_writer *out,
                uint8_t *buf, sl_error *err);
    void (*destroy)(void *st);
} encoder_ops;

/* --- gzip: ISA-L ---------------------------------------------------------- */

typedef struct gzip_enc {
    struct isal_zstream z;
    uint8_t *level_buf;
} gzip_enc;

static void *gzip_enc_create(int level)
{
    static const uint32_t level_size[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                          ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
    if (level <= 0)
        level = 1;
    if (level > ISAL_DEF_MAX_LEVEL)
        level = ISAL_DEF_MAX_LEVEL;
    gzip_enc *g = xcalloc(1, sizeof *g);
    isal_deflate_init(&g->z);
    g->z.gzip_flag = IGZIP_GZIP;
    g->z.level = (uint32_t)level;
    g->z.level_buf_size = level_size[level];
    g->level_buf = xmalloc(g->z.level_buf_size);
    g->z.level_buf = g->level_buf;
    return g;
}

static int gzip_enc_step(void *st, const uint8_t *in, size_t len, int end, storage_writer *out,
                         uint8_t *buf, sl_error *err)
{
    gzip_enc *g = st;
    g->z.next_in = (uint8_t *)in;
    g->z.avail_in = (uint32_t)len;
    g->z.end_of_stream = end;
    g->z.flush = NO_FLUSH;
    do {
        g->z.next_out = buf;
        g->z.avail_out = ENCODE_BUF_SIZE;
        int rc = isal_deflate(&g->z);
        if (rc != COMP_OK) {
            sl_error_set(err, SL_ERR_INTERNAL, "gzip compression failed (ISA-L error %d)", rc);
            return -1;
        }
        size_t n = ENCODE_BUF_SIZE - g->z.avail_out;
        if (n && storage_write(out, buf, n, err) != 0)
            return -1;
    } while (g->z.avail_in > 0 || (end && g->z.internal_state.state != ZSTATE_END));
    return 0;
}

static void gzip_enc_destroy(void *st)
{
    gzip_enc *g = st;
    free(g->level_buf);
    free(g);
}

/* --- zstd ------------------------------------------------------------------ */

static void *zstd_enc_create(int level)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    if (c)
        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level > 0 ? level : 3);
    if (c)
        ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    return c;
}

static int zstd_enc_step(void *st, const uint8_t *in, size_t len, int end, storage_writer *out,
                         uint8_t *buf, sl_error *err)
{
    ZSTD_inBuffer ib = {in, len, 0};
    size_t left;
    do {
        ZSTD_outBuffer ob = {buf, ENCODE_BUF_SIZE, 0};
        left = ZSTD_compressStream2(st, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) {
            sl_error_set(err, SL_ERR_INTERNAL, "zstd compression failed: %s",
                         ZSTD_getErrorName(left));
            return -1;
        }
        if (ob.pos && storage_write(out, buf, ob.pos, err) != 0)
            return -1;
    } while (ib.pos < ib.size || (end && left != 0));
    return 0;
}

static void zstd_enc_destroy(void *st)
{
    ZSTD_freeCCtx(st);
}

static const encoder_ops encoders[] = {
    {ENCODE_GZIP, "gzip", ".gz", gzip_enc_create, gzip_enc_step, gzip_enc_destroy},
    {ENCODE_ZSTD, "zstd", ".zst", zstd_enc_create, zstd_enc_step, zstd_enc_destroy},
};

static const encoder_ops *encoder_of(encode_codec c)
{
    for (size_t i = 0; i < sizeof encoders / sizeof *encoders; i++)
        if (encoders[i].id == c)
            return &encoders[i];
    return NULL;
}

int encode_codec_parse(const char *s, encode_codec *out)
{
    if (strcmp(s, "none") == 0) {
        *out = ENCODE_NONE;
        return 0;
    }
    for (size_t i = 0; i < sizeof encoders / sizeof *encoders; i++)
        if (strcmp(s, encoders[i].name) == 0) {
            *out = encoders[i].id;
            return 0;
        }
    return -1;
}

const char *encode_codec_name(encode_codec c)
{
    const encoder_ops *e = encoder_of(c);
    return e ? e->name : "none";
}

const char *encode_suffix(encode_codec c)
{
    const encoder_ops *e = encoder_of(c);
    return e ? e->suffix : "";
}

const char *encode_content_encoding(encode_codec c)
{
    const encoder_ops *e = encoder_of(c);
    return e ? e->name : NULL;
}

/* --- the writer ------------------------------------------------------------ */

typedef struct encode_writer {
    storage_writer base;
    storage_writer *inner;
    const encoder_ops *enc;
    void *st;
    uint8_t *buf;
    int failed;
} encode_writer;

static void encode_writer_free(encode_writer *w)
{
    w->enc->destroy(w->st);
    free(w->buf);
    free(w);
}

static int encode_writer_write(storage_writer *sw, const void *buf, size_t len, sl_error *err)
{
    encode_writer *w = (encode_writer *)sw;
    while (!w->failed && len > 0) {
        size_t n = len > (1u << 30) ? (1u << 30) : len; /* ISA-L counts in 32 bits */
        if (w->enc->step(w->st, buf, n, 0, w->inner, w->buf, err) != 0)
            w->failed = 1;
        buf = (const uint8_t *)buf + n;
        len -= n;
    }
    return w->failed ? -1 : 0;
}

static int encode_writer_commit(storage_writer *sw, sl_error *err)
{
    encode_writer *w = (encode_writer *)sw;
    if (w->failed || w->enc->step(w->st, NULL, 0, 1, w->inner, w->buf, err) != 0) {
        storage_writer_abort(w->inner);
        encode_writer_free(w);
        return -1;
    }
    int rc = storage_writer_commit(w->inner, err);
    encode_writer_free(w);
    return rc;
}

static void encode_writer_abort(storage_writer *sw)
{
    encode_writer *w = (encode_writer *)sw;
    storage_writer_abort(w->inner);
    encode_writer_free(w);
}

/* The uploads are the inner writer's. */
static void encode_writer_set_upload_hooks(storage_writer *sw, const storage_upload_hooks *hooks)
{
    storage_writer_set_upload_hooks(((encode_writer *)sw)->inner, hooks);
}

static const storage_writer_ops encode_writer_ops = {encode_writer_write, encode_writer_commit,
                                                     encode_writer_abort, NULL,
                                                     encode_writer_set_upload_hooks};

storage_writer *encode_writer_new(storage_writer *inner, encode_codec c, int level,
                                  const char *content_type, sl_error *err)
{
    const encoder_ops *enc = encoder_of(c);
    if (!enc) {
        storage_writer_set_content(inner, content_type, NULL);
        return inner;
    }
    void *st = enc->create(level);
    if (!st) {
        sl_error_set(err, SL_ERR_INTERNAL, "cannot start the %s encoder", enc->name);
        storage_writer_abort(inner);
        return NULL;
    }
    storage_writer_set_content(inner, content_type, enc->name);
    encode_writer *w = xcalloc(1, sizeof *w);
    w->base.ops = &encode_writer_ops;
    w->inner = inner;
    w->enc = enc;
    w->st = st;
    w->buf = xmalloc(ENCODE_BUF_SIZE);
    return &w->base;
}
