/* aws_region.c — region and endpoint precedence (aws_region.h): the
 * explicit setting, the call's target, the environment and the shared
 * config file, the public endpoint. */
#include "autoconfig.h"
#include "aws/aws_region.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_config_files.h"
#include "aws/aws_util.h"
#include "util/alloc.h"

char *aws_region_from_env(const char *profile)
{
    if (aws_util_env("AWS_REGION"))
        return xstrdup(aws_util_env("AWS_REGION"));
    if (aws_util_env("AWS_DEFAULT_REGION"))
        return xstrdup(aws_util_env("AWS_DEFAULT_REGION"));
    aws_config_files fs;
    sl_error e = {0};
    char *region = NULL;
    if (aws_config_files_load_config(&fs, &e) == 0) {
        const char *r = aws_config_files_conf_get(&fs, aws_config_files_profile(profile), "region");
        region = r ? xstrdup(r) : NULL;
    }
    aws_config_files_free(&fs);
    return region;
}

char *aws_region_endpoint_from_env(const char *env_suffix, const char *profile)
{
    if (aws_util_env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
        return NULL;
    char *var = xasprintf("AWS_ENDPOINT_URL_%s", env_suffix);
    for (char *c = var; *c; c++)
        *c = *c == ' ' || *c == '-' ? '_' : (char)toupper((unsigned char)*c);
    const char *v = aws_util_env(var);
    free(var);
    if (v)
        return xstrdup(v);
    if (aws_util_env("AWS_ENDPOINT_URL"))
        return xstrdup(aws_util_env("AWS_ENDPOINT_URL"));

    aws_config_files fs;
    sl_error e = {0};
    if (aws_config_files_load_config(&fs, &e) != 0) {
        aws_config_files_free(&fs);
        return NULL;
    }
    const char *name = aws_config_files_profile(profile);
    const char *found = aws_config_files_service_get(&fs, name, env_suffix, "endpoint_url");
    if (!found)
        found = aws_config_files_conf_get(&fs, name, "endpoint_url");
    char *endpoint = found ? xstrdup(found) : NULL;
    aws_config_files_free(&fs);
    return endpoint;
}

char *aws_region_pick(const char *configured, const char *hint, const char *profile)
{
    if (configured && *configured)
        return xstrdup(configured);
    if (hint && *hint)
        return xstrdup(hint);
    char *env = aws_region_from_env(profile);
    if (env && *env)
        return env;
    free(env);
    return xstrdup("us-east-1");
}

static char *without_trailing_slash(const char *url)
{
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    return xstrndup(url, len);
}

char *aws_region_endpoint(const char *configured, const char *env_suffix, const char *service,
                          const char *region, const char *profile)
{
    if (configured && *configured)
        return without_trailing_slash(configured);
    char *env = aws_region_endpoint_from_env(env_suffix, profile);
    if (env && *env) {
        char *out = without_trailing_slash(env);
        free(env);
        return out;
    }
    free(env);
    const char *domain = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    return xasprintf("https://%s.%s.%s", service, region, domain);
}
