/* expect.h — expected arrivals (the configuration's `expect:` block,
 * docs/expect.md): for each item, each period (a UTC day or hour) must see
 * a SUCCEEDED run of the rule ending in the period's window
 *     [max(period start, deadline - period), deadline)
 * where deadline = period start + `by` + `grace`. A period whose deadline
 * has passed without one gets a `state: MISSING` event (notify.h), sent to
 * the rule's on_failure targets and written as a run record, once: the
 * verdict on each judged period (ARRIVED or MISSING) is kept in the run
 * store (runstore_expect_get/put), so a restart or a second check judges
 * nothing twice. Each check judges the `lookback` latest periods whose
 * deadline has passed.
 *
 * "Now" is clock_schedule_now_ms() (util/clock.h), which a test can move.
 *
 * Ownership: a checker borrows the configuration, storage and metrics
 * (they outlive it) and owns its run store and notifier. Threading: a
 * checker is used by one thread at a time (the timer's, or the caller's).
 * Two processes checking the same run store at the same moment may both
 * alarm a period (the verdict is written after the delivery): give the
 * timer to one of them, or schedule `sluice expect check` instead. */
#ifndef SLUICE_EXPECT_H
#define SLUICE_EXPECT_H

#include <stdio.h>

#include "intake/intake.h"

/* One period of an expectation. */
typedef struct expect_period {
    long long start_ms;        /* the UTC day or hour */
    long long window_start_ms; /* a success must end at or after this */
    long long deadline_ms;     /* and before this */
    char id[24];               /* "2026-12-06" (day), "2026-12-06T14Z" (hour) */
} expect_period;

/* The period of `e` whose deadline is the latest at or before now_ms,
 * `back` periods earlier. */
void expect_period_due(const expect_config *e, long long now_ms, int back, expect_period *p);

typedef struct expect_checker expect_checker;

/* NULL with err set when the run store cannot be used (records disabled:
 * there is nowhere to judge arrivals from). */
expect_checker *expect_checker_new(const config *cfg, storage *st, metrics *m, sl_error *err);
void expect_checker_free(expect_checker *ec);

/* What one check found, over all expectations and judged periods. */
typedef struct expect_summary {
    size_t arrived;        /* on time (now or at an earlier check) */
    size_t missing_new;    /* alarmed by this check */
    size_t missing_before; /* alarmed by an earlier check */
    size_t failures;       /* undelivered alarms, unwritable verdicts, unreadable store */
} expect_summary;

/* Judges every due period at now_ms. With `report`, one line per period:
 * "RULE every PERIOD: ARRIVED (run ID)" / "MISSING (alarm sent)" /
 * "MISSING (alarmed before)" / "ERROR: why". */
void expect_check(expect_checker *ec, long long now_ms, FILE *report, expect_summary *out);

/* The check of the long-running modes: every interval_s seconds on a
 * thread of its own (util/workers.h), at start too. NULL (nothing to
 * stop) when the configuration expects nothing, interval_s is 0, or the
 * run store cannot be used (logged). */
typedef struct expect_timer expect_timer;
expect_timer *expect_timer_start(intake *in, int interval_s);
/* Ends the timer after the check in progress, if any; NULL is fine. */
void expect_timer_stop(expect_timer *t);

#endif
