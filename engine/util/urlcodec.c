#include "autoconfig.h"
#include "util/urlcodec.h"

#include "util/alloc.h"
#include "util/strbuf.h"

int hex_digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One pass is enough: '+' becomes a space and "%2B" becomes '+', so the
 * result is the same as decoding '+' first and %XX after. */
char *url_form_decode(const char *in, size_t len, size_t *outlen)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '+') {
            out[n++] = ' ';
            continue;
        }
        if (c == '%' && len - i >= 3) {
            int hi = hex_digit_value((unsigned char)in[i + 1]);
            int lo = hex_digit_value((unsigned char)in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out[n++] = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    if (outlen)
        *outlen = n;
    return out;
}
