/* test_revenue.c — unit tests of the revenue plugin: the core modules
 * directly, then the ABI glue (revenue.c) through a fake host. Every clause
 * of docs/plugins/revenue.md / the search-keyword-performance spec has a
 * test with exact expected values. No engine is linked. */
#include "autoconfig.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sluice/plugin.h>

#include "rev_attrib.h"
#include "rev_engines.h"
#include "rev_hash.h"
#include "rev_keyword.h"
#include "rev_money.h"
#include "rev_pipe.h"
#include "rev_report.h"
#include "rev_scan.h"
#include "rev_url.h"
#include "tap.h"

extern const sluice_plugin sluice_plugin_descriptor;

/* ---- helpers ------------------------------------------------------------ */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_addf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_addf(buf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    buf_add(b, tmp, (size_t)n);
}

static const char *buf_str(const buf *b)
{
    return b->p ? b->p : "";
}

static void buf_free(buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static char *data_path(const char *rel)
{
    const char *top = getenv("top_srcdir");
    buf b = {0};
    if (top && *top) {
        buf_addf(&b, "%s/%s", top, rel);
    } else {
        /* this file is plugins/revenue/test_revenue.c */
        const char *f = __FILE__;
        const char *cut = strstr(f, "plugins/revenue/test_revenue.c");
        buf_addf(&b, "%.*s%s", (int)(cut ? cut - f : 0), f, rel);
    }
    return b.p;
}

static int slurp(const char *rel, buf *out)
{
    char *path = data_path(rel);
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return -1;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_add(out, tmp, n);
    fclose(f);
    return 0;
}

/* ---- the core, end to end ----------------------------------------------- */

typedef struct opts {
    int first, ip_ua, exclude_zero;
    rev_visitor_mode visitor;   /* AUTO unless ip_ua */
    int no_escapes, no_exclude;
    int64_t timeout; /* 0: 1800 */
    const char *const *columns;
    size_t ncolumns;
    const rev_engines *engines; /* NULL: the defaults */
    size_t chunk;               /* feed size; 0: all at once */
} opts;

typedef struct result {
    buf report;
    rev_stats st;
    rev_err_kind err;
    char msg[512];
    uint64_t warned_malformed, warned_amount;
    uint64_t last_malformed_line;
    buf warnings; /* every warning: kind, line, what, text */
} result;

static int collect(void *ctx, const void *p, size_t n)
{
    buf_add(ctx, p, n);
    return 0;
}

static void count_warn(void *ctx, rev_warn_kind kind, uint64_t line, const char *what,
                       const char *text, size_t len)
{
    result *r = ctx;
    buf_addf(&r->warnings, "%d %llu %s [%.*s]\n", (int)kind, (unsigned long long)line, what,
             (int)len, text ? text : "");
    if (kind == REV_WARN_MALFORMED) {
        r->warned_malformed++;
        r->last_malformed_line = line;
    } else
        r->warned_amount++;
}

static void result_free(result *r)
{
    buf_free(&r->report);
    buf_free(&r->warnings);
}

/* One run of the core: the input fed in pieces of o->chunk bytes, parsed
 * on `threads` threads in chunks of `pchunk` bytes (rev_attrib.h). */
/* The release calls of a mapped feed: each `upto` larger than the last,
 * none past the input; with `guard`, the released whole pages are made
 * unreadable, so a later read of them crashes the test. */
typedef struct releases {
    const char *base;
    size_t len, last, calls;
    int backwards, guard;
} releases;

static void on_release(void *ctx, size_t upto)
{
    releases *rl = ctx;
    rl->calls++;
    if (upto <= rl->last || upto > rl->len)
        rl->backwards = 1;
    if (rl->guard) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        mprotect((void *)rl->base, upto / page * page, PROT_NONE);
    }
    rl->last = upto;
}

static int mapped_feed; /* run_core_with feeds as a mapped input */
static releases *mapped_releases;

static void run_core_with(const char *input, size_t len, const opts *o, size_t threads,
                          size_t pchunk, result *r)
{
    static rev_engines defaults = REV_ENGINES_INIT;
    char err[256];
    if (!defaults.n && rev_engines_set_default(&defaults, err, sizeof err) != 0)
        abort();
    memset(r, 0, sizeof *r);
    rev_config cfg = {
        .engines = o->engines ? o->engines : &defaults,
        .visit_timeout = o->timeout ? o->timeout : 1800,
        .attribution_first = o->first,
        .visitor = o->ip_ua ? REV_VISITOR_IP_UA : o->visitor,
        .escapes = !o->no_escapes,
        .exclude = !o->no_exclude,
        .columns = o->columns,
        .ncolumns = o->ncolumns,
        .warn = count_warn,
        .warn_ctx = r,
        .threads = threads,
        .chunk = pchunk,
    };
    rev_attrib *a = rev_attrib_new(&cfg);
    size_t chunk = o->chunk ? o->chunk : (len ? len : 1);
    int rc = 0;
    if (mapped_feed)
        rc = rev_attrib_feed_mapped(a, input, len, mapped_releases ? on_release : NULL,
                                    mapped_releases);
    for (size_t off = 0; !mapped_feed && rc == 0 && off < len; off += chunk)
        rc = rev_attrib_feed(a, input + off, len - off < chunk ? len - off : chunk);
    if (rc == 0)
        rc = rev_attrib_finish(a);
    r->st = *rev_attrib_stats(a);
    const char *msg = rev_attrib_error(a, &r->err);
    if (msg) {
        snprintf(r->msg, sizeof r->msg, "%s", msg);
    } else {
        size_t n;
        rev_pair **pairs = rev_attrib_pairs(a, &n);
        rev_report_write(pairs, n, !o->exclude_zero, collect, &r->report);
    }
    rev_attrib_free(a);
}

/* Where two runs differ, or NULL. */
static const char *difference(const result *x, const result *y)
{
    if (x->report.len != y->report.len || memcmp(buf_str(&x->report), buf_str(&y->report),
                                                 x->report.len) != 0)
        return "report";
    if (memcmp(&x->st, &y->st, sizeof x->st) != 0)
        return "statistics";
    if (x->err != y->err || strcmp(x->msg, y->msg) != 0)
        return "error";
    if (x->warnings.len != y->warnings.len ||
        memcmp(buf_str(&x->warnings), buf_str(&y->warnings), x->warnings.len) != 0)
        return "warnings";
    return NULL;
}

static size_t parallel_runs, parallel_diffs;

/* Every input of these tests runs one record at a time (threads 0, the
 * result the tests check), then parsed in batches on the caller's thread
 * (threads 1) and on 2, 3 and 8 parse threads, with chunks from one byte
 * up: each must give the same report, statistics, error and warnings
 * (line numbers included). Tiny chunks put a chunk edge at every byte. */
static void run_core(const char *input, size_t len, const opts *o, result *r)
{
    static const size_t threads[] = {1, 2, 3, 8};
    static const size_t pchunks[] = {1, 7, 0};
    run_core_with(input, len, o, 0, 0, r);
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        for (size_t c = 0; c < sizeof pchunks / sizeof *pchunks; c++) {
            if (len > ((size_t)16 << 10) && pchunks[c] && pchunks[c] < 4096)
                continue; /* big inputs: a chunk per record would take long */
            for (mapped_feed = 0; mapped_feed < 2; mapped_feed++) {
                result par;
                run_core_with(input, len, o, threads[t], pchunks[c], &par);
                const char *diff = difference(r, &par);
                parallel_runs++;
                if (diff && parallel_diffs++ < 5) {
                    char note[160];
                    snprintf(note, sizeof note, "%zu threads, chunk %zu%s: the %s differs",
                             threads[t], pchunks[c], mapped_feed ? ", mapped" : "", diff);
                    diag_note(note);
                }
                result_free(&par);
            }
            mapped_feed = 0;
        }
    }
}

static void run_str(const char *input, const opts *o, result *r)
{
    run_core(input, strlen(input), o, r);
}

#define HDR "hit_time_gmt\tip\tuser_agent\tevent_list\tproduct_list\treferrer\n"
#define RHDR "Search Engine Domain\tSearch Keyword\tRevenue\n"

/* One hit in the HDR layout. */
static void hit(buf *b, long t, const char *ip, const char *events, const char *products,
                const char *referrer)
{
    buf_addf(b, "%ld\t%s\tUA\t%s\t%s\t%s\n", t, ip, events, products, referrer);
}

static void hit_ua(buf *b, long t, const char *ip, const char *ua, const char *events,
                   const char *products, const char *referrer)
{
    buf_addf(b, "%ld\t%s\t%s\t%s\t%s\t%s\n", t, ip, ua, events, products, referrer);
}

#define GOOGLE_IPOD "http://www.google.com/search?q=Ipod"
#define BING_ZUNE "http://www.bing.com/search?q=Zune"
#define SHOP "http://www.esshopzilla.com/cart/"

/* ---- url ---------------------------------------------------------------- */

static void check_host(const char *url, const char *want_host, const char *want_query,
                       const char *name)
{
    rev_url u;
    char host[256];
    if (rev_url_split(url, strlen(url), &u) != 0) {
        ok(want_host == NULL, "url %s: not http(s)", name);
        return;
    }
    long n = rev_url_host(u.authority, u.authority_len, host, sizeof host);
    if (n < 0) {
        ok(want_host == NULL, "url %s: no usable host", name);
        return;
    }
    is_mem(host, (size_t)n, want_host ? want_host : "(none)",
           strlen(want_host ? want_host : "(none)"), "url %s: host", name);
    if (want_query)
        is_mem(u.query ? u.query : "(none)", u.query ? u.query_len : 6, want_query,
               strlen(want_query), "url %s: query", name);
    else
        ok(u.query == NULL, "url %s: no query", name);
}

/* The authority's and the query's ends at every distance from the start
 * (the split looks 16 bytes at a time, then byte by byte): "http://" A
 * STOP P "?q=1#f", A and P runs of 'a' and 'p'. */
static void test_url_edges(void)
{
    char url[192], auth[64], query[96];
    int bad = 0;
    for (size_t len = 1; len < 40 && !bad; len++) {
        for (const char *stop = "/?#"; *stop && !bad; stop++) {
            for (size_t path = 0; path < 40 && !bad; path += 7) {
                memset(auth, 'a', len);
                auth[len] = '\0';
                char pp[64];
                memset(pp, 'p', path);
                pp[path] = '\0';
                snprintf(url, sizeof url, "http://%s%c%s?q=1#f", auth, *stop, pp);
                /* '/': the query is q=1; '?': it starts at the stop; '#': none */
                snprintf(query, sizeof query, "%s", *stop == '?' ? pp : "q=1");
                if (*stop == '?')
                    snprintf(query + path, sizeof query - path, "?q=1");
                rev_url u;
                bad = rev_url_split(url, strlen(url), &u) != 0 || u.authority_len != len ||
                      memcmp(u.authority, auth, len) != 0 ||
                      (*stop == '#' ? u.query != NULL
                                    : !u.query || u.query_len != strlen(query) ||
                                          memcmp(u.query, query, u.query_len) != 0);
                if (bad)
                    diag_note(url);
            }
        }
    }
    ok(!bad, "url split: authorities of 1 to 39 bytes, ended by '/', '?' or '#', paths of 0 "
       "to 35 bytes");
}

static void test_url(void)
{
    test_url_edges();
    check_host("http://www.google.co.uk/search?q=x", "www.google.co.uk", "q=x", "plain");
    check_host("HTTPS://User:pw@WWW.Google.COM.:8080/s?q=1#frag", "www.google.com", "q=1",
               "scheme case, user@, port, trailing dot, fragment");
    check_host("HtTp://a@b@bing.com/?q=1", "bing.com", "q=1", "last @ ends userinfo");
    check_host("http://google.com?q=1", "google.com", "q=1", "query right after host");
    check_host("http://google.com/#x?q=1", "google.com", NULL, "? inside the fragment");
    check_host("http://google.com/a?b?c#d", "google.com", "b?c", "first ? starts the query");
    check_host("http://google.com", "google.com", NULL, "no path");
    check_host("ftp://www.google.com/?q=x", NULL, NULL, "ftp scheme");
    check_host("www.google.com/search?q=x", NULL, NULL, "no scheme");
    check_host("http:/google.com/?q=x", NULL, NULL, "single slash");
    check_host("httpx://google.com/?q=x", NULL, NULL, "httpx scheme");
    check_host("http:///?q=x", NULL, NULL, "empty host");
    check_host("http://[::1]:80/?q=x", NULL, NULL, "IP literal");
    check_host("http://goo gle.com/?q=x", NULL, NULL, "space in host");
    check_host("http://user@:80/?q=x", NULL, NULL, "only user and port");
}

/* ---- engines ------------------------------------------------------------ */

static const char *engine_of(const rev_engines *t, const char *host)
{
    const rev_engine *e = rev_engines_match(t, host, strlen(host));
    return e ? e->name : "-";
}

static void test_engines(void)
{
    rev_engines t = REV_ENGINES_INIT;
    char err[256];
    is_int(rev_engines_set_default(&t, err, sizeof err), 0, "default engines");
    is_int((int64_t)t.n, 8, "8 default engines");
    static const struct {
        const char *host, *engine;
    } cases[] = {
        {"google.com", "google"},         {"www.google.com", "google"},
        {"www.google.co.uk", "google"},   {"google.co.uk", "google"},
        {"google.com.br", "google"},      {"www.google.com.tr", "google"},
        {"google.de", "google"},          {"google.co", "google"},
        {"news.google.fr", "google"},     {"google.com.evil.example", "-"},
        {"notgoogle.com", "-"},           {"google.example", "-"},
        {"google.c0m", "-"},              {"google", "-"},
        {"google.co.uk.evil.com", "-"},   {"google.com.br.com", "-"},
        {"google.co.u", "-"},             {"google.co.ukk", "-"},
        {"google.net.uk", "-"},           {"google.com.bra", "-"},
        {"bing.com", "bing"},             {"www.bing.com", "bing"},
        {"bing.com.evil.example", "-"},   {"notbing.com", "-"},
        {"bing.co.uk", "-"},              {"yahoo.com", "yahoo"},
        {"search.yahoo.com", "yahoo"},    {"uk.search.yahoo.com", "yahoo"},
        {"yahoo.co.jp", "-"},             {"duckduckgo.com", "duckduckgo"},
        {"msn.com", "msn"},               {"search.msn.com", "msn"},
        {"ask.com", "ask"},               {"baidu.com", "baidu"},
        {"yandex.ru", "yandex"},          {"www.yandex.com.tr", "yandex"},
        {"yandex.example", "-"},          {"esshopzilla.com", "-"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        is_str(engine_of(&t, cases[i].host), cases[i].engine, "engine of %s", cases[i].host);
    rev_engines_free(&t);

    /* custom tables: first matching engine wins; patterns are checked */
    is_int(rev_engines_add(&t, "shop", "k", err, sizeof err), 0, "custom engine");
    is_int(rev_engines_add_host(&t, "Shop.Example.<tld>", err, sizeof err), 0, "tld pattern");
    is_int(rev_engines_add_host(&t, "esshopzilla.com", err, sizeof err), 0, "second pattern");
    is_int(rev_engines_add(&t, "other", "q", err, sizeof err), 0, "second engine");
    is_int(rev_engines_add_host(&t, "example.co.uk", err, sizeof err), 0, "plain pattern");
    is_str(engine_of(&t, "www.shop.example.co.uk"), "shop", "custom tld pattern, first wins");
    is_str(engine_of(&t, "a.example.co.uk"), "other", "custom plain pattern");
    is_str(engine_of(&t, "www.esshopzilla.com"), "shop", "custom second pattern");
    is_str(engine_of(&t, "shop.example.com.evil"), "-", "custom no match");
    static const char *const bad[] = {"", ".com", "a..b", "goo gle.com", "google.<tld>.com",
                                      "<tld>", ".<tld>", "a.", "*.google.com", "a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        is_int(rev_engines_add_host(&t, bad[i], err, sizeof err), -1, "bad pattern '%s'", bad[i]);
    ok(strstr(err, "bad host pattern") != NULL, "pattern error message: %s", err);
    is_int(rev_engines_add(&t, "shop", "q", err, sizeof err), -1, "duplicate engine name");
    is_int(rev_engines_add(&t, "x", "", err, sizeof err), -1, "empty param");
    is_int(rev_engines_add(&t, "x", "a=b", err, sizeof err), -1, "param with =");
    is_int(rev_engines_add(&t, "", "q", err, sizeof err), -1, "empty name");
    rev_engines_free(&t);
}

static void check_shorten(const char *host, const char *want)
{
    size_t off = rev_domain_shorten(host, strlen(host));
    is_str(host + off, want, "shorten %s", host);
}

static void test_shorten(void)
{
    check_shorten("www.google.com", "google.com");
    check_shorten("search.yahoo.com", "yahoo.com");
    check_shorten("www.google.co.uk", "google.co.uk");
    check_shorten("uk.search.yahoo.com", "uk.search.yahoo.com");
    check_shorten("www.search.yahoo.com", "yahoo.com");
    check_shorten("search.www.bing.com", "bing.com");
    check_shorten("www.com", "www.com");
    check_shorten("search.com", "search.com");
    check_shorten("www.search.com", "search.com");
    check_shorten("google.com", "google.com");
    check_shorten("wwww.google.com", "wwww.google.com");
    check_shorten("news.google.fr", "news.google.fr");
}

/* ---- keywords ----------------------------------------------------------- */

static void check_decode(const char *in, const char *want)
{
    char out[256];
    size_t n = rev_percent_decode(in, strlen(in), out);
    is_mem(out, n, want, strlen(want), "decode '%s'", in);
}

static void check_kw(const char *query, const char *param, const char *want, const char *name)
{
    char out[512];
    size_t n = rev_query_keyword(query, strlen(query), param, strlen(param), out);
    is_mem(out, n, want, strlen(want), "keyword: %s", name);
}

static void test_keyword(void)
{
    check_decode("%%41", "%A");
    check_decode("a+b", "a b");
    check_decode("%4a%4A", "JJ");
    check_decode("%4", "%4");
    check_decode("%zz1", "%zz1");
    check_decode("%", "%");
    check_decode("100%", "100%");
    check_decode("%2B", "+");
    {
        char out[8];
        size_t n = rev_percent_decode("%00x", 4, out);
        is_mem(out, n, "\0x", 2, "decode %%00 gives a NUL byte");
    }

    check_kw("q=Ipod", "q", "ipod", "lower-cased");
    check_kw("Q=zune&q=Ipod", "q", "ipod", "Q= is not q");
    check_kw("Q=zune", "q", "", "only Q=");
    check_kw("amp;q=ipod", "q", "", "amp;q= is not q");
    check_kw("amp;q=ipod&q=zune", "q", "zune", "amp;q= skipped");
    check_kw("q=&q=ipod", "q", "ipod", "first non-empty occurrence");
    check_kw("q=+%20%09&q=ipod", "q", "ipod", "blank value skipped");
    check_kw("q", "q", "", "name without =");
    check_kw("qq=1&q=2", "q", "2", "longer name");
    check_kw("xq=1&q=2", "q", "2", "name suffix");
    check_kw("q=IPOD%20", "q", "ipod", "IPOD%20");
    check_kw("q=a=b", "q", "a=b", "split at first =");
    check_kw("x=1&q=%%41", "q", "%a", "%%41 then lower-cased");
    check_kw("q=cd+player", "q", "cd player", "+ is a space");
    check_kw("q=++cd+++player++", "q", "cd player", "spaces collapsed and trimmed");
    check_kw("q=a%00%01%1F%7Fb", "q", "a b", "control bytes and DEL are one space");
    check_kw("q=a%09%0A%0D%0B%0Cb", "q", "a b", "whitespace runs");
    check_kw("q=%7F", "q", "", "only DEL");
    check_kw("q=caf%C3%A9", "q", "caf\xc3\xa9", "UTF-8 kept");
    check_kw("q=%C3%89T%C3%89", "q", "\xc3\x89t\xc3\x89", "only ASCII letters lowered");
    check_kw("q=%E9%FF%80", "q", "\xe9\xff\x80", "invalid UTF-8 kept");
    check_kw("q=caf\xc3\xa9", "q", "caf\xc3\xa9", "raw bytes kept");
    check_kw("q=%22ipod%22", "q", "\"ipod\"", "quotes are characters");
    check_kw("p=cd+player&toggle=1", "p", "cd player", "yahoo p");
    check_kw("", "q", "", "empty query");
    check_kw("&&q=x&&", "q", "x", "empty pieces");
    check_kw("q=x;q=y", "q", "x;q=y", "split on & only");
}

/* ---- money -------------------------------------------------------------- */

static void check_amount(const char *s, int want_status, int64_t want_cents)
{
    int64_t c = -1;
    rev_amount_status st = rev_amount_cents(s, strlen(s), &c);
    is_int(st, want_status, "amount '%s' status", s);
    is_int(c, want_cents, "amount '%s' cents", s);
}

static void test_money(void)
{
    static const struct {
        const char *events;
        int purchase;
    } ev[] = {
        {"1", 1},      {"1=5", 1},    {" 1 ", 1},     {"2,1", 1},   {"1:abc", 1},
        {"2, 1 ,3", 1}, {"1 =5", 1},  {"200=5,1", 1}, {"11", 0},    {"12", 0},
        {"100", 0},    {"10", 0},     {"event1", 0},  {"", 0},      {"11,12", 0},
        {"200=1", 0},  {"2", 0},      {"01", 0},      {"1 1", 0},   {",", 0},
        {"1x", 0},     {"x1", 0},     {"21", 0},
    };
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        is_int(rev_is_purchase(ev[i].events, strlen(ev[i].events)), ev[i].purchase,
               "purchase event in '%s'", ev[i].events);

    check_amount("5", REV_AMOUNT_OK, 500);
    check_amount("5.", REV_AMOUNT_OK, 500);
    check_amount(".5", REV_AMOUNT_OK, 50);
    check_amount("249.99", REV_AMOUNT_OK, 24999);
    check_amount(" 7 ", REV_AMOUNT_OK, 700);
    check_amount("0.005", REV_AMOUNT_OK, 1);
    check_amount("0.004", REV_AMOUNT_OK, 0);
    check_amount("0.0049999", REV_AMOUNT_OK, 0);
    check_amount("1.995", REV_AMOUNT_OK, 200);
    check_amount("2.675", REV_AMOUNT_OK, 268); /* 2.675 is below half in binary */
    check_amount("0010.10", REV_AMOUNT_OK, 1010);
    check_amount("999999999999999.99", REV_AMOUNT_OK, 99999999999999999);
    check_amount("000000000000000000001", REV_AMOUNT_OK, 100);
    check_amount("1000000000000000", REV_AMOUNT_BAD, 0);
    check_amount("", REV_AMOUNT_EMPTY, 0);
    check_amount("   ", REV_AMOUNT_EMPTY, 0);
    static const char *const bad[] = {"-5", "+5", "1e3", "0x10", "1.2.3", "12abc", "inf",
                                      ".", "5 5", "nan", "1,5", "$5", "5-", "\t5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_amount(bad[i], REV_AMOUNT_BAD, 0);

    uint64_t warn = 0;
    const char *pl = "Electronics;Zune - 328GB;1;;";
    is_int(rev_product_revenue(pl, strlen(pl), &warn, NULL, NULL), 0, "empty 4th field");
    pl = "A;B;1;0.10;,A;C;1;0.20;";
    is_int(rev_product_revenue(pl, strlen(pl), &warn, NULL, NULL), 30, "0.10 + 0.20 = 0.30");
    pl = "A;B;1";
    is_int(rev_product_revenue(pl, strlen(pl), &warn, NULL, NULL), 0, "missing 4th field");
    pl = "";
    is_int(rev_product_revenue(pl, 0, &warn, NULL, NULL), 0, "empty product list");
    is_int((int64_t)warn, 0, "no warnings so far");
    pl = "A;B;1;5;x;y,C;D;2;abc;,E;F;1;0.005";
    is_int(rev_product_revenue(pl, strlen(pl), &warn, NULL, NULL), 501,
           "bad amount counts 0, others summed");
    is_int((int64_t)warn, 1, "one warning");
    pl = "A;B;1;0.005,A;B;1;0.005";
    is_int(rev_product_revenue(pl, strlen(pl), &warn, NULL, NULL), 2,
           "each amount rounded on its own");

    int64_t acc = INT64_MAX - 1;
    is_int(rev_cents_add(&acc, 1), 0, "add to the limit");
    is_int(rev_cents_add(&acc, 1), -1, "overflow detected");
    is_int(acc, INT64_MAX, "saturated");

    static const struct {
        int64_t cents;
        const char *text;
    } fmt[] = {{0, "0.00"},         {5, "0.05"},          {50, "0.50"},     {48000, "480.00"},
               {30, "0.30"},        {123456789, "1234567.89"}, {-5, "-0.05"}, {100, "1.00"}};
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        char b[32];
        size_t n = rev_format_cents(fmt[i].cents, b);
        is_mem(b, n, fmt[i].text, strlen(fmt[i].text), "format %lld", (long long)fmt[i].cents);
    }
}

/* ---- input format ------------------------------------------------------- */

static void test_sample(void)
{
    buf in = {0}, want = {0};
    ok(slurp("tests/data/hit_data.tsv", &in) == 0, "read the sample");
    ok(slurp("tests/data/revenue/expected_sample.tab", &want) == 0, "read the expected report");
    static const size_t chunks[] = {0, 1, 2, 3, 7, 64, 1000};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        opts o = {.chunk = chunks[i]};
        result r;
        run_core(in.p, in.len, &o, &r);
        is_mem(buf_str(&r.report), r.report.len, buf_str(&want), want.len,
               "sample report, fed in chunks of %zu", chunks[i]);
        result_free(&r);
    }
    opts o = {0};
    result r;
    run_core(in.p, in.len, &o, &r);
    is_str(buf_str(&r.report),
           RHDR "google.com\tipod\t480.00\nbing.com\tzune\t250.00\nyahoo.com\tcd player\t0.00\n",
           "sample report: the spec's bytes");
    is_int((int64_t)r.st.lines_read, 22, "sample: lines read");
    is_int((int64_t)r.st.data_lines, 21, "sample: data lines");
    is_int((int64_t)r.st.malformed_lines, 0, "sample: malformed");
    is_int((int64_t)r.st.empty_lines, 0, "sample: empty");
    is_int((int64_t)r.st.search_hits, 4, "sample: search hits");
    is_int((int64_t)r.st.purchases, 3, "sample: purchases");
    is_int(r.st.revenue_attributed_cents, 73000, "sample: attributed");
    is_int(r.st.revenue_unattributed_cents, 0, "sample: unattributed");
    is_int((int64_t)r.st.keywords, 3, "sample: keywords");
    is_int((int64_t)r.st.warnings, 0, "sample: warnings");
    result_free(&r);

    /* visitor ip_ua gives the same on the sample (one agent per ip) */
    o.ip_ua = 1;
    run_core(in.p, in.len, &o, &r);
    is_mem(buf_str(&r.report), r.report.len, buf_str(&want), want.len, "sample with ip_ua");
    result_free(&r);

    /* attribution first: the same too (one search per visit but 44.12.96.2's) */
    o.ip_ua = 0;
    o.first = 1;
    run_core(in.p, in.len, &o, &r);
    is_mem(buf_str(&r.report), r.report.len, buf_str(&want), want.len, "sample with first");
    result_free(&r);
    buf_free(&in);
    buf_free(&want);
}

static void test_header_and_columns(void)
{
    result r;
    opts o = {0};
    buf b = {0};

    /* columns by name, any order, extra columns ignored */
    buf_addf(&b, "referrer\textra\tproduct_list\tip\tuser_agent\tevent_list\tmore\thit_time_gmt\n");
    buf_addf(&b, "%s\tx\t\t1.1.1.1\tUA\t\ty\t100\n", GOOGLE_IPOD);
    buf_addf(&b, "%s\tx\tA;B;1;12.5;\t1.1.1.1\tUA\t1\ty\t200\n", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t12.50\n", "columns in any order");
    is_int((int64_t)r.st.data_lines, 2, "any order: data lines");
    result_free(&r);
    buf_free(&b);

    /* duplicate column name: the first one counts */
    buf_addf(&b, "hit_time_gmt\tip\tevent_list\tproduct_list\treferrer\treferrer\n");
    buf_addf(&b, "100\t1.1.1.1\t1\tA;B;1;3;\t%s\t%s\n", GOOGLE_IPOD, BING_ZUNE);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t3.00\n", "duplicate column: first wins");
    result_free(&r);
    buf_free(&b);

    /* headerless without columns: error */
    buf_addf(&b, "100\t1.1.1.1\tUA\t1\tA;B;1;3;\t%s\n", GOOGLE_IPOD);
    run_str(b.p, &o, &r);
    is_int(r.err, REV_ERR_INPUT, "headerless without columns: input error");
    ok(strstr(r.msg, "'columns'") && strstr(r.msg, "hit_time_gmt"),
       "headerless: message names the option and the header field: %s", r.msg);

    /* headerless with columns: the first line is data */
    static const char *const cols[] = {"hit_time_gmt", "ip", "user_agent", "event_list",
                                       "product_list", "referrer"};
    o.columns = cols;
    o.ncolumns = 6;
    run_str(b.p, &o, &r);
    is_int(r.err, REV_ERR_NONE, "headerless with columns: ok");
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t3.00\n", "headerless with columns");
    is_int((int64_t)r.st.data_lines, 1, "headerless: first line is data");
    result_free(&r);
    buf_free(&b);

    /* a header in the file wins over the option */
    static const char *const other[] = {"referrer", "product_list", "event_list",
                                        "user_agent", "ip", "hit_time_gmt"};
    o.columns = other;
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "1", "A;B;1;3;", GOOGLE_IPOD);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t3.00\n", "the file's header wins");
    is_int((int64_t)r.st.data_lines, 1, "header not counted as data");
    result_free(&r);
    buf_free(&b);
    o.columns = NULL;
    o.ncolumns = 0;

    /* the header is found by the field, not the first column */
    buf_addf(&b, "ip\thit_time_gmt\tevent_list\tproduct_list\treferrer\n");
    buf_addf(&b, "1.1.1.1\t100\t1\tA;B;1;3;\t%s\n", GOOGLE_IPOD);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t3.00\n", "header by hit_time_gmt");
    result_free(&r);
    buf_free(&b);

    /* "hit_time_gmt_x" is not the header field */
    buf_addf(&b, "hit_time_gmt_x\tip\tevent_list\tproduct_list\treferrer\n");
    run_str(b.p, &o, &r);
    is_int(r.err, REV_ERR_INPUT, "a field must equal hit_time_gmt exactly");
    buf_free(&b);

    /* a header missing a needed column names it */
    static const char *const needed[] = {"hit_time_gmt", "ip", "event_list", "product_list",
                                         "referrer"};
    for (size_t skip = 1; skip < 5; skip++) {
        for (size_t i = 0; i < 5; i++)
            if (i != skip)
                buf_addf(&b, "%s%s", b.len ? "\t" : "", needed[i]);
        buf_addf(&b, "\n");
        run_str(b.p, &o, &r);
        char want[64];
        snprintf(want, sizeof want, "'%s'", needed[skip]);
        ok(r.err == REV_ERR_INPUT && strstr(r.msg, want) != NULL,
           "header without %s: error naming it (%s)", needed[skip], r.msg);
        buf_free(&b);
    }
    /* user_agent is needed only for visitor ip_ua */
    buf_addf(&b, "hit_time_gmt\tip\tevent_list\tproduct_list\treferrer\n");
    o.ip_ua = 1;
    run_str(b.p, &o, &r);
    ok(r.err == REV_ERR_INPUT && strstr(r.msg, "'user_agent'"), "ip_ua needs user_agent: %s",
       r.msg);
    o.ip_ua = 0;
    buf_free(&b);

    /* columns option lacking a column: a configuration error */
    static const char *const few[] = {"hit_time_gmt", "ip"};
    o.columns = few;
    o.ncolumns = 2;
    run_str("100\t1.1.1.1\n", &o, &r);
    ok(r.err == REV_ERR_CONFIG && strstr(r.msg, "'event_list'"), "columns lacking: %s", r.msg);
    rev_layout l;
    char lerr[256];
    ok(rev_layout_build(&l, few, NULL, 2, REV_VISITOR_AUTO, 1, "X", lerr, sizeof lerr) == -1 &&
           strcmp(lerr, "X has no column 'event_list' (nor 'post_event_list')") == 0,
       "rev_layout_build: the missing column: %s", lerr);
    rev_layout_clear(&l);
    is_int(rev_layout_build(&l, cols, NULL, 6, REV_VISITOR_IP_UA, 1, "X", lerr, sizeof lerr), 0,
           "rev_layout_build: complete");
    is_int(l.nneed, 6, "rev_layout_build: six roles read");
    rev_layout_clear(&l);
    ok(rev_layout_build(&l, cols + 3, NULL, 3, REV_VISITOR_AUTO, 1, "X", lerr, sizeof lerr) == -1 &&
           strstr(lerr, "'hit_time_gmt'"),
       "rev_layout_build: first missing: %s", lerr);
    rev_layout_clear(&l);
    o.columns = NULL;
    o.ncolumns = 0;

    /* 0 bytes, or only empty lines: header-only report */
    run_str("", &o, &r);
    is_str(buf_str(&r.report), RHDR, "0-byte input: header-only report");
    is_int((int64_t)r.st.lines_read, 0, "0-byte input: no lines");
    result_free(&r);
    run_str("\n\r\n\n", &o, &r);
    is_str(buf_str(&r.report), RHDR, "only empty lines: header-only report");
    is_int((int64_t)r.st.empty_lines, 3, "only empty lines: counted as empty");
    is_int((int64_t)r.st.data_lines, 0, "only empty lines: no data");
    result_free(&r);
    run_str(HDR, &o, &r);
    is_str(buf_str(&r.report), RHDR, "only a header: header-only report");
    result_free(&r);

    /* leading empty lines and a UTF-8 BOM before the header */
    buf_addf(&b, "\xEF\xBB\xBF\r\n\n" HDR);
    hit(&b, 100, "1.1.1.1", "1", "A;B;1;3;", GOOGLE_IPOD);
    for (size_t chunk = 0; chunk < 3; chunk++) {
        o.chunk = chunk;
        run_str(b.p, &o, &r);
        is_str(buf_str(&r.report), RHDR "google.com\tipod\t3.00\n",
               "BOM and empty lines before the header (chunk %zu)", chunk);
        is_int((int64_t)r.st.empty_lines, 2, "BOM: empty lines (chunk %zu)", chunk);
        result_free(&r);
    }
    o.chunk = 0;
    buf_free(&b);
}

static void test_lines(void)
{
    result r;
    opts o = {0};
    buf b = {0};

    /* malformed lines: counted, skipped, no effect on attribution */
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "", "", GOOGLE_IPOD);                       /* ok */
    buf_addf(&b, "150\t2.2.2.2\tUA\t\t\n");                                /* 5 fields */
    buf_addf(&b, "150\t2.2.2.2\tUA\t\t\t%s\textra\n", BING_ZUNE);          /* 7 fields */
    buf_addf(&b, "12a\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE);                 /* bad time */
    buf_addf(&b, "-5\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE);                  /* negative */
    buf_addf(&b, "\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE);                    /* empty time */
    buf_addf(&b, " 5\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE);                  /* space */
    buf_addf(&b, "1.5\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE);                 /* fraction */
    buf_addf(&b, "1234567890123456789\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE); /* too large */
    /* a bad byte among the last eight digits (read eight at a time) */
    buf_addf(&b, "12540332:0\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE);  /* ':' is '9' + 1 */
    buf_addf(&b, "125403328/\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE);  /* '/' is '0' - 1 */
    buf_addf(&b, "1254033280.5\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE); /* fraction, long */
    buf_addf(&b, "12345678\xb9\t2.2.2.2\tUA\t\t\t%s\n", BING_ZUNE); /* high bit set */
    buf_addf(&b, "150\t\tUA\t\t\t%s\n", BING_ZUNE);                        /* empty ip */
    buf_addf(&b, "150\t1.1.1.1\t\"Mozilla\tx\"\t1\tA;B;1;9;\t%s\n", BING_ZUNE); /* quoted tab */
    hit(&b, 200, "1.1.1.1", "1", "A;B;1;5;", SHOP);                        /* ok */
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t5.00\n", "malformed lines skipped");
    is_int((int64_t)r.st.malformed_lines, 14, "malformed lines counted");
    is_int((int64_t)r.st.data_lines, 16, "malformed lines are data lines");
    is_int((int64_t)r.warned_malformed, 14, "each malformed line reported");
    is_int((int64_t)r.st.search_hits, 1, "no search from malformed lines");
    result_free(&r);
    buf_free(&b);

    /* leading zeros and 0 are fine times */
    buf_addf(&b, HDR);
    hit(&b, 0, "1.1.1.1", "", "", GOOGLE_IPOD);
    buf_addf(&b, "0000000100\t1.1.1.1\tUA\t1\tA;B;1;1;\t%s\n", SHOP);
    /* 18 digits, the most taken: 10^17 + 199 s, far past the visit (an
     * idle visitor's purchase is unattributed); 9 digits: 1800 s after */
    buf_addf(&b, "000000000000001900\t1.1.1.1\tUA\t1\tA;B;1;2;\t%s\n", SHOP);
    buf_addf(&b, "100000000000000199\t1.1.1.1\tUA\t1\tA;B;1;4;\t%s\n", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t3.00\n", "time 0 and leading zeros");
    is_int(r.st.revenue_unattributed_cents, 400, "an 18-digit time read whole (past the visit)");
    is_int((int64_t)r.st.malformed_lines, 0, "time 0: not malformed");
    result_free(&r);
    buf_free(&b);

    /* ratio boundary (the glue applies it; here the predicate) */
    is_int(rev_bad_ratio_exceeded(1, 100, 0.01), 0, "1/100 at 0.01 passes");
    is_int(rev_bad_ratio_exceeded(2, 100, 0.01), 1, "2/100 at 0.01 fails");
    is_int(rev_bad_ratio_exceeded(1, 3, 1.0 / 3), 0, "1/3 at 1/3 passes");
    is_int(rev_bad_ratio_exceeded(0, 0, 0), 0, "no data never fails");
    is_int(rev_bad_ratio_exceeded(1, 1, 0), 1, "1/1 at 0 fails");
    is_int(rev_bad_ratio_exceeded(0, 5, 0), 0, "0/5 at 0 passes");
    is_int(rev_bad_ratio_exceeded(5, 5, 1), 0, "5/5 at 1 passes");
    is_int(rev_bad_ratio_exceeded(10, 1000, 0.01), 0, "10/1000 at 0.01 passes");
    is_int(rev_bad_ratio_exceeded(11, 1000, 0.01), 1, "11/1000 at 0.01 fails");

    /* line endings: LF, CRLF, no final newline, lone CR lines */
    const char *lf = HDR "100\t1.1.1.1\tUA\t\t\t" GOOGLE_IPOD "\n"
                         "200\t1.1.1.1\tUA\t1\tA;B;1;2;\t" SHOP "\n";
    const char *crlf = "hit_time_gmt\tip\tuser_agent\tevent_list\tproduct_list\treferrer\r\n"
                       "100\t1.1.1.1\tUA\t\t\t" GOOGLE_IPOD "\r\n"
                       "\r\n"
                       "200\t1.1.1.1\tUA\t1\tA;B;1;2;\t" SHOP "\r\n";
    const char *noeol = HDR "100\t1.1.1.1\tUA\t\t\t" GOOGLE_IPOD "\n"
                            "200\t1.1.1.1\tUA\t1\tA;B;1;2;\t" SHOP;
    const char *noeol_cr = HDR "100\t1.1.1.1\tUA\t\t\t" GOOGLE_IPOD "\n"
                               "200\t1.1.1.1\tUA\t1\tA;B;1;2;\t" SHOP "\r";
    const char *want = RHDR "google.com\tipod\t2.00\n";
    const char *inputs[] = {lf, crlf, noeol, noeol_cr};
    const char *names[] = {"LF", "CRLF + CR-only line", "no final newline", "final CR only"};
    for (size_t i = 0; i < 4; i++) {
        for (size_t chunk = 0; chunk < 4; chunk++) {
            o.chunk = chunk;
            run_str(inputs[i], &o, &r);
            is_str(buf_str(&r.report), want, "%s (chunk %zu)", names[i], chunk);
            result_free(&r);
        }
    }
    o.chunk = 0;
    run_str(crlf, &o, &r);
    is_int((int64_t)r.st.lines_read, 4, "CRLF: lines read");
    is_int((int64_t)r.st.empty_lines, 1, "CRLF: the CR-only line is empty");
    is_int((int64_t)r.st.data_lines, 2, "CRLF: data lines");
    result_free(&r);
    run_str(HDR "\n\n\r\n" "\r\n", &o, &r);
    is_int((int64_t)r.st.empty_lines, 4, "empty lines counted as empty");
    is_int((int64_t)r.st.data_lines, 0, "empty lines are not data");
    is_int((int64_t)r.st.malformed_lines, 0, "empty lines are not malformed");
    result_free(&r);

    /* a CR inside a line is data, not a line end: the referrer keeps it */
    run_str(HDR "100\t1.1.1.1\tUA\t\t\thttp://bing.com/?q=a\rb\n", &o, &r);
    is_str(buf_str(&r.report), RHDR "bing.com\ta b\t0.00\n", "inner CR is a control byte");
    result_free(&r);

    /* quotes are ordinary characters */
    buf_addf(&b, HDR);
    hit_ua(&b, 100, "1.1.1.1", "\"Mozilla/5.0 (X; \"quoted\")\"", "", "",
           "http://www.bing.com/search?q=\"zune\"");
    hit_ua(&b, 200, "1.1.1.1", "\"Mozilla/5.0 (X; \"quoted\")\"", "1", "\"A\";B;1;4;", SHOP);
    o.ip_ua = 1;
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "bing.com\t\"zune\"\t4.00\n", "quotes are plain");
    is_int((int64_t)r.st.malformed_lines, 0, "quotes: nothing malformed");
    o.ip_ua = 0;
    result_free(&r);
    buf_free(&b);

    /* a line longer than REV_MAX_LINE is malformed, and memory stays put */
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "", "", GOOGLE_IPOD);
    buf_addf(&b, "150\t1.1.1.1\tUA\t\t\thttp://x/?");
    while (b.len < REV_MAX_LINE + REV_CHUNK + 100)
        buf_add(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64);
    buf_addf(&b, "\n");
    hit(&b, 200, "1.1.1.1", "1", "A;B;1;7;", SHOP);
    run_core(b.p, b.len, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t7.00\n", "overlong line skipped");
    is_int((int64_t)r.st.malformed_lines, 1, "overlong line is malformed");
    is_int((int64_t)r.st.data_lines, 3, "overlong line is one data line");
    is_int((int64_t)r.st.lines_read, 4, "overlong line is one line");
    result_free(&r);
    buf_free(&b);
}

/* ---- attribution -------------------------------------------------------- */

static void test_hits(void)
{
    result r;
    opts o = {0};
    buf b = {0};

    /* referrers that are and are not search hits */
    static const struct {
        const char *ref, *row;
    } refs[] = {
        {"http://www.google.co.uk/search?q=Ipod", "google.co.uk\tipod"},
        {"https://www.google.com.br/search?q=Ipod", "google.com.br\tipod"},
        {"http://yandex.ru/yandsearch?text=Ipod", "yandex.ru\tipod"},
        {"http://uk.search.yahoo.com/search?p=Ipod", "uk.search.yahoo.com\tipod"},
        {"http://search.yahoo.com/search?p=Ipod", "yahoo.com\tipod"},
        {"http://www.baidu.com/s?wd=Ipod", "baidu.com\tipod"},
        {"HTTP://WWW.BING.COM/search?q=Ipod", "bing.com\tipod"},
        {"http://www.bong.com/search?q=Ipod", NULL}, /* as long as the one above */
        {"http://user@www.bing.com:8080/search?q=Ipod", "bing.com\tipod"},
        {"http://www.bing.com./search?q=Ipod", "bing.com\tipod"},
        {"http://www.google.com/search?q=ipod#q=zune", "google.com\tipod"},
        {"http://www.google.com.evil.example/search?q=Ipod", NULL},
        {"http://notgoogle.com/search?q=Ipod", NULL},
        {"http://bing.com.evil.example/search?q=Ipod", NULL},
        {"ftp://www.google.com/search?q=Ipod", NULL},
        {"www.google.com/search?q=Ipod", NULL},
        {"http://www.google.com/#q=Ipod", NULL},
        {"http://www.google.com/search?x=1#&q=Ipod", NULL},
        {"http://www.google.com/search?q=", NULL},
        {"http://www.google.com/search?Q=Ipod", NULL},
        {"http://search.yahoo.com/search?q=Ipod", NULL},
        {"http://www.esshopzilla.com/search/?k=Ipod", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        buf_addf(&b, HDR);
        hit(&b, 100, "1.1.1.1", "", "", refs[i].ref);
        run_str(b.p, &o, &r);
        buf want = {0};
        buf_addf(&want, RHDR);
        if (refs[i].row)
            buf_addf(&want, "%s\t0.00\n", refs[i].row);
        is_str(buf_str(&r.report), buf_str(&want), "referrer '%s'", refs[i].ref);
        is_int((int64_t)r.st.search_hits, refs[i].row != NULL, "search hit count for '%s'",
               refs[i].ref);
        buf_free(&want);
        result_free(&r);
        buf_free(&b);
    }
    /* all of them in one input, each twice in a row, in order and (another
     * input) in reverse: the parser keeps the last referrer host's answer
     * (rev_parse.c, engine_of), which must not carry over to another host
     * (WWW.BING.COM and www.bong.com are as long), or to a hit without a
     * query on the same host. Two inputs, not one: a wrong answer carried
     * from one host to the next and back would cancel out in the count. */
    size_t nrefs = sizeof refs / sizeof refs[0];
    for (int reverse = 0; reverse <= 1; reverse++) {
        size_t want_hits = 0;
        buf_addf(&b, HDR);
        for (size_t k = 0; k < 2 * nrefs; k++) {
            size_t i = reverse ? nrefs - 1 - k / 2 : k / 2;
            hit(&b, 100 + (long)k, "1.1.1.1", "", "", refs[i].ref);
            want_hits += refs[i].row != NULL;
        }
        run_str(b.p, &o, &r);
        is_int((int64_t)r.st.search_hits, (int64_t)want_hits,
               "every referrer twice in a row%s: %zu search hits", reverse ? ", in reverse" : "",
               want_hits);
        size_t rows = 0;
        for (const char *q = buf_str(&r.report); (q = strchr(q, '\n')) != NULL; q++)
            rows++;
        is_int((int64_t)rows, 1 + 8, "... and the 8 (domain, keyword) rows");
        result_free(&r);
        buf_free(&b);
    }

    /* purchase detection and revenue */
    static const struct {
        const char *events;
        int purchase;
    } ev[] = {{"1", 1}, {"1=5", 1}, {" 1 ", 1}, {"11", 0}, {"12", 0},
              {"100", 0}, {"10", 0}, {"event1", 0}};
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
        buf_addf(&b, HDR);
        hit(&b, 100, "1.1.1.1", "", "", GOOGLE_IPOD);
        hit(&b, 200, "1.1.1.1", ev[i].events, "A;B;1;10;", SHOP);
        run_str(b.p, &o, &r);
        is_str(buf_str(&r.report),
               ev[i].purchase ? RHDR "google.com\tipod\t10.00\n" : RHDR "google.com\tipod\t0.00\n",
               "event_list '%s'", ev[i].events);
        is_int((int64_t)r.st.purchases, ev[i].purchase, "purchases for '%s'", ev[i].events);
        result_free(&r);
        buf_free(&b);
    }

    /* amounts through the whole path, and warnings */
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 110, "1.1.1.1", "1", "A;B;1;5;,A;C;1;5.;,A;D;1;.5;,A;E;1;249.99;", SHOP);
    hit(&b, 120, "1.1.1.1", "1", "A;B;1;-5;,A;B;1;1e3;,A;B;1;0x10;,A;B;1;1.2.3;", SHOP);
    hit(&b, 130, "1.1.1.1", "1", "A;B;1;12abc;,A;B;1;inf;,A;B;1;+5;,A;B;1;0.005;", SHOP);
    hit(&b, 140, "1.1.1.1", "1", "A;B;1;0.10;,A;C;1;0.20;,A;D;1;;,A;E", SHOP);
    hit(&b, 150, "1.1.1.1", "2", "A;B;1;1000;", SHOP); /* not a purchase: ignored */
    hit(&b, 160, "1.1.1.1", "", "A;B;1;abc;", SHOP);   /* ignored, no warning */
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t260.80\n",
           "5 + 5. + .5 + 249.99 + 0.005 + 0.10 + 0.20 = 260.80");
    is_int((int64_t)r.st.warnings, 7, "seven bad amounts");
    is_int((int64_t)r.warned_amount, 7, "each bad amount reported");
    is_int((int64_t)r.st.purchases, 4, "four purchases");
    is_int(r.st.revenue_attributed_cents, 26080, "attributed cents");
    result_free(&r);
    buf_free(&b);

    /* unattributed revenue */
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "1", "A;B;1;3.50;", SHOP);
    hit(&b, 110, "2.2.2.2", "", "", GOOGLE_IPOD);
    hit(&b, 120, "3.3.3.3", "1", "A;B;1;1.25;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t0.00\n", "unattributed not in report");
    is_int(r.st.revenue_unattributed_cents, 475, "unattributed counted");
    is_int(r.st.revenue_attributed_cents, 0, "nothing attributed");
    result_free(&r);
    o.exclude_zero = 1;
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR, "include_zero false drops zero rows");
    o.exclude_zero = 0;
    result_free(&r);
    buf_free(&b);

    /* last vs first; a purchase hit that is a search hit itself */
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 200, "1.1.1.1", "", "", BING_ZUNE);
    hit(&b, 300, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    hit(&b, 400, "1.1.1.1", "1", "A;B;1;1;", "http://duckduckgo.com/?q=tv");
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report),
           RHDR "bing.com\tzune\t10.00\nduckduckgo.com\ttv\t1.00\ngoogle.com\tipod\t0.00\n",
           "attribution last; purchase hit's own search applied first");
    result_free(&r);
    o.first = 1;
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report),
           RHDR "google.com\tipod\t11.00\nbing.com\tzune\t0.00\nduckduckgo.com\ttv\t0.00\n",
           "attribution first");
    o.first = 0;
    result_free(&r);
    buf_free(&b);

    /* first: a new visit takes a new first search */
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 2000, "1.1.1.1", "", "", BING_ZUNE);
    hit(&b, 2100, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    o.first = 1;
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "bing.com\tzune\t10.00\ngoogle.com\tipod\t0.00\n",
           "first: new visit, new first search");
    o.first = 0;
    result_free(&r);
    buf_free(&b);

    /* several purchases in a visit all go to the current search */
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 200, "1.1.1.1", "1", "A;B;1;1;", SHOP);
    hit(&b, 300, "1.1.1.1", "1", "A;B;1;2;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t3.00\n", "repeat purchases");
    result_free(&r);
    buf_free(&b);
}

static void visit_case(long search_t, long buy_t, int attributed, const char *name)
{
    result r;
    opts o = {0};
    buf b = {0};
    buf_addf(&b, HDR);
    hit(&b, search_t, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, buy_t, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report),
           attributed ? RHDR "google.com\tipod\t10.00\n" : RHDR "google.com\tipod\t0.00\n", "%s",
           name);
    result_free(&r);
    buf_free(&b);
}

static void test_visits(void)
{
    result r;
    opts o = {0};
    buf b = {0};

    visit_case(1000, 2800, 1, "gap of exactly 1800 continues the visit");
    visit_case(1000, 2801, 0, "gap of 1801 starts a new visit");

    /* hits in between keep the visit alive */
    buf_addf(&b, HDR);
    hit(&b, 0, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 1800, "1.1.1.1", "", "", SHOP);
    hit(&b, 3600, "1.1.1.1", "", "", SHOP);
    hit(&b, 5400, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t10.00\n", "chained hits keep the visit");
    result_free(&r);
    buf_free(&b);

    /* visit_timeout option */
    buf_addf(&b, HDR);
    hit(&b, 0, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 61, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    o.timeout = 60;
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t0.00\n", "visit_timeout 60: 61 s ends");
    result_free(&r);
    o.timeout = 61;
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t10.00\n", "visit_timeout 61: continues");
    o.timeout = 0;
    result_free(&r);
    buf_free(&b);

    /* now is the largest time so far: times stepping back */
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 5000, "2.2.2.2", "", "", SHOP);
    hit(&b, 200, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t0.00\n",
           "step back: now - last(v) = 4900 > 1800 ends the visit");
    is_int(r.st.revenue_unattributed_cents, 1000, "step back: unattributed");
    result_free(&r);
    buf_free(&b);

    buf_addf(&b, HDR);
    hit(&b, 5000, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 4000, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    hit(&b, 6700, "1.1.1.1", "1", "A;B;1;1;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t11.00\n",
           "step back within the visit; last(v) stays the largest (6700 - 5000 <= 1800)");
    result_free(&r);
    buf_free(&b);

    buf_addf(&b, HDR);
    hit(&b, 5000, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 100, "1.1.1.1", "", "", SHOP);
    hit(&b, 6801, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t0.00\n",
           "an older hit does not lower last(v): 6801 - 5000 > 1800");
    result_free(&r);
    buf_free(&b);

    /* last(v) counts hits without a search too: 2750 - 1000 <= 1800 */
    buf_addf(&b, HDR);
    hit(&b, 1000, "1.1.1.1", "", "", SHOP);
    hit(&b, 900, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 2750, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t10.00\n",
           "a hit without search keeps last(v) for a later, older search");
    result_free(&r);
    buf_free(&b);

    /* a hit far in the past: its own search still pays, then it is idle */
    buf_addf(&b, HDR);
    hit(&b, 10000, "2.2.2.2", "", "", SHOP);
    hit(&b, 100, "1.1.1.1", "1", "A;B;1;10;", GOOGLE_IPOD);
    hit(&b, 150, "1.1.1.1", "1", "A;B;1;1;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t10.00\n", "old hit's own search pays");
    is_int(r.st.revenue_unattributed_cents, 100, "old hit's visitor is idle afterwards");
    is_int((int64_t)r.st.visitors_live, 1, "idle visitors are not kept");
    result_free(&r);
    buf_free(&b);

    /* other visitors' hits move now: the same result whether evicted or not */
    buf_addf(&b, HDR);
    hit(&b, 0, "1.1.1.1", "", "", GOOGLE_IPOD);
    hit(&b, 1900, "2.2.2.2", "", "", SHOP);
    hit(&b, 1900, "1.1.1.1", "1", "A;B;1;10;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t0.00\n", "idle visitor forgotten");
    is_int((int64_t)r.st.visitors_evicted, 1, "one visitor evicted");
    result_free(&r);
    buf_free(&b);

    /* visitor: ip vs ip_ua */
    buf_addf(&b, HDR);
    hit_ua(&b, 100, "1.1.1.1", "Firefox", "", "", GOOGLE_IPOD);
    hit_ua(&b, 200, "1.1.1.1", "Safari", "1", "A;B;1;10;", SHOP);
    hit_ua(&b, 300, "1.1.1.1", "Firefox", "1", "A;B;1;1;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t11.00\n", "visitor ip");
    result_free(&r);
    o.ip_ua = 1;
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t1.00\n", "visitor ip_ua");
    is_int(r.st.revenue_unattributed_cents, 1000, "ip_ua: other agent unattributed");
    o.ip_ua = 0;
    result_free(&r);
    buf_free(&b);

    /* ip_ua key is ip + tab + agent: ("1.1", "1.1x") differs from ("1.11", ...) */
    buf_addf(&b, HDR);
    hit_ua(&b, 100, "1.1", "1A", "", "", GOOGLE_IPOD);
    hit_ua(&b, 200, "1.11", "A", "1", "A;B;1;10;", SHOP);
    o.ip_ua = 1;
    run_str(b.p, &o, &r);
    is_int(r.st.revenue_unattributed_cents, 1000, "ip_ua keys do not run together");
    o.ip_ua = 0;
    result_free(&r);
    buf_free(&b);
}

static void test_sorting(void)
{
    result r;
    opts o = {0};
    buf b = {0};
    buf_addf(&b, HDR);
    /* equal revenue 5.00 for several pairs, plus distinct ones */
    static const char *const refs[] = {
        "http://www.google.com/?q=ab",   "http://www.google.com/?q=a+b", "http://www.google.com/?q=a",
        "http://www.bing.com/?q=zz",     "http://www.google.com/?q=%C3%A9",
        "http://www.google.com/?q=B",    "http://google.de/?q=a",         "http://ask.com/?q=a",
    };
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.0.%zu", i);
        hit(&b, 100, ip, "", "", refs[i]);
        hit(&b, 101, ip, "1", "A;B;1;5;", SHOP);
    }
    hit(&b, 102, "10.0.1.1", "", "", "http://www.bing.com/?q=big");
    hit(&b, 103, "10.0.1.1", "1", "A;B;1;1234567.891;", SHOP);
    hit(&b, 104, "10.0.1.2", "", "", "http://www.bing.com/?q=small");
    hit(&b, 105, "10.0.1.3", "", "", "http://www.ask.com/?q=small");
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report),
           RHDR "bing.com\tbig\t1234567.89\n"
                "ask.com\ta\t5.00\n"
                "bing.com\tzz\t5.00\n"
                "google.com\ta\t5.00\n"
                "google.com\ta b\t5.00\n"
                "google.com\tab\t5.00\n"
                "google.com\tb\t5.00\n"
                "google.com\t\xc3\xa9\t5.00\n"
                "google.de\ta\t5.00\n"
                "ask.com\tsmall\t0.00\n"
                "bing.com\tsmall\t0.00\n",
           "sorted by revenue desc, domain asc, keyword asc (bytewise)");
    result_free(&r);
    buf_free(&b);

    /* the keyword variants of the spec are one keyword */
    buf_addf(&b, HDR);
    hit(&b, 100, "1.1.1.1", "", "", "http://www.google.com/?q=Ipod");
    hit(&b, 101, "1.1.1.2", "", "", "http://www.google.com/?q=ipod");
    hit(&b, 102, "1.1.1.3", "", "", "http://google.com/?q=IPOD%20");
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t0.00\n", "Ipod, ipod, IPOD%%20: one row");
    is_int((int64_t)r.st.keywords, 1, "one distinct pair");
    result_free(&r);
    buf_free(&b);
}

static void test_eviction_bounds_memory(void)
{
    result r;
    opts o = {0};
    buf b = {0};
    buf_addf(&b, HDR);
    /* 200k visitors, each searching once, one new visitor every second:
     * only those of the last 1800 s may stay in memory */
    for (long i = 0; i < 200000; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.%ld.%ld.%ld", i >> 16, (i >> 8) & 255, i & 255);
        hit(&b, 1000000 + i, ip, "", "", GOOGLE_IPOD);
    }
    hit(&b, 1000000 + 200000, "10.3.13.63", "1", "A;B;1;1;", SHOP); /* visitor 199999 */
    hit(&b, 1000000 + 200001, "10.0.0.0", "1", "A;B;1;2;", SHOP);   /* visitor 0: gone */
    run_core(b.p, b.len, &o, &r);
    /* the time buckets are 1800 / 512 + 1 = 4 s wide: up to 3 s more kept */
    ok(r.st.visitors_peak >= 1801 && r.st.visitors_peak <= 1805,
       "live visitors stay within one timeout: peak %llu", (unsigned long long)r.st.visitors_peak);
    ok(r.st.visitors_live <= 1805, "live visitors at the end: %llu",
       (unsigned long long)r.st.visitors_live);
    is_int((int64_t)(r.st.visitors_evicted + r.st.visitors_live), 200001,
           "every visitor (200000 searchers, visitor 0 anew) was evicted or is live");
    ok(r.st.visitors_evicted >= 198000, "evicted %llu", (unsigned long long)r.st.visitors_evicted);
    is_int(r.st.revenue_attributed_cents, 100, "recent visitor still attributed");
    is_int(r.st.revenue_unattributed_cents, 200, "old visitor's visit ended");
    result_free(&r);

    /* same with a long timeout: nothing may be evicted */
    o.timeout = 1000000;
    run_core(b.p, b.len, &o, &r);
    is_int((int64_t)r.st.visitors_evicted, 0, "long timeout: no eviction");
    is_int((int64_t)r.st.visitors_live, 200000, "long timeout: all live");
    is_int(r.st.revenue_attributed_cents, 300, "long timeout: both attributed");
    result_free(&r);
    buf_free(&b);
}

/* ---- real data feeds: the parsing core ---------------------------------- */

static uint64_t prng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The record split the slow, obvious way: unescape and cut at unescaped
 * TABs. Returns the field count; vals[i] gets field i (caller frees). */
static size_t naive_fields(const char *p, size_t n, int escapes, char **vals, size_t max)
{
    size_t col = 0, len = 0;
    char *cur = malloc(n + 1);
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '\t') {
            cur[len] = '\0';
            if (col < max)
                vals[col] = cur;
            else
                free(cur);
            col++;
            cur = malloc(n + 1);
            len = 0;
            continue;
        }
        if (escapes && p[i] == '\\' && i + 1 < n &&
            (p[i + 1] == '\t' || p[i + 1] == '\n' || p[i + 1] == '\\'))
            i++;
        cur[len++] = p[i];
    }
    free(cur);
    return col;
}

static void test_scan_matches_naive(void)
{
    enum { COLS = 260 };
    static char namebuf[COLS][16];
    const char *names[COLS];
    for (size_t i = 0; i < COLS; i++) {
        snprintf(namebuf[i], sizeof namebuf[i], "c%zu", i);
        names[i] = namebuf[i];
    }
    /* the needed columns scattered, some adjacent, one first, one last */
    static const struct {
        size_t col;
        const char *name;
    } placed[] = {{0, "exclude_hit"},   {1, "hit_time_gmt"},    {7, "hit_source"},
                  {100, "ip"},          {101, "user_agent"},    {150, "event_list"},
                  {151, "post_event_list"}, {170, "product_list"}, {200, "post_product_list"},
                  {230, "referrer"},    {240, "post_visid_high"}, {241, "post_visid_low"},
                  {COLS - 1, "duplicate_purchase"}};
    for (size_t i = 0; i < sizeof placed / sizeof placed[0]; i++)
        names[placed[i].col] = placed[i].name;
    rev_layout l;
    char err[256];
    int rc = rev_layout_build(&l, names, NULL, COLS, REV_VISITOR_AUTO, 1, "t", err, sizeof err);
    is_int(rc, 0, "layout of 260 columns (%s)", rc ? err : "ok");
    is_int(l.visitor, REV_VISITOR_VISID, "auto with both post_visid columns is visid");
    ok(l.post_events && l.post_products, "post_ lists preferred");
    is_int(l.col[REV_ROLE_EVENTS], 151, "events from post_event_list");
    is_int(l.col[REV_ROLE_PRODUCTS], 200, "products from post_product_list");
    is_int(l.col[REV_ROLE_IP], REV_COL_NONE, "ip not read with visid");

    static const char alphabet[] = "ab\t\t\t\\\\\n;,^=1 x%";
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int bad = 0;
    char *line = malloc(8192), *scratch = malloc(8192);
    for (int iter = 0; iter < 4000 && !bad; iter++) {
        int escapes = iter & 1;
        size_t n = 0;
        /* mostly short and empty fields, some long ones, now and then
         * escapes; lengths vary so fields straddle the 8-byte words */
        size_t target = 200 + prng(&seed) % 3000;
        while (n < target) {
            uint64_t r = prng(&seed);
            if (r % 4 == 0)
                line[n++] = '\t';
            else if (r % 97 == 1)
                for (size_t k = 0; k < 20 + r % 40 && n < target; k++)
                    line[n++] = (char)('a' + k % 26);
            else
                line[n++] = alphabet[(r >> 8) % (escapes ? sizeof alphabet - 1 : 3)];
        }
        if (line[n - 1] == '\\' && escapes)
            line[n++] = 'z';
        char *vals[COLS + 1] = {0};
        size_t want = naive_fields(line, n, escapes, vals, COLS);
        rev_slice f[REV_ROLE_COUNT];
        memset(f, 0, sizeof f);
        size_t got = rev_scan_fields(&l, line, n, escapes, scratch, f);
        if (got != want) {
            bad = 1;
            ok(0, "scan: %zu fields, naive %zu (iteration %d)", got, want, iter);
        }
        for (size_t k = 0; !bad && want == COLS && k < l.nneed; k++) {
            const char *v = vals[l.need[k].col];
            rev_slice s = f[l.need[k].role];
            if (s.n != strlen(v) || memcmp(s.p, v, s.n) != 0) {
                bad = 1;
                ok(0, "scan: column %u differs (iteration %d)", l.need[k].col, iter);
            }
        }
        for (size_t k = 0; k < COLS && k < want; k++)
            free(vals[k]);
    }
    ok(!bad, "the word-wise scanner agrees with a naive split on 4000 random records");
    free(line);
    free(scratch);
    rev_layout_clear(&l);
}

static void test_record_ends(void)
{
    size_t inner;
    const char *s = "a\\\nb\\\\\nc\n";
    const char *nl = rev_scan_record_end(s, s + strlen(s), 1, &inner);
    is_int(nl ? nl - s : -1, 3 + 3, "escaped LF does not end the record; \\\\ then LF does");
    is_int((int64_t)inner, 1, "one LF inside the record");
    nl = rev_scan_record_end(s, s + strlen(s), 0, &inner);
    is_int(nl ? nl - s : -1, 2, "escapes none: every LF ends a record");
    s = "a\\\\\\\nb\n";
    nl = rev_scan_record_end(s, s + strlen(s), 1, &inner);
    is_int(nl ? nl - s : -1, 6, "three backslashes before LF: escaped");
    s = "\\\n";
    nl = rev_scan_record_end(s, s + 2, 1, &inner);
    ok(nl == NULL, "a lone escaped LF: the record goes on");
}

/* A feed-shaped input: many columns, names from `columns`. */
#define FEED_COLS "hit_time_gmt", "post_visid_high", "post_visid_low", "exclude_hit", \
    "hit_source", "duplicate_purchase", "user_agent", "ip", "event_list", "post_event_list", \
    "product_list", "post_product_list", "referrer"

static void feed_hit(buf *b, long t, const char *visid, const char *exclude, const char *source,
                     const char *dup, const char *ip, const char *post_events,
                     const char *post_products, const char *referrer)
{
    buf_addf(b, "%ld\t%s\t%s\t%s\t%s\t%s\tUA\t%s\t\t%s\t\t%s\t%s\n", t, visid, visid[0] ? "7" : "",
             exclude, source, dup, ip, post_events, post_products, referrer);
}

static void test_feed_rules(void)
{
    static const char *const cols[] = {FEED_COLS};
    opts o = {.columns = cols, .ncolumns = sizeof cols / sizeof cols[0]};
    result r;
    buf b = {0};

    /* escapes in the referrer, user agent and lists are undone */
    feed_hit(&b, 100, "v1", "0", "1", "0", "1.1.1.1", "", "", "http://www.google.com/search?q=i\\\\pod");
    feed_hit(&b, 110, "v1", "", "", "", "2.2.2.2", "1", "A;B;1;5;", "x\\\ty");
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\ti\\pod\t5.00\n",
           "escaped backslash in the keyword, escaped TAB in a value; IP change, same visid");
    is_int((int64_t)r.st.malformed_lines, 0, "escapes: nothing malformed");
    result_free(&r);
    for (size_t chunk = 1; chunk <= 9; chunk += 4) {
        buf c = {0};
        buf_addf(&c, "100\tv1\t7\t\t\t\tU\\\nA\t1.1.1.1\t\t\t\t\thttp://bing.com/?q=a\\\\\n"
                     "bad\n"
                     "101\tv1\t7\t\t\t\tUA\t1.1.1.1\t\t1\t\tA;B;1;2;\tx\n");
        o.chunk = chunk;
        run_str(c.p, &o, &r);
        is_str(buf_str(&r.report), RHDR "bing.com\ta\\\t2.00\n",
               "escaped LF inside a record, fed %zu bytes at a time", chunk);
        is_int((int64_t)r.st.lines_read, 3, "three records in four lines (chunk %zu)", chunk);
        is_int((int64_t)r.st.malformed_lines, 1, "the short record is malformed (chunk %zu)", chunk);
        result_free(&r);
        buf_free(&c);
    }
    o.chunk = 0;
    o.no_escapes = 1;
    run_str(b.p, &o, &r);
    is_int((int64_t)r.st.malformed_lines, 1, "escapes none: the escaped TAB splits");
    result_free(&r);
    o.no_escapes = 0;
    buf_free(&b);

    /* excluded rows: not hits, whatever else they hold */
    feed_hit(&b, 100, "v1", "", "", "", "1.1.1.1", "", "", GOOGLE_IPOD);
    feed_hit(&b, 110, "v1", "1", "", "", "1.1.1.1", "1", "A;B;1;7;", BING_ZUNE);
    feed_hit(&b, 120, "v1", "", "8", "", "1.1.1.1", "1", "A;B;1;11;", BING_ZUNE);
    buf_addf(&b, "garbage\tv1\t7\t2\t\t\tUA\t\t\t\t\t\t\n"); /* excluded before its time is read */
    feed_hit(&b, 130, "v1", "0", "1", "", "1.1.1.1", "1", "A;B;1;3;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t3.00\n", "excluded rows change nothing");
    is_int((int64_t)r.st.excluded_rows, 3, "excluded rows counted");
    is_int((int64_t)r.st.malformed_lines, 0, "an excluded row is not malformed");
    is_int((int64_t)r.st.purchases, 1, "excluded purchases not counted");
    result_free(&r);
    o.no_exclude = 1;
    run_str(b.p, &o, &r);
    is_int((int64_t)r.st.excluded_rows, 0, "exclude none: no row excluded");
    is_int((int64_t)r.st.malformed_lines, 1, "exclude none: the garbage row is malformed");
    is_str(buf_str(&r.report), RHDR "bing.com\tzune\t21.00\ngoogle.com\tipod\t0.00\n",
           "exclude none: every row is a hit");
    result_free(&r);
    o.no_exclude = 0;
    buf_free(&b);

    /* hit_source values: only 5, 7, 8, 9 */
    static const char *const sources[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "55"};
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        feed_hit(&b, 100 + (long)i, "v1", "", sources[i], "", "1.1.1.1", "", "", SHOP);
    run_str(b.p, &o, &r);
    is_int((int64_t)r.st.excluded_rows, 4, "hit_source 5, 7, 8 and 9 are excluded, no other");
    result_free(&r);
    buf_free(&b);

    /* duplicate purchases: the purchase is ignored, the search counts */
    feed_hit(&b, 100, "v1", "", "", "1", "1.1.1.1", "1", "A;B;1;9;", GOOGLE_IPOD);
    feed_hit(&b, 110, "v1", "", "", "1", "1.1.1.1", "2", "A;B;1;9;", SHOP);
    feed_hit(&b, 120, "v1", "", "", "0", "1.1.1.1", "1", "A;B;1;4;", SHOP);
    run_str(b.p, &o, &r);
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t4.00\n", "duplicate purchase ignored");
    is_int((int64_t)r.st.duplicate_purchases, 1, "only a purchase counts as a duplicate");
    is_int((int64_t)r.st.purchases, 1, "the duplicate is no purchase");
    is_int((int64_t)r.st.search_hits, 1, "the duplicate's search counts");
    result_free(&r);
    buf_free(&b);

    /* visid: an empty id is malformed; ip may then be empty */
    feed_hit(&b, 100, "", "", "", "", "1.1.1.1", "", "", SHOP);
    feed_hit(&b, 110, "v2", "", "", "", "", "1", "A;B;1;1;", GOOGLE_IPOD);
    run_str(b.p, &o, &r);
    is_int((int64_t)r.st.malformed_lines, 1, "visid: a row without visitor id is malformed");
    is_str(buf_str(&r.report), RHDR "google.com\tipod\t1.00\n", "visid: an empty ip is fine");
    result_free(&r);
    o.visitor = REV_VISITOR_IP;
    run_str(b.p, &o, &r);
    is_int((int64_t)r.st.malformed_lines, 1, "visitor ip: the row with an empty ip is malformed");
    result_free(&r);
    o.visitor = REV_VISITOR_AUTO;
    buf_free(&b);

    /* visid asked for, columns without it */
    static const char *const novisid[] = {"hit_time_gmt", "ip", "event_list", "product_list",
                                          "referrer"};
    opts v = {.columns = novisid, .ncolumns = 5, .visitor = REV_VISITOR_VISID};
    run_str("1\t1.1.1.1\t\t\tx\n", &v, &r);
    ok(r.err == REV_ERR_CONFIG && strstr(r.msg, "'post_visid_high'"), "visid needs the columns: %s",
       r.msg);

    /* warnings name the physical line where the record starts */
    buf c = {0};
    buf_addf(&c, HDR "1\t1.1.1.1\tU\\\nA\t\t\tx\n" "x\t1.1.1.1\tUA\t\t\tx\n");
    opts plain = {0};
    run_str(c.p, &plain, &r);
    is_int((int64_t)r.last_malformed_line, 4,
           "the malformed record after an escaped LF is on line 4");
    result_free(&r);
    buf_free(&c);

    /* a record longer than 4 MiB with escaped LFs is skipped to its end */
    buf_addf(&c, HDR "1\t1.1.1.1\tUA\t\t\t");
    for (size_t i = 0; i < REV_MAX_LINE / 1024 * 3 / 2; i++) {
        char blk[1024];
        memset(blk, 'a', sizeof blk);
        blk[1022] = '\\'; /* an escaped LF, or an escaped backslash */
        blk[1023] = i % 3 ? '\n' : '\\';
        buf_add(&c, blk, sizeof blk);
    }
    buf_addf(&c, "\n2\t1.1.1.1\tUA\t1\tA;B;1;5;\t%s\n", GOOGLE_IPOD);
    for (size_t chunk = 0; chunk <= 4096; chunk += 4096) {
        plain.chunk = chunk;
        run_core(c.p, c.len, &plain, &r);
        is_str(buf_str(&r.report), RHDR "google.com\tipod\t5.00\n",
               "a too-long record with escaped LFs is skipped whole (chunk %zu)", chunk);
        is_int((int64_t)r.st.malformed_lines, 1, "the too-long record is one malformed (chunk %zu)",
               chunk);
        is_int((int64_t)r.st.data_lines, 2, "then the next record is read (chunk %zu)", chunk);
        result_free(&r);
    }
    buf_free(&c);
}

static void test_carets(void)
{
    ok(rev_is_purchase("2,1", 3), "carets: plain list");
    ok(!rev_is_purchase("2^,1", 4), "carets: an escaped comma joins items");
    ok(rev_is_purchase("^^,1", 4), "carets: an escaped caret does not escape the comma");
    ok(!rev_is_purchase("1^=5", 4), "carets: an escaped '=' is part of the id");
    ok(rev_is_purchase("x^y,1=5", 7), "carets: a caret before another byte is a byte");
    ok(!rev_is_purchase("^1", 2), "carets: '^1' is not the id 1");
    uint64_t bad = 0;
    is_int(rev_product_revenue("A^;X;B;1;5;", 11, &bad, NULL, NULL), 500,
           "carets: an escaped ';' stays in its field");
    is_int(rev_product_revenue("A;B^,C;1;2,D;E;1;3", 18, &bad, NULL, NULL), 500,
           "carets: an escaped ',' stays in its product");
    is_int((int64_t)bad, 0, "carets: no warnings so far");
    is_int(rev_product_revenue("A;B;1;1^,5", 10, &bad, NULL, NULL), 0,
           "carets: an amount holding an escaped ',' is no amount");
    is_int((int64_t)bad, 1, "carets: and a warning");
}

/* ---- the glue, through a fake host -------------------------------------- */

struct sluice_value {
    sluice_value_type type;
    const char *key; /* as a map member */
    const char *s;
    int64_t i;
    double d;
    struct sluice_value *kids[64];
    size_t nkids;
};

static sluice_value *vnew(sluice_value_type t)
{
    sluice_value *v = calloc(1, sizeof *v);
    v->type = t;
    return v;
}
static sluice_value *vstr(const char *s)
{
    sluice_value *v = vnew(SLUICE_VALUE_STRING);
    v->s = s;
    return v;
}
static sluice_value *vint(int64_t i)
{
    sluice_value *v = vnew(SLUICE_VALUE_INT);
    v->i = i;
    v->d = (double)i;
    return v;
}
static sluice_value *vnum(double d)
{
    sluice_value *v = vnew(SLUICE_VALUE_NUMBER);
    v->d = d;
    v->i = (int64_t)d;
    return v;
}
static sluice_value *vbool(int b)
{
    sluice_value *v = vnew(SLUICE_VALUE_BOOL);
    v->i = b;
    return v;
}
static sluice_value *vlist(sluice_value *first, ...)
{
    sluice_value *v = vnew(SLUICE_VALUE_LIST);
    va_list ap;
    va_start(ap, first);
    for (sluice_value *k = first; k; k = va_arg(ap, sluice_value *))
        v->kids[v->nkids++] = k;
    va_end(ap);
    return v;
}
/* vmap("key", value, "key", value, ..., NULL) */
static sluice_value *vmap(const char *key, ...)
{
    sluice_value *v = vnew(SLUICE_VALUE_MAP);
    va_list ap;
    va_start(ap, key);
    for (const char *k = key; k; k = va_arg(ap, const char *)) {
        sluice_value *m = va_arg(ap, sluice_value *);
        m->key = k;
        v->kids[v->nkids++] = m;
    }
    va_end(ap);
    return v;
}
static void vfree(sluice_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nkids; i++)
        vfree(v->kids[i]);
    free(v);
}

static sluice_value_type h_type(const sluice_value *v)
{
    return v ? v->type : SLUICE_VALUE_NULL;
}
static const sluice_value *h_get(const sluice_value *m, const char *key)
{
    for (size_t i = 0; m && m->type == SLUICE_VALUE_MAP && i < m->nkids; i++)
        if (strcmp(m->kids[i]->key, key) == 0)
            return m->kids[i];
    return NULL;
}
static size_t h_len(const sluice_value *v)
{
    return v && (v->type == SLUICE_VALUE_LIST || v->type == SLUICE_VALUE_MAP) ? v->nkids : 0;
}
static const sluice_value *h_at(const sluice_value *l, size_t i)
{
    return l && l->type == SLUICE_VALUE_LIST && i < l->nkids ? l->kids[i] : NULL;
}
static const char *h_key_at(const sluice_value *m, size_t i)
{
    return m && m->type == SLUICE_VALUE_MAP && i < m->nkids ? m->kids[i]->key : NULL;
}
static const char *h_string(const sluice_value *v, const char *dflt)
{
    return v && v->type == SLUICE_VALUE_STRING ? v->s : dflt;
}
static int64_t h_int(const sluice_value *v, int64_t dflt)
{
    return v && (v->type == SLUICE_VALUE_INT || v->type == SLUICE_VALUE_NUMBER) ? v->i : dflt;
}
static double h_number(const sluice_value *v, double dflt)
{
    return v && (v->type == SLUICE_VALUE_INT || v->type == SLUICE_VALUE_NUMBER) ? v->d : dflt;
}
static int h_bool(const sluice_value *v, int dflt)
{
    return v && v->type == SLUICE_VALUE_BOOL ? (int)v->i : dflt;
}

struct sluice_job {
    const char *input;
    size_t len, off, max_read;
    int fail_read;
    int map;               /* input_map gives the input (else it says no) */
    size_t released;       /* input_release's last */
    const char *date, *run_date;
    const char *cpu_share;
    char name[128];
    int name_set_before_write, writes;
    buf out;
    char err[1024];
    sluice_error_kind err_kind;
    int errors;
    struct {
        char name[64];
        int64_t value;
    } counters[32];
    size_t ncounters;
    buf log;
    /* lookup files: column_headers.tsv's text, or NULL for none */
    const char *lookup_cols;
    size_t lookup_max_read;
    int lookup_fail, lookups_open, lookups_opened;
    const char *delivery, *feed_hour;
};

struct sluice_lookup {
    sluice_job *job;
    size_t off;
};

static int h_input_map(sluice_job *j, const void **data, size_t *len)
{
    if (!j->map || j->off)
        return 0;
    *data = j->input;
    *len = j->len;
    j->off = j->len; /* read() then returns 0 */
    return 1;
}

static void h_input_release(sluice_job *j, size_t upto)
{
    if (upto > j->released)
        j->released = upto;
}

static ssize_t h_read(sluice_job *j, void *p, size_t cap)
{
    if (j->fail_read) {
        snprintf(j->err, sizeof j->err, "storage failed");
        j->errors++;
        return -1;
    }
    size_t n = j->len - j->off;
    if (n > cap)
        n = cap;
    if (j->max_read && n > j->max_read)
        n = j->max_read;
    memcpy(p, j->input + j->off, n);
    j->off += n;
    return (ssize_t)n;
}
static const char *h_input_name(sluice_job *j)
{
    (void)j;
    return "hits.tsv";
}
static int64_t h_input_size(sluice_job *j)
{
    return (int64_t)j->len;
}
static const char *h_meta(sluice_job *j, const char *key)
{
    if (strcmp(key, "date") == 0)
        return j->date;
    if (strcmp(key, "run_date") == 0)
        return j->run_date;
    if (strcmp(key, "delivery") == 0)
        return j->delivery;
    if (strcmp(key, "rsid") == 0)
        return j->delivery ? "shopzilla" : NULL;
    if (strcmp(key, "feed_date") == 0)
        return j->delivery ? "2009-09-27" : NULL;
    if (strcmp(key, "feed_hour") == 0)
        return j->feed_hour;
    if (strcmp(key, "cpu_share") == 0)
        return j->cpu_share;
    return NULL;
}
static int h_set_name(sluice_job *j, const char *name)
{
    if (strchr(name, '/') || !*name)
        return -1;
    snprintf(j->name, sizeof j->name, "%s", name);
    j->name_set_before_write = j->writes == 0;
    return 0;
}
static int h_write(sluice_job *j, const void *p, size_t n)
{
    j->writes++;
    buf_add(&j->out, p, n);
    return 0;
}
static void h_log(sluice_job *j, sluice_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void h_log(sluice_job *j, sluice_log_level lvl, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    buf_addf(&j->log, "%d %s\n", (int)lvl, tmp);
}
static void h_counter(sluice_job *j, const char *name, int64_t d)
{
    for (size_t i = 0; i < j->ncounters; i++) {
        if (strcmp(j->counters[i].name, name) == 0) {
            j->counters[i].value += d;
            return;
        }
    }
    snprintf(j->counters[j->ncounters].name, sizeof j->counters[0].name, "%s", name);
    j->counters[j->ncounters++].value = d;
}
static void h_error(sluice_job *j, sluice_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void h_error(sluice_job *j, sluice_error_kind kind, const char *fmt, ...)
{
    if (j->errors++)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof j->err, fmt, ap);
    va_end(ap);
    j->err_kind = kind;
}

static sluice_lookup *h_lookup_open(sluice_job *j, const char *name)
{
    if (!j->lookup_cols || strcmp(name, "column_headers.tsv") != 0)
        return NULL;
    sluice_lookup *l = calloc(1, sizeof *l);
    l->job = j;
    j->lookups_open++;
    j->lookups_opened++;
    return l;
}
static ssize_t h_lookup_read(sluice_lookup *l, void *p, size_t cap)
{
    sluice_job *j = l->job;
    if (j->lookup_fail) {
        h_error(j, SLUICE_ERR_INPUT, "lookup read failed");
        return -1;
    }
    size_t n = strlen(j->lookup_cols) - l->off;
    if (n > cap)
        n = cap;
    if (j->lookup_max_read && n > j->lookup_max_read)
        n = j->lookup_max_read;
    memcpy(p, j->lookup_cols + l->off, n);
    l->off += n;
    return (ssize_t)n;
}
static void h_lookup_close(sluice_lookup *l)
{
    if (l)
        l->job->lookups_open--;
    free(l);
}

static const sluice_host fake_host = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(sluice_host),
    .value_type = h_type,
    .value_get = h_get,
    .value_len = h_len,
    .value_at = h_at,
    .value_key_at = h_key_at,
    .value_string = h_string,
    .value_int = h_int,
    .value_number = h_number,
    .value_bool = h_bool,
    .read = h_read,
    .input_name = h_input_name,
    .input_size = h_input_size,
    .meta = h_meta,
    .set_output_name = h_set_name,
    .write = h_write,
    .log = h_log,
    .counter_add = h_counter,
    .error = h_error,
    .lookup_open = h_lookup_open,
    .lookup_read = h_lookup_read,
    .lookup_close = h_lookup_close,
    .input_map = h_input_map,
    .input_release = h_input_release,
};

static int64_t counter(const sluice_job *j, const char *name)
{
    for (size_t i = 0; i < j->ncounters; i++)
        if (strcmp(j->counters[i].name, name) == 0)
            return j->counters[i].value;
    return -999;
}

/* init with `options` (freed), run on input; returns run()'s result or
 * 99 when init failed (message in *init_err). */
static int glue(sluice_value *options, const char *input, size_t len, sluice_job *job,
                char *init_err, size_t errlen)
{
    const sluice_plugin *p = &sluice_plugin_descriptor;
    void *state = NULL;
    init_err[0] = '\0';
    int rc = p->init(&fake_host, options, &state, init_err, errlen);
    vfree(options);
    if (rc != 0)
        return 99;
    job->input = input;
    job->len = len;
    rc = p->run(state, job);
    p->destroy(state);
    return rc;
}

static void expect_init_error(sluice_value *options, const char *needle, const char *name)
{
    sluice_job job = {0};
    char err[512];
    int rc = glue(options, "", 0, &job, err, sizeof err);
    ok(rc == 99 && strstr(err, needle) != NULL, "init refuses %s: %s", name, err);
    buf_free(&job.out);
    buf_free(&job.log);
}

static void test_glue_options(void)
{
    const sluice_plugin *p = &sluice_plugin_descriptor;
    is_int(p->abi_version, SLUICE_PLUGIN_ABI_VERSION, "descriptor ABI");
    is_str(p->name, "revenue", "descriptor name");
    static const char *const opts_named[] = {"\"attribution\"", "\"visit_timeout\"",
                                             "\"include_zero\"", "\"visitor\"",
                                             "\"columns\"",     "\"max_bad_ratio\"",
                                             "\"engines\"",     "\"additionalProperties\":false",
                                             "\"escapes\"",     "\"exclude\"",
                                             "\"auto\",\"visid\",\"ip\",\"ip_ua\""};
    for (size_t i = 0; i < sizeof opts_named / sizeof opts_named[0]; i++)
        ok(strstr(p->options_schema, opts_named[i]) != NULL, "schema has %s", opts_named[i]);

    expect_init_error(vmap("colour", vstr("red"), NULL), "unknown option 'colour'",
                      "an unknown option");
    expect_init_error(vmap("attribution", vint(5), NULL), "'attribution'", "attribution: 5");
    expect_init_error(vmap("attribution", vstr("middle"), NULL), "\"last\" or \"first\"",
                      "attribution: middle");
    expect_init_error(vmap("visit_timeout", vstr("1800"), NULL), "positive integer",
                      "visit_timeout as a string");
    expect_init_error(vmap("visit_timeout", vint(0), NULL), "positive integer", "visit_timeout 0");
    expect_init_error(vmap("visit_timeout", vnum(1.5), NULL), "positive integer",
                      "visit_timeout 1.5");
    expect_init_error(vmap("include_zero", vstr("yes"), NULL), "boolean", "include_zero: yes");
    expect_init_error(vmap("threads", vint(0), NULL), "from 1 to 64", "threads 0");
    expect_init_error(vmap("threads", vint(65), NULL), "from 1 to 64", "threads 65");
    expect_init_error(vmap("threads", vstr("2"), NULL), "from 1 to 64", "threads as a string");
    expect_init_error(vmap("visitor", vstr("mac"), NULL),
                      "must be one of \"auto\", \"ip\", \"ip_ua\", \"visid\"", "visitor: mac");
    expect_init_error(vmap("escapes", vstr("caret"), NULL), "\"backslash\" or \"none\"",
                      "escapes: caret");
    expect_init_error(vmap("exclude", vbool(1), NULL), "\"adobe\" or \"none\"", "exclude: true");
    expect_init_error(vmap("visitor", vstr("visid"), "columns",
                           vlist(vstr("hit_time_gmt"), vstr("ip"), vstr("event_list"),
                                 vstr("product_list"), vstr("referrer"), vstr("post_visid_low"),
                                 NULL),
                           NULL),
                      "option 'columns' has no column 'post_visid_high'",
                      "visitor visid with columns lacking post_visid_high");
    expect_init_error(vmap("max_bad_ratio", vnum(1.5), NULL), "from 0 to 1", "max_bad_ratio 1.5");
    expect_init_error(vmap("max_bad_ratio", vnum(-0.1), NULL), "from 0 to 1",
                      "max_bad_ratio -0.1");
    expect_init_error(vmap("max_bad_ratio", vstr("0.1"), NULL), "from 0 to 1",
                      "max_bad_ratio as a string");
    expect_init_error(vmap("columns", vint(5), NULL), "list of column names", "columns: 5");
    expect_init_error(vmap("columns", vlist(NULL), NULL), "empty list", "columns: []");
    expect_init_error(vmap("columns", vlist(vstr("ip"), vint(5), NULL), NULL), "item 2",
                      "columns with a number");
    expect_init_error(vmap("columns", vlist(vstr("hit_time_gmt"), vstr("ip"), NULL), NULL),
                      "no column 'event_list'", "columns lacking a needed one");
    expect_init_error(vmap("columns", vstr("/nonexistent/column_headers.tsv"), NULL),
                      "/nonexistent/column_headers.tsv", "a missing columns file");
    expect_init_error(vmap("columns", vstr(""), NULL), "empty path", "columns: \"\"");
    expect_init_error(vmap("engines", vstr("google"), NULL), "non-empty list", "engines: string");
    expect_init_error(vmap("engines", vlist(NULL), NULL), "non-empty list", "engines: []");
    expect_init_error(vmap("engines", vlist(vmap("name", vstr("x"), "hosts",
                                                 vlist(vstr("x.com"), NULL), NULL),
                                            NULL),
                           NULL),
                      "'param'", "engine without param");
    expect_init_error(vmap("engines", vlist(vmap("name", vstr("x"), "param", vstr("q"), "hosts",
                                                 vlist(vstr("x..com"), NULL), NULL),
                                            NULL),
                           NULL),
                      "bad host pattern", "engine with a bad pattern");
    expect_init_error(vmap("engines", vlist(vmap("name", vstr("x"), "param", vstr("q"), "hosts",
                                                 vlist(vstr("x.com"), NULL), "extra", vint(1),
                                                 NULL),
                                            NULL),
                           NULL),
                      "unknown key 'extra'", "engine with an unknown key");
    expect_init_error(vmap("engines", vlist(vmap("name", vstr("x"), "param", vstr("q"), "hosts",
                                                 vlist(NULL), NULL),
                                            NULL),
                           NULL),
                      "non-empty list of host patterns", "engine with no hosts");
    expect_init_error(vlist(NULL), "mapping", "options as a list");

    /* a host with another ABI is refused */
    sluice_host old = fake_host;
    old.struct_size = offsetof(sluice_host, error);
    void *state = NULL;
    char err[256];
    is_int(p->init(&old, NULL, &state, err, sizeof err), -1, "short host table refused");
}

/* The parsing threads: the option, else the host's cpu_share, else 1; the
 * report is the same and the log says how many. */
static void test_glue_threads(void)
{
    buf in = {0};
    if (slurp("tests/data/hit_data.tsv", &in) != 0) {
        ok(0, "threads: the sample is readable");
        return;
    }
    static const struct {
        int option;
        const char *share, *want;
    } cases[] = {{0, NULL, "; parsing on 1 thread"}, {0, "3", "; parsing on 3 threads"},
                 {0, "40", "; parsing on 8 threads"}, {2, "40", "; parsing on 2 threads"},
                 {16, NULL, "; parsing on 16 threads"}};
    buf first = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sluice_job job = {.date = "2026-11-20", .cpu_share = cases[i].share};
        char err[256];
        sluice_value *o = cases[i].option ? vmap("threads", vint(cases[i].option), NULL) : NULL;
        int rc = glue(o, in.p, in.len, &job, err, sizeof err);
        is_int(rc, SLUICE_OK, "threads case %zu runs", i);
        ok(strstr(buf_str(&job.log), cases[i].want) != NULL, "threads case %zu: the log says%s",
           i, cases[i].want);
        if (i == 0)
            buf_add(&first, job.out.p, job.out.len);
        else
            is_mem(job.out.p, job.out.len, first.p, first.len, "threads case %zu: same report", i);
        buf_free(&job.out);
        buf_free(&job.log);
    }
    buf_free(&first);
    buf_free(&in);
}

static void test_glue_run(void)
{
    buf in = {0}, want = {0}, noheader = {0};
    slurp("tests/data/hit_data.tsv", &in);
    slurp("tests/data/revenue/expected_sample.tab", &want);
    slurp("tests/data/revenue/hit_data_noheader.tsv", &noheader);
    char err[512];

    /* the sample, defaults, odd read sizes; last, mapped by the host */
    static const size_t reads[] = {0, 1, 5, 4096, 0};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        sluice_job job = {.date = "2009-09-27", .run_date = "2024-01-02", .max_read = reads[i],
                          .map = i == 4};
        int rc = glue(NULL, in.p, in.len, &job, err, sizeof err);
        const char *how = i == 4 ? ", the input mapped" : "";
        is_int(rc, SLUICE_OK, "sample run ok (reads of %zu%s)", reads[i], how);
        is_mem(buf_str(&job.out), job.out.len, buf_str(&want), want.len,
               "sample report through the glue (reads of %zu%s)", reads[i], how);
        if (i == 0) {
            is_str(job.name, "2009-09-27_SearchKeywordPerformance.tab", "output name from date");
            ok(job.name_set_before_write, "name proposed before the first write");
            is_int(counter(&job, "lines_read"), 22, "counter lines_read");
            is_int(counter(&job, "data_lines"), 21, "counter data_lines");
            is_int(counter(&job, "malformed_lines"), 0, "counter malformed_lines");
            is_int(counter(&job, "empty_lines"), 0, "counter empty_lines");
            is_int(counter(&job, "search_hits"), 4, "counter search_hits");
            is_int(counter(&job, "purchases"), 3, "counter purchases");
            is_int(counter(&job, "revenue_attributed_cents"), 73000, "counter attributed");
            is_int(counter(&job, "revenue_unattributed_cents"), 0, "counter unattributed");
            is_int(counter(&job, "warnings"), 0, "counter warnings");
            is_int(counter(&job, "visitors_evicted"), 0, "counter visitors_evicted");
            is_int(counter(&job, "keywords"), 3, "counter keywords");
            ok(strstr(buf_str(&job.log), "revenue attributed 730.00") != NULL,
               "summary logged");
        }
        buf_free(&job.out);
        buf_free(&job.log);
    }

    /* no event date: the run date */
    sluice_job job = {.run_date = "2024-01-02"};
    glue(NULL, in.p, in.len, &job, err, sizeof err);
    is_str(job.name, "2024-01-02_SearchKeywordPerformance.tab", "output name from run_date");
    buf_free(&job.out);
    buf_free(&job.log);

    /* options: include_zero false, first, ip_ua, timeout */
    memset(&job, 0, sizeof job);
    job.date = "2009-09-27";
    int rc = glue(vmap("include_zero", vbool(0), "attribution", vstr("first"), "visitor",
                       vstr("ip_ua"), "visit_timeout", vint(3600), "max_bad_ratio", vint(0),
                       NULL),
                  in.p, in.len, &job, err, sizeof err);
    is_int(rc, SLUICE_OK, "all options: ok (%s)", err);
    is_str(buf_str(&job.out), RHDR "google.com\tipod\t480.00\nbing.com\tzune\t250.00\n",
           "include_zero false through the options");
    buf_free(&job.out);
    buf_free(&job.log);

    /* columns as a list and as a file, on headerless input */
    memset(&job, 0, sizeof job);
    job.date = "2009-09-27";
    rc = glue(vmap("columns",
                   vlist(vstr("hit_time_gmt"), vstr("date_time"), vstr("user_agent"), vstr("ip"),
                         vstr("event_list"), vstr("geo_city"), vstr("geo_region"),
                         vstr("geo_country"), vstr("pagename"), vstr("page_url"),
                         vstr("product_list"), vstr("referrer"), NULL),
                   NULL),
              noheader.p, noheader.len, &job, err, sizeof err);
    is_int(rc, SLUICE_OK, "columns list: ok (%s)", err);
    is_mem(buf_str(&job.out), job.out.len, buf_str(&want), want.len, "columns list: report");
    buf_free(&job.out);
    buf_free(&job.log);

    char *colfile = data_path("tests/data/revenue/column_headers.tsv");
    memset(&job, 0, sizeof job);
    job.date = "2009-09-27";
    rc = glue(vmap("columns", vstr(colfile), NULL), noheader.p, noheader.len, &job, err,
              sizeof err);
    is_int(rc, SLUICE_OK, "columns file: ok (%s)", err);
    is_mem(buf_str(&job.out), job.out.len, buf_str(&want), want.len, "columns file: report");
    is_int(counter(&job, "data_lines"), 21, "columns file: 21 data lines");
    buf_free(&job.out);
    buf_free(&job.log);

    /* the file's header wins over a columns file */
    memset(&job, 0, sizeof job);
    job.date = "2009-09-27";
    rc = glue(vmap("columns", vstr(colfile), NULL), in.p, in.len, &job, err, sizeof err);
    is_mem(buf_str(&job.out), job.out.len, buf_str(&want), want.len, "header wins over file");
    is_int(counter(&job, "data_lines"), 21, "header wins: the header is not data");
    buf_free(&job.out);
    buf_free(&job.log);
    free(colfile);

    /* headerless without columns */
    memset(&job, 0, sizeof job);
    rc = glue(NULL, noheader.p, noheader.len, &job, err, sizeof err);
    is_int(rc, SLUICE_ERROR, "headerless: run fails");
    is_int(job.err_kind, SLUICE_ERR_INPUT, "headerless: input error");
    ok(strstr(job.err, "'columns'") != NULL, "headerless: message: %s", job.err);
    is_int(job.writes, 0, "headerless: nothing written");
    buf_free(&job.out);
    buf_free(&job.log);

    /* 0-byte input */
    memset(&job, 0, sizeof job);
    job.date = "2009-09-27";
    rc = glue(NULL, "", 0, &job, err, sizeof err);
    is_int(rc, SLUICE_OK, "0 bytes: ok");
    is_str(buf_str(&job.out), RHDR, "0 bytes: header-only report");
    buf_free(&job.out);
    buf_free(&job.log);

    /* max_bad_ratio: 1 malformed of 100 passes at 0.01, 2 of 100 fail */
    for (int bad = 1; bad <= 2; bad++) {
        buf b = {0};
        buf_addf(&b, HDR);
        for (int i = 0; i < 100; i++) {
            if (i < bad)
                buf_addf(&b, "x\t1.1.1.1\tUA\t\t\t\n");
            else
                hit(&b, 100 + i, "1.1.1.1", "", "", i == 50 ? GOOGLE_IPOD : SHOP);
        }
        memset(&job, 0, sizeof job);
        job.date = "2009-09-27";
        rc = glue(NULL, b.p, b.len, &job, err, sizeof err);
        is_int(counter(&job, "malformed_lines"), bad, "%d malformed: counter", bad);
        is_int(counter(&job, "data_lines"), 100, "%d malformed: 100 data lines", bad);
        if (bad == 1) {
            is_int(rc, SLUICE_OK, "1/100 malformed at 0.01: ok");
            is_str(buf_str(&job.out), RHDR "google.com\tipod\t0.00\n", "1/100: report");
            ok(strstr(buf_str(&job.log), "line 2: malformed line skipped") != NULL,
               "malformed line logged with its number");
        } else {
            is_int(rc, SLUICE_ERROR, "2/100 malformed at 0.01: fails");
            is_int(job.err_kind, SLUICE_ERR_INPUT, "2/100: input error");
            ok(strstr(job.err, "max_bad_ratio") != NULL, "2/100: message: %s", job.err);
            is_int(job.writes, 0, "2/100: nothing written");
        }
        buf_free(&job.out);
        buf_free(&job.log);
        /* and at max_bad_ratio 0.02 both pass */
        memset(&job, 0, sizeof job);
        rc = glue(vmap("max_bad_ratio", vnum(0.02), NULL), b.p, b.len, &job, err, sizeof err);
        is_int(rc, SLUICE_OK, "%d/100 malformed at 0.02: ok", bad);
        buf_free(&job.out);
        buf_free(&job.log);
        buf_free(&b);
    }

    /* custom engines replace the defaults */
    memset(&job, 0, sizeof job);
    rc = glue(vmap("engines",
                   vlist(vmap("name", vstr("shop"), "hosts", vlist(vstr("esshopzilla.com"), NULL),
                              "param", vstr("k"), NULL),
                         NULL),
                   NULL),
              in.p, in.len, &job, err, sizeof err);
    is_int(rc, SLUICE_OK, "custom engines: ok (%s)", err);
    is_str(buf_str(&job.out), RHDR "esshopzilla.com\tipod\t290.00\n",
           "custom engines: internal search as engine, defaults gone");
    buf_free(&job.out);
    buf_free(&job.log);

    /* a storage error */
    memset(&job, 0, sizeof job);
    job.fail_read = 1;
    rc = glue(NULL, in.p, in.len, &job, err, sizeof err);
    is_int(rc, SLUICE_ERROR, "read error fails the job");
    is_int(job.writes, 0, "read error: nothing written");
    buf_free(&job.out);
    buf_free(&job.log);

    buf_free(&in);
    buf_free(&want);
    buf_free(&noheader);
}

/* ---- the glue on a real feed: lookup files ------------------------------ */

static int run_cmd(const char *cmd, buf *out)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_add(out, tmp, n);
    return pclose(f) == 0 ? 0 : -1;
}

static void test_glue_feed(void)
{
    buf in = {0}, cols = {0}, want = {0};
    char *feed = data_path("tests/data/adobe-feed");
    char cmd[4096], err[512];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s/01-shopzilla_2009-09-27.tsv.gz' "
             "'%s/02-shopzilla_2009-09-27.tsv.gz'", feed, feed);
    int rc = run_cmd(cmd, &in);
    snprintf(cmd, sizeof cmd, "tar -xzOf '%s/shopzilla_2009-09-27-lookup_data.tar.gz' "
             "column_headers.tsv", feed);
    rc |= run_cmd(cmd, &cols);
    snprintf(cmd, sizeof cmd, "%s/expected_SearchKeywordPerformance.tab", feed);
    FILE *f = fopen(cmd, "rb");
    if (f) {
        char tmp[1024];
        size_t n = fread(tmp, 1, sizeof tmp, f);
        buf_add(&want, tmp, n);
        fclose(f);
    }
    ok(rc == 0 && in.len > 0 && cols.len > 0 && want.len > 0,
       "the fixture: data (gzip -dc), column_headers.tsv (tar), expected report");
    free(feed);

    /* the delivery's column_headers.tsv names the columns */
    sluice_job job = {.date = "2009-09-27", .lookup_cols = buf_str(&cols)};
    for (size_t reads = 0; reads <= 7; reads += 7) {
        memset(&job, 0, sizeof job);
        job.lookup_cols = buf_str(&cols);
        job.max_read = reads;
        job.lookup_max_read = reads;
        rc = glue(NULL, in.p, in.len, &job, err, sizeof err);
        is_int(rc, SLUICE_OK, "fixture with lookup columns: ok (reads of %zu) %s", reads, job.err);
        is_mem(buf_str(&job.out), job.out.len, buf_str(&want), want.len,
               "fixture: the expected report exactly (reads of %zu)", reads);
        is_int(job.lookups_open, 0, "the lookup file was closed (reads of %zu)", reads);
        is_int(counter(&job, "lines_read"), 24, "fixture: 24 records");
        is_int(counter(&job, "excluded_rows"), 2, "fixture: 2 excluded rows");
        is_int(counter(&job, "duplicate_purchases"), 1, "fixture: 1 duplicate purchase");
        is_int(counter(&job, "malformed_lines"), 0, "fixture: nothing malformed");
        ok(strstr(buf_str(&job.log), "20 columns (the delivery's column_headers.tsv)") != NULL,
           "the log names where the columns came from");
        buf_free(&job.out);
        buf_free(&job.log);
    }

    /* the option wins over the lookup file: here a list that hides
     * duplicate_purchase, and the duplicate counts again */
    sluice_value *list = vnew(SLUICE_VALUE_LIST);
    char *names = strdup(buf_str(&cols));
    names[strcspn(names, "\r\n")] = '\0';
    for (char *save = NULL, *t = strtok_r(names, "\t", &save); t; t = strtok_r(NULL, "\t", &save))
        list->kids[list->nkids++] = vstr(strcmp(t, "duplicate_purchase") ? t : "x");
    memset(&job, 0, sizeof job);
    job.lookup_cols = buf_str(&cols);
    rc = glue(vmap("columns", list, NULL), in.p, in.len, &job, err, sizeof err);
    is_int(rc, SLUICE_OK, "columns option with a lookup file: ok (%s)", err);
    is_str(buf_str(&job.out), RHDR "bing.com\tzune\t500.00\ngoogle.com\tipod\t480.00\n"
           "yahoo.com\tcd player\t0.00\n", "the columns option wins over column_headers.tsv");
    is_int(job.lookups_opened, 0, "with the option, the lookup file is not even opened");
    buf_free(&job.out);
    buf_free(&job.log);
    free(names);

    /* an hourly set without its lookup archive */
    memset(&job, 0, sizeof job);
    job.delivery = "adobe";
    job.feed_hour = "05";
    rc = glue(NULL, in.p, in.len, &job, err, sizeof err);
    is_int(rc, SLUICE_ERROR, "no lookup file, no columns: the job fails");
    is_int(job.err_kind, SLUICE_ERR_INPUT, "no lookup file: an input error");
    ok(strstr(job.err, "no column_headers.tsv") && strstr(job.err, "shopzilla 2009-09-27 hour 05") &&
           strstr(job.err, "first hour") && strstr(job.err, "'columns'"),
       "no lookup file: the message says which set and what to do: %s", job.err);
    is_int(job.writes, 0, "no lookup file: nothing written");
    buf_free(&job.out);
    buf_free(&job.log);

    /* a lookup file without a needed column, an empty one, an unreadable one */
    static const struct {
        const char *cols;
        int fail;
        const char *needle;
    } bad[] = {
        {"hit_time_gmt\tip\tevent_list\tproduct_list\n", 0,
         "the delivery's column_headers.tsv has no column 'referrer'"},
        {"\n", 0, "column_headers.tsv: its first line is empty"},
        {"hit_time_gmt\n", 1, "lookup read failed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&job, 0, sizeof job);
        job.lookup_cols = bad[i].cols;
        job.lookup_fail = bad[i].fail;
        rc = glue(NULL, in.p, in.len, &job, err, sizeof err);
        ok(rc == SLUICE_ERROR && job.err_kind == SLUICE_ERR_INPUT && strstr(job.err, bad[i].needle),
           "bad lookup file %zu fails the job: %s", i, job.err);
        is_int(job.writes, 0, "bad lookup file %zu: nothing written", i);
        buf_free(&job.out);
        buf_free(&job.log);
    }

    /* a host table from before lookup files: headerless input needs columns */
    sluice_host old = fake_host;
    old.struct_size = offsetof(sluice_host, lookup_open);
    const sluice_plugin *p = &sluice_plugin_descriptor;
    void *state = NULL;
    is_int(p->init(&old, NULL, &state, err, sizeof err), 0, "an older host table is accepted");
    memset(&job, 0, sizeof job);
    job.lookup_cols = buf_str(&cols);
    job.input = in.p;
    job.len = in.len;
    is_int(p->run(state, &job), SLUICE_ERROR, "older host: headerless input fails");
    is_int(job.lookups_opened, 0, "older host: lookup_open is not called");
    p->destroy(state);
    buf_free(&job.out);
    buf_free(&job.log);

    buf_free(&in);
    buf_free(&cols);
    buf_free(&want);
}

/* Adversarial inputs for the parallel parse: records that straddle every
 * chunk edge, escaped LFs, TABs and backslashes at edges, CRLF split by
 * an edge, empty lines, malformed rows, no final newline, records longer
 * than a chunk. run_core compares every thread count and chunk size with
 * the single-threaded result; this only makes the inputs. */
static void random_record(buf *b, uint64_t *seed)
{
    static const char *const pieces[] = {
        "\\\n", "\\\t", "\\\\", "\\", "\r", "\t", "a", "zz", "1",
        "http://www.google.com/search?q=ip\\\nod", "A;B;1;2.5;", "\xc3\xa9"};
    static const char *const refs[] = {GOOGLE_IPOD, "http://www.bing.com/search?q=Zune",
                                       "http://x/?a=1", ""};
    uint64_t r = prng(seed);
    switch (r % 5) {
    case 0: /* a well-formed hit, maybe a purchase */
        buf_addf(b, "%llu\t10.0.0.%llu\tU%s\t%s\t%s\t%s", (unsigned long long)(r >> 8) % 4000,
                 (unsigned long long)(r >> 20) % 4, (r >> 30) & 1 ? "\\\nA" : "A",
                 (r >> 31) & 1 ? "1" : "", (r >> 32) & 1 ? "A;B;1;3.25;" : "",
                 refs[(r >> 33) % 4]);
        break;
    case 1: /* nothing: an empty line */
        break;
    default: /* pieces at random: mostly malformed, some long */
        for (uint64_t k = 0, n = (r >> 8) % ((r >> 40) % 7 ? 12 : 400); k < n; k++)
            buf_addf(b, "%s", pieces[prng(seed) % (sizeof pieces / sizeof *pieces)]);
    }
    buf_addf(b, "%s", (r >> 50) % 4 ? "\n" : "\r\n");
}

static void test_parallel_edges(void)
{
    uint64_t seed = 0x5eed;
    size_t cases = 0;
    for (int i = 0; i < 60; i++) {
        buf b = {0};
        buf_addf(&b, HDR);
        for (uint64_t k = 0, n = prng(&seed) % 40; k < n; k++)
            random_record(&b, &seed);
        if (i % 3 == 0 && b.len > sizeof HDR) /* no final newline */
            b.len -= b.p[b.len - 2] == '\r' ? 2 : 1;
        opts o = {.no_escapes = i % 4 == 1, .chunk = (size_t[]){0, 1, 3, 17}[i % 4]};
        result r;
        run_core(b.p, b.len, &o, &r);
        cases++;
        result_free(&r);
        buf_free(&b);
    }
    ok(cases == 60, "60 adversarial inputs ran through every thread count and chunk size");
}

/* A mapped input of two release steps and 16 MiB on 2 threads: released
 * from the start in steps,
 * each release past the last and within the input, and nothing read again
 * below a release (those pages are made unreadable as they are released:
 * a read there would crash this test). The report, statistics and
 * warnings equal the record-at-a-time run's. */
static void test_mapped_release(void)
{
    buf b = {0};
    buf_add(&b, HDR, strlen(HDR));
    char ip[32], ref[96];
    for (long i = 0; b.len < 2 * REV_RELEASE_STEP + ((size_t)16 << 20); i++) {
        snprintf(ip, sizeof ip, "10.%ld.%ld.%ld", (i / 65536) % 256, (i / 256) % 256, i % 256);
        snprintf(ref, sizeof ref, "http://www.google.com/search?q=kw%ld", i % 97);
        hit(&b, 1000 + i, ip, "", "", ref);
        hit(&b, 1001 + i, ip, "1", "Electronics;Ipod;1;290;", "http://www.esshopzilla.com/");
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE), size = (b.len + page - 1) / page * page;
    char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        abort();
    memcpy(m, b.p, b.len);
    opts o = {0};
    result want, got;
    run_core_with(b.p, b.len, &o, 0, 0, &want);
    releases rl = {.base = m, .len = b.len, .guard = 1};
    mapped_feed = 1;
    mapped_releases = &rl;
    run_core_with(m, b.len, &o, 2, 0, &got);
    mapped_feed = 0;
    mapped_releases = NULL;
    const char *diff = difference(&want, &got);
    ok(!diff, "a %zu MiB mapped input on 2 threads: the record-at-a-time result%s%s",
       b.len >> 20, diff ? "; the differing: " : "", diff ? diff : "");
    ok(rl.calls >= 2 && !rl.backwards && rl.last >= 2 * REV_RELEASE_STEP,
       "its bytes released behind the parse, in order (%zu calls, the last at %zu)", rl.calls,
       rl.last);
    munmap(m, size);
    result_free(&want);
    result_free(&got);
    buf_free(&b);
}

/* rev_hash reads every byte of a key and none past it: a key of each
 * length 0..40 ends at a page whose next page is unreadable, and changing
 * any one of its bytes changes the hash (the tail is read with whole
 * loads, overlapping, since a byte copy cost 38 % of the hash). */
static void test_hash_bytes(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + page, page, PROT_NONE) != 0)
        abort();
    size_t missed = 0, collided = 0;
    uint64_t seen[41];
    for (size_t len = 0; len <= 40; len++) {
        unsigned char *k = m + page - len;
        for (size_t i = 0; i < len; i++)
            k[i] = (unsigned char)('a' + (i * 7 + len) % 26);
        uint64_t h = rev_hash(k, len, 42);
        seen[len] = h;
        for (size_t j = 0; j < len; j++)
            collided += seen[j] == h; /* a prefix of another length */
        for (size_t i = 0; i < len; i++) {
            k[i] ^= 0x20;
            missed += rev_hash(k, len, 42) == h;
            k[i] ^= 0x20;
        }
    }
    munmap(m, 2 * page);
    is_int((int64_t)missed, 0, "rev_hash: a change of any one byte of a 1..40-byte key changes it "
                               "(read up to a page end, nothing past it)");
    is_int((int64_t)collided, 0, "rev_hash: keys of different lengths hash apart");
}

static size_t task_count(void)
{
    DIR *d = opendir("/proc/self/task");
    size_t n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* threads: N parsers are N - 1 threads and the caller (rev_pipe.h): on N
 * cores the job never has a thread more than its share. The caller's own
 * parsing is in every run of the matrix above (threads 2, 3, 8). */
static void test_pipe_threads(void)
{
    rev_layout layout;
    memset(&layout, 0, sizeof layout);
    size_t before = task_count(), counts[] = {1, 2, 3, 8};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        rev_pipe_config pc = {.threads = counts[i], .layout = &layout};
        rev_pipe *p = rev_pipe_new(&pc);
        size_t made = task_count() - before;
        rev_pipe_free(p);
        is_int((int64_t)made, (int64_t)(counts[i] - 1),
               "a pipe of %zu parsers starts %zu threads", counts[i], counts[i] - 1);
    }
    is_int((int64_t)task_count(), (int64_t)before, "... and joins them all when freed");
}

/* The tally of run_core's comparisons, every case above included. */
static void test_parallel_equals_sequential(void)
{
    char name[160];
    snprintf(name, sizeof name, "batched and parallel parsing give the record-at-a-time result "
             "in all %zu runs (threads 1, 2, 3, 8 x chunks of 1 B, 7 B, the default)",
             parallel_runs);
    ok(parallel_runs > 0 && parallel_diffs == 0, "%s", name);
}

int main(void)
{
    test_url();
    test_engines();
    test_shorten();
    test_keyword();
    test_money();
    test_sample();
    test_header_and_columns();
    test_lines();
    test_hits();
    test_visits();
    test_sorting();
    test_eviction_bounds_memory();
    test_scan_matches_naive();
    test_record_ends();
    test_feed_rules();
    test_carets();
    test_glue_options();
    test_glue_run();
    test_glue_feed();
    test_glue_threads();
    test_parallel_edges();
    test_mapped_release();
    test_pipe_threads();
    test_hash_bytes();
    test_parallel_equals_sequential();
    return done_testing();
}
