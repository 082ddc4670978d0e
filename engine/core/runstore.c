#include "autoconfig.h"
#include "core/runstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aws/sigv4.h"
#include "config/template.h"
#include "util/alloc.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#define DONE_DIR "_done/"
#define EXPECT_DIR "_expect/"
#define DEFAULT_KEY_TEMPLATE "{date}/{run_id}.json"
#define MAX_RECORD_BYTES (16 * 1024 * 1024)

struct runstore {
    storage *st;
    int owns_st;
    char *bucket;
    char *key_tpl;      /* key template: {date} {run_id} {rule} */
    char *list_prefix;  /* the template's literal head, for listing */
    char *base;         /* list_prefix up to its last '/': where _done/ lives */
    char *local_parent; /* dir form: created on the first write */
    char *where;
    int uses_rule;
};

/* --- templates ---------------------------------------------------------- */

/* The record's key. Its values go through the same check as every output
 * location's (config/template.h): NULL with err set when one is refused. */
static char *expand_key(const runstore *rs, const char *run_id, const char *rule_name,
                        sl_error *err)
{
    char date[11] = "unknown";
    if (!rule_name || !*rule_name)
        rule_name = "_none_";
    if (template_check_value("run_id", run_id, err) != 0 ||
        (rs->uses_rule && template_check_value("rule", rule_name, err) != 0))
        return NULL;
    if (runid_time_ms(run_id) >= 0)
        snprintf(date, sizeof date, "%.4s-%.2s-%.2s", run_id, run_id + 4, run_id + 6);
    strbuf sb = STRBUF_INIT;
    for (const char *p = rs->key_tpl; *p;) {
        if (!strncmp(p, "{date}", 6)) {
            sb_adds(&sb, date);
            p += 6;
        } else if (!strncmp(p, "{run_id}", 8)) {
            sb_adds(&sb, run_id);
            p += 8;
        } else if (!strncmp(p, "{rule}", 6)) {
            sb_adds(&sb, rule_name);
            p += 6;
        } else {
            sb_addc(&sb, *p++);
        }
    }
    return sb_steal(&sb);
}

static void set_template(runstore *rs, const char *tpl)
{
    rs->key_tpl = xstrdup(tpl);
    const char *brace = strchr(tpl, '{');
    size_t head = brace ? (size_t)(brace - tpl) : strlen(tpl);
    rs->list_prefix = xstrndup(tpl, head);
    const char *slash = NULL;
    for (const char *p = tpl; p < tpl + head; p++)
        if (*p == '/')
            slash = p;
    rs->base = xstrndup(tpl, slash ? (size_t)(slash - tpl) + 1 : 0);
    rs->uses_rule = strstr(tpl, "{rule}") != NULL;
}

/* --- opening ------------------------------------------------------------ */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    return xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* The records directory: runs.dir (resolved by the configuration), else
 * runs/ beside the local storage root, else beside the file. */
static char *records_dir(const config *cfg)
{
    if (cfg->runs.dir)
        return xstrdup(cfg->runs.dir);
    if (cfg->storage.type && !strcmp(cfg->storage.type, "local") && cfg->storage.root) {
        char *parent = dir_of(cfg->storage.root);
        char *out = xasprintf("%s%sruns", parent, strcmp(parent, "/") ? "/" : "");
        free(parent);
        return out;
    }
    return xasprintf("%s/runs", cfg->dir ? cfg->dir : ".");
}

/* The dir form is the local backend rooted at the directory's parent,
 * with the directory as its one bucket. */
static int open_dir_store(runstore *rs, char *path, sl_error *err)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    const char *slash = strrchr(path, '/');
    const char *leaf = slash ? slash + 1 : path;
    if (!*leaf || !strcmp(leaf, ".") || !strcmp(leaf, "..")) {
        sl_error_set(err, SL_ERR_CONFIG, "runs.dir %s: name the records directory itself",
                     path);
        return -1;
    }
    rs->local_parent = dir_of(path);
    rs->bucket = xstrdup(leaf);
    rs->where = xstrdup(path);
    rs->st = storage_local_new(rs->local_parent, err);
    rs->owns_st = 1;
    set_template(rs, DEFAULT_KEY_TEMPLATE);
    return rs->st ? 0 : -1;
}

static int open_location_store(runstore *rs, const config *cfg, storage *backend,
                               const char *loc, sl_error *err)
{
    const char *b = loc + strlen("s3://");
    const char *slash = strchr(b, '/');
    if (strncmp(loc, "s3://", 5) != 0 || !slash || slash == b || !slash[1]) {
        sl_error_set(err, SL_ERR_CONFIG, "runs.location %s: expected s3://BUCKET/KEY-TEMPLATE",
                     loc);
        return -1;
    }
    rs->bucket = xstrndup(b, (size_t)(slash - b));
    set_template(rs, slash + 1);
    rs->where = xasprintf("s3://%s/%s", rs->bucket, rs->list_prefix);
    if (backend) {
        rs->st = backend;
        return 0;
    }
    rs->st = storage_open(&cfg->storage, err);
    rs->owns_st = 1;
    return rs->st ? 0 : -1;
}

runstore *runstore_open(const config *cfg, storage *backend, int *disabled, sl_error *err)
{
    *disabled = !cfg->runs.enabled;
    if (*disabled)
        return NULL;
    runstore *rs = xcalloc(1, sizeof *rs);
    int rc;
    if (cfg->runs.location) {
        rc = open_location_store(rs, cfg, backend, cfg->runs.location, err);
    } else {
        char *dir = records_dir(cfg);
        rc = open_dir_store(rs, dir, err);
        free(dir);
    }
    if (rc != 0) {
        runstore_close(rs);
        return NULL;
    }
    return rs;
}

void runstore_close(runstore *rs)
{
    if (!rs)
        return;
    if (rs->owns_st)
        storage_destroy(rs->st);
    free(rs->bucket);
    free(rs->key_tpl);
    free(rs->list_prefix);
    free(rs->base);
    free(rs->local_parent);
    free(rs->where);
    free(rs);
}

const char *runstore_where(const runstore *rs)
{
    return rs->where;
}

/* --- objects ------------------------------------------------------------ */

static int make_dirs(const char *dir, sl_error *err)
{
    char failed[4096];
    int e = fsutil_mkdirs(dir, 0777, failed, sizeof failed);
    if (e == 0)
        return 0;
    sl_error_set(err, SL_ERR_STORAGE, "run records: cannot create directory %s: %s", failed,
                 strerror(e));
    return -1;
}

static int put_object(runstore *rs, const char *key, const char *text, sl_error *err)
{
    if (rs->local_parent && make_dirs(rs->local_parent, err) != 0)
        return -1;
    storage_writer *w = NULL;
    if (rs->st->ops->open_write(rs->st, rs->bucket, key, &w, err) != 0)
        return -1;
    if (storage_write(w, text, strlen(text), err) != 0) {
        storage_writer_abort(w);
        return -1;
    }
    return storage_writer_commit(w, err);
}

static int read_object(runstore *rs, const char *key, strbuf *out, sl_error *err)
{
    storage_reader *r = NULL;
    object_info info = {.size = -1};
    if (rs->st->ops->open_read(rs->st, rs->bucket, key, &r, &info, err) != 0) {
        storage_object_info_free(&info);
        return -1;
    }
    storage_object_info_free(&info);
    char buf[65536];
    ssize_t n;
    while ((n = storage_read(r, buf, sizeof buf, err)) > 0) {
        sb_add(out, buf, (size_t)n);
        if (out->len > MAX_RECORD_BYTES) {
            sl_error_set(err, SL_ERR_STORAGE, "s3://%s/%s: larger than %d bytes", rs->bucket,
                         key, MAX_RECORD_BYTES);
            n = -1;
            break;
        }
    }
    storage_reader_close(r);
    return n < 0 ? -1 : 0;
}

static json_t *read_json(runstore *rs, const char *key, sl_error *err)
{
    strbuf sb = STRBUF_INIT;
    json_t *doc = NULL;
    if (read_object(rs, key, &sb, err) == 0) {
        json_error_t jerr;
        doc = json_loadb(sb_str(&sb), sb.len, 0, &jerr);
        if (!doc)
            sl_error_set(err, SL_ERR_STORAGE, "s3://%s/%s: not JSON: %s (line %d)", rs->bucket,
                         key, jerr.text, jerr.line);
    }
    sb_free(&sb);
    return doc;
}

/* --- records and markers ------------------------------------------------ */

/* A member's marker adds the member after the etag; a whole object's key
 * is what it always was, so markers written before members existed still
 * count. */
static char *done_key(const runstore *rs, const char *rule_name, const char *rule_output,
                      const char *input, const char *member, const char *etag)
{
    strbuf id = STRBUF_INIT;
    sb_adds(&id, rule_name);
    sb_addc(&id, '\n');
    sb_adds(&id, rule_output);
    sb_addc(&id, '\n');
    sb_adds(&id, input);
    sb_addc(&id, '\n');
    sb_adds(&id, etag);
    if (member) {
        sb_addc(&id, '\n');
        sb_adds(&id, member);
    }
    char hex[65];
    sigv4_sha256_hex(id.buf, id.len, hex);
    sb_free(&id);
    return xasprintf("%s" DONE_DIR "%s.json", rs->base, hex);
}

static const char *detail_string(const json_t *detail, const char *a, const char *b)
{
    const json_t *v = json_object_get(detail, a);
    if (b)
        v = json_object_get(v, b);
    return json_string_value(v);
}

static int write_marker(runstore *rs, const json_t *detail, const char *rule_output,
                        sl_error *err)
{
    const char *rule_name = detail_string(detail, "rule", NULL);
    const char *input = detail_string(detail, "input", "location");
    const char *member = detail_string(detail, "input", "member");
    const char *etag = detail_string(detail, "input", "etag");
    if (!rule_name || !input || !etag)
        return 0; /* nothing to recognise a duplicate by */
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "run_id",
                          detail_string(detail, "run_id", NULL), "rule", rule_name, "output",
                          rule_output, "input", input, "etag", etag, "member", member,
                          "ended_at", detail_string(detail, "ended_at", NULL));
    char *text = json_dumps(m, JSON_INDENT(2));
    char *key = done_key(rs, rule_name, rule_output, input, member, etag);
    int rc = put_object(rs, key, text, err);
    free(key);
    free(text);
    json_decref(m);
    return rc;
}

int runstore_write(runstore *rs, const json_t *event, const char *done_output, sl_error *err)
{
    const json_t *detail = json_object_get(event, "detail");
    const char *run_id = detail_string(detail, "run_id", NULL);
    if (!run_id) {
        sl_error_set(err, SL_ERR_INTERNAL, "run record without a run id");
        return -1;
    }
    char *key = expand_key(rs, run_id, detail_string(detail, "rule", NULL), err);
    if (!key)
        return -1;
    char *text = json_dumps(event, JSON_INDENT(2));
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, text);
    sb_addc(&sb, '\n');
    int rc = put_object(rs, key, sb_str(&sb), err);
    sb_free(&sb);
    free(text);
    free(key);
    if (rc == 0 && done_output)
        rc = write_marker(rs, detail, done_output, err);
    return rc;
}

static int same_string(const json_t *obj, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v && strcmp(v, want) == 0;
}

/* Both absent, or the same string. */
static int same_member(const json_t *marker, const char *member)
{
    const char *v = json_string_value(json_object_get(marker, "member"));
    return member ? v && strcmp(v, member) == 0 : !v;
}

int runstore_find_done(runstore *rs, const char *rule_name, const char *rule_output,
                       const char *input, const char *member, const char *etag,
                       char prev[RUNID_MAX], sl_error *err)
{
    char *key = done_key(rs, rule_name, rule_output, input, member, etag);
    sl_error rerr = {0};
    json_t *m = read_json(rs, key, &rerr);
    free(key);
    if (!m) {
        if (rerr.kind == SL_ERR_INPUT)
            return 0; /* no marker (or no store yet) */
        sl_error_set(err, rerr.kind, "%s", rerr.msg);
        return -1;
    }
    const char *id = json_string_value(json_object_get(m, "run_id"));
    int same = id && strlen(id) < RUNID_MAX && same_string(m, "rule", rule_name) &&
               same_string(m, "output", rule_output) && same_string(m, "input", input) &&
               same_string(m, "etag", etag) && same_member(m, member);
    if (same)
        snprintf(prev, RUNID_MAX, "%s", id);
    json_decref(m);
    return same;
}

/* --- listing ------------------------------------------------------------ */

typedef struct key_list {
    char **keys;
    size_t count, cap;
    const runstore *rs;
    long long since_ms;
} key_list;

/* The run id a record key ends with ("…/RUN_ID.json"), when it has one. */
static long long key_time_ms(const char *key)
{
    const char *slash = strrchr(key, '/');
    const char *leaf = slash ? slash + 1 : key;
    if (strlen(leaf) != 30)
        return -1;
    char id[26];
    memcpy(id, leaf, 25);
    id[25] = '\0';
    return runid_time_ms(id);
}

static int collect_key(void *ud, const char *key, const object_info *info)
{
    (void)info;
    key_list *l = ud;
    size_t len = strlen(key), blen = strlen(l->rs->base);
    if (len < 5 || strcmp(key + len - 5, ".json") != 0)
        return 0;
    if (!strncmp(key, l->rs->base, blen) && (!strncmp(key + blen, DONE_DIR, strlen(DONE_DIR)) ||
                                              !strncmp(key + blen, EXPECT_DIR, strlen(EXPECT_DIR))))
        return 0;
    long long t = key_time_ms(key);
    if (l->since_ms > 0 && t >= 0 && t < l->since_ms - 1000)
        return 0; /* run ids have whole seconds */
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->keys = xrealloc(l->keys, l->cap * sizeof *l->keys);
    }
    l->keys[l->count++] = xstrdup(key);
    return 0;
}

static void key_list_free(key_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->keys[i]);
    free(l->keys);
}

int runstore_list(runstore *rs, long long since_ms, runstore_fn fn, runstore_bad_fn bad,
                  void *ud, sl_error *err)
{
    key_list l = {.rs = rs, .since_ms = since_ms};
    sl_error lerr = {0};
    int rc = rs->st->ops->list(rs->st, rs->bucket, rs->list_prefix, collect_key, &l, &lerr);
    if (rc < 0) {
        key_list_free(&l);
        if (rs->local_parent && lerr.kind == SL_ERR_INPUT)
            return 0; /* the directory does not exist yet: no runs */
        sl_error_set(err, lerr.kind, "run records at %s: %s", rs->where, lerr.msg);
        return -1;
    }
    for (size_t i = 0; i < l.count && rc == 0; i++) {
        sl_error rerr = {0};
        json_t *rec = read_json(rs, l.keys[i], &rerr);
        if (!rec || !json_is_object(json_object_get(rec, "detail"))) {
            if (bad)
                bad(ud, l.keys[i], rec ? "not a job-state event" : rerr.msg);
        } else {
            rc = fn(ud, rec);
        }
        json_decref(rec);
    }
    key_list_free(&l);
    return 0;
}

typedef struct find_ctx {
    const char *run_id;
    json_t *found;
} find_ctx;

static int match_run(void *ud, json_t *record)
{
    find_ctx *f = ud;
    const char *id = detail_string(json_object_get(record, "detail"), "run_id", NULL);
    if (!id || strcmp(id, f->run_id) != 0)
        return 0;
    f->found = json_incref(record);
    return 1;
}

int runstore_get(runstore *rs, const char *run_id, json_t **out, sl_error *err)
{
    *out = NULL;
    if (runid_time_ms(run_id) < 0) {
        sl_error_set(err, SL_ERR_INPUT,
                     "\"%s\" is not a run id (they look like 20261125T143715Z-9f2c4a1b)",
                     run_id);
        return -1;
    }
    if (rs->uses_rule) {
        find_ctx f = {.run_id = run_id};
        long long t = runid_time_ms(run_id);
        if (runstore_list(rs, t, match_run, NULL, &f, err) != 0)
            return -1;
        *out = f.found;
    } else {
        char *key = expand_key(rs, run_id, NULL, err);
        if (!key)
            return -1;
        sl_error rerr = {0};
        *out = read_json(rs, key, &rerr);
        if (!*out && rerr.kind != SL_ERR_INPUT) {
            sl_error_set(err, rerr.kind, "%s", rerr.msg);
            free(key);
            return -1;
        }
        free(key);
    }
    if (!*out) {
        sl_error_set(err, SL_ERR_INPUT, "no run %s in %s", run_id, rs->where);
        return -1;
    }
    return 0;
}

/* --- expected arrivals -------------------------------------------------- */

int runstore_expect_get(runstore *rs, const char *name, json_t **out, sl_error *err)
{
    char *key = xasprintf("%s" EXPECT_DIR "%s.json", rs->base, name);
    sl_error rerr = {0};
    *out = read_json(rs, key, &rerr);
    free(key);
    if (*out)
        return 1;
    if (rerr.kind == SL_ERR_INPUT)
        return 0; /* no verdict (or no store yet) */
    sl_error_set(err, rerr.kind, "%s", rerr.msg);
    return -1;
}

int runstore_expect_put(runstore *rs, const char *name, const json_t *verdict, sl_error *err)
{
    char *key = xasprintf("%s" EXPECT_DIR "%s.json", rs->base, name);
    char *text = json_dumps(verdict, JSON_INDENT(2));
    int rc = put_object(rs, key, text, err);
    free(text);
    free(key);
    return rc;
}
