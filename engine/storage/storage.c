#include "autoconfig.h"
#include "storage/storage.h"

#include <stdlib.h>

void storage_destroy(storage *st)
{
    if (st && st->ops && st->ops->destroy)
        st->ops->destroy(st);
}

void storage_object_info_free(object_info *info)
{
    if (!info)
        return;
    free(info->etag);
    info->etag = NULL;
}
