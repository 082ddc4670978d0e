/* test_storage_local.c — the local storage backend and plain files:
 * round trips, atomic commit/abort, path safety, listing order, errors. */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"

static char root[4096];

static char *path_of(const char *rel)
{
    return xasprintf("%s/%s", root, rel);
}

static int exists(const char *rel)
{
    struct stat sb;
    char *p = path_of(rel);
    int rc = lstat(p, &sb) == 0;
    free(p);
    return rc;
}

static void put_file(const char *rel, const char *content)
{
    char *p = path_of(rel);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    free(p);
}

static void make_dir(const char *rel)
{
    char *p = path_of(rel);
    mkdir(p, 0777);
    free(p);
}

/* Entries of a directory (relative to root) whose names start with
 * `prefix`, "." and ".." aside. */
static int count_entries(const char *rel, const char *prefix)
{
    char *p = path_of(rel);
    DIR *d = opendir(p);
    struct dirent *de;
    int n = 0;
    free(p);
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
            strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static char *read_all(storage_reader *r, sl_error *err)
{
    strbuf sb = STRBUF_INIT;
    char buf[7]; /* small on purpose: several reads */
    ssize_t n;
    while ((n = storage_read(r, buf, sizeof buf, err)) > 0)
        sb_add(&sb, buf, (size_t)n);
    if (n < 0) {
        sb_free(&sb);
        return NULL;
    }
    return sb_steal(&sb);
}

static char *get_object(storage *st, const char *bucket, const char *key, object_info *info,
                        sl_error *err)
{
    storage_reader *r = NULL;
    if (st->ops->open_read(st, bucket, key, &r, info, err) != 0)
        return NULL;
    char *data = read_all(r, err);
    storage_reader_close(r);
    return data;
}

static int put_object(storage *st, const char *bucket, const char *key, const char *data,
                      sl_error *err)
{
    storage_writer *w = NULL;
    if (st->ops->open_write(st, bucket, key, &w, err) != 0)
        return -1;
    if (storage_write(w, data, strlen(data), err) != 0) {
        storage_writer_abort(w);
        return -1;
    }
    return storage_writer_commit(w, err);
}

/* --- path safety -------------------------------------------------------- */

static void test_check_key(void)
{
    static const struct {
        const char *bucket, *key;
        int safe;
        const char *why; /* the end of the message */
    } cases[] = {
        {"b", "k", 1, NULL},
        {"b", "a/b/c.tsv", 1, NULL},
        {"b", "hit data/2009 09/a+b café.tsv", 1, NULL},
        {"b", "..a", 1, NULL},
        {"b", "a..", 1, NULL},
        {"b", ".hidden", 1, NULL},
        {"b", "a/...", 1, NULL},
        {"b", ".sluice-tmpx", 1, NULL},
        {"b.with.dots", "k", 1, NULL},
        {"b", "", 0, "empty key"},
        {"b", "/etc/passwd", 0, "an absolute key"},
        {"b", "..", 0, "a \"..\" segment"},
        {"b", "../other/k", 0, "a \"..\" segment"},
        {"b", "a/../../k", 0, "a \"..\" segment"},
        {"b", "a/..", 0, "a \"..\" segment"},
        {"b", ".", 0, "a \".\" segment"},
        {"b", "a/./b", 0, "a \".\" segment"},
        {"b", "a//b", 0, "empty path segment (a leading, trailing or doubled '/')"},
        {"b", "a/", 0, "empty path segment (a leading, trailing or doubled '/')"},
        {"b", "a/.sluice-tmp.x.ABCDEF", 0,
         "a name starting with \".sluice-tmp.\" (reserved for temporary files)"},
        {"", "k", 0, "empty bucket name"},
        {"a/b", "k", 0, "a bucket name cannot contain '/'"},
        {"..", "k", 0, "a bucket name cannot be \".\" or \"..\""},
        {".", "k", 0, "a bucket name cannot be \".\" or \"..\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_error err = {0};
        int rc = storage_local_check_key(cases[i].bucket, cases[i].key, &err);
        is_int(rc, cases[i].safe ? 0 : -1, "check_key(\"%s\", \"%s\")", cases[i].bucket,
               cases[i].key);
        if (cases[i].safe) {
            is_int(err.kind, SL_ERR_NONE, "  no error");
            continue;
        }
        is_int(err.kind, SL_ERR_INPUT, "  an input error");
        size_t ml = strlen(err.msg), wl = strlen(cases[i].why);
        ok(ml >= wl && strcmp(err.msg + ml - wl, cases[i].why) == 0, "  message: %s", err.msg);
    }
    sl_error err = {0};
    storage_local_check_key("b", "../x", &err);
    is_str(err.msg, "s3://b/../x: refused by local storage: a \"..\" segment",
           "full message names the object");
    sl_error err2 = {0};
    is_int(storage_local_check_key(NULL, "k", &err2), -1, "NULL bucket refused");
    sl_error err3 = {0};
    is_int(storage_local_check_key("b", NULL, &err3), -1, "NULL key refused");
}

/* --- round trip and atomicity ------------------------------------------ */

static void test_round_trip(storage *st)
{
    sl_error err = {0};
    object_info info = {0};

    is_int(put_object(st, "out", "a/b/c.txt", "hello, sluice\n", &err), 0,
           "write creates the bucket and parent directories");
    is_str(err.msg, "", "  no error");
    char *data = get_object(st, "out", "a/b/c.txt", &info, &err);
    is_str(data, "hello, sluice\n", "read back what was written");
    free(data);
    is_int(info.size, 14, "  size");
    ok(info.mtime > 1000000000LL, "  mtime set (%lld)", info.mtime);
    ok(info.etag == NULL, "  no etag for local objects");
    storage_object_info_free(&info);
    is_int(count_entries("out/a/b", ".sluice-tmp."), 0, "  no temporary file left");

    /* a known mtime comes back */
    char *p = path_of("out/a/b/c.txt");
    struct timespec ts[2] = {{1700000000, 0}, {1700000000, 0}};
    utimensat(AT_FDCWD, p, ts, 0);
    free(p);
    data = get_object(st, "out", "a/b/c.txt", &info, &err);
    is_int(info.mtime, 1700000000LL, "  mtime from the file");
    free(data);

    /* binary data and a larger object */
    size_t big = 1 << 20;
    char *buf = xmalloc(big);
    for (size_t i = 0; i < big; i++)
        buf[i] = (char)(i * 7 + (i >> 9));
    storage_writer *w = NULL;
    is_int(st->ops->open_write(st, "out", "big.bin", &w, &err), 0, "open a writer");
    int wrc = 0;
    for (size_t off = 0; off < big; off += 65536)
        wrc |= storage_write(w, buf + off, 65536, &err);
    is_int(wrc, 0, "1 MiB in 64 KiB writes");
    is_int(storage_writer_commit(w, &err), 0, "  committed");
    storage_reader *r = NULL;
    is_int(st->ops->open_read(st, "out", "big.bin", &r, &info, &err), 0, "  reopened");
    is_int(info.size, (int64_t)big, "  size");
    char *back = xmalloc(big + 1);
    size_t got = 0;
    ssize_t n;
    while ((n = storage_read(r, back + got, big + 1 - got, &err)) > 0)
        got += (size_t)n;
    storage_reader_close(r);
    is_mem(back, got, buf, big, "  same bytes");
    free(back);
    free(buf);

    /* the info argument may be NULL */
    r = NULL;
    is_int(st->ops->open_read(st, "out", "big.bin", &r, NULL, &err), 0, "info may be NULL");
    storage_reader_close(r);
    storage_reader_close(NULL);
    ok(1, "closing a NULL reader is harmless");
}

static void test_atomic(storage *st)
{
    sl_error err = {0};
    storage_writer *w = NULL;

    put_file("out/report.tab", "old\n");
    is_int(st->ops->open_write(st, "out", "report.tab", &w, &err), 0, "open a writer over an "
           "existing object");
    is_int(storage_write(w, "new\n", 4, &err), 0, "  write");
    is_int(count_entries("out", ".sluice-tmp.report.tab."), 1,
           "  a .sluice-tmp.report.tab.XXXXXX file holds the data");
    char *old = get_object(st, "out", "report.tab", NULL, &err);
    is_str(old, "old\n", "  the old object stays visible until commit");
    free(old);
    is_int(storage_writer_commit(w, &err), 0, "  commit");
    char *now = get_object(st, "out", "report.tab", NULL, &err);
    is_str(now, "new\n", "  the new object after commit");
    free(now);
    is_int(count_entries("out", ".sluice-tmp."), 0, "  temporary file gone");

    /* abort of a new object: nothing at all */
    w = NULL;
    is_int(st->ops->open_write(st, "out", "never/there.tab", &w, &err), 0, "open a writer");
    storage_write(w, "x", 1, &err);
    storage_writer_abort(w);
    ok(!exists("out/never/there.tab"), "abort: no object");
    is_int(count_entries("out/never", ".sluice-tmp."), 0, "abort: no temporary file");
    storage_writer_abort(NULL);
    ok(1, "aborting a NULL writer is harmless");

    /* abort over an existing object keeps the old one */
    w = NULL;
    st->ops->open_write(st, "out", "report.tab", &w, &err);
    storage_write(w, "partial", 7, &err);
    storage_writer_abort(w);
    now = get_object(st, "out", "report.tab", NULL, &err);
    is_str(now, "new\n", "abort over an existing object leaves it untouched");
    free(now);

    /* an empty object */
    w = NULL;
    st->ops->open_write(st, "out", "empty", &w, &err);
    is_int(storage_writer_commit(w, &err), 0, "commit with no writes");
    object_info info = {0};
    char *e = get_object(st, "out", "empty", &info, &err);
    is_str(e, "", "  an empty object");
    is_int(info.size, 0, "  size 0");
    free(e);

    /* a long basename still gives a valid temporary name */
    char key[256];
    memset(key, 'k', 250);
    key[250] = '\0';
    is_int(put_object(st, "out", key, "long", &err), 0, "a 250-byte basename");
    is_str(err.msg, "", "  no error");
}

static void test_write_failures(storage *st)
{
    sl_error err = {0};
    storage_writer *w = NULL;

    /* the target is a non-empty directory: rename fails at commit */
    make_dir("out/adir");
    put_file("out/adir/inside", "x");
    is_int(st->ops->open_write(st, "out", "adir", &w, &err), 0, "writer for a key that is a "
           "directory");
    storage_write(w, "data", 4, &err);
    is_int(storage_writer_commit(w, &err), -1, "  commit fails");
    is_int(err.kind, SL_ERR_STORAGE, "  a storage error");
    char *head = xasprintf("s3://out/adir: rename of %s/out/.sluice-tmp.adir.", root);
    ok(strncmp(err.msg, head, strlen(head)) == 0 && strstr(err.msg, strerror(EISDIR)),
       "  message names the object, the path and the cause: %s", err.msg);
    free(head);
    is_int(count_entries("out", ".sluice-tmp."), 0, "  no temporary file left");

    /* an intermediate segment is a file */
    put_file("out/afile", "x");
    sl_error err2 = {0};
    w = NULL;
    is_int(st->ops->open_write(st, "out", "afile/below", &w, &err2), -1,
           "a file where a directory is needed");
    ok(w == NULL, "  no writer");
    is_int(err2.kind, SL_ERR_STORAGE, "  a storage error");
    char *want = xasprintf("s3://out/afile/below: %s/out/afile: %s", root, strerror(ENOTDIR));
    is_str(err2.msg, want, "  message");
    free(want);

    /* a write that fails half-way: nothing published, nothing left */
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 10;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    sl_error err3 = {0};
    w = NULL;
    st->ops->open_write(st, "out", "toolarge.bin", &w, &err3);
    setrlimit(RLIMIT_FSIZE, &lim);
    int wrc = storage_write(w, "0123456789abcdefghij", 20, &err3);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    is_int(wrc, -1, "a write beyond RLIMIT_FSIZE fails");
    is_int(err3.kind, SL_ERR_STORAGE, "  a storage error");
    head = xasprintf("s3://out/toolarge.bin: writing %s/out/.sluice-tmp.toolarge.bin.", root);
    ok(strncmp(err3.msg, head, strlen(head)) == 0 && strstr(err3.msg, strerror(EFBIG)),
       "  message: %s", err3.msg);
    free(head);
    sl_error err4 = {0};
    is_int(storage_writer_commit(w, &err4), -1, "  commit after a failed write refuses");
    is_str(err4.msg, "s3://out/toolarge.bin: not committed after a failed write", "  message");
    ok(!exists("out/toolarge.bin"), "  no object");
    is_int(count_entries("out", ".sluice-tmp."), 0, "  no temporary file");

    /* an unsafe key never touches the disk */
    sl_error err5 = {0};
    w = NULL;
    is_int(st->ops->open_write(st, "out", "../escape", &w, &err5), -1, "unsafe key refused "
           "for writing");
    ok(!exists("escape"), "  nothing written outside the bucket");
}

/* --- reads that fail ---------------------------------------------------- */

static void test_read_failures(storage *st)
{
    sl_error err = {0};
    storage_reader *r = (storage_reader *)1;
    object_info info = {0};

    is_int(st->ops->open_read(st, "out", "nope.tsv", &r, &info, &err), -1, "missing object");
    ok(r == NULL, "  no reader");
    is_int(err.kind, SL_ERR_INPUT, "  an input error");
    char *want = xasprintf("s3://out/nope.tsv: no such object (%s/out/nope.tsv)", root);
    is_str(err.msg, want, "  message");
    free(want);

    sl_error e2 = {0};
    st->ops->open_read(st, "out", "nodir/nope.tsv", &r, &info, &e2);
    want = xasprintf("s3://out/nodir/nope.tsv: no such object (%s/out/nodir/nope.tsv)", root);
    is_str(e2.msg, want, "missing directory: no such object");
    is_int(e2.kind, SL_ERR_INPUT, "  an input error");
    free(want);

    sl_error e3 = {0};
    st->ops->open_read(st, "nobucket", "k", &r, &info, &e3);
    want = xasprintf("s3://nobucket/k: no such bucket (%s/nobucket)", root);
    is_str(e3.msg, want, "missing bucket");
    is_int(e3.kind, SL_ERR_INPUT, "  an input error");
    free(want);

    sl_error e4 = {0};
    st->ops->open_read(st, "out", "a", &r, &info, &e4);
    want = xasprintf("s3://out/a: no such object (%s/out/a is a directory)", root);
    is_str(e4.msg, want, "a directory is not an object");
    free(want);

    sl_error e5 = {0};
    st->ops->open_read(st, "out", "afile/x", &r, &info, &e5);
    is_int(e5.kind, SL_ERR_INPUT, "a file used as a directory: no such object");

    char *fifo = path_of("out/fifo");
    mkfifo(fifo, 0600);
    free(fifo);
    sl_error e6 = {0};
    is_int(st->ops->open_read(st, "out", "fifo", &r, &info, &e6), -1,
           "a FIFO is refused (and does not block)");
    want = xasprintf("s3://out/fifo: %s/out/fifo is not a regular file", root);
    is_str(e6.msg, want, "  message");
    free(want);

    sl_error e7 = {0};
    is_int(st->ops->open_read(st, "out", "a/../../etc", &r, &info, &e7), -1,
           "unsafe key refused for reading");
    is_str(e7.msg, "s3://out/a/../../etc: refused by local storage: a \"..\" segment",
           "  message");

    sl_error e8 = {0};
    storage *gone = storage_local_new("/nonexistent/sluice-root", &e8);
    is_int(gone->ops->open_read(gone, "b", "k", &r, &info, &e8), -1, "missing root");
    is_int(e8.kind, SL_ERR_STORAGE, "  a storage error");
    is_str(e8.msg, "s3://b/k: local storage root /nonexistent/sluice-root: No such file or "
           "directory", "  message");
    storage_destroy(gone);
}

/* --- symbolic links ----------------------------------------------------- */

static void test_symlinks(storage *st)
{
    sl_error err = {0};
    storage_reader *r = NULL;
    storage_writer *w = NULL;
    char *outside = path_of("outside");
    char *secret = path_of("outside/secret");
    char *link = path_of("out/link");
    char *dlink = path_of("out/dlink");

    mkdir(outside, 0777);
    put_file("outside/secret", "secret\n");
    ok(symlink(secret, link) == 0, "a symlink to a file outside the bucket");
    ok(symlink(outside, dlink) == 0, "a symlink to a directory outside the bucket");

    is_int(st->ops->open_read(st, "out", "link", &r, NULL, &err), -1,
           "reading through a final symlink is refused");
    char *want = xasprintf("s3://out/link: refusing to follow a symbolic link (%s/out/link)",
                           root);
    is_str(err.msg, want, "  message");
    free(want);
    is_int(err.kind, SL_ERR_STORAGE, "  a storage error");

    sl_error e2 = {0};
    is_int(st->ops->open_read(st, "out", "dlink/secret", &r, NULL, &e2), -1,
           "reading through a symlinked directory is refused");
    want = xasprintf("s3://out/dlink/secret: refusing to follow a symbolic link (%s/out/dlink)",
                     root);
    is_str(e2.msg, want, "  message");
    free(want);

    sl_error e3 = {0};
    is_int(st->ops->open_write(st, "out", "dlink/planted", &w, &e3), -1,
           "writing through a symlinked directory is refused");
    ok(!exists("outside/planted"), "  nothing written outside");
    ok(strstr(e3.msg, "refusing to follow a symbolic link") != NULL, "  message: %s", e3.msg);

    /* Writing over a symlink replaces the link itself: rename never
     * follows, so the target outside is untouched. */
    sl_error e4 = {0};
    is_int(put_object(st, "out", "link", "replaced\n", &e4), 0,
           "writing a key that is a symlink replaces the link");
    char *s = NULL;
    FILE *f = fopen(secret, "r");
    char buf[32] = "";
    if (f) {
        s = fgets(buf, sizeof buf, f);
        fclose(f);
    }
    is_str(s, "secret\n", "  the link's target is unchanged");
    struct stat sb;
    ok(lstat(link, &sb) == 0 && S_ISREG(sb.st_mode), "  the key is now a regular file");

    free(outside);
    free(secret);
    free(link);
    free(dlink);
}

/* --- listing ------------------------------------------------------------ */

typedef struct collected {
    strbuf keys;
    int stop_after;
    int seen;
    int64_t sizes;
} collected;

static int collect(void *ud, const char *key, const object_info *info)
{
    collected *c = ud;
    sb_addf(&c->keys, "%s;", key);
    c->sizes += info->size;
    if (info->etag != NULL || info->mtime <= 0)
        sb_adds(&c->keys, "<bad info>");
    if (++c->seen == c->stop_after)
        return 7;
    return 0;
}

static void expect_listing(storage *st, const char *bucket, const char *prefix, const char *want,
                           const char *name)
{
    collected c = {STRBUF_INIT, 0, 0, 0};
    sl_error err = {0};
    int rc = st->ops->list(st, bucket, prefix, collect, &c, &err);
    is_int(rc, 0, "%s: listed", name);
    is_str(sb_str(&c.keys), want, "%s: keys in byte order", name);
    sb_free(&c.keys);
}

static void test_list(storage *st)
{
    make_dir("lst");
    make_dir("lst/a");
    make_dir("lst/a/deeper");
    make_dir("lst/emptydir");
    put_file("lst/a/b", "1");
    put_file("lst/a/c", "22");
    put_file("lst/a/deeper/x", "333");
    put_file("lst/a-b", "4444");
    put_file("lst/a0", "5");
    put_file("lst/A", "6");
    put_file("lst/b", "7");
    put_file("lst/.hidden", "8");
    put_file("lst/a/.sluice-tmp.c.AbCdEf", "in flight");
    char *target = path_of("lst/b");
    char *ln = path_of("lst/zlink");
    symlink(target, ln);
    free(target);
    free(ln);

    expect_listing(st, "lst", "", ".hidden;A;a-b;a/b;a/c;a/deeper/x;a0;b;",
                   "whole bucket (temporary files, symlinks and directories skipped)");
    expect_listing(st, "lst", NULL, ".hidden;A;a-b;a/b;a/c;a/deeper/x;a0;b;", "NULL prefix");
    expect_listing(st, "lst", "a/", "a/b;a/c;a/deeper/x;", "prefix a/");
    expect_listing(st, "lst", "a", "a-b;a/b;a/c;a/deeper/x;a0;", "prefix a");
    expect_listing(st, "lst", "a/de", "a/deeper/x;", "prefix inside a directory name");
    expect_listing(st, "lst", "a/deeper/x", "a/deeper/x;", "prefix equal to a key");
    expect_listing(st, "lst", "zzz", "", "no match");

    collected c = {STRBUF_INIT, 2, 0, 0};
    sl_error err = {0};
    is_int(st->ops->list(st, "lst", "", collect, &c, &err), 7,
           "the callback's non-zero value stops the listing and is returned");
    is_str(sb_str(&c.keys), ".hidden;A;", "  stopped after two keys");
    sb_free(&c.keys);

    collected c2 = {STRBUF_INIT, 0, 0, 0};
    st->ops->list(st, "lst", "a/", collect, &c2, &err);
    is_int(c2.sizes, 6, "sizes reported to the callback");
    sb_free(&c2.keys);

    sl_error e2 = {0};
    collected c3 = {STRBUF_INIT, 0, 0, 0};
    is_int(st->ops->list(st, "nobucket", "", collect, &c3, &e2), -1, "missing bucket");
    char *want = xasprintf("s3://nobucket/: no such bucket (%s/nobucket)", root);
    is_str(e2.msg, want, "  message");
    is_int(e2.kind, SL_ERR_INPUT, "  an input error");
    free(want);
    sl_error e3 = {0};
    is_int(st->ops->list(st, "..", "", collect, &c3, &e3), -1, "unsafe bucket refused");
    sb_free(&c3.keys);
}

/* --- plain files -------------------------------------------------------- */

static void test_files(void)
{
    sl_error err = {0};
    storage_writer *w = NULL;
    storage_reader *r = NULL;
    object_info info = {0};
    char *p = path_of("plain/new/dirs/out.tsv");

    is_int(storage_local_write_file(p, &w, &err), 0, "file writer creates parent directories");
    storage_write(w, "a\tb\n", 4, &err);
    is_int(count_entries("plain/new/dirs", ".sluice-tmp.out.tsv."), 1, "  temporary beside it");
    ok(!exists("plain/new/dirs/out.tsv"), "  invisible before commit");
    is_int(storage_writer_commit(w, &err), 0, "  commit");
    is_int(count_entries("plain/new/dirs", ""), 1, "  only the file remains");
    is_int(storage_local_read_file(p, &r, &info, &err), 0, "file reader");
    char *data = read_all(r, &err);
    storage_reader_close(r);
    is_str(data, "a\tb\n", "  content");
    is_int(info.size, 4, "  size");
    ok(info.etag == NULL, "  no etag");
    free(data);

    w = NULL;
    char *p2 = path_of("plain/aborted.tsv");
    is_int(storage_local_write_file(p2, &w, &err), 0, "second writer");
    storage_write(w, "zzz", 3, &err);
    storage_writer_abort(w);
    is_int(count_entries("plain", ""), 1, "abort leaves neither output nor temporary");
    free(p2);

    sl_error e2 = {0};
    char *missing = path_of("plain/missing.tsv");
    is_int(storage_local_read_file(missing, &r, &info, &e2), -1, "missing file");
    char *want = xasprintf("%s: no such file", missing);
    is_str(e2.msg, want, "  message");
    is_int(e2.kind, SL_ERR_INPUT, "  an input error");
    free(want);
    free(missing);

    sl_error e3 = {0};
    char *dir = path_of("plain");
    is_int(storage_local_read_file(dir, &r, &info, &e3), -1, "a directory");
    want = xasprintf("%s: is a directory", dir);
    is_str(e3.msg, want, "  message");
    free(want);

    sl_error e4 = {0};
    char *slash = xasprintf("%s/", dir);
    is_int(storage_local_write_file(slash, &w, &e4), -1, "writing to a path ending in '/'");
    want = xasprintf("%s: not a file name", slash);
    is_str(e4.msg, want, "  message");
    free(want);
    free(slash);
    free(dir);

    sl_error e5 = {0};
    put_file("plain/notadir", "x");
    char *under = path_of("plain/notadir/x.tsv");
    is_int(storage_local_write_file(under, &w, &e5), -1, "a file where a directory is needed");
    is_int(e5.kind, SL_ERR_STORAGE, "  a storage error");
    ok(strstr(e5.msg, strerror(ENOTDIR)) != NULL || strstr(e5.msg, strerror(EEXIST)) != NULL,
       "  message names the cause: %s", e5.msg);
    free(under);

    /* a relative path in the current directory */
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) && chdir(root) == 0) {
        sl_error e6 = {0};
        w = NULL;
        is_int(storage_local_write_file("relative.tsv", &w, &e6), 0, "a bare relative file name");
        is_int(storage_writer_commit(w, &e6), 0, "  committed");
        ok(exists("relative.tsv"), "  written in the current directory");
        if (chdir(cwd) != 0)
            diag_note("could not return to the previous directory");
    }
    free(p);
}

static int remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return 0;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char *child = xasprintf("%s/%s", path, de->d_name);
            remove_tree(child);
            free(child);
        }
        if (d)
            closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/sluice-storage-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }

    sl_error err = {0};
    ok(storage_local_new("", &err) == NULL, "an empty root is refused");
    is_int(err.kind, SL_ERR_CONFIG, "  a configuration error");
    char *slashed = xasprintf("%s///", root);
    storage *st = storage_local_new(slashed, &err);
    free(slashed);
    ok(st != NULL, "local storage over %s", root);
    is_str(st->ops->type, "local", "  type");

    test_check_key();
    test_round_trip(st);
    test_atomic(st);
    test_write_failures(st);
    test_read_failures(st);
    test_symlinks(st);
    test_list(st);
    test_files();

    storage_destroy(st);
    storage_destroy(NULL);
    storage_object_info_free(NULL);
    remove_tree(root);
    return done_testing();
}
