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
} storage_ops;

struct storage {
    const storage_ops *ops;
    void *impl;
};

/* Reader and writer are small vtables too, so a plain file path can use
 * the same job code as an object. */
typedef struct storage_reader_ops {
    ssize_t (*read)(storage_reader *r, void *buf, size_t cap, sl_error *err);
    void (*close)(storage_reader *r);
} storage_reader_ops;

typedef struct storage_writer_ops {
    int (*write)(storage_writer *w, const void *buf, size_t len, sl_error *err);
    int (*commit)(storage_writer *w, sl_error *err);
    void (*abort)(storage_writer *w);
    /* Optional (NULL: the backend keeps no such metadata, as local files):
     * the object's Content-Type and Content-Encoding (either may be NULL),
     * set before the first write; the strings are copied. */
    void (*set_content)(storage_writer *w, const char *type, const char *encoding);
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
