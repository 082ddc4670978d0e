/* fuzz_revenue.c — the revenue plugin's hit-data parser and attribution
 * (plugins/revenue): header detection, line splitting, URL and keyword
 * extraction, product-list amounts, the visit clock.
 * The first input byte picks the options (bit 0 first-search attribution,
 * bits 1-2 the visitor mode, bit 3 backslash escapes off, bit 4 exclusion
 * off, bit 5 one thread or two, bits 6-7 the parallel chunk size); the
 * rest is the file, fed in pieces. Differential: the same input is run one
 * record at a time (threads 0), then through rev_pipe: parsed in batches on
 * this thread (threads 1) or on two parse threads, and the statistics and
 * report must agree.
 * Reaches: rev_attrib_feed, rev_attrib_finish, rev_attrib_pairs, rev_pipe_submit. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rev_attrib.h"
#include "rev_engines.h"
#include "rev_report.h"

static rev_engines engines = REV_ENGINES_INIT;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    if (rev_engines_set_default(&engines, err, sizeof err) != 0)
        abort();
    return 0;
}

typedef struct outcome {
    rev_stats st;
    int failed;
    char report[4096];
    size_t len;
} outcome;

static int collect(void *ctx, const void *p, size_t n)
{
    outcome *o = ctx;
    size_t room = sizeof o->report - o->len;
    memcpy(o->report + o->len, p, n < room ? n : room);
    o->len += n < room ? n : room;
    return 0;
}

static void run(const rev_config *cfg, const uint8_t *data, size_t size, outcome *o)
{
    memset(o, 0, sizeof *o);
    rev_attrib *a = rev_attrib_new(cfg);
    if (!a)
        abort();
    /* Pieces of up to 7 bytes: every line and field straddles a boundary. */
    for (size_t at = 1; at < size; at += 7) {
        size_t n = size - at < 7 ? size - at : 7;
        if (rev_attrib_feed(a, data + at, n) != 0)
            break;
    }
    o->failed = rev_attrib_finish(a) != 0;
    o->st = *rev_attrib_stats(a);
    size_t n;
    rev_pair **pairs = rev_attrib_pairs(a, &n); /* the attribution's own array */
    if (!o->failed)
        rev_report_write(pairs, n, 1, collect, o);
    rev_attrib_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    rev_config cfg = {.engines = &engines, .visit_timeout = 1800,
                      .attribution_first = data[0] & 1,
                      .visitor = (rev_visitor_mode)((data[0] >> 1) & 3),
                      .escapes = !((data[0] >> 3) & 1), .exclude = !((data[0] >> 4) & 1)};
    outcome one, two;
    run(&cfg, data, size, &one);
    cfg.threads = 1 + ((data[0] >> 5) & 1); /* batches on this thread, or 2 threads */
    cfg.chunk = (size_t)(data[0] >> 6) * 11 + 1; /* 1 .. 34 bytes */
    run(&cfg, data, size, &two);
    if (one.failed != two.failed || memcmp(&one.st, &two.st, sizeof one.st) != 0 ||
        one.len != two.len || memcmp(one.report, two.report, one.len) != 0)
        abort(); /* the parse threads changed the result */
    return 0;
}
