/* gen_delivery.c — a realistic Adobe Analytics data-feed delivery for the
 * revenue benchmark: headerless rows of a real feed's width, split into N
 * gzip'd data files, the lookup archive and a correct manifest.
 *
 *   gen_delivery --bytes N --out DIR [--files K] [--rsid RSID] [--date YYYY-MM-DD]
 *                [--seed S] [--plain FILE]
 *
 * Writes into DIR (created):
 *   NN-RSID_DATE.tsv.gz          K data files, headerless, ~N/K bytes each
 *                                uncompressed, whole records only
 *   RSID_DATE-lookup_data.tar.gz column_headers.tsv, event.tsv, browser.tsv
 *   RSID_DATE.txt                the manifest (MD5, sizes, record counts)
 * and with --plain the same records uncompressed in one file (what the
 * data files give decompressed and concatenated, for the plain run).
 *
 * The data: 275 columns (real feed names, eVars and props), most empty or
 * short, ~1.5 KB per row; interleaved visitors whose IP changes now and
 * then, searches on several engines, purchases with pre-conversion
 * product_list and converted post_product_list; ~0.5% of rows hold a
 * backslash escape (TAB, LF, backslash), ~1.5% are excluded (exclude_hit or
 * hit_source 5/7/8/9), ~3% of purchases are repeated as duplicate_purchase.
 * Same arguments, same data bytes (the PRNG is seeded; gzip runs with -n).
 * gzip and tar are the system's; MD5 is OpenSSL's. */
#include "autoconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench_rng.h"

#define ACTIVE 8000        /* concurrent visits */
#define START_TIME 1254009600 /* 2009-09-27 00:00:00 UTC */
#define ROW_MAX 16384
#define VOCAB 12           /* distinct values of a generic column */

/* Named columns of a real feed (Adobe's "Data column reference"); the
 * eVars and props are added after them. */
static const char *const named[] = {
    "accept_language", "browser", "browser_height", "browser_width", "c_color", "campaign",
    "carrier", "channel", "click_action", "click_context", "code_ver", "color",
    "connection_type", "cookies", "country", "ct_connect_type", "curr_factor", "curr_rate",
    "currency", "cust_hit_time_gmt", "cust_visid", "daily_visitor", "date_time", "domain",
    "duplicate_events", "duplicate_purchase", "duplicated_from", "ef_id", "event_list",
    "exclude_hit", "first_hit_page_url", "first_hit_pagename", "first_hit_ref_domain",
    "first_hit_ref_type", "first_hit_referrer", "first_hit_time_gmt", "geo_city",
    "geo_country", "geo_dma", "geo_region", "geo_zip", "hier1", "hier2", "hit_source",
    "hit_time_gmt", "hitid_high", "hitid_low", "homepage", "hourly_visitor", "ip", "ip2",
    "j_jscript", "java_enabled", "javascript", "language", "last_hit_time_gmt",
    "last_purchase_num", "last_purchase_time_gmt", "mobile_id", "monthly_visitor",
    "mvvar1", "mvvar2", "namespace", "new_visit", "os", "page_event", "page_event_var1",
    "page_event_var2", "page_type", "page_url", "pagename", "paid_search",
    "persistent_cookie", "plugins", "post_browser_height", "post_browser_width",
    "post_campaign", "post_channel", "post_cookies", "post_currency", "post_event_list",
    "post_hier1", "post_java_enabled", "post_keywords", "post_page_event",
    "post_page_type", "post_page_url", "post_pagename", "post_persistent_cookie",
    "post_product_list", "post_purchaseid", "post_referrer", "post_search_engine",
    "post_state", "post_visid_high", "post_visid_low", "post_visid_type", "post_zip",
    "prev_page", "product_list", "product_merchandising", "purchaseid",
    "quarterly_visitor", "ref_domain", "ref_type", "referrer", "resolution", "s_kwcid",
    "s_resolution", "sampled_hit", "search_engine", "search_page_num", "secondary_hit",
    "service", "sourceid", "state", "stats_server", "t_time_info", "transactionid",
    "truncated_hit", "ua_color", "ua_os", "ua_pixels", "user_agent", "user_hash",
    "user_server", "userid", "username", "visid_high", "visid_low", "visid_new",
    "visid_timestamp", "visid_type", "visit_keywords", "visit_num", "visit_page_num",
    "visit_referrer", "visit_search_engine", "visit_start_page_url", "visit_start_pagename",
    "visit_start_time_gmt", "weekly_visitor", "yearly_visitor", "zip",
};
#define NAMED (sizeof named / sizeof named[0])
#define EVARS 75
#define POST_EVARS 50
#define PROPS 10
#define NCOLS (NAMED + EVARS + POST_EVARS + PROPS)

static const char *const agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.0 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0",
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/117.0.5938.153 Mobile Safari/537.36",
};

/* Search referrers; the keyword goes at the end. */
static const char *const searches[] = {
    "https://www.google.com/search?client=firefox-b-d&ei=x7Tq&q=",
    "https://www.google.co.uk/search?hl=en&source=hp&q=",
    "https://www.bing.com/search?form=QBLH&sp=-1&q=",
    "https://search.yahoo.com/search?fr=yfp-t&ei=UTF-8&p=",
    "https://duckduckgo.com/?t=h_&ia=web&q=",
    "https://yandex.ru/search/?lr=213&text=",
    "https://www.baidu.com/s?ie=utf-8&wd=",
};
static const char *const words[] = {
    "ipod", "zune", "cd+player", "headphones", "Camera", "laptop%20bag", "charger",
    "usb+cable", "speaker", "tv+stand", "ipod+nano", "noise+cancelling", "smart+watch",
    "e-reader", "tablet+case", "Gaming+Mouse", "monitor+27", "keyboard", "webcam", "router",
};
static const char *const pages[] = {
    "home", "search results", "product detail", "shopping cart", "checkout", "order complete",
    "hot buys", "category: audio", "category: video", "account",
};
static const struct {
    const char *name;
    int cents;
} products[] = {
    {"Ipod - Nano - 8GB", 19000}, {"Ipod - Touch - 32GB", 29000}, {"Zune - 32GB", 25000},
    {"CD Player", 4999},         {"Headphones", 1995},           {"Camera", 24999},
    {"USB Cable", 450},           {"Charger", 99},                {"Laptop Bag", 3500},
};

typedef struct visit {
    uint64_t visid_high, visid_low;
    unsigned ip[4], agent, visit_num;
    int step, length, searched;
    char referrer[160];
} visit;

/* Column roles the generator fills specially; others are generic. */
typedef struct columns {
    const char *name[NCOLS];
    unsigned char fill[NCOLS]; /* generic columns: percent of rows with a value */
    char vocab[NCOLS][VOCAB][56]; /* the values a generic column takes */
} columns;

typedef struct row {
    char *v[NCOLS]; /* pointers into text, NULL: empty */
    char text[ROW_MAX];
    size_t used;
} row;

static char *put(row *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *put(row *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = w->text + w->used;
    int n = vsnprintf(at, sizeof w->text - w->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof w->text - w->used) {
        fprintf(stderr, "gen_delivery: a row is longer than %d bytes\n", ROW_MAX);
        exit(1);
    }
    w->used += (size_t)n + 1;
    return at;
}

static int col_of(const columns *c, const char *name)
{
    for (size_t i = 0; i < NCOLS; i++)
        if (strcmp(c->name[i], name) == 0)
            return (int)i;
    fprintf(stderr, "gen_delivery: no column %s\n", name);
    exit(1);
}

static void columns_init(columns *c, rng *r)
{
    static char extra[EVARS + POST_EVARS + PROPS][16];
    size_t k = 0, e = 0;
    for (; k < NAMED; k++)
        c->name[k] = named[k];
    for (int i = 1; i <= EVARS; i++, e++, k++)
        snprintf(extra[e], sizeof extra[e], "evar%d", i), c->name[k] = extra[e];
    for (int i = 1; i <= POST_EVARS; i++, e++, k++)
        snprintf(extra[e], sizeof extra[e], "post_evar%d", i), c->name[k] = extra[e];
    for (int i = 1; i <= PROPS; i++, e++, k++)
        snprintf(extra[e], sizeof extra[e], "prop%d", i), c->name[k] = extra[e];
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789:-_ ";
    for (size_t i = 0; i < NCOLS; i++) {
        unsigned x = below(r, 100);
        c->fill[i] = (unsigned char)(x < 45 ? 0 : x < 75 ? 30 : 85); /* most are empty */
        unsigned width = 1 + below(r, 20) + (below(r, 6) == 0 ? 34 : 0);
        int digits = width < 4;
        for (size_t v = 0; v < VOCAB; v++) {
            unsigned n = 1 + below(r, width);
            for (unsigned b = 0; b < n; b++)
                c->vocab[i][v][b] = digits ? (char)('0' + below(r, 10))
                                           : alnum[below(r, sizeof alnum - 1)];
            c->vocab[i][v][n] = '\0';
        }
    }
}

static void generic_value(row *w, rng *r, const columns *c, size_t i)
{
    if (below(r, 100) < c->fill[i])
        w->v[i] = (char *)c->vocab[i][below(r, VOCAB)];
}

/* A value with a backslash escape of a real feed: TAB, LF or backslash. */
static char *escaped(row *w, rng *r, const char *value)
{
    static const char *const esc[] = {"\\\t", "\\\n", "\\\\"};
    size_t cut = strlen(value) / 2;
    return put(w, "%.*s%s%s", (int)cut, value, PICK(r, esc), value + cut);
}

static void visit_new(visit *v, rng *r)
{
    memset(v, 0, sizeof *v);
    v->visid_high = next(r) >> 2;
    v->visid_low = next(r) >> 2;
    for (int k = 0; k < 4; k++)
        v->ip[k] = 1 + below(r, 254);
    v->agent = below(r, sizeof agents / sizeof agents[0]);
    v->visit_num = 1 + below(r, 20);
    v->length = 2 + (int)below(r, 30);
}

typedef struct cols_idx {
    int time, vh, vl, exclude, source, dup, ua, ip, ev, pev, pl, ppl, ref, pref, url, purl,
        page, ppage, date, city, country, region, visit_num, visit_page, fh_url, vs_url, hid_h,
        hid_l, purchaseid;
} cols_idx;

/* One hit of visit v at time t into w. Returns 1 when it was a purchase. */
static int make_row(row *w, rng *r, const columns *c, const cols_idx *x, visit *v, int64_t t)
{
    memset(w->v, 0, sizeof w->v);
    w->used = 0;
    for (size_t i = 0; i < NCOLS; i++)
        generic_value(w, r, c, i);
    if (below(r, 50) == 0) /* the IP changes within the visit */
        v->ip[3] = 1 + below(r, 254);
    v->step++;

    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    w->v[x->time] = put(w, "%" PRId64, t);
    w->v[x->date] = put(w, "%s", date);
    w->v[x->vh] = put(w, "%" PRIu64, v->visid_high);
    w->v[x->vl] = put(w, "%" PRIu64, v->visid_low);
    w->v[x->hid_h] = put(w, "%" PRIu64, next(r) >> 4);
    w->v[x->hid_l] = put(w, "%" PRIu64, next(r) >> 4);
    w->v[x->ip] = put(w, "%u.%u.%u.%u", v->ip[0], v->ip[1], v->ip[2], v->ip[3]);
    w->v[x->ua] = put(w, "%s", agents[v->agent]);
    w->v[x->city] = put(w, "%s", PICK(r, ((const char *[]){"salem", "rochester", "duncan",
                                                             "london", "berlin"})));
    w->v[x->region] = put(w, "%s", PICK(r, ((const char *[]){"or", "ny", "ok", "eng", "be"})));
    w->v[x->country] = put(w, "%s", PICK(r, ((const char *[]){"usa", "gbr", "deu"})));
    w->v[x->visit_num] = put(w, "%u", v->visit_num);
    w->v[x->visit_page] = put(w, "%d", v->step);
    w->v[x->exclude] = put(w, "%d", below(r, 100) == 0 ? 1 + (int)below(r, 4) : 0);
    w->v[x->source] = put(w, "%d", below(r, 200) == 0 ? (int)PICK(r, ((int[]){5, 7, 8, 9})) : 1);
    w->v[x->dup] = put(w, "0");

    const char *page = PICK(r, pages);
    char url[160];
    snprintf(url, sizeof url, "https://www.esshopzilla.com/%s/?pid=as%05u&cid=%u", page,
             below(r, 100000), below(r, 1000));
    w->v[x->page] = w->v[x->ppage] = put(w, "%s", page);
    w->v[x->url] = w->v[x->purl] = put(w, "%s", url);
    w->v[x->fh_url] = w->v[x->vs_url] = put(w, "https://www.esshopzilla.com/");

    if (v->step == 1 && below(r, 100) < 45) {
        snprintf(v->referrer, sizeof v->referrer, "%s%s", PICK(r, searches), PICK(r, words));
        v->searched = 1;
    } else {
        snprintf(v->referrer, sizeof v->referrer, "https://www.esshopzilla.com/%s/",
                 PICK(r, pages));
    }
    w->v[x->ref] = w->v[x->pref] = put(w, "%s", v->referrer);

    int purchase = v->step > 2 && below(r, 100) < 6;
    if (purchase) {
        char pre[512], post[512];
        size_t a = 0, b = 0;
        unsigned n = 1 + below(r, 3);
        for (unsigned k = 0; k < n; k++) {
            int q = 1 + (int)below(r, 2);
            int cents = products[below(r, sizeof products / sizeof products[0])].cents * q;
            const char *name = products[below(r, sizeof products / sizeof products[0])].name;
            a += (size_t)snprintf(pre + a, sizeof pre - a, "%sElectronics;%s;%d;%d.%02d;;",
                                  k ? "," : "", name, q, cents * 11 / 1000, cents * 11 / 10 % 100);
            b += (size_t)snprintf(post + b, sizeof post - b, "%sElectronics;%s;%d;%d.%02d;;",
                                  k ? "," : "", name, q, cents / 100, cents % 100);
        }
        w->v[x->ev] = put(w, "1,200=%u,201", n);
        w->v[x->pev] = put(w, "1,200=%u,201", n);
        w->v[x->pl] = put(w, "%s", pre);
        w->v[x->ppl] = put(w, "%s", post);
        w->v[x->purchaseid] = put(w, "P%08u", below(r, 100000000));
    } else if (below(r, 4) == 0) {
        w->v[x->ev] = w->v[x->pev] = put(w, "2,100");
    }
    if (below(r, 200) == 0) { /* ~0.5%: an escape somewhere a reader must undo */
        int target = PICK(r, ((int[]){x->ua, x->url, x->page}));
        w->v[target] = escaped(w, r, w->v[target]);
    }
    return purchase;
}

static void row_write(const row *w, FILE **outs, size_t nouts, size_t *bytes)
{
    static char line[ROW_MAX * 2];
    size_t n = 0;
    for (size_t i = 0; i < NCOLS; i++) {
        if (i)
            line[n++] = '\t';
        if (w->v[i]) {
            size_t k = strlen(w->v[i]);
            memcpy(line + n, w->v[i], k);
            n += k;
        }
    }
    line[n++] = '\n';
    for (size_t i = 0; i < nouts; i++) {
        if (outs[i] && fwrite(line, 1, n, outs[i]) != n) {
            fprintf(stderr, "gen_delivery: write failed: %s\n", strerror(errno));
            exit(1);
        }
    }
    *bytes += n;
}

static int md5_file(const char *path, char hex[33], long long *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    static unsigned char buf[1 << 16];
    size_t n;
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
        *size += (long long)n;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    int bad = ferror(f);
    fclose(f);
    for (unsigned i = 0; i < len && i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return bad ? -1 : 0;
}

/* dir "/" name into dst (cap bytes); a path too long ends the program. */
static void path_join(char *dst, size_t cap, const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    if (a + 1 + b + 1 > cap) {
        fprintf(stderr, "gen_delivery: path too long: %s/%s\n", dir, name);
        exit(1);
    }
    memcpy(dst, dir, a);
    dst[a] = '/';
    memcpy(dst + a + 1, name, b + 1);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "gen_delivery: %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* column_headers.tsv, event.tsv and browser.tsv, tar'd and gzip'd by the
 * system's tar. */
static void write_lookup(const char *dir, const char *archive, const columns *c)
{
    char tmp[4096], path[4200], cmd[9000];
    snprintf(tmp, sizeof tmp, "%s/.lookup", dir);
    mkdir(tmp, 0777);
    static char headers[NCOLS * 32];
    size_t n = 0;
    for (size_t i = 0; i < NCOLS; i++)
        n += (size_t)snprintf(headers + n, sizeof headers - n, "%s%s", i ? "\t" : "", c->name[i]);
    snprintf(headers + n, sizeof headers - n, "\n");
    snprintf(path, sizeof path, "%s/column_headers.tsv", tmp);
    write_text(path, headers);
    snprintf(path, sizeof path, "%s/event.tsv", tmp);
    write_text(path, "1\tPurchase\n2\tProduct View\n100\tInstance of eVar1\n"
                     "200\tCustom Event 1\n201\tCustom Event 2\n");
    snprintf(path, sizeof path, "%s/browser.tsv", tmp);
    write_text(path, "1\tChrome 118\n2\tSafari 17\n3\tFirefox 118\n");
    snprintf(cmd, sizeof cmd,
             "tar -czf '%s/%s' -C '%s' column_headers.tsv event.tsv browser.tsv && "
             "rm -rf '%s'", dir, archive, tmp, tmp);
    if (system(cmd) != 0) {
        fprintf(stderr, "gen_delivery: tar failed: %s\n", cmd);
        exit(1);
    }
}

static int usage(FILE *to, int status)
{
    fprintf(to,
            "usage: gen_delivery --bytes N --out DIR [--files K] [--rsid RSID]\n"
            "                    [--date YYYY-MM-DD] [--seed S] [--plain FILE]\n"
            "Writes an Adobe data-feed delivery of at least N bytes of hit data (whole\n"
            "records): K gzip'd headerless data files (default 4), the lookup archive\n"
            "and the manifest, into DIR; --plain also writes the records uncompressed.\n");
    return status;
}

int main(int argc, char **argv)
{
    unsigned long long bytes = 0, seed = 9;
    unsigned files = 4;
    const char *out = NULL, *plain = NULL, *rsid = "benchrsid", *day = "2009-09-27";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0)
            return usage(stdout, 0);
        if (!v)
            return usage(stderr, 2);
        if (strcmp(a, "--bytes") == 0)
            bytes = strtoull(v, NULL, 10);
        else if (strcmp(a, "--files") == 0)
            files = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--plain") == 0)
            plain = v;
        else if (strcmp(a, "--rsid") == 0)
            rsid = v;
        else if (strcmp(a, "--date") == 0)
            day = v;
        else
            return usage(stderr, 2);
        i++;
    }
    if (!out || bytes == 0 || files == 0 || files > 99)
        return usage(stderr, 2);
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_delivery: %s: %s\n", out, strerror(errno));
        return 1;
    }

    rng r = {seed};
    static columns c;
    columns_init(&c, &r);
    cols_idx x = {
        col_of(&c, "hit_time_gmt"), col_of(&c, "post_visid_high"), col_of(&c, "post_visid_low"),
        col_of(&c, "exclude_hit"), col_of(&c, "hit_source"), col_of(&c, "duplicate_purchase"),
        col_of(&c, "user_agent"), col_of(&c, "ip"), col_of(&c, "event_list"),
        col_of(&c, "post_event_list"), col_of(&c, "product_list"),
        col_of(&c, "post_product_list"), col_of(&c, "referrer"), col_of(&c, "post_referrer"),
        col_of(&c, "page_url"), col_of(&c, "post_page_url"), col_of(&c, "pagename"),
        col_of(&c, "post_pagename"), col_of(&c, "date_time"), col_of(&c, "geo_city"),
        col_of(&c, "geo_country"), col_of(&c, "geo_region"), col_of(&c, "visit_num"),
        col_of(&c, "visit_page_num"), col_of(&c, "first_hit_page_url"),
        col_of(&c, "visit_start_page_url"), col_of(&c, "hitid_high"), col_of(&c, "hitid_low"),
        col_of(&c, "purchaseid"),
    };
    static visit visits[ACTIVE];
    for (size_t i = 0; i < ACTIVE; i++)
        visit_new(&visits[i], &r);

    FILE *plain_f = plain ? fopen(plain, "wb") : NULL;
    if (plain && !plain_f) {
        fprintf(stderr, "gen_delivery: %s: %s\n", plain, strerror(errno));
        return 1;
    }
    static char manifest_files[100][160];
    static unsigned long long records[100];
    static row w;
    unsigned long long total = 0, all_records = 0;
    int64_t t = START_TIME;
    for (unsigned f = 0; f < files; f++) {
        char path[4200], cmd[4400];
        snprintf(manifest_files[f], sizeof manifest_files[f], "%02u-%s_%s.tsv.gz", f + 1, rsid,
                 day);
        path_join(path, sizeof path, out, manifest_files[f]);
        snprintf(cmd, sizeof cmd, "gzip -n -c > '%s'", path);
        FILE *gz = popen(cmd, "w");
        if (!gz) {
            fprintf(stderr, "gen_delivery: cannot run gzip: %s\n", strerror(errno));
            return 1;
        }
        FILE *outs[2] = {gz, plain_f};
        unsigned long long goal = bytes * (f + 1) / files;
        size_t written = 0;
        while (total + written < goal) {
            visit *v = &visits[below(&r, ACTIVE)];
            t += below(&r, 8) == 0; /* ~8 hits a second: most visits last */
            int bought = make_row(&w, &r, &c, &x, v, t);
            row_write(&w, outs, 2, &written);
            records[f]++;
            if (bought && below(&r, 100) < 3) { /* Adobe flags the repeat */
                w.v[x.dup] = put(&w, "1");
                row_write(&w, outs, 2, &written);
                records[f]++;
            }
            if (v->step >= v->length)
                visit_new(v, &r);
        }
        total += written;
        all_records += records[f];
        if (pclose(gz) != 0) {
            fprintf(stderr, "gen_delivery: gzip failed on %s\n", path);
            return 1;
        }
    }
    if (plain_f && fclose(plain_f) != 0) {
        fprintf(stderr, "gen_delivery: %s: %s\n", plain, strerror(errno));
        return 1;
    }

    char lookup[256];
    snprintf(lookup, sizeof lookup, "%s_%s-lookup_data.tar.gz", rsid, day);
    write_lookup(out, lookup, &c);

    static char manifest[100 * 512];
    size_t m = (size_t)snprintf(manifest, sizeof manifest,
                                "Datafeed-Manifest-Version: 1.0\nLookup-Files: 1\n"
                                "Data-Files: %u\nTotal-Records: %llu\n",
                                files, all_records);
    char hex[33], path[4200];
    long long size;
    path_join(path, sizeof path, out, lookup);
    if (md5_file(path, hex, &size) != 0)
        return 1;
    m += (size_t)snprintf(manifest + m, sizeof manifest - m,
                          "\nLookup-File: %s\nMD5-Digest: %s\nFile-Size: %lld\n", lookup, hex,
                          size);
    for (unsigned f = 0; f < files; f++) {
        path_join(path, sizeof path, out, manifest_files[f]);
        if (md5_file(path, hex, &size) != 0)
            return 1;
        m += (size_t)snprintf(manifest + m, sizeof manifest - m,
                              "\nData-File: %s\nMD5-Digest: %s\nFile-Size: %lld\n"
                              "Record-Count: %llu\n",
                              manifest_files[f], hex, size, records[f]);
    }
    snprintf(path, sizeof path, "%s/%s_%s.txt", out, rsid, day);
    write_text(path, manifest); /* last: its arrival completes the set */
    printf("gen_delivery: %s: %u data files, %llu records, %llu bytes uncompressed, %zu "
           "columns\n",
           out, files, all_records, total, (size_t)NCOLS);
    return 0;
}
