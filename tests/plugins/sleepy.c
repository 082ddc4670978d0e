#define _POSIX_C_SOURCE 200809L
/* A slow plugin: copies its input after sleeping `seconds` (default 3),
 * for tests of heartbeats, timeouts and clean stops. */
#include <stdlib.h>
#include <time.h>

#include <sluice/plugin.h>

typedef struct state {
    const sluice_host *host;
    int64_t seconds;
} state;

static int init(const sluice_host *host, const sluice_value *options, void **out, char *err,
                size_t errlen)
{
    (void)err, (void)errlen;
    state *s = calloc(1, sizeof *s);
    if (!s)
        return SLUICE_ERROR;
    s->host = host;
    s->seconds = host->value_int(host->value_get(options, "seconds"), 3);
    *out = s;
    return SLUICE_OK;
}

static int run(void *st, sluice_job *job)
{
    const state *s = st;
    struct timespec ts = {(time_t)s->seconds, 0};
    char buf[4096];
    ssize_t n;
    while (nanosleep(&ts, &ts) != 0)
        ;
    while ((n = s->host->read(job, buf, sizeof buf)) > 0)
        if (s->host->write(job, buf, (size_t)n) != 0)
            return SLUICE_ERROR;
    return n < 0 ? SLUICE_ERROR : SLUICE_OK;
}

static void destroy(void *st)
{
    free(st);
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "sleepy",
    .version = "0.0.1",
    .description = "test: copies its input after sleeping",
    .options_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
                      "\"seconds\":{\"type\":\"integer\",\"minimum\":0}}}",
    .init = init,
    .run = run,
    .destroy = destroy,
};
