/* diag.h — configuration diagnostics, printed as "file:line:column: message".
 * Lines and columns are 1-based. */
#ifndef SLUICE_DIAG_H
#define SLUICE_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef enum diag_severity { DIAG_ERROR = 0, DIAG_WARNING } diag_severity;

typedef struct diag {
    diag_severity severity;
    char *file;
    int line, column;
    char *message;
} diag;

typedef struct diag_list {
    diag *items;
    size_t count, cap;
    size_t errors; /* items with DIAG_ERROR */
} diag_list;

void diag_add(diag_list *dl, diag_severity sev, const char *file, int line,
              int column, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* One line per diagnostic: "file:line:col: error: message". */
void diag_print(const diag_list *dl, FILE *fp);
void diag_free(diag_list *dl);

#endif
