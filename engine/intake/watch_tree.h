/* watch_tree.h — the directory side of `sluice watch`: an inotify watch over a
 * whole tree, reporting files that may be complete, and a check whether
 * anyone still has a file open for writing.
 *
 * A file is reported when a writer closed it (IN_CLOSE_WRITE), when it was
 * renamed into the tree (IN_MOVED_TO), and when a scan finds it: the
 * initial scan, the scan of a directory created or moved in (files may be
 * written there before its watch exists) and the full rescan after the
 * kernel's event queue overflowed or a directory moved. Scanned files come
 * with no guarantee at all: the caller decides (open for writing? quiet
 * long enough?). Every directory's watch is in place before the directory
 * is read, so a file a scan finds still open will report its close.
 *
 * Ignored: names starting with '.' (unless include_hidden: temporary
 * files of writers that rename into place, such as rsync's), and the one
 * excluded directory (the .sent tree), whatever its name. Symbolic links
 * are never followed. Not thread-safe: one thread owns a tree. */
#ifndef SLUICE_WATCH_TREE_H
#define SLUICE_WATCH_TREE_H

#include <sys/types.h>

#include "util/error.h"

typedef enum watch_tree_origin {
    WATCH_TREE_CLOSED = 0, /* a writer closed it */
    WATCH_TREE_MOVED_IN,   /* renamed into the tree */
    WATCH_TREE_FOUND       /* found by a scan or created without a write (link) */
} watch_tree_origin;

/* `rel` is the path relative to the root, "a/b.csv". */
typedef void (*watch_tree_fn)(void *ud, const char *rel, watch_tree_origin origin);

typedef struct watch_tree watch_tree;

typedef struct watch_tree_opts {
    int include_hidden;
    const char *exclude_dir; /* a directory never watched nor reported, or NULL */
} watch_tree_opts;

/* Opens inotify for `root` (an existing directory). Watches are added by
 * the first watch_tree_rescan(). */
watch_tree *watch_tree_new(const char *root, const watch_tree_opts *opts, sl_error *err);
void watch_tree_free(watch_tree *wt);
/* The inotify descriptor (non-blocking) to poll for input. It changes
 * across rescans: ask again after each. */
int watch_tree_fd(const watch_tree *wt);
/* Number of directories watched. */
size_t watch_tree_dirs(const watch_tree *wt);

/* Drops every watch, watches the whole tree afresh and reports every file
 * in it as WATCH_TREE_FOUND. Returns the number of files reported, or -1 with
 * err set (the root is gone, or inotify failed, e.g. out of watches). */
long watch_tree_rescan(watch_tree *wt, watch_tree_fn fn, void *ud, sl_error *err);
/* Reads the events waiting on the descriptor and reports files; rescans by
 * itself when needed (overflow, directory moves). Returns 0, or -1 with err
 * set when watching cannot go on (the root was moved or deleted, or a
 * rescan failed). */
int watch_tree_process(watch_tree *wt, watch_tree_fn fn, void *ud, sl_error *err);

/* 1 when some process has `path` open for writing, 0 when none does that
 * this process can see (other users' processes are visible to root only),
 * -1 when /proc cannot be read. */
int watch_tree_open_for_writing(const char *path);

#endif
