/* serve.h — `sluice serve`: events over HTTP.
 *
 * POST / or /events takes what S3-compatible stores (MinIO, Ceph RGW), SNS
 * HTTP(S) subscriptions and EventBridge API destinations send. An accepted
 * event is written durably to the spool (intake/spool.h) before the 202,
 * then run through the intake path by the spool's workers; with `sync` it
 * runs inside the request and the answer says how it went. GET /healthz
 * and GET /metrics (the intake's metrics). See docs/serve.md.
 *
 * Stops on SIGTERM or SIGINT (util/signals.h, started by the caller): no
 * new requests, running jobs finish, events not yet started stay in the
 * spool. */
#ifndef SLUICE_SERVE_H
#define SLUICE_SERVE_H

#include <stddef.h>

#include "intake/intake.h"
#include "intake/serve_auth.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8080"
#define SERVE_DEFAULT_MAX_BODY (1024 * 1024)

typedef struct serve_options {
    const char *listen;        /* HOST:PORT or [IPV6]:PORT */
    int workers;               /* job workers and HTTP threads */
    const char *spool_dir;     /* NULL: serve_default_spool_dir() */
    size_t max_body;
    unsigned max_connections;  /* 0: the server's default (http_server.h) */
    unsigned max_per_client;   /* 0: the server's default */
    double request_timeout_s;  /* 0: the server's default */
    int sync;                  /* run the jobs before answering */
    int paused;                /* spool events, run none */
    int max_attempts;          /* spool entries started this often without an
                                  end are quarantined (0: the default) */
    serve_auth auth;
    char **topics;             /* accepted SNS topic ARNs (none: any) */
    size_t n_topics;
    const char *sns_test_ca;   /* test-only: see sns_verify.h */
    char **url_map;
    size_t n_url_map;
} serve_options;

/* spool/ beside the local storage root; else under systemd's
 * $STATE_DIRECTORY; NULL when neither applies. Caller frees. */
char *serve_default_spool_dir(const config *cfg);

/* Serves until a stop signal. `in` must be opened with INTAKE_JOBS.
 * Returns SL_EXIT_OK after a clean stop, SL_EXIT_USAGE when it could not
 * start (the reason printed). */
int serve_run(intake *in, const serve_options *o);

#endif
