/* rev_scan.h — the parsing core of the revenue plugin: where a record of
 * a data feed ends, and the needed fields of a record. Nothing here knows
 * attribution; rev_attrib calls it once per record. Stateless and
 * thread-safe: a later scanner (SIMD, several threads) can replace it
 * behind the same two calls.
 *
 * Escapes (option `escapes: backslash`, Adobe's hit_data.tsv): a backslash
 * makes the next TAB, LF or backslash literal; a record ends only at an
 * unescaped LF; a backslash before anything else is an ordinary byte. With
 * escapes off every LF ends a record and every TAB splits. */
#ifndef REV_SCAN_H
#define REV_SCAN_H

#include <stddef.h>

#include "rev_columns.h"

typedef struct rev_slice {
    const char *p;
    size_t n;
} rev_slice;

/* The LF that ends the record starting at p, or NULL when [p, end) holds
 * none (the record continues in later input). *inner counts the escaped
 * LFs passed on the way (lines inside the record). */
const char *rev_scan_record_end(const char *p, const char *end, int escapes, size_t *inner);

/* Is the LF at nl (p <= nl) escaped, i.e. preceded by an odd run of
 * backslashes that starts at or after p? */
int rev_scan_lf_escaped(const char *p, const char *nl);

/* Split record p[0..n) (no line end) into fields and fill f[role] with the
 * value of every role the layout reads; other fields are skipped, not
 * split. Values holding escapes are unescaped into `scratch` (at least n
 * bytes, owned by the caller) and f[] points there. Returns the number of
 * fields of the record; f[] is only complete when it equals l->ncols. */
size_t rev_scan_fields(const rev_layout *l, const char *p, size_t n, int escapes,
                       char *scratch, rev_slice *f);

#endif
