/* test_delivery.c — the pieces of a delivery set: the manifest (JAR form,
 * continuation lines, every field's error naming line and field), the
 * names of a set's objects, record counting across buffer boundaries with
 * escapes (contract §2), and size/MD5 computed while streaming. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/delivery_check.h"
#include "core/delivery_manifest.h"
#include "testdata.h"
#include "tap.h"

static void test_fixture_manifest(void)
{
    char *path = test_data_path(__FILE__, "adobe-feed/shopzilla_2009-09-27.txt");
    strbuf sb = STRBUF_INIT;
    ok(sb_read_file(&sb, path) == 0, "fixture manifest read");
    delivery_manifest m;
    sl_error err = {0};
    ok(delivery_manifest_parse(sb.buf, sb.len, "fixture", &m, &err) == 0, "fixture parses: %s",
       err.msg);
    is_int((int64_t)m.n_files, 3, "three files");
    is_int(m.total_records, 24, "Total-Records");
    if (m.n_files == 3) {
        is_str(m.files[0].name, "shopzilla_2009-09-27-lookup_data.tar.gz", "lookup first");
        ok(m.files[0].is_lookup, "it is a lookup file");
        is_int(m.files[0].size, 339, "its size");
        is_str(m.files[1].name, "01-shopzilla_2009-09-27.tsv.gz", "data file 1 in order");
        is_str(m.files[1].md5, "e00b5491f4b18b7d5e38dc8b7bcf4bad", "its MD5");
        is_int(m.files[1].records, 12, "its Record-Count");
        is_str(m.files[2].name, "02-shopzilla_2009-09-27.tsv.gz", "data file 2");
        is_int(m.files[2].size, 734, "its File-Size");
    }
    delivery_manifest_free(&m);
    sb_free(&sb);
    free(path);
}

static const char *const head =
    "Datafeed-Manifest-Version: 1.0\r\nLookup-Files: 0\r\nData-Files: 1\r\nTotal-Records: 5\r\n\r\n";

/* Parses head + body; returns the error message ("" when it parsed). */
static const char *parse(const char *body, delivery_manifest *m)
{
    static sl_error err;
    memset(&err, 0, sizeof err);
    char *text = xasprintf("%s%s", head, body);
    if (delivery_manifest_parse(text, strlen(text), "x.txt", m, &err) != 0)
        memset(m, 0, sizeof *m);
    free(text);
    return err.msg;
}

static void test_continuation_and_crlf(void)
{
    delivery_manifest m;
    const char *e = parse("Data-File: 01-a_2026-11-20.tsv.gz\r\nMD5-Digest: 00112233445566778899"
                          "\r\n AABBCCDDEEFF\r\nFile-Size: 10\r\nRecord-Count: 5\r\n",
                          &m);
    is_str(e, "", "a continued MD5 and CRLF lines parse");
    if (m.n_files == 1)
        is_str(m.files[0].md5, "00112233445566778899aabbccddeeff", "continuation joined, lowercased");
    delivery_manifest_free(&m);
}

static void test_errors(void)
{
    static const struct {
        const char *body, *want;
    } cases[] = {
        {"Data-File: a.gz\nFile-Size: 10\nRecord-Count: 5\n", "x.txt:6: Data-File a.gz has no MD5-Digest"},
        {"Data-File: a.gz\nMD5-Digest: 0011\nFile-Size: 1\nRecord-Count: 5\n",
         "x.txt:7: MD5-Digest \"0011\" is not 32 hex digits"},
        {"Data-File: a.gz\nMD5-Digest: 00112233445566778899aabbccddeeff\nFile-Size: ten\n",
         "x.txt:8: File-Size is \"ten\", not a count"},
        {"Data-File: a.gz\nMD5-Digest: 00112233445566778899aabbccddeeff\nFile-Size: 1\n",
         "Data-File a.gz has no Record-Count"},
        {"Data-File: ../etc/passwd\n", "x.txt:6: Data-File \"../etc/passwd\" is not a file name"},
        {"Data-File: a.gz\nMD5-Digest: 00112233445566778899aabbccddeeff\nFile-Size: 1\n"
         "Record-Count: 5\n\nData-File: b.gz\nMD5-Digest: 00112233445566778899aabbccddeeff\n"
         "File-Size: 1\nRecord-Count: 0\n",
         "Data-Files 1, but it lists 0 lookup and 2 data files"},
        {"just words\n", "x.txt:6: not a \"Name: value\" line"},
        {"\n MD5: x\n", "x.txt:7: a continuation line follows no value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        delivery_manifest m;
        const char *e = parse(cases[i].body, &m);
        ok(strstr(e, cases[i].want) != NULL, "error %zu: \"%s\" in \"%s\"", i, cases[i].want, e);
        delivery_manifest_free(&m);
    }
    delivery_manifest m;
    sl_error err = {0};
    const char *nohead = "Lookup-Files: 0\nData-Files: 0\nTotal-Records: 0\n";
    ok(delivery_manifest_parse(nohead, strlen(nohead), "y.txt", &m, &err) != 0 &&
           strstr(err.msg, "no Datafeed-Manifest-Version"),
       "a missing header field is named: %s", err.msg);
}

static void test_names(void)
{
    delivery_name n;
    ok(delivery_manifest_name("shopzilla_2009-09-27.txt", &n), "daily manifest");
    is_str(n.rsid, "shopzilla", "rsid");
    is_str(n.date, "2009-09-27", "feed date");
    is_str(n.hour, "", "no hour");
    ok(!n.fin, "not a .fin");
    ok(delivery_manifest_name("my_suite_2026-11-20-05.fin", &n), "hourly .fin marker");
    is_str(n.rsid, "my_suite", "rsid with an underscore");
    is_str(n.hour, "05", "feed hour");
    is_str(n.stem, "my_suite_2026-11-20-05", "stem");
    ok(n.fin, "a .fin");
    ok(!delivery_manifest_name("01-shopzilla_2009-09-27.tsv.gz", &n), "a data file is no manifest");
    ok(!delivery_manifest_name("_2009-09-27.txt", &n), "no rsid");
    ok(!delivery_manifest_name("notes.txt", &n), "no date");
    ok(!delivery_manifest_name("s_2026-11-20-24.txt", &n), "hour 24");
    ok(delivery_manifest_is_data_name("01-shopzilla_2009-09-27.tsv.gz", "shopzilla_2009-09-27"),
       "data file of the stem");
    ok(!delivery_manifest_is_data_name("01-shopzilla_2009-09-27-05.tsv.gz",
                                       "shopzilla_2009-09-27"),
       "an hour's data file is not the day's");
    ok(delivery_manifest_is_lookup_name("shopzilla_2009-09-27-lookup_data.tar.gz",
                                        "shopzilla_2009-09-27"),
       "lookup archive of the stem");
}

/* Counting must not depend on where the buffers are cut. */
static void test_count(void)
{
    static const struct {
        const char *text;
        int64_t want;
    } cases[] = {
        {"a\tb\nc\td\n", 2},
        {"a\\\nb\n", 1},        /* an escaped LF does not end a record */
        {"a\\\\\nb\n", 2},      /* an escaped backslash, then a real LF */
        {"a\\\tb\nlast", 2},    /* a last record without its LF counts */
        {"a\\x\n", 1},          /* a backslash before anything else */
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].text);
        for (size_t cut = 0; cut <= len; cut++) {
            delivery_count c = {0};
            delivery_check_count(&c, cases[i].text, cut);
            delivery_check_count(&c, cases[i].text + cut, len - cut);
            int64_t got = delivery_check_count_end(&c, NULL);
            if (got != cases[i].want) {
                is_int(got, cases[i].want, "case %zu cut at %zu", i, cut);
                goto next;
            }
        }
        ok(1, "case %zu: %lld records at every cut", i, (long long)cases[i].want);
    next:;
    }
}

/* The contract's rule one byte at a time: the model the fast counter
 * (memchr over runs without a backslash) must agree with. */
static int64_t count_model(const char *p, size_t len, int *open_end)
{
    int64_t n = 0;
    int escaped = 0, open = 0;
    for (size_t i = 0; i < len; i++) {
        if (escaped) {
            escaped = 0;
            open = 1;
        } else if (p[i] == '\\') {
            escaped = open = 1;
        } else if (p[i] == '\n') {
            n++;
            open = 0;
        } else {
            open = 1;
        }
    }
    *open_end = open;
    return n + open;
}

/* Random text over an alphabet dense in LF and backslash, cut into random
 * buffers: the count and the open end equal the model's. */
static void test_count_model(void)
{
    static const char alphabet[] = "ab\t\n\n\\\\";
    unsigned seed = 12345;
    char text[300];
    int bad = 0;
    for (int round = 0; round < 2000 && !bad; round++) {
        size_t len = (size_t)(seed = seed * 1103515245u + 12345u) % sizeof text;
        for (size_t i = 0; i < len; i++)
            text[i] = alphabet[(seed = seed * 1103515245u + 12345u) >> 16 & 7];
        int want_open, got_open;
        int64_t want = count_model(text, len, &want_open);
        delivery_count c = {0};
        for (size_t at = 0; at < len;) {
            size_t step = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 40;
            if (step > len - at)
                step = len - at;
            delivery_check_count(&c, text + at, step);
            at += step;
        }
        int64_t got = delivery_check_count_end(&c, &got_open);
        if (got != want || got_open != want_open) {
            is_int(got, want, "round %d: records (open end %d, model's %d)", round, got_open,
                   want_open);
            bad = 1;
        }
    }
    ok(!bad, "the counter agrees with the byte-at-a-time model on 2000 random cut texts");
}

/* A reader over a string, read in pieces of 3 bytes. */
typedef struct str_reader {
    storage_reader base;
    const char *s;
    size_t pos, len;
    int *closed;
} str_reader;

static ssize_t str_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    (void)err;
    str_reader *s = (str_reader *)r;
    size_t n = s->len - s->pos;
    n = n < cap ? n : cap;
    n = n < 3 ? n : 3;
    memcpy(buf, s->s + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

static void str_close(storage_reader *r)
{
    *((str_reader *)r)->closed = 1;
    free(r);
}

static const storage_reader_ops str_ops = {.read = str_read, .close = str_close};

static void test_check_reader(void)
{
    int closed = 0;
    str_reader *s = xcalloc(1, sizeof *s);
    *s = (str_reader){{&str_ops}, "hello world\n", 0, 12, &closed};
    delivery_tally t;
    storage_reader *r = delivery_check_wrap(&s->base, &t);
    char buf[4];
    sl_error err = {0};
    ok(storage_read(r, buf, sizeof buf, &err) == 3, "reads pass through");
    storage_reader_close(r); /* the rest is read on close */
    ok(closed, "closing the wrapper closes the raw reader");
    ok(t.done, "the tally is done");
    is_int(t.bytes, 12, "every byte counted, those left unread too");
    is_str(t.md5, "6f5902ac237024bdd0c176cb93063dc4", "MD5 of the whole object");
}

int main(void)
{
    test_fixture_manifest();
    test_continuation_and_crlf();
    test_errors();
    test_names();
    test_count();
    test_count_model();
    test_check_reader();
    return done_testing();
}
