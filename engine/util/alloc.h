/* alloc.h — allocation that aborts on exhaustion, under git's well-known
 * names: the engine does not limp on without memory, so callers never
 * test for NULL. Every pointer returned is owned by the caller, who
 * frees it with free(). Thread-safe. */
#ifndef SLUICE_ALLOC_H
#define SLUICE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
