/* A plugin that breaks the job's error rules on request:
 *   mode "write"   (default) fails the job with host->error(), then writes
 *                  on anyway
 *   mode "ok"      calls host->error(), then returns SLUICE_OK
 *   mode "silent"  returns SLUICE_ERROR without calling host->error()
 *   mode "read"    calls host->error(), then reads on and logs how many
 *                  bytes it was given (none: the job has failed)
 *   mode "clean"   copies its input, as a plugin should */
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

typedef struct state {
    const sluice_host *host;
    const char *mode; /* owned by the host */
} state;

static int init(const sluice_host *host, const sluice_value *options, void **out, char *err,
                size_t errlen)
{
    (void)err, (void)errlen;
    state *s = calloc(1, sizeof *s);
    if (!s)
        return SLUICE_ERROR;
    s->host = host;
    s->mode = host->value_string(host->value_get(options, "mode"), "write");
    *out = s;
    return SLUICE_OK;
}

static int copy(const state *s, sluice_job *job)
{
    char buf[4096];
    ssize_t n;
    while ((n = s->host->read(job, buf, sizeof buf)) > 0)
        if (s->host->write(job, buf, (size_t)n) != 0)
            return SLUICE_ERROR;
    return n < 0 ? SLUICE_ERROR : SLUICE_OK;
}

static int run(void *st, sluice_job *job)
{
    const state *s = st;
    if (!strcmp(s->mode, "clean"))
        return copy(s, job);
    if (!strcmp(s->mode, "silent"))
        return SLUICE_ERROR;
    s->host->error(job, SLUICE_ERR_INPUT, "refusing this input on purpose");
    if (!strcmp(s->mode, "ok"))
        return SLUICE_OK;
    if (!strcmp(s->mode, "read")) {
        char buf[4096];
        long long total = 0;
        ssize_t n;
        while ((n = s->host->read(job, buf, sizeof buf)) > 0)
            total += n;
        s->host->log(job, SLUICE_LOG_INFO, "read %lld bytes after the error, then %zd", total, n);
        return SLUICE_ERROR;
    }
    s->host->write(job, "after the error\n", 16);
    return SLUICE_ERROR;
}

static void destroy(void *st)
{
    free(st);
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "writeafter",
    .version = "0.0.1",
    .description = "test: writes after failing the job (and other breaches of the error rules)",
    .options_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
                      "\"mode\":{\"enum\":[\"write\",\"ok\",\"silent\",\"clean\",\"read\"]}}}",
    .init = init,
    .run = run,
    .destroy = destroy,
};
