/* test_url.c — URLs through CURLU (engine/net/url.h): the parts every
 * caller relies on (Host header form, default ports, the path exactly as
 * written, IPv6), and what is refused. */
#include "autoconfig.h"

#include <curl/curl.h>
#include <stdlib.h>

#include "net/url.h"
#include "tap.h"

static void parts(const char *url, const char *scheme, const char *host, int port,
                  const char *authority, const char *path, const char *query)
{
    url_parts u;
    if (!ok(url_parse(url, &u) == 0, "%s parses", url))
        return;
    is_str(u.scheme, scheme, "%s: scheme", url);
    is_str(u.host, host, "%s: host", url);
    is_int(u.port, port, "%s: port", url);
    is_str(u.authority, authority, "%s: authority (the Host header)", url);
    is_str(u.path, path, "%s: path", url);
    is_str(u.query, query, "%s: query", url);
    url_parts_free(&u);
}

static void refused(const char *url, const char *why)
{
    url_parts u;
    ok(url_parse(url, &u) != 0, "refused: %s (%s)", url ? url : "NULL", why);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    parts("https://sqs.eu-west-1.amazonaws.com/123456789012/q", "https",
          "sqs.eu-west-1.amazonaws.com", 0, "sqs.eu-west-1.amazonaws.com", "/123456789012/q",
          NULL);
    parts("HTTP://LocalHost:9000", "http", "localhost", 9000, "localhost:9000", "/", NULL);
    parts("http://127.0.0.1:80/", "http", "127.0.0.1", 0, "127.0.0.1", "/", NULL);
    parts("https://h:443/p", "https", "h", 0, "h", "/p", NULL);
    parts("http://[::1]:4566/base/", "http", "::1", 4566, "[::1]:4566", "/base/", NULL);
    parts("http://h/a%20b/..%2F/../c?x=1&y", "http", "h", 0, "h", "/a%20b/..%2F/../c", "x=1&y");

    url_parts u;
    ok(url_parse("https://user:secret@h/p", &u) == 0 && u.userinfo, "user information is seen");
    url_parts_free(&u);
    ok(url_parse("https://h/p#frag", &u) == 0 && u.fragment, "a fragment is seen");
    url_parts_free(&u);

    refused(NULL, "nothing");
    refused("", "empty");
    refused("ftp://h/p", "not http(s)");
    refused("h/p", "no scheme");
    refused("http://", "no host");
    refused("http://h:99999/", "port out of range");
    refused("http://h:x/", "port not a number");

    char *m = url_for_message("https://user:secret@h:8443/p/q?X-Amz-Signature=abc");
    is_str(m, "https://h:8443/p/q", "a URL for a message has no user, password or query");
    free(m);
    m = url_for_message("not a url");
    is_str(m, "(unparsable URL)", "an unparsable one says so");
    free(m);
    ok(url_parse("http://h:81/x", &u) == 0, "origin source parses");
    m = url_origin(&u);
    is_str(m, "http://h:81", "the origin is scheme and authority");
    free(m);
    url_parts_free(&u);
    curl_global_cleanup();
    return done_testing();
}
