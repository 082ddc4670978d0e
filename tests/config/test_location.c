/* test_location.c — s3:// URLs and file paths. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "config/location.h"
#include "tap.h"

static void object(const char *text, const char *bucket, const char *key, const char *formatted)
{
    location loc;
    sl_error err = {0};
    int rc = location_parse(text, &loc, &err);
    is_int(rc, 0, "%s: parses", text);
    is_int(loc.kind, LOC_OBJECT, "%s: an object", text);
    is_str(loc.bucket, bucket, "%s: bucket", text);
    is_str(loc.key, key, "%s: key", text);
    ok(loc.path == NULL, "%s: no path", text);
    char *f = location_format(&loc);
    is_str(f, formatted, "%s: formatted", text);
    free(f);
    location_free(&loc);
    ok(loc.bucket == NULL && loc.key == NULL, "%s: freed and cleared", text);
}

static void file(const char *text, const char *path)
{
    location loc;
    sl_error err = {0};
    int rc = location_parse(text, &loc, &err);
    is_int(rc, 0, "%s: parses", text);
    is_int(loc.kind, LOC_FILE, "%s: a file", text);
    is_str(loc.path, path, "%s: path", text);
    ok(loc.bucket == NULL && loc.key == NULL, "%s: no bucket or key", text);
    char *f = location_format(&loc);
    is_str(f, path, "%s: formatted as the path", text);
    free(f);
    location_free(&loc);
}

static void bad(const char *text, const char *msg)
{
    location loc;
    sl_error err = {0};
    int rc = location_parse(text, &loc, &err);
    is_int(rc, -1, "%s: refused", text ? text : "(null)");
    is_int(err.kind, SL_ERR_CONFIG, "%s: a configuration error", text ? text : "(null)");
    is_str(err.msg, msg, "%s: message", text ? text : "(null)");
    ok(loc.bucket == NULL && loc.key == NULL && loc.path == NULL, "%s: nothing allocated",
       text ? text : "(null)");
    location_free(&loc);
}

int main(void)
{
    object("s3://client-inbound/hit-data/a.tsv", "client-inbound", "hit-data/a.tsv",
           "s3://client-inbound/hit-data/a.tsv");
    object("s3://b/k", "b", "k", "s3://b/k");
    object("s3://b", "b", "", "s3://b/");
    object("s3://b/", "b", "", "s3://b/");
    object("s3://b/prefix/", "b", "prefix/", "s3://b/prefix/");
    object("s3://b/a b/c+d%2F.tsv", "b", "a b/c+d%2F.tsv", "s3://b/a b/c+d%2F.tsv");
    object("s3://b//double", "b", "/double", "s3://b//double");
    object("S3://Upper/k", "Upper", "k", "s3://Upper/k");

    file("/tmp/hit_data.tsv", "/tmp/hit_data.tsv");
    file("relative/path.tsv", "relative/path.tsv");
    file("file:///tmp/x.tsv", "/tmp/x.tsv");
    file("file://localhost/tmp/x.tsv", "/tmp/x.tsv");
    file("s3:/not-a-url", "s3:/not-a-url");
    file("./s3://b/k", "./s3://b/k");

    bad("s3://", "s3://: an s3:// location needs a bucket (s3://bucket/key)");
    bad("s3:///key", "s3:///key: an s3:// location needs a bucket (s3://bucket/key)");
    bad("", "empty location: expected s3://bucket/key or a path");
    bad(NULL, "empty location: expected s3://bucket/key or a path");
    bad("file://host/x", "file://host/x: a file:// location needs an absolute path (file:///path)");
    bad("file://", "file://: a file:// location needs an absolute path (file:///path)");

    location_free(NULL);
    ok(1, "location_free(NULL) is harmless");
    return done_testing();
}
