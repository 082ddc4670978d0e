/* test_http.c — the one HTTP client (engine/net/http.c) speaks http and
 * https only (issue 12, finding 6: libcurl's protocols were not
 * restricted, so a URL taken from a message — an SNS SubscribeURL, a
 * webhook target — could have read a local file through file:// or
 * reached another service through gopher://, dict://, ftp://...). On main a
 * GET on file:// returned the file.
 *
 * And an answer whose connection closes inside its header block is a cut
 * answer, not a response (issue 12, found by the poll cycle's fault
 * matrix, tests/intake/poll_fault_matrix.sh): libcurl 7.88 returns
 * CURLE_OK with the status line and the headers that arrived, so a HEAD
 * cut so lost its ETag and size - the GET that followed went without
 * If-Match - and a GET of a small object looked empty. A forked server
 * answers each connection with one canned answer. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

/* The answers of the forked server, one per connection, in order. */
static const char *const answers[] = {
    /* whole, with a body */
    "HTTP/1.1 200 OK\r\nETag: \"e1\"\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    /* a GET's answer cut after two of its headers */
    "HTTP/1.1 200 OK\r\nETag: \"e1\"\r\nServer: x\r\n",
    /* a HEAD's answer cut after the status line */
    "HTTP/1.1 200 OK\r\n",
    /* whole, the body delimited by the connection's end: still a response */
    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc",
    /* a HEAD's whole answer */
    "HTTP/1.1 200 OK\r\nETag: \"e1\"\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
};
#define N_ANSWERS (sizeof answers / sizeof *answers)

static void serve(int lfd)
{
    alarm(60); /* a test that failed half way must not leave this behind */
    for (size_t i = 0; i < N_ANSWERS; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            _exit(1);
        char buf[4096];
        size_t have = 0;
        while (have < sizeof buf - 1) {
            ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
            if (n <= 0)
                break;
            have += (size_t)n;
            buf[have] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        }
        size_t len = strlen(answers[i]);
        if (write(fd, answers[i], len) != (ssize_t)len)
            _exit(1);
        shutdown(fd, SHUT_RDWR);
        close(fd);
    }
    _exit(0);
}

static int ask(http_client *c, const char *method, unsigned port, http_response *resp)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/o", port);
    http_request req = {.method = method, .url = url, .timeout_ms = 30000};
    return http_perform(c, &req, resp);
}

/* A listening socket on 127.0.0.1, on a port the kernel picks (*port);
 * -1 (a failed test) when there is none. */
static int loopback_listener(unsigned *port)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 8) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        ok(0, "a loopback server");
        if (lfd >= 0)
            close(lfd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return lfd;
}

static void cut_answers(http_client *c)
{
    unsigned port;
    int lfd = loopback_listener(&port);
    if (lfd < 0)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        serve(lfd);
    close(lfd);

    http_response r;
    int rc = ask(c, "GET", port, &r);
    is_int(rc, 0, "a whole answer: a response");
    is_int(r.status, 200, "its status");
    is_str(r.body.buf, "hello", "its body");
    is_str(http_response_header(&r, "etag"), "\"e1\"", "its ETag");
    http_response_free(&r);

    rc = ask(c, "GET", port, &r);
    is_int(rc, -1, "a GET's answer cut inside its headers: a transport failure");
    ok(r.transport_error != 0, "a transport error");
    is_int(r.status, 0, "no status: no response arrived");
    ok(strstr(r.error, "inside the response headers") != NULL, "the error says where: %s",
       r.error);
    http_response_free(&r);

    rc = ask(c, "HEAD", port, &r);
    is_int(rc, -1, "a HEAD's answer cut after the status line: a transport failure");
    is_int(r.status, 0, "no status");
    http_response_free(&r);

    rc = ask(c, "GET", port, &r);
    is_int(rc, 0, "a body that ends with the connection: a response");
    is_str(r.body.buf, "abc", "its body");
    http_response_free(&r);

    rc = ask(c, "HEAD", port, &r);
    is_int(rc, 0, "a HEAD's whole answer: a response");
    is_str(http_response_header(&r, "content-length"), "5", "its size");
    http_response_free(&r);

    int status = -1;
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the server gave every answer");
}

/* Reads one request with its body (Content-Length) into buf; the body's
 * offset, or -1 when the connection ended first. */
static long read_request(int fd, char *buf, size_t cap)
{
    size_t have = 0;
    for (;;) {
        char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "content-length:");
        if (end && have >= (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0))
            return end + 4 - buf;
        ssize_t n = have < cap - 1 ? read(fd, buf + have, cap - 1 - have) : 0;
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
    }
}

/* Connection 1: answers the first request and keeps the connection, then
 * reads the second request and closes without an answer. Connection 2:
 * echoes the body of the request it gets. Exits 0 when the resent body
 * was whole. */
static void serve_keepalive(int lfd)
{
    alarm(60);
    char buf[4096] = "";
    int fd = accept(lfd, NULL, NULL);
    const char *ok1 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    if (fd < 0 || read_request(fd, buf, sizeof buf) < 0 ||
        write(fd, ok1, strlen(ok1)) != (ssize_t)strlen(ok1))
        _exit(1);
    memset(buf, 0, sizeof buf);
    read_request(fd, buf, sizeof buf); /* the second request, not answered */
    shutdown(fd, SHUT_RDWR);
    close(fd);
    memset(buf, 0, sizeof buf);
    fd = accept(lfd, NULL, NULL);
    long at = fd < 0 ? -1 : read_request(fd, buf, sizeof buf);
    if (at < 0)
        _exit(1);
    char answer[4200];
    int len = snprintf(answer, sizeof answer,
                       "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                       strlen(buf + at), buf + at);
    if (write(fd, answer, (size_t)len) != len)
        _exit(1);
    close(fd);
    _exit(strcmp(buf + at, "the second body") == 0 ? 0 : 2);
}

static void resend_on_new_connection(void)
{
    unsigned port;
    int lfd = loopback_listener(&port);
    if (lfd < 0)
        return;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        serve_keepalive(lfd);
    close(lfd);
    http_client *c = http_client_new(NULL);
    const char *bodies[] = {"the first body", "the second body"};
    for (int i = 0; i < 2; i++) {
        http_response r = {0};
        http_request req = {.method = "POST", .url = url, .body = bodies[i],
                            .body_len = strlen(bodies[i]), .timeout_ms = 30000};
        int rc = http_perform(c, &req, &r);
        is_int(rc, 0, "POST %d: a response%s%s", i + 1, rc ? ": " : "", rc ? r.error : "");
        is_int(r.status, 200, "POST %d: its status", i + 1);
        if (i == 1)
            is_str(r.body.buf, "the second body",
                   "the body sent again whole on a new connection");
        http_response_free(&r);
    }
    http_client_free(c);
    int status = -1;
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "the server got the second request twice, the second time whole");
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
    cut_answers(c);
    http_client_free(c);
    resend_on_new_connection();
    unlink(path);
    return done_testing();
}
