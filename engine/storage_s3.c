/* The S3 backend is being written (issue 3); until it lands, configuring
 * `storage: {type: s3}` is a clear configuration error. */
#include "autoconfig.h"
#include "storage_s3.h"

storage *storage_s3_new(const struct storage_config *cfg, sl_error *err)
{
    (void)cfg;
    sl_error_set(err, SL_ERR_CONFIG, "the s3 storage backend is not in this build yet");
    return NULL;
}
