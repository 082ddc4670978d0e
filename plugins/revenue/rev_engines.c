/* rev_engines.c — see rev_engines.h. */
#include "autoconfig.h"

#include "rev_engines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *host, *param;
} default_engines[] = {
    {"google", "google.<tld>", "q"},     {"bing", "bing.com", "q"},
    {"yahoo", "yahoo.com", "p"},         {"duckduckgo", "duckduckgo.com", "q"},
    {"msn", "msn.com", "q"},             {"ask", "ask.com", "q"},
    {"baidu", "baidu.com", "wd"},        {"yandex", "yandex.<tld>", "text"},
};

#define TLD_SUFFIX ".<tld>"

static char *dup_lower(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    d[n] = '\0';
    return d;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static int is_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* "a.b.c": non-empty labels of [A-Za-z0-9_-]. */
static int valid_labels(const char *s, size_t n)
{
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (is_label_char(s[i])) {
            label++;
        } else {
            return 0;
        }
    }
    return label > 0;
}

/* A keyword parameter name: compared undecoded, so it cannot contain the
 * characters that delimit query pieces. */
static int valid_param(const char *p)
{
    if (!*p)
        return 0;
    for (; *p; p++)
        if (*p == '&' || *p == '=' || *p == '#' || (unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

int rev_engines_add(rev_engines *t, const char *name, const char *param, char *err,
                    size_t errlen)
{
    if (!*name) {
        snprintf(err, errlen, "an engine needs a non-empty name");
        return -1;
    }
    if (!valid_param(param)) {
        snprintf(err, errlen,
                 "engine '%s': param '%s' must be non-empty without '&', '=', '#', "
                 "spaces or control characters",
                 name, param);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->v[i].name, name) == 0) {
            snprintf(err, errlen, "engine '%s' is listed twice", name);
            return -1;
        }
    }
    rev_engine *v = realloc(t->v, (t->n + 1) * sizeof *v);
    if (!v)
        goto oom;
    t->v = v;
    rev_engine *e = &t->v[t->n];
    memset(e, 0, sizeof *e);
    e->name = dup_str(name);
    e->param = dup_str(param);
    if (!e->name || !e->param) {
        free(e->name);
        free(e->param);
        goto oom;
    }
    e->param_len = strlen(param);
    t->n++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int rev_engines_add_host(rev_engines *t, const char *pattern, char *err, size_t errlen)
{
    if (t->n == 0) {
        snprintf(err, errlen, "host pattern '%s' without an engine", pattern);
        return -1;
    }
    rev_engine *e = &t->v[t->n - 1];
    size_t n = strlen(pattern), sl = strlen(TLD_SUFFIX);
    int any_tld = n > sl && strcmp(pattern + n - sl, TLD_SUFFIX) == 0;
    size_t base_len = any_tld ? n - sl : n;
    if (!valid_labels(pattern, base_len)) {
        snprintf(err, errlen,
                 "engine '%s': bad host pattern '%s' (expected labels of letters, digits, "
                 "'-' or '_' separated by '.', optionally ending in '.<tld>', e.g. "
                 "\"bing.com\" or \"google.<tld>\")",
                 e->name, pattern);
        return -1;
    }
    rev_pattern *v = realloc(e->patterns, (e->npatterns + 1) * sizeof *v);
    if (!v)
        goto oom;
    e->patterns = v;
    char *base = dup_lower(pattern, base_len);
    if (!base)
        goto oom;
    e->patterns[e->npatterns].base = base;
    e->patterns[e->npatterns].base_len = base_len;
    e->patterns[e->npatterns].any_tld = any_tld;
    e->npatterns++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int rev_engines_set_default(rev_engines *t, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof default_engines / sizeof default_engines[0]; i++) {
        if (rev_engines_add(t, default_engines[i].name, default_engines[i].param, err, errlen) ||
            rev_engines_add_host(t, default_engines[i].host, err, errlen))
            return -1;
    }
    return 0;
}

void rev_engines_free(rev_engines *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = 0; j < t->v[i].npatterns; j++)
            free(t->v[i].patterns[j].base);
        free(t->v[i].patterns);
        free(t->v[i].name);
        free(t->v[i].param);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

/* host[0..n) is `base` or a subdomain of it. */
static int is_domain_or_sub(const char *host, size_t n, const char *base, size_t blen)
{
    if (n < blen || memcmp(host + n - blen, base, blen) != 0)
        return 0;
    return n == blen || host[n - blen - 1] == '.';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Start of the last label of host[0..n). */
static size_t last_label(const char *host, size_t n)
{
    size_t i = n;
    while (i > 0 && host[i - 1] != '.')
        i--;
    return i;
}

/* The lengths of host[0..n) left after removing a `<tld>`: rest[0] for a
 * single 2-3 letter label, rest[1] for co.CC / com.CC; (size_t)-1 when that
 * form does not apply. */
static void tld_rests(const char *host, size_t n, size_t rest[2])
{
    rest[0] = rest[1] = (size_t)-1;
    size_t l1 = last_label(host, n);
    size_t len1 = n - l1;
    if (l1 == 0 || len1 < 2 || len1 > 3)
        return;
    for (size_t i = l1; i < n; i++)
        if (!is_alpha(host[i]))
            return;
    rest[0] = l1 - 1;
    if (len1 != 2)
        return;
    size_t l2 = last_label(host, l1 - 1);
    size_t len2 = l1 - 1 - l2;
    if (l2 == 0)
        return;
    if ((len2 == 2 && memcmp(host + l2, "co", 2) == 0) ||
        (len2 == 3 && memcmp(host + l2, "com", 3) == 0))
        rest[1] = l2 - 1;
}

const rev_engine *rev_engines_match(const rev_engines *t, const char *host, size_t len)
{
    size_t rest[2];
    int have_rest = 0;

    for (size_t i = 0; i < t->n; i++) {
        const rev_engine *e = &t->v[i];
        for (size_t j = 0; j < e->npatterns; j++) {
            const rev_pattern *p = &e->patterns[j];
            if (!p->any_tld) {
                if (is_domain_or_sub(host, len, p->base, p->base_len))
                    return e;
                continue;
            }
            if (!have_rest) {
                tld_rests(host, len, rest);
                have_rest = 1;
            }
            for (int k = 0; k < 2; k++)
                if (rest[k] != (size_t)-1 && is_domain_or_sub(host, rest[k], p->base, p->base_len))
                    return e;
        }
    }
    return NULL;
}

static size_t count_labels(const char *s, size_t n)
{
    size_t labels = 1;
    for (const char *p = s; (p = memchr(p, '.', n - (size_t)(p - s))) != NULL; p++)
        labels++;
    return labels;
}

size_t rev_domain_shorten(const char *host, size_t len)
{
    size_t off = 0, labels = count_labels(host, len);
    while (labels > 2) {
        size_t rest = len - off;
        if (rest > 4 && memcmp(host + off, "www.", 4) == 0)
            off += 4;
        else if (rest > 7 && memcmp(host + off, "search.", 7) == 0)
            off += 7;
        else
            break;
        labels--;
    }
    return off;
}
