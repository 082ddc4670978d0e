/* log.h — structured logging to stderr, as text or JSON lines.
 *
 * The format and threshold are process-wide, set once by main() before any
 * job starts (the one documented piece of global mutable state); log calls
 * are thread-safe (one write(2) per line). Every job's lines carry its
 * run id, input and rule through a log_ctx. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdarg.h>

#include <jansson.h>

typedef enum log_level { SL_LOG_DEBUG = 0, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR } log_level;
typedef enum log_format { SL_LOG_FORMAT_TEXT = 0, SL_LOG_FORMAT_JSON } log_format;

typedef struct log_ctx {
    const char *run_id; /* NULL outside a job */
    const char *input;
    const char *rule;
    const char *member; /* the archive member of the input a job reads, or NULL */
} log_ctx;

void log_configure(log_format fmt, log_level min_level);
int log_parse_format(const char *s, log_format *out);
int log_parse_level(const char *s, log_level *out);
int log_enabled(log_level level);

void log_msg(const log_ctx *ctx, log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(const log_ctx *ctx, log_level level, const char *fmt, va_list ap);
/* A line with extra structured fields (`fields` is borrowed; in text
 * format they are printed as key=value after the message). */
void log_fields(const log_ctx *ctx, log_level level, json_t *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
