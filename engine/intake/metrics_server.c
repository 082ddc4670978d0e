/* metrics_server.c — /metrics and /healthz on a listener of their own
 * (metrics_server.h). */
#include "autoconfig.h"
#include "intake/metrics_server.h"

#include <stdlib.h>

#include "net/http_server.h"
#include "util/alloc.h"
#include "util/log.h"

/* Scrapes are small and rare: one thread answers them. */
#define METRICS_THREADS 1
#define METRICS_MAX_BODY 1024

struct metrics_server {
    metrics *m;
    http_server *srv;
};

void metrics_server_reply_healthz(http_server_reply *rep)
{
    rep->content_type = "text/plain; charset=utf-8";
    sb_adds(&rep->body, "ok\n");
}

void metrics_server_reply_metrics(metrics *m, long spool_pending, http_server_reply *rep)
{
    rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
    metrics_render(m, spool_pending, &rep->body);
}

static void handle_healthz(void *ud, const http_server_request *req, http_server_reply *rep)
{
    (void)ud;
    (void)req;
    metrics_server_reply_healthz(rep);
}

static void handle_metrics(void *ud, const http_server_request *req, http_server_reply *rep)
{
    metrics_server *s = ud;
    (void)req;
    metrics_server_reply_metrics(s->m, -1, rep);
}

static const http_route routes[] = {
    {"GET", "/healthz", handle_healthz},
    {"GET", "/metrics", handle_metrics},
};

metrics_server *metrics_server_start(metrics *m, const char *listen, sl_error *err)
{
    metrics_server *s = xcalloc(1, sizeof *s);
    s->m = m;
    http_server_options ho = {.listen = listen,
                              .threads = METRICS_THREADS,
                              .max_body = METRICS_MAX_BODY,
                              .routes = routes,
                              .n_routes = sizeof routes / sizeof *routes,
                              .ud = s};
    s->srv = http_server_start(&ho, err);
    if (!s->srv) {
        free(s);
        return NULL;
    }
    log_msg(NULL, SL_LOG_INFO, "metrics on %s (port %u): GET /metrics, GET /healthz", listen,
            http_server_port(s->srv));
    return s;
}

unsigned metrics_server_port(const metrics_server *s)
{
    return http_server_port(s->srv);
}

void metrics_server_stop(metrics_server *s)
{
    if (!s)
        return;
    http_server_stop(s->srv);
    free(s);
}
