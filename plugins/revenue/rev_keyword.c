/* rev_keyword.c — see rev_keyword.h. */
#include "autoconfig.h"

#include "rev_keyword.h"

#include <string.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t rev_percent_decode(const char *v, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n) {
            int hi = hexval((unsigned char)v[i + 1]), lo = hexval((unsigned char)v[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (unsigned char)(hi << 4 | lo);
                i += 2;
            }
        }
        out[k++] = (char)c;
    }
    return k;
}

size_t rev_keyword_normalize(char *s, size_t n)
{
    size_t k = 0;
    int gap = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f) {
            gap = k > 0; /* leading blanks are dropped, inner runs kept as one */
            continue;
        }
        if (gap) {
            s[k++] = ' ';
            gap = 0;
        }
        s[k++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    return k;
}

size_t rev_query_keyword(const char *q, size_t n, const char *param, size_t plen, char *out)
{
    const char *p = q, *end = q + n;
    for (;;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        size_t len = (size_t)(pe - p);
        if (len > plen && p[plen] == '=' && memcmp(p, param, plen) == 0) {
            size_t k = rev_percent_decode(p + plen + 1, len - plen - 1, out);
            k = rev_keyword_normalize(out, k);
            if (k)
                return k;
        }
        if (!amp)
            return 0;
        p = amp + 1;
    }
}
