/* decode.h — reading an object through its decompressed content.
 *
 * gzip (ISA-L igzip), zstd (libzstd), bzip2 (libbz2), and zip / tar
 * (optionally .gz/.zst/.bz2) archives (libarchive), recognised by their
 * magic bytes (DECODE_AUTO) or forced by the rule's `decompress:`. Plugins
 * never see this: the job hands them the decoded stream through
 * host->read().
 *
 * Ownership: decode_open() and decode_archive_open() take `raw` whatever
 * they return; closing what they return closes it.
 * Threading: a decoded reader may decompress on a worker thread of its
 * own, feeding a bounded buffer; the reader itself is used by one thread at
 * a time, like every storage_reader.
 *
 * Errors name the object (`opt->name`), the archive member when there is
 * one, and what is wrong (truncated, CRC mismatch, encrypted, unsafe member
 * path, link or device member, limit exceeded). */
#ifndef SLUICE_DECODE_H
#define SLUICE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/storage.h"
#include "util/error.h"

typedef enum decode_codec {
    DECODE_AUTO = 0, /* by magic bytes; plain bytes pass through */
    DECODE_NONE,     /* never decode */
    DECODE_GZIP,
    DECODE_ZSTD,
    DECODE_BZIP2
} decode_codec;

/* "auto", "none", "gzip", "zstd", "bzip2": the rule's `decompress:`. */
const char *decode_codec_name(decode_codec c);
/* 0 and *out for one of those words, -1 for anything else. */
int decode_codec_parse(const char *s, decode_codec *out);

/* Against decompression bombs; 0 means the documented default
 * (docs/compression.md): a day of 10 GB passes, 1 KB expanding to 10 GB
 * does not. */
#define DECODE_DEFAULT_MAX_EXPANDED (64LL * 1024 * 1024 * 1024)
#define DECODE_DEFAULT_MAX_RATIO 1000.0
typedef struct decode_limits {
    int64_t max_expanded_bytes; /* decoded bytes of one object */
    double max_ratio;           /* decoded / compressed, checked past 1 MiB */
} decode_limits;

typedef struct decode_options {
    decode_codec codec;
    const char *const *members; /* fnmatch() patterns choosing archive
                                   members (copied by the open calls).
                                   NULL: decode_archive_next() gives every
                                   regular member; decode_open() wants an
                                   archive of exactly one regular file */
    size_t n_members;
    decode_limits limits;
    const char *name; /* the object, for messages: "s3://b/k" or a path */
} decode_options;

/* The decoded content of `raw` as one stream (an archive's chosen members
 * in archive order, one after another). Plain bytes (DECODE_AUTO finding
 * no magic, or DECODE_NONE) come back as `raw` itself, with no thread;
 * anything decoded is read ahead on a worker thread (util/workers.c, a pool
 * of one owned by the reader) into a bounded buffer of 1 MiB. Returns 0, or
 * -1 with err set (raw is closed). */
int decode_open(storage_reader *raw, const decode_options *opt, storage_reader **out,
                sl_error *err);

/* `inner` (owned) read ahead on a worker thread of its own (decode_pipe.c)
 * into a bounded buffer of `cap` bytes, so that what reading it costs (a
 * decompressor, a digest of the raw bytes) runs beside its consumer.
 * decode_open() uses it; a delivery set puts its MD5 on one. NULL with err
 * set when no thread could start (inner is then closed). */
storage_reader *decode_pipe_new(storage_reader *inner, size_t cap, sl_error *err);

/* One archive, member by member: for lookup archives and `members_as:
 * jobs`. One pass: libarchive reads an archive sequentially, so a member
 * is readable only until the next call. */
typedef struct decode_archive decode_archive;

int decode_archive_open(storage_reader *raw, const decode_options *opt, decode_archive **out,
                        sl_error *err);
/* The next member matching the options: 1 with its path and a reader of
 * its content (both valid until the next call or close; do not close the
 * reader), 0 at the end, -1 on error. Any refused member (unsafe path,
 * link, device, FIFO, socket, encrypted), chosen or not, ends the
 * archive. */
int decode_archive_next(decode_archive *a, const char **path, storage_reader **member,
                        sl_error *err);

/* A chosen member whose header is refused: decode_archive_next_isolated. */
#define DECODE_MEMBER_REFUSED 2

/* For `members_as: jobs`, where one bad member must fail alone. The next
 * chosen member:
 *   1: *path and *member, a reader of its content decompressed ahead on a
 *      worker thread of its own (like decode_open's); the caller owns it
 *      and closes it before the next call;
 *   DECODE_MEMBER_REFUSED: *path and err say which member is refused and
 *      why (*member is NULL); the archive goes on;
 *   0: the end; -1: the archive cannot go on (err: why, the same at every
 *      later call) — cut short, unreadable, or over a limit.
 * Refused members that the patterns do not choose are passed over: they
 * are never read. A member whose content fails without breaking the
 * archive (a zip member's CRC mismatch) fails its own reads only.
 * *path is valid until the next call. `err` should be clear at each call
 * (sl_error_set keeps the first error). */
int decode_archive_next_isolated(decode_archive *a, const char **path, storage_reader **member,
                                 sl_error *err);
/* The error for an archive in which no member was chosen: none matches
 * the patterns, or (without patterns) it holds no regular file. */
void decode_archive_none_chosen(const decode_archive *a, sl_error *err);
void decode_archive_close(decode_archive *a);

#endif
