/* tab_read.c — the reader's input buffer, and CSV/TSV records (tab_read.h).
 * JSON Lines are in tab_jsonl.c. */
#include "autoconfig.h"
#include "tab_read_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN_SIZE (1u << 20)

int tab_read_refill(tab_reader *r)
{
    if (r->eof || r->failed)
        return 0;
    ssize_t n = r->pull(r->ctx, r->in, IN_SIZE);
    if (n < 0) {
        r->failed = 1;
        return -1;
    }
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    r->in_len = (size_t)n;
    r->in_pos = 0;
    return 1;
}

int tab_read_rb_add(tab_reader *r, const void *p, size_t n)
{
    if (n == 0)
        return 0; /* an empty line before anything: r->rb is NULL, NULL + 0 undefined */
    if (r->rb_cap - r->rb_len < n) {
        size_t cap = r->rb_cap ? r->rb_cap : 4096;
        while (cap - r->rb_len < n)
            cap *= 2;
        char *b = realloc(r->rb, cap);
        if (!b)
            return -1;
        r->rb = b;
        r->rb_cap = cap;
    }
    memcpy(r->rb + r->rb_len, p, n);
    r->rb_len += n;
    return 0;
}

static inline int rb_addc(tab_reader *r, char c)
{
    if (r->rb_len == r->rb_cap)
        return tab_read_rb_add(r, &c, 1);
    r->rb[r->rb_len++] = c;
    return 0;
}

int tab_reader_grow_fields(tab_reader *r, size_t n)
{
    if (n <= r->capfields)
        return 0;
    size_t cap = r->capfields ? r->capfields : 16;
    while (cap < n)
        cap *= 2;
    tab_field *f = realloc(r->fields, cap * sizeof *f);
    if (!f)
        return -1;
    r->fields = f;
    r->capfields = cap;
    return 0;
}

static int end_field(tab_reader *r)
{
    if (r->nf == r->capf) {
        size_t cap = r->capf ? r->capf * 2 : 16;
        size_t *e = realloc(r->ends, cap * sizeof *e);
        if (!e)
            return -1;
        r->ends = e;
        r->capf = cap;
    }
    r->ends[r->nf++] = r->rb_len;
    return 0;
}

size_t tab_read_utf8_check(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        while (i + 8 <= len) { /* ASCII runs, 8 bytes at a time */
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned min;
        if ((c & 0xE0) == 0xC0) n = 1, min = 0x80;
        else if ((c & 0xF0) == 0xE0) n = 2, min = 0x800;
        else if ((c & 0xF8) == 0xF0 && c <= 0xF4) n = 3, min = 0x10000;
        else return i;
        if (i + n >= len)
            return i;
        unsigned cp = c & (0x3F >> n);
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n + 1;
    }
    return len;
}

/* Latin-1 fields become UTF-8 in r->conv; fields point there. */
static int latin1_fields(tab_reader *r, tab_record *rec)
{
    size_t need = 0;
    for (size_t i = 0; i < rec->n; i++)
        need += rec->f[i].len * 2;
    if (need == 0)
        return 0; /* empty fields: r->conv may not exist yet */
    if (need > r->conv_cap) {
        char *c = realloc(r->conv, need);
        if (!c)
            return -1;
        r->conv = c;
        r->conv_cap = need;
    }
    char *o = r->conv;
    for (size_t i = 0; i < rec->n; i++) {
        char *start = o;
        for (size_t k = 0; k < rec->f[i].len; k++) {
            unsigned char c = (unsigned char)rec->f[i].p[k];
            if (c < 0x80) {
                *o++ = (char)c;
            } else {
                *o++ = (char)(0xC0 | (c >> 6));
                *o++ = (char)(0x80 | (c & 0x3F));
            }
        }
        rec->f[i].p = start;
        rec->f[i].len = (size_t)(o - start);
    }
    return 0;
}

static int finish_record(tab_reader *r, tab_record *rec, tab_bad *bad, int64_t line)
{
    if (tab_reader_grow_fields(r, r->nf) != 0)
        return TAB_FAIL;
    /* a record of empty fields before any byte was kept: fields point at
     * "", not at NULL + 0 */
    const char *rb = r->rb ? r->rb : "";
    size_t start = 0;
    for (size_t i = 0; i < r->nf; i++) {
        r->fields[i] = (tab_field){rb + start, r->ends[i] - start, 0};
        start = r->ends[i];
    }
    rec->f = r->fields;
    rec->n = r->nf;
    rec->line = line;
    rec->raw = NULL;
    if (r->o.latin1)
        return latin1_fields(r, rec) == 0 ? TAB_RECORD : TAB_FAIL;
    for (size_t i = 0; i < rec->n; i++) {
        size_t at = tab_read_utf8_check(rec->f[i].p, rec->f[i].len);
        if (at != rec->f[i].len) {
            bad->line = line;
            bad->field = (long)i;
            snprintf(bad->msg, sizeof bad->msg,
                     "invalid UTF-8 (byte 0x%02X at offset %zu of the field; encoding: "
                     "latin-1 reads ISO-8859-1 input)",
                     (unsigned char)rec->f[i].p[at], at);
            return TAB_BAD_RECORD;
        }
    }
    return TAB_RECORD;
}

/* Skips to the end of the line after a malformed field. */
static void skip_line(tab_reader *r)
{
    int c;
    while ((c = tab_read_getb(r)) != -1 && c != '\n')
        ;
    if (c == '\n')
        r->line++;
}

enum { ST_START, ST_PLAIN, ST_QUOTED, ST_QUOTE_SEEN };

/* One CSV or TSV record. */
static int dsv_next(tab_reader *r, tab_record *rec, tab_bad *bad)
{
    const int csv = r->o.format == TAB_CSV;
    const int delim = (unsigned char)r->o.delimiter, quote = csv ? (unsigned char)r->o.quote : -2;
    const int esc = !csv && r->o.tsv_escapes;
    /* a bad record has no fields and no raw line: nothing of the caller's
     * last record may show through (a reject would print it) */
    memset(rec, 0, sizeof *rec);
    r->rb_len = 0;
    r->nf = 0;
    int state = ST_START;
    int64_t line = r->line, quote_line = 0;
    for (;;) {
        /* plain bytes in bulk */
        if (state == ST_PLAIN || state == ST_START) {
            size_t i = r->in_pos;
            while (i < r->in_len) {
                unsigned char c = (unsigned char)r->in[i];
                if (c == delim || c == '\n' || c == '\r' || c == quote || (esc && c == '\\'))
                    break;
                i++;
            }
            if (i > r->in_pos) {
                if (tab_read_rb_add(r, r->in + r->in_pos, i - r->in_pos) != 0)
                    return TAB_FAIL;
                r->in_pos = i;
                state = ST_PLAIN;
            }
        } else if (state == ST_QUOTED) {
            size_t i = r->in_pos;
            while (i < r->in_len) {
                unsigned char c = (unsigned char)r->in[i];
                if (c == quote)
                    break;
                if (c == '\n')
                    r->line++;
                i++;
            }
            if (i > r->in_pos) {
                if (tab_read_rb_add(r, r->in + r->in_pos, i - r->in_pos) != 0)
                    return TAB_FAIL;
                r->in_pos = i;
            }
        }
        int c = tab_read_getb(r);
        if (c == -1) {
            if (r->failed)
                return TAB_FAIL;
            if (state == ST_QUOTED) {
                bad->line = line;
                bad->field = (long)r->nf;
                snprintf(bad->msg, sizeof bad->msg,
                         "unterminated quoted field (the quote opened on line %lld is never "
                         "closed before the end of the input)",
                         (long long)quote_line);
                rec->line = line;
                return TAB_BAD_RECORD;
            }
            if (state == ST_START && r->nf == 0)
                return TAB_EOF;
            if (end_field(r) != 0)
                return TAB_FAIL;
            return finish_record(r, rec, bad, line);
        }
        if (state == ST_QUOTED) {
            if (c == quote) {
                state = ST_QUOTE_SEEN;
                continue;
            }
            if (c == '\n')
                r->line++;
            if (rb_addc(r, (char)c) != 0)
                return TAB_FAIL;
            continue;
        }
        if (state == ST_QUOTE_SEEN && c == quote) {
            if (rb_addc(r, (char)quote) != 0)
                return TAB_FAIL;
            state = ST_QUOTED;
            continue;
        }
        if (c == delim) {
            if (end_field(r) != 0)
                return TAB_FAIL;
            state = ST_START;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (c == '\r') { /* CRLF is one line end */
                if (r->in_pos == r->in_len)
                    tab_read_refill(r);
                if (r->in_pos < r->in_len && r->in[r->in_pos] == '\n')
                    r->in_pos++;
            }
            r->line++;
            if (state == ST_START && r->nf == 0) { /* a blank line */
                line = r->line;
                continue;
            }
            if (end_field(r) != 0)
                return TAB_FAIL;
            return finish_record(r, rec, bad, line);
        }
        if (state == ST_QUOTE_SEEN) {
            bad->line = line;
            bad->field = (long)r->nf;
            snprintf(bad->msg, sizeof bad->msg,
                     "unexpected character '%c' after the closing quote of a quoted field "
                     "(a quote inside a field is written twice)",
                     c >= 0x20 && c < 0x7F ? c : '?');
            rec->line = line;
            skip_line(r);
            return TAB_BAD_RECORD;
        }
        if (state == ST_START && c == quote) {
            state = ST_QUOTED;
            quote_line = r->line;
            continue;
        }
        if (esc && c == '\\') {
            int d = tab_read_getb(r);
            if (d == '\t' || d == '\n' || d == '\\' || d == '\r') {
                if (d == '\n')
                    r->line++;
                if (rb_addc(r, (char)d) != 0)
                    return TAB_FAIL;
            } else {
                if (rb_addc(r, '\\') != 0)
                    return TAB_FAIL;
                if (d != -1)
                    r->in_pos--; /* read again as an ordinary byte */
            }
            state = ST_PLAIN;
            continue;
        }
        if (rb_addc(r, (char)c) != 0)
            return TAB_FAIL;
        state = ST_PLAIN;
    }
}

static int set_columns_dsv(tab_reader *r, int *bad_input, char *err, size_t errlen)
{
    tab_record rec;
    tab_bad bad;
    int rc = dsv_next(r, &rec, &bad);
    if (rc == TAB_FAIL) {
        snprintf(err, errlen, "reading the input failed");
        return -1;
    }
    if (rc == TAB_BAD_RECORD && r->o.header) {
        *bad_input = 1;
        snprintf(err, errlen, "line %lld (the header): %s", (long long)bad.line, bad.msg);
        return -1;
    }
    size_t n = rc == TAB_EOF ? 0 : rec.n;
    if (rc == TAB_BAD_RECORD)
        n = 0;
    r->cols = calloc(n ? n : 1, sizeof *r->cols);
    if (!r->cols)
        goto oom;
    r->ncols = n;
    for (size_t i = 0; i < n; i++) {
        if (r->o.header && rec.f[i].len)
            r->cols[i] = strndup(rec.f[i].p, rec.f[i].len);
        else if (asprintf(&r->cols[i], "column%zu", i + 1) < 0)
            r->cols[i] = NULL;
        if (!r->cols[i])
            goto oom;
    }
    if (!r->o.header && rc != TAB_EOF) {
        r->pending = 1; /* the first line is data */
        r->pending_rc = rc;
        r->pending_rec = rec;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

tab_reader *tab_reader_open(const tab_read_opts *o, tab_pull pull, void *ctx, int *bad_input,
                            char *err, size_t errlen)
{
    *bad_input = 0;
    tab_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->in = malloc(IN_SIZE))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->o = *o;
    r->pull = pull;
    r->ctx = ctx;
    r->line = 1;
    /* a UTF-8 byte order mark is not data */
    while (r->in_len < 3 && !r->eof && !r->failed) {
        ssize_t n = pull(ctx, r->in + r->in_len, IN_SIZE - r->in_len);
        if (n < 0)
            r->failed = 1;
        else if (n == 0)
            r->eof = 1;
        else
            r->in_len += (size_t)n;
    }
    if (r->in_len >= 3 && memcmp(r->in, "\xEF\xBB\xBF", 3) == 0)
        r->in_pos = 3;
    int rc = o->format == TAB_JSONL ? tab_jsonl_open(r, bad_input, err, errlen)
                                    : set_columns_dsv(r, bad_input, err, errlen);
    if (rc == 0 && r->failed) {
        snprintf(err, errlen, "reading the input failed");
        rc = -1;
    }
    if (rc != 0) {
        tab_reader_free(r);
        return NULL;
    }
    return r;
}

const char *const *tab_reader_columns(const tab_reader *r, size_t *n)
{
    *n = r->ncols;
    return (const char *const *)r->cols;
}

int tab_reader_next(tab_reader *r, tab_record *rec, tab_bad *bad)
{
    memset(bad, 0, sizeof *bad);
    bad->field = -1;
    if (r->pending) {
        r->pending = 0;
        *rec = r->pending_rec;
        return r->pending_rc;
    }
    return r->o.format == TAB_JSONL ? tab_jsonl_next(r, rec, bad) : dsv_next(r, rec, bad);
}

void tab_reader_free(tab_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncols; i++) {
        free(r->cols[i]);
        if (r->paths)
            free(r->paths[i]);
    }
    free(r->cols);
    free(r->paths);
    json_decref(r->obj);
    free(r->in);
    free(r->rb);
    free(r->ends);
    free(r->fields);
    free(r->conv);
    free(r);
}
