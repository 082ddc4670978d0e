/* config_fixture.h — what the C tests that load configurations share:
 * files written into the test's temporary directory (`tmpdir`, which the
 * test fills in main()) and diagnostics as text. Header-only: static. */
#ifndef SLUICE_TESTS_CONFIG_FIXTURE_H
#define SLUICE_TESTS_CONFIG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/diag.h"
#include "util/strbuf.h"

static char tmpdir[256];

static char *write_file(const char *rel, const char *text)
{
    char *path = xasprintf("%s/%s", tmpdir, rel);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        perror(path);
        exit(99);
    }
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* Every diagnostic as "line:col: severity: message", one per line. */
static char *format_diags(const diag_list *dl, const char *path)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < dl->count; i++) {
        const diag *d = &dl->items[i];
        if (strcmp(d->file, path) != 0)
            sb_addf(&sb, "[file %s] ", d->file);
        sb_addf(&sb, "%s%d:%d: %s: %s", i ? "\n" : "", d->line, d->column,
                d->severity == DIAG_ERROR ? "error" : "warning", d->message);
    }
    return sb_steal(&sb);
}

#endif
