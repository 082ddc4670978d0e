/* aws_config_files.h — the AWS shared config and credentials files, read
 * as the SDKs read them: the credentials file (AWS_SHARED_CREDENTIALS_FILE,
 * default ~/.aws/credentials) has [NAME] sections; the config file
 * (AWS_CONFIG_FILE, default ~/.aws/config) has [profile NAME] sections,
 * [default] for the default profile (when there is no [profile default]),
 * and [services NAME] sections whose nested settings ("s3 =\n  endpoint_url
 * = ...") read as keys "s3.endpoint_url". A leading "~/" in the variables
 * is expanded ($HOME, else the password database). The profile is the one
 * named, else $AWS_PROFILE, else "default".
 *
 * Used by the credential chain's profile source (aws_creds_profile.c) and
 * by the region and endpoint lookup (aws_region.c).
 *
 * Ownership: an aws_config_files is loaded anew for each lookup and owned
 * by the caller; the strings the getters return belong to it (values are
 * wiped when it is freed: the credentials file holds keys). No state is
 * shared between calls; every function is thread-safe. Error messages name
 * the file and line, never a line's text. */
#ifndef SLUICE_AWS_CONFIG_FILES_H
#define SLUICE_AWS_CONFIG_FILES_H

#include <stddef.h>

#include "util/error.h"

struct aws_config_files_entry; /* one setting (private) */

/* One file, parsed. */
typedef struct aws_config_files_ini {
    char *path;
    int exists;                        /* 0: the file does not exist */
    struct aws_config_files_entry *v;
    size_t n;
} aws_config_files_ini;

typedef struct aws_config_files {
    aws_config_files_ini creds;  /* [name] */
    aws_config_files_ini config; /* [profile name], [default] */
} aws_config_files;

/* Loads both files. A missing file is fine (exists = 0); an unreadable or
 * malformed one is an error. Returns 0, or -1 with err set (fs is then
 * empty). */
int aws_config_files_load(aws_config_files *fs, sl_error *err);
/* Loads the config file only (fs->creds stays empty). Returns 0 or -1;
 * fs is to be freed in both cases. */
int aws_config_files_load_config(aws_config_files *fs, sl_error *err);
void aws_config_files_free(aws_config_files *fs);

/* `profile` when given, else $AWS_PROFILE, else "default". */
const char *aws_config_files_profile(const char *profile);

/* The getters: the last setting wins, as when a section repeats. Keys
 * match without regard to case (the SDKs lower-case them); "" counts as
 * unset (NULL). */

/* A profile's setting in the credentials file. */
const char *aws_config_files_cred_get(const aws_config_files *fs, const char *profile,
                                      const char *key);
/* A profile's setting in the config file. */
const char *aws_config_files_conf_get(const aws_config_files *fs, const char *profile,
                                      const char *key);
/* Both files merged, the credentials file winning (as for role settings). */
const char *aws_config_files_get(const aws_config_files *fs, const char *profile,
                                 const char *key);
/* 1 when either file has a section for the profile. */
int aws_config_files_profile_exists(const aws_config_files *fs, const char *profile);

/* A setting for one service in the [services x] section the profile's
 * `services` names: `service` ("S3", "SQS", "sts", ...) is lower-cased
 * with ' ' and '-' as '_', as the SDKs do; NULL when the profile names no
 * services section or the setting is not there. */
const char *aws_config_files_service_get(const aws_config_files *fs, const char *profile,
                                         const char *service, const char *key);

#endif
