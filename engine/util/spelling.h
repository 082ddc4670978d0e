/* spelling.h — "did you mean" for configuration keys and plugin options. */
#ifndef SLUICE_SPELLING_H
#define SLUICE_SPELLING_H

#include <stddef.h>

/* Optimal string alignment distance (a transposition counts as one);
 * strings longer than 64 bytes are "far" (99). */
size_t spelling_distance(const char *a, const char *b);
/* True when `candidate` is a plausible intended spelling of `word`:
 * within distance 2, and closer than the candidate is long. */
int spelling_close(const char *word, const char *candidate, size_t *distance);

#endif
