/* A plugin whose descriptor names another plugin than its file. */
#include <sluice/plugin.h>

static int run(void *state, sluice_job *job)
{
    (void)state;
    (void)job;
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "somethingelse",
    .version = "0.0.1",
    .description = "test: name mismatch",
    .options_schema = "{\"type\":\"object\"}",
    .run = run,
};
