/* delivery_scan.c — the delivery sets under a prefix and their state
 * (delivery_scan.h). */
#include "autoconfig.h"
#include "core/delivery_scan.h"

#include <stdlib.h>
#include <string.h>

#include "core/delivery.h"
#include "core/delivery_manifest.h"
#include "util/alloc.h"
#include "util/strbuf.h"

typedef struct listed {
    char *key;
    int claimed; /* a data file some manifest of its directory names */
} listed;

typedef struct listing {
    listed *v;
    size_t n;
} listing;

static int collect(void *ud, const char *key, const object_info *info)
{
    (void)info;
    listing *l = ud;
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n].key = xstrdup(key);
    l->v[l->n].claimed = 0;
    l->n++;
    return 0;
}

static const char *base_of(const char *key)
{
    const char *s = strrchr(key, '/');
    return s ? s + 1 : key;
}

/* The stem a data file name "NN-STEM.ext" carries, into out. */
static int data_stem(const char *base, char *out, size_t cap)
{
    size_t d = strspn(base, "0123456789");
    if (!d || base[d] != '-')
        return 0;
    const char *stem = base + d + 1, *dot = strchr(stem, '.');
    size_t len = dot ? (size_t)(dot - stem) : strlen(stem);
    if (!len || len >= cap)
        return 0;
    memcpy(out, stem, len);
    out[len] = 0;
    delivery_name n;
    char probe[192];
    snprintf(probe, sizeof probe, "%s.txt", out);
    return delivery_manifest_name(probe, &n);
}

static int same_dir(const char *a, const char *b)
{
    size_t la = (size_t)(base_of(a) - a), lb = (size_t)(base_of(b) - b);
    return la == lb && !strncmp(a, b, la);
}

/* Marks the data files of a manifest's stem beside it as claimed. */
static void claim(listing *l, const char *manifest_key, const char *stem)
{
    for (size_t i = 0; i < l->n; i++)
        if (same_dir(l->v[i].key, manifest_key) &&
            delivery_manifest_is_data_name(base_of(l->v[i].key), stem))
            l->v[i].claimed = 1;
}

static int report_manifest(storage *st, const char *bucket, listing *l, const char *key,
                           delivery_scan_fn fn, void *ud)
{
    delivery_name name;
    delivery_manifest_name(base_of(key), &name);
    claim(l, key, name.stem);
    delivery_scan_set set = {.key = key, .stem = name.stem, .rsid = name.rsid,
                             .feed_date = name.date, .feed_hour = name.hour};
    strbuf problems = STRBUF_INIT;
    sl_error err = {0};
    storage_reader *r = NULL;
    object_info info = {.size = -1};
    delivery *d = NULL;
    delivery_place where = {st, bucket, key};
    if (st->ops->open_read(st, bucket, key, &r, &info, &err) != 0 ||
        delivery_inspect(&where, r, &d, &problems, &err) != 0) {
        set.state = DELIVERY_BAD_MANIFEST;
        set.problems = err.msg;
    } else {
        set.state = problems.len ? DELIVERY_INCOMPLETE : DELIVERY_COMPLETE;
        set.problems = sb_str(&problems);
        set.digest = delivery_digest(d);
        set.n_data = delivery_n_data(d);
    }
    int rc = fn(ud, &set);
    delivery_free(d);
    storage_object_info_free(&info);
    sb_free(&problems);
    return rc;
}

/* Data files no manifest claimed, one set per directory and stem. */
static int report_waiting(listing *l, delivery_scan_fn fn, void *ud)
{
    int rc = 0;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        char stem[160];
        if (l->v[i].claimed || !data_stem(base_of(l->v[i].key), stem, sizeof stem))
            continue;
        size_t n = 0;
        strbuf names = STRBUF_INIT;
        for (size_t j = i; j < l->n; j++) {
            if (l->v[j].claimed || !same_dir(l->v[i].key, l->v[j].key) ||
                !delivery_manifest_is_data_name(base_of(l->v[j].key), stem))
                continue;
            if (j != i)
                l->v[j].claimed = 1;
            sb_addf(&names, "%s%s", n++ ? ", " : "", base_of(l->v[j].key));
        }
        delivery_name name;
        char probe[192];
        snprintf(probe, sizeof probe, "%s.txt", stem);
        delivery_manifest_name(probe, &name);
        char *why = xasprintf("no manifest %s.txt (nor %s.fin) beside %s", stem, stem,
                              sb_str(&names));
        delivery_scan_set set = {.key = l->v[i].key, .stem = stem, .rsid = name.rsid,
                                 .feed_date = name.date, .feed_hour = name.hour,
                                 .state = DELIVERY_NO_MANIFEST, .problems = why, .n_data = n};
        rc = fn(ud, &set);
        free(why);
        sb_free(&names);
    }
    return rc;
}

int delivery_scan_list(storage *st, const char *bucket, const char *prefix, delivery_scan_fn fn,
                  void *ud, sl_error *err)
{
    listing l = {0};
    int rc = st->ops->list(st, bucket, prefix ? prefix : "", collect, &l, err) < 0 ? -1 : 0;
    for (size_t i = 0; i < l.n && rc == 0; i++)
        if (delivery_is_manifest(l.v[i].key))
            rc = report_manifest(st, bucket, &l, l.v[i].key, fn, ud);
    if (rc == 0)
        rc = report_waiting(&l, fn, ud);
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].key);
    free(l.v);
    return rc < 0 ? -1 : 0;
}

const char *delivery_scan_state_name(delivery_scan_state s)
{
    switch (s) {
    case DELIVERY_COMPLETE: return "complete";
    case DELIVERY_INCOMPLETE: return "incomplete";
    case DELIVERY_BAD_MANIFEST: return "bad manifest";
    case DELIVERY_NO_MANIFEST: return "no manifest";
    }
    return "incomplete";
}
