/* gen_hits.c — deterministic Adobe-style hit data for the revenue
 * benchmark. Same arguments, same bytes: a seeded PRNG drives everything.
 *
 *   gen_hits --bytes N [--seed S] [--out FILE]
 *
 * Writes exactly N bytes (N >= 4096) with the header and the 12 columns of
 * tests/data/hit_data.tsv, CRLF line endings: many interleaved visitors,
 * several search engines (subdomains, country TLDs), percent-encoded and
 * mixed-case keywords, multi-product purchases, event_list traps (11, 12,
 * 100, event1, 1=5), look-alike hosts, non-search referrers and a few
 * malformed lines (about 0.02%). */
#include "autoconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_rng.h"

#define LINE_MAX_LEN 1024
#define ACTIVE 20000         /* concurrent sessions */
#define START_TIME 1254033280

static const char header[] = "hit_time_gmt\tdate_time\tuser_agent\tip\tevent_list\tgeo_city\t"
                             "geo_region\tgeo_country\tpagename\tpage_url\tproduct_list\treferrer";

static const char *const agents[] = {
    "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.9.0.10) Gecko/2009042316 Firefox/3.0.10",
    "\"Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_4_11; en) AppleWebKit/525.27.1 (KHTML, like "
    "Gecko) Version/3.2.1 Safari/525.27.1\"",
    "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0; SLCC1; .NET CLR 2.0.50727)",
    "Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9.0.11) Gecko/2009060309 Ubuntu/9.04 "
    "(jaunty) Firefox/3.0.11",
    "Mozilla/5.0 (iPhone; U; CPU iPhone OS 3_0 like Mac OS X; en-us) AppleWebKit/528.18 "
    "(KHTML, like Gecko) Version/4.0 Mobile/7A341 Safari/528.16",
    "Opera/9.80 (Windows NT 6.0; U; en) Presto/2.2.15 Version/10.00",
    "Mozilla/5.0 (Windows; U; Windows NT 6.1; en-US) AppleWebKit/532.0 (KHTML, like Gecko) "
    "Chrome/3.0.195.21 Safari/532.0",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
};

static const struct {
    const char *city, *region, *country;
} places[] = {
    {"Salem", "OR", "US"},        {"Rochester", "NY", "US"}, {"Salt Lake City", "UT", "US"},
    {"Duncan", "OK", "US"},       {"London", "ENG", "GB"},   {"Sao Paulo", "SP", "BR"},
    {"Moscow", "MOW", "RU"},      {"Berlin", "BE", "DE"},    {"Istanbul", "IST", "TR"},
    {"Toronto", "ON", "CA"},
};

/* Search referrers; the keyword goes at {kw}. */
static const char *const searches[] = {
    "http://www.google.com/search?hl=en&client=firefox-a&rls=org.mozilla%3Aen-US%3Aofficial"
    "&hs=ZzP&q={kw}&aq=f&oq=&aqi=",
    "http://www.google.co.uk/search?q={kw}&ie=utf-8&oe=utf-8",
    "https://www.google.com.br/search?source=hp&q={kw}&btnG=Pesquisar",
    "http://google.de/search?hl=de&q={kw}",
    "http://www.bing.com/search?q={kw}&go=&form=QBLH&qs=n",
    "http://search.yahoo.com/search?p={kw}&toggle=1&cop=mss&ei=UTF-8&fr=yfp-t-701",
    "http://uk.search.yahoo.com/search?p={kw}&fr=sfp",
    "https://duckduckgo.com/?q={kw}&t=h_",
    "http://search.msn.com/results.aspx?q={kw}&form=MSNH",
    "http://www.ask.com/web?q={kw}&qsrc=0&o=0&l=dir",
    "http://www.baidu.com/s?ie=utf-8&wd={kw}",
    "http://yandex.ru/yandsearch?text={kw}&lr=213",
    "HTTPS://WWW.GOOGLE.COM/search?Q=ignored&q={kw}",
    "http://www.google.com/search?q=&q={kw}",
    "http://www.google.com/url?sa=t&amp;q={kw}&source=web",
    "http://user@www.bing.com:80/search?q={kw}#results",
};

/* Referrers that are not search hits. */
static const char *const others[] = {
    "http://www.esshopzilla.com",
    "http://www.esshopzilla.com/search/?k=Ipod",
    "http://www.facebook.com/home.php",
    "http://news.example.org/reviews/mp3-players.html",
    "http://www.google.com/",
    "http://www.google.com.evil.example/search?q=ipod",
    "http://notgoogle.com/search?q=zune",
    "http://bing.com.evil.example/?q=cheap+zune",
    "ftp://www.google.com/search?q=ipod",
    "www.bing.com/search?q=zune",
    "http://www.google.com/#q=ipod",
    "",
};

static const char *const keywords[] = {
    "Ipod", "ipod", "IPOD%20", "ipod+nano", "Ipod%20Touch", "zune", "Zune+32GB",
    "cd+player", "CD%20Player", "mp3%2Bplayer", "headphones", "noise+cancelling+headphones",
    "s%C3%A9ance+speaker", "%D0%BF%D0%BB%D0%B5%D0%B5%D1%80", "usb%09cable", "tv++stand",
    "laptop%20bag", "Camera", "digital+camera+16MP", "charger", "%%41dapter", "ipod%0Acase",
};

static const struct {
    const char *name, *page;
    const char *price;
} products[] = {
    {"Ipod - Nano - 8GB", "as23233", "190"},    {"Ipod - Touch - 32GB", "as32213", "290"},
    {"Zune - 32GB", "asfe13", "250"},           {"CD Player", "cd1001", "49.99"},
    {"Headphones", "hp2002", "19.95"},          {"Camera", "cm3003", "249.99"},
    {"USB Cable", "us4004", "4.5"},             {"Charger", "ch5005", ".99"},
    {"Laptop Bag", "lb6006", "35."},            {"Speaker", "sp7007", "0.005"},
};

typedef struct session {
    char ip[16];
    unsigned agent, place;
    int step, length, buys;
    char last_url[128];
} session;

typedef struct line {
    char buf[LINE_MAX_LEN * 2];
    size_t len;
} line;

static void add(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < sizeof l->buf - l->len ? (size_t)n : sizeof l->buf - l->len - 1;
}

static void new_session(rng *r, session *s, const session *pool, size_t npool)
{
    /* One in eight comes back with the ip of another session. */
    if (npool && below(r, 8) == 0)
        memcpy(s->ip, pool[below(r, (unsigned)npool)].ip, sizeof s->ip);
    else
        snprintf(s->ip, sizeof s->ip, "%u.%u.%u.%u", 1 + below(r, 223), below(r, 256),
                 below(r, 256), 1 + below(r, 254));
    s->agent = below(r, sizeof agents / sizeof agents[0]);
    s->place = below(r, sizeof places / sizeof places[0]);
    s->step = 0;
    s->length = 2 + (int)below(r, 14);
    s->buys = below(r, 4) == 0;
    snprintf(s->last_url, sizeof s->last_url, "http://www.esshopzilla.com");
}

static const char *const words[] = {
    "red", "blue", "black", "white", "silver", "cheap", "best", "new", "used", "mini",
    "pro", "wireless", "portable", "refurbished", "Deals", "Sale", "ipod", "zune", "mp3",
    "player", "case", "cover", "dock", "cable", "speaker", "earbuds", "headset", "radio",
    "camera", "lens", "tripod", "battery", "charger", "adapter", "memory", "card", "drive",
    "laptop", "tablet", "phone", "watch", "tv", "stand", "mount", "remote", "gift", "review",
    "price", "2009", "8gb", "16gb", "32gb", "64gb", "usb", "hdmi", "bluetooth", "stereo",
    "nano", "touch", "classic", "shuffle", "video", "audio", "sport",
};

/* Half the searches use the common keywords above, the rest a long tail
 * of two-word phrases (about 4000 of them), so the (domain, keyword)
 * table sees realistic variety. */
static void search_referrer(rng *r, line *l)
{
    const char *tpl = PICK(r, searches);
    const char *at = strstr(tpl, "{kw}");
    add(l, "%.*s", (int)(at - tpl), tpl);
    if (below(r, 2))
        add(l, "%s", PICK(r, keywords));
    else
        add(l, "%s%s%s", PICK(r, words), below(r, 4) ? "+" : "%20", PICK(r, words));
    add(l, "%s", at + 4);
}

static const char *event_trap(rng *r)
{
    static const char *const traps[] = {"11", "12", "100", "event1", "10", "2,12", "11,200=3"};
    return PICK(r, traps);
}

/* One hit of session s at time t. */
static void hit(rng *r, session *s, uint64_t t, line *l)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    l->len = 0;
    add(l, "%" PRIu64 "\t%04d-%02d-%02d %02d:%02d:%02d\t%s\t%s\t", t, tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, agents[s->agent], s->ip);

    int last = s->step == s->length - 1;
    int purchase = last && s->buys;
    char url[128], products_buf[400] = "";
    const char *events, *page;
    unsigned pr = below(r, sizeof products / sizeof products[0]);
    if (purchase) {
        static const char *const buy_events[] = {"1", "1", "1", " 1 ", "1=5", "2,1", "1,200=4"};
        events = PICK(r, buy_events);
        page = "Order Complete";
        snprintf(url, sizeof url, "https://www.esshopzilla.com/checkout/?a=complete");
        size_t np = 1 + below(r, 4), used = 0;
        for (size_t i = 0; i < np; i++) {
            unsigned p = below(r, sizeof products / sizeof products[0]);
            const char *price = below(r, 5000) == 0 ? "12abc" : products[p].price;
            used += (size_t)snprintf(products_buf + used, sizeof products_buf - used,
                                     "%sElectronics;%s;%u;%s;;", i ? "," : "", products[p].name,
                                     1 + below(r, 3), price);
        }
    } else if (s->step == 0) {
        events = "";
        page = "Home";
        snprintf(url, sizeof url, "http://www.esshopzilla.com");
    } else if (below(r, 3) == 0) {
        events = event_trap(r);
        page = "Shopping Cart";
        snprintf(url, sizeof url, "http://www.esshopzilla.com/cart/");
        /* revenue on a hit without the purchase event must be ignored */
        snprintf(products_buf, sizeof products_buf, "Electronics;%s;1;%s;;", products[pr].name,
                 products[pr].price);
    } else {
        events = below(r, 2) ? "2" : "";
        page = products[pr].name;
        snprintf(url, sizeof url, "http://www.esshopzilla.com/product/?pid=%s", products[pr].page);
        if (*events)
            snprintf(products_buf, sizeof products_buf, "Electronics;%s;1;;", products[pr].name);
    }
    add(l, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t", events, places[s->place].city,
        places[s->place].region, places[s->place].country, page, url, products_buf);

    unsigned dice = below(r, 100);
    if (s->step == 0 && dice < 50)
        search_referrer(r, l);
    else if (s->step == 0 || dice < 3)
        add(l, "%s", PICK(r, others));
    else if (dice < 6)
        search_referrer(r, l); /* a second search within the visit */
    else
        add(l, "%s", s->last_url);
    add(l, "\r\n");
    snprintf(s->last_url, sizeof s->last_url, "%s", url);
    s->step++;
}

/* About 2 in 10000 lines are broken in one of the three ways the spec
 * names. */
static void maybe_break(rng *r, line *l)
{
    if (below(r, 5000) != 0)
        return;
    switch (below(r, 3)) {
    case 0: { /* drop the last field: one field too few */
        char *tab = memrchr(l->buf, '\t', l->len);
        memcpy(tab, "\r\n", 2);
        l->len = (size_t)(tab - l->buf) + 2;
        break;
    }
    case 1: /* hit_time_gmt not an integer */
        l->buf[3] = 'x';
        break;
    default: { /* empty ip: the 4th field */
        char *p = l->buf;
        for (int i = 0; i < 3; i++)
            p = memchr(p, '\t', l->len - (size_t)(p - l->buf)) + 1;
        char *end = memchr(p, '\t', l->len - (size_t)(p - l->buf));
        memmove(p, end, l->len - (size_t)(end - l->buf));
        l->len -= (size_t)(end - p);
    }
    }
}

/* The last line, padded in its page_url to exactly `len` bytes. */
static void padded_line(uint64_t t, size_t len, line *l)
{
    l->len = 0;
    add(l, "%" PRIu64 "\t2009-09-27 06:34:40\tMozilla/5.0\t10.0.0.1\t\tSalem\tOR\tUS\tHome\t"
           "http://www.esshopzilla.com/?pad=", t);
    size_t tail = strlen("\t\thttp://www.esshopzilla.com\r\n");
    while (l->len + tail < len)
        l->buf[l->len++] = 'x';
    add(l, "\t\thttp://www.esshopzilla.com\r\n");
}

static int usage(void)
{
    fprintf(stderr, "usage: gen_hits --bytes N [--seed S] [--out FILE]   (N >= 4096)\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned long long bytes = 0, seed = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
            bytes = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            path = argv[++i];
        else
            return usage();
    }
    if (bytes < 4096)
        return usage();
    FILE *out = path ? fopen(path, "wb") : stdout;
    if (!out) {
        fprintf(stderr, "gen_hits: %s: %s\n", path, strerror(errno));
        return 1;
    }
    static char obuf[1 << 20];
    setvbuf(out, obuf, _IOFBF, sizeof obuf);

    rng r = {seed};
    session *pool = calloc(ACTIVE, sizeof *pool);
    line *l = malloc(sizeof *l);
    if (!pool || !l)
        return 1;
    for (size_t i = 0; i < ACTIVE; i++)
        new_session(&r, &pool[i], pool, i);

    uint64_t t = START_TIME;
    unsigned long long left = bytes;
    fprintf(out, "%s\r\n", header);
    left -= sizeof header - 1 + 2;
    while (left >= 2 * LINE_MAX_LEN) {
        /* a few hits a second; pauses long enough to end visits happen
         * because each session is picked rarely */
        t += below(&r, 30) == 0;
        session *s = &pool[below(&r, ACTIVE)];
        hit(&r, s, t, l);
        if (s->step >= s->length)
            new_session(&r, s, pool, ACTIVE);
        maybe_break(&r, l);
        if (l->len >= LINE_MAX_LEN)
            continue; /* cannot happen with these tables; keeps the size exact */
        fwrite(l->buf, 1, l->len, out);
        left -= l->len;
    }
    padded_line(t, (size_t)left, l);
    fwrite(l->buf, 1, l->len, out);
    free(pool);
    free(l);
    if (fflush(out) != 0 || (path && fclose(out) != 0)) {
        fprintf(stderr, "gen_hits: write failed: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
