/* aws_region.c — region and endpoint precedence (aws_region.h). */
#include "autoconfig.h"
#include "aws/aws_region.h"

#include <stdlib.h>
#include <string.h>

#include "aws/aws_credentials.h"
#include "util/alloc.h"

char *aws_region_pick(const char *configured, const char *hint, const char *profile)
{
    if (configured && *configured)
        return xstrdup(configured);
    if (hint && *hint)
        return xstrdup(hint);
    char *env = aws_resolve_region(profile);
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
    char *env = aws_resolve_endpoint(env_suffix, profile);
    if (env && *env) {
        char *out = without_trailing_slash(env);
        free(env);
        return out;
    }
    free(env);
    const char *domain = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    return xasprintf("https://%s.%s.%s", service, region, domain);
}
