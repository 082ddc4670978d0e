/* storage.h — the storage seam. A backend (local, s3) gives
 * streamed reads, atomic writes and listing; the job runner only ever
 * talks to this interface.
 *
 * Writes are all-or-nothing: nothing is visible at the destination until
 * storage_writer_commit() succeeds; storage_writer_abort() leaves neither
 * the object nor any temporary behind. Both free the writer. */
#ifndef SLUICE_STORAGE_H
#define SLUICE_STORAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

typedef struct storage storage;
typedef struct storage_reader storage_reader;
typedef struct storage_writer storage_writer;

typedef struct object_info {
    int64_t size;    /* -1 when unknown */
    char *etag;      /* NULL when unknown */
    long long mtime; /* seconds since the epoch, 0 when unknown */
} object_info;

typedef int (*storage_list_fn)(void *ud, const char *key, const object_info *info);

/* An S3 multipart upload that is open (started, neither completed nor
 * aborted). */
typedef struct storage_upload {
    const char *key;
    const char *upload_id;
    long long initiated; /* seconds since the epoch, 0 when unknown */
} storage_upload;
typedef int (*storage_upload_fn)(void *ud, const storage_upload *u);

typedef struct storage_ops {
    const char *type; /* "local", "s3" */
    int (*open_read)(storage *st, const char *bucket, const char *key,
                     storage_reader **out, object_info *info, sl_error *err);
    int (*open_write)(storage *st, const char *bucket, const char *key,
                      storage_writer **out, sl_error *err);
    /* Calls fn for every key under prefix, in lexical order; stops when fn
     * returns non-zero (and returns that value). */
    int (*list)(storage *st, const char *bucket, const char *prefix,
                storage_list_fn fn, void *ud, sl_error *err);
    void (*destroy)(storage *st);
    /* Removes an object; one that is not there is no error. */
    int (*remove)(storage *st, const char *bucket, const char *key, sl_error *err);
    /* Optional (NULL: the backend has no multipart uploads): calls fn for
     * every upload open under prefix, in key order; stops when fn returns
     * non-zero (and returns that value). */
    int (*list_uploads)(storage *st, const char *bucket, const char *prefix,
                        storage_upload_fn fn, void *ud, sl_error *err);
    /* Optional, with list_uploads: aborts one; one already gone is no error. */
    int (*abort_upload)(storage *st, const char *bucket, const char *key,
                        const char *upload_id, sl_error *err);
} storage_ops;

struct storage {
    const storage_ops *ops;
    void *impl;
};

/* What a writer reports about a multipart upload it starts, so that the
 * job can keep a mark of it (core/runstore.h) that outlives a crash:
 * `opened` right after CreateMultipartUpload answered, `closed` once it is
 * completed or aborted (successfully or not: the mark then has served).
 * Called on the thread that writes, commits or aborts. */
typedef struct storage_upload_hooks {
    void (*opened)(void *ud, const char *bucket, const char *key, const char *upload_id);
    void (*closed)(void *ud, const char *bucket, const char *key, const char *upload_id);
    void *ud;
} storage_upload_hooks;

/* Reader and writer are small vtables too, so a plain file path can use
 * the same job code as an object. */
typedef struct storage_reader_ops {
    ssize_t (*read)(storage_reader *r, void *buf, size_t cap, sl_error *err);
    void (*close)(storage_reader *r);
    /* Optional (NULL: no): may a process forked now read on from its own
     * copy of this reader, in the parent's place? Only a reader of a file
     * descriptor through no thread, lock or connection can say yes (a
     * plain local file): the child's reads move the descriptor's offset,
     * which the two processes share, so the parent must not read the
     * reader again. core/job_isolate.c lets an isolated plugin read its
     * input so, with no copy through the engine. */
    int (*forkable)(const storage_reader *r);
    /* Optional (NULL: no): the object's whole content, from its first byte
     * whatever has been read, as read-only memory: a plain file's mmap()
     * at its size now. 0 with *data and *len set (the caller munmap()s
     * them), -1 when it cannot be (an empty or special file, mmap failed).
     * A file truncated while mapped raises SIGBUS on the bytes gone: map
     * through storage_map_open() (storage_map.h), which guards it. */
    int (*map)(const storage_reader *r, const void **data, size_t *len);
} storage_reader_ops;

typedef struct storage_writer_ops {
    int (*write)(storage_writer *w, const void *buf, size_t len, sl_error *err);
    int (*commit)(storage_writer *w, sl_error *err);
    void (*abort)(storage_writer *w);
    /* Optional (NULL: the backend keeps no such metadata, as local files):
     * the object's Content-Type and Content-Encoding (either may be NULL),
     * set before the first write; the strings are copied. */
    void (*set_content)(storage_writer *w, const char *type, const char *encoding);
    /* Optional (NULL: the backend starts nothing that outlives a crash
     * elsewhere, as local files, whose temporaries name their writer):
     * hooks for multipart uploads (borrowed: they must outlive the writer),
     * set before the first write. */
    void (*set_upload_hooks)(storage_writer *w, const storage_upload_hooks *hooks);
} storage_writer_ops;

struct storage_reader {
    const storage_reader_ops *ops;
};
struct storage_writer {
    const storage_writer_ops *ops;
};

static inline ssize_t storage_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    return r->ops->read(r, buf, cap, err);
}
static inline int storage_reader_forkable(const storage_reader *r)
{
    return r && r->ops->forkable && r->ops->forkable(r);
}
static inline int storage_reader_map(const storage_reader *r, const void **data, size_t *len)
{
    return r && r->ops->map ? r->ops->map(r, data, len) : -1;
}
static inline void storage_reader_close(storage_reader *r)
{
    if (r)
        r->ops->close(r);
}
static inline int storage_write(storage_writer *w, const void *buf, size_t len, sl_error *err)
{
    return w->ops->write(w, buf, len, err);
}
static inline int storage_writer_commit(storage_writer *w, sl_error *err)
{
    return w->ops->commit(w, err);
}
static inline void storage_writer_set_content(storage_writer *w, const char *type,
                                              const char *encoding)
{
    if (w->ops->set_content)
        w->ops->set_content(w, type, encoding);
}
static inline void storage_writer_set_upload_hooks(storage_writer *w,
                                                   const storage_upload_hooks *hooks)
{
    if (w->ops->set_upload_hooks)
        w->ops->set_upload_hooks(w, hooks);
}
static inline void storage_writer_abort(storage_writer *w)
{
    if (w)
        w->ops->abort(w);
}

void storage_destroy(storage *st);

/* --- the local backend: root/<bucket>/<key> --------------------------- */
/* Creates nothing; `root` must exist when objects are read. */
storage *storage_local_new(const char *root, sl_error *err);
/* Refuses keys that would leave the bucket directory: empty, absolute,
 * "." or ".." segments, NUL bytes, and bucket names with '/' or "..".
 * Returns 0 when safe, -1 with a message in err. */
int storage_local_check_key(const char *bucket, const char *key, sl_error *err);

/* --- temporary files (the janitor) ------------------------------------ */
/* A local writer's data sits in ".sluice-tmp.<name>.<random>.<writer>"
 * beside its destination until commit renames it, where <writer> is the
 * writing process's tag (util/procid.h). A process killed mid-write leaves
 * it behind; these find such files and remove them. */
typedef struct storage_temp {
    const char *path;   /* the file */
    const char *writer; /* its writer's tag; NULL: a name of an older sluice,
                           which names no writer */
    long long size;
    long long mtime;    /* seconds since the epoch */
} storage_temp;
typedef struct storage_sweep_fns {
    /* every temporary: 1 to remove it, 0 to keep it */
    int (*judge)(void *ud, const storage_temp *t);
    /* after judge said 1: error is NULL when it was removed, else why not */
    void (*removed)(void *ud, const storage_temp *t, const char *error);
    /* a directory below `dir` that could not be read (the walk goes on) */
    void (*unreadable)(void *ud, const char *dir, const char *why);
    void *ud;
} storage_sweep_fns;
/* Judges every temporary file at or below `dir` (no symbolic link is
 * followed) and removes those judge picks. Returns the number removed, or
 * -1 with err set when `dir` itself cannot be read (a missing `dir` is 0). */
int storage_local_sweep(const char *dir, const storage_sweep_fns *fns, sl_error *err);
/* The directory of root/bucket/key_prefix that holds every key starting
 * with key_prefix ("root/bucket/a/b/" for "a/b/c"); NULL with err set when
 * bucket or the prefix's directories could not be keys. Caller frees. */
char *storage_local_dir_of(const storage *st, const char *bucket, const char *key_prefix,
                           sl_error *err);

/* --- plain files (process /path, --output /path) ---------------------- */
int storage_local_read_file(const char *path, storage_reader **out, object_info *info, sl_error *err);
/* Atomic: a temporary file beside `path`, renamed on commit. Creates
 * missing parent directories. */
int storage_local_write_file(const char *path, storage_writer **out, sl_error *err);

void storage_object_info_free(object_info *info);

/* --- choosing a backend (storage_open.c) ------------------------------ */
struct storage_config;
/* The backend the configuration names; NULL with err set when it cannot
 * be created. */
storage *storage_open(const struct storage_config *cfg, sl_error *err);

#endif
