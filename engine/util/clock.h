/* clock.h — the engine's one clock: wall time for what is recorded
 * (epoch milliseconds, UTC dates), a monotonic clock for durations and
 * deadlines, and a sleep that a cancel flag cuts short. Thread-safe. */
#ifndef SLUICE_CLOCK_H
#define SLUICE_CLOCK_H

#include <stdatomic.h>
#include <time.h>

/* Milliseconds since the epoch (real-time clock): timestamps to record. */
long long clock_now_ms(void);
/* Milliseconds of a monotonic clock: durations, deadlines, backoff. */
long long clock_mono_ms(void);
/* The same in seconds, for rates and display. */
double clock_mono_seconds(void);

/* The wall time that schedules are judged by (expected arrivals, in
 * milliseconds since the epoch): clock_now_ms(), unless the environment
 * variable SLUICE_FAKE_NOW is set — FOR TESTS ONLY — to a UTC time
 * ("2026-12-06T14:05:00Z"), or to the path of a file holding one, read
 * again at every call so that a test can move the clock. Read here and
 * nowhere else; nothing else follows it (job times, signatures, logs). */
long long clock_schedule_now_ms(void);
/* Parses "YYYY-MM-DDTHH:MM[:SS[.mmm]]Z" into epoch milliseconds: 0, or -1. */
int clock_parse_iso(const char *text, long long *ms);

/* UTC "YYYY-MM-DD" of t into buf (11 bytes). */
void clock_format_date(time_t t, char buf[11]);
/* UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" of a time in epoch milliseconds. */
void clock_format_iso_ms(long long epoch_ms, char buf[32]);

/* Sleeps ms milliseconds in short slices, waking early (returns -1) once
 * *cancel is set; cancel may be NULL. Returns 0 after the full sleep. */
int clock_sleep_ms(long ms, const atomic_int *cancel);

#endif
