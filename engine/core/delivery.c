/* delivery.c — a delivery set for one job: completeness, the data files as
 * one checked stream, the lookup files (delivery.h). The manifest's form
 * is delivery_manifest.c's, the per-object checks delivery_check.c's. */
#include "autoconfig.h"
#include "core/delivery.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/delivery_check.h"
#include "storage/decode.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#define MANIFEST_MAX (4 << 20)       /* bytes of a manifest */
#define LOOKUPS_MAX (512LL << 20)    /* bytes of all lookup files, unpacked */
#define RAW_AHEAD_SIZE (1 << 20)     /* raw bytes a data file's digest reads ahead */

/* An object beside the manifest, as listed. */
typedef struct sibling {
    char *name;
    int64_t size;
    char *etag;
} sibling;

typedef struct lookup_file {
    char *name; /* the member's last path segment */
    char *data;
    size_t len;
} lookup_file;

struct sluice_lookup {
    const lookup_file *file;
    size_t pos;
    sluice_lookup *prev, *next; /* the delivery's open handles */
    delivery *owner;
};

struct delivery {
    storage *storage; /* NULL: plain files */
    char *bucket;
    char *dir;        /* key prefix or directory, with its '/' ("" for none) */
    char *manifest;   /* the manifest's name */
    delivery_name name;
    delivery_manifest m;
    sibling *sibs;
    size_t n_sibs;
    char digest[7 + 64 + 1];
    lookup_file *lookups;
    size_t n_lookups;
    sluice_lookup *open_lookups;
};

static const char *base_of(const char *key)
{
    const char *s = strrchr(key, '/');
    return s ? s + 1 : key;
}

int delivery_is_manifest(const char *key)
{
    delivery_name n;
    return delivery_manifest_name(base_of(key), &n);
}

/* ---- the place ---------------------------------------------------------- */

static char *file_location(const delivery *d, const char *name)
{
    if (d->storage)
        return xasprintf("s3://%s/%s%s", d->bucket, d->dir, name);
    return xasprintf("%s%s", d->dir, name);
}

static int open_file(const delivery *d, const char *name, storage_reader **out, sl_error *err)
{
    object_info info = {.size = -1};
    char *key = xasprintf("%s%s", d->dir, name);
    int rc = d->storage
                 ? d->storage->ops->open_read(d->storage, d->bucket, key, out, &info, err)
                 : storage_local_read_file(key, out, &info, err);
    storage_object_info_free(&info);
    free(key);
    return rc;
}

static void add_sibling(delivery *d, const char *name, int64_t size, const char *etag)
{
    d->sibs = xrealloc(d->sibs, (d->n_sibs + 1) * sizeof *d->sibs);
    sibling *s = &d->sibs[d->n_sibs++];
    s->name = xstrdup(name);
    s->size = size;
    s->etag = etag ? xstrdup(etag) : NULL;
}

static int list_one(void *ud, const char *key, const object_info *info)
{
    delivery *d = ud;
    const char *rest = key + strlen(d->dir);
    if (!strchr(rest, '/'))
        add_sibling(d, rest, info->size, info->etag);
    return 0;
}

static int compare_sibs(const void *a, const void *b)
{
    return strcmp(((const sibling *)a)->name, ((const sibling *)b)->name);
}

static int list_plain_dir(delivery *d, sl_error *err)
{
    const char *dir = *d->dir ? d->dir : "./";
    DIR *dh = opendir(dir);
    if (!dh) {
        sl_error_set(err, SL_ERR_STORAGE, "delivery %s: cannot list %s: %s", d->manifest, dir,
                     strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(dh))) {
        struct stat st;
        char *path = xasprintf("%s%s", d->dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            add_sibling(d, e->d_name, (int64_t)st.st_size, NULL);
        free(path);
    }
    closedir(dh);
    if (d->n_sibs > 1)
        qsort(d->sibs, d->n_sibs, sizeof *d->sibs, compare_sibs);
    return 0;
}

static int list_siblings(delivery *d, sl_error *err)
{
    if (!d->storage)
        return list_plain_dir(d, err);
    return d->storage->ops->list(d->storage, d->bucket, d->dir, list_one, d, err) < 0 ? -1 : 0;
}

static const sibling *find_sibling(const delivery *d, const char *name)
{
    for (size_t i = 0; i < d->n_sibs; i++)
        if (!strcmp(d->sibs[i].name, name))
            return &d->sibs[i];
    return NULL;
}

/* ---- the manifest ------------------------------------------------------- */

static void hex_digest(const EVP_MD *md, const void *data, size_t len, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, d, &n, md, NULL);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void set_digest(delivery *d, const strbuf *content)
{
    memcpy(d->digest, "sha256:", 7);
    hex_digest(EVP_sha256(), content->buf ? content->buf : "", content->len, d->digest + 7);
}

static int read_all(storage_reader *r, strbuf *sb, size_t max, const char *what, sl_error *err)
{
    char buf[65536];
    ssize_t n;
    while ((n = storage_read(r, buf, sizeof buf, err)) > 0) {
        if (sb->len + (size_t)n > max) {
            sl_error_set(err, SL_ERR_INPUT, "%s is larger than %zu bytes", what, max);
            return -1;
        }
        sb_add(sb, buf, (size_t)n);
    }
    return n < 0 ? -1 : 0;
}

/* A `.fin` set: the data files and lookup archive present, in name order;
 * its identity is that listing. */
static void fin_set(delivery *d)
{
    strbuf listing = STRBUF_INIT;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < d->n_sibs; i++) {
            const sibling *s = &d->sibs[i];
            int lookup = delivery_manifest_is_lookup_name(s->name, d->name.stem);
            if (pass == 0 ? !lookup : !delivery_manifest_is_data_name(s->name, d->name.stem))
                continue;
            delivery_manifest_add(&d->m, s->name, lookup, s->size);
            sb_addf(&listing, "%s\t%lld\t%s\n", s->name, (long long)s->size,
                    s->etag ? s->etag : "");
        }
    }
    set_digest(d, &listing);
    sb_free(&listing);
}

/* Every listed file beside the manifest, with its listed size. */
static int check_present(const delivery *d, strbuf *problems)
{
    size_t before = problems->len;
    for (size_t i = 0; i < d->m.n_files; i++) {
        const delivery_file *f = &d->m.files[i];
        const char *kind = f->is_lookup ? "lookup file" : "data file";
        const sibling *s = find_sibling(d, f->name);
        if (!s)
            sb_addf(problems, "%s%s %s is missing", problems->len ? "; " : "", kind, f->name);
        else if (f->size >= 0 && s->size >= 0 && s->size != f->size)
            sb_addf(problems, "%s%s %s: size is %lld bytes, the manifest says %lld",
                    problems->len ? "; " : "", kind, f->name, (long long)s->size,
                    (long long)f->size);
    }
    return problems->len > before ? -1 : 0;
}

static int load_manifest(delivery *d, storage_reader *manifest, sl_error *err)
{
    strbuf text = STRBUF_INIT;
    int rc = read_all(manifest, &text, MANIFEST_MAX, d->manifest, err);
    storage_reader_close(manifest);
    if (rc == 0 && list_siblings(d, err) != 0)
        rc = -1;
    if (rc == 0 && d->name.fin) {
        fin_set(d);
    } else if (rc == 0) {
        set_digest(d, &text);
        rc = delivery_manifest_parse(text.buf ? text.buf : "", text.len, d->manifest, &d->m,
                                     err);
    }
    sb_free(&text);
    return rc;
}

/* ---- lookup files ------------------------------------------------------- */

static int verify_file(const delivery *d, const delivery_file *f, const delivery_tally *t,
                       sl_error *err)
{
    const char *kind = f->is_lookup ? "lookup file" : "data file";
    if (t->error.kind != SL_ERR_NONE) {
        sl_error_set(err, t->error.kind, "delivery %s: %s %s: %s", d->manifest, kind, f->name,
                     t->error.msg);
        return -1;
    }
    if (f->size >= 0 && t->bytes != f->size) {
        sl_error_set(err, SL_ERR_INPUT,
                     "delivery %s: %s %s: size check failed: read %lld bytes, the manifest "
                     "says %lld",
                     d->manifest, kind, f->name, (long long)t->bytes, (long long)f->size);
        return -1;
    }
    if (f->md5[0] && strcmp(t->md5, f->md5) != 0) {
        sl_error_set(err, SL_ERR_INPUT,
                     "delivery %s: %s %s: MD5 check failed: computed %s, the manifest says %s",
                     d->manifest, kind, f->name, t->md5, f->md5);
        return -1;
    }
    return 0;
}

static void add_lookup(delivery *d, const char *path, strbuf *content)
{
    d->lookups = xrealloc(d->lookups, (d->n_lookups + 1) * sizeof *d->lookups);
    lookup_file *l = &d->lookups[d->n_lookups++];
    l->name = xstrdup(base_of(path));
    l->len = content->len;
    l->data = sb_steal(content);
}

static int read_members(delivery *d, decode_archive *a, const char *loc, int64_t *total,
                        sl_error *err)
{
    const char *path;
    storage_reader *member;
    int rc;
    while ((rc = decode_archive_next(a, &path, &member, err)) == 1) {
        strbuf content = STRBUF_INIT;
        char *what = xasprintf("lookup member %s of %s", path, loc);
        rc = read_all(member, &content, (size_t)(LOOKUPS_MAX - *total), what, err);
        free(what);
        *total += (int64_t)content.len;
        if (rc == 0)
            add_lookup(d, path, &content);
        sb_free(&content);
        if (rc != 0)
            return -1;
    }
    return rc;
}

static int load_lookup(delivery *d, const delivery_file *f, int64_t *total, sl_error *err)
{
    storage_reader *raw;
    if (open_file(d, f->name, &raw, err) != 0)
        return -1;
    char *loc = file_location(d, f->name);
    delivery_tally tally;
    decode_options opt = {.codec = DECODE_AUTO, .name = loc};
    decode_archive *a = NULL;
    sl_error why = {0};
    int rc = decode_archive_open(delivery_check_wrap(raw, &tally), &opt, &a, &why);
    if (rc == 0)
        rc = read_members(d, a, loc, total, &why);
    decode_archive_close(a);
    /* a damaged archive is first a size or MD5 mismatch, when the manifest
     * knows better */
    if (verify_file(d, f, &tally, err) == 0 && rc != 0)
        sl_error_set(err, why.kind ? why.kind : SL_ERR_INPUT,
                     "delivery %s: lookup file %s is not a readable archive: %s", d->manifest,
                     f->name, why.msg);
    free(loc);
    return err->kind != SL_ERR_NONE ? -1 : 0;
}

static int load_lookups(delivery *d, sl_error *err)
{
    int64_t total = 0;
    for (size_t i = 0; i < d->m.n_files; i++)
        if (d->m.files[i].is_lookup && load_lookup(d, &d->m.files[i], &total, err) != 0)
            return -1;
    return 0;
}

sluice_lookup *delivery_lookup_open(delivery *d, const char *name)
{
    for (size_t i = 0; d && name && i < d->n_lookups; i++) {
        if (strcmp(d->lookups[i].name, name) != 0)
            continue;
        sluice_lookup *l = xcalloc(1, sizeof *l);
        l->file = &d->lookups[i];
        l->owner = d;
        l->next = d->open_lookups;
        if (l->next)
            l->next->prev = l;
        d->open_lookups = l;
        return l;
    }
    return NULL;
}

ssize_t delivery_lookup_read(sluice_lookup *l, void *buf, size_t cap)
{
    if (!l)
        return -1;
    size_t n = l->file->len - l->pos;
    if (n > cap)
        n = cap;
    memcpy(buf, l->file->data + l->pos, n);
    l->pos += n;
    return (ssize_t)n;
}

void delivery_lookup_close(sluice_lookup *l)
{
    if (!l)
        return;
    if (l->prev)
        l->prev->next = l->next;
    else
        l->owner->open_lookups = l->next;
    if (l->next)
        l->next->prev = l->prev;
    free(l);
}

/* ---- the set ------------------------------------------------------------ */

static void set_place(delivery *d, const delivery_place *where)
{
    const char *base = base_of(where->key);
    d->storage = where->storage;
    d->bucket = where->bucket ? xstrdup(where->bucket) : NULL;
    d->dir = xstrndup(where->key, (size_t)(base - where->key));
    d->manifest = xstrdup(base);
    delivery_manifest_name(base, &d->name);
}

static int open_set(const delivery_place *where, storage_reader *manifest, delivery **out,
                    sl_error *err)
{
    delivery *d = xcalloc(1, sizeof *d);
    d->m.total_records = -1;
    set_place(d, where);
    *out = NULL;
    if (load_manifest(d, manifest, err) != 0) {
        delivery_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

int delivery_inspect(const delivery_place *where, storage_reader *manifest, delivery **out,
                     strbuf *problems, sl_error *err)
{
    if (open_set(where, manifest, out, err) != 0)
        return -1;
    check_present(*out, problems);
    return 0;
}

int delivery_open(const delivery_place *where, storage_reader *manifest, delivery **out,
                  sl_error *err)
{
    return open_set(where, manifest, out, err);
}

int delivery_prepare(delivery *d, sl_error *err)
{
    strbuf problems = STRBUF_INIT;
    int rc = 0;
    if (check_present(d, &problems) != 0) {
        sl_error_set(err, SL_ERR_INPUT, "delivery %s is incomplete: %s", d->manifest,
                     sb_str(&problems));
        rc = -1;
    }
    sb_free(&problems);
    return rc == 0 ? load_lookups(d, err) : -1;
}

size_t delivery_n_data(const delivery *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->m.n_files; i++)
        n += !d->m.files[i].is_lookup;
    return n;
}

const char *delivery_meta(const delivery *d, const char *key)
{
    if (!strcmp(key, "delivery"))
        return "adobe";
    if (!strcmp(key, "rsid"))
        return d->name.rsid;
    if (!strcmp(key, "feed_date"))
        return d->name.date;
    if (!strcmp(key, "feed_hour"))
        return d->name.hour[0] ? d->name.hour : NULL;
    return NULL;
}

const char *delivery_digest(const delivery *d)
{
    return d->digest;
}

void delivery_free(delivery *d)
{
    if (!d)
        return;
    while (d->open_lookups)
        delivery_lookup_close(d->open_lookups);
    for (size_t i = 0; i < d->n_lookups; i++) {
        free(d->lookups[i].name);
        free(d->lookups[i].data);
    }
    free(d->lookups);
    for (size_t i = 0; i < d->n_sibs; i++) {
        free(d->sibs[i].name);
        free(d->sibs[i].etag);
    }
    free(d->sibs);
    delivery_manifest_free(&d->m);
    free(d->bucket);
    free(d->dir);
    free(d->manifest);
    free(d);
}

/* ---- the data stream ---------------------------------------------------- */

typedef struct set_reader {
    storage_reader base;
    delivery *d;
    size_t next;             /* index into d->m.files of the next file */
    const delivery_file *cur;
    storage_reader *decoded; /* of cur, NULL between files */
    delivery_tally tally;
    delivery_count count;
    int64_t total;           /* records of the files done */
    int ended;               /* every check ran */
} set_reader;

static void unreadable(const set_reader *s, const sl_error *why, sl_error *err)
{
    sl_error_set(err, why->kind, "delivery %s: data file %s is not readable: %s", s->d->manifest,
                 s->cur->name, why->msg);
}

static int open_next(set_reader *s, sl_error *err)
{
    const delivery *d = s->d;
    while (s->next < d->m.n_files && d->m.files[s->next].is_lookup)
        s->next++;
    if (s->next == d->m.n_files)
        return 0;
    s->cur = &d->m.files[s->next++];
    storage_reader *raw;
    if (open_file(d, s->cur->name, &raw, err) != 0)
        return -1;
    char *loc = file_location(d, s->cur->name);
    decode_options opt = {.codec = DECODE_AUTO, .name = loc};
    memset(&s->count, 0, sizeof s->count);
    sl_error why = {0};
    /* The MD5 of the raw bytes gets a thread of its own: on the decoder's
     * it would add a third to the inflate time, which bounds the job. */
    storage_reader *checked = decode_pipe_new(delivery_check_wrap(raw, &s->tally),
                                              RAW_AHEAD_SIZE, &why);
    int rc = checked ? decode_open(checked, &opt, &s->decoded, &why) : -1;
    free(loc);
    if (rc != 0)
        unreadable(s, &why, err);
    return rc == 0 ? 1 : -1;
}

/* The current file ended: its checks. Returns 1 when a record was left
 * open (the stream then gets a LF, so files never run into each other). */
static int close_current(set_reader *s, sl_error *err)
{
    const delivery *d = s->d;
    storage_reader_close(s->decoded);
    s->decoded = NULL;
    if (verify_file(d, s->cur, &s->tally, err) != 0)
        return -1;
    int open_end;
    int64_t n = delivery_check_count_end(&s->count, &open_end);
    if (s->cur->records >= 0 && n != s->cur->records) {
        sl_error_set(err, SL_ERR_INPUT,
                     "delivery %s: data file %s: record count check failed: %lld records, "
                     "the manifest's Record-Count is %lld",
                     d->manifest, s->cur->name, (long long)n, (long long)s->cur->records);
        return -1;
    }
    s->total += n;
    return open_end;
}

static int check_total(set_reader *s, sl_error *err)
{
    const delivery *d = s->d;
    s->ended = 1;
    if (d->m.total_records >= 0 && s->total != d->m.total_records) {
        sl_error_set(err, SL_ERR_INPUT,
                     "delivery %s: total record check failed: the data files hold %lld "
                     "records, the manifest's Total-Records is %lld",
                     d->manifest, (long long)s->total, (long long)d->m.total_records);
        return -1;
    }
    return 0;
}

static ssize_t set_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    set_reader *s = (set_reader *)r;
    while (!s->ended) {
        if (!s->decoded) {
            int rc = open_next(s, err);
            if (rc < 0)
                return -1;
            if (rc == 0)
                return check_total(s, err) == 0 ? 0 : -1;
        }
        sl_error why = {0};
        ssize_t n = storage_read(s->decoded, buf, cap, &why);
        if (n < 0) {
            unreadable(s, &why, err);
            return -1;
        }
        if (n > 0) {
            delivery_check_count(&s->count, buf, (size_t)n);
            return n;
        }
        int open_end = close_current(s, err);
        if (open_end < 0)
            return -1;
        if (open_end && cap > 0) {
            *(char *)buf = '\n';
            return 1;
        }
    }
    return 0;
}

static void set_close(storage_reader *r)
{
    set_reader *s = (set_reader *)r;
    storage_reader_close(s->decoded);
    free(s);
}

static const storage_reader_ops set_ops = {.read = set_read, .close = set_close};

storage_reader *delivery_reader(delivery *d)
{
    set_reader *s = xcalloc(1, sizeof *s);
    s->base.ops = &set_ops;
    s->d = d;
    return &s->base;
}

int delivery_finish(delivery *d, storage_reader *r, sl_error *err)
{
    (void)d;
    char buf[65536];
    ssize_t n;
    while ((n = storage_read(r, buf, sizeof buf, err)) > 0)
        ;
    return n < 0 ? -1 : 0;
}
