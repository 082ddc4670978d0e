/* decode_internal.h — the pieces decode_open() is built from. Private to
 * engine/storage/decode*.c.
 *
 * A codec (gzip, zstd, bzip2) is a table of functions, one file each, like
 * curl's TLS backends: decode.c picks one by magic bytes or by the rule,
 * decode_stream.c drives it over a storage_reader. Archives (zip, tar) go
 * through libarchive in decode_archive.c; decode_pipe.c moves a reader onto
 * a worker thread behind a bounded buffer.
 *
 * Threading: every object here is used by one thread at a time. */
#ifndef SLUICE_DECODE_INTERNAL_H
#define SLUICE_DECODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "storage/decode.h"

#define DECODE_BUF_SIZE (128 * 1024)
/* The read-ahead buffer between a decoding thread and the job. */
#define DECODE_PIPE_SIZE (1024 * 1024)

/* Results of a codec step. */
enum { DECODE_STEP_MORE = 0, DECODE_STEP_END = 1, DECODE_STEP_ERROR = -1 };

typedef struct decode_codec_ops {
    const char *name; /* "gzip", as rules write it */
    decode_codec id;
    /* A fresh decoder, or NULL (out of memory) with why set. */
    void *(*create)(char *why, size_t why_len);
    /* Decodes from in[0..in_len) into out[0..out_cap): sets *used and
     * *made. DECODE_STEP_END when one complete stream (gzip member, zstd
     * frame, bzip2 stream) ended and its checks held; DECODE_STEP_ERROR
     * with what is wrong in why. */
    int (*step)(void *st, const uint8_t *in, size_t in_len, size_t *used, uint8_t *out,
                size_t out_cap, size_t *made, char *why, size_t why_len);
    /* Ready for the next concatenated stream. 0, or -1 with why. */
    int (*reset)(void *st, char *why, size_t why_len);
    void (*destroy)(void *st);
    /* Does `buf` start a stream of this codec (enough bytes given)? */
    int (*sniff)(const uint8_t *buf, size_t len);
} decode_codec_ops;

extern const decode_codec_ops decode_gzip_ops;
extern const decode_codec_ops decode_zstd_ops;
extern const decode_codec_ops decode_bzip2_ops;

/* --- decode.c ------------------------------------------------------------ */
/* The codec table entry for `id` (GZIP, ZSTD, BZIP2), else NULL. */
const decode_codec_ops *decode_codec_ops_of(decode_codec id);
/* The codec whose magic starts buf, else NULL. */
const decode_codec_ops *decode_sniff_codec(const uint8_t *buf, size_t len);
/* "zip" or "tar" when buf (at least 512 bytes for tar) starts an archive. */
const char *decode_sniff_archive(const uint8_t *buf, size_t len);
/* The effective limits (defaults filled in). */
decode_limits decode_limits_effective(const decode_limits *l);
/* -1 with err set when `made` decoded bytes from `used` raw ones break a
 * limit; `what` names the object (and member) for the message. */
int decode_limits_check(const decode_limits *l, int64_t used, int64_t made, const char *what,
                        sl_error *err);

/* A reader that first returns `head` (taken: freed by the reader), then
 * the rest of `inner` (owned). */
storage_reader *decode_replay_new(storage_reader *inner, uint8_t *head, size_t head_len);

/* --- decode_stream.c ----------------------------------------------------- */
/* The decoded content of `raw` (owned) through `codec`: concatenated
 * streams are one content, trailing bytes that start no stream, a
 * truncated stream and a failed check are errors naming `name`. */
storage_reader *decode_stream_new(storage_reader *raw, const decode_codec_ops *codec,
                                  const decode_limits *limits, const char *name, sl_error *err);

/* --- decode_archive.c ---------------------------------------------------- */
/* The chosen members of the archive in `raw` (owned) as one stream. With
 * no patterns, an archive must hold exactly one regular file. */
storage_reader *decode_archive_stream_new(storage_reader *raw, const decode_options *opt,
                                          sl_error *err);
/* As decode_archive_open(), on an already decoded stream. */
decode_archive *decode_archive_new(storage_reader *raw, const decode_options *opt,
                                   sl_error *err);
/* fnmatch() of every pattern; 1 when path is chosen. */
int decode_archive_chosen(const decode_options *opt, const char *path);

#endif
