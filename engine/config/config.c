#include "autoconfig.h"
#include "config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/jsonschema.h"
#include "util/alloc.h"
#include "util/spelling.h"
#include "util/strbuf.h"

/* The patterns below are the ones schemas/config.schema.json uses, so the
 * engine and the published schema agree on what is valid. */
#define RE_NAME "^[A-Za-z0-9_.-]+$"
#define RE_PLUGIN "^[a-z0-9_]+$"
#define RE_BUCKET "^(\\*|[A-Za-z0-9_-][A-Za-z0-9._-]*)$"
#define RE_EVENT                                                                    \
    "^(s3:)?(ObjectCreated:(\\*|Put|Post|Copy|CompleteMultipartUpload)|ObjectRemoved:" \
    "(\\*|Delete|DeleteMarkerCreated))$"
#define RE_SNS_ARN "^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$"
#define RE_URL "^https?://[^\\s/?#]+([/?#]\\S*)?$"
#define RE_ENV "^[A-Za-z_][A-Za-z0-9_]*$"
#define RE_REGION "^[a-z0-9-]+$"

#define S3_MIN_PART_SIZE 5242880LL      /* 5 MiB, the S3 minimum */
#define S3_MAX_PART_SIZE 5368709120LL   /* 5 GiB, the S3 maximum */

static const char *const builtin_placeholders[] = {
    "bucket", "key", "dir", "basename", "stem", "date", "run_date", "run_id", "name", NULL,
};

static const char *const top_keys[] = {
    "storage", "plugins", "notify", "on_failure", "on_success", "runs", "rules", NULL,
};
static const char *const storage_local_keys[] = {"type", "root", NULL};
static const char *const storage_s3_keys[] = {
    "type", "region", "endpoint", "path_style", "profile", "ca_bundle",
    "insecure_skip_verify", "part_size", "max_attempts", "parts_in_flight", "read_timeout",
    "connect_timeout", "retry_max_seconds", NULL,
};
static const char *const plugins_keys[] = {"path", NULL};
static const char *const rule_keys[] = {
    "name", "description", "match", "plugin", "options", "output", "on_failure", "on_success", NULL,
};
static const char *const match_keys[] = {"bucket", "prefix", "suffix", "regex", "events", NULL};

static const char *const target_types[] = {"log", "sns", "eventbridge", "webhook", NULL};
static const char *const log_keys[] = {"type", NULL};
static const char *const sns_keys[] = {"type", "topic_arn", "region", "endpoint",
                                       "subject_prefix", "profile", "timeout",
                                       "max_attempts", NULL};
static const char *const eventbridge_keys[] = {"type", "event_bus", "region", "endpoint",
                                               "source", "detail_type", "profile", "timeout",
                                               "max_attempts", NULL};
static const char *const webhook_keys[] = {"type", "url", "secret_env", "timeout", "headers",
                                           "max_attempts", NULL};
/* runs: where run records go (engine/runrecord.h) */
static const char *const runs_keys[] = {"enabled", "dir", "location", NULL};
#define RE_RUNS_PLACEHOLDERS "([^{}]|\\{(date|run_id|rule)\\})*"
#define RE_RUNS_LOCATION \
    "^s3://[^/{}]+/" RE_RUNS_PLACEHOLDERS "\\{run_id\\}" RE_RUNS_PLACEHOLDERS "$"

/* What loading needs besides the config being built. */
typedef struct loader {
    config *cfg;
    diag_list *diags;
    const char *file;
    const char *text; /* the source, to place errors inside strings */
    size_t len;
} loader;

/* ---- small helpers ---------------------------------------------------- */

static void error_at(loader *L, const ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_at(loader *L, const ynode *n, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    diag_add(L->diags, DIAG_ERROR, L->file, n ? n->line : 1, n ? n->column : 1, "%s",
             sb_str(&sb));
    sb_free(&sb);
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

/* ---- positions inside strings ------------------------------------------ */

static size_t utf8_chars(const char *s, size_t nbytes)
{
    size_t n = 0;
    for (size_t i = 0; i < nbytes && s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* Byte offset of (line, column) in the source, or -1. */
static long source_offset(const loader *L, int line, int column)
{
    size_t i = 0;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(L->text + i, '\n', L->len - i);
        if (!nl)
            return -1;
        i = (size_t)(nl - L->text) + 1;
    }
    for (int c = 1; c < column; c++) {
        if (i >= L->len || L->text[i] == '\n')
            return -1;
        i++;
        while (i < L->len && ((unsigned char)L->text[i] & 0xC0) == 0x80)
            i++;
    }
    return (long)i;
}

/* Column of byte `offset` of a scalar's value, when the value is written
 * verbatim on one line (plain, or quoted without escapes); otherwise the
 * scalar's own column. */
static int column_in_scalar(const loader *L, const ynode *n, size_t offset)
{
    if (!L->text || strchr(n->value, '\n'))
        return n->column;
    long at = source_offset(L, n->line, n->column);
    if (at < 0)
        return n->column;
    size_t i = (size_t)at, vlen = strlen(n->value);
    int quote = 0;
    if (n->quoted) {
        if (i >= L->len || (L->text[i] != '\'' && L->text[i] != '"'))
            return n->column;
        quote = L->text[i++];
    }
    if (i + vlen > L->len || memcmp(L->text + i, n->value, vlen) != 0)
        return n->column;
    if (quote && (i + vlen >= L->len || L->text[i + vlen] != quote))
        return n->column;
    return n->column + (quote ? 1 : 0) + (int)utf8_chars(n->value, offset);
}

static void error_in_scalar(loader *L, const ynode *n, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_in_scalar(loader *L, const ynode *n, size_t offset, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    diag_add(L->diags, DIAG_ERROR, L->file, n->line, column_in_scalar(L, n, offset), "%s",
             sb_str(&sb));
    sb_free(&sb);
}

/* ---- typed access ------------------------------------------------------ */

static int expect_type(loader *L, const ynode *n, const char *path, const char *type)
{
    const char *got = ynode_type_name(n);
    if (!strcmp(got, type))
        return 1;
    error_at(L, n, "%s: expected %s, got %s", path, with_article(type), with_article(got));
    return 0;
}

/* A string-valued key. Returns the node when present and a string. */
static const ynode *get_string(loader *L, const ynode *map, const char *key, const char *path,
                               int required)
{
    const ynode *n = ynode_get(map, key);
    if (!n) {
        if (required)
            error_at(L, map, "%s: missing required key \"%s\"", path, key);
        return NULL;
    }
    char *p = xasprintf("%s.%s", path, key);
    int ok = expect_type(L, n, p, "string");
    if (ok && n->value[0] == '\0') {
        error_at(L, n, "%s: must not be empty", p);
        ok = 0;
    }
    free(p);
    return ok ? n : NULL;
}

/* A string that must match one of the shared patterns. */
static const ynode *get_pattern(loader *L, const ynode *map, const char *key, const char *path,
                                int required, const char *re, const char *what)
{
    const ynode *n = get_string(L, map, key, path, required);
    if (n && !regex_matches(re, n->value)) {
        error_at(L, n, "%s.%s: \"%s\" is not %s", path, key, n->value, what);
        return NULL;
    }
    return n;
}

static void check_bool(loader *L, const ynode *map, const char *key, const char *path)
{
    const ynode *n = ynode_get(map, key);
    if (n) {
        char *p = xasprintf("%s.%s", path, key);
        expect_type(L, n, p, "boolean");
        free(p);
    }
}

static void check_int(loader *L, const ynode *map, const char *key, const char *path,
                      long long min, long long max)
{
    const ynode *n = ynode_get(map, key);
    if (!n)
        return;
    char *p = xasprintf("%s.%s", path, key);
    if (expect_type(L, n, p, "integer")) {
        json_t *j = ynode_to_json(n);
        long long v = json_is_integer(j) ? (long long)json_integer_value(j) : max;
        if (!json_is_integer(j) || v < min || v > max)
            error_at(L, n, "%s: must be between %lld and %lld", p, min, max);
        json_decref(j);
    }
    free(p);
}

static void check_keys(loader *L, const ynode *map, const char *const *allowed, const char *where)
{
    size_t n_allowed = list_len(allowed);
    for (size_t i = 0; i < map->count; i++) {
        const char *k = map->keys[i]->value;
        if (str_in(k, allowed))
            continue;
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "unknown key \"%s\" %s", k, where);
        add_suggestion(&sb, closest(k, allowed, n_allowed));
        error_at(L, map->keys[i], "%s", sb_str(&sb));
        sb_free(&sb);
    }
}

/* A mapping-valued key (or the node itself when key is NULL). */
static const ynode *as_map(loader *L, const ynode *n, const char *path)
{
    if (!n || !expect_type(L, n, path, "mapping"))
        return NULL;
    return n;
}

/* ---- typed values of checked keys ------------------------------------- */

/* A checked string key's value (new string), or NULL when absent. */
static char *str_value(const ynode *map, const char *key)
{
    const ynode *n = ynode_get(map, key);
    return n && n->type == YNODE_SCALAR ? xstrdup(n->value) : NULL;
}

static long long int_value(const ynode *map, const char *key, long long dflt)
{
    json_t *j = ynode_to_json(ynode_get(map, key));
    long long v = json_is_integer(j) ? (long long)json_integer_value(j) : dflt;
    json_decref(j);
    return v;
}

static double number_value(const ynode *map, const char *key, double dflt)
{
    json_t *j = ynode_to_json(ynode_get(map, key));
    double v = json_is_number(j) ? json_number_value(j) : dflt;
    json_decref(j);
    return v;
}

static int bool_value(const ynode *map, const char *key, int dflt)
{
    json_t *j = ynode_to_json(ynode_get(map, key));
    int v = json_is_boolean(j) ? json_is_true(j) : dflt;
    json_decref(j);
    return v;
}

/* ---- storage ----------------------------------------------------------- */

static void load_storage_default(loader *L)
{
    storage_config *st = &L->cfg->storage;
    st->type = xstrdup("local");
    st->root = resolve_path(L->cfg->dir, "data");
}

/* The s3 keys' values; defaults as docs/configuration.md gives them. */
static void fill_storage_s3(loader *L, const ynode *map, storage_config *st)
{
    st->region = str_value(map, "region");
    st->endpoint = str_value(map, "endpoint");
    st->profile = str_value(map, "profile");
    const ynode *ca = ynode_get(map, "ca_bundle");
    st->ca_bundle = ca && ca->value ? resolve_path(L->cfg->dir, ca->value) : NULL;
    st->path_style = bool_value(map, "path_style", -1);
    st->insecure_skip_verify = bool_value(map, "insecure_skip_verify", 0);
    st->part_size = int_value(map, "part_size", 8LL * 1024 * 1024);
    st->max_attempts = (int)int_value(map, "max_attempts", 5);
    st->parts_in_flight = (int)int_value(map, "parts_in_flight", 4);
    st->read_timeout = (int)int_value(map, "read_timeout", 60);
    st->connect_timeout = (int)int_value(map, "connect_timeout", 10);
    st->retry_max_seconds = (int)int_value(map, "retry_max_seconds", 120);
}

static void load_storage(loader *L, const ynode *node)
{
    if (!node) {
        load_storage_default(L);
        return;
    }
    const ynode *map = as_map(L, node, "storage");
    if (!map)
        return;
    storage_config *st = &L->cfg->storage;
    const char *type = "local";
    const ynode *tn = ynode_get(map, "type");
    if (tn) {
        tn = get_string(L, map, "type", "storage", 0);
        if (!tn)
            return;
        type = tn->value;
    }
    if (!strcmp(type, "local")) {
        check_keys(L, map, storage_local_keys, "in storage (type local)");
        const ynode *root = get_string(L, map, "root", "storage", 1);
        if (root)
            st->root = resolve_path(L->cfg->dir, root->value);
    } else if (!strcmp(type, "s3")) {
        check_keys(L, map, storage_s3_keys, "in storage (type s3)");
        get_pattern(L, map, "region", "storage", 0, RE_REGION, "a valid AWS region name");
        get_pattern(L, map, "endpoint", "storage", 0, RE_URL, "an http:// or https:// URL");
        get_string(L, map, "profile", "storage", 0);
        get_string(L, map, "ca_bundle", "storage", 0);
        check_bool(L, map, "path_style", "storage");
        check_bool(L, map, "insecure_skip_verify", "storage");
        check_int(L, map, "part_size", "storage", S3_MIN_PART_SIZE, S3_MAX_PART_SIZE);
        check_int(L, map, "max_attempts", "storage", 1, 100);
        check_int(L, map, "parts_in_flight", "storage", 1, 64);
        check_int(L, map, "read_timeout", "storage", 1, 3600);
        check_int(L, map, "connect_timeout", "storage", 1, 300);
        check_int(L, map, "retry_max_seconds", "storage", 1, 86400);
        fill_storage_s3(L, map, st);
    } else {
        const char *const types[] = {"local", "s3", NULL};
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "storage.type: unknown storage type \"%s\" (expected local or s3)", type);
        add_suggestion(&sb, closest(type, types, 2));
        error_at(L, tn, "%s", sb_str(&sb));
        sb_free(&sb);
        return;
    }
    st->type = xstrdup(type);
}

/* ---- plugins ----------------------------------------------------------- */

static void add_plugin_path(loader *L, const ynode *n, const char *path)
{
    if (!expect_type(L, n, path, "string"))
        return;
    if (!n->value[0]) {
        error_at(L, n, "%s: must not be empty", path);
        return;
    }
    config *cfg = L->cfg;
    cfg->plugin_paths = xrealloc(cfg->plugin_paths, (cfg->n_plugin_paths + 2) * sizeof(char *));
    cfg->plugin_paths[cfg->n_plugin_paths++] = resolve_path(cfg->dir, n->value);
    cfg->plugin_paths[cfg->n_plugin_paths] = NULL;
}

static void load_plugins(loader *L, const ynode *node)
{
    if (!node)
        return;
    const ynode *map = as_map(L, node, "plugins");
    if (!map)
        return;
    check_keys(L, map, plugins_keys, "in plugins");
    const ynode *p = ynode_get(map, "path");
    if (!p)
        return;
    if (p->type == YNODE_SEQ) {
        for (size_t i = 0; i < p->count; i++) {
            char *path = xasprintf("plugins.path[%zu]", i);
            add_plugin_path(L, p->items[i], path);
            free(path);
        }
    } else if (p->type == YNODE_SCALAR && !strcmp(ynode_type_name(p), "string")) {
        add_plugin_path(L, p, "plugins.path");
    } else {
        error_at(L, p, "plugins.path: expected a string or a list, got %s",
                 with_article(ynode_type_name(p)));
    }
}

/* ---- notification targets --------------------------------------------- */

static void check_headers(loader *L, const ynode *map, const char *path)
{
    const ynode *h = ynode_get(map, "headers");
    if (!h)
        return;
    char *p = xasprintf("%s.headers", path);
    if (as_map(L, h, p)) {
        for (size_t i = 0; i < h->count; i++) {
            char *hp = xasprintf("%s.%s", p, h->keys[i]->value);
            if (!regex_matches("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", h->keys[i]->value))
                error_at(L, h->keys[i], "%s: \"%s\" is not a valid HTTP header name", hp,
                         h->keys[i]->value);
            expect_type(L, h->items[i], hp, "string");
            free(hp);
        }
    }
    free(p);
}

static void check_timeout(loader *L, const ynode *map, const char *path)
{
    const ynode *t = ynode_get(map, "timeout");
    if (!t)
        return;
    const char *type = ynode_type_name(t);
    if (strcmp(type, "integer") && strcmp(type, "number")) {
        error_at(L, t, "%s.timeout: expected a number, got %s", path, with_article(type));
        return;
    }
    json_t *j = ynode_to_json(t);
    if (!json_is_number(j) || json_number_value(j) <= 0 || json_number_value(j) > 3600)
        error_at(L, t, "%s.timeout: must be a number of seconds above 0 and at most 3600", path);
    json_decref(j);
}

/* sns and eventbridge: the AWS profile, the per-request timeout and the
 * number of delivery attempts. */
static void check_delivery_keys(loader *L, const ynode *map, const char *path)
{
    get_string(L, map, "profile", path, 0);
    check_timeout(L, map, path);
    check_int(L, map, "max_attempts", path, 1, 10);
}

static void check_target_params(loader *L, const ynode *map, const char *type, const char *path)
{
    char *where = xasprintf("in notify target \"%s\" (type %s)", path + strlen("notify."), type);
    if (!strcmp(type, "log")) {
        check_keys(L, map, log_keys, where);
    } else if (!strcmp(type, "sns")) {
        check_keys(L, map, sns_keys, where);
        get_pattern(L, map, "topic_arn", path, 1, RE_SNS_ARN,
                    "an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)");
        get_pattern(L, map, "region", path, 0, RE_REGION, "a valid AWS region name");
        get_pattern(L, map, "endpoint", path, 0, RE_URL, "an http:// or https:// URL");
        get_string(L, map, "subject_prefix", path, 0);
        check_delivery_keys(L, map, path);
    } else if (!strcmp(type, "eventbridge")) {
        check_keys(L, map, eventbridge_keys, where);
        get_string(L, map, "event_bus", path, 0);
        get_pattern(L, map, "region", path, 0, RE_REGION, "a valid AWS region name");
        get_pattern(L, map, "endpoint", path, 0, RE_URL, "an http:// or https:// URL");
        get_string(L, map, "source", path, 0);
        get_string(L, map, "detail_type", path, 0);
        check_delivery_keys(L, map, path);
    } else if (!strcmp(type, "webhook")) {
        check_keys(L, map, webhook_keys, where);
        get_pattern(L, map, "url", path, 1, RE_URL, "an http:// or https:// URL");
        get_pattern(L, map, "secret_env", path, 0, RE_ENV, "an environment variable name");
        check_timeout(L, map, path);
        check_headers(L, map, path);
        check_int(L, map, "max_attempts", path, 1, 10);
    }
    free(where);
}

/* A checked target's values; defaults as docs/notifications.md gives them. */
static void fill_target(notify_target *t, const ynode *map)
{
    t->region = str_value(map, "region");
    t->endpoint = str_value(map, "endpoint");
    t->profile = str_value(map, "profile");
    t->timeout_ms = (long)(number_value(map, "timeout", 10.0) * 1000.0 + 0.5);
    t->max_attempts = (int)int_value(map, "max_attempts", 4);
    t->topic_arn = str_value(map, "topic_arn");
    t->subject_prefix = str_value(map, "subject_prefix");
    t->event_bus = str_value(map, "event_bus");
    t->source = str_value(map, "source");
    t->detail_type = str_value(map, "detail_type");
    t->url = str_value(map, "url");
    t->secret_env = str_value(map, "secret_env");
    const ynode *h = ynode_get(map, "headers");
    if (h && h->type == YNODE_MAP && h->count) {
        t->headers = xcalloc(h->count, sizeof *t->headers);
        for (size_t i = 0; i < h->count; i++)
            t->headers[t->n_headers++] = (config_header){xstrdup(h->keys[i]->value),
                                                         xstrdup(h->items[i]->value)};
    }
}

static void free_target(notify_target *t)
{
    free(t->name);
    free(t->type);
    free(t->region);
    free(t->endpoint);
    free(t->profile);
    free(t->topic_arn);
    free(t->subject_prefix);
    free(t->event_bus);
    free(t->source);
    free(t->detail_type);
    free(t->url);
    free(t->secret_env);
    for (size_t i = 0; i < t->n_headers; i++) {
        free(t->headers[i].name);
        free(t->headers[i].value);
    }
    free(t->headers);
}

static void load_target(loader *L, const ynode *key, const ynode *value)
{
    char *path = xasprintf("notify.%s", key->value);
    if (!regex_matches(RE_NAME, key->value)) {
        error_at(L, key,
                 "%s: invalid target name \"%s\" (use letters, digits, '_', '.' and '-')", path,
                 key->value);
        goto out;
    }
    if (!as_map(L, value, path))
        goto out;
    const ynode *tn = get_string(L, value, "type", path, 1);
    if (!tn)
        goto out;
    if (!str_in(tn->value, target_types)) {
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "%s.type: unknown target type \"%s\" (expected log, sns, eventbridge or "
                     "webhook)", path, tn->value);
        add_suggestion(&sb, closest(tn->value, target_types, list_len(target_types)));
        error_at(L, tn, "%s", sb_str(&sb));
        sb_free(&sb);
        goto out;
    }
    size_t before = L->diags->errors;
    check_target_params(L, value, tn->value, path);
    if (L->diags->errors == before) {
        config *cfg = L->cfg;
        cfg->targets = xrealloc(cfg->targets, (cfg->n_targets + 1) * sizeof *cfg->targets);
        notify_target *t = &cfg->targets[cfg->n_targets++];
        memset(t, 0, sizeof *t);
        t->name = xstrdup(key->value);
        t->type = xstrdup(tn->value);
        t->line = key->line;
        t->column = key->column;
        fill_target(t, value);
    }
out:
    free(path);
}

/* Names of targets as written (valid or not), for "unknown target"
 * checks that should not pile up after a target was already reported. */
static int target_declared(const loader *L, const char *name)
{
    const ynode *notify = ynode_get(L->cfg->doc->root, "notify");
    return ynode_get(notify, name) != NULL;
}

static void load_notify(loader *L, const ynode *node)
{
    if (!node)
        return;
    const ynode *map = as_map(L, node, "notify");
    if (!map)
        return;
    for (size_t i = 0; i < map->count; i++)
        load_target(L, map->keys[i], map->items[i]);
}

/* on_failure / on_success: a list of declared target names. Returns a
 * vector (never NULL once the node is a list) and its length. */
static char **load_target_list(loader *L, const ynode *n, const char *path, size_t *count)
{
    *count = 0;
    if (!n || !expect_type(L, n, path, "list"))
        return NULL;
    char **v = strv_new(n->count);
    const char **names = xcalloc(L->cfg->n_targets + 1, sizeof *names);
    for (size_t i = 0; i < L->cfg->n_targets; i++)
        names[i] = L->cfg->targets[i].name;
    for (size_t i = 0; i < n->count; i++) {
        const ynode *item = n->items[i];
        char *ip = xasprintf("%s[%zu]", path, i);
        if (!expect_type(L, item, ip, "string")) {
            free(ip);
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < *count; j++)
            dup |= !strcmp(v[j], item->value);
        if (dup) {
            error_at(L, item, "%s: target \"%s\" is listed twice", ip, item->value);
        } else if (!config_find_target(L->cfg, item->value)) {
            if (!target_declared(L, item->value)) {
                strbuf sb = STRBUF_INIT;
                sb_addf(&sb, "%s: unknown notify target \"%s\"", ip, item->value);
                add_suggestion(&sb, closest(item->value, names, L->cfg->n_targets));
                error_at(L, item, "%s", sb_str(&sb));
                sb_free(&sb);
            }
        } else {
            v[(*count)++] = xstrdup(item->value);
        }
        free(ip);
    }
    free(names);
    return v;
}

/* ---- run records ------------------------------------------------------- */

/* runs: {enabled, dir | location}. */
static void load_runs(loader *L, const ynode *node)
{
    L->cfg->runs.enabled = 1;
    if (!node)
        return;
    const ynode *map = as_map(L, node, "runs");
    if (!map)
        return;
    check_keys(L, map, runs_keys, "in runs");
    check_bool(L, map, "enabled", "runs");
    const ynode *dir = get_string(L, map, "dir", "runs", 0);
    const ynode *loc = get_string(L, map, "location", "runs", 0);
    if (dir && loc)
        error_at(L, loc, "runs: give either \"dir\" or \"location\", not both");
    else if (loc && !regex_matches(RE_RUNS_LOCATION, loc->value))
        error_at(L, loc,
                 "runs.location: \"%s\" is not an s3://BUCKET/KEY template that contains "
                 "{run_id} (placeholders: {date} {run_id} {rule})",
                 loc->value);
    runs_config *r = &L->cfg->runs;
    r->enabled = bool_value(map, "enabled", 1);
    r->dir = dir ? resolve_path(L->cfg->dir, dir->value) : NULL;
    r->location = loc ? xstrdup(loc->value) : NULL;
}

/* ---- rules ------------------------------------------------------------- */

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

static int compile_rule_regex(loader *L, rule *r, const ynode *n, const char *path)
{
    int code;
    PCRE2_SIZE off;
    r->regex_src = xstrdup(n->value);
    r->regex = pcre2_compile((PCRE2_SPTR)n->value, PCRE2_ZERO_TERMINATED, PCRE2_DOLLAR_ENDONLY,
                             &code, &off, NULL);
    if (!r->regex) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        error_in_scalar(L, n, off, "%s: invalid regex: %s at offset %zu", path,
                        (const char *)msg, (size_t)off);
        return -1;
    }
    collect_captures(r);
    int rc = 0;
    for (size_t i = 0; i < r->n_captures; i++) {
        if (str_in(r->capture_names[i], builtin_placeholders)) {
            error_in_scalar(L, n, group_name_offset(n->value, r->capture_names[i]),
                            "%s: the named group \"%s\" collides with the built-in placeholder "
                            "{%s}; rename the group",
                            path, r->capture_names[i], r->capture_names[i]);
            rc = -1;
        }
    }
    return rc;
}

static void load_events(loader *L, rule *r, const ynode *n, const char *path)
{
    if (!n) {
        r->events = strv_new(1);
        r->events[0] = xstrdup("ObjectCreated:*");
        r->n_events = 1;
        return;
    }
    if (!expect_type(L, n, path, "list"))
        return;
    if (n->count == 0) {
        error_at(L, n, "%s: must not be empty (omit it for the default ObjectCreated:*)", path);
        return;
    }
    static const char *const known[] = {
        "ObjectCreated:*", "ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy",
        "ObjectCreated:CompleteMultipartUpload", "ObjectRemoved:*", "ObjectRemoved:Delete",
        "ObjectRemoved:DeleteMarkerCreated", NULL,
    };
    r->events = strv_new(n->count);
    for (size_t i = 0; i < n->count; i++) {
        const ynode *item = n->items[i];
        char *ip = xasprintf("%s[%zu]", path, i);
        if (expect_type(L, item, ip, "string")) {
            const char *ev = item->value;
            if (!strncmp(ev, "s3:", 3))
                ev += 3;
            if (!regex_matches(RE_EVENT, item->value)) {
                strbuf sb = STRBUF_INIT;
                sb_addf(&sb, "%s: unknown event type \"%s\" (expected ObjectCreated:* or "
                             "ObjectRemoved:*, or one of their kinds such as ObjectCreated:Put)",
                        ip, item->value);
                add_suggestion(&sb, closest(ev, known, list_len(known)));
                error_at(L, item, "%s", sb_str(&sb));
                sb_free(&sb);
            } else {
                r->events[r->n_events++] = xstrdup(ev);
            }
        }
        free(ip);
    }
}

static void load_match(loader *L, rule *r, const ynode *n, const char *rpath)
{
    char *path = xasprintf("%s.match", rpath);
    if (!as_map(L, n, path)) {
        free(path);
        return;
    }
    check_keys(L, n, match_keys, "in match");
    const ynode *b = get_pattern(L, n, "bucket", path, 1, RE_BUCKET,
                                 "a bucket name (letters, digits, '.', '_', '-', not starting "
                                 "with '.') or \"*\"");
    if (b)
        r->bucket = xstrdup(b->value);
    const ynode *s;
    if ((s = ynode_get(n, "prefix"))) {
        char *p = xasprintf("%s.prefix", path);
        if (expect_type(L, s, p, "string"))
            r->prefix = xstrdup(s->value);
        free(p);
    }
    if ((s = ynode_get(n, "suffix"))) {
        char *p = xasprintf("%s.suffix", path);
        if (expect_type(L, s, p, "string"))
            r->suffix = xstrdup(s->value);
        free(p);
    }
    if ((s = ynode_get(n, "regex"))) {
        char *p = xasprintf("%s.regex", path);
        if (expect_type(L, s, p, "string"))
            compile_rule_regex(L, r, s, p);
        free(p);
    }
    char *ep = xasprintf("%s.events", path);
    load_events(L, r, ynode_get(n, "events"), ep);
    free(ep);
    free(path);
}

static void load_output(loader *L, rule *r, const ynode *rn, const char *rpath, int regex_ok)
{
    char *path = xasprintf("%s.output", rpath);
    const ynode *o = get_string(L, rn, "output", rpath, 1);
    if (o && regex_ok) {
        char err[512] = "";
        size_t off = 0;
        r->output = template_compile(o->value, (const char *const *)r->capture_names,
                                     r->n_captures, err, sizeof err, &off);
        if (!r->output)
            error_in_scalar(L, o, off, "%s: %s", path, err[0] ? err : "invalid template");
    }
    free(path);
}

static void load_rule(loader *L, size_t idx, const ynode *rn)
{
    rule *r = &L->cfg->rules[idx];
    char *rpath = xasprintf("rules[%zu]", idx);
    r->index = idx;
    r->line = rn->line;
    r->column = rn->column;
    if (!as_map(L, rn, rpath)) {
        free(rpath);
        return;
    }
    char *where = xasprintf("in %s", rpath);
    check_keys(L, rn, rule_keys, where);
    free(where);

    const ynode *name = get_pattern(L, rn, "name", rpath, 1, RE_NAME,
                                    "a valid rule name (letters, digits, '_', '.' and '-')");
    if (name) {
        for (size_t j = 0; j < idx; j++) {
            if (L->cfg->rules[j].name && !strcmp(L->cfg->rules[j].name, name->value)) {
                error_at(L, name, "%s.name: duplicate rule name \"%s\" (first used at line %d)",
                         rpath, name->value, L->cfg->rules[j].line);
                name = NULL;
                break;
            }
        }
        if (name)
            r->name = xstrdup(name->value);
    }
    get_string(L, rn, "description", rpath, 0);

    const ynode *match = ynode_get(rn, "match");
    if (!match)
        error_at(L, rn, "%s: missing required key \"match\"", rpath);
    if (match)
        load_match(L, r, match, rpath);
    /* Without the regex's captures the template would report spurious
     * unknown placeholders. */
    int regex_ok = !ynode_get(match, "regex") || r->regex != NULL;

    const ynode *plugin = get_pattern(L, rn, "plugin", rpath, 1, RE_PLUGIN,
                                      "a valid plugin name (a-z, 0-9 and '_')");
    if (plugin) {
        r->plugin_name = xstrdup(plugin->value);
        r->plugin_pos = (config_pos){plugin->line, plugin->column};
    }

    const ynode *opts = ynode_get(rn, "options");
    if (opts) {
        char *p = xasprintf("%s.options", rpath);
        if (as_map(L, opts, p)) {
            r->options = ynode_to_json(opts);
            r->options_pos = (config_pos){opts->line, opts->column};
        }
        free(p);
    }
    if (!r->options)
        r->options = json_object();

    load_output(L, r, rn, rpath, regex_ok);

    char *fp = xasprintf("%s.on_failure", rpath);
    r->on_failure = load_target_list(L, ynode_get(rn, "on_failure"), fp, &r->n_on_failure);
    free(fp);
    char *sp = xasprintf("%s.on_success", rpath);
    r->on_success = load_target_list(L, ynode_get(rn, "on_success"), sp, &r->n_on_success);
    free(sp);
    free(rpath);
}

static void load_rules(loader *L, const ynode *root)
{
    const ynode *rules = ynode_get(root, "rules");
    if (!rules) {
        error_at(L, root, "missing required key \"rules\" (the list of routing rules)");
        return;
    }
    if (!expect_type(L, rules, "rules", "list"))
        return;
    if (rules->count == 0) {
        error_at(L, rules, "rules: must not be empty (at least one rule is needed)");
        return;
    }
    L->cfg->rules = xcalloc(rules->count, sizeof *L->cfg->rules);
    L->cfg->n_rules = rules->count;
    for (size_t i = 0; i < rules->count; i++)
        load_rule(L, i, rules->items[i]);
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
    check_keys(L, root, top_keys, "at the top level");
    load_storage(L, ynode_get(root, "storage"));
    load_plugins(L, ynode_get(root, "plugins"));
    load_notify(L, ynode_get(root, "notify"));
    L->cfg->on_failure = load_target_list(L, ynode_get(root, "on_failure"), "on_failure",
                                          &L->cfg->n_on_failure);
    L->cfg->on_success = load_target_list(L, ynode_get(root, "on_success"), "on_success",
                                          &L->cfg->n_on_success);
    load_runs(L, ynode_get(root, "runs"));
    load_rules(L, root);
}

config *config_load(const char *path, diag_list *diags)
{
    size_t errors_before = diags->errors;
    config *cfg = xcalloc(1, sizeof *cfg);
    cfg->path = xstrdup(path);
    cfg->dir = config_dir(path);

    size_t len = 0;
    int errnum = 0;
    char *text = read_file(path, &len, &errnum);
    if (!text) {
        diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read the configuration: %s",
                 strerror(errnum));
        config_free(cfg);
        return NULL;
    }
    char err[1024];
    cfg->doc = ydoc_load_string(path, text, len, err, sizeof err);
    if (!cfg->doc) {
        add_load_error(diags, path, err);
        free(text);
        config_free(cfg);
        return NULL;
    }
    loader L = {cfg, diags, path, text, len};
    load_document(&L);
    free(text);
    if (diags->errors != errors_before) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
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

static void rule_free(rule *r)
{
    free(r->name);
    free(r->bucket);
    free(r->prefix);
    free(r->suffix);
    free(r->regex_src);
    pcre2_code_free(r->regex);
    strv_free(r->capture_names, r->n_captures);
    strv_free(r->events, r->n_events);
    free(r->plugin_name);
    json_decref(r->options);
    template_free(r->output);
    strv_free(r->on_failure, r->n_on_failure);
    strv_free(r->on_success, r->n_on_success);
}

void config_free(config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_rules; i++)
        rule_free(&cfg->rules[i]);
    free(cfg->rules);
    for (size_t i = 0; i < cfg->n_targets; i++)
        free_target(&cfg->targets[i]);
    free(cfg->targets);
    strv_free(cfg->on_failure, cfg->n_on_failure);
    strv_free(cfg->on_success, cfg->n_on_success);
    strv_free(cfg->plugin_paths, cfg->n_plugin_paths);
    free(cfg->storage.type);
    free(cfg->storage.root);
    free(cfg->storage.region);
    free(cfg->storage.endpoint);
    free(cfg->storage.profile);
    free(cfg->storage.ca_bundle);
    free(cfg->runs.dir);
    free(cfg->runs.location);
    ydoc_free(cfg->doc);
    free(cfg->path);
    free(cfg->dir);
    free(cfg);
}
