/* tab_jsonl.c — JSON Lines records (tab_read.h), parsed by jansson. Each
 * line is one object; a column picks a member by name, or a nested one by
 * a dotted path ("a.b") when no member has the full name. */
#include "autoconfig.h"
#include "tab_read_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads one line (without its end) into r->rb. 0 at end of input. */
static int read_line(tab_reader *r)
{
    r->rb_len = 0;
    for (;;) {
        if (r->in_pos == r->in_len && tab_read_refill(r) <= 0)
            return r->failed ? -1 : r->rb_len > 0;
        char *nl = memchr(r->in + r->in_pos, '\n', r->in_len - r->in_pos);
        size_t n = nl ? (size_t)(nl - (r->in + r->in_pos)) : r->in_len - r->in_pos;
        if (tab_read_rb_add(r, r->in + r->in_pos, n) != 0)
            return -1;
        r->in_pos += n;
        if (nl) {
            r->in_pos++;
            return 1;
        }
    }
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

static const char *kind_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    default: return "an object";
    }
}

/* The next object: 1, 0 at end, -1 failed, 2 a bad line (in `bad`). */
static int next_object(tab_reader *r, tab_bad *bad, int64_t *line)
{
    for (;;) {
        int rc = read_line(r);
        if (rc <= 0)
            return rc;
        *line = r->line++;
        if (r->rb_len && r->rb[r->rb_len - 1] == '\r')
            r->rb_len--;
        if (blank(r->rb, r->rb_len))
            continue;
        if (tab_read_rb_add(r, "", 1) != 0) /* NUL-terminated for `raw` */
            return -1;
        r->rb_len--;
        json_decref(r->obj);
        json_error_t jerr;
        r->obj = json_loadb(r->rb, r->rb_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        bad->line = *line;
        bad->field = -1;
        if (!r->obj) {
            snprintf(bad->msg, sizeof bad->msg, "column %d: invalid JSON: %s", jerr.column,
                     jerr.text);
            return 2;
        }
        if (!json_is_object(r->obj)) {
            snprintf(bad->msg, sizeof bad->msg, "%s, not a JSON object", kind_name(r->obj));
            return 2;
        }
        return 1;
    }
}

/* Member `path` of `obj`: the whole name first, then the dotted path. */
static json_t *lookup(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (v || !strchr(name, '.'))
        return v;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", name);
    char *save = NULL;
    for (char *part = strtok_r(buf, ".", &save); part && v != obj; part = strtok_r(NULL, ".", &save)) {
        if (!json_is_object(obj))
            return NULL;
        obj = json_object_get(obj, part);
        if (!obj)
            return NULL;
    }
    return obj;
}

/* The shortest text that reads back as the same double. */
static int real_text(double d, char *buf, size_t len)
{
    for (int prec = 1; prec <= 17; prec++) {
        int n = snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return n;
    }
    return snprintf(buf, len, "%.17g", d);
}

static int fields_of(tab_reader *r, tab_record *rec, int64_t line)
{
    if (tab_reader_grow_fields(r, r->ncols) != 0)
        return TAB_FAIL;
    /* texts made here go to r->conv; fields point there afterwards */
    size_t used = 0;
    size_t *off = r->ends;
    if (r->capf < r->ncols) {
        off = realloc(r->ends, r->ncols * sizeof *off);
        if (!off)
            return TAB_FAIL;
        r->ends = off;
        r->capf = r->ncols;
    }
    for (size_t i = 0; i < r->ncols; i++) {
        json_t *v = lookup(r->obj, r->cols[i]);
        tab_field *f = &r->fields[i];
        *f = (tab_field){NULL, 0, 0};
        off[i] = (size_t)-1;
        char num[40];
        char *dump = NULL;
        const char *text = NULL;
        size_t len = 0;
        if (!v || json_is_null(v)) {
            f->null = 1;
            f->p = "";
            continue;
        } else if (json_is_string(v)) {
            f->p = json_string_value(v);
            f->len = json_string_length(v);
            continue;
        } else if (json_is_integer(v)) {
            len = (size_t)snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            text = num;
        } else if (json_is_real(v)) {
            len = (size_t)real_text(json_real_value(v), num, sizeof num);
            text = num;
        } else if (json_is_boolean(v)) {
            text = json_is_true(v) ? "true" : "false";
            len = strlen(text);
        } else {
            dump = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            if (!dump)
                return TAB_FAIL;
            text = dump;
            len = strlen(dump);
        }
        if (used + len > r->conv_cap) {
            size_t cap = (used + len) * 2 + 256;
            char *c = realloc(r->conv, cap);
            if (!c) {
                free(dump);
                return TAB_FAIL;
            }
            r->conv = c;
            r->conv_cap = cap;
        }
        memcpy(r->conv + used, text, len);
        off[i] = used;
        f->len = len;
        used += len;
        free(dump);
    }
    for (size_t i = 0; i < r->ncols; i++)
        if (off[i] != (size_t)-1)
            r->fields[i].p = r->conv + off[i];
    rec->f = r->fields;
    rec->n = r->ncols;
    rec->line = line;
    rec->raw = r->rb;
    return TAB_RECORD;
}

int tab_jsonl_next(tab_reader *r, tab_record *rec, tab_bad *bad)
{
    int64_t line = r->line;
    int rc = next_object(r, bad, &line);
    rec->f = NULL;
    rec->n = 0;
    rec->line = line;
    rec->raw = r->rb;
    if (rc < 0)
        return TAB_FAIL;
    if (rc == 0)
        return TAB_EOF;
    if (rc == 2)
        return TAB_BAD_RECORD;
    return fields_of(r, rec, line);
}

int tab_jsonl_open(tab_reader *r, int *bad_input, char *err, size_t errlen)
{
    if (r->o.nwant) {
        r->cols = calloc(r->o.nwant, sizeof *r->cols);
        if (!r->cols)
            goto oom;
        r->ncols = r->o.nwant;
        for (size_t i = 0; i < r->o.nwant; i++)
            if (!(r->cols[i] = strdup(r->o.want[i])))
                goto oom;
        return 0;
    }
    /* no columns asked for: the first object's keys, in order */
    tab_bad bad;
    int64_t line = 0;
    int rc = next_object(r, &bad, &line);
    if (rc < 0) {
        snprintf(err, errlen, "reading the input failed");
        return -1;
    }
    if (rc == 2) {
        *bad_input = 1;
        snprintf(err, errlen,
                 "line %lld: %s (without `columns`, the first line's keys name the columns)",
                 (long long)bad.line, bad.msg);
        return -1;
    }
    size_t n = rc == 1 ? json_object_size(r->obj) : 0;
    r->cols = calloc(n ? n : 1, sizeof *r->cols);
    if (!r->cols)
        goto oom;
    const char *key;
    json_t *v;
    json_object_foreach(r->obj, key, v)
    {
        (void)v;
        if (!(r->cols[r->ncols] = strdup(key)))
            goto oom;
        r->ncols++;
    }
    if (rc == 1) {
        r->pending = 1;
        r->pending_rc = fields_of(r, &r->pending_rec, line);
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}
