/* storage_s3.h — the S3 backend behind storage.h: streamed GetObject with
 * Range resume, HeadObject, PutObject / multipart upload (committed only
 * when the job succeeded, aborted otherwise), ListObjectsV2.
 * Configuration: the `storage:` mapping with type s3 (region, endpoint,
 * path_style, profile, ca_bundle, insecure_skip_verify, part_size,
 * max_attempts, ...), see docs/s3.md. */
#ifndef SLUICE_STORAGE_S3_H
#define SLUICE_STORAGE_S3_H

#include "storage/storage.h"
#include "util/error.h"

struct storage_config;

storage *storage_s3_new(const struct storage_config *cfg, sl_error *err);

#endif
