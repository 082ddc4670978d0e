/* tab_value.c — column types and conversions (tab_value.h). */
#include "autoconfig.h"
#include "tab_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int tab_value_type_parse(const char *spec, tab_coltype *out, char *err, size_t errlen)
{
    static const struct { const char *name; tab_type t; } simple[] = {
        {"string", TAB_STRING}, {"bool", TAB_BOOL},       {"int32", TAB_INT32},
        {"int64", TAB_INT64},   {"double", TAB_DOUBLE},   {"date", TAB_DATE},
        {"timestamp", TAB_TIMESTAMP},
    };
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(spec, simple[i].name) == 0) {
            out->type = simple[i].t;
            return 0;
        }
    int p, s, n = 0;
    if (sscanf(spec, "decimal(%d,%d)%n", &p, &s, &n) == 2 && spec[n] == '\0') {
        if (p < 1 || p > 18 || s < 0 || s > p) {
            snprintf(err, errlen, "type %s: precision must be 1..18 and scale 0..precision",
                     spec);
            return -1;
        }
        out->type = TAB_DECIMAL;
        out->precision = p;
        out->scale = s;
        return 0;
    }
    snprintf(err, errlen,
             "unknown type \"%s\" (string, bool, int32, int64, double, decimal(p,s), date, "
             "timestamp)",
             spec);
    return -1;
}

void tab_value_type_name(const tab_coltype *t, char *buf, size_t len)
{
    static const char *const names[] = {"string", "bool",    "int32", "int64",
                                        "double", "decimal", "date",  "timestamp"};
    if (t->type == TAB_DECIMAL)
        snprintf(buf, len, "decimal(%d,%d)", t->precision, t->scale);
    else
        snprintf(buf, len, "%s", names[t->type]);
}

int64_t tab_value_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void tab_value_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int why(char *buf, size_t len, const char *msg)
{
    snprintf(buf, len, "%s", msg);
    return -1;
}

static int parse_int(const char *s, size_t len, int64_t lo, int64_t hi, int64_t *out,
                     char *w, size_t wl)
{
    char tmp[32];
    if (len >= sizeof tmp)
        return why(w, wl, "is not an integer (too long)");
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (end == tmp || *end || tmp[0] == ' ' || tmp[0] == '\t')
        return why(w, wl, "is not an integer");
    if (errno == ERANGE || v < lo || v > hi)
        return why(w, wl, "is out of range");
    *out = v;
    return 0;
}

static int parse_bool(const char *s, size_t len, int64_t *out, char *w, size_t wl)
{
    static const char *const t[] = {"true", "t", "1", "yes", "y"};
    static const char *const f[] = {"false", "f", "0", "no", "n"};
    for (size_t i = 0; i < 5; i++) {
        if (strlen(t[i]) == len && strncasecmp(s, t[i], len) == 0)
            return (*out = 1, 0);
        if (strlen(f[i]) == len && strncasecmp(s, f[i], len) == 0)
            return (*out = 0, 0);
    }
    return why(w, wl, "is not a boolean (true/false, 1/0, yes/no)");
}

static int parse_double(const char *s, size_t len, double *out, char *w, size_t wl)
{
    char tmp[64];
    if (len >= sizeof tmp)
        return why(w, wl, "is not a number (too long)");
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    /* decimal notation only: no hex floats, no leading blanks */
    for (size_t i = 0; i < len; i++)
        if (tmp[i] == 'x' || tmp[i] == 'X' || tmp[i] == ' ' || tmp[i] == '\t')
            return why(w, wl, "is not a number");
    char *end;
    errno = 0;
    double d = strtod(tmp, &end);
    if (end == tmp || *end)
        return why(w, wl, "is not a number");
    if (errno == ERANGE && isinf(d))
        return why(w, wl, "is out of range for a double");
    *out = d;
    return 0;
}

/* [+-]digits[.digits]: at most `scale` decimals, `precision` digits. */
static int parse_decimal(const tab_coltype *t, const char *s, size_t len, int64_t *out,
                         char *w, size_t wl)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    int64_t v = 0;
    int digits = 0, frac = 0, seen_dot = 0, any = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (c < '0' || c > '9')
            return why(w, wl, "is not a decimal number");
        any = 1;
        if (seen_dot && ++frac > t->scale)
            return why(w, wl, "has more decimal places than the scale allows");
        if (v == 0 && c == '0' && !seen_dot)
            continue; /* leading zeros do not count */
        if (++digits > t->precision)
            return why(w, wl, "has more digits than the precision allows");
        v = v * 10 + (c - '0');
    }
    if (!any)
        return why(w, wl, "is not a decimal number");
    for (; frac < t->scale; frac++) {
        if (++digits > t->precision && v != 0)
            return why(w, wl, "has more digits than the precision allows");
        v *= 10;
    }
    *out = neg ? -v : v;
    return 0;
}

static int digits_n(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return 0;
}

static int valid_ymd(int y, int m, int d)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* ISO 8601: YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][Z|(+|-)HH[:]MM]. With
 * `date_only`, nothing may follow the date. */
static int parse_iso(const char *s, size_t len, int date_only, int64_t *days, int64_t *us)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (digits_n(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
        digits_n(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
        digits_n(s, len, &i, 2, &d) || !valid_ymd(y, mo, d))
        return -1;
    *days = tab_value_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *us = 0;
    if (i == len)
        return 0;
    if (date_only || (s[i] != ' ' && s[i] != 'T'))
        return -1;
    i++;
    if (digits_n(s, len, &i, 2, &h) || i >= len || s[i++] != ':' || digits_n(s, len, &i, 2, &mi))
        return -1;
    if (i < len && s[i] == ':') {
        i++;
        if (digits_n(s, len, &i, 2, &se))
            return -1;
    }
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int n = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (n < 6) {
                frac = frac * 10 + (s[i] - '0');
                n++;
            }
            i++;
        }
        if (n == 0)
            return -1;
        for (; n < 6; n++)
            frac *= 10;
    }
    if (h > 23 || mi > 59 || se > 60)
        return -1;
    int64_t offset = 0;
    if (i < len && s[i] == 'Z') {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
        if (digits_n(s, len, &i, 2, &oh))
            return -1;
        if (i < len && s[i] == ':')
            i++;
        if (i < len && digits_n(s, len, &i, 2, &om))
            return -1;
        offset = sign * ((int64_t)oh * 3600 + om * 60);
    }
    if (i != len)
        return -1;
    *us = (((int64_t)h * 3600 + mi * 60 + se) - offset) * 1000000 + frac;
    return 0;
}

/* Fractional seconds and a final Z after a time: what may follow a format. */
static int parse_tail(const char *s, size_t len, size_t i, int64_t *frac)
{
    *frac = 0;
    if (i < len && s[i] == '.') {
        int n = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (n < 6) {
                *frac = *frac * 10 + (s[i] - '0');
                n++;
            }
        if (n == 0)
            return -1;
        for (; n < 6; n++)
            *frac *= 10;
    }
    if (i < len && s[i] == 'Z')
        i++;
    return i == len ? 0 : -1;
}

/* "%Y-%m-%d %H:%M:%S" and "%Y-%m-%d", the common formats, in their
 * strict two-digit form without strptime (a fraction of its cost); any
 * other text still goes to strptime. */
static int parse_common(const char *fmt, const char *s, size_t len, int64_t *days, int64_t *us,
                        int *handled)
{
    int with_time = strcmp(fmt, "%Y-%m-%d %H:%M:%S") == 0;
    *handled = with_time || strcmp(fmt, "%Y-%m-%d") == 0;
    if (!*handled)
        return -1;
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (digits_n(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
        digits_n(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
        digits_n(s, len, &i, 2, &d) || !valid_ymd(y, mo, d))
        return -1;
    if (with_time && (i >= len || s[i++] != ' ' || digits_n(s, len, &i, 2, &h) || i >= len ||
                      s[i++] != ':' || digits_n(s, len, &i, 2, &mi) || i >= len ||
                      s[i++] != ':' || digits_n(s, len, &i, 2, &se) || h > 23 || mi > 59 ||
                      se > 60))
        return -1;
    int64_t frac;
    if (parse_tail(s, len, i, &frac) != 0)
        return -1;
    *days = tab_value_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *us = ((int64_t)h * 3600 + mi * 60 + se) * 1000000 + frac;
    return 0;
}

/* With a strptime format; fractional seconds may follow the format. */
static int parse_format(const char *fmt, const char *s, size_t len, int64_t *days, int64_t *us)
{
    int handled;
    if (parse_common(fmt, s, len, days, us, &handled) == 0)
        return 0; /* else strptime decides, e.g. on one-digit months */
    char tmp[128];
    if (len >= sizeof tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_mday = 1;
    const char *end = strptime(tmp, fmt, &tm);
    if (!end)
        return -1;
    int64_t frac = 0;
    if (*end == '.') {
        int n = 0;
        for (end++; *end >= '0' && *end <= '9'; end++)
            if (n < 6) {
                frac = frac * 10 + (*end - '0');
                n++;
            }
        if (n == 0)
            return -1;
        for (; n < 6; n++)
            frac *= 10;
    }
    if (*end == 'Z')
        end++;
    int y = tm.tm_year + 1900, m = tm.tm_mon + 1;
    if (*end || !valid_ymd(y, m, tm.tm_mday))
        return -1;
    *days = tab_value_days_from_civil(y, (unsigned)m, (unsigned)tm.tm_mday);
    *us = ((int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) * 1000000 + frac;
    return 0;
}

static int parse_time(const tab_coltype *t, const char *s, size_t len, int64_t *out, char *w,
                      size_t wl)
{
    int64_t days, us;
    int rc = t->format ? parse_format(t->format, s, len, &days, &us)
                       : parse_iso(s, len, t->type == TAB_DATE, &days, &us);
    if (rc != 0) {
        if (t->format)
            snprintf(w, wl, "does not match the format \"%s\"", t->format);
        else
            snprintf(w, wl, "is not an ISO 8601 %s",
                     t->type == TAB_DATE ? "date (YYYY-MM-DD)" : "timestamp");
        return -1;
    }
    if (t->type == TAB_DATE) {
        if (us != 0)
            return why(w, wl, "has a time of day, but the column is a date");
        *out = days;
        return 0;
    }
    /* the text form has four-digit years: an offset must not move a
     * timestamp out of them in UTC, or it could not be read back */
    const int64_t day = 86400000000LL, v = days * day + us;
    if (v < tab_value_days_from_civil(0, 1, 1) * day ||
        v >= (tab_value_days_from_civil(9999, 12, 31) + 1) * day)
        return why(w, wl, "is out of range (years 0000 to 9999 in UTC)");
    *out = v;
    return 0;
}

int tab_value_convert(const tab_coltype *t, const char *s, size_t len, tab_value *out,
                      char *w, size_t wl)
{
    memset(out, 0, sizeof *out);
    if (t->type == TAB_STRING) {
        out->s = s;
        out->len = len;
        return 0;
    }
    if (len == 0) {
        out->null = 1;
        return 0;
    }
    switch (t->type) {
    case TAB_BOOL: return parse_bool(s, len, &out->i, w, wl);
    case TAB_INT32: return parse_int(s, len, INT32_MIN, INT32_MAX, &out->i, w, wl);
    case TAB_INT64: return parse_int(s, len, INT64_MIN, INT64_MAX, &out->i, w, wl);
    case TAB_DOUBLE: return parse_double(s, len, &out->d, w, wl);
    case TAB_DECIMAL: return parse_decimal(t, s, len, &out->i, w, wl);
    case TAB_DATE:
    case TAB_TIMESTAMP: return parse_time(t, s, len, &out->i, w, wl);
    case TAB_STRING: break;
    }
    return why(w, wl, "has an unknown type");
}

/* Decimal digits of `v`, at least `width` of them (zero-padded). */
static size_t put_uint(char *p, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    for (int i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return (size_t)n;
}

static size_t put_int(char *p, int64_t v)
{
    if (v >= 0)
        return put_uint(p, (uint64_t)v, 1);
    *p = '-';
    return 1 + put_uint(p + 1, (uint64_t)0 - (uint64_t)v, 1);
}

static size_t put_date(char *p, int64_t days)
{
    int64_t y;
    unsigned m, d;
    tab_value_civil_from_days(days, &y, &m, &d);
    size_t n = y < 0 ? (p[0] = '-', 1 + put_uint(p + 1, (uint64_t)-y, 4)) : put_uint(p, (uint64_t)y, 4);
    p[n++] = '-';
    n += put_uint(p + n, m, 2);
    p[n++] = '-';
    n += put_uint(p + n, d, 2);
    return n;
}

size_t tab_value_text(const tab_coltype *t, const tab_value *v, char *buf)
{
    size_t n = 0;
    switch (t->type) {
    case TAB_STRING:
        n = v->len < TAB_TEXT_MAX - 1 ? v->len : TAB_TEXT_MAX - 1;
        memcpy(buf, v->s, n);
        break;
    case TAB_BOOL:
        n = v->i ? 4 : 5;
        memcpy(buf, v->i ? "true" : "false", n);
        break;
    case TAB_INT32:
    case TAB_INT64: n = put_int(buf, v->i); break;
    case TAB_DOUBLE: { /* the shortest of 15 or 17 digits that reads back */
        int k = snprintf(buf, TAB_TEXT_MAX, "%.15g", v->d);
        if (strtod(buf, NULL) != v->d && v->d == v->d)
            k = snprintf(buf, TAB_TEXT_MAX, "%.17g", v->d);
        n = k < 0 ? 0 : (size_t)k;
        break;
    }
    case TAB_DECIMAL: {
        uint64_t u = v->i < 0 ? (uint64_t)0 - (uint64_t)v->i : (uint64_t)v->i;
        uint64_t p = 1;
        for (int k = 0; k < t->scale; k++)
            p *= 10;
        if (v->i < 0)
            buf[n++] = '-';
        n += put_uint(buf + n, u / p, 1);
        if (t->scale) {
            buf[n++] = '.';
            n += put_uint(buf + n, u % p, t->scale);
        }
        break;
    }
    case TAB_DATE: n = put_date(buf, v->i); break;
    case TAB_TIMESTAMP: {
        int64_t days = v->i / 86400000000LL, us = v->i % 86400000000LL;
        if (us < 0) {
            us += 86400000000LL;
            days--;
        }
        n = put_date(buf, days);
        int64_t sec = us / 1000000;
        buf[n++] = ' ';
        n += put_uint(buf + n, (uint64_t)(sec / 3600), 2);
        buf[n++] = ':';
        n += put_uint(buf + n, (uint64_t)(sec / 60 % 60), 2);
        buf[n++] = ':';
        n += put_uint(buf + n, (uint64_t)(sec % 60), 2);
        if (us % 1000000) {
            buf[n++] = '.';
            n += put_uint(buf + n, (uint64_t)(us % 1000000), 6);
        }
        break;
    }
    }
    buf[n] = '\0';
    return n;
}
