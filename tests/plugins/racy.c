/* A plugin that breaks the thread-safety contract: run() writes to the
 * shared per-rule state (a line counter, never reset), so two runs on the
 * same input never write the same numbers, whether or not they overlap.
 * The counter is atomic only so that the test itself is free of data
 * races (sanitizer builds); the breach is the shared state. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <sluice/plugin.h>

typedef struct state {
    const sluice_host *host;
    atomic_long lines; /* shared by every job: the bug */
} state;

static int init(const sluice_host *host, const sluice_value *options, void **out, char *err,
                size_t errlen)
{
    (void)options, (void)err, (void)errlen;
    state *s = calloc(1, sizeof *s);
    if (!s)
        return SLUICE_ERROR;
    s->host = host;
    atomic_init(&s->lines, 0);
    *out = s;
    return SLUICE_OK;
}

static int run(void *st, sluice_job *job)
{
    state *s = st;
    char buf[4096], line[32];
    ssize_t n;
    while ((n = s->host->read(job, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\n')
                atomic_fetch_add(&s->lines, 1);
    /* one more for the end of input, so an empty input shows it too */
    int len = snprintf(line, sizeof line, "%ld\n", atomic_fetch_add(&s->lines, 1) + 1);
    if (n < 0 || s->host->write(job, line, (size_t)len) != 0)
        return SLUICE_ERROR;
    return SLUICE_OK;
}

static void destroy(void *st)
{
    free(st);
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "racy",
    .version = "0.0.1",
    .description = "test: keeps a running count in its shared state",
    .options_schema = "{\"type\":\"object\",\"additionalProperties\":false}",
    .init = init,
    .run = run,
    .destroy = destroy,
};
