/* testdata.h — where the C unit tests find tests/data, and reading a file
 * from it (header only; link with the engine for strbuf). */
#ifndef SLUICE_TESTDATA_H
#define SLUICE_TESTDATA_H

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/strbuf.h"

/* tests/data/<rel>: from $top_srcdir (set by make check), else relative to
 * this test's source file. Caller frees. */
static inline char *test_data_path(const char *src_file, const char *rel)
{
    const char *top = getenv("top_srcdir");
    if (top && *top)
        return xasprintf("%s/tests/data/%s", top, rel);
    const char *slash = strrchr(src_file, '/');
    if (!slash)
        return xasprintf("../data/%s", rel);
    return xasprintf("%.*s/../data/%s", (int)(slash - src_file), src_file, rel);
}

/* The whole file, NUL-terminated, or NULL; *len its size when len. */
static inline char *test_slurp(const char *path, size_t *len)
{
    strbuf sb = STRBUF_INIT;
    if (sb_read_file(&sb, path) != 0) {
        sb_free(&sb);
        return NULL;
    }
    if (len)
        *len = sb.len;
    return sb_steal(&sb);
}

#endif
