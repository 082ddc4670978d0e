#include "autoconfig.h"
#include "config/location.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"
#include "util/strbuf.h"

/* "s3://bucket/key": the bucket runs to the first '/', the rest is the key
 * exactly as written (no percent-decoding: like the AWS CLI, the URL holds
 * the key as stored). */
static int parse_s3(const char *text, const char *rest, location *out, sl_error *err)
{
    const char *slash = strchr(rest, '/');
    size_t blen = slash ? (size_t)(slash - rest) : strlen(rest);

    if (blen == 0) {
        sl_error_set(err, SL_ERR_CONFIG, "%s: an s3:// location needs a bucket (s3://bucket/key)",
                     text);
        return -1;
    }
    out->kind = LOC_OBJECT;
    out->bucket = xstrndup(rest, blen);
    out->key = xstrdup(slash ? slash + 1 : "");
    return 0;
}

/* "file:///p" and "file://localhost/p" are the path "/p"; no other host
 * makes sense for a local file. */
static int parse_file_url(const char *text, const char *rest, location *out, sl_error *err)
{
    if (strncmp(rest, "localhost/", 10) == 0)
        rest += 9;
    if (rest[0] != '/') {
        sl_error_set(err, SL_ERR_CONFIG,
                     "%s: a file:// location needs an absolute path (file:///path)", text);
        return -1;
    }
    out->kind = LOC_FILE;
    out->path = xstrdup(rest);
    return 0;
}

int location_parse(const char *text, location *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text) {
        sl_error_set(err, SL_ERR_CONFIG, "empty location: expected s3://bucket/key or a path");
        return -1;
    }
    if (strncasecmp(text, "s3://", 5) == 0)
        return parse_s3(text, text + 5, out, err);
    if (strncasecmp(text, "file://", 7) == 0)
        return parse_file_url(text, text + 7, out, err);
    out->kind = LOC_FILE;
    out->path = xstrdup(text);
    return 0;
}

char *location_format(const location *loc)
{
    if (loc->kind == LOC_OBJECT)
        return xasprintf("s3://%s/%s", loc->bucket ? loc->bucket : "",
                         loc->key ? loc->key : "");
    return xstrdup(loc->path ? loc->path : "");
}

void location_free(location *loc)
{
    if (!loc)
        return;
    free(loc->bucket);
    free(loc->key);
    free(loc->path);
    memset(loc, 0, sizeof *loc);
}
