/* plugin_api.h — the sluice_host services table handed to plugins, and the
 * job-side functions behind it (implemented in job.c). */
#ifndef SLUICE_PLUGIN_API_H
#define SLUICE_PLUGIN_API_H

#include <jansson.h>

#include "sluice/plugin.h"

/* The immutable table; lives for the whole process. */
const sluice_host *plugin_api_table(void);

/* Options reach plugins as jansson values behind the opaque type. */
static inline const sluice_value *plugin_value_from_json(const json_t *v)
{
    return (const sluice_value *)v;
}

/* job.c */
ssize_t job_api_read(sluice_job *job, void *buf, size_t cap);
const char *job_api_input_name(sluice_job *job);
int64_t job_api_input_size(sluice_job *job);
const char *job_api_meta(sluice_job *job, const char *key);
int job_api_set_output_name(sluice_job *job, const char *name);
int job_api_write(sluice_job *job, const void *buf, size_t len);
void job_api_vlog(sluice_job *job, sluice_log_level level, const char *fmt, va_list ap);
void job_api_counter_add(sluice_job *job, const char *name, int64_t delta);
void job_api_verror(sluice_job *job, sluice_error_kind kind, const char *fmt, va_list ap);

#endif
