/* fuzz_manifest.c — what an Adobe data feed delivery set says about
 * itself (engine/core/delivery_manifest.c, delivery_check.c): the manifest
 * text, the names of its objects, the first line of the column_headers.tsv
 * its lookup archive carries (plugins/revenue/rev_columns.c), and the
 * record count of its data.
 * Input: four parts split at NUL bytes: the manifest text, a manifest or
 * .fin file name (whose stem each listed file is matched against), the
 * column_headers.tsv text, then the data (NULs kept). Differential: the
 * data's records are counted whole, in 1..7-byte pieces and byte by byte
 * by the contract's rule, and the three counts must agree.
 * Reaches: delivery_manifest_parse, delivery_manifest_name,
 * delivery_manifest_is_data_name, delivery_manifest_is_lookup_name,
 * delivery_check_count, delivery_check_count_end, rev_columns_split,
 * rev_layout_build. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/delivery_check.h"
#include "core/delivery_manifest.h"
#include "fuzz.h"
#include "rev_columns.h"

/* A parsed name must say what its parts put together say. */
static void check_name(const char *base, const delivery_name *n)
{
    char stem[sizeof n->stem + 8];
    snprintf(stem, sizeof stem, "%s_%s%s%s", n->rsid, n->date, n->hour[0] ? "-" : "", n->hour);
    size_t len = strlen(base);
    if (strcmp(stem, n->stem) != 0 || strncmp(base, n->stem, strlen(n->stem)) != 0 ||
        n->fin != (strcmp(base + len - 4, ".fin") == 0))
        abort();
}

static void manifest(const char *text, const char *base)
{
    delivery_name name;
    int named = delivery_manifest_name(base, &name);
    if (named)
        check_name(base, &name);
    delivery_manifest m;
    sl_error err = {0};
    if (delivery_manifest_parse(text, strlen(text), base, &m, &err) != 0)
        return;
    const char *stem = named ? name.stem : "shopzilla_2009-09-27";
    for (size_t i = 0; i < m.n_files; i++) {
        delivery_manifest_is_data_name(m.files[i].name, stem);
        delivery_manifest_is_lookup_name(m.files[i].name, stem);
    }
    delivery_manifest_free(&m);
}

/* The column names, laid out for every visitor mode, with and without
 * the exclusion columns. */
static void columns(const char *text)
{
    char **names;
    size_t n;
    if (rev_columns_split(text, strlen(text), &names, &n) != 0)
        return;
    for (int mode = REV_VISITOR_AUTO; mode <= REV_VISITOR_VISID; mode++) {
        for (int exclude = 0; exclude < 2; exclude++) {
            rev_layout l;
            char err[256];
            if (rev_layout_build(&l, (const char *const *)names, NULL, n, (rev_visitor_mode)mode,
                                 exclude, "column_headers.tsv", err, sizeof err) != 0)
                continue;
            for (size_t i = 0; i < l.nneed; i++)
                if (l.need[i].col >= n || (i && l.need[i - 1].col > l.need[i].col))
                    abort(); /* the scanner relies on columns in order */
            rev_layout_name(&l, REV_ROLE_EVENTS);
            rev_layout_clear(&l);
        }
    }
    rev_columns_free(names, n);
}

/* §2 one byte at a time: an unescaped LF ends a record, a backslash makes
 * the next byte literal, an unterminated last record counts. */
static int64_t count_by_rule(const uint8_t *p, size_t len)
{
    int64_t records = 0;
    int escaped = 0, open = 0;
    for (size_t i = 0; i < len; i++) {
        if (escaped)
            escaped = 0;
        else if (p[i] == '\\')
            escaped = 1;
        else if (p[i] == '\n') {
            records++;
            open = 0;
            continue;
        }
        open = 1;
    }
    return records + open;
}

static void records(const uint8_t *p, size_t len)
{
    delivery_count whole = {0}, pieces = {0};
    delivery_check_count(&whole, p, len);
    for (size_t at = 0, k = 0; at < len; k++) {
        size_t n = k % 7 + 1 < len - at ? k % 7 + 1 : len - at;
        delivery_check_count(&pieces, p + at, n);
        at += n;
    }
    int open_whole, open_pieces;
    int64_t a = delivery_check_count_end(&whole, &open_whole);
    int64_t b = delivery_check_count_end(&pieces, &open_pieces);
    if (a != b || open_whole != open_pieces || a != count_by_rule(p, len))
        abort(); /* where the reads split the data changed the count */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *parts[4];
    fuzz_split(data, size, parts, 4);
    manifest(parts[0], parts[1]);
    columns(parts[2]);
    size_t at = (size_t)(parts[3] - parts[0]); /* the data keeps its NULs */
    records(data + at, at < size ? size - at : 0);
    free(parts[0]);
    return 0;
}
