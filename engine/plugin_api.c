#include "autoconfig.h"
#include "plugin_api.h"

#include <stdarg.h>

/* --- options tree: jansson values behind sluice_value ------------------ */

static const json_t *J(const sluice_value *v)
{
    return (const json_t *)v;
}

static sluice_value_type value_type(const sluice_value *v)
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

static const sluice_value *value_get(const sluice_value *map, const char *key)
{
    if (!map || !json_is_object(J(map)))
        return NULL;
    return (const sluice_value *)json_object_get(J(map), key);
}

static size_t value_len(const sluice_value *v)
{
    if (!v)
        return 0;
    if (json_is_array(J(v)))
        return json_array_size(J(v));
    if (json_is_object(J(v)))
        return json_object_size(J(v));
    return 0;
}

static const sluice_value *value_at(const sluice_value *list, size_t i)
{
    if (!list || !json_is_array(J(list)))
        return NULL;
    return (const sluice_value *)json_array_get(J(list), i);
}

static const char *value_key_at(const sluice_value *map, size_t i)
{
    if (!map || !json_is_object(J(map)))
        return NULL;
    /* jansson keeps insertion (document) order */
    void *it = json_object_iter((json_t *)J(map));
    for (size_t k = 0; it && k < i; k++)
        it = json_object_iter_next((json_t *)J(map), it);
    return it ? json_object_iter_key(it) : NULL;
}

static const char *value_string(const sluice_value *v, const char *dflt)
{
    return v && json_is_string(J(v)) ? json_string_value(J(v)) : dflt;
}

static int64_t value_int(const sluice_value *v, int64_t dflt)
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

static double value_number(const sluice_value *v, double dflt)
{
    return v && json_is_number(J(v)) ? json_number_value(J(v)) : dflt;
}

static int value_bool(const sluice_value *v, int dflt)
{
    return v && json_is_boolean(J(v)) ? json_is_true(J(v)) : dflt;
}

/* --- variadic front-ends for the job-side calls ------------------------- */

static void api_log(sluice_job *job, sluice_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job_api_vlog(job, level, fmt, ap);
    va_end(ap);
}

static void api_error(sluice_job *job, sluice_error_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job_api_verror(job, kind, fmt, ap);
    va_end(ap);
}

static const sluice_host host_table = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(sluice_host),
    .value_type = value_type,
    .value_get = value_get,
    .value_len = value_len,
    .value_at = value_at,
    .value_key_at = value_key_at,
    .value_string = value_string,
    .value_int = value_int,
    .value_number = value_number,
    .value_bool = value_bool,
    .read = job_api_read,
    .input_name = job_api_input_name,
    .input_size = job_api_input_size,
    .meta = job_api_meta,
    .set_output_name = job_api_set_output_name,
    .write = job_api_write,
    .log = api_log,
    .counter_add = job_api_counter_add,
    .error = api_error,
};

const sluice_host *plugin_api_table(void)
{
    return &host_table;
}
