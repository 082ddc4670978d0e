/* test_tabular_core.c — the tabular plugin's conversions and readers
 * without the host: every type's accepted and refused texts, CSV per
 * RFC 4180 (quotes, doubled quotes, newlines in quotes, CRLF, BOM,
 * malformed input), TSV escapes, latin-1, JSON Lines. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "tab_read.h"
#include "tab_value.h"
#include "tap.h"

static tab_value conv(const char *type, const char *text, int *rc, char *why)
{
    tab_coltype t;
    char err[200];
    tab_value v;
    memset(&v, 0, sizeof v);
    if (tab_value_type_parse(type, &t, err, sizeof err) != 0) {
        *rc = -2;
        strcpy(why, err);
        return v;
    }
    *rc = tab_value_convert(&t, text, strlen(text), &v, why, 200);
    return v;
}

static void good(const char *type, const char *text, int64_t want)
{
    int rc;
    char why[200] = "";
    tab_value v = conv(type, text, &rc, why);
    ok(rc == 0 && !v.null && v.i == want, "%s \"%s\" -> %lld %s", type, text, (long long)want, why);
}

static void bad(const char *type, const char *text, const char *why_part)
{
    int rc;
    char why[200] = "";
    conv(type, text, &rc, why);
    ok(rc == -1 && strstr(why, why_part), "%s \"%s\" refused: %s", type, text, why);
}

static void test_types(void)
{
    good("int32", "-2147483648", INT32_MIN);
    bad("int32", "2147483648", "out of range");
    good("int64", "9223372036854775807", INT64_MAX);
    bad("int64", "12a", "not an integer");
    bad("int64", " 1", "not an integer");
    good("bool", "TRUE", 1);
    good("bool", "0", 0);
    bad("bool", "maybe", "not a boolean");
    good("decimal(12,2)", "12.5", 1250);
    good("decimal(12,2)", "-0.01", -1);
    good("decimal(4,2)", "99.99", 9999);
    bad("decimal(4,2)", "100.00", "precision");
    bad("decimal(12,2)", "1.234", "decimal places");
    bad("decimal(12,2)", "1,5", "not a decimal");
    good("date", "1970-01-02", 1);
    good("date", "2000-02-29", 11016);
    bad("date", "2001-02-29", "ISO 8601 date");
    bad("date", "2001-01-01 10:00:00", "ISO 8601 date");
    good("timestamp", "1970-01-01 00:00:01.5", 1500000);
    good("timestamp", "1970-01-01T01:00:00+01:00", 0);
    good("timestamp", "1969-12-31T23:59:59.999999Z", -1);
    bad("timestamp", "1970-13-01 00:00:00", "timestamp");
    /* found by tests/fuzz/fuzz_tabular: written as "-0001-12-31 23:00:00"
     * and "10000-01-01 00:59:59", which nothing reads back */
    bad("timestamp", "0000-01-01T00:00+01:00", "out of range");
    bad("timestamp", "9999-12-31T23:59:59-01:00", "out of range");
    good("timestamp", "0000-01-01T01:00+01:00", -62167219200000000LL);
    good("timestamp", "9999-12-31 23:59:59.999999Z", 253402300799999999LL);
    int rc;
    char why[200];
    tab_value v = conv("double", "1e3", &rc, why);
    ok(rc == 0 && v.d == 1000.0, "double 1e3");
    bad("double", "0x10", "not a number");
    v = conv("int64", "", &rc, why);
    ok(rc == 0 && v.null, "an empty value in a typed column is null");
    v = conv("string", "", &rc, why);
    ok(rc == 0 && !v.null && v.len == 0, "an empty string stays an empty string");
    conv("decimal(19,2)", "1", &rc, why);
    ok(rc == -2 && strstr(why, "precision"), "decimal(19,2) is refused: %s", why);
    conv("float", "1", &rc, why);
    ok(rc == -2 && strstr(why, "unknown type"), "unknown type refused: %s", why);

    tab_coltype t = {TAB_TIMESTAMP, 0, 0, "%d/%m/%Y %H:%M"};
    rc = tab_value_convert(&t, "31/12/2026 23:59", 16, &v, why, sizeof why);
    char text[TAB_TEXT_MAX];
    tab_value_text(&t, &v, text);
    ok(rc == 0 && strcmp(text, "2026-12-31 23:59:00") == 0, "timestamp with a format: %s", text);
    rc = tab_value_convert(&t, "2026-12-31 23:59", 16, &v, why, sizeof why);
    ok(rc != 0 && strstr(why, "%d/%m/%Y"), "a text not matching the format: %s", why);
    tab_coltype common = {TAB_TIMESTAMP, 0, 0, "%Y-%m-%d %H:%M:%S"};
    rc = tab_value_convert(&common, "2026-01-02 03:04:05.5", 21, &v, why, sizeof why);
    tab_value_text(&common, &v, text);
    ok(rc == 0 && strcmp(text, "2026-01-02 03:04:05.500000") == 0, "the common format, fast: %s", text);
    rc = tab_value_convert(&common, "2026-1-2 3:04:05", 16, &v, why, sizeof why);
    tab_value_text(&common, &v, text);
    ok(rc == 0 && strcmp(text, "2026-01-02 03:04:05") == 0,
       "the common format still accepts what strptime does (one-digit month): %s", text);
    rc = tab_value_convert(&common, "2026-02-30 03:04:05", 19, &v, why, sizeof why);
    ok(rc != 0, "the common format refuses February 30th");
    tab_coltype d = {TAB_DECIMAL, 12, 3, NULL};
    v.i = -5;
    tab_value_text(&d, &v, text);
    is_str(text, "-0.005", "decimal text keeps the scale");
}

typedef struct mem {
    const char *p;
    size_t len, pos, chunk;
} mem;

/* Feeds `chunk` bytes at a time: records cross buffer boundaries. */
static ssize_t pull_mem(void *ctx, void *buf, size_t cap)
{
    mem *m = ctx;
    size_t n = m->len - m->pos;
    if (n > cap)
        n = cap;
    if (n > m->chunk)
        n = m->chunk;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* All records as "a|b|c" lines ("!line:field:msg" for a bad one). */
static char *read_all(const tab_read_opts *o, const char *input, size_t chunk, char *err)
{
    mem m = {input, strlen(input), 0, chunk};
    int bad_input;
    tab_reader *r = tab_reader_open(o, pull_mem, &m, &bad_input, err, 200);
    if (!r)
        return NULL;
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    size_t ncols;
    const char *const *cols = tab_reader_columns(r, &ncols);
    for (size_t i = 0; i < ncols; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "|" : "", cols[i]);
    len += (size_t)snprintf(out + len, cap - len, "\n");
    tab_record rec;
    tab_bad b;
    int rc;
    while ((rc = tab_reader_next(r, &rec, &b)) != TAB_EOF && rc != TAB_FAIL) {
        if (rc == TAB_BAD_RECORD) {
            len += (size_t)snprintf(out + len, cap - len, "!%lld:%ld:%s\n", (long long)b.line,
                                    b.field, b.msg);
            continue;
        }
        len += (size_t)snprintf(out + len, cap - len, "%lld:", (long long)rec.line);
        for (size_t i = 0; i < rec.n; i++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s%.*s", i ? "|" : "",
                                    rec.f[i].null ? "(null)" : "", (int)rec.f[i].len, rec.f[i].p);
        len += (size_t)snprintf(out + len, cap - len, "\n");
    }
    tab_reader_free(r);
    return out;
}

static void check_read(const tab_read_opts *o, const char *in, const char *want, const char *name)
{
    char err[200] = "";
    /* whole, and one byte at a time */
    char *a = read_all(o, in, 1 << 20, err);
    char *b = read_all(o, in, 1, err);
    is_str(a ? a : err, want, "%s", name);
    is_str(b ? b : err, want, "%s (fed byte by byte)", name);
    free(a);
    free(b);
}

static void test_csv(void)
{
    tab_read_opts o = {.format = TAB_CSV, .delimiter = ',', .quote = '"', .header = 1};
    check_read(&o, "\xEF\xBB\xBF" "a,b\r\n1,\"x, \"\"y\"\"\"\r\n\"multi\nline\",2\r\n",
               "a|b\n2:1|x, \"y\"\n3:multi\nline|2\n",
               "CSV: BOM, CRLF, quoted delimiter, doubled quotes, newline in quotes");
    check_read(&o, "a,b\n1,2\n\n3\n4,5,6\n", "a|b\n2:1|2\n4:3\n5:4|5|6\n",
               "CSV: blank lines skipped; ragged rows come with their fields");
    check_read(&o, "a,b\n1,\"open\n2,3\n", "a|b\n!2:1:unterminated quoted field (the quote opened on line 2 is never closed before the end of the input)\n",
               "CSV: unterminated quote at the end of input");
    check_read(&o, "a,b\n\"x\"y,1\n2,3\n", "a|b\n!2:0:unexpected character 'y' after the closing quote of a quoted field (a quote inside a field is written twice)\n3:2|3\n",
               "CSV: text after a closing quote; reading resumes on the next line");
    check_read(&o, "a,b\n1,caf\xC3\n", "a|b\n!2:1:invalid UTF-8 (byte 0xC3 at offset 3 of the field; encoding: latin-1 reads ISO-8859-1 input)\n",
               "CSV: invalid UTF-8 is a bad record naming the field");
    tab_read_opts semi = {.format = TAB_CSV, .delimiter = ';', .quote = '\'', .header = 0, .latin1 = 1};
    check_read(&semi, "caf\xE9;'a;b'\n", "column1|column2\n1:caf\xC3\xA9|a;b\n",
               "CSV: delimiter, quote, no header, latin-1");
    check_read(&o, "a,b\n1,2", "a|b\n2:1|2\n", "CSV: last line without a line end");
    check_read(&o, "", "\n", "CSV: empty input has no columns and no rows");
}

/* A bad record is all there is to it: a caller's earlier record (here,
 * garbage) must not show through its raw line or fields. Found by
 * tests/fuzz/fuzz_tabular: the plugin's rejects read a stale `raw`. */
static void check_bad_is_clean(const tab_read_opts *o, const char *in, const char *name)
{
    mem m = {in, strlen(in), 0, 1 << 20};
    char err[200];
    int bad_input;
    tab_reader *r = tab_reader_open(o, pull_mem, &m, &bad_input, err, sizeof err);
    tab_record rec;
    memset(&rec, 0xA5, sizeof rec);
    tab_bad b;
    int rc = r ? tab_reader_next(r, &rec, &b) : TAB_FAIL;
    ok(rc == TAB_BAD_RECORD && rec.raw == NULL && rec.f == NULL && rec.n == 0, "%s", name);
    tab_reader_free(r);
}

static void test_bad_records(void)
{
    tab_read_opts o = {.format = TAB_CSV, .delimiter = ',', .quote = '"', .header = 1};
    check_bad_is_clean(&o, "a,b\n\"x\"y,1\n", "CSV: text after a closing quote leaves no raw line");
    check_bad_is_clean(&o, "a,b\n1,\"open\n", "CSV: an unterminated quote leaves no raw line");
    o.header = 0;
    check_bad_is_clean(&o, "\"x\"y,1\n", "CSV: nor when the bad line is the first, read ahead");
}

/* A first record of empty fields only: each field is "" (found by
 * tests/fuzz/fuzz_tabular: NULL + 0 under UBSan, NULL fields). */
static void check_empty_fields(const tab_read_opts *o, const char *name)
{
    mem m = {";''\n", 4, 0, 1 << 20};
    char err[200];
    int bad_input;
    tab_reader *r = tab_reader_open(o, pull_mem, &m, &bad_input, err, sizeof err);
    tab_record rec;
    tab_bad b;
    int rc = r ? tab_reader_next(r, &rec, &b) : TAB_FAIL;
    ok(rc == TAB_RECORD && rec.n == 2 && rec.f[0].p && rec.f[1].p && !rec.f[0].len &&
           !rec.f[1].len, "%s", name);
    tab_reader_free(r);
}

static void test_empty_fields(void)
{
    tab_read_opts o = {.format = TAB_CSV, .delimiter = ';', .quote = '\''};
    check_empty_fields(&o, "CSV: a first record of empty fields");
    o.latin1 = 1;
    check_empty_fields(&o, "CSV: a first record of empty fields, latin-1");
}

static void test_tsv(void)
{
    tab_read_opts o = {.format = TAB_TSV, .delimiter = '\t', .header = 1, .tsv_escapes = 1};
    check_read(&o, "a\tb\nx\\\ty\tp\\\\q\nm\\\nn\t\"z\"\n", "a|b\n2:x\ty|p\\q\n3:m\nn|\"z\"\n",
               "TSV with Adobe escapes: tab, backslash, newline; quotes are data");
    o.tsv_escapes = 0;
    check_read(&o, "a\tb\nx\\y\t1\n", "a|b\n2:x\\y|1\n", "TSV without escapes");
}

static void test_jsonl(void)
{
    tab_read_opts o = {.format = TAB_JSONL};
    check_read(&o, "{\"a\":1,\"b\":{\"c\":[1,2]},\"s\":\"\xC3\xA9\"}\n\n[1]\n{\"a\":2.5,\"s\":null}\r\n7\n{bad\n",
               "a|b|s\n1:1|{\"c\":[1,2]}|\xC3\xA9\n!3:-1:an array, not a JSON object\n4:2.5|(null)|(null)\n!5:-1:a number, not a JSON object\n!6:-1:column 4: invalid JSON: string or '}' expected near 'bad'\n",
               "JSONL: keys of the first line; nested kept as JSON; non-objects and bad JSON are bad lines");
    /* found by tests/fuzz/fuzz_tabular: NULL + 0 under UBSan */
    check_read(&o, "\n{\"a\":1}\n", "a\n2:1\n", "JSONL: a blank first line");
    const char *want[] = {"b.c", "a", "x.y"};
    tab_read_opts p = {.format = TAB_JSONL, .want = want, .nwant = 3};
    check_read(&p, "{\"a\":true,\"b\":{\"c\":\"deep\"},\"x\":1}\n", "b.c|a|x.y\n1:deep|true|(null)\n",
               "JSONL: dotted paths pick nested members; missing is null");
    check_read(&o, "{\"s\":\"\xff\"}\n", "line 1: column 6: invalid JSON: unable to decode byte 0xff near '\"' (without `columns`, the first line's keys name the columns)", "JSONL: invalid UTF-8 on the first line");
}

int main(void)
{
    test_types();
    test_csv();
    test_bad_records();
    test_empty_fields();
    test_tsv();
    test_jsonl();
    return done_testing();
}
