/* test_parquet.c — the Parquet writer's parts: the Thrift compact encoder
 * and the RLE/bit-packed hybrid against the specifications' bytes, and the
 * file framing, row groups and refusals of pq_writer. That DuckDB reads the
 * files back to the exact values is tabular_duckdb.sh's job. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "parquet/pq_rle.h"
#include "parquet/pq_thrift.h"
#include "parquet/pq_writer.h"
#include "tap.h"

static void test_thrift(void)
{
    pq_buf b = PQ_BUF_INIT;
    pq_thrift tc;
    pq_thrift_init(&tc, &b);
    pq_thrift_struct_begin(&tc);
    pq_thrift_field_i32(&tc, 1, 1);
    pq_thrift_field_string(&tc, 2, "ab");
    pq_thrift_field_i64(&tc, 20, -1);
    pq_thrift_field_list(&tc, 21, PQ_TC_I32, 3);
    pq_thrift_elem_i32(&tc, 1);
    pq_thrift_elem_i32(&tc, 2);
    pq_thrift_elem_i32(&tc, 3);
    pq_thrift_field_bool(&tc, 22, 1);
    pq_thrift_field_struct_begin(&tc, 23);
    pq_thrift_field_i32(&tc, 1, -2);
    pq_thrift_struct_end(&tc);
    pq_thrift_struct_end(&tc);
    static const uint8_t want[] = {0x15, 0x02, 0x18, 0x02, 'a', 'b', 0x06, 0x28, 0x01,
                                   0x19, 0x35, 0x02, 0x04, 0x06, 0x11, 0x1C, 0x15, 0x03,
                                   0x00, 0x00};
    ok(!tc.failed, "thrift: encoded without error");
    is_mem(b.data, b.len, want, sizeof want, "thrift: compact protocol bytes (short and long "
                                              "field deltas, zigzag, list, bool, nested struct)");
    /* a list of 15 or more elements spells its size out */
    b.len = 0;
    pq_thrift_init(&tc, &b);
    pq_thrift_struct_begin(&tc);
    pq_thrift_field_list(&tc, 1, PQ_TC_I32, 20);
    static const uint8_t want2[] = {0x19, 0xF5, 0x14};
    is_mem(b.data, b.len, want2, sizeof want2, "thrift: long list header");
    pq_thrift_struct_end(&tc);
    pq_thrift_struct_end(&tc);
    ok(tc.failed, "thrift: closing more structs than opened is an error");
    pq_buf_free(&b);
}

/* A reference decoder of the hybrid encoding, written from the spec. */
static int rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n)
{
    size_t got = 0, i = 0;
    while (got < n && i < len) {
        uint64_t h = 0;
        int shift = 0;
        while (p[i] & 0x80) {
            h |= (uint64_t)(p[i++] & 0x7F) << shift;
            shift += 7;
        }
        h |= (uint64_t)p[i++] << shift;
        if (h & 1) {
            size_t count = (size_t)(h >> 1) * 8;
            uint64_t acc = 0;
            int bits = 0;
            for (size_t k = 0; k < count; k++) {
                while (bits < bw) {
                    acc |= (uint64_t)p[i++] << bits;
                    bits += 8;
                }
                uint32_t v = (uint32_t)(acc & ((1ull << bw) - 1));
                acc >>= bw;
                bits -= bw;
                if (got < n)
                    out[got++] = v;
            }
        } else {
            size_t count = (size_t)(h >> 1);
            uint32_t v = 0;
            for (int k = 0; k < (bw + 7) / 8; k++)
                v |= (uint32_t)p[i++] << (8 * k);
            for (size_t k = 0; k < count && got < n; k++)
                out[got++] = v;
        }
    }
    return got == n && i == len ? 0 : -1;
}

static void test_rle(void)
{
    pq_buf b = PQ_BUF_INIT;
    uint32_t eight[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    pq_rle_encode_u32(&b, eight, 8, 3);
    static const uint8_t spec[] = {0x03, 0x88, 0xC6, 0xFA}; /* parquet-format's example */
    is_mem(b.data, b.len, spec, sizeof spec, "rle: 0..7 bit-packed at width 3 as in the spec");
    b.len = 0;
    uint8_t ones[10];
    memset(ones, 1, sizeof ones);
    pq_rle_encode_u8(&b, ones, 10, 1);
    static const uint8_t run[] = {0x14, 0x01};
    is_mem(b.data, b.len, run, sizeof run, "rle: a run of 10 ones is one RLE run");
    is_int(pq_rle_bit_width(0), 0, "bit width of 0");
    is_int(pq_rle_bit_width(1), 1, "bit width of 1");
    is_int(pq_rle_bit_width(255), 8, "bit width of 255");
    is_int(pq_rle_bit_width(256), 9, "bit width of 256");

    /* mixed runs and noise, every width: decodes back */
    enum { N = 5003 };
    uint32_t *v = malloc(N * sizeof *v), *back = malloc(N * sizeof *back);
    uint32_t seed = 12345;
    int bad = 0;
    for (int bw = 1; bw <= 32; bw++) {
        uint32_t mask = bw == 32 ? 0xFFFFFFFFu : (1u << bw) - 1;
        for (size_t i = 0; i < N; i++) {
            seed = seed * 1103515245u + 12345u;
            v[i] = (i / 100) % 3 == 0 ? (uint32_t)(i / 100) & mask : (seed >> 3) & mask;
        }
        b.len = 0;
        if (pq_rle_encode_u32(&b, v, N, bw) != 0 || rle_decode(b.data, b.len, bw, back, N) != 0 ||
            memcmp(v, back, N * sizeof *v) != 0)
            bad++;
    }
    is_int(bad, 0, "rle: runs and noise at widths 1..32 decode to the input");
    uint8_t bools[11] = {1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0};
    b.len = 0;
    pq_rle_pack_bools(&b, bools, 11);
    static const uint8_t packed[] = {0x0D, 0x03};
    is_mem(b.data, b.len, packed, sizeof packed, "plain booleans: LSB first");
    free(v);
    free(back);
    pq_buf_free(&b);
}

typedef struct mem_sink {
    pq_buf buf;
    int fail_after; /* fail writes after this many bytes; -1 never */
} mem_sink;

static int to_mem(void *ctx, const void *p, size_t n)
{
    mem_sink *m = ctx;
    if (m->fail_after >= 0 && m->buf.len + n > (size_t)m->fail_after)
        return -1;
    return pq_buf_add(&m->buf, p, n);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_writer(void)
{
    static const pq_column_def cols[] = {
        {"id", PQ_INT64, 0, 0},  {"name", PQ_STRING, 0, 0}, {"ok", PQ_BOOL, 0, 0},
        {"amt", PQ_DECIMAL, 12, 2}, {"d", PQ_DATE, 0, 0},  {"x", PQ_DOUBLE, 0, 0},
    };
    char err[256];
    mem_sink m = {PQ_BUF_INIT, -1};
    pq_options opt = {.codec = PQ_CODEC_ZSTD, .row_group_bytes = 4096};
    pq_writer *w = pq_writer_open(cols, 6, &opt, to_mem, &m, err, sizeof err);
    ok(w != NULL, "writer opens");
    int rc = 0;
    for (int64_t i = 0; i < 3000; i++) {
        rc |= pq_writer_put_int(w, 0, i);
        rc |= i % 7 ? pq_writer_put_bytes(w, 1, "abc", 3) : pq_writer_put_null(w, 1);
        rc |= pq_writer_put_bool(w, 2, (int)(i & 1));
        rc |= pq_writer_put_int(w, 3, i * 10 - 5);
        rc |= pq_writer_put_int(w, 4, 20000 + i);
        rc |= pq_writer_put_double(w, 5, (double)i / 3);
        rc |= pq_writer_end_row(w);
    }
    is_int(rc, 0, "3000 rows accepted");
    ok(pq_writer_close(w) == 0, "close writes the footer");
    ok(pq_writer_row_groups(w) > 1, "a 4 KiB row group bound gives several row groups (%zu)",
       pq_writer_row_groups(w));
    is_int(pq_writer_rows(w), 3000, "rows counted");
    pq_writer_free(w);
    ok(m.buf.len > 12 && memcmp(m.buf.data, "PAR1", 4) == 0 &&
           memcmp(m.buf.data + m.buf.len - 4, "PAR1", 4) == 0,
       "the file starts and ends with PAR1");
    uint32_t flen = le32(m.buf.data + m.buf.len - 8);
    ok(flen > 0 && flen < m.buf.len - 12, "the footer length fits the file (%u)", flen);
    pq_buf_free(&m.buf);

    /* columns that hold only nulls: their PLAIN values were never
     * allocated (found by tests/fuzz/fuzz_tabular: NULL + 0 under UBSan) */
    pq_column_def none[] = {{"s", PQ_STRING, 0, 0}, {"b", PQ_BOOL, 0, 0}, {"i", PQ_INT32, 0, 0}};
    w = pq_writer_open(none, 3, &opt, to_mem, &m, err, sizeof err);
    rc = 0;
    for (int i = 0; i < 3; i++) {
        for (size_t c = 0; c < 3; c++)
            rc |= pq_writer_put_null(w, c);
        rc |= pq_writer_end_row(w);
    }
    ok(rc == 0 && pq_writer_close(w) == 0 && memcmp(m.buf.data + m.buf.len - 4, "PAR1", 4) == 0,
       "columns of nulls only make a file");
    pq_writer_free(w);
    pq_buf_free(&m.buf);

    /* refusals, each saying what is wrong */
    pq_column_def wide = {"big", PQ_DECIMAL, 19, 2};
    ok(pq_writer_open(&wide, 1, &opt, to_mem, &m, err, sizeof err) == NULL &&
           strstr(err, "big") && strstr(err, "decimal(19,2)"),
       "decimal precision 19 refused, naming the column: %s", err);
    ok(pq_writer_open(cols, 0, &opt, to_mem, &m, err, sizeof err) == NULL,
       "no columns refused: %s", err);
    w = pq_writer_open(cols, 2, &opt, to_mem, &m, err, sizeof err);
    pq_writer_put_int(w, 0, 1);
    rc = pq_writer_end_row(w);
    ok(rc != 0 && strstr(pq_writer_error(w), "name"),
       "a row missing a column fails, naming it: %s", pq_writer_error(w));
    pq_writer_free(w);
    w = pq_writer_open(cols, 2, &opt, to_mem, &m, err, sizeof err);
    rc = pq_writer_put_bytes(w, 0, "x", 1);
    ok(rc != 0 && strstr(pq_writer_error(w), "id"),
       "a string for an int64 column fails: %s", pq_writer_error(w));
    pq_writer_free(w);
    pq_column_def i32 = {"small", PQ_INT32, 0, 0};
    w = pq_writer_open(&i32, 1, &opt, to_mem, &m, err, sizeof err);
    rc = pq_writer_put_int(w, 0, 1LL << 40);
    ok(rc != 0 && strstr(pq_writer_error(w), "small"), "an int32 column refuses 2^40: %s",
       pq_writer_error(w));
    pq_writer_free(w);
    pq_buf_free(&m.buf);

    /* a sink that fails: the writer says so, and stays failed */
    mem_sink f = {PQ_BUF_INIT, 100};
    w = pq_writer_open(cols, 2, &opt, to_mem, &f, err, sizeof err);
    for (int i = 0; i < 100; i++) {
        pq_writer_put_int(w, 0, i);
        pq_writer_put_bytes(w, 1, "0123456789", 10);
        pq_writer_end_row(w);
    }
    rc = pq_writer_close(w);
    ok(rc != 0 && strstr(pq_writer_error(w), "writing"),
       "a failing sink fails close: %s", pq_writer_error(w));
    pq_writer_free(w);
    pq_buf_free(&f.buf);

    /* each codec produces a file; none is stored uncompressed for zstd/gzip */
    size_t sizes[3];
    pq_codec codecs[3] = {PQ_CODEC_NONE, PQ_CODEC_GZIP, PQ_CODEC_ZSTD};
    for (int c = 0; c < 3; c++) {
        mem_sink s = {PQ_BUF_INIT, -1};
        pq_options o = {.codec = codecs[c]};
        pq_column_def t = {"t", PQ_STRING, 0, 0};
        w = pq_writer_open(&t, 1, &o, to_mem, &s, err, sizeof err);
        char val[32];
        for (int i = 0; i < 20000; i++) {
            int n = snprintf(val, sizeof val, "value-%d", i);
            pq_writer_put_bytes(w, 0, val, (size_t)n);
            pq_writer_end_row(w);
        }
        pq_writer_close(w);
        pq_writer_free(w);
        sizes[c] = s.buf.len;
        pq_buf_free(&s.buf);
    }
    ok(sizes[1] < sizes[0] / 2 && sizes[2] < sizes[0] / 2,
       "gzip (%zu) and zstd (%zu) pages are smaller than none (%zu)", sizes[1], sizes[2],
       sizes[0]);
}

int main(void)
{
    test_thrift();
    test_rle();
    test_writer();
    return done_testing();
}
