#include "autoconfig.h"
#include "config/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/strbuf.h"

/* A template is parsed once into segments: literal text, a built-in
 * placeholder or a regex capture (looked up by name at expansion). */
typedef enum seg_kind {
    SEG_LITERAL = 0,
    SEG_BUCKET,
    SEG_KEY,
    SEG_DIR,
    SEG_BASENAME,
    SEG_STEM,
    SEG_DATE,
    SEG_RUN_DATE,
    SEG_RUN_ID,
    SEG_NAME,
    SEG_RSID,
    SEG_FEED_DATE,
    SEG_FEED_HOUR,
    SEG_MEMBER,
    SEG_CAPTURE
} seg_kind;

typedef struct segment {
    seg_kind kind;
    char *text; /* SEG_LITERAL: the text; SEG_CAPTURE: the capture name */
} segment;

struct template {
    char *source;
    segment *segs;
    size_t n_segs;
};

static const struct {
    const char *name;
    seg_kind kind;
} builtins[] = {
    {"bucket", SEG_BUCKET},     {"key", SEG_KEY},       {"dir", SEG_DIR},
    {"basename", SEG_BASENAME}, {"stem", SEG_STEM},     {"date", SEG_DATE},
    {"run_date", SEG_RUN_DATE}, {"run_id", SEG_RUN_ID}, {"name", SEG_NAME},
    {"rsid", SEG_RSID},         {"feed_date", SEG_FEED_DATE}, {"feed_hour", SEG_FEED_HOUR},
    {"member", SEG_MEMBER},
};
#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

static int is_capture(const char *name, size_t len, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

static int builtin_kind(const char *name, size_t len)
{
    for (size_t i = 0; i < N_BUILTINS; i++)
        if (strlen(builtins[i].name) == len && memcmp(builtins[i].name, name, len) == 0)
            return (int)builtins[i].kind;
    return -1;
}

static void add_segment(template *t, seg_kind kind, char *text)
{
    t->segs = xrealloc(t->segs, (t->n_segs + 1) * sizeof *t->segs);
    t->segs[t->n_segs].kind = kind;
    t->segs[t->n_segs].text = text;
    t->n_segs++;
}

/* Literal text accumulates in `lit` so "a{{b" is one segment "a{b". */
static void flush_literal(template *t, strbuf *lit)
{
    if (lit->len == 0)
        return;
    add_segment(t, SEG_LITERAL, sb_steal(lit));
}

static void list_known(strbuf *sb, const char *const *captures, size_t n_captures)
{
    sb_adds(sb, " (known:");
    for (size_t i = 0; i < N_BUILTINS; i++)
        sb_addf(sb, " {%s}", builtins[i].name);
    for (size_t i = 0; i < n_captures; i++)
        if (captures[i])
            sb_addf(sb, " {%s}", captures[i]);
    sb_adds(sb, ")");
}

static void set_error(char *err, size_t errlen, size_t *err_offset, size_t offset,
                      const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    if (err_offset)
        *err_offset = offset;
}

/* Parses the placeholder starting at src[open] == '{'. Returns the index
 * just past its '}', or 0 with the error set. */
static size_t parse_placeholder(template *t, const char *src, size_t open,
                                const char *const *captures, size_t n_captures,
                                char *err, size_t errlen, size_t *err_offset)
{
    size_t start = open + 1, end = start;
    while (src[end] && src[end] != '}' && src[end] != '{')
        end++;
    if (src[end] != '}') {
        set_error(err, errlen, err_offset, open,
                  "unterminated placeholder: '{' without a matching '}' "
                  "(write '{{' for a literal brace)");
        return 0;
    }
    size_t len = end - start;
    if (len == 0) {
        set_error(err, errlen, err_offset, open, "empty placeholder {}");
        return 0;
    }
    /* A regex capture wins over a built-in of the same name: the rule's
     * author named it on purpose, e.g. (?<date>\d{4}-\d{2}-\d{2}). */
    if (is_capture(src + start, len, captures, n_captures)) {
        add_segment(t, SEG_CAPTURE, xstrndup(src + start, len));
        return end + 1;
    }
    int kind = builtin_kind(src + start, len);
    if (kind < 0) {
        strbuf msg = STRBUF_INIT;
        sb_addf(&msg, "unknown placeholder {%.*s}", (int)len, src + start);
        list_known(&msg, captures, n_captures);
        set_error(err, errlen, err_offset, open, sb_str(&msg));
        sb_free(&msg);
        return 0;
    }
    add_segment(t, (seg_kind)kind, NULL);
    return end + 1;
}

template *template_compile(const char *src, const char *const *capture_names,
                           size_t n_captures, char *err, size_t errlen,
                           size_t *err_offset)
{
    template *t = xcalloc(1, sizeof *t);
    strbuf lit = STRBUF_INIT;
    size_t i = 0;

    if (!capture_names)
        n_captures = 0;
    t->source = xstrdup(src);
    while (src[i]) {
        if (src[i] == '{' && src[i + 1] == '{') {
            sb_addc(&lit, '{');
            i += 2;
        } else if (src[i] == '}' && src[i + 1] == '}') {
            sb_addc(&lit, '}');
            i += 2;
        } else if (src[i] == '}') {
            set_error(err, errlen, err_offset, i,
                      "unmatched '}' (write '}}' for a literal brace)");
            goto fail;
        } else if (src[i] == '{') {
            flush_literal(t, &lit);
            i = parse_placeholder(t, src, i, capture_names, n_captures, err, errlen,
                                  err_offset);
            if (i == 0)
                goto fail;
        } else {
            sb_addc(&lit, src[i]);
            i++;
        }
    }
    flush_literal(t, &lit);
    return t;

fail:
    sb_free(&lit);
    template_free(t);
    return NULL;
}

/* Splits a key into {dir} and {basename}; {stem} drops the basename's last
 * extension unless the only dot starts the name (".profile"). */
static void key_parts(const char *key, size_t *dir_len, const char **base,
                      size_t *stem_len)
{
    const char *slash = strrchr(key, '/');
    *dir_len = slash ? (size_t)(slash - key) : 0;
    *base = slash ? slash + 1 : key;
    const char *dot = strrchr(*base, '.');
    *stem_len = (dot && dot != *base) ? (size_t)(dot - *base) : strlen(*base);
}

static const char *capture_value(const template_vars *vars, const char *name)
{
    if (!vars->capture_names || !vars->capture_values)
        return NULL;
    for (size_t i = 0; i < vars->n_captures; i++)
        if (vars->capture_names[i] && strcmp(vars->capture_names[i], name) == 0)
            return vars->capture_values[i];
    return NULL;
}

/* --- placeholder values ------------------------------------------------ */

#define SHOWN_VALUE_MAX 160

/* The value as it can be shown in one log line: quotes, backslashes and
 * control characters escaped, long values cut. */
static void add_escaped(strbuf *sb, const char *v, size_t len)
{
    size_t shown = len > SHOWN_VALUE_MAX ? SHOWN_VALUE_MAX : len;
    sb_addc(sb, '"');
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\')
            sb_addf(sb, "\\%c", c);
        else if (c == '\n')
            sb_adds(sb, "\\n");
        else if (c == '\t')
            sb_adds(sb, "\\t");
        else if (c < 0x20 || c == 0x7f)
            sb_addf(sb, "\\x%02x", c);
        else
            sb_addc(sb, (char)c);
    }
    sb_addc(sb, '"');
    if (shown < len)
        sb_addf(sb, "... (%zu bytes)", len);
}

/* Why v[0..len) cannot stand in a location, or NULL when it can. */
static const char *value_problem(const char *v, size_t len)
{
    if (len > 0 && v[0] == '/')
        return "it is an absolute path (starts with '/')";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f)
            return "it holds a control character";
    }
    for (size_t start = 0; start <= len;) {
        size_t end = start;
        while (end < len && v[end] != '/')
            end++;
        size_t seg = end - start;
        if (seg == 2 && v[start] == '.' && v[start + 1] == '.')
            return "it has a \"..\" segment";
        if (seg == 1 && v[start] == '.')
            return "it has a \".\" segment";
        start = end + 1;
    }
    return NULL;
}

static int check_value(const char *tpl, const char *placeholder, const char *v, size_t len,
                       sl_error *err)
{
    const char *why = value_problem(v, len);
    if (!why)
        return 0;
    strbuf msg = STRBUF_INIT;
    if (tpl)
        sb_addf(&msg, "output template \"%s\": ", tpl);
    sb_addf(&msg, "placeholder {%s} has the value ", placeholder);
    add_escaped(&msg, v, len);
    sb_addf(&msg, ", refused because %s: a value may not lead out of the location the "
                  "template names",
            why);
    sl_error_set(err, SL_ERR_INPUT, "%s", sb_str(&msg));
    sb_free(&msg);
    return -1;
}

int template_check_value(const char *placeholder, const char *value, sl_error *err)
{
    return check_value(NULL, placeholder, value ? value : "", value ? strlen(value) : 0, err);
}

static const char *seg_name(const segment *s)
{
    if (s->kind == SEG_CAPTURE)
        return s->text;
    for (size_t i = 0; i < N_BUILTINS; i++)
        if (builtins[i].kind == s->kind)
            return builtins[i].name;
    return "?";
}

/* The value of one placeholder segment: a pointer and a length (parts of
 * the key are not NUL-terminated). */
static void seg_value(const segment *s, const template_vars *vars, const char *key,
                      size_t dir_len, const char *base, size_t stem_len, const char **v,
                      size_t *len)
{
    const char *val = NULL;
    switch (s->kind) {
    case SEG_LITERAL: val = s->text; break;
    case SEG_BUCKET: val = vars->bucket; break;
    case SEG_KEY: val = key; break;
    case SEG_DIR: *v = key; *len = dir_len; return;
    case SEG_BASENAME: val = base; break;
    case SEG_STEM: *v = base; *len = stem_len; return;
    case SEG_DATE: val = vars->date; break;
    case SEG_RUN_DATE: val = vars->run_date; break;
    case SEG_RUN_ID: val = vars->run_id; break;
    case SEG_NAME: val = vars->name; break;
    case SEG_RSID: val = vars->rsid; break;
    case SEG_FEED_DATE: val = vars->feed_date; break;
    case SEG_FEED_HOUR: val = vars->feed_hour; break;
    case SEG_MEMBER: val = vars->member; break;
    case SEG_CAPTURE: val = capture_value(vars, s->text); break;
    }
    *v = val ? val : "";
    *len = strlen(*v);
}

char *template_expand(const template *t, const template_vars *vars, sl_error *err)
{
    static const template_vars none = {0};
    strbuf out = STRBUF_INIT;
    const char *key, *base;
    size_t dir_len, stem_len;

    if (!vars)
        vars = &none;
    key = vars->key ? vars->key : "";
    key_parts(key, &dir_len, &base, &stem_len);
    for (size_t i = 0; i < t->n_segs; i++) {
        const segment *s = &t->segs[i];
        const char *v;
        size_t len;
        seg_value(s, vars, key, dir_len, base, stem_len, &v, &len);
        /* the template's own text is the configuration's: trusted */
        if (s->kind != SEG_LITERAL && check_value(t->source, seg_name(s), v, len, err) != 0) {
            sb_free(&out);
            return NULL;
        }
        sb_add(&out, v, len);
    }
    return sb_steal(&out);
}

/* `placeholder` may be given as "name" or "{name}". */
int template_uses(const template *t, const char *placeholder)
{
    size_t len = strlen(placeholder);
    if (len >= 2 && placeholder[0] == '{' && placeholder[len - 1] == '}') {
        placeholder++;
        len -= 2;
    }
    int kind = builtin_kind(placeholder, len);
    for (size_t i = 0; i < t->n_segs; i++) {
        const segment *s = &t->segs[i];
        if (s->kind == SEG_LITERAL)
            continue;
        if (s->kind == SEG_CAPTURE) {
            if (strlen(s->text) == len && memcmp(s->text, placeholder, len) == 0)
                return 1;
        } else if ((int)s->kind == kind) {
            return 1;
        }
    }
    return 0;
}

const char *template_source(const template *t)
{
    return t->source;
}

void template_free(template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_segs; i++)
        free(t->segs[i].text);
    free(t->segs);
    free(t->source);
    free(t);
}
