/* rev_report.h — the report file: header line, then one row per
 * (domain, keyword) sorted by revenue desc, domain asc, keyword asc. */
#ifndef REV_REPORT_H
#define REV_REPORT_H

#include <stddef.h>

#include "rev_attrib.h"

#define REV_REPORT_HEADER "Search Engine Domain\tSearch Keyword\tRevenue\n"

/* Where the report goes: 0 ok, -1 failed (stops the report). */
typedef int (*rev_write_fn)(void *ctx, const void *buf, size_t len);

/* Sort pairs[0..n) in report order. */
void rev_report_sort(rev_pair **pairs, size_t n);

/* Sort, then write the whole report; rows with revenue 0 are left out
 * unless include_zero. 0, or -1 when a write failed or memory ran out. */
int rev_report_write(rev_pair **pairs, size_t n, int include_zero, rev_write_fn write,
                     void *ctx);

#endif
