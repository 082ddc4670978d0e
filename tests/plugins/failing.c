/* A plugin that fails on purpose, to prove the host's cleanup: it writes
 * part of its output first, then fails (or returns an error without a
 * message, or rejects its options in init). With `side: NAME` it also
 * writes a side object (plugin.h section 6) before failing. */
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

typedef struct state {
    const sluice_host *host;
    int silent;       /* fail without calling host->error */
    int read_first;   /* consume the input before failing */
    const char *side; /* also write this side object before failing */
} state;

static int init(const sluice_host *host, const sluice_value *options, void **out, char *err,
                size_t errlen)
{
    if (host->value_bool(host->value_get(options, "reject"), 0)) {
        strncpy(err, "rejected on purpose (reject: true)", errlen - 1);
        return SLUICE_ERROR;
    }
    state *s = calloc(1, sizeof *s);
    if (!s)
        return SLUICE_ERROR;
    s->host = host;
    s->silent = host->value_bool(host->value_get(options, "silent"), 0);
    s->read_first = host->value_bool(host->value_get(options, "read_first"), 1);
    s->side = host->value_string(host->value_get(options, "side"), NULL);
    *out = s;
    return SLUICE_OK;
}

static int run(void *st, sluice_job *job)
{
    const state *s = st;
    char buf[4096];
    s->host->set_output_name(job, "partial.out");
    if (s->host->write(job, "half-written output\n", 20) != 0)
        return SLUICE_ERROR;
    if (s->side && s->host->side_write(job, s->side, "side object\n", 12) != 0)
        return SLUICE_ERROR;
    while (s->read_first && s->host->read(job, buf, sizeof buf) > 0)
        ;
    s->host->counter_add(job, "before_failure", 1);
    if (!s->silent)
        s->host->error(job, SLUICE_ERR_PLUGIN, "failing on purpose after writing 20 bytes");
    return SLUICE_ERROR;
}

static void destroy(void *st)
{
    free(st);
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "failing",
    .version = "0.0.1",
    .description = "test: fails after writing part of its output",
    .options_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
                      "\"reject\":{\"type\":\"boolean\"},\"silent\":{\"type\":\"boolean\"},"
                      "\"read_first\":{\"type\":\"boolean\"},\"side\":{\"type\":\"string\"}}}",
    .init = init,
    .run = run,
    .destroy = destroy,
};
