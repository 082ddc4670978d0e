/* plugin_values.c — jansson values behind sluice_value (plugin_values.h). */
#include "autoconfig.h"
#include "plugin/plugin_values.h"

static const json_t *J(const sluice_value *v)
{
    return (const json_t *)v;
}

sluice_value_type plugin_values_type(const sluice_value *v)
{
    if (!v)
        return SLUICE_VALUE_NULL;
    switch (json_typeof(J(v))) {
    case JSON_TRUE:
    case JSON_FALSE: return SLUICE_VALUE_BOOL;
    case JSON_INTEGER: return SLUICE_VALUE_INT;
    case JSON_REAL: return SLUICE_VALUE_NUMBER;
    case JSON_STRING: return SLUICE_VALUE_STRING;
    case JSON_ARRAY: return SLUICE_VALUE_LIST;
    case JSON_OBJECT: return SLUICE_VALUE_MAP;
    case JSON_NULL: return SLUICE_VALUE_NULL;
    }
    return SLUICE_VALUE_NULL;
}

const sluice_value *plugin_values_get(const sluice_value *map, const char *key)
{
    if (!map || !json_is_object(J(map)))
        return NULL;
    return (const sluice_value *)json_object_get(J(map), key);
}

size_t plugin_values_len(const sluice_value *v)
{
    if (!v)
        return 0;
    if (json_is_array(J(v)))
        return json_array_size(J(v));
    if (json_is_object(J(v)))
        return json_object_size(J(v));
    return 0;
}

const sluice_value *plugin_values_at(const sluice_value *list, size_t i)
{
    if (!list || !json_is_array(J(list)))
        return NULL;
    return (const sluice_value *)json_array_get(J(list), i);
}

const char *plugin_values_key_at(const sluice_value *map, size_t i)
{
    if (!map || !json_is_object(J(map)))
        return NULL;
    /* jansson keeps insertion (document) order */
    void *it = json_object_iter((json_t *)J(map));
    for (size_t k = 0; it && k < i; k++)
        it = json_object_iter_next((json_t *)J(map), it);
    return it ? json_object_iter_key(it) : NULL;
}

const char *plugin_values_string(const sluice_value *v, const char *dflt)
{
    return v && json_is_string(J(v)) ? json_string_value(J(v)) : dflt;
}

int64_t plugin_values_int(const sluice_value *v, int64_t dflt)
{
    if (v && json_is_integer(J(v)))
        return (int64_t)json_integer_value(J(v));
    if (v && json_is_real(J(v))) {
        double d = json_real_value(J(v));
        if (d >= -9.2e18 && d <= 9.2e18)
            return (int64_t)d;
    }
    return dflt;
}

double plugin_values_number(const sluice_value *v, double dflt)
{
    return v && json_is_number(J(v)) ? json_number_value(J(v)) : dflt;
}

int plugin_values_bool(const sluice_value *v, int dflt)
{
    return v && json_is_boolean(J(v)) ? json_is_true(J(v)) : dflt;
}
