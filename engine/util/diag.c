#include "autoconfig.h"
#include "util/diag.h"

#include <stdarg.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/strbuf.h"

void diag_add(diag_list *dl, diag_severity sev, const char *file, int line,
              int column, const char *fmt, ...)
{
    if (dl->count == dl->cap) {
        dl->cap = dl->cap ? dl->cap * 2 : 8;
        dl->items = xrealloc(dl->items, dl->cap * sizeof *dl->items);
    }
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);

    diag *d = &dl->items[dl->count++];
    d->severity = sev;
    d->file = xstrdup(file ? file : "");
    d->line = line;
    d->column = column;
    d->message = sb_steal(&sb);
    if (sev == DIAG_ERROR)
        dl->errors++;
}

void diag_print(const diag_list *dl, FILE *fp)
{
    for (size_t i = 0; i < dl->count; i++) {
        const diag *d = &dl->items[i];
        const char *sev = d->severity == DIAG_ERROR ? "error" : "warning";
        /* Problems with the file as a whole (it cannot be read) carry no
         * position. */
        if (d->line > 0 && d->column > 0)
            fprintf(fp, "%s:%d:%d: %s: %s\n", d->file, d->line, d->column, sev, d->message);
        else if (d->line > 0)
            fprintf(fp, "%s:%d: %s: %s\n", d->file, d->line, sev, d->message);
        else
            fprintf(fp, "%s: %s: %s\n", d->file, sev, d->message);
    }
    fflush(fp);
}

void diag_free(diag_list *dl)
{
    if (!dl)
        return;
    for (size_t i = 0; i < dl->count; i++) {
        free(dl->items[i].file);
        free(dl->items[i].message);
    }
    free(dl->items);
    dl->items = NULL;
    dl->count = dl->cap = dl->errors = 0;
}
