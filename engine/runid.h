/* runid.h — unique, sortable job identifiers: "20261125T143715Z-9f2c4a1b". */
#ifndef SLUICE_RUNID_H
#define SLUICE_RUNID_H

#include <stddef.h>
#include <time.h>

#define RUNID_MAX 32

/* Writes a run id for a job started at `t` into buf (RUNID_MAX bytes). */
void runid_make(time_t t, char buf[RUNID_MAX]);
/* UTC "YYYY-MM-DD" of t into buf (11 bytes). */
void format_date_utc(time_t t, char buf[11]);
/* UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" of a time in milliseconds (25 bytes). */
void format_iso_utc_ms(long long epoch_ms, char buf[32]);
/* Milliseconds since the epoch, from the real-time clock. */
long long now_ms(void);
/* Seconds from a monotonic clock, for durations. */
double mono_seconds(void);

#endif
