#include "autoconfig.h"
#include "config/jsonschema.h"

#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/spelling.h"
#include "util/strbuf.h"

/* Plugin schemas are small; a schema nested deeper than this is a mistake. */
#define SCHEMA_MAX_DEPTH 64

static const char *const known_types[] = {
    "null", "boolean", "object", "array", "number", "integer", "string", NULL,
};

/* ---- helpers ---------------------------------------------------------- */

static void add_error(jsonschema_errors *out, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(jsonschema_errors *out, const char *pointer, const char *fmt, ...)
{
    if (out->count == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 8;
        out->items = xrealloc(out->items, out->cap * sizeof *out->items);
    }
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    out->items[out->count].pointer = xstrdup(pointer);
    out->items[out->count].message = sb_steal(&sb);
    out->count++;
}

void jsonschema_errors_free(jsonschema_errors *errs)
{
    if (!errs)
        return;
    for (size_t i = 0; i < errs->count; i++) {
        free(errs->items[i].pointer);
        free(errs->items[i].message);
    }
    free(errs->items);
    errs->items = NULL;
    errs->count = errs->cap = 0;
}

/* Appends one escaped segment ("~" -> "~0", "/" -> "~1"). */
static char *pointer_join(const char *base, const char *seg)
{
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, base);
    sb_addc(&sb, '/');
    for (const char *p = seg; *p; p++) {
        if (*p == '~')
            sb_adds(&sb, "~0");
        else if (*p == '/')
            sb_adds(&sb, "~1");
        else
            sb_addc(&sb, *p);
    }
    return sb_steal(&sb);
}

static char *pointer_index(const char *base, size_t i)
{
    return xasprintf("%s/%zu", base, i);
}

static int is_integral(const json_t *v)
{
    if (json_is_integer(v))
        return 1;
    if (!json_is_real(v))
        return 0;
    double d = json_real_value(v);
    return isfinite(d) && d == floor(d);
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "null";
}

static int type_accepts(const char *type, const json_t *v)
{
    if (!strcmp(type, "null")) return json_is_null(v);
    if (!strcmp(type, "boolean")) return json_is_boolean(v);
    if (!strcmp(type, "object")) return json_is_object(v);
    if (!strcmp(type, "array")) return json_is_array(v);
    if (!strcmp(type, "string")) return json_is_string(v);
    if (!strcmp(type, "number")) return json_is_number(v);
    if (!strcmp(type, "integer")) return is_integral(v);
    return 0;
}

/* `type` keyword: a name or a list of names. */
static int schema_type_accepts(const json_t *type, const json_t *v)
{
    if (json_is_string(type))
        return type_accepts(json_string_value(type), v);
    size_t i;
    const json_t *t;
    json_array_foreach(type, i, t)
        if (type_accepts(json_string_value(t), v))
            return 1;
    return 0;
}

/* "integer", "string or array", "string, array or null". */
static void describe_types(strbuf *sb, const json_t *type)
{
    if (json_is_string(type)) {
        sb_adds(sb, json_string_value(type));
        return;
    }
    size_t n = json_array_size(type);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_adds(sb, i + 1 == n ? " or " : ", ");
        sb_adds(sb, json_string_value(json_array_get(type, i)));
    }
}

static int values_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!values_equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *k;
        json_t *va;
        json_object_foreach((json_t *)a, k, va) {
            json_t *vb = json_object_get(b, k);
            if (!vb || !values_equal(va, vb))
                return 0;
        }
        return 1;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

static void describe_value(strbuf *sb, const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    sb_adds(sb, s ? s : "?");
    free(s);
}

static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static const char *closest_property(const json_t *props, const char *name)
{
    const char *best = NULL, *k;
    size_t best_d = 3;
    json_t *v;
    json_object_foreach((json_t *)props, k, v) {
        size_t d;
        if (spelling_close(name, k, &d) && d < best_d) {
            best = k;
            best_d = d;
        }
    }
    return best;
}

static pcre2_code *compile_pattern(const char *pattern, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (!re && err) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)off);
    }
    return re;
}

/* 1 match, 0 no match, -1 the pattern could not be evaluated. */
static int pattern_matches(const char *pattern, const char *s)
{
    pcre2_code *re = compile_pattern(pattern, NULL, 0);
    if (!re)
        return -1;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(mc, 1000000);
    pcre2_set_depth_limit(mc, 10000);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, mc);
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* ---- jsonschema_check ------------------------------------------------- */

typedef struct checker {
    char *err;
    size_t errlen;
} checker;

static int check_fail(checker *c, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int check_fail(checker *c, const char *ptr, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "schema at \"%s\": %s", *ptr ? ptr : "#", sb_str(&sb));
    sb_free(&sb);
    return -1;
}

static int check_schema(checker *c, const json_t *s, const char *ptr, int depth);

static int is_known_type(const char *t)
{
    for (size_t i = 0; known_types[i]; i++)
        if (!strcmp(known_types[i], t))
            return 1;
    return 0;
}

static int check_type_kw(checker *c, const json_t *v, const char *ptr)
{
    if (json_is_string(v)) {
        if (!is_known_type(json_string_value(v)))
            return check_fail(c, ptr, "unknown type \"%s\"", json_string_value(v));
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return check_fail(c, ptr, "\"type\" must be a type name or a non-empty list of them");
    size_t i;
    const json_t *t;
    json_array_foreach(v, i, t) {
        if (!json_is_string(t) || !is_known_type(json_string_value(t)))
            return check_fail(c, ptr, "\"type\" lists an unknown type");
        for (size_t j = 0; j < i; j++)
            if (json_equal((json_t *)t, json_array_get(v, j)))
                return check_fail(c, ptr, "\"type\" lists \"%s\" twice", json_string_value(t));
    }
    return 0;
}

static int check_count_kw(checker *c, const char *kw, const json_t *v, const char *ptr)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return check_fail(c, ptr, "\"%s\" must be a non-negative integer", kw);
    return 0;
}

static int check_schema_list(checker *c, const char *kw, const json_t *v, const char *ptr,
                             int depth)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return check_fail(c, ptr, "\"%s\" must be a non-empty list of schemas", kw);
    size_t i;
    const json_t *sub;
    json_array_foreach(v, i, sub) {
        char *p1 = pointer_join(ptr, kw);
        char *p2 = pointer_index(p1, i);
        int rc = check_schema(c, sub, p2, depth + 1);
        free(p1);
        free(p2);
        if (rc)
            return rc;
    }
    return 0;
}

static int check_properties(checker *c, const json_t *v, const char *ptr, int depth)
{
    if (!json_is_object(v))
        return check_fail(c, ptr, "\"properties\" must be an object");
    const char *k;
    json_t *sub;
    char *pp = pointer_join(ptr, "properties");
    int rc = 0;
    json_object_foreach((json_t *)v, k, sub) {
        char *p = pointer_join(pp, k);
        rc = check_schema(c, sub, p, depth + 1);
        free(p);
        if (rc)
            break;
    }
    free(pp);
    return rc;
}

static int check_keyword(checker *c, const char *kw, const json_t *v, const char *ptr, int depth)
{
    if (!strcmp(kw, "type"))
        return check_type_kw(c, v, ptr);
    if (!strcmp(kw, "enum")) {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return check_fail(c, ptr, "\"enum\" must be a non-empty list");
        return 0;
    }
    if (!strcmp(kw, "const") || !strcmp(kw, "default"))
        return 0;
    if (!strcmp(kw, "examples"))
        return json_is_array(v) ? 0 : check_fail(c, ptr, "\"examples\" must be a list");
    if (!strcmp(kw, "properties"))
        return check_properties(c, v, ptr, depth);
    if (!strcmp(kw, "required")) {
        size_t i;
        const json_t *r;
        if (!json_is_array(v))
            return check_fail(c, ptr, "\"required\" must be a list of names");
        json_array_foreach(v, i, r)
            if (!json_is_string(r))
                return check_fail(c, ptr, "\"required\" must be a list of names");
        return 0;
    }
    if (!strcmp(kw, "additionalProperties") || !strcmp(kw, "items")) {
        char *p = pointer_join(ptr, kw);
        int rc = check_schema(c, v, p, depth + 1);
        free(p);
        return rc;
    }
    if (!strcmp(kw, "minItems") || !strcmp(kw, "maxItems") || !strcmp(kw, "minLength") ||
        !strcmp(kw, "maxLength"))
        return check_count_kw(c, kw, v, ptr);
    if (!strcmp(kw, "minimum") || !strcmp(kw, "maximum") || !strcmp(kw, "exclusiveMinimum") ||
        !strcmp(kw, "exclusiveMaximum"))
        return json_is_number(v) ? 0 : check_fail(c, ptr, "\"%s\" must be a number", kw);
    if (!strcmp(kw, "pattern")) {
        char msg[300];
        if (!json_is_string(v))
            return check_fail(c, ptr, "\"pattern\" must be a string");
        pcre2_code *re = compile_pattern(json_string_value(v), msg, sizeof msg);
        if (!re)
            return check_fail(c, ptr, "invalid \"pattern\": %s", msg);
        pcre2_code_free(re);
        return 0;
    }
    if (!strcmp(kw, "oneOf") || !strcmp(kw, "anyOf"))
        return check_schema_list(c, kw, v, ptr, depth);
    if (!strcmp(kw, "description") || !strcmp(kw, "title") || !strcmp(kw, "$schema") ||
        !strcmp(kw, "$id") || !strcmp(kw, "$comment"))
        return json_is_string(v) ? 0 : check_fail(c, ptr, "\"%s\" must be a string", kw);
    return check_fail(c, ptr, "unsupported keyword \"%s\"", kw);
}

static int check_schema(checker *c, const json_t *s, const char *ptr, int depth)
{
    if (depth > SCHEMA_MAX_DEPTH)
        return check_fail(c, ptr, "nested deeper than %d levels", SCHEMA_MAX_DEPTH);
    if (json_is_boolean(s))
        return 0;
    if (!json_is_object(s))
        return check_fail(c, ptr, "a schema must be an object or a boolean");
    const char *kw;
    json_t *v;
    json_object_foreach((json_t *)s, kw, v) {
        int rc = check_keyword(c, kw, v, ptr, depth);
        if (rc)
            return rc;
    }
    return 0;
}

int jsonschema_check(const json_t *schema, char *err, size_t errlen)
{
    checker c = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!schema)
        return check_fail(&c, "", "no schema");
    return check_schema(&c, schema, "", 0);
}

/* ---- jsonschema_validate ---------------------------------------------- */

static void validate(const json_t *s, const json_t *v, const char *ptr, jsonschema_errors *out);

static void validate_number(const json_t *s, const json_t *v, const char *ptr, jsonschema_errors *out)
{
    double d = json_number_value(v);
    const json_t *lim;
    strbuf sb = STRBUF_INIT;
    if ((lim = json_object_get(s, "minimum")) && d < json_number_value(lim)) {
        describe_value(&sb, lim);
        add_error(out, ptr, "must be >= %s", sb_str(&sb));
    } else if ((lim = json_object_get(s, "exclusiveMinimum")) && d <= json_number_value(lim)) {
        describe_value(&sb, lim);
        add_error(out, ptr, "must be > %s", sb_str(&sb));
    }
    sb_reset(&sb);
    if ((lim = json_object_get(s, "maximum")) && d > json_number_value(lim)) {
        describe_value(&sb, lim);
        add_error(out, ptr, "must be <= %s", sb_str(&sb));
    } else if ((lim = json_object_get(s, "exclusiveMaximum")) && d >= json_number_value(lim)) {
        describe_value(&sb, lim);
        add_error(out, ptr, "must be < %s", sb_str(&sb));
    }
    sb_free(&sb);
}

static void validate_string(const json_t *s, const json_t *v, const char *ptr, jsonschema_errors *out)
{
    const char *str = json_string_value(v);
    size_t len = utf8_length(str);
    const json_t *lim;
    if ((lim = json_object_get(s, "minLength")) && len < (size_t)json_integer_value(lim)) {
        if (json_integer_value(lim) == 1)
            add_error(out, ptr, "must not be empty");
        else
            add_error(out, ptr, "must be at least %lld characters long",
                      (long long)json_integer_value(lim));
    }
    if ((lim = json_object_get(s, "maxLength")) && len > (size_t)json_integer_value(lim))
        add_error(out, ptr, "must be at most %lld characters long",
                  (long long)json_integer_value(lim));
    const json_t *pat = json_object_get(s, "pattern");
    if (pat) {
        int m = pattern_matches(json_string_value(pat), str);
        if (m == 0)
            add_error(out, ptr, "\"%s\" does not match the pattern %s", str,
                      json_string_value(pat));
        else if (m < 0)
            add_error(out, ptr, "cannot evaluate the pattern %s", json_string_value(pat));
    }
}

static void validate_array(const json_t *s, const json_t *v, const char *ptr, jsonschema_errors *out)
{
    size_t n = json_array_size(v);
    const json_t *lim;
    if ((lim = json_object_get(s, "minItems")) && n < (size_t)json_integer_value(lim)) {
        if (json_integer_value(lim) == 1)
            add_error(out, ptr, "must not be empty");
        else
            add_error(out, ptr, "must have at least %lld items", (long long)json_integer_value(lim));
    }
    if ((lim = json_object_get(s, "maxItems")) && n > (size_t)json_integer_value(lim))
        add_error(out, ptr, "must have at most %lld items", (long long)json_integer_value(lim));
    const json_t *items = json_object_get(s, "items");
    if (!items)
        return;
    for (size_t i = 0; i < n; i++) {
        char *p = pointer_index(ptr, i);
        validate(items, json_array_get(v, i), p, out);
        free(p);
    }
}

static void validate_object(const json_t *s, const json_t *v, const char *ptr, jsonschema_errors *out)
{
    const json_t *props = json_object_get(s, "properties");
    const json_t *addl = json_object_get(s, "additionalProperties");
    const json_t *req = json_object_get(s, "required");
    size_t i;
    const json_t *r;
    json_array_foreach(req, i, r) {
        if (!json_object_get(v, json_string_value(r)))
            add_error(out, ptr, "missing required option \"%s\"", json_string_value(r));
    }
    const char *k;
    json_t *member;
    json_object_foreach((json_t *)v, k, member) {
        const json_t *sub = props ? json_object_get(props, k) : NULL;
        if (!sub)
            sub = addl;
        if (!sub)
            continue;
        char *p = pointer_join(ptr, k);
        if (json_is_false(sub) && props && json_object_get(props, k)) {
            add_error(out, p, "option \"%s\" is not allowed", k);
        } else if (json_is_false(sub)) {
            const char *hint = props ? closest_property(props, k) : NULL;
            if (hint)
                add_error(out, p, "unknown option \"%s\" (did you mean \"%s\"?)", k, hint);
            else
                add_error(out, p, "unknown option \"%s\"", k);
        } else {
            validate(sub, member, p, out);
        }
        free(p);
    }
}

/* True when the alternative's own `type` (if any) accepts v: it is then the
 * alternative the author most likely meant. */
static int alternative_fits(const json_t *alt, const json_t *v)
{
    if (json_is_boolean(alt))
        return json_is_true(alt);
    const json_t *type = json_object_get(alt, "type");
    return !type || schema_type_accepts(type, v);
}

static void validate_alternatives(const json_t *alts, int exactly_one, const json_t *v,
                                  const char *ptr, jsonschema_errors *out)
{
    size_t n = json_array_size(alts), passed = 0, fitting = 0, fit_index = 0;
    for (size_t i = 0; i < n; i++) {
        jsonschema_errors tmp = {0};
        validate(json_array_get(alts, i), v, ptr, &tmp);
        if (tmp.count == 0)
            passed++;
        jsonschema_errors_free(&tmp);
        if (alternative_fits(json_array_get(alts, i), v)) {
            fitting++;
            fit_index = i;
        }
    }
    if (passed == 1 || (passed > 1 && !exactly_one))
        return;
    if (passed > 1) {
        add_error(out, ptr, "matches more than one of the allowed forms");
        return;
    }
    if (fitting == 1) {
        validate(json_array_get(alts, fit_index), v, ptr, out);
        return;
    }
    if (fitting == 0) {
        strbuf sb = STRBUF_INIT;
        size_t listed = 0;
        for (size_t i = 0; i < n; i++) {
            const json_t *t = json_object_get(json_array_get(alts, i), "type");
            if (!t)
                continue;
            if (listed++)
                sb_adds(&sb, " or ");
            describe_types(&sb, t);
        }
        add_error(out, ptr, "expected %s, got %s", sb_str(&sb), json_type_name(v));
        sb_free(&sb);
        return;
    }
    add_error(out, ptr, "does not match any of the allowed forms");
}

static void validate(const json_t *s, const json_t *v, const char *ptr, jsonschema_errors *out)
{
    if (json_is_true(s))
        return;
    if (json_is_false(s)) {
        add_error(out, ptr, "no value is allowed here");
        return;
    }
    const json_t *type = json_object_get(s, "type");
    if (type && !schema_type_accepts(type, v)) {
        strbuf sb = STRBUF_INIT;
        describe_types(&sb, type);
        add_error(out, ptr, "expected %s, got %s", sb_str(&sb), json_type_name(v));
        sb_free(&sb);
        return;
    }
    const json_t *c = json_object_get(s, "const");
    if (c && !values_equal(c, v)) {
        strbuf sb = STRBUF_INIT;
        describe_value(&sb, c);
        add_error(out, ptr, "must be %s", sb_str(&sb));
        sb_free(&sb);
    }
    const json_t *e = json_object_get(s, "enum");
    if (e) {
        size_t i, found = 0;
        const json_t *x;
        json_array_foreach(e, i, x)
            if (values_equal(x, v))
                found = 1;
        if (!found) {
            strbuf sb = STRBUF_INIT;
            json_array_foreach(e, i, x) {
                if (i)
                    sb_adds(&sb, i + 1 == json_array_size(e) ? " or " : ", ");
                describe_value(&sb, x);
            }
            strbuf got = STRBUF_INIT;
            describe_value(&got, v);
            add_error(out, ptr, "must be one of %s, got %s", sb_str(&sb), sb_str(&got));
            sb_free(&sb);
            sb_free(&got);
        }
    }
    if (json_is_number(v))
        validate_number(s, v, ptr, out);
    else if (json_is_string(v))
        validate_string(s, v, ptr, out);
    else if (json_is_array(v))
        validate_array(s, v, ptr, out);
    else if (json_is_object(v))
        validate_object(s, v, ptr, out);
    const json_t *alts;
    if ((alts = json_object_get(s, "oneOf")))
        validate_alternatives(alts, 1, v, ptr, out);
    if ((alts = json_object_get(s, "anyOf")))
        validate_alternatives(alts, 0, v, ptr, out);
}

size_t jsonschema_validate(const json_t *schema, const json_t *value, jsonschema_errors *out)
{
    size_t before = out->count;
    validate(schema, value, "", out);
    return out->count - before;
}
