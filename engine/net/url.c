/* url.c — URLs through libcurl's CURLU (url.h). */
#include "autoconfig.h"
#include "net/url.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"

/* A part as a new string, or NULL when the URL has none. */
static char *part(CURLU *h, CURLUPart what, unsigned flags)
{
    char *v = NULL;
    if (curl_url_get(h, what, &v, flags) != CURLUE_OK || !v)
        return NULL;
    char *out = xstrdup(v);
    curl_free(v);
    return out;
}

static void lower(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static int fill(CURLU *h, url_parts *u)
{
    u->scheme = part(h, CURLUPART_SCHEME, 0);
    char *host = part(h, CURLUPART_HOST, 0);
    if (!u->scheme || !host || !*host) {
        free(host);
        return -1;
    }
    lower(u->scheme);
    lower(host);
    size_t hl = strlen(host);
    int v6 = hl >= 2 && host[0] == '[' && host[hl - 1] == ']';
    u->host = v6 ? xstrndup(host + 1, hl - 2) : xstrdup(host);
    char *port = part(h, CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
    u->port = port ? atoi(port) : 0;
    u->authority = port ? xasprintf("%s:%s", host, port) : xstrdup(host);
    free(port);
    free(host);
    u->path = part(h, CURLUPART_PATH, 0);
    if (!u->path || !*u->path) {
        free(u->path);
        u->path = xstrdup("/");
    }
    u->query = part(h, CURLUPART_QUERY, 0);
    char *user = part(h, CURLUPART_USER, 0), *pass = part(h, CURLUPART_PASSWORD, 0);
    u->userinfo = user || pass;
    free(user);
    free(pass);
    char *frag = part(h, CURLUPART_FRAGMENT, 0);
    u->fragment = frag != NULL;
    free(frag);
    return 0;
}

int url_parse(const char *url, url_parts *out)
{
    memset(out, 0, sizeof *out);
    if (!url || (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0))
        return -1;
    CURLU *h = curl_url();
    if (!h)
        return -1;
    /* the path exactly as written: what is signed is what is sent */
    int rc = curl_url_set(h, CURLUPART_URL, url, CURLU_PATH_AS_IS) == CURLUE_OK ? fill(h, out)
                                                                                : -1;
    curl_url_cleanup(h);
    if (rc != 0)
        url_parts_free(out);
    return rc;
}

void url_parts_free(url_parts *u)
{
    free(u->scheme);
    free(u->host);
    free(u->authority);
    free(u->path);
    free(u->query);
    memset(u, 0, sizeof *u);
}

char *url_origin(const url_parts *u)
{
    return xasprintf("%s://%s", u->scheme, u->authority);
}

char *url_for_message(const char *url)
{
    url_parts u;
    if (url_parse(url, &u) != 0)
        return xstrdup("(unparsable URL)");
    char *s = xasprintf("%s://%s%s", u.scheme, u.authority, strcmp(u.path, "/") ? u.path : "");
    url_parts_free(&u);
    return s;
}
