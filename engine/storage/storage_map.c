/* storage_map.c — guarded input mappings (storage_map.h). */
#include "autoconfig.h"
#include "storage/storage_map.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/mapguard.h"

int storage_map_open(storage_map *m, const storage_reader *r)
{
    memset(m, 0, sizeof *m);
    m->guard = -1;
    const void *data;
    size_t len;
    if (storage_reader_map(r, &data, &len) != 0)
        return -1;
    int guard = mapguard_add(data, len);
    if (guard < 0) {
        munmap((void *)data, len);
        return -1;
    }
    m->data = data;
    m->len = len;
    m->guard = guard;
    return 0;
}

size_t storage_map_release(storage_map *m, size_t upto)
{
    if (!m->data)
        return 0;
    if (upto > m->len)
        upto = m->len;
    if (upto <= m->released)
        return 0;
    size_t added = upto - m->released;
    m->released = upto;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), to = upto / page * page;
    if (to > m->dropped) {
        madvise((void *)(m->data + m->dropped), to - m->dropped, MADV_DONTNEED);
        m->dropped = to;
    }
    return added;
}

int storage_map_check(const storage_map *m, const char *name, sl_error *err)
{
    if (!m->data || !mapguard_lost(m->guard))
        return 0;
    sl_error_set(err, SL_ERR_STORAGE,
                 "%s shrank while mapped for reading (from %zu bytes): the bytes past its "
                 "new end read as zeros",
                 name, m->len);
    return -1;
}

void storage_map_close(storage_map *m)
{
    if (!m->data)
        return;
    mapguard_remove(m->guard);
    munmap((void *)m->data, m->len);
    memset(m, 0, sizeof *m);
    m->guard = -1;
}
