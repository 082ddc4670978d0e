/* job_services.c — the sluice_host table (job_services.h). In an isolated
 * child (core/job_isolate.h) the services that reach storage, the log or
 * the job's result go to the parent instead; the ones answered from memory
 * (options, meta, input name and size) are the same in both. */
#include "autoconfig.h"
#include "core/job_services.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/job.h"
#include "core/job_isolate.h"
#include "plugin/plugin_values.h"

/* The table's log and error members are variadic; job.c takes va_lists. */
static void services_log(sluice_job *job, sluice_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (job_isolate_in_child()) {
        char text[4096];
        vsnprintf(text, sizeof text, fmt, ap);
        job_isolate_child_log(level, text);
    } else {
        job_vlog(job, level, fmt, ap);
    }
    va_end(ap);
}

static void services_error(sluice_job *job, sluice_error_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (job_isolate_in_child()) {
        char text[1024];
        vsnprintf(text, sizeof text, fmt, ap);
        job_isolate_child_error(kind, text);
    } else {
        job_verror(job, kind, fmt, ap);
    }
    va_end(ap);
}

static ssize_t services_read(sluice_job *job, void *buf, size_t cap)
{
    return job_isolate_in_child() ? job_isolate_child_read(buf, cap) : job_read(job, buf, cap);
}

static int services_set_output_name(sluice_job *job, const char *name)
{
    return job_isolate_in_child() ? job_isolate_child_set_output_name(name)
                                  : job_set_output_name(job, name);
}

static int services_write(sluice_job *job, const void *buf, size_t len)
{
    return job_isolate_in_child() ? job_isolate_child_write(buf, len)
                                  : job_write(job, buf, len);
}

static void services_counter_add(sluice_job *job, const char *name, int64_t delta)
{
    if (job_isolate_in_child())
        job_isolate_child_counter_add(name, delta);
    else
        job_counter_add(job, name, delta);
}

static sluice_lookup *services_lookup_open(sluice_job *job, const char *name)
{
    return job_isolate_in_child() ? job_isolate_child_lookup_open(name)
                                  : job_lookup_open(job, name);
}

static ssize_t services_lookup_read(sluice_lookup *lookup, void *buf, size_t cap)
{
    return job_isolate_in_child() ? job_isolate_child_lookup_read(lookup, buf, cap)
                                  : job_lookup_read(lookup, buf, cap);
}

static void services_lookup_close(sluice_lookup *lookup)
{
    if (job_isolate_in_child())
        job_isolate_child_lookup_close(lookup);
    else
        job_lookup_close(lookup);
}

static int services_side_write(sluice_job *job, const char *name, const void *buf, size_t len)
{
    return job_isolate_in_child() ? job_isolate_child_side_write(name, buf, len)
                                  : job_side_write(job, name, buf, len);
}

static int services_input_map(sluice_job *job, const void **data, size_t *len)
{
    return job_isolate_in_child() ? job_isolate_child_input_map(data, len)
                                  : job_input_map(job, data, len);
}

static void services_input_release(sluice_job *job, size_t upto)
{
    if (job_isolate_in_child())
        job_isolate_child_input_release(upto);
    else
        job_input_release(job, upto);
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
    .read = services_read,
    .input_name = job_input_name,
    .input_size = job_input_size,
    .meta = job_meta,
    .set_output_name = services_set_output_name,
    .write = services_write,
    .log = services_log,
    .counter_add = services_counter_add,
    .error = services_error,
    .lookup_open = services_lookup_open,
    .lookup_read = services_lookup_read,
    .lookup_close = services_lookup_close,
    .side_write = services_side_write,
    .input_map = services_input_map,
    .input_release = services_input_release,
};

const sluice_host *job_services_table(void)
{
    return &table;
}
