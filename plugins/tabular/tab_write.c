/* tab_write.c — CSV, TSV, JSON Lines and Parquet writers (tab_write.h). */
#include "autoconfig.h"
#include "tab_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tab_read.h"

#define OBUF_SIZE (1u << 20)

struct tab_writer {
    tab_out_format format;
    const tab_out_col *cols;
    size_t ncols;
    tab_obuf out;
    char **keys;    /* JSON Lines: the escaped "name": of each column */
    size_t *keylen;
    pq_writer *pq;
    char err[256];
};

int tab_obuf_init(tab_obuf *b, tab_sink sink, void *ctx)
{
    memset(b, 0, sizeof *b);
    b->sink = sink;
    b->ctx = ctx;
    b->cap = OBUF_SIZE + 4096;
    b->data = malloc(b->cap);
    return b->data ? 0 : -1;
}

int tab_obuf_flush(tab_obuf *b)
{
    if (b->failed)
        return -1;
    if (b->len && b->sink(b->ctx, b->data, b->len) != 0) {
        b->failed = 1;
        return -1;
    }
    b->len = 0;
    return 0;
}

int tab_obuf_add(tab_obuf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        if (tab_obuf_flush(b) != 0)
            return -1;
        if (n > b->cap)
            return b->sink(b->ctx, p, n) == 0 ? 0 : (b->failed = 1, -1);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    if (b->len >= OBUF_SIZE)
        return tab_obuf_flush(b);
    return 0;
}

static inline int obuf_addc(tab_obuf *b, char c)
{
    if (b->len < b->cap) {
        b->data[b->len++] = c;
        return 0;
    }
    return tab_obuf_add(b, &c, 1);
}

void tab_obuf_free(tab_obuf *b)
{
    free(b->data);
    b->data = NULL;
}

int tab_obuf_json_string(tab_obuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (obuf_addc(b, '"') != 0)
        return -1;
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len) {
            unsigned char c = (unsigned char)s[run];
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
                break;
            run++;
        }
        if (run > i && tab_obuf_add(b, s + i, run - i) != 0)
            return -1;
        i = run;
        if (i == len)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t ok = tab_read_utf8_check(s + i, len - i);
            if (ok > 0) { /* valid UTF-8 up to the next problem: copy it */
                size_t n = 0;
                while (n < ok && ((unsigned char)s[i + n] >= 0x80))
                    n++;
                if (tab_obuf_add(b, s + i, n) != 0)
                    return -1;
                i += n;
                continue;
            }
        }
        char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
        const char *esc = e;
        size_t elen = 6;
        switch (c) {
        case '"': esc = "\\\""; elen = 2; break;
        case '\\': esc = "\\\\"; elen = 2; break;
        case '\n': esc = "\\n"; elen = 2; break;
        case '\r': esc = "\\r"; elen = 2; break;
        case '\t': esc = "\\t"; elen = 2; break;
        default: break;
        }
        if (tab_obuf_add(b, esc, elen) != 0)
            return -1;
        i++;
    }
    return obuf_addc(b, '"');
}

static int sink_pq(void *ctx, const void *buf, size_t len)
{
    tab_writer *w = ctx;
    return w->out.sink(w->out.ctx, buf, len);
}

static pq_type pq_type_of(tab_type t)
{
    switch (t) {
    case TAB_BOOL: return PQ_BOOL;
    case TAB_INT32: return PQ_INT32;
    case TAB_INT64: return PQ_INT64;
    case TAB_DOUBLE: return PQ_DOUBLE;
    case TAB_DECIMAL: return PQ_DECIMAL;
    case TAB_DATE: return PQ_DATE;
    case TAB_TIMESTAMP: return PQ_TIMESTAMP;
    case TAB_STRING: break;
    }
    return PQ_STRING;
}

/* CSV quoting: only when needed; an empty string is "" (empty is null). */
static int csv_field(tab_obuf *b, const char *s, size_t len)
{
    int need = len == 0;
    for (size_t i = 0; i < len && !need; i++)
        need = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!need)
        return tab_obuf_add(b, s, len);
    if (obuf_addc(b, '"') != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' && obuf_addc(b, '"') != 0)
            return -1;
        if (obuf_addc(b, s[i]) != 0)
            return -1;
    }
    return obuf_addc(b, '"');
}

/* TSV: tab, newline and backslash escaped with a backslash (Adobe style). */
static int tsv_field(tab_obuf *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if ((c == '\t' || c == '\n' || c == '\\' || c == '\r') && obuf_addc(b, '\\') != 0)
            return -1;
        if (obuf_addc(b, c) != 0)
            return -1;
    }
    return 0;
}

static int text_header(tab_writer *w)
{
    for (size_t i = 0; i < w->ncols; i++) {
        if (i && obuf_addc(&w->out, w->format == TAB_OUT_CSV ? ',' : '\t') != 0)
            return -1;
        const char *n = w->cols[i].name;
        int rc = w->format == TAB_OUT_CSV ? csv_field(&w->out, n, strlen(n))
                                          : tsv_field(&w->out, n, strlen(n));
        if (rc != 0)
            return -1;
    }
    return obuf_addc(&w->out, '\n');
}

/* Each column's `"name":` once, not per row. */
static int collect_key(void *ctx, const void *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return -1; /* a key never fills the buffer */
}

static int json_keys(tab_writer *w)
{
    w->keys = calloc(w->ncols ? w->ncols : 1, sizeof *w->keys);
    w->keylen = calloc(w->ncols ? w->ncols : 1, sizeof *w->keylen);
    if (!w->keys || !w->keylen)
        return -1;
    for (size_t i = 0; i < w->ncols; i++) {
        tab_obuf k;
        if (tab_obuf_init(&k, collect_key, NULL) != 0)
            return -1;
        const char *n = w->cols[i].name;
        if (tab_obuf_add(&k, i ? "," : "{", 1) != 0 ||
            tab_obuf_json_string(&k, n, strlen(n)) != 0 || tab_obuf_add(&k, ":", 1) != 0) {
            tab_obuf_free(&k);
            return -1;
        }
        w->keys[i] = malloc(k.len);
        if (w->keys[i])
            memcpy(w->keys[i], k.data, k.len);
        w->keylen[i] = k.len;
        tab_obuf_free(&k);
        if (!w->keys[i])
            return -1;
    }
    return 0;
}

tab_writer *tab_writer_open(const tab_write_opts *o, const tab_out_col *cols, size_t n,
                            tab_sink sink, void *ctx, char *err, size_t errlen)
{
    tab_writer *w = calloc(1, sizeof *w);
    if (!w || tab_obuf_init(&w->out, sink, ctx) != 0) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->format = o->format;
    w->cols = cols;
    w->ncols = n;
    if (o->format == TAB_OUT_PARQUET) {
        pq_column_def *defs = calloc(n ? n : 1, sizeof *defs);
        if (!defs) {
            snprintf(err, errlen, "out of memory");
            tab_writer_free(w);
            return NULL;
        }
        for (size_t i = 0; i < n; i++)
            defs[i] = (pq_column_def){cols[i].name, pq_type_of(cols[i].type.type),
                                      cols[i].type.precision, cols[i].type.scale};
        w->pq = pq_writer_open(defs, n, &o->parquet, sink_pq, w, err, errlen);
        free(defs);
        if (!w->pq) {
            tab_writer_free(w);
            return NULL;
        }
    } else if (o->format == TAB_OUT_JSONL) {
        if (json_keys(w) != 0) {
            snprintf(err, errlen, "out of memory");
            tab_writer_free(w);
            return NULL;
        }
    } else if (text_header(w) != 0) {
        snprintf(err, errlen, "writing the header failed");
        tab_writer_free(w);
        return NULL;
    }
    return w;
}

static int pq_row(tab_writer *w, const tab_value *v)
{
    for (size_t i = 0; i < w->ncols; i++) {
        int rc;
        if (v[i].null)
            rc = pq_writer_put_null(w->pq, i);
        else switch (w->cols[i].type.type) {
            case TAB_STRING: rc = pq_writer_put_bytes(w->pq, i, v[i].s, v[i].len); break;
            case TAB_BOOL: rc = pq_writer_put_bool(w->pq, i, (int)v[i].i); break;
            case TAB_DOUBLE: rc = pq_writer_put_double(w->pq, i, v[i].d); break;
            default: rc = pq_writer_put_int(w->pq, i, v[i].i); break;
            }
        if (rc != 0)
            return -1;
    }
    return pq_writer_end_row(w->pq);
}

static int text_row(tab_writer *w, const tab_value *v)
{
    tab_obuf *b = &w->out;
    for (size_t i = 0; i < w->ncols; i++) {
        if (i && obuf_addc(b, w->format == TAB_OUT_CSV ? ',' : '\t') != 0)
            return -1;
        if (v[i].null)
            continue;
        const char *s = v[i].s;
        size_t len = v[i].len;
        char tmp[TAB_TEXT_MAX];
        if (w->cols[i].type.type != TAB_STRING) {
            len = tab_value_text(&w->cols[i].type, &v[i], tmp);
            s = tmp;
        }
        int rc = w->format == TAB_OUT_CSV ? csv_field(b, s, len) : tsv_field(b, s, len);
        if (rc != 0)
            return -1;
    }
    return obuf_addc(b, '\n');
}

static int jsonl_row(tab_writer *w, const tab_value *v)
{
    tab_obuf *b = &w->out;
    if (w->ncols == 0 && obuf_addc(b, '{') != 0)
        return -1;
    for (size_t i = 0; i < w->ncols; i++) {
        const tab_coltype *t = &w->cols[i].type;
        if (tab_obuf_add(b, w->keys[i], w->keylen[i]) != 0)
            return -1;
        int rc;
        char tmp[TAB_TEXT_MAX];
        if (v[i].null) {
            rc = tab_obuf_add(b, "null", 4);
        } else if (t->type == TAB_STRING) {
            rc = tab_obuf_json_string(b, v[i].s, v[i].len);
        } else {
            size_t len = tab_value_text(t, &v[i], tmp);
            if (t->type == TAB_DATE || t->type == TAB_TIMESTAMP ||
                (t->type == TAB_DOUBLE && (tmp[0] == 'n' || tmp[0] == 'i' || tmp[1] == 'i' ||
                                           tmp[1] == 'n')))
                rc = tab_obuf_json_string(b, tmp, len); /* NaN/inf are not JSON numbers */
            else
                rc = tab_obuf_add(b, tmp, len);
        }
        if (rc != 0)
            return -1;
    }
    return tab_obuf_add(b, "}\n", 2);
}

int tab_writer_row(tab_writer *w, const tab_value *vals)
{
    switch (w->format) {
    case TAB_OUT_PARQUET: return pq_row(w, vals);
    case TAB_OUT_JSONL: return jsonl_row(w, vals);
    default: return text_row(w, vals);
    }
}

int tab_writer_close(tab_writer *w)
{
    if (w->pq)
        return pq_writer_close(w->pq);
    return tab_obuf_flush(&w->out);
}

void tab_writer_free(tab_writer *w)
{
    if (!w)
        return;
    pq_writer_free(w->pq);
    tab_obuf_free(&w->out);
    for (size_t i = 0; w->keys && i < w->ncols; i++)
        free(w->keys[i]);
    free(w->keys);
    free(w->keylen);
    free(w);
}

const char *tab_writer_error(const tab_writer *w)
{
    return w->pq ? pq_writer_error(w->pq) : "";
}
