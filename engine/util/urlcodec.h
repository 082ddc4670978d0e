/* urlcodec.h — percent-encoding (RFC 3986, as SigV4 and URLs need it) and
 * decoding (HTML-form style, as S3 event keys need it). Pure functions:
 * thread-safe. */
#ifndef SLUICE_URLCODEC_H
#define SLUICE_URLCODEC_H

#include <stddef.h>

#include "util/strbuf.h"

/* Value of a hex digit (either case), or -1. */
int urlcodec_hex_value(int c);

/* Appends s[0..len) percent-encoded: unreserved characters (A-Z a-z 0-9
 * - _ . ~) stay, and '/' too with keep_slash (S3 object paths); every
 * other byte becomes %XX with upper-case hex. */
void urlcodec_encode(strbuf *sb, const char *s, size_t len, int keep_slash);
/* The same as a new string. */
char *urlcodec_encode_dup(const char *s, size_t len, int keep_slash);

/* Decode an HTML-form-encoded value: first '+' is a space, then %XX is the
 * byte XX (hex, either case). A '%' not followed by two hex digits is kept
 * as is. Returns a new NUL-terminated string and its length in *outlen
 * (the result may contain NUL bytes: callers that need text check it). */
char *urlcodec_form_decode(const char *in, size_t len, size_t *outlen);

#endif
