/* test_http.c — the one HTTP client (engine/net/http.c) speaks http and
 * https only (issue 12, finding 6: libcurl's protocols were not
 * restricted, so a URL taken from a message — an SNS SubscribeURL, a
 * webhook target — could have read a local file through file:// or
 * reached another service through gopher://, dict://, ftp://...). On main a
 * GET on file:// returned the file. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/http.h"
#include "tap.h"

static void refused(http_client *c, const char *url, const char *secret)
{
    http_response resp = {0};
    http_request req = {.method = "GET", .url = url, .timeout_ms = 10000};
    int rc = http_perform(c, &req, &resp);
    ok(rc != 0, "%s: refused", url);
    is_int(resp.status, 0, "%s: no response", url);
    ok(!resp.body.buf || !strstr(resp.body.buf, secret), "%s: nothing read", url);
    ok(strstr(resp.error, "rotocol") != NULL, "%s: the error names the protocol: %s", url,
       resp.error);
    http_response_free(&resp);
}

int main(void)
{
    char path[] = "/tmp/sluice-test-http.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, "SECRET-CONTENT\n", 15) != 15) {
        printf("Bail out! cannot write a temporary file\n");
        return 1;
    }
    close(fd);
    http_client *c = http_client_new(NULL);
    if (!ok(c != NULL, "a client"))
        return done_testing();
    char url[256];
    snprintf(url, sizeof url, "file://%s", path);
    refused(c, url, "SECRET");
    /* 127.0.0.1:1: nothing listens there; the protocol check comes first */
    refused(c, "ftp://127.0.0.1:1/x", "SECRET");
    refused(c, "gopher://127.0.0.1:1/x", "SECRET");
    refused(c, "dict://127.0.0.1:1/x", "SECRET");
    http_client_free(c);
    unlink(path);
    return done_testing();
}
