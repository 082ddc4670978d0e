#include "autoconfig.h"
#include "intake/watch_tree.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/strbuf.h"

/* What a directory's watch listens for. IN_CREATE is for directories only
 * (a file created is reported when it is closed); IN_MOVED_FROM of a
 * directory makes the paths below it stale, hence a rescan. */
#define DIR_MASK                                                                         \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE_SELF |          \
     IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

typedef struct wdir {
    int wd;
    char *rel; /* "" for the root */
} wdir;

struct watch_tree {
    char *root;
    int fd;
    wdir *dirs; /* sorted by wd */
    size_t n, cap;
    int include_hidden;
    char *exclude_path;
    int have_exclude;
    dev_t ex_dev;
    ino_t ex_ino;
};

/* --- the wd table -------------------------------------------------------- */

/* Index of wd, or of where it would go (with *found 0). */
static size_t wd_search(const watch_tree *wt, int wd, int *found)
{
    size_t lo = 0, hi = wt->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (wt->dirs[mid].wd < wd)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < wt->n && wt->dirs[lo].wd == wd;
    return lo;
}

static const char *wd_path(const watch_tree *wt, int wd)
{
    int found;
    size_t i = wd_search(wt, wd, &found);
    return found ? wt->dirs[i].rel : NULL;
}

/* The same directory reached twice (a bind mount) keeps one wd: the
 * latest path wins. */
static void wd_put(watch_tree *wt, int wd, const char *rel)
{
    int found;
    size_t i = wd_search(wt, wd, &found);
    if (found) {
        free(wt->dirs[i].rel);
        wt->dirs[i].rel = xstrdup(rel);
        return;
    }
    if (wt->n == wt->cap) {
        wt->cap = wt->cap ? wt->cap * 2 : 16;
        wt->dirs = xrealloc(wt->dirs, wt->cap * sizeof *wt->dirs);
    }
    memmove(&wt->dirs[i + 1], &wt->dirs[i], (wt->n - i) * sizeof *wt->dirs);
    wt->dirs[i] = (wdir){wd, xstrdup(rel)};
    wt->n++;
}

static void wd_remove(watch_tree *wt, int wd)
{
    int found;
    size_t i = wd_search(wt, wd, &found);
    if (!found)
        return;
    free(wt->dirs[i].rel);
    memmove(&wt->dirs[i], &wt->dirs[i + 1], (wt->n - i - 1) * sizeof *wt->dirs);
    wt->n--;
}

static void wd_clear(watch_tree *wt)
{
    for (size_t i = 0; i < wt->n; i++)
        free(wt->dirs[i].rel);
    wt->n = 0;
}

/* --- construction -------------------------------------------------------- */

watch_tree *watch_tree_new(const char *root, const watch_tree_opts *opts, sl_error *err)
{
    struct stat st;
    if (stat(root, &st) != 0) {
        sl_error_set(err, SL_ERR_CONFIG, "%s: %s", root, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        sl_error_set(err, SL_ERR_CONFIG, "%s: not a directory", root);
        return NULL;
    }
    watch_tree *wt = xcalloc(1, sizeof *wt);
    wt->root = xstrdup(root);
    wt->fd = -1;
    wt->include_hidden = opts && opts->include_hidden;
    if (opts && opts->exclude_dir)
        wt->exclude_path = xstrdup(opts->exclude_dir);
    return wt;
}

void watch_tree_free(watch_tree *wt)
{
    if (!wt)
        return;
    if (wt->fd >= 0)
        close(wt->fd);
    wd_clear(wt);
    free(wt->dirs);
    free(wt->root);
    free(wt->exclude_path);
    free(wt);
}

int watch_tree_fd(const watch_tree *wt)
{
    return wt->fd;
}

size_t watch_tree_dirs(const watch_tree *wt)
{
    return wt->n;
}

/* --- scanning ------------------------------------------------------------ */

static int ignored_name(const watch_tree *wt, const char *name)
{
    return name[0] == '.' && (!wt->include_hidden || strcmp(name, ".") == 0 ||
                              strcmp(name, "..") == 0);
}

static int is_excluded_dir(const watch_tree *wt, const struct stat *st)
{
    return wt->have_exclude && st->st_dev == wt->ex_dev && st->st_ino == wt->ex_ino;
}

static char *child_rel(const char *rel, const char *name)
{
    return *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
}

static char *full_path(const watch_tree *wt, const char *rel)
{
    return *rel ? xasprintf("%s/%s", wt->root, rel) : xstrdup(wt->root);
}

typedef struct scan {
    watch_tree *wt;
    watch_tree_fn fn;
    void *ud;
    long files;
    sl_error *err;
} scan;

static int watch_dir(scan *sc, const char *rel);

/* Reads one directory (already watched): reports its files and returns
 * the names of its subdirectories, so no directory stream stays open
 * while the tree below is walked. */
static int read_dir(scan *sc, const char *rel, strbuf *subdirs, size_t *n_sub)
{
    char *path = full_path(sc->wt, rel);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        /* Gone or replaced meanwhile: its parent's events tell the rest. */
        if (fd >= 0)
            close(fd);
        free(path);
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (ignored_name(sc->wt, de->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && !is_excluded_dir(sc->wt, &st)) {
            sb_add(subdirs, de->d_name, strlen(de->d_name) + 1);
            (*n_sub)++;
        } else if (S_ISREG(st.st_mode)) {
            char *crel = child_rel(rel, de->d_name);
            sc->fn(sc->ud, crel, WATCH_TREE_FOUND);
            sc->files++;
            free(crel);
        }
    }
    closedir(d);
    free(path);
    return 0;
}

/* Watches `rel`, then reads it: a file written after the read is reported
 * by an event, one written before by the read. */
static int watch_dir(scan *sc, const char *rel)
{
    watch_tree *wt = sc->wt;
    char *path = full_path(wt, rel);
    int wd = inotify_add_watch(wt->fd, path, DIR_MASK);
    if (wd < 0) {
        int e = errno;
        int fatal = e == ENOSPC || e == ENOMEM || !*rel;
        if (fatal)
            sl_error_set(sc->err, SL_ERR_INTERNAL, "cannot watch %s: %s%s", path, strerror(e),
                         e == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
        free(path);
        /* a directory that vanished or is not ours to read is skipped */
        return fatal ? -1 : 0;
    }
    free(path);
    wd_put(wt, wd, rel);

    strbuf subdirs = STRBUF_INIT;
    size_t n_sub = 0;
    read_dir(sc, rel, &subdirs, &n_sub);
    const char *name = subdirs.buf;
    int rc = 0;
    for (size_t i = 0; i < n_sub && rc == 0; i++) {
        char *crel = child_rel(rel, name);
        rc = watch_dir(sc, crel);
        free(crel);
        name += strlen(name) + 1;
    }
    sb_free(&subdirs);
    return rc;
}

long watch_tree_rescan(watch_tree *wt, watch_tree_fn fn, void *ud, sl_error *err)
{
    /* A fresh inotify instance: no stale event of the old one can be
     * misread against the new table. */
    if (wt->fd >= 0)
        close(wt->fd);
    wd_clear(wt);
    wt->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (wt->fd < 0) {
        sl_error_set(err, SL_ERR_INTERNAL, "inotify_init1: %s%s", strerror(errno),
                     errno == EMFILE ? " (raise fs.inotify.max_user_instances)" : "");
        return -1;
    }
    struct stat st;
    wt->have_exclude = wt->exclude_path && stat(wt->exclude_path, &st) == 0;
    if (wt->have_exclude) {
        wt->ex_dev = st.st_dev;
        wt->ex_ino = st.st_ino;
    }
    scan sc = {wt, fn, ud, 0, err};
    if (watch_dir(&sc, "") != 0)
        return -1;
    return sc.files;
}

/* --- events -------------------------------------------------------------- */

/* A directory created or moved in: watch it and what is below. */
static int new_subdir(watch_tree *wt, const char *rel, watch_tree_fn fn, void *ud, sl_error *err)
{
    char *path = full_path(wt, rel);
    struct stat st;
    int rc = 0;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && !is_excluded_dir(wt, &st)) {
        scan sc = {wt, fn, ud, 0, err};
        rc = watch_dir(&sc, rel);
    }
    free(path);
    return rc;
}

/* Handles one event; sets *rescan when the table can no longer be
 * trusted. Returns -1 when watching must stop. */
static int handle_event(watch_tree *wt, const struct inotify_event *ev, watch_tree_fn fn,
                        void *ud, int *rescan, sl_error *err)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        *rescan = 1;
        return 0;
    }
    const char *dir = wd_path(wt, ev->wd);
    if (!dir)
        return 0; /* a watch already dropped */
    if (ev->mask & IN_IGNORED) {
        int root = !*dir;
        wd_remove(wt, ev->wd);
        if (root) {
            sl_error_set(err, SL_ERR_INTERNAL, "%s: the watched directory is gone", wt->root);
            return -1;
        }
        return 0;
    }
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        if (!*dir) {
            sl_error_set(err, SL_ERR_INTERNAL, "%s: the watched directory was %s", wt->root,
                         ev->mask & IN_MOVE_SELF ? "moved" : "deleted");
            return -1;
        }
        return 0; /* the parent's IN_MOVED_FROM or IN_IGNORED follows */
    }
    if (ev->len == 0 || ignored_name(wt, ev->name))
        return 0;

    char *rel = child_rel(dir, ev->name);
    int rc = 0;
    if (ev->mask & IN_ISDIR) {
        if (ev->mask & IN_MOVED_FROM)
            *rescan = 1;
        else if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && !*rescan)
            rc = new_subdir(wt, rel, fn, ud, err); /* (a pending rescan covers it) */
    } else if (ev->mask & IN_CLOSE_WRITE) {
        fn(ud, rel, WATCH_TREE_CLOSED);
    } else if (ev->mask & IN_MOVED_TO) {
        fn(ud, rel, WATCH_TREE_MOVED_IN);
    }
    free(rel);
    return rc;
}

int watch_tree_process(watch_tree *wt, watch_tree_fn fn, void *ud, sl_error *err)
{
    /* aligned for struct inotify_event, as inotify(7) shows */
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    int rescan = 0;

    for (;;) {
        ssize_t n = read(wt->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            sl_error_set(err, SL_ERR_INTERNAL, "reading inotify events: %s",
                         n < 0 ? strerror(errno) : "end of file");
            return -1;
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (handle_event(wt, ev, fn, ud, &rescan, err) != 0)
                return -1;
            p += sizeof *ev + ev->len;
        }
    }
    if (rescan && watch_tree_rescan(wt, fn, ud, err) < 0)
        return -1;
    return 0;
}

/* --- open for writing? --------------------------------------------------- */

/* The access mode of /proc/PID/fdinfo/FD's "flags:" line (octal). */
static int fd_open_for_writing(int proc_fd, const char *pid, const char *fd)
{
    char rel[2 * 256 + 32]; /* two directory entry names and the glue */
    snprintf(rel, sizeof rel, "%s/fdinfo/%s", pid, fd);
    int f = openat(proc_fd, rel, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return 0;
    char text[512];
    ssize_t n = read(f, text, sizeof text - 1);
    close(f);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    const char *flags = strstr(text, "flags:");
    if (!flags)
        return 0;
    long mode = strtol(flags + 6, NULL, 8) & O_ACCMODE;
    return mode == O_WRONLY || mode == O_RDWR;
}

static int process_has_open(int proc_fd, const char *pid, const struct stat *target)
{
    char rel[2 * 256 + 32]; /* two directory entry names and the glue */
    snprintf(rel, sizeof rel, "%s/fd", pid);
    int dfd = openat(proc_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0; /* exited, or another user's process */
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return 0;
    }
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(dfd, de->d_name, &st, 0) != 0)
            continue;
        if (st.st_dev == target->st_dev && st.st_ino == target->st_ino)
            found = fd_open_for_writing(proc_fd, pid, de->d_name);
    }
    closedir(d);
    return found;
}

int watch_tree_open_for_writing(const char *path)
{
    struct stat target;
    if (stat(path, &target) != 0)
        return 0;
    int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = proc_fd >= 0 ? fdopendir(proc_fd) : NULL;
    if (!d) {
        if (proc_fd >= 0)
            close(proc_fd);
        return -1;
    }
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL)
        if (isdigit((unsigned char)de->d_name[0]))
            found = process_has_open(proc_fd, de->d_name, &target);
    closedir(d);
    return found;
}
