/* http_server.c — libmicrohttpd glue (see http_server.h).
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers, then once per chunk of body, then a last time with no
 * data. The per-request state lives in *con_cls and is freed by the
 * completion callback, which MHD calls exactly once per request.
 *
 * Per connection (MHD's socket context, made and freed by the connection
 * notifications) a conn_entry records when the request now being received
 * had its chance to start; the reaper (one task on a private pool) shuts
 * down the socket of every entry past the request deadline. An entry is
 * unlinked, under conns_lock, in MHD's CLOSED notification, which MHD
 * makes before it closes the socket: the reaper never touches a closed,
 * possibly reused, descriptor. */
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/workers.h"

/* The handler's return type changed from int to enum in 0.9.71. */
#if MHD_VERSION >= 0x00097002
#define MHD_RESULT enum MHD_Result
#else
#define MHD_RESULT int
#endif

/* How long a drain waits for requests being received or handled. */
#define DRAIN_GRACE_S 30
/* How often the reaper looks at the connections; a deadline is enforced
 * this much late at most. */
#define REAP_INTERVAL_MS 200
/* Cut connections are reported at most this often (a flood of slow
 * clients must not become a flood of log lines). */
#define REAP_LOG_INTERVAL_MS 10000

typedef struct conn_entry {
    struct conn_entry *prev, *next;
    int fd;
    long long since_ms; /* monotonic: the request's chance to start */
    int receiving;      /* 0 from the full request to the end of the answer */
    int cut;            /* shut down by the reaper */
} conn_entry;

struct http_server {
    struct MHD_Daemon *daemon;
    http_server_options opts;
    unsigned port;

    pthread_mutex_t lock; /* guards the two below */
    pthread_cond_t idle;
    int draining;
    long in_flight; /* requests between their headers and completion */

    unsigned max_connections, max_per_client;
    long long request_timeout_ms;

    pthread_mutex_t conns_lock; /* guards the list, its entries and the rest */
    pthread_cond_t reaper_wake;
    conn_entry *conns;
    int reaper_stop;
    long long cut_unreported, last_report_ms;
    workers_pool *reaper;
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

/* --- connections and the request deadline --------------------------------- */

static conn_entry *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The whole request is in: from now on the time is the handler's. */
static void conn_mark_received(http_server *srv, struct MHD_Connection *conn)
{
    conn_entry *e = conn_of(conn);
    if (!e)
        return;
    pthread_mutex_lock(&srv->conns_lock);
    e->receiving = 0;
    pthread_mutex_unlock(&srv->conns_lock);
}

/* The answer is out: the next request's deadline starts now. */
static void conn_mark_done(http_server *srv, struct MHD_Connection *conn)
{
    conn_entry *e = conn_of(conn);
    if (!e)
        return;
    pthread_mutex_lock(&srv->conns_lock);
    e->receiving = 1;
    e->since_ms = clock_mono_ms();
    pthread_mutex_unlock(&srv->conns_lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    http_server *srv = cls;
    conn_entry *e = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        e = xcalloc(1, sizeof *e);
        e->fd = ci ? ci->connect_fd : -1;
        e->since_ms = clock_mono_ms();
        e->receiving = 1;
        pthread_mutex_lock(&srv->conns_lock);
        e->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = e;
        srv->conns = e;
        pthread_mutex_unlock(&srv->conns_lock);
        *socket_context = e;
        return;
    }
    if (!e)
        return;
    pthread_mutex_lock(&srv->conns_lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        srv->conns = e->next;
    if (e->next)
        e->next->prev = e->prev;
    pthread_mutex_unlock(&srv->conns_lock);
    free(e);
    *socket_context = NULL;
}

/* Shuts down every connection past its deadline; conns_lock held. MHD
 * sees the end of the stream and closes the connection itself. */
static void reap_once(http_server *srv, long long now)
{
    for (conn_entry *e = srv->conns; e; e = e->next) {
        if (!e->receiving || e->cut || e->fd < 0 || now - e->since_ms < srv->request_timeout_ms)
            continue;
        shutdown(e->fd, SHUT_RDWR);
        e->cut = 1;
        srv->cut_unreported++;
    }
    if (srv->cut_unreported && now - srv->last_report_ms >= REAP_LOG_INTERVAL_MS) {
        log_msg(NULL, SL_LOG_WARN,
                "http server: closed %lld connection(s) that did not send a whole request "
                "within %.1f s (--request-timeout)",
                srv->cut_unreported, (double)srv->request_timeout_ms / 1000.0);
        srv->cut_unreported = 0;
        srv->last_report_ms = now;
    }
}

static void reaper_main(void *arg)
{
    http_server *srv = arg;
    pthread_mutex_lock(&srv->conns_lock);
    while (!srv->reaper_stop) {
        reap_once(srv, clock_mono_ms());
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += REAP_INTERVAL_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&srv->reaper_wake, &srv->conns_lock, &ts);
    }
    pthread_mutex_unlock(&srv->conns_lock);
}

static void reaper_stop(http_server *srv)
{
    if (!srv->reaper)
        return;
    pthread_mutex_lock(&srv->conns_lock);
    srv->reaper_stop = 1;
    pthread_cond_signal(&srv->reaper_wake);
    pthread_mutex_unlock(&srv->conns_lock);
    workers_free(srv->reaper);
    srv->reaper = NULL;
}

/* --- the access handler ------------------------------------------------- */

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
    conn_mark_received(srv, conn);
    return finish_request(srv, conn, url, method, rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *srv = cls;
    request_state *rs = *con_cls;
    (void)toe;
    conn_mark_done(srv, conn);
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

/* Makes room for `want` connections in the open-file limit: raises the
 * soft limit up to the hard one when needed. Returns the connections that
 * fit (want, or fewer), or 0 after an error for an explicit limit. */
static unsigned fit_open_files(unsigned want, int explicit_limit, sl_error *err)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + HTTP_SERVER_FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        struct rlimit up = rl;
        up.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return want;
    if (explicit_limit) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "--max-connections %u needs %llu open files, and the limit is %llu (raise "
                     "it: ulimit -n, or LimitNOFILE= in the systemd unit)",
                     want, (unsigned long long)need, (unsigned long long)rl.rlim_max);
        return 0;
    }
    unsigned fit = rl.rlim_cur > HTTP_SERVER_FD_RESERVE + 16
                       ? (unsigned)(rl.rlim_cur - HTTP_SERVER_FD_RESERVE)
                       : 16;
    log_msg(NULL, SL_LOG_WARN,
            "http server: open files are limited to %llu: at most %u connections (not %u)",
            (unsigned long long)rl.rlim_cur, fit, want);
    return fit;
}

static int resolve_limits(http_server *srv, const http_server_options *opts, sl_error *err)
{
    unsigned want = opts->max_connections ? opts->max_connections
                                          : HTTP_SERVER_DEFAULT_MAX_CONNECTIONS;
    srv->max_connections = fit_open_files(want, opts->max_connections != 0, err);
    srv->max_per_client = opts->max_per_client ? opts->max_per_client
                                               : HTTP_SERVER_DEFAULT_MAX_PER_CLIENT;
    double t = opts->request_timeout_s > 0 ? opts->request_timeout_s
                                           : HTTP_SERVER_DEFAULT_REQUEST_TIMEOUT_S;
    srv->request_timeout_ms = (long long)(t * 1000.0);
    return srv->max_connections ? 0 : -1;
}

static void server_free(http_server *srv)
{
    pthread_cond_destroy(&srv->reaper_wake);
    pthread_mutex_destroy(&srv->conns_lock);
    pthread_cond_destroy(&srv->idle);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

static http_server *server_new(const http_server_options *opts)
{
    http_server *srv = xcalloc(1, sizeof *srv);
    pthread_condattr_t ca;
    srv->opts = *opts;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);
    pthread_mutex_init(&srv->conns_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->reaper_wake, &ca);
    pthread_condattr_destroy(&ca);
    return srv;
}

http_server *http_server_start(const http_server_options *opts, sl_error *err)
{
    struct addrinfo *ai = resolve_listen(opts->listen, err);
    if (!ai)
        return NULL;
    http_server *srv = server_new(opts);
    if (resolve_limits(srv, opts, err) != 0) {
        freeaddrinfo(ai);
        server_free(srv);
        return NULL;
    }

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned threads = opts->threads > 1 ? (unsigned)opts->threads : 1;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, opts->idle_timeout_s ? opts->idle_timeout_s : 60u,
        MHD_OPTION_CONNECTION_LIMIT, srv->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        srv->max_per_client, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!srv->daemon) {
        sl_error_set(err, SL_ERR_CONFIG, "cannot listen on %s (address in use or not local?)",
                     opts->listen);
        server_free(srv);
        return NULL;
    }
    srv->reaper = workers_new(1);
    if (!srv->reaper) {
        sl_error_set(err, SL_ERR_INTERNAL, "http server: cannot start the deadline thread");
        MHD_stop_daemon(srv->daemon);
        server_free(srv);
        return NULL;
    }
    workers_submit(srv->reaper, reaper_main, NULL, srv);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    return srv;
}

void http_server_limits(const http_server *srv, unsigned *max_connections,
                        unsigned *max_per_client, double *request_timeout_s)
{
    *max_connections = srv->max_connections;
    *max_per_client = srv->max_per_client;
    *request_timeout_s = (double)srv->request_timeout_ms / 1000.0;
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
    reaper_stop(srv);
    MHD_stop_daemon(srv->daemon);
    server_free(srv);
}
