/* rev_engines.h — the search engine table: which referrer hosts are
 * external search engines, with which keyword parameter, and how a host
 * is shortened to the reported "Search Engine Domain".
 *
 * Host pattern syntax (see docs/plugins/revenue.md):
 *   "bing.com"        bing.com and every subdomain of it (x.bing.com)
 *   "google.<tld>"    google.T and its subdomains, T being one label of
 *                     2-3 ASCII letters (com, de) or co.CC / com.CC with CC
 *                     two letters (co.uk, com.br)
 * Labels are [a-z0-9_-]+ (matched case-insensitively), `<tld>` may only
 * be the last label. */
#ifndef REV_ENGINES_H
#define REV_ENGINES_H

#include <stddef.h>

typedef struct rev_pattern {
    char *base;      /* lower case, e.g. "bing.com" or "google" */
    size_t base_len;
    int any_tld;     /* the pattern ended in ".<tld>" */
} rev_pattern;

typedef struct rev_engine {
    char *name;
    char *param;     /* keyword parameter name, compared undecoded */
    size_t param_len;
    rev_pattern *patterns;
    size_t npatterns;
} rev_engine;

typedef struct rev_engines {
    rev_engine *v;
    size_t n;
} rev_engines;

#define REV_ENGINES_INIT {NULL, 0}

/* Append an engine (no hosts yet). 0, or -1 with a message in err. */
int rev_engines_add(rev_engines *t, const char *name, const char *param, char *err,
                    size_t errlen);
/* Add a host pattern to the engine appended last. 0, or -1 with err. */
int rev_engines_add_host(rev_engines *t, const char *pattern, char *err, size_t errlen);
/* The default table of the spec (google, bing, yahoo, ...). 0 or -1. */
int rev_engines_set_default(rev_engines *t, char *err, size_t errlen);
void rev_engines_free(rev_engines *t);

/* The first engine (in table order) with a pattern matching `host`, which
 * must already be lower-cased without port or trailing dot; or NULL. */
const rev_engine *rev_engines_match(const rev_engines *t, const char *host, size_t len);

/* The reported domain: leading "www." and "search." labels removed while
 * more than two labels remain. Returns the offset into `host`. */
size_t rev_domain_shorten(const char *host, size_t len);

#endif
