/* error.h — the engine's error record: a kind and a one-line message.
 *
 * Every fallible engine call takes an `sl_error *` and fills it on failure;
 * the kind travels into the job-state event, the message to the user. */
#ifndef SLUICE_ERROR_H
#define SLUICE_ERROR_H

#include <stdarg.h>

typedef enum sl_error_kind {
    SL_ERR_NONE = 0,
    SL_ERR_CONFIG,   /* configuration or usage */
    SL_ERR_INPUT,    /* the input object or event is unusable */
    SL_ERR_PLUGIN,   /* the transform failed */
    SL_ERR_STORAGE,  /* reading or writing storage failed */
    SL_ERR_TIMEOUT,  /* a deadline passed */
    SL_ERR_INTERNAL  /* a bug or resource exhaustion in the engine */
} sl_error_kind;

typedef struct sl_error {
    sl_error_kind kind;
    char msg[1024];
} sl_error;

/* Record an error unless one is already set: the first cause wins. */
void sl_error_set(sl_error *err, sl_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sl_error_vset(sl_error *err, sl_error_kind kind, const char *fmt, va_list ap);
/* Overwrite whatever is there. */
void sl_error_reset(sl_error *err);
/* "config", "input", ... as used in events and logs. */
const char *sl_error_kind_name(sl_error_kind kind);

#endif
