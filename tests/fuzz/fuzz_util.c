/* fuzz_util.c — fuzz.h's helpers. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_split(const uint8_t *data, size_t size, char **parts, size_t n)
{
    char *all = malloc(size + n);
    if (!all)
        abort();
    if (size)
        memcpy(all, data, size);
    memset(all + size, 0, n);
    char *p = all;
    for (size_t i = 0; i < n; i++) {
        parts[i] = p;
        if (p < all + size)
            p += strlen(p) + 1;
        else
            p = all + size; /* the terminating NULs: "" */
    }
}
