/* aws_credentials.h — AWS credentials and the credential chain, in the
 * SDKs' order (one file per source):
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *      (aws_creds_env.c)
 *   2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      (+ AWS_ROLE_SESSION_NAME) through STS AssumeRoleWithWebIdentity
 *      (aws_creds_sts.c)
 *   3. shared files: ~/.aws/credentials, ~/.aws/config, AWS_PROFILE,
 *      AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE; role_arn with
 *      source_profile / credential_source / web_identity_token_file,
 *      credential_process (aws_creds_profile.c, aws_config_files.c)
 *   4. ECS/EKS container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *      or _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]
 *      (aws_creds_container.c)
 *   5. EC2 IMDSv2 (token PUT, then GET), short timeouts (aws_creds_imds.c)
 * The first source that is configured wins; a configured but broken one is
 * an error, not a reason to try the next. Endpoints: AWS_ENDPOINT_URL_STS /
 * AWS_ENDPOINT_URL for STS, AWS_EC2_METADATA_SERVICE_ENDPOINT for IMDS
 * (tests point them at loopback), AWS_EC2_METADATA_DISABLED=true skips
 * IMDS. Region and endpoint lookup is aws_region.h's.
 *
 * A provider caches what it found; temporary credentials are refreshed a
 * few minutes before they expire and after aws_credentials_invalidate().
 * All calls are thread-safe. Secrets never appear in messages. */
#ifndef SLUICE_AWS_CREDENTIALS_H
#define SLUICE_AWS_CREDENTIALS_H

#include "util/error.h"

/* A set of credentials. The strings are owned by the struct: copy with
 * aws_credentials_copy, free with aws_credentials_clear. */
typedef struct aws_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;     /* NULL for long-term keys */
    long long expiration;    /* epoch seconds; 0: does not expire */
    char source[48];         /* "environment", "web-identity", "profile:x", ... */
} aws_credentials;

/* Zeroes the secret (and the session token, a bearer credential too)
 * before freeing; leaves the struct empty. NULL and an empty struct are
 * fine, so clearing twice is harmless. */
void aws_credentials_clear(aws_credentials *c);
/* Deep copy into dst (whose old contents are not freed). */
void aws_credentials_copy(aws_credentials *dst, const aws_credentials *src);

typedef struct aws_credentials_provider aws_credentials_provider;

typedef struct aws_credentials_options {
    const char *profile;   /* NULL: $AWS_PROFILE, else "default" */
    long timeout_ms;       /* per HTTP call to STS/ECS/IMDS; 0: 2000 */
} aws_credentials_options;

aws_credentials_provider *aws_credentials_provider_new(const aws_credentials_options *opts);
/* Copies current credentials into *out (free with aws_credentials_clear).
 * Returns 0, or -1 with err saying which sources were tried and why each
 * failed (without secrets). */
int aws_credentials_get(aws_credentials_provider *p, aws_credentials *out, sl_error *err);
/* Forget cached temporary credentials (after a 403 ExpiredToken etc.). */
void aws_credentials_invalidate(aws_credentials_provider *p);
void aws_credentials_provider_free(aws_credentials_provider *p);

#endif
