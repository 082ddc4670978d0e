#include "autoconfig.h"
#include "storage.h"

#include <string.h>

#include "config.h"

storage *storage_open(const storage_config *cfg, sl_error *err)
{
    const char *type = cfg->type ? cfg->type : "local";
    if (strcmp(type, "local") == 0)
        return storage_local_new(cfg->root, err);
    sl_error_set(err, SL_ERR_CONFIG,
                 "storage type \"%s\" is not available in this build (known: local)", type);
    return NULL;
}
