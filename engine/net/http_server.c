/* http_server.c — libmicrohttpd glue (see http_server.h).
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers, then once per chunk of body, then a last time with no
 * data. The per-request state lives in *con_cls and is freed by the
 * completion callback, which MHD calls exactly once per request. */
#include "autoconfig.h"
#include "net/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"

/* The handler's return type changed from int to enum in 0.9.71. */
#if MHD_VERSION >= 0x00097002
#define MHD_RESULT enum MHD_Result
#else
#define MHD_RESULT int
#endif

/* How long a drain waits for requests being received or handled. */
#define DRAIN_GRACE_S 30

struct http_server {
    struct MHD_Daemon *daemon;
    http_server_options opts;
    unsigned port;

    pthread_mutex_t lock; /* guards the two below */
    pthread_cond_t idle;
    int draining;
    long in_flight; /* requests between their headers and completion */
};

typedef struct request_state {
    const http_route *route; /* NULL once an early answer was queued */
    strbuf body;
    int too_large;
    char peer[INET6_ADDRSTRLEN];
} request_state;

/* --- small helpers ------------------------------------------------------- */

const char *http_server_header(const http_server_request *req, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)req->impl, MHD_HEADER_KIND, name);
}

void http_server_reply_header(http_server_reply *rep, const char *name, const char *value)
{
    if (rep->n_headers == HTTP_SERVER_MAX_HEADERS)
        return;
    rep->header_names[rep->n_headers] = name;
    rep->header_values[rep->n_headers] = xstrdup(value);
    rep->n_headers++;
}

static void reply_free(http_server_reply *rep)
{
    sb_free(&rep->body);
    for (size_t i = 0; i < rep->n_headers; i++)
        free(rep->header_values[i]);
}

static void reply_json_error(http_server_reply *rep, int status, const char *message)
{
    rep->status = status;
    rep->content_type = "application/json";
    sb_reset(&rep->body);
    json_t *doc = json_pack("{s:s}", "error", message);
    char *text = json_dumps(doc, JSON_COMPACT);
    sb_adds(&rep->body, text);
    sb_addc(&rep->body, '\n');
    free(text);
    json_decref(doc);
}

static void peer_address(struct MHD_Connection *conn, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, len, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)len);
}

static MHD_RESULT send_reply(http_server *srv, struct MHD_Connection *conn,
                             const http_server_request *req, http_server_reply *rep)
{
    const char *body = rep->body.buf ? rep->body.buf : "";
#if MHD_VERSION >= 0x00097701
    struct MHD_Response *r = MHD_create_response_from_buffer_copy(rep->body.len, body);
#else
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rep->body.len, (void *)body, MHD_RESPMEM_MUST_COPY);
#endif
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rep->content_type ? rep->content_type : "application/json");
    for (size_t i = 0; i < rep->n_headers; i++)
        MHD_add_response_header(r, rep->header_names[i], rep->header_values[i]);
    if (rep->status == 503 || rep->status == 413)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    MHD_RESULT rc = MHD_queue_response(conn, (unsigned)rep->status, r);
    MHD_destroy_response(r);
    if (srv->opts.observer)
        srv->opts.observer(srv->opts.ud, req, rep->status);
    return rc;
}

/* --- routing ------------------------------------------------------------- */

/* The route for method+path; sets *status to 404 or 405 when none. */
static const http_route *find_route(const http_server *srv, const char *method, const char *path,
                                    int *status, strbuf *allow)
{
    int path_known = 0;
    for (size_t i = 0; i < srv->opts.n_routes; i++) {
        const http_route *r = &srv->opts.routes[i];
        if (strcmp(r->path, path) != 0)
            continue;
        if (strcmp(r->method, method) == 0)
            return r;
        if (path_known++)
            sb_adds(allow, ", ");
        sb_adds(allow, r->method);
    }
    *status = path_known ? 405 : 404;
    return NULL;
}

/* Declared sizes over the limit are refused before reading any body. */
static int declared_too_large(const http_server *srv, struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno == ERANGE || (end != cl && n > srv->opts.max_body);
}

/* The first call for a request: decide whether to answer before the body. */
static MHD_RESULT begin_request(http_server *srv, struct MHD_Connection *conn, const char *url,
                                const char *method, request_state *rs)
{
    http_server_request req = {.method = method, .path = url, .body = "", .peer = rs->peer,
                               .impl = conn};
    http_server_reply rep = {.status = 200};
    strbuf allow = STRBUF_INIT;
    int status = 0, draining;

    pthread_mutex_lock(&srv->lock);
    draining = srv->draining;
    pthread_mutex_unlock(&srv->lock);

    rs->route = find_route(srv, method, url, &status, &allow);
    if (draining)
        reply_json_error(&rep, 503, "shutting down");
    else if (!rs->route)
        reply_json_error(&rep, status, status == 404 ? "no such path" : "method not allowed");
    else if (declared_too_large(srv, conn))
        reply_json_error(&rep, 413, "request body too large");
    else {
        sb_free(&allow);
        return MHD_YES; /* wait for the body */
    }
    if (rep.status == 405)
        http_server_reply_header(&rep, MHD_HTTP_HEADER_ALLOW, sb_str(&allow));
    sb_free(&allow);
    rs->route = NULL;
    MHD_RESULT rc = send_reply(srv, conn, &req, &rep);
    reply_free(&rep);
    return rc;
}

static MHD_RESULT finish_request(http_server *srv, struct MHD_Connection *conn, const char *url,
                                 const char *method, request_state *rs)
{
    http_server_request req = {.method = method,
                               .path = url,
                               .body = rs->body.buf ? rs->body.buf : "",
                               .body_len = rs->body.len,
                               .peer = rs->peer,
                               .impl = conn};
    http_server_reply rep = {.status = 200};
    if (rs->too_large)
        reply_json_error(&rep, 413, "request body too large");
    else
        rs->route->fn(srv->opts.ud, &req, &rep);
    MHD_RESULT rc = send_reply(srv, conn, &req, &rep);
    reply_free(&rep);
    return rc;
}

static MHD_RESULT on_request(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size, void **con_cls)
{
    http_server *srv = cls;
    request_state *rs = *con_cls;
    (void)version;

    if (!rs) {
        rs = xcalloc(1, sizeof *rs);
        peer_address(conn, rs->peer, sizeof rs->peer);
        *con_cls = rs;
        pthread_mutex_lock(&srv->lock);
        srv->in_flight++;
        pthread_mutex_unlock(&srv->lock);
        return begin_request(srv, conn, url, method, rs);
    }
    if (!rs->route) {
        *upload_data_size = 0; /* answered early: discard */
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (rs->too_large || rs->body.len + *upload_data_size > srv->opts.max_body) {
            rs->too_large = 1;
            sb_free(&rs->body);
        } else {
            sb_add(&rs->body, upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return finish_request(srv, conn, url, method, rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *srv = cls;
    request_state *rs = *con_cls;
    (void)conn;
    (void)toe;
    if (!rs)
        return;
    sb_free(&rs->body);
    free(rs);
    *con_cls = NULL;
    pthread_mutex_lock(&srv->lock);
    if (--srv->in_flight == 0)
        pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    strbuf sb = STRBUF_INIT;
    sb_vaddf(&sb, fmt, ap);
    while (sb.len && sb.buf[sb.len - 1] == '\n')
        sb.buf[--sb.len] = '\0';
    log_msg(NULL, SL_LOG_WARN, "http server: %s", sb_str(&sb));
    sb_free(&sb);
}

/* --- start / stop -------------------------------------------------------- */

int http_server_parse_listen(const char *listen, char **host, unsigned *port, sl_error *err)
{
    const char *colon, *h = listen;
    size_t hlen;
    *host = NULL;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':') {
            sl_error_set(err, SL_ERR_CONFIG, "--listen \"%s\": expected [ADDRESS]:PORT", listen);
            return -1;
        }
        h = listen + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon) {
            sl_error_set(err, SL_ERR_CONFIG, "--listen \"%s\": expected HOST:PORT", listen);
            return -1;
        }
        hlen = (size_t)(colon - listen);
    }
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || p > 65535) {
        sl_error_set(err, SL_ERR_CONFIG, "--listen \"%s\": the port must be 0 to 65535", listen);
        return -1;
    }
    *host = hlen ? xstrndup(h, hlen) : xstrdup("0.0.0.0");
    *port = (unsigned)p;
    return 0;
}

static struct addrinfo *resolve_listen(const char *listen, sl_error *err)
{
    char *host;
    unsigned port;
    if (http_server_parse_listen(listen, &host, &port, err) != 0)
        return NULL;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0) {
        sl_error_set(err, SL_ERR_CONFIG, "--listen \"%s\": cannot resolve %s: %s", listen, host,
                     gai_strerror(rc));
        ai = NULL;
    }
    free(host);
    return ai;
}

http_server *http_server_start(const http_server_options *opts, sl_error *err)
{
    struct addrinfo *ai = resolve_listen(opts->listen, err);
    if (!ai)
        return NULL;
    http_server *srv = xcalloc(1, sizeof *srv);
    srv->opts = *opts;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned threads = opts->threads > 1 ? (unsigned)opts->threads : 1;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
        opts->idle_timeout_s ? opts->idle_timeout_s : 60u, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!srv->daemon) {
        sl_error_set(err, SL_ERR_CONFIG, "cannot listen on %s (address in use or not local?)",
                     opts->listen);
        pthread_cond_destroy(&srv->idle);
        pthread_mutex_destroy(&srv->lock);
        free(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    return srv;
}

unsigned http_server_port(const http_server *srv)
{
    return srv->port;
}

void http_server_drain(http_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    int already = srv->draining;
    srv->draining = 1;
    pthread_mutex_unlock(&srv->lock);
    if (already)
        return;
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    /* A client stalled in the middle of a body must not hold the stop
     * forever: after the grace period MHD_stop_daemon() cuts it off. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += DRAIN_GRACE_S;
    pthread_mutex_lock(&srv->lock);
    while (srv->in_flight > 0)
        if (pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline) == ETIMEDOUT)
            break;
    long left = srv->in_flight;
    pthread_mutex_unlock(&srv->lock);
    if (left > 0)
        log_msg(NULL, SL_LOG_WARN, "http server: %ld request(s) still open after %d s: closing them",
                left, DRAIN_GRACE_S);
}

void http_server_stop(http_server *srv)
{
    if (!srv)
        return;
    http_server_drain(srv);
    MHD_stop_daemon(srv->daemon);
    pthread_cond_destroy(&srv->idle);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}
