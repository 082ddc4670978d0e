/* decode.c — decode_open() and decode_archive_open(): what an object is
 * (by its magic bytes or the rule's word), and the chain of readers that
 * decodes it; the limits against decompression bombs. */
#include "autoconfig.h"
#include "storage/decode.h"

#include <stdlib.h>
#include <string.h>

#include "storage/decode_internal.h"
#include "util/alloc.h"

/* Bytes looked at to recognise a codec or an archive: a tar header's
 * "ustar" is at 257. */
#define DECODE_HEAD_SIZE 4096
/* The ratio is judged only past this many decoded bytes. */
#define DECODE_RATIO_FLOOR (1024 * 1024)

static const decode_codec_ops *const codecs[] = {
    &decode_gzip_ops,
    &decode_zstd_ops,
    &decode_bzip2_ops,
};

const decode_codec_ops *decode_codec_ops_of(decode_codec id)
{
    for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++)
        if (codecs[i]->id == id)
            return codecs[i];
    return NULL;
}

const decode_codec_ops *decode_sniff_codec(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++)
        if (codecs[i]->sniff(buf, len))
            return codecs[i];
    return NULL;
}

const char *decode_sniff_archive(const uint8_t *b, size_t len)
{
    /* a local file header, or the end record of an empty zip */
    if (len >= 4 && b[0] == 'P' && b[1] == 'K' &&
        ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6)))
        return "zip";
    if (len >= 262 && memcmp(b + 257, "ustar", 5) == 0)
        return "tar";
    return NULL;
}

const char *decode_codec_name(decode_codec c)
{
    switch (c) {
    case DECODE_AUTO: return "auto";
    case DECODE_NONE: return "none";
    case DECODE_GZIP: return "gzip";
    case DECODE_ZSTD: return "zstd";
    case DECODE_BZIP2: return "bzip2";
    }
    return "auto";
}

int decode_codec_parse(const char *s, decode_codec *out)
{
    static const decode_codec all[] = {DECODE_AUTO, DECODE_NONE, DECODE_GZIP, DECODE_ZSTD,
                                       DECODE_BZIP2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (strcmp(s, decode_codec_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

decode_limits decode_limits_effective(const decode_limits *l)
{
    decode_limits e = {DECODE_DEFAULT_MAX_EXPANDED, DECODE_DEFAULT_MAX_RATIO};
    if (l && l->max_expanded_bytes > 0)
        e.max_expanded_bytes = l->max_expanded_bytes;
    if (l && l->max_ratio > 0)
        e.max_ratio = l->max_ratio;
    return e;
}

int decode_limits_check(const decode_limits *l, int64_t used, int64_t made, const char *what,
                        sl_error *err)
{
    if (made > l->max_expanded_bytes) {
        sl_error_set(err, SL_ERR_INPUT,
                     "%s: decoded content exceeds max_expanded_bytes (%lld bytes): refused as "
                     "a decompression bomb",
                     what, (long long)l->max_expanded_bytes);
        return -1;
    }
    if (made > DECODE_RATIO_FLOOR && (double)made > l->max_ratio * (double)(used > 0 ? used : 1)) {
        sl_error_set(err, SL_ERR_INPUT,
                     "%s: %lld compressed bytes expand to more than %lld (over max_ratio %g): "
                     "refused as a decompression bomb",
                     what, (long long)used, (long long)made, l->max_ratio);
        return -1;
    }
    return 0;
}

/* --- the replay reader: bytes already looked at, then the rest ---------- */

typedef struct replay_reader {
    storage_reader base;
    storage_reader *inner;
    uint8_t *head;
    size_t len, pos;
} replay_reader;

static ssize_t replay_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    replay_reader *rr = (replay_reader *)r;
    if (rr->pos < rr->len) {
        size_t n = rr->len - rr->pos < cap ? rr->len - rr->pos : cap;
        memcpy(buf, rr->head + rr->pos, n);
        rr->pos += n;
        return (ssize_t)n;
    }
    return storage_read(rr->inner, buf, cap, err);
}

static void replay_close(storage_reader *r)
{
    replay_reader *rr = (replay_reader *)r;
    storage_reader_close(rr->inner);
    free(rr->head);
    free(rr);
}

/* The head is memory the child has a copy of: as forkable as the rest. */
static int replay_forkable(const storage_reader *r)
{
    return storage_reader_forkable(((const replay_reader *)r)->inner);
}

/* The head is the object's first bytes: the whole object is the inner's. */
static int replay_map(const storage_reader *r, const void **data, size_t *len)
{
    return storage_reader_map(((const replay_reader *)r)->inner, data, len);
}

static const storage_reader_ops replay_ops = {.read = replay_read, .close = replay_close,
                                              .forkable = replay_forkable, .map = replay_map};

storage_reader *decode_replay_new(storage_reader *inner, uint8_t *head, size_t head_len)
{
    replay_reader *rr = xcalloc(1, sizeof *rr);
    rr->base.ops = &replay_ops;
    rr->inner = inner;
    rr->head = head;
    rr->len = head_len;
    return &rr->base;
}

/* Reads up to `want` bytes (fewer only at the end). */
static ssize_t read_head(storage_reader *r, uint8_t *buf, size_t want, sl_error *err)
{
    size_t got = 0;
    while (got < want) {
        ssize_t n = storage_read(r, buf + got, want - got, err);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* --- what the object is --------------------------------------------------- */

static const char *object_name(const decode_options *opt)
{
    return opt && opt->name ? opt->name : "input";
}

/* `raw` (owned) with its compression, when there is one, taken off;
 * *head gets the first decoded bytes (to look for an archive), kept in the
 * returned reader. *codec_out names the codec (NULL: none). */
static storage_reader *decode_outer(storage_reader *raw, const decode_options *opt,
                                    const decode_codec_ops **codec_out, uint8_t **head,
                                    size_t *head_len, sl_error *err)
{
    const char *name = object_name(opt);
    uint8_t *buf = xmalloc(DECODE_HEAD_SIZE);
    ssize_t n = read_head(raw, buf, DECODE_HEAD_SIZE, err);
    if (n < 0) {
        free(buf);
        storage_reader_close(raw);
        return NULL;
    }
    const decode_codec_ops *codec = opt->codec == DECODE_AUTO
                                        ? decode_sniff_codec(buf, (size_t)n)
                                        : decode_codec_ops_of(opt->codec);
    *codec_out = codec;
    storage_reader *r = decode_replay_new(raw, buf, (size_t)n);
    if (!codec) {
        *head = buf;
        *head_len = (size_t)n;
        return r;
    }
    if (!codec->sniff(buf, (size_t)n)) {
        sl_error_set(err, SL_ERR_INPUT, "%s: not %s data (decompress: %s, wrong magic bytes)",
                     name, codec->name, codec->name);
        storage_reader_close(r);
        return NULL;
    }
    r = decode_stream_new(r, codec, &opt->limits, name, err);
    if (!r)
        return NULL;
    uint8_t *dhead = xmalloc(DECODE_HEAD_SIZE);
    n = read_head(r, dhead, 512, err);
    if (n < 0) {
        free(dhead);
        storage_reader_close(r);
        return NULL;
    }
    *head = dhead;
    *head_len = (size_t)n;
    return decode_replay_new(r, dhead, (size_t)n);
}

int decode_open(storage_reader *raw, const decode_options *opt, storage_reader **out,
                sl_error *err)
{
    *out = NULL;
    if (opt->codec == DECODE_NONE) {
        *out = raw;
        return 0;
    }
    const decode_codec_ops *codec = NULL;
    uint8_t *head = NULL;
    size_t head_len = 0;
    storage_reader *r = decode_outer(raw, opt, &codec, &head, &head_len, err);
    if (!r)
        return -1;
    if (decode_sniff_archive(head, head_len)) {
        r = decode_archive_stream_new(r, opt, err);
        if (!r)
            return -1;
    } else if (!codec) {
        *out = r; /* plain bytes: no thread needed */
        return 0;
    }
    *out = decode_pipe_new(r, DECODE_PIPE_SIZE, err);
    return *out ? 0 : -1;
}

int decode_archive_open(storage_reader *raw, const decode_options *opt, decode_archive **out,
                        sl_error *err)
{
    *out = NULL;
    const decode_codec_ops *codec = NULL;
    uint8_t *head = NULL;
    size_t head_len = 0;
    storage_reader *r = decode_outer(raw, opt, &codec, &head, &head_len, err);
    if (!r)
        return -1;
    if (!decode_sniff_archive(head, head_len)) {
        sl_error_set(err, SL_ERR_INPUT, "%s: not a zip or tar archive%s%s", object_name(opt),
                     codec ? " inside the " : "", codec ? codec->name : "");
        storage_reader_close(r);
        return -1;
    }
    *out = decode_archive_new(r, opt, err);
    return *out ? 0 : -1;
}

