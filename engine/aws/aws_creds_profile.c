/* aws_creds_profile.c — source 3 of the credential chain: a profile of the
 * shared files (aws_config_files.h: AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE,
 * AWS_CONFIG_FILE, [name] and [profile name] sections).
 *
 * The profile is the one the configuration names, else $AWS_PROFILE, else
 * "default". A profile that was named but is in neither file is an error;
 * a missing "default" lets the chain move on. Within a profile, botocore's
 * order:
 *   1. role_arn: AssumeRole (aws_creds_sts.c) signed with the credentials
 *      of source_profile (any profile, itself possibly a role, up to
 *      MAX_PROFILE_CHAIN deep; the profile itself when it names itself) or
 *      of credential_source (Environment, EcsContainer,
 *      Ec2InstanceMetadata); with web_identity_token_file instead,
 *      AssumeRoleWithWebIdentity. role_session_name, external_id and
 *      duration_seconds are honoured;
 *   2. aws_access_key_id + aws_secret_access_key (+ aws_session_token) in
 *      the credentials file;
 *   3. credential_process: run with /bin/sh -c, its stdout JSON
 *      {"Version": 1, AccessKeyId, SecretAccessKey, SessionToken,
 *      Expiration} (the last two optional), its stderr sluice's;
 *   4. the same static keys in the config file.
 * IAM Identity Center profiles (sso_*) are refused with a hint.
 *
 * The files are read anew at every resolution and wiped when freed; no
 * state is kept; a resolution runs on one thread. Messages name profiles,
 * files and settings, never a value that may be secret (nor the
 * credential_process command). */
#include "autoconfig.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "aws/aws_config_files.h"
#include "aws/aws_creds_source.h"
#include "util/alloc.h"

#define MAX_PROFILE_CHAIN 5

/* credential_process: its stdout is JSON Version 1. Run through the shell,
 * like the Go and Java SDKs do. */
static int run_credential_process(const char *profile, const char *command, aws_credentials *out,
                                  sl_error *err)
{
    char what[256], source[48];
    snprintf(what, sizeof what, "credential_process of profile \"%s\"", profile);
    snprintf(source, sizeof source, "process:%s", profile);
    fflush(NULL);
    FILE *p = popen(command, "re");
    if (!p) {
        sl_error_set(err, SL_ERR_CONFIG, "%s: cannot start: %s", what, strerror(errno));
        return -1;
    }
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        sb_add(&sb, buf, n);
    explicit_bzero(buf, sizeof buf);
    int status = pclose(p);
    int rc = -1;
    json_t *o = NULL;
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (status != -1 && WIFEXITED(status))
            sl_error_set(err, SL_ERR_CONFIG, "%s exited with status %d", what, WEXITSTATUS(status));
        else
            sl_error_set(err, SL_ERR_CONFIG, "%s did not exit normally", what);
    } else if ((o = aws_creds_util_json_object(sb.buf, sb.len, what, err)) != NULL) {
        json_t *v = json_object_get(o, "Version");
        if (!json_is_integer(v) || json_integer_value(v) != 1)
            sl_error_set(err, SL_ERR_CONFIG, "%s: the output's Version must be 1", what);
        else
            rc = aws_creds_util_from_json(o, "SessionToken", 0, source, what, out, err);
    }
    json_decref(o);
    aws_util_sb_wipe_free(&sb);
    return rc;
}

static int profile_credentials(aws_creds_ctx *ctx, const aws_config_files *fs, const char *name,
                               int depth, aws_credentials *out, sl_error *err);

static int static_keys(const aws_config_files_ini *f, const char *name, const char *akid,
                       const char *secret, const char *token, aws_credentials *out,
                       sl_error *err)
{
    if (!akid && !secret)
        return AWS_CREDS_NONE;
    if (!akid || !secret) {
        sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\" in %s has %s but no %s", name, f->path,
                     akid ? "aws_access_key_id" : "aws_secret_access_key",
                     akid ? "aws_secret_access_key" : "aws_access_key_id");
        return AWS_CREDS_FAIL;
    }
    char source[48];
    snprintf(source, sizeof source, "profile:%s", name);
    aws_creds_util_fill(out, akid, secret, token, 0, source);
    return AWS_CREDS_OK;
}

/* The profile's static keys in the credentials file. */
static int cred_file_keys(const aws_config_files *fs, const char *name, aws_credentials *out,
                          sl_error *err)
{
    return static_keys(&fs->creds, name, aws_config_files_cred_get(fs, name, "aws_access_key_id"),
                       aws_config_files_cred_get(fs, name, "aws_secret_access_key"),
                       aws_config_files_cred_get(fs, name, "aws_session_token"), out, err);
}

/* credential_source = Environment | Ec2InstanceMetadata | EcsContainer */
static int named_credential_source(aws_creds_ctx *ctx, const char *name, const char *cs,
                                   aws_credentials *out, sl_error *err)
{
    int r;
    if (strcmp(cs, "Environment") == 0)
        r = aws_creds_env_source(out, err);
    else if (strcmp(cs, "EcsContainer") == 0)
        r = aws_creds_container_source(ctx, out, err);
    else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
        r = aws_creds_imds_source(ctx, out, err);
    else {
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\": credential_source \"%s\" is not one of Environment, "
                     "Ec2InstanceMetadata, EcsContainer", name, cs);
        return AWS_CREDS_FAIL;
    }
    if (r == AWS_CREDS_NONE)
        sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\": credential_source %s is not configured",
                     name, cs);
    return r == AWS_CREDS_OK ? AWS_CREDS_OK : AWS_CREDS_FAIL;
}

static int profile_role(aws_creds_ctx *ctx, const aws_config_files *fs, const char *name,
                        int depth, const char *role_arn, aws_credentials *out, sl_error *err)
{
    const char *sp = aws_config_files_get(fs, name, "source_profile");
    const char *cs = aws_config_files_get(fs, name, "credential_source");
    const char *wif = aws_config_files_get(fs, name, "web_identity_token_file");
    const char *sn = aws_config_files_get(fs, name, "role_session_name");
    char *session = sn ? xstrdup(sn) : aws_creds_sts_session_name();
    char source[48];
    int r = AWS_CREDS_FAIL;

    if (wif && !sp && !cs) {
        snprintf(source, sizeof source, "web-identity:%s", name);
        r = aws_creds_sts_web_identity(ctx, wif, "web_identity_token_file", role_arn, session,
                                       source, out, err) == 0 ? AWS_CREDS_OK : AWS_CREDS_FAIL;
        free(session);
        return r;
    }
    aws_credentials src = {0};
    if (sp && cs)
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\" has both source_profile and credential_source", name);
    else if (!sp && !cs)
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\" has role_arn but no source_profile, credential_source or "
                     "web_identity_token_file", name);
    else if (cs)
        r = named_credential_source(ctx, name, cs, &src, err);
    else if (strcmp(sp, name) == 0) /* a role assumed with the profile's own keys */
        r = cred_file_keys(fs, name, &src, err);
    else if (!aws_config_files_profile_exists(fs, sp))
        sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\": source_profile \"%s\" not found in %s or %s",
                     name, sp, fs->creds.path, fs->config.path);
    else
        r = profile_credentials(ctx, fs, sp, depth + 1, &src, err);
    if (r == AWS_CREDS_NONE) {
        sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\": source_profile \"%s\" has no credentials",
                     name, sp);
        r = AWS_CREDS_FAIL;
    }
    if (r == AWS_CREDS_OK) {
        snprintf(source, sizeof source, "assume-role:%s", name);
        r = aws_creds_sts_assume_role(ctx, &src, role_arn, session,
                                      aws_config_files_get(fs, name, "external_id"),
                                      aws_config_files_get(fs, name, "duration_seconds"), source,
                                      out, err) == 0
                ? AWS_CREDS_OK : AWS_CREDS_FAIL;
    }
    aws_credentials_clear(&src);
    free(session);
    return r;
}

/* One profile, in botocore's order: role_arn, static keys in the
 * credentials file, credential_process, static keys in the config file. */
static int profile_credentials(aws_creds_ctx *ctx, const aws_config_files *fs, const char *name,
                               int depth, aws_credentials *out, sl_error *err)
{
    if (depth >= MAX_PROFILE_CHAIN) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\": source_profile chain longer than %d (a cycle?)", name,
                     MAX_PROFILE_CHAIN);
        return AWS_CREDS_FAIL;
    }
    const char *role_arn = aws_config_files_get(fs, name, "role_arn");
    if (role_arn)
        return profile_role(ctx, fs, name, depth, role_arn, out, err);
    int r = cred_file_keys(fs, name, out, err);
    if (r != AWS_CREDS_NONE)
        return r;
    const char *process = aws_config_files_get(fs, name, "credential_process");
    if (process)
        return run_credential_process(name, process, out, err) == 0 ? AWS_CREDS_OK
                                                                   : AWS_CREDS_FAIL;
    r = static_keys(&fs->config, name, aws_config_files_conf_get(fs, name, "aws_access_key_id"),
                    aws_config_files_conf_get(fs, name, "aws_secret_access_key"),
                    aws_config_files_conf_get(fs, name, "aws_session_token"), out, err);
    if (r != AWS_CREDS_NONE)
        return r;
    if (aws_config_files_get(fs, name, "sso_session") ||
        aws_config_files_get(fs, name, "sso_start_url")) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "profile \"%s\" uses IAM Identity Center (sso_*), which sluice does not "
                     "read; add `credential_process = aws configure export-credentials "
                     "--profile %s --format process` to a profile", name, name);
        return AWS_CREDS_FAIL;
    }
    return AWS_CREDS_NONE;
}

int aws_creds_profile_source(aws_creds_ctx *ctx, aws_credentials *out, sl_error *err,
                             strbuf *why)
{
    aws_config_files fs;
    if (aws_config_files_load(&fs, err) != 0)
        return AWS_CREDS_FAIL;
    int r;
    if (!aws_config_files_profile_exists(&fs, ctx->profile)) {
        if (ctx->profile_explicit) {
            sl_error_set(err, SL_ERR_CONFIG, "profile \"%s\" not found in %s or %s", ctx->profile,
                         fs.creds.path, fs.config.path);
            r = AWS_CREDS_FAIL;
        } else {
            sb_addf(why, "; shared files: no profile \"%s\" in %s or %s", ctx->profile,
                    fs.creds.path, fs.config.path);
            r = AWS_CREDS_NONE;
        }
    } else {
        r = profile_credentials(ctx, &fs, ctx->profile, 0, out, err);
        if (r == AWS_CREDS_NONE)
            sb_addf(why, "; shared files: profile \"%s\" holds no credentials", ctx->profile);
    }
    aws_config_files_free(&fs);
    return r;
}
