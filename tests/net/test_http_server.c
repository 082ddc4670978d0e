/* test_http_server.c — the libmicrohttpd glue on a loopback port: routes,
 * 404/405 (with Allow), headers and bodies reaching the handler, the body
 * limit (declared and streamed), the observer, listen address parsing,
 * and 503 on an open connection once draining started. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"
#include "net/http_server.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"

typedef struct observed {
    int last_status;
    int count;
} observed;

static void echo(void *ud, const http_server_request *req, http_server_reply *rep)
{
    (void)ud;
    const char *h = http_server_header(req, "X-Test");
    rep->status = 201;
    rep->content_type = "text/plain";
    sb_addf(&rep->body, "%s %s %zu [%.*s] x-test=%s", req->method, req->path, req->body_len,
            (int)req->body_len, req->body, h ? h : "-");
    http_server_reply_header(rep, "X-Reply", "yes");
}

static void observe(void *ud, const http_server_request *req, int status)
{
    observed *o = ud;
    (void)req;
    o->last_status = status;
    o->count++;
}

static const http_route routes[] = {
    {"POST", "/echo", echo},
    {"PUT", "/echo", echo},
    {"GET", "/get", echo},
};

static long request(http_client *c, const char *method, unsigned port, const char *path,
                    const char *body, strbuf *out, http_response *resp)
{
    char *url = xasprintf("http://127.0.0.1:%u%s", port, path);
    http_headers h = {0};
    http_headers_add(&h, "X-Test", "hello");
    http_request req = {.method = method, .url = url, .headers = &h, .body = body,
                        .body_len = body ? strlen(body) : 0, .timeout_ms = 60000};
    long status = http_perform(c, &req, resp) == 0 ? resp->status : -1;
    sb_reset(out);
    sb_add(out, resp->body.buf ? resp->body.buf : "", resp->body.len);
    http_headers_free(&h);
    free(url);
    return status;
}

static void test_parse_listen(void)
{
    char *host;
    unsigned port;
    sl_error err = {0};
    is_int(http_server_parse_listen("127.0.0.1:8080", &host, &port, &err), 0, "host:port");
    is_str(host, "127.0.0.1", "host");
    is_int(port, 8080, "port");
    free(host);
    is_int(http_server_parse_listen("[::1]:0", &host, &port, &err), 0, "[v6]:port");
    is_str(host, "::1", "v6 host without brackets");
    free(host);
    is_int(http_server_parse_listen(":9000", &host, &port, &err), 0, ":port");
    is_str(host, "0.0.0.0", "empty host means every IPv4 interface");
    free(host);
    is_int(http_server_parse_listen("localhost", &host, &port, &err), -1, "no port: error");
    ok(strstr(err.msg, "HOST:PORT") != NULL, "error says the form: %s", err.msg);
    sl_error e2 = {0};
    is_int(http_server_parse_listen("a:65536", &host, &port, &e2), -1, "port out of range");
    sl_error e3 = {0};
    is_int(http_server_parse_listen("[::1:80", &host, &port, &e3), -1, "unclosed bracket");
}

int main(void)
{
    test_parse_listen();

    observed obs = {0};
    http_server_options o = {.listen = "127.0.0.1:0", .threads = 2, .max_body = 64,
                             .routes = routes, .n_routes = 3, .ud = &obs, .observer = observe};
    sl_error err = {0};
    http_server *srv = http_server_start(&o, &err);
    ok(srv != NULL, "server starts on a free port: %s", err.msg);
    if (!srv)
        return done_testing();
    unsigned port = http_server_port(srv);
    ok(port > 0, "port 0 resolves to a real port (%u)", port);

    http_client *c = http_client_new(NULL);
    strbuf body = STRBUF_INIT;
    http_response r = {0};

    is_int(request(c, "POST", port, "/echo", "abc", &body, &r), 201, "POST /echo: handler status");
    is_str(sb_str(&body), "POST /echo 3 [abc] x-test=hello", "method, path, body, header");
    is_str(http_response_header(&r, "x-reply"), "yes", "handler's response header");
    is_str(http_response_header(&r, "content-type"), "text/plain", "handler's content type");
    is_int(obs.last_status, 201, "observer saw 201");
    http_response_free(&r);

    is_int(request(c, "GET", port, "/get?x=1", NULL, &body, &r), 201, "query string ignored");
    is_str(sb_str(&body), "GET /get 0 [] x-test=hello", "path without the query, empty body");
    http_response_free(&r);

    is_int(request(c, "GET", port, "/nope", NULL, &body, &r), 404, "unknown path: 404");
    is_str(sb_str(&body), "{\"error\":\"no such path\"}\n", "404 body");
    http_response_free(&r);

    is_int(request(c, "GET", port, "/echo", NULL, &body, &r), 405, "wrong method: 405");
    is_str(http_response_header(&r, "allow"), "POST, PUT", "Allow lists the methods");
    http_response_free(&r);

    char big[100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    is_int(request(c, "POST", port, "/echo", big, &body, &r), 413, "99 bytes over a 64 limit: 413");
    is_str(sb_str(&body), "{\"error\":\"request body too large\"}\n", "413 body");
    is_int(obs.last_status, 413, "observer saw 413");
    http_response_free(&r);

    char exact[65];
    memset(exact, 'y', 64);
    exact[64] = '\0';
    is_int(request(c, "POST", port, "/echo", exact, &body, &r), 201, "exactly the limit: accepted");
    ok(strstr(sb_str(&body), " 64 [") != NULL, "all 64 bytes arrived");
    http_response_free(&r);

    /* Keep one connection open, drain, then use it: 503. */
    is_int(request(c, "GET", port, "/get", NULL, &body, &r), 201, "keep-alive connection open");
    http_response_free(&r);
    int before = obs.count;
    http_server_drain(srv);
    long st = request(c, "GET", port, "/get", NULL, &body, &r);
    ok(st == 503 || st == -1, "after drain: 503 on an open connection, or refused (%ld)", st);
    if (st == 503)
        is_str(sb_str(&body), "{\"error\":\"shutting down\"}\n", "503 body");
    else
        ok(obs.count == before, "refused without reaching a handler");
    http_response_free(&r);
    http_server_stop(srv);

    sl_error e2 = {0};
    http_server_options bad = o;
    bad.listen = "256.1.1.1:1";
    ok(http_server_start(&bad, &e2) == NULL, "an impossible address is an error");
    ok(strstr(e2.msg, "256.1.1.1") != NULL, "naming the address: %s", e2.msg);

    http_client_free(c);
    sb_free(&body);
    return done_testing();
}
