/* aws_creds_env.c — source 1 of the credential chain: the environment.
 *
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN for
 * temporary keys; "" counts as unset. Either one set makes the source
 * configured, so one without the other is an error naming the missing
 * variable (the SDKs do not fall through to the next source then). The
 * keys never expire from the chain's point of view. Also the
 * `credential_source = Environment` of a role profile.
 *
 * Reads only the environment; thread-safe. */
#include "autoconfig.h"

#include "aws/aws_creds_source.h"

int aws_creds_env_source(aws_credentials *out, sl_error *err)
{
    const char *akid = aws_util_env("AWS_ACCESS_KEY_ID");
    const char *secret = aws_util_env("AWS_SECRET_ACCESS_KEY");
    if (!akid && !secret)
        return AWS_CREDS_NONE;
    if (!akid || !secret) {
        sl_error_set(err, SL_ERR_CONFIG, "%s is set but %s is not",
                     akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                     akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return AWS_CREDS_FAIL;
    }
    aws_creds_util_fill(out, akid, secret, aws_util_env("AWS_SESSION_TOKEN"), 0, "environment");
    return AWS_CREDS_OK;
}
