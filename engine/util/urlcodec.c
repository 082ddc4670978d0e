#include "autoconfig.h"
#include "util/urlcodec.h"

#include "util/alloc.h"
#include "util/strbuf.h"

int urlcodec_hex_value(int c)
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
char *urlcodec_form_decode(const char *in, size_t len, size_t *outlen)
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
            int hi = urlcodec_hex_value((unsigned char)in[i + 1]);
            int lo = urlcodec_hex_value((unsigned char)in[i + 2]);
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

void urlcodec_encode(strbuf *sb, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~' || (keep_slash && ch == '/')) {
            sb_addc(sb, (char)ch);
        } else {
            char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            sb_add(sb, esc, 3);
        }
    }
}

char *urlcodec_encode_dup(const char *s, size_t len, int keep_slash)
{
    strbuf sb = STRBUF_INIT;
    urlcodec_encode(&sb, s, len, keep_slash);
    if (!sb.buf)
        sb_adds(&sb, "");
    return sb_steal(&sb);
}
