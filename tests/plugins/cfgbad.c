/* cfgbad — a test plugin for test_config whose options schema uses a
 * keyword the engine does not support, so binding must refuse it. */
#include <stddef.h>

#include <sluice/plugin.h>

static int cfgbad_run(void *state, sluice_job *job)
{
    (void)state;
    (void)job;
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "cfgbad",
    .version = "0.0.0",
    .description = "test plugin with an unusable options schema",
    .options_schema = "{\"type\":\"object\",\"patternProperties\":{\"^x\":{}}}",
    .init = NULL,
    .run = cfgbad_run,
    .destroy = NULL,
};
