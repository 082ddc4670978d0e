/* direct.h — direct runs (`sluice process`): the locations named on the
 * command line, expanded into job inputs. An s3:// prefix is listed
 * through the configured storage, a directory is walked; both only with
 * `recursive`, in lexical order.
 *
 * Not thread-safe: one thread expands, before any job starts. */
#ifndef SLUICE_DIRECT_H
#define SLUICE_DIRECT_H

#include <stddef.h>

#include "config/location.h"
#include "storage/storage.h"
#include "util/error.h"

typedef struct direct_inputs {
    location *items; /* owned */
    size_t count, cap;
} direct_inputs;

/* Appends what `text` names to `out`. Returns 0, or -1 with err set
 * (a prefix or directory without `recursive`, a listing or walk that
 * failed). */
int direct_expand(storage *st, const char *text, int recursive, direct_inputs *out,
                  sl_error *err);
void direct_inputs_free(direct_inputs *in);

#endif
