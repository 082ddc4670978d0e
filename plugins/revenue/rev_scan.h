/* rev_scan.h — the parsing core of the revenue plugin: where a record of
 * a data feed ends, and the needed fields of a record. Nothing here knows
 * attribution; rev_attrib calls it once per record. Stateless and
 * thread-safe but for the choice of path below, made once per process.
 *
 * Paths: `portable` (word-wise C, every platform), and on x86-64 `sse2`
 * (the baseline) and `avx2` (used only when the CPU has it). All give
 * byte-identical results; they differ only in speed. The environment
 * variable SLUICE_REVENUE_SCANNER = auto (default: the best available) |
 * portable | sse2 | avx2 picks one at the first call; a path the CPU or
 * build lacks, or an unknown name, means auto.
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

/* Both at once, in one pass, where it can: the record starting at p that
 * ends at an LF before `end` is split as rev_scan_fields() splits it (its
 * LF excluded, and a CR before the LF), *nl is set to that LF, and the
 * field count is returned. 0, with nothing set, when one pass cannot
 * tell: the record holds a backslash (escapes on), no LF comes within
 * the 64-byte blocks before `end`, or the path has no one-pass scan
 * (portable); then use rev_scan_record_end() and rev_scan_fields(). */
size_t rev_scan_line(const rev_layout *l, const char *p, const char *end, int escapes,
                     rev_slice *f, const char **nl);

/* The name of the path in use ("portable", "sse2", "avx2"; a static
 * string, not to be freed). The first call of any rev_scan_* function
 * reads SLUICE_REVENUE_SCANNER; later calls and other threads see the same
 * choice (atomic, lock-free). */
const char *rev_scan_impl(void);

/* Switch to path `name` (or "auto") for the whole process, for tests and
 * benchmarks. 0; -1, with the path unchanged, when the CPU or build lacks
 * it or the name is unknown. Thread-safe, but a scan running meanwhile may
 * finish on either path (results are the same). */
int rev_scan_use(const char *name);

#endif
