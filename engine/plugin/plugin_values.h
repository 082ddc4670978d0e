/* plugin_values.h — a rule's options as plugins read them: jansson values
 * behind the opaque sluice_value of sluice/plugin.h. These are the value_*
 * members of the sluice_host table (the table itself is assembled by the
 * job layer, core/job_services.c, which adds the job services).
 *
 * All functions are pure reads of immutable values: thread-safe. */
#ifndef SLUICE_PLUGIN_VALUES_H
#define SLUICE_PLUGIN_VALUES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/plugin.h"

static inline const sluice_value *plugin_values_from_json(const json_t *v)
{
    return (const sluice_value *)v;
}

sluice_value_type plugin_values_type(const sluice_value *v);
const sluice_value *plugin_values_get(const sluice_value *map, const char *key);
size_t plugin_values_len(const sluice_value *v);
const sluice_value *plugin_values_at(const sluice_value *list, size_t i);
const char *plugin_values_key_at(const sluice_value *map, size_t i);
const char *plugin_values_string(const sluice_value *v, const char *dflt);
int64_t plugin_values_int(const sluice_value *v, int64_t dflt);
double plugin_values_number(const sluice_value *v, double dflt);
int plugin_values_bool(const sluice_value *v, int dflt);

#endif
