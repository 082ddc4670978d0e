/* rev_url.c — see rev_url.h. */
#include "autoconfig.h"

#include "rev_url.h"

#include <string.h>
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The first of a, b or c in [p, end), else end. With SSE2 (the x86-64
 * baseline) 16 bytes at a time: a referrer is split on every hit, and its
 * byte loops were most of the split. */
static const char *first_of(const char *p, const char *end, char a, char b, char c)
{
#if defined(__x86_64__) && defined(__SSE2__)
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);
    for (; end - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i eq = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
                                  _mm_cmpeq_epi8(x, vc));
        unsigned m = (unsigned)_mm_movemask_epi8(eq);
        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    while (p < end && *p != a && *p != b && *p != c)
        p++;
    return p;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

int rev_url_split(const char *s, size_t n, rev_url *u)
{
    size_t i;
    if (n < 7 || lower(s[0]) != 'h' || lower(s[1]) != 't' || lower(s[2]) != 't' ||
        lower(s[3]) != 'p')
        return -1;
    i = 4;
    if (lower(s[i]) == 's')
        i++;
    if (n - i < 3 || memcmp(s + i, "://", 3) != 0)
        return -1;
    i += 3;

    size_t a = i;
    i = (size_t)(first_of(s + i, s + n, '/', '?', '#') - s);
    u->authority = s + a;
    u->authority_len = i - a;

    i = (size_t)(first_of(s + i, s + n, '?', '#', '#') - s);
    if (i < n && s[i] == '?') {
        const char *q = s + i + 1;
        const char *hash = memchr(q, '#', n - i - 1);
        u->query = q;
        u->query_len = hash ? (size_t)(hash - q) : n - i - 1;
    } else {
        u->query = NULL;
        u->query_len = 0;
    }
    return 0;
}

long rev_url_host(const char *auth, size_t n, char *buf, size_t cap)
{
    const char *start = auth, *end = auth + n;
    for (const char *p = end; p > auth; p--) {
        if (p[-1] == '@') {
            start = p;
            break;
        }
    }
    if (start < end && *start == '[')
        return -1;
    const char *colon = memchr(start, ':', (size_t)(end - start));
    if (colon)
        end = colon;
    if (end > start && end[-1] == '.')
        end--;
    size_t len = (size_t)(end - start);
    if (len == 0 || len > cap)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c <= 0x20 || c == 0x7f)
            return -1;
        buf[i] = lower((char)c);
    }
    return (long)len;
}
