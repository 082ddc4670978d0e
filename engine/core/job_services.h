/* job_services.h — the sluice_host table every plugin receives: the
 * options-value readers of the plugin layer and the job services of
 * job.c. Whoever creates the plugin host hands this table to it
 * (plugin_host_new), so the plugin layer never reaches up for it.
 *
 * The table is immutable and lives for the whole process: thread-safe. */
#ifndef SLUICE_JOB_SERVICES_H
#define SLUICE_JOB_SERVICES_H

#include "sluice/plugin.h"

const sluice_host *job_services_table(void);

#endif
