/* test_expect.c — the periods of expected arrivals: which period a check
 * judges at a given time, its window and deadline (daily, hourly, a
 * deadline past the period's end, lookback). */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "intake/expect.h"
#include "util/clock.h"
#include "tap.h"

static long long at(const char *iso)
{
    long long ms = -1;
    if (clock_parse_iso(iso, &ms) != 0)
        fprintf(stderr, "bad time in the test: %s\n", iso);
    return ms;
}

static void check(const char *name, const expect_config *e, const char *now, int back,
                  const char *id, const char *window_start, const char *deadline)
{
    expect_period p;
    expect_period_due(e, at(now), back, &p);
    char ws[32], dl[32], want[200], got[200];
    clock_format_iso_ms(p.window_start_ms, ws);
    clock_format_iso_ms(p.deadline_ms, dl);
    snprintf(got, sizeof got, "%s [%s, %s)", p.id, ws, dl);
    snprintf(want, sizeof want, "%s [%s, %s)", id, window_start, deadline);
    is_str(got, want, name);
}

int main(void)
{
    expect_config daily = {.rule = "adobe-daily", .every = "day", .by = "12:00Z", .grace = "2h",
                           .lookback = 1, .period_s = 86400, .by_s = 12 * 3600,
                           .grace_s = 2 * 3600};
    check("daily, a second before the deadline: yesterday's period", &daily,
          "2026-12-06T13:59:59Z", 0, "2026-12-05", "2026-12-05T00:00:00.000Z",
          "2026-12-05T14:00:00.000Z");
    check("daily, at the deadline: today's period", &daily, "2026-12-06T14:00:00Z", 0,
          "2026-12-06", "2026-12-06T00:00:00.000Z", "2026-12-06T14:00:00.000Z");
    check("daily, one period back", &daily, "2026-12-06T14:00:00Z", 1, "2026-12-05",
          "2026-12-05T00:00:00.000Z", "2026-12-05T14:00:00.000Z");
    check("daily, just after midnight", &daily, "2026-12-07T00:00:01Z", 0, "2026-12-06",
          "2026-12-06T00:00:00.000Z", "2026-12-06T14:00:00.000Z");

    expect_config late = {.rule = "r", .every = "day", .by = "23:00Z", .grace = "3h",
                          .lookback = 1, .period_s = 86400, .by_s = 23 * 3600,
                          .grace_s = 3 * 3600};
    check("deadline after the period's end: windows tile, never overlap", &late,
          "2026-12-07T02:00:00Z", 0, "2026-12-06", "2026-12-06T02:00:00.000Z",
          "2026-12-07T02:00:00.000Z");

    expect_config hourly = {.rule = "clicks", .every = "hour", .by = ":20", .grace = "10m",
                            .lookback = 1, .period_s = 3600, .by_s = 20 * 60, .grace_s = 600};
    check("hourly, before this hour's deadline", &hourly, "2026-12-06T14:29:00Z", 0,
          "2026-12-06T13Z", "2026-12-06T13:00:00.000Z", "2026-12-06T13:30:00.000Z");
    check("hourly, after it", &hourly, "2026-12-06T14:30:00Z", 0, "2026-12-06T14Z",
          "2026-12-06T14:00:00.000Z", "2026-12-06T14:30:00.000Z");
    check("hourly, across midnight, two back", &hourly, "2026-12-07T00:45:00Z", 2,
          "2026-12-06T22Z", "2026-12-06T22:00:00.000Z", "2026-12-06T22:30:00.000Z");

    long long ms;
    ok(clock_parse_iso("2026-12-06T14:05:00.250Z", &ms) == 0 && ms == at("2026-12-06T14:05Z") + 250,
       "ISO times with milliseconds parse");
    ok(clock_parse_iso("2026-12-06 14:05:00Z", &ms) != 0 &&
           clock_parse_iso("2026-12-06T14:05:00", &ms) != 0,
       "a time without T or Z is refused");
    return done_testing();
}
