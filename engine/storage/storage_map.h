/* storage_map.h — a reader's input as guarded read-only memory.
 *
 * storage_map_open() maps what a reader reads (its ops' map: a plain local
 * file) and guards the mapping (util/mapguard.h): a file truncated while
 * mapped then reads as zeros past its new end instead of killing the
 * process with SIGBUS. The owner tells storage_map_release() what it is
 * done with, so the pages the mapping holds stay bounded on a large file,
 * calls storage_map_check() once nothing touches the bytes any more (it
 * fails the work when pages were lost) and closes the map.
 *
 * Threading: the bytes may be read from any thread; the functions belong
 * to the owner (one thread at a time). */
#ifndef SLUICE_STORAGE_MAP_H
#define SLUICE_STORAGE_MAP_H

#include <stddef.h>

#include "storage/storage.h"

typedef struct storage_map {
    const char *data; /* NULL when not open */
    size_t len;
    size_t released;  /* the owner is done with the bytes before this */
    size_t dropped;   /* whole pages before this were given back */
    int guard;        /* the mapguard slot */
} storage_map;

/* 0 with *m open, -1 when the reader cannot be mapped (not a plain file,
 * empty, or no guard slot free): read it instead. */
int storage_map_open(storage_map *m, const storage_reader *r);
/* The owner is done with [0, upto): returns how many bytes that adds to
 * what was released before, and gives back the whole pages of it
 * (MADV_DONTNEED: the file's pages stay in the page cache, a later touch
 * maps them again, so this bounds memory, never correctness). */
size_t storage_map_release(storage_map *m, size_t upto);
/* 0, or -1 with a storage error naming `name` when the file shrank while
 * mapped (what was read past its new end was zeros). */
int storage_map_check(const storage_map *m, const char *name, sl_error *err);
/* Unguards and unmaps; a closed or never opened map is left alone. */
void storage_map_close(storage_map *m);

#endif
