/* janitor.c — cleaning up after killed processes (janitor.h). */
#include "autoconfig.h"
#include "intake/janitor.h"

#include <stdlib.h>
#include <string.h>

#include "core/runstore.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/procid.h"
#include "util/strbuf.h"

/* --- where the configuration writes ---------------------------------------- */

typedef struct s3_place {
    char *bucket, *prefix;
} s3_place;

typedef struct places {
    char **dirs; /* local directories that receive temporaries */
    size_t ndirs;
    s3_place *s3; /* S3 output prefixes, where uploads are opened */
    size_t ns3;
} places;

static void add_dir(places *p, char *dir)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    p->dirs = xrealloc(p->dirs, (p->ndirs + 1) * sizeof *p->dirs);
    p->dirs[p->ndirs++] = dir;
}

static void add_s3(places *p, const char *bucket, const char *prefix)
{
    p->s3 = xrealloc(p->s3, (p->ns3 + 1) * sizeof *p->s3);
    p->s3[p->ns3++] = (s3_place){xstrdup(bucket), xstrdup(prefix)};
}

/* An object prefix the configuration writes below: a directory to sweep
 * on local storage, a prefix to look for uploads under on S3. */
static void add_object_place(places *p, storage *st, const char *bucket, const char *prefix)
{
    if (st->ops->list_uploads) {
        add_s3(p, bucket, prefix);
        return;
    }
    sl_error err = {0};
    char *dir = storage_local_dir_of(st, bucket, prefix, &err);
    if (dir)
        add_dir(p, dir);
    else
        log_msg(NULL, SL_LOG_DEBUG, "janitor: s3://%s/%s not looked at: %s", bucket, prefix,
                err.msg);
}

/* A plain path's directory (relative ones are the configuration file's,
 * as job.c anchors them). */
static void add_path_place(places *p, const config *cfg, const char *head)
{
    if (!strncmp(head, "file://", 7))
        head += 7;
    const char *slash = strrchr(head, '/');
    char *dir = slash ? xstrndup(head, slash == head ? 1 : (size_t)(slash - head)) : xstrdup("");
    if (dir[0] != '/') {
        char *abs = xasprintf("%s%s%s", cfg->dir ? cfg->dir : ".", *dir ? "/" : "", dir);
        free(dir);
        dir = abs;
    }
    add_dir(p, dir);
}

/* A rule's output up to its first placeholder: what every output of the
 * rule starts with. */
static void add_output_place(places *p, intake *in, const char *tpl)
{
    const char *brace = strchr(tpl, '{');
    char *head = xstrndup(tpl, brace ? (size_t)(brace - tpl) : strlen(tpl));
    if (!strncmp(head, "s3://", 5)) {
        const char *b = head + 5, *slash = strchr(b, '/');
        if (slash && slash > b) { /* else the bucket itself is a placeholder */
            char *bucket = xstrndup(b, (size_t)(slash - b));
            add_object_place(p, in->storage, bucket, slash + 1);
            free(bucket);
        }
    } else {
        add_path_place(p, in->cfg, head);
    }
    free(head);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, and a directory below another one listed is dropped: the sweep
 * of its ancestor covers it. */
static void dedupe_dirs(places *p)
{
    if (p->ndirs > 1) /* qsort of NULL, 0 is undefined */
        qsort(p->dirs, p->ndirs, sizeof *p->dirs, by_string);
    size_t kept = 0;
    for (size_t i = 0; i < p->ndirs; i++) {
        const char *prev = kept ? p->dirs[kept - 1] : NULL;
        size_t n = prev ? strlen(prev) : 0;
        if (prev && !strncmp(p->dirs[i], prev, n) &&
            (p->dirs[i][n] == '\0' || p->dirs[i][n] == '/' || !strcmp(prev, "/"))) {
            free(p->dirs[i]);
            continue;
        }
        p->dirs[kept++] = p->dirs[i];
    }
    p->ndirs = kept;
}

static void places_find(places *p, intake *in, runstore *rs)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < in->cfg->n_rules; i++)
        add_output_place(p, in, template_source(in->cfg->rules[i].output));
    const char *dir, *bucket, *prefix;
    if (rs) {
        runstore_place(rs, &dir, &bucket, &prefix);
        if (dir)
            add_dir(p, xstrdup(dir));
        else if (!in->storage->ops->list_uploads)
            add_object_place(p, in->storage, bucket, prefix);
    }
    dedupe_dirs(p);
}

static void places_free(places *p)
{
    for (size_t i = 0; i < p->ndirs; i++)
        free(p->dirs[i]);
    free(p->dirs);
    for (size_t i = 0; i < p->ns3; i++) {
        free(p->s3[i].bucket);
        free(p->s3[i].prefix);
    }
    free(p->s3);
}

/* --- one run ----------------------------------------------------------------- */

typedef struct janitor {
    intake *in;
    const janitor_options *o;
    janitor_totals *t;
    runstore *rs; /* NULL: records are off or unusable */
    long long now_s;
    char why[512]; /* the temporary being removed: why */
} janitor;

static void report(janitor *j, janitor_kind kind, janitor_verdict v, const char *name,
                   const char *why, const char *upload_id)
{
    switch (v) {
    case JANITOR_CLEANED: j->t->cleaned++; break;
    case JANITOR_KEPT: j->t->kept++; break;
    case JANITOR_FAILED: j->t->failed++; break;
    }
    if (j->o->report) {
        janitor_item it = {kind, v, name, why, upload_id};
        j->o->report(j->o->ud, &it);
    }
}

/* "26 h" and the like: ages in messages. */
static void format_age(long long s, char *out, size_t cap)
{
    if (s >= 2 * 86400)
        snprintf(out, cap, "%lld d", s / 86400);
    else if (s >= 2 * 3600)
        snprintf(out, cap, "%lld h", s / 3600);
    else if (s >= 120)
        snprintf(out, cap, "%lld min", s / 60);
    else
        snprintf(out, cap, "%lld s", s < 0 ? 0 : s);
}

/* What cannot be judged by its writer: old enough to go? Appends
 * "; WHAT AGE ago" and, when it stays, why to `why`. */
static int old_enough(const janitor *j, long long since_s, const char *what, char *why,
                      size_t cap)
{
    char age[32];
    format_age(j->now_s - since_s, age, sizeof age);
    int go = j->o->by_age && j->now_s - since_s >= j->o->older_than_s;
    size_t n = strlen(why);
    snprintf(why + n, cap - n, "%s%s %s ago%s", n ? "; " : "", what, age,
             go ? ""
             : j->o->by_age ? ", younger than --older-than"
                            : ": left to `sluice janitor`");
    return go;
}

/* --- records ---------------------------------------------------------------- */

static void on_abandoned(void *ud, const json_t *rec)
{
    janitor *j = ud;
    const json_t *d = json_object_get(rec, "detail");
    const char *id = json_string_value(json_object_get(d, "run_id"));
    const char *why = json_string_value(json_object_get(json_object_get(d, "abandoned"), "reason"));
    report(j, JANITOR_RECORD, JANITOR_CLEANED, id ? id : "?", why ? why : "", NULL);
}

static void reconcile_records(janitor *j)
{
    sl_error err = {0};
    if (j->rs && runstore_reconcile(j->rs, j->o->dry_run, on_abandoned, j, &err) < 0) {
        log_msg(NULL, SL_LOG_WARN, "janitor: %s", err.msg);
        j->t->unreadable++;
    }
}

/* --- temporaries ------------------------------------------------------------ */

/* Reported once the file is gone (temp_removed), or here when it stays
 * or with a dry run. */
static int judge_temp(void *ud, const storage_temp *t)
{
    janitor *j = ud;
    char *why = j->why;
    size_t cap = sizeof j->why;
    int go;
    procid w;
    why[0] = '\0';
    if (t->writer && procid_parse(t->writer, &w) == 0) {
        procid_verdict v = procid_judge(&w, why, cap);
        go = v == PROCID_GONE ||
             (v == PROCID_FOREIGN && old_enough(j, t->mtime, "last written", why, cap));
    } else {
        snprintf(why, cap, "named by an older sluice (no writer in the name)");
        go = old_enough(j, t->mtime, "last written", why, cap);
    }
    if (!go || j->o->dry_run)
        report(j, JANITOR_TEMP, go ? JANITOR_CLEANED : JANITOR_KEPT, t->path, why, NULL);
    return go && !j->o->dry_run;
}

static void temp_removed(void *ud, const storage_temp *t, const char *error)
{
    janitor *j = ud;
    report(j, JANITOR_TEMP, error ? JANITOR_FAILED : JANITOR_CLEANED, t->path,
           error ? error : j->why, NULL);
}

static void dir_unreadable(void *ud, const char *dir, const char *why)
{
    janitor *j = ud;
    log_msg(NULL, SL_LOG_WARN, "janitor: %s: %s", dir, why);
    j->t->unreadable++;
}

static void sweep_temps(janitor *j, const places *p)
{
    storage_sweep_fns fns = {judge_temp, temp_removed, dir_unreadable, j};
    for (size_t i = 0; i < p->ndirs; i++) {
        sl_error err = {0};
        if (storage_local_sweep(p->dirs[i], &fns, &err) < 0) {
            log_msg(NULL, SL_LOG_WARN, "janitor: %s", err.msg);
            j->t->unreadable++;
        }
    }
}

/* --- uploads ---------------------------------------------------------------- */

typedef struct upload_ctx {
    janitor *j;
    const char *bucket;
} upload_ctx;

/* When a marked upload started: the later of S3's Initiated and the
 * mark's started_at, so that neither a clock apart nor an emulator's
 * fixed Initiated (moto answers 2010-11-10) makes an upload look older
 * than it is. 0 when neither is known. */
static long long upload_start_s(const storage_upload *u, const json_t *mark)
{
    long long ms = 0, s = 0;
    const char *at = json_string_value(json_object_get(mark, "started_at"));
    if (at && clock_parse_iso(at, &ms) == 0)
        s = ms / 1000;
    return u->initiated > s ? u->initiated : s;
}

/* A marked upload goes once old enough, unless its process still runs
 * on this host. Returns 1 to abort; why says why (or why not). */
static int judge_marked(const janitor *j, const storage_upload *u, const json_t *mark,
                        char *why, size_t cap)
{
    const char *run = json_string_value(json_object_get(mark, "run_id"));
    snprintf(why, cap, "a sluice job's (run %s)", run ? run : "?");
    long long since = upload_start_s(u, mark);
    if (!since) {
        size_t n = strlen(why);
        snprintf(why + n, cap - n, " at an unknown time");
        return 0;
    }
    if (!old_enough(j, since, "started", why, cap))
        return 0;
    const char *tag = json_string_value(json_object_get(mark, "process"));
    procid w;
    if (!tag || procid_parse(tag, &w) != 0)
        return 1; /* a mark without its process: age is all there is */
    size_t n = strlen(why);
    if (n + 2 >= cap)
        return 0;
    snprintf(why + n, cap - n, ": ");
    return procid_judge(&w, why + n + 2, cap - n - 2) != PROCID_ALIVE;
}

static void abort_marked(janitor *j, const char *bucket, const storage_upload *u,
                         const char *name, const char *why)
{
    sl_error err = {0};
    storage *st = j->in->storage;
    if (!j->o->dry_run && st->ops->abort_upload(st, bucket, u->key, u->upload_id, &err) != 0) {
        report(j, JANITOR_UPLOAD, JANITOR_FAILED, name, err.msg, u->upload_id);
        return;
    }
    if (!j->o->dry_run && runstore_upload_unmark(j->rs, bucket, u->key, u->upload_id, &err) != 0)
        log_msg(NULL, SL_LOG_WARN, "janitor: the mark of %s stays: %s", name, err.msg);
    report(j, JANITOR_UPLOAD, JANITOR_CLEANED, name, why, u->upload_id);
}

static int judge_upload(void *ud, const storage_upload *u)
{
    upload_ctx *c = ud;
    janitor *j = c->j;
    char why[512] = "", *name = xasprintf("s3://%s/%s", c->bucket, u->key);
    json_t *mark = NULL;
    sl_error err = {0};
    int found = runstore_upload_find(j->rs, c->bucket, u->key, u->upload_id, &mark, &err);
    if (found < 0)
        report(j, JANITOR_UPLOAD, JANITOR_FAILED, name, err.msg, u->upload_id);
    else if (!found)
        report(j, JANITOR_UPLOAD, JANITOR_KEPT, name,
               "not started by sluice (the run store holds no mark of it)", u->upload_id);
    else if (!judge_marked(j, u, mark, why, sizeof why))
        report(j, JANITOR_UPLOAD, JANITOR_KEPT, name, why, u->upload_id);
    else
        abort_marked(j, c->bucket, u, name, why);
    json_decref(mark);
    free(name);
    return 0;
}

/* Prefixes inside another listed prefix of the same bucket are covered. */
static int covered(const places *p, size_t i)
{
    for (size_t k = 0; k < p->ns3; k++) {
        if (k == i || strcmp(p->s3[k].bucket, p->s3[i].bucket) != 0)
            continue;
        size_t n = strlen(p->s3[k].prefix);
        if (!strncmp(p->s3[i].prefix, p->s3[k].prefix, n) &&
            (strlen(p->s3[i].prefix) > n || k < i))
            return 1;
    }
    return 0;
}

static void abort_uploads(janitor *j, const places *p)
{
    if (!p->ns3)
        return;
    if (!j->rs) {
        log_msg(NULL, SL_LOG_WARN, "janitor: run records are off or unusable, so sluice keeps no "
                                   "marks of its uploads: no upload is aborted");
        j->t->unreadable++;
        return;
    }
    storage *st = j->in->storage;
    for (size_t i = 0; i < p->ns3; i++) {
        if (covered(p, i))
            continue;
        upload_ctx c = {j, p->s3[i].bucket};
        sl_error err = {0};
        if (st->ops->list_uploads(st, c.bucket, p->s3[i].prefix, judge_upload, &c, &err) < 0) {
            log_msg(NULL, SL_LOG_WARN, "janitor: %s", err.msg);
            j->t->unreadable++;
        }
    }
}

/* --- the entry points ---------------------------------------------------------- */

void janitor_run(intake *in, const janitor_options *o, janitor_totals *t)
{
    janitor j = {.in = in, .o = o, .t = t, .now_s = clock_now_ms() / 1000};
    int disabled = 0;
    sl_error err = {0};
    j.rs = runstore_open(in->cfg, in->storage, &disabled, &err);
    if (!j.rs && !disabled) {
        log_msg(NULL, SL_LOG_WARN, "janitor: run records: %s", err.msg);
        t->unreadable++;
    }
    places p;
    places_find(&p, in, j.rs);
    reconcile_records(&j);
    sweep_temps(&j, &p);
    if (o->uploads)
        abort_uploads(&j, &p);
    places_free(&p);
    runstore_close(j.rs);
}

static void log_recovered(void *ud, const janitor_item *it)
{
    (void)ud;
    if (it->verdict == JANITOR_KEPT)
        return;
    if (it->kind == JANITOR_RECORD)
        log_msg(NULL, SL_LOG_WARN, "run %s was left RUNNING by a process that is gone, now "
                "ABANDONED (`sluice runs retry --failed` runs it again): %s", it->name, it->why);
    else if (it->verdict == JANITOR_CLEANED)
        log_msg(NULL, SL_LOG_INFO, "removed %s, the temporary file of a writer that is gone: %s",
                it->name, it->why);
    else
        log_msg(NULL, SL_LOG_WARN, "could not remove %s, the temporary file of a writer that is "
                "gone: %s", it->name, it->why);
}

void janitor_recover(intake *in)
{
    janitor_options o = {.report = log_recovered};
    janitor_totals t = {0};
    janitor_run(in, &o, &t);
}
