#include "autoconfig.h"
#include "util/jsonutil.h"

#include "util/strbuf.h"

json_t *jsonutil_text(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    strbuf clean = STRBUF_INIT;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80)
            sb_addc(&clean, (char)c);
        else
            sb_addf(&clean, "\\x%02x", c);
    }
    j = json_string(sb_str(&clean));
    sb_free(&clean);
    return j;
}
