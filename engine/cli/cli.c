/* cli.c — what the commands share (cli.h). */
#include "autoconfig.h"
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake/expect.h"
#include "intake/metrics_server.h"
#include "util/workers.h"

const char *cli_config_path(const cli_globals *g)
{
    if (g && g->config_path)
        return g->config_path;
    const char *env = getenv("SLUICE_CONFIG");
    if (env && *env)
        return env;
    return "sluice.yaml";
}

intake *cli_open(const cli_globals *g, const char *cmd, unsigned what)
{
    intake_report rep;
    intake *in = intake_open(cli_config_path(g), what, &rep);
    if (!in) {
        /* warnings are for `sluice validate`; show them with the errors */
        diag_print(&rep.diags, stderr);
        if (rep.err.kind != SL_ERR_NONE)
            fprintf(stderr, "sluice %s: %s\n", cmd, rep.err.msg);
    }
    intake_report_free(&rep);
    return in;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sluice %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sluice %s --help'.\n", cmd);
    return SL_EXIT_USAGE;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

/* --- option values ------------------------------------------------------- */

int cli_parse_int(const char *cmd, const char *opt, const char *text, long lo, long hi,
                  int *out)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno || n < lo || n > hi)
        return cli_usage_error(cmd, "%s must be an integer from %ld to %ld, not \"%s\"", opt,
                               lo, hi, text);
    *out = (int)n;
    return 0;
}

int cli_parse_seconds(const char *cmd, const char *opt, const char *text, double lo, double hi,
                      double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || errno || !(v >= lo && v <= hi))
        return cli_usage_error(cmd, "%s must be %g to %g seconds, not \"%s\"", opt, lo, hi, text);
    *out = v;
    return 0;
}

int cli_parse_bytes(const char *cmd, const char *opt, const char *text, size_t lo, size_t hi,
                    size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    int ok = end != text && !errno && text[0] != '-';
    if (ok && (*end == 'k' || *end == 'K'))
        n *= 1024, end++;
    else if (ok && (*end == 'm' || *end == 'M'))
        n *= 1024 * 1024, end++;
    if (!ok || *end != '\0' || n < lo || n > hi)
        return cli_usage_error(cmd, "%s: expected a size like 65536, 64k or 1M from %zu to %zu "
                                    "bytes, got \"%s\"",
                               opt, lo, hi, text);
    *out = (size_t)n;
    return 0;
}

/* Seconds per unit of a duration's suffix; 0 for none known. */
static long long duration_unit(const char *suffix)
{
    if (!*suffix)
        return 1;
    if (suffix[1])
        return 0;
    switch (*suffix) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    }
    return 0;
}

int cli_parse_duration(const char *cmd, const char *opt, const char *text, long long hi,
                       long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    long long unit = duration_unit(end);
    /* checked before multiplying: an overflow would be undefined */
    if (end == text || !isdigit((unsigned char)text[0]) || errno || !unit || n > hi / unit)
        return cli_usage_error(cmd, "%s: expected a duration such as 90s, 30m, 24h or 7d (at "
                                    "most %lld s), got \"%s\"",
                               opt, hi, text);
    *out = n * unit;
    return 0;
}

int cli_parse_workers(const char *cmd, const char *opt, const char *text, int *out)
{
    return cli_parse_int(cmd, opt, text, 1, WORKERS_MAX, out);
}

int cli_ops_start(const cli_ops_options *o, const char *cmd, intake *in, cli_ops *ops)
{
    memset(ops, 0, sizeof *ops);
    if (o->metrics_listen) {
        sl_error err = {0};
        ops->metrics = metrics_server_start(in->metrics, o->metrics_listen, &err);
        if (!ops->metrics) {
            fprintf(stderr, "sluice %s: --metrics-listen: %s\n", cmd, err.msg);
            return SL_EXIT_USAGE;
        }
    }
    ops->expect = expect_timer_start(in, o->expect_interval_s);
    return 0;
}

void cli_ops_stop(cli_ops *ops)
{
    expect_timer_stop(ops->expect);
    metrics_server_stop(ops->metrics);
    memset(ops, 0, sizeof *ops);
}
