/* job_services.c — the sluice_host table (job_services.h). */
#include "autoconfig.h"
#include "core/job_services.h"

#include <stdarg.h>

#include "core/job.h"
#include "plugin/plugin_values.h"

/* The table's log and error members are variadic; job.c takes va_lists. */
static void services_log(sluice_job *job, sluice_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job_vlog(job, level, fmt, ap);
    va_end(ap);
}

static void services_error(sluice_job *job, sluice_error_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job_verror(job, kind, fmt, ap);
    va_end(ap);
}

static const sluice_host table = {
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
    .read = job_read,
    .input_name = job_input_name,
    .input_size = job_input_size,
    .meta = job_meta,
    .set_output_name = job_set_output_name,
    .write = job_write,
    .log = services_log,
    .counter_add = job_counter_add,
    .error = services_error,
    .lookup_open = job_lookup_open,
    .lookup_read = job_lookup_read,
    .lookup_close = job_lookup_close,
    .side_write = job_side_write,
};

const sluice_host *job_services_table(void)
{
    return &table;
}
