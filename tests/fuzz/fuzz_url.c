/* fuzz_url.c — URLs and percent-encoding: the CURLU-backed parser every
 * endpoint, queue URL and certificate URL goes through, and the one
 * percent codec (form decoding of S3 event keys, encoding for SigV4).
 * Reaches: url_parse, url_origin, url_for_message, urlcodec_form_decode,
 * urlcodec_encode. */
#include "autoconfig.h"

#include <stdlib.h>

#include "fuzz.h"
#include "net/url.h"
#include "util/urlcodec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstring(data, size);
    url_parts u;
    if (url_parse(s, &u) == 0) {
        free(url_origin(&u));
        url_parts_free(&u);
    }
    free(url_for_message(s));
    size_t n;
    free(urlcodec_form_decode((const char *)data, size, &n));
    free(urlcodec_encode_dup((const char *)data, size, 0));
    free(urlcodec_encode_dup((const char *)data, size, 1));
    free(s);
    return 0;
}
