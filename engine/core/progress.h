/* progress.h — a one-line progress display on a terminal (bytes, percent,
 * rate), redrawn at most a few times a second. Off when stderr is not a
 * terminal, so logs and pipes never see carriage returns. */
#ifndef SLUICE_PROGRESS_H
#define SLUICE_PROGRESS_H

#include <stdint.h>

typedef struct progress {
    int enabled;
    const char *label;
    int64_t total;   /* -1 when unknown */
    int64_t done;
    double started, last_draw;
} progress;

void progress_start(progress *p, int enable, const char *label, int64_t total);
void progress_update(progress *p, int64_t delta);
/* Clears the line. */
void progress_finish(progress *p);
/* "1.2 GB", "532.0 MB", "12 B" into buf. */
void progress_format_bytes(double n, char *buf, unsigned len);

#endif
