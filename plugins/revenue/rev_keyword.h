/* rev_keyword.h — the search keyword of a query string: split on '&',
 * name before the first '=', value percent-decoded and normalised. */
#ifndef REV_KEYWORD_H
#define REV_KEYWORD_H

#include <stddef.h>

/* Percent-decode v[0..n) into out (room for n bytes): '+' is a space,
 * "%XX" (hex, either case) that byte, any other '%' stays literal.
 * Returns the decoded length. */
size_t rev_percent_decode(const char *v, size_t n, char *out);

/* Normalise s[0..n) in place: runs of ASCII whitespace, C0 control bytes
 * and DEL become one space, leading/trailing spaces go, ASCII letters are
 * lower-cased, bytes >= 0x80 stay. Returns the new length. */
size_t rev_keyword_normalize(char *s, size_t n);

/* The keyword: the first piece of the query q[0..n) named exactly `param`
 * whose value is non-empty once decoded and normalised. Writes it to out
 * (room for n bytes) and returns its length; 0 when there is none. */
size_t rev_query_keyword(const char *q, size_t n, const char *param, size_t plen, char *out);

#endif
