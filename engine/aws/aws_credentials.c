/* aws_credentials.c — the AWS credential chain: the public API
 * (aws_credentials.h), the chain's order, the provider's cache and its
 * refresh. The sources are one file each (aws_creds_*.c, sharing the
 * private aws_creds_source.h); docs/credentials.md is the user's view.
 *
 * The first source that is *configured* wins, as in the SDKs: when the
 * environment names keys, a broken environment is an error, not a reason
 * to go looking on the instance's metadata service. Only when nothing is
 * configured do we end at IMDS, and then the error lists every source.
 *
 * Ownership and threading: a provider owns its cached credentials and
 * hands out deep copies; one mutex guards the cache, and only one refresh
 * runs at a time (the others wait for it and share its answer). A refresh
 * runs the chain without the lock, with a fetch context and HTTP client
 * of its own.
 *
 * Secrets: messages are built only from variable names, file paths,
 * hosts, HTTP statuses and AWS error codes/messages. Buffers that held a
 * secret are wiped before they are freed. */
#include "autoconfig.h"
#include "aws/aws_credentials.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws_creds_source.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#define REFRESH_MARGIN_S 300       /* refresh when less than this remains */
#define FAILED_REFRESH_BACKOFF_S 10 /* keep serving still-valid keys this long */
#define DEFAULT_TIMEOUT_MS 2000L

/* ----------------------------------------------------------- credentials */

void aws_credentials_clear(aws_credentials *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    aws_util_wipe_free(c->secret_access_key);
    aws_util_wipe_free(c->session_token); /* a bearer credential too */
    memset(c, 0, sizeof *c);
}

void aws_credentials_copy(aws_credentials *dst, const aws_credentials *src)
{
    if (dst == src)
        return;
    aws_credentials tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.access_key_id = src->access_key_id ? xstrdup(src->access_key_id) : NULL;
    tmp.secret_access_key = src->secret_access_key ? xstrdup(src->secret_access_key) : NULL;
    tmp.session_token = src->session_token ? xstrdup(src->session_token) : NULL;
    tmp.expiration = src->expiration;
    memcpy(tmp.source, src->source, sizeof tmp.source);
    tmp.source[sizeof tmp.source - 1] = '\0';
    *dst = tmp;
}

/* ----------------------------------------------------------------- chain */

/* The sources in the SDKs' order (aws_credentials.h). The first that
 * answers other than AWS_CREDS_NONE decides: its credentials, or its error
 * prefixed with its label. When none is configured, the error lists why
 * each was passed over, then IMDS's failure. */
static int resolve_chain(aws_creds_ctx *ctx, aws_credentials *out, sl_error *err)
{
    strbuf why = STRBUF_INIT;
    sl_error e = {0};
    const char *label = NULL;
    int r = AWS_CREDS_NONE;

    if (ctx->profile_from_opts) {
        sb_addf(&why, "environment: skipped (profile \"%s\" named in the configuration)",
                ctx->profile);
    } else if ((r = aws_creds_env_source(out, &e)) != AWS_CREDS_NONE) {
        label = "environment";
        goto done;
    } else {
        sb_adds(&why, "environment: AWS_ACCESS_KEY_ID not set");
    }
    if ((r = aws_creds_sts_web_identity_source(ctx, out, &e)) != AWS_CREDS_NONE) {
        label = "web identity";
        goto done;
    }
    sb_adds(&why, "; web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set");
    if ((r = aws_creds_profile_source(ctx, out, &e, &why)) != AWS_CREDS_NONE) {
        label = "shared files";
        goto done;
    }
    if ((r = aws_creds_container_source(ctx, out, &e)) != AWS_CREDS_NONE) {
        label = "container endpoint";
        goto done;
    }
    sb_adds(&why, "; container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
    if ((r = aws_creds_imds_source(ctx, out, &e)) == AWS_CREDS_NONE)
        sb_adds(&why, "; EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
    if (r != AWS_CREDS_OK)
        sl_error_set(err, e.kind ? e.kind : SL_ERR_CONFIG, "no AWS credentials found (%s%s%s)",
                     sb_str(&why), r == AWS_CREDS_FAIL ? "; " : "",
                     r == AWS_CREDS_FAIL ? e.msg : "");
    sb_free(&why);
    return r == AWS_CREDS_OK ? 0 : -1;
done:
    if (r == AWS_CREDS_FAIL)
        sl_error_set(err, e.kind, "AWS credentials (%s): %s", label, e.msg);
    sb_free(&why);
    return r == AWS_CREDS_OK ? 0 : -1;
}

/* -------------------------------------------------------------- provider */

struct aws_credentials_provider {
    pthread_mutex_t mu;
    pthread_cond_t done;       /* a refresh finished */
    char *profile;             /* from the options; NULL: $AWS_PROFILE or "default" */
    long timeout_ms;
    aws_credentials cur;       /* valid when have */
    int have;
    int refreshing;            /* one refresh at a time */
    unsigned long refreshes;   /* completed refreshes */
    int last_failed;
    sl_error last_err;
    long long retry_after;     /* after a failed refresh, serve cur until then */
};

aws_credentials_provider *aws_credentials_provider_new(const aws_credentials_options *opts)
{
    aws_credentials_provider *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->done, NULL);
    if (opts && opts->profile && *opts->profile)
        p->profile = xstrdup(opts->profile);
    p->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    return p;
}

void aws_credentials_provider_free(aws_credentials_provider *p)
{
    if (!p)
        return;
    aws_credentials_clear(&p->cur);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->profile);
    free(p);
}

void aws_credentials_invalidate(aws_credentials_provider *p)
{
    pthread_mutex_lock(&p->mu);
    aws_credentials_clear(&p->cur);
    p->have = 0;
    p->retry_after = 0;
    pthread_mutex_unlock(&p->mu);
}

static int fresh(const aws_credentials *c, long long now)
{
    return c->expiration == 0 || c->expiration - now > REFRESH_MARGIN_S;
}

static int unexpired(const aws_credentials *c, long long now)
{
    return c->expiration == 0 || c->expiration > now;
}

static int fetch_credentials(const aws_credentials_provider *p, aws_credentials *out,
                             sl_error *err)
{
    aws_creds_ctx ctx = {.timeout_ms = p->timeout_ms};
    if (p->profile) {
        ctx.profile = p->profile;
        ctx.profile_explicit = ctx.profile_from_opts = 1;
    } else if (aws_util_env("AWS_PROFILE")) {
        ctx.profile = aws_util_env("AWS_PROFILE");
        ctx.profile_explicit = 1;
    } else {
        ctx.profile = "default";
    }
    int rc = resolve_chain(&ctx, out, err);
    http_client_free(ctx.http);
    return rc;
}

/* Called with the lock held; returns 1 when *out was served from cache. */
static int serve_cached(aws_credentials_provider *p, aws_credentials *out, long long now)
{
    if (!p->have)
        return 0;
    if (fresh(&p->cur, now) || (now < p->retry_after && unexpired(&p->cur, now))) {
        aws_credentials_copy(out, &p->cur);
        return 1;
    }
    return 0;
}

int aws_credentials_get(aws_credentials_provider *p, aws_credentials *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->mu);
    while (p->refreshing) {
        if (serve_cached(p, out, time(NULL))) {
            pthread_mutex_unlock(&p->mu);
            return 0;
        }
        /* someone is already asking: wait for that answer and share it */
        unsigned long seen = p->refreshes;
        while (p->refreshing && p->refreshes == seen)
            pthread_cond_wait(&p->done, &p->mu);
        if (p->have && unexpired(&p->cur, time(NULL))) {
            aws_credentials_copy(out, &p->cur);
            pthread_mutex_unlock(&p->mu);
            return 0;
        }
        if (p->last_failed) {
            sl_error_set(err, p->last_err.kind, "%s", p->last_err.msg);
            pthread_mutex_unlock(&p->mu);
            return -1;
        }
    }
    long long now = time(NULL);
    if (serve_cached(p, out, now)) {
        pthread_mutex_unlock(&p->mu);
        return 0;
    }
    p->refreshing = 1;
    pthread_mutex_unlock(&p->mu);

    aws_credentials got = {0};
    sl_error e = {0};
    int rc = fetch_credentials(p, &got, &e);

    pthread_mutex_lock(&p->mu);
    now = time(NULL);
    p->refreshing = 0;
    p->refreshes++;
    if (rc == 0) {
        aws_credentials_clear(&p->cur);
        p->cur = got; /* moved */
        p->have = 1;
        p->last_failed = 0;
        p->retry_after = 0;
        aws_credentials_copy(out, &p->cur);
    } else {
        p->last_failed = 1;
        p->last_err = e;
        if (p->have && unexpired(&p->cur, now)) {
            /* keys that still work beat an error; ask again a little later */
            p->retry_after = now + FAILED_REFRESH_BACKOFF_S;
            aws_credentials_copy(out, &p->cur);
            rc = 0;
        } else {
            sl_error_set(err, e.kind, "%s", e.msg);
        }
    }
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->mu);
    return rc;
}
