#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/storage.h"
#include "util/alloc.h"
#include "util/fsutil.h"
#include "util/procid.h"
#include "util/strbuf.h"

/* The local backend maps s3://bucket/key to root/bucket/key.
 *
 * Path safety. A key is refused unless every '/'-separated segment is a
 * plain name: no empty segment ("a//b", a leading or trailing '/'), no "."
 * or "..", no segment starting with the temporary-file prefix. S3 allows
 * "a//b" but a directory tree cannot hold it faithfully (it would alias
 * "a/b"), so it is refused rather than silently merged. Bucket names must
 * be non-empty, without '/', and not "." or "..".
 *
 * Symbolic links: root and root/bucket are trusted (an administrator may
 * point them elsewhere). Below the bucket directory every component of the
 * key, directories and the final name alike, is opened relative to its
 * parent with O_NOFOLLOW, so no symlink inside a bucket is ever followed:
 * a key cannot escape its bucket even if someone plants a link there.
 * Listing skips symlinks for the same reason.
 *
 * Atomic writes: data goes to ".sluice-tmp.<basename>.XXXXXX.<writer>" in
 * the target's directory (created with O_EXCL relative to the directory
 * fd, like mkstemp, but without following links and honouring the umask);
 * commit is fsync + rename + fsync of the directory; abort unlinks the
 * temporary file. <writer> is the process's tag (util/procid.h), so that
 * the janitor can tell the temporary of a killed writer from one being
 * written (names without it, ".sluice-tmp.<basename>.XXXXXX", come from
 * an older sluice and are judged by age alone). Directories created on
 * the way are left in place: they hold no object and listing ignores them. */

#define TMP_PREFIX ".sluice-tmp."
#define TMP_PREFIX_LEN (sizeof TMP_PREFIX - 1)
/* Keep temporary names under NAME_MAX (255) even for long basenames:
 * prefix 12 + basename + ".XXXXXX." 8 + a writer tag of at most 128. */
#define TMP_BASE_MAX 100

typedef struct local_storage {
    char *root;
} local_storage;

/* --- readers ------------------------------------------------------------ */

typedef struct fd_reader {
    storage_reader base;
    int fd;
    char *name; /* for messages */
} fd_reader;

static ssize_t fd_reader_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    fd_reader *fr = (fd_reader *)r;
    for (;;) {
        ssize_t n = read(fr->fd, buf, cap);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        sl_error_set(err, SL_ERR_STORAGE, "%s: read failed: %s", fr->name, strerror(errno));
        return -1;
    }
}

static void fd_reader_close(storage_reader *r)
{
    fd_reader *fr = (fd_reader *)r;
    close(fr->fd);
    free(fr->name);
    free(fr);
}

/* A plain descriptor: a forked child reads on where the parent stopped. */
static int fd_reader_forkable(const storage_reader *r)
{
    (void)r;
    return 1;
}

static int fd_reader_map(const storage_reader *r, const void **data, size_t *len)
{
    const fd_reader *fr = (const fd_reader *)r;
    struct stat st;
    if (fstat(fr->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uintmax_t)st.st_size > SIZE_MAX)
        return -1;
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fr->fd, 0);
    if (m == MAP_FAILED)
        return -1;
    madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL); /* read-ahead; a hint only */
    *data = m;
    *len = (size_t)st.st_size;
    return 0;
}

static const storage_reader_ops fd_reader_ops = {.read = fd_reader_read, .close = fd_reader_close,
                                                 .forkable = fd_reader_forkable,
                                                 .map = fd_reader_map};

static storage_reader *fd_reader_new(int fd, const char *name)
{
    fd_reader *fr = xcalloc(1, sizeof *fr);
    fr->base.ops = &fd_reader_ops;
    fr->fd = fd;
    fr->name = xstrdup(name);
    return &fr->base;
}

static void fill_info(object_info *info, const struct stat *st)
{
    if (!info)
        return;
    info->size = S_ISREG(st->st_mode) ? (int64_t)st->st_size : -1;
    info->etag = NULL;
    info->mtime = (long long)st->st_mtime;
}

/* --- atomic writers ----------------------------------------------------- */

typedef struct atomic_writer {
    storage_writer base;
    int dirfd;      /* the target's directory */
    int fd;         /* the temporary file */
    char *tmp;      /* its name in dirfd */
    char *leaf;     /* the final name in dirfd */
    char *name;     /* "s3://b/k" or the path, for messages */
    char *dir_path; /* the directory's path, for messages */
    int failed;     /* a write failed: commit must not publish */
} atomic_writer;

static void atomic_writer_free(atomic_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->dirfd >= 0)
        close(w->dirfd);
    free(w->tmp);
    free(w->leaf);
    free(w->name);
    free(w->dir_path);
    free(w);
}

static int atomic_writer_write(storage_writer *sw, const void *buf, size_t len, sl_error *err)
{
    atomic_writer *w = (atomic_writer *)sw;
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sl_error_set(err, SL_ERR_STORAGE, "%s: writing %s/%s failed: %s", w->name,
                         w->dir_path, w->tmp, n < 0 ? strerror(errno) : "wrote nothing");
            w->failed = 1;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void atomic_writer_abort(storage_writer *sw)
{
    atomic_writer *w = (atomic_writer *)sw;
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    unlinkat(w->dirfd, w->tmp, 0);
    atomic_writer_free(w);
}

/* Some file systems cannot fsync a directory (EINVAL): nothing to wait for. */
static int fsync_dir(int dirfd)
{
    if (fsync(dirfd) == 0 || errno == EINVAL || errno == EROFS)
        return 0;
    return -1;
}

static int atomic_writer_commit(storage_writer *sw, sl_error *err)
{
    atomic_writer *w = (atomic_writer *)sw;
    const char *step = NULL;

    if (w->failed) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: not committed after a failed write", w->name);
        atomic_writer_abort(sw);
        return -1;
    }
    if (fsync(w->fd) != 0) {
        step = "fsync";
    } else {
        int rc = close(w->fd);
        w->fd = -1;
        if (rc != 0)
            step = "close";
        else if (renameat(w->dirfd, w->tmp, w->dirfd, w->leaf) != 0)
            step = "rename";
    }
    if (step) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: %s of %s/%s failed: %s", w->name, step,
                     w->dir_path, w->tmp, strerror(errno));
        atomic_writer_abort(sw);
        return -1;
    }
    if (fsync_dir(w->dirfd) != 0) {
        /* The output is visible but not durable: take it back so a failed
         * job leaves nothing behind. */
        int saved = errno;
        unlinkat(w->dirfd, w->leaf, 0);
        sl_error_set(err, SL_ERR_STORAGE, "%s: fsync of directory %s failed: %s", w->name,
                     w->dir_path, strerror(saved));
        atomic_writer_free(w);
        return -1;
    }
    atomic_writer_free(w);
    return 0;
}

static const storage_writer_ops atomic_writer_ops = {atomic_writer_write, atomic_writer_commit,
                                                     atomic_writer_abort, NULL, NULL};

static void random_suffix(char out[7])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[6];

    if (getentropy(rnd, sizeof rnd) != 0) {
        /* O_EXCL keeps this safe; the bytes only avoid collisions. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned long x = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16) ^
                          (unsigned long)(size_t)out;
        for (size_t i = 0; i < sizeof rnd; i++, x = x * 6364136223846793005UL + 1442695040888963407UL)
            rnd[i] = (unsigned char)(x >> 33);
    }
    for (size_t i = 0; i < 6; i++)
        out[i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
    out[6] = '\0';
}

/* Takes ownership of dirfd. On success *out is a writer for `leaf` in it. */
static int atomic_writer_new(int dirfd, const char *dir_path, const char *leaf,
                             const char *name, storage_writer **out, sl_error *err)
{
    size_t base_len = strlen(leaf);
    if (base_len > TMP_BASE_MAX)
        base_len = TMP_BASE_MAX;

    char writer[PROCID_TAG_MAX];
    procid_format(procid_self(), writer);
    for (int attempt = 0; attempt < 100; attempt++) {
        char suffix[7];
        random_suffix(suffix);
        char *tmp = xasprintf(TMP_PREFIX "%.*s.%s.%s", (int)base_len, leaf, suffix, writer);
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            atomic_writer *w = xcalloc(1, sizeof *w);
            w->base.ops = &atomic_writer_ops;
            w->dirfd = dirfd;
            w->fd = fd;
            w->tmp = tmp;
            w->leaf = xstrdup(leaf);
            w->name = xstrdup(name);
            w->dir_path = xstrdup(dir_path);
            *out = &w->base;
            return 0;
        }
        int saved = errno;
        free(tmp);
        if (saved != EEXIST) {
            sl_error_set(err, SL_ERR_STORAGE, "%s: cannot create a temporary file in %s: %s",
                         name, dir_path, strerror(saved));
            close(dirfd);
            return -1;
        }
    }
    sl_error_set(err, SL_ERR_STORAGE, "%s: cannot create a temporary file in %s: %s", name,
                 dir_path, strerror(EEXIST));
    close(dirfd);
    return -1;
}

/* --- key checks --------------------------------------------------------- */

static int check_bucket(const char *bucket, sl_error *err)
{
    const char *why = NULL;
    if (!bucket || !*bucket)
        why = "empty bucket name";
    else if (strchr(bucket, '/'))
        why = "a bucket name cannot contain '/'";
    else if (strcmp(bucket, ".") == 0 || strcmp(bucket, "..") == 0)
        why = "a bucket name cannot be \".\" or \"..\"";
    if (!why)
        return 0;
    sl_error_set(err, SL_ERR_INPUT, "s3://%s/: refused by local storage: %s",
                 bucket ? bucket : "", why);
    return -1;
}

static const char *key_segment_problem(const char *seg, size_t len)
{
    if (len == 0)
        return "empty path segment (a leading, trailing or doubled '/')";
    if (len == 1 && seg[0] == '.')
        return "a \".\" segment";
    if (len == 2 && seg[0] == '.' && seg[1] == '.')
        return "a \"..\" segment";
    if (len >= TMP_PREFIX_LEN && memcmp(seg, TMP_PREFIX, TMP_PREFIX_LEN) == 0)
        return "a name starting with \"" TMP_PREFIX "\" (reserved for temporary files)";
    return NULL;
}

int storage_local_check_key(const char *bucket, const char *key, sl_error *err)
{
    const char *why = NULL;

    if (check_bucket(bucket, err) != 0)
        return -1;
    if (!key || !*key) {
        why = "empty key";
    } else if (key[0] == '/') {
        why = "an absolute key";
    } else {
        const char *seg = key;
        for (;;) {
            const char *slash = strchr(seg, '/');
            size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
            why = key_segment_problem(seg, len);
            if (why || !slash)
                break;
            seg = slash + 1;
        }
    }
    if (!why)
        return 0;
    sl_error_set(err, SL_ERR_INPUT, "s3://%s/%s: refused by local storage: %s", bucket,
                 key ? key : "", why);
    return -1;
}

/* --- the local backend -------------------------------------------------- */

static const char *local_root(storage *st)
{
    return ((local_storage *)st->impl)->root;
}

/* Did openat(dirfd, name, O_NOFOLLOW...) fail because name is a symlink?
 * Linux answers ELOOP, or ENOTDIR when O_DIRECTORY was asked for too;
 * FreeBSD answers EMLINK. */
static int is_symlink_failure(int dirfd, const char *name, int e)
{
    struct stat sb;
    if (e != ELOOP && e != EMLINK && e != ENOTDIR)
        return 0;
    return fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode);
}

/* Opens root/bucket as a directory fd; creates the bucket directory when
 * `create` is set. Messages name `obj` (the s3:// URL). */
static int open_bucket_dir(const char *root, const char *bucket, int create, const char *obj,
                           sl_error *err)
{
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: local storage root %s: %s", obj, root,
                     strerror(errno));
        return -1;
    }
    int fd = openat(rootfd, bucket, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(rootfd, bucket, 0777) == 0 || errno == EEXIST) {
            fsync_dir(rootfd);
            fd = openat(rootfd, bucket, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
    }
    int saved = errno;
    close(rootfd);
    if (fd >= 0)
        return fd;
    if (saved == ENOENT)
        sl_error_set(err, SL_ERR_INPUT, "%s: no such bucket (%s/%s)", obj, root, bucket);
    else
        sl_error_set(err, SL_ERR_STORAGE, "%s: %s/%s: %s", obj, root, bucket, strerror(saved));
    return -1;
}

/* Walks the directory part of `key` below the bucket directory `fd`
 * (which it takes over), one O_NOFOLLOW step at a time, creating missing
 * directories when `create` is set. Returns the fd of the key's directory
 * and points *leaf at the key's last segment. */
static int walk_key_dirs(int fd, const char *bucket_path, const char *key, int create,
                         const char *obj, const char **leaf, sl_error *err)
{
    const char *seg = key;
    const char *slash;

    while ((slash = strchr(seg, '/')) != NULL) {
        char *name = xstrndup(seg, (size_t)(slash - seg));
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, name, 0777) == 0 || errno == EEXIST) {
                fsync_dir(fd);
                next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }
        }
        int saved = errno;
        int is_link = next < 0 && is_symlink_failure(fd, name, saved);
        free(name);
        if (next < 0) {
            int len = (int)(slash - key);
            if (is_link)
                sl_error_set(err, SL_ERR_STORAGE,
                             "%s: refusing to follow a symbolic link (%s/%.*s)", obj,
                             bucket_path, len, key);
            else if ((saved == ENOENT || saved == ENOTDIR) && !create)
                sl_error_set(err, SL_ERR_INPUT, "%s: no such object (%s/%s)", obj,
                             bucket_path, key);
            else
                sl_error_set(err, SL_ERR_STORAGE, "%s: %s/%.*s: %s", obj, bucket_path, len,
                             key, strerror(saved));
            close(fd);
            return -1;
        }
        close(fd);
        fd = next;
        seg = slash + 1;
    }
    *leaf = seg;
    return fd;
}

static int local_open_read(storage *st, const char *bucket, const char *key,
                           storage_reader **out, object_info *info, sl_error *err)
{
    const char *root = local_root(st);
    const char *leaf;
    struct stat sb;
    int rc = -1;

    *out = NULL;
    if (storage_local_check_key(bucket, key, err) != 0)
        return -1;
    char *obj = xasprintf("s3://%s/%s", bucket, key);
    char *bucket_path = xasprintf("%s/%s", root, bucket);
    int dirfd = open_bucket_dir(root, bucket, 0, obj, err);
    if (dirfd < 0)
        goto done;
    dirfd = walk_key_dirs(dirfd, bucket_path, key, 0, obj, &leaf, err);
    if (dirfd < 0)
        goto done;
    /* O_NONBLOCK: opening a FIFO planted in the bucket must not hang. */
    int fd = openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int saved = errno;
    int is_link = fd < 0 && is_symlink_failure(dirfd, leaf, saved);
    close(dirfd);
    if (fd < 0) {
        if (is_link)
            sl_error_set(err, SL_ERR_STORAGE, "%s: refusing to follow a symbolic link (%s/%s)",
                         obj, bucket_path, key);
        else if (saved == ENOENT || saved == ENOTDIR)
            sl_error_set(err, SL_ERR_INPUT, "%s: no such object (%s/%s)", obj, bucket_path, key);
        else
            sl_error_set(err, SL_ERR_STORAGE, "%s: %s/%s: %s", obj, bucket_path, key,
                         strerror(saved));
        goto done;
    }
    if (fstat(fd, &sb) != 0) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: %s/%s: %s", obj, bucket_path, key,
                     strerror(errno));
        close(fd);
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        if (S_ISDIR(sb.st_mode))
            sl_error_set(err, SL_ERR_INPUT, "%s: no such object (%s/%s is a directory)", obj,
                         bucket_path, key);
        else
            sl_error_set(err, SL_ERR_STORAGE, "%s: %s/%s is not a regular file", obj,
                         bucket_path, key);
        close(fd);
        goto done;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    fill_info(info, &sb);
    *out = fd_reader_new(fd, obj);
    rc = 0;
done:
    free(obj);
    free(bucket_path);
    return rc;
}

/* The fd of a key's directory below its bucket (walked one O_NOFOLLOW
 * step at a time, created when `create`), with *leaf the key's last
 * segment and its names for messages, which the caller frees (also on
 * failure). -1 with err set. */
static int open_key_dir(storage *st, const char *bucket, const char *key, int create,
                        const char **leaf, char **obj, char **bucket_path, sl_error *err)
{
    const char *root = local_root(st);
    *obj = xasprintf("s3://%s/%s", bucket, key);
    *bucket_path = xasprintf("%s/%s", root, bucket);
    int dirfd = open_bucket_dir(root, bucket, create, *obj, err);
    return dirfd < 0 ? -1 : walk_key_dirs(dirfd, *bucket_path, key, create, *obj, leaf, err);
}

static int local_open_write(storage *st, const char *bucket, const char *key,
                            storage_writer **out, sl_error *err)
{
    const char *leaf;
    char *obj, *bucket_path;
    int rc = -1;

    *out = NULL;
    if (storage_local_check_key(bucket, key, err) != 0)
        return -1;
    int dirfd = open_key_dir(st, bucket, key, 1, &leaf, &obj, &bucket_path, err);
    if (dirfd >= 0) {
        char *dir_path = leaf > key
                             ? xasprintf("%s/%.*s", bucket_path, (int)(leaf - key - 1), key)
                             : xstrdup(bucket_path);
        rc = atomic_writer_new(dirfd, dir_path, leaf, obj, out, err);
        free(dir_path);
    }
    free(obj);
    free(bucket_path);
    return rc;
}

static int local_remove(storage *st, const char *bucket, const char *key, sl_error *err)
{
    const char *leaf;
    char *obj, *bucket_path;
    int rc = -1;

    if (storage_local_check_key(bucket, key, err) != 0)
        return -1;
    sl_error werr = {0};
    int dirfd = open_key_dir(st, bucket, key, 0, &leaf, &obj, &bucket_path, &werr);
    if (dirfd < 0) {
        /* no bucket or no directory: no object either */
        rc = werr.kind == SL_ERR_INPUT ? 0 : -1;
        if (rc != 0)
            sl_error_set(err, werr.kind, "%s", werr.msg);
    } else {
        rc = unlinkat(dirfd, leaf, 0) == 0 || errno == ENOENT ? 0 : -1;
        if (rc != 0)
            sl_error_set(err, SL_ERR_STORAGE, "%s: cannot remove %s/%s: %s", obj, bucket_path,
                         key, strerror(errno));
        else
            fsync_dir(dirfd);
        close(dirfd);
    }
    free(obj);
    free(bucket_path);
    return rc;
}

/* --- listing ------------------------------------------------------------ */

typedef struct listed {
    char *key;
    object_info info;
} listed;

typedef struct listing {
    listed *items;
    size_t count, cap;
    const char *prefix;
    size_t prefix_len;
} listing;

static void listing_add(listing *l, char *key, const struct stat *sb)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count].key = key;
    fill_info(&l->items[l->count].info, sb);
    l->count++;
}

static void listing_free(listing *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].key);
    free(l->items);
}

/* A directory "a/b/" can hold keys under prefix p when one is a prefix of
 * the other. */
static int dir_may_match(const listing *l, const char *rel, size_t rel_len)
{
    size_t n = rel_len < l->prefix_len ? rel_len : l->prefix_len;
    return memcmp(rel, l->prefix, n) == 0;
}

static int is_temp_name(const char *n)
{
    return strncmp(n, TMP_PREFIX, TMP_PREFIX_LEN) == 0;
}

/* The names in the directory d (not "." and "..") that `keep` accepts;
 * closes d. */
static void collect_names(DIR *d, int (*keep)(const struct dirent *), char ***names,
                          size_t *count)
{
    struct dirent *de;
    size_t cap = 0;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || !keep(de))
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            *names = xrealloc(*names, cap * sizeof **names);
        }
        (*names)[(*count)++] = xstrdup(n);
    }
    closedir(d);
}

/* Listing: everything but temporaries. */
static int listable(const struct dirent *de)
{
    return !is_temp_name(de->d_name);
}

static int read_names(const char *path, char ***names, size_t *count, sl_error *err)
{
    DIR *d = opendir(path);
    *names = NULL;
    *count = 0;
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0; /* removed while we walked */
        sl_error_set(err, SL_ERR_STORAGE, "%s: %s", path, strerror(errno));
        return -1;
    }
    collect_names(d, listable, names, count);
    return 0;
}

/* Collects regular files below `path` (whose key prefix is `rel`). Names
 * are read and the directory closed before descending, so the walk holds
 * one descriptor at a time whatever the depth. */
static int walk_tree(listing *l, const char *path, const char *rel, sl_error *err)
{
    char **names;
    size_t count;
    int rc = 0;

    if (read_names(path, &names, &count, err) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        char *child = xasprintf("%s/%s", path, names[i]);
        char *key = xasprintf("%s%s", rel, names[i]);
        size_t key_len = strlen(key);
        struct stat sb;

        if (lstat(child, &sb) != 0) {
            /* vanished meanwhile: not listed */
        } else if (S_ISDIR(sb.st_mode)) {
            char *sub = xasprintf("%s/", key);
            if (dir_may_match(l, sub, key_len + 1))
                rc = walk_tree(l, child, sub, err);
            free(sub);
        } else if (S_ISREG(sb.st_mode) && key_len >= l->prefix_len &&
                   memcmp(key, l->prefix, l->prefix_len) == 0) {
            listing_add(l, key, &sb);
            key = NULL;
        }
        free(key);
        free(child);
        if (rc != 0)
            break;
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int compare_listed(const void *a, const void *b)
{
    return strcmp(((const listed *)a)->key, ((const listed *)b)->key);
}

static int local_list(storage *st, const char *bucket, const char *prefix, storage_list_fn fn,
                      void *ud, sl_error *err)
{
    const char *root = local_root(st);
    listing l = {0};
    struct stat sb;
    int rc = 0;

    if (check_bucket(bucket, err) != 0)
        return -1;
    l.prefix = prefix ? prefix : "";
    l.prefix_len = strlen(l.prefix);
    char *bucket_path = xasprintf("%s/%s", root, bucket);
    int found = stat(bucket_path, &sb) == 0;
    if (!found && errno != ENOENT) {
        sl_error_set(err, SL_ERR_STORAGE, "s3://%s/: %s: %s", bucket, bucket_path,
                     strerror(errno));
        free(bucket_path);
        return -1;
    }
    if (!found || !S_ISDIR(sb.st_mode)) {
        sl_error_set(err, SL_ERR_INPUT, "s3://%s/: no such bucket (%s)", bucket, bucket_path);
        free(bucket_path);
        return -1;
    }
    rc = walk_tree(&l, bucket_path, "", err);
    free(bucket_path);
    if (rc == 0) {
        /* S3 order is byte order of whole keys ("a-b" < "a/b"), which a
         * per-directory sort would not give. */
        if (l.count > 1)
            qsort(l.items, l.count, sizeof *l.items, compare_listed);
        for (size_t i = 0; i < l.count && rc == 0; i++)
            rc = fn(ud, l.items[i].key, &l.items[i].info);
    }
    listing_free(&l);
    return rc;
}

static void local_destroy(storage *st)
{
    local_storage *ls = st->impl;
    free(ls->root);
    free(ls);
    free(st);
}

static const storage_ops local_ops = {"local",       local_open_read, local_open_write,
                                      local_list,    local_destroy,   local_remove,
                                      NULL,          NULL};

storage *storage_local_new(const char *root, sl_error *err)
{
    if (!root || !*root) {
        sl_error_set(err, SL_ERR_CONFIG, "local storage: empty root directory");
        return NULL;
    }
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/')
        len--;
    local_storage *ls = xcalloc(1, sizeof *ls);
    ls->root = xstrndup(root, len);
    storage *st = xcalloc(1, sizeof *st);
    st->ops = &local_ops;
    st->impl = ls;
    return st;
}

char *storage_local_dir_of(const storage *st, const char *bucket, const char *key_prefix,
                           sl_error *err)
{
    if (st->ops != &local_ops) {
        sl_error_set(err, SL_ERR_INTERNAL, "s3://%s/: not on local storage", bucket);
        return NULL;
    }
    const char *slash = strrchr(key_prefix, '/');
    char *dir = xstrndup(key_prefix, slash ? (size_t)(slash - key_prefix) : 0);
    char *out = NULL;
    /* the prefix's directories as a key: the same checks as any key's */
    char *probe = xasprintf("%s%sx", dir, *dir ? "/" : "");
    if (storage_local_check_key(bucket, probe, err) == 0)
        out = xasprintf("%s/%s%s%s", ((const local_storage *)st->impl)->root, bucket,
                        *dir ? "/" : "", dir);
    free(probe);
    free(dir);
    return out;
}

/* --- temporary files: the janitor's sweep --------------------------------- */

/* The writer tag a temporary's name ends with (".<random>.<tag>"), or NULL
 * for a name without one. */
static const char *temp_writer(const char *name)
{
    const char *at = strrchr(name, '@');
    if (!at)
        return NULL;
    const char *dot = at;
    while (dot > name && dot[-1] != '.')
        dot--;
    if (dot <= name + TMP_PREFIX_LEN)
        return NULL;
    procid p;
    return procid_parse(dot, &p) == 0 ? dot : NULL;
}

typedef struct sweep {
    const storage_sweep_fns *fns;
    int removed;
} sweep;

static void sweep_temp(sweep *sw, int dirfd, const char *dir_path, const char *name)
{
    struct stat sb;
    if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
        return;
    char *path = xasprintf("%s/%s", dir_path, name);
    storage_temp t = {.path = path, .writer = temp_writer(name), .size = (long long)sb.st_size,
                      .mtime = (long long)sb.st_mtime};
    if (sw->fns->judge(sw->fns->ud, &t)) {
        int ok = unlinkat(dirfd, name, 0) == 0 || errno == ENOENT;
        sw->removed += ok;
        sw->fns->removed(sw->fns->ud, &t, ok ? NULL : strerror(errno));
    }
    free(path);
}

/* The sweep: temporaries, and whatever may be a directory (d_type spares
 * a syscall per plain file). */
static int sweepable(const struct dirent *de)
{
    return is_temp_name(de->d_name) || de->d_type == DT_DIR || de->d_type == DT_UNKNOWN;
}

/* sweepable names in the directory dirfd, which stays open. */
static int sweep_names(int dirfd, char ***names, size_t *count, sl_error *err)
{
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    *names = NULL;
    *count = 0;
    if (!d) {
        sl_error_set(err, SL_ERR_STORAGE, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    collect_names(d, sweepable, names, count);
    return 0;
}

/* Walks `dirfd` (taken over), one descriptor per level of depth;
 * subdirectories are opened with O_NOFOLLOW, so no link leads it out. */
static void sweep_dir(sweep *sw, int dirfd, const char *dir_path)
{
    char **names;
    size_t count = 0;
    sl_error err = {0};
    if (sweep_names(dirfd, &names, &count, &err) != 0) {
        sw->fns->unreadable(sw->fns->ud, dir_path, err.msg);
        close(dirfd);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const char *n = names[i];
        if (is_temp_name(n)) {
            sweep_temp(sw, dirfd, dir_path, n);
            continue;
        }
        int sub = openat(dirfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
            char *p = xasprintf("%s/%s", dir_path, n);
            sweep_dir(sw, sub, p);
            free(p);
        }
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    close(dirfd);
}

int storage_local_sweep(const char *dir, const storage_sweep_fns *fns, sl_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0; /* nothing written there yet */
        sl_error_set(err, SL_ERR_STORAGE, "temporary files in %s: %s", dir, strerror(errno));
        return -1;
    }
    sweep sw = {fns, 0};
    sweep_dir(&sw, fd, dir);
    return sw.removed;
}

/* --- plain files -------------------------------------------------------- */

int storage_local_read_file(const char *path, storage_reader **out, object_info *info, sl_error *err)
{
    struct stat sb;

    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            sl_error_set(err, SL_ERR_INPUT, "%s: no such file", path);
        else
            sl_error_set(err, SL_ERR_STORAGE, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        sl_error_set(err, SL_ERR_INPUT, "%s: is a directory", path);
        close(fd);
        return -1;
    }
    fill_info(info, &sb);
    *out = fd_reader_new(fd, path);
    return 0;
}

/* mkdir -p for the directory part of a user-given path (symlinks in it are
 * the user's business and followed). */
static int make_parents(const char *dir, sl_error *err, const char *path)
{
    char failed[4096];
    int e = fsutil_mkdirs(dir, 0777, failed, sizeof failed);
    if (e == 0)
        return 0;
    sl_error_set(err, SL_ERR_STORAGE, "%s: cannot create directory %s: %s", path, failed,
                 strerror(e));
    return -1;
}

int storage_local_write_file(const char *path, storage_writer **out, sl_error *err)
{
    *out = NULL;
    if (!path || !*path) {
        sl_error_set(err, SL_ERR_CONFIG, "empty output path");
        return -1;
    }
    const char *slash = strrchr(path, '/');
    const char *leaf = slash ? slash + 1 : path;
    if (!*leaf || strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0) {
        sl_error_set(err, SL_ERR_CONFIG, "%s: not a file name", path);
        return -1;
    }
    char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : xstrdup(".");
    int rc = -1;
    if (make_parents(dir, err, path) == 0) {
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
            sl_error_set(err, SL_ERR_STORAGE, "%s: %s: %s", path, dir, strerror(errno));
        else
            rc = atomic_writer_new(dirfd, dir, leaf, path, out, err);
    }
    free(dir);
    return rc;
}
