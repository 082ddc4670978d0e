/* tab_value.h — the tabular plugin's column types and the conversion of
 * text to typed values and back.
 *
 * Types: string, bool, int32, int64, double, decimal(p,s) (p <= 18, held
 * as the unscaled int64), date (days since 1970-01-01), timestamp (UTC
 * microseconds since the epoch). An empty text in a typed column is null.
 * Pure functions over caller-owned memory; thread-safe. */
#ifndef TAB_VALUE_H
#define TAB_VALUE_H

#include <stddef.h>
#include <stdint.h>

typedef enum tab_type {
    TAB_STRING,
    TAB_BOOL,
    TAB_INT32,
    TAB_INT64,
    TAB_DOUBLE,
    TAB_DECIMAL,
    TAB_DATE,
    TAB_TIMESTAMP
} tab_type;

typedef struct tab_coltype {
    tab_type type;
    int precision, scale; /* decimal */
    const char *format;   /* date/timestamp: strptime format, NULL for ISO 8601 */
} tab_coltype;

/* A typed value. Strings borrow their bytes from the record. */
typedef struct tab_value {
    int null;
    int64_t i; /* bool, ints, decimal (unscaled), date (days), timestamp (us) */
    double d;
    const char *s;
    size_t len;
} tab_value;

/* Parses "int64", "decimal(12,2)", ... Returns 0, or -1 with a message. */
int tab_value_type_parse(const char *spec, tab_coltype *out, char *err, size_t errlen);
/* The type's name as written in options: "decimal(12,2)". */
void tab_value_type_name(const tab_coltype *t, char *buf, size_t len);
/* Converts text (not NUL-terminated) to a value of type `t`. Returns 0,
 * or -1 with why it does not convert in `why`. */
int tab_value_convert(const tab_coltype *t, const char *s, size_t len, tab_value *out,
                      char *why, size_t whylen);
/* Canonical text of a non-null, non-string value (decimal "-12.30", date
 * "2026-01-31", timestamp "2026-01-31 12:00:00[.ffffff]", bool
 * "true"/"false"). `buf` holds at least TAB_TEXT_MAX bytes; returns the
 * length written (no NUL needed by callers, one is written anyway). */
#define TAB_TEXT_MAX 48
size_t tab_value_text(const tab_coltype *t, const tab_value *v, char *buf);
/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t tab_value_days_from_civil(int64_t y, unsigned m, unsigned d);
void tab_value_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
