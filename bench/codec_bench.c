/* codec_bench — gzip inflate and deflate, ISA-L's igzip against zlib, on
 * the same bytes (a file given, else generated tab-separated lines), in
 * memory. Prints MB/s of uncompressed data for each; CPU time (clock()),
 * so a busy machine skews less. Chose ISA-L for storage/decode_gzip.c and
 * storage/encode.c (docs/compression.md has the figures).
 *
 *   bench/codec_bench [FILE]    (make bench-codec)
 *   bench/codec_bench --inflate FILE.gz...
 *       streams the files through ISA-L's inflate alone, 1 MiB at a time
 *       as storage/decode_gzip.c does, and prints the bytes it made: the
 *       yardstick bench/feed_run.sh times beside the gzip'd delivery. */
#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define ROUNDS 5

static unsigned char *gen(size_t *len)
{
    size_t cap = 64u << 20, n = 0;
    unsigned char *b = malloc(cap);
    for (unsigned i = 0; n + 128 < cap; i++)
        n += (size_t)snprintf((char *)b + n, 128, "%u\t%u\thttp://www.example.com/p/%u\tua-%u\n",
                              1254000000u + i, i * 2654435761u % 100000u, i % 977, i % 31);
    *len = n;
    return b;
}

static unsigned char *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*len);
    if (fread(b, 1, *len, f) != *len) {
        fclose(f);
        free(b);
        return NULL;
    }
    fclose(f);
    return b;
}

static double secs(clock_t a, clock_t b)
{
    return (double)(b - a) / CLOCKS_PER_SEC;
}

static size_t zlib_deflate(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
                           int level)
{
    z_stream z = {0};
    deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}

static size_t zlib_inflate(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    inflateInit2(&z, 31);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    inflate(&z, Z_FINISH);
    size_t n = z.total_out;
    inflateEnd(&z);
    return n;
}

static size_t isal_deflate_gz(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
                              int level)
{
    static const unsigned sizes[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                     ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
    struct isal_zstream z;
    isal_deflate_init(&z);
    unsigned char *lb = malloc(sizes[level]);
    z.level = (unsigned)level;
    z.level_buf = lb;
    z.level_buf_size = sizes[level];
    z.gzip_flag = IGZIP_GZIP;
    z.end_of_stream = 1;
    z.next_in = (unsigned char *)in;
    z.avail_in = (unsigned)len;
    z.next_out = out;
    z.avail_out = (unsigned)cap;
    isal_deflate(&z);
    free(lb);
    return z.total_out;
}

static size_t isal_inflate_gz(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
    struct inflate_state s;
    isal_inflate_init(&s);
    s.crc_flag = ISAL_GZIP;
    s.next_in = (unsigned char *)in;
    s.avail_in = (unsigned)len;
    s.next_out = out;
    s.avail_out = (unsigned)cap;
    isal_inflate(&s);
    return s.total_out;
}

/* One gzip file (several members allowed) through isal_inflate in 1 MiB
 * steps; the decoded bytes, or -1 when it is not valid gzip. */
static long long stream_inflate(const char *path)
{
    enum { STEP = 1 << 20 };
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static unsigned char in[STEP], out[STEP];
    struct inflate_state s;
    isal_inflate_init(&s);
    s.crc_flag = ISAL_GZIP;
    long long made = 0;
    int rc = ISAL_DECOMP_OK;
    s.avail_in = 0;
    for (;;) {
        if (s.avail_in == 0) {
            size_t n = fread(in, 1, STEP, f);
            if (n == 0)
                break;
            s.next_in = in;
            s.avail_in = (uint32_t)n;
        }
        if (s.block_state == ISAL_BLOCK_FINISH) { /* the next member */
            uint8_t *next = s.next_in;
            uint32_t left = s.avail_in;
            isal_inflate_reset(&s);
            s.crc_flag = ISAL_GZIP;
            s.next_in = next;
            s.avail_in = left;
        }
        s.next_out = out;
        s.avail_out = STEP;
        rc = isal_inflate(&s);
        made += STEP - s.avail_out;
        if (rc < 0)
            break;
    }
    fclose(f);
    return rc < 0 || s.block_state != ISAL_BLOCK_FINISH ? -1 : made;
}

static int inflate_files(int argc, char **argv)
{
    long long total = 0;
    for (int i = 2; i < argc; i++) {
        long long n = stream_inflate(argv[i]);
        if (n < 0) {
            fprintf(stderr, "codec_bench: %s: not readable gzip\n", argv[i]);
            return 1;
        }
        total += n;
    }
    printf("%lld bytes inflated\n", total);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--inflate"))
        return inflate_files(argc, argv);
    size_t len;
    unsigned char *in = argc > 1 ? load(argv[1], &len) : gen(&len);
    if (!in) {
        fprintf(stderr, "codec_bench: cannot read %s\n", argv[1]);
        return 1;
    }
    size_t cap = len + len / 2 + 65536;
    unsigned char *gz = malloc(cap), *back = malloc(len + 65536);
    double mb = (double)len / 1e6;
    printf("input: %.1f MB%s\n", mb, argc > 1 ? "" : " (generated TSV)");
    struct { const char *name; int isal; int level; } d[] = {
        {"zlib deflate -1", 0, 1}, {"zlib deflate -6", 0, 6},
        {"isal deflate 1", 1, 1}, {"isal deflate 3", 1, 3}};
    size_t zlen = 0, ilen = 0;
    for (size_t k = 0; k < sizeof d / sizeof *d; k++) {
        size_t n = 0;
        clock_t a = clock();
        for (int r = 0; r < ROUNDS; r++)
            n = d[k].isal ? isal_deflate_gz(in, len, gz, cap, d[k].level)
                          : zlib_deflate(in, len, gz, cap, d[k].level);
        clock_t b = clock();
        printf("%-18s %8.1f MB/s  ratio %.2f\n", d[k].name, mb * ROUNDS / secs(a, b),
               (double)len / (double)n);
        if (k == 1)
            zlen = n;
        if (k == 2)
            ilen = n;
    }
    /* inflate the zlib -6 stream with both */
    zlib_deflate(in, len, gz, cap, 6);
    (void)zlen;
    (void)ilen;
    for (int isal = 0; isal < 2; isal++) {
        size_t n = 0;
        clock_t a = clock();
        for (int r = 0; r < ROUNDS; r++)
            n = isal ? isal_inflate_gz(gz, zlen, back, len + 65536)
                     : zlib_inflate(gz, zlen, back, len + 65536);
        clock_t b = clock();
        int same = n == len && memcmp(back, in, len) == 0;
        printf("%-18s %8.1f MB/s  %s\n", isal ? "isal inflate" : "zlib inflate",
               mb * ROUNDS / secs(a, b), same ? "round trip ok" : "ROUND TRIP FAILED");
        if (!same)
            return 1;
    }
    free(in);
    free(gz);
    free(back);
    return 0;
}
