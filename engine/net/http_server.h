/* http_server.h — the embedded HTTP server of `sluice serve`: a thin layer
 * over libmicrohttpd (which does all the HTTP parsing) adding exact-path
 * routes, a request body limit, a thread pool and a graceful drain.
 *
 * Handlers run on the server's threads, several at once: they must be
 * thread-safe. The server answers by itself:
 *   404 unknown path, 405 known path with another method (with Allow),
 *   413 body over max_body (from Content-Length before reading, or while
 *       reading), 503 once draining started.
 *
 * Limits against slow and greedy clients (docs/security.md):
 *   - at most max_connections open connections; at the limit new ones wait
 *     in the kernel's accept queue until one closes;
 *   - at most max_per_client open connections from one client address;
 *     more are closed as soon as they are accepted;
 *   - a request (headers and body) must arrive completely within
 *     request_timeout_s of its first byte's chance: of the connection's
 *     accept, or of the end of the previous answer on a kept-alive one. The
 *     deadline is absolute (a byte now and then does not extend it); when
 *     it passes the connection is shut down. The time the handler takes
 *     does not count;
 *   - idle_timeout_s: a connection with no traffic at all is closed after
 *     this long (libmicrohttpd's timeout, restarted by every byte).
 * The deadline is enforced by one thread of a private pool (util/workers.h)
 * that checks the connections receiving a request a few times a second. */
#ifndef SLUICE_HTTP_SERVER_H
#define SLUICE_HTTP_SERVER_H

#include <stddef.h>

#include "util/error.h"
#include "util/strbuf.h"

typedef struct http_server http_server;

typedef struct http_server_request {
    const char *method;
    const char *path;     /* without the query string */
    const char *body;     /* NUL-terminated, "" when there is none */
    size_t body_len;
    const char *peer;     /* client address, "1.2.3.4" or "::1" */
    void *impl;           /* the connection, for http_server_header() */
} http_server_request;

#define HTTP_SERVER_MAX_HEADERS 4

typedef struct http_server_reply {
    int status;               /* 200 unless the handler says otherwise */
    const char *content_type; /* NULL: application/json */
    strbuf body;
    const char *header_names[HTTP_SERVER_MAX_HEADERS]; /* static strings */
    char *header_values[HTTP_SERVER_MAX_HEADERS];      /* owned */
    size_t n_headers;
} http_server_reply;

/* A request header (name case-insensitive), or NULL. */
const char *http_server_header(const http_server_request *req, const char *name);
/* Adds a response header (`name` must outlive the reply: a literal). */
void http_server_reply_header(http_server_reply *rep, const char *name, const char *value);

typedef void (*http_server_handler)(void *ud, const http_server_request *req,
                                    http_server_reply *rep);

typedef struct http_route {
    const char *method; /* "GET", "POST" */
    const char *path;   /* exact, e.g. "/events" */
    http_server_handler fn;
} http_route;

/* Called after every answer, the server's own included (metrics, logs). */
typedef void (*http_server_observer)(void *ud, const http_server_request *req, int status);

#define HTTP_SERVER_DEFAULT_MAX_CONNECTIONS 4096
#define HTTP_SERVER_DEFAULT_MAX_PER_CLIENT 64
#define HTTP_SERVER_DEFAULT_REQUEST_TIMEOUT_S 30.0
/* Open files kept free for everything but connections (spool, storage,
 * outgoing HTTP, plugins). */
#define HTTP_SERVER_FD_RESERVE 256

typedef struct http_server_options {
    const char *listen;       /* "host:port", "[v6addr]:port"; port 0 picks one */
    int threads;              /* thread pool size (>= 1) */
    size_t max_body;          /* bytes */
    unsigned idle_timeout_s;  /* idle connections are closed after this; 0: 60 */
    unsigned max_connections; /* 0: HTTP_SERVER_DEFAULT_MAX_CONNECTIONS, or
                                 fewer when open files do not allow it */
    unsigned max_per_client;  /* 0: HTTP_SERVER_DEFAULT_MAX_PER_CLIENT */
    double request_timeout_s; /* 0: HTTP_SERVER_DEFAULT_REQUEST_TIMEOUT_S */
    const http_route *routes;
    size_t n_routes;
    void *ud;                 /* passed to handlers and the observer */
    http_server_observer observer; /* may be NULL */
} http_server_options;

/* Parses "host:port" / "[v6]:port" (host may be a name). 0, or -1 with a
 * message in err. Caller frees *host. */
int http_server_parse_listen(const char *listen, char **host, unsigned *port, sl_error *err);

/* Binds and starts serving. Raises the process's soft limit of open files
 * (RLIMIT_NOFILE, up to the hard limit) to fit max_connections plus
 * HTTP_SERVER_FD_RESERVE; a max_connections that cannot fit is an error,
 * the default is lowered to fit. NULL with err filled on failure. */
http_server *http_server_start(const http_server_options *opts, sl_error *err);
/* The bound port (useful with port 0). */
unsigned http_server_port(const http_server *srv);
/* The limits in force (defaults resolved), for the start-up log line. */
void http_server_limits(const http_server *srv, unsigned *max_connections,
                        unsigned *max_per_client, double *request_timeout_s);
/* Stops accepting connections, answers 503 to any new request on open
 * ones and waits for the requests being handled to finish. */
void http_server_drain(http_server *srv);
/* Drains when not done yet, stops the threads, frees. */
void http_server_stop(http_server *srv);

#endif
