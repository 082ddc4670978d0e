#include "autoconfig.h"
#include "core/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "core/runid.h"
#include "util/clock.h"

#define REDRAW_INTERVAL 0.25

void progress_format_bytes(double n, char *buf, unsigned len)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (n >= 1000.0 && u < 4) {
        n /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f %s", n, units[u]);
    else
        snprintf(buf, len, "%.1f %s", n, units[u]);
}

void progress_start(progress *p, int enable, const char *label, int64_t total)
{
    p->enabled = enable && isatty(STDERR_FILENO);
    p->label = label;
    p->total = total;
    p->done = 0;
    p->started = clock_mono_seconds();
    p->last_draw = 0;
}

static void progress_draw(progress *p, double now)
{
    char done[32], rate[32];
    double elapsed = now - p->started;
    progress_format_bytes((double)p->done, done, sizeof done);
    progress_format_bytes(elapsed > 0 ? (double)p->done / elapsed : 0, rate, sizeof rate);
    if (p->total > 0)
        fprintf(stderr, "\r\033[K%s: %s (%.0f%%) %s/s", p->label, done,
                100.0 * (double)p->done / (double)p->total, rate);
    else
        fprintf(stderr, "\r\033[K%s: %s %s/s", p->label, done, rate);
    fflush(stderr);
    p->last_draw = now;
}

void progress_update(progress *p, int64_t delta)
{
    p->done += delta;
    if (!p->enabled)
        return;
    double now = clock_mono_seconds();
    if (now - p->last_draw >= REDRAW_INTERVAL && now - p->started >= 0.5)
        progress_draw(p, now);
}

void progress_finish(progress *p)
{
    if (p->enabled && p->last_draw > 0) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
    p->enabled = 0;
}
