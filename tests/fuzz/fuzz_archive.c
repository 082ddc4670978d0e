/* fuzz_archive.c — the decoding layer for compressed and archived objects
 * (engine/storage/decode*.c): the magic-byte sniffing, gzip (ISA-L), zstd
 * and bzip2 streams with their concatenation and trailing-data rules, zip
 * and tar (optionally compressed) through libarchive with the member
 * header checks (unsafe paths, links, devices, encryption) and member
 * selection, the limits against decompression bombs, and the read-ahead
 * threads.
 * Input: byte 0 picks (bits 0-2 the codec: 1 none, 2 gzip, 3 zstd,
 * 4 bzip2, else auto; bits 3-4 the reading: one stream (decode_open),
 * member by member, member by member in isolation, or only the first
 * bytes of each member; bit 5 members chosen by patterns; bit 6 tight
 * limits; bit 7 the object read in 7-byte pieces); the rest is the object.
 * Everything is read to its end through a 4 KiB buffer, but no more than
 * 16 MiB per input, so a decompression bomb costs time, not memory.
 * Reaches: decode_open, decode_archive_open, decode_archive_next,
 * decode_archive_next_isolated, decode_archive_none_chosen,
 * decode_limits_check, gzip_step, zstd_step, bzip2_step, member_read. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "storage/decode.h"

#define OUTPUT_CAP (16 << 20)

/* The object: the fuzzer's bytes (valid until the call returns, which
 * outlives every read-ahead thread: closing a reader joins it). */
typedef struct mem_reader {
    storage_reader base;
    const uint8_t *p;
    size_t len, pos, piece;
} mem_reader;

static ssize_t mem_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    (void)err;
    mem_reader *m = (mem_reader *)r;
    size_t n = m->len - m->pos;
    if (n > cap)
        n = cap;
    if (n > m->piece)
        n = m->piece;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* Freed here: an owner that forgets to close it leaks. */
static void mem_close(storage_reader *r)
{
    free(r);
}

static const storage_reader_ops mem_ops = {.read = mem_read, .close = mem_close};

/* Reads r to its end, or `most` bytes, or the harness's cap; 0 or -1. */
static int drain(storage_reader *r, size_t most, size_t *total)
{
    char buf[4096];
    ssize_t n = 1;
    sl_error err = {0};
    while (*total < OUTPUT_CAP && most > 0 && (n = storage_read(r, buf, sizeof buf, &err)) > 0) {
        *total += (size_t)n;
        most -= (size_t)n < most ? (size_t)n : most;
    }
    return n < 0 ? -1 : 0;
}

static void members(storage_reader *raw, const decode_options *opt, int how)
{
    decode_archive *a;
    sl_error err = {0};
    if (decode_archive_open(raw, opt, &a, &err) != 0)
        return;
    const char *path;
    storage_reader *m;
    size_t total = 0, chosen = 0;
    int rc = -1;
    /* how 1: every member whole; 3: a first read of each, the rest skipped */
    while (total < OUTPUT_CAP && (rc = decode_archive_next(a, &path, &m, &err)) == 1) {
        chosen++;
        if (drain(m, how == 3 ? 1 : SIZE_MAX, &total) != 0)
            break;
    }
    if (rc == 0 && chosen == 0)
        decode_archive_none_chosen(a, &err);
    decode_archive_close(a);
}

/* As `members_as: jobs` reads: a refused or failed member fails alone. */
static void isolated(storage_reader *raw, const decode_options *opt)
{
    decode_archive *a;
    sl_error err = {0};
    if (decode_archive_open(raw, opt, &a, &err) != 0)
        return;
    size_t total = 0;
    for (;;) {
        sl_error why = {0};
        const char *path;
        storage_reader *m;
        int rc = decode_archive_next_isolated(a, &path, &m, &why);
        if (rc <= 0 || total >= OUTPUT_CAP) {
            storage_reader_close(m);
            break;
        }
        if (rc == 1)
            drain(m, SIZE_MAX, &total);
        storage_reader_close(m);
    }
    decode_archive_close(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const decode_codec codecs[8] = {DECODE_AUTO, DECODE_NONE,  DECODE_GZIP, DECODE_ZSTD,
                                           DECODE_BZIP2, DECODE_AUTO, DECODE_AUTO, DECODE_AUTO};
    static const char *const patterns[] = {"*.tsv", "d/*", "[!.]*_hit_data.*"};
    uint8_t o = data[0];
    int how = (o >> 3) & 3;
    decode_options opt = {.codec = codecs[o & 7], .name = "s3://fuzz/object"};
    if (o & 0x20) {
        opt.members = patterns;
        opt.n_members = sizeof patterns / sizeof *patterns;
    }
    if (o & 0x40)
        opt.limits = (decode_limits){.max_expanded_bytes = 256 << 10, .max_ratio = 20};
    mem_reader *raw = calloc(1, sizeof *raw);
    if (!raw)
        abort();
    *raw = (mem_reader){{&mem_ops}, data + 1, size - 1, 0, o & 0x80 ? 7 : SIZE_MAX};
    sl_error err = {0};
    storage_reader *out;
    size_t total = 0;
    if (how == 0 && decode_open(&raw->base, &opt, &out, &err) == 0) {
        drain(out, SIZE_MAX, &total);
        storage_reader_close(out);
    } else if (how == 1 || how == 3) {
        members(&raw->base, &opt, how);
    } else if (how == 2) {
        isolated(&raw->base, &opt);
    }
    return 0;
}
