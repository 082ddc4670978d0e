/* runid.h — unique, sortable job identifiers: "20261125T143715Z-9f2c4a1b". */
#ifndef SLUICE_RUNID_H
#define SLUICE_RUNID_H

#include <stddef.h>
#include <time.h>

#define RUNID_MAX 32

/* Writes a run id for a job started at `t` into buf (RUNID_MAX bytes). */
void runid_make(time_t t, char buf[RUNID_MAX]);
/* Epoch milliseconds of a run id's start time ("20261125T143715Z-..."),
 * or -1 when `run_id` is not one. */
long long runid_time_ms(const char *run_id);

#endif
