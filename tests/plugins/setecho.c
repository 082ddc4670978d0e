/* A plugin for delivery-set tests: writes what it reads, then the job's
 * delivery facts and lookup files, so a test sees exactly what the host
 * handed over. Output: the input bytes, then lines
 *   "#meta KEY=VALUE" for delivery, rsid, feed_date, feed_hour
 *   "#lookup NAME BYTES" for each name of option `lookups` (a list) that
 *   the job has ("#lookup NAME none" when lookup_open gives NULL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

typedef struct state {
    const sluice_host *host;
    const sluice_value *lookups;
} state;

static int init(const sluice_host *host, const sluice_value *options, void **out, char *err,
                size_t errlen)
{
    if (!SLUICE_HOST_HAS(host, lookup_close)) {
        snprintf(err, errlen, "this host has no lookup files");
        return SLUICE_ERROR;
    }
    state *s = calloc(1, sizeof *s);
    if (!s)
        return SLUICE_ERROR;
    s->host = host;
    s->lookups = host->value_get(options, "lookups");
    *out = s;
    return SLUICE_OK;
}

static int put(const state *s, sluice_job *job, const char *text)
{
    return s->host->write(job, text, strlen(text));
}

static int copy_input(const state *s, sluice_job *job)
{
    char buf[4096];
    ssize_t n;
    while ((n = s->host->read(job, buf, sizeof buf)) > 0)
        if (s->host->write(job, buf, (size_t)n) != 0)
            return SLUICE_ERROR;
    return n < 0 ? SLUICE_ERROR : SLUICE_OK;
}

static int list_lookup(const state *s, sluice_job *job, const char *name)
{
    char line[512], buf[4096];
    sluice_lookup *l = s->host->lookup_open(job, name);
    if (!l) {
        snprintf(line, sizeof line, "#lookup %s none\n", name);
        return put(s, job, line);
    }
    long long total = 0;
    ssize_t n;
    while ((n = s->host->lookup_read(l, buf, sizeof buf)) > 0)
        total += n;
    s->host->lookup_close(l);
    snprintf(line, sizeof line, "#lookup %s %lld\n", name, total);
    return n < 0 ? SLUICE_ERROR : put(s, job, line);
}

static int run(void *st, sluice_job *job)
{
    const state *s = st;
    static const char *const keys[] = {"delivery", "rsid", "feed_date", "feed_hour"};
    char line[512];
    s->host->set_output_name(job, "set.out");
    if (copy_input(s, job) != SLUICE_OK)
        return SLUICE_ERROR;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = s->host->meta(job, keys[i]);
        snprintf(line, sizeof line, "#meta %s=%s\n", keys[i], v ? v : "(null)");
        if (put(s, job, line) != 0)
            return SLUICE_ERROR;
    }
    for (size_t i = 0; i < s->host->value_len(s->lookups); i++) {
        const char *name = s->host->value_string(s->host->value_at(s->lookups, i), "");
        if (list_lookup(s, job, name) != SLUICE_OK)
            return SLUICE_ERROR;
    }
    return SLUICE_OK;
}

static void destroy(void *st)
{
    free(st);
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "setecho",
    .version = "0.0.1",
    .description = "test: writes its input, its delivery facts and lookup files",
    .options_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
                      "\"lookups\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}",
    .init = init,
    .run = run,
    .destroy = destroy,
};
