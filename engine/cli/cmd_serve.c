/* cmd_serve.c — `sluice serve`: the options and usage of the HTTP intake
 * (intake/serve.h). */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "intake/serve.h"
#include "util/alloc.h"
#include "util/signals.h"
#include "util/workers.h"

#define DEFAULT_LISTEN SERVE_DEFAULT_LISTEN
#define SIGNATURE_HEADER SERVE_AUTH_SIGNATURE_HEADER

/* --- usage and options ------------------------------------------------------ */

static void serve_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice serve [OPTIONS]\n"
            "\n"
            "Accepts events over HTTP and runs a job for every object they name:\n"
            "  POST / or /events  S3 event notifications (also MinIO and Ceph RGW webhooks),\n"
            "                     SNS HTTP(S) deliveries (signatures verified; subscriptions\n"
            "                     confirmed), EventBridge events (API destinations)\n"
            "  GET /healthz       200 \"ok\"\n"
            "  GET /metrics       Prometheus text format\n"
            "\n"
            "A 202 answer means the event is written to the spool on disk (fsync'ed) and\n"
            "will run even after a crash or restart; with --sync a 200 means its jobs ran.\n"
            "\n"
            "Options:\n"
            "      --listen ADDR        HOST:PORT or [IPV6]:PORT (default " DEFAULT_LISTEN ")\n"
            "  -w, --workers N          job workers and HTTP threads (default: the cores)\n"
            "      --spool DIR          spool directory (default: spool/ beside the local\n"
            "                           storage root, else $STATE_DIRECTORY/spool)\n"
            "      --max-body BYTES     largest request body, k/M suffixes (default 1M)\n"
            "      --max-connections N  open connections at most (default 4096, fewer when\n"
            "                           open files are limited); more wait to be accepted\n"
            "      --max-connections-per-client N\n"
            "                           open connections from one address (default 64);\n"
            "                           more are closed at once\n"
            "      --request-timeout SECONDS\n"
            "                           a request's headers and body must arrive within this\n"
            "                           (default 30; not extended by a trickle of bytes)\n"
            "      --sync               run the jobs before answering (200, or 500 on failure)\n"
            "      --paused             accept and spool events but run none (maintenance)\n"
            "      --max-attempts N     a spooled event whose jobs were cut short N times by the\n"
            "                           process dying (default 3) is moved to the spool's\n"
            "                           quarantine/ instead of run again, sent to its rule's\n"
            "                           on_failure targets and recorded as a QUARANTINED run\n"
            "                           (`sluice runs list --state quarantined`); to run it\n"
            "                           again: `sluice runs retry RUN_ID`, or move the file\n"
            "                           back into the spool before a start\n"
            "      --auth-token-env VAR require \"Authorization: Bearer $VAR\" (non-SNS senders)\n"
            "      --hmac-secret-env VAR require \"" SIGNATURE_HEADER ": sha256=<hex HMAC of the\n"
            "                           body keyed by $VAR>\" (non-SNS senders)\n"
            "      --sns-topic-arn ARN  accept SNS messages from this topic only (repeatable)\n"
            CLI_OPS_USAGE_EXPECT
            "  -h, --help               this help\n"
            "\n"
            "Test-only options (they weaken SNS verification; never use them in production):\n"
            "      --sns-test-ca FILE   trust this CA for SNS signing certificates instead of\n"
            "                           the system store\n"
            "      --sns-test-cert-url-map PREFIX=URL\n"
            "                           fetch SNS certificate URLs starting with PREFIX from\n"
            "                           URL instead (after the URL rule was checked)\n"
            "\n"
            "Stops on SIGTERM or SIGINT: no new requests, running jobs finish, events not yet\n"
            "started stay in the spool for the next start. Exit status 0 after a clean stop,\n"
            "2 on a usage or configuration error.\n");
}

/* A secret is read from the environment (never from argv, which `ps`
 * shows); the pointer stays valid: nothing changes the environment. */
static int secret_from_env(const char *opt, const char *var, const char **out)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return cli_usage_error("serve", "%s %s: the environment variable %s is not set or empty",
                               opt, var, var);
    *out = v;
    return 0;
}

static void opts_free(serve_options *o)
{
    free(o->topics);
    free(o->url_map);
}

enum {
    OPT_LISTEN = 256, OPT_SPOOL, OPT_MAX_BODY, OPT_SYNC, OPT_PAUSED, OPT_AUTH_ENV, OPT_HMAC_ENV,
    OPT_TOPIC, OPT_TEST_CA, OPT_TEST_MAP, OPT_EXPECT, OPT_MAX_CONN, OPT_MAX_PER_CLIENT,
    OPT_REQ_TIMEOUT, OPT_MAX_ATTEMPTS
};

static int parse_limit(int opt, const char *text, serve_options *o)
{
    int n;
    const char *name = opt == OPT_MAX_CONN ? "--max-connections" : "--max-connections-per-client";
    if (cli_parse_int("serve", name, text, 1, 1000000, &n) != 0)
        return -1;
    if (opt == OPT_MAX_CONN)
        o->max_connections = (unsigned)n;
    else
        o->max_per_client = (unsigned)n;
    return 0;
}

/* Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, serve_options *o, cli_ops_options *ops)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"workers", required_argument, NULL, 'w'},
        {"spool", required_argument, NULL, OPT_SPOOL},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"max-connections", required_argument, NULL, OPT_MAX_CONN},
        {"max-connections-per-client", required_argument, NULL, OPT_MAX_PER_CLIENT},
        {"request-timeout", required_argument, NULL, OPT_REQ_TIMEOUT},
        {"sync", no_argument, NULL, OPT_SYNC},
        {"paused", no_argument, NULL, OPT_PAUSED},
        {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
        {"auth-token-env", required_argument, NULL, OPT_AUTH_ENV},
        {"hmac-secret-env", required_argument, NULL, OPT_HMAC_ENV},
        {"sns-topic-arn", required_argument, NULL, OPT_TOPIC},
        {"sns-test-ca", required_argument, NULL, OPT_TEST_CA},
        {"sns-test-cert-url-map", required_argument, NULL, OPT_TEST_MAP},
        {"expect-interval", required_argument, NULL, OPT_EXPECT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: o->listen = optarg; break;
        case 'w':
            if (cli_parse_workers("serve", "--workers", optarg, &o->workers) != 0)
                return SL_EXIT_USAGE;
            break;
        case OPT_SPOOL: o->spool_dir = optarg; break;
        case OPT_MAX_BODY:
            if (cli_parse_bytes("serve", "--max-body", optarg, 1, (size_t)1 << 30, &o->max_body))
                return SL_EXIT_USAGE;
            break;
        case OPT_MAX_CONN:
        case OPT_MAX_PER_CLIENT:
            if (parse_limit(c, optarg, o) != 0)
                return SL_EXIT_USAGE;
            break;
        case OPT_REQ_TIMEOUT:
            if (cli_parse_seconds("serve", "--request-timeout", optarg, 0.1, 86400,
                                  &o->request_timeout_s) != 0)
                return SL_EXIT_USAGE;
            break;
        case OPT_SYNC: o->sync = 1; break;
        case OPT_PAUSED: o->paused = 1; break;
        case OPT_AUTH_ENV:
            if (secret_from_env("--auth-token-env", optarg, &o->auth.bearer_token) != 0)
                return SL_EXIT_USAGE;
            break;
        case OPT_HMAC_ENV:
            if (secret_from_env("--hmac-secret-env", optarg, &o->auth.hmac_secret) != 0)
                return SL_EXIT_USAGE;
            break;
        case OPT_TOPIC:
            o->topics = xrealloc(o->topics, (o->n_topics + 1) * sizeof *o->topics);
            o->topics[o->n_topics++] = optarg;
            break;
        case OPT_TEST_CA: o->sns_test_ca = optarg; break;
        case OPT_TEST_MAP:
            o->url_map = xrealloc(o->url_map, (o->n_url_map + 1) * sizeof *o->url_map);
            o->url_map[o->n_url_map++] = optarg;
            break;
        case OPT_MAX_ATTEMPTS:
            if (cli_parse_int("serve", "--max-attempts", optarg, 1, 1000, &o->max_attempts) != 0)
                return SL_EXIT_USAGE;
            break;
        case OPT_EXPECT:
            if (cli_parse_int("serve", "--expect-interval", optarg, 0, 86400,
                              &ops->expect_interval_s) != 0)
                return SL_EXIT_USAGE;
            break;
        case 'h': serve_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("serve", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);
    if (o->sync && o->paused)
        return cli_usage_error("serve", "--sync and --paused exclude each other");
    return -1;
}

int cmd_serve(int argc, char **argv, const cli_globals *g)
{
    serve_options o = {.listen = SERVE_DEFAULT_LISTEN, .workers = workers_default_count(),
                       .max_body = SERVE_DEFAULT_MAX_BODY};
    cli_ops_options oo = {.expect_interval_s = CLI_EXPECT_INTERVAL_DEFAULT};
    cli_ops ops = {0};
    int rc = parse_options(argc, argv, &o, &oo);
    if (rc >= 0) {
        opts_free(&o);
        return rc;
    }
    /* before any thread exists, so that every thread inherits the mask */
    if (signals_start(NULL, NULL) != 0) {
        fprintf(stderr, "sluice serve: cannot set up signal handling\n");
        opts_free(&o);
        return SL_EXIT_USAGE;
    }
    intake *in = cli_open(g, "serve", INTAKE_JOBS | INTAKE_RECOVER);
    rc = !in ? SL_EXIT_USAGE : cli_ops_start(&oo, "serve", in, &ops);
    if (rc == 0)
        rc = serve_run(in, &o);
    cli_ops_stop(&ops);
    intake_close(in);
    opts_free(&o);
    return rc;
}
