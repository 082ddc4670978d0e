/* rev_bench.c — the revenue core on one file, without the engine: reads
 * FILE through rev_attrib in REV_CHUNK reads (as the plugin does), writes
 * the report to OUT (default: discarded) and prints throughput and peak
 * RSS. For profiling the core; `make bench` measures the real CLI.
 *
 *   rev_bench [--first] [--ip-ua|--ip] [--timeout N] [--columns HEADERS.tsv]
 *             [--no-escapes] [--no-exclude] FILE [OUT]
 *
 * Defaults as the plugin's: visitor auto, escapes backslash, exclude adobe. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "rev_attrib.h"
#include "rev_columns.h"
#include "rev_engines.h"
#include "rev_money.h"
#include "rev_report.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(void *ctx, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, ctx) == len ? 0 : -1;
}

static int usage(void)
{
    fprintf(stderr, "usage: rev_bench [--first] [--ip-ua|--ip] [--timeout N] [--columns HEADERS.tsv] "
                    "[--no-escapes] [--no-exclude] [--threads N] [--chunk BYTES] FILE [OUT]\n"
                    "  --threads 0 (default): one record at a time, the reference path;\n"
                    "  1: batches parsed then applied on this thread; N: N parse threads\n"
                    "  --chunk: bytes per parsed batch (default: 32 KiB for 1, each read for N)\n");
    return 2;
}

int main(int argc, char **argv)
{
    rev_engines engines = REV_ENGINES_INIT;
    rev_config cfg = {.engines = &engines, .visit_timeout = 1800, .escapes = 1, .exclude = 1};
    char **columns = NULL;
    size_t ncolumns = 0;
    char err[256];
    int i = 1;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--first") == 0)
            cfg.attribution_first = 1;
        else if (strcmp(argv[i], "--ip-ua") == 0)
            cfg.visitor = REV_VISITOR_IP_UA;
        else if (strcmp(argv[i], "--ip") == 0)
            cfg.visitor = REV_VISITOR_IP;
        else if (strcmp(argv[i], "--no-escapes") == 0)
            cfg.escapes = 0;
        else if (strcmp(argv[i], "--no-exclude") == 0)
            cfg.exclude = 0;
        else if (strcmp(argv[i], "--columns") == 0 && i + 1 < argc && !columns) {
            FILE *f = fopen(argv[++i], "rb");
            char line[1 << 16];
            size_t got = f ? fread(line, 1, sizeof line, f) : 0;
            if (f)
                fclose(f);
            if (rev_columns_split(line, got, &columns, &ncolumns) != 0) {
                fprintf(stderr, "rev_bench: %s: no column names\n", argv[i]);
                return 1;
            }
            cfg.columns = (const char *const *)columns;
            cfg.ncolumns = ncolumns;
        }
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            cfg.threads = (size_t)atoll(argv[++i]);
        else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc)
            cfg.chunk = (size_t)atoll(argv[++i]);
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            cfg.visit_timeout = atoll(argv[++i]);
        else
            return usage();
    }
    if (i >= argc || argc - i > 2)
        return usage();
    if (rev_engines_set_default(&engines, err, sizeof err) != 0) {
        fprintf(stderr, "rev_bench: %s\n", err);
        return 1;
    }
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "rev_bench: %s: %s\n", argv[i], strerror(errno));
        return 1;
    }
    FILE *out = fopen(argc - i == 2 ? argv[i + 1] : "/dev/null", "wb");
    rev_attrib *a = rev_attrib_new(&cfg);
    if (!out || !a) {
        fprintf(stderr, "rev_bench: cannot open the output or out of memory\n");
        return 1;
    }

    double t0 = now_seconds();
    unsigned long long total = 0;
    for (;;) {
        size_t cap;
        char *space = rev_attrib_space(a, &cap);
        ssize_t got = read(fd, space, cap);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "rev_bench: read: %s\n", strerror(errno));
            return 1;
        }
        if (got == 0 || rev_attrib_commit(a, (size_t)got) != 0)
            break;
        total += (unsigned long long)got;
    }
    rev_attrib_finish(a);
    rev_err_kind kind;
    const char *msg = rev_attrib_error(a, &kind);
    if (msg) {
        fprintf(stderr, "rev_bench: %s\n", msg);
        return 1;
    }
    size_t n;
    rev_pair **pairs = rev_attrib_pairs(a, &n);
    if (rev_report_write(pairs, n, 1, write_file, out) != 0 || fclose(out) != 0) {
        fprintf(stderr, "rev_bench: writing the report failed\n");
        return 1;
    }
    double secs = now_seconds() - t0;

    const rev_stats *s = rev_attrib_stats(a);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char att[32], unatt[32];
    rev_format_cents(s->revenue_attributed_cents, att);
    rev_format_cents(s->revenue_unattributed_cents, unatt);
    printf("rev_bench  %.0f MB in %.3f s  %.0f MB/s  peak RSS %ld MB\n", (double)total / 1e6,
           secs, (double)total / 1e6 / secs, ru.ru_maxrss / 1024);
    printf("  excluded %llu duplicate_purchases %llu\n", (unsigned long long)s->excluded_rows,
           (unsigned long long)s->duplicate_purchases);
    printf("  lines %llu data %llu malformed %llu empty %llu search_hits %llu purchases %llu\n"
           "  attributed %s unattributed %s warnings %llu keywords %llu evicted %llu peak "
           "visitors %llu\n",
           (unsigned long long)s->lines_read, (unsigned long long)s->data_lines,
           (unsigned long long)s->malformed_lines, (unsigned long long)s->empty_lines,
           (unsigned long long)s->search_hits, (unsigned long long)s->purchases, att, unatt,
           (unsigned long long)s->warnings, (unsigned long long)s->keywords,
           (unsigned long long)s->visitors_evicted, (unsigned long long)s->visitors_peak);
    rev_attrib_free(a);
    rev_engines_free(&engines);
    rev_columns_free(columns, ncolumns);
    close(fd);
    return 0;
}
