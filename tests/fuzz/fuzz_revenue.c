/* fuzz_revenue.c — the revenue plugin's hit-data parser and attribution
 * (plugins/revenue): header detection, line splitting, URL and keyword
 * extraction, product-list amounts, the visit clock.
 * The first input byte picks the options (bit 0 first-search attribution,
 * bits 1-2 the visitor mode, bit 3 backslash escapes off, bit 4 exclusion
 * off); the rest is the file, fed in pieces.
 * Reaches: rev_attrib_feed, rev_attrib_finish, rev_attrib_pairs. */
#include "autoconfig.h"

#include <stdlib.h>

#include "fuzz.h"
#include "rev_attrib.h"
#include "rev_engines.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    rev_config cfg = {.engines = &engines, .visit_timeout = 1800,
                      .attribution_first = data[0] & 1,
                      .visitor = (rev_visitor_mode)((data[0] >> 1) & 3),
                      .escapes = !((data[0] >> 3) & 1), .exclude = !((data[0] >> 4) & 1)};
    rev_attrib *a = rev_attrib_new(&cfg);
    if (!a)
        abort();
    /* Pieces of up to 7 bytes: every line and field straddles a boundary. */
    for (size_t at = 1; at < size; at += 7) {
        size_t n = size - at < 7 ? size - at : 7;
        if (rev_attrib_feed(a, data + at, n) != 0)
            break;
    }
    rev_attrib_finish(a);
    size_t n;
    rev_attrib_pairs(a, &n); /* the attribution's own array */
    rev_attrib_free(a);
    return 0;
}
