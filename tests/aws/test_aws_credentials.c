/* test_aws_credentials.c — the credential chain without a network:
 * environment, shared files, credential_process, precedence, errors
 * (which must never hold a secret), region and endpoint resolution,
 * caching, refresh before expiry and thread safety. The HTTP sources (STS,
 * ECS, IMDS) are exercised by creds_servers.sh against stand-ins. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_credentials.h"
#include "aws/aws_region.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"

extern char **environ;

static char dir[256];

/* Every secret a test hands out; none may show up in a message. */
static const char *const secrets[] = {
    "envSECRETkeyvalue",    "envSESSIONtoken",       "fileSECRETdefault", "fileSESSIONdev",
    "fileSECRETdev",        "cfgSECRETonly",         "procSECRETvalue",   "procSESSIONtoken",
    "orphanSECRETvalue",    "containerAUTHtoken",    "webIDENTITYtoken",  "lineSECRETbroken",
    "roleSECRETsource",
};

static char *path_in(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
    char *p = path_in(name);
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
    free(p);
}

static void clear_aws_env(void)
{
    for (;;) {
        char *name = NULL;
        for (char **e = environ; *e; e++)
            if (strncmp(*e, "AWS_", 4) == 0) {
                name = xstrndup(*e, strcspn(*e, "="));
                break;
            }
        if (!name)
            break;
        unsetenv(name);
        free(name);
    }
    char *home = path_in("home");
    setenv("HOME", home, 1);
    free(home);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1); /* no 169.254.169.254 in unit tests */
}

static void set_path_env(const char *var, const char *name)
{
    char *p = path_in(name);
    setenv(var, p, 1);
    free(p);
}

static void no_secret_in(const char *msg, const char *what)
{
    const char *leak = NULL;
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
        if (strstr(msg, secrets[i]))
            leak = secrets[i];
    ok(leak == NULL, "%s: no secret in the message", what);
    if (leak)
        printf("#   leaked: %s\n", leak);
}

/* One get with a fresh provider. */
static int get_once(const char *profile, aws_credentials *c, sl_error *err)
{
    aws_credentials_options o = {.profile = profile, .timeout_ms = 500};
    aws_credentials_provider *p = aws_credentials_provider_new(&o);
    sl_error_reset(err);
    int rc = aws_credentials_get(p, c, err);
    aws_credentials_provider_free(p);
    return rc;
}

static void expect_keys(const char *profile, const char *akid, const char *secret,
                        const char *token, const char *source, const char *what)
{
    aws_credentials c;
    sl_error err = {0};
    int rc = get_once(profile, &c, &err);
    is_int(rc, 0, "%s: found", what);
    if (rc != 0)
        printf("#   error: %s\n", err.msg);
    is_str(c.access_key_id, akid, "%s: access key id", what);
    is_str(c.secret_access_key, secret, "%s: secret", what);
    is_str(c.session_token, token, "%s: session token", what);
    is_str(c.source, source, "%s: source", what);
    aws_credentials_clear(&c);
}

/* Asserts a failure whose message contains `want`. */
static void expect_error(const char *profile, const char *want, const char *what)
{
    aws_credentials c;
    sl_error err = {0};
    int rc = get_once(profile, &c, &err);
    is_int(rc, -1, "%s: fails", what);
    ok(strstr(err.msg, want) != NULL, "%s: message says \"%s\"", what, want);
    if (!strstr(err.msg, want))
        printf("#   got: %s\n", err.msg);
    no_secret_in(err.msg, what);
    ok(c.access_key_id == NULL && c.secret_access_key == NULL, "%s: nothing handed out", what);
    aws_credentials_clear(&c);
}

static void test_environment(void)
{
    clear_aws_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envSECRETkeyvalue", 1);
    expect_keys(NULL, "AKIDENV", "envSECRETkeyvalue", NULL, "environment", "env keys");
    setenv("AWS_SESSION_TOKEN", "envSESSIONtoken", 1);
    expect_keys(NULL, "AKIDENV", "envSECRETkeyvalue", "envSESSIONtoken", "environment",
                "env keys with a session token");

    aws_credentials c;
    sl_error err = {0};
    get_once(NULL, &c, &err);
    is_int(c.expiration, 0, "env keys do not expire");
    aws_credentials_clear(&c);

    unsetenv("AWS_SECRET_ACCESS_KEY");
    expect_error(NULL, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
                 "key without secret");
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", "orphanSECRETvalue", 1);
    expect_error(NULL, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not",
                 "secret without key");
    setenv("AWS_SECRET_ACCESS_KEY", "", 1);
    setenv("AWS_ACCESS_KEY_ID", "", 1);
    expect_error(NULL, "no AWS credentials found", "empty variables count as unset");
}

static const char CREDENTIALS[] =
    "# a comment\n"
    "; another comment\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "  aws_secret_access_key=fileSECRETdefault   \n"
    "\n"
    "[dev]\r\n"
    "AWS_ACCESS_KEY_ID = AKIDDEV\r\n"
    "aws_secret_access_key = fileSECRETdev\r\n"
    "aws_session_token = fileSESSIONdev\r\n"
    "[half]\n"
    "aws_access_key_id = AKIDHALF\n"
    "[profile notacredsprofile]\n"
    "aws_access_key_id = AKIDWRONG\n"
    "aws_secret_access_key = fileSECRETdev\n";

static const char CONFIG[] =
    "[default]\n"
    "region = eu-west-1\n"
    "[profile cfgonly]\n"
    "aws_access_key_id = AKIDCFG\n"
    "aws_secret_access_key = cfgSECRETonly\n"
    "region = ap-south-1\n"
    "endpoint_url = http://profile.example:9000\n"
    "services = local\n"
    "[cfgnoprefix]\n"
    "aws_access_key_id = AKIDNOPREFIX\n"
    "aws_secret_access_key = cfgSECRETonly\n"
    "[profile empty]\n"
    "# nothing here\n"
    "[services local]\n"
    "s3 =\n"
    "  endpoint_url = http://s3.local:9000\n"
    "sqs =\n"
    "  endpoint_url = http://sqs.local:9324\n";

static void write_aws_files(void)
{
    char *d = path_in("home/.aws");
    mkdir(d, 0700);
    free(d);
    write_file("home/.aws/credentials", CREDENTIALS);
    write_file("home/.aws/config", CONFIG);
}

static void test_shared_files(void)
{
    clear_aws_env();
    write_aws_files();
    expect_keys(NULL, "AKIDDEFAULT", "fileSECRETdefault", NULL, "profile:default",
                "[default] in ~/.aws/credentials");
    setenv("AWS_PROFILE", "dev", 1);
    expect_keys(NULL, "AKIDDEV", "fileSECRETdev", "fileSESSIONdev", "profile:dev",
                "AWS_PROFILE=dev, CRLF lines, upper-case key names");
    expect_keys("cfgonly", "AKIDCFG", "cfgSECRETonly", NULL, "profile:cfgonly",
                "the option wins over AWS_PROFILE; keys from [profile x] in config");
    unsetenv("AWS_PROFILE");

    char *cp = path_in("home/.aws/credentials"), *fp = path_in("home/.aws/config");
    char *want = xasprintf("profile \"missing\" not found in %s or %s", cp, fp);
    setenv("AWS_PROFILE", "missing", 1);
    expect_error(NULL, want, "AWS_PROFILE naming a missing profile");
    free(want);
    want = xasprintf("profile \"cfgnoprefix\" not found in %s or %s", cp, fp);
    expect_error("cfgnoprefix", want, "a config section without `profile ` is no profile");
    free(want);
    want = xstrdup("profile \"notacredsprofile\" not found");
    expect_error("notacredsprofile", want,
                 "[profile x] in the credentials file is not profile x");
    free(want);
    want = xasprintf("profile \"half\" in %s has aws_access_key_id but no aws_secret_access_key",
                     cp);
    expect_error("half", want, "a key without its secret in a profile");
    free(want);
    unsetenv("AWS_PROFILE");
    expect_error("empty", "shared files: profile \"empty\" holds no credentials",
                 "an empty profile falls through to the next source");
    free(cp);
    free(fp);

    /* other file locations, with ~ expanded */
    write_file("home/other-creds", "[default]\naws_access_key_id=AKIDOTHER\n"
                                   "aws_secret_access_key=fileSECRETdefault\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/other-creds", 1);
    expect_keys(NULL, "AKIDOTHER", "fileSECRETdefault", NULL, "profile:default",
                "AWS_SHARED_CREDENTIALS_FILE with ~/");
    write_file("home/other-config", "[profile default]\naws_access_key_id=AKIDPD\n"
                                    "aws_secret_access_key=cfgSECRETonly\n");
    set_path_env("AWS_SHARED_CREDENTIALS_FILE", "nonexistent");
    set_path_env("AWS_CONFIG_FILE", "home/other-config");
    expect_keys(NULL, "AKIDPD", "cfgSECRETonly", NULL, "profile:default",
                "AWS_CONFIG_FILE with [profile default]");

    write_file("home/broken", "[default]\naws_access_key_id = AKID\nlineSECRETbroken\n");
    set_path_env("AWS_SHARED_CREDENTIALS_FILE", "home/broken");
    char *bp = path_in("home/broken");
    want = xasprintf("%s:3: expected `key = value`", bp);
    expect_error(NULL, want, "a malformed line: file and line, not its text");
    free(want);
    write_file("home/broken", "aws_access_key_id = AKID\n");
    want = xasprintf("%s:1: a setting before any [section]", bp);
    expect_error(NULL, want, "a setting outside a section");
    free(want);
    write_file("home/broken", "[default\n");
    want = xasprintf("%s:1: unterminated [section] header", bp);
    expect_error(NULL, want, "an unterminated header");
    free(want);
    free(bp);
}

static void test_no_credentials(void)
{
    clear_aws_env();
    set_path_env("AWS_SHARED_CREDENTIALS_FILE", "none/credentials");
    set_path_env("AWS_CONFIG_FILE", "none/config");
    aws_credentials c;
    sl_error err = {0};
    int rc = get_once(NULL, &c, &err);
    char *want = xasprintf(
        "no AWS credentials found (environment: AWS_ACCESS_KEY_ID not set; web identity: "
        "AWS_WEB_IDENTITY_TOKEN_FILE not set; shared files: no profile \"default\" in "
        "%s/none/credentials or %s/none/config; container: "
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set; EC2 instance metadata: "
        "disabled by AWS_EC2_METADATA_DISABLED)", dir, dir);
    is_int(rc, -1, "nothing configured: fails");
    is_str(err.msg, want, "nothing configured: every source and why");
    is_int(err.kind, SL_ERR_CONFIG, "nothing configured: a configuration error");
    free(want);
}

static void test_precedence(void)
{
    clear_aws_env();
    write_aws_files();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envSECRETkeyvalue", 1);
    expect_keys(NULL, "AKIDENV", "envSECRETkeyvalue", NULL, "environment",
                "environment before shared files");
    setenv("AWS_PROFILE", "dev", 1);
    expect_keys(NULL, "AKIDENV", "envSECRETkeyvalue", NULL, "environment",
                "environment before shared files even with AWS_PROFILE");
    unsetenv("AWS_PROFILE");
    expect_keys("dev", "AKIDDEV", "fileSECRETdev", "fileSESSIONdev", "profile:dev",
                "a profile named in the options skips the environment (as botocore)");
    unsetenv("AWS_ACCESS_KEY_ID");

    /* a configured but broken source is an error, not a fall-through */
    expect_error(NULL, "AWS credentials (environment): AWS_SECRET_ACCESS_KEY is set but",
                 "a broken environment stops the chain");
    unsetenv("AWS_SECRET_ACCESS_KEY");

    write_file("token", "webIDENTITYtoken\n");
    set_path_env("AWS_WEB_IDENTITY_TOKEN_FILE", "token");
    expect_error(NULL, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not",
                 "web identity without a role");
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/test", 1);
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1", 1);
    expect_error(NULL, "AWS credentials (web identity): STS AssumeRoleWithWebIdentity at "
                       "http://127.0.0.1:1:",
                 "web identity before shared files (STS unreachable)");
    set_path_env("AWS_WEB_IDENTITY_TOKEN_FILE", "no-such-token");
    char *want = xasprintf("cannot read %s/no-such-token (AWS_WEB_IDENTITY_TOKEN_FILE)", dir);
    expect_error(NULL, want, "unreadable web identity token file");
    free(want);
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    unsetenv("AWS_ROLE_ARN");

    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
    expect_keys(NULL, "AKIDDEFAULT", "fileSECRETdefault", NULL, "profile:default",
                "shared files before the container endpoint");
    set_path_env("AWS_SHARED_CREDENTIALS_FILE", "none/credentials");
    set_path_env("AWS_CONFIG_FILE", "none/config");
    unsetenv("AWS_EC2_METADATA_DISABLED");
    expect_error(NULL,
                 "AWS credentials (container endpoint): AWS_CONTAINER_CREDENTIALS_FULL_URI host "
                 "\"example.com\" is not allowed: it must be a loopback address, localhost, "
                 "169.254.170.2, 169.254.170.23 or fd00:ec2::23",
                 "container before IMDS; a foreign host refused");
}

static void test_container_config(void)
{
    clear_aws_env();
    set_path_env("AWS_SHARED_CREDENTIALS_FILE", "none/credentials");
    set_path_env("AWS_CONFIG_FILE", "none/config");
    static const char *const refused[] = {
        "http://169.254.170.23.evil.example/creds", "http://128.0.0.1/creds",
        "http://[fd00:ec2::24]/creds", "http://10.0.0.1:8080/", "http://user@evil.example/"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused[i], 1);
        expect_error(NULL, "is not allowed", refused[i]);
    }
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/creds", 1);
    expect_error(NULL, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL", "ftp refused");
    /* allowed hosts get as far as connecting: port 1 refuses */
    static const char *const allowed[] = {"http://127.0.0.1:1/creds", "http://127.9.8.7:1/v1",
                                          "http://[::1]:1/creds", "http://localhost:1/creds",
                                          "http://LOCALHOST:1/creds"};
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed[i], 1);
        expect_error(NULL, "AWS credentials (container endpoint): container credentials endpoint",
                     allowed[i]);
    }
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds?x=1", 1);
    expect_error(NULL, "endpoint http://127.0.0.1:1/creds (AWS_CONTAINER_CREDENTIALS_FULL_URI): ",
                 "the URL in the message has no query");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "containerAUTHtoken\r\nX-Evil: 1", 1);
    expect_error(NULL, "the container authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN) "
                       "holds a line break", "header injection refused");
    set_path_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "no-such-file");
    char *want = xasprintf("cannot read %s/no-such-file (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)",
                           dir);
    expect_error(NULL, want, "the token file wins over the variable; unreadable");
    free(want);
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    /* the relative URI goes to 169.254.170.2; the path is not repeated */
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/secret-task-guid", 1);
    aws_credentials c;
    sl_error err = {0};
    int rc = get_once(NULL, &c, &err);
    is_int(rc, -1, "relative URI: fails here (no agent)");
    ok(strstr(err.msg, "container credentials endpoint http://169.254.170.2 "
                       "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI): ") != NULL,
       "relative URI: the message names host and variable");
    ok(strstr(err.msg, "secret-task-guid") == NULL, "relative URI: the path is not repeated");
    if (rc == 0 || !strstr(err.msg, "169.254.170.2"))
        printf("#   got: %s\n", err.msg);
    aws_credentials_clear(&c);
}

/* ------------------------------------------------- credential_process */

static void iso_in(long long delta, char *out, size_t cap)
{
    time_t t = time(NULL) + (time_t)delta;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int count_runs(void)
{
    char *p = path_in("proc-count");
    FILE *f = fopen(p, "r");
    free(p);
    int n = 0;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        fclose(f);
    }
    return n;
}

/* A credential_process that counts its runs; `expiration` is put in the
 * output as is ("" leaves it out); after `fail_from` runs it fails. With a
 * `gate` (a path), each run waits, after counting itself, until the gate
 * exists (at most 120 s): the test holds a refresh in flight for as long
 * as it needs, instead of hoping a sleep is long enough. */
static void make_process(const char *expiration, const char *gate, int fail_from, int version)
{
    char *count = path_in("proc-count");
    unlink(count);
    char *wait_gate =
        gate ? xasprintf("i=0; while [ ! -e '%s' ] && [ $i -lt 12000 ]; do sleep 0.01; i=$((i+1)); "
                         "done\n",
                         gate)
             : xstrdup("");
    char *script = xasprintf(
        "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
        "%s"
        "if [ %d -gt 0 ] && [ $n -ge %d ]; then exit 3; fi\n"
        "printf '{\"Version\": %d, \"AccessKeyId\": \"AKIDPROC%%s\", "
        "\"SecretAccessKey\": \"procSECRETvalue\", \"SessionToken\": \"procSESSIONtoken\"%s%s%s}' $n\n",
        count, count, wait_gate, fail_from, fail_from, version,
        *expiration ? ", \"Expiration\": \"" : "", expiration, *expiration ? "\"" : "");
    free(wait_gate);
    write_file("proc.sh", script);
    char *sp = path_in("proc.sh");
    char *cfg = xasprintf("[profile proc]\ncredential_process = sh '%s'\n", sp);
    write_file("home/proc-config", cfg);
    set_path_env("AWS_CONFIG_FILE", "home/proc-config");
    free(cfg);
    free(sp);
    free(script);
    free(count);
}

static void test_credential_process(void)
{
    clear_aws_env();
    set_path_env("AWS_SHARED_CREDENTIALS_FILE", "none/credentials");
    setenv("AWS_PROFILE", "proc", 1);

    make_process("2030-01-01T01:00:00.123+01:00", NULL, 0, 1);
    aws_credentials c;
    sl_error err = {0};
    int rc = get_once(NULL, &c, &err);
    is_int(rc, 0, "credential_process: found");
    is_str(c.access_key_id, "AKIDPROC1", "credential_process: key id");
    is_str(c.secret_access_key, "procSECRETvalue", "credential_process: secret");
    is_str(c.session_token, "procSESSIONtoken", "credential_process: token");
    is_int(c.expiration, 1893456000LL, "credential_process: ISO 8601 with offset and fraction");
    is_str(c.source, "process:proc", "credential_process: source");
    aws_credentials_clear(&c);

    make_process("", NULL, 0, 1);
    get_once(NULL, &c, &err);
    is_int(c.expiration, 0, "no Expiration: does not expire");
    aws_credentials_clear(&c);

    make_process("", NULL, 1, 1);
    expect_error(NULL, "AWS credentials (shared files): credential_process of profile \"proc\" "
                       "exited with status 3", "a failing process");
    make_process("", NULL, 0, 2);
    expect_error(NULL, "credential_process of profile \"proc\": the output's Version must be 1",
                 "Version 2 refused");
    make_process("tomorrow", NULL, 0, 1);
    expect_error(NULL, "unreadable Expiration \"tomorrow\"", "a bad Expiration");
    unsetenv("AWS_PROFILE");
}

static void test_caching_and_refresh(void)
{
    clear_aws_env();
    set_path_env("AWS_SHARED_CREDENTIALS_FILE", "none/credentials");
    setenv("AWS_PROFILE", "proc", 1);
    char exp[32];
    aws_credentials c;
    sl_error err = {0};

    iso_in(3600, exp, sizeof exp);
    make_process(exp, NULL, 0, 1);
    aws_credentials_provider *p = aws_credentials_provider_new(NULL);
    for (int i = 0; i < 3; i++) {
        aws_credentials_get(p, &c, &err);
        aws_credentials_clear(&c);
    }
    is_int(count_runs(), 1, "an hour left: fetched once for three gets");
    aws_credentials_invalidate(p);
    aws_credentials_get(p, &c, &err);
    is_int(count_runs(), 2, "invalidate: fetched again");
    is_str(c.access_key_id, "AKIDPROC2", "invalidate: the new keys");
    aws_credentials_clear(&c);
    aws_credentials_provider_free(p);

    iso_in(240, exp, sizeof exp); /* within the 5-minute margin */
    make_process(exp, NULL, 0, 1);
    p = aws_credentials_provider_new(NULL);
    for (int i = 0; i < 3; i++) {
        aws_credentials_get(p, &c, &err);
        aws_credentials_clear(&c);
    }
    is_int(count_runs(), 3, "4 minutes left: refreshed at every get");
    aws_credentials_provider_free(p);

    iso_in(400, exp, sizeof exp); /* just outside the margin */
    make_process(exp, NULL, 0, 1);
    p = aws_credentials_provider_new(NULL);
    for (int i = 0; i < 3; i++) {
        aws_credentials_get(p, &c, &err);
        aws_credentials_clear(&c);
    }
    is_int(count_runs(), 1, "6 minutes left: cached");
    aws_credentials_provider_free(p);

    /* a failed refresh while the old keys still work: keep serving them */
    iso_in(200, exp, sizeof exp);
    make_process(exp, NULL, 2, 1);
    p = aws_credentials_provider_new(NULL);
    aws_credentials_get(p, &c, &err);
    aws_credentials_clear(&c);
    sl_error_reset(&err);
    int rc = aws_credentials_get(p, &c, &err);
    is_int(rc, 0, "failed refresh, keys still valid: served");
    is_str(c.access_key_id, "AKIDPROC1", "failed refresh: the old keys");
    is_int(count_runs(), 2, "failed refresh: it was tried");
    aws_credentials_clear(&c);
    aws_credentials_get(p, &c, &err);
    aws_credentials_clear(&c);
    is_int(count_runs(), 2, "failed refresh: not retried at once (back-off)");
    aws_credentials_invalidate(p);
    rc = aws_credentials_get(p, &c, &err);
    is_int(rc, -1, "failed refresh after invalidate: an error");
    ok(strstr(err.msg, "exited with status 3") != NULL, "failed refresh: the reason");
    no_secret_in(err.msg, "failed refresh");
    aws_credentials_provider_free(p);
    unsetenv("AWS_PROFILE");
}

/* ------------------------------------------------------------- threads */

/* What the code guarantees, and nothing about how often threads got to run:
 * every get returns the right keys; concurrent gets share one refresh; a
 * refresh happens only after an invalidation (at most one per
 * invalidation). The interleaving the checks need is built in: a refresh
 * held in flight by a FIFO while the other threads ask, and rounds between
 * barriers with a fixed number of gets per thread. */

#define GETTERS 8
#define GETS_PER_ROUND 4

static int now_ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* The number in "AKIDPROC<n>": which run of the process made the keys. */
static int proc_run_of(const aws_credentials *c)
{
    if (!c->access_key_id || strncmp(c->access_key_id, "AKIDPROC", 8) != 0 ||
        !c->secret_access_key || strcmp(c->secret_access_key, "procSECRETvalue") != 0)
        return -1;
    return atoi(c->access_key_id + 8);
}

typedef struct first_get {
    aws_credentials_provider *p;
    atomic_int *asking;
    int rc, run;
} first_get;

static void *first_getter(void *ud)
{
    first_get *g = ud;
    aws_credentials c;
    sl_error err = {0};
    atomic_fetch_add(g->asking, 1);
    g->rc = aws_credentials_get(g->p, &c, &err);
    g->run = proc_run_of(&c);
    aws_credentials_clear(&c);
    return NULL;
}

/* 8 threads ask while the first refresh is held in flight: one refresh for
 * all of them. */
static void test_threads_share_a_refresh(void)
{
    char exp[32], *gate = path_in("gate");
    iso_in(3600, exp, sizeof exp);
    unlink(gate);
    make_process(exp, gate, 0, 1);
    aws_credentials_provider *p = aws_credentials_provider_new(NULL);
    atomic_int asking = 0;
    pthread_t t[GETTERS];
    first_get g[GETTERS];
    for (int i = 0; i < GETTERS; i++)
        g[i] = (first_get){.p = p, .asking = &asking, .rc = -2};

    /* The first get starts the process, which counts itself, then waits for
     * the gate: from then on the refresh is in flight. */
    pthread_create(&t[0], NULL, first_getter, &g[0]);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (count_runs() < 1 && now_ms_since(&t0) < 60000)
        usleep(1000);
    is_int(count_runs(), 1, "the first get's refresh is in flight (its process waits)");
    for (int i = 1; i < GETTERS; i++)
        pthread_create(&t[i], NULL, first_getter, &g[i]);
    while (atomic_load(&asking) < GETTERS && now_ms_since(&t0) < 60000)
        usleep(1000);
    is_int(count_runs(), 1, "7 more threads ask while it is in flight: no second process");
    write_file("gate", ""); /* let the process answer */
    int served = 0, shared = 0;
    for (int i = 0; i < GETTERS; i++) {
        pthread_join(t[i], NULL);
        served += g[i].rc == 0;
        shared += g[i].run == 1;
    }
    is_int(served, GETTERS, "8 concurrent first gets: all served");
    is_int(shared, GETTERS, "8 concurrent first gets: all got the keys of the one refresh");
    is_int(count_runs(), 1, "8 concurrent first gets: one refresh shared by all");
    aws_credentials_provider_free(p);
    unlink(gate);
    free(gate);
}

typedef struct round_getter {
    aws_credentials_provider *p;
    pthread_barrier_t *barrier;
    int rounds;
    int invalidate_first; /* phase A: the invalidation happens between barriers */
    int gets, failed, wrong, backwards, last_run;
    int exact_round;      /* phase A: keys must be those of run `round + 1` */
} round_getter;

static void *round_getter_main(void *ud)
{
    round_getter *w = ud;
    for (int r = 0; r < w->rounds; r++) {
        if (w->invalidate_first)
            pthread_barrier_wait(w->barrier); /* main invalidates in between */
        pthread_barrier_wait(w->barrier);
        for (int i = 0; i < GETS_PER_ROUND; i++) {
            aws_credentials c;
            sl_error err = {0};
            w->gets++;
            if (aws_credentials_get(w->p, &c, &err) != 0) {
                w->failed++;
                continue;
            }
            int run = proc_run_of(&c);
            aws_credentials_clear(&c);
            if (run < 1 || (w->exact_round && run != r + 1))
                w->wrong++;
            if (run < w->last_run)
                w->backwards++;
            if (run > w->last_run)
                w->last_run = run;
        }
        pthread_barrier_wait(w->barrier);
    }
    return NULL;
}

static void run_rounds(aws_credentials_provider *p, int rounds, int exact, round_getter *w,
                       int *runs_after_round)
{
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, GETTERS + 1);
    pthread_t t[GETTERS];
    for (int i = 0; i < GETTERS; i++) {
        w[i] = (round_getter){.p = p, .barrier = &barrier, .rounds = rounds,
                              .invalidate_first = exact, .exact_round = exact};
        pthread_create(&t[i], NULL, round_getter_main, &w[i]);
    }
    for (int r = 0; r < rounds; r++) {
        if (exact) {
            /* every get of the last round has returned: nothing in flight */
            pthread_barrier_wait(&barrier);
            aws_credentials_invalidate(p);
            pthread_barrier_wait(&barrier);
        } else {
            /* invalidate while the 8 threads make their gets */
            pthread_barrier_wait(&barrier);
            aws_credentials_invalidate(p);
        }
        pthread_barrier_wait(&barrier);
        if (runs_after_round)
            runs_after_round[r] = count_runs();
    }
    for (int i = 0; i < GETTERS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
}

static void test_threads_and_invalidations(void)
{
    char exp[32];
    iso_in(3600, exp, sizeof exp);
    round_getter w[GETTERS];
    enum { ROUNDS_A = 20, ROUNDS_B = 50 };

    /* A: invalidate, then 8 threads x 4 gets: exactly one refresh per round,
     * whose keys every get of the round returns. */
    make_process(exp, NULL, 0, 1);
    aws_credentials_provider *p = aws_credentials_provider_new(NULL);
    int runs_after[ROUNDS_A];
    run_rounds(p, ROUNDS_A, 1, w, runs_after);
    int gets = 0, bad = 0, steps_ok = 1;
    for (int i = 0; i < GETTERS; i++) {
        gets += w[i].gets;
        bad += w[i].failed + w[i].wrong;
    }
    for (int r = 0; r < ROUNDS_A; r++)
        steps_ok &= runs_after[r] == r + 1;
    is_int(gets, GETTERS * GETS_PER_ROUND * ROUNDS_A,
           "invalidate, then 8 threads x 4 gets, 20 rounds: every get made");
    is_int(bad, 0, "every get returned the keys of its round's refresh");
    ok(steps_ok, "each invalidation followed by gets caused exactly one refresh, shared by all");
    aws_credentials_provider_free(p);

    /* B: invalidations while the 8 threads ask: every get is served with
     * good keys, never older than keys the thread already had, and there
     * is at most one refresh per invalidation (plus the first). */
    make_process(exp, NULL, 0, 1);
    p = aws_credentials_provider_new(NULL);
    run_rounds(p, ROUNDS_B, 0, w, NULL);
    int failed = 0, wrong = 0, backwards = 0;
    gets = 0;
    for (int i = 0; i < GETTERS; i++) {
        gets += w[i].gets;
        failed += w[i].failed;
        wrong += w[i].wrong;
        backwards += w[i].backwards;
    }
    is_int(gets, GETTERS * GETS_PER_ROUND * ROUNDS_B,
           "8 threads x 4 gets in each of 50 rounds with an invalidation: every get made");
    is_int(failed, 0, "every get during invalidations served");
    is_int(wrong, 0, "every get during invalidations returned good keys");
    is_int(backwards, 0, "no thread got older keys after newer ones");
    int runs = count_runs();
    ok(runs >= 1 && runs <= ROUNDS_B + 1,
       "at most one refresh per invalidation, plus the first (%d for 50)", runs);
    aws_credentials_provider_free(p);
}

static void test_threads(void)
{
    clear_aws_env();
    set_path_env("AWS_SHARED_CREDENTIALS_FILE", "none/credentials");
    setenv("AWS_PROFILE", "proc", 1);
    test_threads_share_a_refresh();
    test_threads_and_invalidations();
    unsetenv("AWS_PROFILE");
}

/* ------------------------------------------------------ role profiles */

static void test_role_profiles(void)
{
    clear_aws_env();
    set_path_env("AWS_SHARED_CREDENTIALS_FILE", "none/credentials");
    write_file("home/role-config",
               "[profile norole]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "[profile nosrc]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "source_profile = ghost\n"
               "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n"
               "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n"
               "[profile both]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "source_profile = a\ncredential_source = Environment\n"
               "[profile badsource]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "credential_source = Moon\n"
               "[profile emptysrc]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "source_profile = blank\n"
               "[profile blank]\nregion = us-east-1\n"
               "[profile sso]\nsso_session = corp\nsso_account_id = 1\n");
    set_path_env("AWS_CONFIG_FILE", "home/role-config");
    expect_error("norole", "profile \"norole\" has role_arn but no source_profile, "
                           "credential_source or web_identity_token_file", "role without source");
    expect_error("nosrc", "profile \"nosrc\": source_profile \"ghost\" not found in",
                 "source_profile missing");
    expect_error("a", "source_profile chain longer than 5 (a cycle?)", "a cycle");
    expect_error("both", "has both source_profile and credential_source", "both sources");
    expect_error("badsource", "credential_source \"Moon\" is not one of Environment, "
                              "Ec2InstanceMetadata, EcsContainer", "an unknown credential_source");
    expect_error("emptysrc", "source_profile \"blank\" has no credentials",
                 "a source profile without keys");
    expect_error("sso", "profile \"sso\" uses IAM Identity Center", "SSO explained");
}

/* --------------------------------------------- region and endpoints */

static void test_region(void)
{
    clear_aws_env();
    write_aws_files();
    char *r = aws_region_from_env(NULL);
    is_str(r, "eu-west-1", "region: the default profile's");
    free(r);
    r = aws_region_from_env("cfgonly");
    is_str(r, "ap-south-1", "region: a named profile's");
    free(r);
    setenv("AWS_PROFILE", "cfgonly", 1);
    r = aws_region_from_env(NULL);
    is_str(r, "ap-south-1", "region: AWS_PROFILE's");
    free(r);
    r = aws_region_from_env("dev");
    is_str(r, NULL, "region: none for a profile without one");
    free(r);
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    r = aws_region_from_env(NULL);
    is_str(r, "us-west-2", "region: AWS_DEFAULT_REGION before the profile");
    free(r);
    setenv("AWS_REGION", "eu-central-1", 1);
    r = aws_region_from_env(NULL);
    is_str(r, "eu-central-1", "region: AWS_REGION first");
    free(r);
    clear_aws_env();
    set_path_env("AWS_CONFIG_FILE", "none/config");
    r = aws_region_from_env(NULL);
    is_str(r, NULL, "region: nothing anywhere");
    free(r);
}

static void test_endpoint(void)
{
    clear_aws_env();
    write_aws_files();
    char *e = aws_region_endpoint_from_env("S3", NULL);
    is_str(e, NULL, "endpoint: none configured");
    free(e);
    e = aws_region_endpoint_from_env("S3", "cfgonly");
    is_str(e, "http://s3.local:9000", "endpoint: the profile's services section");
    free(e);
    e = aws_region_endpoint_from_env("SQS", "cfgonly");
    is_str(e, "http://sqs.local:9324", "endpoint: services section, another service");
    free(e);
    e = aws_region_endpoint_from_env("STS", "cfgonly");
    is_str(e, "http://profile.example:9000", "endpoint: the profile's endpoint_url");
    free(e);
    setenv("AWS_ENDPOINT_URL", "http://all.example", 1);
    e = aws_region_endpoint_from_env("S3", "cfgonly");
    is_str(e, "http://all.example", "endpoint: AWS_ENDPOINT_URL before the profile");
    free(e);
    setenv("AWS_ENDPOINT_URL_S3", "http://s3.example", 1);
    e = aws_region_endpoint_from_env("S3", "cfgonly");
    is_str(e, "http://s3.example", "endpoint: AWS_ENDPOINT_URL_S3 first");
    free(e);
    e = aws_region_endpoint_from_env("SQS", NULL);
    is_str(e, "http://all.example", "endpoint: another service takes AWS_ENDPOINT_URL");
    free(e);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    e = aws_region_endpoint_from_env("S3", "cfgonly");
    is_str(e, NULL, "endpoint: AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true");
    free(e);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/sluice-creds.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char *home = path_in("home");
    mkdir(home, 0700);
    free(home);

    test_environment();
    test_shared_files();
    test_no_credentials();
    test_precedence();
    test_container_config();
    test_credential_process();
    test_caching_and_refresh();
    test_threads();
    test_role_profiles();
    test_region();
    test_endpoint();

    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag_note("could not remove the temporary directory");
    free(cmd);
    return done_testing();
}
