/* delivery_manifest.h — the manifest of a delivery set (an Adobe Analytics
 * data feed day or hour), and the names its objects carry.
 *
 * A manifest is Java JAR manifest text: "Name: value" lines, a blank line
 * between sections, a line starting with one space continuing the value
 * before it. The first section holds Datafeed-Manifest-Version,
 * Lookup-Files, Data-Files and Total-Records; then one section per file
 * (Lookup-File or Data-File, with MD5-Digest, File-Size and, for data
 * files, Record-Count). Contract: specs adobe-data-feeds.md §1.
 *
 * Ownership: a parsed manifest owns its strings; delivery_manifest_free()
 * releases it. Pure functions of their input: any thread. */
#ifndef SLUICE_DELIVERY_MANIFEST_H
#define SLUICE_DELIVERY_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct delivery_file {
    char *name;       /* one path segment, beside the manifest */
    int is_lookup;    /* a lookup archive, else a data file */
    char md5[33];     /* lowercase hex; "" when unknown (.fin sets) */
    int64_t size;     /* bytes; -1 when unknown */
    int64_t records;  /* data files; -1 when unknown */
} delivery_file;

typedef struct delivery_manifest {
    delivery_file *files; /* in manifest order */
    size_t n_files;
    int64_t total_records; /* -1 when unknown (.fin sets) */
} delivery_manifest;

/* Parses `len` bytes of manifest text; `what` names it in messages
 * ("shopzilla_2009-09-27.txt"), which say the line and the field. Returns
 * 0, or -1 with err (SL_ERR_INPUT) and *out empty. */
int delivery_manifest_parse(const char *text, size_t len, const char *what,
                            delivery_manifest *out, sl_error *err);
void delivery_manifest_free(delivery_manifest *m);
/* Appends a file (.fin sets); takes nothing, copies name. */
void delivery_manifest_add(delivery_manifest *m, const char *name, int is_lookup, int64_t size);

/* What a manifest's (or .fin marker's) file name says:
 * "RSID_YYYY-MM-DD.txt", "RSID_YYYY-MM-DD-HH.txt", or the same with .fin. */
typedef struct delivery_name {
    char rsid[128];
    char date[11]; /* YYYY-MM-DD */
    char hour[3];  /* "00".."23", "" for a daily feed */
    char stem[160]; /* RSID_YYYY-MM-DD[-HH] */
    int fin;       /* a .fin marker, not a manifest */
} delivery_name;

/* 1 when `base` (one path segment) names a manifest or marker, filling
 * *out; 0 otherwise. */
int delivery_manifest_name(const char *base, delivery_name *out);
/* 1 when `base` is a data file of the set with this stem:
 * "NN-STEM.ext..." (01-shopzilla_2009-09-27.tsv.gz). */
int delivery_manifest_is_data_name(const char *base, const char *stem);
/* 1 when `base` is the set's lookup archive: "STEM-lookup_data.ext...". */
int delivery_manifest_is_lookup_name(const char *base, const char *stem);

#endif
