/* url.h — the one way the engine takes a URL apart: libcurl's URL parser
 * (CURLU), so that what is checked and what libcurl then requests are the
 * same reading of the text. Endpoints from configuration and the
 * environment, queue URLs, certificate URLs and credential endpoints all
 * come through here.
 *
 * Pure functions: thread-safe. */
#ifndef SLUICE_URL_H
#define SLUICE_URL_H

typedef struct url_parts {
    char *scheme;    /* lower case: "https" */
    char *host;      /* lower case, IPv6 without brackets */
    int port;        /* the port written in the URL when not the scheme's
                        default, else 0 */
    char *authority; /* what a Host header says: host (IPv6 in brackets),
                        plus ":port" when port is not 0 */
    char *path;      /* as written (percent-encoded), "/" when empty */
    char *query;     /* without '?'; NULL when there is none */
    int userinfo;    /* the URL carries a user name or password */
    int fragment;    /* the URL carries a #fragment */
} url_parts;

/* Parses an absolute http:// or https:// URL. Returns 0, or -1 (out left
 * empty) when the text is not one. Free with url_parts_free. */
int url_parse(const char *url, url_parts *out);
void url_parts_free(url_parts *u);

/* The URL fit for a message: scheme, authority and path only (no user
 * information, no query). New string; "(unparsable URL)" when it is not
 * one. */
char *url_for_message(const char *url);

/* "scheme://authority" of a parsed URL. New string. */
char *url_origin(const url_parts *u);

#endif
