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
#include "util/clock.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/procid.h"
#include "util/strbuf.h"

#define DONE_DIR "_done/"
#define EXPECT_DIR "_expect/"
#define RUNNING_DIR "_running/"
#define UPLOADS_DIR "_uploads/"
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

/* BASE/DIR<sha256 of the parts, newline-joined>.json: a marker's key. */
static char *digest_key(const runstore *rs, const char *dir, const char *const *parts,
                        size_t n)
{
    strbuf id = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_addc(&id, '\n');
        sb_adds(&id, parts[i]);
    }
    char hex[65];
    sigv4_sha256_hex(id.buf, id.len, hex);
    sb_free(&id);
    return xasprintf("%s%s%s.json", rs->base, dir, hex);
}

/* A member's marker adds the member after the etag; a whole object's key
 * is what it always was, so markers written before members existed still
 * count. */
static char *done_key(const runstore *rs, const char *rule_name, const char *rule_output,
                      const char *input, const char *member, const char *etag)
{
    const char *parts[] = {rule_name, rule_output, input, etag, member};
    return digest_key(rs, DONE_DIR, parts, member ? 5 : 4);
}

static const char *detail_string(const json_t *detail, const char *a, const char *b)
{
    const json_t *v = json_object_get(detail, a);
    if (b)
        v = json_object_get(v, b);
    return json_string_value(v);
}

/* The key of the duplicate marker of an event's job, or NULL when the
 * event has nothing to recognise a duplicate by. */
static char *marker_key(const runstore *rs, const json_t *detail, const char *rule_output)
{
    const char *rule_name = detail_string(detail, "rule", NULL);
    const char *input = detail_string(detail, "input", "location");
    const char *etag = detail_string(detail, "input", "etag");
    if (!rule_name || !input || !etag)
        return NULL;
    return done_key(rs, rule_name, rule_output, input, detail_string(detail, "input", "member"),
                    etag);
}

/* The marker holds the whole final event too: a process killed after
 * writing it but before the record is reconciled to that event
 * (restore_if_done()). */
static int write_marker(runstore *rs, const json_t *event, const char *rule_output,
                        sl_error *err)
{
    const json_t *detail = json_object_get(event, "detail");
    char *key = marker_key(rs, detail, rule_output);
    if (!key)
        return 0; /* nothing to recognise a duplicate by */
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:O}", "run_id",
                          detail_string(detail, "run_id", NULL), "rule",
                          detail_string(detail, "rule", NULL), "output", rule_output, "input",
                          detail_string(detail, "input", "location"), "etag",
                          detail_string(detail, "input", "etag"), "member",
                          detail_string(detail, "input", "member"), "ended_at",
                          detail_string(detail, "ended_at", NULL), "event", event);
    char *text = json_dumps(m, JSON_INDENT(2));
    int rc = put_object(rs, key, text, err);
    free(key);
    free(text);
    json_decref(m);
    return rc;
}

/* The key of an event's record; NULL with err set. */
static char *record_key(const runstore *rs, const json_t *event, sl_error *err)
{
    const json_t *detail = json_object_get(event, "detail");
    const char *run_id = detail_string(detail, "run_id", NULL);
    if (!run_id) {
        sl_error_set(err, SL_ERR_INTERNAL, "run record without a run id");
        return NULL;
    }
    return expand_key(rs, run_id, detail_string(detail, "rule", NULL), err);
}

static int write_json(runstore *rs, const char *key, const json_t *doc, sl_error *err)
{
    char *text = json_dumps(doc, JSON_INDENT(2));
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, text);
    sb_addc(&sb, '\n');
    int rc = put_object(rs, key, sb_str(&sb), err);
    sb_free(&sb);
    free(text);
    return rc;
}

int runstore_write(runstore *rs, const json_t *event, const char *done_output, sl_error *err)
{
    char *key = record_key(rs, event, err);
    if (!key)
        return -1;
    /* The marker first: once it exists a redelivered event is a duplicate,
     * so a process killed between the two writes never has the job run
     * twice; its RUNNING record is then reconciled to this event from the
     * marker. (The other order could leave a SUCCEEDED record without a
     * marker, and the job would run again.) */
    int rc = done_output ? write_marker(rs, event, done_output, err) : 0;
    if (rc == 0)
        rc = write_json(rs, key, event, err);
    free(key);
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

/* The store's own folders beside the records. */
static int is_private_dir(const char *rel)
{
    static const char *const dirs[] = {DONE_DIR, EXPECT_DIR, RUNNING_DIR, UPLOADS_DIR};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        if (!strncmp(rel, dirs[i], strlen(dirs[i])))
            return 1;
    return 0;
}

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
    if (!strncmp(key, l->rs->base, blen) && is_private_dir(key + blen))
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

/* --- jobs in flight ------------------------------------------------------ */

/* This host's folder of marks. */
static char *running_prefix(const runstore *rs)
{
    return xasprintf("%s" RUNNING_DIR "%s/", rs->base, procid_self()->host);
}

static int remove_object(runstore *rs, const char *key, sl_error *err)
{
    return rs->st->ops->remove(rs->st, rs->bucket, key, err);
}

int runstore_start(runstore *rs, const json_t *event, const char *done_output, sl_error *err)
{
    char *key = record_key(rs, event, err);
    if (!key)
        return -1;
    const json_t *detail = json_object_get(event, "detail");
    const char *run_id = detail_string(detail, "run_id", NULL);
    char *prefix = running_prefix(rs);
    char *mark_key = xasprintf("%s%s.json", prefix, run_id);
    char *done = done_output ? marker_key(rs, detail, done_output) : NULL;
    /* the mark first: a record without one could never be reconciled */
    json_t *mark = json_pack("{s:s, s:s, s:s?, s:s?}", "run_id", run_id, "record", key, "process",
                             detail_string(detail, "process", NULL), "done", done);
    free(done);
    int rc = write_json(rs, mark_key, mark, err);
    if (rc == 0)
        rc = write_json(rs, key, event, err);
    json_decref(mark);
    free(mark_key);
    free(prefix);
    free(key);
    return rc;
}

int runstore_finish(runstore *rs, const json_t *event, const char *done_output, sl_error *err)
{
    if (runstore_write(rs, event, done_output, err) != 0)
        return -1;
    char *prefix = running_prefix(rs);
    char *mark_key = xasprintf("%s%s.json", prefix,
                               detail_string(json_object_get(event, "detail"), "run_id", NULL));
    sl_error rerr = {0};
    if (remove_object(rs, mark_key, &rerr) != 0)
        log_msg(NULL, SL_LOG_DEBUG, "run mark %s stays until the next start: %s", mark_key,
                rerr.msg);
    free(mark_key);
    free(prefix);
    return 0;
}

/* The record of a job whose process is gone, as ABANDONED (new reference). */
static json_t *abandon(const json_t *record, const char *why)
{
    char now[32], by[PROCID_TAG_MAX];
    clock_format_iso_ms(clock_now_ms(), now);
    json_t *rec = json_deep_copy(record);
    json_t *d = json_object_get(rec, "detail");
    json_object_set_new(d, "state", json_string("ABANDONED"));
    json_object_set_new(d, "abandoned", json_pack("{s:s, s:s, s:s}", "at", now, "reason", why,
                                                  "by", procid_format(procid_self(), by)));
    json_object_set_new(rec, "time", json_string(now));
    return rec;
}

typedef struct reconcile {
    runstore *rs;
    int dry_run;
    runstore_abandoned_fn fn;
    void *ud;
    int abandoned;
} reconcile;

/* A RUNNING record whose process is gone but whose job ended: the
 * process wrote the duplicate marker (runstore_write(): marker, then
 * record) and was killed before the record. The marker's event becomes
 * the record. 1 when it did (or would, with dry_run), 0 when the job did
 * not get that far. */
static int restore_if_done(reconcile *rc, const char *record_key, const json_t *rec,
                           const char *done_key)
{
    if (!done_key)
        return 0;
    sl_error err = {0};
    json_t *m = read_json(rc->rs, done_key, &err);
    const char *run_id = detail_string(json_object_get(rec, "detail"), "run_id", NULL);
    const json_t *event = json_object_get(m, "event");
    const char *ev_id = detail_string(json_object_get(event, "detail"), "run_id", NULL);
    int done = run_id && ev_id && strcmp(run_id, ev_id) == 0 && same_string(m, "run_id", run_id);
    if (done && !rc->dry_run && write_json(rc->rs, record_key, event, &err) != 0) {
        log_msg(NULL, SL_LOG_WARN, "run record %s stays RUNNING for now: %s", record_key,
                err.msg);
        done = -1;
    } else if (done) {
        log_msg(NULL, SL_LOG_INFO,
                "run %s ended (%s) but its process was gone before the record was: the record "
                "%s from the duplicate marker",
                run_id, detail_string(json_object_get(event, "detail"), "state", NULL),
                rc->dry_run ? "would be restored" : "is restored");
    }
    json_decref(m);
    return done;
}

/* A RUNNING record: ABANDONED when its process is gone, unless its job
 * ended (restore_if_done()). Returns 1 when it was (the mark has served),
 * 0 to keep the mark. */
static int abandon_if_gone(reconcile *rc, const char *record_key, const json_t *rec,
                           const char *done_key)
{
    const char *tag = detail_string(json_object_get(rec, "detail"), "process", NULL);
    procid writer;
    char why[256];
    if (!tag || procid_parse(tag, &writer) != 0) {
        log_msg(NULL, SL_LOG_WARN, "run record %s is RUNNING but names no process: left as is",
                record_key);
        return 0;
    }
    if (procid_judge(&writer, why, sizeof why) != PROCID_GONE)
        return 0;
    int restored = restore_if_done(rc, record_key, rec, done_key);
    if (restored)
        return restored > 0;
    json_t *out = abandon(rec, why);
    sl_error err = {0};
    int done = rc->dry_run || write_json(rc->rs, record_key, out, &err) == 0;
    if (done) {
        rc->abandoned++;
        if (rc->fn)
            rc->fn(rc->ud, out);
    } else {
        log_msg(NULL, SL_LOG_WARN, "run record %s stays RUNNING for now: %s", record_key,
                err.msg);
    }
    json_decref(out);
    return done;
}

/* Judges the record a mark names. Returns 1 when the mark has served (its
 * record is missing, final, or now ABANDONED), 0 to keep it. */
static int reconcile_record(reconcile *rc, const char *record_key, const char *done_key)
{
    sl_error err = {0};
    json_t *rec = read_json(rc->rs, record_key, &err);
    if (!rec)
        return err.kind == SL_ERR_INPUT; /* never written: the job died before it */
    const char *state = detail_string(json_object_get(rec, "detail"), "state", NULL);
    /* a record no longer RUNNING has ended: only its mark was left */
    int done = state && !strcmp(state, "RUNNING") ? abandon_if_gone(rc, record_key, rec, done_key)
                                                  : 1;
    json_decref(rec);
    return done;
}

static int reconcile_mark(void *ud, const char *key, const object_info *info)
{
    (void)info;
    reconcile *rc = ud;
    sl_error err = {0};
    json_t *mark = read_json(rc->rs, key, &err);
    const char *record_key = json_string_value(json_object_get(mark, "record"));
    if (!record_key) {
        log_msg(NULL, SL_LOG_WARN, "run mark %s skipped: %s", key,
                mark ? "it names no record" : err.msg);
    } else if (reconcile_record(rc, record_key,
                                json_string_value(json_object_get(mark, "done"))) &&
               !rc->dry_run &&
               remove_object(rc->rs, key, &err) != 0) {
        log_msg(NULL, SL_LOG_WARN, "run mark %s could not be removed: %s", key, err.msg);
    }
    json_decref(mark);
    return 0;
}

int runstore_reconcile(runstore *rs, int dry_run, runstore_abandoned_fn fn, void *ud,
                       sl_error *err)
{
    reconcile rc = {rs, dry_run, fn, ud, 0};
    char *prefix = running_prefix(rs);
    sl_error lerr = {0};
    int r = rs->st->ops->list(rs->st, rs->bucket, prefix, reconcile_mark, &rc, &lerr);
    free(prefix);
    if (r < 0 && lerr.kind == SL_ERR_INPUT)
        return 0; /* no store yet: nothing in flight */
    if (r < 0) {
        sl_error_set(err, lerr.kind, "jobs in flight at %s: %s", rs->where, lerr.msg);
        return -1;
    }
    return rc.abandoned;
}

/* --- open multipart uploads ---------------------------------------------- */

static char *upload_key(const runstore *rs, const char *bucket, const char *key,
                        const char *upload_id)
{
    const char *parts[] = {bucket, key, upload_id};
    return digest_key(rs, UPLOADS_DIR, parts, 3);
}

int runstore_upload_mark(runstore *rs, const char *bucket, const char *key,
                         const char *upload_id, const char *run_id, sl_error *err)
{
    char now[32], tag[PROCID_TAG_MAX];
    clock_format_iso_ms(clock_now_ms(), now);
    json_t *m = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s}", "bucket", bucket, "key", key,
                          "upload_id", upload_id, "run_id", run_id, "process",
                          procid_format(procid_self(), tag), "started_at", now);
    char *mkey = upload_key(rs, bucket, key, upload_id);
    int rc = write_json(rs, mkey, m, err);
    free(mkey);
    json_decref(m);
    return rc;
}

int runstore_upload_unmark(runstore *rs, const char *bucket, const char *key,
                           const char *upload_id, sl_error *err)
{
    char *mkey = upload_key(rs, bucket, key, upload_id);
    int rc = remove_object(rs, mkey, err);
    free(mkey);
    return rc;
}

int runstore_upload_find(runstore *rs, const char *bucket, const char *key,
                         const char *upload_id, json_t **out, sl_error *err)
{
    char *mkey = upload_key(rs, bucket, key, upload_id);
    sl_error rerr = {0};
    *out = read_json(rs, mkey, &rerr);
    free(mkey);
    if (*out && same_string(*out, "bucket", bucket) && same_string(*out, "key", key) &&
        same_string(*out, "upload_id", upload_id))
        return 1;
    json_decref(*out);
    *out = NULL;
    if (rerr.kind == SL_ERR_NONE || rerr.kind == SL_ERR_INPUT)
        return 0; /* no mark (or one for something else) */
    sl_error_set(err, rerr.kind, "%s", rerr.msg);
    return -1;
}

void runstore_place(const runstore *rs, const char **dir, const char **bucket,
                    const char **prefix)
{
    *dir = *bucket = *prefix = NULL;
    if (rs->local_parent) {
        *dir = rs->where;
    } else {
        *bucket = rs->bucket;
        *prefix = rs->list_prefix;
    }
}
