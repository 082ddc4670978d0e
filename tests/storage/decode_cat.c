/* decode_cat — a test driver for storage/decode.h: prints the decoded
 * content of a file (decode_open), or with --list the members an archive
 * gives (decode_archive_next) as "path<TAB>bytes" lines; --isolated lists
 * them as `members_as: jobs` reads them (decode_archive_next_isolated):
 * "path<TAB>bytes", or "path<TAB>failed: MESSAGE" for a member that is
 * refused or cannot be read, the archive going on.
 *
 *   decode_cat [--codec auto|none|gzip|zstd|bzip2] [--member GLOB]...
 *              [--max-expanded N] [--max-ratio R] [--list|--isolated] FILE
 *
 * Exit 0, or 1 with the error message on stderr. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/decode.h"

static int cat_stream(storage_reader *r, FILE *out, long long *total, sl_error *err)
{
    static char buf[65536];
    ssize_t n;
    *total = 0;
    while ((n = storage_read(r, buf, sizeof buf, err)) > 0) {
        if (out)
            fwrite(buf, 1, (size_t)n, out);
        *total += n;
    }
    return n < 0 ? -1 : 0;
}

static int list_archive(storage_reader *raw, const decode_options *opt, sl_error *err)
{
    decode_archive *a;
    if (decode_archive_open(raw, opt, &a, err) != 0)
        return -1;
    const char *path;
    storage_reader *m;
    int rc;
    while ((rc = decode_archive_next(a, &path, &m, err)) == 1) {
        long long total;
        if (cat_stream(m, NULL, &total, err) != 0) {
            rc = -1;
            break;
        }
        printf("%s\t%lld\n", path, total);
    }
    decode_archive_close(a);
    return rc;
}

static int list_isolated(storage_reader *raw, const decode_options *opt, sl_error *err)
{
    decode_archive *a;
    if (decode_archive_open(raw, opt, &a, err) != 0)
        return -1;
    for (;;) {
        sl_error why = {0};
        const char *path;
        storage_reader *m;
        long long total = 0;
        int rc = decode_archive_next_isolated(a, &path, &m, &why);
        if (rc <= 0) {
            decode_archive_close(a);
            if (rc < 0)
                sl_error_set(err, why.kind, "%s", why.msg);
            return rc;
        }
        if (rc == 1 && cat_stream(m, NULL, &total, &why) == 0)
            printf("%s\t%lld\n", path, total);
        else
            printf("%s\tfailed: %s\n", path, why.msg);
        storage_reader_close(m);
    }
}

int main(int argc, char **argv)
{
    decode_options opt = {0};
    const char *members[16];
    int list = 0;
    int i = 1;
    for (; i < argc - 1; i++) {
        if (strcmp(argv[i], "--codec") == 0 && i + 1 < argc) {
            if (decode_codec_parse(argv[++i], &opt.codec) != 0) {
                fprintf(stderr, "decode_cat: unknown codec %s\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--member") == 0 && i + 1 < argc && opt.n_members < 16) {
            members[opt.n_members++] = argv[++i];
            opt.members = members;
        } else if (strcmp(argv[i], "--max-expanded") == 0 && i + 1 < argc) {
            opt.limits.max_expanded_bytes = atoll(argv[++i]);
        } else if (strcmp(argv[i], "--max-ratio") == 0 && i + 1 < argc) {
            opt.limits.max_ratio = atof(argv[++i]);
        } else if (strcmp(argv[i], "--list") == 0) {
            list = 1;
        } else if (strcmp(argv[i], "--isolated") == 0) {
            list = 2;
        } else {
            break;
        }
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: decode_cat [--codec C] [--member GLOB]... [--max-expanded N] "
                        "[--max-ratio R] [--list|--isolated] FILE\n");
        return 2;
    }
    opt.name = argv[i];
    sl_error err = {0};
    storage_reader *raw;
    object_info info = {0};
    if (storage_local_read_file(argv[i], &raw, &info, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int rc;
    if (list) {
        rc = list == 1 ? list_archive(raw, &opt, &err) : list_isolated(raw, &opt, &err);
    } else {
        storage_reader *r;
        long long total;
        rc = decode_open(raw, &opt, &r, &err);
        if (rc == 0) {
            rc = cat_stream(r, stdout, &total, &err);
            storage_reader_close(r);
        }
    }
    fflush(stdout);
    storage_object_info_free(&info);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    return 0;
}
