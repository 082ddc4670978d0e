/* fuzz_http.c — the HTTP request path of `serve`: raw bytes on a loopback
 * connection to the embedded server (libmicrohttpd + net/http_server.c:
 * routing, method checks, the body limit, headers), whose POST /events
 * route hands the body to event intake as serve does (so the last two
 * names below are reached only through a routed POST /events).
 * Reaches: on_request, on_completed, http_server_header, event_parse. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/event.h"
#include "fuzz.h"
#include "net/http_server.h"

static http_server *server;
static unsigned port;

static void handle_events(void *ud, const http_server_request *req, http_server_reply *rep)
{
    (void)ud;
    event_batch batch;
    sl_error err = {0};
    http_server_header(req, "x-amz-sns-message-type");
    if (event_parse(req->body, req->body_len, &batch, &err) == 0) {
        sb_addf(&rep->body, "{\"records\":%zu}", batch.count);
        event_batch_free(&batch);
    } else {
        rep->status = 400;
        sb_adds(&rep->body, "{}");
    }
}

static void handle_healthz(void *ud, const http_server_request *req, http_server_reply *rep)
{
    (void)ud;
    (void)req;
    sb_adds(&rep->body, "{\"ok\":true}");
}

static const http_route routes[] = {
    {"POST", "/events", handle_events},
    {"GET", "/healthz", handle_healthz},
};

static void stop_server(void)
{
    http_server_stop(server);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    http_server_options o = {.listen = "127.0.0.1:0", .threads = 2, .max_body = 1 << 16,
                             .idle_timeout_s = 2, .routes = routes,
                             .n_routes = sizeof routes / sizeof routes[0]};
    sl_error err = {0};
    server = http_server_start(&o, &err);
    if (!server)
        abort();
    port = http_server_port(server);
    atexit(stop_server);
    return 0;
}

/* 1 when `buf` holds a whole answer (headers and Content-Length bytes). */
static int answer_complete(const char *buf, size_t len)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    const char *cl = memmem(buf, (size_t)(end - buf), "Content-Length:", 15);
    if (!cl)
        cl = memmem(buf, (size_t)(end - buf), "content-length:", 15);
    size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
    return len - (size_t)(end + 4 - buf) >= body;
}

/* Sends the input and reads what the server answers: until it closes, a
 * whole answer arrived, or 300 ms pass without one. No shutdown
 * of our side: libmicrohttpd drops a request whose client half-closed
 * before it was read. The waits only bound one execution; they decide no
 * outcome. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        abort();
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        abort();
    for (size_t at = 0; at < size;) {
        ssize_t n = send(fd, data + at, size - at, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        at += (size_t)n;
    }
    char buf[1 << 16];
    size_t len = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (len < sizeof buf && poll(&p, 1, 300) > 0) {
        ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n <= 0 || answer_complete(buf, len += (size_t)n))
            break;
    }
    close(fd);
    return 0;
}
