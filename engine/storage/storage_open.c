#include "autoconfig.h"

#include <string.h>

#include "config/config.h"
#include "storage/storage.h"
#include "storage/storage_s3.h"

storage *storage_open(const storage_config *cfg, sl_error *err)
{
    const char *type = cfg->type ? cfg->type : "local";
    if (strcmp(type, "local") == 0)
        return storage_local_new(cfg->root, err);
    if (strcmp(type, "s3") == 0)
        return storage_s3_new(cfg, err);
    sl_error_set(err, SL_ERR_CONFIG,
                 "storage type \"%s\" is not available in this build (known: local, s3)", type);
    return NULL;
}
