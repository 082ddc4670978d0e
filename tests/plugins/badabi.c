/* A plugin built for a future ABI: the host must refuse it by name. */
#include <sluice/plugin.h>

static int run(void *state, sluice_job *job)
{
    (void)state;
    (void)job;
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = 99,
    .name = "badabi",
    .version = "0.0.1",
    .description = "test: wrong ABI version",
    .options_schema = "{\"type\":\"object\"}",
    .run = run,
};
