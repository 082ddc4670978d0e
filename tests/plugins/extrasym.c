/* A plugin that exports more than its descriptor (built without
 * -export-symbols-regex): `sluice plugins check` names the extra ones. */
#include <sluice/plugin.h>

int extrasym_helper(int x);
int extrasym_helper(int x)
{
    return x + 1;
}

int extrasym_counter = 0;

static int run(void *state, sluice_job *job)
{
    (void)state;
    (void)job;
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "extrasym",
    .version = "0.0.1",
    .description = "test: exports helper symbols besides its descriptor",
    .options_schema = "{\"type\":\"object\"}",
    .run = run,
};
