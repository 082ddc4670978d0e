/* delivery_scan.h — what arrived under a prefix: every delivery set with
 * its state, for `sluice deliveries` (the operator's view). Whether a set
 * was processed is the caller's to ask (the run store knows it, by the
 * set's digest).
 *
 * Threading: one call, one thread; everything handed to the callback is
 * valid during the call only. */
#ifndef SLUICE_DELIVERY_SCAN_H
#define SLUICE_DELIVERY_SCAN_H

#include <stddef.h>

#include "storage/storage.h"
#include "util/error.h"

typedef enum delivery_scan_state {
    DELIVERY_COMPLETE = 0, /* every listed file present with its size */
    DELIVERY_INCOMPLETE,   /* files missing or of another size */
    DELIVERY_BAD_MANIFEST, /* the manifest cannot be read or parsed */
    DELIVERY_NO_MANIFEST   /* data files whose manifest has not come */
} delivery_scan_state;

typedef struct delivery_scan_set {
    const char *key;     /* the manifest's key; NO_MANIFEST: the first data file's */
    const char *stem;    /* RSID_YYYY-MM-DD[-HH] */
    const char *rsid, *feed_date, *feed_hour; /* feed_hour "" for a daily feed */
    delivery_scan_state state;
    const char *problems; /* what is wrong or missing; "" when complete */
    const char *digest;   /* COMPLETE / INCOMPLETE: the set's identity (delivery.h) */
    size_t n_data;        /* data files listed (present, for NO_MANIFEST) */
} delivery_scan_set;

typedef int (*delivery_scan_fn)(void *ud, const delivery_scan_set *set);

/* Calls fn for every set under s3://bucket/prefix (prefix may be NULL or
 * ""), manifests in key order, then the data files waiting for one; fn
 * returns non-zero to stop. 0, or -1 with err when the listing fails. */
int delivery_scan_list(storage *st, const char *bucket, const char *prefix, delivery_scan_fn fn,
                  void *ud, sl_error *err);
const char *delivery_scan_state_name(delivery_scan_state s);

#endif
