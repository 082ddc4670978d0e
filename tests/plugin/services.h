/* services.h — the sluice_host table the plugin layer's tests hand to
 * plugin_host_new(): the options readers of plugin_values.h, which are all
 * a plugin's init() may call. The job's services belong to the core layer
 * and are never reached from these tests. (Header only.) */
#ifndef SLUICE_TEST_PLUGIN_SERVICES_H
#define SLUICE_TEST_PLUGIN_SERVICES_H

#include "plugin/plugin_values.h"

static const sluice_host test_plugin_services = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(sluice_host),
    .value_type = plugin_values_type,
    .value_get = plugin_values_get,
    .value_len = plugin_values_len,
    .value_at = plugin_values_at,
    .value_key_at = plugin_values_key_at,
    .value_string = plugin_values_string,
    .value_int = plugin_values_int,
    .value_number = plugin_values_number,
    .value_bool = plugin_values_bool,
};

#endif
