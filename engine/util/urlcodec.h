/* urlcodec.h — percent-decoding as S3 event keys need it. */
#ifndef SLUICE_URLCODEC_H
#define SLUICE_URLCODEC_H

#include <stddef.h>

/* Value of a hex digit (either case), or -1. */
int hex_digit_value(int c);

/* Decode an HTML-form-encoded value: first '+' is a space, then %XX is the
 * byte XX (hex, either case). A '%' not followed by two hex digits is kept
 * as is. Returns a new NUL-terminated string and its length in *outlen
 * (the result may contain NUL bytes: callers that need text check it). */
char *url_form_decode(const char *in, size_t len, size_t *outlen);

#endif
