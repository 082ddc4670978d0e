/* decode_stream.c — a storage_reader that runs a codec over another
 * reader. Concatenated streams (multi-member gzip, several zstd frames,
 * bzip2 streams one after another) are one content, as `gzip -dc` reads
 * them; NUL padding after the last stream is ignored, other trailing bytes
 * are an error, as is input that ends inside a stream. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "storage/decode_internal.h"
#include "util/alloc.h"

typedef struct decode_stream {
    storage_reader base;
    storage_reader *raw;
    const decode_codec_ops *codec;
    void *st;
    decode_limits limits;
    char *name;
    uint8_t *in;
    size_t in_pos, in_len;
    int raw_eof;
    int in_stream;  /* inside a stream (started, not ended) */
    int streams;    /* complete or started streams seen */
    int done;
    int64_t used, made;
} decode_stream;

/* Refills the input buffer when it is empty. -1 on a read error. */
static int stream_fill(decode_stream *s, sl_error *err)
{
    if (s->in_pos < s->in_len || s->raw_eof)
        return 0;
    ssize_t n = storage_read(s->raw, s->in, DECODE_BUF_SIZE, err);
    if (n < 0)
        return -1;
    s->in_pos = 0;
    s->in_len = (size_t)n;
    if (n == 0)
        s->raw_eof = 1;
    return 0;
}

/* Between streams: moves short leftovers to the front and reads more, so
 * that a magic number split across reads is still seen. */
static int stream_fill_magic(decode_stream *s, sl_error *err)
{
    while (s->in_len - s->in_pos < 8 && !s->raw_eof) {
        size_t left = s->in_len - s->in_pos;
        memmove(s->in, s->in + s->in_pos, left);
        s->in_pos = 0;
        s->in_len = left;
        ssize_t n = storage_read(s->raw, s->in + left, DECODE_BUF_SIZE - left, err);
        if (n < 0)
            return -1;
        if (n == 0)
            s->raw_eof = 1;
        s->in_len += (size_t)n;
    }
    return 0;
}

/* Decides what follows a complete stream (or starts the first one):
 * 1 a stream starts, 0 the end, -1 an error. */
static int stream_next(decode_stream *s, sl_error *err)
{
    if (stream_fill_magic(s, err) != 0)
        return -1;
    const uint8_t *p = s->in + s->in_pos;
    size_t avail = s->in_len - s->in_pos;
    if (avail == 0 && s->streams == 0) {
        sl_error_set(err, SL_ERR_INPUT, "%s: empty, not a %s stream", s->name, s->codec->name);
        return -1;
    }
    if (avail == 0)
        return 0;
    if (s->codec->sniff(p, avail)) {
        char why[256] = "";
        if (s->streams > 0 && s->codec->reset(s->st, why, sizeof why) != 0) {
            sl_error_set(err, SL_ERR_INTERNAL, "%s: %s", s->name, why);
            return -1;
        }
        s->in_stream = 1;
        s->streams++;
        return 1;
    }
    if (s->streams == 0) {
        sl_error_set(err, SL_ERR_INPUT, "%s: not a %s stream (wrong magic bytes)", s->name,
                     s->codec->name);
        return -1;
    }
    /* NUL padding (tape blocks) after the last stream is ignored */
    for (;;) {
        while (s->in_pos < s->in_len && s->in[s->in_pos] == 0) {
            s->in_pos++;
            s->used++;
        }
        if (s->in_pos < s->in_len) {
            sl_error_set(err, SL_ERR_INPUT,
                         "%s: trailing data after the last %s stream (at byte %lld)", s->name,
                         s->codec->name, (long long)s->used);
            return -1;
        }
        if (stream_fill(s, err) != 0)
            return -1;
        if (s->raw_eof)
            return 0;
    }
}

static ssize_t stream_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    decode_stream *s = (decode_stream *)r;
    int stuck = 0;
    while (!s->done && cap > 0) {
        if (!s->in_stream) {
            int rc = stream_next(s, err);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                s->done = 1;
                break;
            }
        }
        if (stream_fill(s, err) != 0)
            return -1;
        if (s->in_pos == s->in_len && s->raw_eof) {
            sl_error_set(err, SL_ERR_INPUT,
                         "%s: truncated %s stream (the input ends inside it, after %lld bytes)",
                         s->name, s->codec->name, (long long)s->used);
            return -1;
        }
        size_t used = 0, made = 0;
        char why[256] = "";
        int rc = s->codec->step(s->st, s->in + s->in_pos, s->in_len - s->in_pos, &used, buf, cap,
                                &made, why, sizeof why);
        s->in_pos += used;
        s->used += (int64_t)used;
        s->made += (int64_t)made;
        if (rc == DECODE_STEP_ERROR) {
            sl_error_set(err, SL_ERR_INPUT, "%s: %s (near byte %lld of the %s input)", s->name,
                         why, (long long)s->used, s->codec->name);
            return -1;
        }
        if (decode_limits_check(&s->limits, s->used, s->made, s->name, err) != 0)
            return -1;
        if (rc == DECODE_STEP_END)
            s->in_stream = 0;
        if (made > 0)
            return (ssize_t)made;
        if (used == 0 && rc == DECODE_STEP_MORE) {
            if (++stuck > 8) {
                sl_error_set(err, SL_ERR_INPUT, "%s: the %s decoder makes no progress at byte %lld",
                             s->name, s->codec->name, (long long)s->used);
                return -1;
            }
        } else {
            stuck = 0;
        }
    }
    return 0;
}

static void stream_close(storage_reader *r)
{
    decode_stream *s = (decode_stream *)r;
    if (s->st)
        s->codec->destroy(s->st);
    storage_reader_close(s->raw);
    free(s->in);
    free(s->name);
    free(s);
}

static const storage_reader_ops decode_stream_ops = {.read = stream_read, .close = stream_close};

storage_reader *decode_stream_new(storage_reader *raw, const decode_codec_ops *codec,
                                  const decode_limits *limits, const char *name, sl_error *err)
{
    char why[256] = "";
    void *st = codec->create(why, sizeof why);
    if (!st) {
        sl_error_set(err, SL_ERR_INTERNAL, "%s: %s: %s", name, codec->name, why);
        storage_reader_close(raw);
        return NULL;
    }
    decode_stream *s = xcalloc(1, sizeof *s);
    s->base.ops = &decode_stream_ops;
    s->raw = raw;
    s->codec = codec;
    s->st = st;
    s->limits = decode_limits_effective(limits);
    s->name = xstrdup(name);
    s->in = xmalloc(DECODE_BUF_SIZE);
    return &s->base;
}
