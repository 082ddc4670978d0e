/* encode.h — compressing an output on its way to storage: gzip (ISA-L's
 * igzip deflate, faster than zlib: bench/codec_bench.c) or zstd (libzstd).
 *
 * The encoder is a storage_writer wrapping another: what is written is
 * compressed into it; commit finishes the stream then commits the inner
 * writer; abort aborts it, so nothing half-written is published. It sets
 * the inner writer's Content-Type and Content-Encoding (S3 keeps them).
 *
 * Ownership: encode_writer_new() takes `inner` whatever it returns.
 * Threading: one thread at a time, like every storage_writer. */
#ifndef SLUICE_ENCODE_H
#define SLUICE_ENCODE_H

#include "storage/storage.h"

typedef enum encode_codec { ENCODE_NONE = 0, ENCODE_GZIP, ENCODE_ZSTD } encode_codec;

/* "none", "gzip", "zstd" (the rule's `compress:`): 0, or -1. */
int encode_codec_parse(const char *s, encode_codec *out);
const char *encode_codec_name(encode_codec c);
/* ".gz", ".zst", "" for none: added to the output's {name}. */
const char *encode_suffix(encode_codec c);
/* The Content-Encoding: "gzip", "zstd"; NULL for none. */
const char *encode_content_encoding(encode_codec c);

/* Levels: 0 the codec's default; gzip 1..3 (ISA-L's levels 1..3; a higher
 * one is taken as 3), zstd 1..19. */
storage_writer *encode_writer_new(storage_writer *inner, encode_codec c, int level,
                                  const char *content_type, sl_error *err);

#endif
