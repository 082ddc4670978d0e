/* metrics_server.h — GET /metrics (the registry of intake/metrics.h as
 * Prometheus text) and GET /healthz ("ok") on their own listener, for the
 * long-running modes without an HTTP intake: `poll` and `watch`
 * (--metrics-listen ADDR:PORT). `serve` answers the same two paths on its
 * own listener. One server mechanism: net/http_server.h.
 *
 * Ownership: the server borrows the registry, which must outlive it.
 * Threading: requests are answered on the HTTP server's threads; start and
 * stop belong to one thread. */
#ifndef SLUICE_METRICS_SERVER_H
#define SLUICE_METRICS_SERVER_H

#include "intake/metrics.h"
#include "net/http_server.h"
#include "util/error.h"

typedef struct metrics_server metrics_server;

/* The two answers, also for a server with routes of its own (`serve`):
 * GET /healthz ("ok") and GET /metrics (metrics_render(); spool_pending < 0
 * leaves the spool gauges out). */
void metrics_server_reply_healthz(http_server_reply *rep);
void metrics_server_reply_metrics(metrics *m, long spool_pending, http_server_reply *rep);

/* Listens on `listen` ("host:port", "[v6]:port"; port 0 picks one) and logs
 * the address and bound port. NULL with err set when it cannot. */
metrics_server *metrics_server_start(metrics *m, const char *listen, sl_error *err);
unsigned metrics_server_port(const metrics_server *s);
/* Stops answering and frees; NULL is fine. */
void metrics_server_stop(metrics_server *s);

#endif
