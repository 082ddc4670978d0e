/* delivery.h — a delivery set: the objects an Adobe Analytics data feed
 * delivers for one report suite and day (or hour), gated by its manifest
 * (specs adobe-data-feeds.md §1). A rule with `delivery: adobe` runs one
 * job per set, triggered by the manifest (or `.fin` marker); this module
 * gives that job its input and its lookup files:
 *
 *   - every file the manifest lists must be present beside it, with its
 *     size; its MD5 and size are checked as its bytes stream by;
 *   - the data files, decoded (storage/decode.h), are read in manifest
 *     order as one stream; each one's records must equal its Record-Count
 *     and their sum Total-Records;
 *   - the lookup archives are unpacked (in memory) into named lookup files.
 * A `.fin` set has no metadata: its data files are those beside it named
 * NN-STEM.*, in name order, its lookup archive STEM-lookup_data.*; only
 * readability is checked. Every failure names the file and the check.
 *
 * Ownership: a delivery owns its manifest, its lookup files and the open
 * lookup handles (closed by delivery_free()). The reader from
 * delivery_reader() is the caller's to close, before delivery_free().
 * Threading: one delivery belongs to one job's thread. */
#ifndef SLUICE_DELIVERY_H
#define SLUICE_DELIVERY_H

#include <stdint.h>
#include <sys/types.h>

#include "core/delivery_manifest.h"
#include "storage/storage.h"
#include "util/error.h"
#include "util/strbuf.h"

#include "sluice/plugin.h"

typedef struct delivery delivery;

/* Where the manifest is: an object of `storage`, or (storage NULL) a plain
 * file at path `key`. */
typedef struct delivery_place {
    storage *storage;
    const char *bucket;
    const char *key;
} delivery_place;

/* 1 when the key's last segment names a manifest or `.fin` marker. */
int delivery_is_manifest(const char *key);

/* Reads and parses the manifest from `manifest` (taken: closed here) and
 * lists the objects beside it: enough for delivery_digest() and meta.
 * Returns 0 with *out, or -1 with err. */
int delivery_open(const delivery_place *where, storage_reader *manifest, delivery **out,
                  sl_error *err);
/* Checks that the set is complete (every listed file present, with the
 * listed size) and unpacks its lookup archives. 0, or -1 with err. */
int delivery_prepare(delivery *d, sl_error *err);
/* The data files, decoded, as one stream; the checks of §1 fail its read
 * with err naming the file and the check. The caller closes it. */
storage_reader *delivery_reader(delivery *d);
/* After a successful run(): reads whatever the plugin left of the stream,
 * so that every check has run. 0, or -1 with err. */
int delivery_finish(delivery *d, storage_reader *r, sl_error *err);
/* "delivery", "rsid", "feed_date", "feed_hour" (NULL for a daily feed);
 * NULL for any other key. */
const char *delivery_meta(const delivery *d, const char *key);
/* The identity of the set for duplicate detection: "sha256:HEX" of the
 * manifest's content (of the listing of a `.fin` set). */
const char *delivery_digest(const delivery *d);
void delivery_free(delivery *d);

/* Lookup files (sluice/plugin.h section 5). */
sluice_lookup *delivery_lookup_open(delivery *d, const char *name);
ssize_t delivery_lookup_read(sluice_lookup *l, void *buf, size_t cap);
void delivery_lookup_close(sluice_lookup *l);

/* Like delivery_open() without unpacking lookups, for a listing: a set
 * whose files are missing is returned too, its problems appended to
 * `problems` ("data file X is missing; ..."). -1 with err only when the
 * manifest cannot be read or parsed. */
int delivery_inspect(const delivery_place *where, storage_reader *manifest, delivery **out,
                     strbuf *problems, sl_error *err);
/* Data files the set lists. */
size_t delivery_n_data(const delivery *d);

#endif
