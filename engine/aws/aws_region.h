/* aws_region.h — which region a call goes to, and at which endpoint:
 * the one place the SDKs' precedence is written down (explicit setting,
 * the call's own target, the environment, the shared config file, the
 * public endpoint). Reads the environment and ~/.aws/config
 * (aws_config_files.h) on each call; keeps nothing; thread-safe. Returned
 * strings are the caller's to free. */
#ifndef SLUICE_AWS_REGION_H
#define SLUICE_AWS_REGION_H

/* `configured` when given; else `hint`, a region the call's own target
 * names (a topic ARN, a queue's host), which a request must be signed
 * for; else AWS_REGION, AWS_DEFAULT_REGION, the profile's region; else
 * us-east-1. New string. */
char *aws_region_pick(const char *configured, const char *hint, const char *profile);

/* `configured` when given; else AWS_ENDPOINT_URL_<env_suffix>,
 * AWS_ENDPOINT_URL, the profile's endpoint_url (unless
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS); else the public endpoint
 * https://<service>.<region>.amazonaws.com(.cn). Without a trailing '/'.
 * New string. */
char *aws_region_endpoint(const char *configured, const char *env_suffix, const char *service,
                          const char *region, const char *profile);

/* The region the environment configures: AWS_REGION, AWS_DEFAULT_REGION,
 * then the `region` of the profile (`profile`, else $AWS_PROFILE, else
 * "default") in the config file. A new string, or NULL when none is
 * configured (an unreadable config file counts as none). */
char *aws_region_from_env(const char *profile);

/* The endpoint the environment configures for a service, as the SDKs
 * read it: AWS_ENDPOINT_URL_<SERVICE> (env_suffix upper-cased, ' ' and
 * '-' as '_'; e.g. S3, SQS, STS) wins over AWS_ENDPOINT_URL; then the
 * profile's services section ([services x], "s3 =\n  endpoint_url = ..."),
 * then the profile's endpoint_url. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
 * ignores all of them. A new string as configured (a trailing '/' kept),
 * or NULL. */
char *aws_region_endpoint_from_env(const char *env_suffix, const char *profile);

#endif
