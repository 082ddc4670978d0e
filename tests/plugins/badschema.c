/* A plugin whose options schema is JSON but not a valid schema: "type"
 * names no JSON type and "required" is not a list. */
#include <sluice/plugin.h>

static int run(void *state, sluice_job *job)
{
    (void)state;
    (void)job;
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "badschema",
    .version = "0.0.1",
    .description = "test: an invalid options schema",
    .options_schema = "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integr\"}}}",
    .run = run,
};
