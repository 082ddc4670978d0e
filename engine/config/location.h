/* location.h — where an object lives: "s3://bucket/key" (through the
 * configured storage) or a plain file path. */
#ifndef SLUICE_LOCATION_H
#define SLUICE_LOCATION_H

#include "util/error.h"

typedef enum location_kind { LOC_OBJECT = 0, LOC_FILE } location_kind;

typedef struct location {
    location_kind kind;
    char *bucket; /* LOC_OBJECT */
    char *key;    /* LOC_OBJECT; may be "" for a bucket or prefix */
    char *path;   /* LOC_FILE */
} location;

/* "s3://b/k" -> object; "file:///p" or anything else -> file path.
 * An s3:// URL without a bucket is an error (SL_ERR_CONFIG). */
int location_parse(const char *text, location *out, sl_error *err);
/* "s3://bucket/key" or the path; caller frees. */
char *location_format(const location *loc);
void location_free(location *loc);

#endif
