/* rev_url.h — the little URL parsing the revenue report needs: is a
 * referrer an http(s) URL, what is its host, where is its query string. */
#ifndef REV_URL_H
#define REV_URL_H

#include <stddef.h>

typedef struct rev_url {
    const char *authority; /* between "//" and the first '/', '?' or '#' */
    size_t authority_len;
    const char *query;     /* after the '?' up to any '#'; NULL when none */
    size_t query_len;
} rev_url;

/* 0 when s[0..n) starts with "http://" or "https://" (any case), -1
 * otherwise. Fills `u` with slices of `s`. */
int rev_url_split(const char *s, size_t n, rev_url *u);

/* The host of an authority: without "user@" (up to the last '@') and
 * ":port", one trailing '.' removed, ASCII lower-cased, into buf[0..cap).
 * Returns its length, or -1 when there is no usable host: empty, longer
 * than `cap`, an IP-literal ("[...]"), or holding a space, control byte or
 * DEL. */
long rev_url_host(const char *auth, size_t n, char *buf, size_t cap);

#endif
