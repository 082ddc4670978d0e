/* notifier.c — delivering job-state events to notification targets
 * (notifier.h): the rule's targets, retries with backoff, the log of what
 * could not be delivered, and the AWS credential providers the targets
 * share. */
#include "autoconfig.h"
#include "notify/notifier.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws_credentials.h"
#include "aws/retry.h"
#include "notify/notify_backend.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strbuf.h"

#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS 4000
#define DELIVERY_BUDGET_MS 60000

/* --- credential providers ------------------------------------------------ */

static int max_attempts(const notify_target *t)
{
    return t->max_attempts < 1 ? 1 : t->max_attempts;
}

typedef struct provider_slot {
    char *profile; /* NULL: the default chain */
    aws_credentials_provider *provider;
} provider_slot;

struct notifier {
    const config *cfg;
    pthread_mutex_t lock; /* guards providers */
    provider_slot *providers;
    size_t n_providers;
};

notifier *notifier_new(const config *cfg)
{
    notifier *nf = xcalloc(1, sizeof *nf);
    nf->cfg = cfg;
    pthread_mutex_init(&nf->lock, NULL);
    return nf;
}

void notifier_free(notifier *nf)
{
    if (!nf)
        return;
    for (size_t i = 0; i < nf->n_providers; i++) {
        aws_credentials_provider_free(nf->providers[i].provider);
        free(nf->providers[i].profile);
    }
    free(nf->providers);
    pthread_mutex_destroy(&nf->lock);
    free(nf);
}

static int same_profile(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static aws_credentials_provider *provider_for(notifier *nf, const char *profile)
{
    pthread_mutex_lock(&nf->lock);
    aws_credentials_provider *p = NULL;
    for (size_t i = 0; i < nf->n_providers && !p; i++)
        if (same_profile(nf->providers[i].profile, profile))
            p = nf->providers[i].provider;
    if (!p) {
        aws_credentials_options opts = {.profile = profile};
        p = aws_credentials_provider_new(&opts);
        if (p) {
            nf->providers = xrealloc(nf->providers, (nf->n_providers + 1) * sizeof *nf->providers);
            nf->providers[nf->n_providers].profile = profile ? xstrdup(profile) : NULL;
            nf->providers[nf->n_providers++].provider = p;
        }
    }
    pthread_mutex_unlock(&nf->lock);
    return p;
}

int notifier_credentials(notifier *nf, const char *profile, aws_credentials *out, sl_error *err)
{
    aws_credentials_provider *p = provider_for(nf, profile);
    if (!p) {
        sl_error_set(err, SL_ERR_INTERNAL, "cannot create an AWS credential provider");
        return -1;
    }
    return aws_credentials_get(p, out, err);
}

void notifier_invalidate_credentials(notifier *nf, const char *profile)
{
    aws_credentials_provider *p = provider_for(nf, profile);
    if (p)
        aws_credentials_invalidate(p);
}

/* --- delivery ----------------------------------------------------------- */

static const notify_backend *backend_for(const char *type)
{
    static const notify_backend *const backends[] = {
        &notify_sns_backend, &notify_eventbridge_backend, &notify_webhook_backend,
    };
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
        if (!strcmp(backends[i]->type, type))
            return backends[i];
    return NULL;
}

/* One delivery, retried with exponential backoff and full jitter. */
static notify_status deliver(notifier *nf, const notify_backend *b, notify_delivery *d,
                             const log_ctx *ctx, int *attempts)
{
    const notify_target *t = d->target;
    retry_policy policy = {.max_attempts = max_attempts(t), .base_ms = BACKOFF_BASE_MS,
                           .cap_ms = BACKOFF_CAP_MS, .max_total_ms = DELIVERY_BUDGET_MS};
    retry_state st;
    retry_start(&st, &policy);
    int refreshed = 0;
    for (;;) {
        ++*attempts;
        d->id[0] = d->error[0] = '\0';
        notify_status s = b->send(d);
        if (s == NOTIFY_SENT || s == NOTIFY_FAILED)
            return s;
        if (s == NOTIFY_REFRESH && !refreshed) {
            refreshed = 1;
            notifier_invalidate_credentials(nf, t->profile);
            continue;
        }
        long wait = retry_next_delay(&st);
        if (wait < 0)
            return s;
        log_msg(ctx, SL_LOG_WARN,
                "notification to \"%s\" (%s): attempt %d failed: %s; retrying in %ld ms", t->name,
                t->type, *attempts, d->error, wait);
        clock_sleep_ms(wait, NULL);
    }
}

static void log_undelivered(const notify_target *t, json_t *event, const log_ctx *ctx,
                            int attempts, const char *why)
{
    json_t *f = json_pack("{s:s, s:s, s:i, s:s, s:O}", "target", t->name, "target_type",
                          t->type, "attempts", attempts, "error", why, "event", event);
    log_fields(ctx, SL_LOG_ERROR, f,
               "notification to \"%s\" (%s) could not be delivered after %d attempt%s: %s; "
               "the event is attached",
               t->name, t->type, attempts, attempts == 1 ? "" : "s", why);
    json_decref(f);
}

int notifier_send(notifier *nf, const notify_target *t, json_t *event, const log_ctx *ctx,
                  char *id, size_t idlen, char *why, size_t whylen)
{
    if (id && idlen)
        id[0] = '\0';
    if (why && whylen)
        why[0] = '\0';
    if (!strcmp(t->type, "log")) {
        json_t *f = json_pack("{s:s, s:O}", "target", t->name, "event", event);
        log_fields(ctx, SL_LOG_INFO, f, "notification");
        json_decref(f);
        if (id && idlen)
            snprintf(id, idlen, "log");
        return 0;
    }
    const notify_backend *b = backend_for(t->type);
    notify_delivery d = {.nf = nf, .target = t, .event = event};
    int attempts = 0;
    notify_status s = NOTIFY_FAILED;
    if (!b) {
        snprintf(d.error, sizeof d.error, "unknown target type \"%s\"", t->type);
    } else if (!(d.http = http_client_new(NULL))) {
        snprintf(d.error, sizeof d.error, "cannot create an HTTP client");
    } else {
        s = deliver(nf, b, &d, ctx, &attempts);
    }
    http_client_free(d.http);
    if (s == NOTIFY_SENT) {
        log_msg(ctx, SL_LOG_INFO, "notification sent to \"%s\" (%s): %s", t->name, t->type, d.id);
        if (id && idlen)
            snprintf(id, idlen, "%s", d.id);
        return 0;
    }
    log_undelivered(t, event, ctx, attempts, d.error);
    if (why && whylen)
        snprintf(why, whylen, "%s", d.error);
    return -1;
}

/* Target names for a rule's failure or success: the rule's list, else the
 * top-level default. */
static void targets_for(const config *cfg, const char *rule_name, int failed, char ***names,
                        size_t *n)
{
    const rule *r = rule_name ? config_find_rule(cfg, rule_name) : NULL;
    if (failed) {
        *names = r && r->on_failure ? r->on_failure : cfg->on_failure;
        *n = r && r->on_failure ? r->n_on_failure : cfg->n_on_failure;
    } else {
        *names = r && r->on_success ? r->on_success : cfg->on_success;
        *n = r && r->on_success ? r->n_on_success : cfg->n_on_success;
    }
}

int notifier_job(notifier *nf, const job_result *res, json_t *event)
{
    log_ctx ctx = {.run_id = res->run_id, .input = res->input, .rule = res->rule};
    int failures = 0;

    /* the built-in log target: a failure is always written in full */
    if (res->state == JOB_FAILED) {
        json_t *f = json_pack("{s:s, s:O}", "target", "log", "event", event);
        log_fields(&ctx, SL_LOG_ERROR, f, "job failure notification");
        json_decref(f);
    }
    char **names;
    size_t n;
    targets_for(nf->cfg, res->rule, res->state == JOB_FAILED, &names, &n);
    for (size_t i = 0; i < n; i++) {
        const notify_target *t = config_find_target(nf->cfg, names[i]);
        if (t && notifier_send(nf, t, event, &ctx, NULL, 0, NULL, 0) != 0)
            failures++;
    }
    return failures;
}

int notifier_alarm(notifier *nf, const char *rule_name, json_t *event, const char *what)
{
    const json_t *d = json_object_get(event, "detail");
    const char *run_id = json_string_value(json_object_get(d, "run_id"));
    const char *input =
        json_string_value(json_object_get(json_object_get(d, "input"), "location"));
    log_ctx ctx = {.run_id = run_id, .input = input, .rule = rule_name};
    json_t *f = json_pack("{s:s, s:O}", "target", "log", "event", event);
    log_fields(&ctx, SL_LOG_ERROR, f, "%s", what);
    json_decref(f);
    char **names;
    size_t n;
    int failures = 0;
    targets_for(nf->cfg, rule_name, 1, &names, &n);
    for (size_t i = 0; i < n; i++) {
        const notify_target *t = config_find_target(nf->cfg, names[i]);
        if (t && notifier_send(nf, t, event, &ctx, NULL, 0, NULL, 0) != 0)
            failures++;
    }
    return failures;
}
