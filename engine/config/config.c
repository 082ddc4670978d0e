/* config.c — loading sluice.yaml (config.h): one generic walk through the
 * declared keys of config_keys.c checks every value and fills the typed
 * config, defaults included; the few keys that need more (rules, regexes,
 * templates, target lists, event types, webhook headers) have handlers
 * the tables name, below.
 *
 * Loading runs on one thread and owns everything it builds; the config it
 * returns is immutable (config.h). */
#include "autoconfig.h"
#include "config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_keys.h"
#include "util/alloc.h"
#include "util/spelling.h"
#include "util/strbuf.h"

static const char *const builtin_placeholders[] = {
    "bucket", "key", "dir", "basename", "stem", "date", "run_date", "run_id", "name", "rsid",
    "feed_date", "feed_hour", "member", NULL,
};

static const char *const known_events[] = {
    "ObjectCreated:*", "ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy",
    "ObjectCreated:CompleteMultipartUpload", "ObjectRemoved:*", "ObjectRemoved:Delete",
    "ObjectRemoved:DeleteMarkerCreated", NULL,
};

/* What loading needs besides the config being built. */
struct config_loader {
    config *cfg;
    diag_list *diags;
    const char *file;
    const char *text; /* the source, to place errors inside strings */
    size_t len;
};
typedef config_loader loader;

/* ---- small helpers ---------------------------------------------------- */

static void report(loader *L, int line, int column, const char *fmt, va_list ap)
{
    strbuf sb = STRBUF_INIT;
    sb_vaddf(&sb, fmt, ap);
    diag_add(L->diags, DIAG_ERROR, L->file, line, column, "%s", sb_str(&sb));
    sb_free(&sb);
}

/* An error at node n (line 1, column 1 without one). */
static void error_at(loader *L, const ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_at(loader *L, const ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(L, n ? n->line : 1, n ? n->column : 1, fmt, ap);
    va_end(ap);
}

/* An error at byte `offset` of scalar n's value, where the source shows
 * it (ynode_column_at). */
static void error_in_scalar(loader *L, const ynode *n, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_in_scalar(loader *L, const ynode *n, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(L, n->line, ynode_column_at(n, L->text, L->len, offset), fmt, ap);
    va_end(ap);
}

static int str_in(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* The closest candidate within distance 2, or NULL. */
static const char *closest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d;
        if (spelling_close(word, cands[i], &d) && d < best_d) {
            best = cands[i];
            best_d = d;
        }
    }
    return best;
}

static size_t list_len(const char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

static void add_suggestion(strbuf *sb, const char *hint)
{
    if (hint)
        sb_addf(sb, " (did you mean \"%s\"?)", hint);
}

/* "a string", "an integer", "null". */
static const char *with_article(const char *type)
{
    static const char *const names[][2] = {
        {"string", "a string"},   {"integer", "an integer"}, {"number", "a number"},
        {"boolean", "a boolean"}, {"null", "null"},          {"list", "a list"},
        {"mapping", "a mapping"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i][0], type))
            return names[i][1];
    return type;
}

static int regex_matches(const char *pattern, const char *s)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_DOLLAR_ENDONLY, &code, &off, NULL);
    if (!re)
        return 0;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static char **strv_new(size_t n)
{
    return xcalloc(n + 1, sizeof(char *));
}

static void strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- paths ------------------------------------------------------------ */

/* Lexically removes "." and "x/.." segments. */
static char *normalize_path(const char *path)
{
    int absolute = path[0] == '/';
    char *copy = xstrdup(path);
    size_t n = 0, cap = 8;
    char **segs = xmalloc(cap * sizeof *segs);
    for (char *save = NULL, *s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (!strcmp(s, "."))
            continue;
        if (!strcmp(s, "..") && n > 0 && strcmp(segs[n - 1], "..") != 0) {
            n--;
            continue;
        }
        if (!strcmp(s, "..") && absolute)
            continue;
        if (n == cap) {
            cap *= 2;
            segs = xrealloc(segs, cap * sizeof *segs);
        }
        segs[n++] = s;
    }
    strbuf sb = STRBUF_INIT;
    if (absolute)
        sb_addc(&sb, '/');
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_addc(&sb, '/');
        sb_adds(&sb, segs[i]);
    }
    if (sb.len == 0)
        sb_addc(&sb, '.');
    free(segs);
    free(copy);
    return sb_steal(&sb);
}

static char *resolve_path(const char *dir, const char *p)
{
    if (p[0] == '/')
        return normalize_path(p);
    char *joined = xasprintf("%s/%s", dir, p);
    char *out = normalize_path(joined);
    free(joined);
    return out;
}

/* The absolute directory holding the configuration file. */
static char *config_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
    if (dir[0] != '/') {
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd)) {
            char *abs = xasprintf("%s/%s", cwd, dir);
            free(dir);
            dir = abs;
        }
    }
    char *out = normalize_path(dir);
    free(dir);
    return out;
}

/* ---- the walk through the declared keys -------------------------------- */

/* One section being walked: the mapping, what names it in messages, the
 * structure its keys fill, and which keys were given and accepted. */
typedef struct walk {
    const config_section *s;
    const ynode *map;
    const char *path;
    void *base;
    unsigned char *accepted; /* one per key */
} walk;

static void walk_section(loader *L, const config_section *s, const ynode *map,
                         const char *path, const char *label, void *base);

static int expect_type(loader *L, const ynode *n, const char *path, const char *type)
{
    const char *got = ynode_type_name(n);
    if (!strcmp(got, type))
        return 1;
    error_at(L, n, "%s: expected %s, got %s", path, with_article(type), with_article(got));
    return 0;
}

static int check_string(loader *L, const ynode *n, const char *path)
{
    if (!expect_type(L, n, path, "string"))
        return 0;
    if (n->value[0])
        return 1;
    error_at(L, n, "%s: must not be empty", path);
    return 0;
}

/* "path.key", or "key" at the top level. */
static char *key_path(const char *path, const char *key)
{
    return path[0] ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

/* The section's `where`, its "%s" replaced by the label. */
static char *section_where(const config_section *s, const char *label)
{
    const char *hole = strstr(s->where, "%s");
    if (!hole)
        return xstrdup(s->where);
    return xasprintf("%.*s%s%s", (int)(hole - s->where), s->where, label, hole + 2);
}

static void check_keys(loader *L, const ynode *map, const config_section *s, const char *label)
{
    const char **names = xcalloc(s->n_keys + 1, sizeof *names);
    for (size_t i = 0; i < s->n_keys; i++)
        names[i] = s->keys[i].name;
    char *where = section_where(s, label);
    for (size_t i = 0; i < map->count; i++) {
        const char *k = map->keys[i]->value;
        if (config_keys_find(s, k))
            continue;
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "unknown key \"%s\" %s", k, where);
        add_suggestion(&sb, closest(k, names, s->n_keys));
        error_at(L, map->keys[i], "%s", sb_str(&sb));
        sb_free(&sb);
    }
    free(where);
    free(names);
}

static void report_missing(loader *L, const ynode *map, const char *path, const config_key *k)
{
    if (path[0])
        error_at(L, map, "%s: missing required key \"%s\"", path, k->name);
    else /* no path to name: say what the key is */
        error_at(L, map, "missing required key \"%s\" (%s)", k->name, k->what);
}

/* "PATH: unknown WHAT "V" (expected a, b or c)", with a suggestion. */
static void unknown_choice(loader *L, const ynode *n, const char *path, const char *what,
                           const char *const *choices)
{
    size_t count = list_len(choices);
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s: unknown %s \"%s\" (expected ", path, what, n->value);
    for (size_t i = 0; i < count; i++)
        sb_addf(&sb, "%s%s", i == 0 ? "" : i + 1 == count ? " or " : ", ", choices[i]);
    sb_addc(&sb, ')');
    add_suggestion(&sb, closest(n->value, choices, count));
    error_at(L, n, "%s", sb_str(&sb));
    sb_free(&sb);
}

static int check_int(loader *L, const config_key *k, const ynode *n, const char *path)
{
    if (!expect_type(L, n, path, "integer"))
        return 0;
    json_t *j = ynode_to_json(n);
    int ok = json_is_integer(j) && json_integer_value(j) >= k->min &&
             json_integer_value(j) <= k->max;
    json_decref(j);
    if (!ok)
        error_at(L, n, "%s: must be between %lld and %lld", path, k->min, k->max);
    return ok;
}

static int check_number(loader *L, const config_key *k, const ynode *n, const char *path)
{
    const char *type = ynode_type_name(n);
    if (strcmp(type, "integer") && strcmp(type, "number")) {
        error_at(L, n, "%s: expected a number, got %s", path, with_article(type));
        return 0;
    }
    json_t *j = ynode_to_json(n);
    int ok = json_is_number(j) && json_number_value(j) > (double)k->min &&
             json_number_value(j) <= (double)k->max;
    json_decref(j);
    if (!ok)
        error_at(L, n, "%s: must be %s above %lld and at most %lld", path, k->what, k->min,
                 k->max);
    return ok;
}

/* The value's type, and what the type bounds: emptiness, range. */
static int check_type(loader *L, const config_key *k, const ynode *n, const char *path)
{
    switch (k->type) {
    case CONFIG_STRING:
    case CONFIG_PATH:
    case CONFIG_ENUM: return check_string(L, n, path);
    case CONFIG_TEXT: return expect_type(L, n, path, "string");
    case CONFIG_INT: return check_int(L, k, n, path);
    case CONFIG_NUMBER: return check_number(L, k, n, path);
    case CONFIG_BOOL: return expect_type(L, n, path, "boolean");
    case CONFIG_LIST: return expect_type(L, n, path, "list");
    case CONFIG_MAP:
    case CONFIG_SECTION: return expect_type(L, n, path, "mapping");
    case CONFIG_PATHS: break; /* its handler checks it */
    }
    return 1;
}

static int is_string_type(config_key_type t)
{
    return t == CONFIG_STRING || t == CONFIG_TEXT || t == CONFIG_PATH || t == CONFIG_ENUM;
}

/* A key it excludes was given and accepted already. */
static int conflicts(loader *L, const walk *w, const config_key *k, const ynode *n)
{
    const config_key *other = k->conflicts ? config_keys_find(w->s, k->conflicts) : NULL;
    if (!other || !w->accepted[other - w->s->keys])
        return 0;
    error_at(L, n, "%s: give either \"%s\" or \"%s\", not both", w->path, other->name, k->name);
    return 1;
}

/* The checks a value goes through, in order: type (and emptiness, range),
 * an excluded key, pattern, choices, the key's hook. 1: it passed. */
static int accept(loader *L, const walk *w, const config_key *k, const ynode *n,
                  const char *path)
{
    if (!check_type(L, k, n, path) || conflicts(L, w, k, n))
        return 0;
    if (k->pattern && is_string_type(k->type) && !regex_matches(k->pattern, n->value)) {
        error_at(L, n, "%s: \"%s\" is not %s", path, n->value, k->what);
        return 0;
    }
    if (k->type == CONFIG_ENUM && !str_in(n->value, k->choices)) {
        unknown_choice(L, n, path, k->what, k->choices);
        return 0;
    }
    return !k->hook || k->hook(L, k, w->map, n, path, w->base);
}

/* An int or a long long field, by its size. */
static void store_integer(void *field, size_t size, long long v)
{
    if (size == sizeof(int)) {
        int i = (int)v;
        memcpy(field, &i, sizeof i);
    } else {
        memcpy(field, &v, sizeof v);
    }
}

/* A number times the key's scale, rounded; a number above 0 stays above
 * 0 (a timeout of 0 ms would mean none). */
static long long scaled(const config_key *k, double v)
{
    long long n = (long long)(v * (k->scale ? k->scale : 1) + 0.5);
    return n < 1 && v > 0 ? 1 : n;
}

/* An accepted value into the key's field. */
static void store(loader *L, const config_key *k, const ynode *n, void *base)
{
    void *field = (char *)base + k->offset;
    json_t *j = NULL;
    switch (k->type) {
    case CONFIG_STRING:
    case CONFIG_TEXT:
    case CONFIG_ENUM: *(char **)field = xstrdup(n->value); break;
    case CONFIG_PATH: *(char **)field = resolve_path(L->cfg->dir, n->value); break;
    case CONFIG_MAP: *(json_t **)field = ynode_to_json(n); break;
    case CONFIG_INT:
    case CONFIG_NUMBER:
    case CONFIG_BOOL: j = ynode_to_json(n); break;
    default: break;
    }
    if (k->type == CONFIG_INT)
        store_integer(field, k->size, (long long)json_integer_value(j));
    else if (k->type == CONFIG_NUMBER)
        store_integer(field, k->size, scaled(k, json_number_value(j)));
    else if (k->type == CONFIG_BOOL)
        store_integer(field, k->size, json_is_true(j));
    json_decref(j);
}

/* The section of the `variants` key of `map`, or NULL (reported). */
static const config_section *pick_variant(loader *L, const config_variants *v, const ynode *map,
                                          const char *path)
{
    const ynode *n = ynode_get(map, v->key);
    if (!n && v->fallback)
        return config_keys_variant(v, v->fallback);
    const config_key *k = config_keys_find(v->sections[0], v->key);
    if (!n) {
        report_missing(L, map, path, k);
        return NULL;
    }
    char *p = key_path(path, v->key);
    const config_section *s = NULL;
    if (check_string(L, n, p) && !(s = config_keys_variant(v, n->value))) {
        size_t count = 0;
        while (v->sections[count])
            count++;
        const char **names = xcalloc(count + 1, sizeof *names);
        for (size_t i = 0; i < count; i++)
            names[i] = v->sections[i]->variant;
        unknown_choice(L, n, p, k->what, names);
        free(names);
    }
    free(p);
    return s;
}

/* A CONFIG_SECTION value: its own keys, or those of its variant. */
static void walk_mapping(loader *L, const config_key *k, const ynode *map, const char *path,
                         void *base)
{
    const config_section *s = k->variants ? pick_variant(L, k->variants, map, path) : k->section;
    if (s)
        walk_section(L, s, map, path, path, base);
}

/* One key: its value, else its default, checked and stored. An optional
 * section without a default is walked as an empty mapping, for the
 * defaults of its keys. */
static void load_key(loader *L, walk *w, const config_key *k)
{
    static const ynode empty_map = {.type = YNODE_MAP};
    const ynode *given = ynode_get(w->map, k->name);
    ydoc *def = given ? NULL : config_keys_default(k);
    const ynode *n = given ? given : def ? def->root : NULL;
    if (!n && k->type == CONFIG_SECTION && !(k->flags & CONFIG_REQUIRED))
        n = &empty_map;
    if (!n) {
        if (k->flags & CONFIG_REQUIRED)
            report_missing(L, w->map, w->path, k);
        else if (k->type == CONFIG_BOOL && k->size)
            store_integer((char *)w->base + k->offset, k->size, -1);
        return;
    }
    char *path = key_path(w->path, k->name);
    if (k->load) {
        k->load(L, k, n, path, w->base);
    } else if (accept(L, w, k, n, path)) {
        if (k->type == CONFIG_SECTION)
            walk_mapping(L, k, n, path, (char *)w->base + k->offset);
        else if (k->size)
            store(L, k, n, w->base);
        if (given && (k->flags & CONFIG_KEEP_POS))
            *(config_pos *)((char *)w->base + k->pos_offset) = (config_pos){n->line, n->column};
        w->accepted[k - w->s->keys] = given != NULL;
    }
    free(path);
    ydoc_free(def);
}

/* Unknown keys first, then every declared key in its order. `label`
 * fills the section's `where`. */
static void walk_section(loader *L, const config_section *s, const ynode *map,
                         const char *path, const char *label, void *base)
{
    check_keys(L, map, s, label);
    walk w = {s, map, path, base, xcalloc(s->n_keys, 1)};
    for (size_t i = 0; i < s->n_keys; i++)
        load_key(L, &w, &s->keys[i]);
    free(w.accepted);
}

/* ---- lists of strings -------------------------------------------------- */

/* The char ** a key fills, and its count beside it. */
static char ***strv_at(void *base, const config_key *k)
{
    return (char ***)((char *)base + k->offset);
}

static size_t *count_at(void *base, const config_key *k)
{
    return (size_t *)((char *)base + k->count_offset);
}

static void strv_push(void *base, const config_key *k, char *s)
{
    char ***v = strv_at(base, k);
    size_t *n = count_at(base, k);
    *v = xrealloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

/* ---- release --------------------------------------------------------- */

/* The section of `v` that the discriminator stored in `base` names. */
static const config_section *stored_variant(const config_variants *v, void *base)
{
    const config_key *k = config_keys_find(v->sections[0], v->key);
    const char *value = *(char **)((char *)base + k->offset);
    return value ? config_keys_variant(v, value) : NULL;
}

/* Frees what the keys of `s` stored in `base`. */
static void release(const config_section *s, void *base)
{
    for (size_t i = 0; i < s->n_keys; i++) {
        const config_key *k = &s->keys[i];
        void *field = (char *)base + k->offset;
        if (k->type == CONFIG_SECTION) {
            const config_section *sub = k->variants ? stored_variant(k->variants, field)
                                                    : k->section;
            if (sub)
                release(sub, field);
        } else if (!k->size) {
            continue;
        } else if (k->type == CONFIG_LIST || k->type == CONFIG_PATHS) {
            strv_free(*strv_at(base, k), *count_at(base, k));
        } else if (k->type == CONFIG_MAP) {
            json_decref(*(json_t **)field);
        } else if (is_string_type(k->type)) {
            free(*(char **)field);
        }
    }
}

/* ---- plugins.path ------------------------------------------------------ */

static void add_plugin_path(loader *L, const config_key *k, const ynode *n, const char *path,
                            void *base)
{
    if (check_string(L, n, path))
        strv_push(base, k, resolve_path(L->cfg->dir, n->value));
}

void config_load_plugin_paths(loader *L, const config_key *k, const ynode *n, const char *path,
                              void *base)
{
    if (n->type == YNODE_SEQ) {
        for (size_t i = 0; i < n->count; i++) {
            char *ip = xasprintf("%s[%zu]", path, i);
            add_plugin_path(L, k, n->items[i], ip, base);
            free(ip);
        }
    } else if (!strcmp(ynode_type_name(n), "string")) {
        add_plugin_path(L, k, n, path, base);
    } else {
        error_at(L, n, "%s: expected a string or a list, got %s", path,
                 with_article(ynode_type_name(n)));
    }
}

/* ---- notification targets --------------------------------------------- */

void config_load_headers(loader *L, const config_key *k, const ynode *n, const char *path,
                         void *base)
{
    notify_target *t = base;
    if (!expect_type(L, n, path, "mapping"))
        return;
    if (n->count)
        t->headers = xcalloc(n->count, sizeof *t->headers);
    for (size_t i = 0; i < n->count; i++) {
        const ynode *name = n->keys[i], *value = n->items[i];
        char *hp = xasprintf("%s.%s", path, name->value);
        int ok = regex_matches(k->pattern, name->value);
        if (!ok)
            error_at(L, name, "%s: \"%s\" is not %s", hp, name->value, k->what);
        if (expect_type(L, value, hp, "string") && ok)
            t->headers[t->n_headers++] =
                (config_header){xstrdup(name->value), xstrdup(value->value)};
        free(hp);
    }
}

static void free_target(const config_variants *types, notify_target *t)
{
    const config_section *s = stored_variant(types, t);
    if (s)
        release(s, t);
    free(t->name);
    for (size_t i = 0; i < t->n_headers; i++) {
        free(t->headers[i].name);
        free(t->headers[i].value);
    }
    free(t->headers);
}

/* A target joins the config only when it has no error. */
static void load_target(loader *L, const config_key *k, const ynode *key, const ynode *map,
                        const char *path)
{
    const config_section *s = NULL;
    if (!regex_matches(k->pattern, key->value))
        error_at(L, key, "%s: invalid target name \"%s\" (use %s)", path, key->value, k->what);
    else if (expect_type(L, map, path, "mapping"))
        s = pick_variant(L, k->variants, map, path);
    if (!s)
        return;
    notify_target t = {.name = xstrdup(key->value), .line = key->line, .column = key->column};
    size_t errors_before = L->diags->errors;
    walk_section(L, s, map, path, key->value, &t);
    if (L->diags->errors != errors_before) {
        free_target(k->variants, &t);
        return;
    }
    config *cfg = L->cfg;
    cfg->targets = xrealloc(cfg->targets, (cfg->n_targets + 1) * sizeof *cfg->targets);
    cfg->targets[cfg->n_targets++] = t;
}

void config_load_notify(loader *L, const config_key *k, const ynode *n, const char *path,
                        void *base)
{
    if (!expect_type(L, n, path, "mapping"))
        return;
    for (size_t i = 0; i < n->count; i++) {
        char *tp = key_path(path, n->keys[i]->value);
        load_target(L, k, n->keys[i], n->items[i], tp);
        free(tp);
    }
}

/* Names of targets as written (valid or not), for "unknown target"
 * checks that should not pile up after a target was already reported. */
static int target_declared(const loader *L, const char *name)
{
    const ynode *notify = ynode_get(L->cfg->doc->root, "notify");
    return ynode_get(notify, name) != NULL;
}

static void add_target_name(loader *L, const config_key *k, const ynode *item, const char *path,
                            void *base)
{
    int dup = 0;
    for (size_t j = 0; j < *count_at(base, k); j++)
        dup |= !strcmp((*strv_at(base, k))[j], item->value);
    if (dup && (k->flags & CONFIG_UNIQUE)) {
        error_at(L, item, "%s: target \"%s\" is listed twice", path, item->value);
    } else if (config_find_target(L->cfg, item->value)) {
        strv_push(base, k, xstrdup(item->value));
    } else if (!target_declared(L, item->value)) {
        const char **names = xcalloc(L->cfg->n_targets + 1, sizeof *names);
        for (size_t i = 0; i < L->cfg->n_targets; i++)
            names[i] = L->cfg->targets[i].name;
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "%s: unknown notify target \"%s\"", path, item->value);
        add_suggestion(&sb, closest(item->value, names, L->cfg->n_targets));
        error_at(L, item, "%s", sb_str(&sb));
        sb_free(&sb);
        free(names);
    }
}

/* on_failure / on_success: declared target names; a list always gives a
 * vector, an empty one too ([]: nobody). */
void config_load_target_list(loader *L, const config_key *k, const ynode *n, const char *path,
                             void *base)
{
    if (!expect_type(L, n, path, "list"))
        return;
    *strv_at(base, k) = xcalloc(1, sizeof(char *));
    for (size_t i = 0; i < n->count; i++) {
        char *ip = xasprintf("%s[%zu]", path, i);
        if (expect_type(L, n->items[i], ip, "string"))
            add_target_name(L, k, n->items[i], ip, base);
        free(ip);
    }
}

/* A list of non-empty strings (a rule's members:), kept with its count. */
void config_load_strings(loader *L, const config_key *k, const ynode *n, const char *path,
                         void *base)
{
    if (!expect_type(L, n, path, "list"))
        return;
    if ((k->flags & CONFIG_NONEMPTY) && n->count == 0) {
        error_at(L, n, "%s: must not be empty (omit it instead)", path);
        return;
    }
    for (size_t i = 0; i < n->count; i++) {
        char *ip = xasprintf("%s[%zu]", path, i);
        if (expect_type(L, n->items[i], ip, "string")) {
            if (!*n->items[i]->value)
                error_at(L, n->items[i], "%s: must not be empty", ip);
            else
                strv_push(base, k, xstrdup(n->items[i]->value));
        }
        free(ip);
    }
}

/* ---- rules ------------------------------------------------------------- */

int config_check_rule_name(loader *L, const config_key *k, const ynode *map, const ynode *n,
                            const char *path, void *base)
{
    const rule *r = base;
    for (size_t j = 0; j < r->index; j++) {
        const rule *earlier = &L->cfg->rules[j];
        if (earlier->name && !strcmp(earlier->name, n->value)) {
            error_at(L, n, "%s: duplicate rule name \"%s\" (first used at line %d)", path,
                     n->value, earlier->line);
            return 0;
        }
    }
    return 1;
}
/* Byte offset of a named group's name inside the pattern, for errors. */
static size_t group_name_offset(const char *src, const char *name)
{
    static const char *const forms[] = {"(?<%s>", "(?P<%s>", "(?'%s'", NULL};
    for (size_t i = 0; forms[i]; i++) {
        char *needle = xasprintf(forms[i], name);
        const char *hit = strstr(src, needle);
        size_t lead = strchr(needle, '<') ? (size_t)(strchr(needle, '<') - needle) + 1 : 3;
        free(needle);
        if (hit)
            return (size_t)(hit - src) + lead;
    }
    return 0;
}

/* Named groups in group-number order. */
static void collect_captures(rule *r)
{
    uint32_t count = 0, entry_size = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(r->regex, PCRE2_INFO_NAMECOUNT, &count);
    if (count == 0)
        return;
    pcre2_pattern_info(r->regex, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(r->regex, PCRE2_INFO_NAMETABLE, &table);
    uint32_t groups = 0;
    pcre2_pattern_info(r->regex, PCRE2_INFO_CAPTURECOUNT, &groups);
    r->capture_names = strv_new(count);
    for (uint32_t g = 1; g <= groups; g++) {
        for (uint32_t i = 0; i < count; i++) {
            PCRE2_SPTR e = table + (size_t)i * entry_size;
            if ((uint32_t)((e[0] << 8) | e[1]) == g)
                r->capture_names[r->n_captures++] = xstrdup((const char *)e + 2);
        }
    }
}

int config_check_regex(loader *L, const config_key *k, const ynode *map, const ynode *n,
                       const char *path, void *base)
{
    rule *r = base;
    int code;
    PCRE2_SIZE off;
    r->regex = pcre2_compile((PCRE2_SPTR)n->value, PCRE2_ZERO_TERMINATED, PCRE2_DOLLAR_ENDONLY,
                             &code, &off, NULL);
    if (!r->regex) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        error_in_scalar(L, n, off, "%s: invalid regex: %s at offset %zu", path,
                        (const char *)msg, (size_t)off);
        return 0;
    }
    collect_captures(r);
    int ok = 1;
    for (size_t i = 0; i < r->n_captures; i++) {
        if (str_in(r->capture_names[i], builtin_placeholders)) {
            error_in_scalar(L, n, group_name_offset(n->value, r->capture_names[i]),
                            "%s: the named group \"%s\" collides with the built-in placeholder "
                            "{%s}; rename the group",
                            path, r->capture_names[i], r->capture_names[i]);
            ok = 0;
        }
    }
    return ok;
}

static void add_event(loader *L, const config_key *k, const ynode *item, const char *path,
                      void *base)
{
    if (regex_matches(k->pattern, item->value)) {
        const char *ev = item->value;
        strv_push(base, k, xstrdup(strncmp(ev, "s3:", 3) ? ev : ev + 3));
        return;
    }
    const char *ev = strncmp(item->value, "s3:", 3) ? item->value : item->value + 3;
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s: unknown event type \"%s\" (expected ObjectCreated:* or ObjectRemoved:*, "
                 "or one of their kinds such as ObjectCreated:Put)",
            path, item->value);
    add_suggestion(&sb, closest(ev, known_events, list_len(known_events)));
    error_at(L, item, "%s", sb_str(&sb));
    sb_free(&sb);
}

void config_load_events(loader *L, const config_key *k, const ynode *n, const char *path,
                        void *base)
{
    if (!expect_type(L, n, path, "list"))
        return;
    if ((k->flags & CONFIG_NONEMPTY) && n->count == 0) {
        error_at(L, n, "%s: must not be empty (omit it for the default ObjectCreated:*)", path);
        return;
    }
    for (size_t i = 0; i < n->count; i++) {
        char *ip = xasprintf("%s[%zu]", path, i);
        if (expect_type(L, n->items[i], ip, "string"))
            add_event(L, k, n->items[i], ip, base);
        free(ip);
    }
}

static int scalar_is(const ynode *n, const char *value)
{
    return n && n->type == YNODE_SCALAR && n->value && strcmp(n->value, value) == 0;
}

/* members_as: jobs gives each archive member a job and an output of its
 * own: a template without {member} would have every member write the same
 * location, each overwriting the one before. */
static int check_member_output(loader *L, const ynode *map, const ynode *n, const char *path,
                               const template *t)
{
    if (!scalar_is(ynode_get(map, "members_as"), "jobs") || template_uses(t, "member"))
        return 1;
    const ynode *name = ynode_get(map, "name");
    error_at(L, n,
             "%s: rule \"%s\" has members_as: jobs (each archive member its own job and "
             "output), so its output must use {member}: without it every member would write "
             "the same location",
             path, name && name->type == YNODE_SCALAR ? name->value : "?");
    return 0;
}

/* The template is compiled against the regex's named groups; without
 * them (a bad regex) it would report spurious unknown placeholders, so it
 * waits for a good regex. */
int config_check_output(loader *L, const config_key *k, const ynode *map, const ynode *n,
                        const char *path, void *base)
{
    rule *r = base;
    if (ynode_get(ynode_get(map, "match"), "regex") && !r->regex)
        return 0;
    char err[512] = "";
    size_t off = 0;
    r->output = template_compile(n->value, (const char *const *)r->capture_names, r->n_captures,
                                 err, sizeof err, &off);
    if (!r->output)
        error_in_scalar(L, n, off, "%s: %s", path, err[0] ? err : "invalid template");
    else if (!check_member_output(L, map, n, path, r->output))
        return 0;
    return r->output != NULL;
}

/* A delivery rule reads its set's data files, never an archive's members
 * as jobs: saying so would be silently ignored. */
int config_check_members_as(loader *L, const config_key *k, const ynode *map, const ynode *n,
                            const char *path, void *base)
{
    (void)k;
    (void)base;
    if (!scalar_is(n, "jobs") || !ynode_get(map, "delivery"))
        return 1;
    const ynode *name = ynode_get(map, "name");
    error_at(L, n,
             "%s: rule \"%s\" is a delivery rule (delivery:), whose job reads the set's data "
             "files as one input: members_as: jobs does not apply to it",
             path, name && name->type == YNODE_SCALAR ? name->value : "?");
    return 0;
}

void config_load_rules(loader *L, const config_key *k, const ynode *n, const char *path,
                       void *base)
{
    config *cfg = base;
    if (!expect_type(L, n, path, "list"))
        return;
    if ((k->flags & CONFIG_NONEMPTY) && n->count == 0) {
        error_at(L, n, "%s: must not be empty (at least one rule is needed)", path);
        return;
    }
    cfg->rules = xcalloc(n->count, sizeof *cfg->rules);
    cfg->n_rules = n->count;
    for (size_t i = 0; i < n->count; i++) {
        rule *r = &cfg->rules[i];
        const ynode *item = n->items[i];
        char *rpath = xasprintf("%s[%zu]", path, i);
        r->index = i;
        r->line = item->line;
        r->column = item->column;
        if (expect_type(L, item, rpath, "mapping"))
            walk_section(L, k->section, item, rpath, rpath, r);
        free(rpath);
    }
}

/* ---- expected arrivals ------------------------------------------------- */

int config_check_expect_rule(loader *L, const config_key *k, const ynode *map, const ynode *n,
                             const char *path, void *base)
{
    (void)k;
    (void)map;
    (void)base;
    if (config_find_rule(L->cfg, n->value))
        return 1;
    error_at(L, n, "%s: no rule is named \"%s\"", path, n->value);
    return 0;
}

/* `every` is stored before `by` is checked (the keys' order). */
int config_check_expect_by(loader *L, const config_key *k, const ynode *map, const ynode *n,
                           const char *path, void *base)
{
    (void)k;
    (void)map;
    expect_config *e = base;
    int daily = n->value[0] != ':';
    if (!e->every)
        return 1; /* already reported */
    if (daily != !strcmp(e->every, "day")) {
        error_at(L, n, "%s: \"%s\" does not go with every: %s (write %s)", path, n->value,
                 e->every, daily ? "\":MM\", minutes past the hour" : "\"HH:MMZ\"");
        return 0;
    }
    e->period_s = daily ? 86400 : 3600;
    int hh = 0, mm = 0;
    if (daily)
        sscanf(n->value, "%d:%d", &hh, &mm);
    else
        sscanf(n->value + 1, "%d", &mm);
    e->by_s = hh * 3600 + mm * 60;
    return 1;
}

/* Seconds of a duration the pattern RE_DURATION already accepted ("2h"). */
static long long duration_seconds(const char *value)
{
    char unit = value[strlen(value) - 1];
    long long v = atoll(value);
    return v * (unit == 'd' ? 86400 : unit == 'h' ? 3600 : unit == 'm' ? 60 : 1);
}

int config_check_expect_grace(loader *L, const config_key *k, const ynode *map, const ynode *n,
                              const char *path, void *base)
{
    (void)L;
    (void)k;
    (void)map;
    (void)path;
    expect_config *e = base;
    e->grace_s = duration_seconds(n->value);
    return 1;
}

int config_check_rule_timeout(loader *L, const config_key *k, const ynode *map, const ynode *n,
                              const char *path, void *base)
{
    rule *r = base;
    r->timeout_ms = duration_seconds(n->value) * 1000;
    if (r->timeout_ms > 0)
        return 1;
    (void)k;
    (void)map;
    error_at(L, n, "%s: a timeout of %s would kill every job; leave the key out for none", path,
             n->value);
    return 0;
}

/* Bytes of a size the pattern RE_SIZE already accepted ("512M"). */
int config_check_rule_max_memory(loader *L, const config_key *k, const ynode *map,
                                 const ynode *n, const char *path, void *base)
{
    rule *r = base;
    char unit = n->value[strlen(n->value) - 1];
    long long v = atoll(n->value);
    r->max_memory_bytes = v << (unit == 'G' ? 30 : unit == 'M' ? 20 : 10);
    if (r->max_memory_bytes > 0)
        return 1;
    (void)k;
    (void)map;
    error_at(L, n, "%s: a max_memory of %s leaves the plugin no memory; leave the key out for "
             "no limit", path, n->value);
    return 0;
}

static void check_expect_twice(loader *L, const ynode *item, const char *path, size_t i)
{
    const expect_config *e = &L->cfg->expects[i];
    for (size_t j = 0; j < i && e->rule && e->every; j++) {
        const expect_config *o = &L->cfg->expects[j];
        if (o->rule && o->every && !strcmp(o->rule, e->rule) && !strcmp(o->every, e->every)) {
            error_at(L, item, "%s: rule \"%s\" is already expected every %s (line %d)", path,
                     e->rule, e->every, o->line);
            return;
        }
    }
}

void config_load_expect(loader *L, const config_key *k, const ynode *n, const char *path,
                        void *base)
{
    config *cfg = base;
    if (!expect_type(L, n, path, "list"))
        return;
    cfg->expects = xcalloc(n->count ? n->count : 1, sizeof *cfg->expects);
    cfg->n_expects = n->count;
    for (size_t i = 0; i < n->count; i++) {
        expect_config *e = &cfg->expects[i];
        const ynode *item = n->items[i];
        char *epath = xasprintf("%s[%zu]", path, i);
        e->line = item->line;
        e->column = item->column;
        if (expect_type(L, item, epath, "mapping")) {
            walk_section(L, k->section, item, epath, epath, e);
            check_expect_twice(L, item, epath, i);
        }
        free(epath);
    }
}

/* ---- loading ----------------------------------------------------------- */
/* ydoc errors read "name:line:col: message"; turn one into a diagnostic. */
static void add_load_error(diag_list *diags, const char *file, const char *err)
{
    size_t fl = strlen(file);
    int line = 0, col = 0, used = 0;
    if (!strncmp(err, file, fl) && err[fl] == ':' &&
        sscanf(err + fl + 1, "%d:%d: %n", &line, &col, &used) == 2 && used > 0) {
        diag_add(diags, DIAG_ERROR, file, line, col, "%s", err + fl + 1 + used);
        return;
    }
    if (!strncmp(err, file, fl) && err[fl] == ':' && err[fl + 1] == ' ')
        err += fl + 2;
    diag_add(diags, DIAG_ERROR, file, 0, 0, "%s", err);
}

static char *read_file(const char *path, size_t *len, int *errnum)
{
    strbuf sb = STRBUF_INIT;
    *errnum = sb_read_file(&sb, path);
    if (*errnum) {
        sb_free(&sb);
        return NULL;
    }
    *len = sb.len;
    return sb_steal(&sb);
}

static void load_document(loader *L)
{
    const ynode *root = L->cfg->doc->root;
    if (!root) {
        diag_add(L->diags, DIAG_ERROR, L->file, 1, 1,
                 "the configuration is empty (it needs at least a \"rules:\" list)");
        return;
    }
    if (root->type != YNODE_MAP) {
        error_at(L, root, "expected a mapping at the top level, got %s",
                 with_article(ynode_type_name(root)));
        return;
    }
    walk_section(L, &config_keys_root, root, "", "", L->cfg);
}

/* Loads `text` (named `name` in messages) into a config whose relative
 * paths resolve against `dir` (owned by the config from here on). */
static config *load_text(const char *name, char *dir, const char *text, size_t len,
                         diag_list *diags)
{
    size_t errors_before = diags->errors;
    config *cfg = xcalloc(1, sizeof *cfg);
    cfg->path = xstrdup(name);
    cfg->dir = dir;
    char err[1024];
    cfg->doc = ydoc_load_string(name, text, len, err, sizeof err);
    if (!cfg->doc) {
        add_load_error(diags, name, err);
        config_free(cfg);
        return NULL;
    }
    loader L = {cfg, diags, name, text, len};
    load_document(&L);
    if (diags->errors != errors_before) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

config *config_load(const char *path, diag_list *diags)
{
    size_t len = 0;
    int errnum = 0;
    char *text = read_file(path, &len, &errnum);
    if (!text) {
        diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read the configuration: %s",
                 strerror(errnum));
        return NULL;
    }
    config *cfg = load_text(path, config_dir(path), text, len, diags);
    free(text);
    return cfg;
}

config *config_load_text(const char *name, const char *dir, const char *text,
                         diag_list *diags)
{
    return load_text(name, normalize_path(dir), text, strlen(text), diags);
}

/* ---- positions --------------------------------------------------------- */

/* The key node naming the member at `pointer`, when that member is in a
 * mapping. */
static const ynode *member_key_node(const ynode *root, const char *pointer)
{
    const char *slash = strrchr(pointer, '/');
    if (!slash)
        return NULL;
    char *parent_ptr = xstrndup(pointer, (size_t)(slash - pointer));
    const ynode *parent = ynode_at_pointer(root, parent_ptr);
    free(parent_ptr);
    if (!parent || parent->type != YNODE_MAP)
        return NULL;
    const ynode *member = ynode_at_pointer(root, pointer);
    for (size_t i = 0; i < parent->count; i++)
        if (parent->items[i] == member)
            return parent->keys[i];
    return NULL;
}

int config_option_position(const config *cfg, const rule *r, const char *pointer, int at_key,
                           config_pos *pos)
{
    const ynode *rules = cfg->doc ? ynode_get(cfg->doc->root, "rules") : NULL;
    if (!rules || rules->type != YNODE_SEQ || r->index >= rules->count)
        return -1;
    const ynode *opts = ynode_get(rules->items[r->index], "options");
    if (!opts || opts->type != YNODE_MAP)
        return -1;
    const ynode *at = at_key ? member_key_node(opts, pointer) : NULL;
    if (!at)
        at = ynode_at_pointer(opts, pointer);
    if (!at)
        at = opts;
    pos->line = at->line;
    pos->column = at->column;
    return 0;
}

/* ---- lookup and release ---------------------------------------------- */

const rule *config_find_rule(const config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (cfg->rules[i].name && !strcmp(cfg->rules[i].name, name))
            return &cfg->rules[i];
    return NULL;
}

const notify_target *config_find_target(const config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_targets; i++)
        if (!strcmp(cfg->targets[i].name, name))
            return &cfg->targets[i];
    return NULL;
}

static void rule_free(const config_section *s, rule *r)
{
    release(s, r);
    pcre2_code_free(r->regex);
    strv_free(r->capture_names, r->n_captures);
    template_free(r->output);
}

void config_free(config *cfg)
{
    if (!cfg)
        return;
    const config_key *rules = config_keys_find(&config_keys_root, "rules");
    const config_key *notify = config_keys_find(&config_keys_root, "notify");
    for (size_t i = 0; i < cfg->n_rules; i++)
        rule_free(rules->section, &cfg->rules[i]);
    free(cfg->rules);
    const config_key *expect = config_keys_find(&config_keys_root, "expect");
    for (size_t i = 0; i < cfg->n_expects; i++)
        release(expect->section, &cfg->expects[i]);
    free(cfg->expects);
    for (size_t i = 0; i < cfg->n_targets; i++)
        free_target(notify->variants, &cfg->targets[i]);
    free(cfg->targets);
    release(&config_keys_root, cfg);
    ydoc_free(cfg->doc);
    free(cfg->path);
    free(cfg->dir);
    free(cfg);
}
